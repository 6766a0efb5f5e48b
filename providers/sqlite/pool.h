/*
 * pool.h — the connection pool and the transactions of the SQLite provider, above one
 * connection (stmt.h) and change notification (notify.h). Readers take any idle
 * connection; writers of this process take the writer mutex before BEGIN IMMEDIATE, so they
 * queue on a mutex instead of sleeping in SQLite's busy handler (the busy timeout is left
 * for other processes). A commit that makes work visible notifies the pool's notifier.
 *
 * Durable commits of a file store go through group commit (duro__sq_commit): callers queue
 * their transaction bodies, whoever finds no leader becomes one, takes the writer and runs
 * every body queued by then in one transaction, each inside its own SAVEPOINT, with one
 * COMMIT (one fsync). Each caller gets its own body's outcome; a body that fails is rolled
 * back to its savepoint without touching the others (docs/decisions.md, "Group commit").
 *
 * A file store's WAL is checkpointed by a background thread on a connection of its own
 * (SQLite's inline auto-checkpoint is off on the pooled connections): a commit that leaves
 * the WAL at DURO__SQ_CHECKPOINT_FRAMES frames or more only wakes it, so no commit waits
 * for a checkpoint.
 */
#ifndef DURO_SQLITE_POOL_H
#define DURO_SQLITE_POOL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "duro-notify.h"
#include "stmt.h"

/* The body of one durable write transaction: runs its statements on `c` inside an open
 * transaction (or savepoint), sets *notes to the channels to wake once it is committed, and
 * returns 0 or a DURO_E* code (err filled). It may be run more than once (in a new
 * transaction, when a storage fault of another body ended the shared one) and must write
 * nothing outside the database. */
typedef int (*duro__sq_body)(duro__sq_conn *c, void *arg, unsigned *notes, duro_error *err);

/* One caller's commit waiting in (or run by) group commit. */
typedef struct duro__sq_job {
    duro__sq_body body;
    void *arg;
    duro_error *err;               /* the caller's */
    unsigned notes;
    int rc;
    int done;                      /* the outcome in rc/err is final */
    struct duro__sq_job *next;
} duro__sq_job;

/* WAL size (frames) at which a commit wakes the checkpointer: SQLite's auto-checkpoint
 * default. */
#define DURO__SQ_CHECKPOINT_FRAMES 1000
/* WAL size (frames) left after a PASSIVE checkpoint at which the checkpointer runs a RESTART
 * checkpoint under the writer mutex, so that the WAL starts over (see pool.c). */
#define DURO__SQ_RESTART_FRAMES 4000

typedef struct duro__sq_pool {
    duro__sq_conn *conns;          /* all connections */
    size_t n_conns;
    duro__sq_conn **idle;          /* stack of free connections */
    size_t n_idle;
    pthread_mutex_t mu;
    pthread_cond_t cv;             /* a connection was given back */
    pthread_mutex_t write_mu;      /* one in-process writer at a time (no busy sleeping) */
    int relax_lock_writes;         /* lock bookkeeping commits with synchronous=NORMAL */
    duro__notifier *notes;         /* told about every commit (borrowed) */
    int group_commit;              /* durable commits share transactions (file stores) */
    pthread_mutex_t gc_mu;         /* guards the fields below */
    pthread_cond_t gc_cv;          /* a batch finished, or a job was queued */
    duro__sq_job *gc_head;         /* commits waiting for a leader, oldest first */
    duro__sq_job **gc_tail;
    size_t gc_queued;              /* jobs in the list */
    int gc_leader;                 /* a leader is running a batch */
    uint64_t gc_batches;           /* transactions committed by group commit */
    uint64_t gc_jobs;              /* bodies committed in them */
    size_t gc_last_batch;          /* bodies run in the last batch (committed or not) */
    int ckpt_running;              /* the checkpointer thread exists (file stores) */
    pthread_t ckpt_thread;
    duro__sq_conn ckpt_conn;       /* its own connection, outside the pool */
    pthread_mutex_t ckpt_mu;       /* guards the fields below */
    pthread_cond_t ckpt_cv;        /* a checkpoint is wanted, or the pool closes */
    int ckpt_wanted;
    int ckpt_stop;
    uint64_t checkpoints;          /* checkpoints run by the thread */
    uint64_t restarts;             /* RESTART checkpoints that succeeded (written by the
                                    * thread only) */
} duro__sq_pool;

