#!/bin/bash
# SysV shared memory, semaphores and message queues survive checkpoint,
# SIGKILL and restart (tests/e2e/progs/sysv.c makes them and checks them
# in the restarted copy: ids, keys, modes, owners, contents, values,
# messages in order with their types, a segment attached twice (once
# SHM_RDONLY), a segment IPC_RMID'ed while attached):
#   crash    the objects outlive the killed process, and another process
#            changes them before the restart (scribbles over the
#            segment, moves a semaphore, adds a message): the restart
#            reuses each one (same id, key, creator, ctime) and puts the
#            saved state back
#   reboot   the objects are gone (ipcrm): made again with their ids
#   taken    another queue holds the saved queue's id: --check and the
#            restart refuse, exit 4, naming it and how to free it
#   ipcns    `ckpt-run --ipcns` as an unprivileged user: the objects live
#            in the program's own IPC namespace (not the host's); the
#            restart, as that user, makes a new one with every id; the
#            restarted copy is saved and restarted again
#   noroot   the same user without --ipcns, objects gone: refused, exit
#            4, saying that making them again needs root or --ipcns
#   rootuser root restarts a user's image (no namespaces), objects gone:
#            made again with their ids, as the user (the copy checks owner
#            and creator)
# After each restarted copy exits, the kernel applies its SEM_UNDO
# adjustment (+4 on semaphore 2, measured at the checkpoint): 17 + 4.
. "$(dirname "$0")/lib.sh"
[ -r /proc/sysvipc/shm ] || skip "no SysV IPC in this kernel"
command -v ipcs > /dev/null && command -v ipcrm > /dev/null || skip "needs ipcs and ipcrm (util-linux)"
P=$PROGS/sysv
KEY=$(printf '0x%x' $((0x5e000000 + ($$ % 65536) * 16)))
trap 'ipcrm -M $KEY -S $((KEY + 1)) -Q $((KEY + 2)) 2>/dev/null; [ -n "${TAKEN:-}" ] && ipcrm -q "$TAKEN" 2>/dev/null; cleanup' EXIT

# sem_val ID NUM: the value of semaphore NUM of set ID (ipcs)
sem_val() { ipcs -s -i "$1" | awk -v n="$2" '$1 == n && NF >= 4 {print $2}'; }

# start CASE: runs the program, checkpoints it, kills it; IDS holds its ids
start() {
	CASE=$1 GO=$TMP/go.$1 OUT=$TMP/$1.out IMG=$TMP/$1.img
	shim "$P" run "$KEY" "$GO" > "$OUT" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$OUT" '^READY|^setup'
	grep -q '^READY' "$OUT" || fail "$CASE: $(cat "$OUT")"
	read -r _ SHM SHM2 SEM MSG < <(grep '^ids ' "$OUT")
	"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/$CASE.save" 2>&1 ||
		fail "$CASE: ckpt-save rc $?: $(cat "$TMP/$CASE.save")"
	kill9 "$PID"
}

# finish: restarts the image, lets the copy check, then the adjustment
finish() {
	"${RESTART[@]}" --check "$IMG" > "$TMP/$CASE.check" 2>&1 ||
		fail "$CASE: --check rc $?: $(cat "$TMP/$CASE.check")"
	restart_bg "$IMG" > "$OUT.2" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "$CASE: not restarted: $(cat "$OUT.2")"
	PIDS+=("$PID")
	touch "$GO"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^OK' "$OUT.2" || fail "$CASE: restarted copy (rc $rc): $(cat "$OUT.2")"
	[ "$(sem_val "$SEM" 2)" = 21 ] ||
		fail "$CASE: after the copy exited semaphore 2 is $(sem_val "$SEM" 2), want 17 + its SEM_UNDO adjustment 4"
	ipcrm -m "$SHM" -s "$SEM" -q "$MSG"
}

