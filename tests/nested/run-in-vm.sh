#!/bin/bash
# run-in-vm.sh [--timeout SECS] [--smp N] [--mem MB] [--host-tmp] [-v] -- CMD [ARGS...]
#
# Runs CMD where /dev/kvm works. If this machine has a working /dev/kvm, CMD
# just runs here. Otherwise CMD runs inside a throw-away Linux VM emulated by
# QEMU TCG with an AMD CPU that has SVM, so the VM's kvm_amd loads and gives
# it a /dev/kvm (nested KVM on TCG: slow, but real KVM).
#
# The VM sees the host's whole root filesystem over virtio-9p and chroots into
# it, so CMD, the repo, built binaries and libraries are at the same paths;
# CMD starts in the caller's working directory with the caller's environment
# and stdin from /dev/null. /tmp and /run in the VM are private, empty tmpfs
# (fast, and unix sockets and fifos work there but not on the 9p share);
# --host-tmp shares the host's /tmp over 9p instead.
# CMD's stdout and stderr stream to ours; our exit status is CMD's, 124 on
# timeout, 125 if the VM itself failed.
#
# Environment knobs (mostly for debugging):
#   KHYVE_NESTED_BUILD   build/cache dir (default: $REPO/build/nested)
#   KHYVE_NESTED_KERNEL  kernel version under /lib/modules (default: newest)
#   KHYVE_NESTED_CPU     QEMU -cpu model (default: max)
#   KHYVE_NESTED_9P_CACHE  9p cache mode (default: loose; mmap is coherent
#                        with concurrent host changes but 2-3x slower)
#   KHYVE_NESTED_APPEND  extra kernel command line parameters
#   KHYVE_NESTED_QEMU_ARGS  extra QEMU options (split on spaces)
#   KHYVE_NESTED_FORCE_VM=1  use the VM even if /dev/kvm works here
#   KHYVE_NESTED_KEEP=1  keep the run dir (job script, VM console log)
#
# Needs (Debian): qemu-system-x86 linux-image-amd64 busybox-static cpio gcc.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${KHYVE_NESTED_BUILD:-$repo/build/nested}

