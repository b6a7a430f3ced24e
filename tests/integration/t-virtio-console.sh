#!/usr/bin/env bash
# t-virtio-console: vcon.elf drives a multiport virtio-console whose ports
# are Unix sockets (bhyve's "-s S,virtio-console,NAME=PATH,..."; the first
# port is port 0).  A client here connects to a port's socket; the guest
# waits for PORT_OPEN, sends "hello from vcon port N", and echoes back the
# line the client sends.  Sockets live on tmpfs ($_tmp: /dev/shm, or
# /tmp), never on the nested VM's 9p share, which refuses them.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/vcon.elf" ] || { fail build "no $GUESTS/vcon.elf (make guests)"; exit 1; }
PY=$(command -v python3) || { fail python "python3 is needed for the socket client"; exit 1; }

CLIENT=""
# con NAME SOCKET CMDLINE khyve-args...: khyve in the background, a client
# on SOCKET; afterwards $OUT/$ERR/$STATUS as krun, $CLIENT the client's
# report.
con() {
	local name=$1 sock=$2 cmd=$3 pid
	shift 3
	rm -f "$_tmp"/*.sock
	timeout -k 5 120 "$KHYVE" -c 1 -m 64M -l com1,stdio -l pc-testdev "$@" \
	    -o boot.kernel="$GUESTS/vcon.elf" -o boot.cmdline="$cmd" "vcon-$name" \
	    </dev/null >"$_tmp/out" 2>"$_tmp/err" &
	pid=$!
	CLIENT=$("$PY" - "$sock" <<'PYEOF' 2>&1
import socket, sys, time
path = sys.argv[1]
s = None
for i in range(900):  # the socket appears once khyve built the device
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        break
    except OSError:
        s.close()
        s = None
        time.sleep(0.1)
if s is None:
    print("client: no socket at", path)
    sys.exit(1)
s.settimeout(90)
def line():
    b = b''
    while not b.endswith(b'\n'):
        c = s.recv(1)
        if not c:
            break
        b += c
    return b.decode(errors='replace').rstrip('\n')
print("client: got '%s'" % line())
s.sendall(b"ping from host 4711\n")
print("client: got '%s'" % line())
PYEOF
)
	wait "$pid"
	STATUS=$?
	OUT=$(tr -d '\r' <"$_tmp/out")
	ERR=$(tr -d '\r' <"$_tmp/err")
}
expect_client() {
	if printf '%s\n' "$CLIENT" | grep -Eq -- "$2"; then pass "$1"; else
		fail "$1" "client output lacks /$2/"; printf '%s\n' "$CLIENT" | sed 's/^/    client| /' >&2; fi
}

# Port 1 (the second socket) through the modern transport, port 0 through
# the legacy one.
for c in "modern khyveb 1 b" "legacy khyvea 0 a" "transitional khyveb 1 b"; do
	set -- $c
	tr=$1 pname=$2 pn=$3 which=$4
	drv=$tr
	[ "$tr" = transitional ] && drv=auto
	con "$tr" "$_tmp/con-$which.sock" "name=$pname transport=$drv" \
	    -s 5,virtio-console,khyvea="$_tmp/con-a.sock",khyveb="$_tmp/con-b.sock",transport="$tr"
	expect_status "$tr/status" 33
	expect_out "$tr/announced" "^vcon: control id $pn event 7 value 1 name $pname\$"
	expect_out "$tr/open" "^vcon: port $pn open "
	expect_out "$tr/received" "^vcon: received 'ping from host 4711'\$"
	expect_out "$tr/ok" '^vcon ok$'
	expect_client "$tr/hello" "^client: got 'hello from vcon port $pn'\$"
	expect_client "$tr/echo" "^client: got 'echo: ping from host 4711'\$"
done

krun -- -c 1 -m 64M -l com1,stdio -s 5,virtio-console,khyvea="$_tmp/x.sock",transport=bogus \
    -o boot.kernel="$GUESTS/vcon.elf" vm
expect_status bad-transport/status 64
krun -- -c 1 -m 64M -l com1,stdio -s 5,virtio-console,khyvea="$_tmp/no-such-dir/x.sock" \
    -o boot.kernel="$GUESTS/vcon.elf" vm
case $STATUS in 0|1|2|3|33|124) fail bad-path/status "exit status $STATUS" ;; *) pass bad-path/status ;; esac
expect_err bad-path/message 'no-such-dir'
