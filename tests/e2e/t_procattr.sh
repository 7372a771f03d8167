#!/bin/bash
# Process and thread attributes come back exactly after ckpt-save, kill -9
# and ckpt-restart (progs/procattr.c sets them and prints each one before
# and after):
#  - per process: oom_score_adj (raised), coredump_filter, THP disable,
#    child subreaper, MDWE, KSM for all memory, membarrier registrations
#    (global, private expedited with SYNC_CORE and RSEQ), the timer-id
#    flag, dumpable 0 (root);
#  - per thread, different in two threads: personality, timer slack, CPU
#    affinity, I/O priority, parent-death signal, securebits, MCE policy,
#    NUMA policy, TSC mode, no_new_privs and syscall user dispatch (one
#    thread only, so that a thread's value cannot come from the other);
#  - as root, and as an unprivileged user under `ckpt-run --pidns`;
#  - `ckpt-info` shows them (text and --json);
# and what cannot come back is refused, with a message that names it:
#  - an oom_score_adj below what ckpt-restart may set without
#    CAP_SYS_RESOURCE (-500 written into an image): --check and the
#    restart exit 4 before anything is made;
#  - a thread pinned to a CPU outside ckpt-restart's cpuset (root, a
#    cgroup v1 cpuset of CPU 0 only, where there is one): exit 4;
#  - securebits without CAP_SETPCAP (it could not set them again):
#    ckpt-save exit 5, the process goes on.
. "$(dirname "$0")/lib.sh"
P=$PROGS/procattr
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }

# compare CASE OUT: the "after" lines equal the "before" lines.
compare() {
	grep -q '^SETUP FAILED' "$2" && bad "$1: $(grep '^SETUP FAILED' "$2")"
	grep -E '^(P|T[01]) before ' "$2" | sed 's/ before / /' > "$TMP/$1.before"
	grep -E '^(P|T[01]) after ' "$2" | sed 's/ after / /' > "$TMP/$1.after"
	[ "$(wc -l < "$TMP/$1.before")" = 3 ] || bad "$1: no 'before' lines: $(cat "$2")"
	diff "$TMP/$1.before" "$TMP/$1.after" > "$TMP/$1.diff" ||
		bad "$1: attributes differ after the restart (< before, > after):
$(cat "$TMP/$1.diff")"
	grep -q '^T1 before .* sud=1$' "$2" || bad "$1: syscall user dispatch was not on before: $(grep '^T1' "$2")"
}

# ---- root ----
shim "$P" root "$TMP/go" > "$TMP/root.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/root.out" '^READY|^SETUP'
"$BIN/ckpt-save" "$PID" "$TMP/root.img" > "$TMP/save" 2>&1 || fail "ckpt-save: $(cat "$TMP/save")"
kill9 "$PID"
"$BIN/ckpt-info" "$TMP/root.img" > "$TMP/info" 2>&1 || bad "ckpt-info: $(cat "$TMP/info")"
grep -q "^kernel:    $(cat /proc/sys/kernel/osrelease)\$" "$TMP/info" ||
	bad "the image names kernel $(grep ^kernel: "$TMP/info"), not $(cat /proc/sys/kernel/osrelease) (UNAME26?)"
grep -q 'oom_score_adj 345  dumpable 0  coredump_filter 0x5d  THP disabled: yes' "$TMP/info" &&
	grep -q 'membarrier: GLOBAL_EXPEDITED|PRIVATE_EXPEDITED|PRIVATE_EXPEDITED_SYNC_CORE|PRIVATE_EXPEDITED_RSEQ' "$TMP/info" &&
	grep -q 'timer slack 654321 ns' "$TMP/info" && grep -q 'no_new_privs yes' "$TMP/info" ||
	bad "ckpt-info does not show the attributes: $(grep -A8 'attributes:' "$TMP/info")"
"$BIN/ckpt-info" --json "$TMP/root.img" > "$TMP/json" 2>&1 &&
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); a=d["process"]["attributes"]; t=[x["attributes"] for x in d["threads"]];
assert a["oom_score_adj"]==345 and a["dumpable"]==0 and a["child_subreaper"], a
assert sorted(x["timer_slack_ns"] for x in t)==[123456,654321], t
assert any(x["no_new_privs"] for x in t) and not all(x["no_new_privs"] for x in t), t' "$TMP/json" ||
	bad "ckpt-info --json: $(head -c 600 "$TMP/json")"
touch "$TMP/go"
restart_bg "$TMP/root.img" > "$TMP/root.out2" 2>&1
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q '^DONE' "$TMP/root.out2" || bad "root: restarted copy rc $rc: $(cat "$TMP/root.out2")"
cat "$TMP/root.out" "$TMP/root.out2" > "$TMP/root.all"
compare root "$TMP/root.all"

