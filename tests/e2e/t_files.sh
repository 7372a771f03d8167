#!/bin/bash
# Open files survive checkpoint, SIGKILL and restart: a read-only file
# with its offset, a read-write file (and its dup sharing the offset), an
# O_APPEND log the test appends to after the checkpoint (no line lost, the
# copy's next line goes to the end), a directory fd (openat, fchdir),
# /dev/null, /dev/zero, /dev/full, /dev/urandom, FD_CLOEXEC and status
# flags; also cwd (restarted from another cwd), umask and rlimits.
# Refusals (exit 4, message naming the file, process not started): a
# reopened file truncated below its offset, a reopened file deleted, a
# mapped file changed (content and size; content and mtime), the cwd gone.
. "$(dirname "$0")/lib.sh"
D=$TMP/d
mkdir -p "$D/sub" "$D/cwd"
python3 -c "import sys; sys.stdout.write(''.join(chr(97 + i * 7 % 26) for i in range(10000)))" > "$D/ro.txt"
head -c 8192 /dev/urandom > "$D/mapped"
echo inside > "$D/sub/inside.txt"

shim "$PROGS/files" "$D" "$TMP/img" > "$TMP/out1" 2>&1 || fail "save: $(cat "$TMP/out1")"
grep -q '^SAVED' "$TMP/out1" || fail "no SAVED: $(cat "$TMP/out1")"
[ -f "$TMP/img" ] || fail "no image"
for f in ro.txt rw.dat log mapped; do cp -p "$D/$f" "$D/$f.orig"; done

# Every failure is reported, and the test goes on to the next case.
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }
# reset: the files as they were at the checkpoint (same inodes, mtimes).
reset() { for f in ro.txt rw.dat log mapped; do cp -p "$D/$f.orig" "$D/$f"; done; }

# refused PROBLEM FILE: restart and --check exit 4 naming FILE.
refused() {
	local what=$1 name=$2 rc
	clean_fds "${RESTART[@]}" --check "$TMP/img" > "$TMP/chk" 2>&1
	rc=$?
	[ $rc -eq 4 ] || bad "$what: ckpt-restart --check rc $rc, want 4: $(cat "$TMP/chk")"
	clean_fds "${RESTART[@]}" "$TMP/img" > "$TMP/neg" 2>&1
	rc=$?
	grep -q RESTORED "$TMP/neg" && bad "$what: the process was restarted anyway: $(cat "$TMP/neg")"
	if [ $rc -ne 4 ]; then
		bad "$what: ckpt-restart rc $rc, want 4: $(cat "$TMP/neg")"
	else
		grep -q "$name" "$TMP/neg" || bad "$what: message does not name $name: $(cat "$TMP/neg")"
	fi
}

truncate -s 100 "$D/ro.txt"			# offset is 1234
refused "reopened file shorter than its offset" ro.txt
reset

mv "$D/rw.dat" "$D/rw.away"
refused "reopened file deleted" rw.dat
mv "$D/rw.away" "$D/rw.dat"
reset

mv "$D/cwd" "$D/cwd.away"
refused "cwd gone" "$D/cwd"
mv "$D/cwd.away" "$D/cwd"

printf 'more' >> "$D/mapped"			# new size and mtime
refused "mapped file grew" mapped
reset
head -c 100 /dev/urandom | dd of="$D/mapped" conv=notrunc status=none	# same size
touch -d '+1 hour' "$D/mapped"						# new mtime
refused "mapped file rewritten in place" mapped
reset

# After the checkpoint, before the restart, others append to the log.
printf 'test line A\ntest line B\n' >> "$D/log"
(cd / && clean_fds "${RESTART[@]}" "$TMP/img") > "$TMP/out2" 2>&1
rc=$?
if ! grep -q '^RESTORED ok' "$TMP/out2"; then
	bad "restore (rc $rc): $(cat "$TMP/out2")"
elif [ $rc -ne 0 ]; then
	bad "restore rc $rc: $(cat "$TMP/out2")"
fi
printf 'prog line 1\ntest line A\ntest line B\nprog line 2\n' > "$TMP/log.want"
cmp -s "$D/log" "$TMP/log.want" || bad "log after restart: $(cat -A "$D/log")"
[ $nbad -eq 0 ] || exit 1
exit 0
