#!/bin/bash
# ckpt-info's backtraces and --diff (tools/info_bt.c, tools/info_diff.c).
#  1. progs/btstuck: main in wait_here_main -> nanosleep, a thread in
#     worker_blocked_in_read -> read on a pipe, one in spin_loop.  Each
#     blocked thread is in its system call (/proc/PID/task/TID/syscall)
#     before ckpt-save; ckpt-info then names those functions in each
#     thread's backtrace, with the libc call on top for the blocked ones,
#     text and --json (python3 -m json.tool parses it).  Built twice: with
#     .eh_frame (btstuck) and without unwind tables, with frame pointers
#     (btstuck-fp): both ways of unwinding must get there, at -O1.
#  2. The same after the process is gone (SIGKILL): the backtrace reads
#     only the image and the files.
#  3. The program's file changed since (a copy, touched) then removed:
#     ckpt-info says so, shows its frames as module+offset, and still
#     names the libc frames.
#  4. --diff: progs/diffstep changes K pages of an N-page region and opens
#     one more fd between two images; the diff reports exactly K of N
#     pages in that region and that one fd added, text and JSON.
#     Then three incremental generations (ckpt-save --incremental): each
#     image's inherited pages are read from its parent chain, so g1->g2
#     and g2->g3 report exactly K of N pages and nothing unknown, and
#     g1->g3 none in the region (the second step undoes the first); with
#     g2 moved away, g1->g3 says pages are unknown instead of guessing.
#  5. --diff of two different processes is refused, naming both.
#  6. A tree's image (progs/tree basic): every member's threads have a
#     backtrace reaching main; --diff of two of its images compares each
#     member (one "== process" part each), and a tree against a single
#     process's image is refused.
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || skip "python3 is needed to read --json"

