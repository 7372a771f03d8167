#!/bin/bash
# faststart.sh - `make faststart` (its Python part): a Python service
# (samples/python/faststart.py: json, email, asyncio, decimal, numpy and
# a model built in about a second) started cold, and started from a
# mappable snapshot of itself with ckpt-restart.
#
#   samples/python/faststart.sh [WORDS [RUNS]]
#
# 1. cold start, RUNS times (default 5): `python3 faststart.py`, no libckpt;
# 2. the snapshot: `ckpt-run python3 faststart.py --snapshot SNAP` builds
#    the model, ckpt.save(SNAP, mappable=True), answers;
# 3. restart, RUNS times: `ckpt-restart SNAP`, the same queries.
# Each is timed from the exec (python3's, ckpt-restart's) to the first
# answer; the medians are compared.  Every run's answers must be the same,
# and each restarted instance must have its own random state (the
# after_restart hook reseeds it).  Exit 0 when they are.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build
PY=${PYTHON:-/usr/bin/python3}
WORDS=${1:-200000}
RUNS=${2:-5}
APP=$ROOT/samples/python/faststart.py
export PYTHONPATH=$ROOT/python${PYTHONPATH:+:$PYTHONPATH}
dir=$(mktemp -d /tmp/ckpt-pyfaststart.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# Only stdin/out/err: an inherited stray fd (make's jobserver pipe, say)
# would (rightly) be refused by the checkpoint.
for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true; done

# the vocabulary's first words are the same for every size (>= 100)
queries="word 5
near zemirinehi5 5
word 99
sum zemirinehi5 sujoka2
near zemirinehi5 3
bogus"

ms_since() {	# START_NS FILE [KEY]: ms from START_NS to KEY (the first answer) in FILE
	local first
	first=$(sed -n "s/^${3:-first_answer}_at_ns //p" "$2")
	[ -n "$first" ] || { echo "no ${3:-first_answer}: $(cat "$2")" >&2; exit 1; }
	awk -v a="$1" -v b="$first" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
same() {	# OUT: the same answers as the first cold start
	cmp -s "$dir/cold.1.out" "$1" || { echo "FAIL: $1's answers differ:"; diff "$dir/cold.1.out" "$1"; exit 1; }
}

echo "== cold start: $PY faststart.py --words $WORDS, $RUNS runs"
for ((i = 1; i <= RUNS; i++)); do
	t0=$(date +%s%N)
	printf '%s\n' "$queries" | "$PY" "$APP" --words "$WORDS" > "$dir/cold.$i.out" 2> "$dir/cold.$i.err"
	echo "$(ms_since "$t0" "$dir/cold.$i.err")" >> "$dir/cold.ms"
	same "$dir/cold.$i.out"
done
grep "model of" "$dir/cold.1.err"
cat "$dir/cold.1.out"
echo "launch to first answer (ms): $(tr '\n' ' ' < "$dir/cold.ms")"

echo
echo "== the snapshot: ckpt-run $PY faststart.py --snapshot snap.img"
printf '%s\n' "$queries" | "$B/bin/ckpt-run" "$PY" "$APP" --words "$WORDS" --snapshot "$dir/snap.img" \
	> "$dir/snap.out" 2> "$dir/snap.err" || { echo "FAIL: $(cat "$dir/snap.err")"; exit 1; }
grep -v _at_ns "$dir/snap.err"
same "$dir/snap.out"
ls -l "$dir/snap.img" | awk '{ printf "snapshot: %.0f MiB\n", $5 / 1048576 }'

echo
echo "== restart: ckpt-restart snap.img, $RUNS runs"
for ((i = 1; i <= RUNS; i++)); do
	t0=$(date +%s%N)
	printf '%s\n' "$queries" | "$B/bin/ckpt-restart" --inherit-fd 0,1,2 "$dir/snap.img" \
		> "$dir/warm.$i.out" 2> "$dir/warm.$i.err"
	echo "$(ms_since "$t0" "$dir/warm.$i.err")" >> "$dir/warm.ms"
	echo "$(ms_since "$t0" "$dir/warm.$i.err" resumed)" >> "$dir/resumed.ms"
	grep -q "started from the snapshot" "$dir/warm.$i.err" || { echo "FAIL: not restarted: $(cat "$dir/warm.$i.err")"; exit 1; }
	same "$dir/warm.$i.out"
done
echo "launch to first answer (ms): $(tr '\n' ' ' < "$dir/warm.ms")"
echo "  of which to ckpt.save() returning (ms): $(tr '\n' ' ' < "$dir/resumed.ms")"
sed -n 's/^faststart.py: instance //p' "$dir"/warm.*.err "$dir/snap.err" > "$dir/ids"
[ "$(sort -u "$dir/ids" | wc -l)" -eq "$(wc -l < "$dir/ids")" ] ||
	{ echo "FAIL: restarted instances share their random state: $(tr '\n' ' ' < "$dir/ids")"; exit 1; }
echo "instances (reseeded after each restart): $(tr '\n' ' ' < "$dir/ids")"

echo
echo "answers identical: yes"
cold=$(median < "$dir/cold.ms")
warm=$(median < "$dir/warm.ms")
echo "launch to first answer, median of $RUNS: cold start $cold ms, restart from the snapshot $warm ms" \
	"($(awk -v c="$cold" -v w="$warm" 'BEGIN { printf "%.0f", c / w }')x faster)"
