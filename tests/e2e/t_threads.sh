#!/bin/bash
# 1, 2, 8 and 64 threads computing (integer and floating point, TLS,
# recorded tids) are checkpointed mid-computation — by the main thread's
# ckpt_save() and from outside by ckpt-save — killed, and restarted: every
# thread gets its tid back, finishes with the result an uninterrupted run
# computes, and pthread_join works.
. "$(dirname "$0")/lib.sh"
for n in 1 2 8 64; do
	# self: main calls ckpt_save while the workers run
	shim "$PROGS/threads" $n "$TMP/s$n.img" self > "$TMP/s$n.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/s$n.out" "SAVED|failed"
	grep -q SAVED "$TMP/s$n.out" || fail "$n threads, self: $(cat "$TMP/s$n.out")"
	kill9 "$pid"
	clean_fds "${RESTART[@]}" "$TMP/s$n.img" > "$TMP/s$n.out2" 2>&1
	rc=$?
	grep -q "ALL OK" "$TMP/s$n.out2" || fail "$n threads, self, restarted (rc $rc): $(cat "$TMP/s$n.out2")"

	# transparent: ckpt-save from outside, at whatever instruction each thread is
	shim "$PROGS/threads" $n "$TMP/t$n.img" run > "$TMP/t$n.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/t$n.out" "STARTED"
	"$BIN/ckpt-save" "$pid" "$TMP/t$n.img" 2> "$TMP/t$n.save" || fail "$n threads, ckpt-save: $(cat "$TMP/t$n.save")"
	kill9 "$pid"
	restart_bg "$TMP/t$n.img" > "$TMP/t$n.out2" 2>&1
	wait_for 20 test -d "/proc/$pid" || fail "$n threads: restarted process not there"
	kill -USR2 "$pid"		# the restarted copy: stop the workers, join, verify
	wait "$RPID"
	rc=$?
	grep -q "ALL OK" "$TMP/t$n.out2" || fail "$n threads, ckpt-save, restarted (rc $rc): $(cat "$TMP/t$n.out2")"
	[ $rc -eq 0 ] || fail "$n threads: rc $rc"
	info=$("$BIN/ckpt-info" "$TMP/t$n.img") || fail "ckpt-info failed"
	echo "$info" | grep -q "^threads ($((n + 1))):" || fail "ckpt-info does not show $((n + 1)) threads"
done
