#!/bin/bash
# Every user register (general, rflags DF, xmm/ymm 0-15, x87 stack and
# control word, MXCSR) survives a transparent checkpoint taken while the
# program spins in an assembly loop, SIGKILL and restart; the loop
# counter (rcx) reaches exactly zero in the restarted copy.
# Triggers: CKPT_SIGNAL=USR1, then ckpt-save.
. "$(dirname "$0")/lib.sh"

avx=0
grep -qw avx /proc/cpuinfo && avx=1
[ $avx -eq 1 ] || echo "note: no AVX, checking xmm only"

# started: the second "LOOP START" (the first is the calibration run).
started() { [ "$(grep -c '^LOOP START' "$1")" -ge 2 ]; }

one() {
	local how=$1 img=$TMP/img.$1 out1=$TMP/out1.$1 out2=$TMP/out2.$1 pid rc
	CKPT_SIGNAL=USR1 CKPT_IMAGE=$img shim "$PROGS/regs" $avx 1.5 > "$out1" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for 20 started "$out1" || fail "$how: loop did not start: $(cat "$out1")"
	trigger "$how" "$pid" "$img"
	kill9 "$pid"
	grep -q 'LOOP END' "$out1" && fail "$how: the loop ended before the checkpoint (too fast a machine?)"
	clean_fds "${RESTART[@]}" "$img" > "$out2" 2>&1
	rc=$?
	grep -q '^LOOP START' "$out2" && fail "$how: restarted copy did not resume inside the loop: $(cat "$out2")"
	grep -q '^LOOP END ok' "$out2" || fail "$how: registers differ after restart (rc $rc): $(cat "$out2")"
	[ $rc -eq 0 ] || fail "$how: rc $rc: $(cat "$out2")"
}

one signal
one ckpt-save
exit 0
