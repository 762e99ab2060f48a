"""Splits docs/bench/ab.sh raw rows by placement: python3 ab-split.py RAW A B
prints per benchmark the median per-round ratio A ns/op over B ns/op, for
all rounds and by the four round-trip probes of the pair (near: all < 300 ns;
far: all 300 ns - 1 us; disturbed: any >= 1 us; mixed: the rest)."""
import sys,statistics as st,collections
raw=sys.argv[1]; a,b=sys.argv[2],sys.argv[3]
rows=collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(raw):
    f=line.split(); name=f[0]; bench=f[1]
    ns=float(f[3]); m={}
    for i in range(4,len(f)-1):
        if f[i+1] in ('rtt-before-ns','rtt-after-ns'): m[f[i+1]]=float(f[i])
    rows[bench][name].append((ns,m.get('rtt-before-ns',0),m.get('rtt-after-ns',0)))
for bench,d in rows.items():
    out=collections.defaultdict(list)
    for x,y in zip(d[a],d[b]):
        pr=[x[1],x[2],y[1],y[2]]
        cls='disturbed' if max(pr)>=1000 else 'near' if max(pr)<300 else 'far' if min(pr)>=300 else 'mixed'
        out[cls].append(x[0]/y[0]); out['all'].append(x[0]/y[0])
    print(bench, ' '.join('%s %.2fx(%d)'%(k,st.median(v),len(v)) for k,v in sorted(out.items())))
