"""python3 -m ckpt SCRIPT [ARGS...]: run SCRIPT in a Python with libckpt
preloaded (what `ckpt-run python3 SCRIPT` does), using ckpt.library():
$CKPT_LIB, else the libckpt.so installed with this module, else the
system's.  `python3 -m ckpt --library` prints that path."""
import os
import sys

import ckpt


def main():
    args = sys.argv[1:]
    lib = ckpt.library()
    if args[:1] == ["--library"]:
        if not lib:
            sys.exit("ckpt: no libckpt.so found (set CKPT_LIB or install libckpt)")
        print(lib)
        return
    if not args or args[0].startswith("-"):
        sys.exit("usage: python3 -m ckpt SCRIPT [ARGS...]   (or: python3 -m ckpt --library)")
    if not lib:
        sys.exit("ckpt: no libckpt.so found (set CKPT_LIB or install libckpt)")
    env = dict(os.environ)
    env["LD_PRELOAD"] = lib + (":" + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
    exe = sys.executable or "/usr/bin/python3"
    os.execve(exe, [exe] + args, env)


main()
