#!/bin/bash
# A process tree (tree basic: workers, a grandchild, an orphan, zombies,
# shared memory and a shared file offset) saved and restarted every way
# a single process can be: a mappable image, through a pipe (ckpt-save -
# | ckpt-restart -), sealed (--key), and without privilege under
# ckpt-run --pidns.  Each time the root proves the state (DONE ok).
. "$(dirname "$0")/lib.sh"
T=$PROGS/tree

# start_tree DIR: tree basic under the shim, until READY; pid in PID.
start_tree() {
	mkdir -p "$1"
	shim "$T" basic "$1" 2 > "$1/out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$1/out" '^READY|^BAD'
	grep -q '^READY' "$1/out" || fail "$(cat "$1/out")"
}

# finish DIR NAME: go, the restarted tree's result.
finish() {
	touch "$1/go"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^DONE ok' "$1/out.2" || fail "$2: rc $rc: $(cat "$1/out.2")"
}

# mappable: every section's memory mapped from the file
d=$TMP/map
start_tree "$d"
"$BIN/ckpt-save" --mappable "$PID" "$d/img" > "$d/save" 2>&1 || fail "mappable: $(cat "$d/save")"
"$BIN/ckpt-info" "$d/img" | grep -c 'mappable' | grep -q '^[5-9]' ||
	fail "mappable: the sections are not mappable: $("$BIN/ckpt-info" "$d/img" | grep flags)"
# every section's page data where its records say, checksums right (written ahead of them)
"$BIN/ckpt-info" "$d/img" > "$d/info" 2>&1 || fail "mappable: ckpt-info: $(cat "$d/info")"
grep -q 'verified: *all page data' "$d/info" || fail "mappable: page data not verified: $(cat "$d/info")"
kill_tree "$PID"
restart_bg "$d/img" > "$d/out.2" 2>&1
finish "$d" mappable

# a pipe both ways: the sections stream out in turn, ckpt-restart reads them into memory
d=$TMP/pipe
start_tree "$d"
"$BIN/ckpt-save" "$PID" - 2> "$d/save" > "$d/img" || fail "pipe: $(cat "$d/save")"
kill_tree "$PID"
cat "$d/img" | clean_fds "${RESTART[@]}" --trust-image - > "$d/out.2" 2>&1 &
RPID=$!
PIDS+=("$RPID")
finish "$d" pipe

# sealed: the seal covers every section; a changed byte anywhere is caught
d=$TMP/key
start_tree "$d"
head -c 32 /dev/urandom > "$d/key"
chmod 600 "$d/key"
"$BIN/ckpt-save" --key "$d/key" "$PID" "$d/img" > "$d/save" 2>&1 || fail "key: $(cat "$d/save")"
kill_tree "$PID"
cp "$d/img" "$d/bad"
size=$(stat -c %s "$d/bad")
flip_byte "$d/bad" $((size - 200))
"${RESTART[@]}" --key "$d/key" "$d/bad" > "$d/badout" 2>&1 && fail "key: a changed last section restarted"
grep -qi 'seal' "$d/badout" || fail "key: the changed image's error: $(cat "$d/badout")"
restart_bg --key "$d/key" "$d/img" > "$d/out.2" 2>&1
finish "$d" key

# unprivileged, in a pid namespace of its own (ckpt-run --pidns)
unpriv_user
d=$TMP/ns
mkdir -p "$d"
chown "$uid" "$d"
as_user "$BIN/ckpt-run" --pidns "$T" basic "$d" 2 > "$d/out" 2>&1 &
RUN=$!
PIDS+=("$RUN")
program_of "$RUN"
wait_line "$d/out" '^READY|^BAD'
as_user "$BIN/ckpt-save" "$PROG" "$d/img" > "$d/save" 2>&1 || fail "pidns: $(cat "$d/save")"
kill -9 "$RUN" "$INIT" 2>/dev/null
kill_tree "$PROG"
wait_for 20 gone "$INIT" || fail "pidns: init $INIT did not go"
as_user "${RESTART[@]}" "$d/img" > "$d/out.2" 2>&1 &
RPID=$!
PIDS+=("$RPID")
finish "$d" pidns
exit 0
