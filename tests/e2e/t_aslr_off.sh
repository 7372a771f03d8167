#!/bin/bash
# Restarts where ckpt-restart's own memory lies on the image's addresses.
# With address randomisation off (setarch -R) for both the program and
# ckpt-restart, the restarter's early mappings (the image, libc's blocks)
# sit exactly where the program had its libraries and heap; when it frees
# them, the kernel hands those holes out again.  With randomisation on
# that happens about once in a few hundred restarts: the restorer's blob
# landed on the image's vdso or a thread's arena, and the restart died of
# SIGSEGV with no message (a CI run saw it).  Here it happens every time:
#  1. 2 threads, self checkpoint: restarted 3 times, every result right;
#  2. a 32 MiB program restarted with --lazy (staging, blob and the
#     page server's buffers all made after the reservation);
#  3. an incremental chain of 10, restarted from its last link, and
#     --check of it (which reserves nothing);
#  4. a program linked at 0x400000 (not PIE), where ckpt-restart's own
#     text is too, with randomisation off and on.
. "$(dirname "$0")/lib.sh"
setarch -R true 2> /dev/null || skip "setarch -R is refused here (personality(ADDR_NO_RANDOMIZE))"
norand() { clean_fds setarch -R "$@"; }

# threads_case PROG TAG HOW...: PROG (threads.c) with 2 threads saves itself
# with randomisation off and is killed; then one restart per HOW (norand,
# clean_fds), each must finish with "ALL OK".
threads_case() {
	local prog=$1 tag=$2 how pid rc
	shift 2
	norand env LD_PRELOAD="$LIB" "$prog" 2 "$TMP/$tag.img" self > "$TMP/$tag.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/$tag.out" "SAVED|failed"
	grep -q SAVED "$TMP/$tag.out" || fail "$tag: $(cat "$TMP/$tag.out")"
	kill9 "$pid"
	for how in "$@"; do
		$how "${RESTART[@]}" "$TMP/$tag.img" > "$TMP/$tag.out2" 2>&1
		rc=$?
		grep -q "ALL OK" "$TMP/$tag.out2" || fail "$tag, restart ($how, rc $rc): $(cat "$TMP/$tag.out2")"
	done
}

# 1. threads, self
threads_case "$PROGS/threads" threads norand norand norand

# 2. --lazy
if [ -r /proc/sys/vm/unprivileged_userfaultfd ]; then
	norand "$PROGS/lazy" 32 "$TMP/l.img" > "$TMP/l.out" 2>&1
	grep -q '^SAVED 1' "$TMP/l.out" || fail "lazy: no image: $(cat "$TMP/l.out")"
	norand "${RESTART[@]}" --lazy "$TMP/l.img" > "$TMP/l.out2" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q '^ALL OK' "$TMP/l.out2" || fail "lazy restart (rc $rc): $(cat "$TMP/l.out2")"
fi

# 3. an incremental chain
mkdir -p "$TMP/i"
norand env LD_PRELOAD="$LIB" "$PROGS/incr" self "$TMP/i" 10 > "$TMP/i.out" 2>&1 ||
	fail "incr: $(cat "$TMP/i.out")"
want=$(sed -n 's/^SAVED 10 \([0-9a-f]*\)$/\1/p' "$TMP/i.out")
norand "${RESTART[@]}" --check "$TMP/i/img.10" > "$TMP/i.check" 2>&1 ||
	fail "--check of the chain: $(cat "$TMP/i.check")"
norand "${RESTART[@]}" "$TMP/i/img.10" > "$TMP/i.out2" 2>&1 &
RPID=$!
PIDS+=("$RPID")
wait_line "$TMP/i.out2" "^RESTORED 10 "
got=$(sed -n 's/^RESTORED 10 \([0-9a-f]*\)$/\1/p' "$TMP/i.out2")
[ -n "$want" ] && [ "$got" = "$want" ] || fail "chain: memory hash $got after restart, $want at the save"
wait "$RPID"		# it saves two more links and exits
rc=$?
[ $rc -eq 0 ] || fail "chain: the restarted copy ended with rc $rc: $(tail -3 "$TMP/i.out2")"

# 4. not PIE
file_at=$(readelf -lW "$PROGS/threads-nopie" | awk '$1 == "LOAD" { print $3; exit }')
[ "$((file_at))" = "$((0x400000))" ] || fail "threads-nopie is loaded at $file_at, not 0x400000"
threads_case "$PROGS/threads-nopie" nopie norand clean_fds
exit 0
