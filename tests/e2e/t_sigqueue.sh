#!/bin/bash
# Pending signals keep their siginfo and their queue across a checkpoint
# taken by ckpt_save() from the main thread and from another thread: three
# queued instances of a real-time signal with their values, a real-time
# signal pending both on a thread and process-wide, signals directed to a
# thread (pthread_sigqueue, pthread_kill) apart from the process's, and
# si_code/si_pid/si_uid (SI_QUEUE, SI_TKILL, SI_USER from a child's kill).
# Checked in the original once ckpt_save() returned CKPT_SAVED, and in the
# copy ckpt-restart makes after the original exited: each thread dequeues
# its signals with sigtimedwait and compares them, one by one, in order
# (progs/sigqueue.c).
. "$(dirname "$0")/lib.sh"

for mode in main worker; do
	shim "$PROGS/sigqueue" "$TMP/$mode.img" $mode > "$TMP/$mode.out" 2>&1
	rc=$?
	grep -q '^SAVED' "$TMP/$mode.out" && grep -q '^ALL OK' "$TMP/$mode.out" ||
		fail "$mode saves, original (rc $rc): $(cat "$TMP/$mode.out")"
	[ $rc -eq 0 ] || fail "$mode saves, original: rc $rc: $(cat "$TMP/$mode.out")"
	[ -f "$TMP/$mode.img" ] || fail "$mode saves: no image"
	pid=$(sed -n 's/^QUEUED pid \([0-9]*\).*/\1/p' "$TMP/$mode.out")
	[ -n "$pid" ] && wait_for 20 gone "$pid" || fail "$mode saves: the original ($pid) is still there"
	clean_fds "${RESTART[@]}" "$TMP/$mode.img" > "$TMP/$mode.out2" 2>&1
	rc=$?
	grep -q '^RESTORED' "$TMP/$mode.out2" && grep -q '^ALL OK' "$TMP/$mode.out2" ||
		fail "$mode saves, restarted (rc $rc): $(cat "$TMP/$mode.out2")"
	[ $rc -eq 0 ] || fail "$mode saves, restarted: rc $rc: $(cat "$TMP/$mode.out2")"
done
exit 0
