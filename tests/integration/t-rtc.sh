#!/usr/bin/env bash
# t-rtc: the guest reads the MC146818 RTC.  With -u it keeps UTC and must
# match the host's clock within a couple of seconds; without -u it keeps
# local time (bhyve's default), checked with TZ set to a fixed offset.
# Also the CMOS memory-size bytes bhyve sets.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/rtc.elf" ] || { fail build "no $GUESTS/rtc.elf (make guests)"; exit 1; }

# check NAME OFFSET-SECONDS: the guest time minus OFFSET lies within the
# run's [start - 2, end + 2] (host UTC seconds).
check() {
	local line g
	expect_status "$1/status" 33
	line=$(printf '%s\n' "$OUT" | sed -n 's/^rtc \([0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]\)$/\1/p' | head -n 1)
	if [ -z "$line" ]; then
		fail "$1/time" "no 'rtc YYYY-MM-DD HH:MM:SS' line"
		return
	fi
	g=$(date -u -d "$line" +%s 2>/dev/null) || { fail "$1/time" "bad date '$line'"; return; }
	g=$((g - $2))
	if [ "$g" -ge $((t0 - 2)) ] && [ "$g" -le $((t1 + 2)) ]; then
		pass "$1/time"
	else
		fail "$1/time" "guest says '$line' (offset $2 s), host ran $(date -u -d "@$t0" '+%F %T')..$(date -u -d "@$t1" '+%T') UTC"
	fi
}

t0=$(date -u +%s)
krun -- -u -c 1 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/rtc.elf" rtc-utc
t1=$(date -u +%s)
check utc 0
expect_out utc/cmos '^cmos 70:( [0-9a-f]{2}){16}$'
# bhyve's CMOS memory size: 0x34/0x35 = 64 KiB units above 16 MiB (48 MiB)
expect_out utc/cmos-memsize '^cmos 30:( [0-9a-f]{2}){4} 00 03( [0-9a-f]{2}){10}$'

# POSIX TZ "KHY-5" is UTC+5 without needing tzdata.
t0=$(date -u +%s)
TZ=KHY-5 krun -- -c 1 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/rtc.elf" rtc-local
t1=$(date -u +%s)
check localtime $((5 * 3600))
