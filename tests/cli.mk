# tests/cli.mk — the `duro` command end to end (tests/cli.sh): tests/cli-fixture builds a
# real SQLite file store through the library and a runtime, and the script runs the built
# tools/duro on it, comparing output with tests/cli-expected/ byte for byte;
# tests/run-cli-postgres.sh runs the same script on PostgreSQL schemas. Also
# tests/man-options.sh: every man page lists exactly the options of its program's --help.

check_PROGRAMS += tests/cli-fixture
tests_cli_fixture_SOURCES = tests/cli-fixture.c
tests_cli_fixture_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SQLITE_CFLAGS)
tests_cli_fixture_LDADD = $(DURO_TOOL_POSTGRES_LIBS) providers/sqlite/libduro-sqlite.la \
	lib/libduro.la $(JANSSON_LIBS) $(SQLITE_LIBS) $(CLI_FIXTURE_LIBPQ_LIBS)
# --postgres (tests/run-cli-postgres.sh): libpq for its --while-locked
if HAVE_LIBPQ
tests_cli_fixture_CFLAGS += $(LIBPQ_CFLAGS)
CLI_FIXTURE_LIBPQ_LIBS = $(LIBPQ_LIBS)
endif
TESTS += tests/cli.sh
EXTRA_DIST += tests/cli.sh tests/cli-expected
# the same checks on PostgreSQL, on a throwaway server (skips, 77, without its binaries)
EXTRA_DIST += tests/run-cli-postgres.sh
if HAVE_LIBPQ
TESTS += tests/run-cli-postgres.sh
endif
TESTS += tests/man-options.sh
EXTRA_DIST += tests/man-options.sh
