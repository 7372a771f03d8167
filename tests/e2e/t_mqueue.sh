#!/bin/bash
# POSIX message queues survive checkpoint, SIGKILL and restart
# (tests/e2e/progs/posixipc.c mq: a queue opened twice, O_RDWR and
# O_WRONLY|O_NONBLOCK, with six messages of several priorities, a
# notification registered while it holds them; a queue unlinked while
# open; an empty queue with a notification registered):
#   keep     checkpointed, not killed: the original still has every
#            message in order (the checkpoint takes them and puts them
#            back) and its registration
#   reboot   the queues are gone (mq_unlink): made again with their
#            attributes, mode, messages, priorities and registrations
#   crash    the queues are still there, another process sent to one:
#            reused (same inode), emptied, filled with the saved messages
#   taken    another queue has the name: refused, exit 4, naming it
#   thread   a SIGEV_THREAD registration: the checkpoint is refused by name
#            (glibc's helper thread, which never parks)
#   other    another process is registered for a queue's notifications:
#            refused, naming it
#   raw      a registration made by a raw system call (its sigev_value
#            unknown): refused
#   ipcns    `ckpt-run --ipcns` as an unprivileged user: the queues are in
#            the program's own IPC namespace, and the restart's new one
. "$(dirname "$0")/lib.sh"
P=$PROGS/posixipc
N=ckpt-mq-$$
trap 'for c in keep reboot crash taken thread other raw ipcns; do "$P" rm "$N-$c" 2>/dev/null; done; cleanup' EXIT

# start CASE [mq|mq-thread]: runs the program (PID), waits for READY
start() {
	CASE=$1 GO=$TMP/go.$1 OUT=$TMP/$1.out IMG=$TMP/$1.img
	shim "$P" "${2:-mq}" "$N-$1" "$GO" > "$OUT" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$OUT" '^READY|^setup'
	grep -q '^READY' "$OUT" || fail "$CASE: $(cat "$OUT")"
}
save() {
	"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/$CASE.save" 2>&1 ||
		fail "$CASE: ckpt-save rc $?: $(cat "$TMP/$CASE.save")"
}
# finish: restarts the image, the copy checks everything
finish() {
	"${RESTART[@]}" --check "$IMG" > "$TMP/$CASE.check" 2>&1 ||
		fail "$CASE: --check rc $?: $(cat "$TMP/$CASE.check")"
	restart_bg "$IMG" > "$OUT.2" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "$CASE: not restarted: $(cat "$OUT.2")"
	PIDS+=("$PID")
	touch "$GO"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^OK' "$OUT.2" || fail "$CASE: restarted copy (rc $rc): $(cat "$OUT.2")"
}

# --- keep: the original, after its checkpoint ---
start keep
save
touch "$GO"
wait "$PID"
rc=$?
[ $rc -eq 0 ] && grep -q '^OK' "$OUT" || fail "keep: the original after its checkpoint (rc $rc): $(cat "$OUT")"
"$BIN/ckpt-info" "$IMG" > "$TMP/keep.info" || fail "keep: ckpt-info rc $?"
grep -A1 "mqueue  /$N-keep  flags O_RDWR" "$TMP/keep.info" | grep -q "POSIX message queue, mode 640, owner $(id -u):$(id -g), at most 8 messages of 128 bytes; 6 messages, 10 bytes; notifies with signal 12, value 55" &&
	grep -A1 "mqueue  /$N-keep  flags O_WRONLY|O_NONBLOCK" "$TMP/keep.info" | grep -q "the same queue as file" &&
	grep -A1 "mqueue  /$N-keep-gone (deleted)" "$TMP/keep.info" | grep -q "2 messages, 10 bytes" ||
	fail "keep: ckpt-info: $(grep -A1 mqueue "$TMP/keep.info")"
"$BIN/ckpt-info" --json "$IMG" > "$TMP/keep.json" || fail "keep: ckpt-info --json rc $?"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
q=[f for f in d["files"] if f["kind"] == "mqueue" and f["same_as"] == 0 and f["path"] == sys.argv[2]][0]
assert [(m["prio"], m["text"]) for m in q["messages"]] == [(9, "d9"), (5, "b5"), (5, "e5"), (1, "a1"), (1, "c1"), (0, "")], q
assert q["notify"] == 0 and q["signal"] == 12 and q["sigval"] == 55, q' "$TMP/keep.json" "/$N-keep" 2> "$TMP/json.err" ||
	fail "keep: ckpt-info --json: $(cat "$TMP/json.err")"

# --- reboot: the queues are gone ---
start reboot
save
kill9 "$PID"
"$P" rm "$N-reboot" || fail "reboot: cannot unlink the queues"
finish

# --- crash: still there, and another process sent to one meanwhile ---
start crash
save
kill9 "$PID"
"$P" add "$N-crash" || fail "crash: cannot send to the queue"
finish

