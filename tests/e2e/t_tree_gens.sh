#!/bin/bash
# 20 generations of a tree of 4 processes (the root, a worker, its child,
# an orphan the root adopted) and 3 zombies: saved, killed whole and
# restarted 20 times; the last copy proves every process's chain, the
# shared memory, the shared offset and the zombies' statuses (DONE ok).
. "$(dirname "$0")/lib.sh"
T=$PROGS/tree
d=$TMP/g
mkdir -p "$d"
shim "$T" basic "$d" 1 > "$d/out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$d/out" '^READY|^BAD'
grep -q '^READY' "$d/out" || fail "$(cat "$d/out")"
n=$(tree_pids "$PID" | wc -l)
[ "$n" -eq 7 ] || fail "the tree has $n processes, want 7 (4 and 3 zombies)"
RPID=
for ((g = 1; g <= 20; g++)); do
	"$BIN/ckpt-save" "$PID" "$d/img" > "$d/save" 2>&1 || fail "generation $g: $(cat "$d/save")"
	kill_tree "$PID"
	[ -z "$RPID" ] || wait "$RPID"
	restart_bg "$d/img" > "$d/out.$g" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "generation $g: not restarted: $(cat "$d/out.$g")"
	PIDS+=($(tree_pids "$RPID"))
	seven() { [ "$(tree_pids "$PID" | wc -l)" -eq 7 ]; }
	wait_for 20 seven ||
		fail "generation $g: $(tree_pids "$PID" | wc -l) processes"
done
touch "$d/go"
wait "$RPID" || fail "rc $?: $(cat "$d/out.20")"
grep -q '^DONE ok' "$d/out.20" || fail "$(cat "$d/out.20")"
exit 0
