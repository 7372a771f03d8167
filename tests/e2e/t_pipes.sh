#!/bin/bash
# Pipes and FIFOs (tests/e2e/progs/pipes.c checks each in the process):
#   runs on  a pipe to itself with bytes in flight (1000 bytes, exactly
#            full, empty), both ends non-blocking, a capacity of its own:
#            checkpointed, the original goes on and reads every byte once;
#            then the image restarts and the copy reads exactly the same
#            bytes (same count, same checksum)
#   packets  O_DIRECT packets, plain bytes between them, read as they were
#   eof      a read end whose write end was closed: its bytes, then EOF
#   epipe    a write end whose read end was closed: EPIPE
#   threads  a thread blocked writing into a full pipe while another reads
#            it slowly, and a thread blocked reading an empty pipe: both
#            calls go on after the restart and every byte arrives once
#   fifo     a FIFO with bytes, open three ways; again with the FIFO
#            removed before the restart (made again where it was)
#   nohup    FIFO readers poll as before (no POLLHUP before any writer)
#   std      fds 0 and 2 as the two ends of the process's own pipe
#   tree     a pipeline of processes (producer -> consumer, bytes in
#            flight), saved as a tree, killed whole, restarted twice
# (each saved, killed with SIGKILL, restarted; packets and fifo three
# generations over), what ckpt-info shows, and
# the refusals: a pipe to a process outside the image (read and write
# end, the process named), plain bytes followed by a packet, a FIFO
# removed while open, O_ASYNC; ckpt-restart --check: a capacity above
# what this machine allows, a FIFO whose path is now a regular file.
# As root: root restarting a user's image makes the user's pipe and FIFO;
# a user's pipe under ckpt-run --pidns, saved and restarted by the user.
. "$(dirname "$0")/lib.sh"
P=$PROGS/pipes
D=$TMP/d
mkdir -p "$D"

# in_call PID TID NR: TID is blocked in system call NR (0 read, 1 write).
in_call() { [ "$(cut -d' ' -f1 "/proc/$1/task/$2/syscall" 2>/dev/null)" = "$3" ]; }

# start NAME ARGS...: the program under the shim until READY; pid in PID.
start() {
	local name=$1
	shift
	rm -f "$TMP/go.$name"
	shim "$P" "$@" > "$TMP/$name.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$name.out" '^READY|^setup|^BAD'
	grep -q '^READY' "$TMP/$name.out" || fail "$name: $(cat "$TMP/$name.out")"
}

# save NAME: ckpt-save $PID into $TMP/NAME.img.
save() {
	"$BIN/ckpt-save" "$PID" "$TMP/$1.img" > "$TMP/$1.save" 2>&1 ||
		fail "$1: ckpt-save rc $?: $(cat "$TMP/$1.save")"
}

# kill_restart NAME [HOOK]: kills $PID, runs HOOK, ckpt-restart --check
# and the restart; creates the go file and waits: the copy's output in
# NAME.out2, its status in RC.
kill_restart() {
	local name=$1 hook=${2:-true}
	kill9 "$PID"
	$hook
	"${RESTART[@]}" --check "$TMP/$name.img" > "$TMP/$name.check" 2>&1 ||
		fail "$name: ckpt-restart --check rc $?: $(cat "$TMP/$name.check")"
	restart_bg "$TMP/$name.img" > "$TMP/$name.out2" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "$name: not restarted: $(cat "$TMP/$name.out2")"
	PIDS+=("$PID")
	touch "$TMP/go.$name"
	wait "$RPID"
	RC=$?
}

# case_ok NAME CASE ARGS...: start, save, kill, restart; the copy must say OK.
case_ok() {
	local name=$1 c=$2
	shift 2
	start "$name" "$c" "$D" "$TMP/go.$name" "$@"
	save "$name"
	kill_restart "$name"
	[ $RC -eq 0 ] && grep -q "^OK" "$TMP/$name.out2" ||
		fail "$name: restarted copy (rc $RC): $(cat "$TMP/$name.out2")"
}

