#!/bin/sh
# examples/custom-provider/run-custom.sh — make check: the custom provider example linked
# into both suites. The whole conformance suite must pass (JUnit report in
# $DURO_JUNIT_DIR/custom-provider.xml), then a one-second stress run must reach 100% success
# (JUnit report in $DURO_JUNIT_DIR/custom-provider-stress.xml). Under `make check-valgrind`,
# DURO_TEST_WRAPPER runs both programs under valgrind, the stress run with a lighter load
# and a longer timeout.
set -eu
junit_dir="${DURO_JUNIT_DIR:-test-results}"
mkdir -p "$junit_dir"
load="--max-concurrent 5"
if [ -n "${DURO_TEST_WRAPPER:-}" ]; then
    load="--max-concurrent 2 --wait-timeout 600"
fi
# shellcheck disable=SC2086 # an empty or multi-word wrapper and $load must split
${DURO_TEST_WRAPPER:-} ./examples/custom-provider/custom-conformance \
    --junit "$junit_dir/custom-provider.xml"
# shellcheck disable=SC2086
exec ${DURO_TEST_WRAPPER:-} ./examples/custom-provider/custom-stress --scenario parallel \
    --config 1/1 --duration 1 $load --min-success 100 --no-progress \
    --junit "$junit_dir/custom-provider-stress.xml"
