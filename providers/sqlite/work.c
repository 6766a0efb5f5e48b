/*
 * work.c — the worker (activity) queue of the SQLite provider: enqueue (untagged or tagged),
 * fetch (lock the oldest visible item of the untagged queue, or of the classes a filter
 * accepts, round robin, with the sessions class of fetch_work_session), session leases
 * (renew, idle release), ack (delete and enqueue the completion atomically), abandon, renew
 * and the depths per tag.
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

typedef struct enqueue_tagged_arg {
    const duro_work_in *work;
    const char *tag;
} enqueue_tagged_arg;

/* Group-commit body of enqueue_work_tagged. */
static int enqueue_tagged_body(duro__sq_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    const enqueue_tagged_arg *a = arg;

    *notes = DURO__NOTE_WORK;
    return duro__sq_insert_work_tagged(c, a->work, a->tag, err);
}

int duro__sq_enqueue_work_tagged(duro_provider *p, const duro_work_in *work, const char *tag,
                                 duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    enqueue_tagged_arg a = { work, tag };
    int rc = duro_provider_check_work(work, err);

    if (rc == 0)
        rc = duro_provider_check_tag(tag, err);
    if (rc != 0)
        return rc;
    return duro__sq_commit(&s->pool, enqueue_tagged_body, &a, err);
}

/* ---- Fetch ------------------------------------------------------------------------------- */

/* One statement per class of item (untagged, one tag, any tag), each served by the index
 * work_queue_tag (tag, id). */
#define TAKE_SET                                                                              \
    "UPDATE work_queue SET lock_token = ?2, locked_until = ?3, attempt_count = attempt_count + 1"
#define TAKE_FETCHABLE " visible_at <= ?1 AND (lock_token IS NULL OR locked_until <= ?1)"
/* The item's columns, then whether another item is fetchable once it is locked (untagged
 * ones for fetch_work; any for a filtered fetch, which then wakes the other fetchers, each
 * of which checks its own filter), then whether worker ?6 (NULL: none) owns a session. */
#define TAKE_RETURNING(another)                                                               \
    " RETURNING id, instance_id, execution_id, activity_id, payload, attempt_count, " another \
    ", " OWNS_SESSION("?6")
#define OWNS_SESSION(worker)                                                                  \
    "EXISTS (SELECT 1 FROM sessions WHERE owner = " worker " AND lease_until > ?1)"
#define ANOTHER_UNTAGGED                                                                      \
    "EXISTS (SELECT 1 FROM work_queue WHERE tag IS NULL AND session IS NULL AND"              \
    TAKE_FETCHABLE ")"
#define ANOTHER_ANY "EXISTS (SELECT 1 FROM work_queue WHERE" TAKE_FETCHABLE ")"
#define TAKE_UNTAGGED_WHERE                                                                   \
    " WHERE id = (SELECT id FROM work_queue WHERE tag IS NULL AND session IS NULL AND"        \
    TAKE_FETCHABLE " ORDER BY id LIMIT 1)"
static const char SQL_TAKE[] = TAKE_SET TAKE_UNTAGGED_WHERE TAKE_RETURNING(ANOTHER_UNTAGGED);
static const char SQL_TAKE_UNTAGGED_CLASS[] =
    TAKE_SET TAKE_UNTAGGED_WHERE TAKE_RETURNING(ANOTHER_ANY);
static const char SQL_TAKE_TAG[] =
    TAKE_SET " WHERE id = (SELECT id FROM work_queue WHERE tag = ?4 AND" TAKE_FETCHABLE
    " ORDER BY id LIMIT 1)" TAKE_RETURNING(ANOTHER_ANY);
static const char SQL_TAKE_ANY_TAG[] =
    TAKE_SET " WHERE id = (SELECT id FROM work_queue WHERE tag IS NOT NULL AND" TAKE_FETCHABLE
    " ORDER BY id LIMIT 1)" TAKE_RETURNING(ANOTHER_ANY);
/* The sessions class (duro-provider.h "Sessions"): the oldest fetchable session item whose
 * session worker ?4 owns, or nobody owns while ?4 owns fewer than ?5; its session last. */
