#!/bin/bash
# Who may checkpoint whom: the process itself decides (shim/shim_ctl.c),
# whatever client asks — here tests/e2e/progs/ctlpeer.c, a ckpt-save
# without any check of its own, as anyone can write one:
#  - a user who may signal the process but is not all of its uids (a
#    root process that became the user but kept saved uid 0): refused,
#    the reply names the uids (a user who is none of them cannot even
#    send the signal);
#  - the process's user with another gid: refused, names the gids;
#  - the process's user once the process is not dumpable
#    (PR_SET_DUMPABLE 0, as ssh-agent and set-uid programs are): refused,
#    says why; root passes this check (the rule of ptrace and
#    /proc/PID/mem);
#  - a request whose tmp_name names a file that is not the image, from a
#    client that hangs up: the writer's reply fails, and it removes
#    nothing (it removes only the file it wrote, checked by inode);
#  - a request of protocol version 1: logged clearly, the process goes on.
# Each refusal leaves the image file empty and the process running.
. "$(dirname "$0")/lib.sh"
unpriv_user
P=$PROGS/secsave
C=$PROGS/ctlpeer
as_user test -x "$P" -a -x "$C" -a -r "$LIB" || skip "the build tree is not readable by $U"
id nobody > /dev/null 2>&1 || skip "no user nobody"
AUID=$(id -u nobody)
AGID=$(id -g nobody)
D=$TMP/d
mkdir "$D"
chmod 0777 "$D"
nbad=0
bad() { echo "FAIL: $CASE: $*"; nbad=$((nbad + 1)); }
alive() { [ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat")" != Z ]; }

rm -f "$TMP/fifo"
mkfifo -m 0666 "$TMP/fifo"
as_user env LD_PRELOAD="$LIB" "$P" 2 cmd < "$TMP/fifo" > "$TMP/app.out" 2>&1 &
PID=$!
PIDS+=("$PID")
exec 8> "$TMP/fifo"
wait_line "$TMP/app.out" '^READY'

# refused CASE WANT CLIENT...: the client gets a refusal matching WANT
refused() {
	CASE=$1
	local want=$2
	shift 2
	"$@" > "$TMP/$CASE.out" 2>&1
	grep -qE "^STATUS -1 $want" "$TMP/$CASE.out" || bad "want STATUS -1 (EPERM) /$want/: $(cat "$TMP/$CASE.out")"
	[ ! -s "$D/$CASE.img" ] || bad "the refused checkpoint wrote $(stat -c %s "$D/$CASE.img") bytes"
	alive "$PID" || bad "the process is gone: $(tail -2 "$TMP/app.out")"
}
refused gid "refused: ckpt-save runs with gid $AGID; this process has real, effective and saved gids $gid, $gid, $gid" \
	clean_fds setpriv --reuid="$uid" --regid="$AGID" --clear-groups "$C" "$PID" "$D/gid.img"
CASE=same
as_user "$C" "$PID" "$D/same.img" > "$TMP/same.out" 2>&1
grep -q "^STATUS 0 " "$TMP/same.out" && "$BIN/ckpt-info" "$D/same.img" > /dev/null 2>&1 ||
	bad "the process's own user: $(cat "$TMP/same.out")"

# a hostile tmp_name: the process's user names another of its files
# (the client hangs up at once; the writer's reply, after the image, fails)
CASE=tmpname
echo "keep me" > "$D/victim"
chown "$uid:$gid" "$D/victim"
as_user "$C" "$PID" "$D/hostile.img" --path "$D/app.img" --tmp victim --hangup > "$TMP/tmpname.out" 2>&1
grep -q '^SENT' "$TMP/tmpname.out" || bad "$(cat "$TMP/tmpname.out")"
wait_line "$TMP/app.out" 'cannot reply to ckpt-save'
writer_gone() { ! grep -q . "/proc/$PID/task/$PID/children" 2>/dev/null ||
	[ -z "$(for c in $(cat "/proc/$PID/task/$PID/children"); do [ "$(awk '{print $3}' /proc/$c/stat 2>/dev/null)" != Z ] && echo $c; done)" ]; }
wait_for 20 writer_gone || bad "the writer stays"
[ "$(cat "$D/victim" 2>/dev/null)" = "keep me" ] || bad "the writer removed or changed a file that was not its image"
grep -q "removed its temporary file" "$TMP/app.out" && bad "the writer says it removed $(grep removed "$TMP/app.out")"

echo nodump >&8
wait_line "$TMP/app.out" '^NODUMP'
refused nodump "refused: this process is not dumpable" as_user "$C" "$PID" "$D/nodump.img"
CASE=nodump-root
clean_fds "$C" "$PID" "$D/root.img" > "$TMP/root.out" 2>&1
# (a process that is not dumpable cannot open its own /proc/self files:
# root passes the check, and the checkpoint then says what it cannot do)
grep -q "^STATUS " "$TMP/root.out" && ! grep -q "refused" "$TMP/root.out" ||
	bad "root: $(cat "$TMP/root.out")"

# root's process that became the user, saved uid 0 kept
CASE=suid
rm -f "$TMP/fifo2"
mkfifo "$TMP/fifo2"
shim env LD_PRELOAD="$LIB" "$P" 2 cmd < "$TMP/fifo2" > "$TMP/root-app.out" 2>&1 &
RPID=$!
PIDS+=("$RPID")
exec 9> "$TMP/fifo2"
wait_line "$TMP/root-app.out" '^READY'
echo "resuid $uid $uid 0" >&9
wait_line "$TMP/root-app.out" '^RESUID'
grep -q "^RESUID $uid $uid 0" "$TMP/root-app.out" || bad "$(cat "$TMP/root-app.out")"
refused suid "refused: ckpt-save runs as uid $uid; this process has real, effective and saved uids $uid, $uid, 0: only root may checkpoint it" \
	as_user "$C" "$RPID" "$D/suid.img"
exec 9>&-

# protocol version 1 (a ckpt-save of an older libckpt)
CASE=v1
as_user "$C" "$PID" "$D/v1.img" --version 1 > "$TMP/v1.out" 2>&1
grep -q "^CLOSED" "$TMP/v1.out" || bad "a version 1 request was answered: $(cat "$TMP/v1.out")"
wait_line "$TMP/app.out" 'bad checkpoint request from pid [0-9]+: .*another libckpt version'
alive "$PID" || bad "the process is gone"
exec 8>&-
[ $nbad -eq 0 ] || fail "$nbad problems"
exit 0
