#!/bin/bash
# What libckpt does on kernels older than the features it prefers
# (docs/SUPPORT.md, "Older kernels (6.1)"), forced on any kernel with the
# test library build/tests/kfeat/libckpt.so and CKPT_TEST_KFEAT_OFF, and
# for real on Linux 6.1 (make check-kernel):
#   1. no WP_ASYNC/PAGEMAP_SCAN (before 6.7): ckpt-save --incremental
#      tracks with soft-dirty bits where the kernel has them (Debian's 6.1
#      does): a chain of 4 images, each naming its parent, the one after
#      page writes only less than half a full one, the last restarted with
#      the memory hash of its save.  Without soft-dirty (this machine's 6.18 is built without):
#      every image is full, ckpt-save's note says why, the restart is right.
#   2. no PAGEMAP_SCAN: memory is found by reading pagemap: t_memory's
#      program saved and restarted, every byte checked.  No fdinfo
#      "eventfd-semaphore" (before 6.6): t_evfd (EFD_SEMAPHORE and plain
#      eventfds with counters 0, 1 and more) passes with the mode probed.
#   3. ckpt-restart --check names what this kernel lacks for an image
#      that needs it (mseal, MADV_GUARD_INSTALL), where it lacks it.
. "$(dirname "$0")/lib.sh"
KLIB=$B/tests/kfeat/libckpt.so
[ -f "$KLIB" ] || fail "no $KLIB (make)"
"$PROGS/kfeatures" > "$TMP/kf" || fail "kfeatures: $(cat "$TMP/kf")"
have() { grep -q "^$1 1$" "$TMP/kf"; }
P=$PROGS/incr
N=4

# --- 1. incremental without async write-protection --------------------------
sum_of() { sed -n "s/^$2 $3 \([0-9a-f]*\)$/\1/p" "$1" | head -1; }
mkdir -p "$TMP/e"
export CKPT_TEST_KFEAT_OFF=wp_async,pagemap_scan
# without transparent huge pages (Debian's kernel has them always on: the
# random writes would dirty every 2 MiB)
LIB=$KLIB shim "${NOTHP[@]}" "$P" ext "$TMP/e" $N > "$TMP/ext.out" 2>&1 &
PID=$!
PIDS+=("$PID")
for k in $(seq 1 $N); do
	wait_line "$TMP/ext.out" "^READY $k "
	"$BIN/ckpt-save" --incremental "$PID" "$TMP/e/img.$k" > "$TMP/save.$k" 2>&1 ||
		fail "ckpt-save $k: $(cat "$TMP/save.$k")"
	touch "$TMP/e/go.$k"
done
wait_line "$TMP/ext.out" '^DONE'
wait "$PID" || fail "ext run rc $?"
unset CKPT_TEST_KFEAT_OFF
full=$(stat -c %s "$TMP/e/img.1")
if have soft_dirty; then
	for k in $(seq 2 $N); do
		"$BIN/ckpt-info" "$TMP/e/img.$k" > "$TMP/info" 2>&1 || fail "ckpt-info img.$k: $(cat "$TMP/info")"
		grep -q "^parent:    $TMP/e/img.$((k - 1)) " "$TMP/info" ||
			fail "soft-dirty: img.$k does not name img.$((k - 1)): $(grep -E '^(flags|parent)' "$TMP/info")"
		# link 2 only rewrites pages; link 3 unmaps and maps an area again,
		# which the kernel merges back into its neighbour: all of that
		# mapping reads dirty then (soft-dirty is kept per mapping for them)
		sz=$(stat -c %s "$TMP/e/img.$k")
		[ $k != 2 ] || [ "$sz" -lt $((full / 2)) ] || fail "soft-dirty: img.$k is $sz bytes, the full img.1 $full"
	done
	echo "soft-dirty tracking: img.1 $full bytes, img.$N $(stat -c %s "$TMP/e/img.$N")"
else
	for k in $(seq 1 $N); do
		"$BIN/ckpt-info" "$TMP/e/img.$k" | grep -q '^flags:.*incremental' &&
			fail "no tracker: img.$k is incremental"
		grep -q "note: .*a full image: this kernel cannot track written pages (async userfaultfd write-protect needs Linux 6.7, soft-dirty bits CONFIG_MEM_SOFT_DIRTY)" "$TMP/save.$k" ||
			fail "no tracker: ckpt-save $k does not say why the image is full: $(cat "$TMP/save.$k")"
	done
	echo "no tracker here: full images, with the note"
fi
restart_bg "$TMP/e/img.$N" > "$TMP/r.out" 2>&1
wait_for 30 grep -q "^CHECK $N " "$TMP/r.out" || fail "no 'CHECK $N' after restart: $(head -5 "$TMP/r.out")"
got=$(sum_of "$TMP/r.out" CHECK $N)
want=$(sum_of "$TMP/ext.out" READY $N)
[ -n "$want" ] && [ "$got" = "$want" ] || fail "memory hash $got after restart, $want at the save"
kill9 "$PID"
wait "$RPID" 2>/dev/null

# --- 2. memory without PAGEMAP_SCAN ------------------------------------------
CKPT_E2E_LIB=$KLIB CKPT_TEST_KFEAT_OFF=pagemap_scan bash "$ROOT/tests/e2e/t_memory.sh" > "$TMP/mem" 2>&1 ||
	fail "t_memory without PAGEMAP_SCAN: $(tail -5 "$TMP/mem")"

# --- 2b. eventfds without fdinfo's "eventfd-semaphore" (before 6.6) --------
# the mode is found by using the counter while the threads are parked
CKPT_E2E_LIB=$KLIB CKPT_TEST_KFEAT_OFF=eventfd_semaphore bash "$ROOT/tests/e2e/t_evfd.sh" > "$TMP/evfd" 2>&1 ||
	fail "t_evfd without eventfd-semaphore: $(tail -5 "$TMP/evfd")"

# --- 3. --check names what this kernel lacks ---------------------------------
# An image of memattrs (a sealed mapping, guard regions) taken on a kernel
# that has both, restarted where one is missing: CKPT_E2E_NEWIMG names it
# (the 6.1 VM run passes one made on the host); here both are present.
if have mseal && have guard; then
	echo "this kernel has mseal and guard regions: nothing to refuse"
	exit 0
fi
[ -n "${CKPT_E2E_NEWIMG:-}" ] || { echo "no image from a newer kernel (CKPT_E2E_NEWIMG): section 3 not run"; exit 0; }
"${RESTART[@]}" --check "$CKPT_E2E_NEWIMG" > "$TMP/check" 2>&1 && fail "--check accepted an image this kernel cannot restart"
cat "$TMP/check"
have mseal || grep -q "sealed mappings (mseal).*this kernel cannot seal them (Linux 6.10 or later can)" "$TMP/check" ||
	fail "--check does not name mseal: $(cat "$TMP/check")"
have guard || grep -q "guard regions (MADV_GUARD_INSTALL).*this kernel cannot install them (Linux 6.13 or later can)" "$TMP/check" ||
	fail "--check does not name guard regions: $(cat "$TMP/check")"
