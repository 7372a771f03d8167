#!/bin/bash
# run.sh - `make bench`: runs every benchmark section and prints its numbers.
#
# One section per benchmark: a function bench_<name> below, listed in
# SECTIONS.  A section prints a "== name" header and its results, and
# returns non-zero only when it could not run (numbers are reported, never
# judged: speed is read by people, not asserted by tests).
#   BENCH_ONLY="shim_cost"   run only these sections
#   BENCH_ONLY=targets       only the figures of the targets table, at
#                            reduced sizes and repetitions (a few minutes)
#   BENCH_REPS=N             repetitions where a section takes a median
# Issue #15's targets: a section prints "TARGET <key> <value> <unit>"
# where it has a target's figure (keys: tests/bench/targets.sh), and the
# run ends with the table of every target: this run's figure, the
# previous run's (build/bench/targets.last, updated at the end) and
# whether it is met.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build
REPS=${BENCH_REPS:-7}
CC=${CC:-cc}

# ---- helpers ----

# The median of the numbers on stdin, one a line.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

section() {
	printf '\n== %s\n' "$1"
}

# Pin to one CPU when taskset exists: less noise between runs.
PIN=""
command -v taskset >/dev/null 2>&1 && PIN="taskset -c 0"

# ---- section: shim_cost ------------------------------------------------
# The wrappers' cost (tests/bench/shim_cost.c), two ways:
#  1. an fd-heavy loop of real system calls, the same binary (built
#     without libckpt) run alternately without and with
#     LD_PRELOAD=libckpt.so; median of BENCH_REPS runs each.  Target:
#     < 5 % of the loop.
#  2. the wrapped calls alone against a stand-in libc (shim_cost.c built
#     with -DSHIM_COST_FAKE_LIBC) preloaded after libckpt, so the system
#     calls' noise is gone and the difference is the wrappers' own ns.
shim_cost_ns() {	# ENV_ASSIGNMENT ARGS... -> ns per iteration
	local preload=$1
	shift
	env "$preload" $PIN "$B/bench/shim_cost.plain" "$@" |
		awk '/^ns_per_iter/ { print $2 }'
}

# Medians of alternate runs: "BASE WITH" for the two LD_PRELOADs.
shim_cost_pair() {	# BASE_PRELOAD WITH_PRELOAD ARGS...
	local base=$1 with=$2 i x=() y=()
	shift 2
	for ((i = 0; i < REPS; i++)); do
		x+=("$(shim_cost_ns "LD_PRELOAD=$base" "$@")")
		y+=("$(shim_cost_ns "LD_PRELOAD=$with" "$@")")
	done
	echo "$(printf '%s\n' "${x[@]}" | median) $(printf '%s\n' "${y[@]}" | median)"
}

bench_shim_cost() {
	local n=${SHIM_COST_ITERS:-200000} lib=$B/libckpt.so fake=$B/bench/shim_cost_libc.so
	local r

	section "shim_cost: what the fd wrappers add (median of $REPS runs each)"
	[ -f "$lib" ] || { echo "  no $lib (make first)"; return 1; }
	mkdir -p "$B/bench"
	# Not the Makefile's build/bench/shim_cost: that one links -lckpt,
	# so libckpt would be loaded in the "without" runs too.
	"$CC" -O2 -o "$B/bench/shim_cost.plain" "$ROOT/tests/bench/shim_cost.c" || return 1
	"$CC" -O2 -shared -fPIC -DSHIM_COST_FAKE_LIBC -o "$fake" \
		"$ROOT/tests/bench/shim_cost.c" || return 1

	r=($(shim_cost_pair "" "$lib" "$n"))
	echo "  loop of open/read/fstat/close/getpid/pipe/close/close, $n iterations:"
	awk -v a="${r[0]}" -v b="${r[1]}" 'BEGIN {
		printf "    without libckpt %9.1f ns/iteration\n", a
		printf "    with libckpt    %9.1f ns/iteration\n", b
		printf "    overhead        %9.1f ns = %.1f %% (target < 5 %%)\n", b - a, (b - a) * 100 / a
		printf "  TARGET shim_loop_pct %.2f %%\n", (b - a) * 100 / a }'

	r=($(shim_cost_pair "$fake" "$lib $fake" --calls))
	echo "  the 5 wrapped calls alone (open/close/pipe/close/close, stand-in libc):"
	awk -v a="${r[0]}" -v b="${r[1]}" 'BEGIN {
		printf "    without libckpt %9.1f ns/iteration\n", a
		printf "    with libckpt    %9.1f ns/iteration\n", b
		printf "    wrappers add    %9.1f ns/iteration, %.1f ns a call\n", b - a, (b - a) / 5 }'
}

