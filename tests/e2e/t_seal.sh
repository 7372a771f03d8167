#!/bin/bash
# Sealed images (ckpt-save --key; libckpt/img_seal.c, docs/SECURITY.md):
#  - ckpt-save --key seals a file image and a piped one; ckpt-info --key
#    verifies the seal (and shows the uid it names), ckpt-info without a
#    key shows it unverified; ckpt-restart --key restarts it (the copy's
#    work checks out), and so does a plain restart (a seal is optional);
#  - with --key, an image changed anywhere after it was sealed, sealed
#    with another key, or not sealed is refused (exit 2) before anything
#    of the process exists; so is a key file others can read (exit 1);
#  - --verify checks a mappable image's page data, which a plain restart
#    maps unread: a flipped byte there is refused (exit 2);
#  - an image edited with every CRC recomputed (ckpt-edit: the uid set to
#    0) is refused with --key: only the MAC can tell;
#  - root restarting a user's process's sealed image with --key runs it
#    as that user (the seal says whom), also from a pipe.
. "$(dirname "$0")/lib.sh"
W=$PROGS/worker
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }
head -c 32 /dev/urandom > "$TMP/key"
chmod 600 "$TMP/key"
head -c 32 /dev/urandom > "$TMP/other"
chmod 600 "$TMP/other"

start() {	# NAME: a worker under the shim, its pid in PID
	shim "$W" "$TMP/$1.log" "$TMP/$1.stop" > "$TMP/$1.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$1.out" '^READY'
}
finish() {	# NAME RESTART-ARGS...: restart, let it finish, check its work
	local name=$1
	shift
	rm -f "$TMP/$name.stop"
	restart_bg "$@" > "$TMP/$name.out2" 2>&1
	wait_for 20 test -d "/proc/$PID" || { bad "$name: not restarted: $(cat "$TMP/$name.out2")"; return; }
	PIDS+=("$PID")
	wait_for 20 grep -q . "$TMP/$name.log"
	touch "$TMP/$name.stop"
	wait "$RPID"
	local rc=$?
	[ $rc -eq 0 ] && grep -q '^DONE' "$TMP/$name.out2" ||
		{ bad "$name: restarted copy rc $rc: $(cat "$TMP/$name.out2")"; return; }
	"$W" --check "$TMP/$name.log" 1 > "$TMP/$name.chk" || bad "$name: its work: $(cat "$TMP/$name.chk")"
}

# --- a sealed file image ---------------------------------------------------
for mode in plain mappable; do
	start "$mode"
	"$BIN/ckpt-save" --key "$TMP/key" $([ $mode = mappable ] && echo --mappable) \
		"$PID" "$TMP/$mode.img" > "$TMP/$mode.save" 2>&1 || fail "$mode: ckpt-save --key: $(cat "$TMP/$mode.save")"
	kill9 "$PID"
	"$BIN/ckpt-info" --key "$TMP/key" "$TMP/$mode.img" > "$TMP/$mode.info" 2>&1 &&
		grep -q "^seal: .*uid $(id -u) gid $(id -g): verified" "$TMP/$mode.info" ||
		bad "$mode: ckpt-info --key: $(grep -i seal "$TMP/$mode.info")"
	"$BIN/ckpt-info" "$TMP/$mode.img" 2>&1 | grep -q "^seal: .*not verified" ||
		bad "$mode: ckpt-info without a key does not show the seal"
	cp "$TMP/$mode.img" "$TMP/$mode.copy"
	finish "$mode" --key "$TMP/key" "$TMP/$mode.img"
done
# a seal is optional: the same image restarts without a key
start plain2
"$BIN/ckpt-save" --key "$TMP/key" "$PID" "$TMP/plain2.img" > /dev/null 2>&1 || fail "plain2: ckpt-save"
kill9 "$PID"
finish plain2 "$TMP/plain2.img"

# --- refused before anything exists ----------------------------------------
refused() {	# WHAT WANT-RC REGEX ARGS...
	local what=$1 want=$2 re=$3 rc
	shift 3
	"$BIN/ckpt-restart" "$@" > "$TMP/r.out" 2>&1
	rc=$?
	[ $rc -eq "$want" ] && grep -qE "$re" "$TMP/r.out" || bad "$what: rc $rc, want $want /$re/: $(cat "$TMP/r.out")"
	grep -q 'DONE\|READY' "$TMP/r.out" && bad "$what: the process ran"
}
# one byte of page data, in the middle of the mappable image (not covered by any record crc)
cp "$TMP/mappable.copy" "$TMP/flip.img"
size=$(stat -c %s "$TMP/flip.img")
off=$((size / 2))
flip_byte "$TMP/flip.img" "$off"
refused "flipped page byte, --key" 2 "changed after it was sealed" --key "$TMP/key" "$TMP/flip.img"
refused "flipped page byte, --verify" 2 "checksum" --verify "$TMP/flip.img"
refused "another key" 2 "another key" --key "$TMP/other" "$TMP/plain.copy"
head -c $(($(stat -c %s "$TMP/plain.copy") - 72)) "$TMP/plain.copy" > "$TMP/unsealed.img"
refused "seal stripped" 2 "not sealed" --key "$TMP/key" "$TMP/unsealed.img"
cat "$TMP/plain.copy" "$TMP/plain.copy" > "$TMP/twice.img"
refused "image twice" 2 "trailing|not match|changed" --key "$TMP/key" "$TMP/twice.img"
chmod 640 "$TMP/key"
refused "group-readable key" 1 "mode 640" --key "$TMP/key" "$TMP/plain.copy"
"$BIN/ckpt-info" --key "$TMP/key" "$TMP/plain.copy" > /dev/null 2>&1 && bad "ckpt-info took a group-readable key"
chmod 600 "$TMP/key"

