#!/bin/bash
# Backtraces stored in the image at the checkpoint (libckpt/ckpt_bt.c,
# IMG_REC_BACKTRACE) and shown by ckpt-info (tools/info_bt.c).
#  1. progs/btstore (its functions exported: -rdynamic) runs from a copy
#     of its file: main in level_one -> level_two -> level_three -> sleep,
#     a thread blocked in read, one in a signal handler (in_handler, the
#     signal frame, before_signal), one in an assembly function without
#     unwind tables (no_tables, a frame pointer), one in a malloc/free
#     loop.  Each waits in its system call before ckpt-save.  Then the
#     process is killed AND its file deleted: ckpt-info still names every
#     one of those frames, from the record ("stored at the checkpoint",
#     JSON source "checkpoint"), and --unwind (the image and the files
#     only) can no longer name the program's.
#  2. Every mode writes them: the forked writer (default), CKPT_FORK=0
#     (the handler writes), --mappable, --exit (then the image restarts:
#     the restart skips the records), and a tree (every member's threads).
#  3. A thread parked inside malloc while the checkpoint unwinds: 40
#     checkpoints, forked and in the handler, each completes (no deadlock
#     on malloc's lock) and stores the malloc thread's backtrace.
#  4. CKPT_BACKTRACES=0: no record, ckpt-info unwinds from the image
#     ("backtrace:", source "ckpt-info"); a program without exported
#     functions (btstore-plain) gets its own frames named from the file.
#  5. --diff: between two images the main thread takes SIGUSR1
#     and sleeps in its handler: exactly that thread's backtrace is
#     reported changed, from the frame where the two part (level_three
#     -> in_handler), text and JSON.
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || skip "python3 is needed to read --json"

