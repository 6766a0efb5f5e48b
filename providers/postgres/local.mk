# providers/postgres/local.mk — libduro-postgres: the PostgreSQL provider (libpq), built only
# when configure found libpq (HAVE_LIBPQ). The sources are built once as a convenience
# library, which the installed library wraps (exporting only the public duro_ API) and which
# the PostgreSQL unit test links directly to reach the provider's internals (migrations to
# older versions). The layers, bottom to top, are listed in pg-internal.h.
EXTRA_DIST += providers/postgres/duro-postgres.h providers/postgres/pg-internal.h \
	providers/postgres/conn.h providers/postgres/conn.c \
	util/duro-notify.h util/notify.c \
	providers/postgres/listen.h providers/postgres/listen.c \
	providers/postgres/pool.h providers/postgres/pool.c \
	providers/postgres/schema.h providers/postgres/schema.c \
	providers/postgres/queue.h providers/postgres/queue.c \
	providers/postgres/orch.c providers/postgres/work.c \
	providers/postgres/read.c providers/postgres/manage.c providers/postgres/kv.c \
	providers/postgres/hooks.c providers/postgres/provider.c
if HAVE_LIBPQ
noinst_LTLIBRARIES += providers/postgres/libduro-postgres-core.la
providers_postgres_libduro_postgres_core_la_SOURCES = \
	providers/postgres/duro-postgres.h providers/postgres/pg-internal.h \
	providers/postgres/conn.h providers/postgres/conn.c \
	util/duro-notify.h util/notify.c \
	providers/postgres/listen.h providers/postgres/listen.c \
	providers/postgres/pool.h providers/postgres/pool.c \
	providers/postgres/schema.h providers/postgres/schema.c \
	providers/postgres/queue.h providers/postgres/queue.c \
	providers/postgres/orch.c providers/postgres/work.c \
	providers/postgres/read.c providers/postgres/manage.c providers/postgres/kv.c \
	providers/postgres/hooks.c providers/postgres/provider.c
providers_postgres_libduro_postgres_core_la_CFLAGS = $(AM_CFLAGS) $(LIBPQ_CFLAGS)

lib_LTLIBRARIES += providers/postgres/libduro-postgres.la
include_HEADERS += providers/postgres/duro-postgres.h
pkgconfig_DATA += providers/postgres/duro-postgres.pc

providers_postgres_libduro_postgres_la_SOURCES = providers/postgres/duro-postgres.h
providers_postgres_libduro_postgres_la_LIBADD = providers/postgres/libduro-postgres-core.la \
	util/libduro-util.la lib/libduro.la $(LIBPQ_LIBS)
providers_postgres_libduro_postgres_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(DURO_LT_VERSION)
endif
