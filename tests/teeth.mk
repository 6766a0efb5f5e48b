# tests/teeth.mk — the conformance suite's teeth (included from tests/local.mk): test-teeth
# runs the suite against providers that each break one rule of the contract
# (tests/broken-provider.c) and asserts that the expected cases catch it.
if HAVE_CHECK
check_PROGRAMS += tests/test-teeth
TESTS += tests/test-teeth

tests_test_teeth_SOURCES = tests/test-teeth.c tests/broken-provider.c tests/broken-provider.h
tests_test_teeth_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBXML_CFLAGS)
tests_test_teeth_LDADD = providertest/libduro-providertest.la \
	providertest/libduro-sqlite-factory.la providers/sqlite/libduro-sqlite.la $(JUNIT_CHECK_LIBS)
endif
