#!/bin/bash
# Threads synchronising through pthread objects are checkpointed from
# outside at a random moment while they run, killed and restarted; after
# the restart they carry on and finish with the results an uninterrupted
# run must give:
#  - thr_queue: 2 producers and 2 consumers on a bounded queue (mutex and
#    condition variables): items 1..N each consumed exactly once (count N,
#    sum N(N+1)/2, no duplicate in the seen-bitmap, none missing);
#    checkpointed by ckpt-save, then by CKPT_SIGNAL;
#  - thr_barrier: 4 threads in rounds between two pthread_barriers: every
#    round complete on every thread, exactly one serial thread per barrier
#    and round.
# The random moment: the program reports reaching a randomly chosen count
# (M1) and the checkpoint is taken right then; the restarted copy must go
# on to M2 (or, when the original was saved only after M2, to the next
# 512th count) before it is told to stop.
. "$(dirname "$0")/lib.sh"

# one PROG HOW M1 M2
# MODE=root: as root under the shim; MODE=user: as an unprivileged user
# under `ckpt-run --pidns` (pid is then the program's outer pid).
MODE=root
one() {
	local prog=$1 how=$2 m1=$3 m2=$4 tag=$MODE-$1-$2 pid rc run
	local img=$TMP/$tag.img out1=$TMP/$tag.out1 out2=$TMP/$tag.out2 stop=$TMP/$tag.stop
	[ $MODE = user ] && img=$UD/$tag.img
	if [ $MODE = user ]; then
		as_user env CKPT_SIGNAL=USR1 CKPT_IMAGE="$img" "$BIN/ckpt-run" --pidns \
			"$PROGS/$prog" "$stop" "$m1" "$m2" > "$out1" 2>&1 &
		run=$!
		PIDS+=("$run")
		program_of "$run"
		pid=$PROG
	elif [ "$how" = signal ]; then
		CKPT_SIGNAL=USR1 CKPT_IMAGE=$img shim "$PROGS/$prog" "$stop" "$m1" "$m2" > "$out1" 2>&1 &
		pid=$!
	else
		shim "$PROGS/$prog" "$stop" "$m1" "$m2" > "$out1" 2>&1 &
		pid=$!
	fi
	PIDS+=("$pid")
	wait_line "$out1" "^AT M1|BAD"
	if [ "$how" = signal ]; then
		kill -USR1 "$pid"
		wait_for 20 test -f "$img" || fail "$tag: no image after SIGUSR1: $(cat "$out1")"
	elif [ $MODE = user ]; then
		as_user "$BIN/ckpt-save" "$pid" "$img" > "$TMP/$tag.save" 2>&1 ||
			fail "$tag: ckpt-save rc $?: $(cat "$TMP/$tag.save")"
	else
		"$BIN/ckpt-save" "$pid" "$img" > "$TMP/$tag.save" 2>&1 ||
			fail "$tag: ckpt-save rc $?: $(cat "$TMP/$tag.save")"
	fi
	if [ $MODE = user ]; then
		kill -9 "$run"
		wait "$run" 2> /dev/null
		wait_for 20 gone "$pid" || fail "$tag: the program outlived ckpt-run"
		as_user "${RESTART[@]}" "$img" > "$out2" 2>&1 &
		RPID=$!
		PIDS+=("$RPID")
	else
		kill9 "$pid"
		restart_bg "$img" > "$out2" 2>&1
	fi
	grep -q BAD "$out1" && fail "$tag: before the kill: $(cat "$out1")"
	wait_line "$out2" "^AT M2|BAD|FAILED"
	touch "$stop"
	wait "$RPID"
	rc=$?
	grep -q '^ALL OK' "$out2" || fail "$tag: after restart (rc $rc): $(cat "$out2")"
	[ $rc -eq 0 ] || fail "$tag: rc $rc: $(cat "$out2")"
	grep -q '^STARTED' "$out2" && fail "$tag: the restarted copy started over: $(cat "$out2")"
	echo "$tag: checkpoint at $m1, $(grep RESULT "$out2")"
}

m1=$((5000 + RANDOM % 40000))
one thr_queue ckpt-save $m1 $((m1 + 30000))
m1=$((5000 + RANDOM % 40000))
one thr_queue signal $m1 $((m1 + 30000))
m1=$((300 + RANDOM % 3000))
one thr_barrier ckpt-save $m1 $((m1 + 2000))

# The same without privilege, where the machine allows user namespaces.
unpriv_user
if as_user unshare --user --pid --mount --fork true 2> /dev/null; then
	MODE=user
	UD=$TMP/u
	mkdir "$UD"
	chown "$uid:$gid" "$UD"
	m1=$((5000 + RANDOM % 40000))
	one thr_queue ckpt-save $m1 $((m1 + 30000))
	m1=$((5000 + RANDOM % 40000))
	one thr_queue signal $m1 $((m1 + 30000))
	m1=$((300 + RANDOM % 3000))
	one thr_barrier ckpt-save $m1 $((m1 + 2000))
else
	echo "unprivileged part skipped: no user namespaces here"
fi
exit 0
