#!/bin/bash
# The sqlite3 shell on a pty with a WAL database, mid-transaction: BEGIN,
# INSERT, then checkpointed, killed, restarted on a NEW pty.  Before the
# kill and after the restart another sqlite3 sees only the committed row (the restarted shell holds
# its locks and its transaction); the restarted shell answers at its
# prompt, sees its own uncommitted rows, inserts one more and commits:
# another sqlite3 then reads all four rows, and integrity_check is ok.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 > /dev/null || skip "no sqlite3 shell (tools/deps.sh installs it)"
DB=$TMP/shell.db
sqlite3 -batch "$DB" "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES(1);" > /dev/null ||
	fail "cannot make the database"
export ROOT BIN TMP DB
python3 - <<'EOF'
import os, subprocess, sys, termios
sys.path.insert(0, os.environ["ROOT"] + "/tests/e2e")
from ptydrive import *

BIN, TMP, DB = os.environ["BIN"], os.environ["TMP"], os.environ["DB"]
env = dict(os.environ, TERM="dumb", HOME=TMP)     # (no ~/.sqliterc, history in TMP)
PROMPT = r"sqlite> $"

def other(sql):
    r = subprocess.run(["sqlite3", "-batch", DB, sql], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()

def sql(t, line, want=None):
    t.send(line + "\n")
    if want:
        t.expect(want)
    t.expect(PROMPT)

def scenario():
    img = TMP + "/sqlite3.img"
    a = Pty([BIN + "/ckpt-run", "sqlite3", DB], env=env)
    pid = a.pid
    a.expect(PROMPT)
    sql(a, "BEGIN;")
    sql(a, "INSERT INTO t VALUES(2),(3);")
    sql(a, "SELECT 'n=' || count(*) FROM t;", r"n=3\r\n")
    assert other("SELECT count(*) FROM t") == "1"
    saved = slave_termios(a)       # readline's settings, which the restart sets again
    r = subprocess.run([BIN + "/ckpt-save", str(pid), img], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    a.close()
    # (no reader until the restart: with no process holding the database, it
    # would be the last connection, checkpoint the WAL and delete the -shm
    # the saved process maps; t_sqlite_wal.sh)

    b = Pty([BIN + "/ckpt-restart", img], env=env)
    try:
        wait_for(lambda: slave_termios(b)[:4] == saved[:4], what="the saved termios")
        wait_for(lambda: os.path.exists("/proc/%d" % pid), what="pid %d back" % pid)
    except Timeout:
        b.drain(1)
        raise Timeout("pid %d not back; the pty said %r" % (pid, b.log))
    b.send("SELECT 'again=' || count(*) FROM t;\n")
    b.expect(r"again=3\r\n")
    b.expect(PROMPT)
    # still its transaction: another connection sees the committed row only
    assert other("SELECT count(*) FROM t") == "1"
    sql(b, "INSERT INTO t VALUES(4);")
    sql(b, "COMMIT;")
    got = other("SELECT count(*), group_concat(x) FROM t")
    assert got == "4|1,2,3,4", got
    assert other("PRAGMA integrity_check") == "ok"
    b.send(".quit\n")
    st = b.wait()
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st
    assert other("SELECT count(*) FROM t") == "4"

run(scenario)
EOF
