"""pyckpt_api.py - the ckpt Python module, driven by t_python_api.sh.

  pyckpt_api.py self IMG     hooks A (hook_add, every event) and B
                             (decorators); ckpt.save(IMG): prints each
                             hook as it runs (with its thread's name), then
                             SAVED (or RESTORED in a restarted copy)
  pyckpt_api.py errors DIR   every failure ckpt.save() reports, one line each
  pyckpt_api.py serve DIR    hooks, then the main thread spins in Python
                             code until DIR/go appears; a before hook
                             vetoes while DIR/veto exists
  pyckpt_api.py absent       ckpt without libckpt in the process
  pyckpt_api.py late LIB     ctypes.CDLL(LIB) first: libckpt loaded late
"""
import ctypes
import errno
import os
import sys
import threading
import time

sys.stdout.reconfigure(line_buffering=True)


def comm():
    with open("/proc/thread-self/comm") as f:
        return f.read().strip()


def say(*words):
    print(*words, flush=True)


def self_mode(img):
    import ckpt

    def a(event):
        say("HOOK A", {ckpt.BEFORE: "before", ckpt.AFTER: "after", ckpt.RESTART: "restart"}[event],
            comm())
    ckpt.hook_add(ckpt.BEFORE | ckpt.AFTER | ckpt.RESTART, a)

    @ckpt.before_checkpoint
    def b_before():
        say("HOOK B before", comm())

    @ckpt.after_checkpoint
    def b_after():
        say("HOOK B after", comm())

    @ckpt.after_restart
    def b_restart():
        say("HOOK B restart", comm())

    r = ckpt.save(img)
    say({ckpt.SAVED: "SAVED", ckpt.RESTORED: "RESTORED"}.get(r, "BAD %r" % r),
        "available", ckpt.available())


def attempt(what, path, **kw):
    import ckpt
    try:
        r = ckpt.save(path, **kw)
    except ckpt.CkptError as e:
        say("%s: CkptError errno %s: %s | exists %s" % (what, errno.errorcode.get(e.errno, e.errno),
                                                       e.strerror, os.path.exists(path)))
        return
    say("%s: returned %r" % (what, r))


def errors_mode(d):
    import ckpt
    attempt("badpath", "/nonexistent-ckpt-dir/x.img")
    fd = os.open("/proc/self/ns/net", os.O_RDONLY)
    attempt("nsfd", os.path.join(d, "ns.img"))
    os.close(fd)

    def raising():
        raise RuntimeError("the database is in the middle of a transaction")
    ckpt.before_checkpoint(raising)
    attempt("raise", os.path.join(d, "raise.img"))
    ckpt.hook_remove(ckpt.BEFORE, raising)

    @ckpt.before_checkpoint
    def no():
        return False
    attempt("false", os.path.join(d, "false.img"))
    ckpt.hook_remove(ckpt.BEFORE, no)

    def message_hook(event):
        return "the log is not flushed"
    ckpt.hook_add(ckpt.BEFORE, message_hook)
    after = []

    def count():
        after.append(1)
    ckpt.after_checkpoint(count)
    attempt("str", os.path.join(d, "str.img"))
    say("after hooks ran:", len(after))
    ckpt.hook_remove(ckpt.BEFORE, message_hook)
    ckpt.hook_remove(ckpt.AFTER, count)
    attempt("clean", os.path.join(d, "clean.img"), mappable=True, fsync=True)
    try:
        ckpt.hook_remove(ckpt.BEFORE, message_hook)
    except ValueError as e:
        say("remove unknown: ValueError:", e)


def serve_mode(d):
    import ckpt
    state = {"n": 0}

    @ckpt.before_checkpoint
    def before():
        # the main thread runs on, in its loop, while this hook runs
        seen = state["n"]
        deadline = time.monotonic() + 10
        while state["n"] == seen and time.monotonic() < deadline:
            time.sleep(0.001)
        say("HOOK before", comm(), "main ran on:", "yes" if state["n"] != seen else "no")
        if os.path.exists(os.path.join(d, "veto")):
            return "the database is in the middle of a transaction"

    @ckpt.after_checkpoint
    def after():
        say("HOOK after", comm())

    @ckpt.after_restart
    def restart():
        say("HOOK restart", comm())

    go = os.path.join(d, "go")
    say("READY")
    n = 0
    while True:             # Python code that never blocks: holds the GIL
        n += 1              # but for the interpreter's switch interval
        if n % 20000 == 0:
            state["n"] = n
        # The go file is looked at rarely (every ~0.1 s): os.path.exists
        # releases the GIL, and a main thread that released and retook it
        # every millisecond would wake the hook thread's GIL wait before its
        # 5 ms interval ran out each time, so that it never asked for the
        # GIL and starved (CPython's GIL convoy, seen on an idle machine).
        if n % 2000000 == 0 and os.path.exists(go):
            break
    say("DONE", n, "main thread", comm())


def absent_mode():
    import ckpt
    say("available", ckpt.available())
    try:
        ckpt.save("/tmp/never.img")
    except ckpt.NotLoaded as e:
        say("NotLoaded errno", errno.errorcode[e.errno], e.strerror)


def late_mode(lib):
    ctypes.CDLL(lib)
    absent_mode()


mode = sys.argv[1]
if mode == "self":
    self_mode(sys.argv[2])
elif mode == "errors":
    errors_mode(sys.argv[2])
elif mode == "serve":
    serve_mode(sys.argv[2])
elif mode == "absent":
    absent_mode()
elif mode == "late":
    late_mode(sys.argv[2])
else:
    sys.exit("usage: pyckpt_api.py self IMG | errors DIR | serve DIR | absent | late LIB")
assert threading.current_thread() is threading.main_thread()
