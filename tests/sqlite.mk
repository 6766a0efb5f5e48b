# tests/sqlite.mk — the SQLite provider's own Check test (included from tests/local.mk). It
# links the provider's convenience library to reach its internals (connections, schema).
if HAVE_CHECK
check_PROGRAMS += tests/test-sqlite
TESTS += tests/test-sqlite
endif

tests_test_sqlite_SOURCES = tests/test-sqlite.c
tests_test_sqlite_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_test_sqlite_LDADD = providertest/libduro-sqlite-factory.la \
	providers/sqlite/libduro-sqlite-core.la $(JUNIT_CHECK_LIBS) \
	$(SQLITE_LIBS)
