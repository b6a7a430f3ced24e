#!/usr/bin/env bash
# t-net: virtio-net start-up and its errors in a real khyve run: bad values
# exit 64, a tap the host refuses exits 4, and a VM with
# slirp (no root) and hostfwd starts, runs its guest and tears down.  The
# guest does not use the NIC here; guest networking is tested elsewhere.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/hello.elf" ] || { fail build "no $GUESTS/hello.elf (make guests)"; exit 1; }

hello() { # slot-conf... : run the hello guest with extra -s options
	local s=() a
	for a in "$@"; do s+=(-s "$a"); done
	krun -- -c 1 -m 64M -l com1,stdio -l pc-testdev -s 0,hostbridge \
	    "${s[@]}" -o boot.kernel="$GUESTS/hello.elf" netvm
}

hello 2,virtio-net,slirp,mac=01:00:5e:00:00:01
expect_status bad-mac/status 64
expect_err bad-mac/message 'mac "01:00:5e:00:00:01"'

hello 2,virtio-net,slirp,mtu=67
expect_status bad-mtu/status 64
expect_err bad-mtu/message 'mtu "67"'

hello 2,virtio-net,slirp,hostfwd=tcp::22
expect_status bad-hostfwd/status 64
expect_err bad-hostfwd/message 'tcp::22'

hello 2,virtio-net,eth0
expect_status unknown-backend/status 64
expect_err unknown-backend/message '"eth0"'

# "lo" exists and is not a tap: cannot be opened -> exit 4.
hello 2,virtio-net,tap=lo
expect_status tap-refused/status 4
expect_err tap-refused/message 'tap "lo"'

# (A hostfwd port the host refuses is a unit test: holding a port here
# would need a helper process, and python takes ~50 s to start in the
# nested test VM.)  Nothing else listens in the test VM.
port=$((20000 + RANDOM % 20000))

# slirp with a hostfwd and a second NIC: start, run the guest, tear down.
hello "2,virtio-net,slirp,hostfwd=tcp:127.0.0.1:$port-:22" \
    3,virtio-net,slirp,mac=02:00:00:00:00:03,mtu=1400
expect_status slirp-runs/status 33
expect_out slirp-runs/guest '^hello from khyve$'
