#!/usr/bin/env bash
# The wait policies' A/B: the hot paths before the wait policies (OLD, default
# 104a6bf) against this tree, in interleaved rounds (each round runs the
# old binary, then the new one, once each), for benchstat:
#
#   docs/bench/ab-wait.sh [OLD] [ROUNDS]
#   benchstat docs/bench/wait-ab-old.txt docs/bench/wait-ab-new.txt
#
# mpsc.Ring 1-producer push+pop (the Wait consumer and its drain and pop
# variants), uds.Writer.Write and sink.TryPush. BENCHTIME (default 1s)
# and OUT (default docs/bench) are for a smoke run.
set -euo pipefail
old=${1:-104a6bf} rounds=${2:-10}
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
mkdir -p "$tmp/src"
git -C "$root" archive "$old" | tar -x -C "$tmp/src" # a copy, not a worktree
for pkg in mpsc uds sink; do
	(cd "$tmp/src" && go test -c -o "$tmp/old-$pkg.test" "./$pkg")
	(cd "$root" && go test -c -o "$tmp/new-$pkg.test" "./$pkg")
done
declare -A re=(
	[mpsc]='^BenchmarkPush$/^impl=mpsc(-drain|-pop)?$/^producers=1$'
	[uds]='^BenchmarkWrite$'
	[sink]='^BenchmarkTryPush$'
)
out=${OUT:-$root/docs/bench}
: >"$out/wait-ab-old.txt"
: >"$out/wait-ab-new.txt"
for _ in $(seq "$rounds"); do
	for pkg in mpsc uds sink; do
		for side in old new; do
			(cd "$root/$pkg" && "$tmp/$side-$pkg.test" -test.run '^$' -test.bench "${re[$pkg]}" -test.benchtime "${BENCHTIME:-1s}" -test.benchmem -test.count 1) |
				grep -E '^(Benchmark|goos|goarch|pkg|cpu)' >>"$out/wait-ab-$side.txt"
		done
	done
done
echo "benchstat $out/wait-ab-old.txt $out/wait-ab-new.txt"
