#!/bin/bash
# modes.sh - checkpoint and restart in every mode, against the limits of
# the same machine measured in the same run.
#
# Workload: tests/bench/memproc.c, a process holding N MiB, "mixed" (half
# random, half text-like bytes) or "zero" (every page written with
# zeros), that saves itself with ckpt_save_opts() while a second thread
# beats every 1 ms.  Modes:
#   plain        CKPT_COMPRESS=none, written in place
#   compressed   Snappy (default), written in place
#   forked       Snappy, CKPT_OPT_FORK: a forked copy writes the pages
#   mappable     CKPT_OPT_MAPPABLE: page data aligned, mapped at restart
#   verified     the mappable image, restarted with --verify (page data
#                read and checked first)
#   sealed       the mappable image sealed (ckpt-save --key's MAC, by
#                tests/bench/seal.c), restarted with --key
#   lazy         the compressed image, restarted with ckpt-restart --lazy
#   incremental  CKPT_OPT_INCREMENTAL after 1 % of the pages changed
# (a mode the build does not have is printed as "n/a").
# Columns, medians of REPS runs:
#   save     ckpt_save() returned          pause  longest heartbeat gap
#   done     the image complete            image  bytes, ratio to memory
#   running  exec of ckpt-restart to the restored process running
#   verified ... to every byte read back and checked
#   MB/s     memory / done
# and the limits (memcpy, write() to the page cache, fork(), measured by
# the process on its own bytes, in ms) with the ratios done/write,
# pause/fork and verified/memcpy.  For 1 GiB of mixed data, the figures
# of issue #15's targets (run.sh's table): "TARGET image_1g_ms" (forked:
# the image complete), "TARGET mappable_save_1g_ms" (mappable: done),
# "TARGET restart_eager_1g_ms" (compressed: restart to running).
# Usage: modes.sh  (MODES_SIZES="1 256 1024 4096", MODES_DATA="mixed
# zero", MODES="plain ...", BENCH_REPS; MODES_EXEC: a command the
# workload runs under, e.g. a carried ld.so on a machine with an older libc)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build
DIR=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
head -c 32 /dev/urandom > "$DIR/key"
chmod 600 "$DIR/key"
SIZES=${MODES_SIZES:-1 256 1024 4096}
DATAS=${MODES_DATA:-mixed zero}
ALL_MODES=${MODES:-plain compressed forked mappable verified sealed lazy incremental}

target() { awk -v k="$1" -v v="$2" 'BEGIN { printf "TARGET %s %.1f ms\n", k, v / 1e6 }'; }
median() { sort -g | awk '{v[NR]=$1} END {if (!NR) exit 1; print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
key() { awk -v k="$1" '$1 == k {print $2}' "$2"; }

# Runs "$@" with only fds 0-2 open (libckpt refuses inherited pipes); the
# time of the exec goes to $DIR/t0 (ns).
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

# mode -> "ENV FLAGS RESTART_OPTS", or nothing when this build lacks it
mode_args() {
	case $1 in
	plain)       echo "CKPT_COMPRESS=none 0 -" ;;
	compressed)  echo "CKPT_COMPRESS=snappy 0 -" ;;
	forked)      echo "CKPT_COMPRESS=snappy 8 -" ;;
	mappable)    grep -q CKPT_OPT_MAPPABLE "$ROOT/include/ckpt.h" && echo "CKPT_COMPRESS=snappy 2 -" ;;
	verified)    "$B/bin/ckpt-restart" --help 2>&1 | grep -q -- --verify && echo "CKPT_COMPRESS=snappy 2 --verify" ;;
	sealed)      [ -x "$B/bench/seal" ] && echo "CKPT_COMPRESS=snappy 2 --key" ;;
	lazy)        "$B/bin/ckpt-restart" --help 2>&1 | grep -q -- --lazy && echo "CKPT_COMPRESS=snappy 0 --lazy" ;;
	incremental) grep -q CKPT_OPT_INCREMENTAL "$ROOT/include/ckpt.h" && echo "CKPT_COMPRESS=snappy 4 - 1" ;;
	esac
}

