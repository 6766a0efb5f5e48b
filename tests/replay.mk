# tests/replay.mk — table-driven tests of the replay engine and of the conformance runner's
# skip reporting (included from tests/local.mk).
# Linked against libduro-core to reach the engine's internal interface (lib/replay.h).
if HAVE_CHECK
check_PROGRAMS += tests/test-replay
TESTS += tests/test-replay
tests_test_replay_SOURCES = tests/test-replay.c
tests_test_replay_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JANSSON_CFLAGS)
tests_test_replay_LDADD = tests/libjunitcheck.la report/libduroreport.la lib/libduro-core.la \
	util/libduro-util.la \
	$(LIBXML_LIBS) $(CHECK_LIBS) $(JANSSON_LIBS)
endif

# The conformance runner's SKIPPED reporting (tests/test-conformance-skip.c).
if HAVE_CHECK
check_PROGRAMS += tests/test-conformance-skip
TESTS += tests/test-conformance-skip
# The case registry is hidden in libduro-providertest, so the test compiles the conformance
# sources itself to count the cases it expects.
tests_test_conformance_skip_SOURCES = tests/test-conformance-skip.c \
	$(duro_conformance_lib_sources) providertest/factory-check.c
tests_test_conformance_skip_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBXML_CFLAGS)
tests_test_conformance_skip_LDADD = providertest/libduro-sqlite-factory.la \
	providers/sqlite/libduro-sqlite.la $(JUNIT_CHECK_LIBS)
endif

# A benchmark of one turn's cost against history size (run by hand, not a test).
noinst_PROGRAMS += tests/bench-replay
tests_bench_replay_SOURCES = tests/bench-replay.c
tests_bench_replay_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_bench_replay_LDADD = lib/libduro-core.la util/libduro-util.la $(JANSSON_LIBS)
