/*
 * pool.c — the connection pool and the transactions of the SQLite provider (see pool.h).
 */
#include "pool.h"

#include <stdlib.h>
#include <time.h>

/* ---- Background checkpoint --------------------------------------------------------------- */

/* sqlite3_wal_hook of the pooled connections (replacing SQLite's inline auto-checkpoint):
 * after a commit that leaves `frames` frames in the WAL, wake the checkpointer when that is
 * DURO__SQ_CHECKPOINT_FRAMES or more. */
static int wal_hook(void *arg, sqlite3 *db, const char *schema, int frames)
{
    duro__sq_pool *pool = arg;

    if (frames >= DURO__SQ_CHECKPOINT_FRAMES) {
        pthread_mutex_lock(&pool->ckpt_mu);
        pool->ckpt_wanted = 1;
        pthread_cond_signal(&pool->ckpt_cv);
        pthread_mutex_unlock(&pool->ckpt_mu);
    }
    return SQLITE_OK;
}

/* One round of the checkpointer. A PASSIVE checkpoint never blocks a writer or a reader,
 * but under a steady stream of commits it never catches up with the end of the WAL, and
 * SQLite starts the WAL over only after a checkpoint that did: the file then grows without
 * bound (hundreds of MB a second), and every commit extends it. So when the WAL is still
 * DURO__SQ_RESTART_FRAMES long after the PASSIVE pass has copied the bulk, a RESTART
 * checkpoint runs with the writer mutex held: no writer of this process appends meanwhile
 * (none waits in SQLite's busy handler either), it copies the short tail and waits for the
 * readers, and the next commit writes the WAL from its start again. */
static void checkpoint_round(duro__sq_pool *pool)
{
    int frames = 0;

    if (sqlite3_wal_checkpoint_v2(pool->ckpt_conn.db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                  &frames, NULL) != SQLITE_OK ||
        frames < DURO__SQ_RESTART_FRAMES)
        return;
    pthread_mutex_lock(&pool->write_mu);
    if (sqlite3_wal_checkpoint_v2(pool->ckpt_conn.db, NULL, SQLITE_CHECKPOINT_RESTART, NULL,
                                  NULL) == SQLITE_OK)
        pool->restarts++;
    pthread_mutex_unlock(&pool->write_mu);
}

/* The checkpointer: a checkpoint round each time a commit asks for one, until the pool
 * closes. A failed checkpoint is tried again at the next request; the WAL keeps every
 * commit either way. */
static void *checkpointer(void *arg)
{
    duro__sq_pool *pool = arg;

    pthread_mutex_lock(&pool->ckpt_mu);
    for (;;) {
        while (!pool->ckpt_wanted && !pool->ckpt_stop)
            pthread_cond_wait(&pool->ckpt_cv, &pool->ckpt_mu);
        if (pool->ckpt_stop)
            break;
        pool->ckpt_wanted = 0;
        pthread_mutex_unlock(&pool->ckpt_mu);
        checkpoint_round(pool);
        pthread_mutex_lock(&pool->ckpt_mu);
        pool->checkpoints++;
        pthread_cond_broadcast(&pool->ckpt_cv);
    }
    pthread_mutex_unlock(&pool->ckpt_mu);
    return NULL;
}

/* Open the checkpointer's connection, hook the pooled connections and start the thread. */
static int start_checkpointer(duro__sq_pool *pool, const duro__sq_conn_settings *set,
                              duro_error *err)
{
    int rc = duro__sq_conn_open(&pool->ckpt_conn, set, err);

    if (rc == 0)
        rc = duro__sq_conn_setup(&pool->ckpt_conn, set, err);
    if (rc != 0) {
        duro__sq_conn_close(&pool->ckpt_conn);
        return rc;
    }
    if (pthread_mutex_init(&pool->ckpt_mu, NULL) != 0) {
        duro__sq_conn_close(&pool->ckpt_conn);
        return duro_error_set(err, DURO_ENOMEM, 0, "cannot initialise the checkpointer lock");
    }
    if (pthread_cond_init(&pool->ckpt_cv, NULL) != 0) {
        pthread_mutex_destroy(&pool->ckpt_mu);
        duro__sq_conn_close(&pool->ckpt_conn);
        return duro_error_set(err, DURO_ENOMEM, 0, "cannot initialise the checkpointer lock");
    }
    sqlite3_wal_hook(pool->ckpt_conn.db, NULL, NULL);
    if (pthread_create(&pool->ckpt_thread, NULL, checkpointer, pool) != 0) {
        pthread_cond_destroy(&pool->ckpt_cv);
        pthread_mutex_destroy(&pool->ckpt_mu);
        duro__sq_conn_close(&pool->ckpt_conn);
        return duro_error_set(err, DURO_ENOMEM, 1, "cannot start the checkpoint thread");
    }
    pool->ckpt_running = 1;
    for (size_t i = 0; i < pool->n_conns; i++)
        sqlite3_wal_hook(pool->conns[i].db, wal_hook, pool);
    return 0;
}

