#!/bin/bash
# A 2 TiB MAP_NORESERVE reservation with 5 pages touched and a guard
# region, and a 1 TiB PROT_NONE one (progs/sparse.c): saved by
# ckpt_save() (compressed and mappable) and by ckpt-save (forked
# writer), killed, restarted; the pages, the zeros around them, the
# guard and MAP_NORESERVE come back.  Correctness only: the save walks
# the reservation in runs (PAGEMAP_SCAN) and the restart reserves it in
# one piece, and their times are `make bench`'s (docs/PERFORMANCE.md).
# Where the kernel has no guard regions (before 6.13; the test library
# without PAGEMAP_SCAN acts so: t_oldkernel.sh) sparse goes without one
# and says "note: ...".  Without PAGEMAP_SCAN the walk is mincore's
# (libckpt/ckpt_pmscan.c): about a second here for the whole test.
. "$(dirname "$0")/lib.sh"
for how in compressed mappable; do
	shim "$PROGS/sparse" "$TMP/$how.img" $([ $how = mappable ] && echo mappable) \
		> "$TMP/$how.out1" 2>&1 || fail "$how: save: $(cat "$TMP/$how.out1")"
	grep -q SAVED "$TMP/$how.out1" || fail "$how: $(cat "$TMP/$how.out1")"
	grep "^note: " "$TMP/$how.out1"
	clean_fds "${RESTART[@]}" "$TMP/$how.img" > "$TMP/$how.out2" 2>&1
	rc=$?
	grep -q "RESTORED ok" "$TMP/$how.out2" && [ $rc -eq 0 ] ||
		fail "$how: restore (rc $rc): $(cat "$TMP/$how.out2")"
done

shim "$PROGS/sparse" "$TMP/forked.img" wait > "$TMP/forked.out1" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/forked.out1" READY
"$BIN/ckpt-save" "$pid" "$TMP/forked.img" > "$TMP/forked.save" 2>&1 ||
	fail "forked: ckpt-save: $(cat "$TMP/forked.save")"
kill9 "$pid"
restart_bg "$TMP/forked.img" > "$TMP/forked.out2" 2>&1
wait_for 20 test -d "/proc/$pid" || fail "forked: not restarted: $(cat "$TMP/forked.out2")"
kill -USR2 "$pid"
wait "$RPID"
rc=$?
grep -q "RESTORED ok" "$TMP/forked.out2" && [ $rc -eq 0 ] ||
	fail "forked: restore (rc $rc): $(cat "$TMP/forked.out2")"
exit 0
