# tests/report.mk — the report library's Check test, and tests/output-dirs.sh: the report
# options of duro-conformance and duro-stress create missing folders and --help names the
# installed documentation (included from tests/local.mk).
if HAVE_CHECK
check_PROGRAMS += tests/test-report
TESTS += tests/test-report
endif

tests_test_report_SOURCES = tests/test-report.c
tests_test_report_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBXML_CFLAGS)
tests_test_report_LDADD = report/libduroreport.la util/libduro-util.la $(CHECK_LIBS) \
	$(LIBXML_LIBS)

TESTS += tests/output-dirs.sh
EXTRA_DIST += tests/output-dirs.sh
