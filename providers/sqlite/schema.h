/*
 * schema.h — the versioned schema of the SQLite provider (schema.c), applied through one
 * connection (stmt.h) when the provider opens.
 */
#ifndef DURO_SQLITE_SCHEMA_H
#define DURO_SQLITE_SCHEMA_H

#include "stmt.h"

/* Make the database of `c`, just opened on `path` (named in every message), a duro store of
 * the newest schema version, inside one IMMEDIATE transaction and before anything else writes
 * to it: a store of an older version is migrated (idempotent: a current store is left as it
 * is). A database without duro's schema is initialised only when it is empty (0 bytes or no
 * schema objects) and `may_initialise` is set. Errors: DURO_ECORRUPT (not a database, an
 * empty one not to be initialised, another program's database, a damaged store),
 * DURO_ENOTSUP (schema newer than this library), or the error of the SQL itself. */
int duro__sq_prepare_store(duro__sq_conn *c, const char *path, int may_initialise,
                           duro_error *err);
/* The read-only counterpart: check, inside one read transaction, that the database of `c` is
 * a complete duro store of the newest schema version, writing nothing. Errors as above, and
 * DURO_ENOTSUP for a store of an older version (it needs a read-write open to migrate). */
int duro__sq_check_store(duro__sq_conn *c, const char *path, duro_error *err);
/* Schema version this library writes. */
int duro__sq_schema_version(void);

#endif /* DURO_SQLITE_SCHEMA_H */
