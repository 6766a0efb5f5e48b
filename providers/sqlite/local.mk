# providers/sqlite/local.mk — libduro-sqlite: the embedded SQLite provider (":memory:" and
# WAL files). The sources are built once as a convenience library, which the installed
# library wraps (exporting only the public duro_ API) and which the SQLite unit test links
# directly to reach the provider's internals. The layers, bottom to top, are listed in
# sqlite-internal.h; a file calls only the layers below it.
noinst_LTLIBRARIES += providers/sqlite/libduro-sqlite-core.la
providers_sqlite_libduro_sqlite_core_la_SOURCES = \
	providers/sqlite/duro-sqlite.h providers/sqlite/sqlite-internal.h \
	providers/sqlite/stmt.h providers/sqlite/stmt.c \
	util/duro-notify.h util/notify.c \
	providers/sqlite/pool.h providers/sqlite/pool.c \
	providers/sqlite/schema.h providers/sqlite/schema.c \
	providers/sqlite/queue.h providers/sqlite/queue.c \
	providers/sqlite/orch.c providers/sqlite/work.c \
	providers/sqlite/read.c providers/sqlite/manage.c providers/sqlite/kv.c \
	providers/sqlite/hooks.c providers/sqlite/provider.c
providers_sqlite_libduro_sqlite_core_la_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)

lib_LTLIBRARIES += providers/sqlite/libduro-sqlite.la
include_HEADERS += providers/sqlite/duro-sqlite.h
pkgconfig_DATA += providers/sqlite/duro-sqlite.pc

providers_sqlite_libduro_sqlite_la_SOURCES = providers/sqlite/duro-sqlite.h
providers_sqlite_libduro_sqlite_la_LIBADD = providers/sqlite/libduro-sqlite-core.la \
	util/libduro-util.la lib/libduro.la $(SQLITE_LIBS)
providers_sqlite_libduro_sqlite_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(DURO_LT_VERSION)

