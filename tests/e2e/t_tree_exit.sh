#!/bin/bash
# A checkpoint that ends the tree ends all of it: `ckpt-save --exit` of
# the root, and SIGTERM to a root run with CKPT_ON_TERM, save every
# process of the tree, then every member is killed before it runs again
# (none runs on beside the image: a restart needs their pids) and every
# pid of the tree is free once the root has exited and been waited for.
# The image then restarts the whole tree, which finishes right (tree
# basic: workers, a grandchild, an orphan, zombies, shared memory, a
# shared offset).
. "$(dirname "$0")/lib.sh"
T=$PROGS/tree

# ends NAME HOW: the tree under the shim until READY; HOW ends it
ends() {
	local name=$1 how=$2 d=$TMP/$1 img=$TMP/$1/img out=$TMP/$1.out pid pids p rc
	mkdir -p "$d"
	if [ "$how" = term ]; then
		CKPT_ON_TERM=$img shim "$T" basic "$d" 3 > "$out" 2>&1 &
	else
		shim "$T" basic "$d" 3 > "$out" 2>&1 &
	fi
	pid=$!
	PIDS+=("$pid")
	wait_line "$out" '^READY|^BAD'
	grep -q '^READY' "$out" || fail "$name: $(cat "$out")"
	pids=$(tree_pids "$pid")
	[ "$(echo $pids | wc -w)" -ge 5 ] || fail "$name: the tree is $pids"
	if [ "$how" = term ]; then
		kill -TERM "$pid"
		wait "$pid"
		rc=$?
		[ $rc -eq 143 ] || fail "$name: the root's status $rc, not 143 (SIGTERM): $(cat "$out")"
	else
		"$BIN/ckpt-save" --exit "$pid" "$img" > "$TMP/$name.save" 2>&1 ||
			fail "$name: ckpt-save --exit rc $?: $(cat "$TMP/$name.save")"
		wait "$pid"
		rc=$?
		[ $rc -eq 0 ] || fail "$name: the root's status $rc after --exit: $(cat "$out")"
	fi
	for p in $pids; do
		wait_for 5 gone "$p" || fail "$name: process $p of the tree runs on: $(ps -o pid,stat,comm -p "$p")"
	done
	"$BIN/ckpt-info" "$img" | grep -q "tree: .* processes, root pid $pid" ||
		fail "$name: $("$BIN/ckpt-info" "$img" | head -3)"
	restart_bg "$img" > "$out.r" 2>&1
	wait_for 20 test -d "/proc/$pid" || fail "$name: not restarted: $(cat "$out.r")"
	PIDS+=($(tree_pids "$RPID"))
	touch "$d/go"
	wait "$RPID" || fail "$name: restarted rc $?: $(cat "$out.r")"
	grep -q '^DONE ok' "$out.r" || fail "$name: $(cat "$out.r")"
}

ends exit exit
ends term term
exit 0
