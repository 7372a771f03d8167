#!/bin/bash
# 20 generations: a worker doing verifiable work is checkpointed
# (ckpt-save and CKPT_SIGNAL in turn), killed and restarted from the
# latest image, 20 times; every copy has the original pid, makes
# progress, and the log is an uninterrupted run's chain (steps repeated
# after a checkpoint allowed, none lost); the final result equals an
# uninterrupted run's.
. "$(dirname "$0")/lib.sh"
W=$PROGS/worker
LOG=$TMP/log STOP=$TMP/stop IMG=$TMP/img
GENS=20

lines() { wc -l < "$1" 2>/dev/null || echo 0; }
more_than() { [ "$(lines "$1")" -gt "$2" ]; }
progress() {
	local n
	n=$(lines "$LOG")
	wait_for 20 more_than "$LOG" $((n + 5)) || fail "generation $g: no progress (at $n lines): $(cat "$1")"
}

CKPT_SIGNAL=USR1 CKPT_IMAGE=$IMG shim "$W" "$LOG" "$STOP" > "$TMP/out.0" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/out.0" '^READY'
g=0
progress "$TMP/out.0"
generation_check() { progress "$1"; }
generations $GENS
touch "$STOP"
wait "$RPID"
rc=$?
out=$TMP/out.$GENS
[ $rc -eq 0 ] || fail "last copy rc $rc: $(cat "$out")"
"$W" --check "$LOG" $GENS > "$TMP/chain" || fail "$(cat "$TMP/chain")"
read -r _ n h p < <(grep '^DONE' "$out") || fail "no DONE: $(cat "$out")"
[ "$p" = "$PID" ] || fail "DONE from pid $p, want $PID"
want=$("$W" --chain "$n" | tail -1)
[ "$n $h" = "$want" ] || fail "final result $n $h, an uninterrupted run: $want"
exit 0
