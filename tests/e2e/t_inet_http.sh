#!/bin/bash
# A real server: Debian's python3 -m http.server (socketserver: a TCP
# listener and poll()) under ckpt-run answering curl; saved, killed with
# SIGKILL, restarted: it answers curl again, the same file on the same
# address and port.
. "$(dirname "$0")/lib.sh"
PY=$(command -v python3) || skip "no python3"
command -v curl > /dev/null || skip "no curl"
PORT=$((20000 + RANDOM % 30000))
mkdir -p "$TMP/www"
echo "hello $RANDOM" > "$TMP/www/index.txt"

get() { curl -s --max-time 10 "http://127.0.0.1:$PORT/index.txt"; }
(cd "$TMP/www" && clean_fds "$BIN/ckpt-run" "$PY" -m http.server "$PORT" --bind 127.0.0.1 \
	< /dev/null > "$TMP/out" 2>&1) &
PID=$!
PIDS+=("$PID")
wait_for 20 bash -c "curl -s --max-time 2 http://127.0.0.1:$PORT/index.txt > /dev/null" ||
	fail "http.server does not answer: $(cat "$TMP/out")"
# the subshell forked: the server is its child, or the subshell itself exec'd
SRV=$(pgrep -f "http.server $PORT" | head -1)
[ -n "$SRV" ] || fail "no server process"
PIDS+=("$SRV")
[ "$(get)" = "$(cat "$TMP/www/index.txt")" ] || fail "before: $(get)"
"$BIN/ckpt-save" "$SRV" "$TMP/img" > "$TMP/save" 2>&1 || fail "ckpt-save: $(cat "$TMP/save")"
kill9 "$SRV"	# waits until it is gone: whoever answers next is the restarted copy
"${RESTART[@]}" --check "$TMP/img" > "$TMP/check" 2>&1 || fail "--check: $(cat "$TMP/check")"
(cd "$TMP/www" && restart_bg "$TMP/img" > "$TMP/out2" 2>&1; wait)  &
RS=$!
PIDS+=("$RS")
wait_for 20 bash -c "curl -s --max-time 2 http://127.0.0.1:$PORT/index.txt > /dev/null" ||
	fail "http.server does not answer after the restart: $(cat "$TMP/out2")"
grep -q "ckpt-restart" "$TMP/out2" && fail "restart: $(cat "$TMP/out2")"
[ "$(get)" = "$(cat "$TMP/www/index.txt")" ] || fail "after: $(get)"
[ "$(get)" = "$(cat "$TMP/www/index.txt")" ] || fail "after, again: $(get)"
kill9 "$SRV"
echo PASS
