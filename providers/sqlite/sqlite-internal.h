/*
 * sqlite-internal.h — private interface shared by the files of the SQLite provider.
 *
 * sqlite.c owns the provider object: the connection pool, the per-connection cache of
 * prepared statements, transactions, error mapping and the in-process notification that
 * wakes long-polling fetches. schema.c creates and migrates the tables; orch.c, work.c,
 * read.c and manage.c implement the callbacks of duro-provider.h on top of the helpers
 * declared here. Every SQL text is a static string kept next to the code that runs it and is
 * used as the cache key for its prepared statement; user data is always bound, never
 * formatted into SQL.
 */
#ifndef DURO_SQLITE_INTERNAL_H
#define DURO_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "duro-provider.h"
#include "duro-sqlite.h"

/* Notification channels a committed write can signal (bit set). */
#define DURO__SQ_NOTE_ORCH 1u /* orchestrator messages may have become fetchable */
#define DURO__SQ_NOTE_WORK 2u /* work items may have become fetchable */

/* "No future visibility time known" for the long-poll wake-up computation. */
#define DURO__SQ_NEVER INT64_MAX

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

typedef struct duro_sqlite {
    duro_provider base;            /* first member: the provider contract */
    char *path;                    /* as opened; ":memory:" for the private database */
    int memory;
    duro_sqlite_options opt;

    duro__sq_conn *conns;          /* all connections */
    size_t n_conns;
    duro__sq_conn **idle;          /* stack of free connections */
    size_t n_idle;
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;

    pthread_mutex_t write_mu;      /* one in-process writer at a time (no busy sleeping) */

    pthread_mutex_t note_mu;
    pthread_condattr_t mono_attr;  /* CLOCK_MONOTONIC, for every condition variable below */
    pthread_cond_t commit_cv;      /* wait_commit waiters; broadcast on every commit */
    struct duro__sq_fetcher *fetchers[2]; /* long-polling fetchers of the orchestrator and
                                    * the work queue, most recent first (woken LIFO) */
    struct duro__sq_fetcher *spare_fetchers; /* records not in use (freed on close) */
    uint64_t commit_seq;
    uint64_t orch_seq;
    uint64_t work_seq;
    uint64_t interrupt_gen;        /* bumped by interrupt(): ends the waits begun before */
} duro_sqlite;

/* ---- Errors (sqlite.c) ------------------------------------------------------------------ */

/* Map a SQLite result code of `db` (may be NULL) to a DURO_E* code, fill `err` with
 * "<what>: <sqlite message>" and return the code. BUSY/LOCKED → DURO_EBUSY retryable;
 * IOERR/FULL/CANTOPEN/PROTOCOL → DURO_EIO retryable; CONSTRAINT → DURO_ECONSTRAINT;
 * CORRUPT/NOTADB → DURO_ECORRUPT; NOMEM → DURO_ENOMEM; anything else DURO_EIO permanent. */
int duro__sq_error(sqlite3 *db, int rc, const char *what, duro_error *err);

/* ---- Statements (sqlite.c) -------------------------------------------------------------- */

/* Bind format characters for the helpers below, one per `?N` parameter in order:
 *   't' const char * (NULL binds SQL NULL; borrowed until the statement is reset)
 *   'i' int64_t      'u' uint64_t (stored as a 64-bit integer)     'd' int */

/* Prepare `sql` on `c` (cached across calls; `sql` must be a static string), bind the
 * arguments and hand the statement back in *out, ready to step. The caller steps it with
 * duro__sq_step() and must call duro__sq_reset() before giving the connection back.
 * Returns 0 or a DURO_E* code (err filled). */
