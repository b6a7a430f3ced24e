/*
 * pci_msi.c - message signalled interrupts: the MSI capability (64-bit,
 * 1..32 messages, no per-vector masking) and MSI-X (table and pending-bit
 * array in a BAR, function mask, per-vector mask), with bhyve's capability
 * layouts (pci_emul.c: pci_populate_msicap/msixcap, msicap_cfgwrite,
 * msixcap_cfgwrite, pci_emul_msix_tread/twrite).
 *
 * Delivery.  MSI goes out through KVM_SIGNAL_MSI.  Each MSI-X vector gets,
 * the first time it is used unmasked, a GSI with an MSI route, an eventfd
 * and an irqfd binding the two, so raising it is one eventfd write; the
 * route is re-committed when the guest has changed the entry's address or
 * data (`stale`).  If KVM refuses any of that (or there is no KVM, as in
 * the unit tests, or pci.irqfd=false), the vector falls back to
 * KVM_SIGNAL_MSI, which needs no routing change while the guest runs.  Every message
 * the core raises is counted in pi->pi_msgs, which is how the tests see
 * deliveries.
 *
 * Trust: table and capability contents come from the guest; indices are
 * bounded by table_count, accesses by the BAR claim and the checks below.
 * All of pi_msi/pi_msix and the per-vector state are under pi->lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bus/pci_priv.h"
#include "vmm/irq.h"
#include "vmm/vm.h"

/* The register at [roff, roff + rlen) after a write of `bytes` at `off`. */
static uint32_t merge(uint32_t old, int roff, int rlen, int off, int bytes,
    uint32_t val)
{
	for (int i = 0; i < bytes; i++) {
		int b = off + i - roff;

		if (b < 0 || b >= rlen)
			continue;
		old = (old & ~(0xffu << (8 * b))) |
		    (((val >> (8 * i)) & 0xffu) << (8 * b));
	}
	return old;
}

/* Send one message.  pi->lock held. */
static void deliver(struct pci_devinst *pi, uint64_t addr, uint32_t data,
    struct msix_vec *v)
{
	uint64_t one = 1;

