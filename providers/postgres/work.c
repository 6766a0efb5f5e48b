/*
 * work.c — the worker (activity) queue of the PostgreSQL provider: enqueue, fetch (lock the
 * oldest visible item with FOR UPDATE SKIP LOCKED, so concurrent fetchers in any number of
 * processes take different rows without waiting on each other), ack (delete and enqueue the
 * completion atomically), abandon and renew.
 *
 * Each row carries its own lock (lock_token, locked_until). Ack and renew succeed only while
 * the row exists and its lock is live: a cancelled activity (its row deleted by ack_orch) or
 * a deleted instance surfaces to the worker as DURO_ELOCK, which is how cancellation reaches
 * running activity code.
 */
#include "pg-internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct enqueue_arg {
    const duro_work_in *work;
} enqueue_arg;

static int enqueue_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    enqueue_arg *a = arg;

    *notes = DURO__NOTE_WORK;
    return duro__pg_insert_work(c, a->work, err);
}

int duro__pg_enqueue_work(duro_provider *p, const duro_work_in *work, duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    enqueue_arg a = { work };
    int rc = duro_provider_check_work(work, err);

    return rc != 0 ? rc : duro__pg_run(&s->pool, DURO__PG_WRITE, enqueue_txn, &a, err);
}

/* ---- Fetch ------------------------------------------------------------------------------- */

/* Take the oldest visible item, and in the same statement tell whether another one is
 * fetchable too (the snapshot predates the UPDATE, so the taken row is excluded by id). */
static const char SQL_TAKE[] =
    "WITH t AS (UPDATE work_queue SET lock_token = $2::text, locked_until = $3::bigint,"
    " attempt_count = attempt_count + 1"
    " WHERE id = (SELECT id FROM work_queue WHERE visible_at <= $1::bigint"
    "  AND (lock_token IS NULL OR locked_until <= $1::bigint) ORDER BY id LIMIT 1"
    "  FOR UPDATE SKIP LOCKED)"
    " RETURNING id, instance_id, execution_id, activity_id, payload, attempt_count)"
    " SELECT t.id, t.instance_id, t.execution_id, t.activity_id, t.payload, t.attempt_count,"
    " EXISTS (SELECT 1 FROM work_queue w WHERE w.id <> t.id AND w.visible_at <= $1::bigint"
    "  AND (w.lock_token IS NULL OR w.locked_until <= $1::bigint))::int FROM t";
static const char SQL_NEXT_TIME[] =
    "SELECT LEAST((SELECT MIN(visible_at) FROM work_queue WHERE visible_at > $1::bigint),"
    " (SELECT MIN(locked_until) FROM work_queue WHERE locked_until > $1::bigint))";

/* Build the item from the row of SQL_TAKE. */
static int item_from_row(PGresult *r, const char *token, duro_work_item **out,
                         duro_error *err)
{
    duro_work_item *w = calloc(1, sizeof(*w));
    int64_t attempts;
    int rc;

    if (w == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (work item)");
    w->id = duro__pg_get_i64(r, 0, 0);
    memcpy(w->lock_token, token, sizeof(w->lock_token));
    w->execution_id = (uint64_t)duro__pg_get_i64(r, 0, 2);
    w->activity_id = (uint64_t)duro__pg_get_i64(r, 0, 3);
    attempts = duro__pg_get_i64(r, 0, 5);
    w->attempt = attempts > UINT32_MAX ? UINT32_MAX : (uint32_t)attempts;
    rc = duro__pg_get_str(r, 0, 1, &w->instance, err);
    if (rc == 0)
        rc = duro__pg_get_bytes(r, 0, 4, &w->payload, err);
    if (rc != 0) {
        duro_work_item_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

typedef struct fetch_arg {
    duro_pg *s;
    int64_t lock_ms;
    int64_t now;
    int64_t next;
    duro_work_item *item;
} fetch_arg;

static int fetch_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    fetch_arg *fa = arg;
    char token[33];
    PGresult *r;
    int rc = duro_random_token(token);

    *notes = 0;
    duro_work_item_free(fa->item);
    fa->item = NULL;
    fa->next = DURO__NEVER;
    if (rc != 0)
        return duro_error_set(err, rc, 1, "cannot generate a lock token");
    rc = duro__pg_query(c, SQL_TAKE, &r, err, "iti", fa->now, token,
                        duro__add_sat(fa->now, fa->lock_ms));
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 1) {
        rc = item_from_row(r, token, &fa->item, err);
        if (duro__pg_get_i64(r, 0, 6) == 1) /* another item ready too */
            fa->next = fa->now;
    } else {
        rc = DURO_ENOTFOUND;
    }
    PQclear(r);
    if (rc == DURO_ENOTFOUND) {
        rc = duro__pg_int(c, SQL_NEXT_TIME, DURO__NEVER, &fa->next, err, "i", fa->now);
        rc = rc < 0 ? rc : DURO_ENOTFOUND;
    }
    if (rc != 0) {
        duro_work_item_free(fa->item);
        fa->item = NULL;
    }
    return rc;
}

static int try_fetch(void *arg, int64_t now, int64_t *next, duro_error *err)
{
    fetch_arg *fa = arg;
    int rc;

    fa->now = now;
    rc = duro__pg_run(&fa->s->pool, DURO__PG_LOCK, fetch_txn, fa, err);
    *next = fa->next;
    if (rc != 0 && fa->item != NULL) {
        duro_work_item_free(fa->item);
        fa->item = NULL;
    }
    return rc;
}

int duro__pg_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_work_item **out, duro_error *err)
{
    fetch_arg fa = { (duro_pg *)p, lock_ms, 0, DURO__NEVER, NULL };
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_work: out is required");
    *out = NULL;
    rc = duro_provider_check_lock_ms(lock_ms, "fetch_work: lock_ms", err);
    if (rc != 0)
        return rc;
    rc = duro__notify_poll(&fa.s->notes, DURO__NOTE_WORK, now_ms, poll_ms, try_fetch, &fa, err);
    if (rc == 0)
        *out = fa.item;
    else
        duro_work_item_free(fa.item);
    return rc;
}

