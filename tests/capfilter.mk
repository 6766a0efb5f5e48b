# tests/capfilter.mk — version-aware fetching end to end: tests/test-capfilter, two runtimes
# with different registered versions on one SQLite file (included from tests/local.mk).
if HAVE_CHECK
check_PROGRAMS += tests/test-capfilter
TESTS += tests/test-capfilter
endif
tests_test_capfilter_SOURCES = tests/test-capfilter.c $(E2E_SOURCES)
tests_test_capfilter_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_capfilter_LDADD = $(E2E_LDADD)
