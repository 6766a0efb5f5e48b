# tests/local.mk — Check unit and end-to-end tests of lib/ and the other libraries. Each
# area's rules live in its own fragment (check_PROGRAMS, TESTS, sources), included here;
# e2e.mk also builds tests/libjunitcheck.la, the JUnit helper the other Check programs link,
# and the e2e fixtures limits.mk reuses.
# mutants.mk adds `make check-mutants`, the mutation harness (not part of make check).
include tests/e2e.mk
include tests/metrics.mk
include tests/limits.mk
include tests/abi.mk
include tests/exports.mk
include tests/replay.mk
include tests/report.mk
include tests/sqlite.mk
include tests/postgres.mk
include tests/stress.mk
include tests/teeth.mk
include tests/lifecycle.mk
include tests/cli.mk
include tests/tags.mk
include tests/sessions.mk
include tests/kv.mk
include tests/capfilter.mk
include tests/durable.mk
include tests/mutants.mk
