#!/bin/bash
# run.sh - `make check-kernel`: boots Debian's own kernel (linux-image-amd64,
# 6.1 on Debian 12) under qemu (TCG: no KVM here) and runs tests inside it:
#   e2e     tests/kernel/e2e.list: the e2e tests that fit the time, without
#           the module (what the kernel alone gives libckpt)
#   module  the kernel-assist module (kernel-assist/module/, built here
#           against linux-headers-amd64) insmod'ed, tests/kernel/module.list,
#           then rmmod: it must unload
# The VM's root is the host's / (9p, read-only; tmpfs on /tmp and the
# other places tests write), so the worktree's build and Debian's programs
# are there at the same paths.  An Oops panics the VM (oops=panic): the
# run stops there and fails, instead of testing a broken kernel.
# Prints one line per test, "kernel: N passed, N failed, N skipped" and
# "N passed, N failed"; exits non-zero on any failure, on a VM that did not
# finish (timeout, panic, qemu that cannot start) and on any BUG, Oops,
# WARNING or general protection fault in the kernel's log.
#
# Environment: CKVM_KVER (default: the version linux-image-amd64 depends
# on), CKVM_E2E_LIST / CKVM_MODULE_LIST (files), CKVM_PHASES ("e2e module"),
# CKVM_TIMEOUT (the whole VM, s; default 2100), CKVM_TEST_TIMEOUT (one test,
# s; 150), CKVM_SMP (2), CKVM_MEM (MiB; 2048), CKVM_ROOTFS (ro|overlay),
# CKVM_OUT (build/kernel: the VM's files, serial.log among them),
# CKVM_9P_CACHE (loose|none|mmap: how the VM caches the host's files).
# `tests/kernel/run.sh tests/e2e/t_x.sh ...` runs only those tests (no
# module phase unless CKVM_PHASES says so).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
OUT=${CKVM_OUT:-$ROOT/build/kernel}
mkdir -p "$OUT"
die() { echo "check-kernel: FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }

# -- the kernel: Debian's, by the version linux-image-amd64 depends on
kver=${CKVM_KVER:-}
if [ -z "$kver" ]; then
	kver=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		grep -o 'linux-image-[^ ,]*' | head -1 | sed 's/^linux-image-//')
fi
[ -n "$kver" ] || die "no Debian kernel: linux-image-amd64 is not installed (bash tools/deps-kernel.sh)"
vmlinuz=/boot/vmlinuz-$kver
[ -r "$vmlinuz" ] || die "no $vmlinuz"
command -v qemu-system-x86_64 > /dev/null || die "no qemu-system-x86_64 (bash tools/deps-kernel.sh)"

