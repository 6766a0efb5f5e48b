/*
 * work.c — the worker (activity) queue of the SQLite provider: enqueue, fetch (lock the
 * oldest visible item), ack (delete and enqueue the completion atomically), abandon and renew.
 *
 * Each row carries its own lock (lock_token, locked_until). Ack and renew succeed only while
 * the row exists and its lock is live: a cancelled activity (its row deleted by ack_orch) or
 * a deleted instance surfaces to the worker as DURO_ELOCK, which is how cancellation reaches
 * running activity code.
 */
#include "sqlite-internal.h"

#include <stdlib.h>
#include <string.h>

/* Group-commit body of enqueue_work: `arg` is the work item. */
static int enqueue_body(duro__sq_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    *notes = DURO__NOTE_WORK;
    return duro__sq_insert_work(c, arg, err);
}

int duro__sq_enqueue_work(duro_provider *p, const duro_work_in *work, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    int rc = duro_provider_check_work(work, err);

    if (rc != 0)
        return rc;
    return duro__sq_commit(&s->pool, enqueue_body, (void *)work, err);
}

/* ---- Fetch ------------------------------------------------------------------------------- */

static const char SQL_TAKE[] =
    "UPDATE work_queue SET lock_token = ?2, locked_until = ?3, attempt_count = attempt_count + 1"
    " WHERE id = (SELECT id FROM work_queue WHERE visible_at <= ?1"
    "  AND (lock_token IS NULL OR locked_until <= ?1) ORDER BY id LIMIT 1)"
    " RETURNING id, instance_id, execution_id, activity_id, payload, attempt_count";
static const char SQL_ANOTHER[] =
    "SELECT 1 FROM work_queue WHERE visible_at <= ?1"
    " AND (lock_token IS NULL OR locked_until <= ?1) LIMIT 1";
static const char SQL_NEXT_TIME[] =
    "SELECT MIN(t) FROM ("
    " SELECT MIN(visible_at) AS t FROM work_queue WHERE visible_at > ?1"
    " UNION ALL SELECT MIN(locked_until) FROM work_queue WHERE locked_until > ?1)";

