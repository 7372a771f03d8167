#!/bin/bash
# Programs we did not write, serving the network: Debian's python3.
#  - asyncio (progs/pyasync.py): an echo server and a client process it
#    forked, with 50 TCP connections between them, each line answered
#    with the connection's count: saved mid-conversation, the tree killed
#    whole and restarted twice; every round after it is exact (no line
#    lost or repeated on any connection), the client ends cleanly and the
#    server reaps it.
#  - `python3 -m http.server`: answers curl before the checkpoint, and
#    after the restart on the same port, a file made since too.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no /usr/bin/python3"
command -v curl > /dev/null || skip "no curl"

# save PID IMG OUT: ckpt-save, skipping the test while libckpt refuses
# what these programs need.
save() {
	"$BIN/ckpt-save" "$1" "$2" > "$3" 2>&1 && return 0
	grep -q "not supported yet" "$3" && skip "$(grep -m1 'not supported' "$3")"
	fail "ckpt-save: $(cat "$3")"
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

mkdir "$TMP/www"
echo "before $$" > "$TMP/www/a.txt"
shim "$PY" -u -m http.server --bind 127.0.0.1 --directory "$TMP/www" 0 < /dev/null > "$TMP/http" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/http" 'Serving HTTP.* port [0-9]+|Error'
PORT=$(sed -n 's/.*Serving HTTP.* port \([0-9]*\).*/\1/p' "$TMP/http")
[ -n "$PORT" ] || fail "http.server: $(cat "$TMP/http")"
URL=http://127.0.0.1:$PORT
[ "$(curl -sS --max-time 20 "$URL/a.txt")" = "before $$" ] || fail "http.server before: $(cat "$TMP/http")"
save "$PID" "$TMP/himg" "$TMP/hsave"
kill_tree "$PID"
restart_bg "$TMP/himg" > "$TMP/hr" 2>&1
wait_for 20 test -d "/proc/$PID" || fail "http.server: not restarted: $(cat "$TMP/hr")"
echo "after $$" > "$TMP/www/b.txt"
[ "$(curl -sS --max-time 20 "$URL/a.txt")" = "before $$" ] || fail "http.server after: a.txt: $(cat "$TMP/hr")"
[ "$(curl -sS --max-time 20 "$URL/b.txt")" = "after $$" ] || fail "http.server after: b.txt: $(cat "$TMP/hr")"
kill "$PID"
wait "$RPID" 2> /dev/null
exit 0
