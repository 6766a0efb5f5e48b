#!/bin/sh
# stress/smoke.sh — make check: a 2-second run of every stress scenario on both embedded
# SQLite providers (config 2/2), gated on 100% success and clean integrity checks; the JUnit
# report goes to $DURO_JUNIT_DIR/stress-smoke.xml and the JSON report next to it (routing,
# not in 'all': stress-smoke-routing.xml and .json). Under
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
${DURO_TEST_WRAPPER:-} ./stress/duro-stress --provider all --scenario all --config 2/2 \
    $load --min-success 100 --no-progress \
    --junit "$junit_dir/stress-smoke.xml" --json "$junit_dir/stress-smoke.json"
# routing is not part of 'all' (two runtimes of its own): the same run of it on its own
# shellcheck disable=SC2086
exec ${DURO_TEST_WRAPPER:-} ./stress/duro-stress --provider all --scenario routing --config 2/2 \
    $load --min-success 100 --no-progress \
    --junit "$junit_dir/stress-smoke-routing.xml" --json "$junit_dir/stress-smoke-routing.json"
