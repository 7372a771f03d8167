#!/bin/bash
# The README's first command stays true: `make demo` (samples/demo.sh)
# checkpoints the counter, kills it, and the restarted copy counts on to
# the end with the same pid and total; the script exits 0.
. "$(dirname "$0")/lib.sh"
clean_fds bash "$ROOT/samples/demo.sh" > "$TMP/out" 2>&1 || fail "demo.sh exit $?: $(tail -5 "$TMP/out")"
grep -q "saved to" "$TMP/out" || fail "no checkpoint: $(cat "$TMP/out")"
pids=$(sed -n 's/.*(pid \([0-9]*\))$/\1/p' "$TMP/out" | sort -u)
[ "$(echo "$pids" | wc -l)" -eq 1 ] || fail "the pid changed: $pids"
grep -q "tick 12 of 12, total 650" "$TMP/out" || fail "did not count to the end: $(tail -5 "$TMP/out")"
grep -q "counter: done, total 650" "$TMP/out" || fail "no end: $(tail -5 "$TMP/out")"
