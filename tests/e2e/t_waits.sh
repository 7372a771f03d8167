#!/bin/bash
# Waits a transparent checkpoint does not cut short (wrappers/wrap_poll.c;
# tests/e2e/progs/waits.c checks each in the process): a thread in each of
# poll, ppoll, select, pselect, epoll_wait, epoll_pwait, epoll_pwait2 and
# sigtimedwait with a 2 s limit on fds and signals that never get ready,
# and in poll, select, epoll_wait and sigwaitinfo with none.
#   orig     checkpointed while all wait (the original goes on): the
#            limited waits time out after 2 s at least, the others end
#            with their event once woken: none with EINTR, errno untouched
#   restart  checkpointed, killed (SIGKILL), restarted: the same in the copy
#   app      the application's own SIGUSR1 handler interrupts each wait:
#            each returns -1 with EINTR, as without libckpt
. "$(dirname "$0")/lib.sh"
P=$PROGS/waits

# start NAME ARGS...: under the shim until READY (every thread in its call).
start() {
	local name=$1
	shift
	rm -f "$TMP/go.$name"
	shim "$P" "$1" "$TMP/go.$name" "${@:2}" > "$TMP/$name.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$name.out" '^READY|^setup|^BAD'
	grep -q '^READY' "$TMP/$name.out" || fail "$name: $(cat "$TMP/$name.out")"
}

# --- the application's signal still ends each wait with EINTR -----------------
start app app
touch "$TMP/go.app"
wait "$PID" && grep -q '^OK app' "$TMP/app.out" || fail "app: $(cat "$TMP/app.out")"

# --- a checkpoint in the middle: the original goes on waiting -----------------
start orig ckpt 2000
"$BIN/ckpt-save" "$PID" "$TMP/orig.img" > "$TMP/orig.save" 2>&1 ||
	fail "orig: ckpt-save rc $?: $(cat "$TMP/orig.save")"
touch "$TMP/go.orig"
wait "$PID" && grep -q '^OK ckpt' "$TMP/orig.out" || fail "orig: $(cat "$TMP/orig.out")"

# --- ... and so does a restarted copy ------------------------------------------
start restart ckpt 2000
"$BIN/ckpt-save" "$PID" "$TMP/restart.img" > "$TMP/restart.save" 2>&1 ||
	fail "restart: ckpt-save rc $?: $(cat "$TMP/restart.save")"
kill9 "$PID"
restart_bg "$TMP/restart.img" > "$TMP/restart.out2" 2>&1
wait_for 20 test -d "/proc/$PID" || fail "restart: not restarted: $(cat "$TMP/restart.out2")"
PIDS+=("$PID")
touch "$TMP/go.restart"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q '^OK ckpt' "$TMP/restart.out2" ||
	fail "restart: the restarted copy (rc $rc): $(cat "$TMP/restart.out2")"
echo "PASS"
