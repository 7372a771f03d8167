#!/bin/bash
# Terminals the image cannot hold are refused by name at the checkpoint,
# and a restart that cannot give the process its pty back is refused by
# name:
#  - a second terminal (another pty, its master outside the image) held
#    by a process whose controlling terminal is another one;
#  - a terminal above fd 2 in a process without a controlling terminal;
#  - a serial line (/dev/ttyS0), where the machine has one that opens;
#  - at restart, the number of a pty the tree made taken by another
#    program (/dev/pts/N exists): refused, naming it; restarted once free.
. "$(dirname "$0")/lib.sh"
export ROOT BIN TMP LIB PROGS
python3 - <<'EOF'
import os, re, subprocess, sys
sys.path.insert(0, os.environ["ROOT"] + "/tests/e2e")
from ptydrive import *

BIN, TMP, LIB, PROGS = (os.environ[k] for k in ("BIN", "TMP", "LIB", "PROGS"))
env = dict(os.environ, LD_PRELOAD=LIB, TERM="dumb", PS1="PS> ", HISTFILE=TMP + "/h")

def refused(pid, rx):
    r = subprocess.run([BIN + "/ckpt-save", str(pid), TMP + "/no.img"], capture_output=True,
                       text=True)
    assert r.returncode == 5 and re.search(rx, r.stderr), (r.returncode, r.stderr)
    assert not os.path.exists(TMP + "/no.img")

def scenario():
    other_m, other_s = os.openpty()          # a terminal outside the image
    other = os.ttyname(other_s)
    a = Pty(["bash", "--norc", "-c", "exec 7<>%s; echo READY; read x" % other], env=env)
    a.expect("READY")
    refused(a.pid, r"fd 7 \(%s\) is a terminal that is not the controlling terminal of the "
                   r"process \(device 136:\d+\): a restart brings back one terminal" % other)
    a.close()

    b = Piped(["bash", "--norc", "-c", "exec 7<>%s; echo READY; read x" % other], env=env)
    b.expect("READY")
    refused(b.pid, r"fd 7 \(%s\) is a terminal, and the process has no controlling terminal: "
                   r"only one at fds 0-2 is restarted" % other)
    b.close()

    try:
        fd = os.open("/dev/ttyS0", os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        import termios
        termios.tcgetattr(fd)
        os.close(fd)
        serial = True
    except OSError:
        serial = False
    except Exception:
        serial = False
    if serial:
        c = Pty(["bash", "--norc", "-c", "exec 7<>/dev/ttyS0; echo READY; read x"], env=env)
        c.expect("READY")
        refused(c.pid, r"fd 7 \(/dev/ttyS0\) is terminal device 4:64, a serial line or another "
                       r"tty driver")
        c.close()
    else:
        print("note: no /dev/ttyS0 that opens here: the serial refusal is not tried")

    # the number of a pty the tree made, taken at restart
    img = TMP + "/pty.img"
    d = Piped([PROGS + "/ptypair", "bash", "--norc", "-i"], env=env)
    m = d.expect(rb"READY pid=(\d+) child=(\d+) pts=(/dev/pts/\d+)")
    pid, bash, pts = int(m.group(1)), int(m.group(2)), m.group(3).decode()
    d.expect("PS> ")
    r = subprocess.run([BIN + "/ckpt-save", str(pid), img], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    os.kill(bash, 9)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    d.close()
    wait_for(lambda: gone(bash) and gone(pid), what="the tree gone")
    held = []
    while True:                               # another program gets that number
        mm, ss = os.openpty()
        held.append((mm, ss))
        if os.ttyname(ss) == pts:
            break
        assert len(held) < 200, "never got " + pts
    r = subprocess.run([BIN + "/ckpt-restart", img], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 4 and re.search(r"pty %s, which the process made, is taken by "
                                           r"another program now \(%s exists\)"
                                           % (pts.split("/")[-1], pts), r.stderr), r
    for mm, ss in held:
        os.close(mm)
        os.close(ss)
    e = Piped([BIN + "/ckpt-restart", img], env=env)
    wait_for(lambda: os.path.exists("/proc/%d" % bash), what="bash back")
    e.send("tty\n")
    e.expect(pts + "\r\n")
    e.close()

run(scenario)
EOF
