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
all_in_calls() {
	local role tid
	while read -r _ role tid; do
		in_call "$1" "$tid" ${WANT[$role]} || return 1
	done < <(grep '^TID ' "$2")
}

P=$PROGS/thr_block
shim "$P" > "$TMP/out1" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/out1" '^READY'
[ "$(grep -c '^TID ' "$TMP/out1")" -eq 7 ] || fail "not 7 threads: $(cat "$TMP/out1")"
wait_for 20 all_in_calls "$pid" "$TMP/out1" ||
	fail "threads not all blocked: $(for t in /proc/$pid/task/*; do echo "$t: $(cut -d' ' -f1 "$t/syscall")"; done)"
"$BIN/ckpt-save" "$pid" "$TMP/img" > "$TMP/save" 2>&1 || fail "ckpt-save rc $?: $(cat "$TMP/save")"
kill9 "$pid"
grep -qE 'SIGWAIT|BAD' "$TMP/out1" && fail "before the kill: $(cat "$TMP/out1")"

restart_bg "$TMP/img" > "$TMP/out2" 2>&1
wait_for 20 test -d "/proc/$pid" || fail "not restarted: $(cat "$TMP/out2")"
while read -r _ role tid; do
	[ -d "/proc/$pid/task/$tid" ] || fail "thread $role (tid $tid) not restored with its tid"
done < <(grep '^TID ' "$TMP/out1")
swtid=$(sed -n 's/^TID sigwait //p' "$TMP/out1")
wait_for 20 in_call "$pid" "$swtid" 128 || fail "sigwait thread not back in sigwaitinfo: $(cat "$TMP/out2")"
kill -USR2 "$pid"
wait "$RPID"
rc=$?
out=$(cat "$TMP/out2")
grep -q '^ALL OK' "$TMP/out2" || fail "after restart (rc $rc): $out"
[ $rc -eq 0 ] || fail "rc $rc: $out"
grep -q "^SIGWAIT signo=12 from=$$ " "$TMP/out2" || fail "SIGUSR2 not from the test ($$): $out"
grep -q '^TID\|^READY' "$TMP/out2" && fail "the restarted copy started over: $out"
grep -E '^(SIGWAIT|COND|EXITED|NANOSLEEP|POLL)' "$TMP/out2"
exit 0
