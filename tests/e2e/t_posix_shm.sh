#!/bin/bash
# POSIX shared memory (shm_open: a file of the tmpfs on /dev/shm) survives
# checkpoint, SIGKILL and restart (tests/e2e/progs/posixipc.c shm): an
# object mapped shared and private and open twice; one mapped only (its
# fd closed), sparse; a named semaphore (sem_open: /dev/shm/sem.NAME,
# mapped only); one unlinked while mapped (a deleted file: a ghost).  Each
# object's contents are in the image once, and the restarted copy finds
# them through every mapping and fd, one file behind all, with offsets,
# flags, mode, size, holes and the semaphore's value:
#   gens     checkpointed and restarted twice (the objects still there)
#   crash    another process wrote to two objects, grew one, posted the
#            semaphore after the checkpoint: the same objects (inodes)
#            reused, the saved contents and size put back
#   reboot   the objects are gone (rm): made again with contents, size,
#            holes and mode
#   taken    another object has the name: refused, exit 4, naming it and
#            the rm that frees it (also --check)
#   hostile  the image edited to make an object in /etc: refused, exit 4
#            (objects are made only on a tmpfs), nothing made
#   rootuser a user's image restarted by root after a reboot: the objects
#            are made again as the user (the image is not trusted)
#   readonly root's object that a user's process only reads: changed
#            since, root's restart of the user's image (as the user) is
#            refused (exit 4: it cannot put the contents back); unchanged,
#            it is reused
#   links    an object with a second name (a hard link): the checkpoint is
#            refused by name
# ckpt-info shows the objects (text and --json); an image whose object has
# no FILE with its contents, or two, is refused as corrupt (exit 2).  The tree and --ipcns
# cases are t_tree_ipc's.
. "$(dirname "$0")/lib.sh"
[ -d /dev/shm ] && [ -w /dev/shm ] || skip "no writable /dev/shm"
[ "$(stat -f -c %T /dev/shm)" = tmpfs ] || skip "/dev/shm is not a tmpfs"
P=$PROGS/posixipc
N=ckpt-shm-$$
trap 'rm -f /dev/shm/$N-* /dev/shm/sem.$N-*; cleanup' EXIT

# start CASE: the program (PID) until READY
start() {
	CASE=$1 GO=$TMP/go.$1 OUT=$TMP/$1.out IMG=$TMP/$1.img
	shim "$P" shm "$N-$1" "$GO" > "$OUT" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$OUT" '^READY|^setup'
	grep -q '^READY' "$OUT" || fail "$CASE: $(cat "$OUT")"
}
save() {
	"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/$CASE.save" 2>&1 ||
		fail "$CASE: ckpt-save rc $?: $(cat "$TMP/$CASE.save")"
}
# finish: restarts the image (--check first), the copy checks everything
finish() {
	"${RESTART[@]}" --check "$IMG" > "$TMP/$CASE.check" 2>&1 ||
		fail "$CASE: --check rc $?: $(cat "$TMP/$CASE.check")"
	restart_bg "$IMG" > "$OUT.2" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "$CASE: not restarted: $(cat "$OUT.2")"
	PIDS+=("$PID")
	touch "$GO"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^OK' "$OUT.2" || fail "$CASE: restarted copy (rc $rc): $(cat "$OUT.2")"
}

# --- gens: two generations ---
GENS=2 cycle gens "$TMP/gens.out" "$TMP/go.gens" -- "$P" shm "$N-gens" "$TMP/go.gens"
[ $RC -eq 0 ] && grep -q '^OK' "$TMP/gens.out.2" || fail "gens: restarted copy (rc $RC): $(cat "$TMP/gens.out.2")"
"$BIN/ckpt-info" "$TMP/gens.img" > "$TMP/gens.info" || fail "ckpt-info rc $?"
# (the second image's unlinked object is the first restart's O_TMPFILE: "/dev/shm/#N")
F=/dev/shm/$N-gens
grep -q "^  *3  pshm  $F  flags O_RDWR|O_NOFOLLOW.* cloexec  offset 100" "$TMP/gens.info" &&
	grep -A1 "^  *3  pshm  $F " "$TMP/gens.info" | grep -q "POSIX shared memory object, mode 640, owner $(id -u):$(id -g), made 2[0-9-]* [0-9:]* UTC, 12298 bytes, 12298 bytes of data in 1 extents" &&
	grep -A1 "^  *[0-9]*  pshm  $F  flags O_RDONLY.*offset 7" "$TMP/gens.info" | grep -q "the same object as an earlier file" &&
	grep -A1 "pshm     $F-map$" "$TMP/gens.info" | grep -q "mode 604, .* 1048576 bytes, 8192 bytes of data in 2 extents" &&
	grep -A1 "pshm     /dev/shm/sem.$N-gens-sem$" "$TMP/gens.info" | grep -q "POSIX shared memory object, mode 600" &&
	grep -q "rw-s .* $F  (file 3: pshm)  \[mw\]" "$TMP/gens.info" &&
	grep -q "rw-p .* $F  (file 3: pshm)" "$TMP/gens.info" &&
	grep -q "rw-s .* $F-map  (file [0-9]*: pshm)" "$TMP/gens.info" &&
	grep -q "rw-s .* /dev/shm/.* (deleted)  (file [0-9]*: ghost)" "$TMP/gens.info" ||
	fail "ckpt-info: $(grep -A1 /dev/shm "$TMP/gens.info")"
