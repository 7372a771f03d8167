#!/bin/bash
# ckpt_cost.sh - checkpoint and restart of 1 MiB, 256 MiB and 1 GiB
# processes (tests/bench/memproc.c: half random, half text-like data).
#
# For each size, the median of BENCH_REPS (default 3) runs of:
#   save       ckpt_save() time inside the process (application paused)
#   image      image bytes, and their ratio to the memory saved
#   running    exec of ckpt-restart to the restored process running again
#   verified   exec of ckpt-restart to every byte read back and checked
#   MB/s       memory size / save time
# and, as a yardstick measured in the same run, the page-cache write
# speed for a file the size of the image (dd from /dev/zero).
# Usage: ckpt_cost.sh [SIZES_MIB...]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build
REPS=${BENCH_REPS:-3}
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1 256 1024)
DIR=$(mktemp -d /tmp/ckpt-bench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
now_ns() { date +%s%N; }

# One run with only fds 0-2 open (an inherited fd would be refused); the
# time of the exec itself goes to $DIR/t0 (ns, bash's clock: no fork).
isolated() {
	(
		for fd in $(ls /proc/$BASHPID/fd); do
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		t=${EPOCHREALTIME/./}
		echo "${t}000" > "$DIR/t0"
		exec "$@"
	)
}

printf '%8s %10s %10s %7s %10s %10s %9s %12s\n' size save_ms image_MB ratio running_ms verified_ms save_MB/s pagecache_MB/s
for mib in "${SIZES[@]}"; do
	save=() img=() run=() ver=() pc=()
	for ((i = 0; i < REPS; i++)); do
		rm -f "$DIR/img"
		out=$(isolated "$B/bench/memproc" "$mib" "$DIR/img") || { echo "memproc $mib failed: $out"; exit 1; }
		save+=("$(echo "$out" | awk '/^save_ns/ {print $2}')")
		img+=("$(stat -c %s "$DIR/img")")
		out=$(isolated "$B/bin/ckpt-restart" "$DIR/img") || { echo "restart $mib failed: $out"; exit 1; }
		t0=$(cat "$DIR/t0")
		echo "$out" | grep -q "verify ok" || { echo "restart $mib: data differs"; exit 1; }
		run+=("$(($(echo "$out" | awk '/^running_at_ns/ {print $2}') - t0))")
		ver+=("$(($(echo "$out" | awk '/^verified_at_ns/ {print $2}') - t0))")
		bytes=${img[-1]}
		t1=$(now_ns)
		dd if=/dev/zero of="$DIR/pc" bs=1M count=$(((bytes + 1048575) / 1048576)) 2>/dev/null
		pc+=("$(($(now_ns) - t1))")
		rm -f "$DIR/pc"
	done
	s=$(printf '%s\n' "${save[@]}" | median)
	m=$(printf '%s\n' "${img[@]}" | median)
	r=$(printf '%s\n' "${run[@]}" | median)
	v=$(printf '%s\n' "${ver[@]}" | median)
	p=$(printf '%s\n' "${pc[@]}" | median)
	awk -v mib="$mib" -v s="$s" -v m="$m" -v r="$r" -v v="$v" -v p="$p" 'BEGIN {
		printf "%5d MiB %10.1f %10.2f %7.2f %10.1f %10.1f %9.0f %12.0f\n",
		       mib, s / 1e6, m / 1048576, m / (mib * 1048576), r / 1e6, v / 1e6,
		       mib / (s / 1e9), (m / 1048576) / (p / 1e9) }'
done
