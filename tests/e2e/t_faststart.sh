#!/bin/bash
# The fast-startup sample (`make faststart`, samples/faststart.sh) works
# end to end, on small tables: the instance restarted from the mappable
# snapshot gives the same answers as the cold start, and known ones.
# (Its timings are printed, never asserted: speed is the benchmarks' job.)
. "$(dirname "$0")/lib.sh"
clean_fds bash "$ROOT/samples/faststart.sh" 2000000 > "$TMP/out" 2>&1 ||
	fail "faststart.sh exit $?: $(tail -5 "$TMP/out")"
grep -q "^answers identical: yes" "$TMP/out" || fail "$(tail -5 "$TMP/out")"
grep -q "started from the snapshot" "$TMP/out" || fail "no restart: $(cat "$TMP/out")"
grep -q "sumphi(1..2000000) = " "$TMP/out" || fail "no answer: $(cat "$TMP/out")"
