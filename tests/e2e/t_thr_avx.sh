#!/bin/bash
# Per-thread registers: 4 threads each hold their own pattern in
# ymm0-15 (xmm0-15 without AVX), r8-r15, MXCSR and the x87 control word
# while spinning in an assembly loop; the process is checkpointed
# (CKPT_SIGNAL, then ckpt-save) in the middle, killed and restarted:
# every thread resumes inside its loop (no second "LOOP START"), its
# counter reaches exactly zero, and finds its own registers, not another
# thread's.  CKPT_E2E_AVX_SECS: how long the loops run (0.6 s; an
# emulated machine needs longer to deliver the checkpoint's signals).
. "$(dirname "$0")/lib.sh"

avx=0
grep -qw avx /proc/cpuinfo && avx=1
[ $avx -eq 1 ] || echo "note: no AVX, checking xmm only"

# started OUT: all 4 threads are in their loops.
started() { [ "$(grep -c '^LOOP START' "$1")" -eq 4 ]; }

one() {
	local how=$1 img=$TMP/img.$1 out1=$TMP/out1.$1 out2=$TMP/out2.$1 pid rc
	CKPT_SIGNAL=USR1 CKPT_IMAGE=$img shim "$PROGS/thr_avx" $avx "${CKPT_E2E_AVX_SECS:-0.6}" > "$out1" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for 20 started "$out1" || fail "$how: loops did not start: $(cat "$out1")"
	trigger "$how" "$pid" "$img"
	kill9 "$pid"
	grep -q 'LOOP END' "$out1" && skip "$how: a loop ended before the checkpoint (machine too fast?)"
	clean_fds "${RESTART[@]}" "$img" > "$out2" 2>&1
	rc=$?
	grep -q '^LOOP START' "$out2" && fail "$how: a thread did not resume inside its loop: $(cat "$out2")"
	[ "$(grep -c '^LOOP END [0-3] ok' "$out2")" -eq 4 ] && grep -q '^ALL OK' "$out2" ||
		fail "$how: registers differ after restart (rc $rc): $(cat "$out2")"
	[ $rc -eq 0 ] || fail "$how: rc $rc: $(cat "$out2")"
}

one signal
one ckpt-save
exit 0
