/*
 * work.c — the worker (activity) queue of the PostgreSQL provider: enqueue (untagged or
 * tagged), fetch (lock the oldest visible item of the untagged queue, or of the classes a
 * filter accepts, round robin, with FOR UPDATE SKIP LOCKED, so concurrent fetchers in any
 * number of processes take different rows without waiting on each other; with the sessions
 * class of fetch_work_session), session leases (claim, renew, idle release), ack (delete and
 * enqueue the completion atomically), abandon, renew and the depths per tag.
 *
 * Sessions (duro-provider.h "Sessions"): a worker's fetch_work_session and renew_sessions
 * first take a transaction advisory lock of the worker id, so the sessions it owns are
 * counted against max_sessions exactly even when many threads of one runtime fetch at once.
 * An item of a session is taken only after the session was claimed in the same transaction
 * by an INSERT ... ON CONFLICT DO UPDATE whose WHERE admits only the worker that owns it or
 * any worker once its lease ended: two workers racing for an unowned session meet on that
 * row (or its primary key), the second waits for the first to commit, then sees its lease
 * and takes nothing of that session.
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
    const char *tag;
} enqueue_arg;

static int enqueue_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    enqueue_arg *a = arg;

    *notes = DURO__NOTE_WORK;
    return duro__pg_insert_work_tagged(c, a->work, a->tag, err);
}

int duro__pg_enqueue_work_tagged(duro_provider *p, const duro_work_in *work, const char *tag,
                                 duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    enqueue_arg a = { work, tag };
    int rc = duro_provider_check_work(work, err);

    if (rc == 0)
        rc = duro_provider_check_tag(tag, err);
    return rc != 0 ? rc : duro__pg_run(&s->pool, DURO__PG_WRITE, enqueue_txn, &a, err);
}

int duro__pg_enqueue_work(duro_provider *p, const duro_work_in *work, duro_error *err)
{
    return duro__pg_enqueue_work_tagged(p, work, NULL, err);
}

/* ---- Fetch ------------------------------------------------------------------------------- */

/* Take the oldest visible item of one class (untagged, one tag as $4, any tag), and in the
 * same statement tell whether another one is fetchable too (the snapshot predates the
 * UPDATE, so the taken row is excluded by id): an untagged one for fetch_work, any for a
 * filtered fetch, which then wakes the other fetchers, each of which checks its own filter. */
#define TAKE_HEAD                                                                             \
    "WITH t AS (UPDATE work_queue SET lock_token = $2::text, locked_until = $3::bigint,"     \
    " attempt_count = attempt_count + 1"                                                     \
    " WHERE id = (SELECT id FROM work_queue WHERE visible_at <= $1::bigint"                  \
    "  AND (lock_token IS NULL OR locked_until <= $1::bigint)"
#define TAKE_TAIL                                                                             \
    " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"                                           \
    " RETURNING id, instance_id, execution_id, activity_id, payload, attempt_count)"         \
    " SELECT t.id, t.instance_id, t.execution_id, t.activity_id, t.payload, t.attempt_count,"\
    " EXISTS (SELECT 1 FROM work_queue w WHERE w.id <> t.id AND w.visible_at <= $1::bigint"  \
    "  AND (w.lock_token IS NULL OR w.locked_until <= $1::bigint)"
static const char SQL_TAKE[] =
    TAKE_HEAD " AND tag IS NULL AND session IS NULL" TAKE_TAIL
    " AND w.tag IS NULL AND w.session IS NULL)::int FROM t";
static const char SQL_TAKE_TAG[] =
    TAKE_HEAD " AND tag = $4::text" TAKE_TAIL ")::int FROM t";
static const char SQL_TAKE_ANY_TAG[] =
    TAKE_HEAD " AND tag IS NOT NULL" TAKE_TAIL ")::int FROM t";
/* The item of id $4, once its session is claimed (0 rows when it stopped being fetchable
 * meanwhile, or a transaction holds its row: the caller looks again). */
static const char SQL_TAKE_SESSION_ITEM[] =
    TAKE_HEAD " AND id = $4::bigint" TAKE_TAIL ")::int FROM t";