# ---- section: modes ----------------------------------------------------
# Checkpoint and restart of 1 MiB to 4 GiB processes in every mode
# (plain, compressed, forked, mappable, lazy, incremental), mixed and
# all-zero data, with the machine's limits measured in the same run and
# each result as a ratio to them (tests/bench/modes.sh has the columns).
# MODES_SIZES="1 256 1024 4096", MODES_DATA="mixed zero", MODES="...".
bench_modes() {
	section "modes: checkpoint and restart in every mode (medians; 3 runs up to 256 MiB, 1 above)"
	[ -x "$B/bench/memproc" ] || { echo "  no $B/bench/memproc (make bench builds it)"; return 1; }
	bash "$ROOT/tests/bench/modes.sh" | sed 's/^/  /'
}

# ---- section: cli --------------------------------------------------------
# The 1 MiB round trips from the command line (tests/bench/cli1m.c): a
# process holding 1 MiB (half random, half text) under LD_PRELOAD, saved
# by `ckpt-save PID IMAGE` (from its spawn to its exit) and restarted by
# `ckpt-restart IMAGE` (from its spawn to the process running again);
# medians and minima of BENCH_REPS (11) runs, and ckpt-save's and
# ckpt-restart's CPU time.  CLI_BASE=DIR: another build directory (a
# built copy of main, say) run alternately with this one, for an A/B.
bench_cli() {
	local reps=${BENCH_REPS:-11} dir out
	section "cli: 1 MiB saved by ckpt-save and restarted by ckpt-restart (median / min of $reps)"
	mkdir -p "$B/bench"
	# without libckpt: the harness must not be a process libckpt runs in
	"$CC" -O2 -o "$B/bench/cli1m.plain" "$ROOT/tests/bench/cli1m.c" || return 1
	dir=$(mktemp -d /tmp/ckpt-bench.XXXXXX)
	out=$("$B/bench/cli1m.plain" bench -n "$reps" "$dir" "$B" ${CLI_BASE:+"$CLI_BASE"} 2>&1)
	local rc=$?
	rm -rf "$dir"
	[ $rc -eq 0 ] || { echo "$out" | tail -3 | sed 's/^/  /'; return 1; }
	echo "$out" | awk -v base="${CLI_BASE:-}" '
		$1 == "build" { v[$2, $3] = sprintf("%7.2f %7.2f", $5, $7) }
		END {
			printf "  %-10s %15s %15s %15s %15s\n", "build", "save_ms", "save_cpu_ms",
				"restart_ms", "restart_cpu_ms"
			printf "  %-10s %15s %15s %15s %15s\n", "", "median    min", "median    min",
				"median    min", "median    min"
			for (b = 0; (b, "save_ms") in v; b++)
				printf "  %-10s %15s %15s %15s %15s\n", b ? "CLI_BASE" : "this",
					v[b, "save_ms"], v[b, "save_cpu_ms"], v[b, "restart_ms"],
					v[b, "restart_cpu_ms"]
		}'
	echo "$out" | awk '$1 == "build" && $2 == 0 && $3 == "save_ms" { print "  TARGET save_1m_ms", $5, "ms" }
			   $1 == "build" && $2 == 0 && $3 == "restart_ms" { print "  TARGET restart_1m_ms", $5, "ms" }'
}

