#!/bin/bash
# run.sh - runs every tests/e2e/t_*.sh (or those named), prints one line
# per test and "e2e: N passed, N failed, N skipped".
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
pass=0 failn=0 skipn=0
failed=()
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=(tests/e2e/t_*.sh)
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	start=$(date +%s%N)
	# under a subreaper: what a test orphans is reaped at once (reaper.c)
	out=$(timeout -k 5 180 "$ROOT/build/tests/reaper" bash "$t" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	secs=$((ms / 1000)).$((ms % 1000 / 100))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); echo "  PASS  $name (${secs}s)"
	elif [ $rc -eq 77 ]; then
		skipn=$((skipn + 1)); echo "  SKIP  $name: $(echo "$out" | grep SKIP: | tail -1)"
	else
		failn=$((failn + 1)); failed+=("$name")
		echo "  FAIL  $name (rc $rc, ${secs}s)"
		echo "$out" | tail -15 | sed 's/^/        /'
	fi
done
echo "e2e: $pass passed, $failn failed, $skipn skipped"
[ $failn -eq 0 ]
