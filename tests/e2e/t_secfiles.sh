#!/bin/bash
# Image files in a shared directory, attacked (issue 9, finding 1): another
# user ("nobody") plants, at every temporary name it could guess, a
# symlink to a file the victim owns, or an empty 0666 file of its own;
# then the victim saves, by each trigger: ckpt_save(), ckpt-save,
# CKPT_SIGNAL, CKPT_INTERVAL, CKPT_ON_TERM.  The victim is root, then the
# unprivileged test user; the files are made as an O_TMPFILE, then (with
# CKPT_TMPFILE=0) under a random name with O_EXCL.  Each time:
#  - no planted link is followed: the file it points to is unchanged;
#  - no planted file is reused: it is still there, empty, the attacker's;
#  - a symlink planted at the final name is replaced, not followed;
#  - the image is a regular file, mode 0600, valid (ckpt-info), owned by
#    the victim — and by the target's user when root runs ckpt-save on
#    that user's process (root owns only images of root's processes);
#  - no temporary file is left.
# The guessable names: IMAGE.tmp.<pid of the saver> (what libckpt used):
# the process and ckpt-save are started stopped, so their pids are known
# before they run, and the names are planted then.
. "$(dirname "$0")/lib.sh"
unpriv_user
P=$PROGS/secsave
as_user test -x "$P" -a -r "$LIB" -a -x "$BIN/ckpt-save" || skip "the build tree is not readable by $U"
id nobody > /dev/null 2>&1 || skip "no user nobody to attack with"
AUID=$(id -u nobody)
AGID=$(id -g nobody)
D=$TMP/shared
mkdir "$D"
chmod 0777 "$D"		# shared, and not sticky: no fs.protected_* help
nbad=0
bad() { echo "FAIL: $CASE: $*"; nbad=$((nbad + 1)); }

attacker() { clean_fds setpriv --reuid="$AUID" --regid="$AGID" --clear-groups "$@"; }
# as VICTIM CMD...: runs CMD as root or as the test user, fds closed.
as() {
	local who=$1
	shift
	if [ "$who" = root ]; then clean_fds "$@"; else as_user "$@"; fi
}
uid_of() { [ "$1" = root ] && echo 0 || echo "$uid"; }
stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; }

# plant KIND NAME...: as the attacker, a symlink to $PRECIOUS or an empty
# 0666 file at each NAME.
plant() {
	local kind=$1
	shift
	PLANTED+=("$@")
	if [ "$kind" = link ]; then
		attacker bash -c 'p=$1; shift; for n; do ln -s "$p" "$n" || exit 1; done' x "$PRECIOUS" "$@"
	else
		attacker bash -c 'for n; do : > "$n" && chmod 0666 "$n" || exit 1; done' x "$@"
	fi || bad "cannot plant $kind at $*"
}

# setup VICTIM KIND: a precious file of the victim's, the image name.
setup() {
	PRECIOUS=$TMP/precious.$CASE
	echo "precious $CASE" > "$PRECIOUS"
	chown "$(uid_of "$1")" "$PRECIOUS"
	chmod 0644 "$PRECIOUS"
	IMG=$D/$CASE.img
	PLANTED=()
	[ "$2" = link ] && plant link "$IMG"	# the final name too: replaced, not followed
}

# verify KIND OWNER: the checks of the header, after a save.
verify() {
	local kind=$1 owner=$2 n left
	echo "precious $CASE" | cmp -s - "$PRECIOUS" || bad "the planted link was followed: $PRECIOUS now holds $(head -c 40 "$PRECIOUS" | od -c | head -1)"
	for n in "${PLANTED[@]}"; do
		[ "$n" = "$IMG" ] && continue
		if [ "$kind" = link ]; then
			[ -L "$n" ] && [ "$(readlink "$n")" = "$PRECIOUS" ] || bad "the planted link $n was moved or changed"
		else
			[ -f "$n" ] && [ ! -s "$n" ] && [ "$(stat -c '%u %a' "$n")" = "$AUID 666" ] ||
				bad "the planted file $n was reused: $(stat -c '%s bytes, uid %u, mode %a' "$n" 2>&1)"
		fi
	done
	if [ -L "$IMG" ] || [ ! -f "$IMG" ]; then
		bad "no image file at $IMG: $(ls -l "$IMG" 2>&1)"
	else
		[ "$(stat -c '%u %a' "$IMG")" = "$owner 600" ] ||
			bad "the image is $(stat -c 'uid %u, mode %a' "$IMG"), want uid $owner, mode 600"
		"$BIN/ckpt-info" "$IMG" > "$TMP/info" 2>&1 || bad "the image is not valid: $(tail -2 "$TMP/info")"
	fi
	left=$(ls "$IMG".tmp.* 2>/dev/null | grep -vxF "$(printf '%s\n' "${PLANTED[@]}")")
	[ -z "$left" ] || bad "temporary files left: $left"
}

