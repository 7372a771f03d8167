#!/bin/bash
# POSIX shared memory (shm_open: a file of the tmpfs on /dev/shm) survives
# checkpoint, SIGKILL and restart (tests/e2e/progs/posixipc.c shm): one
# object mapped shared and open at an offset, written through the
# mapping; another mapped shared and shm_unlink()ed (a deleted file: its
# contents are in the image).  The restarted copy finds the contents
# through the mapping and the fd, one file behind both, the fd's offset
# and mode, and the unlinked one still unlinked; two generations.
. "$(dirname "$0")/lib.sh"
[ -d /dev/shm ] && [ -w /dev/shm ] || skip "no writable /dev/shm"
N=ckpt-shm-$$
trap 'rm -f "/dev/shm/$N" "/dev/shm/$N-gone"; cleanup' EXIT
GENS=2 cycle shm "$TMP/shm.out" "$TMP/go" -- "$PROGS/posixipc" shm "$N" "$TMP/go"
[ $RC -eq 0 ] && grep -q '^OK' "$TMP/shm.out.2" || fail "restarted copy (rc $RC): $(cat "$TMP/shm.out.2")"
"$BIN/ckpt-info" "$TMP/shm.img" > "$TMP/shm.info" || fail "ckpt-info rc $?"
# (the second image's unlinked object is the first restart's O_TMPFILE: "/dev/shm/#N")
grep -q "file  */dev/shm/$N  flags O_RDWR|O_NOFOLLOW.* cloexec  offset 100" "$TMP/shm.info" &&
	grep -q "rw-s .* /dev/shm/$N  \[mw\]" "$TMP/shm.info" &&
	grep -q "rw-s .* /dev/shm/.* (deleted)  (file [0-9]*: ghost)" "$TMP/shm.info" ||
	fail "ckpt-info: $(grep /dev/shm "$TMP/shm.info")"
exit 0
