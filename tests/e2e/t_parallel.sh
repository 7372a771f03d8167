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
	clean_fds "${RESTART[@]}" --check "$TMP/$tag.img" > "$TMP/$tag.check" 2>&1 ||
		fail "$tag: ckpt-restart --check: $(cat "$TMP/$tag.check")"
}
# restart IMG RTHREADS: restarts with CKPT_THREADS=RTHREADS (0: every CPU).
restart() {
	CKPT_THREADS=$2 clean_fds "${RESTART[@]}" "$1" > "$TMP/r.out" 2>&1
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
# Full compression stores 0.62 of it; if the fast path stored the
# repeated-page blocks raw it would be 0.79.
[ $((stored * 10)) -lt $((raw * 7)) ] || fail "page data compressed too little: $stored of $raw bytes"

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
# A PAGES record whose Snappy data declares a wrong length, with every crc
# made right again: the decoding threads find it, the restart names it
# (the same line whatever the thread count), exit 2, nothing restored.
shim "$PROGS/mixed" 4 "$TMP/small.img" > "$TMP/small.out" 2>&1 || fail "small save: $(cat "$TMP/small.out")"
python3 - "$TMP/small.img" "$TMP/evil.img" > "$TMP/evil.where" <<'PY' || fail "cannot make the corrupt image"
import struct, sys
T = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    T.append(c)
def crc(b, c=0):
    c ^= 0xFFFFFFFF
    for x in b:
        c = T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
img = bytearray(open(sys.argv[1], "rb").read())
off, nsnappy, hit = 128, 0, None
while True:
    typ, ver, fl, ln, rc, rs = struct.unpack_from("<IHHQII", img, off)
    if typ == 0xFFFF:
        break
    if typ == 5:
        addr, npages, codec = struct.unpack_from("<QIB", img, off + 24)
        if codec == 1 and npages == 64:
            nsnappy += 1
            if nsnappy == 3:
                hit = off
                img[off + 24 + 16] ^= 0x01          # varint: 262144 -> 262145
                struct.pack_into("<I", img, off + 16, crc(img[off + 24:off + 24 + ln], crc(img[off:off + 16])))
                print("%x %d" % (addr, off))
    off += 24 + ln
assert hit is not None, "no third 64-page snappy record"
end = off
struct.pack_into("<I", img, end + 24 + 16, crc(img[:end]))
struct.pack_into("<I", img, end + 16, crc(img[end + 24:end + 48], crc(img[end:end + 16])))
open(sys.argv[2], "wb").write(img)
PY
read -r addr off < "$TMP/evil.where"
want="corrupt: page data at $addr (offset $off): pages at 0x$addr: snappy data decodes to 262145 bytes, expected 262144"
for t in 1 0 3; do
	CKPT_THREADS=$t clean_fds "${RESTART[@]}" "$TMP/evil.img" > "$TMP/evil.out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "corrupt page data, CKPT_THREADS=$t: exit $rc, want 2: $(cat "$TMP/evil.out")"
	grep -qF "$want" "$TMP/evil.out" || fail "corrupt page data, CKPT_THREADS=$t: want '$want', got: $(cat "$TMP/evil.out")"
	grep -q RESTORED "$TMP/evil.out" && fail "corrupt page data, CKPT_THREADS=$t: a process was restored"
	CKPT_THREADS=$t clean_fds "${RESTART[@]}" --check "$TMP/evil.img" > "$TMP/evil.chk" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -qF "$want" "$TMP/evil.chk" || fail "--check, CKPT_THREADS=$t: exit $rc: $(cat "$TMP/evil.chk")"
done

CKPT_THREADS=x shim "$PROGS/mixed" 8 "$TMP/bad.img" > "$TMP/bad.out" 2>&1
grep -q "CKPT_THREADS=x is not a number of threads" "$TMP/bad.out" || fail "bad CKPT_THREADS not reported: $(cat "$TMP/bad.out")"
grep -q "^SAVED" "$TMP/bad.out" || fail "bad CKPT_THREADS: no checkpoint: $(cat "$TMP/bad.out")"
exit 0
