# tests/sessions.mk — test-sessions (included from tests/local.mk after e2e.mk, whose libraries it
# links): activity sessions end to end: three runtimes on one SQLite file, a session moving
# to exactly one other runtime when its owner stops.
if HAVE_CHECK
check_PROGRAMS += tests/test-sessions
TESTS += tests/test-sessions
endif

tests_test_sessions_SOURCES = tests/test-sessions.c $(E2E_SOURCES)
tests_test_sessions_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_test_sessions_LDADD = $(E2E_LDADD) $(SQLITE_LIBS)
