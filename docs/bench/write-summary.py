"""Summarises BenchmarkWrite rows from docs/bench/ab.sh raw output:
python3 write-summary.py RAW prints per benchmark and binary the median
[each round] of ns/op, mean, p99, p99.9 and max per call, and the stalls
count per run."""
import collections
import statistics as st
import sys

d = collections.defaultdict(lambda: collections.defaultdict(list))
order = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 4 or not f[1].startswith("Benchmark"):
        continue
    if f[0] not in order:
        order.append(f[0])
    d[f[1]][f[0]].append({f[i + 1]: float(f[i]) for i in range(2, len(f) - 1) if not f[i + 1][0].isdigit()})


def t(x):
    return "%.2fms" % (x / 1e6) if x >= 1e6 else "%.1fus" % (x / 1e3) if x >= 1e3 else "%gns" % x


for name in d:
    for b in order:
        rows = d[name][b]
        if not rows:
            continue

        def cell(k, fmt=t):
            v = [r[k] for r in rows if k in r]
            return "-" if not v else "%s [%s]" % (fmt(st.median(v)), " ".join(fmt(x) for x in v))

        print("%-62s %-4s ns/op %s  mean %s  p99 %s  p99.9 %s  max %s  stalls %s" % (
            name, b, cell("ns/op"), cell("mean-ns"), cell("p99-ns"), cell("p99.9-ns"), cell("max-ns"), cell("stalls", lambda x: "%g" % x)))
