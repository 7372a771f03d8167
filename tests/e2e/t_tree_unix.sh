#!/bin/bash
# Unix sockets whose ends are held by different processes of a tree
# (issue #11; tests/e2e/progs/usktree.c checks its state itself, the
# root prints "DONE ok"): each case saved, the whole tree killed
# (SIGKILL) and restarted, GENS generations, then let go:
#  - a socketpair split by fork, stream, dgram and seqpacket: messages
#    queued both ways (boundaries, an empty datagram), the conversation
#    going on after the restart;
#  - unconnected datagram sockets bound to paths in two processes, each
#    with datagrams from the other queued (sent again from the sender's
#    socket: the receiver sees its name);
#  - the original, saved and left running, reads every message;
#  - a pre-fork server: the root listens on a path, 4 workers accept on
#    the shared listener, 5 clients of the tree: 4 half-way through a
#    conversation, one waiting to be accepted; every request answered
#    exactly once (the workers' "ANS" lines over every output), and the
#    workers' anonymous shared counter holds every answer;
#  - fds in flight between members: a file at an offset and a pipe's read
#    end with its bytes (no writer left), the root's own file
#    (one description: its offset moves with the child's reads);
#  - ckpt-info shows such an image;
#  - refused by name: a member's socket connected to a server outside the
#    tree; credentials of another process in flight; a pipe's read end in
#    flight whose write end another member holds; a file in flight that its
#    sender, a later process, keeps open; a socket in flight to another
#    process whose peer the sender keeps.
. "$(dirname "$0")/lib.sh"
U=$PROGS/usktree

# run_case NAME GENS ARGS...: as t_tree.sh's, the image kept in $TMP/NAME.img
run_case() {
	local name=$1 gens=$2 d=$TMP/$1 img=$TMP/$1.img pid g out
	shift 2
	mkdir -p "$d"
	out=$TMP/$name.out
	shim "$U" "$1" "$d" "${@:2}" > "$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$out" '^READY|^BAD|^setup'
	grep -q '^READY' "$out" || fail "$name: $(cat "$out")"
	before=$(for p in $(tree_pids "$pid"); do awk '{print $1, $4}' /proc/$p/stat; done | sort)
	RPID=
	for ((g = 1; g <= gens; g++)); do
		"$BIN/ckpt-save" "$pid" "$img" > "$TMP/$name.save" 2>&1 ||
			fail "$name: generation $g: ckpt-save rc $?: $(cat "$TMP/$name.save")"
		kill_tree "$pid"
		[ -z "$RPID" ] || wait "$RPID"
		"${RESTART[@]}" --check "$img" > "$TMP/$name.check" 2>&1 ||
			fail "$name: generation $g: ckpt-restart --check rc $?: $(cat "$TMP/$name.check")"
		clean_fds "${RESTART[@]}" "$img" > "$out.$g" 2>&1 &
		RPID=$!
		wait_for 20 test -d "/proc/$pid" || fail "$name: generation $g: not restarted: $(cat "$out.$g")"
		PIDS+=($(tree_pids "$RPID"))
		after=$(for p in $(tree_pids "$pid"); do awk '{print $1, $4}' /proc/$p/stat; done | sort)
		[ "$after" = "$(echo "$before" | sed "1s/ .*/ $RPID/;t" | sort)" ] ||
			[ "$(echo "$after" | wc -l)" = "$(echo "$before" | wc -l)" ] ||
			fail "$name: generation $g: the tree is not the same: $after (was $before)"
	done
	touch "$d/go"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] || fail "$name: rc $rc: $(cat "$out.$gens")"
	grep -q '^DONE ok' "$out.$gens" || fail "$name: $(cat "$out.$gens")"
	! grep -q '^BAD' "$out.$gens" || fail "$name: $(grep '^BAD' "$out.$gens")"
}

# 1. a pair split by fork, each type, two generations
for t in stream dgram seqpacket; do
	run_case pair-$t 2 pair $t
done

# 1b. the original, saved and left running, still reads every message
# (the queues are peeked, never taken): each type, and the server
for args in "pair stream" "pair dgram" "pair seqpacket" "server 4"; do
	set -- $args
	d=$TMP/orig-$1-$2
	mkdir -p "$d"
	shim "$U" "$1" "$d" "$2" > "$d.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$d.out" '^READY|^BAD|^setup'
	"$BIN/ckpt-save" "$pid" "$TMP/orig.img" > "$d.save" 2>&1 ||
		fail "original $args: ckpt-save rc $?: $(cat "$d.save")"
	touch "$d/go"
	wait "$pid"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^DONE ok' "$d.out" ||
		fail "original $args after its checkpoint (rc $rc): $(cat "$d.out")"
done

# 1c. named datagram sockets, each sent to by the other process's
run_case dgrams 2 dgrams

