/*
 * acpi_pm.c - the fixed ACPI power-management registers at bhyve's
 * addresses (bhyve's pm.c and acpi.h), enough for a guest to power off
 * before the ACPI tables exist:
 *
 *   0x400  PM1a_EVT_BLK: PM1_STS (2 bytes, write 1 to clear) and PM1_EN
 *   0x404  PM1a_CNT_BLK (2 bytes): SLP_EN with SLP_TYP 5 (bhyve's _S5_)
 *          powers off (status 1); SCI_EN is read-only for the guest
 *   0x408  PM_TMR_BLK (4 bytes, 32 bits): 3.579545 MHz from
 *          CLOCK_MONOTONIC, counting from VM creation
 *   0xb2   SMI_CMD: 0xa0/0xa1 set/clear SCI_EN (bhyve's ACPI enable and
 *          disable values)
 *
 * SCI (IRQ 9, level) is asserted while an enabled event status bit is
 * set (bhyve's sci_update: PM1_STS & PM1_EN, whatever SCI_EN says).
 *
 * The power button (acpi_pm.h) is ACPI's fixed-feature button: the FADT
 * leaves PWR_BUTTON clear, so no DSDT device describes it; a press sets
 * PWRBTN_STS and the guest sees the SCI if it enabled PWRBTN_EN.
 *
 * Registers may be accessed in any width inside the block; bytes are
 * merged into the 16-bit registers before their semantics apply.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "dev/acpi_pm.h"
#include "dev/platform.h"
#include "event/mevent.h"
#include "vmm/vm.h"

#define PM1A_EVT_ADDR 0x400
#define PM1A_EVT_LEN 8 /* STS, EN, CNT, reserved: bhyve's SYSRES_IO(0x400,8) */
#define PM_TMR_ADDR 0x408
#define SMI_CMD_PORT 0xb2
#define SCI_IRQ 9

#define ACPI_ENABLE_CMD 0xa0
#define ACPI_DISABLE_CMD 0xa1

#define PM1_TMR_STS 0x0001
#define PM1_BM_STS 0x0010
#define PM1_GBL_STS 0x0020
#define PM1_PWRBTN_STS 0x0100
#define PM1_SLPBTN_STS 0x0200
#define PM1_RTC_STS 0x0400
#define PM1_WAK_STS 0x8000
#define PM1_STS_W1C (PM1_WAK_STS | PM1_RTC_STS | PM1_SLPBTN_STS | \
    PM1_PWRBTN_STS | PM1_BM_STS)

#define PM1_TMR_EN 0x0001
#define PM1_GBL_EN 0x0020
#define PM1_PWRBTN_EN 0x0100
#define PM1_SLPBTN_EN 0x0200
#define PM1_RTC_EN 0x0400
/* Only these may be enabled (bhyve: ACPI-CA insists on setting GBL_EN). */
#define PM1_EN_WRITABLE (PM1_RTC_EN | PM1_PWRBTN_EN | PM1_GBL_EN)

#define PM1_SCI_EN 0x0001
#define PM1_SLP_TYP 0x1c00
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN 0x2000
#define PM1_ALWAYS_ZERO 0xc003
#define SLP_TYP_S5 5

#define PM_TMR_HZ 3579545ULL
#define NS 1000000000ULL

struct acpi_pm {
	pthread_mutex_t lock;
	struct vm *vm;
	uint16_t reg[PM1A_EVT_LEN / 2]; /* STS, EN, CNT, reserved */
	int sci_level;
	uint64_t tmr_base_ns;
	/* Power button: seconds the guest gets after the first press (0:
	 * no press, power off at once); the press and its deadline (made
	 * disarmed at start-up when there is a timeout and an event loop,
	 * armed by the first press on the main thread). */
	int pwrbtn_timeout;
	bool pwrbtn_pressed;
	struct mevent *pwrbtn_timer;
};

enum { R_STS, R_EN, R_CNT, R_RSVD };

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* sc->lock held. */
static void sci_update(struct acpi_pm *sc)
{
	int need = (sc->reg[R_STS] & sc->reg[R_EN]) != 0;

	if (need != sc->sci_level && vm_irq_line(sc->vm, SCI_IRQ, need) == 0)
		sc->sci_level = need;
}

/* Apply a write of `val` to the bytes of register r selected by `mask`.
 * Returns true when the guest asked for S5 (soft off). */
