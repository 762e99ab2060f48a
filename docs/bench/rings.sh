#!/bin/sh
# Interleaved rounds of the single-value ring benchmarks. Each
# round runs every benchmark once (-count 1), so a slow spell of the shared
# machine hits the ring and the channel of that round alike; go test's own
# -count N would run each benchmark N times in a row instead.
#
#   docs/bench/rings.sh [ROUNDS] > FILE
#   benchstat -col /impl -row /producers FILE
#   python3 docs/bench/ratios.py --rtt 300 FILE chan,chan-copy
set -eu
rounds=${1:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/spsc.test" ./spsc
go test -c -o "$tmp/mpsc.test" ./mpsc
for _ in $(seq "$rounds"); do
	(cd spsc && "$tmp/spsc.test" -test.run '^$' -test.bench 'BenchmarkPushPop$' -test.benchtime 5000000x)
	(cd mpsc && "$tmp/mpsc.test" -test.run '^$' -test.bench 'BenchmarkPush$' -test.benchtime 5000000x)
	(cd mpsc && "$tmp/mpsc.test" -test.run '^$' -test.bench 'BenchmarkByteRingWrite$/impl=/size=128$' -test.benchtime 1000000x)
done
