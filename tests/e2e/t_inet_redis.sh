#!/bin/bash
# A real server: Debian's redis-server, on a TCP port and a unix socket,
# under ckpt-run as the child of a client of ours (progs/inet.c redis)
# connected to it over TCP.  10000 keys written with redis-cli (half over
# TCP, half over the unix socket); the tree saved, killed with SIGKILL,
# restarted: new clients connect over both and read every key, and the
# client connected across the checkpoint reads them on its old connection.
. "$(dirname "$0")/lib.sh"
command -v redis-server > /dev/null && command -v redis-cli > /dev/null || skip "no redis-server"
[ "$(id -u)" = 0 ] || skip "TCP_REPAIR needs root (CAP_NET_ADMIN)"
P=$PROGS/inet
PORT=$((20000 + RANDOM % 30000))
SOCK=$TMP/redis.sock

rm -f "$TMP/go"
clean_fds "$BIN/ckpt-run" "$P" redis "$TMP/go" "$PORT" redis-server --port "$PORT" \
	--bind 127.0.0.1 --unixsocket "$SOCK" --save "" --appendonly no --dir "$TMP" \
	--daemonize no --loglevel warning < /dev/null > "$TMP/out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/out" '^READY|^setup|^BAD'
grep -q '^READY' "$TMP/out" || fail "$(cat "$TMP/out")"
PIDS+=($(tree_pids "$PID"))

keys() { for ((i = $1; i < $2; i++)); do echo "SET key:$i val:$i"; done; }
keys 0 5000 | redis-cli -p "$PORT" > /dev/null || fail "redis-cli over TCP"
keys 5000 10000 | redis-cli -s "$SOCK" > /dev/null || fail "redis-cli over the unix socket"
[ "$(redis-cli -p "$PORT" DBSIZE)" = 10000 ] || fail "DBSIZE before: $(redis-cli -p "$PORT" DBSIZE)"

"$BIN/ckpt-save" "$PID" "$TMP/img" > "$TMP/save" 2>&1 || fail "ckpt-save: $(cat "$TMP/save")"
kill_tree "$PID"
"${RESTART[@]}" --check "$TMP/img" > "$TMP/check" 2>&1 || fail "--check: $(cat "$TMP/check")"
restart_bg "$TMP/img" > "$TMP/out2" 2>&1
wait_for 20 test -d "/proc/$PID" || fail "not restarted: $(cat "$TMP/out2")"
PIDS+=($(tree_pids "$RPID"))
wait_for 20 bash -c "[ \"\$(redis-cli -p $PORT PING 2>/dev/null)\" = PONG ]" ||
	fail "redis does not answer after the restart: $(cat "$TMP/out2")"
[ "$(redis-cli -p "$PORT" DBSIZE)" = 10000 ] || fail "DBSIZE over TCP after: $(redis-cli -p "$PORT" DBSIZE)"
[ "$(redis-cli -s "$SOCK" DBSIZE)" = 10000 ] || fail "DBSIZE over unix after: $(redis-cli -s "$SOCK" DBSIZE)"
for i in 0 4999 5000 9999; do
	[ "$(redis-cli -p "$PORT" GET key:$i)" = "val:$i" ] || fail "key:$i over TCP"
	[ "$(redis-cli -s "$SOCK" GET key:$i)" = "val:$i" ] || fail "key:$i over unix"
done
# every key, one round trip
n=$(keys 0 10000 | sed 's/^SET \(key:[0-9]*\) .*/GET \1/' | redis-cli -p "$PORT" | grep -c '^val:')
[ "$n" = 10000 ] || fail "only $n of 10000 keys read back"
touch "$TMP/go"
wait_line "$TMP/out2" '^OK|^FAILED|^BAD'
grep -q '^OK' "$TMP/out2" || fail "the client connected across the checkpoint: $(cat "$TMP/out2")"
redis-cli -p "$PORT" SHUTDOWN NOSAVE > /dev/null 2>&1
wait "$RPID"
echo PASS