# --- the original runs on, the copy reads the same bytes ----------------
for spec in "some 1000 131072" "full 131072 131072" "empty 0 16384"; do
	set -- $spec
	name=$1
	start "$name" self "$D" "$TMP/go.$name" "$2" "$3"
	save "$name"
	touch "$TMP/go.$name"
	wait "$PID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^OK self' "$TMP/$name.out" ||
		fail "$name: the original after the checkpoint (rc $rc): $(cat "$TMP/$name.out")"
	grep -q "^GOT self $2 " "$TMP/$name.out" || fail "$name: the original: $(cat "$TMP/$name.out")"
	wait_for 20 gone "$PID" || fail "$name: pid $PID did not go"
	"${RESTART[@]}" --check "$TMP/$name.img" > "$TMP/$name.check" 2>&1 ||
		fail "$name: ckpt-restart --check rc $?: $(cat "$TMP/$name.check")"
	restart_bg "$TMP/$name.img" > "$TMP/$name.out2" 2>&1
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^OK self' "$TMP/$name.out2" ||
		fail "$name: the restarted copy (rc $rc): $(cat "$TMP/$name.out2")"
	[ "$(grep '^GOT' "$TMP/$name.out")" = "$(grep '^GOT' "$TMP/$name.out2")" ] ||
		fail "$name: the original read $(grep '^GOT' "$TMP/$name.out"), the copy $(grep '^GOT' "$TMP/$name.out2")"
done

# What the image says of the pipe: one FILE per end, the dup shares the
# read end's, the bytes and the capacity with the first.
"$BIN/ckpt-info" --json "$TMP/some.img" > "$TMP/some.json" || fail "ckpt-info --json rc $?"
python3 - "$TMP/some.json" <<'PY' || fail "ckpt-info --json: $(head -c 3000 "$TMP/some.json")"
import json, sys
j = json.load(open(sys.argv[1]))
p = {d["fd"]: d for d in j["fds"] if d["kind"] == "pipe"}
assert sorted(p) == [3, 4, 5], p
r, w, dup = p[3], p[4], p[5]
assert r["pipe"]["end"] == "read" and r["same_as"] == 0, r
assert r["pipe"]["capacity"] == 131072 and r["pipe"]["bytes"] == 1000 and r["pipe"]["packets"] == 0, r
assert w["pipe"]["end"] == "write" and w["same_as"] == r["file"] and w["cloexec"], w
assert dup["file"] == r["file"], dup
assert "O_NONBLOCK" in r["flags"] and "O_NONBLOCK" in w["flags"], (r, w)
PY
"$BIN/ckpt-info" "$TMP/some.img" | grep -q 'read end of a pipe, capacity 131072 bytes, 1000 bytes in flight' ||
	fail "ckpt-info: $("$BIN/ckpt-info" "$TMP/some.img" | grep -A12 '^fds')"

# --- saved, killed, restarted -------------------------------------------
case_ok packets packets
"$BIN/ckpt-info" --json "$TMP/packets.img" | python3 -c '
import json, sys
j = json.load(sys.stdin)
r = [d for d in j["fds"] if d["kind"] == "pipe" and d["pipe"]["end"] == "read"][0]
assert r["pipe"]["packets"] == 7 and r["pipe"]["bytes"] == 6215 + 65536 + 5000, r
assert r["pipe"]["packet_mode"] and r["pipe"]["capacity"] == 262144, r
' || fail "packets: ckpt-info does not show 7 packets and 70536 plain bytes"
case_ok eof eof 3000
case_ok epipe epipe 3000

# threads: the writer is in write(), the blocked reader in read(), when saved
start threads threads "$D" "$TMP/go.threads"
read -r _ wtid rtid < <(grep '^TIDS' "$TMP/threads.out")
wait_for 20 in_call "$PID" "$wtid" 1 || fail "threads: the writer is not in write()"
wait_for 20 in_call "$PID" "$rtid" 0 || fail "threads: the reader is not in read()"
save threads
kill_restart threads
[ $RC -eq 0 ] && grep -q '^OK threads' "$TMP/threads.out2" ||
	fail "threads: restarted copy (rc $RC): $(cat "$TMP/threads.out2")"

