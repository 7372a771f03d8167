#!/bin/bash
# The restarted process's memory map is the original's: every mapping at
# the same address with the same protection and file; nothing of the
# restarter (its code, the restorer, staging) is left behind.
. "$(dirname "$0")/lib.sh"
CKPT_SIGNAL=USR1 CKPT_IMAGE="$TMP/img" shim "$B/samples/counter" 100 > "$TMP/out" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/out" "tick 2 "
kill -USR1 "$pid"
wait_for 20 test -f "$TMP/img" || fail "no image"
awk '{print $1, $2, $6, $7}' "/proc/$pid/maps" > "$TMP/before"
kill9 "$pid"
restart_bg "$TMP/img" > "$TMP/out2" 2>&1
wait_line "$TMP/out2" "tick [0-9]+ "
awk '{print $1, $2, $6, $7}' "/proc/$pid/maps" > "$TMP/after" || fail "restarted process not found at pid $pid"
diff "$TMP/before" "$TMP/after" > "$TMP/diff" || fail "maps differ: $(cat "$TMP/diff")"
