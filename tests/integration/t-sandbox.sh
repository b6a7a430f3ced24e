#!/usr/bin/env bash
# t-sandbox: the seccomp sandbox is on by default and kills khyve with
# SIGSYS when a vCPU thread makes a call its list denies (the test
# build's hook, build/khyve-test with KHYVE_TEST_SANDBOX_VIOLATE set);
# -o sandbox=log and =off survive the same call; the release build has
# no hook.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/hello.elf" ] || { fail build "no $GUESTS/hello.elf (make guests)"; exit 1; }
KHYVE_TEST=${KHYVE%/*}/khyve-test
[ -x "$KHYVE_TEST" ] || { fail build "no $KHYVE_TEST (make)"; exit 1; }
REL=$KHYVE

boot() { # NAME [ARGS...]: the hello guest, powering off (status 1)
	local name=$1; shift
	krun --timeout 60 -- -c 2 -m 64M -l com1,stdio -l pc-testdev "$@" \
	    -o boot.kernel="$GUESTS/hello.elf" -o boot.cmdline="exit=poweroff" "sb-$name"
}

KHYVE=$KHYVE_TEST
boot plain
expect_status plain 1
expect_out plain-ran '^hello from khyve$'

export KHYVE_TEST_SANDBOX_VIOLATE=1
KRUN_NO_RETRY=1 boot kill
expect_status kill-sigsys 159 # 128 + SIGSYS
expect_no_out kill-no-guest '^hello from khyve$'

boot log -o sandbox=log
expect_status log 1
expect_out log-ran '^hello from khyve$'
expect_err log-hook-ran 'test hook: socket\(\) on a vCPU thread returned [0-9]'

boot off -o sandbox=off
expect_status off 1
expect_err off-hook-ran 'test hook: socket\(\) on a vCPU thread returned [0-9]'

KHYVE=$REL
boot release
expect_status release-no-hook 1
if printf '%s\n' "$ERR" | grep -q 'test hook'; then fail release-no-hook-msg "the release build ran the hook"; else pass release-no-hook-msg; fi
unset KHYVE_TEST_SANDBOX_VIOLATE

boot bad-mode -o sandbox=on
expect_status bad-mode 64
expect_err bad-mode-msg 'sandbox=on: expected off, log or kill'
