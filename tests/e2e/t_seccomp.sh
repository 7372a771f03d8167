#!/bin/bash
# A seccomp-sandboxed program keeps its filters across ckpt-save, kill -9
# and ckpt-restart: the restarted copy is still denied the system calls
# its filters deny (getppid -> EXFULL, sched_yield -> ENOANO), with the
# same number of filters per thread, and no_new_privs (progs/seccomp.c):
#  - prctl: two stacked filters, one installed with prctl(PR_SET_SECCOMP),
#    one with syscall(SYS_seccomp, ..., SECCOMP_FILTER_FLAG_LOG);
#  - threads: a filter inherited by two threads, and a second one in one
#    of them only (per-thread chains);
#  - tsync: a filter installed with SECCOMP_FILTER_FLAG_TSYNC after a
#    worker started;
#  - as root, and as an unprivileged user (--pidns) for prctl;
#  - raw: a filter installed by a raw system call cannot be read back:
#    ckpt-save fails (exit 5) naming seccomp and the thread, the process
#    goes on;
#  - strict: a thread in strict mode is refused by name before it is
#    asked to park (which would kill the process), the process goes on;
#  - ckpt-restart refuses (--check too) an image whose process inherited
#    a filter when ckpt-restart runs under none.
. "$(dirname "$0")/lib.sh"
P=$PROGS/seccomp
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }

# run CASE MODE [as_user]: save, kill, restart; compare before/after.
run() {
	local c=$1 m=$2 pre=() out=$TMP/$1.out
	if [ "${3:-}" = user ]; then
		as_user "$BIN/ckpt-run" --pidns "$P" "$m" "$UD/$c.go" > "$out" 2>&1 &
		RUN=$!
		PIDS+=("$RUN")
		wait_line "$out" '^READY|^SETUP'
		program_of "$RUN"
		as_user "$BIN/ckpt-save" "$PROG" "$UD/$c.img" > "$TMP/$c.save" 2>&1 ||
			{ bad "$c: ckpt-save: $(cat "$TMP/$c.save")"; return; }
		kill9 "$RUN"
		wait_for 20 gone "$PROG" || fail "$c: $PROG did not go"
		as_user touch "$UD/$c.go"
		as_user "${RESTART[@]}" "$UD/$c.img" > "$out.2" 2>&1
	else
		shim "$P" "$m" "$TMP/$c.go" > "$out" 2>&1 &
		PID=$!
		PIDS+=("$PID")
		wait_line "$out" '^READY|^SETUP'
		"$BIN/ckpt-save" "$PID" "$TMP/$c.img" > "$TMP/$c.save" 2>&1 ||
			{ bad "$c: ckpt-save: $(cat "$TMP/$c.save")"; return; }
		kill9 "$PID"
		touch "$TMP/$c.go"
		clean_fds "${RESTART[@]}" "$TMP/$c.img" > "$out.2" 2>&1
	fi
	rc=$?
	[ $rc -eq 0 ] && grep -q '^DONE' "$out.2" || bad "$c: restarted copy rc $rc: $(cat "$out.2")"
	grep -q '^SETUP FAILED' "$out" && bad "$c: $(grep '^SETUP FAILED' "$out")"
	grep '^T[0-9] before' "$out" | sed 's/ before / /' | sort > "$TMP/$c.b"
	grep '^T[0-9] after' "$out.2" | sed 's/ after / /' | sort > "$TMP/$c.a"
	diff "$TMP/$c.b" "$TMP/$c.a" > "$TMP/$c.diff" ||
		bad "$c: filters differ after the restart (< before, > after):
$(cat "$TMP/$c.diff")"
	# the restarted copy is still denied what its filters deny
	grep -q '^T0 after getppid=-1/54 ' "$out.2" || bad "$c: main thread not denied getppid after the restart: $(cat "$out.2")"
	echo "$c: $(tr '\n' ';' < "$TMP/$c.a")" >> "$TMP/summary"
}