int duro__sq_pool_init(duro__sq_pool *pool, size_t n, const duro__sq_conn_settings *set,
                       int relax_lock_writes, duro__notifier *notes,
                       int (*first_open)(duro__sq_conn *c, void *arg, duro_error *err),
                       void *arg, duro_error *err)
{
    int rc = 0;

    pool->conns = calloc(n, sizeof(*pool->conns));
    pool->idle = calloc(n, sizeof(*pool->idle));
    if (pool->conns == NULL || pool->idle == NULL) {
        free(pool->conns);
        free(pool->idle);
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory opening %s", set->path);
    }
    if (pthread_mutex_init(&pool->mu, NULL) != 0) {
        rc = DURO_ENOMEM;
    } else if (pthread_cond_init(&pool->cv, NULL) != 0) {
        pthread_mutex_destroy(&pool->mu);
        rc = DURO_ENOMEM;
    } else if (pthread_mutex_init(&pool->write_mu, NULL) != 0) {
        pthread_cond_destroy(&pool->cv);
        pthread_mutex_destroy(&pool->mu);
        rc = DURO_ENOMEM;
    } else if (pthread_mutex_init(&pool->gc_mu, NULL) != 0) {
        pthread_mutex_destroy(&pool->write_mu);
        pthread_cond_destroy(&pool->cv);
        pthread_mutex_destroy(&pool->mu);
        rc = DURO_ENOMEM;
    } else if (pthread_cond_init(&pool->gc_cv, NULL) != 0) {
        pthread_mutex_destroy(&pool->gc_mu);
        pthread_mutex_destroy(&pool->write_mu);
        pthread_cond_destroy(&pool->cv);
        pthread_mutex_destroy(&pool->mu);
        rc = DURO_ENOMEM;
    }
    if (rc != 0) {
        free(pool->conns);
        free(pool->idle);
        return duro_error_set(err, rc, 0, "cannot initialise the pool locks");
    }
    pool->n_conns = n;
    pool->relax_lock_writes = relax_lock_writes;
    pool->notes = notes;
    pool->group_commit = !set->memory;
    pool->gc_tail = &pool->gc_head;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = duro__sq_conn_open(&pool->conns[i], set, err);
        if (rc == 0 && i == 0 && first_open != NULL)
            rc = first_open(&pool->conns[0], arg, err);
        if (rc == 0)
            rc = duro__sq_conn_setup(&pool->conns[i], set, err);
        if (rc == 0)
            pool->idle[pool->n_idle++] = &pool->conns[i];
    }
    if (rc == 0 && !set->memory && !set->read_only) /* a read-only handle never writes */
        rc = start_checkpointer(pool, set, err);
    if (rc != 0)
        duro__sq_pool_destroy(pool);
    return rc;
}

void duro__sq_pool_destroy(duro__sq_pool *pool)
{
    if (pool->ckpt_running) {
        pthread_mutex_lock(&pool->ckpt_mu);
        pool->ckpt_stop = 1;
        pthread_cond_signal(&pool->ckpt_cv);
        pthread_mutex_unlock(&pool->ckpt_mu);
        pthread_join(pool->ckpt_thread, NULL);
        duro__sq_conn_close(&pool->ckpt_conn);
        pthread_cond_destroy(&pool->ckpt_cv);
        pthread_mutex_destroy(&pool->ckpt_mu);
        pool->ckpt_running = 0;
    }
    for (size_t i = 0; i < pool->n_conns; i++)
        duro__sq_conn_close(&pool->conns[i]);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->write_mu);
    pthread_cond_destroy(&pool->gc_cv);
    pthread_mutex_destroy(&pool->gc_mu);
    free(pool->conns);
    free(pool->idle);
    pool->conns = NULL;
    pool->idle = NULL;
    pool->n_conns = pool->n_idle = 0;
}

