#!/bin/sh
# stress/sync.sh — make check: duro-stress --sync. Each level runs a short engine workload on
# sqlite-file and its row is named sqlite-file/<level> in the table and carries
# "sync": "<level>" in the JSON, with the statements the store ran per orchestration; a level
# that does not exist is refused (exit 2, a message naming the valid ones) before any run.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for level in full normal off; do
    ./stress/duro-stress --provider sqlite-file --sync "$level" --scenario parallel \
        --config 2/2 --duration 0.5 --max-concurrent 4 --activity-delay 0 --min-success 100 \
        --no-progress --json "$dir/$level.json" >"$dir/$level.out"
    grep -q "^| sqlite-file/$level " "$dir/$level.out" ||
        { echo "sync.sh: no sqlite-file/$level row"; cat "$dir/$level.out"; exit 1; }
    grep -q "^Statements per orchestration: sqlite-file/$level 2/2 [0-9]" "$dir/$level.out" ||
        { echo "sync.sh: no statements line for $level"; cat "$dir/$level.out"; exit 1; }
    grep -q "\"sync\": \"$level\"" "$dir/$level.json" ||
        { echo "sync.sh: no \"sync\": \"$level\" in the JSON"; exit 1; }
    grep -q '"statements_per_orch": [0-9]' "$dir/$level.json" ||
        { echo "sync.sh: no statements_per_orch in the JSON for $level"; exit 1; }
done
status=0
./stress/duro-stress --provider sqlite-file --sync extra --duration 0.5 \
    >"$dir/bad.out" 2>&1 || status=$?
[ "$status" -eq 2 ] || { echo "sync.sh: --sync extra exited $status, not 2"; exit 1; }
grep -q "^duro-stress: --sync: 'extra' is not full, normal or off$" "$dir/bad.out" ||
    { echo "sync.sh: wrong message for --sync extra:"; cat "$dir/bad.out"; exit 1; }
echo "sync.sh: ok"