# syscall numbers (x86-64): read 0, nanosleep 35, clock_nanosleep 230
in_syscall() {
	local t s
	for t in /proc/$1/task/*; do
		s=$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)
		[ "$s" = "$2" ] && return 0
	done
	return 1
}
ready() { in_syscall "$1" 0 && { in_syscall "$1" 35 || in_syscall "$1" 230; }; }

# check_bt IMAGE WHAT: every thread's backtrace names its function.
check_bt() {
	local out
	"$BIN/ckpt-info" "$1" > "$TMP/bt.txt" 2>&1 || fail "$2: ckpt-info: $(cat "$TMP/bt.txt")"
	"$BIN/ckpt-info" --json "$1" > "$TMP/bt.json" 2>&1 || fail "$2: ckpt-info --json: $(cat "$TMP/bt.json")"
	python3 -m json.tool "$TMP/bt.json" > /dev/null || fail "$2: --json does not parse"
	out=$(python3 - "$TMP/bt.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = []
for t in d["threads"]:
    fr = [f["symbol"] or "?" for f in t["backtrace"]["frames"]]
    names.append(fr)
def has(seq, want_top, want):
    return any(want in fr and (want_top is None or fr[0] in want_top) for fr in seq)
ok = has(names, None, "wait_here_main") and has(names, None, "main") \
    and any("wait_here_main" in fr and fr.index("main") > fr.index("wait_here_main") for fr in names) \
    and any("wait_here_main" in fr and any("sleep" in f for f in fr[:fr.index("wait_here_main")]) for fr in names) \
    and has(names, ("read", "__read", "__libc_read"), "worker_blocked_in_read") \
    and has(names, None, "spin_loop")
print("OK" if ok else "BAD %s" % names)
PY
)
	[ "$out" = OK ] || fail "$2: backtraces do not name the functions: $out"
	grep -q 'worker_blocked_in_read+0x[0-9a-f]*  (.*+0x' "$TMP/bt.txt" ||
		fail "$2: no symbol+offset (module+offset) line in the text: $(grep -A8 backtrace: "$TMP/bt.txt")"
}

for prog in btstuck btstuck-fp; do
	clean_fds "$PROGS/$prog" > "$TMP/$prog.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$prog.out" '^READY'
	wait_for 20 ready "$PID" || fail "$prog: the threads did not block in read and nanosleep"
	"$BIN/ckpt-save" "$PID" "$TMP/$prog.img" > "$TMP/$prog.save" 2>&1 || fail "$prog: ckpt-save: $(cat "$TMP/$prog.save")"
	check_bt "$TMP/$prog.img" "$prog (running)"
	kill9 "$PID"
	check_bt "$TMP/$prog.img" "$prog (gone)"
done

# 3. the program's file changed, then gone
cp "$PROGS/btstuck" "$TMP/btcopy"
LD_LIBRARY_PATH=$B clean_fds "$TMP/btcopy" > "$TMP/copy.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/copy.out" '^READY'
wait_for 20 ready "$PID" || fail "copy: the threads did not block"
"$BIN/ckpt-save" "$PID" "$TMP/copy.img" > "$TMP/copy.save" 2>&1 || fail "copy: ckpt-save: $(cat "$TMP/copy.save")"
kill9 "$PID"
check_bt "$TMP/copy.img" "copy (unchanged)"
touch -d '2001-01-01' "$TMP/btcopy"
"$BIN/ckpt-info" "$TMP/copy.img" > "$TMP/copy.txt" 2>&1 || fail "copy: ckpt-info: $(cat "$TMP/copy.txt")"
grep -q "note: $TMP/btcopy: not the file the image recorded" "$TMP/copy.txt" ||
	fail "changed file: no note: $(grep -A10 backtrace: "$TMP/copy.txt")"
grep -q 'wait_here_main' "$TMP/copy.txt" && fail "changed file: its symbols were still used"
grep -qE "\?\?  \($TMP/btcopy\+0x[0-9a-f]+\)" "$TMP/copy.txt" || fail "changed file: no module+offset frame"
grep -qE '(__)?read\+0x' "$TMP/copy.txt" || fail "changed file: libc's frames lost their names"
rm -f "$TMP/btcopy"
"$BIN/ckpt-info" "$TMP/copy.img" > "$TMP/copy2.txt" 2>&1 || fail "copy gone: ckpt-info: $(cat "$TMP/copy2.txt")"
grep -q "note: $TMP/btcopy: cannot open here" "$TMP/copy2.txt" || fail "removed file: no note"

# 4. --diff
N=16 K=5
clean_fds "$PROGS/diffstep" $N $K > "$TMP/d.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/d.out" '^STEP 0'
"$BIN/ckpt-save" "$PID" "$TMP/a.img" > "$TMP/a.save" 2>&1 || fail "diff: ckpt-save A: $(cat "$TMP/a.save")"
kill -USR2 "$PID"
wait_line "$TMP/d.out" '^STEP 1'
"$BIN/ckpt-save" "$PID" "$TMP/b.img" > "$TMP/b.save" 2>&1 || fail "diff: ckpt-save B: $(cat "$TMP/b.save")"
kill9 "$PID"
read -r _ start end < <(grep '^REGION' "$TMP/d.out")
newfd=$(sed -n 's/^STEP 1 fd //p' "$TMP/d.out")
"$BIN/ckpt-info" --diff "$TMP/a.img" "$TMP/b.img" > "$TMP/diff.txt" 2>&1 || fail "--diff: $(cat "$TMP/diff.txt")"
grep -qE "^  $start-$end rw-p anon: $K of $N pages differ\$" "$TMP/diff.txt" ||
	fail "--diff: not $K of $N pages in $start-$end: $(cat "$TMP/diff.txt")"
grep -qx "fds: 1 added, 0 removed, [0-9]* changed" "$TMP/diff.txt" || fail "--diff: fds: $(cat "$TMP/diff.txt")"
grep -qE "^  \+ $newfd +dev +/dev/null " "$TMP/diff.txt" || fail "--diff: fd $newfd not added: $(cat "$TMP/diff.txt")"
grep -qx "threads: 0 added, 0 removed, 1 in both" "$TMP/diff.txt" || fail "--diff: threads: $(cat "$TMP/diff.txt")"
"$BIN/ckpt-info" --json --diff "$TMP/a.img" "$TMP/b.img" > "$TMP/diff.json" 2>&1 || fail "--diff --json: $(cat "$TMP/diff.json")"
out=$(python3 - "$TMP/diff.json" "$start" "$end" "$N" "$K" "$newfd" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
start, end, n, k, fd = int(sys.argv[2], 16), int(sys.argv[3], 16), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
reg = [m for m in d["memory"]["maps"] if m["map"]["start"] == start and m["map"]["end"] == end]
ok = len(reg) == 1 and reg[0]["pages"] == n and reg[0]["differ"] == k and reg[0]["unknown"] == 0
ok = ok and [f["fd"] for f in d["fds"]["added"]] == [fd] and d["fds"]["added"][0]["path"] == "/dev/null"
ok = ok and d["fds"]["removed"] == [] and d["threads"]["added"] == [] and d["threads"]["removed"] == []
print("OK" if ok else "BAD %s %s" % (reg, d["fds"]))
PY
)
[ "$out" = OK ] || fail "--diff --json: $out"
# the reverse: the fd is removed, the same pages differ
"$BIN/ckpt-info" --diff "$TMP/b.img" "$TMP/a.img" > "$TMP/rdiff.txt" 2>&1 || fail "--diff B A: $(cat "$TMP/rdiff.txt")"
grep -qx "fds: 0 added, 1 removed, [0-9]* changed" "$TMP/rdiff.txt" || fail "--diff B A: $(cat "$TMP/rdiff.txt")"
grep -qE "^  $start-$end rw-p anon: $K of $N pages differ\$" "$TMP/rdiff.txt" || fail "--diff B A: pages"

# 4b. incremental generations
clean_fds "$PROGS/diffstep" $N $K > "$TMP/g.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/g.out" '^STEP 0'
for g in 1 2 3; do
	"$BIN/ckpt-save" --incremental "$PID" "$TMP/g$g.img" > "$TMP/g.save" 2>&1 || fail "incremental $g: $(cat "$TMP/g.save")"
	[ $g = 3 ] && break
	kill -USR2 "$PID"
	wait_line "$TMP/g.out" "^STEP $g"
done
kill9 "$PID"
"$BIN/ckpt-info" "$TMP/g3.img" | grep -q "^flags:.*incremental" || fail "g3 is not incremental"
read -r _ start end < <(grep '^REGION' "$TMP/g.out")
for pair in "1 2" "2 3"; do
	set -- $pair
	"$BIN/ckpt-info" --diff "$TMP/g$1.img" "$TMP/g$2.img" > "$TMP/gdiff.txt" 2>&1 || fail "g$1->g$2: $(cat "$TMP/gdiff.txt")"
	grep -qE "^  $start-$end rw-p anon: $K of $N pages differ\$" "$TMP/gdiff.txt" ||
		fail "g$1->g$2: not $K of $N pages in $start-$end: $(cat "$TMP/gdiff.txt")"
	grep -q unknown "$TMP/gdiff.txt" && fail "g$1->g$2: pages unknown: $(cat "$TMP/gdiff.txt")"
done
"$BIN/ckpt-info" --diff "$TMP/g1.img" "$TMP/g3.img" > "$TMP/gdiff.txt" 2>&1 || fail "g1->g3: $(cat "$TMP/gdiff.txt")"
grep -q "^  $start-$end " "$TMP/gdiff.txt" && fail "g1->g3: the region differs: $(cat "$TMP/gdiff.txt")"
grep -q unknown "$TMP/gdiff.txt" && fail "g1->g3: pages unknown: $(cat "$TMP/gdiff.txt")"
mv "$TMP/g2.img" "$TMP/g2.moved"
"$BIN/ckpt-info" --diff "$TMP/g1.img" "$TMP/g3.img" > "$TMP/gdiff.txt" 2>&1 || fail "g1->g3 without g2: $(cat "$TMP/gdiff.txt")"
grep -qE "^memory: .*[1-9][0-9]* pages unknown" "$TMP/gdiff.txt" || fail "g1->g3 without g2: nothing unknown: $(cat "$TMP/gdiff.txt")"

# 5. two processes
"$BIN/ckpt-info" --diff "$TMP/a.img" "$TMP/btstuck.img" > "$TMP/two.txt" 2>&1 && fail "--diff of two processes succeeded"
grep -q "is process [0-9]* (.*diffstep) and .*btstuck.img is process [0-9]* (.*btstuck): not two images of one process" \
	"$TMP/two.txt" || fail "--diff of two processes: $(cat "$TMP/two.txt")"

# 6. a tree
mkdir "$TMP/tree"
shim "$PROGS/tree" basic "$TMP/tree" 3 > "$TMP/tree.out" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/tree.out" '^READY|^BAD'
grep -q '^READY' "$TMP/tree.out" || fail "tree: $(cat "$TMP/tree.out")"
for g in 1 2; do
	"$BIN/ckpt-save" "$PID" "$TMP/tree$g.img" > "$TMP/tree.save" 2>&1 || fail "tree: ckpt-save: $(cat "$TMP/tree.save")"
done
kill_tree "$PID"
"$BIN/ckpt-info" --json "$TMP/tree1.img" > "$TMP/tree.json" 2>&1 || fail "tree: ckpt-info: $(cat "$TMP/tree.json")"
out=$(python3 - "$TMP/tree.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
secs = d["processes"] if "processes" in d else d["sections"]
bad = [t["tid"] for s in secs for t in s["threads"]
       if "main" not in [f["symbol"] for f in t["backtrace"]["frames"]]]
print("OK %d" % len(secs) if not bad and len(secs) >= 2 else "BAD %s" % bad)
PY
) || fail "tree: the JSON: $out"
case $out in OK*) ;; *) fail "tree: a thread's backtrace does not reach main: $out";; esac
members=${out#OK }
"$BIN/ckpt-info" --diff "$TMP/tree1.img" "$TMP/tree2.img" > "$TMP/tdiff.txt" 2>&1 || fail "tree --diff: $(cat "$TMP/tdiff.txt")"
[ "$(grep -c '^== process' "$TMP/tdiff.txt")" = "$members" ] || fail "tree --diff: not $members members: $(cat "$TMP/tdiff.txt")"
"$BIN/ckpt-info" --json --diff "$TMP/tree1.img" "$TMP/tree2.img" | python3 -m json.tool > /dev/null || fail "tree --diff --json does not parse"
"$BIN/ckpt-info" --diff "$TMP/tree1.img" "$TMP/a.img" > "$TMP/mixed.txt" 2>&1 && fail "--diff of a tree and a process succeeded"
grep -q "is a process tree's image and .* is one process's image: not two images of one process" "$TMP/mixed.txt" ||
	fail "--diff of a tree and a process: $(cat "$TMP/mixed.txt")"
exit 0
