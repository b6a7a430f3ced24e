# lib.sh - helpers for guest tests (sourced by tests/integration/t-*.sh).
#
#   krun [--timeout S] [--stdin FILE] -- ARGS...
#       Run khyve with ARGS (no VM name added: pass it).  Afterwards
#       $OUT holds stdout (the guest's COM1 when -l com1,stdio), $ERR
#       stderr, $STATUS the exit status (124 on timeout).
#   expect_status NAME N        PASS if $STATUS == N
#   expect_out NAME REGEX       PASS if $OUT matches (grep -E)
#   expect_err NAME REGEX       PASS if $ERR matches
#   expect_no_out NAME REGEX    PASS if $OUT does not match
#   pass NAME / fail NAME WHY / skip NAME WHY
#
# khyve in the background (for tests that signal it or look at it while
# it runs); stdout and stderr go to files, $PID is khyve's pid:
#   bg_start NAME ARGS...       start khyve ARGS... NAME
#   bg_wait_out REGEX SECONDS   0 once stdout matches REGEX (grep -E);
#                               1 if khyve ended or SECONDS passed first
#   bg_wait SECONDS             wait for khyve to end (SIGKILL after
#                               SECONDS: $STATUS 124); sets OUT, ERR, STATUS
#   bg_stop SIGNAL SECONDS      send SIGNAL, then bg_wait SECONDS
# Test names are prefixed with the script's name, e.g. "hello/status".
# On failure the last run's output is shown, indented, to help debugging.

: "${KHYVE:=build/khyve}" "${GUESTS:=build/guests}"
T=$(basename "$0" .sh); T=${T#t-}
OUT="" ERR="" STATUS=""
_tmp=$(mktemp -d -p "$([ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")"); trap 'rm -rf "$_tmp"' EXIT

pass() { echo "PASS $T/$1"; }
skip() { echo "SKIP $T/$1: $2"; }
fail() {
	echo "FAIL $T/$1: $2"
	{ echo "    --- khyve status $STATUS, stdout:"; printf '%s\n' "$OUT" | tail -n 20 | sed 's/^/    | /'
	  echo "    --- stderr:"; printf '%s\n' "$ERR" | tail -n 20 | sed 's/^/    | /'; } >&2
}

krun() {
	local to=60 in=/dev/null
	while [ $# -gt 0 ]; do
		case $1 in
		--timeout) to=$2; shift 2 ;;
		--stdin) in=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	timeout -k 5 "$to" "$KHYVE" "$@" <"$in" >"$_tmp/out" 2>"$_tmp/err"
	STATUS=$?
	OUT=$(tr -d '\r' <"$_tmp/out")
	ERR=$(tr -d '\r' <"$_tmp/err")
}

expect_status() {
	if [ "$STATUS" = "$2" ]; then pass "$1"; else fail "$1" "exit status $STATUS, expected $2"; fi
}
expect_out() {
	if printf '%s\n' "$OUT" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "stdout lacks /$2/"; fi
}
expect_no_out() {
	if printf '%s\n' "$OUT" | grep -Eq -- "$2"; then fail "$1" "stdout has /$2/"; else pass "$1"; fi
}
expect_err() {
	if printf '%s\n' "$ERR" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "stderr lacks /$2/"; fi
}

bg_start() {
	local name=$1; shift
	"$KHYVE" "$@" "$name" </dev/null >"$_tmp/out" 2>"$_tmp/err" &
	PID=$!
}
bg_wait_out() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		grep -Eq -- "$1" "$_tmp/out" 2>/dev/null && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
bg_wait() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID"
		wait "$PID" 2>/dev/null
		STATUS=124
	else
		wait "$PID"
		STATUS=$?
	fi
	OUT=$(tr -d '\r' <"$_tmp/out")
	ERR=$(tr -d '\r' <"$_tmp/err")
}
bg_stop() {
	kill -"$1" "$PID" 2>/dev/null
	bg_wait "$2"
}
