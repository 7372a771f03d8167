#!/bin/bash
# What is keyed by a thread's tid works the same after SIGKILL and
# restart from a transparent checkpoint (ckpt-save):
#  - thr_ident: 4 workers computing at checkpoint time; after the
#    restart pthread_self/pthread_equal/gettid/names are unchanged, and
#    pthread_kill and pthread_sigqueue reach exactly the thread aimed at
#    (its handler's gettid() is the thread's original tid); signals
#    pending on single threads (blocked SIGWINCH, SIGURG) are pending on
#    the same threads after the restart and handled there once unblocked;
#    a worker checkpointed inside a handler running on its altstack is
#    still on it after the restart, and has the same altstack after;
#  - thr_mutex: error-checking and recursive mutexes held across the
#    restart (the owner unlocks: 0; another thread: EPERM), robust mutexes
#    whose owner dies after the restart without unlocking (a waiter
#    blocked since before the checkpoint and a later locker get
#    EOWNERDEAD: the robust list was restored), a PRIO_INHERIT mutex held
#    across the restart with a thread blocked in FUTEX_LOCK_PI on it
#    (the owner's unlock: 0, the waiter gets it).
# The restarted copy is started by SIGUSR2 from the test, which main
# waits for in sigwaitinfo.
. "$(dirname "$0")/lib.sh"

# in_call PID TID NR: TID is blocked in system call NR.
in_call() { [ "$(cut -d' ' -f1 "/proc/$1/task/$2/syscall" 2>/dev/null)" = "$3" ]; }
# all_blocked PID OUT: every thread named in OUT ("TID name tid") is in
# futex(), main in rt_sigtimedwait().
all_blocked() {
	local name tid
	while read -r _ name tid; do
		if [ "$name" = main ]; then in_call "$1" "$tid" 128 || return 1
		else in_call "$1" "$tid" 202 || return 1; fi
	done < <(grep '^TID ' "$2")
}
ps_threads() { for t in /proc/$1/task/*; do echo "$t: $(cut -d' ' -f1 "$t/syscall")"; done; }

# one PROG WAIT_BLOCKED
one() {
	local prog=$1 pid rc tid name
	local out1=$TMP/$prog.out1 out2=$TMP/$prog.out2 img=$TMP/$prog.img
	shim "$PROGS/$prog" > "$out1" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$out1" '^READY|BAD'
	grep -q BAD "$out1" && fail "$prog: $(cat "$out1")"
	if [ "$2" = 1 ]; then
		wait_for 20 all_blocked "$pid" "$out1" || fail "$prog: not all blocked: $(ps_threads "$pid")"
	fi
	"$BIN/ckpt-save" "$pid" "$TMP/$prog.img" > "$TMP/$prog.save" 2>&1 ||
		fail "$prog: ckpt-save rc $?: $(cat "$TMP/$prog.save")"
	kill9 "$pid"
	restart_bg "$img" > "$out2" 2>&1
	wait_for 20 test -d "/proc/$pid" || fail "$prog: not restarted: $(cat "$out2")"
	while read -r _ name tid; do
		# the pid is made first, its threads after it: wait for each
		wait_for 20 test -d "/proc/$pid/task/$tid" ||
			fail "$prog: thread $name (tid $tid) not restored with its tid"
	done < <(grep '^TID ' "$out1")
	wait_for 20 in_call "$pid" "$pid" 128 || fail "$prog: main not back in sigwaitinfo: $(cat "$out2")"
	kill -USR2 "$pid"
	wait "$RPID"
	rc=$?
	grep -q '^ALL OK' "$out2" || fail "$prog: after restart (rc $rc): $(cat "$out2")"
	[ $rc -eq 0 ] || fail "$prog: rc $rc: $(cat "$out2")"
	grep -q '^READY' "$out2" && fail "$prog: the restarted copy started over: $(cat "$out2")"
	return 0
}

one thr_ident 0
one thr_mutex 1
exit 0
