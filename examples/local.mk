# examples/local.mk — the example programs: built by `make` (ci/main-job.sh runs
# examples/hello when no stress target exists) and run by `make check`.
noinst_PROGRAMS += examples/hello examples/fanout
TESTS += examples/hello examples/fanout

examples_hello_SOURCES = examples/hello.c
examples_hello_LDADD = providers/sqlite/libduro-sqlite.la lib/libduro.la

examples_fanout_SOURCES = examples/fanout.c
examples_fanout_LDADD = providers/sqlite/libduro-sqlite.la lib/libduro.la
