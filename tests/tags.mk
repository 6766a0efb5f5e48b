# tests/tags.mk — test-tags (included from tests/local.mk after e2e.mk, whose libraries it
# links): activity tags end to end, two runtimes with different worker filters on one SQLite
# file, and the upgrade of a schema-1 SQLite store.
if HAVE_CHECK
check_PROGRAMS += tests/test-tags
TESTS += tests/test-tags
endif

tests_test_tags_SOURCES = tests/test-tags.c $(E2E_SOURCES)
tests_test_tags_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_test_tags_LDADD = $(E2E_LDADD) $(SQLITE_LIBS)