static const char SQL_TAKE_SESSION[] =
    TAKE_SET " WHERE id = (SELECT w.id FROM work_queue w"
    " LEFT JOIN sessions s ON s.session_id = w.session"
    " WHERE w.session IS NOT NULL AND w.visible_at <= ?1"
    " AND (w.lock_token IS NULL OR w.locked_until <= ?1)"
    " AND ((s.owner = ?4 AND s.lease_until > ?1)"
    "  OR ((s.session_id IS NULL OR s.lease_until <= ?1)"
    "   AND (SELECT COUNT(*) FROM sessions WHERE owner = ?4 AND lease_until > ?1) < ?5))"
    " ORDER BY w.id LIMIT 1)" TAKE_RETURNING(ANOTHER_ANY) ", session";
static const char SQL_OWN_SESSION[] =
    "INSERT INTO sessions (session_id, owner, lease_until, active_at) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (session_id) DO UPDATE SET owner = excluded.owner,"
    " lease_until = excluded.lease_until, active_at = excluded.active_at";
static const char SQL_EXTEND_SESSIONS[] =
    "UPDATE sessions SET lease_until = ?3 WHERE owner = ?1 AND lease_until > ?2";
static const char SQL_MARK_ACTIVE[] =
    "UPDATE sessions SET active_at = ?2 WHERE owner = ?1 AND lease_until > ?2"
    " AND EXISTS (SELECT 1 FROM work_queue WHERE session = sessions.session_id)";
static const char SQL_RELEASE_IDLE[] =
    "DELETE FROM sessions WHERE owner = ?1 AND lease_until > ?2 AND active_at <= ?3"
    " AND NOT EXISTS (SELECT 1 FROM work_queue WHERE session = sessions.session_id)";
/* Rows of expired leases whose sessions have no item left are dropped (nobody owns them) */
static const char SQL_DROP_EXPIRED[] =
    "DELETE FROM sessions WHERE lease_until <= ?1"
    " AND NOT EXISTS (SELECT 1 FROM work_queue WHERE session = sessions.session_id)";
static const char SQL_COUNT_OWNED[] =
    "SELECT COUNT(*) FROM sessions WHERE owner = ?1 AND lease_until > ?2";
static const char SQL_NEXT_TIME[] =
    "SELECT MIN(t) FROM ("
    " SELECT MIN(visible_at) AS t FROM work_queue WHERE visible_at > ?1"
    " UNION ALL SELECT MIN(locked_until) FROM work_queue WHERE locked_until > ?1"
    " UNION ALL SELECT MIN(lease_until) FROM sessions WHERE lease_until > ?1)";
/* The same for fetch_work_session of worker ?2, whose leases are extended to ?3 when it owns
 * a session (the second column). */
static const char SQL_NEXT_TIME_SESSION[] =
    "SELECT MIN(t), " OWNS_SESSION("?2") " FROM ("
    " SELECT MIN(visible_at) AS t FROM work_queue WHERE visible_at > ?1"
    " UNION ALL SELECT MIN(locked_until) FROM work_queue WHERE locked_until > ?1"
    " UNION ALL SELECT MIN(lease_until) FROM sessions WHERE lease_until > ?1 AND owner IS NOT ?2"
    " UNION ALL SELECT MIN(?3) FROM sessions WHERE owner = ?2 AND lease_until > ?1)";

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
    const duro_work_filter *filter; /* NULL: the untagged queue (fetch_work) */
    duro_work_item **out;
    const char *worker_id;          /* non-NULL: fetch_work_session, the sessions class last */
    int64_t lease_ms;
    size_t max_sessions;
} fetch_arg;

/* Bind worker ?6 (NULL: none) to the take statement `st` and step it: 1 with the row
 * current, 0 (statement reset) when it took nothing, or a negative DURO_E* code (reset). */
static int step_take(duro__sq_conn *c, sqlite3_stmt *st, const char *worker, duro_error *err)
{
    int rc = duro__sq_bind_from(c, st, 6, err, "t", worker);

    if (rc == 0)
        rc = duro__sq_step(c, st, err);
    if (rc != 1)
        duro__sq_reset(st);
    return rc;
}

/* The sessions class of fetch_work_session: 1 with the row current (the session now owned
 * by the worker until now + lease_ms), 0 when it has nothing, or a negative DURO_E* code. */