timeout=900 smp=2 mem=1536 verbose=0 host_tmp=0
# A checkout under /tmp (CI may clone there) must be visible in the VM,
# whose own /tmp is otherwise a private tmpfs.
case "$(cd "$(dirname "$0")/../.." && pwd -P)/" in /tmp/*) host_tmp=1 ;; esac
usage() { sed -n '2p' "$0" | sed 's/^# /usage: /' >&2; exit 2; }
while (($#)); do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--host-tmp) host_tmp=1; shift ;;
	-v | --verbose) verbose=1; shift ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
(($#)) || usage

say() { echo "run-in-vm: $*" >&2; }
mkdir -p "$build"

# kvmcheck doubles as our "does /dev/kvm really work" probe, here and in the VM.
kvmcheck=$build/kvmcheck
if [[ ! -x $kvmcheck || $here/kvmcheck.c -nt $kvmcheck ]]; then
	gcc -O2 -Wall -o "$kvmcheck.tmp" "$here/kvmcheck.c" && mv "$kvmcheck.tmp" "$kvmcheck"
fi
if [[ ${KHYVE_NESTED_FORCE_VM:-0} != 1 && -c /dev/kvm ]] && "$kvmcheck" >/dev/null 2>&1; then
	exec "$@"
fi

command -v qemu-system-x86_64 >/dev/null || { say "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"; exit 125; }

# --- the initramfs: busybox, the modules for 9p + virtio + kvm_amd, /init ---

kver=${KHYVE_NESTED_KERNEL:-}
if [[ -z $kver ]]; then
	for v in $(cd /lib/modules && printf '%s\n' * | sort -V); do
		[[ -e /boot/vmlinuz-$v ]] && modprobe -S "$v" -n kvm_amd 2>/dev/null && kver=$v
	done
fi
kernel=/boot/vmlinuz-$kver
[[ -n $kver && -r $kernel ]] || { say "no kernel with kvm_amd found (apt-get install linux-image-amd64)"; exit 125; }
busybox=$(command -v busybox) || { say "busybox missing (apt-get install busybox-static)"; exit 125; }
! ldd "$busybox" >/dev/null 2>&1 || { say "$busybox is not static (apt-get install busybox-static)"; exit 125; }

# virtio_console gives the extra serial ports for CMD's stdout/stderr.
top_modules="virtio_pci virtio_console 9pnet_virtio 9p kvm_amd"
# Module files in load order, each once.
module_paths=$(for m in $top_modules; do modprobe -S "$kver" --show-depends "$m"; done |
	awk '$1 == "insmod" && !seen[$2]++ { print $2 }')

initramfs=$build/initramfs-$kver.cpio.gz
key=$({
	echo "$kver $top_modules"
	sha256sum "$here/init" "$busybox"
	stat -c '%n %s %Y' $module_paths
} | sha256sum | cut -d' ' -f1)
if [[ ! -e $initramfs || $(cat "$initramfs.key" 2>/dev/null) != "$key" ]]; then
	say "building $initramfs"
	root=$(mktemp -d "$build/initramfs.XXXXXX")
	mkdir -p "$root"/{bin,dev,proc,sys,modules}
	cp "$busybox" "$root/bin/busybox"
	for applet in $("$busybox" --list); do [[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"; done
	cp "$here/init" "$root/init"
	chmod 755 "$root/init"
	for p in $module_paths; do
		ko=$(basename "$p")
		# busybox insmod cannot read compressed modules.
		case $ko in
		*.xz) xz -dc "$p" >"$root/modules/${ko%.xz}"; ko=${ko%.xz} ;;
		*.zst) zstd -qdc "$p" >"$root/modules/${ko%.zst}"; ko=${ko%.zst} ;;
		*.gz) gzip -dc "$p" >"$root/modules/${ko%.gz}"; ko=${ko%.gz} ;;
		*) cp "$p" "$root/modules/$ko" ;;
		esac
		echo "$ko" >>"$root/modules.list"
	done
	tmp=$(mktemp "$initramfs.XXXXXX")
	(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$tmp"
	rm -rf "$root"
	mv "$tmp" "$initramfs"
	echo "$key" >"$initramfs.key"
fi

# --- one run: job script + env in a run dir the VM sees at the same path ---

run=$(mktemp -d "$build/run.XXXXXX")
qpid='' wdpid='' catpids=()
cleanup() {
	[[ -n $qpid ]] && kill "$qpid" 2>/dev/null
	[[ -n $wdpid ]] && kill "$wdpid" 2>/dev/null
	((${#catpids[@]})) && kill "${catpids[@]}" 2>/dev/null
	if [[ ${KHYVE_NESTED_KEEP:-0} == 1 ]]; then say "kept $run"; else rm -rf "$run"; fi
}
trap cleanup EXIT

env -0 >"$run/env"
{
	echo '#!/bin/bash'
	echo '# Generated by run-in-vm.sh; runs chrooted in the VM.'
	echo "while IFS= read -r -d '' kv; do export \"\$kv\" 2>/dev/null; done <$(printf %q "$run/env")"
	echo "cd $(printf %q "$PWD") || { echo 'run-in-vm: (under /tmp? try --host-tmp)' >&2; exit 125; }"
	echo "read -r up _ </proc/uptime; echo \$up >$(printf %q "$run/uptime.start")"
	echo "$(printf %q "$kvmcheck") >/dev/null || { echo 'run-in-vm: /dev/kvm in the VM does not work' >&2; exit 125; }"
	printf '%q ' "$@"
	echo
	echo 'rc=$?'
	echo "read -r up _ </proc/uptime; echo \$up >$(printf %q "$run/uptime.end")"
	echo 'exit $rc'
} >"$run/job.sh"

# QEMU's "pipe" chardev writes NAME.out and (not) reads NAME.in. We hold the
# fifos open read-write ourselves so the cats see EOF only when both QEMU
# and we are done, even if QEMU never got to open them.
mkfifo "$run"/{out,err}.{in,out}
cat "$run/out.out" & catpids+=($!)
cat "$run/err.out" >&2 & catpids+=($!)
exec 3<>"$run/out.out" 4<>"$run/err.out"

cpu=${KHYVE_NESTED_CPU:-max}
# Commas are QEMU option syntax, not array separators.
# shellcheck disable=SC2054
qemu=(
	qemu-system-x86_64
	-accel tcg,thread=multi
	-cpu "$cpu" -smp "$smp" -m "$mem"
	-nographic -nodefaults -no-reboot
	-serial "file:$run/console.log"
	-kernel "$kernel" -initrd "$initramfs"
	-append "console=ttyS0 quiet panic=-1 khyve_run=$run khyve_host_tmp=$host_tmp khyve_9p_cache=${KHYVE_NESTED_9P_CACHE:-loose} ${KHYVE_NESTED_APPEND:-}"
	# multidevs=remap: the host root spans several filesystems.
	-fsdev "local,id=hostroot,path=/,security_model=passthrough,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-device virtio-serial-pci,id=vser
	-chardev "pipe,id=out,path=$run/out" -device virtserialport,bus=vser.0,chardev=out,name=khyve.stdout
	-chardev "pipe,id=err,path=$run/err" -device virtserialport,bus=vser.0,chardev=err,name=khyve.stderr
	-chardev "file,id=alive,path=$run/alive" -device virtserialport,bus=vser.0,chardev=alive,name=khyve.alive
)
# Word splitting wanted: extra QEMU options for experiments.
# shellcheck disable=SC2206
qemu+=(${KHYVE_NESTED_QEMU_ARGS:-})
start=$(date +%s.%N)
timeout -k 10 "$timeout" "${qemu[@]}" </dev/null 3>&- 4>&- &
qpid=$!
# The watchdog: /init writes a byte to $run/alive every 5 s. A VM that boots
# to no heartbeat within boot_grace, or whose heartbeat then stops for
# silence seconds, has frozen; kill it so the caller sees "the VM failed"
# (125) at once rather than after the whole time-out.
boot_grace=${KHYVE_NESTED_BOOT_GRACE:-600} silence=${KHYVE_NESTED_SILENCE:-150}
# A VM can also freeze by halves: one CPU stuck (its kernel logs RCU
# stalls or soft lockups on the console) while the other still beats.
# Whatever ran on the stuck CPU never finishes, so a stall report still
# there after `silence` seconds counts as frozen too.
(
	die() {
		echo "$1" >"$run/frozen"
		pkill -KILL -P "$qpid" 2>/dev/null
		kill -KILL "$qpid" 2>/dev/null
		exit 0
	}
	last=0 since=$SECONDS limit=$boot_grace stall=0
	while sleep 5; do
		if ((stall == 0)) && grep -Eq 'rcu_preempt detected stalls|rcu_preempt self-detected stall|soft lockup' "$run/console.log" 2>/dev/null; then
			stall=$SECONDS
		fi
		if ((stall != 0 && SECONDS - stall > silence)); then
			die "a CPU stalled (its kernel reported an RCU stall or soft lockup $((SECONDS - stall)) s ago)"
		fi
		n=$(stat -c %s "$run/alive" 2>/dev/null || echo 0)
		if ((n != last)); then last=$n since=$SECONDS limit=$silence; continue; fi
		((SECONDS - since > limit)) && die "no heartbeat for $((SECONDS - since)) s"
	done
) </dev/null >/dev/null 2>&1 3>&- 4>&- &
wdpid=$!
interrupted=0
trap 'interrupted=1; kill "$qpid" 2>/dev/null' INT TERM HUP
while :; do
	rc=0
	wait "$qpid" || rc=$?
	# A trapped signal interrupts wait before QEMU is gone.
	kill -0 "$qpid" 2>/dev/null || break
done
qpid=
kill -KILL "$wdpid" 2>/dev/null || true; wait "$wdpid" 2>/dev/null || true; wdpid=
end=$(date +%s.%N)
exec 3>&- 4>&-
wait "${catpids[@]}" || true
catpids=()

if ((interrupted)); then
	say "interrupted"
	exit 130
elif [[ -s $run/frozen ]]; then
	say "the VM froze: $(cat "$run/frozen"); killed it; end of its console:"
	tail -n 40 "$run/console.log" >&2
	exit 125
elif ((rc == 124)); then
	say "timed out after $timeout s"
	exit 124
elif [[ ! -s $run/status ]]; then
	say "the VM failed (qemu exit status $rc); end of its console:"
	tail -n 40 "$run/console.log" >&2
	exit 125
fi
if ((verbose)) && [[ -s $run/uptime.start && -s $run/uptime.end ]]; then
	awk -v s="$(cat "$run/uptime.start")" -v e="$(cat "$run/uptime.end")" -v w0="$start" -v w1="$end" \
		'BEGIN { printf "run-in-vm: kernel boot to chroot %.1f s, command %.1f s, wall total %.1f s (incl. qemu start/stop)\n", s, e - s, w1 - w0 }' >&2
fi
exit "$(cat "$run/status")"
