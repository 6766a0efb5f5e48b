#!/bin/sh
# stress/smoke.sh — make check: a 2-second run of every stress scenario on both embedded
# SQLite providers (config 2/2), gated on 100% success and clean integrity checks; the JUnit
# report goes to $DURO_JUNIT_DIR/stress-smoke.xml and the JSON report next to it. Under
# `make check-valgrind`, DURO_TEST_WRAPPER runs the program under valgrind, with a lighter
# load and a longer timeout (valgrind makes every instance tens of times slower).
set -eu
junit_dir="${DURO_JUNIT_DIR:-test-results}"
mkdir -p "$junit_dir"
load="--duration 2 --max-concurrent 10"
if [ -n "${DURO_TEST_WRAPPER:-}" ]; then
    load="--duration 1 --max-concurrent 2 --wait-timeout 600"
fi
# shellcheck disable=SC2086 # an empty or multi-word wrapper and $load must split
exec ${DURO_TEST_WRAPPER:-} ./stress/duro-stress --provider all --scenario all --config 2/2 \
    $load --min-success 100 --no-progress \
    --junit "$junit_dir/stress-smoke.xml" --json "$junit_dir/stress-smoke.json"
