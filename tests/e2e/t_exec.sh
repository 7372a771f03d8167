#!/bin/bash
# Every process of a tree runs libckpt, and only the tree's root acts on
# the environment triggers (issue #11; wrappers/wrap_exec.c,
# shim/shim_fork.c, docs/INTERNALS.md "Following exec").
#  1. execve, execv, execvp, execvpe, execl, execle, execlp, fexecve,
#     execveat, posix_spawn, posix_spawnp, system, popen, and children made
#     by vfork, clone, daemon and fork (an orphan grandchild) each run a
#     program NOT linked with libckpt (progs/execprobe.c): libckpt is
#     mapped there and answers through dlsym, with the tree's
#     CKPT_CTL_SIGNAL and CKPT_TREE_ROOT, whether the exec got environ,
#     a custom envp without LD_PRELOAD or CKPT_*, a NULL envp, or environ
#     after clearenv(); a variable the caller set (CKPT_CTL_SIGNAL) is
#     kept, and so are its other preloads (after libckpt).  The root that
#     execs stays the root.  system() and popen() after clearenv(): the
#     documented limit (glibc's internal spawn, no libckpt).
#  2. CKPT_CTL_SIGNAL reaches a member spawned with a custom envp and
#     every signal blocked (POSIX_SPAWN_SETSIGMASK), and works there: the
#     program sees the signal blocked, the kernel does not block it, the
#     shim takes it (it would kill a program without libckpt), ckpt-save
#     checkpoints the member, it is killed and its restarted copy runs to
#     its end.
#  3. CKPT_INTERVAL, CKPT_SIGNAL and CKPT_ON_TERM in the environment of a
#     member (exec'd, or a fork or clone child that did not exec) do
#     nothing there:
#     no image of its own while the root writes its images; the member
#     gets SIGUSR1 through its own handler and dies of SIGTERM; the root
#     saves on each.
#  4. A failing exec fails the same way with libckpt as without (ENOENT,
#     EACCES, E2BIG, EINVAL; posix_spawn's result).
#  5. A static program exec'd runs, simply without libckpt.
. "$(dirname "$0")/lib.sh"
X=$PROGS/execer
P=$PROGS/execprobe
RLIB=$(realpath "$LIB")

# field LINE NAME: the value of NAME=... in a PROBE line.
field() { local w; for w in $1; do [ "${w%%=*}" = "$2" ] && { echo "${w#*=}"; return; }; done; }

# --- 1. each way to run a program ------------------------------------------
# check HOW ENV: runs it, checks the probe's line.
check() {
	local how=$1 envm=$2 tag=$1-$2 out=$TMP/$1-$2.out line root pid want_ctl want_pre want_extra
	CASE=$tag
	shim env CKPT_CTL_SIGNAL=SIGUSR2 "$X" "$how" "$envm" "$P" report "$tag" > "$out" 2>&1
	wait_line "$out" "^PROBE tag=$tag |^EXEC-FAILED"
	line=$(grep "^PROBE tag=$tag " "$out") || fail "$tag: $(cat "$out")"
	root=$(sed -n 's/^EXECER pid=//p' "$out")
	pid=$(field "$line" pid)
	want_ctl=SIGUSR2 want_pre=$RLIB want_extra=-
	[ "$envm" = inherit ] && want_pre=$LIB
	case $envm in
	clearenv) want_extra=1 ;;
	custom|explicit) [ "$3" = envp ] && want_extra=1 ;;
	esac
	if [ "$envm" = explicit ] && [ "$3" = envp ]; then
		want_ctl=SIGRTMIN+3 want_pre=$RLIB:libm.so.6
	fi
	if [ "$how-$envm" = system-clearenv ] || [ "$how-$envm" = popen-clearenv ]; then
		# glibc runs /bin/sh with its internal posix_spawn and the empty environ
		[ "$(field "$line" lib)" = 0 ] && [ "$(field "$line" preload)" = - ] ||
			fail "$tag: libckpt reached it after clearenv(); update docs/SUPPORT.md: $line"
		return
	fi
	[ "$(field "$line" lib)" = 1 ] || fail "$tag: libckpt.so is not mapped in the program: $line"
	[ "$(field "$line" api)" = 1 ] || fail "$tag: ckpt_last_error_v1 does not answer: $line"
	[ "$(field "$line" ctl)" = "$want_ctl" ] || fail "$tag: CKPT_CTL_SIGNAL, want $want_ctl: $line"
	[ "$(field "$line" preload)" = "$want_pre" ] || fail "$tag: LD_PRELOAD, want $want_pre: $line"
	[ "$(field "$line" extra)" = "$want_extra" ] || fail "$tag: EXEC_TEST, want $want_extra: $line"
	[ "$(field "$line" root)" = "$root" ] || fail "$tag: CKPT_TREE_ROOT, want $root: $line"
	if [ "$how" = self ]; then
		[ "$pid" = "$root" ] || fail "$tag: the root that execs is pid $root, the program $pid"
	else
		[ "$pid" != "$root" ] || fail "$tag: the program has the root's pid $root"
	fi
	case $how in
	self|daemon|orphan) ;;
	*) wait_line "$out" '^EXECER-DONE'
	   grep -q '^EXECER-DONE how=[a-z_]* status=0$' "$out" || fail "$tag: $(cat "$out")" ;;
	esac
}
n=0
for how in execve execvpe execle fexecve execveat posix_spawn posix_spawnp vfork clone daemon self orphan; do
	for envm in inherit custom clearenv null explicit; do
		[ "$how-$envm" = fexecve-null ] && continue
		check "$how" "$envm" envp
		n=$((n + 1))
	done
