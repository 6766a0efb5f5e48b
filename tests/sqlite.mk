# tests/sqlite.mk — the SQLite provider's own Check tests (included from tests/local.mk):
# test-sqlite, and test-group-commit (commits of several threads sharing a transaction). It
# links the provider's convenience library to reach its internals (connections, schema).
if HAVE_CHECK
check_PROGRAMS += tests/test-sqlite tests/test-group-commit
TESTS += tests/test-sqlite tests/test-group-commit
endif

tests_test_sqlite_SOURCES = tests/test-sqlite.c
tests_test_sqlite_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_test_sqlite_LDADD = providertest/libduro-sqlite-factory.la \
	providers/sqlite/libduro-sqlite-core.la $(JUNIT_CHECK_LIBS) \
	$(SQLITE_LIBS)

tests_test_group_commit_SOURCES = tests/test-group-commit.c
tests_test_group_commit_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_test_group_commit_LDADD = providers/sqlite/libduro-sqlite-core.la $(JUNIT_CHECK_LIBS) \
	$(SQLITE_LIBS)
