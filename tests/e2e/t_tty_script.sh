#!/bin/bash
# A program we did not write that makes a pty: util-linux `script` runs a
# shell loop on a pty of its own (signalfd, poll, the master copied to a
# typescript).  Saved mid-copy three times (output the master has not
# read yet is kept: PTY_DATA), the tree killed, restarted: the typescript
# has every line of the loop exactly once, in order, and script exits 0.
. "$(dirname "$0")/lib.sh"
command -v script > /dev/null || skip "no script (util-linux)"
N=60
shim script -qfc "for i in \$(seq 1 $N); do echo line \$i; sleep 0.02; done" "$TMP/ts" \
	< /dev/null > "$TMP/out" 2>&1 &
PID=$!
PIDS+=("$PID")
lines() { tr -d '\r' < "$TMP/ts" 2> /dev/null | grep -c '^line'; }
more_than() { [ "$(lines)" -gt "$1" ]; }
RPID=
for ((g = 1; g <= 3; g++)); do
	wait_for 20 more_than $((g * 10)) || fail "generation $g: no progress: $(lines) lines"
	"$BIN/ckpt-save" "$PID" "$TMP/img" > "$TMP/save" 2>&1 || fail "generation $g: $(cat "$TMP/save")"
	kill_tree "$PID"
	[ -z "$RPID" ] || wait "$RPID"
	restart_bg "$TMP/img" >> "$TMP/out" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "generation $g: not restarted: $(cat "$TMP/out")"
	PIDS+=($(tree_pids "$RPID"))
done
wait "$RPID" || fail "script after the restarts: rc $?: $(tail -5 "$TMP/out")"
got=$(tr -d '\r' < "$TMP/ts" | grep '^line' | awk '{ print $2 }' | tr '\n' ' ')
want=$(seq 1 $N | tr '\n' ' ')
[ "$got" = "$want" ] || fail "the typescript's lines: $got"
exit 0
