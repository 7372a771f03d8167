#!/bin/bash
# Linking against libckpt:
#  - a program built with plain `cc prog.c -lckpt` needs libckpt and gets
#    it, even under --as-needed (strong references: the library's
#    DT_NEEDED stays), and checkpoints without LD_PRELOAD;
#  - a program built with -DCKPT_WEAK and without the library runs
#    without it: ckpt_save() fails with ENOSYS and says why; the same
#    binary under LD_PRELOAD checkpoints, and its restarted copy runs.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/p.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ckpt.h"
int main(int argc, char **argv)
{
	int r = ckpt_save(argv[1]);
	if (r < 0)
		printf("r=-1 errno=%s avail=%d msg=%s\n", errno == ENOSYS ? "ENOSYS" : strerror(errno),
		       ckpt_available(), ckpt_last_error());
	else
		printf("r=%d avail=%d\n", r, ckpt_available());
	return 0;
}
C
# plain -lckpt, with --as-needed as some distributions make the default
cc -I"$ROOT/include" -o "$TMP/linked" "$TMP/p.c" -Wl,--as-needed -L"$B" -lckpt ||
	fail "does not link with -lckpt"
readelf -d "$TMP/linked" | grep -q 'NEEDED.*libckpt.so' || fail "-lckpt under --as-needed: no DT_NEEDED for libckpt"
out=$(LD_LIBRARY_PATH=$B clean_fds "$TMP/linked" "$TMP/limg")
echo "$out" | grep -q "r=1 avail=1" || fail "linked with -lckpt: $out"
[ -s "$TMP/limg" ] || fail "no image from the linked program"

cc -DCKPT_WEAK -I"$ROOT/include" -o "$TMP/p" "$TMP/p.c" || fail "does not compile without libckpt (CKPT_WEAK)"
out=$(clean_fds "$TMP/p" "$TMP/img")
echo "$out" | grep -q "r=-1 errno=ENOSYS avail=0 msg=libckpt is not loaded" || fail "without the library: $out"
[ ! -e "$TMP/img" ] || fail "an image appeared without the library"
out=$(shim "$TMP/p" "$TMP/img")
echo "$out" | grep -q "r=1 avail=1" || fail "under LD_PRELOAD: $out"
[ -s "$TMP/img" ] || fail "no image under LD_PRELOAD"
out=$(clean_fds "${RESTART[@]}" "$TMP/img")
echo "$out" | grep -q "r=2 avail=1" || fail "restarted copy: $out"
