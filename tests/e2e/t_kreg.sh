#!/bin/bash
# Kernel registrations survive ckpt-save, kill -9 and ckpt-restart
# (progs/kreg.c):
#  - membarrier: PRIVATE_EXPEDITED with its SYNC_CORE and RSEQ flavours
#    registered; after the restart each command still works (without the
#    registration the kernel answers EPERM);
#  - an rseq area the program registered itself through syscall(SYS_rseq)
#    with glibc's turned off (GLIBC_TUNABLES=glibc.pthread.rseq=0), in two
#    threads: registered again at the same address with the same
#    signature (re-registering it answers EBUSY), and the kernel keeps
#    its cpu_id current;
#  - an area registered by a raw system call cannot be found: ckpt-save
#    fails (exit 5) naming rseq and the thread; the process goes on.
. "$(dirname "$0")/lib.sh"
P=$PROGS/kreg
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }
export GLIBC_TUNABLES=glibc.pthread.rseq=0

shim "$P" own "$TMP/go" > "$TMP/out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/out" '^READY|^SETUP'
grep -q '^SETUP FAILED' "$TMP/out" && fail "$(grep '^SETUP' "$TMP/out")"
"$BIN/ckpt-save" "$PID" "$TMP/img" > "$TMP/save" 2>&1 || fail "ckpt-save: $(cat "$TMP/save")"
kill9 "$PID"
"$BIN/ckpt-info" "$TMP/img" > "$TMP/info"
[ "$(grep -c 'rseq: 0x.* (32 bytes, sig 0x53053053)' "$TMP/info")" = 2 ] ||
	bad "ckpt-info does not show both threads' rseq areas: $(grep rseq: "$TMP/info")"
touch "$TMP/go"
clean_fds "${RESTART[@]}" "$TMP/img" > "$TMP/out2" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^DONE' "$TMP/out2" || bad "restarted copy rc $rc: $(cat "$TMP/out2")"
for l in 'M before private=0 sync_core=0 rseq=0' 'T0 before rseq=EBUSY cpu=1' 'T1 before rseq=EBUSY cpu=1'; do
	grep -qx "$l" "$TMP/out" || bad "before the checkpoint, not '$l': $(cat "$TMP/out")"
	a=${l/before/after}
	grep -qx "$a" "$TMP/out2" || bad "after the restart, not '$a': $(cat "$TMP/out2")"
done

# an rseq area registered behind libc's back
shim "$P" raw "$TMP/rawgo" > "$TMP/raw.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/raw.out" '^READY|^SETUP'
"$BIN/ckpt-save" "$PID" "$TMP/raw.img" > "$TMP/raw.msg" 2>&1
rc=$?
[ $rc -eq 5 ] || bad "raw rseq: ckpt-save rc $rc, want 5: $(cat "$TMP/raw.msg")"
grep -q "thread $PID has an rseq area registered by a raw system call" "$TMP/raw.msg" ||
	bad "raw rseq: the message does not name it: $(cat "$TMP/raw.msg")"
touch "$TMP/rawgo"
wait "$PID"
grep -q '^DONE' "$TMP/raw.out" || bad "raw rseq: the process did not carry on: $(cat "$TMP/raw.out")"
[ $nbad -eq 0 ] || exit 1
