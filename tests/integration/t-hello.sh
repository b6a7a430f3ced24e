#!/usr/bin/env bash
# t-hello: the smallest guest prints on COM1 and exits via pc-testdev;
# the runtime's exception handler reports an unexpected #UD.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/hello.elf" ] || { fail build "no $GUESTS/hello.elf (make guests)"; exit 1; }

krun -- -c 1 -m 128M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/hello.elf" -o boot.cmdline="greeting=yes info" hello
expect_status status 33
expect_out greeting '^hello from khyve$'
expect_out multiboot '^boot: multiboot$'
expect_out cmdline '^cmdline: (.* )?greeting=yes info$'
expect_out memory-map '^memory map: [1-9][0-9]* entries$'

# Two vCPUs: the APs stay in wait-for-SIPI, the BSP runs alone.
krun -- -c 2 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/hello.elf" hello2
expect_status two-cpus-status 33
expect_out two-cpus-greeting '^hello from khyve$'

krun -- -c 1 -m 128M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/hello.elf" -o boot.cmdline="fault=ud" hello-ud
expect_status exception-status 251
expect_out exception-report '^EXCEPTION #UD vector=6 err=0x0 eip=0x[0-9a-f]{8}'