/* A lease ending makes its session's items fetchable for other workers. */
static const char SQL_NEXT_TIME[] =
    "SELECT LEAST((SELECT MIN(visible_at) FROM work_queue WHERE visible_at > $1::bigint),"
    " (SELECT MIN(locked_until) FROM work_queue WHERE locked_until > $1::bigint),"
    " (SELECT MIN(lease_until) FROM sessions WHERE lease_until > $1::bigint))";

/* ---- Session leases ---------------------------------------------------------------------- */

/* The worker's lock: the schema's hash in the high half of one 64-bit key, the worker id's
 * in the low half (a key space apart from the two-key locks of instances and migrations). */
static const char SQL_LOCK_WORKER[] =
    "SELECT pg_advisory_xact_lock((hashtext(current_setting('search_path'))::bigint << 32)"
    " | (hashtext($1::text)::bigint & 4294967295))";
/* Extend every live lease of worker $1 to $3; the row count is the number it owns. */
static const char SQL_EXTEND_SESSIONS[] =
    "UPDATE sessions SET lease_until = $3::bigint"
    " WHERE owner = $1::text AND lease_until > $2::bigint";
/* The sessions class: the oldest fetchable session item whose session worker $2 owns, or
 * (when $3 is 1: it owns fewer than max_sessions) nobody owns. No row lock: a worker that
 * then loses the claim must not hold the item, or the owner's take would skip it and break
 * the session's id order (conformance racers_for_a_new_session_leave_one_owner). */
static const char SQL_SESSION_CANDIDATE[] =
    "SELECT w.id, w.session FROM work_queue w LEFT JOIN sessions s ON s.session_id = w.session"
    " WHERE w.session IS NOT NULL AND w.visible_at <= $1::bigint"
    " AND (w.lock_token IS NULL OR w.locked_until <= $1::bigint)"
    " AND ((s.owner = $2::text AND s.lease_until > $1::bigint)"
    "  OR ($3::int = 1 AND (s.session_id IS NULL OR s.lease_until <= $1::bigint)))"
    " ORDER BY w.id LIMIT 1";
/* Make worker $2 the owner of session $1 until $3, active at $4 (now), unless another worker
 * holds it at $4 (0 rows): the check runs on the newest committed row, after waiting for a
 * concurrent claim of the same session. */
static const char SQL_CLAIM_SESSION[] =
    "INSERT INTO sessions AS s (session_id, owner, lease_until, active_at)"
    " VALUES ($1::text, $2::text, $3::bigint, $4::bigint)"
    " ON CONFLICT (session_id) DO UPDATE SET owner = excluded.owner,"
    " lease_until = excluded.lease_until, active_at = excluded.active_at"
    " WHERE s.owner = excluded.owner OR s.lease_until <= $4::bigint";
static const char SQL_MARK_ACTIVE[] =
    "UPDATE sessions s SET active_at = $2::bigint"
    " WHERE owner = $1::text AND lease_until > $2::bigint"
    " AND EXISTS (SELECT 1 FROM work_queue w WHERE w.session = s.session_id)";
static const char SQL_RELEASE_IDLE[] =
    "DELETE FROM sessions s WHERE owner = $1::text AND lease_until > $2::bigint"
    " AND active_at <= $3::bigint"
    " AND NOT EXISTS (SELECT 1 FROM work_queue w WHERE w.session = s.session_id)";
/* Rows of expired leases whose sessions have no item left are dropped (nobody owns them). */
static const char SQL_DROP_EXPIRED[] =
    "DELETE FROM sessions s WHERE lease_until <= $1::bigint"
    " AND NOT EXISTS (SELECT 1 FROM work_queue w WHERE w.session = s.session_id)";

/* Rounds of candidate, claim and take before a take gives up (a lost claim means another
 * worker committed one meanwhile; a missed take, that the item's row was busy). */
#define MAX_SESSION_CLAIMS 64

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
    const duro_work_filter *filter; /* NULL: the untagged queue (fetch_work) */
    int64_t now;
    int64_t next;
    duro_work_item *item;
    const char *worker_id;          /* non-NULL: fetch_work_session, the sessions class last */
    int64_t lease_ms;
    size_t max_sessions;
} fetch_arg;

