#!/bin/bash
# Signal state survives a transparent checkpoint (ckpt-save, taken while
# the program blocks every signal), SIGKILL and restart: dispositions
# (SA_SIGINFO|SA_RESTART|SA_ONSTACK handler with sa_mask, SIG_IGN), the
# blocked mask, a blocked pending signal (delivered once unblocked), the
# sigaltstack; the application sees its own view of libckpt's signal 63.
# After restart the test's SIGUSR2 runs the handler on the altstack and a
# blocking read() restarts.
. "$(dirname "$0")/lib.sh"

# in_read PID: the process is blocked in read(2) (syscall 0).
in_read() { [ "$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)" = 0 ]; }

shim "$PROGS/signals" "$TMP/go" > "$TMP/out1" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/out1" '^READY'
grep BAD "$TMP/out1" && fail "before the checkpoint: $(cat "$TMP/out1")"
"$BIN/ckpt-save" "$pid" "$TMP/img" > "$TMP/save" 2>&1 ||
	fail "ckpt-save of a process blocking every signal: rc $?: $(cat "$TMP/save")"
[ -f "$TMP/img" ] || fail "no image"
kill9 "$pid"
restart_bg "$TMP/img" > "$TMP/out2" 2>&1
PIDS+=("$pid")
wait_for 20 test -d "/proc/$pid" || fail "not restarted: $(cat "$TMP/out2")"
touch "$TMP/go"
wait_line "$TMP/out2" '^WAITING USR2|^RESTORED'
grep -q '^WAITING USR2' "$TMP/out2" || fail "$(cat "$TMP/out2")"
wait_for 20 in_read "$pid" || fail "not blocked in read(): $(cat "$TMP/out2")"
kill -USR2 "$pid"
wait "$RPID"
rc=$?
grep -q '^RESTORED ok' "$TMP/out2" || fail "restore (rc $rc): $(cat "$TMP/out2")"
[ $rc -eq 0 ] || fail "rc $rc: $(cat "$TMP/out2")"
exit 0
