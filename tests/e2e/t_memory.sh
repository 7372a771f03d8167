#!/bin/bash
# Every kind of memory survives checkpoint, SIGKILL and restart (self call).
. "$(dirname "$0")/lib.sh"
shim "$PROGS/memory" "$TMP/img" > "$TMP/out1" 2>&1 || fail "save: $(cat "$TMP/out1")"
grep -q SAVED "$TMP/out1" || fail "no SAVED: $(cat "$TMP/out1")"
[ -f "$TMP/img" ] || fail "no image"
clean_fds "$BIN/ckpt-restart" "$TMP/img" > "$TMP/out2" 2>&1
rc=$?
grep -q "RESTORED ok" "$TMP/out2" || fail "restore (rc $rc): $(cat "$TMP/out2")"
[ $rc -eq 0 ] || fail "rc $rc"
