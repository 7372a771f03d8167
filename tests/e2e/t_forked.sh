#!/bin/bash
# Transparent checkpoints write the pages from a forked copy while the
# application runs on: the image must still be the memory of one instant.
# A program rewrites 64 MiB without pause; after ckpt-save, kill and
# restart, the restored memory is checked at the first instruction (the
# SIGUSR2 sent during the restart is delivered there).  The same with
# MAP_SHARED memory (which a fork would not freeze: written in place),
# MADV_DONTFORK memory (absent from a fork: written in place) and with
# CKPT_FORK=0.  MADV_DONTFORK given by a raw system call, which libckpt
# cannot see, fails the checkpoint (the copy finds the mapping missing)
# rather than saving zeros.
# With CKPT_FORK unset, a small process (1 MiB swept: at most 2 MiB of
# private memory and 4 threads) is written in place, as its debug log
# says, and a 64 MiB one by a forked copy; CKPT_FORK=1 forks a small one
# too (shim/shim_inplace.c).  Each image restarts to one instant.
. "$(dirname "$0")/lib.sh"
one() {
	local tag=$1 rc
	shift
	shim env "$@" "$PROGS/sweeper" ${MIB:-64} ${KIND:-} > "$TMP/$tag.out" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/$tag.out" SWEEPING
	"$BIN/ckpt-save" "$pid" "$TMP/$tag.img" 2> "$TMP/$tag.save" || fail "$tag: ckpt-save: $(cat "$TMP/$tag.save")"
	kill9 "$pid"
	restart_bg "$TMP/$tag.img" > "$TMP/$tag.out2" 2>&1
	wait_for 20 test -d "/proc/$pid" || fail "$tag: not restarted: $(cat "$TMP/$tag.out2")"
	kill -USR2 "$pid"
	wait "$RPID"
	rc=$?
	grep -q "SNAPSHOT ok" "$TMP/$tag.out2" && [ $rc -eq 0 ] || fail "$tag (rc $rc): $(cat "$TMP/$tag.out2")"
}
one forked CKPT_FORK=1
one inplace CKPT_FORK=0
KIND=shared one shared CKPT_FORK=1
KIND=dontfork one dontfork CKPT_FORK=1

# the default: in place when small, forked otherwise; CKPT_FORK=1 always forks
inplace() { grep -q "written in place: .* KiB of private memory, 1 thread" "$TMP/$1.out"; }
MIB=1 one small CKPT_LOG=debug
inplace small || fail "1 MiB, CKPT_FORK unset: not written in place: $(cat "$TMP/small.out")"
MIB=1 one smallfork CKPT_LOG=debug CKPT_FORK=1
inplace smallfork && fail "1 MiB, CKPT_FORK=1: written in place"
one large CKPT_LOG=debug
inplace large && fail "64 MiB, CKPT_FORK unset: written in place"
grep -q "saved to" "$TMP/large.save" || fail "64 MiB: $(cat "$TMP/large.save")"

shim "$PROGS/sweeper" 64 rawdontfork > "$TMP/raw.out" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/raw.out" SWEEPING
"$BIN/ckpt-save" "$pid" "$TMP/raw.img" 2> "$TMP/raw.save" && fail "raw MADV_DONTFORK: saved"
grep -q "missing from the forked copy" "$TMP/raw.save" || fail "raw MADV_DONTFORK: $(cat "$TMP/raw.save")"
[ -e "$TMP/raw.img" ] && fail "raw MADV_DONTFORK: an image was left"
kill -0 "$pid" || fail "raw MADV_DONTFORK: the process died"
