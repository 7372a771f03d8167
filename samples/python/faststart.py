"""faststart.py - a Python service that starts from a snapshot.

    python3 faststart.py [--words N] < queries            cold start
    ckpt-run python3 faststart.py --snapshot SNAP [--words N] < queries
    ckpt-restart --inherit-fd 0,1,2 SNAP < queries          from the snapshot

(samples/python/faststart.sh runs and times all three: `make faststart`.)

Start-up is what a real service pays: heavy imports (json, email,
asyncio, decimal, numpy) and a "model" loaded once - a vocabulary of N
made-up words (default 200000), each with a 32-dimensional embedding
trained for a second or so (numpy, and Python loops over the words).
With --snapshot the service saves itself there (ckpt.save, mappable)
once the model is ready, and every later instance is
`ckpt-restart SNAP`: it starts where ckpt.save() returned, with the
modules imported and the model in memory, mapped from the snapshot.

Queries, one a line on stdin, answers one a line on stdout (JSON):
    word K           the K-th word of the vocabulary
    near WORD K      the K words nearest to WORD (cosine), with scores
    sum WORD...      the embedding sum's norm (decimal, 6 places)
The answers depend on the model only, so a restarted instance answers
exactly like a cold start.  What must differ between instances - a
random generator - is reseeded by an after_restart hook: each instance
prints its own "instance" token on stderr, which without the hook
(--no-reseed) every copy of one snapshot would share.

On stderr: the phases' times, "first_answer_at_ns T" (CLOCK_REALTIME)
for the timing script and, in a restarted copy, "resumed_at_ns T" as
ckpt.save() returns there (after the restart hooks).
"""
import sys
import time

import asyncio  # noqa: F401  (the service's heavy imports: start-up cost)
import decimal
import email.parser  # noqa: F401
import email.policy  # noqa: F401
import json
import random

import numpy as np

DIM = 32
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "be", "do", "fa", "gu",
             "hi", "jo", "pe", "qu", "ri", "su", "ta", "ze"]


def build(n):
    """The model: words (a list and an index) and unit embeddings (n x DIM)."""
    words, index = [], {}
    x = 12345
    while len(words) < n:          # a deterministic LCG spells the words
        x = (x * 1103515245 + 12345) % 2147483648
        k, w = 2 + x % 4, []
        y = x
        for _ in range(k):
            w.append(SYLLABLES[y % len(SYLLABLES)])
            y //= len(SYLLABLES)
        word = "".join(w) + str(len(words) % 97)
        if word not in index:
            index[word] = len(words)
            words.append(word)
    rng = np.random.Generator(np.random.PCG64(2026))
    emb = rng.standard_normal((n, DIM), dtype=np.float32)
    # "training": each word pulled towards its neighbours in spelling order
    for _ in range(12):
        emb = emb + 0.3 * np.roll(emb, 1, axis=0) + 0.2 * np.roll(emb, -7, axis=0)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    # and a per-word bias from Python code over every word (a tokenizer's tables)
    bias = np.array([sum(map(ord, w)) % 17 / 170.0 for w in words], dtype=np.float32)
    emb[:, 0] += bias
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return words, index, emb


def answer(line, words, index, emb):
    q = line.split()
    if len(q) == 2 and q[0] == "word" and q[1].isdigit() and int(q[1]) < len(words):
        return json.dumps({"word": words[int(q[1])]})
    if len(q) == 3 and q[0] == "near" and q[1] in index and q[2].isdigit():
        k = min(int(q[2]), len(words) - 1)
        sims = emb @ emb[index[q[1]]]
        best = np.argpartition(-sims, k)[:k + 1]
        best = best[np.argsort(-sims[best], kind="stable")]
        return json.dumps({"near": [[words[i], round(float(sims[i]), 4)]
                                    for i in best if i != index[q[1]]][:k]})
    if len(q) >= 2 and q[0] == "sum" and all(w in index for w in q[1:]):
        v = sum(emb[index[w]].astype(np.float64) for w in q[1:])
        norm = decimal.Decimal(float(np.sqrt(v @ v))).quantize(decimal.Decimal("0.000001"))
        return json.dumps({"sum": str(norm)})
    return json.dumps({"error": "bad query", "query": line.strip()})


def main():
    args = sys.argv[1:]
    snap, n, reseed_hook = None, 200000, True
    while args:
        if args[0] == "--snapshot" and len(args) > 1:
            snap, args = args[1], args[2:]
        elif args[0] == "--no-reseed":     # to see what the hook is for
            reseed_hook, args = False, args[1:]
        elif args[0] == "--words" and len(args) > 1 and args[1].isdigit():
            n, args = int(args[1]), args[2:]
        else:
            sys.exit("usage: faststart.py [--snapshot PATH [--no-reseed]] [--words N]")
    t0 = time.monotonic()
    words, index, emb = build(n)
    t1 = time.monotonic()
    print("faststart.py: model of %d words built in %.0f ms" % (n, (t1 - t0) * 1e3),
          file=sys.stderr)
    if snap:
        import ckpt

        if reseed_hook:
            @ckpt.after_restart
            def reseed():
                random.seed()       # from os.urandom: each instance its own

        r = ckpt.save(snap, mappable=True)
        if r == ckpt.SAVED:
            print("faststart.py: snapshot %s saved in %.0f ms" %
                  (snap, (time.monotonic() - t1) * 1e3), file=sys.stderr)
        else:
            print("resumed_at_ns %d" % time.time_ns(), file=sys.stderr)
            print("faststart.py: started from the snapshot %s" % snap, file=sys.stderr)
    print("faststart.py: instance %08x" % random.getrandbits(32), file=sys.stderr)
    first = True
    for line in sys.stdin:
        print(answer(line, words, index, emb), flush=True)
        if first:
            print("first_answer_at_ns %d" % time.time_ns(), file=sys.stderr, flush=True)
            first = False


if __name__ == "__main__":
    main()
