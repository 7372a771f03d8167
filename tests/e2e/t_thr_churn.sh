#!/bin/bash
# Checkpoints taken while threads come and go: thr_churn creates and
# joins short-lived threads, creates detached ones that exit on their
# own, and keeps a worker computing.  ckpt-save runs 5 times in a row on
# it: each must end (never hang: 20 s limit) with success or a clean
# refusal (exit 5 with a reason, no image left behind), and the original
# must go on unharmed to a correct end.  Then every image saved is
# restarted in turn: each copy must keep churning (new ITER lines) and
# finish correctly (joins return the right values, every detached thread
# finishes, the worker's chain is right).
. "$(dirname "$0")/lib.sh"

lines() { local n; n=$(grep -c "$2" "$1" 2>/dev/null); echo "${n:-0}"; }
more_than() { [ "$(lines "$1" "$2")" -gt "$3" ]; }

STOP=$TMP/stop
shim "$PROGS/thr_churn" "$STOP" > "$TMP/out1" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/out1" '^ITER'
saved=()
for k in 1 2 3 4 5; do
	n=$(lines "$TMP/out1" '^ITER')
	timeout 20 "$BIN/ckpt-save" "$pid" "$TMP/img.$k" > "$TMP/save.$k" 2>&1
	rc=$?
	case $rc in
	0)	[ -s "$TMP/img.$k" ] || fail "save $k: exit 0 and no image"
		saved+=("$k") ;;
	5)	[ -s "$TMP/save.$k" ] || fail "save $k refused without a reason"
		ls "$TMP"/img.$k* > /dev/null 2>&1 && fail "save $k refused and left $(ls "$TMP"/img.$k*)"
		echo "save $k refused: $(cat "$TMP/save.$k")" ;;
	124)	fail "save $k hung (killed after 20 s): $(cat "$TMP/save.$k")" ;;
	*)	fail "save $k: rc $rc: $(cat "$TMP/save.$k")" ;;
	esac
	# the original goes on between checkpoints
	wait_for 20 more_than "$TMP/out1" '^ITER' "$n" || fail "save $k: the original stopped: $(tail -3 "$TMP/out1")"
done
[ ${#saved[@]} -ge 3 ] || fail "only ${#saved[@]} of 5 checkpoints succeeded"
touch "$STOP"
wait "$pid"
rc=$?
grep -q '^ALL OK' "$TMP/out1" && [ $rc -eq 0 ] || fail "the original after 5 checkpoints (rc $rc): $(grep -v ITER "$TMP/out1")"
wait_for 20 gone "$pid" || fail "pid $pid did not go away"

for k in "${saved[@]}"; do
	rm -f "$STOP"
	out=$TMP/out2.$k
	restart_bg "$TMP/img.$k" > "$out" 2>&1
	wait_for 20 more_than "$out" '^ITER' 0 || fail "image $k: the restarted copy does not churn (rc $(wait "$RPID"; echo $?)): $(cat "$out")"
	touch "$STOP"
	wait "$RPID"
	rc=$?
	grep -q '^ALL OK' "$out" && [ $rc -eq 0 ] || fail "image $k, restarted (rc $rc): $(grep -v ITER "$out")"
	grep -q '^STARTED' "$out" && fail "image $k: the restarted copy started over"
	wait_for 20 gone "$pid" || fail "image $k: pid $pid did not go away"
done
exit 0
