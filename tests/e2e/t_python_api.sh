#!/bin/bash
# The ckpt Python module (python/ckpt, ctypes over the preloaded
# libckpt.so), in Debian's python3 under ckpt-run (progs/pyckpt_api.py):
#  1. ckpt.save() returns SAVED, and RESTORED in the restarted copy; the
#     hooks (hook_add and the decorators) run in ckpt.save()'s thread, in
#     their order: before newest first, after and restart oldest first;
#     `python3 -m ckpt SCRIPT` preloads $CKPT_LIB as ckpt-run would.
#  2. failures raise CkptError with libckpt's message and errno, and leave
#     no image: a bad path (ENOENT), an unsupported resource (a namespace
#     fd: ENOTSUP, named), a before hook's veto by an exception, by False
#     and by a message (ECANCELED, the reason; the after hooks still run);
#     then a save works; without libckpt, and with libckpt loaded late by
#     ctypes.CDLL, ckpt.available() is False and ckpt.save() says to use
#     ckpt-run.
#  3. ckpt-save from outside while the main thread spins in Python code:
#     the hooks run in libckpt's ckpt-hooks thread as the main thread runs
#     on; killed and restarted, the copy runs the restart hook there; a
#     veto by message makes ckpt-save fail with it and leave no image; then
#     a save works, and the program finishes.
#  4. the Python fast-start sample (samples/python/faststart.sh) on a
#     small model: every cold start and restart answers the same, each
#     restarted instance has its own random state (the after_restart hook;
#     without it, --no-reseed, two restarts share it).  Timings printed,
#     not asserted.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no /usr/bin/python3"
export PYTHONPATH=$ROOT/python
P=$ROOT/tests/e2e/progs/pyckpt_api.py

# 1. self
shim "$PY" "$P" self "$TMP/self.img" < /dev/null > "$TMP/self.out" 2>&1 || fail "self: $(cat "$TMP/self.out")"
want=$'HOOK B before python3\nHOOK A before python3\nHOOK A after python3\nHOOK B after python3\nSAVED available True'
[ "$(cat "$TMP/self.out")" = "$want" ] || fail "self: got: $(cat "$TMP/self.out")"
clean_fds "${RESTART[@]}" "$TMP/self.img" < /dev/null > "$TMP/self.r" 2>&1 || fail "self restart: $(cat "$TMP/self.r")"
want=$'HOOK A restart python3\nHOOK B restart python3\nRESTORED available True'
[ "$(cat "$TMP/self.r")" = "$want" ] || fail "self restart: got: $(cat "$TMP/self.r")"
# python3 -m ckpt SCRIPT: the same, with the library CKPT_LIB names preloaded
CKPT_LIB=$LIB clean_fds "$PY" -m ckpt "$P" self "$TMP/m.img" < /dev/null > "$TMP/m.out" 2>&1 ||
	fail "python3 -m ckpt: $(cat "$TMP/m.out")"
[ "$(tail -1 "$TMP/m.out")" = "SAVED available True" ] && [ -s "$TMP/m.img" ] || fail "python3 -m ckpt: $(cat "$TMP/m.out")"

# 2. errors
mkdir "$TMP/e"
shim "$PY" "$P" errors "$TMP/e" < /dev/null > "$TMP/e.out" 2>&1 || fail "errors: $(cat "$TMP/e.out")"
expect() { grep -qxF -- "$1" "$TMP/e.out" || fail "errors: no line '$1' in: $(cat "$TMP/e.out")"; }
expect "badpath: CkptError errno ENOENT: cannot open the image's directory /nonexistent-ckpt-dir: No such file or directory | exists False"
grep -qE "^nsfd: CkptError errno ENOTSUP: fd [0-9]+: a namespace fd \(net:.*close it before the checkpoint.* \| exists False$" \
	"$TMP/e.out" || fail "errors: nsfd: $(cat "$TMP/e.out")"
expect "raise: CkptError errno ECANCELED: ckpt_save: vetoed by a checkpoint hook: errors_mode.<locals>.raising raised RuntimeError: the database is in the middle of a transaction | exists False"
expect "false: CkptError errno ECANCELED: ckpt_save: vetoed by a checkpoint hook: errors_mode.<locals>.no returned False | exists False"
expect "str: CkptError errno ECANCELED: ckpt_save: vetoed by a checkpoint hook: the log is not flushed | exists False"
expect "after hooks ran: 1"
expect "clean: returned 1"
grep -q "^remove unknown: ValueError: hook .* is not registered" "$TMP/e.out" || fail "errors: $(cat "$TMP/e.out")"
[ "$(ls "$TMP/e")" = "clean.img" ] || fail "errors: images left: $(ls "$TMP/e")"
# without CKPT_LIB, ckpt.library() finds the build tree's library
CKPT_LIB= clean_fds "$PY" "$P" absent < /dev/null > "$TMP/a.out" 2>&1 || fail "absent: $(cat "$TMP/a.out")"
grep -qx "available False" "$TMP/a.out" &&
	grep -qF "NotLoaded errno ENOSYS libckpt is not loaded in this Python process (found $(realpath "$LIB"), but" "$TMP/a.out" &&
	grep -q "^NotLoaded errno ENOSYS libckpt is not loaded in this Python process (found .*, but loading it now is not supported.*ckpt-run python3 SCRIPT" \
	"$TMP/a.out" || fail "absent: $(cat "$TMP/a.out")"