# ---- section: threads_cost ---------------------------------------------
# What threads cost: ckpt-save of a small process with 1, 8 and 64 threads
# busy computing (ckpt-save's own figure), and restart of the same process
# saved by ckpt_save() from exec of ckpt-restart to the restored main
# thread running (median of 3 each).
bench_threads_cost() {
	section "threads_cost: checkpoint and restart of a process with N busy threads"
	local n i t rt out dir
	dir=$(mktemp -d /tmp/ckpt-bench.XXXXXX)
	printf '  %8s %12s %12s\n' threads save_ms restart_ms
	for n in 1 8 64; do
		t=() rt=()
		for ((i = 0; i < 3; i++)); do
			(
				for fd in $(ls /proc/$BASHPID/fd); do
					[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
				done
				exec env LD_PRELOAD="$B/libckpt.so" "$B/tests/threads" $n "$dir/img" run
			) > "$dir/out" 2>&1 &
			local pid=$!
			until grep -q STARTED "$dir/out" 2>/dev/null; do sleep 0.01; done
			out=$("$B/bin/ckpt-save" "$pid" "$dir/img" 2>&1)
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			t+=("$(echo "$out" | sed -n 's/.*, \([0-9.]*\) ms$/\1/p')")
			(
				for fd in $(ls /proc/$BASHPID/fd); do
					[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
				done
				exec "$B/tests/threads" $n "$dir/self.img" self
			) > "$dir/out" 2>&1 &
			pid=$!
			until grep -q SAVED "$dir/out" 2>/dev/null; do sleep 0.01; done
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			while [ -d "/proc/$pid" ]; do sleep 0.01; done
			local t0
			(
				for fd in $(ls /proc/$BASHPID/fd); do
					[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
				done
				t0=${EPOCHREALTIME/./}
				echo "$t0" > "$dir/t0"
				exec "$B/bin/ckpt-restart" --inherit-fd 0,1,2 "$dir/self.img"
			) > "$dir/out2" 2>&1
			t0=$(cat "$dir/t0")
			local at=$(sed -n 's/^RESTORED at=//p' "$dir/out2")
			rt+=("$(awk -v a="$at" -v b="$t0" 'BEGIN { printf "%.2f", (a / 1000 - b) / 1000 }')")
		done
		printf '  %8d %12s %12s\n' "$n" "$(printf '%s\n' "${t[@]}" | median)" \
			"$(printf '%s\n' "${rt[@]}" | median)"
	done
	rm -rf "$dir"
}

# ---- section: pause ----------------------------------------------------
# How long ckpt-save stops an application holding 256 MiB and 1 GiB
# (tests/bench/heartbeat.c: the longest gap in a 0.2 ms heartbeat), with
# the pages written by a forked copy (default) and in place (CKPT_FORK=0).
bench_pause() {
	section "pause: longest stop of the application during ckpt-save"
	[ -x "$B/bench/heartbeat" ] || { echo "  no $B/bench/heartbeat (make bench builds it)"; return 1; }
	local mib fork dir out pid gap total
	dir=$(mktemp -d /tmp/ckpt-bench.XXXXXX)
	printf '  %8s %10s %14s %16s\n' MiB CKPT_FORK pause_ms ckpt-save_ms
	for mib in ${BENCH_PAUSE_SIZES:-256 1024}; do
		for fork in 1 0; do
			(
				for fd in $(ls /proc/$BASHPID/fd); do
					[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
				done
				exec env LD_PRELOAD="$B/libckpt.so" CKPT_FORK=$fork \
					"$B/bench/heartbeat" "$mib" 8
			) > "$dir/out" 2>&1 &
			pid=$!
			until grep -q READY "$dir/out" 2>/dev/null; do sleep 0.05; done
			sleep 0.5		# a few heartbeats before
			out=$("$B/bin/ckpt-save" "$pid" "$dir/img" 2>&1)
			wait "$pid"
			gap=$(sed -n 's/^maxgap_ms //p' "$dir/out")
			total=$(echo "$out" | sed -n 's/.*, \([0-9.]*\) \(m\?s\)$/\1 \2/p')
			printf '  %8d %10d %14s %16s\n' "$mib" "$fork" "$gap" "$total"
			rm -f "$dir/img"
		done
	done
	rm -rf "$dir"
}

# ---- section: snappy_dec -----------------------------------------------
# Snappy decoding, our img_snappy_decode() (what ckpt-restart uses) against
# libsnappy's snappy_uncompress() (what it used before): 64 MiB of
# text-like data and of half random, half text pages, in 64 KiB blocks
# compressed by our encoder; MB/s of output, median of BENCH_REPS runs
# each (tests/bench/snappy_dec.c).  Target: ours within ~15 % of
# libsnappy or faster.  SNAPPY_DEC_MIB=N for another size.
bench_snappy_dec() {
	section "snappy_dec: Snappy decoding, ours vs libsnappy (median of $REPS runs each)"
	[ -x "$B/bench/snappy_dec" ] || { echo "  no $B/bench/snappy_dec (make bench builds it)"; return 1; }
	$PIN "$B/bench/snappy_dec" "${SNAPPY_DEC_MIB:-64}" "$REPS" | sed 's/^/  /'
}

# ---- section: sparse ---------------------------------------------------
# A MAP_NORESERVE reservation of 2 and 16 TiB with 5 pages written
# (tests/bench/sparse.c): ckpt_save() of it, and its restart from exec of
# ckpt-restart to the restored process running (median of BENCH_REPS).
# The pages are found in runs (PAGEMAP_SCAN) and the restart reserves the
# range in one piece: before, 2 TiB took ~3 s to save, and its restart
# sometimes spun for minutes.
bench_sparse() {
	section "sparse: a MAP_NORESERVE reservation with 5 pages written (median of $REPS runs)"
	local tib i t rt dir out t0 at
	dir=$(mktemp -d /tmp/ckpt-bench.XXXXXX)
	printf '  %8s %12s %12s\n' size save_ms restart_ms
	for tib in 2 16; do
		t=() rt=()
		for ((i = 0; i < REPS; i++)); do
			out=$(
				for fd in $(ls /proc/$BASHPID/fd); do
					[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
				done
				"$B/bench/sparse" "$tib" "$dir/img" 2>&1
			) || { echo "  $out"; rm -rf "$dir"; return 1; }
			t+=("$(echo "$out" | awk '/^save_ns/ { printf "%.2f", $2 / 1e6 }')")
			(
				for fd in $(ls /proc/$BASHPID/fd); do
					[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
				done
				echo "${EPOCHREALTIME/./}" > "$dir/t0"
				exec "$B/bin/ckpt-restart" "$dir/img"
			) > "$dir/out2" 2>&1
			grep -q "verify ok" "$dir/out2" || { echo "  restart: $(cat "$dir/out2")"; rm -rf "$dir"; return 1; }
			t0=$(cat "$dir/t0")
			at=$(sed -n 's/^RESTORED at=//p' "$dir/out2")
			rt+=("$(awk -v a="$at" -v b="$t0" 'BEGIN { printf "%.2f", (a / 1000 - b) / 1000 }')")
		done
		printf '  %6s TiB %12s %12s\n' "$tib" "$(printf '%s\n' "${t[@]}" | median)" \
			"$(printf '%s\n' "${rt[@]}" | median)"
	done
	rm -rf "$dir"
}

# ---- section: trees -----------------------------------------------------
# Process trees (tests/bench/treeproc.c): N processes holding TREES_MIB
# (1024) MiB in all, mixed data, each with a 1 ms heartbeat; the root
# saves the whole tree with ckpt_save() (CKPT_OPT_FORK, and mappable),
# the tree is killed, ckpt-restart brings it back.  Columns (medians of
# BENCH_REPS runs): pause (the longest heartbeat gap of any process),
# save (ckpt_save() returned: the state captured), done (the image
# complete), image size, restart (exec of ckpt-restart to the root
# running: every process is back by then).  Run under a subreaper
# (make bench: tests/e2e/reaper.c) so a killed tree's pids are free at once.
tree_pids() {
	local c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}

bench_trees() {
	local mib=${TREES_MIB:-1024} n mode flags i dir out pid pids t0 at sz
	local p s d rt img
	section "trees: N processes sharing $mib MiB in all, saved by the root's ckpt_save() (median of $REPS runs)"
	printf '  %4s %-9s %9s %9s %9s %9s %10s
' N mode pause_ms save_ms done_ms image_MiB restart_ms
	dir=$(mktemp -d /tmp/ckpt-bench.XXXXXX)
	for n in ${TREES_N:-1 4 16}; do
		for mode in forked mappable; do
			flags=8
			[ "$mode" = mappable ] && flags=10
			p=() s=() d=() rt=() sz=()
			for ((i = 0; i < REPS; i++)); do
				rm -rf "$dir"/*
				img=$dir/img
				(
					for fd in $(ls /proc/$BASHPID/fd); do
						[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
					done
					TREEPROC_FLAGS=$flags exec "$B/bench/treeproc" "$n" "$mib" "$dir" "$img"
				) > "$dir/out" 2>&1 &
				pid=$!
				for ((t0 = 0; t0 < 3000; t0++)); do
					grep -q '^pause_ns\|^error' "$dir/out" 2>/dev/null && break
					sleep 0.02
				done
				grep -q '^pause_ns' "$dir/out" || { echo "  $(cat "$dir/out")"; kill -9 $(tree_pids "$pid"); rm -rf "$dir"; return 1; }
				pids=$(tree_pids "$pid")
				kill -9 $pids 2>/dev/null
				wait "$pid" 2>/dev/null
				for x in $pids; do
					for ((t0 = 0; t0 < 500 && ${#x} > 0; t0++)); do
						[ -d /proc/$x ] || break
						sleep 0.01
					done
				done
				p+=("$(awk '/^pause_ns/ { printf "%.2f", $2 / 1e6 }' "$dir/out")")
				s+=("$(awk '/^save_ns/ { printf "%.2f", $2 / 1e6 }' "$dir/out")")
				d+=("$(awk '/^done_ns/ { printf "%.2f", $2 / 1e6 }' "$dir/out")")
				sz+=("$(stat -c %s "$img" | awk '{ printf "%.1f", $1 / 1048576 }')")
				rm -f "$dir/saved" "$dir"/gap.*
				(
					for fd in $(ls /proc/$BASHPID/fd); do
						[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
					done
					echo "${EPOCHREALTIME/./}" > "$dir/t0"
					exec "$B/bin/ckpt-restart" --inherit-fd 0,1,2 "$img"
				) > "$dir/out2" 2>&1
				at=$(awk '/^running_at_ns/ { print $2 }' "$dir/out2")
				[ -n "$at" ] || { echo "  restart: $(cat "$dir/out2")"; rm -rf "$dir"; return 1; }
				rt+=("$(awk -v a="$at" -v b="$(cat "$dir/t0")" 'BEGIN { printf "%.2f", (a / 1000 - b) / 1000 }')")
				# the restarted workers wait for the bench: gone with the original's pids
				kill -9 $pids 2>/dev/null
				for x in $pids; do
					for ((t0 = 0; t0 < 500; t0++)); do
						[ -d /proc/$x ] || break
						sleep 0.01
					done
				done
			done
			printf '  %4s %-9s %9s %9s %9s %9s %10s
' "$n" "$mode" \
				"$(printf '%s\n' "${p[@]}" | median)" "$(printf '%s\n' "${s[@]}" | median)" \
				"$(printf '%s\n' "${d[@]}" | median)" "$(printf '%s\n' "${sz[@]}" | median)" \
				"$(printf '%s\n' "${rt[@]}" | median)"
			# issue #15's tree target: 16 processes x 64 MiB, mappable
			if [ "$n" = 16 ] && [ "$mode" = mappable ] && [ "$mib" = 1024 ]; then
				echo "  TARGET tree_pause_ms $(printf '%s\n' "${p[@]}" | median) ms"
				echo "  TARGET tree_restart_ms $(printf '%s\n' "${rt[@]}" | median) ms"
			fi
		done
	done
	rm -rf "$dir"
}

# ---- section: redis ----------------------------------------------------
# Debian's redis-server under libckpt: redis-benchmark without and with
# the shim, and a checkpoint and restart of 1 GiB of keys
# (tests/bench/redis.sh has the details).
bench_redis() {
	section "redis: redis-benchmark without and with libckpt; 1 GiB of keys saved and restarted"
	bash "$ROOT/tests/bench/redis.sh" | sed 's/^/  /'
	return "${PIPESTATUS[0]}"
}

# ---- section: backtraces -----------------------------------------------
# What the stored backtraces cost (libckpt/ckpt_bt.c): ckpt-save of a
# process with N threads asleep three calls deep (bench/btthreads), with
# CKPT_BACKTRACES=0 and with them, forked (the unwind is the writer's)
# and CKPT_FORK=0 (it is in the pause); ckpt-save's own figure, median of
# REPS.  Then a preloaded /bin/true's CPU time (perf stat, when there).
bench_backtraces() {
	section "backtraces: ckpt-save ms without and with stored backtraces"
	local n mode bt i pid out dir fork
	dir=$(mktemp -d /tmp/ckpt-bench.XXXXXX)
	printf '  %8s %8s %10s %10s\n' threads mode off_ms on_ms
	for n in 1 16 256; do
		for mode in forked handler; do
			fork=1
			[ $mode = handler ] && fork=0
			local -A med=()
			for bt in 0 1; do
				for ((i = 0; i < REPS; i++)); do
					rm -f "$dir/out"	# READY is this run's
					(
						for fd in $(ls /proc/$BASHPID/fd); do
							[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
						done
						exec env CKPT_FORK=$fork CKPT_BACKTRACES=$bt "$B/bench/btthreads" $n
					) > "$dir/out" 2>&1 &
					pid=$!
					until grep -q READY "$dir/out" 2>/dev/null; do sleep 0.01; done
					out=$("$B/bin/ckpt-save" "$pid" "$dir/img" 2>&1)
					kill -9 "$pid" 2>/dev/null
					wait "$pid" 2>/dev/null
					echo "$out" | sed -n 's/.*, \([0-9.]*\) ms$/\1/p'
				done > "$dir/t"
				med[$bt]=$(median < "$dir/t")
			done
			printf '  %8s %8s %10s %10s\n' $n $mode "${med[0]}" "${med[1]}"
		done
	done
	if command -v perf > /dev/null; then
		for bt in 0 1; do
			printf '  preloaded /bin/true, CKPT_BACKTRACES=%s: %s ms CPU\n' $bt \
				"$(CKPT_BACKTRACES=$bt LD_PRELOAD=$B/libckpt.so perf stat -r 300 -x, -e task-clock \
				   /bin/true 2>&1 | tail -1 | cut -d, -f1)"
		done
	fi
	rm -rf "$dir"
}

# ---- section: targets ----------------------------------------------------
# BENCH_ONLY=targets: only what the targets table needs, smaller and
# fewer: the 1 MiB round trips (cli), 1 GiB mixed in the modes that have
# a target (1 run), the pauses, 16 processes x 64 MiB (3 runs), the shim
# on its loop and on redis-benchmark (3 runs of 50000 requests; redis's 1 GiB
# save left out).
# A variable already set (BENCH_REPS, MODES_SIZES, TREES_N...) wins.
bench_targets() {
	local r=0
	BENCH_REPS=${BENCH_REPS:-7} bench_cli || r=1
	MODES_SIZES=${MODES_SIZES:-1024} MODES_DATA=${MODES_DATA:-mixed} \
		MODES=${MODES:-compressed forked mappable} BENCH_REPS=${BENCH_REPS:-1} bench_modes || r=1
	bench_pause || r=1
	TREES_N=${TREES_N:-16} REPS=${BENCH_REPS:-3} bench_trees || r=1
	REPS=${BENCH_REPS:-3} bench_shim_cost || r=1
	REDIS_SAVE=${REDIS_SAVE:-0} REDIS_N=${REDIS_N:-50000} BENCH_REPS=${BENCH_REPS:-3} bench_redis || r=1
	return $r
}

# ---- main ----------------------------------------------------------------
SECTIONS="shim_cost modes cli threads_cost pause backtraces snappy_dec sparse trees redis"
status=0
mkdir -p "$B/bench"
OUT=$B/bench/run.out		# what the sections print: the targets table reads it
: > "$OUT"
for s in ${BENCH_ONLY:-$SECTIONS}; do
	if ! declare -F "bench_$s" >/dev/null; then
		echo "run.sh: no section $s" >&2
		status=1
		continue
	fi
	"bench_$s" 2>&1 | tee -a "$OUT"
	[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "  ($s could not run)"; status=1; }
done
bash "$ROOT/tests/bench/targets.sh" "$OUT" "$B/bench/targets.last"
exit $status
