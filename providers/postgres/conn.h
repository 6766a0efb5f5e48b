/*
 * conn.h — the bottom layer of the PostgreSQL provider: one libpq connection, its set of
 * prepared statements, the helpers that bind parameters, run statements and read results,
 * and the mapping of SQLSTATEs to DURO_E* errors. Nothing here knows about pools, queues or
 * the provider object.
 *
 * Every SQL text is a static string kept next to the code that runs it; its address is the
 * key of its prepared statement on each connection (prepared on first use, again after a
 * reconnect), except for the few run unprepared because their best plan depends on their
 * parameter values. User data is always a parameter, never formatted into SQL.
 */
#ifndef DURO_PG_CONN_H
#define DURO_PG_CONN_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "duro-common.h"

#define DURO__PG_MAX_STMTS 160

/* How a connection is set up after it connects. */
typedef struct duro__pg_conn_settings {
    const char *conninfo;
    const char *schema;            /* search_path */
    int statement_timeout_ms;
    int lock_timeout_ms;
    int synchronous_commit;
    int dead_client_timeout_ms;    /* idle_in_transaction_session_timeout, tcp_user_timeout;
                                    * 0: not set */
    int read_only;                 /* default_transaction_read_only=on: the server refuses
                                    * every write (SQLSTATE 25006) */
} duro__pg_conn_settings;

/* One connection; used by one thread at a time (taken from the pool). */
typedef struct duro__pg_conn {
    PGconn *pg;
    const duro__pg_conn_settings *set;
    const char *keys[DURO__PG_MAX_STMTS]; /* SQL texts prepared on this connection */
    size_t n_keys;
    int broken;                    /* the connection failed: reconnect before the next use */
    int retry;                     /* the last error was a serialization failure or deadlock */
    int in_commit;                 /* set while COMMIT runs: a lost connection there leaves the
                                    * outcome unknown */
    const char *pending_begin;     /* a BEGIN not sent yet: it goes out in one round trip with
                                    * the transaction's first statement (duro__pg_begin) */
} duro__pg_conn;

/* Map a failed result (or a NULL result) of `c` to a DURO_E* code, fill `err` with
 * "<what>: <server message>" and return the code. 40001/40P01 set c->retry (DURO_EBUSY
 * retryable); 57014 statement timeout, 55P03 lock timeout, 53xxx → DURO_EBUSY retryable;
 * 08xxx, 57P0x and a lost connection → DURO_EIO retryable (and mark c broken); 23xxx →
 * DURO_ECONSTRAINT; 22xxx → DURO_EINVAL; XX001/XX002 → DURO_ECORRUPT; 25006 (a write in a
 * read-only session) → DURO_EIO not retryable; else DURO_EIO. */
int duro__pg_error(duro__pg_conn *c, PGresult *res, const char *what, duro_error *err);

/* Connect `c` (zeroed or broken) as `set` says: search_path, timeouts, synchronous_commit,
 * bytea_output, default_transaction_read_only when set->read_only. Returns 0, or DURO_EIO
 * retryable with `c` closed. */
int duro__pg_conn_open(duro__pg_conn *c, const duro__pg_conn_settings *set, duro_error *err);
/* Close the connection; `c` may be half open. */
void duro__pg_conn_close(duro__pg_conn *c);
/* Run a statement that takes no parameters and returns no rows (BEGIN, COMMIT, ...), not
 * prepared. Returns 0 or a DURO_E* code. */
int duro__pg_simple(duro__pg_conn *c, const char *sql, duro_error *err);

/* Open a transaction with `begin_sql` (a static BEGIN text) without a round trip of its own:
 * it is sent, pipelined (libpq pipeline mode), with the next statement of the helpers below,
 * and a failure of either is reported there. A COMMIT or ROLLBACK through duro__pg_simple
 * while it is still pending sends nothing (the transaction ran no statement). Returns 0. */
int duro__pg_begin(duro__pg_conn *c, const char *begin_sql);

/* Parameter format characters for the helpers below, one per $N parameter in order:
 *   't' const char * as text (NULL binds SQL NULL)
 *   'b' const char * as bytea, sent binary (NULL binds SQL NULL): opaque payloads
 *   'i' int64_t      'u' uint64_t      'd' int
 * SQL texts cast their parameters ($1::text, $2::bigint, $3::bytea) where the type would
 * otherwise be ambiguous. */

/* Prepare `sql` (once per connection), run it with the parameters and return the result in
 * *out (the caller PQclear()s it). Returns 0 or a DURO_E* code (err filled, nothing in *out). */
int duro__pg_query(duro__pg_conn *c, const char *sql, PGresult **out, duro_error *err,
                   const char *fmt, ...);
/* As duro__pg_query, but unprepared: the server plans `sql` for these parameter values on
 * every call. For a query whose filters decide its plan (an ordered index scan stopped by
 * LIMIT for a broad filter, a sort of the few matches for a narrow one), which the generic
 * plan a prepared statement may switch to after five calls would not follow. */
int duro__pg_query_unprepared(duro__pg_conn *c, const char *sql, PGresult **out,
                              duro_error *err, const char *fmt, ...);
/* Run `sql` and return the number of rows it changed or returned (>= 0), or a negative
 * DURO_E* code. */
int duro__pg_exec(duro__pg_conn *c, const char *sql, duro_error *err, const char *fmt, ...);
/* Run a query expected to return at most one row of one integer column. Returns 1 with *out
 * set (SQL NULL reads as `dflt`), 0 when there is no row (*out = dflt), or a negative DURO_E*. */
int duro__pg_int(duro__pg_conn *c, const char *sql, int64_t dflt, int64_t *out,
                 duro_error *err, const char *fmt, ...);

/* Result readers. */
int64_t duro__pg_get_i64(const PGresult *r, int row, int col);
int duro__pg_is_null(const PGresult *r, int row, int col);
/* Copy a text column as a malloc'ed string; SQL NULL gives NULL. 0 or DURO_ENOMEM. */
int duro__pg_get_str(const PGresult *r, int row, int col, char **out, duro_error *err);
/* Decode a bytea column (text format, hex) into a malloc'ed NUL-terminated string; SQL NULL
 * gives NULL. Returns 0, DURO_ENOMEM, or DURO_ECORRUPT when the bytes hold a NUL (they are
 * not text). */
int duro__pg_get_bytes(const PGresult *r, int row, int col, char **out, duro_error *err);

#endif /* DURO_PG_CONN_H */
