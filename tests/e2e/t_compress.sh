#!/bin/bash
# CKPT_COMPRESS=none stores page data raw (a larger image that restarts
# the same); the default compresses; a bad value is reported and ignored.
. "$(dirname "$0")/lib.sh"
CKPT_COMPRESS=none shim "$PROGS/memory" "$TMP/raw.img" > "$TMP/o1" 2>&1 || fail "none: $(cat "$TMP/o1")"
shim "$PROGS/memory" "$TMP/z.img" > "$TMP/o2" 2>&1 || fail "snappy: $(cat "$TMP/o2")"
raw=$(stat -c %s "$TMP/raw.img")
z=$(stat -c %s "$TMP/z.img")
[ "$raw" -gt "$z" ] || fail "CKPT_COMPRESS=none image ($raw bytes) is not larger than the compressed one ($z)"
# ckpt-info's totals: stored page bytes equal the raw bytes of the pages
# that are not all-zero runs (those store nothing) only when uncompressed.
ratio() {
	"$BIN/ckpt-info" --json "$1" | python3 -c 'import json, sys
t = json.load(sys.stdin)["totals"]
print("same" if t["stored_bytes"] == t["raw_bytes"] - 4096 * t["zero_pages"] else "smaller")'
}
[ "$(ratio "$TMP/raw.img")" = same ] || fail "CKPT_COMPRESS=none: page data was compressed"
[ "$(ratio "$TMP/z.img")" = smaller ] || fail "default: page data was not compressed"
clean_fds "${RESTART[@]}" "$TMP/raw.img" > "$TMP/o3" 2>&1
grep -q "RESTORED ok" "$TMP/o3" || fail "raw image restart: $(cat "$TMP/o3")"
CKPT_COMPRESS=zip shim "$PROGS/memory" "$TMP/bad.img" > "$TMP/o4" 2>&1
grep -q "CKPT_COMPRESS=zip is not snappy or none" "$TMP/o4" || fail "bad value not reported: $(cat "$TMP/o4")"
grep -q SAVED "$TMP/o4" || fail "bad value: no checkpoint: $(cat "$TMP/o4")"
