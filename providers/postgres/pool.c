/*
 * pool.c — the connection pool and the transaction runner of the PostgreSQL provider (see
 * pool.h).
 */
#include "pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char SQL_NOTIFY[] = "SELECT pg_notify($1::text, $2::text)";

int duro__pg_pool_init(duro__pg_pool *pool, size_t n, const duro__pg_conn_settings *set,
                       const char *channel, int max_retries, duro__notifier *notes,
                       duro_error *err)
{
    pool->conns = calloc(n, sizeof(*pool->conns));
    pool->idle = calloc(n, sizeof(*pool->idle));
    if (pool->conns == NULL || pool->idle == NULL) {
        free(pool->conns);
        free(pool->idle);
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (connection pool)");
    }
    pool->n_conns = n;
    for (size_t i = 0; i < n; i++)
        pool->idle[i] = &pool->conns[n - 1 - i];
    pool->n_idle = n;
    pool->set = *set;
    pool->channel = channel;
    pool->max_retries = max_retries;
    pool->notes = notes;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    return 0;
}

void duro__pg_pool_destroy(duro__pg_pool *pool)
{
    for (size_t i = 0; i < pool->n_conns; i++)
        duro__pg_conn_close(&pool->conns[i]);
    free(pool->conns);
    free(pool->idle);
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->mu);
}

static duro__pg_conn *take_idle(duro__pg_pool *pool)
{
    duro__pg_conn *c;

    pthread_mutex_lock(&pool->mu);
    while (pool->n_idle == 0)
        pthread_cond_wait(&pool->cv, &pool->mu);
    c = pool->idle[--pool->n_idle];
    pthread_mutex_unlock(&pool->mu);
    return c;
}

void duro__pg_release(duro__pg_pool *pool, duro__pg_conn *c)
{
    pthread_mutex_lock(&pool->mu);
    pool->idle[pool->n_idle++] = c;
    pthread_mutex_unlock(&pool->mu);
    pthread_cond_signal(&pool->cv);
}

/* Make `c` usable: (re)connect when it never connected or broke. */
static int ensure_connected(duro__pg_pool *pool, duro__pg_conn *c, duro_error *err)
{
    if (c->pg != NULL && !c->broken && PQstatus(c->pg) == CONNECTION_OK)
        return 0;
    return duro__pg_conn_open(c, &pool->set, err);
}

int duro__pg_take(duro__pg_pool *pool, duro__pg_conn **out, duro_error *err)
{
    duro__pg_conn *c = take_idle(pool);
    int rc = ensure_connected(pool, c, err);

    if (rc != 0) {
        duro__pg_release(pool, c);
        return rc;
    }
    *out = c;
    return 0;
}

/* Sleep a random time below 2^attempt ms (at most 64 ms) before retrying a transaction. */
static void backoff(int attempt)
{
    unsigned cap = 1u << (attempt < 6 ? attempt : 6);
    long us = (long)(((unsigned)rand() % (cap * 1000u)) + 100u);
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

    nanosleep(&ts, NULL);
}

static const char *begin_sql(int flags)
{
    return flags == DURO__PG_READ ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN";
}

/* One attempt: BEGIN (sent with fn's first statement), fn, NOTIFY, COMMIT (or ROLLBACK). *lost_before_commit tells the caller
 * that the connection broke before COMMIT was sent (safe to run again). */
static int attempt(duro__pg_pool *pool, duro__pg_conn *c, int flags, duro__pg_txn_fn fn,
                   void *arg, unsigned *notes, int *lost_before_commit, duro_error *err)
{
    int rc = duro__pg_begin(c, begin_sql(flags));

    *notes = 0;
    *lost_before_commit = 0;
    if (rc != 0) {
        *lost_before_commit = c->broken;
        return rc;
    }
    rc = fn(c, arg, notes, err);
    if (rc > 0)
        rc = 0;
    if (rc == 0 && flags == DURO__PG_WRITE)
        *notes |= DURO__PG_NOTE_COMMIT;
    if (rc == 0 && flags != DURO__PG_READ && *notes != 0 && pool->channel != NULL) {
        char payload[64];
        snprintf(payload, sizeof payload, "%u:%s", *notes, pool->sender);
        rc = duro__pg_exec(c, SQL_NOTIFY, err, "tt", pool->channel, payload);
        if (rc > 0)
            rc = 0;
    }
    if (rc == 0) {
        c->in_commit = 1;
        rc = duro__pg_simple(c, "COMMIT", err);
        c->in_commit = 0;
        return rc;
    }
    if (c->broken) {
        *lost_before_commit = 1;
        return rc;
    }
    {
        int retry = c->retry;
        duro__pg_simple(c, "ROLLBACK", NULL);
        c->retry = retry;
    }
    return rc;
}

int duro__pg_run(duro__pg_pool *pool, int flags, duro__pg_txn_fn fn, void *arg,
                 duro_error *err)
{
    duro__pg_conn *c = take_idle(pool);
    unsigned notes = 0;
    int reconnects = 0, rc = 0;

    for (int n = 0;; n++) {
        int lost = 0;

        rc = ensure_connected(pool, c, err);
        if (rc != 0)
            break;
        rc = attempt(pool, c, flags, fn, arg, &notes, &lost, err);
        if (rc == 0)
            break;
        if (lost && reconnects++ < 1) /* nothing committed: run once more on a new connection */
            continue;
        if (c->retry && n < pool->max_retries) {
            c->retry = 0;
            backoff(n);
            continue;
        }
        break;
    }
    c->retry = 0;
    duro__pg_release(pool, c);
    if (rc == 0 && notes != 0 && flags != DURO__PG_READ)
        duro__notify(pool->notes, notes & ~DURO__PG_NOTE_COMMIT);
    return rc;
}
