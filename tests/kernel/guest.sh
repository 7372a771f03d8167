#!/bin/bash
# guest.sh ROOT CONF - pid 1 of the test VM (tests/kernel/init hands over to it
# once the host's / is the VM's root).  Sets up what a Debian system has
# at boot (devpts, /dev/shm, /tmp, cgroup2, loopback), then runs the
# phases written in CONF (run.sh's vm.conf) and prints one line per test
# for the host (tests/kernel/run.sh parses them from the serial log):
#   ckvm: PASS|FAIL|SKIP PHASE/NAME ...
# and "ckvm: done" at the end, then powers the VM off.
ROOT=$1 CONF=${2:-$1/build/kernel/vm.conf}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
# timers.c: a signal may come this much before its time after RESTORED
# (emulation makes the restorer's arming-to-running gap hundreds of ms)
export CKPT_E2E_MARGIN_MS=400
# t_ckpt_slurm: the job must outlast the test's emulated shell
export CKPT_E2E_SLURM_STEPS=400
# t_thr_avx: the threads' register loops must outlast a checkpoint's signals
export CKPT_E2E_AVX_SECS=5
cd "$ROOT" || { echo "ckvm: FATAL: no $ROOT"; /bin/busybox poweroff -f; }
uptime_s() { local u _; read -r u _ < /proc/uptime; echo "$u"; }
say() { echo "ckvm: $*"; }
off() { sync; /bin/busybox poweroff -f || echo o > /proc/sysrq-trigger; sleep 30; }
trap off EXIT

mkdir -p /dev/pts /dev/shm /dev/mqueue
# what udev adds to a devtmpfs (bash's <(...) needs /dev/fd)
ln -sfn /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
ln -sf /proc/kcore /dev/core
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t mqueue mqueue /dev/mqueue
# /tmp and /run: init's already where the root is read-only (and a
# worktree under /tmp is bound inside it: mounting again would hide it)
mountpoint -q /tmp || mount -t tmpfs -o mode=1777 tmp /tmp
mountpoint -q /run || mount -t tmpfs -o mode=755 run /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ip link set lo up 2>/dev/null || /bin/busybox ip link set lo up
hostname ckvm

# shellcheck source=/dev/null
. "$CONF" || { say "FATAL: no $CONF"; exit 1; }
say "booted $(uname -r) in $(uptime_s) s; nproc $(nproc); rootfs ${CKVM_ROOTFS:-?}"

# run_test PHASE SCRIPT [as=USER]: one test, under the subreaper and a
# time limit; exit 0 pass, 77 skip (the reason on a "SKIP:" line).
run_test() {
	local phase=$1 t=$2 user="" name out rc start ms secs
	shift 2
	for a in "$@"; do case $a in as=*) user=${a#as=} ;; esac; done
	name=$(basename "$t" .sh)
	[ -n "$user" ] && name="$name@$user"
	local cmd=(timeout -k 5 "${CKVM_TEST_TIMEOUT:-150}" "$ROOT/build/tests/reaper" bash "$t")
	if [ -n "$user" ]; then
		cmd=(setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --init-groups "${cmd[@]}")
	fi
	start=$(date +%s%N)
	out=$("${cmd[@]}" < /dev/null 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	secs=$((ms / 1000)).$((ms % 1000 / 100))
	if [ $rc -eq 0 ]; then
		say "PASS $phase/$name (${secs}s)"
	elif [ $rc -eq 77 ]; then
		say "SKIP $phase/$name (${secs}s): $(echo "$out" | grep SKIP: | tail -1)"
	else
		[ $rc -eq 124 ] && out="$out
timed out after ${CKVM_TEST_TIMEOUT:-150} s"
		say "FAIL $phase/$name (rc $rc, ${secs}s): $(echo "$out" | grep -E 'FAIL|rror|timed out' | tail -1)"
		echo "$out" | tail -20 | sed 's/^/        /'
	fi
}

# run_list PHASE FILE: every test of FILE (one "SCRIPT [as=USER]" a line;
# "#" comments and blank lines skipped).
run_list() {
	local phase=$1 list=$2 line
	[ -f "$list" ] || { say "FAIL $phase/list: no $list"; return; }
	while read -r line; do
		line=${line%%#*}
		[ -z "${line// /}" ] && continue
		# shellcheck disable=SC2086
		run_test "$phase" $line
	done < "$list"
}

phase_start() { say "phase $1 begin ($(uptime_s))"; }
phase_end() { say "phase $1 end ($(uptime_s))"; }

for ph in ${CKVM_PHASES:-e2e module}; do
	case $ph in
	e2e)
		phase_start e2e
		run_list e2e "$CKVM_E2E_LIST"
		phase_end e2e
		;;
	module)
		phase_start module
		if [ -z "${CKVM_MODULE:-}" ]; then
			say "SKIP module/all: not built (${CKVM_MODULE_WHY:-no module})"
		elif ! out=$(insmod "$CKVM_MODULE" ${CKVM_MODULE_ARGS:-} 2>&1); then
			say "FAIL module/insmod: $out"
		else
			say "PASS module/insmod ($(basename "$CKVM_MODULE"))"
			run_list module "$CKVM_MODULE_LIST"
			mod=$(basename "$CKVM_MODULE" .ko)
			if out=$(rmmod "$mod" 2>&1); then
				if grep -q "^$mod " /proc/modules; then
					say "FAIL module/rmmod: $mod still in /proc/modules"
				elif [ -e /dev/ckpt-assist ]; then
					say "FAIL module/rmmod: /dev/ckpt-assist still there"
				else
					say "PASS module/rmmod"
				fi
			else
				say "FAIL module/rmmod: $out"
			fi
		fi
		phase_end module
		;;
	shell)	# by hand: CKVM_PHASES="shell" bash tests/kernel/run.sh
		say "shell: root shell on the console; exit it to power off"
		setsid -c bash -i < /dev/ttyS0 > /dev/ttyS0 2>&1
		;;
	*) say "FAIL $ph/phase: unknown phase" ;;
	esac
done
# Warnings printed before the console's level let them through: the host
# greps this too (BUG, Oops, WARNING, general protection).
say "dmesg begin"
dmesg --level=emerg,alert,crit,err,warn 2>/dev/null | sed 's/^/dmesg: /'
say "dmesg end"
say "done"
