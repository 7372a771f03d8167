#!/bin/bash
# Unix domain sockets (tests/e2e/progs/usock.c, one case each):
#  - checkpoint, SIGKILL, restart: the copy finds every socket as it was
#    (names, peers, listeners and their waiting connections, options,
#    shutdowns) and every queued message (bytes and boundaries, empty
#    datagrams, credentials, fds in flight); pairs and named also over
#    three generations (a restarted process is checkpointed again);
#  - the original, checkpointed and left running, still reads every
#    message (nothing is consumed by a checkpoint);
#  - a user's process restarted by root: SO_PEERCRED and the credentials
#    in flight are the user's; a user's, unprivileged, under --pidns;
#  - in a process tree, sockets the root holds (its child holds copies);
#  - ckpt-info shows them (text and JSON);
#  - a restart whose socket's path is another file now: exit 4, named;
#  - refused by name: a socket connected to another process (its path and
#    pid), a userfaultfd in flight, a waiting connection that sent data,
#    credentials of another process, fds in flight while the process holds
#    a POSIX lock, an out-of-band byte.
. "$(dirname "$0")/lib.sh"
D=$TMP/d
mkdir -p "$D"
CASES="pairs named creds inflight shutdown unlinked"
# big: 24 MiB queued (root: SO_SNDBUFFORCE)
[ "$(id -u)" = 0 ] && CASES="$CASES big"

