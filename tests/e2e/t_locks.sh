#!/bin/bash
# File locks come back, held by the restored process (fds/fd_lock.c):
# POSIX read and write locks on ranges (one taken with SEEK_CUR to EOF
# and split by one taken with SEEK_END), an exclusive flock and a shared
# one on two descriptions, OFD locks on two descriptions, a read lease
# whose break signal (F_SETSIG) reaches the restored process, and two
# threads blocked in F_SETLKW and flock() that get their locks once the
# other process lets go (with ckpt-restart's stderr on a locked file,
# which the restorer closes).  Every lock is proven from another process
# (lockcheck: F_GETLK names the restored pid, flock LOCK_NB fails, an
# open for writing breaks the lease).  A lock another process took
# between the kill and the restart makes the restart and --check fail
# (exit 4) naming the file, the range and the holder, and nothing runs;
# a writer that opened the leased file meanwhile makes the restart fail
# (exit 4) naming the file (--check cannot see another process's open
# files; docs/SUPPORT.md).
. "$(dirname "$0")/lib.sh"
D=$TMP/d
IMG=$TMP/locks.img
LC=$PROGS/lockcheck
mkdir -p "$D"
touch "$D/lease.dat" "$D/wait.dat" "$D/fwait.dat"

# hold NAME ARGS...: lockcheck hold ARGS in the background, pid in HOLD_NAME
hold() {
	local name=$1
	shift
	clean_fds "$LC" hold "$@" > "$TMP/hold.$name" 2>&1 &
	eval "HOLD_$name=$!"
	PIDS+=("$!")
	wait_line "$TMP/hold.$name" '^HELD' 10
}
release() { local p; eval "p=\$HOLD_$1"; kill9 "$p"; }
# expect WHAT WANT CMD...: CMD's output is WANT
expect() {
	local what=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1)
	[ "$got" = "$want" ] || fail "$what: got '$got', want '$want'"
}

# The waiters' locks are held by another process from the start.
hold waitp posix "$D/wait.dat" 0 1 w
hold waitf flock "$D/fwait.dat" sh

shim "$PROGS/locks" "$D" > "$TMP/out1" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/out1" '^READY'
# Both waiters are parked in their system calls: /proc/locks lists them
waiting() { [ "$(grep -c -- "-> [A-Z]* *ADVISORY *WRITE $PID " /proc/locks)" = 2 ]; }
wait_for 20 waiting || fail "the two waiting threads never blocked: $(cat /proc/locks)"
expect "before the checkpoint" "write $PID 100 50" "$LC" posix "$D/posix.dat" 120 1

"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/save" 2>&1 || fail "ckpt-save: $(cat "$TMP/save")"
kill9 "$PID"
expect "after the kill" "free" "$LC" posix "$D/posix.dat" 0 0

# ckpt-info shows them (text and JSON)
"$BIN/ckpt-info" "$IMG" > "$TMP/info" 2>&1 || fail "ckpt-info: $(cat "$TMP/info")"
grep -qx 'locks (12):' "$TMP/info" || fail "ckpt-info: no 'locks (12):': $(grep -A15 '^locks' "$TMP/info")"
grep -Eq 'posix +write +bytes 4000-4005 .*posix\.dat' "$TMP/info" ||
	fail "ckpt-info: no posix write 4000-4005 line: $(grep -A15 '^locks' "$TMP/info")"
grep -Eq 'lease +read .*signal 36|lease +read .*SIGRTMIN\+2' "$TMP/info" ||
	fail "ckpt-info: no read lease with its signal: $(grep -A15 '^locks' "$TMP/info")"
"$BIN/ckpt-info" --json "$IMG" | python3 -c '
import json, sys
locks = json.load(sys.stdin)["locks"]
kinds = sorted(l["kind"] for l in locks)
assert kinds == ["flock"] * 3 + ["lease"] + ["ofd"] * 3 + ["posix"] * 5, kinds
eof = [l for l in locks if l["kind"] == "posix" and l["start"] == 4006]
assert eof and eof[0]["len"] == 0 and eof[0]["type"] == "read", eof
' || fail "ckpt-info --json: locks are not what was saved"

# --- taken meanwhile by someone else: refused, naming file, range, holder -
refused() {	# WHAT FILE-PATTERN RANGE-PATTERN HOLDER-PATTERN
	local rc
	clean_fds "${RESTART[@]}" --check "$IMG" > "$TMP/chk" 2>&1
	rc=$?
	[ $rc -eq 4 ] || fail "$1: --check rc $rc, want 4: $(cat "$TMP/chk")"
	grep "problem: .*$2.*$3.*$4" "$TMP/chk" > /dev/null ||
		fail "$1: --check does not name /$2/, /$3/, /$4/: $(cat "$TMP/chk")"
	clean_fds "${RESTART[@]}" "$IMG" > "$TMP/neg" 2>&1
	rc=$?
	[ $rc -eq 4 ] || fail "$1: restart rc $rc, want 4: $(cat "$TMP/neg")"
	grep "$2.*$3.*$4" "$TMP/neg" > /dev/null ||
		fail "$1: the restart does not name /$2/, /$3/, /$4/: $(cat "$TMP/neg")"
	grep -q '^STATUS\|^WAITER' "$TMP/neg" && fail "$1: the process ran anyway: $(cat "$TMP/neg")"
	[ -d "/proc/$PID" ] && fail "$1: pid $PID exists after the refused restart"
	return 0
}
hold posix posix "$D/posix.dat" 120 1 r
refused "a POSIX read lock inside the saved write range" 'posix\.dat' 'bytes 100-149' \
	"process $HOLD_posix (lockcheck)"
