#!/bin/bash
# TCP, UDP and netlink sockets (tests/e2e/progs/inet.c checks each in the
# process), each saved, killed with SIGKILL, restarted:
#   one     a TCP listener with its options and backlog, a connection to it
#           with bytes in flight both ways (read exactly once after the
#           restart, same addresses, options read back), an IPv6 listener,
#           UDP bound and connected over IPv4 and IPv6, a NETLINK_ROUTE
#           socket with its group, a TCP connection over IPv6; the
#           listener accepts again afterwards
#   tree    a connection between a parent and its child, bytes both ways
#   bulk    a connection whose queues are full both ways (about 4 MiB
#           each): every byte once, in order
#   orig    the original goes on after the checkpoint (SO_REUSEADDR kept
#           through repair mode), then its image restarts on the same ports
#   client  a connection to a server outside the image: ckpt-restart
#           refuses it by default (and --check says so), --tcp=close
#           brings it back reset (ECONNRESET on the next read)
#   prefork three workers accepting on their parent's listener
#   migrate a connection to an echo server outside, saved with
#           ckpt-save --exit (no FIN: the server keeps it) and restarted
#           with --tcp=repair: the greeting and the echo arrive
# and the refusals: a raw socket, a packet socket, a sock_diag netlink
# socket, a half-closed connection (named); --check naming an address
# whose port is taken; without CAP_NET_ADMIN, a connection.
. "$(dirname "$0")/lib.sh"
P=$PROGS/inet
[ "$(id -u)" = 0 ] || skip "TCP_REPAIR needs root (CAP_NET_ADMIN)"
PORT=$((20000 + RANDOM % 30000))

start() {
	local name=$1
	shift
	rm -f "$TMP/go.$name"
	shim "$P" "$1" "$TMP/go.$name" "${@:2}" > "$TMP/$name.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$name.out" '^READY|^setup|^BAD'
	grep -q '^READY' "$TMP/$name.out" || fail "$name: $(cat "$TMP/$name.out")"
}

save() {
	"$BIN/ckpt-save" "$PID" "$TMP/$1.img" > "$TMP/$1.save" 2>&1 ||
		fail "$1: ckpt-save rc $?: $(cat "$TMP/$1.save")"
}

# kill_restart NAME [ckpt-restart options]: the copy's output in NAME.out2, status in RC.
kill_restart() {
	local name=$1
	shift
	kill_tree "$PID"
	"${RESTART[@]}" --check "$@" "$TMP/$name.img" > "$TMP/$name.check" 2>&1 ||
		fail "$name: ckpt-restart --check rc $?: $(cat "$TMP/$name.check")"
	restart_bg "$@" "$TMP/$name.img" > "$TMP/$name.out2" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "$name: not restarted: $(cat "$TMP/$name.out2")"
	PIDS+=("$PID")
	touch "$TMP/go.$name"
	wait "$RPID"
	RC=$?
}

refused() {
	local name=$1 want=$2
	start "$name" "$name" "$PORT"
	"$BIN/ckpt-save" "$PID" "$TMP/$name.img" > "$TMP/$name.save" 2>&1 &&
		fail "$name: ckpt-save succeeded"
	grep -q "$want" "$TMP/$name.save" || fail "$name: refusal: $(cat "$TMP/$name.save")"
	kill9 "$PID"
}

# --- one process, everything -------------------------------------------------
start one one "$PORT"
save one
"$BIN/ckpt-info" "$TMP/one.img" > "$TMP/one.info" || fail "ckpt-info: $(cat "$TMP/one.info")"
grep -q "IPv4 TCP listening 127.0.0.1:$PORT, backlog 7" "$TMP/one.info" || fail "ckpt-info: $(cat "$TMP/one.info")"
grep -q "established 127.0.0.1:.* -> 127.0.0.1:$PORT.*11 bytes to read" "$TMP/one.info" ||
	fail "ckpt-info connection: $(cat "$TMP/one.info")"
"$BIN/ckpt-info" --json "$TMP/one.img" | python3 -c 'import json,sys; d=json.load(sys.stdin)' ||
	fail "ckpt-info --json"
"$BIN/ckpt-info" --json "$TMP/one.img" | grep -q '"inet": {"family": "IPv4", "protocol": "TCP", "state": "listening"' ||
	fail "ckpt-info --json: $("$BIN/ckpt-info" --json "$TMP/one.img" | grep -o '"inet[^}]*}' | head -3)"
