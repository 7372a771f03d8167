#!/bin/bash
# pidfds of the process itself survive checkpoint, SIGKILL and restart
# (tests/e2e/progs/ghosts.c, case pidfd): a plain one, PIDFD_NONBLOCK and
# PIDFD_THREAD (main thread) are pidfds of the restarted process (its pid
# is the same), with their flags; poll() says it runs, pidfd_send_signal()
# reaches it.  A pidfd of another thread (PIDFD_THREAD, made by the
# restorer once the thread exists) and its dup: the thread's tid, one
# description, a signal through it reaches that thread, poll() says when
# the thread has ended.  (A pidfd of another process and namespace fds
# are refused: t_refusals.sh.)
. "$(dirname "$0")/lib.sh"
D=$TMP/d
mkdir -p "$D"
c=pidfd
cycle $c "$TMP/$c.out" "$TMP/go.$c" -- "$PROGS/ghosts" $c "$D" "$TMP/go.$c"
[ $RC -eq 0 ] && grep -q "^OK $c" "$TMP/$c.out.2" ||
	fail "$c: restarted copy (rc $RC): $(cat "$TMP/$c.out.2")"
"$BIN/ckpt-info" "$TMP/$c.img" > "$TMP/$c.info" || fail "ckpt-info rc $?"
grep -q 'pidfd of pid [0-9]* (PIDFD_NONBLOCK)' "$TMP/$c.info" ||
	fail "ckpt-info: $(cat "$TMP/$c.info")"
# PIDFD_THREAD is Linux 6.9: ghosts says when it left the thread pidfds out
if grep -q '^note: no PIDFD_THREAD' "$TMP/$c.out"; then
	echo "note: $(sed -n 's/^note: //p' "$TMP/$c.out")"
else
	grep -q 'pidfd of pid [0-9]* (PIDFD_THREAD)' "$TMP/$c.info" &&
		grep -q 'pidfd of pid [0-9]* (PIDFD_THREAD) (PIDFD_NONBLOCK)' "$TMP/$c.info" ||
		fail "ckpt-info: $(cat "$TMP/$c.info")"
fi
exit 0