case_ok fifo fifo 5000
"$BIN/ckpt-info" "$TMP/fifo.img" > "$TMP/fifo.info" || fail "ckpt-info fifo rc $?"
grep -qE "^ +3 +fifo +$D/ff .*O_RDWR" "$TMP/fifo.info" &&
	grep -q 'both ends of a FIFO, capacity 262144 bytes, 5000 bytes in flight' "$TMP/fifo.info" &&
	grep -q 'read end of a FIFO, the same pipe as file' "$TMP/fifo.info" ||
	fail "ckpt-info fifo: $(grep -A12 '^fds' "$TMP/fifo.info")"
grep -q 'note:.*FIFO' "$TMP/fifo.check" && fail "fifo: --check: $(cat "$TMP/fifo.check")"
# the FIFO removed before the restart: made again where it was, mode 640
rm -rf "$D" && mkdir -p "$D"
remove_fifo() { rm -f "$D/ff"; }
remove_ufifo() { rm -f "$UD/ff"; }
start fifo2 fifo "$D" "$TMP/go.fifo2" 5000
save fifo2
kill_restart fifo2 remove_fifo
[ $RC -eq 0 ] && grep -q '^OK fifo' "$TMP/fifo2.out2" ||
	fail "fifo removed: restarted copy (rc $RC): $(cat "$TMP/fifo2.out2")"
grep -q "note: fd [0-9]*: FIFO $D/ff is gone: it will be made again (mode 640)" "$TMP/fifo2.check" ||
	fail "fifo removed: --check does not say it: $(cat "$TMP/fifo2.check")"
rm -rf "$D" && mkdir -p "$D"
case_ok nohup nohup
[ "$("$BIN/ckpt-info" "$TMP/nohup.img" | grep -c 'read end of a FIFO, has seen no writer')" = 1 ] ||
	fail "ckpt-info nohup: $("$BIN/ckpt-info" "$TMP/nohup.img" | grep -A12 '^fds')"

# three generations: the restarted copy's pipes and FIFO (made again) saved again
rm -rf "$D" && mkdir -p "$D"
GENS=3 cycle gens "$TMP/gens.out" "$TMP/go.gens" -- "$P" packets "$D" "$TMP/go.gens"
[ $RC -eq 0 ] && grep -q '^OK packets' "$TMP/gens.out.2" ||
	fail "packets, 3 generations (rc $RC): $(cat "$TMP/gens.out.2")"
GENS=3 cycle fgens "$TMP/fgens.out" "$TMP/go.fgens" -- "$P" fifo "$D" "$TMP/go.fgens" 5000
[ $RC -eq 0 ] && grep -q '^OK fifo' "$TMP/fgens.out.2" ||
	fail "fifo, 3 generations (rc $RC): $(cat "$TMP/fgens.out.2")"
rm -rf "$D" && mkdir -p "$D"

# std: the process's own pipe at fds 0 and 2 is its own, not ckpt-restart's
RESTART=("$BIN/ckpt-restart" --inherit-fd 1)
case_ok std std
RESTART=("$BIN/ckpt-restart" --inherit-fd 0,1,2)
"$BIN/ckpt-info" "$TMP/std.img" | grep -qE '^ +0 +pipe +pipe:' ||
	fail "std: fd 0 is not saved as a pipe: $("$BIN/ckpt-info" "$TMP/std.img" | grep -A8 '^fds')"

# --- a tree: a pipeline of processes (issue #11) ---------------------------
# producer -> consumer with 30000 bytes in flight, no process holding both
# ends of it; saved as a tree, killed whole, restarted, twice over
start tree tree "$D" "$TMP/go.tree"
[ "$(tree_pids "$PID" | wc -w)" = 3 ] || fail "tree: not 3 processes: $(tree_pids "$PID")"
RPID=
for g in 1 2; do
	save tree
	kill_tree "$PID"
	[ -z "$RPID" ] || wait "$RPID"
	"${RESTART[@]}" --check "$TMP/tree.img" > "$TMP/tree.check" 2>&1 ||
		fail "tree: generation $g: ckpt-restart --check rc $?: $(cat "$TMP/tree.check")"
	restart_bg "$TMP/tree.img" > "$TMP/tree.out2" 2>&1
	wait_for 20 test -d "/proc/$PID" || fail "tree: generation $g: not restarted: $(cat "$TMP/tree.out2")"
	PIDS+=($(tree_pids "$RPID"))
