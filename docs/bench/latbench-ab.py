"""Summarises latbench-ab.sh's JSON files OUT.<binary>.<run>.json."""
import collections, glob, json, statistics as st, sys

out = sys.argv[1]
p999 = collections.defaultdict(list)
lost = collections.defaultdict(list)
ratio = collections.defaultdict(list)
for f in sorted(glob.glob(out + ".*.json")):
    b = f[len(out) + 1:].rsplit(".", 2)[0]  # OUT.<binary>.<run>.json
    rows = json.load(open(f))
    closed = {}
    for r in rows:
        if r["mode"] == "open":
            # one open-loop rate per run (latbench-ab.sh leaves -open at its
            # default, 0.5 of the measured saturation, so the rate differs
            # from run to run): keyed without it
            k = (b, r["scenario"], r["producers"], r["impl"])
            p999[k].append(r["p999_ns"])
            lost[k].append(r["lost"])
        else:
            # the first implementation of each side (the request scenario has two)
            closed.setdefault((r["scenario"], r["producers"], r["round"], r["baseline"]), r)
    for (s, p, rd, base), r in closed.items():
        other = closed.get((s, p, rd, True))
        if not base and other:
            ratio[(b, s, p)].append((r["delivered_per_sec"] / other["delivered_per_sec"], r["lost"], other["lost"]))
print("open loop: median p99.9 over rounds [min-max], largest lost fraction")
for k in sorted(p999):
    v = p999[k]
    print("  %-6s %-6s prod %2d %-14s %.2f ms [%.2f-%.2f] n=%d lost<=%.4f%%" % (
        k[0], k[1], k[2], k[3], st.median(v) / 1e6, min(v) / 1e6, max(v) / 1e6, len(v), 100 * max(lost[k])))
print("closed loop: delivered/s over the baseline's, median per round [min-max]; median lost ours / baseline")
for k in sorted(ratio):
    v = [x[0] for x in ratio[k]]
    print("  %-6s %-6s prod %2d %.2fx [%.2f-%.2f] n=%d lost %.1f%% / %.1f%%" % (
        k[0], k[1], k[2], st.median(v), min(v), max(v), len(v),
        100 * st.median(x[1] for x in ratio[k]), 100 * st.median(x[2] for x in ratio[k])))

# Closed loop split by placement: a row counts as near when both of its
# round-trip probes read < 300 ns, far when both read 300 ns - 1 µs.
rows = collections.defaultdict(lambda: {"near": [], "far": [], "all": []})
for f in sorted(glob.glob(out + ".*.json")):
    b = f[len(out) + 1:].rsplit(".", 2)[0]
    for r in json.load(open(f)):
        if r["mode"] != "closed":
            continue
        k = (b, r["scenario"], r["producers"], r["impl"])
        v, p = r["delivered_per_sec"] / 1e6, (r.get("rtt_before_ns"), r.get("rtt_after_ns"))
        rows[k]["all"].append(v)
        if None in p:  # a latbench from before the probe
            continue
        if max(p) < 300:
            rows[k]["near"].append(v)
        elif min(p) >= 300 and max(p) < 1000:
            rows[k]["far"].append(v)
print("closed loop by placement: median delivered M/s (rows)")
for k in sorted(rows):
    c = rows[k]
    cell = lambda v: "%.1f (%d)" % (st.median(v), len(v)) if v else "- (0)"
    print("  %-6s %-6s prod %2d %-14s all %s  near %s  far %s" % (k[0], k[1], k[2], k[3], cell(c["all"]), cell(c["near"]), cell(c["far"])))
