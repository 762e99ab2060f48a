#!/usr/bin/env bash
# A/B of test binaries built from different commits, in interleaved rounds:
# each round runs every binary once, so a slow spell of the shared machine
# hits all of them. Prints, per benchmark, the median ns/op of each and the
# per-round ratio of the first binary's ns/op over each other's (higher:
# the other is faster), median [min-max]. Raw rows go to $AB_RAW
# (default: a temporary file, named on stderr).
#
#   git worktree add /tmp/old OLD && (cd /tmp/old && go test -c -o /tmp/old.test ./spsc)
#   go test -c -o /tmp/new.test ./spsc
#   docs/bench/ab.sh spsc 'PushPop/impl=spsc' 20 5000000x old=/tmp/old.test new=/tmp/new.test
set -euo pipefail
dir=$1 re=$2 rounds=$3 benchtime=$4
shift 4
raw=${AB_RAW:-$(mktemp)}
bins=()
for nb in "$@"; do
	bin=${nb#*=}
	[[ $bin == /* ]] || bin=$PWD/$bin # the runs below cd into $dir
	bins+=("${nb%%=*}=$bin")
done
cd "$dir"
for _ in $(seq "$rounds"); do
	for nb in "${bins[@]}"; do
		"${nb#*=}" -test.run '^$' -test.bench "$re" -test.benchtime "$benchtime" | grep '^Benchmark' | sed "s|^|${nb%%=*} |"
	done
done > "$raw"
echo "raw rows: $raw" >&2
python3 - "$raw" "$@" <<'PY'
import statistics, sys
raw, names = sys.argv[1], [a.split("=")[0] for a in sys.argv[2:]]
rows = {}
for line in open(raw):
    f = line.split()
    rows.setdefault(f[1], {}).setdefault(f[0], []).append(float(f[3]))
for bench, d in rows.items():
    base = d.get(names[0])
    if not base:
        continue
    cells = ["%s %.1f" % (names[0], statistics.median(base))]
    for n in names[1:]:
        if n not in d:
            continue
        if len(d[n]) != len(base):
            sys.exit("%s: %d rounds of %s, %d of %s: cannot pair them" % (bench, len(base), names[0], len(d[n]), n))
        r = [x / y for x, y in zip(base, d[n])]
        cells.append("%s %.1f (%.2fx [%.2f-%.2f])" % (n, statistics.median(d[n]), statistics.median(r), min(r), max(r)))
    print(bench, "|", " | ".join(cells))
PY