"$BIN/ckpt-info" --json "$TMP/gens.img" > "$TMP/gens.json" || fail "ckpt-info --json rc $?"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
p=[f for f in d["files"] if f["kind"] == "pshm"]
m=[f for f in p if f["path"] == sys.argv[2] + "-map"][0]
assert m["holds_contents"] and m["mode"] == 0o604 and m["size"] == 1 << 20 and m["contents"]["data_bytes"] == 8192, m
assert m["btime_ns"] > 0, m
assert len([f for f in p if f["path"] == sys.argv[2] and f["holds_contents"]]) == 1, p' \
	"$TMP/gens.json" "$F" 2> "$TMP/json.err" || fail "ckpt-info --json: $(cat "$TMP/json.err")"
# corrupt: the object's first FILE without its contents, or a second one with them
# (the nth FILE records of kind 14: the first two are fd 3's and fd 4's object)
nth=$(python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(); o=128; n=0; r=[]
while o + 24 <= len(b):
    t, _, _, ln = struct.unpack_from("<IHHQ", b, o)
    if t == 10:
        if struct.unpack_from("<I", b, o + 28)[0] == 14: r.append(n)
        n += 1
    if t == 0xffff: break
    o += 24 + ln
print(*r[:2])' "$TMP/gens.img")
set -- $nth
for bad in "$1 0 is of no object an earlier file of the same name carries the contents of" \
	   "$2 1 carries the contents of an object an earlier file has"; do
	set -- $bad
	python3 "$ROOT/tests/e2e/img_patch.py" "$TMP/gens.img" "$TMP/bad.img" 10 72 '<I' "$2" "$1" ||
		fail "corrupt: img_patch"
	shift 2
	"${RESTART[@]}" --check "$TMP/bad.img" > "$TMP/bad.out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q "corrupt: file [0-9]*, POSIX shared memory object $F, $*" "$TMP/bad.out" ||
		fail "corrupt: ckpt-restart rc $rc, want 2 and \"$*\": $(cat "$TMP/bad.out")"
	"$BIN/ckpt-info" "$TMP/bad.img" > "$TMP/bad.out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q "(POSIX shared memory object) $*" "$TMP/bad.out" ||
		fail "corrupt: ckpt-info rc $rc, want 2 and \"$*\": $(cat "$TMP/bad.out")"
done

# --- crash: the objects outlive the killed process and are written meanwhile ---
start crash
ino=$(stat -c %i "/dev/shm/$N-crash")
save
kill9 "$PID"
"$P" meddle "$N-crash" || fail "crash: cannot write to the objects"
[ "$(stat -c %s "/dev/shm/$N-crash")" = 20480 ] || fail "crash: the object did not grow"
finish
grep -q "^INO $ino\$" "$OUT.2" || fail "crash: not the same object (inode $ino): $(cat "$OUT.2")"

# --- reboot: the objects are gone ---
start reboot
save
kill9 "$PID"
rm "/dev/shm/$N-reboot" "/dev/shm/$N-reboot-map" "/dev/shm/sem.$N-reboot-sem" ||
	fail "reboot: cannot remove the objects"
finish

# --- taken: another object under the name ---
start taken
save
kill9 "$PID"
rm "/dev/shm/$N-taken"
echo other > "/dev/shm/$N-taken"
"${RESTART[@]}" --check "$IMG" > "$TMP/taken.check" 2>&1
rc=$?
[ $rc -eq 4 ] || fail "taken: --check rc $rc, want 4: $(cat "$TMP/taken.check")"
"${RESTART[@]}" "$IMG" > "$TMP/taken.out2" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q "POSIX shared memory object /dev/shm/$N-taken exists and is not the one saved (inode [0-9]*, made .*; the saved one: inode [0-9]*, made .*)" "$TMP/taken.out2" &&
	grep -q "remove it (rm /dev/shm/$N-taken) to restart with the saved object" "$TMP/taken.out2" ||
	fail "taken: rc $rc, want 4 and the object named: $(cat "$TMP/taken.out2")"
[ -d "/proc/$PID" ] && fail "taken: the process runs"
[ "$(cat "/dev/shm/$N-taken")" = other ] || fail "taken: the other object was changed"
[ -e "/dev/shm/$N-taken-map" ] || fail "taken: the restart removed an object it did not make"

# --- hostile: an image edited to make its object elsewhere (/etc): refused ---
start hostile
save
kill9 "$PID"
rm /dev/shm/$N-hostile*
H=/etc/$(printf '%*s' $((${#N} + 12)) '' | tr ' ' x)	# as long as /dev/shm/$N-hostile
"$PROGS/ckpt-edit" "$IMG" --replace "/dev/shm/$N-hostile" "$H" || fail "hostile: ckpt-edit"
"${RESTART[@]}" "$IMG" > "$TMP/hostile.out2" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q "POSIX shared memory object $H.* is gone, and its directory /etc is not a tmpfs" "$TMP/hostile.out2" ||
	fail "hostile: rc $rc, want 4 and the refusal: $(cat "$TMP/hostile.out2")"
ls $H* > /dev/null 2>&1 && fail "hostile: the restart made a file in /etc"

# --- rootuser: a user's image restarted by root (not trusted: as the user) after a reboot ---
if [ "$(id -u)" = 0 ]; then
	unpriv_user
	UD=$TMP/u
	mkdir "$UD"
	chown "$uid:$gid" "$UD"
	CASE=rootuser GO=$UD/go OUT=$TMP/rootuser.out IMG=$UD/rootuser.img
	as_user env LD_PRELOAD="$LIB" "$P" shm-user "$N-rootuser" "$GO" > "$OUT" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$OUT" '^READY|^setup'
	grep -q '^READY' "$OUT" || fail "$CASE: $(cat "$OUT")"
	as_user "$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/$CASE.save" 2>&1 ||
		fail "$CASE: ckpt-save rc $?: $(cat "$TMP/$CASE.save")"
	kill9 "$PID"
	rm /dev/shm/$N-rootuser /dev/shm/$N-rootuser-map /dev/shm/sem.$N-rootuser-sem
	restart_bg "$IMG" > "$OUT.2" 2>&1
	wait_for 20 test -e "/dev/shm/$N-rootuser" || fail "$CASE: not made again: $(cat "$OUT.2")"
	[ "$(stat -c %u:%g:%a "/dev/shm/$N-rootuser")" = "$uid:$gid:640" ] ||
		fail "$CASE: made again as $(stat -c %u:%g:%a "/dev/shm/$N-rootuser"), want the user's, 640"
	touch "$GO"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^OK' "$OUT.2" || fail "$CASE: restarted copy (rc $rc): $(cat "$OUT.2")"

	# --- readonly: root's object the user may only read: reused as long as it is unchanged ---
	R=/dev/shm/$N-ro
	printf 'root said this..' > "$R"
	chmod 644 "$R"
	CASE=readonly GO=$UD/go.ro OUT=$TMP/ro.out IMG=$UD/ro.img
	as_user env LD_PRELOAD="$LIB" "$P" shm-ro "$N-ro" "$GO" > "$OUT" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$OUT" '^READY|^setup'
	grep -q '^READY' "$OUT" || fail "$CASE: $(cat "$OUT")"
	as_user "$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/$CASE.save" 2>&1 ||
		fail "$CASE: ckpt-save rc $?: $(cat "$TMP/$CASE.save")"
	kill9 "$PID"
	printf 'root changed it.' | dd of="$R" conv=notrunc status=none
	# (root restarts the user's image as the user: the image is not trusted)
	"${RESTART[@]}" "$IMG" > "$TMP/ro.out2" 2>&1
	rc=$?
	[ $rc -eq 4 ] && grep -q "POSIX shared memory object $R was changed since the checkpoint, and the restart cannot put the saved contents back: this user may not write it" "$TMP/ro.out2" ||
		fail "$CASE: changed: rc $rc, want 4: $(cat "$TMP/ro.out2")"
	[ "$(cat "$R")" = "root changed it." ] || fail "$CASE: the object was changed"
	printf 'root said this..' | dd of="$R" conv=notrunc status=none
	restart_bg "$IMG" > "$OUT.2" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "$CASE: not restarted: $(cat "$OUT.2")"
	PIDS+=("$PID")
	touch "$GO"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^OK' "$OUT.2" || fail "$CASE: unchanged: restarted copy (rc $rc): $(cat "$OUT.2")"
fi

# --- links: an object with two names ---
start links
ln "/dev/shm/$N-links" "/dev/shm/$N-links-2"
"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/links.save" 2>&1
rc=$?
[ $rc -eq 5 ] && grep -q "fd 3: POSIX shared memory object /dev/shm/$N-links has 2 names (hard links)" "$TMP/links.save" &&
	[ ! -e "$IMG" ] || fail "links: ckpt-save rc $rc, want 5: $(cat "$TMP/links.save")"
kill9 "$PID"
exit 0
