/*
 * pool.c — the connection pool and the transactions of the SQLite provider (see pool.h).
 */
#include "pool.h"

#include <stdlib.h>

int duro__sq_pool_init(duro__sq_pool *pool, size_t n, const duro__sq_conn_settings *set,
                       int relax_lock_writes, duro__sq_notifier *notes,
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
    }
    if (rc != 0) {
        free(pool->conns);
        free(pool->idle);
        return duro_error_set(err, rc, 0, "cannot initialise the pool locks");
    }
    pool->n_conns = n;
    pool->relax_lock_writes = relax_lock_writes;
    pool->notes = notes;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = duro__sq_conn_open(&pool->conns[i], set, err);
        if (rc == 0 && i == 0 && first_open != NULL)
            rc = first_open(&pool->conns[0], arg, err);
        if (rc == 0)
            rc = duro__sq_conn_setup(&pool->conns[i], set, err);
        if (rc == 0)
            pool->idle[pool->n_idle++] = &pool->conns[i];
    }
    if (rc != 0)
        duro__sq_pool_destroy(pool);
    return rc;
}

void duro__sq_pool_destroy(duro__sq_pool *pool)
{
    for (size_t i = 0; i < pool->n_conns; i++)
        duro__sq_conn_close(&pool->conns[i]);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->write_mu);
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
        duro__sq_notify(pool->notes, notes);
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
