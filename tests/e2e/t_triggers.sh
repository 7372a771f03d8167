#!/bin/bash
# Every checkpoint trigger, once each, on a worker whose every step is
# verifiable: ckpt_save() in the program, ckpt-save PID PATH, ckpt-save
# PID - (to a file; restarted from the file and from a pipe),
# CKPT_SIGNAL, CKPT_INTERVAL, CKPT_ON_TERM, ckpt-save --exit.  Each time:
# the image appears complete (no PATH.tmp.* left), the original carries
# on (or exits, for the terminating triggers), is killed, the restarted
# copy has the same pid, makes progress, finishes, and its log is the
# chain an uninterrupted run computes (repeated steps allowed after the
# checkpoint, no step lost).
. "$(dirname "$0")/lib.sh"
W=$PROGS/worker

lines() { wc -l < "$1" 2>/dev/null || echo 0; }
more_than() { [ "$(lines "$1")" -gt "$2" ]; }
# progress LOG: the log grows by 5 lines.
progress() {
	local n
	n=$(lines "$1")
	wait_for 20 more_than "$1" $((n + 5)) || fail "$CASE: no progress in $1 (at $n lines)"
}
no_tmp() {
	local t
	t=$(ls "$1".tmp.* 2>/dev/null)
	[ -z "$t" ] || fail "$CASE: temporary image left: $t"
}
# start CASE [VAR=VALUE...] [-- WORKER ARGS]: the worker under the shim,
# pid in PID, once its log has lines.
start() {
	CASE=$1
	shift
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	LOG=$TMP/$CASE.log STOP=$TMP/$CASE.stop IMG=$TMP/$CASE.img
	env "${envs[@]}" true	# validate
	(export "${envs[@]}"; shim "$W" "$LOG" "$STOP" "$@") > "$TMP/$CASE.out1" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$CASE.out1" '^READY'
	wait_for 20 more_than "$LOG" 5 || fail "$CASE: the worker does not work: $(cat "$TMP/$CASE.out1")"
}
# restart_from IMAGE|- OUT [< input]: ckpt-restart in the background; the
# copy must appear with the original pid.
restart_from() {
	restart_bg "$1" > "$2" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "$CASE: not restarted: $(cat "$2")"
}
# finish OUT NRESTARTS: stop the restarted copy, check its status, pid,
# final result and the whole log.
finish() {
	local out=$1 rc last
	progress "$LOG"
	touch "$STOP"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] || fail "$CASE: restarted copy rc $rc: $(cat "$out")"
	grep -q "^DONE .* $PID\$" "$out" || fail "$CASE: no DONE with pid $PID: $(cat "$out")"
	last=$(tail -1 "$LOG")
	grep -q "^DONE $last $PID\$" "$out" || fail "$CASE: DONE differs from the last log line $last: $(cat "$out")"
	"$W" --check "$LOG" "$2" > "$TMP/$CASE.chain" || fail "$CASE: $(cat "$TMP/$CASE.chain")"
	rm -f "$STOP"
}

# 1. ckpt_save() called by the program itself after step 20
start self -- "$TMP/self.img" 20
wait_line "$TMP/self.out1" '^SELF (SAVED|FAILED)'
grep -q '^SELF SAVED' "$TMP/self.out1" || fail "self: $(cat "$TMP/self.out1")"
[ -f "$TMP/self.img" ] || fail "self: no image"
progress "$LOG"
kill9 "$PID"
restart_from "$TMP/self.img" "$TMP/self.out2"
wait_line "$TMP/self.out2" '^SELF RESTORED'
finish "$TMP/self.out2" 1

# 2. ckpt-save PID PATH
start save
"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/save.msg" 2>&1 || fail "save: ckpt-save rc $?: $(cat "$TMP/save.msg")"
grep -qE "^(ckpt-save: )?$PID saved to $IMG: [0-9.]+ [KMG]?i?B image, .* memory, [0-9.]+ m?s" "$TMP/save.msg" ||
	fail "save: unexpected report: $(cat "$TMP/save.msg")"
[ -f "$IMG" ] || fail "save: no image"
no_tmp "$IMG"
progress "$LOG"				# the original carries on
"$BIN/ckpt-save" --fsync "$PID" "$IMG.2" > "$TMP/save.msg" 2>&1 || fail "save: ckpt-save --fsync rc $?: $(cat "$TMP/save.msg")"
"$BIN/ckpt-info" "$IMG.2" > "$TMP/save.info" 2>&1 || fail "save: ckpt-info on the --fsync image: $(cat "$TMP/save.info")"
progress "$LOG"
kill9 "$PID"
restart_from "$IMG" "$TMP/save.out2"
finish "$TMP/save.out2" 1

# 3. ckpt-save PID - > file; restart from the file, then again from a pipe
start stdout
"$BIN/ckpt-save" "$PID" - > "$TMP/stdout.img" 2> "$TMP/stdout.msg" ||
	fail "stdout: ckpt-save rc $?: $(cat "$TMP/stdout.msg")"
