# lib.sh - helpers for end-to-end tests (sourced by tests/e2e/t_*.sh).
#
# Each test: starts a real program under the shim, checkpoints it, kills
# it with SIGKILL, restarts it from the image and proves its state is
# the same.  A test script exits 0 (pass), 77 (skip, with a reason on
# stdout) or anything else (fail, with the reason on stdout).
#
# Waiting is always for a condition (a line in a file, a process gone),
# polled with a deadline — never a fixed sleep standing in for one.

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${B:-$ROOT/build}
BIN=$B/bin
# ckpt-restart as the tests run it: the restarted copy writes to the
# restart's own stdin/stdout/stderr (which each test redirects to its own
# file), not back into the original's output file, which is what a
# restart does by default (fds 0-2 on files are reopened: t_stdio.sh).
RESTART=("$BIN/ckpt-restart" --inherit-fd 0,1,2)
# CKPT_E2E_LIB: another build of it (the kfeat test library: t_oldkernel.sh)
LIB=${CKPT_E2E_LIB:-$B/libckpt.so}
PROGS=$B/tests
TMP=$(mktemp -d /tmp/ckpt-e2e.XXXXXX)
trap 'cleanup' EXIT
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$TMP"
}

fail() { echo "FAIL: $*"; exit 1; }

# "${NOTHP[@]}" PROG ARGS: runs PROG without transparent huge pages
# (PR_SET_THP_DISABLE, kept through exec): where they are always on
# (Debian's kernel), a write to a huge page makes all its 2 MiB dirty.
NOTHP=(python3 -c 'import ctypes, os, sys
ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)
os.execv(sys.argv[1], sys.argv[1:])')
skip() { echo "SKIP: $*"; exit 77; }

# Runs "$@" with only fds 0-2 open (a stray inherited fd would be refused
# by the checkpoint, rightly) and libckpt preloaded.
# Started in the background (`shim prog &`), $! is the program's own pid:
# in a subshell already, it execs without forking again.
shim() {
	if [ "$BASHPID" != "$$" ]; then _shim_exec "$@"; else ( _shim_exec "$@" ); fi
}
_shim_exec() {
	_close_fds
	exec env LD_PRELOAD="$LIB" "$@"
}
_close_fds() {
	local fd
	for fd in $(ls /proc/$BASHPID/fd); do
		[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
	done
}

# Like shim, without the preload (programs linked with -lckpt).
clean_fds() {
	if [ "$BASHPID" != "$$" ]; then _close_fds; exec "$@"; else ( _close_fds; exec "$@" ); fi
}

# wait_for SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 50; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	return 1
}

# wait_line FILE REGEX [SECONDS]: until FILE has a line matching REGEX.
wait_line() {
	wait_for "${3:-20}" grep -qE "$2" "$1" 2>/dev/null || fail "timed out waiting for /$2/ in $1: $(tail -3 "$1" 2>/dev/null)"
}

# flip_byte FILE OFFSET: the byte at OFFSET changed (to its complement):
# writing a chosen value may write the value already there, and a test
# of a corrupt image would then restart a good one.
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	[ -n "$b" ] || fail "flip_byte: no byte at $2 in $1"
	printf "$(printf '\\%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# gone PID: the process (and its zombie) has disappeared.
gone() { ! kill -0 "$1" 2>/dev/null && [ ! -d "/proc/$1" ]; }

# kill9 PID: SIGKILL and wait until the pid is free again.
kill9() {
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	wait_for 20 gone "$1" || fail "pid $1 did not go away"
}

# tree_pids PID: PID and every descendant of it (its threads' children, down).
tree_pids() {
	local c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}

# kill_tree PID: SIGKILL to PID and every descendant; waits until every pid is free.
kill_tree() {
	local pids p
	pids=$(tree_pids "$1")
	kill -9 $pids 2>/dev/null
	wait "$1" 2>/dev/null
	for p in $pids; do
		wait_for 20 gone "$p" || fail "pid $p (of the tree of $1) did not go away"
	done
}

# restart IMAGE [ARGS]: ckpt-restart in the background, pid in RPID.
restart_bg() {
	clean_fds "${RESTART[@]}" "$@" &
	RPID=$!
	PIDS+=("$RPID")
}

