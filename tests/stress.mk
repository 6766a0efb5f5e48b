# tests/stress.mk — tests of the stress suite (included from tests/local.mk): the smoke run
# of every scenario on both embedded providers, and the Check unit test of the suite's
# arithmetic, command line, gates, reports and runner. The unit test compiles the stress
# sources itself so that it can reach their internal (duro__) functions.
TESTS += stress/smoke.sh
EXTRA_DIST += stress/smoke.sh

if HAVE_CHECK
check_PROGRAMS += stress/test-stress
TESTS += stress/test-stress
endif

stress_test_stress_SOURCES = stress/test-stress.c $(duro_stress_lib_sources) \
	tests/junit-check.c tests/junit-check.h
stress_test_stress_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JANSSON_CFLAGS) $(LIBXML_CFLAGS)
stress_test_stress_LDADD = providers/sqlite/libduro-sqlite.la report/libduroreport.la \
	lib/libduro.la $(CHECK_LIBS) $(JANSSON_LIBS) $(LIBXML_LIBS)