# --- crash: the objects are still there, changed meanwhile ---
start crash
"$P" mess "$SHM" "$SEM" "$MSG" > "$TMP/mess" 2>&1 || fail "crash: mess: $(cat "$TMP/mess")"
"$BIN/ckpt-info" "$IMG" > "$TMP/crash.info" || fail "crash: ckpt-info rc $?"
grep -q "shm $SHM  key $KEY, mode 640, 12388 bytes" "$TMP/crash.info" &&
	grep -q "shm $SHM2  key 0x0, mode 600 removed, 8192 bytes" "$TMP/crash.info" &&
	grep -q "sem $SEM  key $(printf '0x%x' $((KEY + 1))), mode 600, values 5 0 17; this process's adjustments: #2 +4" "$TMP/crash.info" &&
	grep -q "msg $MSG  key $(printf '0x%x' $((KEY + 2))), mode 620, 5 messages, 47 bytes (limit 8000)" "$TMP/crash.info" &&
	grep -q "r--s .*(SysV shm $SHM, SHM_RDONLY)" "$TMP/crash.info" ||
	fail "crash: ckpt-info: $(grep -A12 '^SysV' "$TMP/crash.info")"
"$BIN/ckpt-info" --json "$IMG" > "$TMP/crash.json" || fail "crash: ckpt-info --json rc $?"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); i=d["ipc"];
assert sorted(o["id"] for o in i["shm"]) == sorted([int(sys.argv[2]), int(sys.argv[3])]), i
assert i["sem"][0]["values"] == [5, 0, 17] and i["sem"][0]["undo"] == [{"num": 2, "adj": 4}], i
assert [m["type"] for m in i["msg"][0]["messages"]] == [1, 2, 1, 3, 2], i' \
	"$TMP/crash.json" "$SHM" "$SHM2" 2> "$TMP/json.err" || fail "crash: ckpt-info --json: $(cat "$TMP/json.err")"
finish

# --- reboot: the objects are gone ---
start reboot
ipcrm -m "$SHM" -s "$SEM" -q "$MSG"
finish

# --- taken: another queue has the saved one's id ---
if [ -w /proc/sys/kernel/msg_next_id ]; then
	start taken
	ipcrm -q "$MSG"
	"$P" take-msg "$MSG" > "$TMP/take" 2>&1 || fail "taken: $(cat "$TMP/take")"
	TAKEN=$MSG
	want="SysV message queue $MSG (key $(printf '0x%x' $((KEY + 2)))) is not the one saved: id $MSG now holds one with key 0x0"
	"${RESTART[@]}" --check "$IMG" > "$TMP/taken.check" 2>&1
	rc=$?
	[ $rc -eq 4 ] && grep -q "$want" "$TMP/taken.check" && grep -q "ipcrm -q $MSG" "$TMP/taken.check" ||
		fail "taken: --check rc $rc: $(cat "$TMP/taken.check")"
	"${RESTART[@]}" "$IMG" > "$TMP/taken.out" 2>&1
	rc=$?
	[ $rc -eq 4 ] && grep -q "$want" "$TMP/taken.out" || fail "taken: restart rc $rc: $(cat "$TMP/taken.out")"
	[ -d "/proc/$PID" ] && fail "taken: the process runs"
	ipcrm -q "$MSG"
	TAKEN=
	finish
fi

# --- refusals: each names the object ---
# refuse CASE WANT [as_user]: the program's CASE shape, ckpt-save refused with WANT
refuse() {
	CASE=$1 GO=$TMP/go.$1 OUT=$TMP/$1.out IMG=$TMP/$1.img
	if [ -n "${3:-}" ]; then
		as_user env LD_PRELOAD="$LIB" "$P" "$1" "$GO" > "$OUT" 2>&1 &
	else
		shim "$P" "$1" "$GO" > "$OUT" 2>&1 &
	fi
	PID=$!
	PIDS+=("$PID")
	wait_line "$OUT" '^READY|^setup'
	grep -q '^READY' "$OUT" || fail "$CASE: $(cat "$OUT")"
	${3:-} "$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/$CASE.save" 2>&1
	rc=$?
	[ $rc -eq 5 ] && grep -qF "$2" "$TMP/$CASE.save" && [ ! -e "$IMG" ] ||
		fail "$CASE: ckpt-save rc $rc, want 5 and \"$2\": $(cat "$TMP/$CASE.save")"
	touch "$GO"
	wait "$PID"
	read -r _ ID < <(grep '^ids ' "$OUT")
}
if [ "$(id -u)" = 0 ]; then	# (the program's unshare needs it)
	refuse unshare "is not in the process's IPC namespace (attached before an unshare or setns?); a restart could not attach it again"
	ipcrm -m "$ID"
