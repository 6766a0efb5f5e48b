/*
 * schema.h — the versioned schema of the SQLite provider (schema.c), applied through one
 * connection (stmt.h) when the provider opens.
 */
#ifndef DURO_SQLITE_SCHEMA_H
#define DURO_SQLITE_SCHEMA_H

#include "stmt.h"

/* Bring the database of `c` to the newest schema version inside one transaction. Idempotent.
 * DURO_ENOTSUP when the database is newer than this library. */
int duro__sq_migrate(duro__sq_conn *c, duro_error *err);
/* Schema version this library writes. */
int duro__sq_schema_version(void);

#endif /* DURO_SQLITE_SCHEMA_H */
