/*
 * pool.h — the connection pool and the transactions of the PostgreSQL provider, above one
 * connection (conn.h) and change notification (notify.h).
 *
 * duro__pg_run() takes a connection (reconnecting one that broke), runs a caller's function
 * inside BEGIN ... COMMIT, and retries the whole function after a serialization failure or a
 * deadlock (SQLSTATE 40001/40P01) with a growing random backoff, and once after a connection
 * lost before COMMIT (the transaction certainly did not commit). A connection lost during
 * COMMIT is surfaced as DURO_EIO retryable: the outcome is unknown, which the runtime's
 * at-least-once contract covers. A write transaction that made work visible NOTIFYs the
 * schema's channel inside the transaction, so other processes learn of it exactly when it
 * commits, and wakes this process's own waiters after the commit.
 */
#ifndef DURO_PG_POOL_H
#define DURO_PG_POOL_H

#include <pthread.h>
#include <stddef.h>

#include "conn.h"
#include "duro-notify.h"

/* Notification bit of a commit that changed data but made no queue work visible: other
 * processes' wait_commit waiters still want to hear of it. */
#define DURO__PG_NOTE_COMMIT 4u

/* Transaction kinds (duro__pg_run flags). */
#define DURO__PG_WRITE 0   /* read committed read-write; NOTIFY with DURO__PG_NOTE_COMMIT at least */
#define DURO__PG_LOCK 1    /* lock bookkeeping (fetch, renew): NOTIFY only the notes it sets */
#define DURO__PG_READ 2    /* one read-only snapshot (repeatable read), never notifies */

typedef struct duro__pg_pool {
    duro__pg_conn *conns;
    size_t n_conns;
    duro__pg_conn **idle;          /* stack of free connections */
    size_t n_idle;
    pthread_mutex_t mu;
    pthread_cond_t cv;             /* a connection was given back */
    duro__pg_conn_settings set;    /* borrowed strings */
    const char *channel;           /* NOTIFY channel (borrowed) */
    char sender[17];               /* this provider object in NOTIFY payloads ("notes:sender"),
                                    * so that its listener skips its own commits */
    int max_retries;
    duro__notifier *notes;         /* told about every commit (borrowed) */
} duro__pg_pool;

/* The body of a transaction: 0 to commit, or a negative DURO_E* code to roll back (err
 * filled). It may be run several times (retries) and must reset its outputs at the start.
 * It sets the DURO__NOTE_* bits (and DURO__PG_NOTE_COMMIT) of the work it made visible in
 * *notes. */
typedef int (*duro__pg_txn_fn)(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err);

/* Initialise `pool` (zeroed) for `n` connections; none is opened yet (each connects on first
 * use). Returns 0 or DURO_ENOMEM. */
int duro__pg_pool_init(duro__pg_pool *pool, size_t n, const duro__pg_conn_settings *set,
                       const char *channel, int max_retries, duro__notifier *notes,
                       duro_error *err);
/* Close every connection and release the pool; no connection may be taken. */
void duro__pg_pool_destroy(duro__pg_pool *pool);

/* Run `fn` in one transaction of kind `flags` (see above). Returns what fn returned, or the
 * error of BEGIN/COMMIT/connecting (DURO_EIO retryable when the server cannot be reached;
 * DURO_EBUSY retryable when the retries of a serialization failure ran out). */
int duro__pg_run(duro__pg_pool *pool, int flags, duro__pg_txn_fn fn, void *arg,
                 duro_error *err);

/* Take a connected connection outside any transaction (migrations, hooks); give it back with
 * duro__pg_release. */
int duro__pg_take(duro__pg_pool *pool, duro__pg_conn **c, duro_error *err);
void duro__pg_release(duro__pg_pool *pool, duro__pg_conn *c);

#endif /* DURO_PG_POOL_H */