static duro__sq_conn *pool_take(duro__sq_pool *pool)
{
    duro__sq_conn *c;

    pthread_mutex_lock(&pool->mu);
    while (pool->n_idle == 0)
        pthread_cond_wait(&pool->cv, &pool->mu);
    c = pool->idle[--pool->n_idle];
    pthread_mutex_unlock(&pool->mu);
    return c;
}

static void pool_give(duro__sq_pool *pool, duro__sq_conn *c)
{
    pthread_mutex_lock(&pool->mu);
    pool->idle[pool->n_idle++] = c;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}

static const char SQL_BEGIN_IMMEDIATE[] = "BEGIN IMMEDIATE";
static const char SQL_BEGIN[] = "BEGIN";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_SYNC_NORMAL[] = "PRAGMA synchronous=NORMAL";
/* end_write's internal marker for "committed, notify nobody" (never returned) */
#define DURO__SQ_QUIET 1
static const char SQL_SYNC_FULL[] = "PRAGMA synchronous=FULL";
static const char SQL_SAVEPOINT[] = "SAVEPOINT duro_job";
static const char SQL_RELEASE[] = "RELEASE duro_job";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO duro_job";

/* Roll back whatever transaction is open on `c` (no-op outside a transaction). */
static void rollback(duro__sq_conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        duro__sq_exec(c, SQL_ROLLBACK, NULL, "");
}

int duro__sq_begin_write(duro__sq_pool *pool, duro__sq_conn **c, duro_error *err)
{
    int rc;

    pthread_mutex_lock(&pool->write_mu);
    *c = pool_take(pool);
    rc = duro__sq_exec(*c, SQL_BEGIN_IMMEDIATE, err, "");
    if (rc < 0) {
        pool_give(pool, *c);
        pthread_mutex_unlock(&pool->write_mu);
        *c = NULL;
        return rc;
    }
    return 0;
}

int duro__sq_begin_lock(duro__sq_pool *pool, duro__sq_conn **c, duro_error *err)
{
    int rc;

    if (!pool->relax_lock_writes) {
        rc = duro__sq_begin_write(pool, c, err);
        if (rc == 0)
            (*c)->lock_only = 1;
        return rc;
    }
    pthread_mutex_lock(&pool->write_mu);
    *c = pool_take(pool);
    rc = duro__sq_exec(*c, SQL_SYNC_NORMAL, err, "");
    if (rc >= 0) {
        (*c)->relaxed = 1;
        rc = duro__sq_exec(*c, SQL_BEGIN_IMMEDIATE, err, "");
    }
    if (rc >= 0)
        (*c)->lock_only = 1;
    if (rc < 0) {
        if ((*c)->relaxed)
            duro__sq_exec(*c, SQL_SYNC_FULL, NULL, "");
        (*c)->relaxed = 0;
        pool_give(pool, *c);
        pthread_mutex_unlock(&pool->write_mu);
        *c = NULL;
        return rc;
    }
    return 0;
}

int duro__sq_end_write(duro__sq_pool *pool, duro__sq_conn *c, int rc, unsigned notes,
                       duro_error *err)
{
    if (rc == 0) {
        int crc = duro__sq_exec(c, SQL_COMMIT, err, "");
        if (crc < 0)
            rc = crc;
    }
    if (rc != 0)
        rollback(c);
    if (c->relaxed) {
        duro__sq_exec(c, SQL_SYNC_FULL, NULL, "");
        c->relaxed = 0;
    }
    /* lock bookkeeping that makes nothing fetchable (a fetch, a renewal) wakes nobody */
    if (c->lock_only && notes == 0)
        rc = rc == 0 ? DURO__SQ_QUIET : rc;
    c->lock_only = 0;
    pool_give(pool, c);
    pthread_mutex_unlock(&pool->write_mu);
    if (rc == DURO__SQ_QUIET)
        return 0;
    if (rc == 0)
        duro__notify(pool->notes, notes);
    return rc;
}

/* ---- Group commit ------------------------------------------------------------------------ */

