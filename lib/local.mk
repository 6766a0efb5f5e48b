# lib/local.mk — libduro: the runtime (public API, replay engine, dispatchers, client, codec, metrics).
# libduro-core is the same code as a convenience library, for tests that reach the engine's
# internals (duro__*; such a test also links util/libduro-util.la, which a convenience library
# never contains, so that no library links it twice); the installed libduro exports exactly the DURO_EXTERN declarations of
# its installed headers (compiled with -fvisibility=hidden; checked by ci/check-exports.sh).
lib_LTLIBRARIES += lib/libduro.la
noinst_LTLIBRARIES += lib/libduro-core.la
include_HEADERS += lib/duro.h lib/duro-common.h lib/duro-provider.h
pkgconfig_DATA += lib/duro.pc

lib_libduro_core_la_SOURCES = \
	lib/duro.h lib/duro-common.h lib/duro-provider.h lib/internal.h \
	lib/error.c lib/util.c lib/provider.c \
	lib/codec.c lib/codec.h \
	lib/registry.c \
	lib/replay.c lib/replay.h lib/context.c \
	lib/runtime.c lib/activity.c lib/client.c lib/manage.c \
	lib/metrics.c lib/metrics.h
lib_libduro_core_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
lib_libduro_core_la_LIBADD = $(JANSSON_LIBS)

lib_libduro_la_SOURCES =
lib_libduro_la_LIBADD = lib/libduro-core.la util/libduro-util.la $(JANSSON_LIBS)
lib_libduro_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(DURO_LT_VERSION)