# --- ckpt-run --pidns: the program is the grandchild of ckpt-run ---------
# child_of PID: the pid of PID's child (from /proc/*/stat's ppid).
child_of() {
	local f st fields
	for f in /proc/[0-9]*/stat; do
		{ read -r st < "$f"; } 2> /dev/null || continue
		read -r -a fields <<< "${st##*) }"
		[ "${fields[1]}" = "$1" ] && { echo "${st%% *}"; return 0; }
	done
	return 1
}
# program_of PID: the program under ckpt-run/ckpt-restart PID (its
# grandchild), once there, in PROG; the init in INIT.  PID must have
# become ckpt-run/ckpt-restart first: until then its child may be the
# `ls` of clean_fds.
execed() { grep -qx 'ckpt-run\|ckpt-restart' "/proc/$1/comm" 2> /dev/null; }
program_of() {
	wait_for 20 execed "$1" || fail "${CASE:-}: $1 is not ckpt-run or ckpt-restart"
	wait_for 20 child_of "$1" > /dev/null || fail "${CASE:-}: no init under $1"
	INIT=$(child_of "$1")
	wait_for 20 child_of "$INIT" > /dev/null || fail "${CASE:-}: no program under init $INIT: $(cat "$TMP"/${CASE:-x}.out* 2>/dev/null)"
	PROG=$(child_of "$INIT")
	PIDS+=("$PROG" "$INIT")
}

# unpriv_user: U, uid, gid and as_user for the unprivileged test user
# (made if missing); skips the test when that cannot be.
unpriv_user() {
	[ "$(id -u)" = 0 ] || skip "needs root (to become an unprivileged user)"
	U=ckpt-test-user
	id "$U" > /dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$U" > /dev/null 2>&1 ||
		skip "cannot create user $U"
	uid=$(id -u "$U")
	gid=$(id -g "$U")
	chmod 755 "$TMP"
}
as_user() { clean_fds setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }

# trigger HOW PID IMG: checkpoint PID into IMG, HOW = "signal" (SIGUSR1:
# the program runs with CKPT_SIGNAL=USR1 CKPT_IMAGE=IMG) or "ckpt-save".
trigger() {
	if [ "$1" = signal ]; then
		kill -USR1 "$2"
		wait_for 20 test -f "$3" || fail "$1: no image $3 after SIGUSR1"
	else
		"$BIN/ckpt-save" "$2" "$3" > "$TMP/save" 2>&1 ||
			fail "$1: ckpt-save rc $?: $(cat "$TMP/save")"
	fi
}

# generations N: N times, checkpoint $PID into $IMG (ckpt-save and
# SIGUSR1, the program's CKPT_SIGNAL, in turn), kill it, restart it from
# the image and check that the copy has the original pid; then the test's
# own generation_check OUT runs (with $g set and the copy's output in
# OUT).  Leaves the last copy's ckpt-restart in $RPID.
generations() {
	local gens=$1 rc ppid
	RPID=
	for ((g = 1; g <= gens; g++)); do
		rm -f "$IMG"
		trigger "$( ((g % 2)) && echo ckpt-save || echo signal)" "$PID" "$IMG"
		kill9 "$PID"
		if [ -n "$RPID" ]; then
			wait "$RPID"
			rc=$?
			[ $rc -eq 137 ] || fail "generation $g: the killed copy's ckpt-restart rc $rc, want 137"
		fi
		restart_bg "$IMG" > "$TMP/out.$g" 2>&1
		wait_for 20 test -d "/proc/$PID" ||
			fail "generation $g: not restarted with pid $PID: $(cat "$TMP/out.$g")"
		ppid=$(awk '{print $4}' "/proc/$PID/stat")
		[ "$ppid" = "$RPID" ] ||
			fail "generation $g: pid $PID is not the restarted copy (parent $ppid, ckpt-restart $RPID)"
		generation_check "$TMP/out.$g"
	done
}

# cycle NAME OUT GO -- PROG ARGS...: runs PROG under the shim until it
# prints READY, checkpoints it with ckpt-save into $TMP/NAME.img, kills
# it, restarts it (ckpt-restart --check first), creates GO and waits for
# the copy; its output is in OUT.2, ckpt-restart's exit status in RC.
# The program's own first output is in OUT.  With GENS=N, the restarted
# copy is checkpointed, killed and restarted again, N times in all, before
# GO.  Fails the test on the way.
cycle() {
	local name=$1 out=$2 go=$3 img=$TMP/$1.img pid g
	shift 4
	shim "$@" > "$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$out" '^READY|^setup|^BAD'
	grep -q '^READY' "$out" || fail "$name: $(cat "$out")"
	RPID=
	for ((g = 1; g <= ${GENS:-1}; g++)); do
		"$BIN/ckpt-save" "$pid" "$img" > "$TMP/$name.save" 2>&1 ||
			fail "$name: generation $g: ckpt-save rc $?: $(cat "$TMP/$name.save")"
		kill9 "$pid"
		[ -z "$RPID" ] || wait "$RPID"
		"${RESTART[@]}" --check "$img" > "$TMP/$name.check" 2>&1 ||
			fail "$name: generation $g: ckpt-restart --check rc $?: $(cat "$TMP/$name.check")"
		restart_bg "$img" > "$out.2" 2>&1
		wait_for 20 test -d "/proc/$pid" ||
			fail "$name: generation $g: not restarted: $(cat "$out.2")"
		PIDS+=("$pid")
	done
	touch "$go"
	wait "$RPID"
	RC=$?
}