static int take_session(duro__sq_conn *c, const fetch_arg *fa, int64_t now, const char *token,
                        int64_t until, sqlite3_stmt **st, duro_error *err)
{
    int64_t cap = fa->max_sessions > INT64_MAX ? INT64_MAX : (int64_t)fa->max_sessions;
    int rc = duro__sq_query(c, SQL_TAKE_SESSION, st, err, "ititi", now, token, until,
                            fa->worker_id, cap);

    if (rc != 0)
        return rc;
    rc = step_take(c, *st, fa->worker_id, err);
    if (rc == 1) {
        int own = duro__sq_exec(c, SQL_OWN_SESSION, err, "ttii",
                                (const char *)sqlite3_column_text(*st, 8), fa->worker_id,
                                duro__add_sat(now, fa->lease_ms), now);
        if (own < 0) {
            rc = own;
            duro__sq_reset(*st);
        }
    }
    return rc;
}

/* Run the take statement of class `k` of `f` (its order in duro-provider.h "Tags") for
 * `worker` (NULL: none): 1 with the row current, 0 when the class has nothing fetchable, or
 * a negative DURO_E* code. */
static int take_class(duro__sq_conn *c, const duro_work_filter *f, const char *worker, size_t k,
                      int64_t now, const char *token, int64_t until, sqlite3_stmt **st,
                      duro_error *err)
{
    int rc;

    if (f->untagged && k == 0)
        rc = duro__sq_query(c, SQL_TAKE_UNTAGGED_CLASS, st, err, "iti", now, token, until);
    else if (f->any_tag)
        rc = duro__sq_query(c, SQL_TAKE_ANY_TAG, st, err, "iti", now, token, until);
    else
        rc = duro__sq_query(c, SQL_TAKE_TAG, st, err, "itit", now, token, until,
                            f->tags[k - (f->untagged ? 1 : 0)]);
    return rc != 0 ? rc : step_take(c, *st, worker, err);
}

/* Take the item the fetch of `fa` is owed: the untagged queue's oldest, or the oldest of
 * the first class of the filter, from class turn % classes on, that has one; *another tells
 * whether another item is fetchable too, *owns whether the worker owns a session (see
 * TAKE_RETURNING). */
static int take(duro__sq_conn *c, const fetch_arg *fa, int64_t now, const char *token,
                int *another, int *owns, duro_error *err)
{
    const duro_work_filter *f = fa->filter;
    int64_t until = duro__add_sat(now, fa->lock_ms);
    sqlite3_stmt *st = NULL;
    size_t classes, start;
    int rc = 0;

    if (f == NULL) {
        rc = duro__sq_query(c, SQL_TAKE, &st, err, "iti", now, token, until);
        if (rc == 0)
            rc = step_take(c, st, NULL, err);
    } else {
        size_t filter_classes = (f->untagged ? 1 : 0) + (f->any_tag ? 1 : f->n_tags);
        classes = filter_classes + (fa->worker_id != NULL ? 1 : 0);
        start = f->turn % classes;
        for (size_t i = 0; i < classes && rc == 0; i++) {
            size_t k = (start + i) % classes;
            rc = k == filter_classes ? take_session(c, fa, now, token, until, &st, err)
                                     : take_class(c, f, fa->worker_id, k, now, token, until,
                                                  &st, err);
        }
    }
    if (rc == 1) {
        *another = sqlite3_column_int(st, 6);
        *owns = sqlite3_column_int(st, 7);
        rc = item_from_row(st, token, fa->out, err);
        duro__sq_reset(st);
        return rc;
    }
    return rc == 0 ? DURO_ENOTFOUND : rc;
}

/* The next wake-up time of a fetch_work_session that found nothing, counting the leases of
 * fa's worker as extended to now + lease_ms; *owns tells whether it owns a session.
 * Returns DURO_ENOTFOUND, or another DURO_E* code. */
