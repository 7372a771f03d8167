#!/bin/bash
# 20 generations, multi-threaded: 8 threads each doing verifiable work
# (a hash chain over their own heap buffer, logged step by step, and a
# shared mutex-protected counter) are checkpointed (ckpt-save and
# CKPT_SIGNAL in turn), killed and restarted from the latest image, 20
# times.  Every copy has the original pid, every thread makes progress in
# every generation, each thread's log is an uninterrupted run's chain
# (steps repeated after a checkpoint allowed, none lost), the counter
# agrees with the threads' steps, and each thread's final result equals
# an uninterrupted run's.
. "$(dirname "$0")/lib.sh"
P=$PROGS/thr_gen
LOGS=$TMP/logs STOP=$TMP/stop IMG=$TMP/img
GENS=20
NT=8
mkdir -p "$LOGS"

# counts: the line count of every log, in thread order.
counts() {
	local t
	for ((t = 0; t < NT; t++)); do
		[ -f "$LOGS/log.$t" ] && wc -l < "$LOGS/log.$t" || echo 0
	done
}
# all_past N...: every log has more than its N (+3) lines.
all_past() {
	local t=0 c
	for c in $(counts); do
		[ "$c" -gt $(($1 + 3)) ] || return 1
		shift
		t=$((t + 1))
	done
}
progress() {
	local before
	before=$(counts)
	# shellcheck disable=SC2086
	wait_for 20 all_past $before || fail "generation $g: a thread made no progress ($(counts | tr '\n' ' ') from $(echo $before)): $(cat "$1")"
}

CKPT_SIGNAL=USR1 CKPT_IMAGE=$IMG shim "$P" "$LOGS" "$STOP" > "$TMP/out.0" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/out.0" '^READY'
g=0
progress "$TMP/out.0"
# The restorer makes the threads after the main one: wait for all of them.
nthreads() { [ "$(ls "/proc/$PID/task" 2>/dev/null | wc -l)" -eq $((NT + 1)) ]; }
generation_check() {
	wait_for 20 nthreads ||
		fail "generation $g: $(ls "/proc/$PID/task" | wc -l) threads, want $((NT + 1))"
	progress "$1"
}
generations $GENS
touch "$STOP"
wait "$RPID"
rc=$?
out=$TMP/out.$GENS
[ $rc -eq 0 ] && grep -q '^ALL OK' "$out" || fail "last copy rc $rc: $(cat "$out")"
"$P" --check "$LOGS" $GENS > "$TMP/chain" || fail "$(cat "$TMP/chain")"
[ "$(grep -c '^DONE' "$out")" -eq $NT ] || fail "not $NT DONE lines: $(cat "$out")"
while read -r _ t n h p; do
	[ "$p" = "$PID" ] || fail "DONE from pid $p, want $PID"
	want=$("$P" --chain "$t" "$n")
	[ "$n $h" = "$want" ] || fail "thread $t: final result $n $h, an uninterrupted run: $want"
done < <(grep '^DONE' "$out")
exit 0
