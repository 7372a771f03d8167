#!/bin/bash
# Event fds across checkpoint, SIGKILL and restart (tests/e2e/progs/evfd.c
# checks each itself and prints "OK CASE"): eventfds (counter above 2^32,
# EFD_SEMAPHORE, flags), timerfds (time left without the time between
# checkpoint and restart, which this test makes 1.5 s; period; expirations
# not read, exactly; TFD_TIMER_ABSTIME|CANCEL_ON_SET on CLOCK_REALTIME),
# signalfd (the pending signals it reads, in order), inotify (the same
# wds, gaps included, events after the restart), an eventfd, a timerfd and
# an inotify fd shared by a parent and its child (a tree, two generations:
# one counter, one timer, one queue).  Refused by name: an inotify fd with
# events queued, a fanotify fd.  ckpt-info shows each kind.
. "$(dirname "$0")/lib.sh"
E=$PROGS/evfd

# run_case NAME [GAP]: the program until READY, saved, killed (its whole
# tree), GAP seconds (the time between checkpoint and restart that timers
# must not count: that gap is what is tested, nothing waits on it),
# restarted (with GENS=N: saved, killed and restarted N times); then go,
# and "OK NAME".
run_case() {
	local name=$1 gap=${2:-0} d=$TMP/$1 img=$TMP/$1.img out=$TMP/$1.out pid g
	mkdir -p "$d"
	shim "$E" "$name" "$d" "$TMP/go.$name" > "$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$out" '^READY|^BAD'
	grep -q '^READY' "$out" || fail "$name: $(cat "$out")"
	RPID=
	for ((g = 1; g <= ${GENS:-1}; g++)); do
		"$BIN/ckpt-save" "$pid" "$img" > "$TMP/$name.save" 2>&1 ||
			fail "$name: generation $g: ckpt-save rc $?: $(cat "$TMP/$name.save")"
		kill_tree "$pid"
		[ -z "$RPID" ] || wait "$RPID"
		[ "$gap" = 0 ] || sleep "$gap"
		"${RESTART[@]}" --check "$img" > "$TMP/$name.check" 2>&1 ||
			fail "$name: ckpt-restart --check rc $?: $(cat "$TMP/$name.check")"
		restart_bg "$img" > "$out.2" 2>&1
		wait_for 20 test -d "/proc/$pid" || fail "$name: not restarted: $(cat "$out.2")"
		PIDS+=($(tree_pids "$RPID"))
	done
	touch "$TMP/go.$name"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q "^OK $name" "$out.2" ||
		fail "$name: restarted copy (rc $rc): $(cat "$out.2")"
	"$BIN/ckpt-info" "$img" > "$TMP/$name.info" || fail "$name: ckpt-info rc $?"
	"$BIN/ckpt-info" --json "$img" > "$TMP/$name.json" || fail "$name: ckpt-info --json rc $?"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/$name.json" ||
		fail "$name: ckpt-info --json is not JSON"
}

# refused NAME PATTERN: the checkpoint fails, saying PATTERN; the program runs on.
refused() {
	local name=$1 pat=$2 d=$TMP/$1 out=$TMP/$1.out pid
	mkdir -p "$d"
	shim "$E" "$name" "$d" "$TMP/go.$name" > "$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$out" '^READY|^BAD'
	grep -q '^READY' "$out" || fail "$name: $(cat "$out")"
	"$BIN/ckpt-save" "$pid" "$TMP/$name.img" > "$TMP/$name.save" 2>&1 &&
		fail "$name: the checkpoint was not refused"
	grep -q "$pat" "$TMP/$name.save" || fail "$name: refusal: $(cat "$TMP/$name.save")"
	touch "$TMP/go.$name"
	wait "$pid" || fail "$name: the program did not run on after the refusal: $(cat "$out")"
}

