#!/bin/bash
# ckpt_exclude()/ckpt_include() (progs/exclude.c): 4 pages of a mapping
# and 2 of the heap hold a secret made at run time, excluded; the rest
# a pattern.  Images are uncompressed (CKPT_COMPRESS=none), so a secret
# that reached one shows to grep.
#  1. ckpt_save(): the image has no secret; the restarted copy finds
#     zeros there and the pattern intact; the original kept its data.
#  2. An incremental chain: image 1 before the exclusion holds the secret
#     (the grep's control); image 2 after it restarts with zeros (image
#     1's copy is not inherited), image 4 on 2 likewise (both images'
#     inherited ranges cut around the secret); after ckpt_include image 3 is full and
#     restarts with the process's data.
#  3. ckpt-save from outside (a forked writer) and ckpt-save --mappable:
#     no secret in the image, zeros after the restart.
. "$(dirname "$0")/lib.sh"
X=$PROGS/exclude
secret() { LC_ALL=C grep -q "SECRET-libckpt-exclude" "$1"; }
export CKPT_COMPRESS=none

# 1.
clean_fds "$X" self "$TMP/self.img" > "$TMP/self.out" 2>&1
grep -qx "SAVED ok" "$TMP/self.out" || fail "self: $(cat "$TMP/self.out")"
! secret "$TMP/self.img" || fail "self: the image holds the excluded secret"
clean_fds "${RESTART[@]}" "$TMP/self.img" > "$TMP/self.r" 2>&1
grep -qx "RESTORED ok" "$TMP/self.r" || fail "self restart: $(cat "$TMP/self.r")"

# 2.
mkdir "$TMP/i"
clean_fds "$X" incr "$TMP/i" > "$TMP/i.out" 2>&1
[ "$(cat "$TMP/i.out")" = $'SAVED 1\nSAVED 2\nSAVED 4\nSAVED 3' ] || fail "incr: $(cat "$TMP/i.out")"
secret "$TMP/i/1" || fail "incr: image 1 (before the exclusion) has no secret: the grep sees nothing"
"$BIN/ckpt-info" "$TMP/i/2" | grep -q "^flags:.*incremental" || fail "incr: image 2 is not incremental"
"$BIN/ckpt-info" "$TMP/i/3" | grep -q "^flags:.*incremental" && fail "incr: image 3 (after ckpt_include) is incremental"
"$BIN/ckpt-info" "$TMP/i/4" | grep -q "^parent: .*/2 " || fail "incr: image 4's parent is not image 2"
for n in 1 2 4 3; do
	clean_fds "${RESTART[@]}" "$TMP/i/$n" > "$TMP/i.r$n" 2>&1
	grep -qx "RESTORED $n ok" "$TMP/i.r$n" || fail "incr: restart of image $n: $(cat "$TMP/i.r$n")"
done

# 3.
for how in forked mappable; do
	d=$TMP/$how
	mkdir "$d"
	clean_fds "$X" serve "$d" > "$d/out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$d/out" '^READY'
	opt=()
	[ $how = mappable ] && opt=(--mappable)
	"$BIN/ckpt-save" "${opt[@]}" "$PID" "$d/img" > "$d/save" 2>&1 || fail "$how: $(cat "$d/save")"
	! secret "$d/img" || fail "$how: the image holds the excluded secret"
	kill9 "$PID"
	restart_bg "$d/img" > "$d/r" 2>&1
	touch "$d/go"
	wait "$RPID" || fail "$how: restart: rc $?: $(cat "$d/r")"
	grep -qx "CHECK zero pattern-ok" "$d/r" || fail "$how: after the restart: $(cat "$d/r")"
done
exit 0