# start VICTIM ENV...: the program as VICTIM, started stopped (PID known,
# not yet running), reading commands from $FIFO on fd 8.
start() {
	local who=$1
	shift
	rm -f "$TMP/fifo"
	mkfifo -m 0666 "$TMP/fifo"
	as "$who" bash -c 'kill -STOP $$; exec env "$@"' x LD_PRELOAD="$LIB" "$@" "$P" 2 cmd \
		< "$TMP/fifo" > "$TMP/$CASE.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	exec 8> "$TMP/fifo"
	wait_for 20 stopped "$PID" || fail "$CASE: the program did not start"
}
go() {
	kill -CONT "$PID"
	wait_line "$TMP/$CASE.out" '^READY'
}
finish() {
	exec 8>&-
	kill9 "$PID"
}

# one_case TRIGGER VICTIM KIND MODE
one_case() {
	local trig=$1 who=$2 kind=$3 mode=$4 env=(CKPT_TMPFILE="$mode") spid rc owner
	CASE=$trig-$who-$kind-$mode
	setup "$who" "$kind"
	owner=$(uid_of "$who")
	case $trig in
	self)
		start "$who" "${env[@]}"
		plant "$kind" "$IMG.tmp.$PID"
		go
		echo "save $IMG" >&8
		wait_line "$TMP/$CASE.out" '^SELF '
		grep -q '^SELF SAVED' "$TMP/$CASE.out" || bad "ckpt_save: $(grep SELF "$TMP/$CASE.out")"
		finish ;;
	save|rootsave)
		start "$who" "${env[@]}"
		go
		# ckpt-save too is started stopped: its pid is known
		as "$([ "$trig" = rootsave ] && echo root || echo "$who")" \
			bash -c 'kill -STOP $$; exec "$@"' x env "${env[@]}" "$BIN/ckpt-save" "$PID" "$IMG" \
			> "$TMP/$CASE.save" 2>&1 &
		spid=$!
		wait_for 20 stopped "$spid" || fail "$CASE: ckpt-save did not start"
		plant "$kind" "$IMG.tmp.$spid"
		kill -CONT "$spid"
		wait "$spid"
		rc=$?
		[ $rc -eq 0 ] || bad "ckpt-save rc $rc: $(cat "$TMP/$CASE.save")"
		finish ;;
	signal)
		start "$who" "${env[@]}" CKPT_SIGNAL=USR1 CKPT_IMAGE="$IMG"
		plant "$kind" "$IMG.tmp.$PID"
		go
		kill -USR1 "$PID"
		wait_for 20 eval '[ -f "$IMG" ] && [ ! -L "$IMG" ]' || bad "no image after SIGUSR1: $(cat "$TMP/$CASE.out")"
		finish ;;
	interval)
		start "$who" "${env[@]}" CKPT_INTERVAL=1 CKPT_IMAGE="$IMG"
		plant "$kind" "$IMG.tmp.$PID"
		go
		wait_for 20 eval '[ -f "$IMG" ] && [ ! -L "$IMG" ]' || bad "no image after an interval: $(cat "$TMP/$CASE.out")"
		finish ;;
	term)
		start "$who" "${env[@]}" CKPT_ON_TERM="$IMG"
		plant "$kind" "$IMG.tmp.$PID"
		go
		kill -TERM "$PID"
		wait "$PID"
		rc=$?
		[ $rc -eq 143 ] || bad "the program's status after SIGTERM: $rc, want 143: $(cat "$TMP/$CASE.out")"
		exec 8>&- ;;
	esac
	# root's ckpt-save of the user's process: the user's image
	[ "$trig" = rootsave ] && owner=$uid
	verify "$kind" "$owner"
}

for mode in 1 0; do
	for kind in link file; do
		for trig in self save signal interval term; do
			for who in root user; do
				one_case "$trig" "$who" "$kind" "$mode"
			done
		done
		one_case rootsave user "$kind" "$mode"
	done
done
[ $nbad -eq 0 ] || fail "$nbad problems"
exit 0
