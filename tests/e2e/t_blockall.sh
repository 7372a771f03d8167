#!/bin/bash
# t_blockall.sh - threads that block every signal, libckpt's too (they
# never park): with the kernel-assist module loaded (/dev/ckpt-assist)
# libckpt stops them through the kernel (libckpt/ckpt_kstop.c); without
# it the checkpoint is refused, naming the thread and the module.
# With the module (tests/kernel/module.list runs this in the 6.1 VM):
#   timer     a SIGEV_THREAD POSIX timer (glibc's helper thread): saved,
#             SIGKILL, restarted: it keeps firing, the helper's mask full
#   keep      the same, but the original goes on after its checkpoint
#   mq        mq_notify with SIGEV_THREAD, fired once before the
#             checkpoint: the restarted copy registers again and is
#             notified through the restored helper thread and netlink socket
#   pending   a SIGEV_THREAD registration still pending at the checkpoint:
#             refused by name (the kernel keeps its cookie)
#   raw       threads that blocked every signal with rt_sigprocmask, in a
#             blocking read, a futex wait and a busy loop: restarted, each
#             goes on, its mask still full
#   map       raw into a mappable image (ckpt-save --mappable)
#   exit      the timer case with ckpt-save --exit: the process ends
#             after its image, which restarts
# A kernel that cannot make a POSIX timer with its id (6.1 without the
# module's TIMER_ID) refuses the timer restarts: said in the last line.
# Without the module: the timer case is refused after 10 s with the
# thread and the module named.
. "$(dirname "$0")/lib.sh"
P=$PROGS/blockall
N=ckpt-blockall-$$
trap 'rm -f "/dev/mqueue/$N"; cleanup' EXIT

start() {
	CASE=$1 GO=$TMP/go.$1 OUT=$TMP/$1.out IMG=$TMP/$1.img
	shift
	shim "$P" "$@" "$GO" > "$OUT" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$OUT" '^READY|^FAIL'
	grep -q '^READY' "$OUT" || fail "$CASE: $(cat "$OUT")"
}
save() {
	"$BIN/ckpt-save" "$@" "$PID" "$IMG" > "$TMP/$CASE.save" 2>&1 ||
		fail "$CASE: ckpt-save rc $?: $(cat "$TMP/$CASE.save")"
}
# finish: SIGKILL, restart, GO: the copy must say OK
finish() {
	kill9 "$PID"
	restart_bg "$IMG" > "$OUT.2" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "$CASE: not restarted: $(cat "$OUT.2")"
	PIDS+=("$PID")
	touch "$GO"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^OK' "$OUT.2" || fail "$CASE: restarted copy (rc $rc): $(cat "$OUT.2")"
}

if [ ! -c /dev/ckpt-assist ]; then
	start timer timer
	"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/timer.save" 2>&1
	rc=$?
	[ $rc -eq 5 ] && grep -q "thread [0-9]* did not stop for the checkpoint within 10 s: it blocks libckpt's signal" "$TMP/timer.save" &&
		grep -q "with the kernel-assist module loaded (/dev/ckpt-assist) libckpt stops such a thread itself" "$TMP/timer.save" &&
		[ ! -e "$IMG" ] || fail "no module: ckpt-save rc $rc: $(cat "$TMP/timer.save")"
	touch "$GO"
	wait "$PID" && grep -q '^OK' "$OUT" || fail "no module: the original after the refusal: $(cat "$OUT")"
	echo "no module: refused by name (the rest needs /dev/ckpt-assist)"
	exit 0
fi

# --- raw: read, futex, busy loop with every signal blocked ---
start raw raw
save
finish

# --- map: the same into a mappable image ---
start map raw
save --mappable
finish

# --- mq: mq_notify SIGEV_THREAD, no registration pending ---
start mq mq "$N"
save
finish

# --- pending: a SIGEV_THREAD registration pending at the checkpoint ---
start pending mq-pending "$N"
"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/pending.save" 2>&1
rc=$?
[ $rc -eq 5 ] && grep -q "registered for its notifications with SIGEV_THREAD (mq_notify)" "$TMP/pending.save" &&
	[ ! -e "$IMG" ] || fail "pending: ckpt-save rc $rc: $(cat "$TMP/pending.save")"
touch "$GO"
wait "$PID" && grep -q '^OK' "$OUT" || fail "pending: the original after the refusal: $(cat "$OUT")"

# --- keep: the original goes on after its checkpoint ---
start keep timer
save
touch "$GO"
wait "$PID"
rc=$?
[ $rc -eq 0 ] && grep -q '^OK' "$OUT" || fail "keep: the original after its checkpoint (rc $rc): $(cat "$OUT")"

# A kernel without PR_TIMER_CREATE_RESTORE_IDS (6.1) cannot make a POSIX
# timer with its id again unless the module's TIMER_ID does: said, not failed.
no_ids() { grep -q "PR_TIMER_CREATE_RESTORE_IDS" "$OUT.2"; }
notes=""

# --- timer: SIGEV_THREAD, saved, SIGKILL, restarted ---
start timer timer
save
kill9 "$PID"
restart_bg "$IMG" > "$OUT.2" 2>&1
wait_for 20 test -d "/proc/$PID" || no_ids || fail "timer: not restarted: $(cat "$OUT.2")"
if no_ids; then
	notes="$notes; timer: restart refused on $(uname -r) (timer ids need PR_TIMER_CREATE_RESTORE_IDS or the module's TIMER_ID)"
	wait "$RPID"
else
	PIDS+=("$PID")
	touch "$GO"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^OK' "$OUT.2" || fail "timer: restarted copy (rc $rc): $(cat "$OUT.2")"
fi

# --- exit: ckpt-save --exit, then restart ---
start exit timer
save --exit
wait_for 20 gone "$PID" || fail "exit: the process did not end after --exit"
restart_bg "$IMG" > "$OUT.2" 2>&1
wait_for 20 test -d "/proc/$PID" || no_ids || fail "exit: not restarted: $(cat "$OUT.2")"
if no_ids; then
	wait "$RPID"
else
	PIDS+=("$PID")
	touch "$GO"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^OK' "$OUT.2" || fail "exit: restarted copy (rc $rc): $(cat "$OUT.2")"
fi
echo "raw, map, mq, pending, keep, timer, exit: passed$notes"
