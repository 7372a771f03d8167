#!/bin/bash
# The SQLite WAL loss of issue 10, end to end with the real library and
# the sqlite3 shell.  A process holds a WAL database open with 100
# committed rows; it is checkpointed (a reader reads meanwhile), killed
# and restarted; another connection reads after the restart — and must
# see that it is not alone: the restored process holds SQLite's locks
# again (the read lock on the database file, the one on the mapped -shm
# file, fds/fd_lock.c), so the reader neither rebuilds the -shm nor, as
# the last connection, checkpoints and deletes the WAL.  The restored
# process then commits 100 more rows: a reader sees all 200 while it runs
# and after it is killed, and integrity_check says ok.  (Without the locks
# the reader deleted the WAL and the -shm, the restored process committed
# rows 101-200 into the deleted WAL, and no other connection ever saw
# them: with the process gone, they were gone.)
. "$(dirname "$0")/lib.sh"
command -v sqlite3 > /dev/null || skip "no sqlite3 shell (tools/deps.sh installs it)"
D=$TMP/d
DB=$D/app.db
IMG=$TMP/sqlite.img
mkdir -p "$D"
q() { sqlite3 -batch "$DB" "$@" 2>&1; }

shim "$PROGS/sqlite_wal" "$DB" "$D" > "$TMP/out1" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$TMP/out1" '^READY'
grep -qx "READY pid=$PID count=100" "$TMP/out1" || fail "start: $(cat "$TMP/out1")"
[ -f "$DB-wal" ] && [ -f "$DB-shm" ] || fail "not in WAL mode: $(ls "$D")"

"$BIN/ckpt-save" "$PID" "$IMG" > "$TMP/save" 2>&1 || fail "ckpt-save: $(cat "$TMP/save")"
# a reader in between: the original is still there, the WAL stays
[ "$(q 'SELECT count(*) FROM t')" = 100 ] || fail "reader before the kill: $(q 'SELECT count(*) FROM t')"
[ -f "$DB-wal" ] || fail "the reader before the kill deleted the WAL"
"$BIN/ckpt-info" "$IMG" | grep -A10 '^locks' | grep -q 'posix .*app\.db-shm' ||
	fail "the image holds no POSIX lock on the -shm file: $("$BIN/ckpt-info" "$IMG" | grep -A10 '^locks')"
kill9 "$PID"

restart_bg "$IMG" > "$TMP/out2" 2>&1
wait_for 20 test -d "/proc/$PID" || fail "not restarted: $(cat "$TMP/out2")"
touch "$D/ping"
wait_line "$TMP/out2" '^PONG'
grep -qx 'PONG count=100' "$TMP/out2" || fail "restored: $(cat "$TMP/out2")"

# SQLite's "DMS" read lock on byte 128 of the -shm file: ckpt-restart took
# it, the restorer's close of its own fd of the mapped -shm dropped it, and
# the restorer took it again (restorer.h, struct rst_relock)
got=$("$PROGS/lockcheck" posix "$DB-shm" 128 1)
[ "$got" = "read $PID 128 1" ] || fail "the -shm DMS lock: '$got', want 'read $PID 128 1'"
# an ordinary reader after the restart: it must not be the last connection
[ "$(q 'SELECT count(*) FROM t')" = 100 ] || fail "reader after the restart: $(q 'SELECT count(*) FROM t')"
[ -f "$DB-wal" ] || fail "the reader after the restart deleted the WAL: it saw no other connection"
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity_check after the restart: $(q 'PRAGMA integrity_check')"

touch "$D/go"
wait_line "$TMP/out2" '^COMMITTED 200|^SQL ERROR'
grep -qx 'COMMITTED 200' "$TMP/out2" || fail "the restored process did not commit: $(cat "$TMP/out2")"
got=$(q 'SELECT count(*), min(id), max(id) FROM t')
[ "$got" = "200|1|200" ] || fail "the restored process committed rows 101-200, another connection sees count|min|max $got, want 200|1|200"
kill9 "$PID"
got=$(q 'SELECT count(*), min(id), max(id) FROM t')
[ "$got" = "200|1|200" ] || fail "after the restored process was killed: count|min|max is $got, want 200|1|200"
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity_check: $(q 'PRAGMA integrity_check')"
exit 0