int duro__sq_query(duro__sq_conn *c, const char *sql, sqlite3_stmt **out, duro_error *err,
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

/* ---- Transactions and connections (sqlite.c) -------------------------------------------- */

/* Take the writer mutex and a connection and BEGIN IMMEDIATE. Returns 0 with *c set, or a
 * DURO_E* code (nothing held). */
int duro__sq_begin_write(duro_sqlite *s, duro__sq_conn **c, duro_error *err);
/* Like duro__sq_begin_write, for transactions that only write lock bookkeeping (fetch, renew,
 * abandon: lock rows, lock tokens, attempt counts, visibility delays). On a file opened with
 * synchronous FULL they commit without an fsync: losing one in a power failure only makes a
 * message deliverable again, which at-least-once delivery allows, and the next durable
 * commit's fsync covers their WAL frames. End it with duro__sq_end_write. */
int duro__sq_begin_lock(duro_sqlite *s, duro__sq_conn **c, duro_error *err);
/* Finish a write transaction from duro__sq_begin_write: COMMIT when rc == 0, else ROLLBACK.
 * After a successful commit bumps commit_seq and the channels in `notes`, and wakes waiters.
 * Releases the connection and the writer mutex. Returns rc, or the commit's error. */
int duro__sq_end_write(duro_sqlite *s, duro__sq_conn *c, int rc, unsigned notes,
                       duro_error *err);
/* Take a connection and BEGIN a read transaction (one consistent snapshot). */
int duro__sq_begin_read(duro_sqlite *s, duro__sq_conn **c, duro_error *err);
/* End a read transaction and release the connection. */
void duro__sq_end_read(duro_sqlite *s, duro__sq_conn *c);

/* ---- Long polling (sqlite.c) ------------------------------------------------------------ */

/* One attempt of a fetch at time `now`: 0 when an item was taken (with *next set to `now`
 * when another item is fetchable right away, so one more sleeping fetcher is woken; left
 * alone otherwise), DURO_ENOTFOUND when none (with *next set to the earliest future time at
 * which something may become fetchable, or DURO__SQ_NEVER), or another DURO_E* code. */
typedef int (*duro__sq_try_fn)(duro_sqlite *s, int64_t now, void *arg, int64_t *next,
                               duro_error *err);
/* Run `try` at now_ms and, while it finds nothing and poll_ms has not passed, wait for a
 * commit on channel `note`, the earliest next time it reports, or 50 ms (other processes),
 * re-trying with now_ms advanced by the real elapsed time. Returns what the last try did;
 * DURO_ENOTFOUND (err filled, retryable) once the poll time is over or when interrupt() is
 * called during the poll. */
int duro__sq_poll(duro_sqlite *s, unsigned note, int64_t now_ms, int64_t poll_ms,
                  duro__sq_try_fn try, void *arg, duro_error *err);

/* ---- Schema (schema.c) ------------------------------------------------------------------- */

/* Bring the database of `c` to the newest schema version inside one transaction. Idempotent.
 * DURO_ENOTSUP when the database is newer than this library. */
int duro__sq_migrate(duro__sq_conn *c, duro_error *err);
/* Schema version this library writes. */
int duro__sq_schema_version(void);

/* ---- Callbacks (orch.c, work.c, read.c, manage.c) --------------------------------------- */

int duro__sq_enqueue_orch(duro_provider *p, const duro_msg *msg, duro_error *err);
/* Insert one orchestrator message inside the caller's write transaction. */
int duro__sq_insert_msg(duro__sq_conn *c, const duro_msg *msg, duro_error *err);
/* 1 when `instance` holds a live orchestration lock at `now_ms`, 0 when not, or an error. */
int duro__sq_instance_locked(duro__sq_conn *c, const char *instance, int64_t now_ms,
                             duro_error *err);
int duro__sq_fetch_orch(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_orch_item **out, duro_error *err);
int duro__sq_ack_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                      const duro_orch_commit *commit, duro_error *err);
int duro__sq_abandon_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                          int64_t delay_ms, int ignore_attempt, duro_error *err);
int duro__sq_renew_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t extend_ms, duro_error *err);

int duro__sq_enqueue_work(duro_provider *p, const duro_work_in *work, duro_error *err);
/* Insert one work item inside the caller's write transaction. */
int duro__sq_insert_work(duro__sq_conn *c, const duro_work_in *work, duro_error *err);
int duro__sq_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_work_item **out, duro_error *err);
int duro__sq_ack_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                      const duro_msg *completion, duro_error *err);
int duro__sq_abandon_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                          int64_t delay_ms, int ignore_attempt, duro_error *err);
int duro__sq_renew_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t extend_ms, duro_error *err);

int duro__sq_read_history(duro_provider *p, const char *instance, uint64_t execution_id,
                          duro_event **events, size_t *n, duro_error *err);
int duro__sq_instance_info(duro_provider *p, const char *instance, duro_instance_info *out,
                           duro_error *err);

int duro__sq_list_instances(duro_provider *p, int state_filter, char ***ids, size_t *n,
                            duro_error *err);
int duro__sq_list_executions(duro_provider *p, const char *instance, uint64_t **ids,
                             size_t *n, duro_error *err);
int duro__sq_execution_info(duro_provider *p, const char *instance, uint64_t execution_id,
                            duro_execution_info *out, duro_error *err);
int duro__sq_list_children(duro_provider *p, const char *instance, char ***ids, size_t *n,
                           duro_error *err);
int duro__sq_delete_instance(duro_provider *p, int64_t now_ms, const char *instance,
                             int force, duro_delete_result *out, duro_error *err);
int duro__sq_delete_bulk(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                         duro_delete_result *out, duro_error *err);
int duro__sq_prune(duro_provider *p, int64_t now_ms, const char *instance,
                   const duro_prune_options *opt, duro_delete_result *out, duro_error *err);
int duro__sq_queue_depths(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                          duro_error *err);
int duro__sq_metrics(duro_provider *p, duro_metrics *out, duro_error *err);

/* ---- Small shared helpers --------------------------------------------------------------- */

/* The SQLite provider behind `p`, or NULL when `p` is another provider. */
duro_sqlite *duro__sq_from(duro_provider *p);
/* Path the provider was opened with (borrowed; ":memory:" for in-memory). */
const char *duro__sq_path(duro_provider *p);
/* Saturating now + delta, so huge lock or delay values cannot overflow. */
int64_t duro__sq_add_ms(int64_t now, int64_t delta);
/* Fill err with DURO_EINVAL "<what> is required" when s is NULL or empty; else 0. */
int duro__sq_need_str(const char *s, const char *what, duro_error *err);

#endif /* DURO_SQLITE_INTERNAL_H */
