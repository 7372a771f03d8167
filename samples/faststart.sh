#!/bin/bash
# faststart.sh - `make faststart`: the fast-startup pattern, timed.
#
#   samples/faststart.sh [N]
#
# 1. cold start: faststart builds its tables (N, default 100 million:
#    ~470 MiB), saves a mappable snapshot and answers the queries;
# 2. restart:    ckpt-restart maps the snapshot and the restored instance
#    answers the same queries at once.
# Both are timed from launch to the first answer; the answers must be the
# same (and a few are checked against known values).  Exit 0 when they are.
set -eu
B=$(cd "$(dirname "$0")/.." && pwd)/build
N=${1:-100000000}
dir=$(mktemp -d /tmp/ckpt-faststart.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# Only stdin/out/err: an inherited stray fd (make's jobserver pipe, say)
# would (rightly) be refused by the checkpoint.
for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true; done

queries="phi 36
phi 9999991
sumphi 1 10
sumphi 1 $N
prime 1
prime 100000
phi $N
sumphi 12345 6789012"

ms_since() {	# START_NS FILE: ms from START_NS to the first answer in FILE
	local first
	first=$(sed -n 's/^first_answer_at_ns //p' "$2")
	[ -n "$first" ] || { echo "no answer: $(cat "$2")" >&2; exit 1; }
	awk -v a="$1" -v b="$first" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}

echo "== cold start: build the tables, save a mappable snapshot, answer"
t0=$(date +%s%N)
printf '%s\n' "$queries" | "$B/samples/faststart" "$dir/snap.img" "$N" > "$dir/cold.out" 2> "$dir/cold.err"
cold=$(ms_since "$t0" "$dir/cold.err")
grep -v first_answer "$dir/cold.err"
cat "$dir/cold.out"
ls -l "$dir/snap.img" | awk '{ printf "snapshot: %.0f MiB\n", $5 / 1048576 }'

echo
echo "== restart from the snapshot: ckpt-restart snap.img, same queries"
t0=$(date +%s%N)
printf '%s\n' "$queries" | "$B/bin/ckpt-restart" --inherit-fd 0,1,2 "$dir/snap.img" > "$dir/warm.out" 2> "$dir/warm.err"
warm=$(ms_since "$t0" "$dir/warm.err")
grep -v first_answer "$dir/warm.err"
cat "$dir/warm.out"

echo
cmp -s "$dir/cold.out" "$dir/warm.out" || { echo "FAIL: the answers differ"; exit 1; }
grep -qx "phi(36) = 12" "$dir/warm.out" && grep -qx "sumphi(1..10) = 32" "$dir/warm.out" &&
	grep -qx "prime(100000) = 1299709" "$dir/warm.out" || { echo "FAIL: wrong answers"; exit 1; }
echo "answers identical: yes"
echo "launch to first answer: cold start $cold ms, restart from the snapshot $warm ms"