	pi->pi_msgs.count++;
	pi->pi_msgs.addr = addr;
	pi->pi_msgs.data = data;
	if (v != NULL && v->efd >= 0 && !v->stale &&
	    write(v->efd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		return;
	/* No irqfd (or the counter is saturated): the slow, sure path.
	 * Errors mean no KVM (unit tests) or a guest-made bad address. */
	(void)vm_msi_signal(pi->pi_vm, addr, data);
}

/* ---- MSI ---------------------------------------------------------------- */

int pci_emul_add_msicap(struct pci_devinst *pi, int msgnum)
{
	uint8_t cap[14];
	int off;

	if (msgnum < 1 || msgnum > 32 || (msgnum & (msgnum - 1)) != 0 ||
	    pi->pi_msi.capoff != 0)
		return -EINVAL;
	memset(cap, 0, sizeof(cap));
	cap[0] = PCIY_MSI;
	/* 64-bit capable; Multiple Message Capable = log2(msgnum). */
	cap[2] = (uint8_t)(PCIM_MSICTRL_64BIT |
	    ((__builtin_ctz((unsigned)msgnum)) << 1));
	off = pci_emul_add_capability(pi, cap, sizeof(cap));
	if (off < 0)
		return off;
	pi->pi_msi.capoff = off;
	pi->pi_msi.maxmsgnum = msgnum;
	return off;
}

void pci_msi_capwrite(struct pci_func *f, int capoff, int off, int bytes,
    uint32_t val)
{
	struct pci_devinst *pi = &f->pi;
	uint32_t ctrl, alo, ahi, data;
	bool was, now;
	int mme;

	pthread_mutex_lock(&pi->lock);
	ctrl = pci_get_cfgdata16(pi, capoff + 2);
	ctrl = (ctrl & ~(uint32_t)(PCIM_MSICTRL_MME_MASK |
	    PCIM_MSICTRL_MSI_ENABLE)) |
	    (merge(ctrl, capoff + 2, 2, off, bytes, val) &
	    (PCIM_MSICTRL_MME_MASK | PCIM_MSICTRL_MSI_ENABLE));
	/* Multiple Message Enable above what the function offers is
	 * undefined; clamp it so nmsgs never exceeds maxmsgnum. */
	mme = (int)((ctrl & PCIM_MSICTRL_MME_MASK) >> 4);
	if ((1 << mme) > pi->pi_msi.maxmsgnum)
		mme = __builtin_ctz((unsigned)pi->pi_msi.maxmsgnum);
	ctrl = (ctrl & ~(uint32_t)PCIM_MSICTRL_MME_MASK) | (uint32_t)mme << 4;
	pci_set_cfgdata16(pi, capoff + 2, (uint16_t)ctrl);
	alo = merge(pci_get_cfgdata32(pi, capoff + 4), capoff + 4, 4, off,
	    bytes, val) & ~3u;
	ahi = merge(pci_get_cfgdata32(pi, capoff + 8), capoff + 8, 4, off,
	    bytes, val);
	data = merge(pci_get_cfgdata16(pi, capoff + 12), capoff + 12, 2, off,
	    bytes, val);
	pci_set_cfgdata32(pi, capoff + 4, alo);
	pci_set_cfgdata32(pi, capoff + 8, ahi);
	pci_set_cfgdata16(pi, capoff + 12, (uint16_t)data);

	was = pi->pi_msi.enabled;
	now = (ctrl & PCIM_MSICTRL_MSI_ENABLE) != 0;
	pi->pi_msi.enabled = now;
	pi->pi_msi.addr = (uint64_t)ahi << 32 | alo;
	pi->pi_msi.msg_data = (uint16_t)data;
	pi->pi_msi.nmsgs = now ? 1 << mme : 0;
	pthread_mutex_unlock(&pi->lock);
	if (was != now)
		pci_lintr_update(pi);
}

bool pci_msi_enabled(struct pci_devinst *pi)
{
	bool en;

	pthread_mutex_lock(&pi->lock);
	en = pi->pi_msi.enabled;
	pthread_mutex_unlock(&pi->lock);
	return en;
}

/* bhyve's meaning: the messages the guest enabled (0 while disabled). */
int pci_msi_maxmsgnum(struct pci_devinst *pi)
{
	int n;

	pthread_mutex_lock(&pi->lock);
	n = pi->pi_msi.enabled ? pi->pi_msi.nmsgs : 0;
	pthread_mutex_unlock(&pi->lock);
	return n;
}

void pci_generate_msi(struct pci_devinst *pi, int index)
{
	uint32_t data;

	pthread_mutex_lock(&pi->lock);
	if (pi->pi_msi.enabled && index >= 0 && index < pi->pi_msi.nmsgs) {
		/* The function supplies the low log2(nmsgs) bits. */
		data = ((uint32_t)pi->pi_msi.msg_data &
		    ~(uint32_t)(pi->pi_msi.nmsgs - 1)) | (uint32_t)index;
		deliver(pi, pi->pi_msi.addr, data, NULL);
	}
	pthread_mutex_unlock(&pi->lock);
}

/* ---- MSI-X -------------------------------------------------------------- */

static struct msix_vec *vecs(struct pci_devinst *pi)
{
	return pi->pi_msix.kvm;
}

int pci_emul_add_msixcap(struct pci_devinst *pi, int msgnum, int barnum)
{
	uint32_t tab_size, pba_size;
	struct msix_vec *v;
	uint8_t cap[12];
	int off, rc;

	if (msgnum < 1 || msgnum > PCI_MSIX_MAX_VECTORS || barnum < 0 ||
	    barnum > PCI_BARMAX || pi->pi_msix.table != NULL ||
	    pi->pi_bar[barnum].type != PCIBAR_NONE)
		return -EINVAL;
	tab_size = ALIGN_UP((uint32_t)msgnum * MSIX_ENTRY_SIZE, 4096u);
	pba_size = ALIGN_UP((uint32_t)msgnum, 64u) / 8;
	pi->pi_msix.table = calloc((size_t)msgnum, sizeof(*pi->pi_msix.table));
	pi->pi_msix.pba = calloc(pba_size / 8, sizeof(uint64_t));
	v = calloc((size_t)msgnum, sizeof(*v));
	if (pi->pi_msix.table == NULL || pi->pi_msix.pba == NULL || v == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < msgnum; i++) {
		pi->pi_msix.table[i].vector_control = PCIM_MSIX_VCTRL_MASK;
		v[i] = (struct msix_vec){ .gsi = -1, .efd = -1, .stale = true };
	}
	pi->pi_msix.kvm = v;
	pi->pi_msix.table_bar = pi->pi_msix.pba_bar = barnum;
	pi->pi_msix.table_offset = 0;
	pi->pi_msix.pba_offset = tab_size;
	pi->pi_msix.table_count = msgnum;
	pi->pi_msix.pba_size = pba_size;
	rc = pci_emul_alloc_bar(pi, barnum, PCIBAR_MEM32, tab_size + pba_size);
	if (rc != 0)
		goto fail;

	memset(cap, 0, sizeof(cap));
	cap[0] = PCIY_MSIX;
	cap[2] = (uint8_t)((msgnum - 1) & 0xff); /* table size, N - 1 */
	cap[3] = (uint8_t)((msgnum - 1) >> 8);
	cap[4] = (uint8_t)barnum;                /* table at offset 0 */
	cap[8] = (uint8_t)(tab_size | (uint32_t)barnum);
	cap[9] = (uint8_t)(tab_size >> 8);
	cap[10] = (uint8_t)(tab_size >> 16);
	cap[11] = (uint8_t)(tab_size >> 24);
	off = pci_emul_add_capability(pi, cap, sizeof(cap));
	if (off < 0)
		return off; /* the core frees the BAR and table with the function */
	pi->pi_msix.capoff = off;
	return off;
fail:
	free(pi->pi_msix.table);
	free(pi->pi_msix.pba);
	free(v);
	pi->pi_msix.table = NULL;
	pi->pi_msix.pba = NULL;
	pi->pi_msix.kvm = NULL;
	pi->pi_msix.table_count = 0;
	pi->pi_msix.table_bar = pi->pi_msix.pba_bar = -1;
	return rc;
}

/* Give vector i its route and irqfd (once), and commit a changed entry.
 * pi->lock held.  On any refusal the vector uses KVM_SIGNAL_MSI. */
static void vec_prepare(struct pci_devinst *pi, int i)
{
	struct msix_vec *v = &vecs(pi)[i];
	struct msix_table_entry *e = &pi->pi_msix.table[i];
	struct vm *vm = pi->pi_vm;
	int gsi, efd;

	if (v->failed || vm == NULL || vm->fd < 0)
		return;
	if (!pci_func_of(pi)->sys->irqfd) {
		v->failed = true; /* pci.irqfd=false: KVM_SIGNAL_MSI only */
		return;
	}
	if (v->gsi < 0) {
		gsi = vm_msi_route_alloc(vm);
		if (gsi < 0)
			goto refuse;
		efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd < 0) {
			vm_msi_route_free(vm, gsi);
			goto refuse;
		}
		if (vm_irqfd(vm, efd, gsi, true) != 0) {
			close(efd);
			vm_msi_route_free(vm, gsi);
			goto refuse;
		}
		v->gsi = gsi;
		v->efd = efd;
		v->stale = true;
	}
	if (v->stale && vm_msi_route_set(vm, v->gsi, e->addr, e->msg_data) == 0)
		v->stale = false;
	return;
refuse:
	khyve_dbg("%s: MSI-X vector %d without irqfd", pi->pi_name, i);
	v->failed = true;
}

static bool pending(struct pci_devinst *pi, int i)
{
	return (pi->pi_msix.pba[i / 64] >> (i % 64)) & 1;
}

static void set_pending(struct pci_devinst *pi, int i, bool on)
{
	if (on)
		pi->pi_msix.pba[i / 64] |= 1ULL << (i % 64);
	else
		pi->pi_msix.pba[i / 64] &= ~(1ULL << (i % 64));
}

static bool vec_masked(struct pci_devinst *pi, int i)
{
	return pi->pi_msix.function_mask ||
	    (pi->pi_msix.table[i].vector_control & PCIM_MSIX_VCTRL_MASK);
}

static void fire(struct pci_devinst *pi, int i)
{
	struct msix_vec *v = &vecs(pi)[i];

	if (v->gsi < 0 || v->stale)
		vec_prepare(pi, i);
	deliver(pi, pi->pi_msix.table[i].addr, pi->pi_msix.table[i].msg_data,
	    v);
}

/* Raise what became deliverable (after an unmask or enable). */
static void flush_pending(struct pci_devinst *pi)
{
	if (!pi->pi_msix.enabled || pi->pi_msi.enabled)
		return;
	for (int i = 0; i < pi->pi_msix.table_count; i++) {
		if (pending(pi, i) && !vec_masked(pi, i)) {
			set_pending(pi, i, false);
			fire(pi, i);
		}
	}
}

void pci_msix_capwrite(struct pci_func *f, int capoff, int off, int bytes,
    uint32_t val)
{
	struct pci_devinst *pi = &f->pi;
	const uint32_t rw = PCIM_MSIXCTRL_MSIX_ENABLE |
	    PCIM_MSIXCTRL_FUNCTION_MASK;
	uint32_t ctrl;
	bool was;

	/* Only Message Control has writable bits (table/PBA are fixed). */
	if (off + bytes <= capoff + 2 || off >= capoff + 4)
		return;
	pthread_mutex_lock(&pi->lock);
	ctrl = pci_get_cfgdata16(pi, capoff + 2);
	ctrl = (ctrl & ~rw) | (merge(ctrl, capoff + 2, 2, off, bytes, val) & rw);
	pci_set_cfgdata16(pi, capoff + 2, (uint16_t)ctrl);
	was = pi->pi_msix.enabled;
	pi->pi_msix.enabled = (ctrl & PCIM_MSIXCTRL_MSIX_ENABLE) != 0;
	pi->pi_msix.function_mask = (ctrl & PCIM_MSIXCTRL_FUNCTION_MASK) != 0;
	flush_pending(pi);
	pthread_mutex_unlock(&pi->lock);
	if (was != pi->pi_msix.enabled)
		pci_lintr_update(pi);
}

bool pci_msix_enabled(struct pci_devinst *pi)
{
	bool en;

	pthread_mutex_lock(&pi->lock);
	en = pi->pi_msix.enabled && !pi->pi_msi.enabled;
	pthread_mutex_unlock(&pi->lock);
	return en;
}

void pci_generate_msix(struct pci_devinst *pi, int index)
{
	pthread_mutex_lock(&pi->lock);
	if (pi->pi_msix.table == NULL || !pi->pi_msix.enabled ||
	    pi->pi_msi.enabled || index < 0 ||
	    index >= pi->pi_msix.table_count)
		goto out;
	if (vec_masked(pi, index))
		set_pending(pi, index, true);
	else
		fire(pi, index);
out:
	pthread_mutex_unlock(&pi->lock);
}

/* An entry as the 16 bytes the guest sees (little-endian). */
static void entry_bytes(const struct msix_table_entry *e, uint8_t b[16])
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(e->addr >> (8 * i));
	for (int i = 0; i < 4; i++) {
		b[8 + i] = (uint8_t)(e->msg_data >> (8 * i));
		b[12 + i] = (uint8_t)(e->vector_control >> (8 * i));
	}
}

