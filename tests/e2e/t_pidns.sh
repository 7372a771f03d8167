#!/bin/bash
# Unprivileged checkpoint and restart with `ckpt-run --pidns`, all as an
# ordinary user:
#  - the program runs as pid 2 of its own user+pid namespace, under an
#    init (pid 1), with its own uid/gid and the namespace's /proc;
#    outside it has an ordinary pid, a grandchild of ckpt-run;
#  - ckpt-save OUTER-PID writes an image marked pidns (ckpt-info);
#    root's ckpt-save is refused (root is not root inside), exit 5;
#    kill -9 of ckpt-run takes the init and the program with it;
#  - ckpt-restart --check says yes; ckpt-restart brings it back with
#    pid 2, ppid 1, the same uid/gid and /proc, and it carries on;
#  - a second generation (checkpoint the restarted copy, kill, restart);
#  - the self-checkpoint path (ckpt_save() inside); a signal sent to
#    ckpt-restart reaches the program through the init, and its status
#    comes back (143 for SIGTERM);
#  - root restarting the user's image: it runs as the user, pid 2;
#  - root's own --pidns image (root inside, every capability of its
#    namespace) passes --check even where root lacks a capability outside;
#  - without --pidns the user's restart still fails, exit 4
#    (t_privilege has the details);
#  - where no user namespace can be made, ckpt-run --pidns says so, 127.
# Every log line the program wrote must be the chain an uninterrupted
# run computes: a restarted copy may repeat steps, never lose one.
. "$(dirname "$0")/lib.sh"
unpriv_user
P=$PROGS/pidns_probe
as_user test -x "$BIN/ckpt-run" -a -x "$BIN/ckpt-restart" -a -x "$P" -a -r "$LIB" ||
	skip "the build tree is not readable by $U"
as_user unshare --user --pid --mount --fork true 2> "$TMP/unshare" ||
	skip "$U cannot create a user+pid namespace here: $(cat "$TMP/unshare")"
UD=$TMP/u
mkdir "$UD"
chown "$uid:$gid" "$UD"
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }

lines() { wc -l < "$1" 2>/dev/null || echo 0; }
more_than() { [ "$(lines "$1")" -gt "$2" ]; }
progress() {
	local n
	n=$(lines "$1")
	wait_for 20 more_than "$1" $((n + 5)) || fail "$CASE: no progress in $1 (at $n lines)"
}
# outside PID: what the outside sees of the program: its pid in the
# namespace (NSpid), its uid and gid.
outside() {
	[ "$(awk '/^NSpid:/ {print $3}' "/proc/$1/status")" = 2 ] ||
		bad "$CASE: outer pid $1 is not pid 2 inside: $(grep NSpid "/proc/$1/status")"
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$1/status")" = "$uid" ] &&
		[ "$(awk '/^Gid:/ {print $2}' "/proc/$1/status")" = "$gid" ] ||
		bad "$CASE: outer pid $1 runs as $(grep -E '^(Uid|Gid):' "/proc/$1/status" | tr '\n' ' ')"
	# no capabilities, like the original (exec'd as a non-root user)
	[ "$(awk '/^CapEff:/ {print $2}' "/proc/$1/status")" = 0000000000000000 ] ||
		bad "$CASE: outer pid $1 holds capabilities: $(grep CapEff "/proc/$1/status")"
}
# check_log LOG MAXREWINDS: every line is "n h 2 1 uid gid 2"; n starts at
# 1, never skips, goes back at most MAXREWINDS times, and a repeated n
# has the h it had the first time.
check_log() {
	awk -v uid="$uid" -v gid="$gid" -v max="$2" '
		$3 != 2 || $4 != 1 || $5 != uid || $6 != gid || $7 != 2 {
			print "line " NR " is not pid 2, ppid 1, uid " uid ", gid " gid ", /proc/self 2: " $0; bad = 1; exit }
		NR == 1 && $1 != 1 { print "starts at " $1; bad = 1; exit }
		$1 > prev + 1 { print "line " NR ": step " $1 " after " prev " (lost work)"; bad = 1; exit }
		$1 <= prev { rew++ }
		($1 in h) && h[$1] != $2 { print "line " NR ": step " $1 " has " $2 ", before " h[$1]; bad = 1; exit }
		{ h[$1] = $2; prev = $1 }
		END { if (!bad && rew > max) { print rew " rewinds, at most " max; bad = 1 }
		      if (!bad) print "ok " NR " lines, " rew " rewinds"; exit bad }' "$1"
}

