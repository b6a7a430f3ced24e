#!/usr/bin/env bash
# t-virtio-blk: vblk.elf drives virtio-blk through the legacy and the
# modern transport (and a transitional device either way): capacity,
# reads of a pattern written here, a multi-descriptor read, a write that
# must land in the host file (checked with cmp afterwards), flush, GET_ID
# (ser=), an unknown request type, read-only disks, MSI-X interrupts, MSI
# (-W) and polling without interrupts.  Bad device options exit 64.
. "$(dirname "$0")/lib.sh"

img=$_tmp/disk.img
orig=$_tmp/orig.img
# Sector k (0..7): "khyve sect %04u\n" 32 times; the rest zero; 1 MiB.
mkimg() {
	local k i
	for k in 0 1 2 3 4 5 6 7; do
		for i in $(seq 32); do printf 'khyve sect %04u\n' "$k"; done
	done >"$img"
	truncate -s 1M "$img"
	cp "$img" "$orig"
}
# sector_is NAME N WORD: sector N of the image is "khyve WORD %04u\n" x 32.
sector_is() {
	local want=$_tmp/want i
	for i in $(seq 32); do printf "khyve $3 %04u\n" "$2"; done >"$want"
	if dd if="$img" bs=512 skip="$2" count=1 status=none | cmp -s - "$want"; then
		pass "$1"
	else
		fail "$1" "sector $2 of the host file: $(dd if="$img" bs=512 skip="$2" count=1 status=none | od -c | head -2 | tr -s ' ' | tr '\n' ' ')"
	fi
}
# only_sector_changed NAME N: the image equals the original but for sector N.
# (Temporary files, not <(...): the nested VM may have no /dev/fd.)
only_sector_changed() {
	local a=$_tmp/cmp-a b=$_tmp/cmp-b
	cp "$img" "$a"
	cp "$orig" "$b"
	dd if="$orig" of="$a" bs=512 skip="$2" seek="$2" count=1 conv=notrunc status=none
	if cmp -s "$a" "$b"; then
		pass "$1"
	else
		fail "$1" "the host file changed outside sector $2"
	fi
}
expect_any() {
	if printf '%s\n%s\n' "$OUT" "$ERR" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "no output matches /$2/"; fi
}
expect_status_not() {
	case " $3 " in *" $STATUS "*) fail "$1" "exit status $STATUS" ;; *) pass "$1" ;; esac
}

[ -c /dev/kvm ] || { skip vm "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/vblk.elf" ] || { fail build "no $GUESTS/vblk.elf (make guests)"; exit 1; }

# ---- bad device options: exit 64 with a message, nothing runs ----
mkimg
bad() { # NAME REGEX -s-argument
	krun -- -c 1 -m 64M -l com1,stdio -l pc-testdev -s "$3" \
	    -o boot.kernel="$GUESTS/vblk.elf" vm
	expect_status "bad/$1/status" 64
	expect_err "bad/$1/message" "$2"
	expect_no_out "bad/$1/no-guest" 'vblk'
}
bad no-path 'virtio-blk|path' 4,virtio-blk
bad transport 'bogus' 4,virtio-blk,"$img",transport=bogus
bad sectorsize '513' 4,virtio-blk,"$img",sectorsize=513

vblk() { # NAME CMDLINE khyve-args...
	local name=$1 cmd=$2
	shift 2
	krun --timeout 120 -- -c 1 -m 64M -l com1,stdio -l pc-testdev "$@" \
	    -o boot.kernel="$GUESTS/vblk.elf" -o boot.cmdline="capacity=2048 $cmd" "vblk-$name"
}

krun -- -c 1 -m 64M -l com1,stdio -s 4,virtio-blk,"$_tmp/no-such-disk.img" \
    -o boot.kernel="$GUESTS/vblk.elf" vm
expect_status_not bad/missing-file/status "0 1 2 3 33 124"
expect_err bad/missing-file/message 'no-such-disk'

# name  device transport  guest transport  sector
for c in "legacy legacy legacy 9" "modern modern modern 10" \
    "trans-modern transitional modern 11" "trans-legacy transitional legacy 12"; do
	set -- $c
	name=$1 dev=$2 drv=$3 sec=$4
	mkimg
	vblk "$name" "transport=$drv sector=$sec" -s 4,virtio-blk,"$img",transport="$dev"
	expect_status "$name/status" 33
	expect_out "$name/transport" "^vblk: 00:04\\.0 1af4:.* transport $drv irq msix "
	expect_out "$name/capacity" '^vblk: capacity 2048 '
	expect_out "$name/read" "^vblk: read sector 0: status 0 used 513 'khyve sect 0000'"
	expect_out "$name/write" "^vblk: write sector $sec: status 0\$"
	expect_out "$name/flush" '^vblk: flush: status 0$'
	expect_out "$name/ok" '^vblk ok$'
	sector_is "$name/host-file" "$sec" wrot
	only_sector_changed "$name/host-file-rest" "$sec"
done

# Read-only: VIRTIO_BLK_F_RO, writes fail with IOERR, the file is intact.
mkimg
vblk ro "ro sector=9" -s 4,virtio-blk,"$img",ro
expect_status ro/status 33
expect_out ro/feature '^vblk: capacity 2048 .* ro 1 '
expect_out ro/write-fails '^vblk: write sector 9: status 1$'
expect_out ro/ok '^vblk ok$'
if cmp -s "$img" "$orig"; then pass ro/host-file; else fail ro/host-file "a read-only disk changed"; fi

# GET_ID returns the configured serial.
mkimg
vblk serial "id=KHYVE-T1 transport=modern" -s 4,virtio-blk,"$img",ser=KHYVE-T1,transport=modern
expect_status serial/status 33
expect_out serial/id "^vblk: get_id: status 0 id 'KHYVE-T1'\$"

# -W: one MSI vector instead of MSI-X; and no interrupts at all (polling).
mkimg
vblk msi "irq=msi sector=13" -W -s 4,virtio-blk,"$img"
expect_status msi/status 33
expect_out msi/irq ' irq msi '
expect_out msi/ok '^vblk ok$'
sector_is msi/host-file 13 wrot
mkimg
vblk poll "irq=none transport=legacy sector=14" -s 4,virtio-blk,"$img"
expect_status poll/status 33
expect_out poll/ok '^vblk ok$'
sector_is poll/host-file 14 wrot
