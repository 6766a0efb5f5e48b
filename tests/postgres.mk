# tests/postgres.mk — the PostgreSQL provider's own Check test (included from tests/local.mk),
# built and registered only when configure found libpq. It links the provider's convenience
# library to reach its internals (migrations to older versions). tests/run-test-postgres.sh
# starts a private server (ci/pg-server.sh) for it, since its fault cases kill backends and
# restart the server.
EXTRA_DIST += tests/run-test-postgres.sh tests/test-postgres.c
if HAVE_LIBPQ
if HAVE_CHECK
check_PROGRAMS += tests/test-postgres
TESTS += tests/run-test-postgres.sh
endif
endif

tests_test_postgres_SOURCES = tests/test-postgres.c
tests_test_postgres_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBPQ_CFLAGS)
tests_test_postgres_LDADD = providers/postgres/libduro-postgres-core.la \
	$(JUNIT_CHECK_LIBS) $(LIBPQ_LIBS)
