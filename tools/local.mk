# tools/local.mk — the `duro` command (tools/duro.c): list, show, history, tree, raise,
# cancel, delete, prune and stats over the client management API, on SQLite or PostgreSQL.
# Its tests are in tests/cli.mk.

bin_PROGRAMS += tools/duro
tools_duro_SOURCES = tools/duro.c
tools_duro_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tools_duro_LDADD = $(DURO_TOOL_POSTGRES_LIBS) providers/sqlite/libduro-sqlite.la lib/libduro.la \
	$(JANSSON_LIBS)
# --postgres: the PostgreSQL provider, when configure found libpq (DURO_HAVE_POSTGRES)
if HAVE_LIBPQ
DURO_TOOL_POSTGRES_LIBS = providers/postgres/libduro-postgres.la
endif
