#!/usr/bin/env bash
# Run guest test scripts: the ones named (paths), or every
# tests/integration/t-*.sh.  Each prints its own PASS/FAIL/SKIP lines (see
# lib.sh); around each, "== start t-NAME.sh" and "== done t-NAME.sh" let
# tests/run tell which scripts finished if the test VM itself dies.
cd "$(dirname "$0")/../.."
st=0
[ $# -gt 0 ] || set -- tests/integration/t-*.sh
for t in "$@"; do
	[ -e "$t" ] || continue
	echo "== start ${t##*/}"
	bash "$t" || st=1
	echo "== done ${t##*/}"
done
exit $st
