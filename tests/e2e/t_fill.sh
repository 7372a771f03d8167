#!/bin/bash
# ckpt-restart's ways of putting page data in place (CKPT_FILL: copy, the
# default, with userfaultfd; populate; thp, whole 2 MiB windows as huge
# pages) give back the same memory: every byte, pages never touched still
# missing, madvise flags as they were (none added), in aligned and
# unaligned mappings (progs/fillmodes.c).  Three restarts of one image
# each, then a mode the build does not know falls back to the default.
. "$(dirname "$0")/lib.sh"
shim "$PROGS/fillmodes" "$TMP/f.img" > "$TMP/save" 2>&1 || fail "save: $(cat "$TMP/save")"
grep -q SAVED "$TMP/save" || fail "no SAVED: $(cat "$TMP/save")"
for mode in copy populate thp bogus; do
	for i in 1 2 3; do
		CKPT_FILL=$mode clean_fds "${RESTART[@]}" "$TMP/f.img" > "$TMP/$mode.$i" 2>&1
		rc=$?
		grep -q "RESTORED ok" "$TMP/$mode.$i" ||
			fail "CKPT_FILL=$mode, restart $i (rc $rc): $(cat "$TMP/$mode.$i")"
		[ $rc -eq 0 ] || fail "CKPT_FILL=$mode, restart $i: rc $rc"
	done
	echo "  CKPT_FILL=$mode: $(grep -o 'huge=[0-9]*' "$TMP/$mode.3") KiB of A in huge pages"
done
