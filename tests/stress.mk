# tests/stress.mk — tests of the stress suite (included from tests/local.mk): the smoke run
# of every scenario on both embedded providers (stress/smoke.sh, gated on 100% success and
# clean integrity checks), stress/sync.sh (--sync full|normal|off: row names, the JSON's
# "sync" and statements per orchestration), and stress/test-stress, the Check test of the suite's arithmetic,
# command line, gates, reports and runner. test-stress compiles the stress sources itself so
# that it reaches their internal (duro__) functions whatever the library exports.
TESTS += stress/smoke.sh stress/sync.sh
EXTRA_DIST += stress/smoke.sh stress/sync.sh

if HAVE_CHECK
check_PROGRAMS += stress/test-stress
TESTS += stress/test-stress
endif

stress_test_stress_SOURCES = stress/test-stress.c $(duro_stress_lib_sources) \
	providertest/factory-check.c providertest/fault.c
stress_test_stress_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JANSSON_CFLAGS) $(LIBXML_CFLAGS)
stress_test_stress_LDADD = providertest/libduro-sqlite-factory.la \
	providers/sqlite/libduro-sqlite.la $(JUNIT_CHECK_LIBS) \
	$(JANSSON_LIBS)
