#!/bin/bash
# CPU-time clocks go on from where they were after ckpt-save, kill -9 and
# ckpt-restart, instead of starting near 0 (progs/cpuclock.c): the
# process's and each thread's clock (its own and read from another
# thread), clock_getcpuclockid, getrusage (self and thread), times() and
# clock() all read at least what they read before the checkpoint; a
# second generation too; ckpt-info shows the CPU time saved.
. "$(dirname "$0")/lib.sh"
P=$PROGS/cpuclock
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }

shim "$P" "$TMP/go" > "$TMP/out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/out" '^READY'
"$BIN/ckpt-save" "$PID" "$TMP/img" > "$TMP/save" 2>&1 || fail "ckpt-save: $(cat "$TMP/save")"
kill9 "$PID"
"$BIN/ckpt-info" "$TMP/img" > "$TMP/info" 2>&1
cpu=$(sed -n 's/^    CPU time: \([0-9.]*\) s.*/\1/p' "$TMP/info")
awk -v c="$cpu" 'BEGIN { exit !(c >= 0.3) }' || bad "ckpt-info shows CPU time '$cpu', want >= 0.3 s"

# two generations: the restarted copy is checkpointed again before it goes on
restart_bg "$TMP/img" > "$TMP/out2" 2>&1
wait_for 20 test -d "/proc/$PID" || fail "not restarted: $(cat "$TMP/out2")"
"$BIN/ckpt-save" "$PID" "$TMP/img2" > "$TMP/save2" 2>&1 || fail "second ckpt-save: $(cat "$TMP/save2")"
kill9 "$PID"
wait "$RPID"
touch "$TMP/go"
clean_fds "${RESTART[@]}" "$TMP/img2" > "$TMP/out3" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^DONE' "$TMP/out3" || bad "restarted copy rc $rc: $(cat "$TMP/out3")"
grep -q '^BACKWARDS' "$TMP/out3" && bad "clocks went back: $(grep '^BACKWARDS' "$TMP/out3")"
[ "$(grep -c '^AFTER' "$TMP/out3")" = 9 ] || bad "not every clock read: $(cat "$TMP/out3")"
${VERBOSE:+cat "$TMP/out" "$TMP/out3"}
[ $nbad -eq 0 ] || { cat "$TMP/out" "$TMP/out3"; exit 1; }