# The uncompressed vmlinux boots in half the time (no decompression under
# TCG); qemu boots it through its PVH entry.  Extracted once per kernel.
kernel=$ROOT/build/kernel/vmlinux-$kver
mkdir -p "$ROOT/build/kernel"
if [ ! -s "$kernel" ] || [ "$vmlinuz" -nt "$kernel" ]; then
	rm -f "$kernel"
	for off in $(LC_ALL=C grep -aboP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1); do
		tail -c +$((off + 1)) "$vmlinuz" | xz -dcq > "$kernel.tmp" 2>/dev/null
		if [ "$(head -c 4 "$kernel.tmp" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; then
			mv "$kernel.tmp" "$kernel"; break
		fi
	done
	rm -f "$kernel.tmp"
fi
[ -s "$kernel" ] || { echo "check-kernel: cannot extract vmlinux from $vmlinuz: booting it compressed"; kernel=$vmlinuz; }

# -- the module, when kernel-assist/module/ has a Kbuild (built in a copy
# under build/: an out-of-tree build writes next to its sources)
module="" module_why=""
if [ -f kernel-assist/module/Kbuild ]; then
	hdr=/usr/src/linux-headers-$kver
	[ -d "$hdr" ] || die "no $hdr (bash tools/deps-kernel.sh installs linux-headers-amd64)"
	rm -rf "$OUT/module"; mkdir -p "$OUT/module"
	# the sources only (what git tracks or would), not a build left there
	git ls-files -co --exclude-standard kernel-assist/module | cpio -pdm --quiet "$OUT/module.src" 2>/dev/null ||
		{ mkdir -p "$OUT/module.src/kernel-assist" && cp -a kernel-assist/module "$OUT/module.src/kernel-assist/"; }
	cp -a "$OUT/module.src/kernel-assist/module/." "$OUT/module/"; rm -rf "$OUT/module.src"
	echo "check-kernel: building the module against $hdr"
	if ! make -s -C "$hdr" M="$OUT/module" modules > "$OUT/module.log" 2>&1; then
		cat "$OUT/module.log"; die "the module does not build ($OUT/module.log)"
	fi
	module=$(ls "$OUT"/module/*.ko 2>/dev/null | head -1)
	[ -n "$module" ] || die "the module build made no .ko"
else
	module_why="kernel-assist/module/ has no Kbuild"
fi

# -- the tests
phases=${CKVM_PHASES:-e2e module}
e2e_list=${CKVM_E2E_LIST:-$ROOT/tests/kernel/e2e.list}
if [ $# -gt 0 ]; then
	e2e_list=$OUT/args.list
	printf '%s\n' "$@" > "$e2e_list"
	phases=${CKVM_PHASES:-e2e}
fi
for f in "$e2e_list" "${CKVM_MODULE_LIST:-$ROOT/tests/kernel/module.list}"; do
	[ -f "$f" ] || die "no test list $f"
done
for t in $(sed 's/#.*//' "$e2e_list" | awk '{print $1}'); do
	[ -f "$t" ] || die "$e2e_list names $t, which does not exist"
done
for l in build/bin/ckpt-restart build/libckpt.so build/tests/reaper; do
	[ -e "$l" ] || die "no $l: run make first"
done
# The VM sees the host's / but has its own /tmp: the lists go under build/.
cp "$e2e_list" "$OUT/e2e.list.run" 2>/dev/null || true
cp "${CKVM_MODULE_LIST:-$ROOT/tests/kernel/module.list}" "$OUT/module.list.run"
cat > "$OUT/vm.conf" <<CONF
CKVM_PHASES="$phases"
CKVM_E2E_LIST="$OUT/e2e.list.run"
CKVM_MODULE_LIST="$OUT/module.list.run"
CKVM_MODULE="$module"
CKVM_MODULE_WHY="$module_why"
CKVM_MODULE_ARGS="${CKVM_MODULE_ARGS:-}"
CKVM_TEST_TIMEOUT=${CKVM_TEST_TIMEOUT:-150}
CKVM_ROOTFS=${CKVM_ROOTFS:-ro}
CONF

log=$OUT/serial.log
initrd=$OUT/initramfs.cpio.gz
bash tests/kernel/mkinitramfs.sh "$kver" "$initrd" || die "cannot build the initramfs"

# -- boot
timeout_s=${CKVM_TIMEOUT:-2100}
echo "check-kernel: booting $kernel ($kver) under qemu TCG, -smp ${CKVM_SMP:-2}, limit ${timeout_s}s; serial log: $log"
start=$(date +%s)
# qemu's own errors go to the log too: a qemu that cannot start fails below
qemu_in=/dev/null qemu_show=(grep --line-buffered -E '^ckvm: |^ {8}')
# the shell phase: the console is this terminal (run.sh's stdin and stdout)
[[ " $phases " == *" shell "* ]] && { qemu_in=/dev/stdin qemu_show=(cat); timeout_s=86400; }
timeout -k 10 "$timeout_s" qemu-system-x86_64 -accel tcg -smp "${CKVM_SMP:-2}" -m "${CKVM_MEM:-2048}" \
	-cpu max -display none -monitor none -serial stdio -no-reboot \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=5 panic=-1 oops=panic ckvm.root=$ROOT ckvm.conf=$OUT/vm.conf ckvm.rootfs=${CKVM_ROOTFS:-ro} ckvm.cache=${CKVM_9P_CACHE:-loose}" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	< "$qemu_in" 2>&1 | tee "$log" | "${qemu_show[@]}"
qrc=${PIPESTATUS[0]}
wall=$(($(date +%s) - start))

# -- the verdict, from the serial log alone: one section per phase
echo
echo "== check-kernel report ($kver, qemu TCG -smp ${CKVM_SMP:-2}; log: $log)"
pass=0 fail=0 skip=0
section() {	# section PHASE TITLE [LIST]: the phase's lines; LIST's tests without one FAIL
	local lines t n
	lines=$(grep -aE "^ckvm: (PASS|FAIL|SKIP) $1/" "$log")
	echo "-- $2"
	for n in $( [ -n "${3:-}" ] && sed 's/#.*//' "$3" |
		awk 'NF { n = $1; sub(/.*\//, "", n); sub(/\.sh$/, "", n)
			for (i = 2; i <= NF; i++) if ($i ~ /^as=/) n = n "@" substr($i, 4)
			print n }'); do
		echo "$lines" | grep -qE "^ckvm: (PASS|FAIL|SKIP) $1/$n " ||
			lines="$lines${lines:+
}ckvm: FAIL $1/$n: did not run (the VM stopped before it)"
	done
	[ -z "$lines" ] && { echo "  (nothing ran)"; return; }
	echo "$lines" | sed -E 's/^ckvm: (PASS|FAIL|SKIP) /  \1  /'
	pass=$((pass + $(echo "$lines" | grep -c '^ckvm: PASS ')))
	fail=$((fail + $(echo "$lines" | grep -c '^ckvm: FAIL ')))
	skip=$((skip + $(echo "$lines" | grep -c '^ckvm: SKIP ')))
}
for ph in $phases; do
	case $ph in
	e2e) section e2e "(a) e2e tests on $kver without the module ($(basename "$e2e_list"))" "$OUT/e2e.list.run" ;;
	module) section module "(b) with the module loaded (tests/kernel/module.list), (c) its unload" \
		"$( [ -n "$module" ] && echo "$OUT/module.list.run")" ;;
	*) section "$ph" "$ph" ;;
	esac
