#!/bin/bash
# Programs built with AddressSanitizer and ThreadSanitizer
# (sanitizer/sanprog.c, built here with clang; skipped without it).
# libckpt's own copies never go through the sanitizer's interposed
# memcpy/write (libckpt/ckpt_libc.c), and its shadow reservations (15 TiB
# for ASan) are scanned in runs, not page by page (ckpt_pmscan.c).
#  - ASan: saved by ckpt_save(), by ckpt-save with a forked writer and
#    with CKPT_FORK=0; killed, restarted; every byte back, and ASan still
#    reports a heap overflow in the restored copy.
#  - TSan: restored the same way, or refused with a message that names
#    what (TSan maps a deleted file of its own), the program unharmed.
#  - A forked writer that dies: ckpt-save says so (the process is alive),
#    instead of "process N died".
. "$(dirname "$0")/lib.sh"
CLANG=${CLANG:-clang}
command -v "$CLANG" > /dev/null || skip "no clang"
SRC=$ROOT/tests/e2e/sanitizer/sanprog.c
build() {	# SANITIZER OUT
	"$CLANG" -g -O1 -fsanitize="$1" -I"$ROOT/include" -o "$2" "$SRC" -L"$B" \
		-Wl,--no-as-needed -lckpt -Wl,-rpath,"$B" > "$TMP/build.$1" 2>&1
}
build address "$TMP/asan" || skip "clang cannot build with -fsanitize=address: $(tail -2 "$TMP/build.address")"

# self: ckpt_save(), exit, restart
clean_fds env ASAN_OPTIONS=detect_leaks=0 "$TMP/asan" "$TMP/self.img" > "$TMP/self.out" 2>&1 ||
	fail "asan self: rc $?: $(cat "$TMP/self.out")"
grep -q SAVED "$TMP/self.out" || fail "asan self: $(cat "$TMP/self.out")"
clean_fds env ASAN_OPTIONS=detect_leaks=0 "${RESTART[@]}" "$TMP/self.img" > "$TMP/self.out2" 2>&1
rc=$?
grep -q "RESTORED ok" "$TMP/self.out2" && [ $rc -eq 0 ] || fail "asan self restore (rc $rc): $(cat "$TMP/self.out2")"

# ckpt-save: with a forked writer, and in place
for fork in 1 0; do
	tag=asan-fork$fork
	clean_fds env CKPT_FORK=$fork ASAN_OPTIONS=detect_leaks=0 "$TMP/asan" "$TMP/$tag.img" wait \
		> "$TMP/$tag.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/$tag.out" READY
	"$BIN/ckpt-save" "$pid" "$TMP/$tag.img" > "$TMP/$tag.save" 2>&1 ||
		fail "$tag: ckpt-save rc $?: $(cat "$TMP/$tag.save") $(cat "$TMP/$tag.out")"
	kill9 "$pid"
	restart_bg "$TMP/$tag.img" > "$TMP/$tag.out2" 2>&1
	wait_for 20 test -d "/proc/$pid" || fail "$tag: not restarted: $(cat "$TMP/$tag.out2")"
	kill -USR2 "$pid"
	wait "$RPID"
	rc=$?
	grep -q "RESTORED ok" "$TMP/$tag.out2" && [ $rc -eq 0 ] ||
		fail "$tag: restore (rc $rc): $(cat "$TMP/$tag.out2")"
done

# ThreadSanitizer: restored, or refused clearly without harm
if build thread "$TMP/tsan"; then
	clean_fds "$TMP/tsan" "$TMP/tsan.img" > "$TMP/tsan.out" 2>&1
	rc=$?
	if [ $rc -eq 3 ]; then
		grep -q "^REFUSED: mapping .*tsan\|^REFUSED: .*thread\|^REFUSED: mapping .*ThreadSanitizer" "$TMP/tsan.out" ||
			fail "tsan: refused without naming what: $(cat "$TMP/tsan.out")"
		grep -q BAD "$TMP/tsan.out" && fail "tsan: $(cat "$TMP/tsan.out")"
		[ -e "$TMP/tsan.img" ] && fail "tsan: refused, but an image was left"
		echo "NOTE: tsan: $(grep REFUSED "$TMP/tsan.out")"
	else
		grep -q SAVED "$TMP/tsan.out" && [ $rc -eq 0 ] || fail "tsan: rc $rc: $(cat "$TMP/tsan.out")"
		clean_fds "${RESTART[@]}" "$TMP/tsan.img" > "$TMP/tsan.out2" 2>&1
		rc=$?
		grep -q "RESTORED ok" "$TMP/tsan.out2" && [ $rc -eq 0 ] ||
			fail "tsan restore (rc $rc): $(cat "$TMP/tsan.out2")"
	fi
else
	echo "NOTE: clang cannot build with -fsanitize=thread: $(tail -1 "$TMP/build.thread")"
fi

# The forked writer dies (it blocks on a pipe nobody reads; killed there)
shim "$PROGS/sweeper" 16 > "$TMP/sw.out" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/sw.out" SWEEPING
mkfifo "$TMP/fifo"
"$BIN/ckpt-save" "$pid" - > "$TMP/fifo" 2> "$TMP/lost.save" &
spid=$!
exec 3< "$TMP/fifo"
writer_of() { W=$(child_of "$pid") && [ -n "$W" ]; }
wait_for 20 writer_of || fail "no forked writer under $pid"
kill -SEGV "$W"
cat <&3 > /dev/null
exec 3<&-
wait "$spid"
rc=$?
[ $rc -eq 5 ] || fail "writer killed: ckpt-save rc $rc: $(cat "$TMP/lost.save")"
grep -q "process $pid is alive, but the copy of it that writes the image died.*signal 11" \
	"$TMP/lost.save" || fail "writer killed: $(cat "$TMP/lost.save")"
kill -0 "$pid" || fail "writer killed: the process died too"
exit 0
