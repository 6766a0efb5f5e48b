#!/bin/sh
# stress/smoke.sh — make check: a 2-second run of every stress scenario on both embedded
# SQLite providers (config 2/2), gated on 100% success and clean integrity checks; the JUnit
# report goes to $DURO_JUNIT_DIR/stress-smoke.xml and the JSON report next to it.
set -eu
junit_dir="${DURO_JUNIT_DIR:-test-results}"
mkdir -p "$junit_dir"
exec ./stress/duro-stress --provider all --scenario all --config 2/2 --duration 2 \
  --max-concurrent 10 --min-success 100 --no-progress \
  --junit "$junit_dir/stress-smoke.xml" --json "$junit_dir/stress-smoke.json"
