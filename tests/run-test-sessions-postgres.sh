#!/bin/sh
# tests/run-test-sessions-postgres.sh — make check (only when configure found libpq): run
# tests/test-sessions-postgres, the activity-session tests on the PostgreSQL provider
# (a fresh schema per test, dropped afterwards).
#
# The server: $DURO_PG_CONNINFO when it is set (e.g. .ci/run started one), else a throwaway
# cluster that ci/pg-server.sh creates in a temporary folder and that is stopped and removed
# on exit, whatever happens. Under `make check-valgrind`, DURO_TEST_WRAPPER runs the program
# under valgrind.
set -eu
src="${DURO_SRCDIR:-.}"
if [ -z "${DURO_PG_CONNINFO:-}" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/duro-pg-sessions.XXXXXX")
    trap '"$src/ci/pg-server.sh" stop "$dir" || true; rm -rf "$dir"' EXIT
    trap 'exit 1' INT TERM HUP
    DURO_PG_CONNINFO=$("$src/ci/pg-server.sh" start "$dir")
    export DURO_PG_CONNINFO
fi
# not exec: the trap stops the server when the tests are done
# shellcheck disable=SC2086 # an empty or multi-word wrapper must split
${DURO_TEST_WRAPPER:-} ./tests/test-sessions-postgres
