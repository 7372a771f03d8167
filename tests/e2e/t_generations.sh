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
RPID=
for ((g = 1; g <= GENS; g++)); do
	rm -f "$IMG"
	if ((g % 2)); then
		"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/save" 2>&1 || fail "generation $g: ckpt-save rc $?: $(cat "$TMP/save")"
	else
		kill -USR1 "$PID"
		wait_for 20 test -f "$IMG" || fail "generation $g: no image after SIGUSR1"
	fi
	kill9 "$PID"
	if [ -n "$RPID" ]; then
		wait "$RPID"
		rc=$?
		[ $rc -eq 137 ] || fail "generation $g: the killed copy's ckpt-restart rc $rc, want 137"
	fi
	restart_bg "$IMG" > "$TMP/out.$g" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "generation $g: not restarted with pid $PID: $(cat "$TMP/out.$g")"
	ppid=$(awk '{print $4}' "/proc/$PID/stat")
	[ "$ppid" = "$RPID" ] || fail "generation $g: pid $PID is not the restarted copy (parent $ppid, ckpt-restart $RPID)"
	progress "$TMP/out.$g"
done
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
