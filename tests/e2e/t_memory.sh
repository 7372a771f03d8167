#!/bin/bash
# Every kind of memory survives checkpoint, SIGKILL and restart (self call),
# in a compressed image and in a mappable one (progs/memory.c).
. "$(dirname "$0")/lib.sh"
for how in compressed mappable; do
	shim "$PROGS/memory" "$TMP/$how.img" $([ $how = mappable ] && echo mappable) > "$TMP/$how.out1" 2>&1 ||
		fail "$how: save: $(cat "$TMP/$how.out1")"
	grep -q SAVED "$TMP/$how.out1" || fail "$how: no SAVED: $(cat "$TMP/$how.out1")"
	[ -f "$TMP/$how.img" ] || fail "$how: no image"
	clean_fds "${RESTART[@]}" "$TMP/$how.img" > "$TMP/$how.out2" 2>&1
	rc=$?
	grep -q "RESTORED ok" "$TMP/$how.out2" || fail "$how: restore (rc $rc): $(cat "$TMP/$how.out2")"
	[ $rc -eq 0 ] || fail "$how: rc $rc"
done