# One run: "save pause done image running verified memcpy write fork" (ns, bytes)
one() {
	local mib=$1 data=$2 env=$3 flags=$4 ropts=$5 dirty=${6:-}
	rm -f "$DIR"/img*
	isolated env LD_PRELOAD="$B/libckpt.so" "$env" MEMPROC_DATA="$data" MEMPROC_FLAGS="$flags" \
		MEMPROC_LIMITS="$DIR" ${dirty:+MEMPROC_DIRTY=$dirty} \
		${MODES_EXEC:-} "$B/bench/memproc" "$mib" "$DIR/img" > "$DIR/save" 2>&1 || { echo "save: $(cat "$DIR/save")" >&2; return 1; }
	[ "$ropts" = - ] && ropts=
	if [ "$ropts" = --key ]; then	# sealed: as ckpt-save --key would have
		"$B/bench/seal" "$DIR/key" "$DIR/img" > "$DIR/seal" || return 1
		ropts="--key $DIR/key"
	fi
	isolated "$B/bin/ckpt-restart" --inherit-fd 0,1,2 $ropts "$DIR/img" > "$DIR/rst" 2>&1
	grep -q "verify ok" "$DIR/rst" || { echo "restart: $(cat "$DIR/rst")" >&2; return 1; }
	local t0=$(cat "$DIR/t0")
	echo "$(key save_ns "$DIR/save") $(key pause_ns "$DIR/save") $(key done_ns "$DIR/save")" \
	     "$(stat -c %s "$DIR/img")" \
	     "$(($(key running_at_ns "$DIR/rst") - t0)) $(($(key verified_at_ns "$DIR/rst") - t0))" \
	     "$(key memcpy_ns "$DIR/save") $(key write_ns "$DIR/save") $(key fork_ns "$DIR/save")"
}

printf '%6s %5s %-11s %8s %8s %8s %9s %5s %9s %9s %6s | %7s %7s %6s | %6s %6s %6s\n' \
	MiB data mode save_ms pause_ms done_ms image_MB ratio run_ms verif_ms MB/s \
	memcpy write fork done/wr pz/fork ver/cp
for mib in $SIZES; do
	# small runs are cheap and the noisiest (a restart of 1 MiB takes a few ms)
	reps=${BENCH_REPS:-$( ([ "$mib" -le 16 ] && echo 11) || ([ "$mib" -le 256 ] && echo 3) || echo 1)}
	for data in $DATAS; do
		for mode in $ALL_MODES; do
			args=($(mode_args "$mode"))
			if [ ${#args[@]} -eq 0 ]; then
				printf '%6d %5s %-11s %8s\n' "$mib" "$data" "$mode" n/a
				continue
			fi
			rows=()
			for ((i = 0; i < reps; i++)); do
				row=$(one "$mib" "$data" "${args[@]}") || { echo "  $mode $mib MiB $data failed"; continue 2; }
				rows+=("$row")
			done
			m=()
			for col in 1 2 3 4 5 6 7 8 9; do
				m+=("$(printf '%s\n' "${rows[@]}" | awk -v c=$col '{print $c}' | median)")
			done
			awk -v mib="$mib" -v data="$data" -v mode="$mode" \
			    -v s="${m[0]}" -v p="${m[1]}" -v d="${m[2]}" -v img="${m[3]}" \
			    -v r="${m[4]}" -v v="${m[5]}" -v cp="${m[6]}" -v wr="${m[7]}" -v fk="${m[8]}" 'BEGIN {
				ms = 1e6
				printf "%6d %5s %-11s %8.1f %8.1f %8.1f %9.1f %5.2f %9.1f %9.1f %6.0f | %7.1f %7.1f %6.1f | %6.2f %6.2f %6.2f\n",
					mib, data, mode, s / ms, p / ms, d / ms, img / 1e6, img / (mib * 1048576),
					r / ms, v / ms, mib * 1.048576 / (d / 1e9), cp / ms, wr / ms, fk / ms,
					d / wr, p / fk, v / cp
				if (mib == 1024 && data == "mixed") {
					if (mode == "forked")
						printf "TARGET image_1g_ms %.1f ms\n", d / ms
					if (mode == "mappable")
						printf "TARGET mappable_save_1g_ms %.1f ms\n", d / ms
					if (mode == "compressed")
						printf "TARGET restart_eager_1g_ms %.1f ms\n", r / ms
				} }'
		done
	done
done
