#!/bin/bash
# A program that includes ckpt.h builds and runs without libckpt: the
# entry points are weak, ckpt_save() fails with ENOSYS and says why; the
# same binary under LD_PRELOAD checkpoints.
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
cc -I"$ROOT/include" -o "$TMP/p" "$TMP/p.c" || fail "does not compile without libckpt"
out=$(clean_fds "$TMP/p" "$TMP/img")
echo "$out" | grep -q "r=-1 errno=ENOSYS avail=0 msg=libckpt is not loaded" || fail "without the library: $out"
[ ! -e "$TMP/img" ] || fail "an image appeared without the library"
out=$(shim "$TMP/p" "$TMP/img")
echo "$out" | grep -q "r=1 avail=1" || fail "under LD_PRELOAD: $out"
[ -s "$TMP/img" ] || fail "no image under LD_PRELOAD"
out=$(clean_fds "${RESTART[@]}" "$TMP/img")
echo "$out" | grep -q "r=2 avail=1" || fail "restarted copy: $out"