run_case eventfd
grep -q 'eventfd, counter 5000000000, O_NONBLOCK' "$TMP/eventfd.info" &&
	grep -q 'eventfd, counter 3, EFD_SEMAPHORE' "$TMP/eventfd.info" ||
	fail "ckpt-info: $(cat "$TMP/eventfd.info")"
grep -q '"eventfd": {"count": 3, "semaphore": true' "$TMP/eventfd.json" ||
	fail "ckpt-info --json: $(cat "$TMP/eventfd.json")"

run_case timerfd 1.5
grep -q 'timerfd on CLOCK_BOOTTIME, disarmed, .* 7 expirations not read' "$TMP/timerfd.info" &&
	grep -q 'timerfd on CLOCK_REALTIME, .*TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET' \
		"$TMP/timerfd.info" ||
	fail "ckpt-info: $(cat "$TMP/timerfd.info")"
grep -q '"ticks": 7' "$TMP/timerfd.json" || fail "ckpt-info --json: $(cat "$TMP/timerfd.json")"

run_case signalfd
grep -q 'signalfd of SIGUSR2,35, O_NONBLOCK' "$TMP/signalfd.info" ||
	fail "ckpt-info: $(cat "$TMP/signalfd.info")"

GENS=2 run_case tree

run_case inotify
grep -q 'inotify, 3 watches' "$TMP/inotify.info" && grep -q 'inotify, 1 watch, O_NONBLOCK' "$TMP/inotify.info" &&
	grep -q "wd 5001  IN_CREATE  inode [0-9]*  $TMP/inotify/b\$" "$TMP/inotify.info" &&
	grep -q "wd 4  IN_CREATE|IN_ONESHOT  inode [0-9]*  $TMP/inotify/c\$" "$TMP/inotify.info" &&
	grep -q "wd 1  IN_CREATE|IN_DELETE  inode [0-9]*  $TMP/inotify/a\$" "$TMP/inotify.info" ||
	fail "ckpt-info: $(cat "$TMP/inotify.info")"
grep -q '"wd": 2, "mask": 4095' "$TMP/inotify.json" ||
	fail "ckpt-info --json: $(cat "$TMP/inotify.json")"

# a watch the wrappers did not see added: found by its file handle (root here)
[ "$(id -u)" = 0 ] && run_case rawwatch
# an event queued at the checkpoint: an IN_Q_OVERFLOW in its place after the restart
run_case queued
grep -q 'inotify, 1 watch, events queued: an IN_Q_OVERFLOW in their place after a restart' \
	"$TMP/queued.info" || fail "ckpt-info: $(cat "$TMP/queued.info")"

refused fanotify 'fd [0-9]*: a fanotify fd (anon_inode:\[fanotify\]), not supported.*close it'

# without CAP_DAC_READ_SEARCH, a watch whose path is unknown is refused by name
if [ "$(id -u)" = 0 ]; then
	unpriv_user
	as_user test -x "$E" -a -r "$LIB" || skip "the test user cannot run the build"
	d=$TMP/unpriv
	mkdir -p "$d" && chown "$uid:$gid" "$d"
	as_user env LD_PRELOAD="$LIB" "$E" rawwatch "$d" "$d/go" > "$TMP/unpriv.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/unpriv.out" '^READY|^BAD'
	grep -q '^READY' "$TMP/unpriv.out" || fail "unpriv: $(cat "$TMP/unpriv.out")"
	as_user "$BIN/ckpt-save" "$pid" "$d/x.img" > "$TMP/unpriv.save" 2>&1 &&
		fail "unpriv: the checkpoint was not refused"
	grep -q "fd [0-9]*: inotify watch wd 1 on inode [0-9]* (device [0-9]*:[0-9]*): its path is unknown.*CAP_DAC_READ_SEARCH" \
		"$TMP/unpriv.save" || fail "unpriv: refusal: $(cat "$TMP/unpriv.save")"
	touch "$d/go"
	wait "$pid" || fail "unpriv: the program did not run on: $(cat "$TMP/unpriv.out")"
fi
exit 0
