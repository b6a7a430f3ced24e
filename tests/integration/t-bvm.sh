#!/usr/bin/env bash
# t-bvm: bhyve's two "bvm" character ports, driven by io.elf: the bvm
# console (-b, port 0x220, on stdio) and the debug port (-g PORT, 0x224,
# relayed to a TCP client on 127.0.0.1).  Each answers its signature to a
# 16-bit read, hands the guest one input byte per 32-bit read (-1 when
# none), and sends the low byte of a 32-bit write out; 8- and 16-bit
# writes go nowhere.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/io.elf" ] || { fail build "no $GUESTS/io.elf (make guests)"; exit 1; }
PY=$(command -v python3) || { fail python "python3 is needed for the TCP client"; exit 1; }

# -b: stdio is the console, so COM1 goes to a file.
: >"$_tmp/com1"; printf 'k' >"$_tmp/in"
krun --stdin "$_tmp/in" -- -b -c 1 -m 64M -l com1,"$_tmp/com1" -l pc-testdev \
    -o boot.kernel="$GUESTS/io.elf" -o boot.cmdline="port=0x220 val=0x21" bvmcons
COM1=$(tr -d '\r' <"$_tmp/com1")
expect_status bvmcons/status 33
for want in 'inb 0x220 = 0xff' 'inw 0x220 = 0x6276' 'inl 0x220 = 0x0000006b'; do
	if grep -q "^io: $want\$" <<<"$COM1"; then pass "bvmcons/${want%% *}"
	else fail "bvmcons/${want%% *}" "COM1 lacks 'io: $want': $(tail -n 5 <<<"$COM1")"; fi
done
# Only the 32-bit write reaches stdout: exactly one '!'.
[ "$OUT" = '!' ] && pass bvmcons/output || fail bvmcons/output "stdout is '$OUT', expected '!'"

# -b and -l com1,stdio both want the terminal: refused before the guest runs.
krun -- -b -c 1 -m 64M -l com1,stdio -o boot.kernel="$GUESTS/io.elf" bvmcons-clash
[ "$STATUS" -ne 0 ] && [ "$STATUS" -ne 124 ] && pass bvmcons/clash-refused || fail bvmcons/clash-refused "status $STATUS"
expect_no_out bvmcons/clash-no-guest '^io:'

# -g: no client yet -> reads -1; the signature is 'BV'.
port=$((20000 + RANDOM % 20000))
krun -- -g "$port" -c 1 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/io.elf" -o boot.cmdline="port=0x224" dbg-noclient
expect_status dbgport/noclient-status 33
expect_out dbgport/signature '^io: inw 0x224 = 0x4256$'
expect_out dbgport/noclient-inl '^io: inl 0x224 = 0xffffffff$'

# -g with a client: the guest holds 3 s (the client connects and sends
# 'q'), reads it, and its 32-bit write of '#' reaches the client.
port=$((20000 + RANDOM % 20000))
timeout -k 5 90 "$KHYVE" -g "$port" -c 1 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/io.elf" -o boot.cmdline="port=0x224 hold=3000 val=0x23" dbg-client \
    </dev/null >"$_tmp/out" 2>"$_tmp/err" &
pid=$!
CLIENT=$("$PY" - "$port" <<'PYEOF' 2>&1
import socket, sys, time
port = int(sys.argv[1])
for i in range(600):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        break
    except OSError:
        time.sleep(0.05)
else:
    print("client: no listener"); sys.exit(1)
s.sendall(b"q")
s.settimeout(60)
got = b""
try:
    while len(got) < 1:
        b = s.recv(16)
        if not b:
            break
        got += b
except OSError as e:
    print("client: %s" % e)
print("client got %r" % got)
PYEOF
)
wait "$pid"; STATUS=$?
OUT=$(tr -d '\r' <"$_tmp/out"); ERR=$(cat "$_tmp/err")
expect_status dbgport/client-status 33
expect_out dbgport/client-input '^io: inl 0x224 = 0x00000071$'
if grep -q "client got b'#'" <<<"$CLIENT"; then pass dbgport/client-output
else fail dbgport/client-output "client: $CLIENT"; fi

# A port outside 1-65535 is a usage error.
krun -- -g 0 -m 64M -o boot.kernel="$GUESTS/io.elf" dbg-bad
expect_status dbgport/bad-port 64
