/*
 * pci_hostbridge.c - the host bridge function (bhyve's pci_hostbridge.c):
 * "hostbridge" with bhyve's IDs (vendor and device 0x1275, Network
 * Appliance) and "amd_hostbridge", the same bridge with AMD's vendor ID
 * 0x1022 and device 0x7432 for guests that look for an AMD chipset.  Both
 * are class 06/00 (host bridge) with a PCI Express root port capability.
 *
 * Keys (pci.B.S.F.*): vendor, devid override the IDs (bhyve's names).
 */
#include <errno.h>
#include <string.h>

#include "bus/pci_priv.h"
#include "config.h"

#define HB_VENDOR 0x1275
#define HB_DEVICE 0x1275
#define AMD_VENDOR 0x1022
#define AMD_DEVICE 0x7432

static int read_id(struct config_node *cfg, const char *key, uint16_t *out)
{
	uint64_t v;
	int rc = config_get_u64(cfg, key, &v);

	if (rc == -ENOENT)
		return 0;
	if (rc != 0 || v > 0xffff) {
		if (rc == 0)
			khyve_warnx("%s=%s: expected a 16-bit PCI ID", key,
			    config_get(cfg, key));
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

static int hostbridge_init(struct pci_devinst *pi, struct config_node *cfg)
{
	const char *name = config_get(cfg, "device");
	uint16_t vendor = HB_VENDOR, device = HB_DEVICE;
	int rc;

	/* amd_hostbridge is an alias: the same function, other IDs. */
	if (name != NULL && strcmp(name, "amd_hostbridge") == 0) {
		vendor = AMD_VENDOR;
		device = AMD_DEVICE;
	}
	if ((rc = read_id(cfg, "vendor", &vendor)) != 0 ||
	    (rc = read_id(cfg, "devid", &device)) != 0)
		return rc;
	pci_set_cfgdata16(pi, PCIR_VENDOR, vendor);
	pci_set_cfgdata16(pi, PCIR_DEVICE, device);
	pci_set_cfgdata8(pi, PCIR_HDRTYPE, 0);
	pci_set_cfgdata8(pi, PCIR_CLASS, PCIC_BRIDGE);
	pci_set_cfgdata8(pi, PCIR_SUBCLASS, PCIS_BRIDGE_HOST);
	rc = pci_emul_add_pciecap_type(pi, PCIEM_TYPE_ROOT_PORT);
	return rc < 0 ? rc : 0;
}

static const struct pci_devemu pci_de_hostbridge = {
	.pe_emu = "hostbridge",
	.pe_help = "host bridge (bhyve IDs 1275:1275)",
	.pe_init = hostbridge_init,
};
PCI_EMUL_SET(pci_de_hostbridge);

static const struct pci_devemu pci_de_amd_hostbridge = {
	.pe_emu = "amd_hostbridge",
	.pe_help = "host bridge with AMD IDs (1022:7432)",
	.pe_alias = "hostbridge",
};
PCI_EMUL_SET(pci_de_amd_hostbridge);
