#!/bin/bash
# An event loop (tests/e2e/progs/evloop.c): epoll waiting on an inotify fd
# watching a directory, a periodic timerfd and an eventfd.  Files made
# before the checkpoint are reported; after checkpoint, SIGKILL and
# restart, files made are reported with the same wd, counted on from
# where the loop was (its memory), through the same eventfd, and the
# timer goes on ticking.
#
# Twice: the loop waiting with poll() on the three fds, then with epoll.
. "$(dirname "$0")/lib.sh"

# run_loop NAME ARGS...: the loop until a3 and a tick, saved, killed,
# restarted, b1-b3, stop.  Returns 1 (nothing checked) when the checkpoint
# refuses an epoll fd.
run_loop() {
	local name=$1 D=$TMP/$1 out=$TMP/$1.out img=$TMP/$1.img pid rc f
	shift
	mkdir -p "$D"
	shim "$PROGS/evloop" "$D" "$@" > "$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$out" '^READY|^BAD'
	grep -q '^READY' "$out" || fail "$name: $(cat "$out")"
	for f in a1 a2 a3; do touch "$D/$f"; done
	wait_line "$out" '^file a3 wd 1 n 3|^BAD'
	wait_line "$out" '^tick'
	if ! "$BIN/ckpt-save" "$pid" "$img" > "$TMP/$name.save" 2>&1; then
		grep -q 'anon_inode:\[eventpoll\]' "$TMP/$name.save" ||
			fail "$name: ckpt-save: $(cat "$TMP/$name.save")"
		return 1
	fi
	kill9 "$pid"
	"${RESTART[@]}" --check "$img" > "$TMP/$name.check" 2>&1 ||
		fail "$name: ckpt-restart --check: $(cat "$TMP/$name.check")"
	restart_bg "$img" > "$out.2" 2>&1
	wait_for 20 test -d "/proc/$pid" || fail "$name: not restarted: $(cat "$out.2")"
	for f in b1 b2 b3; do touch "$D/$f"; done
	wait_line "$out.2" '^file b3 wd 1 n 6|^BAD'
	wait_line "$out.2" '^tick'
	touch "$D/stop"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] || fail "$name: the restarted loop (rc $rc): $(cat "$out.2")"
	grep -q '^file b1 wd 1 n 4$' "$out.2" && grep -q '^DONE files 6 posted 6 ticks' "$out.2" ||
		fail "$name: the restarted loop: $(cat "$out.2")"
	! grep -q '^file a' "$out.2" ||
		fail "$name: files made before the checkpoint reported again: $(cat "$out.2")"
}

run_loop poll poll || fail "poll: refused: $(cat "$TMP/poll.save")"
run_loop epoll || fail "epoll: refused: $(cat "$TMP/epoll.save")"
exit 0