# ---- ckpt-save from outside, two generations ----
CASE=save LOG=$UD/save.log STOP=$UD/save.stop
as_user "$BIN/ckpt-run" --pidns "$P" "$LOG" "$STOP" > "$TMP/save.out1" 2>&1 &
RUN=$!
PIDS+=("$RUN")
wait_line "$TMP/save.out1" '^READY'
grep -q "^READY 2 1 $uid $gid\$" "$TMP/save.out1" ||
	bad "$CASE: the program inside is not pid 2, ppid 1, uid $uid, gid $gid: $(cat "$TMP/save.out1")"
program_of "$RUN"
[ "$(cat "/proc/$INIT/comm")" = ckpt-run ] && [ "$(cat "/proc/$PROG/comm")" = pidns_probe ] ||
	bad "$CASE: outside, the init is $(cat "/proc/$INIT/comm") and the program $(cat "/proc/$PROG/comm")"
outside "$PROG"
progress "$LOG"
# Root outside the user namespace is "nobody" inside: refused, clearly.
clean_fds "$BIN/ckpt-save" "$PROG" "$TMP/root.img" > "$TMP/msg" 2>&1
rc=$?
[ $rc -eq 5 ] && grep -q "run ckpt-save as uid $uid" "$TMP/msg" && [ -z "$(ls "$TMP"/root.img* 2> /dev/null)" ] ||
	bad "$CASE: root's ckpt-save: rc $rc, want 5 and the reason: $(cat "$TMP/msg")"
as_user "$BIN/ckpt-save" "$PROG" "$UD/gen1.img" > "$TMP/msg" 2>&1 ||
	fail "$CASE: ckpt-save $PROG (outside pid): $(cat "$TMP/msg")"
"$BIN/ckpt-info" --no-verify "$UD/gen1.img" | grep -q '^flags: .*pidns' ||
	bad "$CASE: ckpt-info does not show the pidns flag: $("$BIN/ckpt-info" --no-verify "$UD/gen1.img" | grep flags)"
progress "$LOG"
kill -9 "$RUN"
wait "$RUN" 2> /dev/null
wait_for 20 gone "$PROG" && wait_for 20 gone "$INIT" ||
	fail "$CASE: killing ckpt-run left the init ($INIT) or the program ($PROG)"

as_user "${RESTART[@]}" --check "$UD/gen1.img" > "$TMP/msg" 2>&1 ||
	bad "$CASE: --check as $U: rc $?: $(cat "$TMP/msg")"
grep -q 'can be restarted here (pid 2 in a new pid namespace' "$TMP/msg" ||
	bad "$CASE: --check says: $(cat "$TMP/msg")"
for gen in 1 2; do
	as_user "${RESTART[@]}" "$UD/gen$gen.img" > "$TMP/save.out$((gen + 1))" 2>&1 &
	RPID=$!
	PIDS+=("$RPID")
	program_of "$RPID"
	outside "$PROG"
	progress "$LOG"
	if [ $gen = 1 ]; then
		as_user "$BIN/ckpt-save" "$PROG" "$UD/gen2.img" > "$TMP/msg" 2>&1 ||
			fail "$CASE: ckpt-save of the restarted copy: $(cat "$TMP/msg")"
		progress "$LOG"
		kill -9 "$RPID"
		wait "$RPID" 2> /dev/null
		wait_for 20 gone "$PROG" || fail "$CASE: the restarted copy outlived ckpt-restart"
	fi
done
touch "$STOP"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q '^DONE .* 2$' "$TMP/save.out3" ||
	fail "$CASE: second restart: rc $rc: $(cat "$TMP/save.out3")"
check_log "$LOG" 2 > "$TMP/msg" || bad "$CASE: log: $(cat "$TMP/msg")"

# ---- ckpt_save() inside; signals through the init; root restarts ----
CASE=self LOG=$UD/self.log STOP=$UD/self.stop IMG=$UD/self.img
as_user "$BIN/ckpt-run" --pidns "$P" "$LOG" "$STOP" "$IMG" 20 > "$TMP/self.out1" 2>&1 &
RUN=$!
PIDS+=("$RUN")
wait_line "$TMP/self.out1" '^SELF '
grep -q "^SELF SAVED 2 $uid\$" "$TMP/self.out1" || fail "$CASE: $(cat "$TMP/self.out1")"
"$BIN/ckpt-info" --no-verify "$IMG" | grep -q '^flags: *self.*pidns' ||
	bad "$CASE: ckpt-info flags: $("$BIN/ckpt-info" --no-verify "$IMG" | grep flags)"
