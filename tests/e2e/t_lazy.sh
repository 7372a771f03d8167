#!/bin/bash
# ckpt-restart --lazy (restart/restart_lazy.c): a compressed image of a
# process with 256 MiB of data and 4 threads besides main (progs/lazy.c):
#  - restarted with --lazy, it saves itself again at once, while its pages
#    are still arriving (the checkpoint waits for them), and then finds
#    its memory identical byte for byte: moved (mremap) and partly dropped
#    (MADV_DONTNEED, munmap) before it arrived, in a child it forks, read first
#    by the kernel (write() from lazy memory to a pipe) and by its threads
#    at once;
#  - that second image, restarted with --lazy and no background streaming
#    (CKPT_LAZY_BACKGROUND=0: every page arrives by a fault, the kernel's
#    included), and restarted eagerly: identical again;
#  - a corrupt page in the image: a clear error, exit 2, the process killed;
#  - --lazy of a pipe: refused with a clear error, exit 1;
#  - an unprivileged user's --lazy (a --pidns image): a note, and an
#    eager restore that works.
. "$(dirname "$0")/lib.sh"
P=$PROGS/lazy
[ -r /proc/sys/vm/unprivileged_userfaultfd ] || skip "this kernel has no userfaultfd"

clean_fds "$P" 256 "$TMP/a.img" "$TMP/b.img" > "$TMP/o0" 2>&1
grep -q '^SAVED 1' "$TMP/o0" || fail "no first image: $(cat "$TMP/o0")"

# 1. --lazy, then a checkpoint while pages are still arriving.
CKPT_LAZY_STATS=1 clean_fds "${RESTART[@]}" --lazy "$TMP/a.img" > "$TMP/o1" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "--lazy: rc $rc: $(cat "$TMP/o1")"
if grep -q 'restoring eagerly' "$TMP/o1"; then
	skip "userfaultfd cannot serve kernel faults here: $(grep eagerly "$TMP/o1")"
fi
for l in 'RESTORED 1' 'SAVED 2' 'EVENTS ok' 'FORK ok' 'KERNEL ok' 'THREADS ok' 'ALL OK' 'ckpt-restart: lazy: [0-9]+ records'; do
	grep -qE "^$l" "$TMP/o1" || fail "--lazy: no '$l': $(cat "$TMP/o1")"
done
grep -q BAD "$TMP/o1" && fail "--lazy: $(grep BAD "$TMP/o1")"
[ -s "$TMP/b.img" ] || fail "no second image"

# 2. Every page by a fault; then the same image eagerly.
CKPT_LAZY_BACKGROUND=0 CKPT_LAZY_STATS=1 clean_fds "${RESTART[@]}" --lazy "$TMP/b.img" > "$TMP/o2" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "--lazy, faults only: rc $rc: $(cat "$TMP/o2")"
for l in 'RESTORED 2' 'EVENTS ok' 'FORK ok' 'KERNEL ok' 'THREADS ok' 'ALL OK'; do
	grep -q "^$l" "$TMP/o2" || fail "--lazy, faults only: no '$l': $(cat "$TMP/o2")"
done
nf=$(sed -n 's/^ckpt-restart: lazy: .*(\([0-9]*\) on fault.*/\1/p' "$TMP/o2")
[ "${nf:-0}" -gt 100 ] || fail "--lazy, faults only: pages did not come by faults: $(cat "$TMP/o2")"
clean_fds "${RESTART[@]}" "$TMP/b.img" > "$TMP/o3" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^ALL OK' "$TMP/o3" || fail "eager restart of the image saved during a lazy restart: rc $rc: $(cat "$TMP/o3")"

# 3. One flipped byte in the page data of a PAGES record of the big buffer.
cp "$TMP/a.img" "$TMP/c.img"
off=$(python3 - "$TMP/c.img" <<'PY'
import struct, sys
f = open(sys.argv[1], 'rb'); data = f.read()
off, pages = 128, []
while off + 24 <= len(data):
    typ, ver, flg, ln, crc, res = struct.unpack_from('<IHHQII', data, off)
    if typ == 0xffff:
        break
    if typ == 5 and ln > 4096:
        pages.append(off)
    off += 24 + ln
print(pages[len(pages) // 2] + 24 + 16 + 1000)
PY
)
[ -n "$off" ] || fail "no PAGES record found in the image"
flip_byte "$TMP/c.img" "$off"
clean_fds "${RESTART[@]}" --lazy "$TMP/c.img" > "$TMP/o4" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "corrupt page data: rc $rc, want 2: $(cat "$TMP/o4")"
grep -q 'corrupt: checksum mismatch; the restored process (pid [0-9]*) is killed' "$TMP/o4" ||
	fail "corrupt page data: unclear message: $(cat "$TMP/o4")"
grep -q 'ALL OK\|SAVED 2' "$TMP/o4" && fail "corrupt page data: the process went on: $(cat "$TMP/o4")"

# 4. A pipe cannot be read again.
cat "$TMP/a.img" | clean_fds "${RESTART[@]}" --trust-image --lazy - > "$TMP/o5" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "--lazy of a pipe: rc $rc, want 1: $(cat "$TMP/o5")"
grep -q -- '--lazy needs the image as a regular file' "$TMP/o5" || fail "--lazy of a pipe: unclear message: $(cat "$TMP/o5")"

# 5. Unprivileged (a --pidns image, restarted by its user): no userfaultfd
#    for kernel faults, so a note and an eager restore that works.
U=ckpt-test-user
if [ "$(id -u)" = 0 ] && { id "$U" > /dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$U" > /dev/null 2>&1; }; then
	uid=$(id -u "$U") gid=$(id -g "$U")
	chmod 755 "$TMP"
	mkdir "$TMP/u" && chown "$uid:$gid" "$TMP/u"
	if as_user unshare --user --pid --mount --fork true 2> /dev/null &&
	   as_user test -x "$BIN/ckpt-run" -a -x "$P" -a -r "$LIB"; then
		as_user "$BIN/ckpt-run" --pidns "$P" 16 "$TMP/u/u.img" > "$TMP/o6" 2>&1
		grep -q '^SAVED 1' "$TMP/o6" || fail "unprivileged: no image: $(cat "$TMP/o6")"
		as_user "${RESTART[@]}" --lazy "$TMP/u/u.img" > "$TMP/o7" 2>&1
		rc=$?
		[ $rc -eq 0 ] && grep -q '^ALL OK' "$TMP/o7" || fail "unprivileged --lazy: rc $rc: $(cat "$TMP/o7")"
		grep -q 'note: --lazy needs userfaultfd .* restoring eagerly' "$TMP/o7" ||
			fail "unprivileged --lazy: no note about the eager restore: $(cat "$TMP/o7")"
	else
		echo "note: unprivileged case not run ($U cannot make a user namespace or read the build)"
	fi
fi
exit 0
