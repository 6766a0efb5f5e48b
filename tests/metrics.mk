# tests/metrics.mk — the runtime metrics snapshot, its Prometheus exposition (compared with
# tests/metrics-expected.prom) and the trace hook, on both SQLite providers.
if HAVE_CHECK
check_PROGRAMS += tests/test-metrics
TESTS += tests/test-metrics
endif
EXTRA_DIST += tests/metrics-expected.prom

tests_test_metrics_SOURCES = tests/test-metrics.c $(E2E_SOURCES)
tests_test_metrics_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_metrics_LDADD = $(E2E_LDADD)
