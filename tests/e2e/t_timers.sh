#!/bin/bash
# Interval timers (setitimer) and POSIX timers (timer_create) survive a
# checkpoint taken by ckpt_save() and a restart with their remaining time:
# the same timer ids (with a gap left by a deleted one), clocks
# (CLOCK_MONOTONIC, CLOCK_REALTIME), notifications (signal and
# sigev_value; process-wide, SIGEV_THREAD_ID to another thread,
# SIGEV_NONE), intervals, and the time left at the checkpoint — the time
# between the checkpoint and the restart does not count; a timer created
# but never armed stays disarmed, ITIMER_REAL and ITIMER_VIRTUAL keep
# value and interval.  The original checks after CKPT_SAVED that the
# checkpoint left its timers alone; the copy ckpt-restart makes after the
# original exited compares /proc/self/timers entry by entry, timer_gettime
# and getitimer with what they were before the checkpoint, waits for the
# signals and checks that none came early, and creates one more timer
# (progs/timers.c).  ckpt-info lists the 6 timers of the image.
. "$(dirname "$0")/lib.sh"

IMG=$TMP/timers.img
shim "$PROGS/timers" "$IMG" > "$TMP/out" 2>&1
rc=$?
grep -q '^SAVED' "$TMP/out" && grep -q '^ALL OK' "$TMP/out" ||
	fail "original (rc $rc): $(cat "$TMP/out")"
[ $rc -eq 0 ] || fail "original: rc $rc: $(cat "$TMP/out")"
[ -f "$IMG" ] || fail "no image $IMG: $(cat "$TMP/out")"
pid=$(sed -n 's/^ARMED .* pid \([0-9]*\) .*/\1/p' "$TMP/out")
[ -n "$pid" ] && wait_for 20 gone "$pid" || fail "the original ($pid) is still there"

"$BIN/ckpt-info" "$IMG" > "$TMP/info" 2>&1 || fail "ckpt-info rc $?: $(cat "$TMP/info")"
grep -qx 'timers (6):' "$TMP/info" ||
	fail "ckpt-info has no line 'timers (6):' (t0 t2 t3 t4, ITIMER_REAL, ITIMER_VIRTUAL): $(
		grep -A8 '^timers' "$TMP/info" || { echo "no timers section; its sections:"; grep '^[a-z].*):$' "$TMP/info"; })"

# Not a synchronisation: a gap between the checkpoint and the restart,
# longer than the 50 ms the program allows a signal to come early, so that
# a restart which counted that time (or re-armed at the original absolute
# expiry) is caught.
sleep 0.5

clean_fds "${RESTART[@]}" "$IMG" > "$TMP/out2" 2>&1
rc=$?
grep -q '^RESTORED' "$TMP/out2" && grep -q '^ALL OK' "$TMP/out2" ||
	fail "restarted (rc $rc): $(cat "$TMP/out2")"
[ $rc -eq 0 ] || fail "restarted: rc $rc: $(cat "$TMP/out2")"
exit 0
