"""vedalloc drop-in: a stdlib-heavy workload whose output must not depend on
the allocator. Run under LD_PRELOAD=libvedalloc.so and under glibc; the two
outputs are compared byte for byte (preload_test.sh).

Exercises: json (dumps/loads of nested data), re (compile, findall, sub),
sorting (keys, stability), threads (workers building and freeing objects,
results gathered in a fixed order), plus str/bytes/dict/list churn and
hashlib over the results.
"""
import collections
import hashlib
import json
import random
import re
import sys
import threading
import zlib

rng = random.Random(20240601)
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
         "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi"]


def make_record(i):
    return {
        "id": i,
        "name": " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))),
        "score": rng.random() * 1000,
        "tags": [rng.choice(WORDS) for _ in range(rng.randint(0, 8))],
        "nested": {"depth": [list(range(rng.randint(0, 20))) for _ in range(3)]},
        "blob": "x" * rng.randint(0, 3000),
    }


def section_json():
    data = [make_record(i) for i in range(6000)]
    text = json.dumps(data, sort_keys=True)
    back = json.loads(text)
    assert back == data
    print("json", len(text), hashlib.sha256(text.encode()).hexdigest()[:16])
    return back


def section_re(records):
    text = "\n".join(r["name"] + " " + " ".join(r["tags"]) for r in records) * 3
    pat = re.compile(r"\b(\w*ta)\b\s+(\w+)")
    pairs = pat.findall(text)
    counts = collections.Counter(a + ":" + b for a, b in pairs)
    subbed = re.sub(r"(a)(\w)", lambda m: m.group(2).upper() + m.group(1), text)
    print("re", len(pairs), counts.most_common(3), zlib.crc32(subbed.encode()))


def section_sort(records):
    by_score = sorted(records, key=lambda r: (-round(r["score"]), r["id"]))
    by_name = sorted(records, key=lambda r: (r["name"], len(r["blob"])))
    strings = sorted("%08.3f:%s" % (r["score"], r["name"]) for r in records)
    print("sort", [r["id"] for r in by_score[:8]], [r["id"] for r in by_name[:8]],
          hashlib.md5("".join(strings).encode()).hexdigest())


def worker(idx, out):
    local = random.Random(idx)
    acc = hashlib.sha1()
    keep = []
    for round_ in range(300):
        objs = [bytes(local.randrange(256) for _ in range(local.randint(1, 200)))
                for _ in range(50)]
        d = {o[:4]: o for o in objs}
        keep.append(b"".join(sorted(d.values())))
        if len(keep) > 20:
            keep.pop(0)
        acc.update(keep[-1])
    out[idx] = acc.hexdigest()


def section_threads():
    out = [None] * 8
    threads = [threading.Thread(target=worker, args=(i, out)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("threads", hashlib.sha256("".join(out).encode()).hexdigest()[:16])


def section_churn():
    d = {}
    for i in range(200000):
        d["k%d" % (i * 7919 % 100003)] = [i] * (i % 7)
        if i % 3 == 0:
            d.pop("k%d" % (i * 31 % 100003), None)
    s = sum(len(v) for v in d.values())
    print("churn", len(d), s)


records = section_json()
section_re(records)
section_sort(records)
section_threads()
section_churn()
sys.stdout.flush()
