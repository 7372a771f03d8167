#!/bin/bash
# Locks a checkpoint cannot hold faithfully are refused by name (ckpt-save
# exit 5, no image), and the process goes on holding them
# (fds/fd_lock.c): a lease being broken (another process is waiting to
# open the file), a lease whose break signal goes to the process group
# (F_SETOWN), a flock on fd 1 when it is a pipe (a restart gives the
# process ckpt-restart's own fd 1, not this pipe), more locks on one open
# file than its fdinfo can show in 240 KiB.  And at restart: a
# flock the process took on an open file it shares with another process
# (inherited fd 9), which that process still holds after the kill: the
# restart fails (exit 4) saying so.
. "$(dirname "$0")/lib.sh"
LC=$PROGS/lockcheck
D=$TMP/d
mkdir -p "$D"
touch "$D/leased" "$D/owned" "$D/many"

# refused NAME WANT: ckpt-save of $PID fails (5) with WANT in its message, no image
refused() {
	local rc
	"$BIN/ckpt-save" "$PID" "$TMP/$1.img" > "$TMP/$1.msg" 2>&1
	rc=$?
	[ $rc -eq 5 ] || fail "$1: ckpt-save rc $rc, want 5: $(cat "$TMP/$1.msg")"
	grep -q -- "$2" "$TMP/$1.msg" || fail "$1: the message does not say /$2/: $(cat "$TMP/$1.msg")"
	ls "$TMP/$1.img"* > /dev/null 2>&1 && fail "$1: an image was left: $(ls "$TMP/$1.img"*)"
	kill -0 "$PID" 2> /dev/null || fail "$1: the process died"
	return 0
}
start() {	# NAME ARGS...: lockcheck under libckpt, pid in PID
	local name=$1
	shift
	shim "$LC" hold "$@" 2> "$TMP/$name.out" &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$name.out" '^HELD'
}

start breaking lease "$D/leased"
expect=$("$LC" lease "$D/leased")		# opens it for writing: the break starts
[ "$expect" = leased ] || fail "breaking: the lease was not held: $expect"
refused breaking "fd 3: $D/leased: the process's lease on it is being broken"
kill9 "$PID"

start many many "$D/many" 5000
refused many 'fd 3: /proc/self/fdinfo/3 is larger than 240 KiB (thousands of file locks?)'
kill9 "$PID"

start pgrp lease-pgrp "$D/owned"
refused pgrp "fd 3: $D/owned: the process holds a lease on it whose break signal goes to process group"
kill9 "$PID"

shim "$LC" hold flock-fd 1 2> "$TMP/stdout.out" | cat > /dev/null &
PIDS+=("$!")
wait_line "$TMP/stdout.out" '^HELD'
PID=$(pgrep -n -f "$LC hold flock-fd 1") || fail "flock-fd 1: no process"
PIDS+=("$PID")
refused stdout "fd 1: pipe:\[[0-9]*\]: the process holds a flock on it, but a restart does not reopen this file"
kill9 "$PID"

# fd 9 inherited from a shell that keeps it (then `sleep`): the lock is
# the open file's, and outlives the process
touch "$D/shared"
# (lockcheck orphaned at once, so that init reaps it when it is killed)
( _close_fds; exec 9< "$D/shared"
  ( LD_PRELOAD="$LIB" "$LC" hold flock-fd 9 2> "$TMP/shared.out" &
    echo $! > "$TMP/shared.pid" )
  exec sleep 1000 ) &
KEEPER=$!
PIDS+=("$KEEPER")
wait_line "$TMP/shared.out" '^HELD'
PID=$(cat "$TMP/shared.pid")
PIDS+=("$PID")
"$BIN/ckpt-save" "$PID" "$TMP/shared.img" > "$TMP/shared.msg" 2>&1 ||
	fail "shared: ckpt-save: $(cat "$TMP/shared.msg")"
kill9 "$PID"
clean_fds "${RESTART[@]}" "$TMP/shared.img" > "$TMP/shared.neg" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q "fd 9: $D/shared: the process's exclusive flock (LOCK_EX) cannot be taken back: another process still holds an exclusive flock (LOCK_EX) that the checkpointed process took on an open file it shares with it" "$TMP/shared.neg" ||
	fail "shared: restart rc $rc, want 4 and the reason: $(cat "$TMP/shared.neg")"
kill9 "$KEEPER"
clean_fds "${RESTART[@]}" --check "$TMP/shared.img" > "$TMP/shared.chk" 2>&1 ||
	fail "shared: once the other process is gone, --check still says: $(cat "$TMP/shared.chk")"
exit 0
