#!/bin/bash
# ckpt-restart, ckpt-restart --check and ckpt-info refuse bad images with
# the right exit code and a message naming the problem, and never crash
# (status < 128, no core): missing (2), empty (2), a directory (2),
# garbage (2), truncated inside the header, a record header, a record,
# just before END and inside END (2, "truncated"; also through a pipe),
# a flipped byte in the header, the middle and the END record (2,
# checksum), wrong magic (2), version 99 with a stale header CRC (2) and
# with a recomputed one (3, newer version), another arch (3), another
# page size (3).  The good image still restarts.
. "$(dirname "$0")/lib.sh"
G=$TMP/good.img
touch "$TMP/stop"
shim "$PROGS/worker" "$TMP/log" "$TMP/stop" "$G" 1 > "$TMP/out1" 2>&1
grep -q '^SELF SAVED' "$TMP/out1" && [ -f "$G" ] || fail "no good image: $(cat "$TMP/out1")"
SIZE=$(stat -c %s "$G")
cd "$TMP" || exit 1
ulimit -c unlimited 2>/dev/null	# a crash would leave a core here (or in the kernel's pattern)
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }

# edit "OUT OP [ARGS]"...: copies of the good image, changed (one python3
# run for all: it starts slowly).
edit() {
	python3 - "$G" "$@" <<'PY' || fail "edit $*: python failed"
import struct, sys
d0 = open(sys.argv[1], 'rb').read()
T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    T.append(c)
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
CRC_OFF = 36	# struct img_header.hdr_crc (libckpt/img_format.h)
def hdr_crc(d):
    h = bytearray(d[:128]); h[CRC_OFF:CRC_OFF + 4] = b'\0' * 4
    return crc32c(h)
for spec in sys.argv[2:]:
    out, op, *args = spec.split()
    d = bytearray(d0)
    if op == 'checkcrc':	# our CRC reproduces the writer's
        if struct.unpack_from('<I', d, CRC_OFF)[0] != hdr_crc(d):
            sys.exit(1)
        continue
    elif op == 'cut':
        d = d[:int(args[0])]
    elif op == 'flip':
        d[int(args[0])] ^= 0x10
    elif op == 'u32':	# u32 OFFSET VALUE [fix]
        struct.pack_into('<I', d, int(args[0]), int(args[1]))
        if len(args) > 2:
            struct.pack_into('<I', d, CRC_OFF, hdr_crc(d))
    elif op == 'magic':
        d[0:8] = b'NOTCKPT\x01'
    open(out, 'wb').write(d)
PY
}

# expect CODE REGEX FILE [DESC]: all three tools on FILE.
expect() {
	local want=$1 re=$2 f=$3 desc=${4:-$3} rc tool
	for tool in restart check info; do
		case $tool in
		restart) clean_fds "${RESTART[@]}" "$f" > "$TMP/msg" 2>&1 ;;
		check) clean_fds "${RESTART[@]}" --check "$f" > "$TMP/msg" 2>&1 ;;
		info) clean_fds "$BIN/ckpt-info" "$f" > "$TMP/msg" 2>&1 ;;
		esac
		rc=$?
		if [ $rc -ge 128 ]; then
			bad "$desc: ckpt-$tool crashed (status $rc): $(head -c 300 "$TMP/msg")"
		elif [ $rc -ne "$want" ]; then
			bad "$desc: ckpt-$tool rc $rc, want $want: $(head -c 300 "$TMP/msg")"
		elif ! grep -qiE "$re" "$TMP/msg"; then
			bad "$desc: ckpt-$tool message does not match /$re/: $(head -c 300 "$TMP/msg")"
		fi
	done
}

REC=128					# the first record's header
CUTS="64 $((REC + 10)) $((SIZE / 2)) $((SIZE - 48)) $((SIZE - 1))"
FLIPS="20 $((SIZE / 2)) $((SIZE - 8))"
specs=("x checkcrc")
for c in $CUTS; do specs+=("$TMP/cut$c.img cut $c"); done
for f in $FLIPS; do specs+=("$TMP/flip$f.img flip $f"); done
specs+=("$TMP/magic.img magic" "$TMP/v99stale.img u32 8 99" "$TMP/v99.img u32 8 99 fix"
	"$TMP/arch.img u32 12 183 fix" "$TMP/page.img u32 16 16384 fix")	# 183: EM_AARCH64
edit "${specs[@]}" || fail "cannot reproduce the header CRC (crc32c at offset 36) or write the images"

expect 2 "missing\.img" "$TMP/missing.img" "missing file"
: > "$TMP/empty.img"
expect 2 "empty\.img" "$TMP/empty.img" "empty file"
mkdir "$TMP/dir.img"
expect 2 "dir\.img" "$TMP/dir.img" "a directory"
head -c 4096 /dev/urandom > "$TMP/garbage.img"
expect 2 "magic|not .*image" "$TMP/garbage.img" "garbage"

for cut in $CUTS; do
	expect 2 "truncated" "$TMP/cut$cut.img" "cut at $cut of $SIZE"
done
# truncated, through a pipe
# (root restarts an image from a pipe only with --trust-image: docs/SECURITY.md)
cat "$TMP/cut$((SIZE / 2)).img" | clean_fds "${RESTART[@]}" --trust-image - > "$TMP/msg" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -qi truncated "$TMP/msg" || bad "truncated image on stdin: rc $rc: $(cat "$TMP/msg")"

for off in $FLIPS; do
	expect 2 "checksum|crc|corrupt" "$TMP/flip$off.img" "byte $off of $SIZE flipped"
done
expect 2 "magic|not .*image" "$TMP/magic.img" "wrong magic"
expect 2 "checksum|crc|corrupt" "$TMP/v99stale.img" "version 99, stale header CRC"
expect 3 "version" "$TMP/v99.img" "version 99"
expect 3 "arch" "$TMP/arch.img" "arch 183"
expect 3 "page" "$TMP/page.img" "page size 16384"

cores=$(ls "$TMP" | grep -i core)
[ -z "$cores" ] || bad "core files: $cores"

# the good image is good
expect 0 "." "$G" "the good image"
[ $nbad -eq 0 ] || exit 1
exit 0
