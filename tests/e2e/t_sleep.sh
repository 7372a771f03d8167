#!/bin/bash
# A sleep interrupted by a transparent checkpoint is not cut short: in the
# original it goes on to its full length (no EINTR), and in the restarted
# copy it sleeps only the time that was left at the checkpoint — not the
# full time again (dmtcp#246), and not zero.
. "$(dirname "$0")/lib.sh"
S=2				# seconds of the first sleep

CKPT_SIGNAL=USR1 CKPT_IMAGE="$TMP/img" shim "$PROGS/sleeper" $S > "$TMP/out" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/out" "^READY"
start=$(sed -n 's/^READY at=//p' "$TMP/out")
# Three checkpoints during the first sleep, 0.7 s in.
past() { [ $(( ${EPOCHREALTIME/./} * 1000 - start )) -gt "$1" ]; }
wait_for 5 past 700000000
for i in 1 2 3; do
	rm -f "$TMP/img"
	kill -USR1 "$pid"
	wait_for 10 test -f "$TMP/img" || fail "checkpoint $i: no image"
	cp "$TMP/img" "$TMP/img$i"
done
wait_line "$TMP/out" "^SLEPT nanosleep" 10
line=$(grep '^SLEPT nanosleep' "$TMP/out")
echo "$line" | grep -q "r=0 " || fail "original: checkpoints cut the sleep short: $line"
at=$(echo "$line" | sed 's/.* at=//')
[ $((at - start)) -ge $((S * 1000000000)) ] || fail "original: slept $(((at - start) / 1000000)) ms of ${S}000"
kill9 "$pid"

# The restarted copy (image of the first checkpoint, ~0.7 s into the first sleep).
t0=$(( ${EPOCHREALTIME/./} * 1000 ))
clean_fds "${RESTART[@]}" "$TMP/img1" > "$TMP/out2" 2>&1 || fail "restart: $(cat "$TMP/out2")"
first=$(grep '^SLEPT nanosleep' "$TMP/out2")
echo "$first" | grep -q "r=0 " || fail "restarted: the sleep failed: $first"
left=$(( $(echo "$first" | sed 's/.* at=//') - t0 ))
[ $left -lt $((S * 1000000000 - 300000000)) ] || fail "restarted: slept the full time again ($((left / 1000000)) ms)"
[ $left -gt 500000000 ] || fail "restarted: did not sleep what was left ($((left / 1000000)) ms)"
for f in clock_nanosleep sleep usleep; do
	grep -q "^SLEPT $f r=0 " "$TMP/out2" || fail "restarted: $f: $(grep "SLEPT $f" "$TMP/out2")"
done