static int next_time_session(duro__sq_conn *c, const fetch_arg *fa, int64_t now, int64_t *next,
                             int *owns, duro_error *err)
{
    sqlite3_stmt *st;
    int rc = duro__sq_query(c, SQL_NEXT_TIME_SESSION, &st, err, "iti", now, fa->worker_id,
                            duro__add_sat(now, fa->lease_ms));

    if (rc != 0)
        return rc;
    rc = duro__sq_step(c, st, err);
    if (rc == 1) {
        *next = sqlite3_column_type(st, 0) == SQLITE_NULL ? DURO__NEVER
                                                          : sqlite3_column_int64(st, 0);
        *owns = sqlite3_column_int(st, 1);
    }
    duro__sq_reset(st);
    return rc < 0 ? rc : DURO_ENOTFOUND;
}

static int try_fetch(void *arg, int64_t now, int64_t *next, duro_error *err)
{
    fetch_arg *fa = arg;
    duro_sqlite *s = fa->s;
    duro__sq_conn *c;
    char token[33];
    int extended = 0, another = 0, owns = 0, keep;
    int rc = duro_random_token(token);

    if (rc != 0)
        return duro_error_set(err, rc, 1, "cannot generate a lock token");
    rc = duro__sq_begin_lock(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = take(c, fa, now, token, &another, &owns, err);
    if (rc == 0 && another) /* another item ready too */
        *next = now;
    if (rc == DURO_ENOTFOUND && fa->worker_id != NULL)
        rc = next_time_session(c, fa, now, next, &owns, err);
    else if (rc == DURO_ENOTFOUND) {
        rc = duro__sq_int(c, SQL_NEXT_TIME, DURO__NEVER, next, err, "i", now);
        if (rc >= 0)
            rc = DURO_ENOTFOUND;
    }
    /* Every fetch of a worker renews the leases it holds (found or not); after the take,
     * which sees the same leases live either way, and only when it holds one. */
    if ((rc == 0 || rc == DURO_ENOTFOUND) && owns) {
        int changed = duro__sq_exec(c, SQL_EXTEND_SESSIONS, err, "tii", fa->worker_id, now,
                                    duro__add_sat(now, fa->lease_ms));
        extended = changed > 0;
        if (changed < 0)
            rc = changed;
    }
    /* a fetch that found nothing still commits the leases it extended */
    keep = extended && rc == DURO_ENOTFOUND;
    rc = duro__sq_end_write(&s->pool, c, keep ? 0 : rc, 0, err);
    if (keep && rc == 0)
        rc = DURO_ENOTFOUND;
    if (rc != 0 && *fa->out != NULL) {
        duro_work_item_free(*fa->out);
        *fa->out = NULL;
    }
    return rc;
}

int duro__sq_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_work_item **out, duro_error *err)
{
    fetch_arg fa = { (duro_sqlite *)p, lock_ms, NULL, out, NULL, 0, 0 };
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

int duro__sq_fetch_work_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                 int64_t poll_ms, const duro_work_filter *filter,
                                 duro_work_item **out, duro_error *err)
{
    fetch_arg fa = { (duro_sqlite *)p, lock_ms, filter, out, NULL, 0, 0 };
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_work_filtered: out is required");
    *out = NULL;
    rc = duro_provider_check_lock_ms(lock_ms, "fetch_work_filtered: lock_ms", err);
    if (rc == 0)
        rc = duro_provider_check_work_filter(filter, err);
    if (rc != 0)
        return rc;
    return duro__notify_poll(&fa.s->notes, DURO__NOTE_WORK_FILTERED, now_ms, poll_ms, try_fetch,
                         &fa, err);
}

int duro__sq_fetch_work_session(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                int64_t poll_ms, const duro_work_filter *filter,
                                const char *worker_id, int64_t lease_ms, size_t max_sessions,
                                duro_work_item **out, duro_error *err)
{
    fetch_arg fa = { (duro_sqlite *)p, lock_ms, filter, out, worker_id, lease_ms, max_sessions };
    int rc = duro_provider_check_session_fetch(out, lock_ms, lease_ms, filter, worker_id, err);

    if (rc != 0)
        return rc;
    return duro__notify_poll(&fa.s->notes, DURO__NOTE_WORK_FILTERED, now_ms, poll_ms, try_fetch,
                             &fa, err);
}

