#!/bin/bash
# t_mod_restart.sh - the unprivileged restart through the kernel-assist
# module alone (in the VM, module loaded; run as root, which sets the
# policy and becomes an unprivileged user for the rest):
#   - a user the policy does not list: ckpt-restart --assist=module and
#     --check refuse, saying the policy does not list the uid; auto and
#     upstream refuse too (no CAP_CHECKPOINT_RESTORE);
#   - once listed (clone_uids=): --check says the pids are made through
#     the module, and --assist=module restarts a program with 8 threads
#     (it saved itself, then was killed) with its pid and every tid (each
#     thread checks its own), which then finishes with the result an
#     uninterrupted run computes;
#   - POSIX timers (progs/timers.c) come back with their ids through the
#     module's TIMER_ID (6.1 has no PR_TIMER_CREATE_RESTORE_IDS), as the
#     same user.
# Leaves the policy as it found it.
. "$(dirname "$0")/../e2e/lib.sh"
# wait_for counts 20 ms polls, and under TCG each poll's fork takes
# longer than that: a deadline in seconds instead.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}
par=/sys/module/ckpt_assist/parameters
[ -c /dev/ckpt-assist ] || skip "no /dev/ckpt-assist (module not loaded)"
unpriv_user
saved=$(cat $par/clone_uids) saved_min=$(cat $par/pid_min)
trap 'echo "$saved" > $par/clone_uids; echo "$saved_min" > $par/pid_min; cleanup' EXIT
echo "" > $par/clone_uids || fail "cannot empty clone_uids"
# the VM's pids are low: below the default floor of 300 (t_mod_ioctl tests the range)
echo 2 > $par/pid_min
U_DIR=$TMP/u
mkdir "$U_DIR" && chown "$uid:$gid" "$U_DIR"
IMG=$U_DIR/thr.img

# self: the program saves itself while its 8 workers compute; the
# restarted copy lets them run 50 ms more, then each worker checks its tid
# and TLS and main compares the results with a sequential recomputation
# (a run under TCG stays short: the recomputation is as long as the run)
as_user env LD_PRELOAD="$LIB" "$PROGS/threads" 8 "$IMG" self > "$TMP/t.out" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/t.out" "SAVED|failed" 120
grep -q SAVED "$TMP/t.out" || fail "threads, self: $(cat "$TMP/t.out")"
kill9 "$pid"
echo "threads: started and saved as $U (pid $pid), killed ($SECONDS s)"

# not listed: refused, and the message says why
for a in module auto upstream; do
	out=$(as_user "${RESTART[@]}" --assist=$a "$IMG" 2>&1) && fail "--assist=$a restarted for an unlisted user"
	case $a in
	module) want="does not list uid $uid" ;;
	*) want="CAP_CHECKPOINT_RESTORE" ;;
	esac
	echo "$out" | grep -q "$want" || fail "--assist=$a, unlisted: the message lacks '$want': $out"
	gone "$pid" || fail "--assist=$a, unlisted: pid $pid exists"
done
out=$(as_user "${RESTART[@]}" --check --assist=module "$IMG" 2>&1) && fail "--check passed for an unlisted user: $out"
echo "$out" | grep -q "does not list uid $uid" || fail "--check, unlisted: $out"

echo "unlisted: refused by --assist=module, auto, upstream and --check"

# listed: --check names the module, the restart brings back every tid
echo "$uid" > $par/clone_uids
out=$(as_user "${RESTART[@]}" --check --assist=module "$IMG" 2>&1) || fail "--check, listed: $out"
echo "$out" | grep -q "pids made through the kernel-assist module" || fail "--check does not name the module: $out"
echo "listed: --check names the module"
as_user "${RESTART[@]}" --assist=module "$IMG" > "$TMP/t.out2" 2>&1
rc=$?
grep -q "ALL OK" "$TMP/t.out2" || fail "restarted (rc $rc): $(cat "$TMP/t.out2")"
[ $rc -eq 0 ] || fail "restarted: rc $rc"
echo "listed: restarted with pid $pid and every tid, ALL OK ($SECONDS s)"

# POSIX timers with their ids, through TIMER_ID, as the same user
TIMG=$U_DIR/timers.img
(cd "$U_DIR" && as_user env LD_PRELOAD="$LIB" "$PROGS/timers" "$TIMG") > "$TMP/tm.out" 2>&1
grep -q '^SAVED' "$TMP/tm.out" && [ -f "$TIMG" ] || fail "timers, original: $(cat "$TMP/tm.out")"
tpid=$(sed -n 's/^ARMED .* pid \([0-9]*\) .*/\1/p' "$TMP/tm.out")
wait_for 20 gone "$tpid" || fail "timers: the original is still there"
out=$(as_user "${RESTART[@]}" --check --assist=module "$TIMG" 2>&1) || fail "timers --check: $out"
echo "$out" | grep -q "POSIX timer ids made through the kernel-assist module's TIMER_ID" ||
	fail "timers --check does not name TIMER_ID: $out"
# The restarted copy checks every timer's id, clock, notification, value
# and time left, and that no signal comes early; under TCG the restorer's
# last steps between arming and "RESTORED" take longer than the 50 ms it
# allows: an early signal is reported, not failed (host e2e t_timers
# checks the timing).
timers_ok() {	# timers_ok OUT: restored, and no BAD line but early signals
	local bad
	grep -q '^RESTORED' "$1" || return 1
	bad=$(grep '^BAD' "$1" | grep -v 'expected not before')
	[ -z "$bad" ] || { echo "$bad"; return 1; }
	grep -q '^BAD' "$1" && echo "  (early signals under TCG: $(grep -c '^BAD' "$1"))"
	return 0
}
if grep -q '^ALL OK' "$TMP/tm.out"; then
	sleep 0.5	# as t_timers.sh: the time between checkpoint and restart must not count
	as_user "${RESTART[@]}" --assist=module "$TIMG" > "$TMP/tm.out2" 2>&1
	timers_ok "$TMP/tm.out2" || fail "timers, restarted through TIMER_ID: $(cat "$TMP/tm.out2")"
	echo "timers: restarted as $U with their ids through TIMER_ID"
	# root, --assist=upstream: no module at all, so 6.1's fallback
	# (create and delete until each id) makes them
	out=$("${RESTART[@]}" --check --assist=upstream "$TIMG" 2>&1) || fail "timers --check, upstream: $out"
	echo "$out" | grep -q "POSIX timer ids made through timer_create and timer_delete until" ||
		fail "timers --check, upstream, does not name the fallback: $out"
	clean_fds "${RESTART[@]}" --assist=upstream "$TIMG" > "$TMP/tm.out3" 2>&1
	timers_ok "$TMP/tm.out3" || fail "timers, restarted by root without the module: $(cat "$TMP/tm.out3")"
	echo "timers: restarted by root with --assist=upstream, ids by create/delete"
else
	# progs/timers.c allows its checkpoint 1 s; a slow VM (TCG) takes longer
	echo "timers: restart not run: the original's checkpoint outlasted its 1 s timer: $(grep BAD "$TMP/tm.out" | head -1)"
fi
echo "PASS: t_mod_restart"
exit 0