/* The sessions class of fetch_work_session for a worker owning `owned` sessions: claim the
 * candidate's session, then take its item; 0 with *r holding 0 or 1 rows (as SQL_TAKE's), or
 * a DURO_E* code. */
static int take_session(duro__pg_conn *c, const fetch_arg *fa, int64_t owned,
                        const char *token, PGresult **r, duro_error *err)
{
    int may_claim = (uint64_t)owned < (uint64_t)fa->max_sessions;
    int64_t until = duro__add_sat(fa->now, fa->lock_ms);

    for (int tries = 0; tries < MAX_SESSION_CLAIMS; tries++) {
        PGresult *cand;
        int64_t id;
        int rc = duro__pg_query(c, SQL_SESSION_CANDIDATE, &cand, err, "itd", fa->now,
                                fa->worker_id, may_claim);

        if (rc != 0)
            return rc;
        if (PQntuples(cand) == 0) {
            *r = cand;
            return 0;
        }
        id = duro__pg_get_i64(cand, 0, 0);
        rc = duro__pg_exec(c, SQL_CLAIM_SESSION, err, "ttii", PQgetvalue(cand, 0, 1),
                           fa->worker_id, duro__add_sat(fa->now, fa->lease_ms), fa->now);
        PQclear(cand);
        if (rc < 0)
            return rc;
        if (rc != 1)
            continue;
        rc = duro__pg_query(c, SQL_TAKE_SESSION_ITEM, r, err, "itii", fa->now, token, until,
                            id);
        if (rc != 0 || PQntuples(*r) == 1)
            return rc;
        PQclear(*r);
        *r = NULL;
    }
    return duro_error_set(err, DURO_EBUSY, 1,
                          "fetch_work_session: other workers kept claiming the sessions first");
}

/* Run the take statement of class `k` of the filter (its order in duro-provider.h "Tags");
 * 0 with *r holding 0 or 1 rows, or a DURO_E* code. */
static int take_class(duro__pg_conn *c, const fetch_arg *fa, size_t k, const char *token,
                      PGresult **r, duro_error *err)
{
    const duro_work_filter *f = fa->filter;
    int64_t until = duro__add_sat(fa->now, fa->lock_ms);

    if (f == NULL || (f->untagged && k == 0))
        return duro__pg_query(c, SQL_TAKE, r, err, "iti", fa->now, token, until);
    if (f->any_tag)
        return duro__pg_query(c, SQL_TAKE_ANY_TAG, r, err, "iti", fa->now, token, until);
    return duro__pg_query(c, SQL_TAKE_TAG, r, err, "itit", fa->now, token, until,
                          f->tags[k - (f->untagged ? 1 : 0)]);
}

static int fetch_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    fetch_arg *fa = arg;
    const duro_work_filter *f = fa->filter;
    size_t filter_classes = f == NULL ? 1 : (f->untagged ? 1 : 0) + (f->any_tag ? 1 : f->n_tags);
    size_t classes = filter_classes + (fa->worker_id != NULL ? 1 : 0);
    size_t start = f == NULL ? 0 : f->turn % classes;
    int64_t owned = 0;
    char token[33];
    PGresult *r = NULL;
    int rc = duro_random_token(token);

    *notes = 0;
    duro_work_item_free(fa->item);
    fa->item = NULL;
    fa->next = DURO__NEVER;
    if (rc != 0)
        return duro_error_set(err, rc, 1, "cannot generate a lock token");
    if (fa->worker_id != NULL) { /* every fetch of a worker renews the leases it holds */
        rc = duro__pg_exec(c, SQL_LOCK_WORKER, err, "t", fa->worker_id);
        if (rc >= 0)
            rc = duro__pg_exec(c, SQL_EXTEND_SESSIONS, err, "tii", fa->worker_id, fa->now,
                               duro__add_sat(fa->now, fa->lease_ms));
        if (rc < 0)
            return rc;
        owned = rc;
    }
    for (size_t i = 0; i < classes; i++) {
        size_t k = (start + i) % classes;

        rc = k == filter_classes ? take_session(c, fa, owned, token, &r, err)
                                 : take_class(c, fa, k, token, &r, err);
        if (rc != 0)
            return rc;
        if (PQntuples(r) == 1)
            break;
        PQclear(r);
        r = NULL;
    }
    if (r != NULL) {
        rc = item_from_row(r, token, &fa->item, err);
        if (duro__pg_get_i64(r, 0, 6) == 1) /* another item ready too */
            fa->next = fa->now;
        PQclear(r);
        return rc;
    }
    /* nothing found: the transaction still commits, keeping the leases extended above */
    rc = duro__pg_int(c, SQL_NEXT_TIME, DURO__NEVER, &fa->next, err, "i", fa->now);
    return rc < 0 ? rc : 0;
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
    if (rc == 0 && fa->item == NULL)
        rc = DURO_ENOTFOUND;
    return rc;
}

