#!/bin/sh
# conformance/run-sqlite.sh — make check: run the whole conformance suite on provider
# 'sqlite' (a fresh in-memory SQLite database per case) and write its JUnit report to $DURO_JUNIT_DIR.
set -eu
junit_dir="${DURO_JUNIT_DIR:-test-results}"
mkdir -p "$junit_dir"
exec ./conformance/duro-conformance --provider sqlite --junit "$junit_dir/conformance-sqlite.xml"
