#!/bin/bash
# Locks a checkpoint cannot hold faithfully are refused by name (ckpt-save
# exit 5, no image), and the process goes on holding them
# (fds/fd_lock.c): a lease being broken (another process is waiting to
# open the file), a lease whose break signal goes to the process group
# (F_SETOWN), a flock on fd 1 when it is a pipe (a restart gives the
# process ckpt-restart's own fd 1, not this pipe).
. "$(dirname "$0")/lib.sh"
LC=$PROGS/lockcheck
D=$TMP/d
mkdir -p "$D"
touch "$D/leased" "$D/owned"

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

start pgrp lease-pgrp "$D/owned"
refused pgrp "fd 3: $D/owned: the process holds a lease on it whose break signal goes to process group"
kill9 "$PID"

shim "$LC" hold flock-stdout 2> "$TMP/stdout.out" | cat > /dev/null &
PIDS+=("$!")
wait_line "$TMP/stdout.out" '^HELD'
PID=$(pgrep -n -f "$LC hold flock-stdout") || fail "flock-stdout: no process"
PIDS+=("$PID")
refused stdout "fd 1: pipe:\[[0-9]*\]: the process holds a flock on it, but a restart does not reopen this file"
kill9 "$PID"
exit 0