done
"$BIN/ckpt-info" "$TMP/tree.img" > "$TMP/tree.info" || fail "ckpt-info tree rc $?"
grep -q 'read end of a pipe, the same pipe as file' "$TMP/tree.info" &&
	grep -q 'write end of a pipe, capacity 65536 bytes, 30000 bytes in flight' "$TMP/tree.info" ||
	fail "tree: ckpt-info: $(grep -B2 -A2 'pipe' "$TMP/tree.info")"
touch "$TMP/go.tree"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q '^OK tree' "$TMP/tree.out2" ||
	fail "tree: the restarted tree (rc $rc): $(cat "$TMP/tree.out2")"

# --- refusals: named, nothing left, the process goes on --------------------
( echo "$BASHPID" > "$TMP/writer.pid"; exec sleep 600 ) | cat > /dev/null &
CAT=$!
PIDS+=("$CAT")
wait_for 20 test -s "$TMP/writer.pid" || fail "no pipe to the outside"
SLEEP=$(cat "$TMP/writer.pid")
PIDS+=("$SLEEP")
# (until both have their end: the shell's children make their fds before exec)
same_pipe() {
	local r w
	r=$(readlink "/proc/$CAT/fd/0") && w=$(readlink "/proc/$SLEEP/fd/1") &&
		[ "$r" = "$w" ] && [[ $r == pipe:* ]] && grep -qx cat "/proc/$CAT/comm" &&
		grep -qx sleep "/proc/$SLEEP/comm"
}
wait_for 20 same_pipe || fail "cat and sleep do not share a pipe"

declare -A WHY=(
	[outr]="fd 3: pipe \\(pipe:\\[[0-9]+\\], its read end\\) is shared with a process outside the image: its write end is held by process $SLEEP \\(sleep\\) as its fd 1"
	[outw]="fd 3: pipe \\(pipe:\\[[0-9]+\\], its write end\\) is shared with a process outside the image: its read end is held by process $CAT \\(cat\\) as its fd 0"
	[mixed]='fd 3: pipe:\[[0-9]+\] holds plain bytes followed by a packet .*cannot tell where the packet starts'
	[gone]="fd 3: FIFO $D/gone \\(deleted\\) was removed while open"
	[async]='fd 3: pipe pipe:\[[0-9]+\] has O_ASYNC \(signal-driven I/O\): not supported'
)
declare -A ARGS=([outr]="outside $CAT 0 r" [outw]="outside $CAT 0 w" [mixed]=mixed [gone]=gone
	[async]=async)
for k in outr outw mixed gone async; do
	set -- ${ARGS[$k]}
	c=$1
	shift
	start "$k" "$c" "$D" "$TMP/go.$k" "$@"
	"$BIN/ckpt-save" "$PID" "$TMP/$k.img" > "$TMP/$k.save" 2>&1
	rc=$?
	[ $rc -eq 5 ] || fail "$k: ckpt-save rc $rc, want 5: $(cat "$TMP/$k.save")"
	grep -qE "${WHY[$k]}" "$TMP/$k.save" || fail "$k: the message: $(cat "$TMP/$k.save")"
	[ -z "$(ls "$TMP/$k.img"* 2>/dev/null)" ] || fail "$k: a refused checkpoint left $(ls "$TMP/$k.img"*)"
	touch "$TMP/go.$k"
	wait "$PID" && grep -q "^OK $c" "$TMP/$k.out" || fail "$k: the process after the refusal: $(cat "$TMP/$k.out")"
done

# --- ckpt-restart --check ------------------------------------------------
# a capacity above fs.pipe-max-size, without CAP_SYS_RESOURCE
max=$(cat /proc/sys/fs/pipe-max-size)
caps=$(awk '/^CapEff/ {print $2}' /proc/self/status)
if (( (0x$caps >> 24) & 1 )); then
	echo "note: CAP_SYS_RESOURCE held: a capacity above fs.pipe-max-size cannot be refused"
else
	big=$((max * 4))
	cp "$TMP/some.img" "$TMP/big.img"
	"$B/tests/ckpt-edit" "$TMP/big.img" --pipe-capacity "$big" || fail "ckpt-edit rc $?"
	"${RESTART[@]}" --check "$TMP/big.img" > "$TMP/big.check" 2>&1
	rc=$?
	[ $rc -eq 4 ] && grep -q "fd 3: pipe:\[[0-9]*\] had a capacity of $big bytes; this machine gives processes without CAP_SYS_RESOURCE at most $max (/proc/sys/fs/pipe-max-size): raise it" "$TMP/big.check" ||
		fail "capacity: --check rc $rc, want 4 and the capacity: $(cat "$TMP/big.check")"
