"""Summarises BenchmarkPaced rows from docs/bench/ab.sh raw output: python3 paced-summary.py RAW
prints per benchmark and binary the medians over rounds of cpu-ns/value, push p50/p99/p99.9,
full/value and, where the rows have them, the delivery p50/p99 (push to pop)."""
import collections,statistics as st,sys
d=collections.defaultdict(lambda: collections.defaultdict(list))
order=[]
for line in open(sys.argv[1]):
    f=line.split(); b,name=f[0],f[1]
    if b not in order: order.append(b)
    m={}
    for i in range(3,len(f)-1):
        try: m[f[i+1]]=float(f[i])
        except ValueError: pass
    d[name][b].append(m)
for name in d:
    for b in order:
        rows=d[name][b]
        if not rows: continue
        med=lambda k: st.median(r[k] for r in rows)
        line='%-28s %-9s cpu-ns/value %6.0f  push p50 %4.0f p99 %6.0f p99.9 %6.0f  full/value %.4f' % (name.replace('BenchmarkPaced/',''), b, med('cpu-ns/value'), med('push-p50-ns'), med('push-p99-ns'), med('push-p99.9-ns'), med('full/value'))
        if all('deliver-p50-ns' in r for r in rows):
            line+='  deliver p50 %7.0f p99 %8.0f' % (med('deliver-p50-ns'), med('deliver-p99-ns'))
        print(line+'  (n=%d)' % len(rows))