done
echo "-- the VM and the kernel's log"
vmfail=""
if ! grep -aq '^ckvm: done' "$log"; then
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		vmfail="the VM did not finish within ${timeout_s}s (CKVM_TIMEOUT); qemu killed"
	elif grep -aq '^ckvm: FATAL' "$log"; then
		vmfail=$(grep -a -m1 '^ckvm: FATAL' "$log")
	elif grep -aq 'Kernel panic' "$log"; then
		vmfail="kernel panic: $(grep -a -m1 'Kernel panic' "$log")"
	elif ! grep -aq '^ckvm: booted' "$log"; then
		vmfail="the VM did not boot (qemu rc $qrc): $(grep -av '^\s*$' "$log" | tail -3 | tr '\n' ' ')"
	else
		vmfail="the VM stopped before the end (qemu rc $qrc)"
	fi
fi
if [ -n "$vmfail" ]; then
	echo "  FAIL  vm: $vmfail"; fail=$((fail + 1))
else
	echo "  PASS  vm: booted, ran every phase, powered off"; pass=$((pass + 1))
fi
# Kernel lines only ("[  12.345678] ..." on the console, "dmesg: [...]"
# from guest.sh): a test's own output may say BUG or WARNING.
klog=$(grep -aE '^(dmesg: )?\[ *[0-9]+\.[0-9]+\]' "$log" | grep -aE 'BUG|Oops|WARNING|general protection' | sort -u)
if ! grep -aq '^ckvm: booted' "$log"; then
	:	# no kernel ran far enough to judge its log (the VM's FAIL says why)
elif [ -n "$klog" ]; then
	echo "  FAIL  kernel log: BUG, Oops, WARNING or general protection:"
	echo "$klog" | head -20 | sed 's/^/        /'
	fail=$((fail + 1))
else
	echo "  PASS  kernel log: no BUG, Oops, WARNING, general protection"; pass=$((pass + 1))
fi
boot=$(sed -n 's/^ckvm: booted .* in \([0-9.]*\) s.*/\1/p' "$log")
if [ $# -eq 0 ] && [[ " $phases " == *" e2e "* ]]; then
	left=""
	for t in tests/e2e/t_*.sh; do
		grep -qE "^[[:space:]]*$t([[:space:]]|#|$)" "$e2e_list" || left="$left $(basename "$t" .sh)"
	done
	[ -n "$left" ] && echo "check-kernel: e2e tests left out (time under TCG; docs/TESTING.md):$left"
fi
echo "check-kernel: VM wall ${wall}s (kernel boot to the test runner ${boot:-?}s); phases:" \
	$(sed -n 's/^ckvm: phase \([a-z0-9]*\) \(begin\|end\) (\([0-9.]*\))/\1 \2 \3/p' "$log" | awk '$2=="begin"{b[$1]=$3} $2=="end"{printf "%s %.0fs ", $1, $3-b[$1]}')
echo "kernel: $pass passed, $fail failed, $skip skipped"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