# threads in read (0) and nanosleep (35) / clock_nanosleep (230)
count_in() {
	local t s n=0
	for t in /proc/$1/task/*; do
		s=$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)
		case " $2 " in *" $s "*) n=$((n + 1));; esac
	done
	echo $n
}
ready() { [ "$(count_in "$1" 0)" -ge 1 ] && [ "$(count_in "$1" "35 230")" -ge 3 ]; }

start() {	# start NAME PROG [ARGS]: $PID
	local name=$1
	shift
	LD_LIBRARY_PATH=$B clean_fds "$@" > "$TMP/$name.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$name.out" '^READY'
	wait_for 20 ready "$PID" || fail "$name: the threads did not block in read and nanosleep"
}

# check_stored IMAGE WHAT [malloc]: every thread's stored backtrace names its functions
check_stored() {
	"$BIN/ckpt-info" "$1" > "$TMP/bt.txt" 2>&1 || fail "$2: ckpt-info: $(cat "$TMP/bt.txt")"
	"$BIN/ckpt-info" --json "$1" > "$TMP/bt.json" 2>&1 || fail "$2: ckpt-info --json: $(cat "$TMP/bt.json")"
	out=$(python3 - "$TMP/bt.json" "${3:-}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
bts = [t["backtrace"] for t in d["threads"]]
if any(b["source"] != "checkpoint" for b in bts):
    bad.append("not stored: %s" % [b["source"] for b in bts])
stored = [[f["symbol"] for f in b["frames"] if f["symbol_source"] == "checkpoint"] for b in bts]
def chain(*names):	# a thread whose stored frames hold names in this order (callee first)
    for fr in stored:
        if all(n in fr for n in names) and \
           all(fr.index(names[i]) < fr.index(names[i + 1]) for i in range(len(names) - 1)):
            return True
    bad.append("no thread with %s in %s" % (names, stored))
    return False
chain("level_three", "level_two", "level_one", "main")
chain("blocked_in_read")
if not any(fr and fr[0] in ("read", "__read", "__libc_read") and "blocked_in_read" in fr for fr in stored):
    bad.append("read is not on top of blocked_in_read")
chain("in_handler", "before_signal")
chain("called_from_asm", "no_tables", "asm_thread")
if sys.argv[2] == "malloc":
    chain("malloc_loop")
print("OK" if not bad else "BAD %s" % bad)
PY
)
	[ "$out" = OK ] || fail "$2: $out"
	grep -q 'backtrace (stored at the checkpoint):' "$TMP/bt.txt" || fail "$2: the text does not say stored"
	grep -qE 'level_two\+0x[0-9a-f]+  \(.*\+0x[0-9a-f]+\)' "$TMP/bt.txt" ||
		fail "$2: no symbol+offset (module+offset) line: $(grep -A12 backtrace "$TMP/bt.txt")"
}

# 1. the program's file deleted after the checkpoint
cp "$PROGS/btstore" "$TMP/prog"
start prog "$TMP/prog" malloc
"$BIN/ckpt-save" "$PID" "$TMP/del.img" > "$TMP/save.out" 2>&1 || fail "ckpt-save: $(cat "$TMP/save.out")"
kill9 "$PID"
rm -f "$TMP/prog"
check_stored "$TMP/del.img" "file deleted" malloc
"$BIN/ckpt-info" --unwind "$TMP/del.img" > "$TMP/unw.txt" 2>&1 || fail "--unwind: $(cat "$TMP/unw.txt")"
grep -q 'level_two' "$TMP/unw.txt" && fail "--unwind named the deleted program's frames: it did not unwind"
grep -q "note: $TMP/prog: cannot open here" "$TMP/unw.txt" || fail "--unwind: no note on the missing file"
grep -q 'stored at the checkpoint' "$TMP/unw.txt" && fail "--unwind printed the stored backtraces"

# 2. every mode
for mode in forked handler mappable exit; do
	opt=()
	case $mode in
	handler) export CKPT_FORK=0;;
	mappable) opt=(--mappable);;
	exit) opt=(--exit);;
	esac
	start $mode "$PROGS/btstore"
	unset CKPT_FORK
	"$BIN/ckpt-save" "${opt[@]}" "$PID" "$TMP/$mode.img" > "$TMP/save.out" 2>&1 ||
		fail "$mode: ckpt-save: $(cat "$TMP/save.out")"
	if [ $mode = exit ]; then
		wait_for 10 gone "$PID" || fail "exit: the process did not exit"
	else
		kill9 "$PID"
	fi
	check_stored "$TMP/$mode.img" "$mode"
done
# the restart has no use for the records: it skips them
restart_bg "$TMP/exit.img" > "$TMP/rst.out" 2>&1
wait_for 20 ready "$PID" || fail "the restarted process's threads are not back in read and nanosleep: $(cat "$TMP/rst.out")"
kill9 "$PID"

mkdir "$TMP/tree"
shim "$PROGS/tree" basic "$TMP/tree" 3 > "$TMP/tree.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/tree.out" '^READY|^BAD'
grep -q '^READY' "$TMP/tree.out" || fail "tree: $(cat "$TMP/tree.out")"
"$BIN/ckpt-save" "$PID" "$TMP/tree.img" > "$TMP/tree.save" 2>&1 || fail "tree: ckpt-save: $(cat "$TMP/tree.save")"
kill_tree "$PID"
"$BIN/ckpt-info" --json "$TMP/tree.img" > "$TMP/tree.json" 2>&1 || fail "tree: ckpt-info: $(cat "$TMP/tree.json")"
out=$(python3 - "$TMP/tree.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
secs = d["processes"] if "processes" in d else d["sections"]
bad = [t["tid"] for s in secs for t in s["threads"]
       if t["backtrace"]["source"] != "checkpoint" or
          "main" not in [f["symbol"] for f in t["backtrace"]["frames"]]]
print("OK" if not bad and len(secs) >= 2 else "BAD %s (%d members)" % (bad, len(secs)))
PY
)
[ "$out" = OK ] || fail "tree: a member's thread has no stored backtrace reaching main: $out"

# 3. a thread in malloc, many checkpoints
for mode in forked handler; do
	[ $mode = handler ] && export CKPT_FORK=0
	start m$mode "$PROGS/btstore" malloc
	unset CKPT_FORK
	inside=0
	for i in $(seq 20); do
		CKPT_SAVE_TIMEOUT=20 "$BIN/ckpt-save" "$PID" "$TMP/m.img" > "$TMP/save.out" 2>&1 ||
			fail "malloc ($mode), checkpoint $i: $(cat "$TMP/save.out")"
		# was the thread parked in libc (malloc or free), under malloc_loop?
		"$BIN/ckpt-info" "$TMP/m.img" | grep -B1 -m1 ' malloc_loop+' | head -1 |
			grep -q 'libc\.so' && inside=$((inside + 1))
	done
	kill9 "$PID"
	[ $inside -gt 0 ] || fail "malloc ($mode): in 20 checkpoints the thread was never inside malloc or free"
	echo "malloc ($mode): $inside of 20 checkpoints found the thread inside malloc or free"
	check_stored "$TMP/m.img" "malloc ($mode)" malloc
done

# 4. off, and a program without exported functions
CKPT_BACKTRACES=0 start off "$PROGS/btstore"
"$BIN/ckpt-save" "$PID" "$TMP/off.img" > "$TMP/save.out" 2>&1 || fail "off: ckpt-save: $(cat "$TMP/save.out")"
kill9 "$PID"
"$BIN/ckpt-info" --json "$TMP/off.img" > "$TMP/off.json" || fail "off: ckpt-info"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = {t["backtrace"]["source"] for t in d["threads"]}
names = {f["symbol"] for t in d["threads"] for f in t["backtrace"]["frames"]}
sys.exit(0 if s == {"ckpt-info"} and "level_two" in names else 1)' "$TMP/off.json" ||
	fail "CKPT_BACKTRACES=0: stored backtraces, or no computed ones"
start plain "$PROGS/btstore-plain"
"$BIN/ckpt-save" "$PID" "$TMP/plain.img" > "$TMP/save.out" 2>&1 || fail "plain: ckpt-save: $(cat "$TMP/save.out")"
kill9 "$PID"
"$BIN/ckpt-info" "$TMP/plain.img" > "$TMP/plain.txt" || fail "plain: ckpt-info"
grep -qE 'level_two\+0x[0-9a-f]+  \(.*\)  \[name from the file\]' "$TMP/plain.txt" ||
	fail "plain: level_two not named from the file: $(grep -A12 backtrace "$TMP/plain.txt")"
# 5. --diff of the stored backtraces
start diff "$PROGS/btstore"
"$BIN/ckpt-save" "$PID" "$TMP/d1.img" > "$TMP/save.out" 2>&1 || fail "diff: ckpt-save 1: $(cat "$TMP/save.out")"
# the main thread's stack pointer while it sleeps (/proc/PID/task/TID/syscall: nr, 6 args, sp, pc)
main_sleep_sp() {
	local s
	read -r -a s < "/proc/$PID/task/$PID/syscall" || return 1
	[ "${s[0]}" = 35 ] || [ "${s[0]}" = 230 ] || return 1
	echo $((s[7]))
}
asleep() { main_sleep_sp > /dev/null; }
wait_for 20 asleep || fail "diff: the main thread is not back in nanosleep after the checkpoint"
sp0=$(main_sleep_sp)
kill -USR1 "$PID"	# main's: the other threads block it
# asleep again on a stack deeper by a signal frame at least: in the handler
in_handler() { local sp; sp=$(main_sleep_sp) && [ "$sp" -lt $((sp0 - 512)) ]; }
wait_for 20 in_handler || fail "diff: the main thread did not go to sleep in its handler"
"$BIN/ckpt-save" "$PID" "$TMP/d2.img" > "$TMP/save.out" 2>&1 || fail "diff: ckpt-save 2: $(cat "$TMP/save.out")"
kill9 "$PID"
"$BIN/ckpt-info" --diff "$TMP/d1.img" "$TMP/d2.img" > "$TMP/diff.txt" 2>&1 || fail "--diff: $(cat "$TMP/diff.txt")"
[ "$(grep -c 'another backtrace' "$TMP/diff.txt")" = 1 ] || fail "--diff: not one thread changed: $(cat "$TMP/diff.txt")"
grep -qE "^  ~ tid $PID: another backtrace from frame #[0-9]+: level_three\+0x[0-9a-f]+ -> in_handler\+0x[0-9a-f]+\$" "$TMP/diff.txt" ||
	fail "--diff: the main thread's change: $(grep -A3 '^threads' "$TMP/diff.txt")"
"$BIN/ckpt-info" --json --diff "$TMP/d1.img" "$TMP/d2.img" > "$TMP/diff.json" || fail "--diff --json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["threads"]["backtrace_changed"] == [int(sys.argv[2])] else 1)' "$TMP/diff.json" "$PID" ||
	fail "--diff --json: backtrace_changed is not [$PID]: $(grep -o '"threads".*' "$TMP/diff.json")"
exit 0