/* Initialise `pool` (zeroed) for `n` connections, each opened and set up as `set` says. The
 * first one is handed to `first_open(c, arg, err)` (when non-NULL) after it opens and before
 * its setup writes anything (WAL) and before the others open: the store check and migration.
 * `relax_lock_writes` is set when lock bookkeeping may skip the fsync (a file opened with
 * synchronous FULL). Returns 0 or a DURO_E* code (err filled, nothing left to destroy). */
int duro__sq_pool_init(duro__sq_pool *pool, size_t n, const duro__sq_conn_settings *set,
                       int relax_lock_writes, duro__notifier *notes,
                       int (*first_open)(duro__sq_conn *c, void *arg, duro_error *err),
                       void *arg, duro_error *err);
/* Close every connection and release the pool; no connection may be taken. */
void duro__sq_pool_destroy(duro__sq_pool *pool);

/* Take the writer mutex and a connection and BEGIN IMMEDIATE. Returns 0 with *c set, or a
 * DURO_E* code (nothing held). */
int duro__sq_begin_write(duro__sq_pool *pool, duro__sq_conn **c, duro_error *err);
/* Like duro__sq_begin_write, for transactions that only write lock bookkeeping (fetch, renew,
 * abandon: lock rows, lock tokens, attempt counts, visibility delays). On a file opened with
 * synchronous FULL they commit without an fsync: losing one in a power failure only makes a
 * message deliverable again, which at-least-once delivery allows, and the next durable
 * commit's fsync covers their WAL frames. End it with duro__sq_end_write. */
int duro__sq_begin_lock(duro__sq_pool *pool, duro__sq_conn **c, duro_error *err);
/* Finish a write transaction from duro__sq_begin_write: COMMIT when rc == 0, else ROLLBACK.
 * After a successful commit bumps commit_seq and the channels in `notes`, and wakes waiters
 * (a lock-bookkeeping transaction with no `notes` wakes nobody). Releases the connection
 * and the writer mutex. Returns rc, or the commit's error. */
int duro__sq_end_write(duro__sq_pool *pool, duro__sq_conn *c, int rc, unsigned notes,
                       duro_error *err);
/* Run `body(c, arg, &notes, err)` as one durable write transaction and return its outcome:
 * 0 when it returned 0 and its writes are committed (its notes then notified), else its
 * DURO_E* code with nothing of it written. On a file store it may share the transaction and
 * the fsync with bodies of other threads queued at the same time; it never waits for a
 * timer: a caller alone runs at once. On ":memory:" it is begin_write, body, end_write. */
int duro__sq_commit(duro__sq_pool *pool, duro__sq_body body, void *arg, duro_error *err);
/* For tests: block until at least `n` commits are queued waiting for a leader. */
void duro__sq_wait_queued(duro__sq_pool *pool, size_t n);
/* For tests: wait up to `timeout_ms` until the checkpointer has run at least `n`
 * checkpoints. 0, or DURO_ETIMEDOUT (also at once on ":memory:", which has none). */
int duro__sq_wait_checkpoints(duro__sq_pool *pool, uint64_t n, int64_t timeout_ms);

/* Take a connection and BEGIN a read transaction (one consistent snapshot). */
int duro__sq_begin_read(duro__sq_pool *pool, duro__sq_conn **c, duro_error *err);
/* End a read transaction and release the connection. */
void duro__sq_end_read(duro__sq_pool *pool, duro__sq_conn *c);

#endif /* DURO_SQLITE_POOL_H */