fi
NR=/proc/sys/vm/nr_hugepages
FREE=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
if [ -w $NR ] && [ -r $FREE ]; then
	old=$(cat $NR)
	echo $(($(cat $NR) - $(cat $FREE) + 1)) > $NR 2> /dev/null
	[ "$(cat $FREE)" -ge 1 ] &&
		refuse huge "is made of huge pages (SHM_HUGETLB): not supported"
	echo "$old" > $NR
else
	echo "note: no huge pages to reserve here: the SHM_HUGETLB refusal is not tested"
fi

# --- ipcns: an unprivileged user's program in its own IPC namespace ---
unpriv_user
as_user test -x "$BIN/ckpt-run" -a -x "$BIN/ckpt-restart" -a -x "$P" -a -r "$LIB" ||
	skip "the build tree is not readable by $U"
as_user unshare --user --pid --ipc --mount --fork true 2> "$TMP/unshare" ||
	skip "$U cannot create a user+pid+IPC namespace here: $(cat "$TMP/unshare")"
UD=$TMP/u
mkdir "$UD"
chown "$uid:$gid" "$UD"
TMP=$UD refuse noread "SysV semaphore set" as_user
grep -q "cannot read its values to save them (semctl GETALL: Permission denied); the process needs read permission on it" "$UD/noread.save" ||
	fail "noread: $(cat "$UD/noread.save")"
ipcrm -s "$ID"
CASE=ipcns GO=$UD/go OUT=$TMP/ipcns.out IMG=$UD/ipcns.img
as_user "$BIN/ckpt-run" --ipcns "$P" run "$KEY" "$GO" > "$OUT" 2>&1 &
RUN=$!
PIDS+=("$RUN")
wait_line "$OUT" '^READY|^setup'
grep -q '^READY' "$OUT" || fail "$CASE: $(cat "$OUT")"
program_of "$RUN"
ipcs -m | grep -qi "$(printf '0x%08x' "$KEY")" && fail "$CASE: the segment is in the host's IPC namespace"
as_user "$BIN/ckpt-save" "$PROG" "$IMG" > "$TMP/ipcns.save" 2>&1 || fail "$CASE: ckpt-save: $(cat "$TMP/ipcns.save")"
"$BIN/ckpt-info" "$IMG" | grep -q 'namespace: its own (ckpt-run --ipcns)' ||
	fail "$CASE: ckpt-info: $("$BIN/ckpt-info" "$IMG" | grep -A8 '^SysV')"
kill -9 "$RUN"
wait "$RUN" 2> /dev/null
wait_for 20 gone "$PROG" || fail "$CASE: the program outlived ckpt-run"
as_user "${RESTART[@]}" --check "$IMG" > "$TMP/ipcns.check" 2>&1 ||
	fail "$CASE: --check as $U: rc $?: $(cat "$TMP/ipcns.check")"
