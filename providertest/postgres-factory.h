/*
 * postgres-factory.h — the PostgreSQL provider's factory for the suites (not installed): the
 * duro-conformance and duro-stress programs and the tests link providertest/postgres-factory.c
 * beside libduro-postgres and libduro-providertest. Built only when configure found libpq.
 */
#ifndef DURO_POSTGRES_FACTORY_H
#define DURO_POSTGRES_FACTORY_H

#include "duro-providertest.h"

/* "postgres": a fresh schema with a unique name per create (duro_t_<pid>_<n>_<random>) on the
 * server of `conninfo`, dropped (CASCADE) on destroy; locate gives "<schema> <conninfo>" and
 * attach opens another handle on that schema; hold_write_lock holds every table of the schema
 * in EXCLUSIVE mode from a raw connection, and its busy handle waits lock_timeout_ms =
 * busy_ms. `conninfo` is copied. Honours DURO_PG_SYNC=off (synchronous_commit off). NULL when
 * out of memory. */
const duro_provider_factory *duro__postgres_factory(const char *conninfo);

/* The conninfo a program should use: `arg` (from --pg) when non-NULL, else the environment's
 * DURO_PG_CONNINFO, else NULL. */
const char *duro__postgres_conninfo(const char *arg);

#endif /* DURO_POSTGRES_FACTORY_H */