kill_restart one
[ $RC -eq 0 ] && grep -q "^OK" "$TMP/one.out2" || fail "one: restarted (rc $RC): $(cat "$TMP/one.out2")"
echo "one: ok"

# --- a tree: parent and child connected ---------------------------------------
PORT=$((PORT + 10))
start tree tree "$PORT"
save tree
kill_restart tree
[ $RC -eq 0 ] && grep -q "^OK" "$TMP/tree.out2" && grep -q "^child OK" "$TMP/tree.out2" ||
	fail "tree: restarted (rc $RC): $(cat "$TMP/tree.out2")"
echo "tree: ok"

# --- both queues full, both ways: every byte once ------------------------------
PORT=$((PORT + 10))
start bulk bulk "$PORT"
save bulk
"$BIN/ckpt-info" "$TMP/bulk.img" | grep -q "IPv4 TCP established .*, [1-9][0-9]* bytes to read, [1-9][0-9]* to send" ||
	fail "bulk: queues not both saved: $("$BIN/ckpt-info" "$TMP/bulk.img" | grep established)"
kill_restart bulk
[ $RC -eq 0 ] && grep -q "^OK" "$TMP/bulk.out2" || fail "bulk: restarted (rc $RC): $(cat "$TMP/bulk.out2")"
echo "bulk ($(grep READY "$TMP/bulk.out")): ok"

# --- the original goes on after the checkpoint (its connections out of repair
# mode), reads every byte once and exits; then the image restarts (the ports
# in TIME_WAIT after the original) and its copy reads the same bytes again ----
PORT=$((PORT + 10))
start orig bulk "$PORT"
save orig
# while the original runs, --check names its listener and its connection
"${RESTART[@]}" --check "$TMP/orig.img" > "$TMP/orig.check" 2>&1 && fail "orig: --check with the original alive"
grep -q "TCP connection 127.0.0.1:[0-9]* -> 127.0.0.1:$PORT cannot be made here: .*is the original still running" \
	"$TMP/orig.check" || fail "orig: --check: $(cat "$TMP/orig.check")"
touch "$TMP/go.orig"
wait "$PID"
RC=$?
[ $RC -eq 0 ] && grep -q "^OK" "$TMP/orig.out" || fail "orig: the original after the checkpoint (rc $RC): $(cat "$TMP/orig.out")"
restart_bg "$TMP/orig.img" > "$TMP/orig.out2" 2>&1
wait "$RPID"
RC=$?
[ $RC -eq 0 ] && grep -q "^OK" "$TMP/orig.out2" || fail "orig: restarted (rc $RC): $(cat "$TMP/orig.out2")"
echo "original goes on, then the copy: ok"

# --- pre-forked workers sharing one listener -----------------------------------
PORT=$((PORT + 10))
start prefork prefork "$PORT"
save prefork
kill_restart prefork
[ $RC -eq 0 ] && grep -q "^OK" "$TMP/prefork.out2" || fail "prefork: restarted (rc $RC): $(cat "$TMP/prefork.out2")"
echo "prefork: ok"

# --- a peer outside: migrated with ckpt-save --exit and --tcp=repair -----------
PORT=$((PORT + 10))
touch "$TMP/echo"
clean_fds "$P" server "$TMP/echo" "$PORT" > "$TMP/echo.out" 2>&1 &
SRV=$!
PIDS+=("$SRV")
wait_line "$TMP/echo.out" '^LISTENING|^setup'
start migrate migrate "$PORT"
wait_line "$TMP/echo.out" '^READY'
"$BIN/ckpt-save" --exit "$PID" "$TMP/migrate.img" > "$TMP/migrate.save" 2>&1 ||
	fail "migrate: ckpt-save --exit: $(cat "$TMP/migrate.save")"
wait_for 20 gone "$PID" || fail "migrate: still running after --exit"
kill -0 "$SRV" || fail "migrate: the server is gone"
kill_restart migrate --tcp=repair
[ $RC -eq 0 ] && grep -q "^OK" "$TMP/migrate.out2" || fail "migrate: restarted (rc $RC): $(cat "$TMP/migrate.out2")"
kill9 "$SRV"
echo "migrate --exit --tcp=repair: ok"