done
for how in execv execvp execl execlp system popen; do
	for envm in inherit clearenv; do
		check "$how" "$envm" environ
		n=$((n + 1))
	done
done
# glibc's fexecve refuses a NULL envp (EINVAL): so does the wrapper
shim "$X" fexecve null "$P" report fexecve-null > "$TMP/fexecve-null.out" 2>&1
grep -q '^EXEC-FAILED how=fexecve errno=Invalid argument' "$TMP/fexecve-null.out" ||
	fail "fexecve with a NULL envp: $(cat "$TMP/fexecve-null.out")"
# a real shell and env -i: the shell (root) runs env, env runs the probe with nothing
out=$(shim /bin/sh -c "echo SH=\$\$; env -i $P report env-i; true" 2>&1)
line=$(echo "$out" | grep '^PROBE tag=env-i ') || fail "sh -c 'env -i ...': $out"
[ "$(field "$line" lib)" = 1 ] && [ "$(field "$line" root)" = "$(echo "$out" | sed -n 's/^SH=//p')" ] ||
	fail "sh -c 'env -i ...': not under the shim, or not the shell's tree: $out"
echo "1. $n ways and environments: libckpt in every program run"

# --- 2. the control signal in a member, end to end -------------------------
CASE=ctl
GO=$TMP/ctl.go
(shim env CKPT_CTL_SIGNAL=SIGUSR2 CKPT_LOG=debug "$X" spawnmask custom "$P" wait ctl "$GO") > "$TMP/ctl.out" 2>&1 &
PIDS+=($!)
wait_line "$TMP/ctl.out" '^PROBE tag=ctl '
line=$(grep '^PROBE tag=ctl ' "$TMP/ctl.out")
M=$(field "$line" pid)
PIDS+=("$M")
tr '\0' '\n' < "/proc/$M/environ" | grep -qx 'CKPT_CTL_SIGNAL=SIGUSR2' ||
	fail "ctl: the member's exec environment lacks CKPT_CTL_SIGNAL=SIGUSR2 (ckpt-save reads it there)"
# spawned with every signal blocked: SIGUSR2 (bit 11) blocked in the program's view, not in the kernel
(( 0x$(field "$line" mask) >> 11 & 1 )) || fail "ctl: the program does not see SIGUSR2 blocked: $line"
(( 0x$(awk '/^SigBlk:/ {print $2}' "/proc/$M/status") >> 11 & 1 )) &&
	fail "ctl: SIGUSR2, the control signal, is blocked in the kernel: $(grep SigBlk "/proc/$M/status")"
