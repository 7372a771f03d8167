#!/bin/bash
# t_mod_ioctl.sh - the kernel-assist module's calls on their own (in the
# VM, module loaded, as root): every wrong argument gets its error (sizes,
# reserved fields, flags, pids, pids in use, stacks, TLS), as root, as a
# user the policy does not list and as one it lists; CLONE makes a
# process and a thread with the pids asked for, and neither keeps a
# capability its caller lacks; TIMER_ID gives timer_create its id.
# Leaves the policy as it found it.  The kernel log is checked by the
# harness (no BUG, Oops, WARNING).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
prog=$ROOT/build/tests/modioctl
par=/sys/module/ckpt_assist/parameters
[ -c /dev/ckpt-assist ] || { echo "SKIP: no /dev/ckpt-assist (module not loaded)"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (sets the module's policy)"; exit 77; }
fail=0
run() {	# run WHAT CMD...: the checks' lines, FAIL if any failed
	local what=$1 out rc
	shift
	out=$("$@" 2>&1); rc=$?
	echo "$out" | sed "s/^/  [$what] /"
	[ $rc -eq 0 ] || { echo "FAIL: $what: exit $rc"; fail=1; }
}
uid=$(id -u nobody) gid=$(id -g nobody)
as_nobody() { setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }
saved_uids=$(cat $par/clone_uids) saved_gids=$(cat $par/clone_gids)
restore() { echo "${saved_uids:-}" > $par/clone_uids; echo "${saved_gids:-}" > $par/clone_gids; }
trap restore EXIT

# sysfs: only root may write the policy, and the device is 0666
[ "$(stat -c %a /dev/ckpt-assist)" = 666 ] || { echo "FAIL: /dev/ckpt-assist mode $(stat -c %a /dev/ckpt-assist)"; fail=1; }
[ "$(stat -c %a $par/clone_uids)" = 644 ] || { echo "FAIL: clone_uids mode $(stat -c %a $par/clone_uids)"; fail=1; }
if as_nobody sh -c "echo $uid > $par/clone_uids" 2>/dev/null; then
	echo "FAIL: nobody could write the policy"; fail=1
fi

echo "" > $par/clone_uids; echo "" > $par/clone_gids
run root "$prog" bad listed
run unlisted as_nobody "$prog" bad unlisted
# a group the policy lists, as a supplementary group
echo 4242 > $par/clone_gids
run "gid listed" setpriv --reuid="$uid" --regid="$gid" --groups=4242 "$prog" bad listed
echo "" > $par/clone_gids
echo "$uid" > $par/clone_uids
run listed as_nobody "$prog" bad listed
pid=$(( $(sh -c 'echo $$') + 5000 ))
run "listed clone" as_nobody "$prog" clone "$pid"
run "root clone" "$prog" clone $((pid + 10))
# the range: below pid_min is refused even for a listed user
old_min=$(cat $par/pid_min)
echo $((pid + 100)) > $par/pid_min
out=$(as_nobody "$prog" clone "$pid" 2>&1)
echo "$out" | grep -q "FAIL CLONE process: got Operation not permitted" ||
	{ echo "FAIL: a pid below pid_min was not refused: $out"; fail=1; }
echo "$old_min" > $par/pid_min
run timer as_nobody "$prog" timer
[ $fail -eq 0 ] && echo "PASS: t_mod_ioctl"
exit $fail