# --- taken: another queue under the name ---
start taken
save
kill9 "$PID"
"$P" take "$N-taken" || fail "taken: cannot make another queue"
"${RESTART[@]}" "$IMG" > "$TMP/taken.out2" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q "POSIX message queue /$N-taken exists and is not the one saved" "$TMP/taken.out2" &&
	grep -q "mq_unlink, or rm /dev/mqueue/$N-taken" "$TMP/taken.out2" ||
	fail "taken: rc $rc, want 4 and the queue named: $(cat "$TMP/taken.out2")"
[ -d "/proc/$PID" ] && fail "taken: the process runs"

# --- thread: SIGEV_THREAD ---
start thread mq-thread
"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/thread.save" 2>&1
rc=$?
# glibc's helper thread blocks every signal: named when it does not park
# (after 10 s); a registration made with SIGEV_THREAD by hand is named by
# fds/fd_mqueue.c
[ $rc -eq 5 ] && grep -q "glibc's thread for SIGEV_THREAD timers and mq_notify blocks every signal" "$TMP/thread.save" &&
	[ ! -e "$IMG" ] || fail "thread: ckpt-save rc $rc: $(cat "$TMP/thread.save")"
kill9 "$PID"

# --- other: another process is registered; raw: registered behind libc's back ---
# refuse_open CASE WANT [raw]: the program opens /N-CASE (and registers raw); refused with WANT
refuse_open() {
	GO=$TMP/go.$1
	shim "$P" open "$N-$1" "$GO" ${3:-} > "$TMP/$1.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$1.out" '^READY|^setup'
	grep -q '^READY' "$TMP/$1.out" || fail "$1: $(cat "$TMP/$1.out")"
	"$BIN/ckpt-save" "$PID" "$TMP/$1.img" > "$TMP/$1.save" 2>&1
	rc=$?
	[ $rc -eq 5 ] && grep -qF "$2" "$TMP/$1.save" && [ ! -e "$TMP/$1.img" ] ||
		fail "$1: ckpt-save rc $rc, want 5 and \"$2\": $(cat "$TMP/$1.save")"
	touch "$GO"
	wait "$PID"
}
shim "$P" hold "$N-other" "$TMP/go.other" > "$TMP/hold.out" 2>&1 &
HOLD=$!
PIDS+=("$HOLD")
wait_line "$TMP/hold.out" '^READY|^setup'
grep -q '^READY' "$TMP/hold.out" || fail "other: $(cat "$TMP/hold.out")"
refuse_open other "POSIX message queue /$N-other: process $HOLD is registered for its notifications (mq_notify); a restart could not register it again"
wait "$HOLD"
"$P" take "$N-raw" || fail "raw: cannot make the queue"
refuse_open raw "POSIX message queue /$N-raw: the process registered for its notifications behind libc's back (no mq_notify() call seen), so its sigev_value is unknown" raw
"$P" rm "$N-other"
"$P" rm "$N-raw"

# --- ipcns: an unprivileged user's program in its own IPC namespace ---
unpriv_user
as_user test -x "$BIN/ckpt-run" -a -x "$BIN/ckpt-restart" -a -x "$P" -a -r "$LIB" ||
	skip "the build tree is not readable by $U"
as_user unshare --user --pid --ipc --mount --fork true 2> "$TMP/unshare" ||
	skip "$U cannot create a user+pid+IPC namespace here: $(cat "$TMP/unshare")"
UD=$TMP/u
mkdir "$UD"
chown "$uid:$gid" "$UD"
CASE=ipcns GO=$UD/go OUT=$TMP/ipcns.out IMG=$UD/ipcns.img
as_user "$BIN/ckpt-run" --ipcns "$P" mq "$N-ipcns" "$GO" > "$OUT" 2>&1 &
RUN=$!
PIDS+=("$RUN")
wait_line "$OUT" '^READY|^setup'
grep -q '^READY' "$OUT" || fail "$CASE: $(cat "$OUT")"
program_of "$RUN"
"$P" exists "$N-ipcns" && fail "$CASE: the queue is in the host's IPC namespace"
as_user "$BIN/ckpt-save" "$PROG" "$IMG" > "$TMP/ipcns.save" 2>&1 || fail "$CASE: ckpt-save: $(cat "$TMP/ipcns.save")"
kill -9 "$RUN"
wait "$RUN" 2> /dev/null
wait_for 20 gone "$PROG" || fail "$CASE: the program outlived ckpt-run"
as_user "${RESTART[@]}" "$IMG" > "$OUT.2" 2>&1 &
RPID=$!
PIDS+=("$RPID")
program_of "$RPID"
"$P" exists "$N-ipcns" && fail "$CASE: the restart made the queue in the host's IPC namespace"
touch "$GO"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q '^OK' "$OUT.2" || fail "$CASE: restarted copy (rc $rc): $(cat "$OUT.2")"
exit 0
