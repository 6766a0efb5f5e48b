#!/bin/sh
# tests/run-cli-postgres.sh — make check (only when configure found libpq): tests/cli.sh, the
# `duro` command end to end, on PostgreSQL: a private throwaway server that ci/pg-server.sh
# creates in a temporary folder (stopped and removed on exit, whatever happens), each store a
# schema of its database. Fails, as every PostgreSQL test does, when the server cannot be
# started (docs/decisions.md: make check never silently passes without PostgreSQL).
# The conninfo is passed as a libpq URI, which holds no blanks, so that cli.sh can split its
# store options on blanks.
set -eu
src="${DURO_SRCDIR:-.}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/duro-pg-cli.XXXXXX")
trap '"$src/ci/pg-server.sh" stop "$dir" || true; rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM HUP
if ! conninfo=$("$src/ci/pg-server.sh" start "$dir" 2>"$dir/start.err"); then
    cat "$dir/start.err" >&2
    exit 1
fi
# host=DIR/sock port=N dbname=duro user=U → postgresql://U@/duro?host=DIR/sock&port=N
uri=$(echo "$conninfo" | sed -n \
    's|^host=\([^ ]*\) port=\([0-9]*\) dbname=\([A-Za-z0-9_]*\) user=\([^ ]*\)$|postgresql://\4@/\3?host=\1\&port=\2|p')
if [ -z "$uri" ]; then
    echo "run-cli-postgres.sh: unexpected conninfo '$conninfo'" >&2
    exit 1
fi
DURO_CLI_PG_URI=$uri
DURO_PG_DIR=$dir
export DURO_CLI_PG_URI DURO_PG_DIR
# not exec: the trap stops the server when the checks are done
sh "$src/tests/cli.sh"
