/*
 * acpi_pm.h - the ACPI power button (dev/acpi_pm.c).
 *
 * khyve's SIGTERM is bhyve's: it presses the fixed-feature power button
 * (PWRBTN_STS in PM1_STS, and the SCI if the guest set PWRBTN_EN), and
 * the guest decides what to do.  khyve adds a way out for guests that do
 * nothing: a second press, or acpi.powerbutton_timeout seconds after the
 * first (default in config.c), powers the VM off (status 1);
 * acpi.powerbutton_timeout=0 powers off at the first press.
 */
#ifndef KHYVE_DEV_ACPI_PM_H
#define KHYVE_DEV_ACPI_PM_H

#include <stdbool.h>

struct vm;

/* Upper bound of acpi.powerbutton_timeout (seconds; one day). */
#define ACPI_PM_PWRBTN_TIMEOUT_MAX 86400

/*
 * Press the power button; main thread only.  The deadline is a timer on
 * vm->ev made (disarmed) when the device starts, so a press creates no
 * descriptor.  Returns true when the guest was told, false when khyve
 * asked the VM to power off instead (second press, timeout 0, no PM
 * device, no event loop at start-up, the timer would not start).
 */
bool acpi_pm_power_button(struct vm *vm);

#endif