release posix
hold flock flock "$D/flock.dat" sh
refused "a shared flock on the exclusively locked file" 'flock\.dat' 'exclusive flock' \
	"process $HOLD_flock (lockcheck)"
release flock
hold ofd ofd "$D/ofd.dat" 250 10 w
refused "an OFD write lock inside a saved OFD read range" 'ofd\.dat' 'bytes 200-299' \
	'another process holds an OFD write lock on bytes 250-259'
release ofd
hold open open "$D/lease.dat"
clean_fds "${RESTART[@]}" "$IMG" > "$TMP/neg" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q 'lease\.dat: the process.s read lease cannot be taken back: the file is open elsewhere for writing' "$TMP/neg" ||
	fail "a writer on the leased file: restart rc $rc, want 4 naming lease.dat: $(cat "$TMP/neg")"
[ -d "/proc/$PID" ] && fail "a writer on the leased file: pid $PID exists after the refused restart"
release open

# --- restored: every lock held by the restarted process -------------------
# ckpt-restart's stderr is the locked file itself: the restorer's close of
# its copy of it would drop the POSIX locks on it (restorer.h, rst_relock)
restart_bg "$IMG" > "$TMP/out2" 2>> "$D/posix.dat"
wait_for 20 test -d "/proc/$PID" || fail "not restarted: $(cat "$TMP/out2")"
touch "$D/status"
wait_line "$TMP/out2" '^STATUS'
grep -qx 'STATUS lease=0 pos=2000' "$TMP/out2" ||
	fail "status: $(grep STATUS "$TMP/out2") (want a read lease (0) and offset 2000)"
expect "posix 10-19" "read $PID 10 10" "$LC" posix "$D/posix.dat" 10 10
expect "posix 100-149" "write $PID 100 50" "$LC" posix "$D/posix.dat" 100 50
expect "posix 2000-3999" "read $PID 2000 2000" "$LC" posix "$D/posix.dat" 2000 1
expect "posix 4000-4005 (SEEK_END)" "write $PID 4000 6" "$LC" posix "$D/posix.dat" 4000 1
expect "posix 4006-EOF" "read $PID 4006 0" "$LC" posix "$D/posix.dat" 9999 1
expect "posix: nothing else" "free" "$LC" posix "$D/posix.dat" 20 80
expect "flock LOCK_EX" "exclusive" "$LC" flock "$D/flock.dat"
expect "flock LOCK_SH" "shared" "$LC" flock "$D/flocksh.dat"
expect "ofd write 0-99" "write -1 0 100" "$LC" ofd "$D/ofd.dat" 50 1
expect "ofd read 200-299" "read -1 200 100" "$LC" ofd "$D/ofd.dat" 200 100
expect "ofd read 300-EOF" "read -1 300 0" "$LC" ofd "$D/ofd.dat" 5000 1
expect "ofd: nothing else" "free" "$LC" ofd "$D/ofd.dat" 100 100
# the OFD locks are the descriptions', not the process's: F_GETLK as
# another process sees them, and the restored process's own fdinfo too
for fd in /proc/$PID/fdinfo/*; do cat "$fd"; done > "$TMP/fdinfo"
[ "$(grep -c '^lock:.*OFDLCK' "$TMP/fdinfo")" = 3 ] ||
	fail "the restored process's fdinfo does not show 3 OFD locks: $(grep '^lock:' "$TMP/fdinfo")"

# the blocked waiters get their locks once the other process lets go
release waitp
wait_line "$TMP/out2" '^WAITER posix'
expect "waiter's posix lock" "write $PID 0 1" "$LC" posix "$D/wait.dat" 0 1
release waitf
wait_line "$TMP/out2" '^WAITER flock'
expect "waiter's flock" "exclusive" "$LC" flock "$D/fwait.dat"

# the lease: an open for writing breaks it, with the saved signal, at the
# restored process's fd
sig=$(sed -n 's/^READY .* sig=\([0-9]*\)$/\1/p' "$TMP/out1")
lfd=$(sed -n 's/^READY .* lease_fd=\([0-9]*\) .*/\1/p' "$TMP/out1")
expect "lease" "leased" "$LC" lease "$D/lease.dat"
wait_line "$TMP/out2" '^LEASE broken'
grep -qx "LEASE broken signo=$sig fd=$lfd" "$TMP/out2" ||
	fail "lease break: $(grep LEASE "$TMP/out2"), want signal $sig at fd $lfd"
wait_for 10 sh -c "[ \"\$('$LC' lease '$D/lease.dat')\" = free ]" ||
	fail "the lease was not let go after its break"

kill9 "$PID"
exit 0
