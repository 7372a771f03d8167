#!/bin/bash
# A save killed midway leaves no temporary file and the previous image as
# it was (issue 9, finding 4; issue 10, the writer's death blamed on the
# application).  The process holds 256 MiB of incompressible memory
# (CKPT_COMPRESS=none), so its pages take a while to write; the instant
# "pages being written" is found by polling: the writer is stopped
# (SIGSTOP), its image fd's position read, and it goes on (SIGCONT) until
# that position is past the first 4 MiB and short of the end.  Then, for
# the file made as an O_TMPFILE and (CKPT_TMPFILE=0) under a random name:
#   early     ckpt-save killed after it signalled the process, before its
#             request: the process goes on, nothing was made;
#   save      ckpt-save killed while pages are written by the forked copy,
#             and (nofork) by the process itself: the writer's reply fails
#             and it removes a named file; the process goes on;
#   app       the process killed while it writes its pages itself
#             (CKPT_FORK=0): ckpt-save says it died, exit 5;
#   appfork   the process killed while its forked copy writes: the copy
#             finishes, the image is complete and new;
#   writer    the forked copy killed: ckpt-save says the copy died (not
#             the process), exit 5; the process goes on;
#   self*     the same for a CKPT_SIGNAL save inside the process: the
#             copy killed, the process killed (O_TMPFILE only: a named
#             file of a killed in-process writer has nobody left to
#             remove it, docs/SECURITY.md).
# While frozen, the file being written is checked: mode 0600, owned by the
# process's user even though root runs ckpt-save.  Afterwards the
# directory holds exactly the image, which ckpt-info finds valid: the old
# one byte for byte, or (appfork, selfappfork) a new one.
. "$(dirname "$0")/lib.sh"
unpriv_user
P=$PROGS/secsave
as_user test -x "$P" -a -r "$LIB" || skip "the build tree is not readable by $U"
# 128 MiB: the writer is stopped between 4 MiB and MB - 16 MiB of its
# pages by a shell loop; on a loaded machine that loop may not run for
# tens of ms while the writer goes on at ~1 GB/s (64 MiB: missed 1 in 3)
MB=${MB:-128}
D=$TMP/img
mkdir "$D"
chmod 0777 "$D"
IMG=$D/app.img
nbad=0
bad() { echo "FAIL: $CASE: $*"; nbad=$((nbad + 1)); }