/* Long-poll `fa` (of kind `note`) from now_ms for up to poll_ms: 0 with *out the item, or
 * DURO_ENOTFOUND / another DURO_E* code. */
static int poll_fetch(fetch_arg *fa, unsigned note, int64_t now_ms, int64_t poll_ms,
                      duro_work_item **out, duro_error *err)
{
    int rc = duro__notify_poll(&fa->s->notes, note, now_ms, poll_ms, try_fetch, fa, err);

    if (rc == 0)
        *out = fa->item;
    else
        duro_work_item_free(fa->item);
    return rc;
}

int duro__pg_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_work_item **out, duro_error *err)
{
    fetch_arg fa = { (duro_pg *)p, lock_ms, NULL, 0, DURO__NEVER, NULL, NULL, 0, 0 };
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_work: out is required");
    *out = NULL;
    rc = duro_provider_check_lock_ms(lock_ms, "fetch_work: lock_ms", err);
    return rc != 0 ? rc : poll_fetch(&fa, DURO__NOTE_WORK, now_ms, poll_ms, out, err);
}

int duro__pg_fetch_work_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                 int64_t poll_ms, const duro_work_filter *filter,
                                 duro_work_item **out, duro_error *err)
{
    fetch_arg fa = { (duro_pg *)p, lock_ms, filter, 0, DURO__NEVER, NULL, NULL, 0, 0 };
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_work_filtered: out is required");
    *out = NULL;
    rc = duro_provider_check_lock_ms(lock_ms, "fetch_work_filtered: lock_ms", err);
    if (rc == 0)
        rc = duro_provider_check_work_filter(filter, err);
    return rc != 0 ? rc : poll_fetch(&fa, DURO__NOTE_WORK_FILTERED, now_ms, poll_ms, out, err);
}

int duro__pg_fetch_work_session(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                int64_t poll_ms, const duro_work_filter *filter,
                                const char *worker_id, int64_t lease_ms, size_t max_sessions,
                                duro_work_item **out, duro_error *err)
{
    fetch_arg fa = { (duro_pg *)p, lock_ms, filter, 0, DURO__NEVER, NULL,
                     worker_id, lease_ms, max_sessions };
    int rc = duro_provider_check_session_fetch(out, lock_ms, lease_ms, filter, worker_id, err);

    return rc != 0 ? rc : poll_fetch(&fa, DURO__NOTE_WORK_FILTERED, now_ms, poll_ms, out, err);
}

typedef struct sessions_arg {
    int64_t now;
    const char *worker_id;
    int64_t lease_ms;
    int64_t idle_ms;
    int64_t owned;
} sessions_arg;

