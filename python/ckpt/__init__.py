"""ckpt - libckpt from Python: checkpoint the running interpreter.

    import ckpt

    if ckpt.save("snap.img", mappable=True) == ckpt.RESTORED:
        ...                 # we are a copy `ckpt-restart snap.img` made

    @ckpt.after_restart
    def reseed():
        random.seed()

Like fork(), ckpt.save() returns twice: ckpt.SAVED in the process that
saved the image, ckpt.RESTORED in every process restarted from it.  A
failure raises ckpt.CkptError (an OSError: .errno, and libckpt's message).

The interpreter must run with libckpt preloaded from its start:

    ckpt-run python3 app.py        (or: python3 -m ckpt app.py)

libckpt's wrappers (signals, threads, fds, memory) must be in place
before the program runs; a library loaded later by dlopen() (which is
what ctypes.CDLL would do) would miss everything done before it, so this
module never loads libckpt itself: it only binds to the copy the process
already has (ctypes over libckpt.so: libffi makes the calls).  Without it
ckpt.available() is False and ckpt.save() raises ckpt.NotLoaded, whose
message says to use ckpt-run.  ckpt.library() names the libckpt.so that
`python3 -m ckpt` would preload: $CKPT_LIB, else the one installed with
this module, else the system's.

Hooks (include/ckpt.h, ckpt_hook_add): functions run before a checkpoint
(they may veto it: raise an exception, or return False or a message),
after it in the process that goes on, and after a restart in the copy.
They run in a normal thread: ckpt.save()'s caller, or, for a checkpoint
from outside (ckpt-save, CKPT_SIGNAL, CKPT_INTERVAL, CKPT_ON_TERM),
libckpt's "ckpt-hooks" thread, which takes the GIL like any thread (so a
main thread busy in Python code is interrupted between bytecodes, as by
any other thread; one blocked in C code holding the GIL delays the hooks
and the checkpoint).
"""

import atexit
import ctypes
import ctypes.util
import errno as _errno
import os

__all__ = ["SAVED", "RESTORED", "BEFORE", "AFTER", "RESTART", "CkptError", "NotLoaded",
           "save", "available", "library", "last_error", "hook_add", "hook_remove",
           "before_checkpoint", "after_checkpoint", "after_restart"]

SAVED = 1           # CKPT_SAVED: the image is complete; this is the original
RESTORED = 2        # CKPT_RESTORED: this process was restarted from the image

BEFORE = 0x1        # CKPT_HOOK_BEFORE
AFTER = 0x2         # CKPT_HOOK_AFTER
RESTART = 0x4       # CKPT_HOOK_RESTART

_OPT_FSYNC = 0x1
_OPT_MAPPABLE = 0x2
_OPT_INCREMENTAL = 0x4
_OPT_FORK = 0x8

_RUN_HINT = ("run Python with libckpt preloaded from its start: "
             "`ckpt-run python3 SCRIPT` or `python3 -m ckpt SCRIPT`")


class CkptError(OSError):
    """A checkpoint failed: .errno, and libckpt's message as .strerror."""


class NotLoaded(CkptError):
    """libckpt is not loaded in this process (it was not started under ckpt-run)."""


class _Options(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint), ("reserved", ctypes.c_uint * 7)]


_HOOK_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                            ctypes.c_size_t)


def _maps_of(name_test):
    """[(start, end, path)] of the mappings whose file name passes name_test."""
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split(None, 5)
            if len(fields) < 6:
                continue
            path = fields[5].rstrip("\n")
            if name_test(os.path.basename(path)):
                lo, hi = fields[0].split("-")
                out.append((int(lo, 16), int(hi, 16), path))
    return out


