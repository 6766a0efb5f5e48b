#!/bin/sh
# conformance/run-sqlite-file.sh — make check: run the whole conformance suite on provider
# 'sqlite-file' (a fresh WAL SQLite file per case) and write its JUnit report to $DURO_JUNIT_DIR.
set -eu
junit_dir="${DURO_JUNIT_DIR:-test-results}"
mkdir -p "$junit_dir"
exec ./conformance/duro-conformance --provider sqlite-file --junit "$junit_dir/conformance-sqlite-file.xml"
