# tests/abi.mk — the versioned ABI: a provider with the frozen version-1 vtable layout
# (tests/provider-ops-v1.h) runs under this library, and options structs are read only as far
# as their size says.
if HAVE_CHECK
check_PROGRAMS += tests/test-ops-v1
TESTS += tests/test-ops-v1
endif

tests_test_ops_v1_SOURCES = tests/test-ops-v1.c tests/provider-ops-v1.h
tests_test_ops_v1_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_ops_v1_LDADD = providers/sqlite/libduro-sqlite.la $(JUNIT_CHECK_LIBS)
