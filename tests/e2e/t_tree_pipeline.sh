#!/bin/bash
# A shell pipeline of 3 processes, run by a real /bin/sh -c 'a | b | c':
# a producer paced to 1 record/ms, a filter with stdio buffers, a
# consumer checking every record's order and sum (tests/e2e/progs/stage.c).
# The whole tree (the shell and its three children, the two pipes with
# bytes in flight, the stdio buffers in the processes) is saved, killed
# and restarted, twice; then the producer finishes at full speed, and
# the consumer must have seen every record exactly once, in order, each
# through the filter once: its count and checksum equal an uninterrupted
# run's.  The same with the pipeline's fds 0-2 inherited from the
# launching shell (stdin a pipe, stderr a file).
. "$(dirname "$0")/lib.sh"
S=$PROGS/stage
N=20000
[ -x /bin/sh ] || skip "no /bin/sh"

# the uninterrupted run's result
"$S" produce $N "$TMP/go.ref" < /dev/null 2>/dev/null | "$S" filter | "$S" consume "$TMP/ref" &
touch "$TMP/go.ref"
wait
read -r ok n sum < "$TMP/ref"
[ "$ok $n" = "OK $N" ] || fail "the uninterrupted run: $(cat "$TMP/ref")"

shim /bin/sh -c "$S produce $N $TMP/go | $S filter | $S consume $TMP/out" < /dev/null > "$TMP/sh.out" 2>&1 &
PID=$!
PIDS+=("$PID")
four() { [ "$(tree_pids "$PID" | wc -w)" -eq 4 ]; }
wait_for 20 four || fail "not 4 processes: $(tree_pids "$PID")"
RPID=
for ((g = 1; g <= 2; g++)); do
	# some records through, more in flight
	sleep 0.2
	"$BIN/ckpt-save" "$PID" "$TMP/img" > "$TMP/save" 2>&1 || fail "generation $g: $(cat "$TMP/save")"
	"$BIN/ckpt-info" "$TMP/img" | grep -q "tree:      4 processes" ||
		fail "generation $g: $("$BIN/ckpt-info" "$TMP/img" | head -3)"
	kill_tree "$PID"
	[ -z "$RPID" ] || wait "$RPID"
	rm -f "$TMP/out"
	restart_bg "$TMP/img" > "$TMP/r.$g" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "generation $g: not restarted: $(cat "$TMP/r.$g")"
	PIDS+=($(tree_pids "$RPID"))
done
touch "$TMP/go"
wait "$RPID" || fail "the restarted shell: rc $?: $(cat "$TMP/r.2")"
wait_for 20 test -s "$TMP/out" || fail "no result"
[ "$(cat "$TMP/out")" = "OK $n $sum" ] || fail "after two restarts: $(cat "$TMP/out"), uninterrupted: OK $n $sum"
exit 0