/* ---- Ack, abandon, renew ----------------------------------------------------------------- */

/* Delete the item if its lock is live, insert the completion (when $3 is not NULL) only if it
 * was, and tell whether the completion's instance holds a live lock: one round trip. */
static const char SQL_ACK[] =
    "WITH d AS (DELETE FROM work_queue WHERE lock_token = $1::text AND locked_until > $2::bigint"
    " RETURNING 1),"
    " m AS (INSERT INTO orch_queue (instance_id, kind, execution_id, payload, visible_at)"
    " SELECT $3::text, $4::int, $5::bigint, $6::bytea, $7::bigint FROM d"
    " WHERE $3::text IS NOT NULL RETURNING 1)"
    " SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM m),"
    " EXISTS (SELECT 1 FROM instance_locks l WHERE l.instance_id = $3::text"
    "  AND l.locked_until > $2::bigint)::int";
static const char SQL_ABANDON[] =
    "UPDATE work_queue SET lock_token = NULL, locked_until = NULL,"
    " visible_at = CASE WHEN $2::bigint > 0 THEN $3::bigint ELSE visible_at END,"
    " attempt_count = CASE WHEN $4::int <> 0 THEN GREATEST(attempt_count - 1, 0)"
    "  ELSE attempt_count END"
    " WHERE lock_token = $1::text AND locked_until > $5::bigint";
static const char SQL_RENEW[] =
    "UPDATE work_queue SET locked_until = $2::bigint"
    " WHERE lock_token = $1::text AND locked_until > $3::bigint";

typedef struct ack_arg {
    int64_t now;
    const char *token;
    const duro_msg *completion;
} ack_arg;

static int ack_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    ack_arg *a = arg;
    const duro_msg *m = a->completion;
    PGresult *r;
    int rc = duro__pg_query(c, SQL_ACK, &r, err, "titdubi", a->token, a->now,
                            m != NULL ? m->instance : NULL, m != NULL ? (int)m->kind : 0,
                            m != NULL ? m->execution_id : 0, m != NULL ? m->payload : NULL,
                            m != NULL ? m->visible_at_ms : 0);
    int deleted, locked;

    *notes = 0;
    if (rc != 0)
        return rc;
    deleted = duro__pg_get_i64(r, 0, 0) > 0;
    locked = duro__pg_get_i64(r, 0, 2) == 1;
    PQclear(r);
    if (!deleted)
        return duro_error_set(err, DURO_ELOCK, 0,
                              "work item is gone (cancelled or deleted) or its lock expired");
    /* A completion for an instance whose turn is running wakes no fetcher: that turn's
     * commit or abandon does (or its lock expiry, which a waiting fetcher's next-time check
     * covers). */
    if (m != NULL && !locked)
        *notes = DURO__NOTE_ORCH;
    return 0;
}

int duro__pg_ack_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                      const duro_msg *completion, duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    ack_arg a = { now_ms, lock_token, completion };
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0 && completion != NULL)
        rc = duro_provider_check_msg(completion, err);
    return rc != 0 ? rc : duro__pg_run(&s->pool, DURO__PG_WRITE, ack_txn, &a, err);
}

typedef struct abandon_arg {
    int64_t now;
    const char *token;
    int64_t delay_ms;
    int ignore_attempt;
} abandon_arg;

static int abandon_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    abandon_arg *a = arg;
    int rc = duro__pg_exec(c, SQL_ABANDON, err, "tiidi", a->token, a->delay_ms,
                           duro__add_sat(a->now, a->delay_ms), a->ignore_attempt ? 1 : 0,
                           a->now);

    *notes = DURO__NOTE_WORK;
    if (rc == 0)
        rc = duro_error_set(err, DURO_ELOCK, 0,
                            "work item is gone or its lock (this token) expired or was taken");
    return rc < 0 ? rc : 0;
}

int duro__pg_abandon_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                          int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    abandon_arg a = { now_ms, lock_token, delay_ms, ignore_attempt };
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0 && delay_ms < 0)
        rc = duro_error_set(err, DURO_EINVAL, 0, "abandon_work: negative delay");
    return rc != 0 ? rc : duro__pg_run(&s->pool, DURO__PG_LOCK, abandon_txn, &a, err);
}

typedef struct renew_arg {
    int64_t now;
    const char *token;
    int64_t extend_ms;
} renew_arg;

static int renew_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    renew_arg *a = arg;
    int rc = duro__pg_exec(c, SQL_RENEW, err, "tii", a->token,
                           duro__add_sat(a->now, a->extend_ms), a->now);

    *notes = 0;
    if (rc == 0)
        rc = duro_error_set(err, DURO_ELOCK, 0,
                            "work item is gone (cancelled or deleted) or its lock expired");
    return rc < 0 ? rc : 0;
}

int duro__pg_renew_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t extend_ms, duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    renew_arg a = { now_ms, lock_token, extend_ms };
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0)
        rc = duro_provider_check_lock_ms(extend_ms, "renew_work: extend_ms", err);
    return rc != 0 ? rc : duro__pg_run(&s->pool, DURO__PG_LOCK, renew_txn, &a, err);
}
