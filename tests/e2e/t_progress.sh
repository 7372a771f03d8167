#!/bin/bash
# Progress of a long save or restart (tools/progress.c): with
# CKPT_PROGRESS=always, ckpt-save prints "ckpt-save: X of ~Y saved, R/s"
# lines before its report (the process sends them while it writes its
# pages: ctl_progress) and ckpt-restart "ckpt-restart: X of Y read" lines
# while it reads; without it and off a terminal, neither prints any; the
# image is the same either way (restarted, the process has its data).
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no /usr/bin/python3"
export CKPT_COMPRESS=none
shim "$PY" -c "
import hashlib, os, time, sys
a = os.urandom(64 << 20)
print('READY', hashlib.md5(a).hexdigest(), flush=True)
while not os.path.exists(sys.argv[1]): time.sleep(0.01)
print('DONE', hashlib.md5(a).hexdigest(), flush=True)
" "$TMP/go" < /dev/null > "$TMP/out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/out" '^READY|Error'
sum=$(sed -n 's/^READY //p' "$TMP/out")
[ -n "$sum" ] || fail "$(cat "$TMP/out")"

"$BIN/ckpt-save" "$PID" "$TMP/quiet.img" > "$TMP/quiet" 2>&1 || fail "ckpt-save: $(cat "$TMP/quiet")"
[ "$(grep -c '^ckpt-save:' "$TMP/quiet")" = 1 ] || fail "progress off a terminal: $(cat "$TMP/quiet")"
CKPT_PROGRESS=always "$BIN/ckpt-save" "$PID" "$TMP/img" > "$TMP/save" 2>&1 || fail "ckpt-save: $(cat "$TMP/save")"
grep -Eq '^ckpt-save: [0-9.]+ [KMG]?i?B of ~[0-9.]+ [KMG]iB saved, [0-9.]+ [KMG]?i?B/s' "$TMP/save" ||
	fail "no progress line: $(cat "$TMP/save")"
tail -1 "$TMP/save" | grep -q "saved to $TMP/img" || fail "the report is not last: $(cat "$TMP/save")"
kill9 "$PID"
CKPT_PROGRESS=always restart_bg "$TMP/img" > "$TMP/r" 2>&1
touch "$TMP/go"
wait "$RPID" || fail "restart: rc $?: $(cat "$TMP/r")"
grep -Eq '^ckpt-restart: [0-9.]+ [KMG]?i?B of [0-9.]+ [KMG]iB read' "$TMP/r" || fail "no restart progress: $(cat "$TMP/r")"
grep -qx "DONE $sum" "$TMP/r" || fail "after the restart: $(cat "$TMP/r")"
exit 0