int duro__sq_renew_sessions(duro_provider *p, int64_t now_ms, const char *worker_id,
                            int64_t lease_ms, int64_t idle_ms, size_t *owned, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    int64_t count = 0;
    int rc = duro_provider_check_worker_id(worker_id, "renew_sessions: worker_id", err);

    if (rc == 0)
        rc = duro_provider_check_lock_ms(lease_ms, "renew_sessions: lease_ms", err);
    if (rc == 0)
        rc = duro_provider_check_lock_ms(idle_ms, "renew_sessions: idle_ms", err);
    if (rc == 0)
        rc = duro__sq_begin_lock(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_exec(c, SQL_MARK_ACTIVE, err, "ti", worker_id, now_ms);
    if (rc >= 0)
        rc = duro__sq_exec(c, SQL_RELEASE_IDLE, err, "tii", worker_id, now_ms,
                           duro__add_sat(now_ms, -idle_ms));
    if (rc >= 0)
        rc = duro__sq_exec(c, SQL_DROP_EXPIRED, err, "i", now_ms);
    if (rc >= 0)
        rc = duro__sq_exec(c, SQL_EXTEND_SESSIONS, err, "tii", worker_id, now_ms,
                           duro__add_sat(now_ms, lease_ms));
    if (rc >= 0)
        rc = duro__sq_int(c, SQL_COUNT_OWNED, 0, &count, err, "ti", worker_id, now_ms);
    rc = duro__sq_end_write(&s->pool, c, rc < 0 ? rc : 0, DURO__NOTE_WORK, err);
    if (rc == 0 && owned != NULL)
        *owned = (size_t)count;
    return rc;
}

/* ---- Depths per tag ---------------------------------------------------------------------- */

static const char SQL_DEPTHS_BY_TAG[] =
    "SELECT tag, SUM(visible_at <= ?1 AND NOT live), SUM(live), SUM(visible_at > ?1 AND NOT live)"
    " FROM (SELECT tag, visible_at, lock_token IS NOT NULL AND locked_until > ?1 AS live"
    "  FROM work_queue)"
    " GROUP BY tag ORDER BY tag IS NOT NULL, tag";

/* Append the current row of SQL_DEPTHS_BY_TAG to *rows. */
static int depth_from_row(sqlite3_stmt *st, duro_tag_depth **rows, size_t *n, size_t *cap,
                          duro_error *err)
{
    duro_tag_depth *d;

    if (*n == *cap) {
        size_t grown = *cap ? *cap * 2 : 8;
        duro_tag_depth *bigger = realloc(*rows, grown * sizeof(**rows));

        if (bigger == NULL)
            return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (tag depths)");
        *rows = bigger;
        *cap = grown;
    }
    d = &(*rows)[*n];
    memset(d, 0, sizeof(*d));
    if (duro__sq_col_strdup(st, 0, &d->tag, err) != 0)
        return DURO_ENOMEM;
    d->queued = (uint64_t)sqlite3_column_int64(st, 1);
    d->locked = (uint64_t)sqlite3_column_int64(st, 2);
    d->delayed = (uint64_t)sqlite3_column_int64(st, 3);
    (*n)++;
    return 0;
}

int duro__sq_queue_depths_by_tag(duro_provider *p, int64_t now_ms, duro_tag_depth **rows,
                                 size_t *n, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    if (rows == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "queue_depths_by_tag: rows and n are "
                              "required");
    *rows = NULL;
    *n = 0;
    rc = duro__sq_begin_read(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_query(c, SQL_DEPTHS_BY_TAG, &st, err, "i", now_ms);
    while (rc == 0 && (rc = duro__sq_step(c, st, err)) == 1)
        rc = depth_from_row(st, rows, n, &cap, err);
    if (st != NULL)
        duro__sq_reset(st);
    duro__sq_end_read(&s->pool, c);
    if (rc < 0) {
        duro_tag_depths_free(*rows, *n);
        *rows = NULL;
        *n = 0;
        return rc;
    }
    return 0;
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
        rc = duro__sq_insert_msg_locked(c, a->completion, a->now_ms, err);
    /* A completion for an instance whose turn is running wakes no fetcher: the instance is
     * not fetchable until that turn's commit or abandon, which notifies (or its lock
     * expires, which a waiting fetcher's next-time check covers). */
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
