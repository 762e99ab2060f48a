#!/usr/bin/env bash
# A/B of latbench binaries built from different commits: each run runs
# every binary once in turn (-json, the scenarios and producers given), so a
# slow spell of the shared machine hits all of them. Then prints, per
# binary, producer count and implementation, the median open-loop p99.9
# over all rounds of all runs, and the median closed-loop ratio to the
# baseline (latbench-ab.py).
#
#   git worktree add /tmp/old OLD && (cd /tmp/old && go build -o /tmp/ab/old ./cmd/latbench)
#   go build -o /tmp/ab/new ./cmd/latbench
#   docs/bench/latbench-ab.sh /tmp/ab/run sink 4,16 6 /tmp/ab/old /tmp/ab/new
set -euo pipefail
out=$1 scenarios=$2 producers=$3 runs=$4
shift 4
for r in $(seq "$runs"); do
	for b in "$@"; do
		"$b" -scenarios "$scenarios" -producers "$producers" -rounds 3 -json 2>/dev/null >"$out.$(basename "$b").$r.json"
	done
done
python3 "$(dirname "$0")/latbench-ab.py" "$out"
