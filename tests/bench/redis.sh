#!/bin/bash
# redis.sh - Debian's redis-server under libckpt (`make bench`, section
# redis; BENCH_ONLY=redis for it alone).
#  1. The shim's cost: redis-benchmark (SET and GET, 50 clients, 200k
#     requests, pipelining 1) against a redis-server started without and
#     with LD_PRELOAD=libckpt.so, alternately, REPS runs each; the median
#     requests/s of each and the difference (target: <= 1 %).  The server
#     runs on CPU 0 and the benchmark on CPU 1 when taskset exists.
#  2. A checkpoint of redis holding REDIS_MIB (1024) MiB of keys (DEBUG
#     POPULATE): the pause (the longest gap seen by a client that sends
#     PING after PING on a connection made for each, REDIS_PINGER), the
#     ckpt-save time, the image size; then the mappable image restarted:
#     exec of ckpt-restart to the first PONG on the same port.
# Usage: bash tests/bench/redis.sh (BENCH_REPS, REDIS_N, REDIS_MIB;
# REDIS_SAVE=0: the shim's cost only).  Prints "TARGET shim_redis_pct",
# the larger of the two overheads (issue #15's target, run.sh's table).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build
REPS=${BENCH_REPS:-5}
N=${REDIS_N:-200000}
MIB=${REDIS_MIB:-1024}

command -v redis-server > /dev/null && command -v redis-benchmark > /dev/null ||
	{ echo "no redis-server/redis-benchmark (apt-get install redis-server redis-tools)"; exit 1; }

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# A port nobody listens on.
free_port() {
	local p
	for p in $(seq 16379 16479); do
		(exec 3<> /dev/tcp/127.0.0.1/$p) 2> /dev/null || { echo $p; return; }
	done
}
CPU0="" CPU1=""
command -v taskset > /dev/null && [ "$(nproc)" -ge 2 ] && CPU0="taskset -c 0" CPU1="taskset -c 1"
DIR=$(mktemp -d /tmp/ckpt-redis.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
PORT=$(free_port)

# start_redis PRELOAD: a redis-server on PORT without persistence; its pid in RS.
start_redis() {
	(
		for fd in $(ls /proc/$BASHPID/fd); do
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2> /dev/null
		done
		cd "$DIR" && exec env LD_PRELOAD="$1" $CPU0 redis-server --port "$PORT" --save '' \
			--appendonly no --enable-debug-command yes --unixsocket "$DIR/sock"
	) > "$DIR/redis.log" 2>&1 < /dev/null &
	RS=$!
	until redis-cli -p "$PORT" ping 2> /dev/null | grep -q PONG; do
		kill -0 "$RS" 2> /dev/null || { cat "$DIR/redis.log"; return 1; }
		sleep 0.02
	done
}
stop_redis() { kill "$RS" 2> /dev/null; wait "$RS" 2> /dev/null; }

# rps TEST: requests per second of redis-benchmark's TEST against PORT.
rps() {
	$CPU1 redis-benchmark -p "$PORT" -n "$N" -c 50 -t "$1" --csv 2> /dev/null |
		awk -F'"' -v t="$(echo "$1" | tr a-z A-Z)" '$2 == t { print $4 }'
}

echo "shim cost: redis-benchmark -n $N -c 50, median of $REPS alternate runs (requests/s)"
printf '  %-5s %14s %14s %10s\n' test without with overhead
pct=()
for t in set get; do
	x=() y=()
	for ((i = 0; i < REPS; i++)); do
		start_redis "" || exit 1
		x+=("$(rps $t)")
		stop_redis
		start_redis "$B/libckpt.so" || exit 1
		y+=("$(rps $t)")
		stop_redis
	done
	a=$(printf '%s\n' "${x[@]}" | median) b=$(printf '%s\n' "${y[@]}" | median)
	awk -v t=$t -v a="$a" -v b="$b" 'BEGIN {
		printf "  %-5s %14.0f %14.0f %9.2f %% (target <= 1 %%)\n", t, a, b, (a - b) * 100 / a }'
	pct+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (a - b) * 100 / a }')")