# 1. checkpoint, kill, restart
for c in $CASES; do
	rm -rf "${D:?}"/*
	GENS=1
	case $c in pairs | named) GENS=3 ;; esac
	GENS=$GENS cycle $c "$TMP/$c.out" "$TMP/go.$c" -- "$PROGS/usock" $c "$D" "$TMP/go.$c"
	[ $RC -eq 0 ] && grep -q "^OK $c" "$TMP/$c.out.2" ||
		fail "$c: restarted copy (rc $RC): $(cat "$TMP/$c.out.2")"
done

# 2. the original goes on with every message
for c in $CASES; do
	rm -rf "${D:?}"/*
	shim "$PROGS/usock" $c "$D" "$TMP/go2.$c" > "$TMP/$c.orig" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/$c.orig" '^READY|^setup'
	"$BIN/ckpt-save" "$pid" "$TMP/$c.img2" > "$TMP/$c.save2" 2>&1 ||
		fail "$c: ckpt-save of the original rc $?: $(cat "$TMP/$c.save2")"
	touch "$TMP/go2.$c"
	wait "$pid"
	rc=$?
	[ $rc -eq 0 ] && grep -q "^OK $c" "$TMP/$c.orig" ||
		fail "$c: the original after its checkpoint (rc $rc): $(cat "$TMP/$c.orig")"
done

# 2b. a user's process, checkpointed and restarted by root: its sockets are
# the user's (SO_PEERCRED), its credentials in flight the user's
if [ "$(id -u)" = 0 ] && (unpriv_user) > /dev/null 2>&1; then
	unpriv_user
	if as_user test -x "$PROGS/usock" -a -r "$LIB"; then
		c=creds
		chown "$uid:$gid" "$TMP"
		as_user env LD_PRELOAD="$LIB" "$PROGS/usock" $c "$D" "$TMP/gou" > "$TMP/u.out" 2>&1 &
		pid=$!
		PIDS+=("$pid")
		wait_line "$TMP/u.out" '^READY|^setup'
		"$BIN/ckpt-save" "$pid" "$TMP/u.img" > "$TMP/u.save" 2>&1 ||
			fail "user: ckpt-save rc $?: $(cat "$TMP/u.save")"
		kill9 "$pid"
		restart_bg "$TMP/u.img" > "$TMP/u.out2" 2>&1
		touch "$TMP/gou"
		wait "$RPID"
		rc=$?
		[ $rc -eq 0 ] && grep -q "^OK $c" "$TMP/u.out2" ||
			fail "user: restarted by root (rc $rc): $(cat "$TMP/u.out2")"
	fi
fi

# 2c. unprivileged, in a --pidns namespace (the credentials' pid is 2 there)
if [ -n "${uid:-}" ] && as_user test -x "$BIN/ckpt-run" -a -x "$PROGS/usock" &&
	as_user unshare --user --pid --mount --fork true 2> /dev/null; then
	UD=$TMP/u
	mkdir -p "$UD"
	chown "$uid:$gid" "$UD"
	for c in creds named; do
		rm -rf "${UD:?}"/*
		CASE=$c
		as_user "$BIN/ckpt-run" --pidns env LD_PRELOAD="$LIB" "$PROGS/usock" $c "$UD" "$UD/go" \
			> "$UD/out" 2>&1 &
		R=$!
		PIDS+=("$R")
		program_of "$R"
		wait_line "$UD/out" '^READY|^setup'
		as_user "$BIN/ckpt-save" "$PROG" "$UD/img" > "$TMP/ns.save" 2>&1 ||
			fail "pidns $c: ckpt-save rc $?: $(cat "$TMP/ns.save")"
		kill -9 "$R"
		wait "$R" 2> /dev/null
		wait_for 20 gone "$PROG" || fail "pidns $c: $PROG did not go away"
		touch "$UD/go"
		as_user "${RESTART[@]}" "$UD/img" > "$UD/out2" 2>&1
		rc=$?
		[ $rc -eq 0 ] && grep -q "^OK $c" "$UD/out2" ||
			fail "pidns $c: restarted (rc $rc): $(cat "$UD/out2")"
	done
fi

# 2d. in a process tree: sockets both ends of which the root holds (its child
# holds copies): saved once, the tree killed whole, restarted
rm -rf "${D:?}"/*
shim "$PROGS/usock" tree "$D" "$TMP/go.tree" > "$TMP/tree.out" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/tree.out" '^READY|^setup'
"$BIN/ckpt-save" "$pid" "$TMP/tree.img" > "$TMP/tree.save" 2>&1 ||
	fail "tree: ckpt-save rc $?: $(cat "$TMP/tree.save")"
kill_tree "$pid"
restart_bg "$TMP/tree.img" > "$TMP/tree.out2" 2>&1
touch "$TMP/go.tree"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q '^OK tree' "$TMP/tree.out2" || fail "tree: restarted (rc $rc): $(cat "$TMP/tree.out2")"

# 3. ckpt-info
info() { "$BIN/ckpt-info" "$@" || fail "ckpt-info $* rc $?"; }
info "$TMP/pairs.img" > "$TMP/pairs.info"
grep -q 'unix dgram, connected, peer file [0-9]*, 5 messages queued (100010 bytes' "$TMP/pairs.info" &&
	grep -q 'unix stream, connected, peer file [0-9]*, SO_PEEK_OFF 3, 1 message' "$TMP/pairs.info" ||
	fail "ckpt-info pairs: $(grep -A1 unix "$TMP/pairs.info")"
info "$TMP/named.img" > "$TMP/named.info"
grep -q "unix stream, listening, named $D/l.sock, backlog 5" "$TMP/named.info" &&
	grep -q "unix stream, waiting to be accepted, place 1 on listener socket" "$TMP/named.info" &&
	grep -q "unix seqpacket, connected, named @usock-[0-9]*, peer file [0-9]*, accepted" "$TMP/named.info" ||
	fail "ckpt-info named: $(grep -A1 unix "$TMP/named.info")"
info "$TMP/inflight.img" > "$TMP/inflight.info"
grep -q '^files in flight' "$TMP/inflight.info" && grep -q "file  *$D/file" "$TMP/inflight.info" ||
	fail "ckpt-info inflight: $(cat "$TMP/inflight.info")"
info --json "$TMP/creds.img" > "$TMP/creds.json"
python3 - "$TMP/creds.json" <<'EOF' || fail "ckpt-info --json creds: $(cat "$TMP/creds.json")"
import json, sys
j = json.load(open(sys.argv[1]))
u = [f["unix"] for f in j["files"] if f["kind"] == "unix"]
assert len(u) == 4, u
assert sorted(x["with_credentials"] for x in u) == [0, 0, 1, 2], u
assert sum(x["passcred"] for x in u) == 2, u
EOF

# 3b. at restart, a name whose path is another file now: exit 4, named
rm -rf "${D:?}"/*
echo "not a socket" > "$D/l.sock"
clean_fds "${RESTART[@]}" --check "$TMP/named.img" > "$TMP/named.check2" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q "cannot bind unix socket $D/l.sock again: $D/l.sock exists (not a socket)" "$TMP/named.check2" ||
	fail "a restart over another file (rc $rc): $(cat "$TMP/named.check2")"

# 4. refusals: ckpt-save fails (5), no image, the message names what and why
refused() {
	local c=$1 want=$2 pid
	rm -rf "${D:?}"/*
	[ -n "${3:-}" ] && { $3; }
	shim "$PROGS/usock" $c "$D" "$TMP/go.$c" > "$TMP/$c.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/$c.out" '^READY|^setup'
	grep -q '^READY' "$TMP/$c.out" || fail "$c: $(cat "$TMP/$c.out")"
	"$BIN/ckpt-save" "$pid" "$TMP/$c.img" > "$TMP/$c.save" 2>&1
	rc=$?
	[ $rc -eq 5 ] || fail "$c: ckpt-save rc $rc, want 5: $(cat "$TMP/$c.save")"
	grep -qE "$want" "$TMP/$c.save" || fail "$c: the message does not say /$want/: $(cat "$TMP/$c.save")"
	ls "$TMP/$c.img"* > /dev/null 2>&1 && fail "$c: an image was left"
	kill_tree "$pid"
}
serve() {
	"$PROGS/usock" serve "$D/outside.sock" > "$TMP/serve.out" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	wait_line "$TMP/serve.out" '^READY'
}
refused outside "fd [0-9]+: a unix stream socket connected to $D/outside.sock \\(process [0-9]+, usock, uid [0-9]+\\), outside the image" serve
grep -q "process $SPID," "$TMP/outside.save" || fail "outside: not the server's pid $SPID: $(cat "$TMP/outside.save")"
refused uffd 'fd [0-9]+: a message queued on it carries an fd in flight of a kind not supported \(anon_inode:\[userfaultfd\]\)'
refused pendata 'fd [0-9]+: a unix socket waiting to be accepted, which sent data already'
refused childcreds 'fd [0-9]+: a message queued on it carries the credentials of process [0-9]+ \(SCM_CREDENTIALS\), not of this process'
refused lockfd 'fd [0-9]+: 1 fds are in flight on this unix socket, and the process holds POSIX locks'
refused oob 'fd [0-9]+: a unix stream socket with an out-of-band byte \(MSG_OOB\) not read yet'
# (a pair split between two processes of a tree: t_tree_unix.sh)
exit 0