clean_fds "$PY" "$P" late "$LIB" < /dev/null > "$TMP/l.out" 2>&1 || fail "late: $(cat "$TMP/l.out")"
grep -qx "available False" "$TMP/l.out" &&
	grep -q "^NotLoaded errno ENOSYS $LIB was loaded into this Python process after it started (dlopen, ctypes.CDLL), which libckpt does not support.*ckpt-run python3 SCRIPT" \
	"$TMP/l.out" || fail "late: $(cat "$TMP/l.out")"

# 3. ckpt-save from outside, the main thread busy
mkdir "$TMP/s"
shim "$PY" "$P" serve "$TMP/s" < /dev/null > "$TMP/s.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/s.out" '^READY|Error'
"$BIN/ckpt-save" "$PID" "$TMP/s.img" > "$TMP/s.save" 2>&1 || fail "ckpt-save: $(cat "$TMP/s.save")"
wait_for 10 grep -qx "HOOK after ckpt-hooks" "$TMP/s.out" || fail "no after hook: $(cat "$TMP/s.out")"
want=$'READY\nHOOK before ckpt-hooks main ran on: yes\nHOOK after ckpt-hooks'
[ "$(cat "$TMP/s.out")" = "$want" ] || fail "ckpt-save: got: $(cat "$TMP/s.out")"
kill9 "$PID"
restart_bg "$TMP/s.img" < /dev/null > "$TMP/s.r" 2>&1
wait_for 10 grep -qx "HOOK restart ckpt-hooks" "$TMP/s.r" || fail "restart hook: $(cat "$TMP/s.r")"
[ "$(cat "$TMP/s.r")" = "HOOK restart ckpt-hooks" ] || fail "restart: got: $(cat "$TMP/s.r")"
touch "$TMP/s/veto"
"$BIN/ckpt-save" "$PID" "$TMP/s2.img" > "$TMP/s2.save" 2>&1 && fail "a vetoed ckpt-save succeeded"
grep -q "vetoed by a checkpoint hook: the database is in the middle of a transaction" "$TMP/s2.save" ||
	fail "veto: ckpt-save said: $(cat "$TMP/s2.save")"
[ ! -e "$TMP/s2.img" ] || fail "a vetoed ckpt-save left an image"
wait_for 10 grep -qx "HOOK after ckpt-hooks" "$TMP/s.r" || fail "no after hook after the veto: $(cat "$TMP/s.r")"
rm "$TMP/s/veto"
"$BIN/ckpt-save" "$PID" "$TMP/s3.img" > "$TMP/s3.save" 2>&1 || fail "after the veto: $(cat "$TMP/s3.save")"
touch "$TMP/s/go"
wait "$RPID" || fail "restarted: rc $?: $(cat "$TMP/s.r")"
want=$'HOOK restart ckpt-hooks\nHOOK before ckpt-hooks main ran on: yes\nHOOK after ckpt-hooks\nHOOK before ckpt-hooks main ran on: yes\nHOOK after ckpt-hooks'
[ "$(sed '$d' "$TMP/s.r")" = "$want" ] || fail "restarted: got: $(cat "$TMP/s.r")"
grep -qx 'DONE [0-9]* main thread python3' "$TMP/s.r" || fail "restarted: $(cat "$TMP/s.r")"

# 4. the fast-start sample, small
"$PY" -c 'import numpy' 2> /dev/null || skip "no numpy for /usr/bin/python3 (tools/deps.sh installs python3-numpy)"
clean_fds bash "$ROOT/samples/python/faststart.sh" 3000 2 > "$TMP/fs" 2>&1 ||
	fail "faststart.sh exit $?: $(tail -5 "$TMP/fs")"
grep -q "^answers identical: yes" "$TMP/fs" && grep -q "^instances (reseeded after each restart)" "$TMP/fs" ||
	fail "faststart.sh: $(cat "$TMP/fs")"
grep -qx '{"word": "zemirinehi5"}' "$TMP/fs" || fail "faststart.sh: no answer: $(cat "$TMP/fs")"
grep "^launch to first answer, median" "$TMP/fs"
# without the hook, the restarted copies share the snapshot's random state
printf 'word 1\n' | PYTHONPATH=$ROOT/python clean_fds "$BIN/ckpt-run" "$PY" "$ROOT/samples/python/faststart.py" \
	--words 300 --snapshot "$TMP/nr.img" --no-reseed > /dev/null 2> "$TMP/nr.err" || fail "--no-reseed: $(cat "$TMP/nr.err")"
for i in 1 2; do
	printf 'word 1\n' | clean_fds "${RESTART[@]}" "$TMP/nr.img" > /dev/null 2> "$TMP/nr.$i" ||
		fail "--no-reseed restart: $(cat "$TMP/nr.$i")"
done
a=$(sed -n 's/^faststart.py: instance //p' "$TMP/nr.1")
b=$(sed -n 's/^faststart.py: instance //p' "$TMP/nr.2")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "--no-reseed: restarts' instances '$a' '$b'"
exit 0