# --- a save's writer, caught in the act (t_seckill, t_pidhold) ----------
# The polls use bash builtins (read, globs) where they can: a writer at
# ~1 GB/s is stopped within a fraction of a MiB of where a test wants it.
# state_of PID: its state letter (R, S, T, Z...).
state_of() {
	local st
	{ read -r st < "/proc/$1/stat"; } 2> /dev/null || return 1
	st=${st##*) }
	echo "${st%% *}"
}
# stat_field PID N: field N of /proc/PID/stat after the comm (1 state,
# 2 ppid, 3 pgrp, 4 session).
stat_field() {
	local st f
	{ read -r st < "/proc/$1/stat"; } 2> /dev/null || return 1
	read -r -a f <<< "${st##*) }"
	echo "${f[$2 - 1]}"
}
all_stopped() {
	local t st
	for t in /proc/"$1"/task/*/stat; do
		{ read -r st < "$t"; } 2> /dev/null || return 1
		st=${st##*) }
		[ "${st%% *}" = T ] || return 1
	done
}
stop_all() { kill -STOP "$1" && wait_for 5 all_stopped "$1"; }
# children PID: PID's children, zombies included.
children() { local kids=; { read -r kids < "/proc/$1/task/$1/children"; } 2> /dev/null; echo $kids; }
# new_writer PID OLD...: stops the child PID forks next (not one of OLD,
# not a zombie) the instant it appears, and says its pid.
new_writer() {
	local pid=$1 kids c i
	shift
	for ((i = 0; i < 2000000; i++)); do
		kids=	# (the file has no newline: read fails, and sets kids all the same)
		{ read -r kids < "/proc/$pid/task/$pid/children"; } 2> /dev/null
		for c in $kids; do
			[[ " $* " == *" $c "* ]] && continue
			[ "$(state_of "$c")" = Z ] && continue
			kill -STOP "$c" 2> /dev/null && { echo "$c"; return 0; }
		done
	done
	return 1
}
# img_fd PID DIR: the fd of PID open on a file in DIR (an image being
# written: named, or an O_TMPFILE "DIR/#ino (deleted)").
img_fd() {
	local f l
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		case $l in "$2"/*) echo "${f##*/}"; return 0 ;; esac
	done
	return 1
}
# pos_of PID FD: the file position of PID's fd FD.
pos_of() {
	local l
	{ while read -r l; do
		case $l in pos:*) echo "${l##*[[:space:]]}"; return 0 ;; esac
	done < "/proc/$1/fdinfo/$2"; } 2> /dev/null
	return 1
}
nfds() { local f=(/proc/"$1"/fd/*); echo ${#f[@]}; }
# to_pages PID DIR FROM TO: PID (stopped) runs in short steps, each until
# its image fd (in DIR) moves or, before it has one, until its fds change;
# it is left stopped once the fd's position is past FROM bytes, and
# returns 0 if that is short of TO.
to_pages() {
	local pid=$1 dir=$2 from=$3 to=$4 fd pos p n i t0=$SECONDS
	while ((SECONDS - t0 < 60)); do
		wait_for 5 all_stopped "$pid" || return 1
		if fd=$(img_fd "$pid" "$dir") && pos=$(pos_of "$pid" "$fd"); then
			if ((pos > from)); then
				((pos < to)) && return 0
				echo "to_pages: $pid passed its pages between two looks (at $pos, past $to)" >&2
				return 1
			fi
			kill -CONT "$pid"
			for ((i = 0; i < 200000; i++)); do
				p=$(pos_of "$pid" "$fd") || break
				((p != pos)) && break
			done
		else
			n=$(nfds "$pid")
			kill -CONT "$pid"
			for ((i = 0; i < 200000; i++)); do
				[ "$(nfds "$pid")" != "$n" ] && break
				[ -d "/proc/$pid" ] || break
			done
		fi
		kill -STOP "$pid" 2> /dev/null || return 1
	done
	return 1
}
