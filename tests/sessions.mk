# tests/sessions.mk — test-sessions (included from tests/local.mk after e2e.mk, whose libraries it
# links): activity sessions end to end: three runtimes on one SQLite file, a session moving
# to exactly one other runtime when its owner stops; the same on PostgreSQL.
if HAVE_CHECK
check_PROGRAMS += tests/test-sessions
TESTS += tests/test-sessions
endif

tests_test_sessions_SOURCES = tests/test-sessions.c $(E2E_SOURCES)
tests_test_sessions_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_test_sessions_LDADD = $(E2E_LDADD) $(SQLITE_LIBS)

# test-sessions-postgres: the same source (DURO_E2E_POSTGRES) on the PostgreSQL provider, a
# fresh schema per test, run by tests/run-test-sessions-postgres.sh (its own throwaway
# server unless $DURO_PG_CONNINFO names one).
EXTRA_DIST += tests/run-test-sessions-postgres.sh
if HAVE_LIBPQ
if HAVE_CHECK
check_PROGRAMS += tests/test-sessions-postgres
TESTS += tests/run-test-sessions-postgres.sh
endif
endif
tests_test_sessions_postgres_SOURCES = tests/test-sessions.c $(E2E_SOURCES)
tests_test_sessions_postgres_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -DDURO_E2E_POSTGRES
tests_test_sessions_postgres_LDADD = providers/postgres/libduro-postgres.la $(E2E_LDADD)