fi
# a FIFO whose path is a regular file now
start fifo3 fifo "$D" "$TMP/go.fifo3" 10
save fifo3
kill9 "$PID"
rm -f "$D/ff" && echo x > "$D/ff"
"${RESTART[@]}" --check "$TMP/fifo3.img" > "$TMP/fifo3.check" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q "fd [0-9]*: FIFO $D/ff is now a regular file" "$TMP/fifo3.check" ||
	fail "fifo now a file: --check rc $rc, want 4: $(cat "$TMP/fifo3.check")"

# --- root restarting a user's image ----------------------------------------
# (a trusted image: root's file): the pipe and the FIFO made again are the
# user's, as the process will be (ckpt-restart makes them with the user's
# fsuid); the FIFO, gone, is made again in the user's own directory (0700).
U=ckpt-test-user
if [ "$(id -u)" != 0 ] || ! { id "$U" > /dev/null 2>&1 ||
	useradd -M -s /usr/sbin/nologin "$U" > /dev/null 2>&1; }; then
	echo "note: not root or no test user: a user's pipes restarted by root left out"
	exit 0
fi
uid=$(id -u "$U")
gid=$(id -g "$U")
chmod 755 "$TMP"
as_user() { clean_fds setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }
as_user test -x "$P" -a -r "$LIB" || { echo "note: the test user cannot run the build"; exit 0; }
UD=$TMP/u
mkdir "$UD" && chown "$uid:$gid" "$UD" && chmod 700 "$UD"
for spec in "uself self 1000 131072" "ufifo fifo 5000"; do
	set -- $spec
	name=$1 c=$2
	shift 2
	rm -f "$TMP/go.$name"
	as_user env LD_PRELOAD="$LIB" "$P" "$c" "$UD" "$TMP/go.$name" "$@" > "$TMP/$name.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$name.out" '^READY|^setup|^BAD'
	grep -q '^READY' "$TMP/$name.out" || fail "$name: $(cat "$TMP/$name.out")"
	save "$name"
	chown root:root "$TMP/$name.img" && chmod 600 "$TMP/$name.img"
	kill_restart "$name" remove_ufifo
	[ $RC -eq 0 ] && grep -q "^OK $c" "$TMP/$name.out2" ||
		fail "$name: root's restart of $U's image (rc $RC): $(cat "$TMP/$name.out2")"
done

# --- an unprivileged user, in a pid namespace of its own (ckpt-run --pidns):
# libckpt's copies and the restart's pipe get only what the user may have
if ! as_user unshare --user --pid --mount --fork true 2> /dev/null ||
   ! as_user test -x "$BIN/ckpt-run" -a -x "$BIN/ckpt-restart"; then
	echo "note: $U cannot make a user+pid namespace here: the unprivileged case left out"
	exit 0
fi
rm -f "$UD/go"
as_user "$BIN/ckpt-run" --pidns "$P" self "$UD" "$UD/go" 70000 131072 > "$TMP/ns.out" 2>&1 &
RUN=$!
PIDS+=("$RUN")
wait_line "$TMP/ns.out" '^READY|^setup|^BAD'
program_of "$RUN"
as_user "$BIN/ckpt-save" "$PROG" "$UD/ns.img" > "$TMP/ns.save" 2>&1 ||
	fail "pidns: ckpt-save as $U: $(cat "$TMP/ns.save")"
kill -9 "$RUN"
wait "$RUN" 2> /dev/null
wait_for 20 gone "$PROG" || fail "pidns: the program outlived ckpt-run"
as_user "${RESTART[@]}" "$UD/ns.img" > "$TMP/ns.out2" 2>&1 &
RPID=$!
PIDS+=("$RPID")
program_of "$RPID"
touch "$UD/go"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q '^OK self' "$TMP/ns.out2" && grep -q '^GOT self 70000 ' "$TMP/ns.out2" ||
	fail "pidns: the restarted copy as $U (rc $rc): $(cat "$TMP/ns.out2")"
exit 0
