"""Summarises BenchmarkPaced rows from docs/bench/ab.sh raw output: python3 paced-summary.py RAW
prints per benchmark and binary the medians over rounds of cpu-ns/value, push p50/p99/p99.9 and full/value."""
import collections,statistics as st,sys
d=collections.defaultdict(lambda: collections.defaultdict(list))
order=[]
for line in open(sys.argv[1]):
    f=line.split(); b,name=f[0],f[1]
    if b not in order: order.append(b)
    m={f[i+1]:float(f[i]) for i in range(3,len(f)-1) if not f[i+1][0].isdigit()}
    d[name][b].append(m)
for name in d:
    for b in order:
        rows=d[name][b]
        if not rows: continue
        med=lambda k: st.median(r[k] for r in rows)
        print('%-28s %-9s cpu-ns/value %6.0f  push p50 %4.0f p99 %6.0f p99.9 %6.0f  full/value %.4f  (n=%d)' % (name.replace('BenchmarkPaced/',''), b, med('cpu-ns/value'), med('push-p50-ns'), med('push-p99-ns'), med('push-p99.9-ns'), med('full/value'), len(rows)))
