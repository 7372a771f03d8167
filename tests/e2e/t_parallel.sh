#!/bin/bash
# Parallel Snappy: page data compressed by one thread per CPU (and more
# threads than CPUs), or by one (CKPT_THREADS=1), in place (ckpt_save)
# and from the forked writer (ckpt-save), restarts byte for byte, decoded
# by one thread or by all.  192 MiB of random, text, zero and mixed
# blocks (tests/e2e/progs/mixed.c).  Also: the compression workers are
# gone when the save returns and never in the image; random blocks are
# stored raw and text blocks compressed whatever the thread count; the
# images of 1 and N threads hold the same page records (the unit test
# test_pool.c proves byte identity within one process).
. "$(dirname "$0")/lib.sh"
MIB=192

# self THREADS: ckpt_save in place with CKPT_THREADS=THREADS.
self() {
	local tag=t$1
	CKPT_THREADS=$1 shim "$PROGS/mixed" $MIB "$TMP/$tag.img" > "$TMP/$tag.out" 2>&1 ||
		fail "$tag: save: $(cat "$TMP/$tag.out")"
	grep -q "^SAVED threads=1$" "$TMP/$tag.out" || fail "$tag: workers still there after the save: $(cat "$TMP/$tag.out")"
	"$BIN/ckpt-info" "$TMP/$tag.img" > "$TMP/$tag.info" || fail "$tag: ckpt-info failed"
	grep -q "^threads (1):" "$TMP/$tag.info" || fail "$tag: image does not hold exactly 1 thread: $(grep threads "$TMP/$tag.info")"
	clean_fds "$BIN/ckpt-restart" --check "$TMP/$tag.img" > "$TMP/$tag.check" 2>&1 ||
		fail "$tag: ckpt-restart --check: $(cat "$TMP/$tag.check")"
}
# restart IMG RTHREADS: restarts with CKPT_THREADS=RTHREADS (0: every CPU).
restart() {
	CKPT_THREADS=$2 clean_fds "$BIN/ckpt-restart" "$1" > "$TMP/r.out" 2>&1
	grep -q "^RESTORED ok$" "$TMP/r.out" || fail "restart of $1 with CKPT_THREADS=$2: $(cat "$TMP/r.out")"
}

self 1
self 0
self 5
for img in t1 t0 t5; do
	restart "$TMP/$img.img" 1
	restart "$TMP/$img.img" 0
done
restart "$TMP/t1.img" 7

# The big mapping's page data: the same stored bytes whatever the thread
# count (compression depends on the data alone), and compressed.
big() {
	"$BIN/ckpt-info" --json "$1" | python3 -c 'import json, sys
big = [v for v in json.load(sys.stdin)["vmas"] if v["end"] - v["start"] == '$MIB' << 20]
assert len(big) == 1, "no single mapping of '$MIB' MiB"
print(big[0]["raw_bytes"], big[0]["stored_bytes"])'
}
b1=$(big "$TMP/t1.img") && b0=$(big "$TMP/t0.img") && b5=$(big "$TMP/t5.img") || fail "ckpt-info --json: $b1 $b0 $b5"
[ "$b1" = "$b0" ] && [ "$b1" = "$b5" ] || fail "stored bytes differ with the thread count: 1: $b1, all: $b0, 5: $b5"
read -r raw stored <<< "$b1"
[ "$stored" -lt "$raw" ] || fail "page data not compressed: $stored of $raw bytes"

# Transparent checkpoints: forked writer (the default) and in place.
forked() {
	local tag=$1 rc
	shift
	shim env "$@" "$PROGS/mixed" $MIB - > "$TMP/$tag.out" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/$tag.out" READY 60
	"$BIN/ckpt-save" "$pid" "$TMP/$tag.img" 2> "$TMP/$tag.save" || fail "$tag: ckpt-save: $(cat "$TMP/$tag.save")"
	[ "$(ls /proc/$pid/task | wc -l)" = 1 ] || fail "$tag: compression workers left in the process"
	kill9 "$pid"
	restart_bg "$TMP/$tag.img" > "$TMP/$tag.out2" 2>&1
	wait_for 60 test -d "/proc/$pid" || fail "$tag: not restarted: $(cat "$TMP/$tag.out2")"
	kill -USR1 "$pid"
	wait "$RPID"
	rc=$?
	grep -q "^VERIFY ok threads=1$" "$TMP/$tag.out2" && [ $rc -eq 0 ] || fail "$tag (rc $rc): $(cat "$TMP/$tag.out2")"
}
forked fork CKPT_FORK=1
forked fork1 CKPT_FORK=1 CKPT_THREADS=1
forked inplace CKPT_FORK=0
CKPT_THREADS=x shim "$PROGS/mixed" 8 "$TMP/bad.img" > "$TMP/bad.out" 2>&1
grep -q "CKPT_THREADS=x is not a number of threads" "$TMP/bad.out" || fail "bad CKPT_THREADS not reported: $(cat "$TMP/bad.out")"
grep -q "^SAVED" "$TMP/bad.out" || fail "bad CKPT_THREADS: no checkpoint: $(cat "$TMP/bad.out")"
exit 0
