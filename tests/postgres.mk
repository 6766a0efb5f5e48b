# tests/postgres.mk — the PostgreSQL provider's own Check test and the client's management
# tests on it (included from tests/local.mk), built and registered only when configure found
# libpq. test-postgres links the provider's convenience library to reach its internals
# (migrations to older versions); tests/run-test-postgres.sh starts a private server
# (ci/pg-server.sh) for it, since its fault cases kill backends and restart the server.
# tests/netns-scaleout.sh is the many-machines run (docs/scale-out.md): the server, two
# runtime hosts and the driver in network namespaces, one runtime host killed mid-run; it
# needs root and skips (77) without it.
EXTRA_DIST += tests/run-test-postgres.sh tests/test-postgres.c tests/netns-scaleout.sh
if HAVE_LIBPQ
TESTS += tests/netns-scaleout.sh
if HAVE_CHECK
check_PROGRAMS += tests/test-postgres
TESTS += tests/run-test-postgres.sh
endif
endif

tests_test_postgres_SOURCES = tests/test-postgres.c
tests_test_postgres_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBPQ_CFLAGS)
tests_test_postgres_LDADD = providers/postgres/libduro-postgres-core.la \
	$(JUNIT_CHECK_LIBS) $(LIBPQ_LIBS)

# test-manage-postgres: tests/test-manage.c again, on the PostgreSQL provider (DURO_E2E_POSTGRES
# gives the e2e fixtures their postgres kind: a fresh schema per test). Its script uses
# $DURO_PG_CONNINFO's server when set, else starts a private one.
# pg-pickup-bench: a measurement, not a test (docs/postgres.md "Measuring"); built on
# demand with `make tests/pg-pickup-bench`.
if HAVE_LIBPQ
EXTRA_PROGRAMS = tests/pg-pickup-bench
endif
tests_pg_pickup_bench_SOURCES = tests/pg-pickup-bench.c
tests_pg_pickup_bench_CFLAGS = $(AM_CFLAGS) $(LIBPQ_CFLAGS)
tests_pg_pickup_bench_LDADD = providers/postgres/libduro-postgres.la lib/libduro.la

EXTRA_DIST += tests/run-test-manage-postgres.sh
if HAVE_LIBPQ
if HAVE_CHECK
check_PROGRAMS += tests/test-manage-postgres
TESTS += tests/run-test-manage-postgres.sh
endif
endif

tests_test_manage_postgres_SOURCES = tests/test-manage.c \
	conformance/alloc-fault.h conformance/alloc-fault.c $(E2E_SOURCES)
tests_test_manage_postgres_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -DDURO_E2E_POSTGRES
tests_test_manage_postgres_LDADD = providers/postgres/libduro-postgres.la $(E2E_LDADD)
