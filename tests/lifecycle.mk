# tests/lifecycle.mk — the client's lifecycle controls (terminate, suspend, resume) end to end:
# tests/test-lifecycle on both SQLite providers, and, when configure found libpq, the same
# source as tests/test-lifecycle-postgres on the PostgreSQL provider (a fresh schema per
# test), run by tests/run-test-lifecycle-postgres.sh (included from tests/local.mk). Both link
# conformance/alloc-fault.c to fail chosen allocations (as test-manage does).
if HAVE_CHECK
check_PROGRAMS += tests/test-lifecycle
TESTS += tests/test-lifecycle
endif
tests_test_lifecycle_SOURCES = tests/test-lifecycle.c \
	conformance/alloc-fault.h conformance/alloc-fault.c $(E2E_SOURCES)
tests_test_lifecycle_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_lifecycle_LDADD = $(E2E_LDADD)

EXTRA_DIST += tests/run-test-lifecycle-postgres.sh
if HAVE_LIBPQ
if HAVE_CHECK
check_PROGRAMS += tests/test-lifecycle-postgres
TESTS += tests/run-test-lifecycle-postgres.sh
endif
endif
tests_test_lifecycle_postgres_SOURCES = tests/test-lifecycle.c \
	conformance/alloc-fault.h conformance/alloc-fault.c $(E2E_SOURCES)
tests_test_lifecycle_postgres_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -DDURO_E2E_POSTGRES
tests_test_lifecycle_postgres_LDADD = providers/postgres/libduro-postgres.la $(E2E_LDADD)
