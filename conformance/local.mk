# conformance/local.mk — the conformance suite's sources (they build into
# libduro-providertest, defined in providertest/local.mk) and the duro-conformance program,
# which make check runs on both embedded providers.

# One file per category (conformance/cases/<category>.c); suite.h lists the categories.
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
	conformance/cases/time_edges.c \
	conformance/cases/ordering.c \
	conformance/cases/wakeups.c \
	conformance/cases/cancellation.c \
	conformance/cases/management.c \
	conformance/cases/deletion.c \
	conformance/cases/bulk_deletion.c \
	conformance/cases/prune.c \
	conformance/cases/referential.c \
	conformance/cases/invalid_commits.c \
	conformance/cases/handles.c \
	conformance/cases/contention.c \
	conformance/cases/allocation_failures.c \
	conformance/cases/tags.c \
	conformance/cases/sessions.c \
	conformance/cases/kv.c \
	conformance/cases/capability_filtering.c

duro_conformance_lib_sources = conformance/suite.h \
	conformance/registry.c conformance/runner.c conformance/fixtures.c \
	$(duro_conformance_cases)

bin_PROGRAMS += conformance/duro-conformance
conformance_duro_conformance_SOURCES = conformance/duro-conformance.c \
	conformance/alloc-fault.h conformance/alloc-fault.c
conformance_duro_conformance_LDADD = providertest/libduro-providertest.la \
	providertest/libduro-sqlite-factory.la providers/sqlite/libduro-sqlite.la lib/libduro.la
if HAVE_LIBPQ
conformance_duro_conformance_CPPFLAGS = $(AM_CPPFLAGS) -DDURO_WITH_POSTGRES
conformance_duro_conformance_LDADD += providertest/libduro-postgres-factory.la \
	providers/postgres/libduro-postgres.la
endif

# make check: the whole suite on both embedded providers; the runner's exit status is the
# test result and each run leaves its JUnit file in $DURO_JUNIT_DIR.
TESTS += conformance/run-sqlite.sh conformance/run-sqlite-file.sh
EXTRA_DIST += conformance/run-sqlite.sh conformance/run-sqlite-file.sh conformance/run-postgres.sh
# ... and on PostgreSQL when configure found libpq (a throwaway server, ci/pg-server.sh). Not
# registered at all without libpq, so it can never pass silently.
if HAVE_LIBPQ
TESTS += conformance/run-postgres.sh
endif