# ---- an unprivileged user, in a user+pid namespace of its own ----
user_case() {
	unpriv_user
	as_user test -x "$BIN/ckpt-run" -a -x "$P" -a -r "$LIB" || { echo "note: build tree not readable by $U"; return; }
	as_user unshare --user --pid --mount --fork true 2> /dev/null || { echo "note: no user namespaces"; return; }
	UD=$TMP/u
	mkdir "$UD" && chown "$uid:$gid" "$UD"
	as_user "$BIN/ckpt-run" --pidns "$P" user "$UD/go" > "$TMP/user.out" 2>&1 &
	RUN=$!
	PIDS+=("$RUN")
	wait_line "$TMP/user.out" '^READY|^SETUP'
	program_of "$RUN"
	as_user "$BIN/ckpt-save" "$PROG" "$UD/img" > "$TMP/usave" 2>&1 || fail "user: ckpt-save: $(cat "$TMP/usave")"
	kill9 "$RUN"
	wait_for 20 gone "$PROG" || fail "user: $PROG did not go"
	as_user touch "$UD/go"
	as_user "${RESTART[@]}" "$UD/img" > "$TMP/user.out2" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q '^DONE' "$TMP/user.out2" || bad "user: restarted copy rc $rc: $(cat "$TMP/user.out2")"
	cat "$TMP/user.out" "$TMP/user.out2" > "$TMP/user.all"
	compare user "$TMP/user.all"
	# oom_score_adj -500: no user may lower it below 0 without CAP_SYS_RESOURCE
	python3 "$ROOT/tests/e2e/img_patch.py" "$UD/img" "$TMP/oom.img" 12 0 '<i' -500 &&
		chmod 644 "$TMP/oom.img" || bad "cannot make the oom_score_adj image"
	for chk in --check ""; do
		as_user "${RESTART[@]}" $chk "$TMP/oom.img" > "$TMP/oom.msg" 2>&1
		rc=$?
		[ $rc -eq 4 ] && grep -q 'the process had oom_score_adj -500, which ckpt-restart may not set here .* needs CAP_SYS_RESOURCE' "$TMP/oom.msg" ||
			bad "oom_score_adj refusal (${chk:-restart}): rc $rc: $(cat "$TMP/oom.msg")"
	done
	grep -q '^DONE' "$TMP/oom.msg" && bad "oom_score_adj: the refused restart ran the program"
}
[ "$(id -u)" = 0 ] && user_case

# ---- a CPU outside ckpt-restart's cpuset (thread 0 ran on CPU 1 only) ----
CS=/sys/fs/cgroup/cpuset
if [ "$(id -u)" = 0 ] && [ "$(nproc)" -ge 2 ] && [ -w "$CS/cgroup.procs" ] && mkdir "$CS/ckpt-e2e-$$" 2> /dev/null; then
	echo 0 > "$CS/ckpt-e2e-$$/cpuset.cpus" && cat "$CS/cpuset.mems" > "$CS/ckpt-e2e-$$/cpuset.mems" &&
		( echo $BASHPID > "$CS/ckpt-e2e-$$/cgroup.procs" && exec "$BIN/ckpt-restart" --check "$TMP/root.img" ) \
		> "$TMP/cpus.msg" 2>&1
	rc=$?
	rmdir "$CS/ckpt-e2e-$$"
	[ $rc -eq 4 ] && grep -q 'thread [0-9]* ran only on CPUs 1, not all of which ckpt-restart may use here' "$TMP/cpus.msg" ||
		bad "affinity outside the cpuset: --check rc $rc: $(cat "$TMP/cpus.msg")"
else
	echo "note: no cgroup v1 cpuset to test an affinity outside it"
fi

# ---- securebits without CAP_SETPCAP: refused at the checkpoint ----
if [ "$(id -u)" = 0 ]; then
	shim "$P" secbits "$TMP/sgo" > "$TMP/sb.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/sb.out" '^READY|^SETUP'
	"$BIN/ckpt-save" "$PID" "$TMP/sb.img" > "$TMP/sb.msg" 2>&1
	rc=$?
	[ $rc -eq 5 ] && grep -q "thread $PID has securebits 0x4 but not CAP_SETPCAP" "$TMP/sb.msg" ||
		bad "securebits: ckpt-save rc $rc: $(cat "$TMP/sb.msg")"
	touch "$TMP/sgo"
	wait "$PID"
	grep -q '^DONE' "$TMP/sb.out" || bad "securebits: the process did not carry on: $(cat "$TMP/sb.out")"
fi
${VERBOSE:+cat "$TMP"/*.all}
[ $nbad -eq 0 ] || exit 1
