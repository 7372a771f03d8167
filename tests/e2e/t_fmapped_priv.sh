#!/bin/bash
# A deleted file or memfd that only mappings hold (mapped, its fd closed)
# can be read only through /proc/self/map_files, which the kernel opens for
# root or CAP_CHECKPOINT_RESTORE.  An unprivileged process holding one is
# refused, with what to do (keep an fd open on it); the process goes on.
# (As root the same cases are saved and restored: t_ghosts.sh, t_memfd.sh.)
# Root restarting a user's image makes the user's deleted file as that
# user: in the user's own directory (0700), owned by the user.
. "$(dirname "$0")/lib.sh"
unpriv_user
D=$TMP/d
mkdir -p "$D"
chmod 777 "$D"
as_user test -x "$PROGS/ghosts" -a -r "$LIB" || skip "the test user cannot run the build"
for c in tmp memfd; do
	go=$TMP/go.$c
	as_user env LD_PRELOAD="$LIB" "$PROGS/ghosts" $c "$D" "$go" > "$TMP/$c.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/$c.out" '^READY|^setup'
	grep -q '^READY' "$TMP/$c.out" || fail "$c: $(cat "$TMP/$c.out")"
	pid=$(pgrep -P "$pid" -x ghosts || echo "$pid")	# setpriv execs: the same pid
	as_user "$BIN/ckpt-save" "$pid" "$D/$c.img" > "$TMP/$c.save" 2>&1
	rc=$?
	[ $rc -eq 5 ] || fail "$c: ckpt-save rc $rc, want 5: $(cat "$TMP/$c.save")"
	grep -q "mapping [0-9a-f]*-[0-9a-f]*: no fd holds .*\(tmpLone (deleted)\|/memfd:gone (deleted)\); keep one open on it until the checkpoint (the contents of a file only mappings hold are read through /proc/self/map_files: root or CAP_CHECKPOINT_RESTORE; errno 1)" "$TMP/$c.save" ||
		fail "$c: the message: $(cat "$TMP/$c.save")"
	[ ! -e "$D/$c.img" ] || fail "$c: an image was left"
	kill9 "$pid"
done

# sparse (a deleted file an fd holds), saved by the user, restarted by root
UD=$TMP/u
mkdir "$UD"
chown "$uid:$gid" "$UD"
chmod 700 "$UD"
c=sparse
go=$TMP/go.$c
as_user env LD_PRELOAD="$LIB" "$PROGS/ghosts" $c "$UD" "$go" > "$TMP/$c.out" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/$c.out" '^READY|^setup'
as_user "$BIN/ckpt-save" "$pid" "$UD/$c.img" > "$TMP/$c.save" 2>&1 || fail "$c: ckpt-save: $(cat "$TMP/$c.save")"
kill9 "$pid"
restart_bg "$UD/$c.img" > "$TMP/$c.out2" 2>&1
wait_for 20 test -d "/proc/$pid" || fail "$c: not restarted: $(cat "$TMP/$c.out2")"
PIDS+=("$pid")
touch "$go"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q "^OK $c" "$TMP/$c.out2" || fail "$c: root's restart of $U's image (rc $rc): $(cat "$TMP/$c.out2")"
exit 0
