#!/bin/bash
# run-all.sh - `make check`: unit tests (CUnit), end-to-end tests, a short
# run of every fuzz target; ends with the combined "N passed, N failed" line.
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
echo "== fuzz smoke (${FUZZ_SMOKE_SECONDS:-10} s per target; longer runs: make fuzz)"
fpass=0 ffail=0
mkdir -p build/fuzz-out
# Skipped only where clang cannot build a libFuzzer program at all; a
# target that does not build where it can is a failure (a missing source
# in its link once hid every fuzz target behind the skip).
fuzz_ok=0
if echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
	${CLANG:-clang} -x c -fsanitize=fuzzer -o build/fuzz-out/probe - >/dev/null 2>&1; then
	if make -s fuzz-build > build/fuzz-out/build.log 2>&1; then
		fuzz_ok=1
	else
		ffail=$((ffail + 1)); echo "  FAIL  the fuzz targets do not build:"; tail -20 build/fuzz-out/build.log | sed 's/^/        /'
	fi
fi
if [ $fuzz_ok = 1 ]; then
	for t in build/fuzz/fuzz_*; do
		[[ -f $t && -x $t && $(basename "$t") != *.* ]] || continue
		name=$(basename "$t")
		# from the target's seed images (and what earlier runs found)
		corpus=build/fuzz/corpus-$name
		mkdir -p "$corpus"
		FUZZ_SEED_DIR=$corpus "$t" -runs=0 > /dev/null 2>&1
		if out=$(UBSAN_OPTIONS=halt_on_error=1 "$t" -max_total_time="${FUZZ_SMOKE_SECONDS:-10}" \
			-timeout=10 -artifact_prefix=build/fuzz-out/ "$corpus" 2>&1); then
			fpass=$((fpass + 1)); echo "  PASS  $name ($(echo "$out" | grep -o 'Done [0-9]* runs' | tail -1))"
		else
			ffail=$((ffail + 1)); echo "  FAIL  $name"; echo "$out" | tail -20 | sed 's/^/        /'
		fi
	done
elif [ $ffail = 0 ]; then
	echo "  skipped: the fuzz targets need clang with libFuzzer (make deps installs it)"
fi
echo
echo "unit: $upass passed, $ufail failed; e2e: $epass passed, $efail failed; fuzz: $fpass passed, $ffail failed"
echo "$((upass + epass + fpass)) passed, $((ufail + efail + ffail)) failed"
[ $((ufail + efail + ffail)) -eq 0 ]