def _bind():
    """(CDLL, None) for the libckpt.so in this process, or (None, why)."""
    maps = _maps_of(lambda b: b == "libckpt.so" or b.startswith("libckpt.so."))
    if not maps:
        lib = library()
        return None, ("libckpt is not loaded in this Python process%s; %s" %
                      (" (found %s, but loading it now is not supported: its wrappers "
                       "must be in place from the start)" % lib if lib else
                       " (and no libckpt.so found: set CKPT_LIB or install libckpt)",
                       _RUN_HINT))
    # Preloaded, its wrappers come first in the global scope: sigaction is
    # its own.  Loaded later by dlopen() (RTLD_LOCAL or not), libc's comes first.
    try:
        addr = ctypes.cast(ctypes.CDLL(None).sigaction, ctypes.c_void_p).value
    except AttributeError:
        addr = None
    hits = [p for lo, hi, p in maps if addr is not None and lo <= addr < hi]
    if not hits:
        return None, ("%s was loaded into this Python process after it started "
                      "(dlopen, ctypes.CDLL), which libckpt does not support: its wrappers "
                      "must be in place from the start; %s" % (maps[0][2], _RUN_HINT))
    path = hits[0]
    try:
        # RTLD_NOLOAD: a handle on the copy that is there, never a new one.
        lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD, use_errno=True)
        lib.ckpt_save_v1, lib.ckpt_last_error_v1, lib.ckpt_hook_add_v1, lib.ckpt_hook_remove_v1
    except (OSError, AttributeError) as e:      # an older libckpt (no hooks): say so
        return None, "%s is mapped but cannot be used (%s); %s" % (path, e, _RUN_HINT)
    lib.ckpt_save_v1.argtypes = [ctypes.c_char_p, ctypes.POINTER(_Options)]
    lib.ckpt_save_v1.restype = ctypes.c_int
    lib.ckpt_last_error_v1.argtypes = []
    lib.ckpt_last_error_v1.restype = ctypes.c_char_p
    for f in (lib.ckpt_hook_add_v1, lib.ckpt_hook_remove_v1):
        f.argtypes = [ctypes.c_int, _HOOK_FN, ctypes.c_void_p]
        f.restype = ctypes.c_int
    return lib, None


def available():
    """True when libckpt is loaded in this process (ckpt.save() can work)."""
    return _lib is not None


def library():
    """The libckpt.so `python3 -m ckpt` preloads: the path, or None.

    $CKPT_LIB, else the one installed with this module (PREFIX/lib, or the
    build tree's build/ for python/ckpt), else the system's (ldconfig)."""
    env = os.environ.get("CKPT_LIB")
    if env:
        return os.path.abspath(env) if os.path.exists(env) else None
    here = os.path.dirname(os.path.abspath(__file__))
    # PREFIX/lib/python3/dist-packages/ckpt, and SRC/python/ckpt
    for cand in (os.path.join(here, "..", "..", "..", "libckpt.so"),
                 os.path.join(here, "..", "..", "build", "libckpt.so")):
        if os.path.exists(cand):
            return os.path.realpath(cand)
    name = ctypes.util.find_library("ckpt")
    for d in ("/usr/local/lib", "/usr/lib", "/usr/lib/x86_64-linux-gnu"):
        cand = os.path.join(d, name or "libckpt.so")
        if os.path.exists(cand):
            return cand
    return None


_lib, _why = _bind()


def _need():
    if _lib is None:
        raise NotLoaded(_errno.ENOSYS, _why)
    return _lib


def last_error():
    """Why the last failed checkpoint of this thread failed (libckpt's words)."""
    if _lib is None:
        return _why
    return _lib.ckpt_last_error_v1().decode(errors="replace")


def save(path, mappable=False, fsync=False, fork=False, incremental=False):
    """Checkpoint this process into `path`; ckpt.SAVED or ckpt.RESTORED.

    mappable: memory stored page aligned, mapped from the file by
    ckpt-restart (fast start); fsync: on disk before returning; fork: return
    as soon as the state is captured while a copy writes the image;
    incremental: only the pages written since this process's previous
    image (its parent).  See include/ckpt.h.  Raises CkptError (errno and
    libckpt's message) on failure; nothing is left under path then.  The
    BEFORE, AFTER and RESTART hooks run in this thread."""
    lib = _need()
    opts = _Options()
    opts.flags = ((_OPT_MAPPABLE if mappable else 0) | (_OPT_FSYNC if fsync else 0) |
                  (_OPT_FORK if fork else 0) | (_OPT_INCREMENTAL if incremental else 0))
    # ctypes releases the GIL for the call: the hooks take it back.
    r = lib.ckpt_save_v1(os.fsencode(path), ctypes.byref(opts))
    if r in (SAVED, RESTORED):
        return r
    err = ctypes.get_errno()
    raise CkptError(err, lib.ckpt_last_error_v1().decode(errors="replace"))


