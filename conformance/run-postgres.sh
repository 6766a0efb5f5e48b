#!/bin/sh
# conformance/run-postgres.sh — make check (only when configure found libpq): run the whole
# conformance suite on provider 'postgres' (a fresh schema per case, dropped afterwards); the
# JUnit report goes to $DURO_JUNIT_DIR/conformance-postgres.xml.
#
# The server: $DURO_PG_CONNINFO when it is set (e.g. .ci/run started one), else a throwaway
# cluster that ci/pg-server.sh creates in a temporary folder (private unix socket, dedicated
# non-root user) and that is stopped and removed on exit, whatever happens. Under
# `make check-valgrind`, DURO_TEST_WRAPPER runs the program under valgrind.
set -eu
src="${DURO_SRCDIR:-.}"
junit_dir="${DURO_JUNIT_DIR:-test-results}"
mkdir -p "$junit_dir"
if [ -z "${DURO_PG_CONNINFO:-}" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/duro-pg-conf.XXXXXX")
    trap '"$src/ci/pg-server.sh" stop "$dir" || true; rm -rf "$dir"' EXIT
    trap 'exit 1' INT TERM HUP
    DURO_PG_CONNINFO=$("$src/ci/pg-server.sh" start "$dir")
    export DURO_PG_CONNINFO
fi
# not exec: the trap stops the server when the suite is done
# shellcheck disable=SC2086 # an empty or multi-word wrapper must split
${DURO_TEST_WRAPPER:-} ./conformance/duro-conformance --provider postgres \
    --junit "$junit_dir/conformance-postgres.xml"
