#!/usr/bin/env python3
"""Median of each `go test -bench` result (as benchstat reports it) and its
ratio against the baseline row with the same parameters, as Markdown.

usage: ratios.py [--rtt NS] FILE BASELINE_IMPL[,BASELINE_IMPL...] [METRIC ...]
  e.g. ratios.py root.txt chan,chan-copy,locked-conn p99-ns p99.9-ns
Rows are grouped by benchmark and parameters with the impl=... (and
batch=...) parts removed; ratio = baseline ns/op / this ns/op (higher is
better). "per round" is the same ratio taken round by round (the k-th
result of a row against the k-th of its baseline: rings.sh runs them in
interleaved rounds), as median [min-max].

--rtt NS splits the rounds by the core-to-core round trip measured before
and after each row (rtt-before-ns, rtt-after-ns; see internal/baseline.RunRTT):
a round is "near" when all four probes of the row and its baseline are below
NS, "far" when all four are from NS up to 1000 ns, and in neither when they
straddle a move of the vCPUs or one reads 1000 ns or more (a goroutine of
the probe waited for a CPU: scheduling, not placement). Each gets its own
per-round column, with its number of rounds.
"""
import re, statistics, sys
from collections import OrderedDict

def parse(path):
    rows = OrderedDict()
    pkg = ""
    for line in open(path):
        if line.startswith("pkg: "):
            pkg = line.split()[1].rsplit("/", 1)[-1]
        if not line.startswith("Benchmark"):
            continue
        f = line.split()
        name = pkg + "." + re.sub(r"-\d+$", "", f[0][len("Benchmark"):])
        vals = {f[i + 1]: float(f[i]) for i in range(2, len(f) - 1, 2)}
        rows.setdefault(name, []).append(vals)
    return rows

def spread(r):
    if not r:
        return "-"
    return "%.2fx [%.2f-%.2f] (%d)" % (statistics.median(r), min(r), max(r), len(r))

DISTURBED = 1000

def placement(runs, cut):
    probes = []
    for run in runs:
        for k in ("rtt-before-ns", "rtt-after-ns"):
            if k not in run:
                return None
            probes.append(run[k])
    if max(probes) < cut:
        return "near"
    if min(probes) >= cut and max(probes) < DISTURBED:
        return "far"
    return None

def main():
    args = sys.argv[1:]
    cut = None
    if args and args[0] == "--rtt":
        cut, args = float(args[1]), args[2:]
    path, bases = args[0], args[1].split(",")
    metrics = args[2:]
    rows = parse(path)
    med = {n: {k: statistics.median(v[k] for v in runs if k in v) for k in runs[0]} for n, runs in rows.items()}
    def group(n):
        return re.sub(r"/(impl|batch)=[^/]+", "", n)
    split = ["near (rtt < %g ns)" % cut, "far"] if cut is not None else []
    print("| benchmark | ns/op | vs baseline | per round | " + "".join(k + " | " for k in split + metrics) + "allocs/op |")
    print("|---|---:|---:|---:|" + "---:|" * len(split + metrics) + "---:|")
    for n, m in med.items():
        impl = re.search(r"impl=([^/]+)", n)
        if not impl:
            continue
        b = next((bn for bn in med if group(bn) == group(n) and any(re.search(r"impl=" + re.escape(x) + r"(/|$)", bn) for x in bases)), None)
        ratio = rounds = ""
        near = far = ""
        if b and b != n:
            ratio = "%.2fx" % (med[b]["ns/op"] / m["ns/op"])
            if len(rows[b]) == len(rows[n]) > 1:
                r = [x["ns/op"] / y["ns/op"] for x, y in zip(rows[b], rows[n])]
                rounds = "%.2fx [%.2f-%.2f]" % (statistics.median(r), min(r), max(r))
                if cut is not None:
                    kind = [placement((x, y), cut) for x, y in zip(rows[b], rows[n])]
                    near = spread([x for x, k in zip(r, kind) if k == "near"])
                    far = spread([x for x, k in zip(r, kind) if k == "far"])
        cells = ([near, far] if cut is not None else []) + [("%.3g" % m[k]) if k in m else "" for k in metrics]
        print("| %s | %.1f | %s | %s | %s%.0f |" % (n, m["ns/op"], ratio, rounds, "".join(c + " | " for c in cells), m.get("allocs/op", 0)))

main()
