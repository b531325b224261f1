#!/usr/bin/env python3
"""mutants.py — the helper of tools/mutate.sh: reads the mutant catalogue
(tools/mutants.txt, format in mutate.sh's header), applies and reverts one
mutant in a scratch tree, parses harness logs, prints the result table.

  mutants.py CAT ids                       every id, in catalogue order
  mutants.py CAT list                      the catalogue as a table
  mutants.py CAT get ID FIELD              one field (class file fuzz props desc)
  mutants.py CAT check ROOT [ID...]        does each snippet occur exactly once?
  mutants.py CAT apply ID ROOT             apply (exit 3: DOES NOT APPLY)
  mutants.py CAT revert ID ROOT            put the file back
  mutants.py - stamp                       copy stdin to stdout, each line
                                           prefixed by seconds since start;
                                           exits after the first props failure
                                           report (so the run stops there)
  mutants.py - fuzzlog LOG                 "invariant<TAB>ops" of a fuzzer crash
  mutants.py - propslog LOG                "prop<TAB>invariant<TAB>secs<TAB>ops"
  mutants.py - table RESULTS BUDGET        the table and the total line;
                                           exit 1 unless all caught in time
Standard library only.
"""
import os
import re
import sys
import time

FIELDS = ("class", "file", "fuzz", "props", "desc")


def parse(path):
    """The catalogue as a list of dicts, in file order."""
    muts, cur, mode, lines = [], None, None, None
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if mode in ("from", "to"):
                if line == "@@to" and mode == "from":
                    cur["from"] = "\n".join(lines)
                    mode, lines = "to", []
                    continue
                if line == "@@end" and mode == "to":
                    cur["to"] = "\n".join(lines)
                    mode, lines = None, None
                    continue
                if line.startswith("@@"):
                    sys.exit(f"{path}:{lineno}: unexpected {line} in a '{mode}' snippet")
                lines.append(line)
                continue
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^\[([A-Za-z0-9_]+)\]\s*$", line)
            if m:
                cur = {"id": m.group(1), "line": lineno}
                if any(x["id"] == cur["id"] for x in muts):
                    sys.exit(f"{path}:{lineno}: duplicate id {cur['id']}")
                muts.append(cur)
                continue
            if line == "@@from":
                if cur is None:
                    sys.exit(f"{path}:{lineno}: snippet outside a mutant")
                mode, lines = "from", []
                continue
            m = re.match(r"^([a-z]+)\s*=\s*(.*)$", line)
            if m and cur is not None and m.group(1) in FIELDS:
                cur[m.group(1)] = m.group(2).strip()
                continue
            sys.exit(f"{path}:{lineno}: cannot parse: {line}")
    if mode:
        sys.exit(f"{path}: unterminated snippet in {cur['id']}")
    for m in muts:
        for k in FIELDS + ("from", "to"):
            if k not in m:
                sys.exit(f"{path}:{m['line']}: mutant {m['id']} has no '{k}'")
        if m["from"] == m["to"]:
            sys.exit(f"{path}:{m['line']}: mutant {m['id']}: 'from' equals 'to'")
    return muts


def find(muts, mid):
    for m in muts:
        if m["id"] == mid:
            return m
    sys.exit(f"no mutant '{mid}' in the catalogue")


def occurrences(m, root):
    path = os.path.join(root, m["file"])
    if not os.path.isfile(path):
        return -1, None
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text.count(m["from"]), text


def cmd_apply(muts, mid, root):
    m = find(muts, mid)
    n, text = occurrences(m, root)
    if n != 1:
        print(f"{mid}: 'from' occurs {n if n >= 0 else 'no file:'} "
              f"{'time(s)' if n >= 0 else m['file']} in {m['file']}", file=sys.stderr)
        return 3
    path = os.path.join(root, m["file"])
    backup = os.path.join(root, ".mutate-orig", m["file"])
    os.makedirs(os.path.dirname(backup), exist_ok=True)
    with open(backup, "w", encoding="utf-8") as f:
        f.write(text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(m["from"], m["to"], 1))
    return 0


def cmd_revert(muts, mid, root):
    m = find(muts, mid)
    backup = os.path.join(root, ".mutate-orig", m["file"])
    if not os.path.isfile(backup):
        return 0
    with open(backup, encoding="utf-8") as f:
        text = f.read()
    with open(os.path.join(root, m["file"]), "w", encoding="utf-8") as f:
        f.write(text)
    os.remove(backup)
    return 0


def table(rows, header):
    w = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = lambda r: "| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |"
    out = [fmt(header), "|" + "|".join("-" * (x + 2) for x in w) + "|"]
    out += [fmt(r) for r in rows]
    return "\n".join(out)


def cmd_list(muts):
    rows = [(m["id"], m["class"], m["file"], m["fuzz"], m["props"], m["desc"]) for m in muts]
    print(table(rows, ("id", "class", "file", "fuzzers", "props", "bug")))
    print(f"{len(muts)} mutants")


