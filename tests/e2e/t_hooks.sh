#!/bin/bash
# Checkpoint hooks (ckpt_hook_add, progs/hooks.c): two hooks, A added
# before B, print with stdio and malloc (no signal handler could).
#  1. ckpt_save(): B then A before, A then B after, in the caller's
#     thread; the restarted copy runs A then B's restart hooks and gets
#     CKPT_RESTORED.
#  2. B vetoes: ckpt_save fails with ECANCELED and B's reason, the after
#     hooks still run, no image is made.
#  3. ckpt-save from outside: the hooks run in libckpt's "ckpt-hooks"
#     thread, around the checkpoint; the restarted process runs the
#     restart hooks there; a veto makes ckpt-save fail with the hook's
#     reason and leave no image; then a save works again, and the
#     program finishes with its count.
#  4. CKPT_SIGNAL: the hooks run before the image appears.
. "$(dirname "$0")/lib.sh"
H=$PROGS/hooks

# 1. self
clean_fds "$H" self "$TMP/self.img" > "$TMP/self.out" 2>&1 || fail "self: $(cat "$TMP/self.out")"
want=$'HOOK B before hooks\nHOOK A before hooks\nHOOK A after hooks\nHOOK B after hooks\nSAVED'
[ "$(cat "$TMP/self.out")" = "$want" ] || fail "self: got: $(cat "$TMP/self.out")"
clean_fds "${RESTART[@]}" "$TMP/self.img" > "$TMP/self.r" 2>&1 || fail "self restart: $(cat "$TMP/self.r")"
want=$'HOOK A restart hooks\nHOOK B restart hooks\nRESTORED'
[ "$(cat "$TMP/self.r")" = "$want" ] || fail "self restart: got: $(cat "$TMP/self.r")"

# 2. veto
clean_fds "$H" veto "$TMP/veto.img" > "$TMP/veto.out" 2>&1 || fail "veto: $(cat "$TMP/veto.out")"
want=$'HOOK B before hooks\nHOOK A after hooks\nHOOK B after hooks'
[ "$(head -3 "$TMP/veto.out")" = "$want" ] || fail "veto: got: $(cat "$TMP/veto.out")"
grep -qx "FAILED ECANCELED: ckpt_save: vetoed by a checkpoint hook: the database is in the middle of a transaction" \
	"$TMP/veto.out" || fail "veto: $(cat "$TMP/veto.out")"
[ ! -e "$TMP/veto.img" ] || fail "veto: an image was made"

# 3. ckpt-save from outside
mkdir "$TMP/s"
clean_fds "$H" serve "$TMP/s" > "$TMP/s.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/s.out" '^READY'
"$BIN/ckpt-save" "$PID" "$TMP/s.img" > "$TMP/s.save" 2>&1 || fail "ckpt-save: $(cat "$TMP/s.save")"
want=$'READY\nHOOK B before ckpt-hooks\nHOOK A before ckpt-hooks\nHOOK A after ckpt-hooks\nHOOK B after ckpt-hooks'
wait_for 10 grep -qx "HOOK B after ckpt-hooks" "$TMP/s.out" || fail "no after hooks: $(cat "$TMP/s.out")"
[ "$(cat "$TMP/s.out")" = "$want" ] || fail "ckpt-save: got: $(cat "$TMP/s.out")"
kill9 "$PID"
restart_bg "$TMP/s.img" > "$TMP/s.r" 2>&1
wait_for 10 grep -qx "HOOK B restart ckpt-hooks" "$TMP/s.r" || fail "restart hooks: $(cat "$TMP/s.r")"
want=$'HOOK A restart ckpt-hooks\nHOOK B restart ckpt-hooks'
[ "$(cat "$TMP/s.r")" = "$want" ] || fail "restart: got: $(cat "$TMP/s.r")"
touch "$TMP/s/veto"
"$BIN/ckpt-save" "$PID" "$TMP/s2.img" > "$TMP/s2.save" 2>&1 && fail "a vetoed ckpt-save succeeded"
grep -q "vetoed by a checkpoint hook: the database is in the middle of a transaction" "$TMP/s2.save" ||
	fail "veto: ckpt-save said: $(cat "$TMP/s2.save")"
[ ! -e "$TMP/s2.img" ] || fail "a vetoed ckpt-save left an image"
wait_for 10 grep -qx "HOOK B after ckpt-hooks" "$TMP/s.r" || fail "no after hooks after the veto: $(cat "$TMP/s.r")"
rm "$TMP/s/veto"
"$BIN/ckpt-save" "$PID" "$TMP/s3.img" > "$TMP/s3.save" 2>&1 || fail "after the veto: $(cat "$TMP/s3.save")"
touch "$TMP/s/go"
wait "$RPID" || fail "restarted: rc $?: $(cat "$TMP/s.r")"
grep -q '^DONE [0-9]' "$TMP/s.r" || fail "restarted: $(cat "$TMP/s.r")"

# 4. CKPT_SIGNAL
mkdir "$TMP/u"
CKPT_SIGNAL=USR2 CKPT_IMAGE="$TMP/u.img" clean_fds "$H" serve "$TMP/u" > "$TMP/u.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/u.out" '^READY'
kill -USR2 "$PID"
wait_for 10 test -s "$TMP/u.img" || fail "CKPT_SIGNAL: no image: $(cat "$TMP/u.out")"
wait_for 10 grep -qx "HOOK B after ckpt-hooks" "$TMP/u.out" || fail "CKPT_SIGNAL: $(cat "$TMP/u.out")"
grep -q "HOOK A before ckpt-hooks" "$TMP/u.out" || fail "CKPT_SIGNAL: $(cat "$TMP/u.out")"
touch "$TMP/u/go"
wait "$PID" || fail "CKPT_SIGNAL: rc $?"
exit 0
