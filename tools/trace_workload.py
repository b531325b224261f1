"""A stdlib-heavy script whose allocations tools/trace_record.sh records.

Parses, formats, compresses and sorts: the object churn of a typical
Python program (dicts, lists, strings, small ints, regex objects).
"""
import collections
import csv
import decimal
import difflib
import io
import json
import random
import re
import textwrap
import zlib
from xml.etree import ElementTree

random.seed(42)
words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
rows = [{"id": i, "name": random.choice(words) * random.randint(1, 4),
         "value": random.random(), "tags": random.sample(words, 3)}
        for i in range(3000)]
text = json.dumps(rows)
back = json.loads(text)
counts = collections.Counter(w for r in back for w in r["tags"])
buf = io.StringIO()
writer = csv.DictWriter(buf, fieldnames=["id", "name", "value"], extrasaction="ignore")
writer.writeheader()
writer.writerows(back)
pattern = re.compile(r"(\w+?)(a+)")
found = [m.group(0) for m in pattern.finditer(buf.getvalue())]
root = ElementTree.Element("rows")
for r in back[:800]:
    ElementTree.SubElement(root, "row", id=str(r["id"])).text = r["name"]
xml = ElementTree.tostring(root)
packed = zlib.compress(xml)
total = sum(decimal.Decimal(str(r["value"])) for r in back)
wrapped = textwrap.fill(" ".join(found[:2000]), width=60)
diff = list(difflib.unified_diff(wrapped.splitlines()[:200], sorted(wrapped.splitlines()[:200])))
print(len(text), len(counts), len(found), len(packed), total.quantize(decimal.Decimal("1.00")), len(diff))
