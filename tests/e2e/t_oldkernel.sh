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
#   2. no PAGEMAP_SCAN: memory is found by mincore and pagemap: t_memory's
#      program saved and restarted, every byte checked; t_sparse's 2 TiB
#      reservation in seconds; the pages saved are those PAGEMAP_SCAN
#      finds (the same program's two images compared), guards included.  No fdinfo
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
# and as where swap is on: pagemap page by page (mincore misses swapped pages)
CKPT_E2E_LIB=$KLIB CKPT_TEST_KFEAT_OFF=pagemap_scan,mincore bash "$ROOT/tests/e2e/t_memory.sh" > "$TMP/mem" 2>&1 ||
	fail "t_memory without PAGEMAP_SCAN, swap on: $(tail -5 "$TMP/mem")"

# --- 2a. sparse memory without PAGEMAP_SCAN ---------------------------------
# t_sparse's 2 TiB reservation with 5 pages and 1 TiB PROT_NONE one: found
# by mincore() and smaps (libckpt/ckpt_pmscan.c), not by a million pagemap
# reads (more than 300 s in the 6.1 VM).  No guard region: the test
# library acts as a kernel without them (before 6.13), sparse says so.
t0=$(date +%s%N)
CKPT_E2E_LIB=$KLIB CKPT_TEST_KFEAT_OFF=pagemap_scan bash "$ROOT/tests/e2e/t_sparse.sh" > "$TMP/sparse" 2>&1 ||
	fail "t_sparse without PAGEMAP_SCAN: $(tail -5 "$TMP/sparse")"
echo "t_sparse without PAGEMAP_SCAN: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
# The same pages as PAGEMAP_SCAN finds: one program saved twice at the same
# addresses (no ASLR), by libckpt.so and by the test library without it,
# and the guard installed by a raw system call (the fallback's guard scan:
# pagemap's guard bit, where smaps says "gu"); the second image restarted.
if have pagemap_scan && have guard; then
	for k in scan fallback; do
		lib=$B/libckpt.so off=
		[ $k = scan ] || lib=$KLIB off=pagemap_scan
		clean_fds setarch -R env LD_PRELOAD="$lib" CKPT_TEST_KFEAT_OFF=$off "$PROGS/sparse" \
			"$TMP/sp.$k.img" rawguard > "$TMP/sp.$k.out" 2>&1 && grep -q SAVED "$TMP/sp.$k.out" ||
			fail "sparse ($k): $(cat "$TMP/sp.$k.out")"
		"$BIN/ckpt-info" --json "$TMP/sp.$k.img" > "$TMP/sp.$k.json" || fail "ckpt-info sp.$k.img"
	done
	python3 - "$TMP/sp.scan.json" "$TMP/sp.fallback.json" > "$TMP/sp.cmp" 2>&1 <<'PY' ||
import json, sys
def vmas(f):
    # every mapping but the stack (the two libraries' frames differ) and
    # the libraries themselves (their sizes differ): what was saved of it
    out = []
    for v in json.load(open(f))["vmas"]:
        if v["kind"] == "[stack]" or (v.get("path") or "").endswith("libckpt.so"):
            continue
        big = v["end"] - v["start"] >= 1 << 30
        out.append((v["start"] if big else 0, v["end"] if big else 0, v["perm"], v["kind"],
                    v["pages"], v["zero_pages"], v["raw_bytes"],
                    [(g["start"] - v["start"], g["end"] - v["start"]) for g in v["guards"]]))
    return out
a, b = vmas(sys.argv[1]), vmas(sys.argv[2])
bad = [(x, y) for x, y in zip(a, b) if x != y]
if len(a) != len(b) or bad:
    print("%d and %d mappings; differ: %s" % (len(a), len(b), bad[:4]))
    sys.exit(1)
sparse = [x for x in a if x[0] and x[2] == "rw-p"]
if not sparse or sparse[0][4] != 5 or len(sparse[0][7]) != 1:
    print("no 2 TiB mapping with 5 pages and a guard: %s" % sparse)
    sys.exit(1)
print("the same %d mappings, %d pages" % (len(a), sum(x[4] for x in a)))
PY
		fail "pages saved without PAGEMAP_SCAN differ: $(cat "$TMP/sp.cmp")"
	cat "$TMP/sp.cmp"
	clean_fds "${RESTART[@]}" "$TMP/sp.fallback.img" > "$TMP/sp.rst" 2>&1
	rc=$?
	grep -q "RESTORED ok" "$TMP/sp.rst" && [ $rc -eq 0 ] ||
		fail "sparse saved without PAGEMAP_SCAN: restore (rc $rc): $(cat "$TMP/sp.rst")"
else
	echo "this kernel lacks PAGEMAP_SCAN or guard regions: no comparison with them"
fi

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