# --- hooks --------------------------------------------------------------
# Each Python hook has its own C thunk, kept here while it is registered
# (a collected CFUNCTYPE object would leave libckpt calling freed code).
_hooks = {}


def _unhook_all():
    """At exit, before the interpreter is finalized: a checkpoint from
    outside then must not call into Python (ctypes thunks need it alive)."""
    # The thunks stay referenced here: a hook already under way keeps its code.
    for (when, fn), thunk in list(_hooks.items()):
        _lib.ckpt_hook_remove_v1(when, thunk, None)


atexit.register(_unhook_all)


def _fill(msg, msglen, text):
    data = text.encode(errors="replace")[:max(msglen - 1, 0)]
    ctypes.memmove(msg, data + b"\0", len(data) + 1)


def _thunk(fn, call):
    name = getattr(fn, "__qualname__", repr(fn))

    def run(when, arg, msg, msglen):
        try:
            r = call(when)
        except BaseException as e:      # never into libffi: it would print and return 0
            _fill(msg, msglen, "%s raised %s: %s" % (name, type(e).__name__, e))
            return 1
        if r is False:
            _fill(msg, msglen, "%s returned False" % name)
            return 1
        if isinstance(r, str):
            _fill(msg, msglen, r or "%s returned an empty message" % name)
            return 1
        return 0
    return _HOOK_FN(run)


def hook_add(when, fn):
    """Run fn(event) at each event of the mask `when` (ckpt.BEFORE, AFTER,
    RESTART, or'ed).  A BEFORE hook that raises, or returns False or a
    message (str), vetoes the checkpoint with that message (CkptError with
    errno ECANCELED from ckpt.save(); ckpt-save reports it).  BEFORE hooks
    run newest first, AFTER and RESTART oldest first.  Returns fn."""
    _add(when, fn, lambda ev: fn(ev))
    return fn


def _add(when, fn, call):
    lib = _need()
    key = (when, fn)
    if key in _hooks:
        raise ValueError("hook %r is already registered for %#x" % (fn, when))
    thunk = _thunk(fn, call)
    if lib.ckpt_hook_add_v1(when, thunk, None) < 0:
        err = ctypes.get_errno()
        raise CkptError(err, "ckpt_hook_add: %s" % os.strerror(err))
    _hooks[key] = thunk


def hook_remove(when, fn):
    """Undo hook_add(when, fn) (or a decorator's registration of fn)."""
    lib = _need()
    thunk = _hooks.get((when, fn))
    if thunk is None:
        raise ValueError("hook %r is not registered for %#x" % (fn, when))
    if lib.ckpt_hook_remove_v1(when, thunk, None) < 0:
        err = ctypes.get_errno()
        raise CkptError(err, "ckpt_hook_remove: %s" % os.strerror(err))
    del _hooks[(when, fn)]


def before_checkpoint(fn):
    """Decorator: fn() runs before every checkpoint; raise, or return False
    or a message, to veto it."""
    _add(BEFORE, fn, lambda ev: fn())
    return fn


def after_checkpoint(fn):
    """Decorator: fn() runs after every checkpoint whose BEFORE hooks ran,
    in the process that goes on (image made, failed or vetoed)."""
    _add(AFTER, fn, lambda ev: fn())
    return fn


def after_restart(fn):
    """Decorator: fn() runs in a process restarted from an image."""
    _add(RESTART, fn, lambda ev: fn())
    return fn
