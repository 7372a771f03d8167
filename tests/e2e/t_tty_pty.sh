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
# Then output the master has not read (ptypair stops reading; bash's
# echo, answer and prompt wait in the pty): saved (ckpt-info counts
# them), and after the restart ptypair reads them from the new pty.
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

    # bytes the master has not read (ptypair holds; bash's answer waits in
    # the pty): saved, given back to the running process, and after the
    # restart ptypair reads them from the new pty, then bash goes on
    c = Piped([PROGS + "/ptypair", "bash", "--norc", "-i"], env=env)
    m = c.expect(rb"READY pid=(\d+) child=(\d+) pts=/dev/pts/(\d+)")
    pid, bash, n = int(m.group(1)), int(m.group(2)), m.group(3).decode()
    c.expect(PROMPT)
    c.send("@@hold\n")
    c.expect("HOLDING")
    c.send("echo held-$((6 * 7))\n")     # echoed, answered, a prompt: none read yet
    img2 = TMP + "/held.img"
    def saved_all():
        r = subprocess.run([BIN + "/ckpt-save", str(pid), img2], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        info = subprocess.run([BIN + "/ckpt-info", img2], capture_output=True, text=True).stdout
        m = re.search(r"master of pty %s, .* (\d+) bytes of output it had not read" % n, info)
        # the echo, the answer and the next prompt are all in the pty
        return m and int(m.group(1)) >= len("echo held-$((6 * 7))\r\nheld-42\r\nPS> ")
    wait_for(saved_all, what="the unread output in the image")
    for p in (bash, pid):
        os.kill(p, 9)
    os.waitpid(pid, 0)
    c.close()
    wait_for(lambda: gone(bash) and gone(pid), what="the tree gone")
    d = Piped([BIN + "/ckpt-restart", img2], env=env)
    wait_for(lambda: os.path.exists("/proc/%d" % bash), what="bash back")
    d.send("@@release\n")
    d.expect("RELEASED")
    d.expect(r"held-42\r\n")
    d.expect(PROMPT)
    cmd(d, "echo after-$((6 * 7))", r"after-42\r\n")
    d.send("exit\n")
    d.expect(r"EXITED 0")
    st = d.wait()
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st

run(scenario)
EOF