run prctl prctl
grep -qx 'T0 getppid=-1/54 yield=-1/55 filters=2' "$TMP/prctl.a" || bad "prctl: $(cat "$TMP/prctl.a")"
run threads threads
grep -qx 'T1 getppid=-1/54 yield=-1/55 filters=2' "$TMP/threads.a" &&
	grep -qx 'T2 getppid=-1/54 yield=0/0 filters=1' "$TMP/threads.a" ||
	bad "threads: per-thread filters: $(cat "$TMP/threads.a")"
run tsync tsync
grep -qx 'T1 getppid=-1/54 yield=0/0 filters=1' "$TMP/tsync.a" || bad "tsync: $(cat "$TMP/tsync.a")"

# ckpt-info shows the filters
"$BIN/ckpt-info" "$TMP/prctl.img" > "$TMP/info" 2>&1
grep -q 'seccomp: 2 filters of its own (8 instructions), 0 inherited' "$TMP/info" &&
	grep -q 'filter 1: 4 instructions, installed with seccomp, flags 0x2, over filter 0' "$TMP/info" ||
	bad "ckpt-info: $(grep -A3 'seccomp:' "$TMP/info")"

# a filter installed behind libc's back: refused by name, process unharmed
shim "$P" raw "$TMP/raw.go" > "$TMP/raw.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/raw.out" '^READY|^SETUP'
"$BIN/ckpt-save" "$PID" "$TMP/raw.img" > "$TMP/raw.msg" 2>&1
rc=$?
[ $rc -eq 5 ] || bad "raw: ckpt-save rc $rc, want 5: $(cat "$TMP/raw.msg")"
grep -q "thread $PID has 1 seccomp filters, and libckpt saw only 0" "$TMP/raw.msg" ||
	bad "raw: the message does not name the filter and the thread: $(cat "$TMP/raw.msg")"
[ -e "$TMP/raw.img" ] && bad "raw: an image was written"
touch "$TMP/raw.go"
wait "$PID"
grep -q '^DONE' "$TMP/raw.out" || bad "raw: the process did not carry on: $(cat "$TMP/raw.out")"

# a thread in strict mode: refused without asking it to park (its first
# system call in libckpt's handler would kill the whole process)
shim "$P" strict "$TMP/strict.go" > "$TMP/strict.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/strict.out" '^READY|^SETUP'
"$BIN/ckpt-save" "$PID" "$TMP/strict.img" > "$TMP/strict.msg" 2>&1
rc=$?
[ $rc -eq 5 ] && grep -q "thread [0-9]* is in seccomp strict mode (SECCOMP_MODE_STRICT)" "$TMP/strict.msg" ||
	bad "strict: ckpt-save rc $rc: $(cat "$TMP/strict.msg")"
touch "$TMP/strict.go"
wait "$PID"
rc=$?
[ $rc -eq 0 ] && grep -q '^DONE' "$TMP/strict.out" || bad "strict: the process did not carry on (rc $rc): $(cat "$TMP/strict.out")"

# an image whose process inherited a filter ckpt-restart does not run under
python3 "$ROOT/tests/e2e/img_patch.py" "$TMP/prctl.img" "$TMP/inh.img" 12 28 '<I' 1 ||
	bad "cannot make the inherited-filter image"
clean_fds "${RESTART[@]}" --check "$TMP/inh.img" > "$TMP/inh.msg" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q 'ran under 1 seccomp filter it inherited .* ckpt-restart runs under 0' "$TMP/inh.msg" ||
	bad "inherited filter: --check rc $rc: $(cat "$TMP/inh.msg")"

if [ "$(id -u)" = 0 ]; then
	unpriv_user
	UD=$TMP/u
	mkdir "$UD" && chown "$uid:$gid" "$UD"
	as_user unshare --user --pid --mount --fork true 2> /dev/null && run user prctl user
fi
${VERBOSE:+cat "$TMP/summary"}
[ $nbad -eq 0 ] || exit 1