# 2. a pre-fork server: 4 workers, 5 clients (one waiting to be accepted)
run_case server 2 server 4
for i in 0 1 2 3 4; do
	for k in 1 2; do
		n=$(cat "$TMP"/server.out* | grep -c "^ANS $i.$k\$")
		[ "$n" = 1 ] || fail "server: request $i.$k answered $n times: $(cat "$TMP"/server.out*)"
	done
done
[ "$(cat "$TMP"/server.out | grep -c '^ANS ..1$')" = 4 ] ||
	fail "server: not 4 conversations half-way at the checkpoint: $(cat "$TMP"/server.out)"

# 3. fds in flight between the members
run_case rights 2 rights

# 4. ckpt-info reads such an image: the sockets and the queued messages
"$BIN/ckpt-info" "$TMP/rights.img" > "$TMP/rights.info" 2>&1 ||
	fail "ckpt-info: rc $?: $(cat "$TMP/rights.info")"
grep -q 'unix' "$TMP/rights.info" || fail "ckpt-info: no unix socket: $(cat "$TMP/rights.info")"
"$BIN/ckpt-info" --json "$TMP/pair-dgram.img" > "$TMP/pair.json" 2>&1 ||
	fail "ckpt-info --json: rc $?: $(cat "$TMP/pair.json")"
python3 - "$TMP/pair.json" <<'PY' || fail "ckpt-info --json pair-dgram: $(cat "$TMP/pair.json")"
import json, sys
j = json.load(open(sys.argv[1]))
# each process's section holds its own end, with what the other sent it (empty datagrams too)
u = [[f["unix"] for f in p["files"] if f["kind"] == "unix"] for p in j["processes"]]
assert [len(x) for x in u] == [1, 1], u
assert u[0][0]["messages"] == 4 and u[1][0]["messages"] == 3, u
assert u[0][0]["peer"] and u[1][0]["peer"] and u[0][0]["type"] == "dgram", u
PY

# 5. refusals: ckpt-save fails (5), no image, the message names it
refused() {
	local c=$1 want=$2 d=$TMP/$1 pid
	mkdir -p "$d"
	[ -n "${3:-}" ] && { $3 "$d"; }
	shim "$U" $c "$d" > "$TMP/$c.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/$c.out" '^READY|^setup'
	grep -q '^READY' "$TMP/$c.out" || fail "$c: $(cat "$TMP/$c.out")"
	"$BIN/ckpt-save" "$pid" "$TMP/$c.img" > "$TMP/$c.save" 2>&1
	rc=$?
	[ $rc -eq 5 ] || fail "$c: ckpt-save rc $rc, want 5: $(cat "$TMP/$c.save")"
	grep -qE "$want" "$TMP/$c.save" || fail "$c: the message does not say /$want/: $(cat "$TMP/$c.save")"
	ls "$TMP/$c.img"* > /dev/null 2>&1 && fail "$c: an image was left"
	# the tree runs on after a refused checkpoint
	kill -0 "$pid" || fail "$c: the tree died"
	kill_tree "$pid"
}
serve() {
	"$PROGS/usock" serve "$1/outside.sock" > "$TMP/serve.out" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	wait_line "$TMP/serve.out" '^READY'
}
refused outside "process [0-9]+: fd [0-9]+: a unix stream socket connected to $TMP/outside/outside.sock \\(process [0-9]+, usock, uid [0-9]+\\), outside the image" serve
grep -q "process $SPID," "$TMP/outside.save" || fail "outside: not the server's pid $SPID: $(cat "$TMP/outside.save")"
refused pipewriter 'process [0-9]+: fd [0-9]+: pipe \(pipe:\[[0-9]+\], its write end\) leads outside the image: its read end is held by a process libckpt cannot see \(another user.s\?\), or is in flight on a unix socket of the tree'
refused keepfd "an fd in flight on fd [0-9]+ \\($TMP/keepfd/kept.data\\): process [0-9]+ of the tree holds it too \\(its fd [0-9]+\\), and saves it after this process \\([0-9]+\\): an fd in flight to an earlier process of the tree that its sender keeps open is not supported yet"
refused sockflight 'fd [0-9]+: a unix stream socket connected to socket [0-9]+ \(\(unnamed\)\), which no process libckpt can see holds: in flight on a unix socket of another process of the tree\? A socket in flight whose peer another process of the tree holds is not supported yet'
refused creds 'fd [0-9]+: a message queued on it carries the credentials of process [0-9]+ \(SCM_CREDENTIALS\): in a process tree a restart queues every message before'
refused creds2 'process [0-9]+: fd [0-9]+: a message queued on it carries the credentials of process [0-9]+ \(SCM_CREDENTIALS\): in a process tree a restart queues every message before'
exit 0