kill -USR2 "$M"
wait_line "$TMP/ctl.out" "^libckpt\[$M\]: ignored signal $(kill -l USR2) "
kill -0 "$M" 2> /dev/null || fail "ctl: SIGUSR2 killed the member: its libckpt did not take it"
"$BIN/ckpt-save" "$M" "$TMP/ctl.img" > "$TMP/ctl.save" 2>&1 || fail "ctl: ckpt-save of the member: $(cat "$TMP/ctl.save")"
kill9 "$M"
restart_bg "$TMP/ctl.img" > "$TMP/ctl.rst" 2>&1
wait_for 20 test -d "/proc/$M" || fail "ctl: not restarted with pid $M: $(cat "$TMP/ctl.rst")"
touch "$GO"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q "^PROBE-DONE tag=ctl pid=$M\$" "$TMP/ctl.rst" ||
	fail "ctl: the restarted member: rc $rc: $(cat "$TMP/ctl.rst")"
echo "2. CKPT_CTL_SIGNAL reaches a member spawned with every signal blocked; ckpt-save, kill, restart of it"

# --- 3. triggers only in the root -------------------------------------------
# member HOW CASE VAR=VALUE...: the root under the shim in $TMP/CASE (its
# cwd), with a member made by HOW (orphan: exec'd with a custom envp;
# orphan-noexec: a fork child); R, M, OUT, D, GO.
member() {
	local how=$1
	CASE=$2
	shift 2
	D=$TMP/$CASE GO=$TMP/$CASE/go OUT=$TMP/$CASE.out
	mkdir -p "$D"
	(cd "$D" && shim env "$@" "$X" "$how" custom "$P" wait "$CASE" "$GO") > "$OUT" 2>&1 &
	R=$!
	PIDS+=("$R")
	wait_line "$OUT" '^PROBE tag=|^CHILD pid='
	M=$(sed -n 's/^CHILD pid=//p; s/^PROBE tag=[^ ]* pid=\([0-9]*\) .*/\1/p' "$OUT")
	PIDS+=("$M")
	wait_line "$OUT" '^EXECER-DONE how=orphan[-a-z]* status=0'	# the member's parent is gone
	tr '\0' '\n' < "/proc/$R/environ" | grep -q '^CKPT_' || fail "$CASE: no CKPT_ variable"
}
saves() { grep -c "saved $1" "$OUT"; }
# dead PID: gone, or a zombie its new parent (pid 1, a subreaper) has not reaped yet
dead() { gone "$1" || [ "$(state_of "$1")" = Z ]; }
saved_more() { [ "$(saves "$1")" -ge "$2" ]; }
for how in orphan orphan-noexec; do
	# CKPT_INTERVAL: the root saves every 50 ms, the member never
	member $how "iv-$how" CKPT_INTERVAL=0.05 CKPT_LOG=info
	[ $how = orphan ] && { tr '\0' '\n' < "/proc/$M/environ" | grep -qx 'CKPT_INTERVAL=0.05' ||
		fail "$CASE: the member was not given CKPT_INTERVAL (the test would prove nothing)"; }
	n=$(saves "$D/ckpt-$R.img")
	wait_for 30 saved_more "$D/ckpt-$R.img" $((n + 4)) ||
		fail "$CASE: the root does not save every 50 ms: $(tail -5 "$OUT")"
	ls "$D" | grep -v "^ckpt-$R.img\$" | grep -q . && fail "$CASE: files besides the root's image: $(ls "$D")"
	grep -q "libckpt\[$M\]: saved" "$OUT" && fail "$CASE: the member $M saved: $(grep "libckpt\[$M\]" "$OUT")"
	touch "$GO"
	wait "$R" || fail "$CASE: the root failed: $(tail -5 "$OUT")"

	# CKPT_SIGNAL=USR1: the member's own handler runs; the root saves
	member $how "sig-$how" CKPT_SIGNAL=USR1 CKPT_IMAGE=sig.img
	kill -USR1 "$M"
	wait_line "$OUT" "^APP SIGUSR1 pid=$M\$"
	[ ! -e "$D/sig.img" ] || fail "$CASE: SIGUSR1 to the member $M made an image"
	kill -USR1 "$R"
	wait_for 20 test -s "$D/sig.img" || fail "$CASE: SIGUSR1 to the root made no image: $(tail -5 "$OUT")"
	grep -q "^APP SIGUSR1 pid=$R\$" "$OUT" && fail "$CASE: the root's CKPT_SIGNAL reached its application"
	touch "$GO"
	wait "$R" || fail "$CASE: the root failed: $(tail -5 "$OUT")"

	# CKPT_ON_TERM: the member dies of SIGTERM, the root saves and ends
	member $how "term-$how" CKPT_ON_TERM=term.img
	kill -TERM "$M"
	wait_for 20 dead "$M" || fail "$CASE: SIGTERM did not end the member $M"
	[ ! -e "$D/term.img" ] || fail "$CASE: SIGTERM to the member $M made an image"
	kill -TERM "$R"
	wait "$R"
	rc=$?
	[ $rc -eq 143 ] && [ -s "$D/term.img" ] || fail "$CASE: the root on SIGTERM: rc $rc, $(ls "$D")"
