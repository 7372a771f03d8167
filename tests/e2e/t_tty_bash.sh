#!/bin/bash
# Interactive bash on a pty (bash --norc -i under libckpt, the pty's
# session leader as under a terminal emulator): a variable, a background
# job (sleep 1000 &: its own process group), history.  Checkpointed (the
# tree: bash and its job), killed, restarted on a NEW pty by ckpt-restart
# as that pty's session leader: the prompt answers, $FOO is there, `jobs`
# lists the sleep, `history` has the commands, bash leads its session on
# the new pty (getsid = getpgrp = tcgetpgrp = its pid), and a foreground
# job started after the restart (cat) gets the terminal: it reads a line
# typed on the pty, ^D ends it and bash takes the terminal back.
# Then the restarted bash is checkpointed again and restarted from a
# shell on another pty (a shell job): it is in that shell's session, leads
# its own group, is the foreground group, and still has all of the above;
# once from `bash -c`, once from an interactive bash (job control), which
# gets its terminal back when the restarted bash exits.
. "$(dirname "$0")/lib.sh"
export ROOT BIN TMP LIB
python3 - <<'EOF'
import os, re, subprocess, sys, termios
sys.path.insert(0, os.environ["ROOT"] + "/tests/e2e")
from ptydrive import *

BIN, TMP = os.environ["BIN"], os.environ["TMP"]
env = dict(os.environ, TERM="dumb", HISTFILE=TMP + "/history", PS1="PS> ")
PROMPT = "PS> "

def cmd(t, line, want=None):
    t.send(line + "\n")
    if want:
        t.expect(want)
    t.expect(PROMPT)

def save_and_kill(pid, img):
    kids = children(pid)
    r = subprocess.run([BIN + "/ckpt-save", str(pid), img], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for p in [pid] + kids:
        os.kill(p, 9)
    try:
        os.waitpid(pid, 0)      # ours (the first bash); else ckpt-restart reaps it
    except ChildProcessError:
        pass
    wait_for(lambda: all(gone(p) for p in [pid] + kids), what="the tree gone")
    return kids

def restarted(t, pid):
    wait_for(lambda: not (slave_termios(t)[3] & termios.ICANON), what="the saved termios")
    wait_for(lambda: os.path.exists("/proc/%d" % pid), what="pid %d back" % pid)

def carries_on(t, pid, job):
    cmd(t, "echo FOO is $FOO", r"FOO is bar42\r\n")
    cmd(t, "jobs", r"\[1\]\+ +Running +sleep 1000 &")
    cmd(t, "history", r"\d+  FOO=bar42\r\n +\d+  sleep 1000 &\r\n +\d+  echo hist-marker")
    assert stat_fields(job)[2] == str(job), stat_fields(job)       # its own group
    # a foreground job gets the terminal, and bash gets it back after
    t.send("cat\n")
    t.expect(r"cat\r\n")
    wait_for(lambda: stat_fields(pid)[5] != str(pid), what="cat in the foreground")
    t.send("typed-line\n")
    t.expect(r"typed-line\r\ntyped-line\r\n")
    t.send("\x04")
    t.expect(PROMPT)
    cmd(t, "echo after-cat $((6*7))", r"after-cat 42\r\n")

def scenario():
    img1, img2 = TMP + "/bash1.img", TMP + "/bash2.img"
    a = Pty([BIN + "/ckpt-run", "bash", "--norc", "-i"], env=env)
    pid = a.pid
    a.expect(PROMPT)
    cmd(a, "FOO=bar42")
    a.send("sleep 1000 &\n")
    job = int(a.expect(r"\[1\] (\d+)").group(1))
    # (the job has exec'd sleep: a tree request that reaches a child in the
    # middle of its exec is a case of its own, not this test's)
    wait_for(lambda: open("/proc/%d/comm" % job).read().strip() == "sleep", what="sleep exec'd")
    a.expect(PROMPT)
    cmd(a, "echo hist-marker", r"hist-marker\r\n")
    save_and_kill(pid, img1)
    a.close()

    b = Pty([BIN + "/ckpt-restart", img1], env=env, rows=30, cols=100)
    restarted(b, pid)
    b.send("\n")
    b.expect(PROMPT)
    st = stat_fields(pid)
    assert st[1] == str(b.pid) and st[2:4] == [str(pid)] * 2 and st[5] == str(pid), st
    assert st[4] == str(os.stat(b.name).st_rdev), ("controlling terminal", st, b.name)
    carries_on(b, pid, job)
    save_and_kill(pid, img2)
    b.wait()

    c = Pty(["bash", "-c", BIN + "/ckpt-restart " + img2 + "; echo restart-rc=$?"], env=env)
    restarted(c, pid)
    c.send("\n")
    c.expect(PROMPT)
    st = stat_fields(pid)
    assert st[2] == str(pid) and st[3] == str(c.pid) and st[5] == str(pid), st
    carries_on(c, pid, job)
    c.send("exit\n")
    c.expect("restart-rc=0")
    c.wait()
    os.kill(job, 9)
    wait_for(lambda: gone(job) and gone(pid), what="the tree gone")

    # from an interactive shell (job control) on a new pty, as a user does
    d = Pty(["bash", "--norc", "-i"], env=dict(env, PS1="OUT> "))
    d.expect("OUT> ")
    d.send(BIN + "/ckpt-restart " + img2 + "; echo restart-rc=$?\n")
    restarted(d, pid)
    d.send("\n")
    d.expect(PROMPT)
    st = stat_fields(pid)
    assert st[2] == str(pid) and st[3] == str(d.pid) and st[5] == str(pid), st
    carries_on(d, pid, job)
    d.send("exit\n")
    d.expect("restart-rc=0")
    d.expect("OUT> ")                    # the shell has its terminal back
    d.send("echo outer-$((40+2))\n")
    d.expect("outer-42")
    os.kill(job, 9)
    d.send("exit\n")
    d.wait()

run(scenario)
EOF
