# stress/local.mk — the stress suite: its sources (they build into libduro-providertest,
# defined in providertest/local.mk, with the public header stress/duro-stress.h), the
# duro-stress program (both embedded SQLite providers), and `make stress`. Its tests live in
# tests/stress.mk.

duro_stress_lib_sources = \
	stress/duro-stress.h stress/stress.h \
	stress/scenario.c stress/runner.c stress/integrity.c \
	stress/metrics.c stress/options.c stress/report.c stress/gate.c stress/main.c \
	stress/processes.c stress/role.c stress/ledger.c stress/prefill.c

bin_PROGRAMS += stress/duro-stress
stress_duro_stress_SOURCES = stress/duro-stress.c
stress_duro_stress_LDADD = providertest/libduro-providertest.la \
	providertest/libduro-sqlite-factory.la providers/sqlite/libduro-sqlite.la lib/libduro.la
if HAVE_LIBPQ
stress_duro_stress_CPPFLAGS = $(AM_CPPFLAGS) -DDURO_WITH_POSTGRES
stress_duro_stress_LDADD += providertest/libduro-postgres-factory.la \
	providers/postgres/libduro-postgres.la
endif

# make stress: the seed spec's default matrix (parallel fan-out, 20 in flight, 5 tasks of
# 10 ms, a 10 s window, configs 1/1 and 2/2) on both embedded SQLite providers, printing the
# results table. Extra flags: make stress STRESS_FLAGS='--repeat 3 --json stress.json'.
STRESS_FLAGS =
stress: stress/duro-stress$(EXEEXT)
	stress/duro-stress --provider all --scenario parallel --config 1/1,2/2 \
	  --max-concurrent 20 --duration 10 --tasks-per-instance 5 --activity-delay 10 \
	  $(STRESS_FLAGS)
.PHONY: stress

# CI recipes documented in docs/stress.md.
EXTRA_DIST += ci/github-actions.yml.example ci/gitlab-ci.yml.example