# --- a peer outside -------------------------------------------------------------
PORT=$((PORT + 10))
clean_fds "$P" server "$TMP/none" "$PORT" > "$TMP/server.out" 2>&1 &
SRV=$!
PIDS+=("$SRV")
wait_line "$TMP/server.out" '^LISTENING|^setup'
start client client "$PORT"
save client
kill9 "$PID"
"${RESTART[@]}" --check "$TMP/client.img" > "$TMP/client.check" 2>&1 &&
	fail "client: --check accepted a connection outside without --tcp="
grep -q "TCP connection 127.0.0.1:[0-9]* -> 127.0.0.1:$PORT to a peer outside the image: say ckpt-restart --tcp=repair" \
	"$TMP/client.check" || fail "client: --check: $(cat "$TMP/client.check")"
"${RESTART[@]}" --check --tcp=close "$TMP/client.img" > "$TMP/client.check" 2>&1 ||
	fail "client: --check --tcp=close: $(cat "$TMP/client.check")"
restart_bg --tcp=close "$TMP/client.img" > "$TMP/client.out2" 2>&1
wait_for 20 test -d "/proc/$PID" || fail "client: not restarted: $(cat "$TMP/client.out2")"
touch "$TMP/go.client"
wait "$RPID"
RC=$?
[ $RC -eq 0 ] && grep -q "^OK" "$TMP/client.out2" || fail "client: restarted (rc $RC): $(cat "$TMP/client.out2")"
kill9 "$SRV"
echo "client --tcp=close: ok"

# --- a port taken: --check names the address -----------------------------------
PORT=$((PORT + 10))
# (a listener alone: the TIME_WAIT entries a killed connection may leave
# would keep the port from the blocker below too)
shim "$P" server "$TMP/none0" "$PORT" > "$TMP/taken.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/taken.out" '^LISTENING|^setup'
grep -q '^LISTENING' "$TMP/taken.out" || fail "taken: $(cat "$TMP/taken.out")"
save taken
kill_tree "$PID"
clean_fds "$P" server "$TMP/none" "$PORT" > "$TMP/server2.out" 2>&1 &
SRV=$!
PIDS+=("$SRV")
wait_line "$TMP/server2.out" '^LISTENING|^setup'
"${RESTART[@]}" --check "$TMP/taken.img" > "$TMP/taken.check" 2>&1 &&
	fail "taken: --check accepted a port another process holds"
grep -q "address 127.0.0.1:$PORT cannot be bound here: Address.* in use" "$TMP/taken.check" ||
	fail "taken: --check: $(cat "$TMP/taken.check")"
kill9 "$SRV"
echo "port taken: ok"

# --- refusals ------------------------------------------------------------------
refused raw "fd [0-9]*: a raw IPv4 socket (SOCK_RAW, protocol 1"
refused packet "fd [0-9]*: a packet socket (AF_PACKET"
refused diag "fd [0-9]*: a netlink socket of protocol 4 .*only NETLINK_ROUTE"
refused halfclosed "fd [0-9]*: TCP socket 127.0.0.1:[0-9]* -> 127.0.0.1:[0-9]* in state \(CLOSE_WAIT\|FIN_WAIT2\): only listening and established"
echo "refusals: ok"

# --- without CAP_NET_ADMIN: a connection is refused at the checkpoint, by name -
unpriv_user
PORT=$((PORT + 10))
mkdir -m 777 "$TMP/u"
rm -f "$TMP/u/go"
as_user env LD_PRELOAD="$LIB" "$P" tree "$TMP/u/go" "$PORT" > "$TMP/u/out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/u/out" '^READY|^setup|^BAD'
as_user "$BIN/ckpt-save" "$PID" "$TMP/u/img" > "$TMP/u/save" 2>&1 &&
	fail "unprivileged: ckpt-save saved a TCP connection without CAP_NET_ADMIN"
grep -q "TCP connection 127.0.0.1:[0-9]* -> 127.0.0.1:[0-9]*: saving a connection needs TCP_REPAIR, which needs CAP_NET_ADMIN" \
	"$TMP/u/save" || fail "unprivileged: $(cat "$TMP/u/save")"
kill_tree "$PID"
echo "without CAP_NET_ADMIN: refused: ok"
echo PASS
