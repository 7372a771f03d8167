#!/bin/bash
# Restart needs the original pid and the right to create it:
#  - an unprivileged user restarting their own image: exit 4, the message
#    says root or CAP_CHECKPOINT_RESTORE is needed (--check too), no crash;
#  - an unprivileged user restarting root's image: exit 4, says whose;
#  - root restarting the user's image: works, the copy runs as the user
#    and can be checkpointed again by the user;
#  - --check on a good image whose pid is free: exit 0;
#  - the pid taken (the same image restarted twice): the second restart
#    and --check exit 4 naming the pid and the process holding it; the
#    first copy is unharmed.
. "$(dirname "$0")/lib.sh"
unpriv_user
as_user test -x "$BIN/ckpt-restart" -a -r "$LIB" -a -x "$PROGS/worker" ||
	skip "the build tree is not readable by $U"
W=$PROGS/worker
UD=$TMP/u
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }
mkdir "$UD"
chown "$uid:$gid" "$UD"

# The user's own image: the worker saves itself after step 1 (as the user).
touch "$UD/stop"
clean_fds setpriv --reuid="$uid" --regid="$gid" --clear-groups "$W" "$UD/log" "$UD/stop" "$UD/img" 1 \
	> "$TMP/uout1" 2>&1
grep -q '^SELF SAVED' "$TMP/uout1" && [ -f "$UD/img" ] || fail "no image from $U: $(cat "$TMP/uout1")"
for chk in "" --check; do
	clean_fds setpriv --reuid="$uid" --regid="$gid" --clear-groups "${RESTART[@]}" $chk "$UD/img" \
		> "$TMP/msg" 2>&1
	rc=$?
	[ $rc -eq 4 ] || bad "$U restarting their own image (${chk:-restart}): rc $rc, want 4: $(cat "$TMP/msg")"
	grep -qiE 'CAP_CHECKPOINT_RESTORE|privilege' "$TMP/msg" ||
		bad "$U restarting their own image (${chk:-restart}): the message does not say what is missing: $(cat "$TMP/msg")"
done
grep -q 'SELF RESTORED' "$TMP/msg" && bad "$U's restart started the process"

# Root's image, restarted by the user.
touch "$TMP/stop"
shim "$W" "$TMP/log" "$TMP/stop" "$TMP/img" 1 > "$TMP/out1" 2>&1
grep -q '^SELF SAVED' "$TMP/out1" && [ -f "$TMP/img" ] || fail "no image: $(cat "$TMP/out1")"
PID=$(sed -n 's/^READY //p' "$TMP/out1")
chmod 644 "$TMP/img"
clean_fds setpriv --reuid="$uid" --regid="$gid" --clear-groups "${RESTART[@]}" "$TMP/img" > "$TMP/msg" 2>&1
rc=$?
[ $rc -eq 4 ] || bad "$U restarting root's image: rc $rc, want 4: $(cat "$TMP/msg")"
grep -qiE 'uid 0|root|privilege|CAP_' "$TMP/msg" || bad "$U restarting root's image: unclear message: $(cat "$TMP/msg")"

# Root restarts the user's image: the copy runs as the user.
rm -f "$UD/stop"
UPID=$(sed -n 's/^READY //p' "$TMP/uout1")
wait_for 20 gone "$UPID" || fail "pid $UPID busy"
restart_bg "$UD/img" > "$TMP/uout2" 2>&1
wait_for 20 test -d "/proc/$UPID" || fail "root could not restart $U's image: $(cat "$TMP/uout2")"
PIDS+=("$UPID")
# The pid exists from the start of the restore; the ids switch at its end.
restored_as() { [ "$(awk '/^Uid:/ {print $2}' "/proc/$1/status" 2>/dev/null)" = "$2" ]; }
wait_for 20 restored_as "$UPID" "$uid"
ids=$(awk '/^Uid:|^Gid:/ {print $2, $3, $4, $5}' "/proc/$UPID/status" | tr '\n' ' ')
[ "$ids" = "$uid $uid $uid $uid $gid $gid $gid $gid " ] || bad "$U's process restarted by root has uids/gids $ids, want $uid/$gid"
# ... and can be checkpointed again, by the user (the uid change must not
# have left it undumpable, its /proc files root's).
as_user "$BIN/ckpt-save" "$UPID" "$UD/img2" > "$TMP/save2" 2>&1 ||
	bad "$U's process restarted by root cannot be checkpointed again: $(cat "$TMP/save2")"
touch "$UD/stop"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q '^DONE' "$TMP/uout2" || fail "$U's restarted process: rc $rc: $(cat "$TMP/uout2")"

# --check, pid free
clean_fds "${RESTART[@]}" --check "$TMP/img" > "$TMP/msg" 2>&1
rc=$?
[ $rc -eq 0 ] || bad "--check on a good image: rc $rc: $(cat "$TMP/msg")"

# pid taken: the same image twice
rm -f "$TMP/stop"
restart_bg "$TMP/img" > "$TMP/out2" 2>&1
first=$RPID
wait_for 20 test -d "/proc/$PID" || fail "first restart: $(cat "$TMP/out2")"
PIDS+=("$PID")
wait_line "$TMP/out2" '^SELF RESTORED'
for chk in --check ""; do
	clean_fds "${RESTART[@]}" $chk "$TMP/img" > "$TMP/msg" 2>&1
	rc=$?
	[ $rc -eq 4 ] || bad "restart (${chk:-restart}) while pid $PID is taken: rc $rc, want 4: $(cat "$TMP/msg")"
	grep -q "pid $PID" "$TMP/msg" && grep -q "worker" "$TMP/msg" ||
		bad "restart (${chk:-restart}) while pid $PID is taken: the message does not name pid and holder: $(cat "$TMP/msg")"
done
grep -q 'SELF RESTORED' "$TMP/msg" && bad "the second restart started a process"
kill -0 "$PID" || fail "the first copy died"
touch "$TMP/stop"
wait "$first"
rc=$?
[ $rc -eq 0 ] && grep -q "^DONE .* $PID\$" "$TMP/out2" || fail "the first copy: rc $rc: $(cat "$TMP/out2")"
[ $nbad -eq 0 ] || exit 1
exit 0
