"""vedalloc bench — prog:python: a standard-library-heavy script.

Run by `compare --suite=programs` as `/usr/bin/python3 -s stdlib.py` under
every allocator (LD_PRELOAD). Deterministic: fixed seeds, PYTHONHASHSEED=0
from the driver, and nothing printed depends on set order or addresses, so
its stdout must be byte-identical under every allocator. Each phase churns
the allocator a different way: nested containers (json), many short strings
(re, str ops), dicts growing and shrinking (collections), big lists (sort).
"""
import collections
import hashlib
import heapq
import json
import random
import re
import sys

ROUNDS = 2


def nested(rng, depth):
    """A random JSON-able tree of dicts, lists, strings and numbers."""
    if depth == 0:
        k = rng.randrange(4)
        if k == 0:
            return rng.randrange(1 << 30)
        if k == 1:
            return rng.random()
        if k == 2:
            return "".join(rng.choice("abcdefghij") for _ in range(rng.randrange(1, 24)))
        return None
    if rng.randrange(2):
        return {"k%d" % rng.randrange(500): nested(rng, depth - 1) for _ in range(rng.randrange(1, 7))}
    return [nested(rng, depth - 1) for _ in range(rng.randrange(1, 7))]


def phase_json(rng, digest):
    docs = [nested(rng, 5) for _ in range(40)]
    for _ in range(4):
        text = json.dumps(docs, sort_keys=True)
        docs = json.loads(text)
    digest.update(text.encode())
    return len(text)


WORD = re.compile(r"[a-z]+")
NUM = re.compile(r"\b(\d+)\.(\d+)\b")


def phase_text(rng, digest):
    words = ["".join(rng.choice("etaoinshrdlu") for _ in range(rng.randrange(2, 11)))
             for _ in range(3000)]
    lines = [" ".join(rng.choice(words) for _ in range(12)) + " %d.%d" % (i, i * 7 % 100)
             for i in range(8000)]
    counts = collections.Counter()
    out = []
    for line in lines:
        counts.update(WORD.findall(line))
        out.append(NUM.sub(lambda m: m.group(2) + ":" + m.group(1), line.upper()))
    joined = "\n".join(out)
    digest.update(joined.encode())
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    digest.update(repr(top).encode())
    return len(joined)


def phase_dicts(rng, digest):
    table = {}
    groups = collections.defaultdict(list)
    order = collections.OrderedDict()
    total = 0
    for i in range(60000):
        key = "key-%d" % rng.randrange(40000)
        table[key] = table.get(key, "") + chr(97 + i % 26)
        if len(table[key]) > 20:
            del table[key]
        groups[i % 997].append((key, i))
        order[key] = i
        if len(order) > 5000:
            order.popitem(last=False)
        total += len(key)
    digest.update(repr(sorted(table.items())[:500]).encode())
    digest.update(repr([len(groups[g]) for g in range(997)]).encode())
    digest.update(repr(list(order.items())[-50:]).encode())
    return total


def phase_sort(rng, digest):
    rows = [(rng.randrange(1000), "r%06d" % rng.randrange(10 ** 6), rng.random())
            for _ in range(50000)]
    rows.sort()
    by_name = sorted(rows, key=lambda r: (r[1], r[0]))
    smallest = heapq.nsmallest(100, rows, key=lambda r: r[2])
    digest.update(repr(rows[::997]).encode())
    digest.update(repr(by_name[::991]).encode())
    digest.update(repr(smallest).encode())
    return len(rows)


def main():
    digest = hashlib.sha256()
    sizes = []
    for r in range(ROUNDS):
        rng = random.Random(42 + r)
        sizes.append((phase_json(rng, digest), phase_text(rng, digest),
                      phase_dicts(rng, digest), phase_sort(rng, digest)))
    for s in sizes:
        print(*s)
    print(digest.hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main())
