/*
 * schema.h — the versioned schema of the PostgreSQL provider and its migrations, above one
 * connection (conn.h).
 */
#ifndef DURO_PG_SCHEMA_H
#define DURO_PG_SCHEMA_H

#include "conn.h"

/* The version this library writes: the number of its migrations. */
int duro__pg_schema_version(void);
/* In one transaction under pg_advisory_xact_lock (one lock per schema, so that any number
 * of processes may migrate an empty database at once): create the schema `c` is set up for
 * when it is missing, then apply every migration after the recorded version up to `target`
 * (duro__pg_schema_version() for a real open; smaller in the upgrade tests). Returns 0,
 * DURO_ENOTSUP (the schema is newer than this library) or the error of a statement. */
int duro__pg_migrate(duro__pg_conn *c, int target, duro_error *err);
/* The recorded version of the schema (0 when it has none), or a negative DURO_E* code. */
int duro__pg_stored_version(duro__pg_conn *c, duro_error *err);
/* For a read-only open: check, changing nothing, that the schema `c` is set up for exists
 * at exactly this library's version. Returns 0; DURO_ENOTFOUND (no such schema, or one
 * without a schema_version table); DURO_EINVAL (an older version: it needs a read-write open
 * to migrate); DURO_ENOTSUP (newer than this library); or the error of a query. */
int duro__pg_check_version(duro__pg_conn *c, duro_error *err);

#endif /* DURO_PG_SCHEMA_H */
