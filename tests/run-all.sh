#!/bin/bash
# run-all.sh - `make check`: unit tests (CUnit), then end-to-end tests;
# ends with the combined "N passed, N failed" line.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
echo "== unit tests (CUnit)"
unit_out=$(build/tests/unit-tests 2>&1)
unit_rc=$?
echo "$unit_out" | grep -v '^unit: '
u=$(echo "$unit_out" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
upass=${u% *}; ufail=${u#* }
[ -z "$u" ] && { upass=0; ufail=1; echo "unit tests did not complete (rc $unit_rc)"; }
echo "== end-to-end tests"
e2e_out=$(bash tests/e2e/run.sh 2>&1 | tee /dev/stderr)
e=$(echo "$e2e_out" | sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p')
epass=${e% *}; efail=${e#* }
[ -z "$e" ] && { epass=0; efail=1; }
echo
echo "unit: $upass passed, $ufail failed; e2e: $epass passed, $efail failed"
echo "$((upass + epass)) passed, $((ufail + efail)) failed"
[ $((ufail + efail)) -eq 0 ]