done
# a clone() child (no CLONE_VM, no exec) runs no atfork handler: the wrapper resets it
CASE=sig-clone
OUT=$TMP/$CASE.out GO=$TMP/$CASE.go
shim env CKPT_SIGNAL=USR1 CKPT_IMAGE="$TMP/$CASE.img" "$X" clone-noexec inherit "$P" wait "$CASE" "$GO" > "$OUT" 2>&1 &
R=$!
PIDS+=("$R")
wait_line "$OUT" '^CHILD pid='
M=$(sed -n 's/^CHILD pid=//p' "$OUT")
PIDS+=("$M")
kill -USR1 "$M"
wait_line "$OUT" "^APP SIGUSR1 pid=$M\$"
[ ! -e "$TMP/$CASE.img" ] || fail "$CASE: SIGUSR1 to the clone child $M made an image"
touch "$GO"
wait "$R" || fail "$CASE: $(cat "$OUT")"
grep -q '^EXECER-DONE how=clone-noexec status=0$' "$OUT" || fail "$CASE: $(cat "$OUT")"
echo "3. CKPT_INTERVAL, CKPT_SIGNAL, CKPT_ON_TERM act in the root only"

# --- 4. failing execs ----------------------------------------------------------
mkdir -p "$TMP/err"
clean_fds "$P" errors "$TMP/err" > "$TMP/err.plain" 2>&1
shim "$P" errors "$TMP/err" > "$TMP/err.shim" 2>&1
diff "$TMP/err.plain" "$TMP/err.shim" > "$TMP/err.diff" || fail "errors differ under libckpt: $(cat "$TMP/err.diff")"
for want in "execve-missing rc=-1 errno=No such file or directory" \
	    "execvp-noexec rc=-1 errno=Permission denied" \
	    "execve-e2big rc=-1 errno=Argument list too long" \
	    "fexecve-null-env rc=-1 errno=Invalid argument" \
	    "posix_spawnp-noexec rc=13 "; do
	grep -q "^$want" "$TMP/err.shim" || fail "errors: no '$want': $(cat "$TMP/err.shim")"
done
echo "4. $(wc -l < "$TMP/err.shim") failing exec and spawn calls: same result and errno"

# --- 5. a static program ---------------------------------------------------------
if [ -x "$PROGS/execprobe-static" ]; then
	CASE=static
	shim "$X" execve inherit "$PROGS/execprobe-static" report static > "$TMP/static.out" 2>&1
	line=$(grep '^PROBE tag=static ' "$TMP/static.out") || fail "static: $(cat "$TMP/static.out")"
	[ "$(field "$line" lib)" = 0 ] && [ "$(field "$line" preload)" = "$LIB" ] &&
		grep -q '^EXECER-DONE how=execve status=0$' "$TMP/static.out" ||
		fail "static: $(cat "$TMP/static.out")"
	echo "5. a static program runs, without libckpt (its LD_PRELOAD unread)"
else
	echo "5. skipped: no static build of execprobe (no static libc: musl-gcc or libc.a)"
fi