# writer_of PID: PID's forked writer still running (not a zombie).
writer_of() {
	local kids= c
	{ read -r kids < "/proc/$1/task/$1/children"; } 2> /dev/null
	for c in $kids; do
		[ "$(state_of "$c")" != Z ] && { echo "$c"; return 0; }
	done
	return 1
}
# writer FORK: the process's writer, stopped: its forked copy (FORK=1),
# caught as it is born (not one of OLD, the children before the trigger),
# or the process itself, stopped before the trigger (run the trigger
# after this).
writer() {
	if [ "$1" = 1 ]; then
		W=$(new_writer "$PID" $OLD) || bad "no forked writer appeared"
	else
		W=$PID
		stop_all "$PID"
	fi
}
# freeze PID: PID (stopped) is taken to its pages, then its file checked.
freeze() {
	local fd
	to_pages "$1" "$D" $((4 << 20)) $(((MB - 16) << 20)) || { bad "never caught $1 writing pages"; return 1; }
	fd=$(img_fd "$1" "$D")
	[ "$(stat -L -c '%u %a' "/proc/$1/fd/$fd")" = "$uid 600" ] ||
		bad "the file being written is $(stat -L -c 'uid %u, mode %a' "/proc/$1/fd/$fd"), want uid $uid, mode 600"
	case $(readlink "/proc/$1/fd/$fd") in
	"$D"/\#*" (deleted)") [ "$MODE" = 1 ] || bad "an O_TMPFILE with CKPT_TMPFILE=0" ;;
	"$IMG".tmp.????????????????) [ "$MODE" = 0 ] || bad "a named file where O_TMPFILE works: $(readlink "/proc/$1/fd/$fd")" ;;
	*) bad "the image is written to $(readlink "/proc/$1/fd/$fd")" ;;
	esac
}
alive() { [ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# A writer that has ended stays a zombie until the process's next save
# reaps it (its exit signal is 0: the application's wait() never sees it).
dead() { ! alive "$1"; }
only_image() { [ "$(ls -A "$D")" = app.img ]; }

# start ENV...: the program as the test user, 128 MiB, a first image (by
# root's ckpt-save) whose checksum is SUM0.
start() {
	rm -f "$D"/* "$D"/.[!.]* 2> /dev/null
	as_user env CKPT_COMPRESS=none CKPT_THREADS=1 CKPT_TMPFILE="$MODE" CKPT_LOG=info \
		LD_PRELOAD="$LIB" "$@" "$P" $MB > "$TMP/$CASE.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$CASE.out" '^READY'
	"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/$CASE.save0" 2>&1 || fail "$CASE: the first image: $(cat "$TMP/$CASE.save0")"
	SUM0=$(sha256sum < "$IMG")
	wait_for 20 eval '! writer_of "$PID" > /dev/null' || fail "$CASE: the first image's writer stays"
	OLD=$(children "$PID")
}
# saver: root's ckpt-save of $PID in the background, pid in SPID.
saver() {
	CKPT_TMPFILE=$MODE "$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/$CASE.save" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
}
# end old|new: the directory holds only the image, valid, the old one or
# a new one; no writer is left.
end() {
	wait_for 30 eval '! writer_of "$PID" > /dev/null' || bad "the writer $(writer_of "$PID") stays"
	wait_for 10 only_image || bad "left in $D: $(ls -A "$D" | tr '\n' ' ')"
	"$BIN/ckpt-info" "$IMG" > "$TMP/$CASE.info" 2>&1 || bad "the image is not valid: $(tail -2 "$TMP/$CASE.info")"
	if [ "$1" = old ]; then
		[ "$(sha256sum < "$IMG")" = "$SUM0" ] || bad "the previous image was changed"
	else
		[ "$(sha256sum < "$IMG")" != "$SUM0" ] || bad "no new image"
	fi
}
still_runs() {
	alive "$PID" || { bad "the process did not survive: $(tail -3 "$TMP/$CASE.out")"; return; }
	CKPT_TMPFILE=$MODE "$BIN/ckpt-save" "$PID" "$D/again.img" > "$TMP/$CASE.again" 2>&1 ||
		bad "the process cannot be saved again: $(cat "$TMP/$CASE.again")"
	rm -f "$D/again.img"
}

for MODE in 1 0; do
	# ckpt-save killed after its signal, before its request
	CASE=early-$MODE
	start
	stop_all "$PID"
	saver
	pending() { ! grep -q '^ShdPnd:.0*$' "/proc/$PID/status"; }
	wait_for 20 pending || bad "ckpt-save's signal never came"
	kill9 "$SPID"
	kill -CONT "$PID"
	wait_line "$TMP/$CASE.out" 'cannot connect back|went away'
	end old
	still_runs
	kill9 "$PID"

	# ckpt-save killed while the pages are written (forked copy, and in place)
	for fork in 1 0; do
		CASE=save-fork$fork-$MODE
		start CKPT_FORK=$fork
		if [ $fork = 1 ]; then saver; writer 1; else writer 0; saver; fi
		freeze "$W"
		kill9 "$SPID"
		kill -CONT "$W"
		end old
		[ "$MODE" = 0 ] && { grep -q 'removed its temporary file' "$TMP/$CASE.out" ||
			bad "the writer did not say it removed the file: $(tail -3 "$TMP/$CASE.out")"; }
		still_runs
		kill9 "$PID"
	done

	# the process killed while it writes (CKPT_FORK=0)
	CASE=app-$MODE
	start CKPT_FORK=0
	writer 0
	saver
	freeze "$PID"
	kill -9 "$PID"
	wait "$SPID"
	rc=$?
	[ $rc -eq 5 ] && grep -q "process $PID died during the checkpoint" "$TMP/$CASE.save" ||
		bad "ckpt-save rc $rc, want 5 and 'died': $(cat "$TMP/$CASE.save")"
	end old
	kill9 "$PID"

	# the process killed while its forked copy writes: the copy finishes
	CASE=appfork-$MODE
	start
	saver
	writer 1
	freeze "$W"
	kill9 "$PID"
	kill -CONT "$W"
	wait "$SPID"
	rc=$?
	[ $rc -eq 0 ] || bad "ckpt-save rc $rc: $(cat "$TMP/$CASE.save")"
	wait_for 20 dead "$W" || bad "the writer $W stays"
	end new

	# the forked copy killed: the process lives, ckpt-save blames the copy
	CASE=writer-$MODE
	start
	saver
	writer 1
	freeze "$W"
	kill -9 "$W"
	kill -CONT "$W"
	wait "$SPID"
	rc=$?
	[ $rc -eq 5 ] && grep -q "copy of it that writes the image died" "$TMP/$CASE.save" &&
		! grep -q "process $PID died" "$TMP/$CASE.save" ||
		bad "ckpt-save rc $rc, want 5 and the copy blamed: $(cat "$TMP/$CASE.save")"
	end old
	still_runs
	kill9 "$PID"
done

# In-process saves (CKPT_SIGNAL), the file an O_TMPFILE.
MODE=1
for fork in 1 0; do
	CASE=selfwriter-fork$fork
	start CKPT_FORK=$fork CKPT_SIGNAL=USR1 CKPT_IMAGE="$IMG"
	if [ $fork = 1 ]; then kill -USR1 "$PID"; writer 1; else writer 0; kill -USR1 "$PID"; fi
	freeze "$W"
	kill -9 "$W"
	kill -CONT "$W"
	[ $fork = 1 ] && { wait_for 20 dead "$W" || bad "the killed writer stays"; still_runs; }
	end old
	kill9 "$PID"
done
CASE=selfappfork
start CKPT_SIGNAL=USR1 CKPT_IMAGE="$IMG"
kill -USR1 "$PID"
writer 1
freeze "$W"
kill9 "$PID"
kill -CONT "$W"
wait_for 20 dead "$W" || bad "the writer $W stays"
end new

[ $nbad -eq 0 ] || fail "$nbad problems"
exit 0
