#!/bin/bash
# A program we did not write: Debian's python3 running a child python3
# through subprocess.Popen (fork and exec, two pipes between them, each
# answer checked) and, now and then, a shell (subprocess.run of sh -c).
# The tree is saved mid-conversation, killed whole and restarted, twice
# (bytes in flight on the pipes, the interpreters' heaps, the child
# pid subprocess waits for); then it finishes: every exchange answered
# right, the child's exit status collected by the restarted parent.
# Then multiprocessing (progs/pymp.py), started by fork and by spawn: a
# Pool of 3 whose task pipe's readers share a lock and whose tasks add to
# a shared Value under its lock (POSIX semaphores and heap arenas that
# are deleted /dev/shm files every process maps): saved while the pool
# works, restarted twice, each round right and no add lost.
. "$(dirname "$0")/lib.sh"
PY=$(command -v python3) || skip "no python3"
SCRIPT=$(cd "$(dirname "$0")" && pwd)/progs/pytree.py

shim "$PY" "$SCRIPT" "$TMP/go" < /dev/null > "$TMP/out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/out" '^READY|^BAD|Error'
grep -q '^READY' "$TMP/out" || fail "$(cat "$TMP/out")"
RPID=
for ((g = 1; g <= 2; g++)); do
	"$BIN/ckpt-save" "$PID" "$TMP/img" > "$TMP/save" 2>&1 || fail "generation $g: $(cat "$TMP/save")"
	n=$("$BIN/ckpt-info" "$TMP/img" | sed -n 's/^tree: *\([0-9]*\) processes.*/\1/p')
	[ "${n:-0}" -ge 2 ] || fail "generation $g: not a tree: $("$BIN/ckpt-info" "$TMP/img" | head -3)"
	kill_tree "$PID"
	[ -z "$RPID" ] || wait "$RPID"
	restart_bg "$TMP/img" > "$TMP/r.$g" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "generation $g: not restarted: $(cat "$TMP/r.$g")"
	PIDS+=($(tree_pids "$RPID"))
done
touch "$TMP/go"
wait "$RPID" || fail "the restarted python: rc $?: $(cat "$TMP/r.2")"
grep -q '^DONE ok' "$TMP/r.2" || fail "after two restarts: $(cat "$TMP/r.2")"

MP=$(cd "$(dirname "$0")" && pwd)/progs/pymp.py
for method in fork spawn; do
	d=$TMP/$method
	mkdir -p "$d"
	shim "$PY" "$MP" "$d/go" "$method" < /dev/null > "$d/out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$d/out" '^READY|^BAD|Error'
	grep -q '^READY' "$d/out" || fail "$method: $(cat "$d/out")"
	RPID=
	for ((g = 1; g <= 2; g++)); do
		"$BIN/ckpt-save" "$PID" "$d/img" > "$d/save" 2>&1 ||
			fail "$method: generation $g: $(cat "$d/save")"
		kill_tree "$PID"
		[ -z "$RPID" ] || wait "$RPID"
		restart_bg "$d/img" > "$d/r.$g" 2>&1
		wait_for 20 test -d "/proc/$PID" || fail "$method: generation $g: not restarted: $(cat "$d/r.$g")"
		PIDS+=($(tree_pids "$RPID"))
	done
	touch "$d/go"
	wait "$RPID" || fail "$method: the restarted pool: rc $?: $(cat "$d/r.2")"
	grep -q '^DONE ok' "$d/r.2" || fail "$method: after two restarts: $(cat "$d/r.2")"
done
exit 0
