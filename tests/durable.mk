# tests/durable.mk — durable cross-instance reads and version targets from orchestration code
# (issue 13): tests/test-reads (duro_read_value on both SQLite providers) and
# tests/test-versions (duro_continue_as_new_version and duro_call_sub_version with two
# runtimes on one SQLite file); when configure found libpq, the same sources as
# tests/test-reads-postgres and tests/test-versions-postgres on PostgreSQL, both run by
# tests/run-test-durable-postgres.sh. Included from tests/local.mk.
if HAVE_CHECK
check_PROGRAMS += tests/test-reads tests/test-versions
TESTS += tests/test-reads tests/test-versions
endif
tests_test_reads_SOURCES = tests/test-reads.c $(E2E_SOURCES)
tests_test_reads_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_reads_LDADD = $(E2E_LDADD)
tests_test_versions_SOURCES = tests/test-versions.c $(E2E_SOURCES)
tests_test_versions_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_versions_LDADD = $(E2E_LDADD)

EXTRA_DIST += tests/run-test-durable-postgres.sh
if HAVE_LIBPQ
if HAVE_CHECK
check_PROGRAMS += tests/test-reads-postgres tests/test-versions-postgres
TESTS += tests/run-test-durable-postgres.sh
endif
endif
tests_test_reads_postgres_SOURCES = tests/test-reads.c $(E2E_SOURCES)
tests_test_reads_postgres_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -DDURO_E2E_POSTGRES
tests_test_reads_postgres_LDADD = providers/postgres/libduro-postgres.la $(E2E_LDADD)
tests_test_versions_postgres_SOURCES = tests/test-versions.c $(E2E_SOURCES)
tests_test_versions_postgres_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -DDURO_E2E_POSTGRES
tests_test_versions_postgres_LDADD = providers/postgres/libduro-postgres.la $(E2E_LDADD)

# Every allocation failure of the turns that make those calls, through the turn engine
# (lib/replay.h, so linked against libduro-core) and a real in-memory SQLite store.
if HAVE_CHECK
check_PROGRAMS += tests/test-durable-alloc
TESTS += tests/test-durable-alloc
endif
tests_test_durable_alloc_SOURCES = tests/test-durable-alloc.c conformance/alloc-fault.h \
	conformance/alloc-fault.c
tests_test_durable_alloc_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JANSSON_CFLAGS)
tests_test_durable_alloc_LDADD = tests/libjunitcheck.la report/libduroreport.la \
	providers/sqlite/libduro-sqlite.la lib/libduro-core.la util/libduro-util.la \
	$(LIBXML_LIBS) $(CHECK_LIBS) $(JANSSON_LIBS)