done
printf '%s\n' "${pct[@]}" | sort -g | tail -1 | awk '{ print "TARGET shim_redis_pct", $1, "%" }'
[ "${REDIS_SAVE:-1}" = 0 ] && exit 0

# ---- 2. a checkpoint of REDIS_MIB of keys ----
# pinger: PING after PING on one TCP connection, the longest wait (ms)
# printed when it gets SIGTERM.  Outside the image; its connection is
# saved with the server (TCP_REPAIR) and reset at the restart (--tcp=close).
PINGER='
import signal, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
worst, run = 0.0, True
def stop(*a):
    global run
    run = False
signal.signal(signal.SIGTERM, stop)
print("PINGING", flush=True)
while run:
    t = time.monotonic()
    s.sendall(b"PING\r\n")
    if s.recv(64) != b"+PONG\r\n":
        break
    worst = max(worst, time.monotonic() - t)
print("worst_ms %.2f" % (worst * 1000), flush=True)
'
# pong_ms: ms from now (EPOCHREALTIME at $1) to the first PONG on PORT.
pong_after() {
	until redis-cli -p "$PORT" ping 2> /dev/null | grep -q PONG; do :; done
	echo "$(( (${EPOCHREALTIME/./} - $1) / 1000 ))"
}
[ "$(id -u)" = 0 ] || { echo "checkpoint of redis: needs root (its TCP connections: TCP_REPAIR)"; exit 0; }
echo
echo "checkpoint of redis-server holding ~$MIB MiB of keys (DEBUG POPULATE, 1 KiB values)"
printf '  %-10s %10s %12s %12s %14s\n' mode pause_ms ckpt-save_ms image_MiB restart_ms
for mode in compressed mappable; do
	start_redis "$B/libckpt.so" || exit 1
	redis-cli -p "$PORT" DEBUG POPULATE $((MIB * 1024 * 9 / 10)) key 1024 > /dev/null
	python3 -c "$PINGER" "$PORT" > "$DIR/ping" 2>&1 &
	PP=$!
	until grep -q PINGING "$DIR/ping"; do sleep 0.02; done
	sleep 0.5
	opt=()
	[ $mode = mappable ] && opt=(--mappable)
	t0=${EPOCHREALTIME/./}
	"$B/bin/ckpt-save" "${opt[@]}" "$RS" "$DIR/img" > "$DIR/save" 2>&1 || { cat "$DIR/save"; exit 1; }
	t1=${EPOCHREALTIME/./}
	sleep 0.3
	kill "$PP"
	wait "$PP"
	kill -9 "$RS"
	wait "$RS" 2> /dev/null
	size=$(stat -c %s "$DIR/img")
	t2=${EPOCHREALTIME/./}
	(
		for fd in $(ls /proc/$BASHPID/fd); do
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2> /dev/null
		done
		exec "$B/bin/ckpt-restart" --tcp=close "$DIR/img"
	) > "$DIR/restart.log" 2>&1 < /dev/null &
	RP=$!
	rt=$(pong_after "$t2")
	[ "$(redis-cli -p "$PORT" DBSIZE)" -gt 0 ] || echo "  (restart: no keys? $(cat "$DIR/restart.log"))"
	printf '  %-10s %10s %12.1f %12.1f %14s\n' $mode "$(sed -n 's/^worst_ms //p' "$DIR/ping")" \
		"$(echo "($t1 - $t0) / 1000" | bc -l)" "$(echo "$size / 1048576" | bc -l)" "$rt"
	redis-cli -p "$PORT" shutdown nosave > /dev/null 2>&1
	wait "$RP" 2> /dev/null
	rm -f "$DIR/img"
done