static uint64_t le_get(const uint8_t *p, int size)
{
	uint64_t v = 0;

	for (int i = size - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void table_write(struct pci_devinst *pi, int i, int field, int size,
    uint64_t val)
{
	struct msix_table_entry *e = &pi->pi_msix.table[i];
	struct msix_vec *v = &vecs(pi)[i];
	bool was_masked = vec_masked(pi, i);
	uint64_t oaddr = e->addr;
	uint32_t odata = e->msg_data;
	uint8_t b[16];

	entry_bytes(e, b);
	for (int k = 0; k < size; k++)
		b[field + k] = (uint8_t)(val >> (8 * k));
	e->addr = le_get(b, 8) & ~3ULL; /* dword-aligned address */
	e->msg_data = (uint32_t)le_get(b + 8, 4);
	/* Only the mask bit of Vector Control is implemented. */
	e->vector_control = (uint32_t)le_get(b + 12, 4) & PCIM_MSIX_VCTRL_MASK;
	if (e->addr != oaddr || e->msg_data != odata)
		v->stale = true;
	if (vec_masked(pi, i))
		return;
	/* Unmasked now: commit a changed route before it is needed, and
	 * deliver what was held back while masked. */
	if (v->stale)
		vec_prepare(pi, i);
	if (was_masked && pending(pi, i) && pi->pi_msix.enabled &&
	    !pi->pi_msi.enabled) {
		set_pending(pi, i, false);
		fire(pi, i);
	}
}

bool pci_msix_bar_access(struct pci_func *f, int idx, uint64_t off,
    int size, bool write, uint64_t *val)
{
	struct pci_devinst *pi = &f->pi;
	uint64_t tab_end, rel;
	uint8_t b[16];

	if (pi->pi_msix.table == NULL || idx != pi->pi_msix.table_bar)
		return false;
	pthread_mutex_lock(&pi->lock);
	tab_end = pi->pi_msix.table_offset +
	    (uint64_t)pi->pi_msix.table_count * MSIX_ENTRY_SIZE;
	if (!write)
		*val = 0; /* reserved space in the MSI-X BAR reads zero */
	if (off >= pi->pi_msix.table_offset && off < tab_end) {
		rel = off - pi->pi_msix.table_offset;
		int i = (int)(rel / MSIX_ENTRY_SIZE);
		int field = (int)(rel % MSIX_ENTRY_SIZE);

		/* Naturally aligned accesses inside one entry only. */
		if ((field & (size - 1)) != 0) {
			if (!write)
				*val = ~0ULL;
			goto out;
		}
		if (!write) {
			entry_bytes(&pi->pi_msix.table[i], b);
			*val = le_get(b + field, size);
		} else if (size == 4 || size == 8) {
			table_write(pi, i, field, size, *val);
		}
	} else if (off >= pi->pi_msix.pba_offset &&
	    off < (uint64_t)pi->pi_msix.pba_offset + pi->pi_msix.pba_size) {
		rel = off - pi->pi_msix.pba_offset;
		if (!write && (rel & (uint64_t)(size - 1)) == 0 &&
		    rel + (uint64_t)size <= pi->pi_msix.pba_size) {
			uint64_t w = pi->pi_msix.pba[rel / 8];

			*val = (w >> (8 * (rel % 8)));
			if (size < 8)
				*val &= (1ULL << (8 * size)) - 1;
		}
		/* The PBA is read-only. */
	}
out:
	pthread_mutex_unlock(&pi->lock);
	return true;
}

void pci_msix_release(struct pci_func *f)
{
	struct pci_devinst *pi = &f->pi;
	struct msix_vec *v = vecs(pi);

	for (int i = 0; v != NULL && i < pi->pi_msix.table_count; i++) {
		if (v[i].efd >= 0) {
			vm_irqfd(pi->pi_vm, v[i].efd, v[i].gsi, false);
			close(v[i].efd);
		}
		if (v[i].gsi >= 0)
			vm_msi_route_free(pi->pi_vm, v[i].gsi);
	}
	free(v);
	free(pi->pi_msix.table);
	free(pi->pi_msix.pba);
	pi->pi_msix.kvm = NULL;
	pi->pi_msix.table = NULL;
	pi->pi_msix.pba = NULL;
	pi->pi_msix.table_count = 0;
}
