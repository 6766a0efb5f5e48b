# providertest/local.mk — libduro-providertest, the provider test suite a provider links
# against: the conformance cases and their runner (conformance/), the stress scenarios,
# driver and gates (stress/), its installed headers duro-providertest.h and duro-stress.h, and
# its pkg-config file. Defined here, in one place; conformance/local.mk and stress/local.mk
# list their sources and build the two programs. Also the suites' factories for the SQLite
# provider (libduro-sqlite-factory, not installed), which the programs and tests link so that
# the production libduro-sqlite stays free of the suites.
lib_LTLIBRARIES += providertest/libduro-providertest.la
include_HEADERS += providertest/duro-providertest.h providertest/duro-fault.h stress/duro-stress.h
pkgconfig_DATA += providertest/duro-providertest.pc

providertest_libduro_providertest_la_SOURCES = providertest/duro-providertest.h \
	providertest/factory-check.h providertest/factory-check.c \
	providertest/duro-fault.h providertest/fault.c \
	$(duro_conformance_lib_sources) $(duro_stress_lib_sources)
providertest_libduro_providertest_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBXML_CFLAGS) \
	$(JANSSON_CFLAGS)
providertest_libduro_providertest_la_LIBADD = lib/libduro.la report/libduroreport.la \
	util/libduro-util.la $(CHECK_LIBS) $(LIBXML_LIBS) $(JANSSON_LIBS)
# --exclude-libs: Check is linked statically on Debian; its symbols stay hidden too.
providertest_libduro_providertest_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(DURO_LT_VERSION) \
	-Wl,--exclude-libs,ALL

noinst_LTLIBRARIES += providertest/libduro-sqlite-factory.la
providertest_libduro_sqlite_factory_la_SOURCES = providertest/sqlite-factory.h \
	providertest/sqlite-factory.c providertest/sqlite-fault-vfs.h providertest/sqlite-fault-vfs.c
# The hold_write_lock hook of "sqlite-file" holds BEGIN IMMEDIATE on a raw connection.
providertest_libduro_sqlite_factory_la_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
providertest_libduro_sqlite_factory_la_LIBADD = $(SQLITE_LIBS)

# The PostgreSQL provider's factory for the suites (not installed), when libpq was found.
if HAVE_LIBPQ
noinst_LTLIBRARIES += providertest/libduro-postgres-factory.la
providertest_libduro_postgres_factory_la_SOURCES = providertest/postgres-factory.h \
	providertest/postgres-factory.c
# The hold_write_lock hook of "postgres" holds LOCK TABLE on a raw libpq connection.
providertest_libduro_postgres_factory_la_CFLAGS = $(AM_CFLAGS) $(LIBPQ_CFLAGS)
providertest_libduro_postgres_factory_la_LIBADD = $(LIBPQ_LIBS)
endif
EXTRA_DIST += providertest/postgres-factory.h providertest/postgres-factory.c