static bool reg_write(struct acpi_pm *sc, unsigned r, uint16_t val,
    uint16_t mask)
{
	uint16_t cnt;

	switch (r) {
	case R_STS:
		sc->reg[R_STS] &= (uint16_t)~(val & mask & PM1_STS_W1C);
		break;
	case R_EN:
		sc->reg[R_EN] = (uint16_t)((sc->reg[R_EN] & ~mask) |
		    (val & mask & PM1_EN_WRITABLE));
		break;
	case R_CNT:
		cnt = (uint16_t)((sc->reg[R_CNT] & ~mask) | (val & mask));
		/* SLP_EN and the reserved bits read as 0; SCI_EN belongs to
		 * the platform (SMI_CMD), not the OS. */
		sc->reg[R_CNT] = (uint16_t)((sc->reg[R_CNT] & PM1_SCI_EN) |
		    (cnt & ~(PM1_SLP_EN | PM1_ALWAYS_ZERO)));
		return (cnt & PM1_SLP_EN) &&
		    ((cnt & PM1_SLP_TYP) >> PM1_SLP_TYP_SHIFT) == SLP_TYP_S5;
	default:
		break;
	}
	return false;
}

static int pm1_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct acpi_pm *sc = opaque;
	uint16_t wval[PM1A_EVT_LEN / 2] = { 0 }, wmask[PM1A_EVT_LEN / 2] = { 0 };
	uint64_t out = 0;
	bool poweroff = false;

	(void)vcpu;
	pthread_mutex_lock(&sc->lock);
	/* The bus guarantees offset + size <= PM1A_EVT_LEN. */
	for (int i = 0; i < size; i++) {
		unsigned byte = (unsigned)offset + (unsigned)i;
		unsigned r = byte / 2, sh = (byte % 2) * 8;

		if (r >= PM1A_EVT_LEN / 2)
			break;
		if (write) {
			wval[r] |= (uint16_t)(((*val >> (8 * i)) & 0xff) << sh);
			wmask[r] |= (uint16_t)(0xff << sh);
		} else {
			out |= (uint64_t)((sc->reg[r] >> sh) & 0xff) << (8 * i);
		}
	}
	if (write) {
		for (unsigned r = 0; r < PM1A_EVT_LEN / 2; r++)
			if (wmask[r] != 0 && reg_write(sc, r, wval[r], wmask[r]))
				poweroff = true;
		sci_update(sc);
	}
	pthread_mutex_unlock(&sc->lock);
	if (!write)
		*val = out;
	if (poweroff) {
		khyve_dbg("ACPI: S5 requested");
		vm_request_exit(sc->vm, KHYVE_EXIT_POWEROFF);
	}
	return 0;
}

static int pm_tmr_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct acpi_pm *sc = opaque;
	uint64_t d, ticks;

	(void)vcpu;
	(void)size;
	if (write)
		return 0; /* read-only */
	d = mono_ns() - sc->tmr_base_ns;
	/* Split so the product cannot overflow in any uptime. */
	ticks = (d / NS) * PM_TMR_HZ + (d % NS) * PM_TMR_HZ / NS;
	*val = (uint32_t)ticks >> (8 * offset);
	return 0;
}

static int smi_cmd_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct acpi_pm *sc = opaque;

	(void)vcpu;
	(void)offset;
	(void)size;
	if (!write) {
		*val = 0;
		return 0;
	}
	pthread_mutex_lock(&sc->lock);
	if ((uint8_t)*val == ACPI_ENABLE_CMD)
		sc->reg[R_CNT] |= PM1_SCI_EN;
	else if ((uint8_t)*val == ACPI_DISABLE_CMD)
		sc->reg[R_CNT] &= (uint16_t)~PM1_SCI_EN;
	pthread_mutex_unlock(&sc->lock);
	return 0;
}

static void pwrbtn_expired(int fd, enum mevent_type type, void *arg)
{
	struct acpi_pm *sc = arg;

	(void)fd;
	(void)type;
	khyve_warnx("the guest did not power off within %d s of the power "
	    "button: powering off", sc->pwrbtn_timeout);
	vm_request_exit(sc->vm, KHYVE_EXIT_POWEROFF);
}