/* Run `j` inside its own savepoint of the open transaction on `c` (or, when it is `alone` in
 * the transaction, directly in it). Returns 0 when its writes stand, its error otherwise with
 * its writes undone: rolled back to the savepoint, or the whole transaction rolled back (by
 * SQLite on a storage fault, or here when alone or when the savepoint cannot be rolled
 * back), which sqlite3_get_autocommit tells the caller. */
static int run_in_savepoint(duro__sq_conn *c, duro__sq_job *j, int alone)
{
    int rc = alone ? 0 : duro__sq_exec(c, SQL_SAVEPOINT, j->err, "");

    if (rc < 0)
        return rc;
    j->notes = 0;
    rc = j->body(c, j->arg, &j->notes, j->err);
    rc = rc < 0 ? rc : 0;
    if (alone) {
        if (rc != 0)
            rollback(c);
        return rc;
    }
    if (rc == 0) {
        rc = duro__sq_exec(c, SQL_RELEASE, j->err, "");
        rc = rc < 0 ? rc : 0;
    }
    if (rc != 0 && !sqlite3_get_autocommit(c->db)) {
        if (duro__sq_exec(c, SQL_ROLLBACK_TO, NULL, "") < 0 ||
            duro__sq_exec(c, SQL_RELEASE, NULL, "") < 0)
            rollback(c);
    }
    return rc;
}

/* Mark every job of the list `jobs` done and wake their callers, whose jobs (on their
 * stacks) must not be touched afterwards. */
static void finish_jobs(duro__sq_pool *pool, duro__sq_job *jobs)
{
    pthread_mutex_lock(&pool->gc_mu);
    for (duro__sq_job *j = jobs; j != NULL; j = j->next)
        j->done = 1;
    pthread_cond_broadcast(&pool->gc_cv);
    pthread_mutex_unlock(&pool->gc_mu);
}

/* The leader's work: with the writer held and a transaction begun on `c`, take every queued
 * job and run each in a savepoint, then COMMIT. A body whose storage fault ended the whole
 * transaction fails alone: the bodies that had succeeded before it in the batch are run
 * again, with the rest, in a new transaction. A failed COMMIT is the outcome of every body
 * that had succeeded (none of them is written). Returns how many jobs committed and ORs their
 * notes into *notes; every job taken is marked done (the leader's own job among them). */
static int lead_batch(duro__sq_pool *pool, duro__sq_conn *c, unsigned *notes)
{
    duro__sq_job *batch;
    int in_txn = 1, committed = 0;

    pthread_mutex_lock(&pool->gc_mu);
    batch = pool->gc_head;
    pool->gc_head = NULL;
    pool->gc_tail = &pool->gc_head;
    pool->gc_last_batch = pool->gc_queued;
    pool->gc_queued = 0;
    pthread_mutex_unlock(&pool->gc_mu);

    while (batch != NULL) {
        duro__sq_job *done = NULL, **done_tail = &done;
        duro_error cerr;
        int crc;

        if (!in_txn) { /* a storage fault ended the last transaction: begin a new one */
            crc = duro__sq_exec(c, SQL_BEGIN_IMMEDIATE, batch->err, "");
            if (crc < 0) { /* its first job takes the error; the rest try again */
                duro__sq_job *first = batch;
                batch = first->next;
                first->next = NULL;
                first->rc = crc;
                finish_jobs(pool, first);
                continue;
            }
            in_txn = 1;
        }
        while (batch != NULL) {
            duro__sq_job *j = batch;

            batch = j->next;
            j->next = NULL;
            j->rc = run_in_savepoint(c, j, done == NULL && batch == NULL);
            if (j->rc != 0 && sqlite3_get_autocommit(c->db)) {
                /* the transaction is gone: j fails alone, the ones before it run again */
                finish_jobs(pool, j);
                *done_tail = batch;
                batch = done;
                in_txn = 0;
                break;
            }
            *done_tail = j;
            done_tail = &j->next;
        }
        if (!in_txn)
            continue;
        crc = duro__sq_exec(c, SQL_COMMIT, &cerr, "");
        if (crc < 0)
            rollback(c);
        for (duro__sq_job *j = done; j != NULL; j = j->next) {
            if (j->rc == 0 && crc < 0) {
                j->rc = crc;
                if (j->err != NULL)
                    *j->err = cerr;
            } else if (j->rc == 0) {
                *notes |= j->notes;
                committed++;
            }
        }
        pthread_mutex_lock(&pool->gc_mu);
        if (crc >= 0) {
            pool->gc_batches++;
            pool->gc_jobs += (uint64_t)committed;
        }
        pthread_mutex_unlock(&pool->gc_mu);
        finish_jobs(pool, done);
    }
    return committed;
}

