#!/bin/sh
# tests/run-test-postgres.sh — make check (only when configure found libpq): run
# tests/test-postgres against a private throwaway server that ci/pg-server.sh creates in a
# temporary folder and that is stopped and removed on exit, whatever happens. Always its own
# server, never $DURO_PG_CONNINFO's: the fault cases kill backends and restart the server.
set -eu
src="${DURO_SRCDIR:-.}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/duro-pg-test.XXXXXX")
trap '"$src/ci/pg-server.sh" stop "$dir" || true; rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM HUP
DURO_PG_CONNINFO=$("$src/ci/pg-server.sh" start "$dir")
DURO_PG_DIR=$dir
export DURO_PG_CONNINFO DURO_PG_DIR DURO_SRCDIR
# shellcheck disable=SC2086 # an empty or multi-word wrapper must split
${DURO_TEST_WRAPPER:-} ./tests/test-postgres
