#!/bin/bash
# Real programs with deleted files, checkpointed mid-way, killed, restarted,
# their output compared with a clean run's:
#   sqlite3  a TEMP table (temp_store=FILE, a small cache) lives in a temp
#            database sqlite opens and unlinks at once (SQLITE_TMPDIR): the
#            process is saved while it waits for its next command, killed,
#            and the restarted copy queries and changes the table
#   sort     coreutils sort reading its input from a deleted file (fd 0),
#            spilling runs to temp files (-S 64K -T DIR), writing to a FIFO
#            the test does not read yet (so it cannot finish): saved once it
#            has spilled, killed, restarted; it reads on from its offset in
#            the recreated input and merges its temp files.  Its output: what
#            the FIFO held, then what the copy wrote
. "$(dirname "$0")/lib.sh"
D=$TMP/d
mkdir -p "$D/st"
command -v sqlite3 > /dev/null || skip "no sqlite3"
command -v sort > /dev/null || skip "no sort"

# --- sqlite3 ---------------------------------------------------------------
setup_sql="PRAGMA temp_store=FILE; PRAGMA cache_size=10;
CREATE TEMP TABLE t AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
  WHERE x < 100000) SELECT x, printf('%08d-%x', x, (x * 2654435761) % 4294967296) AS h FROM c;
SELECT 'READY';"
rest_sql="SELECT count(*), sum(x), sum(length(h)), min(h), max(h) FROM t;
UPDATE t SET h = upper(h) WHERE x % 7 = 0;
INSERT INTO t SELECT x + 100000, h FROM t WHERE x % 3 = 0;
SELECT count(*), sum(x), group_concat(h, '') = group_concat(h, '') FROM t;
SELECT h FROM t WHERE x IN (7, 99999, 100003, 133332) ORDER BY x;
SELECT sum(length(h)) FROM t WHERE h GLOB '*[A-F]*';"
printf '%s\n%s\n' "$setup_sql" "$rest_sql" | SQLITE_TMPDIR=$D sqlite3 > "$TMP/sq.want" 2>&1 ||
	fail "sqlite3, clean run: $(cat "$TMP/sq.want")"

mkfifo "$TMP/sq.in"
SQLITE_TMPDIR=$D shim sqlite3 < "$TMP/sq.in" > "$TMP/sq.out" 2>&1 &
pid=$!
PIDS+=("$pid")
exec 7> "$TMP/sq.in"
printf '%s\n' "$setup_sql" >&7
wait_line "$TMP/sq.out" '^READY|rror'
ghost() { ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "$D/etilqs_.* (deleted)"; }
wait_for 20 ghost || fail "sqlite3 has no deleted temp file open: $(ls -l /proc/$pid/fd)"
"$BIN/ckpt-save" "$pid" "$TMP/sq.img" > "$TMP/sq.save" 2>&1 || fail "sqlite3: ckpt-save: $(cat "$TMP/sq.save")"
kill9 "$pid"
exec 7>&-
"$BIN/ckpt-info" --json "$TMP/sq.img" | python3 -c '
import json, sys
j = json.load(sys.stdin)
g = [f for f in j["files"] if f["kind"] == "ghost"]
assert g and max(f["contents"]["data_bytes"] for f in g) > (1 << 20), g
' || fail "sqlite3: the image holds no temp database of more than 1 MiB"
printf '%s\n' "$rest_sql" > "$TMP/sq.rest"
clean_fds "${RESTART[@]}" "$TMP/sq.img" < "$TMP/sq.rest" > "$TMP/sq.out2" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "sqlite3: restarted copy rc $rc: $(tail -5 "$TMP/sq.out2")"
{ cat "$TMP/sq.out" "$TMP/sq.out2"; } > "$TMP/sq.got"
cmp -s "$TMP/sq.got" "$TMP/sq.want" || fail "sqlite3: output differs: $(diff "$TMP/sq.got" "$TMP/sq.want" | head -10)"

# --- sort ------------------------------------------------------------------
# Its output goes to a FIFO nobody reads yet: sort cannot finish before it
# is saved (wherever it is then: reading its input, spilling, merging).
python3 -c '
import random
r = random.Random(7)
print("\n".join("%d %s" % (r.randrange(10**9), "x" * r.randrange(20)) for _ in range(200000)))
' > "$TMP/in.txt"
sort -S 64K "$TMP/in.txt" > "$TMP/sort.want"
mkfifo "$TMP/sort.fifo"
exec 4< "$TMP/in.txt"
rm "$TMP/in.txt"
shim sort -S 64K --parallel=1 -T "$D/st" <&4 > "$TMP/sort.fifo" 2> "$TMP/sort.err" &
pid=$!
PIDS+=("$pid")
exec 4<&- 8< "$TMP/sort.fifo"
spilled() { ls "$D/st" | grep -q .; }
wait_for 60 spilled || fail "sort wrote no temp file: $(cat "$TMP/sort.err")"
ls -l "/proc/$pid/fd/0" | grep -q 'in.txt (deleted)' || fail "sort's input is not a deleted file"
"$BIN/ckpt-save" "$pid" "$TMP/sort.img" > "$TMP/sort.save" 2>&1 || fail "sort: ckpt-save: $(cat "$TMP/sort.save")"
kill9 "$pid"
cat <&8 > "$TMP/sort.out"		# what it wrote before: in the FIFO still
exec 8<&-
# fd 0 (the deleted input) and 2 are files, reopened; fd 1, a FIFO, is ckpt-restart's
clean_fds "$BIN/ckpt-restart" "$TMP/sort.img" >> "$TMP/sort.out" 2> "$TMP/sort.rst" < /dev/null
rc=$?
[ $rc -eq 0 ] || fail "sort: restarted copy rc $rc: $(cat "$TMP/sort.rst" "$TMP/sort.err")"
cmp -s "$TMP/sort.out" "$TMP/sort.want" || fail "sort: output differs from a clean run ($(wc -l < "$TMP/sort.out") lines, want $(wc -l < "$TMP/sort.want"))"
exit 0
