#!/bin/bash
# ckpt_save() with CKPT_OPT_FORK returns while a copy writes the pages;
# the original overwrites its memory at once, and the restored process
# must still see the memory of the instant of the call.
. "$(dirname "$0")/lib.sh"
shim "$PROGS/selffork" 64 "$TMP/img" > "$TMP/out" 2>&1 || fail "selffork: $(cat "$TMP/out")"
grep -q '^SAVED' "$TMP/out" || fail "no image: $(cat "$TMP/out")"
restart_bg "$TMP/img" > "$TMP/out2" 2>&1
wait "$RPID" || fail "restart: $(cat "$TMP/out2")"
grep -q 'RESTORED ok' "$TMP/out2" || fail "restored memory: $(cat "$TMP/out2")"
