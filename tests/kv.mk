# tests/kv.mk — durable values end to end: tests/test-kv on both SQLite providers, and, when
# configure found libpq, the same source as tests/test-kv-postgres on the PostgreSQL provider
# (a fresh schema per test), run by tests/run-test-kv-postgres.sh (included from
# tests/local.mk).
if HAVE_CHECK
check_PROGRAMS += tests/test-kv
TESTS += tests/test-kv
endif
tests_test_kv_SOURCES = tests/test-kv.c $(E2E_SOURCES)
tests_test_kv_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_kv_LDADD = $(E2E_LDADD)

EXTRA_DIST += tests/run-test-kv-postgres.sh
if HAVE_LIBPQ
if HAVE_CHECK
check_PROGRAMS += tests/test-kv-postgres
TESTS += tests/run-test-kv-postgres.sh
endif
endif
tests_test_kv_postgres_SOURCES = tests/test-kv.c $(E2E_SOURCES)
tests_test_kv_postgres_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -DDURO_E2E_POSTGRES
tests_test_kv_postgres_LDADD = providers/postgres/libduro-postgres.la $(E2E_LDADD)
