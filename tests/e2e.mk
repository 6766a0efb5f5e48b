# tests/e2e.mk — end-to-end tests of the runtime and of the client's management calls on both
# SQLite providers (included from tests/local.mk; test-poison damages a file database's rows
# to reach the poison path), and
# tests/libjunitcheck.la: the helper that turns a Check runner's results into
# $DURO_JUNIT_DIR/<program>.xml. Any Check program may use it: call
# junit_check_run() (tests/junit-check.h) and add $(JUNIT_CHECK_LIBS) to its LDADD.
if HAVE_CHECK
check_LTLIBRARIES += tests/libjunitcheck.la
check_PROGRAMS += tests/test-e2e tests/test-e2e-fail tests/test-crash tests/test-poison
TESTS += tests/test-e2e tests/test-e2e-fail tests/test-crash tests/test-poison
endif

tests_libjunitcheck_la_SOURCES = tests/junit-check.c tests/junit-check.h
tests_libjunitcheck_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBXML_CFLAGS)
JUNIT_CHECK_LIBS = tests/libjunitcheck.la report/libduroreport.la util/libduro-util.la \
	lib/libduro.la \
	$(LIBXML_LIBS) $(CHECK_LIBS)

E2E_SOURCES = tests/e2e-common.c tests/e2e-common.h
E2E_LDADD = providertest/libduro-providertest.la providers/sqlite/libduro-sqlite.la \
	$(JUNIT_CHECK_LIBS)

tests_test_e2e_SOURCES = tests/test-e2e.c $(E2E_SOURCES)
tests_test_e2e_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_e2e_LDADD = $(E2E_LDADD)

tests_test_e2e_fail_SOURCES = tests/test-e2e-fail.c $(E2E_SOURCES)
tests_test_e2e_fail_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_e2e_fail_LDADD = $(E2E_LDADD)

tests_test_poison_SOURCES = tests/test-poison.c $(E2E_SOURCES)
tests_test_poison_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_test_poison_LDADD = $(E2E_LDADD) $(SQLITE_LIBS)

tests_test_crash_SOURCES = tests/test-crash.c $(E2E_SOURCES)
tests_test_crash_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JANSSON_CFLAGS)
tests_test_crash_LDADD = $(E2E_LDADD) $(JANSSON_LIBS)

# test-manage: the client's management calls on both providers (it replaces malloc, calloc
# and realloc to fail chosen allocations, see its allocation_failures test).
if HAVE_CHECK
check_PROGRAMS += tests/test-manage
TESTS += tests/test-manage
endif
tests_test_manage_SOURCES = tests/test-manage.c \
	conformance/alloc-fault.h conformance/alloc-fault.c $(E2E_SOURCES)
tests_test_manage_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_manage_LDADD = $(E2E_LDADD)
