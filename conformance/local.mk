# conformance/local.mk — libduro-providertest (the conformance cases, their runner and
# fixtures; the stress helper appends its sources to the same library from stress/local.mk)
# and the duro-conformance program, which make check runs on both embedded providers.
lib_LTLIBRARIES += conformance/libduro-providertest.la
include_HEADERS += conformance/duro-providertest.h
pkgconfig_DATA += conformance/duro-providertest.pc

# One file per category (conformance/cases/<category>.c); registry.c lists their arrays.
duro_conformance_cases = \
	conformance/cases/atomicity.c \
	conformance/cases/instance_creation.c \
	conformance/cases/instance_locking.c \
	conformance/cases/lock_expiry.c \
	conformance/cases/queue_semantics.c \
	conformance/cases/multi_execution.c \
	conformance/cases/error_handling.c \
	conformance/cases/attempt_counts.c \
	conformance/cases/custom_status.c \
	conformance/cases/long_polling.c \
	conformance/cases/cancellation.c \
	conformance/cases/management.c \
	conformance/cases/deletion.c \
	conformance/cases/bulk_deletion.c \
	conformance/cases/prune.c

conformance_libduro_providertest_la_SOURCES = \
	conformance/duro-providertest.h conformance/suite.h \
	conformance/registry.c conformance/runner.c conformance/fixtures.c \
	$(duro_conformance_cases)
conformance_libduro_providertest_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBXML_CFLAGS)
conformance_libduro_providertest_la_LIBADD = lib/libduro.la report/libduroreport.la \
	$(CHECK_LIBS) $(LIBXML_LIBS)
conformance_libduro_providertest_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(DURO_LT_VERSION) \
	-export-symbols-regex '^duro_[^_]'

bin_PROGRAMS += conformance/duro-conformance
conformance_duro_conformance_SOURCES = conformance/duro-conformance.c
conformance_duro_conformance_LDADD = conformance/libduro-providertest.la \
	providers/sqlite/libduro-sqlite.la lib/libduro.la

# make check: the whole suite on both embedded providers; the runner's exit status is the
# test result and each run leaves its JUnit file in $DURO_JUNIT_DIR.
TESTS += conformance/run-sqlite.sh conformance/run-sqlite-file.sh
EXTRA_DIST += conformance/run-sqlite.sh conformance/run-sqlite-file.sh