# two generations: the restarted copy, in the namespace the restart made, saved again
for gen in 1 2; do
	as_user "${RESTART[@]}" "$IMG" > "$OUT.2" 2>&1 &
	RPID=$!
	PIDS+=("$RPID")
	program_of "$RPID"
	ipcs -m | grep -qi "$(printf '0x%08x' "$KEY")" &&
		fail "$CASE: generation $gen: the restart made the segment in the host's IPC namespace"
	[ $gen = 2 ] && break
	IMG=$UD/ipcns2.img
	as_user "$BIN/ckpt-save" "$PROG" "$IMG" > "$TMP/ipcns.save" 2>&1 ||
		fail "$CASE: ckpt-save of the restarted copy: $(cat "$TMP/ipcns.save")"
	"$BIN/ckpt-info" "$IMG" | grep -q 'namespace: its own (ckpt-run --ipcns)' ||
		fail "$CASE: the restarted copy's image: $("$BIN/ckpt-info" "$IMG" | grep -A8 '^SysV')"
	kill -9 "$RPID"
	wait "$RPID" 2> /dev/null
	wait_for 20 gone "$PROG" || fail "$CASE: the restarted copy outlived ckpt-restart"
done
touch "$GO"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q '^OK' "$OUT.2" || fail "$CASE: restarted copy (rc $rc): $(cat "$OUT.2")"

# --- noroot: the same user, no namespace of its own, the objects gone ---
CASE=noroot GO=$UD/go2 OUT=$TMP/noroot.out IMG=$UD/noroot.img
as_user "$BIN/ckpt-run" --pidns "$P" run "$KEY" "$GO" > "$OUT" 2>&1 &
RUN=$!
PIDS+=("$RUN")
wait_line "$OUT" '^READY|^setup'
grep -q '^READY' "$OUT" || fail "$CASE: $(cat "$OUT")"
read -r _ SHM SHM2 SEM MSG < <(grep '^ids ' "$OUT")
program_of "$RUN"
as_user "$BIN/ckpt-save" "$PROG" "$IMG" > "$TMP/noroot.save" 2>&1 || fail "$CASE: ckpt-save: $(cat "$TMP/noroot.save")"
kill -9 "$RUN"
wait "$RUN" 2> /dev/null
wait_for 20 gone "$PROG" || fail "$CASE: the program outlived ckpt-run"
ipcrm -m "$SHM" -s "$SEM" -q "$MSG"
as_user "${RESTART[@]}" "$IMG" > "$TMP/noroot.out2" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q "SysV shared memory segment $SHM (key $KEY) is gone, and making it again with that id needs root" "$TMP/noroot.out2" &&
	grep -q 'ckpt-run --ipcns' "$TMP/noroot.out2" ||
	fail "$CASE: rc $rc, want 4 and the reason: $(cat "$TMP/noroot.out2")"

# --- rootuser: root restarts the user's image (no namespaces), the objects gone ---
# ckpt-restart becomes the user and keeps CAP_CHECKPOINT_RESTORE for the ids
CASE=rootuser GO=$UD/go3 OUT=$TMP/rootuser.out IMG=$UD/rootuser.img
as_user env LD_PRELOAD="$LIB" "$P" run "$KEY" "$GO" > "$OUT" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$OUT" '^READY|^setup'
grep -q '^READY' "$OUT" || fail "$CASE: $(cat "$OUT")"
read -r _ SHM SHM2 SEM MSG < <(grep '^ids ' "$OUT")
as_user "$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/rootuser.save" 2>&1 || fail "$CASE: ckpt-save: $(cat "$TMP/rootuser.save")"
kill9 "$PID"
ipcrm -m "$SHM" -s "$SEM" -q "$MSG"
restart_bg "$IMG" > "$OUT.2" 2>&1
wait_for 20 test -d "/proc/$PID" || fail "$CASE: not restarted: $(cat "$OUT.2")"
[ "$(awk '/^Uid:/ {print $2}' "/proc/$PID/status")" = "$uid" ] || fail "$CASE: the copy is not uid $uid"
touch "$GO"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q '^OK' "$OUT.2" || fail "$CASE: restarted copy (rc $rc): $(cat "$OUT.2")"
[ "$(sem_val "$SEM" 2)" = 21 ] || fail "$CASE: semaphore 2 is $(sem_val "$SEM" 2) after the copy exited, want 21"
ipcrm -m "$SHM" -s "$SEM" -q "$MSG"
exit 0
