#!/bin/bash
# demo.sh - `make demo`: run a program, checkpoint it, kill it, restart it.
set -eu
B=$(cd "$(dirname "$0")/.." && pwd)/build
dir=$(mktemp -d /tmp/ckpt-demo.XXXXXX)
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
# Only stdin/out/err: an inherited stray fd would (rightly) be refused.
for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true; done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say "start the counter under libckpt"
"$B/bin/ckpt-run" "$B/samples/counter" 12 > "$dir/out" &
pid=$!
until grep -q "tick 4 " "$dir/out" 2>/dev/null; do sleep 0.05; done
cat "$dir/out"

say "checkpoint it: ckpt-save $pid $dir/counter.img"
"$B/bin/ckpt-save" "$pid" "$dir/counter.img"

say "kill it (SIGKILL)"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
echo "process $pid is gone"

say "restart it: ckpt-restart counter.img (same pid, goes on counting into its file)"
"$B/bin/ckpt-restart" "$dir/counter.img"
cat "$dir/out"

say "what the image holds: ckpt-info counter.img"
"$B/bin/ckpt-info" "$dir/counter.img" | head -20