int duro__sq_commit(duro__sq_pool *pool, duro__sq_body body, void *arg, duro_error *err)
{
    duro__sq_job job = { body, arg, err, 0, 0, 0, NULL };
    duro__sq_conn *c;
    unsigned notes = 0;
    int committed, rc;

    if (!pool->group_commit) {
        rc = duro__sq_begin_write(pool, &c, err);
        if (rc != 0)
            return rc;
        rc = body(c, arg, &job.notes, err);
        return duro__sq_end_write(pool, c, rc < 0 ? rc : 0, job.notes, err);
    }
    pthread_mutex_lock(&pool->gc_mu);
    *pool->gc_tail = &job;
    pool->gc_tail = &job.next;
    pool->gc_queued++;
    pthread_cond_broadcast(&pool->gc_cv);
    while (!job.done && pool->gc_leader)
        pthread_cond_wait(&pool->gc_cv, &pool->gc_mu);
    if (job.done) {
        pthread_mutex_unlock(&pool->gc_mu);
        return job.rc;
    }
    pool->gc_leader = 1;
    pthread_mutex_unlock(&pool->gc_mu);

    pthread_mutex_lock(&pool->write_mu);
    c = pool_take(pool);
    rc = duro__sq_exec(c, SQL_BEGIN_IMMEDIATE, err, "");
    if (rc < 0) { /* only the leader's own commit fails; the queued ones get a new leader */
        pool_give(pool, c);
        pthread_mutex_unlock(&pool->write_mu);
        pthread_mutex_lock(&pool->gc_mu);
        for (duro__sq_job **pp = &pool->gc_head; *pp != NULL; pp = &(*pp)->next) {
            if (*pp == &job) {
                *pp = job.next;
                if (job.next == NULL)
                    pool->gc_tail = pp;
                break;
            }
        }
        pool->gc_queued--;
        pool->gc_leader = 0;
        pthread_cond_broadcast(&pool->gc_cv);
        pthread_mutex_unlock(&pool->gc_mu);
        return rc;
    }
    committed = lead_batch(pool, c, &notes);
    pool_give(pool, c);
    pthread_mutex_unlock(&pool->write_mu);
    pthread_mutex_lock(&pool->gc_mu);
    pool->gc_leader = 0;
    pthread_cond_broadcast(&pool->gc_cv);
    pthread_mutex_unlock(&pool->gc_mu);
    if (committed)
        duro__notify(pool->notes, notes);
    return job.rc;
}

void duro__sq_wait_queued(duro__sq_pool *pool, size_t n)
{
    pthread_mutex_lock(&pool->gc_mu);
    while (pool->gc_queued < n)
        pthread_cond_wait(&pool->gc_cv, &pool->gc_mu);
    pthread_mutex_unlock(&pool->gc_mu);
}

int duro__sq_wait_checkpoints(duro__sq_pool *pool, uint64_t n, int64_t timeout_ms)
{
    struct timespec until;
    int rc = 0;

    if (!pool->ckpt_running)
        return DURO_ETIMEDOUT;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(timeout_ms / 1000);
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&pool->ckpt_mu);
    while (rc == 0 && pool->checkpoints < n)
        rc = pthread_cond_timedwait(&pool->ckpt_cv, &pool->ckpt_mu, &until);
    rc = pool->checkpoints >= n ? 0 : DURO_ETIMEDOUT;
    pthread_mutex_unlock(&pool->ckpt_mu);
    return rc;
}

int duro__sq_begin_read(duro__sq_pool *pool, duro__sq_conn **c, duro_error *err)
{
    int rc;

    *c = pool_take(pool);
    rc = duro__sq_exec(*c, SQL_BEGIN, err, "");
    if (rc < 0) {
        pool_give(pool, *c);
        *c = NULL;
        return rc;
    }
    return 0;
}

void duro__sq_end_read(duro__sq_pool *pool, duro__sq_conn *c)
{
    rollback(c);
    pool_give(pool, c);
}
