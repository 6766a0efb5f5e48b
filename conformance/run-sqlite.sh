#!/bin/sh
# conformance/run-sqlite.sh — make check: run the whole conformance suite on provider
# 'sqlite' (a fresh in-memory SQLite database per case); the JUnit report goes to
# $DURO_JUNIT_DIR/conformance-sqlite.xml. Under `make check-valgrind`, DURO_TEST_WRAPPER runs
# the program under valgrind.
set -eu
junit_dir="${DURO_JUNIT_DIR:-test-results}"
mkdir -p "$junit_dir"
# shellcheck disable=SC2086 # an empty or multi-word wrapper must split
exec ${DURO_TEST_WRAPPER:-} ./conformance/duro-conformance --provider sqlite \
    --junit "$junit_dir/conformance-sqlite.xml"
