#!/usr/bin/env bash
# Run every guest test script (tests/integration/t-*.sh).  Each prints its
# own PASS/FAIL/SKIP lines; see lib.sh.
cd "$(dirname "$0")/../.."
st=0
for t in tests/integration/t-*.sh; do
	[ -e "$t" ] || continue
	bash "$t" || st=1
done
exit $st