/* Build the item from the current row of SQL_TAKE. */
static int item_from_row(sqlite3_stmt *st, const char *token, duro_work_item **out,
                         duro_error *err)
{
    duro_work_item *w = calloc(1, sizeof(*w));
    int64_t attempts;
    int rc;

    if (w == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (work item)");
    w->id = sqlite3_column_int64(st, 0);
    memcpy(w->lock_token, token, sizeof(w->lock_token));
    w->execution_id = (uint64_t)sqlite3_column_int64(st, 2);
    w->activity_id = (uint64_t)sqlite3_column_int64(st, 3);
    attempts = sqlite3_column_int64(st, 5);
    w->attempt = attempts > UINT32_MAX ? UINT32_MAX : (uint32_t)attempts;
    rc = duro__sq_col_strdup(st, 1, &w->instance, err);
    if (rc == 0)
        rc = duro__sq_col_strdup(st, 4, &w->payload, err);
    if (rc != 0) {
        duro_work_item_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

typedef struct fetch_arg {
    duro_sqlite *s;
    int64_t lock_ms;
    duro_work_item **out;
} fetch_arg;

static int try_fetch(void *arg, int64_t now, int64_t *next, duro_error *err)
{
    fetch_arg *fa = arg;
    duro_sqlite *s = fa->s;
    duro__sq_conn *c;
    sqlite3_stmt *st;
    char token[33];
    int rc = duro_random_token(token);

    if (rc != 0)
        return duro_error_set(err, rc, 1, "cannot generate a lock token");
    rc = duro__sq_begin_lock(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_query(c, SQL_TAKE, &st, err, "iti", now, token,
                        duro__add_sat(now, fa->lock_ms));
    if (rc == 0) {
        rc = duro__sq_step(c, st, err);
        if (rc == 1)
            rc = item_from_row(st, token, fa->out, err);
        else if (rc == 0)
            rc = DURO_ENOTFOUND;
        duro__sq_reset(st);
    }
    if (rc == 0) { /* another item ready too? */
        int64_t another;
        rc = duro__sq_int(c, SQL_ANOTHER, 0, &another, err, "i", now);
        if (rc >= 0) {
            if (another == 1)
                *next = now;
            rc = 0;
        }
    }
    if (rc == DURO_ENOTFOUND) {
        rc = duro__sq_int(c, SQL_NEXT_TIME, DURO__NEVER, next, err, "i", now);
        if (rc >= 0)
            rc = DURO_ENOTFOUND;
    }
    rc = duro__sq_end_write(&s->pool, c, rc, 0, err);
    if (rc != 0 && *fa->out != NULL) {
        duro_work_item_free(*fa->out);
        *fa->out = NULL;
    }
    return rc;
}

int duro__sq_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_work_item **out, duro_error *err)
{
    fetch_arg fa = { (duro_sqlite *)p, lock_ms, out };
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_work: out is required");
    *out = NULL;
    rc = duro_provider_check_lock_ms(lock_ms, "fetch_work: lock_ms", err);
    if (rc != 0)
        return rc;
    return duro__notify_poll(&fa.s->notes, DURO__NOTE_WORK, now_ms, poll_ms, try_fetch, &fa,
                         err);
}

/* ---- Ack, abandon, renew ----------------------------------------------------------------- */

static const char SQL_ACK[] =
    "DELETE FROM work_queue WHERE lock_token = ?1 AND locked_until > ?2";
static const char SQL_ABANDON[] =
    "UPDATE work_queue SET lock_token = NULL, locked_until = NULL,"
    " visible_at = CASE WHEN ?2 > 0 THEN ?3 ELSE visible_at END,"
    " attempt_count = CASE WHEN ?4 THEN MAX(attempt_count - 1, 0) ELSE attempt_count END"
    " WHERE lock_token = ?1 AND locked_until > ?5";
static const char SQL_RENEW[] =
    "UPDATE work_queue SET locked_until = ?2 WHERE lock_token = ?1 AND locked_until > ?3";

typedef struct ack_arg {
    int64_t now_ms;
    const char *lock_token;
    const duro_msg *completion;
} ack_arg;

/* Group-commit body of ack_work: delete the item under its live lock, enqueue the
 * completion. */
static int ack_body(duro__sq_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    const ack_arg *a = arg;
    int rc = duro__sq_exec(c, SQL_ACK, err, "ti", a->lock_token, a->now_ms);

    *notes = 0;
    if (rc == 0)
        rc = duro_error_set(err, DURO_ELOCK, 0,
                            "work item is gone (cancelled or deleted) or its lock expired");
    if (rc > 0 && a->completion != NULL)
        rc = duro__sq_insert_msg(c, a->completion, NULL, err);
    /* A completion for an instance whose turn is running wakes no fetcher: the instance is
     * not fetchable until that turn's commit or abandon, which notifies (or its lock
     * expires, which a waiting fetcher's next-time check covers). */
    if (rc == 0 && a->completion != NULL)
        rc = duro__sq_instance_locked(c, a->completion->instance, a->now_ms, err);
    if (rc == 0 && a->completion != NULL)
        *notes = DURO__NOTE_ORCH;
    return rc < 0 ? rc : 0;
}

int duro__sq_ack_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                      const duro_msg *completion, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    ack_arg a = { now_ms, lock_token, completion };
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0 && completion != NULL)
        rc = duro_provider_check_msg(completion, err);
    if (rc != 0)
        return rc;
    return duro__sq_commit(&s->pool, ack_body, &a, err);
}

int duro__sq_abandon_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                          int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0 && delay_ms < 0)
        rc = duro_error_set(err, DURO_EINVAL, 0, "abandon_work: negative delay");
    if (rc == 0)
        rc = duro__sq_begin_lock(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_exec(c, SQL_ABANDON, err, "tiidi", lock_token, delay_ms,
                       duro__add_sat(now_ms, delay_ms), ignore_attempt ? 1 : 0, now_ms);
    if (rc == 0)
        rc = duro_error_set(err, DURO_ELOCK, 0,
                            "work item is gone or its lock (this token) expired or was taken");
    return duro__sq_end_write(&s->pool, c, rc < 0 ? rc : 0, DURO__NOTE_WORK, err);
}

int duro__sq_renew_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t extend_ms, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0)
        rc = duro_provider_check_lock_ms(extend_ms, "renew_work: extend_ms", err);
    if (rc == 0)
        rc = duro__sq_begin_lock(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_exec(c, SQL_RENEW, err, "tii", lock_token, duro__add_sat(now_ms, extend_ms),
                       now_ms);
    if (rc == 0)
        rc = duro_error_set(err, DURO_ELOCK, 0,
                            "work item is gone (cancelled or deleted) or its lock expired");
    return duro__sq_end_write(&s->pool, c, rc < 0 ? rc : 0, 0, err);
}
