# Python multiprocessing, as programs use it: a Pool of 3 workers (start
# method argv[2]: fork or spawn) fed through its task pipe, whose readers
# share a lock (a POSIX semaphore: with fork, a file in /dev/shm deleted
# at once and mapped by every process), and a shared counter (a Value in
# the multiprocessing heap: another deleted /dev/shm file, mapped shared)
# that every task adds to under the Value's lock.  Each round's results
# and the counter are checked: a lock or counter that is no longer one
# object in every process loses adds or corrupts the pipe's messages.
# READY after 3 rounds; "DONE ok ROUNDS" once the file argv[1] exists.
# (e2e t_tree_python)
import multiprocessing as mp
import os
import sys

ADDS = 200


def setup(counter):
    global shared
    shared = counter


def work(x):
    s = 0
    for i in range(5000):
        s = (s * 31 + x + i) % 1000003
    for _ in range(ADDS):
        with shared.get_lock():
            shared.value += 1
    return s


def expect(n):
    out = []
    for x in range(n):
        s = 0
        for i in range(5000):
            s = (s * 31 + x + i) % 1000003
        out.append(s)
    return out


if __name__ == "__main__":
    mp.set_start_method(sys.argv[2])
    go = sys.argv[1]
    counter = mp.Value("q", 0)
    ref = expect(24)
    with mp.Pool(3, initializer=setup, initargs=(counter,)) as pool:
        rounds = 0
        while True:
            if pool.map(work, range(24), chunksize=2) != ref:
                print("BAD: wrong results", flush=True)
                sys.exit(1)
            rounds += 1
            if counter.value != rounds * 24 * ADDS:
                print(f"BAD: counter {counter.value}, not {rounds * 24 * ADDS}", flush=True)
                sys.exit(1)
            if rounds == 3:
                print("READY", flush=True)
            if os.path.exists(go):
                print(f"DONE ok {rounds}", flush=True)
                break
