# examples/local.mk — the example programs: built by `make` (ci/main-job.sh runs
# examples/hello when no stress target exists) and run by `make check`.
noinst_PROGRAMS += examples/hello examples/fanout examples/tracing
TESTS += examples/hello examples/fanout examples/tracing

examples_hello_SOURCES = examples/hello.c
examples_hello_LDADD = providers/sqlite/libduro-sqlite.la lib/libduro.la

examples_fanout_SOURCES = examples/fanout.c
examples_fanout_LDADD = providers/sqlite/libduro-sqlite.la lib/libduro.la

examples_tracing_SOURCES = examples/tracing.c
examples_tracing_CFLAGS = $(AM_CFLAGS)
examples_tracing_LDADD = providers/sqlite/libduro-sqlite.la lib/libduro.la