# --- through a pipe ----------------------------------------------------------
start pipe
"$BIN/ckpt-save" --key "$TMP/key" "$PID" - 2> "$TMP/pipe.save" > "$TMP/pipe.img" ||
	fail "pipe: ckpt-save --key to stdout (a file): $(cat "$TMP/pipe.save")"
"$BIN/ckpt-info" --key "$TMP/key" - < "$TMP/pipe.img" > /dev/null 2>&1 ||
	bad "pipe: ckpt-info --key - < file"
"$BIN/ckpt-save" --key "$TMP/key" "$PID" - 2> "$TMP/pipe.save2" | cat > "$TMP/pipe2.img"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "pipe: ckpt-save --key to a pipe: $(cat "$TMP/pipe.save2")"
"$BIN/ckpt-info" --key "$TMP/key" - < "$TMP/pipe2.img" 2>&1 | grep -q "verified" ||
	bad "pipe: the piped image's seal does not verify"
cat "$TMP/pipe2.img" | "$BIN/ckpt-info" --key "$TMP/key" - 2>&1 | grep -q "verified" ||
	bad "pipe: ckpt-info --key from a pipe"
kill9 "$PID"
rm -f "$TMP/pipe.stop"
( cat "$TMP/pipe2.img" | clean_fds "${RESTART[@]}" --key "$TMP/key" - ) > "$TMP/pipe.out2" 2>&1 &
RPID=$!
wait_for 20 test -d "/proc/$PID" || bad "pipe: not restarted from a pipe: $(cat "$TMP/pipe.out2")"
PIDS+=("$PID")
touch "$TMP/pipe.stop"
wait "$RPID"
grep -q '^DONE' "$TMP/pipe.out2" || bad "pipe: the copy: $(cat "$TMP/pipe.out2")"

# --- an attacker who recomputes every CRC: only the MAC tells ------------
cp "$TMP/plain.copy" "$TMP/edited.img"
"$PROGS/ckpt-edit" "$TMP/edited.img" --uid 4242 > "$TMP/edit.out" 2>&1 || true
if "$BIN/ckpt-info" --no-verify "$TMP/edited.img" 2>/dev/null | grep -q "uid 4242\|4242"; then
	refused "CRC-correct edit of the uid" 2 "changed after it was sealed" --key "$TMP/key" "$TMP/edited.img"
else
	bad "ckpt-edit did not produce a CRC-correct edited image: $(cat "$TMP/edit.out")"
fi

# --- a user's process, sealed by root: restarted as the user ---------------
if [ "$(id -u)" = 0 ]; then
	unpriv_user
	UD=$TMP/u
	mkdir -p "$UD"
	chown "$uid:$gid" "$UD"
	as_user env LD_PRELOAD="$LIB" "$W" "$UD/log" "$UD/stop" > "$TMP/user.out" 2>&1 &
	wait_line "$TMP/user.out" '^READY'
	UPID=$(sed -n 's/^READY //p' "$TMP/user.out")
	PIDS+=("$UPID")
	"$BIN/ckpt-save" --key "$TMP/key" "$UPID" - 2> "$TMP/user.save" | cat > "$TMP/user.img" ||
		fail "user: ckpt-save --key: $(cat "$TMP/user.save")"
	kill9 "$UPID"
	touch "$UD/stop"
	# from a pipe: no owner; the seal says whom
	( cat "$TMP/user.img" | clean_fds "${RESTART[@]}" --key "$TMP/key" --check - ) > "$TMP/user.chk" 2>&1
	grep -q "runs as uid $uid " "$TMP/user.chk" ||
		bad "user: --check --key does not say it runs as uid $uid: $(cat "$TMP/user.chk")"
	( cat "$TMP/user.img" | clean_fds "${RESTART[@]}" --key "$TMP/key" - ) > "$TMP/user.out2" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q '^DONE' "$TMP/user.out2" || bad "user: sealed restart rc $rc: $(cat "$TMP/user.out2")"
	( cat "$TMP/user.img" | clean_fds "${RESTART[@]}" - ) > "$TMP/user.out3" 2>&1
	rc=$?
	[ $rc -eq 4 ] && grep -q "trust-image" "$TMP/user.out3" ||
		bad "user: a piped image without --key: rc $rc, want 4 asking for --trust-image: $(cat "$TMP/user.out3")"
fi
[ $nbad -eq 0 ] || exit 1
exit 0
