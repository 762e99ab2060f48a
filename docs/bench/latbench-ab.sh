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
names=$(for b in "$@"; do basename "$b"; done)
if [[ $(sort <<<"$names" | uniq -d) ]]; then
	echo "binaries need distinct names: $names" >&2
	exit 2
fi
if compgen -G "$out.*.json" >/dev/null; then
	echo "$out.*.json exist: use a new OUT" >&2
	exit 2
fi
for r in $(seq "$runs"); do
	for b in "$@"; do
		# a binary's stderr goes beside its JSON
		"$b" -scenarios "$scenarios" -producers "$producers" -rounds 3 -json 2>"$out.$(basename "$b").$r.err" >"$out.$(basename "$b").$r.json"
	done
done
python3 "$(dirname "$0")/latbench-ab.py" "$out"
