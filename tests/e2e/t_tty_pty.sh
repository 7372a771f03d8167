#!/bin/bash
# A pty the tree made itself: ptypair (tests/e2e/progs/ptypair.c, an
# expect-like driver whose own fds are pipes) runs interactive bash on a
# pty it made with forkpty (33x77), bash being that pty's session leader.
# ptypair puts its master in packet mode (TIOCPKT).  Checkpointed (the
# tree: ptypair holding the master, bash on the slave), killed, restarted
# (ptypair's pipes are ckpt-restart's): bash is on a pty with the SAME
# number again (`tty`, and ptsname of the master), the master still in
# packet mode and unlocked, its window size (stty size),
# its variable, leads its session with the pty as controlling terminal
# and is its foreground group; a foreground job (cat) reads a line typed
# through the master.  ckpt-info shows the master and the slave.
# Refused by name: bytes the master has not read.
. "$(dirname "$0")/lib.sh"
export ROOT BIN TMP LIB PROGS
python3 - <<'EOF'
import os, re, subprocess, sys, time
sys.path.insert(0, os.environ["ROOT"] + "/tests/e2e")
from ptydrive import *

BIN, TMP, LIB, PROGS = (os.environ[k] for k in ("BIN", "TMP", "LIB", "PROGS"))
env = dict(os.environ, TERM="dumb", HISTFILE=TMP + "/history", PS1="PS> ", LD_PRELOAD=LIB)
PROMPT = "PS> "

def cmd(t, line, want=None):
    t.send(line + "\n")
    if want:
        t.expect(want)
    t.expect(PROMPT)

def scenario():
    img = TMP + "/pty.img"
    a = Piped([PROGS + "/ptypair", "bash", "--norc", "-i"], env=env)
    m = a.expect(rb"READY pid=(\d+) child=(\d+) pts=(/dev/pts/\d+)")
    pid, bash, pts = int(m.group(1)), int(m.group(2)), m.group(3).decode()
    a.expect(PROMPT)
    cmd(a, "FOO=pty42")
    cmd(a, "tty", pts)
    a.send("@@pkt\n")
    a.expect("PACKET 1\n")
    a.send("@@state\n")
    a.expect("STATE pkt=1 locked=0 ptsname=%s\n" % pts)
    r = subprocess.run([BIN + "/ckpt-save", str(pid), img], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    info = subprocess.run([BIN + "/ckpt-info", img], capture_output=True, text=True).stdout
    n = pts.split("/")[-1]
    assert re.search(r"tty +/dev/ptmx .*\n +master of pty %s, 77x33, packet mode \(" % n, info), info
    assert re.search(r"tty +%s .*\n +slave of pty %s, 77x33, raw.*, controlling terminal of "
                     r"session %d, foreground group %d" % (pts, n, bash, bash), info), info
    for p in (bash, pid):
        os.kill(p, 9)
    os.waitpid(pid, 0)
    a.close()
    wait_for(lambda: gone(bash) and gone(pid), what="the tree gone")

    b = Piped([BIN + "/ckpt-restart", img], env=env)
    wait_for(lambda: os.path.exists("/proc/%d" % bash), what="bash back")
    b.send("\n")
    b.expect(PROMPT)
    cmd(b, "echo FOO is $FOO", r"FOO is pty42\r\n")
    cmd(b, "tty", pts + "\r\n")
    cmd(b, "stty size", r"33 77\r\n")
    b.send("@@state\n")                  # the master: packet mode, unlocked, its number
    b.expect("STATE pkt=1 locked=0 ptsname=%s\n" % pts)
    st = stat_fields(bash)
    assert st[1:4] == [str(pid), str(bash), str(bash)] and st[5] == str(bash), st
    assert st[4] == str(os.stat(pts).st_rdev), ("controlling terminal", st)
    b.send("cat\n")
    b.expect(r"cat\r\n")
    wait_for(lambda: stat_fields(bash)[5] != str(bash), what="cat in the foreground")
    b.send("through-the-master\n")
    b.expect(r"through-the-master\r\nthrough-the-master\r\n")
    b.send("\x04")
    b.expect(PROMPT)
    b.send("exit\n")
    b.expect(r"EXITED 0")
    st = b.wait()
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st

    # bytes the master has not read: refused, by their count
    c = Piped([PROGS + "/ptypair", "bash", "--norc", "-i"], env=env)
    m = c.expect(rb"READY pid=(\d+) child=(\d+) pts=/dev/pts/(\d+)")
    pid, n = int(m.group(1)), m.group(3).decode()
    c.expect(PROMPT)
    c.send("@@hold\n")
    c.expect("HOLDING")
    c.send("x" * 10 + "\n")       # (echoed and answered by bash: the master reads none of it)
    rx = re.compile(r"fd \d+ \(/dev/ptmx\): pty %s holds (\d+) bytes its master has not read "
                    r"yet; .*retry the checkpoint once the program has read them" % n)
    def refused():
        r = subprocess.run([BIN + "/ckpt-save", str(pid), TMP + "/no.img"], capture_output=True,
                           text=True)
        assert r.returncode in (0, 5), r.stderr
        return r.returncode == 5 and rx.search(r.stderr)
    wait_for(refused, what="the refusal of the bytes in flight")
    assert not os.path.exists(TMP + "/no.img")
    c.close()

run(scenario)
EOF
