#!/usr/bin/env bash
# Run each fuzz target briefly on its seed corpus: fuzz-smoke.sh TARGET...
# (what `make fuzz-smoke` passes).  Prints "PASS fuzz-NAME" or
# "FAIL fuzz-NAME: why" per target; exits 1 if any failed.  Each target
# gets FUZZ_SECS seconds (default 1; libFuzzer adds about 1.4 s of start
# and stop to each) and at most FUZZ_RUNS inputs, so the
# whole run stays under a minute.  New inputs go to a scratch directory,
# never into the committed corpus; a crashing input is kept as
# build/fuzz/crash-NAME-* (replay it: build/fuzz/NAME_fuzz FILE).
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECS:-1}
runs=${FUZZ_RUNS:-200000}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail=0
for t in "$@"; do
	bin=build/fuzz/${t}_fuzz
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz-$t: $bin not built"
		fail=1
		continue
	fi
	mkdir -p "$scratch/$t"
	# close_fd_mask=3: the product's own messages go nowhere; libFuzzer
	# and the sanitizers still report on a copy of stderr.
	if nice -n 10 "$bin" -max_total_time="$secs" -runs="$runs" -timeout=10 \
	    -rss_limit_mb=2048 -close_fd_mask=3 -print_final_stats=0 \
	    -artifact_prefix="build/fuzz/crash-$t-" \
	    "$scratch/$t" "fuzz/corpus/$t" >"$scratch/$t.log" 2>&1; then
		echo "PASS fuzz-$t"
	else
		echo "FAIL fuzz-$t: crashed, see below"
		grep -E 'ERROR|SUMMARY|#0 |#1 |#2 |Test unit written' "$scratch/$t.log" | head -20
		fail=1
	fi
done
exit $fail
