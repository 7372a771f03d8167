"""ptydrive.py - drives programs on a pty for the terminal tests (t_tty*.sh).

A Pty runs a command as the session leader of a new pty (its controlling
terminal, fds 0-2), as a terminal emulator or sshd does; the test types
into the master and waits for what the program writes, with a deadline:
no sleeps stand in for synchronisation.

    t = Pty(["ckpt-run", "bash", "--norc", "-i"], rows=24, cols=80)
    t.send("echo hi\\n")
    t.expect(r"hi\\r\\n")           # a regex over what came since the last match
    t.resize(30, 100)
"""
import errno
import fcntl
import os
import re
import select
import signal
import struct
import termios
import time


class Timeout(Exception):
    pass


class Pty:
    def __init__(self, argv, env=None, rows=24, cols=80):
        self.master, slave = os.openpty()
        self.name = os.ttyname(slave)       # /dev/pts/N
        self.resize(rows, cols)
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.close(self.master)
                os.setsid()
                fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
                for fd in range(3):
                    os.dup2(slave, fd)
                if slave > 2:
                    os.close(slave)
                os.closerange(3, 4096)
                os.execvpe(argv[0], argv, env if env is not None else os.environ)
            finally:
                os._exit(127)
        os.close(slave)
        self.rfd = self.wfd = self.master
        self.buf = b""      # what the program wrote and no expect() consumed yet
        self.log = b""      # everything, for failure messages
        self.status = None

    def resize(self, rows, cols):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def send(self, s):
        os.write(self.wfd, s.encode() if isinstance(s, str) else s)

    def _read(self, timeout):
        r, _, _ = select.select([self.rfd], [], [], max(timeout, 0))
        if not r:
            return False
        try:
            data = os.read(self.rfd, 65536)
        except OSError as e:
            if e.errno != errno.EIO:     # EIO: every slave fd is closed
                raise
            data = b""
        if not data:
            raise EOFError("the pty was closed; it said: %r" % self.log[-2000:])
        self.buf += data
        self.log += data
        return True

    def expect(self, pattern, timeout=20):
        """Waits until pattern (a regex, str or bytes) matches what came since the
        last match; returns the match and consumes through its end."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = end - time.monotonic()
            if left <= 0:
                raise Timeout("no /%s/ within %ds; the pty said: %r"
                              % (pattern.decode(errors="replace"), timeout, self.log[-2000:]))
            self._read(left)

    def drain(self, timeout=0.2):
        """Reads whatever is there (for the log); no waiting for anything in particular."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self._read(end - time.monotonic()):
            pass

    def wait(self, timeout=20):
        """Waits for the command's exit (reading the pty meanwhile): its wait status."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = st
                return st
            try:
                self._read(0.05)
            except EOFError:
                pass
        raise Timeout("pid %d did not exit; the pty said: %r" % (self.pid, self.log[-2000:]))

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        try:
            os.close(self.master)
        except OSError:
            pass


class Piped(Pty):
    """The same driving, for a command whose stdin and stdout are pipes (no terminal)."""

    def __init__(self, argv, env=None):
        rin, self.wfd = os.pipe()
        self.rfd, wout = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.dup2(rin, 0)
                os.dup2(wout, 1)
                os.dup2(wout, 2)
                os.closerange(3, 4096)
                os.execvpe(argv[0], argv, env if env is not None else os.environ)
            finally:
                os._exit(127)
        os.close(rin)
        os.close(wout)
        self.master = None
        self.buf = b""
        self.log = b""
        self.status = None

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass


def wait_for(cond, timeout=20, what="condition"):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise Timeout("timed out waiting for " + what)
        time.sleep(0.02)


def gone(pid):
    return not os.path.exists("/proc/%d" % pid)


def stat_fields(pid):
    """/proc/PID/stat after the comm: [state, ppid, pgrp, session, tty_nr, tpgid, ...]"""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    return s[s.rindex(")") + 2:].split()


def children(pid):
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def slave_termios(t):
    """The termios of t's pty as the program sees it (its slave, opened O_NOCTTY)."""
    fd = os.open(t.name, os.O_RDWR | os.O_NOCTTY)
    try:
        return termios.tcgetattr(fd)
    finally:
        os.close(fd)


def pts_of(t):
    return t.name


def run(scenario):
    """Runs scenario(); an exception is the test's failure, said on stdout (lib.sh's way)."""
    import traceback
    try:
        scenario()
    except Exception as e:     # noqa: BLE001 - every failure is reported the same way
        print("FAIL: %s: %s" % (type(e).__name__, e))
        traceback.print_exc(limit=3, file=__import__("sys").stdout)
        os._exit(1)
    os._exit(0)
