#!/usr/bin/env bash
# t-cli: command-line handling, bhyve style: usage, bad options, the
# configuration dump and the errors that need no guest to run.
. "$(dirname "$0")/lib.sh"

# expect_any NAME REGEX: stdout or stderr matches.
expect_any() {
	if printf '%s\n%s\n' "$OUT" "$ERR" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "no output matches /$2/"; fi
}

krun -- -h
expect_status help/status 0
expect_any help/usage '[Uu]sage'

krun -- -Z vm
expect_status unknown-option/status 1
expect_any unknown-option/usage '[Uu]sage|-Z|option'

krun -- -c 1 -m 64M
expect_status no-vmname/status 1

krun -- -m 12Q vm
expect_status bad-memsize/status 64
expect_err bad-memsize/message '12Q'

krun -- -c abc vm
expect_status bad-cpus/status 64
expect_err bad-cpus/message 'abc'

krun -- -c 4,sockets=3,cores=1,threads=1 vm
expect_status bad-topology/status 64

krun -- -c 2 -m 256M -o khyve.test.key=hello -o config.dump=1 dumpvm
expect_status config-dump/status 0
expect_out config-dump/key '^khyve\.test\.key=hello$'

[ -c /dev/kvm ] || { skip vm "no /dev/kvm"; exit 0; }

junk=$_tmp/junk.bin
printf 'this is not a kernel\n%.0s' $(seq 100) >"$junk"
krun -- -c 1 -m 64M -l com1,stdio -o boot.kernel="$junk" vm
expect_status unknown-format/status 4
expect_err unknown-format/message 'junk\.bin|format'

krun -- -c 1 -m 64M -l com1,stdio -o boot.kernel="$_tmp/does-not-exist" vm
expect_status missing-kernel/status 4
expect_err missing-kernel/message 'does-not-exist'

krun -- -c 1 -m 64T -l com1,stdio -o boot.kernel="$GUESTS/hello.elf" vm
expect_status huge-memory/status 4