bool acpi_pm_power_button(struct vm *vm)
{
	struct acpi_pm *sc = iobus_opaque(&vm->pio, PM1A_EVT_ADDR);
	bool force;

	if (sc == NULL) {
		vm_request_exit(vm, KHYVE_EXIT_POWEROFF);
		return false;
	}
	pthread_mutex_lock(&sc->lock);
	force = sc->pwrbtn_pressed || sc->pwrbtn_timeout == 0;
	if (!force) {
		sc->pwrbtn_pressed = true;
		sc->reg[R_STS] |= PM1_PWRBTN_STS;
		sci_update(sc);
	}
	pthread_mutex_unlock(&sc->lock);
	if (force) {
		khyve_dbg("power button: powering off");
		vm_request_exit(vm, KHYVE_EXIT_POWEROFF);
		return false;
	}
	khyve_dbg("power button pressed; the guest has %d s",
	    sc->pwrbtn_timeout);
	/* Made at start-up, armed now: the sandboxed main thread may set
	 * a timer but not create one. */
	if (sc->pwrbtn_timer == NULL || mevent_enable(sc->pwrbtn_timer) != 0) {
		/* Without a deadline a stuck guest would never end. */
		khyve_warnx("power button: no timer; powering off");
		vm_request_exit(vm, KHYVE_EXIT_POWEROFF);
		return false;
	}
	return true;
}

static int acpi_pm_init(const struct platform_dev *dev, struct vm *vm)
{
	struct acpi_pm *sc;
	int rc, timeout = 0;

	(void)dev;
	rc = config_get_int(NULL, "acpi.powerbutton_timeout", &timeout);
	if (rc == -EINVAL)
		return rc;
	if (timeout < 0 || timeout > ACPI_PM_PWRBTN_TIMEOUT_MAX) {
		khyve_warnx("acpi.powerbutton_timeout=%d: not in 0..%d seconds",
		    timeout, ACPI_PM_PWRBTN_TIMEOUT_MAX);
		return -EINVAL;
	}
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	pthread_mutex_init(&sc->lock, NULL);
	sc->vm = vm;
	sc->tmr_base_ns = mono_ns();
	sc->pwrbtn_timeout = timeout;
	if ((rc = iobus_register(&vm->pio, PM1A_EVT_ADDR, PM1A_EVT_LEN, pm1_io,
		 sc, "acpi-pm1")) != 0)
		goto fail;
	if ((rc = iobus_register(&vm->pio, PM_TMR_ADDR, 4, pm_tmr_io, sc,
		 "acpi-pmtimer")) != 0)
		goto fail_pm1;
	if ((rc = iobus_register(&vm->pio, SMI_CMD_PORT, 1, smi_cmd_io, sc,
		 "acpi-smi-cmd")) != 0)
		goto fail_tmr;
	if (timeout > 0 && vm->ev != NULL) {
		sc->pwrbtn_timer = mevent_add_disabled(vm->ev, timeout * 1000,
		    EVF_TIMER, pwrbtn_expired, sc);
		if (sc->pwrbtn_timer == NULL) {
			rc = -errno;
			khyve_warn("power button: cannot make its timer");
			goto fail_smi;
		}
	}
	return 0;

fail_smi:
	iobus_unregister(&vm->pio, SMI_CMD_PORT);
fail_tmr:
	iobus_unregister(&vm->pio, PM_TMR_ADDR);
fail_pm1:
	iobus_unregister(&vm->pio, PM1A_EVT_ADDR);
fail:
	pthread_mutex_destroy(&sc->lock);
	free(sc);
	return rc;
}

static void acpi_pm_fini(const struct platform_dev *dev, struct vm *vm)
{
	struct acpi_pm *sc = iobus_opaque(&vm->pio, PM1A_EVT_ADDR);

	(void)dev;
	if (sc == NULL)
		return;
	if (sc->pwrbtn_timer != NULL)
		mevent_delete(sc->pwrbtn_timer);
	iobus_unregister(&vm->pio, SMI_CMD_PORT);
	iobus_unregister(&vm->pio, PM_TMR_ADDR);
	iobus_unregister(&vm->pio, PM1A_EVT_ADDR);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}

static const struct platform_dev acpi_pm_dev = {
	.name = "acpi-pm",
	.init = acpi_pm_init,
	.fini = acpi_pm_fini,
};
PLATFORM_DEV_SET(acpi_pm_dev);
