# tests/kv.mk — durable values end to end (tests/test-kv on both SQLite providers; included
# from tests/local.mk).
if HAVE_CHECK
check_PROGRAMS += tests/test-kv
TESTS += tests/test-kv
endif
tests_test_kv_SOURCES = tests/test-kv.c $(E2E_SOURCES)
tests_test_kv_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_kv_LDADD = $(E2E_LDADD)
