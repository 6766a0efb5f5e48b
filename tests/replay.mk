# tests/replay.mk — table-driven tests of the replay engine (included from tests/local.mk).
# Linked against libduro-core to reach the engine's internal interface (lib/replay.h).
if HAVE_CHECK
check_PROGRAMS += tests/test-replay
TESTS += tests/test-replay
tests_test_replay_SOURCES = tests/test-replay.c
tests_test_replay_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JANSSON_CFLAGS)
tests_test_replay_LDADD = tests/libjunitcheck.la report/libduroreport.la lib/libduro-core.la \
	$(LIBXML_LIBS) $(CHECK_LIBS) $(JANSSON_LIBS)
endif
