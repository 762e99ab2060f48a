"""Splits docs/bench/ab.sh raw rows by placement: python3 ab-split.py RAW A B
prints per benchmark the median per-round ratio A ns/op over B ns/op, for
all rounds and by the four round-trip probes of the pair (near: all < 300 ns;
far: all 300 ns - 1 us; disturbed: any >= 1 us; mixed: the rest; unprobed:
a row without probes). Lines that do not start with a binary name and a
Benchmark (comments, summaries) are skipped; rounds must pair up."""
import collections
import statistics as st
import sys

raw, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
rows = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(raw):
    f = line.split()
    if len(f) < 4 or not f[1].startswith("Benchmark"):
        continue
    m = {f[i + 1]: float(f[i]) for i in range(4, len(f) - 1) if f[i + 1] in ("rtt-before-ns", "rtt-after-ns")}
    rows[f[1]][f[0]].append((float(f[2 + 1]), m.get("rtt-before-ns"), m.get("rtt-after-ns")))
for bench, d in rows.items():
    if len(d[a]) != len(d[b]):
        sys.exit("%s: %d rounds of %s, %d of %s: unpaired" % (bench, len(d[a]), a, len(d[b]), b))
    out = collections.defaultdict(list)
    for x, y in zip(d[a], d[b]):
        pr = [x[1], x[2], y[1], y[2]]
        if None in pr:
            cls = "unprobed"
        elif max(pr) >= 1000:
            cls = "disturbed"
        elif max(pr) < 300:
            cls = "near"
        elif min(pr) >= 300:
            cls = "far"
        else:
            cls = "mixed"
        out[cls].append(x[0] / y[0])
        out["all"].append(x[0] / y[0])
    print(bench, " ".join("%s %.2fx(%d)" % (k, st.median(v), len(v)) for k, v in sorted(out.items())))