static int renew_sessions_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    sessions_arg *a = arg;
    int released = 0;
    int rc = duro__pg_exec(c, SQL_LOCK_WORKER, err, "t", a->worker_id);

    *notes = 0;
    a->owned = 0;
    if (rc >= 0)
        rc = duro__pg_exec(c, SQL_MARK_ACTIVE, err, "ti", a->worker_id, a->now);
    if (rc >= 0)
        rc = released = duro__pg_exec(c, SQL_RELEASE_IDLE, err, "tii", a->worker_id, a->now,
                                      duro__add_sat(a->now, -a->idle_ms));
    if (rc >= 0)
        rc = duro__pg_exec(c, SQL_DROP_EXPIRED, err, "i", a->now);
    if (rc >= 0)
        rc = duro__pg_exec(c, SQL_EXTEND_SESSIONS, err, "tii", a->worker_id, a->now,
                           duro__add_sat(a->now, a->lease_ms));
    if (rc < 0)
        return rc;
    a->owned = rc;
    /* a release frees room under max_sessions: the worker's own fetchers look again */
    if (released > 0)
        *notes = DURO__NOTE_WORK;
    return 0;
}

int duro__pg_renew_sessions(duro_provider *p, int64_t now_ms, const char *worker_id,
                            int64_t lease_ms, int64_t idle_ms, size_t *owned, duro_error *err)
{
    sessions_arg a = { now_ms, worker_id, lease_ms, idle_ms, 0 };
    int rc = duro_provider_check_worker_id(worker_id, "renew_sessions: worker_id", err);

    if (rc == 0)
        rc = duro_provider_check_lock_ms(lease_ms, "renew_sessions: lease_ms", err);
    if (rc == 0)
        rc = duro_provider_check_lock_ms(idle_ms, "renew_sessions: idle_ms", err);
    if (rc == 0)
        rc = duro__pg_run(&((duro_pg *)p)->pool, DURO__PG_LOCK, renew_sessions_txn, &a, err);
    if (rc == 0 && owned != NULL)
        *owned = (size_t)a.owned;
    return rc;
}

/* ---- Depths per tag ---------------------------------------------------------------------- */

static const char SQL_DEPTHS_BY_TAG[] =
    "SELECT tag, COUNT(*) FILTER (WHERE visible_at <= $1::bigint AND NOT live),"
    " COUNT(*) FILTER (WHERE live), COUNT(*) FILTER (WHERE visible_at > $1::bigint AND NOT live)"
    " FROM (SELECT tag, visible_at,"
    "  (lock_token IS NOT NULL AND locked_until > $1::bigint) AS live FROM work_queue) w"
    " GROUP BY tag ORDER BY tag IS NOT NULL, tag COLLATE \"C\"";

typedef struct depths_arg {
    int64_t now;
    duro_tag_depth *rows;
    size_t n;
} depths_arg;

static int depths_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    depths_arg *a = arg;
    PGresult *r;
    int rc = duro__pg_query(c, SQL_DEPTHS_BY_TAG, &r, err, "i", a->now);
    int n;

    *notes = 0;
    duro_tag_depths_free(a->rows, a->n); /* a retried transaction starts over */
    a->rows = NULL;
    a->n = 0;
    if (rc != 0)
        return rc;
    n = PQntuples(r);
    if (n > 0 && (a->rows = calloc((size_t)n, sizeof(*a->rows))) == NULL)
        rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (tag depths)");
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = duro__pg_get_str(r, i, 0, &a->rows[i].tag, err);
        a->rows[i].queued = (uint64_t)duro__pg_get_i64(r, i, 1);
        a->rows[i].locked = (uint64_t)duro__pg_get_i64(r, i, 2);
        a->rows[i].delayed = (uint64_t)duro__pg_get_i64(r, i, 3);
        a->n = (size_t)i + 1;
    }
    PQclear(r);
    return rc;
}

int duro__pg_queue_depths_by_tag(duro_provider *p, int64_t now_ms, duro_tag_depth **rows,
                                 size_t *n, duro_error *err)
{
    depths_arg a = { now_ms, NULL, 0 };
    int rc;

    if (rows == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "queue_depths_by_tag: rows and n are "
                              "required");
    *rows = NULL;
    *n = 0;
    rc = duro__pg_run(&((duro_pg *)p)->pool, DURO__PG_READ, depths_txn, &a, err);
    if (rc != 0) {
        duro_tag_depths_free(a.rows, a.n);
        return rc;
    }
    *rows = a.rows;
    *n = a.n;
    return 0;
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
