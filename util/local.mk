# util/local.mk — libduro-util: the small helpers every duro library shares (strings,
# monotonic clocks, growable arrays), built once as a convenience library. Only shared
# libraries and programs link it (libtool copies a convenience library whole into each
# library that links it, so another convenience library never does). Not installed; its
# duro__ names are hidden everywhere.
noinst_LTLIBRARIES += util/libduro-util.la
util_libduro_util_la_SOURCES = util/duro-util.h util/util.c

# The in-process notifier and long-polling loop of both providers (util/duro-notify.h) is
# compiled into each provider's own convenience library (their SOURCES name util/notify.c),
# not into libduro-util: libduro and the suites never wait for commits themselves.
