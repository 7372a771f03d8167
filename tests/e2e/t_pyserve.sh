#!/bin/bash
# Programs we did not write, serving the network: Debian's python3.
#  - asyncio (progs/pyasync.py): an echo server and a client process it
#    forked, with 50 TCP connections between them, each line answered
#    with the connection's count: saved mid-conversation, the tree killed
#    whole and restarted twice; every round after it is exact (no line
#    lost or repeated on any connection), the client ends cleanly and the
#    server reaps it.
# (`python3 -m http.server` answering curl: t_inet_http.)
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no /usr/bin/python3"

# save PID IMG OUT: ckpt-save, failing the test with its message.
save() {
	"$BIN/ckpt-save" "$1" "$2" > "$3" 2>&1 || fail "ckpt-save: $(cat "$3")"
}

shim "$PY" "$(dirname "$0")/progs/pyasync.py" "$TMP/go" < /dev/null > "$TMP/out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/out" '^READY|^BAD|Error'
grep -q '^READY' "$TMP/out" || fail "asyncio: $(cat "$TMP/out")"
RPID=
for ((g = 1; g <= 2; g++)); do
	save "$PID" "$TMP/img" "$TMP/save"
	kill_tree "$PID"
	[ -z "$RPID" ] || wait "$RPID"
	restart_bg "$TMP/img" > "$TMP/r.$g" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "asyncio: generation $g: not restarted: $(cat "$TMP/r.$g")"
	PIDS+=($(tree_pids "$RPID"))
done
touch "$TMP/go"
wait "$RPID" || fail "asyncio: the restarted server: rc $?: $(cat "$TMP/r.2")"
grep -q '^DONE ok' "$TMP/r.2" && grep -q '^CLIENT rounds' "$TMP/r.2" ||
	fail "asyncio: after two restarts: $(cat "$TMP/r.2")"

exit 0
