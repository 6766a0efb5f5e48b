/*
 * sqlite-factory.h — the SQLite provider's factories for the suites (not installed): the
 * duro-conformance and duro-stress programs and the tests link providertest/sqlite-factory.c
 * beside libduro-sqlite and libduro-providertest.
 */
#ifndef DURO_SQLITE_FACTORY_H
#define DURO_SQLITE_FACTORY_H

#include "duro-providertest.h"

/* "sqlite": a fresh private in-memory database per create. */
const duro_provider_factory *duro__sqlite_factory_memory(void);
/* "sqlite-file": a fresh WAL file under $TMPDIR or /tmp per create, removed with its -wal and
 * -shm files on destroy; honours DURO_SQLITE_SYNC=normal or off for synchronous NORMAL or
 * OFF; locate and attach open more handles on the same file; hold_write_lock holds the
 * file's write lock from a raw connection (the in-memory factory has neither: no second
 * connection can open a private in-memory database). */
const duro_provider_factory *duro__sqlite_factory_file(void);

#endif /* DURO_SQLITE_FACTORY_H */
