#!/bin/bash
# Restart at once after kill -9 of a process that leads its session
# (setsid) or its process group (a job-control job), while the forked
# copy of a save is still writing its pages (issue 10, rough edges):
#  - the copy leaves the process's session and group (its own session):
#    it holds no reference to the process's pid, so ckpt-restart gets
#    that pid back at once;
#  - when another process does hold the pid as its session or process
#    group id (the process's own child, still running after the kill),
#    ckpt-restart exits 4 and names it.
. "$(dirname "$0")/lib.sh"
P=$PROGS/secsave
MB=128	# the writer caught in its pages by a shell loop: room for a loaded machine
nbad=0
bad() { echo "FAIL: $CASE: $*"; nbad=$((nbad + 1)); }

# launch sid|pgrp: the program as a session leader or as the leader of a
# job's process group, commands on fd 8; PID.
launch() {
	CASE=$1
	rm -f "$TMP/fifo"
	mkfifo "$TMP/fifo"
	if [ "$1" = sid ]; then
		shim setsid "$P" $MB cmd < "$TMP/fifo" > "$TMP/$CASE.out" 2>&1 &
	else
		set -m
		shim "$P" $MB cmd < "$TMP/fifo" > "$TMP/$CASE.out" 2>&1 &
		set +m
	fi
	exec 8> "$TMP/fifo"
	wait_line "$TMP/$CASE.out" '^READY'
	PID=$(awk '/^READY/ {print $2}' "$TMP/$CASE.out")
	PIDS+=("$PID")
	[ "$(stat_field "$PID" 3)" = "$PID" ] || fail "$CASE: $PID does not lead its process group"
	[ "$1" = pgrp ] || [ "$(stat_field "$PID" 4)" = "$PID" ] || fail "$CASE: $PID does not lead its session"
	IMG=$TMP/$CASE.img
	"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/$CASE.save0" 2>&1 || fail "$CASE: ckpt-save: $(cat "$TMP/$CASE.save0")"
	# the first save's writer ends (a zombie until the next save reaps it)
	wait_for 20 eval '[ -z "$(for c in $(children "$PID"); do [ "$(state_of "$c")" != Z ] && echo "$c"; done)" ]' ||
		fail "$CASE: the first save's writer stays"
}
# gone_pid PID: no process has PID (it may stay a zombie of a parent that
# is not us until that parent reaps it).
gone_pid() { [ ! -d "/proc/$1" ]; }
restarted() { [ -d "/proc/$PID" ] && [ "$(stat_field "$PID" 2)" = "$RPID" ]; }

for how in sid pgrp; do
	# 1. libckpt's writer of a second save, caught writing its pages and
	# held there while the process is killed and restarted
	launch $how
	mkdir -p "$TMP/$CASE.d"
	OLD=$(children "$PID")
	"$BIN/ckpt-save" "$PID" "$TMP/$CASE.d/2.img" > "$TMP/$CASE.save" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	W=$(new_writer "$PID" $OLD) || fail "$CASE: no forked writer"
	PIDS+=("$W")
	to_pages "$W" "$TMP/$CASE.d" $((4 << 20)) $(((MB - 8) << 20)) || fail "$CASE: never caught $W writing pages"
	[ "$(stat_field "$W" 3)" != "$PID" ] && [ "$(stat_field "$W" 4)" != "$PID" ] ||
		bad "the writer $W is in the process's group or session (pgid $(stat_field "$W" 3), sid $(stat_field "$W" 4))"
	exec 8>&-
	kill -9 "$PID"
	wait "$PID" 2> /dev/null
	wait_for 20 gone_pid "$PID" || fail "$CASE: $PID stays"
	restart_bg "$IMG" > "$TMP/$CASE.rst" 2>&1
	wait_for 20 restarted || bad "not restarted at once: $(cat "$TMP/$CASE.rst")"
	kill -CONT "$W"
	wait "$SPID"
	rc=$?
	[ $rc -eq 0 ] || bad "the second save: rc $rc: $(cat "$TMP/$CASE.save")"
	kill -9 "$PID" 2> /dev/null
	wait "$RPID"

	# 2. the process's own child holds the pid as its pgid/sid: named
	launch $how
	echo child >&8
	wait_line "$TMP/$CASE.out" '^CHILD'
	C=$(awk '/^CHILD/ {print $2}' "$TMP/$CASE.out")
	PIDS+=("$C")
	exec 8>&-
	kill -9 "$PID"
	wait "$PID" 2> /dev/null
	wait_for 20 gone_pid "$PID" || fail "$CASE: $PID stays"
	clean_fds "${RESTART[@]}" "$IMG" > "$TMP/$CASE.rst2" 2>&1
	rc=$?
	want="$([ $how = sid ] && echo "session" || echo "process group") id of process $C (secsave)"
	[ $rc -eq 4 ] && grep -q "pid $PID: it is still the $want" "$TMP/$CASE.rst2" ||
		bad "restart with pid $PID held by $C: rc $rc, want 4 and '$want': $(cat "$TMP/$CASE.rst2")"
	kill -9 "$C"
done
[ $nbad -eq 0 ] || fail "$nbad problems"
exit 0