def cmd_check(muts, root, ids):
    bad = 0
    for m in muts:
        if ids and m["id"] not in ids:
            continue
        n, _ = occurrences(m, root)
        if n != 1:
            bad += 1
            print(f"DOES NOT APPLY {m['id']}: 'from' occurs {max(n, 0)} time(s) in {m['file']}")
    print(f"{bad} of {len(ids) if ids else len(muts)} do not apply")
    return 1 if bad else 0


def cmd_stamp():
    t0 = time.monotonic()
    state, ops = None, 0
    for line in sys.stdin:
        t = time.monotonic() - t0
        sys.stdout.write(f"{t:8.2f} {line}")
        sys.stdout.flush()
        body = line.rstrip("\n")
        if state == "reg":
            if re.match(r"^#\d+ ", body):
                continue
            return 0
        if state == "shrunk":
            if re.match(r"^#\d+ ", body) or "minimal counterexample" in body:
                continue
            return 0
        if body.startswith("FAIL regression"):
            state = "reg"
        elif re.match(r"^\s+shrunk from \d+ to \d+ op", body):
            state = "shrunk"
    return 0


def cmd_fuzzlog(path):
    with open(path, errors="replace") as f:
        text = f.read()
    inv, ops = "", ""
    m = re.search(r"^op #\d+ \((.*?)\): (\S+?): ", text, re.M)
    if m:
        inv = m.group(2)
    else:
        m = re.search(r"runtime error: ([^\n]*)", text)
        if m:  # UBSan: the kind of error, without numbers, types and "of type ..."
            msg = re.sub(r"'[^']*'|\(aka [^)]*\)|\d+", " ", m.group(1))
            msg = re.split(r" (?:for|of) type| of type", msg)[0]
            inv = "ubsan:" + "-".join(msg.split()[:5])
        for pat, name in ((r"ERROR: AddressSanitizer: ([\w-]+)", "asan:"),
                          (r"AddressSanitizer: (CHECK failed)", "asan:"),
                          (r"ERROR: LeakSanitizer", "lsan:leak"),
                          (r"ERROR: libFuzzer: ([\w-]+)", "libfuzzer:"),
                          (r"vedalloc: ([^\n]{0,40})", "vedalloc:")):
            m = None if inv else re.search(pat, text)
            if m:
                inv = name + (m.group(1).strip().replace(" ", "-") if m.groups() else "")
                break
    m = re.search(r"^---- program \((\d+) ops\)", text, re.M)
    if m:
        ops = m.group(1)
    print(f"{inv or 'crash'}\t{ops}")


def cmd_propslog(path):
    """The first failure a props log reports: prop, invariant, secs, ops."""
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^\s*([\d.]+) FAIL regression (\S+) on (\S+): (\S+?): ", line)
        if m:
            n = 0
            for nxt in lines[i + 1:]:
                if re.match(r"^\s*[\d.]+ #\d+ ", nxt):
                    n += 1
                else:
                    break
            print(f"regression:{os.path.basename(m.group(2))}\t{m.group(4)}\t{m.group(1)}\t{n}")
            return
        m = re.match(r"^\s*([\d.]+) FAIL (\S+) on (\S+) after \d+ trial\(s\): (\S+?): ", line)
        if m:
            n = ""
            for nxt in lines[i + 1:i + 4]:
                s = re.search(r"shrunk from \d+ to (\d+) op", nxt)
                if s:
                    n = s.group(1)
            print(f"{m.group(2)}\t{m.group(4)}\t{m.group(1)}\t{n}")
            return
    print("\t\t\t")


def cmd_table(path, budget):
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(line.rstrip("\n").split("\t"))
    caught = [r for r in rows if r[3] == "yes"]
    secs = [float(r[6]) for r in caught if r[6] not in ("", "-")]
    header = ("id", "file", "class", "caught", "by", "invariant", "seconds", "shrunk ops", "props")
    print(table([tuple(r[:9]) for r in rows], header))
    mx = max(secs) if secs else 0.0
    print(f"{len(caught)}/{len(rows)} caught, max time {mx:.1f} s")
    ok = len(caught) == len(rows) and all(s <= budget for s in secs)
    return 0 if ok and rows else 1


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    cat, cmd, args = argv[1], argv[2], argv[3:]
    if cmd == "stamp":
        return cmd_stamp()
    if cmd == "fuzzlog":
        return cmd_fuzzlog(args[0])
    if cmd == "propslog":
        return cmd_propslog(args[0])
    if cmd == "table":
        return cmd_table(args[0], float(args[1]))
    muts = parse(cat)
    if cmd == "ids":
        print("\n".join(m["id"] for m in muts))
    elif cmd == "list":
        cmd_list(muts)
    elif cmd == "get":
        print(find(muts, args[0])[args[1]])
    elif cmd == "check":
        return cmd_check(muts, args[0], args[1:])
    elif cmd == "apply":
        return cmd_apply(muts, args[0], args[1])
    elif cmd == "revert":
        return cmd_revert(muts, args[0], args[1])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BrokenPipeError:
        sys.exit(0)