"$BIN/ckpt-info" --json --no-verify "$IMG" | grep -q '"flags": \["self", "pidns"\]' ||
	bad "$CASE: ckpt-info --json flags: $("$BIN/ckpt-info" --json --no-verify "$IMG" | grep -o '"flags": [^]]*]')"
program_of "$RUN"
kill -9 "$RUN"
wait "$RUN" 2> /dev/null
wait_for 20 gone "$PROG" || fail "$CASE: the program outlived ckpt-run"

as_user "${RESTART[@]}" "$IMG" > "$TMP/self.out2" 2>&1 &
RPID=$!
PIDS+=("$RPID")
wait_line "$TMP/self.out2" '^SELF '
grep -q "^SELF RESTORED 2 $uid\$" "$TMP/self.out2" || fail "$CASE: restart: $(cat "$TMP/self.out2")"
program_of "$RPID"
progress "$LOG"
kill -TERM "$RPID"
wait "$RPID"
rc=$?
[ $rc -eq 143 ] || bad "$CASE: SIGTERM to ckpt-restart: rc $rc, want 143: $(cat "$TMP/self.out2")"
wait_for 20 gone "$PROG" || fail "$CASE: the program outlived SIGTERM"

# Root restarts the user's image: it becomes the user and runs as pid 2.
restart_bg "$IMG" > "$TMP/self.out3" 2>&1
wait_line "$TMP/self.out3" '^SELF '
grep -q "^SELF RESTORED 2 $uid\$" "$TMP/self.out3" || fail "$CASE: root's restart: $(cat "$TMP/self.out3")"
program_of "$RPID"
outside "$PROG"
progress "$LOG"
touch "$STOP"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q '^DONE .* 2$' "$TMP/self.out3" || bad "$CASE: root's restart: rc $rc: $(cat "$TMP/self.out3")"
check_log "$LOG" 2 > "$TMP/msg" || bad "$CASE: log: $(cat "$TMP/msg")"

# ---- without --pidns the user cannot restore a pid ----
CASE=nopidns LOG=$UD/plain.log STOP=$UD/plain.stop IMG=$UD/plain.img
as_user "$BIN/ckpt-run" "$P" "$LOG" "$STOP" "$IMG" 1 > "$TMP/plain.out" 2>&1 &
RUN=$!
PIDS+=("$RUN")
wait_line "$TMP/plain.out" '^SELF '
touch "$STOP"
wait "$RUN"
grep -q '^SELF SAVED' "$TMP/plain.out" || fail "$CASE: $(cat "$TMP/plain.out")"
as_user "${RESTART[@]}" "$IMG" > "$TMP/msg" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q 'CAP_CHECKPOINT_RESTORE' "$TMP/msg" ||
	bad "$CASE: rc $rc, want 4 and the privilege message: $(cat "$TMP/msg")"

# ---- root's own --pidns image: root inside its namespace, with every
# capability there; restarted by root even where root lacks one outside
# (a container's bounding set: this machine's has no CAP_SYS_RESOURCE),
# since the namespace the restart makes gives them all again ----
CASE=rootns LOG=$TMP/root.log STOP=$TMP/root.stop IMG=$TMP/root.img
clean_fds "$BIN/ckpt-run" --pidns "$P" "$LOG" "$STOP" "$IMG" 1 > "$TMP/root.out" 2>&1 &
RUN=$!
PIDS+=("$RUN")
wait_line "$TMP/root.out" '^SELF '
touch "$STOP"
wait "$RUN"
grep -q '^SELF SAVED' "$TMP/root.out" || fail "$CASE: $(cat "$TMP/root.out")"
rm -f "$STOP"
"${RESTART[@]}" --check "$IMG" > "$TMP/root.check" 2>&1 ||
	bad "$CASE: --check: $(cat "$TMP/root.check") (outside, root holds $(grep CapBnd /proc/self/status))"

# ---- no user namespaces (none left to make, in a namespace of our own) ----
CASE=nouserns
if unshare --user --map-root-user --fork true 2> /dev/null; then
	unshare --user --map-root-user --fork sh -c 'echo 0 > /proc/sys/user/max_user_namespaces &&
		exec "$0" --pidns true' "$BIN/ckpt-run" > "$TMP/msg" 2>&1
	rc=$?
	[ $rc -eq 127 ] && grep -q 'cannot create a user and pid namespace' "$TMP/msg" ||
		bad "$CASE: ckpt-run --pidns: rc $rc, want 127 and the reason: $(cat "$TMP/msg")"
fi

[ $nbad -eq 0 ] || exit 1
exit 0
