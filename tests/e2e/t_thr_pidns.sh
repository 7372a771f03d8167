#!/bin/bash
# Threads without privilege: as an ordinary user, a program started with
# `ckpt-run --pidns` with 1, 8 and 64 computing threads is checkpointed
# from outside (ckpt-save with its outer pid), killed, and restarted by
# the same user: every thread gets its tid back (inside the namespace)
# and finishes with the result of an uninterrupted run.
. "$(dirname "$0")/lib.sh"
unpriv_user
as_user unshare --user --pid --mount --fork true 2> "$TMP/unshare" ||
	skip "$U cannot create a user+pid namespace here: $(cat "$TMP/unshare")"
UD=$TMP/u
mkdir "$UD"
chown "$uid:$gid" "$UD"
for n in 1 8 64; do
	CASE=thr$n
	as_user "$BIN/ckpt-run" --pidns "$PROGS/threads" $n "$UD/$n.img" run > "$TMP/$CASE.out" 2>&1 &
	run=$!
	PIDS+=("$run")
	program_of "$run"
	wait_line "$TMP/$CASE.out" "STARTED pid 2"
	as_user "$BIN/ckpt-save" "$PROG" "$UD/$n.img" 2> "$TMP/$CASE.save" ||
		fail "$CASE: ckpt-save as $U: $(cat "$TMP/$CASE.save")"
	old=$PROG
	kill -9 "$run"
	wait "$run" 2> /dev/null
	wait_for 20 gone "$old" || fail "$CASE: the program outlived ckpt-run"
	as_user "${RESTART[@]}" "$UD/$n.img" > "$TMP/$CASE.out2" 2>&1 &
	rst=$!
	PIDS+=("$rst")
	program_of "$rst"
	kill -USR2 "$PROG"		# stop the workers, join, verify (waits out the restore)
	wait "$rst"
	rc=$?
	grep -q "ALL OK" "$TMP/$CASE.out2" && [ $rc -eq 0 ] ||
		fail "$CASE: restarted as $U (rc $rc): $(cat "$TMP/$CASE.out2")"
done
