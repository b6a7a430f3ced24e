#!/usr/bin/env bash
# t-demo: the `make run` guest reports its CPUs, memory and command line,
# then powers off (status 1).
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/demo.elf" ] || { fail build "no $GUESTS/demo.elf (make guests)"; exit 1; }

krun --timeout 120 -- -c 2 -m 128M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/demo.elf" -o boot.cmdline="hello from make run cpus=2" demo
expect_status status 1
expect_out banner '^khyve demo guest$'
expect_out cmdline '^command line: (.* )?hello from make run cpus=2$'
expect_out memory '^memory: 12[78] MiB$'
expect_out cpus '^cpus: 2$'
expect_no_out poweroff-worked 'did not stop the VM'
