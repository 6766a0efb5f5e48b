# providers/sqlite/local.mk — libduro-sqlite: the embedded SQLite provider (":memory:" and
# WAL files). The sources are built once as a convenience library, which the installed
# library wraps (exporting only the public duro_ API) and which the SQLite unit test links
# directly to reach the provider's internals.
noinst_LTLIBRARIES += providers/sqlite/libduro-sqlite-core.la
providers_sqlite_libduro_sqlite_core_la_SOURCES = \
	providers/sqlite/duro-sqlite.h providers/sqlite/sqlite-internal.h \
	providers/sqlite/sqlite.c providers/sqlite/schema.c \
	providers/sqlite/orch.c providers/sqlite/work.c \
	providers/sqlite/read.c providers/sqlite/manage.c \
	providers/sqlite/hooks.c
providers_sqlite_libduro_sqlite_core_la_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)

lib_LTLIBRARIES += providers/sqlite/libduro-sqlite.la
include_HEADERS += providers/sqlite/duro-sqlite.h
pkgconfig_DATA += providers/sqlite/duro-sqlite.pc

providers_sqlite_libduro_sqlite_la_SOURCES = providers/sqlite/duro-sqlite.h
providers_sqlite_libduro_sqlite_la_LIBADD = providers/sqlite/libduro-sqlite-core.la \
	lib/libduro.la $(SQLITE_LIBS)
# '^duro_[^_]': the public API only; private cross-file duro__ symbols stay hidden.
providers_sqlite_libduro_sqlite_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(DURO_LT_VERSION)

