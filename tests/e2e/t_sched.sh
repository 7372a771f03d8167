#!/bin/bash
# Each thread's scheduling policy and nice value come back after a restart
# (SCHED_BATCH nice 5, SCHED_IDLE, SCHED_OTHER nice 3).
. "$(dirname "$0")/lib.sh"
shim "$PROGS/sched" "$TMP/img" > "$TMP/out" 2>&1
grep -q SAVED "$TMP/out" || fail "save: $(cat "$TMP/out")"
clean_fds "${RESTART[@]}" "$TMP/img" > "$TMP/out2" 2>&1
grep -q "SCHED OK" "$TMP/out2" || fail "restarted: $(cat "$TMP/out2")"
