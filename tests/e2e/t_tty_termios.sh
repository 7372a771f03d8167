#!/bin/bash
# A program on a terminal (tests/e2e/progs/ttyprobe.c, on a pty made by
# tests/e2e/ptydrive.py as a terminal emulator would: its session
# leader, the pty its controlling terminal) with termios settings of its
# own (no ICANON, no ECHO, VINTR ^B, VERASE ^H, no ICRNL), fds 10 (a dup
# of 0) and 11 (/dev/tty) on the terminal, and a SIGWINCH counter.
# Checkpointed, killed, restarted on a NEW pty by ckpt-restart:
#  1. as the new pty's session leader (a handover): the process leads its
#     session again (getsid = getpgrp = its pid), the new pty is its
#     controlling terminal and its group is the foreground one, fds 0, 10
#     and 11 are on the new pty, the settings are its own, and since the
#     new pty is 50x132 (was 30x90) it got one SIGWINCH;
#  2. the same, on a pty of the saved size: no SIGWINCH;
#  3. from a shell on the new pty (a shell job): it joins the shell's
#     session (getsid = the shell's pid), leads its own group again and
#     is the foreground group.
# Also: ckpt-restart without a terminal refuses, naming the fd.
. "$(dirname "$0")/lib.sh"
IMG=$TMP/probe.img
export ROOT BIN PROGS TMP LIB IMG
python3 - <<'EOF'
import os, re, signal, subprocess, sys, termios
sys.path.insert(0, os.environ["ROOT"] + "/tests/e2e")
from ptydrive import *

BIN, PROGS, LIB, IMG = (os.environ[k] for k in ("BIN", "PROGS", "LIB", "IMG"))
env = dict(os.environ, LD_PRELOAD=LIB)
rx = (rb"T icanon=(\d) echo=(\d) icrnl=(\d) vintr=(\d+) verase=(\d+) vmin=(\d+) vtime=(\d+) "
      rb"rows=(\d+) cols=(\d+) winch=(\d+) sid=(\d+) pgrp=(\d+) fg=(-?\d+) fd10=(\S*) "
      rb"fd11=(\S*) same10=(\d) tty11=(\d)")

def query(t):
    t.send("q")
    m = t.expect(rx)
    return dict(zip("icanon echo icrnl vintr verase vmin vtime rows cols winch sid pgrp fg fd10 "
                    "fd11 same10 tty11".split(), [g.decode() for g in m.groups()]))

def want(got, **kw):
    for k, v in kw.items():
        if got[k] != str(v):
            raise AssertionError("%s is %s, want %s (all: %s)" % (k, got[k], v, got))

def restarted(t, pid):
    # the restart has set the saved termios on the new pty before the process runs
    wait_for(lambda: not (slave_termios(t)[3] & termios.ICANON), what="the saved termios")
    wait_for(lambda: os.path.exists("/proc/%d" % pid), what="pid %d back" % pid)

def scenario():
    a = Pty([PROGS + "/ttyprobe"], env=env, rows=24, cols=80)
    pid = int(a.expect(rb"READY pid=(\d+)").group(1))
    assert pid == a.pid
    q = query(a)
    want(q, icanon=0, echo=0, icrnl=0, vintr=2, verase=8, vmin=1, vtime=0, rows=24, cols=80,
         winch=0, sid=pid, pgrp=pid, fg=pid, fd10=pts_of(a), fd11="/dev/tty", same10=1, tty11=1)
    a.resize(30, 90)
    want(query(a), rows=30, cols=90, winch=1)
    r = subprocess.run([BIN + "/ckpt-save", str(pid), IMG], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "fd 0 (%s): a terminal (ckpt-info says where it restarts)" % a.name in r.stderr, r.stderr
    info = subprocess.run([BIN + "/ckpt-info", IMG], capture_output=True, text=True).stdout
    assert re.search(r"\n +11  tty +/dev/tty .*\n +/dev/tty of pty 136:\d+, 90x30, raw, no echo, "
                     r"controlling terminal of session %d, foreground group %d \(restarted on "
                     r"ckpt-restart's terminal\)" % (pid, pid), info), info
    a.close()
    wait_for(lambda: gone(pid), what="pid %d gone" % pid)

    # 1. ckpt-restart leads the new pty's session: it hands the terminal over
    b = Pty([BIN + "/ckpt-restart", IMG], rows=50, cols=132)
    restarted(b, pid)
    q = query(b)
    want(q, icanon=0, echo=0, icrnl=0, vintr=2, verase=8, vmin=1, vtime=0, rows=50, cols=132,
         winch=2, sid=pid, pgrp=pid, fg=pid, fd10=pts_of(b), fd11=pts_of(b), same10=1, tty11=1)
    st = stat_fields(pid)
    assert st[1] == str(b.pid) and st[4] == str(os.stat(pts_of(b)).st_rdev), st
    b.send("x")
    st = b.wait()
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st

    # 2. the saved size: no SIGWINCH
    c = Pty([BIN + "/ckpt-restart", IMG], rows=30, cols=90)
    restarted(c, pid)
    want(query(c), rows=30, cols=90, winch=1, sid=pid, fg=pid)
    c.send("x")
    c.wait()

    # 3. a shell's job: the shell keeps its session and terminal
    d = Pty(["bash", "-c", BIN + "/ckpt-restart " + IMG + "; echo restart-rc=$?"], rows=24, cols=80)
    restarted(d, pid)
    q = query(d)
    want(q, icanon=0, echo=0, vintr=2, rows=24, cols=80, winch=2, sid=d.pid, pgrp=pid, fg=pid,
         fd10=pts_of(d), same10=1, tty11=1)
    d.send("x")
    d.expect("restart-rc=0")
    d.wait()

run(scenario)
EOF
rc=$?
[ $rc -eq 0 ] || exit $rc

# no terminal at ckpt-restart's fds 0-2: refused, naming the fd and what to do
"$BIN/ckpt-restart" "$IMG" < /dev/null > "$TMP/noterm" 2>&1 && fail "restarted without a terminal"
grep -q "fd 0 was on a terminal (/dev/pts/[0-9]*), and ckpt-restart has none at its fds 0-2" "$TMP/noterm" ||
	fail "no terminal: $(cat "$TMP/noterm")"
exit 0
