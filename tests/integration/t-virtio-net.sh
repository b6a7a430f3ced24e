#!/usr/bin/env bash
# t-virtio-net: vnet.elf on virtio-net with the slirp (user-mode) back end:
# the MAC from the configuration space, an ARP request for the gateway
# 10.0.2.2 answered, an ICMP echo to it answered; each transport (a
# transitional device both ways).  Bad device options exit 64.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/vnet.elf" ] || { fail build "no $GUESTS/vnet.elf (make guests)"; exit 1; }

vnet() { # NAME CMDLINE khyve-args...
	local name=$1 cmd=$2
	shift 2
	krun --timeout 120 -- -c 1 -m 64M -l com1,stdio -l pc-testdev "$@" \
	    -o boot.kernel="$GUESTS/vnet.elf" -o boot.cmdline="$cmd" "vnet-$name"
}

mac=52:54:00:4b:48:01
for c in "legacy legacy legacy 1000" "modern modern modern 1041" \
    "trans-modern transitional modern 1000" "trans-legacy transitional legacy 1000"; do
	set -- $c
	name=$1 dev=$2 drv=$3 id=$4
	vnet "$name" "transport=$drv mac=$mac" -s 6,virtio-net,slirp,mac=$mac,transport="$dev"
	expect_status "$name/status" 33
	expect_out "$name/device" "^vnet: 00:06\\.0 1af4:$id transport $drv irq msix "
	expect_out "$name/mac" "^vnet: mac $mac \\(F_MAC 1\\)"
	expect_out "$name/arp" '^vnet: arp 10\.0\.2\.2 is-at '
	expect_out "$name/ping" '^vnet: icmp echo reply from 10\.0\.2\.2$'
	expect_out "$name/ok" '^vnet ok$'
done

# Without mac= the MAC is still a unicast, non-zero address (bhyve derives
# it from the slot and VM name); the guest checks that.
vnet default-mac "wait=20000" -s 6,virtio-net,slirp
expect_status default-mac/status 33
expect_out default-mac/mac '^vnet: mac ([0-9a-f]{2}:){5}[0-9a-f]{2} \(F_MAC 1\)'

bad() { # NAME REGEX -s-argument
	krun -- -c 1 -m 64M -l com1,stdio -l pc-testdev -s "$3" \
	    -o boot.kernel="$GUESTS/vnet.elf" vm
	expect_status "bad/$1/status" 64
	expect_err "bad/$1/message" "$2"
	expect_no_out "bad/$1/no-guest" 'vnet'
}
bad mac 'zz' 6,virtio-net,slirp,mac=zz:00:00:00:00:01
bad multicast-mac '01:00:5e' 6,virtio-net,slirp,mac=01:00:5e:00:00:01
bad backend 'nosuchbackend' 6,virtio-net,nosuchbackend
bad transport 'bogus' 6,virtio-net,slirp,transport=bogus
