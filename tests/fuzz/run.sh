#!/usr/bin/env bash
# Runs every fuzz target that `make fuzz` built (build/fuzz/fuzz_*), one
# after the other, for ${1:-30} seconds each.  Builds nothing.
#
#   tests/fuzz/run.sh [SECONDS]
#
# Each target keeps its corpus in build/fuzz/corpus-<name>, so later runs
# start where earlier ones stopped.  Before fuzzing, a target is started
# once with FUZZ_SEED_DIR=<its corpus> and -runs=0: targets that know the
# variable (fuzz_img, fuzz_snappy) write valid seed inputs there in
# LLVMFuzzerInitialize; the others ignore it and exit at once.
# Crash inputs go to build/fuzz-out/<name>-crash-*, logs to
# build/fuzz-out/<name>.log.  Exit status: 0 if no target found a bug.
set -u
cd "$(dirname "$0")/../.." || exit 2

secs=${1:-30}
out=build/fuzz-out
mkdir -p "$out"

targets=()
for t in build/fuzz/fuzz_*; do
	# Only the binaries: not corpora, logs or anything with a suffix.
	[[ -f $t && -x $t && $(basename "$t") != *.* ]] && targets+=("$t")
done
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no targets in build/fuzz/ (build them with make fuzz)" >&2
	exit 2
fi

# UBSan only reports by default; make it a crash libFuzzer records.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=0
for t in "${targets[@]}"; do
	name=$(basename "$t")
	corpus=build/fuzz/corpus-$name
	log=$out/$name.log
	mkdir -p "$corpus"
	FUZZ_SEED_DIR=$corpus "$t" -runs=0 >/dev/null 2>&1
	echo "fuzz: $name for ${secs}s (corpus $corpus: $(ls "$corpus" | wc -l) inputs)"
	if "$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$out/$name-" "$corpus" >"$log" 2>&1; then
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" |
			sed 's/^/      /'
	else
		echo "fuzz: $name FAILED (log: $log)" >&2
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5 >&2
		failed=1
	fi
done
exit $failed