[ "$(head -c 8 "$TMP/stdout.img" | tr -d '\001')" = LIBCKPT ] || fail "stdout: not an image on stdout: $(head -c 64 "$TMP/stdout.img" | od -c | head -3)"
progress "$LOG"
kill9 "$PID"
restart_from "$TMP/stdout.img" "$TMP/stdout.out2"
finish "$TMP/stdout.out2" 1
# root from a pipe: only with --trust-image (docs/SECURITY.md)
cat "$TMP/stdout.img" | clean_fds "${RESTART[@]}" --trust-image - > "$TMP/stdout.out3" 2>&1 &
RPID=$!
PIDS+=("$RPID")
wait_for 20 test -d "/proc/$PID" || fail "stdout: not restarted from a pipe: $(cat "$TMP/stdout.out3")"
finish "$TMP/stdout.out3" 2

# 4. CKPT_SIGNAL
start signal CKPT_SIGNAL=USR1 "CKPT_IMAGE=$TMP/signal.img"
kill -USR1 "$PID"
wait_for 20 test -f "$IMG" || fail "signal: no image: $(cat "$TMP/signal.out1")"
no_tmp "$IMG"
progress "$LOG"
kill9 "$PID"
restart_from "$IMG" "$TMP/signal.out2"
finish "$TMP/signal.out2" 1

# 5. CKPT_INTERVAL=1: the image appears; the restarted copy keeps saving
start interval CKPT_INTERVAL=1 "CKPT_IMAGE=$TMP/interval.img"
wait_for 10 test -f "$IMG" || fail "interval: no image after 10 s: $(cat "$TMP/interval.out1")"
progress "$LOG"
kill9 "$PID"
rm -f "$IMG".tmp.*		# a periodic save the kill may have cut short
id0=$(stat -c '%i %Y.%y' "$IMG")
restart_from "$IMG" "$TMP/interval.out2"
changed() { [ -f "$IMG" ] && [ "$(stat -c '%i %Y.%y' "$IMG")" != "$id0" ]; }
wait_for 10 changed || fail "interval: the restarted copy does not checkpoint every second"
finish "$TMP/interval.out2" 1

# 6. CKPT_ON_TERM: SIGTERM saves, then the process ends by SIGTERM
start term "CKPT_ON_TERM=$TMP/term.img"
kill -TERM "$PID"
wait "$PID"
rc=$?
[ -f "$IMG" ] || fail "term: no image after SIGTERM (rc $rc): $(cat "$TMP/term.out1")"
[ $rc -eq 143 ] || fail "term: the original's status $rc, want 143 (SIGTERM)"
no_tmp "$IMG"
wait_for 20 gone "$PID" || fail "term: pid $PID still there"
restart_from "$IMG" "$TMP/term.out2"
finish "$TMP/term.out2" 1

# 7. ckpt-save --exit: the process ends after the save
start exit
"$BIN/ckpt-save" --exit "$PID" "$IMG" > "$TMP/exit.msg" 2>&1 || fail "exit: ckpt-save --exit rc $?: $(cat "$TMP/exit.msg")"
[ -f "$IMG" ] || fail "exit: no image"
wait_for 20 gone "$PID" || { wait "$PID" 2>/dev/null; wait_for 1 gone "$PID"; } ||
	fail "exit: the process is still running after ckpt-save --exit"
restart_from "$IMG" "$TMP/exit.out2"
finish "$TMP/exit.out2" 1

# 8. ckpt-save on what it cannot checkpoint: exit 6, nothing written, and
# a process without libckpt is not harmed (its default action for the
# control signal would kill it); usage errors: exit 1
CASE=nolib
clean_fds sleep 60 &
spid=$!
PIDS+=("$spid")
wait_for 20 grep -q '^sleep' "/proc/$spid/comm" 2>/dev/null || fail "nolib: sleep did not start"
"$BIN/ckpt-save" "$spid" "$TMP/nolib.img" > "$TMP/nolib.msg" 2>&1
rc=$?
[ $rc -eq 6 ] || fail "nolib: ckpt-save of a process without libckpt: rc $rc, want 6: $(cat "$TMP/nolib.msg")"
kill -0 "$spid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$spid/stat")" != Z ] || fail "nolib: ckpt-save killed a process without libckpt"
ls "$TMP"/nolib.img* > /dev/null 2>&1 && fail "nolib: ckpt-save left $(ls "$TMP"/nolib.img*)"
kill9 "$spid"
"$BIN/ckpt-save" "$spid" "$TMP/nolib.img" > "$TMP/nolib.msg" 2>&1
rc=$?
[ $rc -eq 6 ] || fail "nolib: ckpt-save of a pid that does not exist: rc $rc, want 6: $(cat "$TMP/nolib.msg")"
"$BIN/ckpt-save" > "$TMP/nolib.msg" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "ckpt-save without arguments: rc $rc, want 1"
"$BIN/ckpt-save" 12x "$TMP/nolib.img" > "$TMP/nolib.msg" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "ckpt-save with a bad pid: rc $rc, want 1: $(cat "$TMP/nolib.msg")"
exit 0
