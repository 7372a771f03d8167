# A Python program with a child Python (subprocess.Popen: fork, then exec
# of the interpreter) on two pipes, and a shell it runs now and then
# (subprocess.run: sh -c, which forks and execs): the parent sends 1, 2,
# 3, ... and the child answers each running sum, which the parent checks.
# Prints READY after 2000 exchanges, then "DONE ok N SUM" once the file
# argv[1] exists.  (e2e t_tree_python)
import os
import subprocess
import sys

CHILD = """
import sys
n = 0
for line in sys.stdin:
    n += int(line)
    print(n, flush=True)
"""

go = sys.argv[1]
child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
total = 0
i = 0
while True:
    i += 1
    child.stdin.write(f"{i}\n")
    child.stdin.flush()
    got = int(child.stdout.readline())
    total += i
    if got != total:
        print(f"BAD: exchange {i}: the child says {got}, not {total}", flush=True)
        sys.exit(1)
    if i % 500 == 0:
        r = subprocess.run(["/bin/sh", "-c", f"echo $(({i} + 1))"],
                           capture_output=True, text=True)
        if r.stdout.strip() != str(i + 1):
            print(f"BAD: sh -c said {r.stdout!r}", flush=True)
            sys.exit(1)
    if i == 2000:
        print("READY", flush=True)
    if os.path.exists(go):
        child.stdin.close()
        rc = child.wait()
        print(f"DONE {'ok' if rc == 0 else 'child rc %d' % rc} {i} {got}", flush=True)
        break
