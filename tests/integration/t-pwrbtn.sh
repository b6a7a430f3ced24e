#!/usr/bin/env bash
# t-pwrbtn: SIGTERM presses the ACPI power button.
#
#  - tables.elf action=pwrbtn acts as an ACPI OS: enters ACPI mode, routes
#    the SCI through the I/O APIC, sets PWRBTN_EN and says "armed"; after
#    SIGTERM the SCI must be pending with PWRBTN_STS set, and the guest
#    powers off through \_S5 (status 1).
#  - action=pwrbtn-ignore never reacts: a second SIGTERM powers off
#    (status 1), and so does acpi.powerbutton_timeout after the first
#    (status 1, not before the timeout); timeout 0 powers off at once.
#  - SIGINT powers off at once (status 1).
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/tables.elf" ] || { fail build "no $GUESTS/tables.elf (make guests)"; exit 1; }

GUEST=(-m 64M -l com1,stdio -l pc-testdev -o boot.kernel="$GUESTS/tables.elf")

# A guest that handles the button.
bg_start pwrbtn "${GUEST[@]}" -o boot.cmdline="action=pwrbtn"
if bg_wait_out '^tables: pwrbtn armed' 120; then
	bg_stop TERM 60
	expect_status handled/status 1
	expect_out handled/armed '^tables: pwrbtn armed sci 9 gsi 9 .* en 0x100$'
	expect_out handled/sci '^tables: pwrbtn sci pending, pm1_sts 0x1..$'
	expect_out handled/cleared '^tables: pwrbtn event: sts now 0x0, sci taken 1$'
	expect_out handled/s5 '^tables: sci_en 1; powering off with SLP_TYP 5$'
else
	bg_wait 1
	fail handled/armed "the guest never armed the button"
fi

# A guest that ignores it: the second SIGTERM powers off.
bg_start pwrbtn-ignore "${GUEST[@]}" -o boot.cmdline="action=pwrbtn-ignore" \
    -o acpi.powerbutton_timeout=600
if bg_wait_out '^tables: pwrbtn armed' 120; then
	kill -TERM "$PID"
	sleep 2
	if kill -0 "$PID" 2>/dev/null; then pass ignored/first-press-waits
	else fail ignored/first-press-waits "khyve ended on the first SIGTERM"; fi
	bg_stop TERM 30
	expect_status ignored/second-press 1
else
	bg_wait 1
	fail ignored/armed "the guest never armed the button"
fi

# ... or the timeout does.
bg_start pwrbtn-timeout "${GUEST[@]}" -o boot.cmdline="action=pwrbtn-ignore" \
    -o acpi.powerbutton_timeout=3
if bg_wait_out '^tables: pwrbtn armed' 120; then
	start=$(date +%s%N)
	bg_stop TERM 60
	ms=$((($(date +%s%N) - start) / 1000000))
	expect_status timeout/status 1
	expect_err timeout/message 'did not power off within 3 s'
	if [ "$ms" -ge 2900 ]; then pass timeout/not-early
	else fail timeout/not-early "ended after ${ms} ms"; fi
else
	bg_wait 1
	fail timeout/armed "the guest never armed the button"
fi

# Timeout 0: the first SIGTERM powers off.
bg_start pwrbtn-zero "${GUEST[@]}" -o boot.cmdline="action=pwrbtn-ignore" \
    -o acpi.powerbutton_timeout=0
if bg_wait_out '^tables: pwrbtn armed' 120; then
	bg_stop TERM 30
	expect_status zero/status 1
else
	bg_wait 1
	fail zero/armed "the guest never armed the button"
fi

# SIGINT: at once.
bg_start pwrbtn-int "${GUEST[@]}" -o boot.cmdline="action=pwrbtn-ignore"
if bg_wait_out '^tables: pwrbtn armed' 120; then
	bg_stop INT 30
	expect_status sigint/status 1
else
	bg_wait 1
	fail sigint/armed "the guest never armed the button"
fi

# A bad timeout is a configuration error.
krun --timeout 60 -- "${GUEST[@]}" -o acpi.powerbutton_timeout=-5 pwrbtn-bad
expect_status bad-timeout/status 64
expect_err bad-timeout/names-key 'acpi\.powerbutton_timeout'
