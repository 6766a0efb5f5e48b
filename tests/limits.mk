# tests/limits.mk — test-limits (included from tests/local.mk after e2e.mk, whose fixtures it
# uses): time arguments at their extremes and API misuse from orchestration code, end to end
# on the in-memory SQLite provider.
if HAVE_CHECK
check_PROGRAMS += tests/test-limits
TESTS += tests/test-limits
endif

tests_test_limits_SOURCES = tests/test-limits.c $(E2E_SOURCES)
tests_test_limits_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_limits_LDADD = $(E2E_LDADD)
