#!/bin/bash
# Threads blocked in system calls at checkpoint time (ckpt-save from
# outside) resume correctly after SIGKILL and restart:
#   main    pthread_join of a worker that finishes only after the restart
#   sigwait sigwaitinfo on blocked SIGUSR2, which the test sends to the
#           restarted copy (the sender's pid must be the test's)
#   cond    pthread_cond_wait, tcond pthread_cond_timedwait, sem sem_wait:
#           woken after the restart, each must return 0
#   nsleep  nanosleep(300 ms), poll poll(NULL, 0, 300): each must return;
#           with the program's EINTR-retry loop the sleep lasts at least
#           what was asked, and after EINTR at least the remaining time
#           the kernel reported (printed: whether EINTR happened)
#   exited  a joinable thread that had exited before the checkpoint is
#           joined after the restart: its return value is there.
# Every thread must be blocked in its call (/proc/PID/task/TID/syscall)
# before the checkpoint, and the sigwait thread again before the signal.
. "$(dirname "$0")/lib.sh"

declare -A WANT=([main]="202" [sigwait]="128" [cond]="202" [tcond]="202" [sem]="202"
	[nsleep]="230 35" [poll]="7 271")

# in_call PID TID NR...: TID is blocked in one of the system calls NR.
in_call() {
	local s n
	s=$(cut -d' ' -f1 "/proc/$1/task/$2/syscall" 2>/dev/null) || return 1
	shift 2
	for n; do [ "$s" = "$n" ] && return 0; done
	return 1
}
# all_in_calls PID OUT: every thread listed in OUT is in its call.

P=$PROGS/thr_block

# outer PID INNER_TID: the tid the outside sees for a tid inside PID's
# pid namespace (NSpid), or INNER_TID itself when PID is not in one.
outer() {
	local t
	for t in /proc/$1/task/*; do
		[ "$(awk '/^NSpid:/ {print $NF}' "$t/status" 2>/dev/null)" = "$2" ] &&
			{ echo "${t##*/}"; return 0; }
	done
	echo "$2"
}
# has_tid PID TID: PID has a thread that calls itself TID (in its namespace).
has_tid() {
	local t
	for t in /proc/$1/task/*; do
		[ "$(awk '/^NSpid:/ {print $NF}' "$t/status" 2>/dev/null)" = "$2" ] && return 0
	done
	return 1
}
all_in_calls() {
	local role tid
	while read -r _ role tid; do
		in_call "$1" "$(outer "$1" "$tid")" ${WANT[$role]} || return 1
	done < <(grep '^TID ' "$2")
}

# MODE=root: as root under the shim; MODE=user: as an unprivileged user
# under `ckpt-run --pidns` (pid is the program's outer pid, tids in the
# output are the namespace's, and a signal from outside shows sender 0).
run_case() {
	local pid run rc out swtid from
	if [ $MODE = user ]; then
		as_user "$BIN/ckpt-run" --pidns "$P" > "$TMP/$MODE.out1" 2>&1 &
		run=$!
		PIDS+=("$run")
		program_of "$run"
		pid=$PROG
		from=0
	else
		shim "$P" > "$TMP/$MODE.out1" 2>&1 &
		pid=$!
		from=$$
	fi
	PIDS+=("$pid")
	wait_line "$TMP/$MODE.out1" '^READY'
	[ "$(grep -c '^TID ' "$TMP/$MODE.out1")" -eq 7 ] || fail "$MODE: not 7 threads: $(cat "$TMP/$MODE.out1")"
	wait_for 20 all_in_calls "$pid" "$TMP/$MODE.out1" ||
		fail "$MODE: threads not all blocked: $(for t in /proc/$pid/task/*; do echo "$t: $(cut -d' ' -f1 "$t/syscall")"; done)"
	if [ $MODE = user ]; then
		as_user "$BIN/ckpt-save" "$pid" "$IMGDIR/$MODE.img" > "$TMP/$MODE.save" 2>&1 ||
			fail "$MODE: ckpt-save rc $?: $(cat "$TMP/$MODE.save")"
		kill -9 "$run"
		wait "$run" 2> /dev/null
		wait_for 20 gone "$pid" || fail "$MODE: the program outlived ckpt-run"
	else
		"$BIN/ckpt-save" "$pid" "$IMGDIR/$MODE.img" > "$TMP/$MODE.save" 2>&1 ||
			fail "$MODE: ckpt-save rc $?: $(cat "$TMP/$MODE.save")"
		kill9 "$pid"
	fi
	grep -qE 'SIGWAIT|BAD' "$TMP/$MODE.out1" && fail "$MODE: before the kill: $(cat "$TMP/$MODE.out1")"

	if [ $MODE = user ]; then
		as_user "${RESTART[@]}" "$IMGDIR/$MODE.img" > "$TMP/$MODE.out2" 2>&1 &
		RPID=$!
		PIDS+=("$RPID")
		program_of "$RPID"
		pid=$PROG
	else
		restart_bg "$IMGDIR/$MODE.img" > "$TMP/$MODE.out2" 2>&1
		wait_for 20 test -d "/proc/$pid" || fail "$MODE: not restarted: $(cat "$TMP/$MODE.out2")"
	fi
	swtid=$(sed -n 's/^TID sigwait //p' "$TMP/$MODE.out1")
	# Threads appear during the restore; the sigwait one is back in its call last.
	wait_for 20 in_call "$pid" "$(outer "$pid" "$swtid")" 128 ||
		fail "$MODE: sigwait thread not back in sigwaitinfo: $(cat "$TMP/$MODE.out2")"
	while read -r _ role tid; do
		has_tid "$pid" "$tid" || fail "$MODE: thread $role (tid $tid) not restored with its tid"
	done < <(grep '^TID ' "$TMP/$MODE.out1")
	kill -USR2 "$pid"
	wait "$RPID"
	rc=$?
	out=$(cat "$TMP/$MODE.out2")
	grep -q '^ALL OK' "$TMP/$MODE.out2" || fail "$MODE: after restart (rc $rc): $out"
	[ $rc -eq 0 ] || fail "$MODE: rc $rc: $out"
	grep -q "^SIGWAIT signo=12 from=$from " "$TMP/$MODE.out2" || fail "$MODE: SIGUSR2 not from the test ($from): $out"
	grep -q '^TID\|^READY' "$TMP/$MODE.out2" && fail "$MODE: the restarted copy started over: $out"
	grep -E '^(SIGWAIT|COND|EXITED|NANOSLEEP|POLL)' "$TMP/$MODE.out2" | sed "s/^/$MODE: /"
}

IMGDIR=$TMP
MODE=root
run_case
# The same without privilege, where the machine allows user namespaces.
unpriv_user
if as_user unshare --user --pid --mount --fork true 2> /dev/null; then
	MODE=user
	IMGDIR=$TMP/u
	mkdir "$IMGDIR"
	chown "$uid:$gid" "$IMGDIR"
	run_case
else
	echo "unprivileged part skipped: no user namespaces here"
fi
exit 0
