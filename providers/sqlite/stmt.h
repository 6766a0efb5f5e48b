/*
 * stmt.h — the bottom layer of the SQLite provider: one connection, its cache of prepared
 * statements, the helpers that bind, step and read them, and the mapping of SQLite result
 * codes to DURO_E* errors. Nothing here knows about pools, queues or the provider object.
 *
 * Every SQL text is a static string kept next to the code that runs it and is used as the
 * cache key for its prepared statement; user data is always bound, never formatted into SQL.
 */
#ifndef DURO_SQLITE_STMT_H
#define DURO_SQLITE_STMT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "duro-common.h"

/* One cached prepared statement, keyed by the address of its static SQL text. */
typedef struct duro__sq_cached {
    const char *key;
    sqlite3_stmt *stmt;
} duro__sq_cached;

/* One SQLite connection; used by one thread at a time (taken from the pool). */
typedef struct duro__sq_conn {
    sqlite3 *db;
    duro__sq_cached *cache; /* open-addressing table, capacity a power of two */
    size_t cache_cap;
    size_t cache_len;
    int relaxed;            /* a lock-bookkeeping transaction lowered synchronous */
    int lock_only;          /* the open transaction is lock bookkeeping (duro__sq_begin_lock) */
} duro__sq_conn;

/* How duro__sq_conn_open sets up a connection. */
typedef struct duro__sq_conn_settings {
    const char *path;       /* file name, or ":memory:" */
    int memory;             /* the private in-memory database: no WAL, no synchronous */
    int busy_timeout_ms;    /* SQLite's busy handler, for writers of other processes */
    int synchronous_normal; /* PRAGMA synchronous=NORMAL instead of FULL (files only) */
    int synchronous_off;    /* PRAGMA synchronous=OFF instead of FULL (files only) */
    int read_only;          /* SQLITE_OPEN_READONLY; no pragma that writes (files only) */
} duro__sq_conn_settings;

/* Map a SQLite result code of `db` (may be NULL) to a DURO_E* code, fill `err` with
 * "<what>: <sqlite message>" and return the code. BUSY/LOCKED → DURO_EBUSY retryable;
 * IOERR/FULL/CANTOPEN/PROTOCOL → DURO_EIO retryable; READONLY → DURO_EIO permanent, the
 * message saying the store is read-only; CONSTRAINT → DURO_ECONSTRAINT;
 * CORRUPT/NOTADB → DURO_ECORRUPT; NOMEM → DURO_ENOMEM; anything else DURO_EIO permanent. */
int duro__sq_error(sqlite3 *db, int rc, const char *what, duro_error *err);

/* Open `c` (zeroed) on set->path, which must exist (or be ":memory:"), with extended result
 * codes and the busy timeout, writing nothing to the file yet. A file SQLite can only read
 * is DURO_EIO ("read-only"). Returns 0, or a DURO_E* code with `c` closed. */
int duro__sq_conn_open(duro__sq_conn *c, const duro__sq_conn_settings *set, duro_error *err);
/* Set up an open `c` for a file: WAL journaling (which writes the file's header) and the
 * synchronous level; nothing for ":memory:". Returns 0 or a DURO_E* code; the caller closes
 * `c` on failure. */
int duro__sq_conn_setup(duro__sq_conn *c, const duro__sq_conn_settings *set, duro_error *err);
/* Finalize every cached statement and close the connection; `c` may be half open. */
void duro__sq_conn_close(duro__sq_conn *c);

/* Size (bytes, as SQL text) to which a file store's WAL is cut back when it starts over
 * (PRAGMA journal_size_limit): 64 MiB, far above its size between checkpoints. */
#define DURO__SQ_WAL_LIMIT_TEXT "67108864"

/* Bind format characters for the helpers below, one per `?N` parameter in order:
 *   't' const char * (NULL binds SQL NULL; borrowed until the statement is reset)
 *   'i' int64_t      'u' uint64_t (stored as a 64-bit integer)     'd' int */

/* Prepare `sql` on `c` (cached across calls; `sql` must be a static string), bind the
 * arguments and hand the statement back in *out, ready to step. The caller steps it with
 * duro__sq_step() and must call duro__sq_reset() before giving the connection back.
 * Returns 0 or a DURO_E* code (err filled): SQL that does not fit the database (no such
 * table, column or index) is DURO_ECORRUPT "damaged duro store: ...". */
/* Pointer type of a bound version filter (bind format 'f': a const duro_version_filter *). */
#define DURO__SQ_FILTER_TYPE "duro_version_filter"
/* Register duro_route_ok(filter, can_name, can_version, row_name, row_version, start_name,
 * start_version) on `db`: 1 when the route, the first pair whose name is not NULL,
 * is accepted by the filter (see "Version filtering" in duro-provider.h), or when no pair has
 * a name; else 0. Returns an SQLite result code. */
int duro__sq_register_route_ok(sqlite3 *db);

int duro__sq_query(duro__sq_conn *c, const char *sql, sqlite3_stmt **out, duro_error *err,
                   const char *fmt, ...);
/* Bind more arguments to a statement from duro__sq_query(), from parameter ?first on (for
 * the rows of a multi-row statement). Returns 0 or a DURO_E* code (err filled); on error
 * the caller resets the statement. */
int duro__sq_bind_from(duro__sq_conn *c, sqlite3_stmt *st, int first, duro_error *err,
                       const char *fmt, ...);
/* Step: 1 when a row is available, 0 when done, or a negative DURO_E* code (err filled). */
int duro__sq_step(duro__sq_conn *c, sqlite3_stmt *st, duro_error *err);
/* Reset a statement from duro__sq_query() and clear its bindings. */
void duro__sq_reset(sqlite3_stmt *st);
/* Prepare, bind and run `sql` to completion. Returns the number of rows it changed (>= 0) or
 * a negative DURO_E* code (err filled). */
int duro__sq_exec(duro__sq_conn *c, const char *sql, duro_error *err, const char *fmt, ...);
/* Run a query expected to return at most one row of one integer column. Returns 1 with *out
 * set (NULL reads as `dflt`), 0 when there is no row (*out = dflt), or a negative DURO_E*. */
int duro__sq_int(duro__sq_conn *c, const char *sql, int64_t dflt, int64_t *out,
                 duro_error *err, const char *fmt, ...);
/* Copy column `col` of the current row as a malloc'ed string; a NULL column gives NULL.
 * Returns 0 or DURO_ENOMEM (err filled). */
int duro__sq_col_strdup(sqlite3_stmt *st, int col, char **out, duro_error *err);

#endif /* DURO_SQLITE_STMT_H */
