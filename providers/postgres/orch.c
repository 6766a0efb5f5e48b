/*
 * orch.c — the orchestrator queue of the PostgreSQL provider: enqueue, fetch (lock one
 * instance and take all its visible messages), ack (one turn's writes in one transaction),
 * abandon and renew.
 *
 * The lock of an instance is its row in instance_locks (token, locked_until); the messages of
 * the current batch carry the same token in orch_queue.lock_token, so ack deletes exactly what
 * was fetched and nothing that arrived during the turn. An instance is eligible for fetch when
 * it has a visible message, no live lock, and either an instance row or a visible START
 * message: messages for never-started instances are skipped, never spun on. An abandon with
 * a delay leaves the lock row in place as a hold (a fresh token nobody has, until now +
 * delay), so nothing of the instance is fetched before its hidden batch comes back.
 *
 * Many processes fetch at once. A fetch picks the oldest eligible message with FOR UPDATE
 * SKIP LOCKED (concurrent fetchers spread over different instances instead of queueing on
 * one row), then TRIES the instance's advisory lock: a fetch that loses the race rolls back
 * to its savepoint (releasing the candidate row) and tries the next instance; the winner
 * writes the lock row with a fresh token only if no live lock exists (upsert ... WHERE
 * locked_until <= now), then tags the messages. Ack, abandon and management wait for the
 * advisory lock before they touch the lock row, so no two transactions ever wait on each
 * other in opposite orders; ack verifies the token with the lock row locked, so an expired
 * lock taken over meanwhile fails the ack with DURO_ELOCK and writes nothing.
 */
#include "pg-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 32

/* ---- Enqueue ----------------------------------------------------------------------------- */

typedef struct enqueue_arg {
    const duro_msg *msg;
    const duro_orch_ref *target;
} enqueue_arg;

static int enqueue_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    enqueue_arg *a = arg;
    int rc = duro__pg_insert_msg(c, a->msg, a->target, err);

    *notes = DURO__NOTE_ORCH;
    return rc;
}

int duro__pg_enqueue_orch_start(duro_provider *p, const duro_msg *msg,
                                const duro_orch_ref *target, duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    enqueue_arg a = { msg, target };
    int rc = duro_provider_check_msg(msg, err);

    if (rc == 0)
        rc = duro_provider_check_target(target, err);
    return rc != 0 ? rc : duro__pg_run(&s->pool, DURO__PG_WRITE, enqueue_txn, &a, err);
}

int duro__pg_enqueue_orch(duro_provider *p, const duro_msg *msg, duro_error *err)
{
    return duro__pg_enqueue_orch_start(p, msg, NULL, err);
}

/* ---- Fetch ------------------------------------------------------------------------------- */

/* The conditions that make candidate message q's instance fetchable at $1 ($2: the START
 * kind): no live lock, and a row or a visible START. */
#define ELIGIBLE                                                                              \
    " AND NOT EXISTS (SELECT 1 FROM instance_locks l"                                         \
    "  WHERE l.instance_id = q.instance_id AND l.locked_until > $1::bigint)"                  \
    " AND (EXISTS (SELECT 1 FROM instances i WHERE i.instance_id = q.instance_id)"            \
    "  OR EXISTS (SELECT 1 FROM orch_queue s WHERE s.instance_id = q.instance_id"             \
    "   AND s.kind = $2::int AND s.visible_at <= $1::bigint))"
/* The oldest eligible instance, its advisory lock tried in the same statement (the first key
 * is the schema's, as in queue.c): 1 when this fetch holds it now, 0 when another has it. */
static const char SQL_CANDIDATE[] =
    "SELECT c.instance_id, pg_try_advisory_xact_lock(hashtext(current_setting('search_path')),"
    " hashtext(c.instance_id))::int FROM ("
    "SELECT q.instance_id FROM orch_queue q"
    " WHERE q.visible_at <= $1::bigint"
    " AND NOT (q.instance_id = ANY ($3::text[]))"
    ELIGIBLE
    " ORDER BY q.id LIMIT 1 FOR UPDATE OF q SKIP LOCKED) c";
static const char SQL_ANOTHER[] =
    "SELECT 1 FROM orch_queue q"
    " WHERE q.visible_at <= $1::bigint"
    ELIGIBLE
    " LIMIT 1";
/* The route of candidate q ("Version filtering" in duro-provider.h) and its test against the
 * filter's names and versions (parallel text arrays), with the parameter numbers of the
 * query that uses them: `now`, the START and CONTINUE_AS_NEW kinds, the two arrays. */
#define ROUTE_TARGET(alias, now, kind)                                                        \
    " LEFT JOIN LATERAL (SELECT t.target_name AS n, t.target_version AS v FROM orch_queue t"  \
    "  WHERE t.instance_id = q.instance_id AND t.kind = " kind "::int"                        \
    "  AND t.visible_at <= " now "::bigint AND t.target_name IS NOT NULL"                     \
    "  ORDER BY t.id DESC LIMIT 1) " alias " ON true"
#define ROUTE_JOINS(now, start, can)                                                          \
    " LEFT JOIN instances ri ON ri.instance_id = q.instance_id"                                \
    ROUTE_TARGET("rc", now, can) ROUTE_TARGET("rs", now, start)
#define ROUTE_ACCEPTS(name, version, names, versions)                                         \
    "EXISTS (SELECT 1 FROM unnest(" names "::text[], " versions "::text[]) f(n, v)"            \
    " WHERE f.n = " name " AND (" version " IS NULL OR f.v = " version "))"
#define ROUTE_OK(names, versions)                                                             \
    " AND CASE WHEN rc.n IS NOT NULL THEN " ROUTE_ACCEPTS("rc.n", "rc.v", names, versions)     \
    "  WHEN ri.instance_id IS NOT NULL THEN "                                                  \
    ROUTE_ACCEPTS("ri.orch_name", "ri.orch_version", names, versions)                          \
    "  WHEN rs.n IS NOT NULL THEN " ROUTE_ACCEPTS("rs.n", "rs.v", names, versions)             \
    "  ELSE cardinality(" names "::text[]) > 0 END"
/* SQL_CANDIDATE and SQL_ANOTHER among the instances whose route the filter accepts. */
static const char SQL_CANDIDATE_FILTERED[] =
    "SELECT c.instance_id, pg_try_advisory_xact_lock(hashtext(current_setting('search_path')),"
    " hashtext(c.instance_id))::int FROM ("
    "SELECT q.instance_id FROM orch_queue q" ROUTE_JOINS("$1", "$2", "$4")
    " WHERE q.visible_at <= $1::bigint"
    " AND NOT (q.instance_id = ANY ($3::text[]))"
    ELIGIBLE
    ROUTE_OK("$5", "$6")
    " ORDER BY q.id LIMIT 1 FOR UPDATE OF q SKIP LOCKED) c";
static const char SQL_ANOTHER_FILTERED[] =
    "SELECT 1 FROM orch_queue q" ROUTE_JOINS("$1", "$2", "$3")
    " WHERE q.visible_at <= $1::bigint"
    ELIGIBLE
    ROUTE_OK("$4", "$5")
    " LIMIT 1";
static const char SQL_NEXT_TIME[] =
    "SELECT LEAST((SELECT MIN(visible_at) FROM orch_queue WHERE visible_at > $1::bigint),"
    " (SELECT MIN(locked_until) FROM instance_locks WHERE locked_until > $1::bigint))";
/* Write the lock row only if no live lock exists, then tag the visible messages: no row
 * returned means a live lock or no message any more (one round trip for both). */
static const char SQL_LOCK_TAG[] =
    "WITH l AS (INSERT INTO instance_locks (instance_id, lock_token, locked_until)"
    " VALUES ($1::text, $2::text, $3::bigint)"
    " ON CONFLICT (instance_id) DO UPDATE SET lock_token = excluded.lock_token,"
    " locked_until = excluded.locked_until WHERE instance_locks.locked_until <= $4::bigint"
    " RETURNING 1)"
    " UPDATE orch_queue SET lock_token = $2::text, attempt_count = attempt_count + 1"
    " WHERE instance_id = $1::text AND visible_at <= $4::bigint AND EXISTS (SELECT 1 FROM l)"
    " RETURNING id, kind, execution_id, payload, attempt_count";
static const char SQL_INSTANCE[] =
    "SELECT i.orch_name, i.orch_version, i.current_execution, i.custom_status, e.state"
    " FROM instances i LEFT JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE i.instance_id = $1::text";
static const char SQL_HISTORY[] =
    "SELECT event_id, kind, payload FROM history"
    " WHERE instance_id = $1::text AND execution_id = $2::bigint ORDER BY event_id";

static int cmp_msg(const void *a, const void *b)
{
    const duro_stored_msg *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/* The rows returned by SQL_LOCK_TAG into item->msgs, sorted by id; sets item->attempt. */
static int read_batch(PGresult *r, duro_orch_item *item, duro_error *err)
{
    int n = PQntuples(r);

    item->msgs = calloc((size_t)n, sizeof(*item->msgs));
    if (item->msgs == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (fetched messages)");
    for (int i = 0; i < n; i++) {
        duro_stored_msg *m = &item->msgs[i];
        int64_t attempts = duro__pg_get_i64(r, i, 4);
        int rc;

        m->id = duro__pg_get_i64(r, i, 0);
        m->kind = (duro_msg_kind)duro__pg_get_i64(r, i, 1);
        m->execution_id = (uint64_t)duro__pg_get_i64(r, i, 2);
        rc = duro__pg_get_bytes(r, i, 3, &m->payload, err);
        if (rc != 0)
            return rc;
        item->n_msgs++;
        if (attempts > (int64_t)item->attempt)
            item->attempt = attempts > UINT32_MAX ? UINT32_MAX : (uint32_t)attempts;
    }
    qsort(item->msgs, item->n_msgs, sizeof(*item->msgs), cmp_msg);
    return 0;
}

/* Read the instance row (if any) into the item. */
static int read_instance(duro__pg_conn *c, duro_orch_item *item, duro_error *err)
{
    PGresult *r;
    int rc = duro__pg_query(c, SQL_INSTANCE, &r, err, "t", item->instance);

    if (rc != 0)
        return rc;
    item->execution_id = 1;
    item->state = DURO_STATE_NOT_FOUND;
    if (PQntuples(r) == 1) {
        item->execution_id = (uint64_t)duro__pg_get_i64(r, 0, 2);
        if (!duro__pg_is_null(r, 0, 4))
            item->state = (duro_state)duro__pg_get_i64(r, 0, 4);
        rc = duro__pg_get_str(r, 0, 0, &item->orch_name, err);
        if (rc == 0)
            rc = duro__pg_get_str(r, 0, 1, &item->orch_version, err);
        if (rc == 0)
            rc = duro__pg_get_bytes(r, 0, 3, &item->custom_status, err);
    }
    PQclear(r);
    return rc;
}

/* Read the current execution's history. A payload that is not text is reported through
 * item->history_error (history left empty) instead of failing the fetch. */
static int read_item_history(duro__pg_conn *c, duro_orch_item *item, duro_error *err)
{
    PGresult *r;
    int rc = duro__pg_query(c, SQL_HISTORY, &r, err, "tu", item->instance, item->execution_id);
    int n;

    if (rc != 0)
        return rc;
    n = PQntuples(r);
    item->history = n > 0 ? calloc((size_t)n, sizeof(*item->history)) : NULL;
    if (n > 0 && item->history == NULL)
        rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (history)");
    for (int i = 0; rc == 0 && i < n; i++) {
        duro_event *e = &item->history[i];

        e->event_id = (uint64_t)duro__pg_get_i64(r, i, 0);
        e->kind = (int)duro__pg_get_i64(r, i, 1);
        rc = duro__pg_get_bytes(r, i, 2, &e->payload, err);
        if (rc == DURO_ECORRUPT) {
            char buf[160];
            snprintf(buf, sizeof(buf), "history event %lld of execution %llu cannot be read"
                     " (payload is not text)", (long long)duro__pg_get_i64(r, i, 0),
                     (unsigned long long)item->execution_id);
            duro_events_free(item->history, item->n_history);
            item->history = NULL;
            item->n_history = 0;
            item->history_error = strdup(buf);
            rc = item->history_error == NULL
                     ? duro_error_set(err, DURO_ENOMEM, 0, "out of memory (history error)")
                     : 0;
            break;
        }
        if (rc == 0)
            item->n_history++;
    }
    PQclear(r);
    return rc;
}

/* Lock `instance` (its advisory lock is held) at `now`, tag its visible messages and build
 * the item. Returns 0, 1 when the instance turned out not to be available (a live lock or no
 * message any more: try the next one), or DURO_E*. */
static int take_instance(duro__pg_conn *c, const char *instance, int64_t now, int64_t lock_ms,
                         duro_orch_item **out, duro_error *err)
{
    duro_orch_item *item = calloc(1, sizeof(*item));
    PGresult *r = NULL;
    int rc;

    if (item == NULL || (item->instance = strdup(instance)) == NULL) {
        free(item);
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (orchestration item)");
    }
    rc = duro_random_token(item->lock_token);
    if (rc != 0) {
        rc = duro_error_set(err, rc, 1, "cannot generate a lock token");
    } else {
        rc = duro__pg_query(c, SQL_LOCK_TAG, &r, err, "ttii", instance, item->lock_token,
                            duro__add_sat(now, lock_ms), now);
        if (rc == 0 && PQntuples(r) == 0)
            rc = 1; /* locked, or its messages consumed or deleted, meanwhile */
        else if (rc == 0)
            rc = read_batch(r, item, err);
        PQclear(r);
    }
    if (rc == 0)
        rc = read_instance(c, item, err);
    if (rc == 0)
        rc = read_item_history(c, item, err);
    if (rc != 0) {
        duro_orch_item_free(item);
        return rc;
    }
    *out = item;
    return 0;
}

typedef struct fetch_arg {
    duro_pg *s;
    int64_t lock_ms;
    int64_t now;
    int64_t next;
    duro_orch_item *item;
    /* the filter's names and versions as array literals; NULL: no filter */
    const char *names, *versions;
} fetch_arg;

/* The oldest eligible instance not in `skip`, or NULL (0) in *instance; *locked tells whether
 * its advisory lock is now held by this transaction. */
static int candidate(duro__pg_conn *c, const fetch_arg *fa, const duro__pg_strv *skip,
                     char **instance, int *locked, duro_error *err)
{
    char *arr = duro__pg_array_literal(skip);
    PGresult *r;
    int rc;

    *instance = NULL;
    if (arr == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (fetch)");
    rc = fa->names ? duro__pg_query(c, SQL_CANDIDATE_FILTERED, &r, err, "idtdtt", fa->now,
                                    (int)DURO_MSG_START, arr, (int)DURO_MSG_CONTINUE_AS_NEW,
                                    fa->names, fa->versions)
                   : duro__pg_query(c, SQL_CANDIDATE, &r, err, "idt", fa->now,
                                    (int)DURO_MSG_START, arr);
    free(arr);
    if (rc != 0)
        return rc;
    *locked = 0;
    if (PQntuples(r) == 1) {
        rc = duro__pg_get_str(r, 0, 0, instance, err);
        *locked = duro__pg_get_i64(r, 0, 1) == 1;
    }
    PQclear(r);
    return rc;
}

static int fetch_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    fetch_arg *fa = arg;
    duro__pg_strv skip = { NULL, 0, 0 };
    int rc = 0;

    duro_orch_item_free(fa->item);
    fa->item = NULL;
    fa->next = DURO__NEVER;
    for (int tries = 0; rc == 0 && fa->item == NULL; tries++) {
        char *instance = NULL;
        int locked = 0;

        if (tries >= MAX_CANDIDATES) {
            fa->next = fa->now; /* busy: the poll loop tries again at once */
            rc = DURO_ENOTFOUND;
            break;
        }
        rc = duro__pg_simple(c, "SAVEPOINT duro_fetch", err);
        if (rc == 0)
            rc = candidate(c, fa, &skip, &instance, &locked, err);
        if (rc == 0 && instance == NULL) {
            rc = duro__pg_int(c, SQL_NEXT_TIME, DURO__NEVER, &fa->next, err, "i", fa->now);
            rc = rc < 0 ? rc : DURO_ENOTFOUND;
            break;
        }
        if (rc == 0 && locked)
            rc = take_instance(c, instance, fa->now, fa->lock_ms, &fa->item, err);
        else if (rc == 0)
            rc = 1; /* another fetcher has it */
        if (rc == 1) { /* lost: release the candidate row and go on with the next instance */
            rc = duro__pg_simple(c, "ROLLBACK TO SAVEPOINT duro_fetch", err);
            if (rc == 0)
                rc = duro__pg_strv_push(&skip, instance, err);
        }
        free(instance);
    }
    duro_strv_free(skip.v, skip.n);
    if (rc == 0) { /* another instance ready too? (this one is locked now) */
        int64_t another;
        rc = fa->names ? duro__pg_int(c, SQL_ANOTHER_FILTERED, 0, &another, err, "iddtt",
                                      fa->now, (int)DURO_MSG_START,
                                      (int)DURO_MSG_CONTINUE_AS_NEW, fa->names, fa->versions)
                       : duro__pg_int(c, SQL_ANOTHER, 0, &another, err, "id", fa->now,
                                      (int)DURO_MSG_START);
        if (rc >= 0 && another == 1)
            fa->next = fa->now;
        rc = rc < 0 ? rc : 0;
    }
    *notes = 0;
    if (rc != 0 && fa->item != NULL) {
        duro_orch_item_free(fa->item);
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
        duro_orch_item_free(fa->item);
        fa->item = NULL;
    }
    return rc;
}

/* The names and versions of `f` as two array literals (malloc'ed). 0 or DURO_ENOMEM. */
static int filter_arrays(const duro_version_filter *f, char **names, char **versions,
                         duro_error *err)
{
    duro__pg_strv n = { NULL, 0, 0 }, v = { NULL, 0, 0 };
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < f->n; i++) {
        rc = duro__pg_strv_push(&n, f->refs[i].orch_name, err);
        if (rc == 0)
            rc = duro__pg_strv_push(&v, f->refs[i].orch_version, err);
    }
    *names = rc == 0 ? duro__pg_array_literal(&n) : NULL;
    *versions = rc == 0 ? duro__pg_array_literal(&v) : NULL;
    duro_strv_free(n.v, n.n);
    duro_strv_free(v.v, v.n);
    if (rc == 0 && (*names == NULL || *versions == NULL))
        rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (version filter)");
    if (rc != 0) {
        free(*names);
        free(*versions);
        *names = *versions = NULL;
    }
    return rc;
}

int duro__pg_fetch_orch_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                 int64_t poll_ms, const duro_version_filter *filter,
                                 duro_orch_item **out, duro_error *err)
{
    fetch_arg fa = { (duro_pg *)p, lock_ms, 0, DURO__NEVER, NULL, NULL, NULL };
    char *names = NULL, *versions = NULL;
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_orch: out is required");
    *out = NULL;
    rc = duro_provider_check_lock_ms(lock_ms, "fetch_orch: lock_ms", err);
    if (rc == 0)
        rc = duro_provider_check_version_filter(filter, err);
    if (rc == 0 && filter != NULL)
        rc = filter_arrays(filter, &names, &versions, err);
    if (rc != 0)
        return rc;
    fa.names = names;
    fa.versions = versions;
    rc = duro__notify_poll(&fa.s->notes, DURO__NOTE_ORCH, now_ms, poll_ms, try_fetch, &fa, err);
    free(names);
    free(versions);
    if (rc == 0)
        *out = fa.item;
    else
        duro_orch_item_free(fa.item);
    return rc;
}

int duro__pg_fetch_orch(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_orch_item **out, duro_error *err)
{
    return duro__pg_fetch_orch_filtered(p, now_ms, lock_ms, poll_ms, NULL, out, err);
}

/* ---- Ack --------------------------------------------------------------------------------- */

/* The token's instance, waiting for its advisory lock in the same statement (keys as in
 * queue.c): a row only when the token has a lock row. */
static const char SQL_LOCK_INSTANCE[] =
    "SELECT instance_id, pg_advisory_xact_lock(hashtext(current_setting('search_path')),"
    " hashtext(instance_id))::text FROM instance_locks WHERE lock_token = $1::text";
static const char SQL_LOCK_ROW[] =
    "SELECT instance_id, locked_until FROM instance_locks WHERE lock_token = $1::text"
    " FOR UPDATE";
/* A row when the instance exists: 1 when the commit's execution $2 (1 or more) is stored,
 * the current one or the next one (current + 1), else 0; and the last event id stored for
 * execution $2 (0 when none), which append_events checks, read in the same round trip. */
static const char SQL_INSTANCE_LAST[] =
    "SELECT ($2::bigint = i.current_execution OR $2::bigint - 1 = i.current_execution"
    " OR EXISTS (SELECT 1 FROM executions e"
    "  WHERE e.instance_id = $1::text AND e.execution_id = $2::bigint))::int,"
    " (SELECT COALESCE(MAX(event_id), 0) FROM history h"
    "  WHERE h.instance_id = $1::text AND h.execution_id = $2::bigint)"
    " FROM instances i WHERE i.instance_id = $1::text";
static const char SQL_CREATE_INSTANCE[] =
    "INSERT INTO instances (instance_id, orch_name, orch_version, parent_instance,"
    " current_execution, created_at, updated_at)"
    " VALUES ($1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint, $6::bigint)";
static const char SQL_UPDATE_INSTANCE[] =
    "UPDATE instances SET orch_name = COALESCE($2::text, orch_name),"
    " orch_version = CASE WHEN $2::text IS NULL THEN orch_version ELSE $3::text END,"
    " current_execution = GREATEST(current_execution, $4::bigint), updated_at = $5::bigint"
    " WHERE instance_id = $1::text";
static const char SQL_CREATE_EXECUTION[] =
    "INSERT INTO executions (instance_id, execution_id, state, started_at)"
    " VALUES ($1::text, $2::bigint, $3::int, $4::bigint)"
    " ON CONFLICT (instance_id, execution_id) DO NOTHING";
/* All of a commit's events in one statement: parallel arrays of ids, kinds and payloads
 * (array literals built by event_arrays, payloads hex-encoded so any bytes round-trip). */
static const char SQL_INSERT_EVENTS[] =
    "INSERT INTO history (instance_id, execution_id, event_id, kind, payload)"
    " SELECT $1::text, $2::bigint, u.event_id, u.kind, u.payload"
    " FROM unnest($3::bigint[], $4::int[], $5::bytea[]) AS u(event_id, kind, payload)";
static const char SQL_SET_STATE[] =
    "UPDATE executions SET state = $3::int, output = $4::bytea,"
    " completed_at = CASE WHEN $3::int = 1 THEN NULL ELSE $5::bigint END" /* 1 = RUNNING */
    " WHERE instance_id = $1::text AND execution_id = $2::bigint";
static const char SQL_SET_CUSTOM[] =
    "UPDATE instances SET custom_status = $2::bytea,"
    " custom_status_version = custom_status_version + 1 WHERE instance_id = $1::text";
static const char SQL_CANCEL_WORK[] =
    "DELETE FROM work_queue WHERE instance_id = $1::text AND execution_id = $2::bigint"
    " AND activity_id = $3::bigint";
static const char SQL_UNLOCK[] = "DELETE FROM instance_locks WHERE lock_token = $1::text";
/* The end of an ack: delete the batch's messages and the lock row, and tell whether the
 * instance, now unlocked, still has a message due (the snapshot predates the deletes, so the
 * batch's rows are excluded by token). */
static const char SQL_FINISH[] =
    "WITH d AS (DELETE FROM orch_queue WHERE lock_token = $1::text RETURNING id),"
    " u AS (DELETE FROM instance_locks WHERE lock_token = $1::text RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM orch_queue q WHERE q.instance_id = $2::text"
    "  AND q.visible_at <= $3::bigint AND q.lock_token IS DISTINCT FROM $1::text)::int";

/* Step 1: resolve the token to its instance and take the instance's advisory lock (one
 * statement), then verify
 * with the lock row locked that the lock is still this token's and live at now. */
static int verify_lock(duro__pg_conn *c, const char *token, int64_t now, char **instance,
                       duro_error *err)
{
    PGresult *r;
    int rc = duro__pg_query(c, SQL_LOCK_INSTANCE, &r, err, "t", token);

    *instance = NULL;
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = duro_error_set(err, DURO_ELOCK, 0, "invalid lock token: unknown, released or stolen");
    else
        rc = duro__pg_get_str(r, 0, 0, instance, err);
    PQclear(r);
    if (rc == 0)
        rc = duro__pg_query(c, SQL_LOCK_ROW, &r, err, "t", token);
    if (rc == 0) {
        if (PQntuples(r) == 0)
            rc = duro_error_set(err, DURO_ELOCK, 0,
                                "invalid lock token: unknown, released or stolen");
        else if (duro__pg_get_i64(r, 0, 1) <= now)
            rc = duro_error_set(err, DURO_ELOCK, 0, "instance lock expired");
        PQclear(r);
    }
    if (rc != 0) {
        free(*instance);
        *instance = NULL;
    }
    return rc;
}

/* Step 2: instance and execution rows. *exists tells whether the instance has a row now,
 * *last the last event id stored for the commit's execution (0 when none). */
static int upsert_instance(duro__pg_conn *c, const char *instance, int64_t now,
                           const duro_orch_commit *cm, int *exists, int64_t *last,
                           duro_error *err)
{
    int64_t found = 0;
    int rc = 0;

    *exists = 0;
    *last = 0;
    /* a BIGINT holds no execution above INT64_MAX, so none is stored, current or next */
    if (cm->execution_id <= INT64_MAX) {
        PGresult *r;
        rc = duro__pg_query(c, SQL_INSTANCE_LAST, &r, err, "tu", instance, cm->execution_id);
        if (rc != 0)
            return rc;
        if (PQntuples(r) == 1) {
            *exists = 1;
            found = duro__pg_get_i64(r, 0, 0);
            *last = duro__pg_get_i64(r, 0, 1);
        }
        PQclear(r);
    }
    if (cm->execution_id > INT64_MAX || (*exists ? found != 1 : cm->execution_id != 1))
        return duro_error_set(err, DURO_ENOTFOUND, 0,
                              "ack_orch: execution %llu of %s is not stored, current or next",
                              (unsigned long long)cm->execution_id, instance);
    if (!*exists && cm->orch_name == NULL) {
        if (cm->n_events || cm->state || cm->set_custom_status || cm->n_kv)
            return duro_error_set(err, DURO_EINVAL, 0,
                                  "ack_orch: orch_name is required to create instance %s",
                                  instance);
        return 0;
    }
    if (*exists)
        rc = duro__pg_exec(c, SQL_UPDATE_INSTANCE, err, "tttui", instance, cm->orch_name,
                           cm->orch_version, cm->execution_id, now);
    else
        rc = duro__pg_exec(c, SQL_CREATE_INSTANCE, err, "ttttui", instance, cm->orch_name,
                           cm->orch_version, cm->parent_instance, cm->execution_id, now);
    *exists = 1;
    if (rc >= 0)
        rc = duro__pg_exec(c, SQL_CREATE_EXECUTION, err, "tudi", instance, cm->execution_id,
                           (int)DURO_STATE_RUNNING, now);
    return rc < 0 ? rc : 0;
}

/* The array literals of SQL_INSERT_EVENTS for the commit's events: "{1,2}" ids, "{3,4}"
 * kinds, and payloads as {"\\x6869",NULL} (bytea hex input, the backslash escaped for the
 * array parser). Returns 0 with the three malloc'ed strings, or DURO_ENOMEM. */
static int event_arrays(const duro_orch_commit *cm, char **ids, char **kinds, char **payloads,
                        duro_error *err)
{
    static const char hex[] = "0123456789abcdef";
    size_t n_ids = 2 + cm->n_events * 21, n_kinds = 2 + cm->n_events * 12, n_pay = 3;
    char *pi, *pk, *pp;

    for (size_t i = 0; i < cm->n_events; i++)
        n_pay += cm->events[i].payload != NULL ? 2 * strlen(cm->events[i].payload) + 6 : 5;
    *ids = malloc(n_ids + 1);
    *kinds = malloc(n_kinds + 1);
    *payloads = malloc(n_pay + 1);
    if (*ids == NULL || *kinds == NULL || *payloads == NULL) {
        free(*ids);
        free(*kinds);
        free(*payloads);
        *ids = *kinds = *payloads = NULL;
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (history insert)");
    }
    pi = *ids;
    pk = *kinds;
    pp = *payloads;
    *pi++ = '{';
    *pk++ = '{';
    *pp++ = '{';
    for (size_t i = 0; i < cm->n_events; i++) {
        const duro_event_in *e = &cm->events[i];
        const char *sep = i > 0 ? "," : "";

        pi += sprintf(pi, "%s%llu", sep, (unsigned long long)e->event_id);
        pk += sprintf(pk, "%s%d", sep, e->kind);
        pp += sprintf(pp, "%s", sep);
        if (e->payload == NULL) {
            pp += sprintf(pp, "NULL");
            continue;
        }
        pp += sprintf(pp, "\"\\\\x");
        for (const unsigned char *b = (const unsigned char *)e->payload; *b != '\0'; b++) {
            *pp++ = hex[*b >> 4];
            *pp++ = hex[*b & 15];
        }
        *pp++ = '"';
    }
    strcpy(pi, "}");
    strcpy(pk, "}");
    strcpy(pp, "}");
    return 0;
}

/* Step 3: append the events, insert-only, above the last stored id (the commit's own ids
 * increase: duro_provider_check_commit). A rejected commit rolls back, writing nothing. */
static int append_events(duro__pg_conn *c, const char *instance, const duro_orch_commit *cm,
                         int64_t last, duro_error *err)
{
    int rc = 0;

    if (cm->n_events > 0 && cm->events[0].event_id <= (uint64_t)last)
        return duro_error_set(err, DURO_ECONSTRAINT, 0,
                              "event id %llu rejected in execution %llu of %s: not above the"
                              " last stored id %lld (duplicate or out of order)",
                              (unsigned long long)cm->events[0].event_id,
                              (unsigned long long)cm->execution_id, instance, (long long)last);
    for (size_t i = 0; i < cm->n_events; i++) {
        const duro_event_in *e = &cm->events[i];

        if (e->event_id == 0 || e->event_id > INT64_MAX)
            return duro_error_set(err, DURO_ECONSTRAINT, 0,
                                  "event id %llu rejected in execution %llu of %s"
                                  " (out of range)", (unsigned long long)e->event_id,
                                  (unsigned long long)cm->execution_id, instance);
    }
    if (cm->n_events > 0) {
        char *ids, *kinds, *payloads;

        rc = event_arrays(cm, &ids, &kinds, &payloads, err);
        if (rc != 0)
            return rc;
        rc = duro__pg_exec(c, SQL_INSERT_EVENTS, err, "tuttt", instance, cm->execution_id, ids,
                           kinds, payloads);
        free(ids);
        free(kinds);
        free(payloads);
    }
    return rc < 0 ? rc : 0;
}

/* Steps 4-7: state, custom status, work (inserts before cancel-deletes), messages. */
static int apply_writes(duro__pg_conn *c, const char *instance, int64_t now,
                        const duro_orch_commit *cm, duro_error *err)
{
    int rc = 0;

    if (cm->state != 0)
        rc = duro__pg_exec(c, SQL_SET_STATE, err, "tudbi", instance, cm->execution_id,
                           (int)cm->state, cm->output, now);
    if (rc >= 0 && cm->set_custom_status)
        rc = duro__pg_exec(c, SQL_SET_CUSTOM, err, "tb", instance, cm->custom_status);
    for (size_t i = 0; rc >= 0 && i < cm->n_work; i++)
        rc = duro__pg_insert_work_routed(c, &cm->work[i],
                                         cm->work_tags != NULL ? cm->work_tags[i] : NULL,
                                         cm->work_sessions != NULL ? cm->work_sessions[i] : NULL,
                                         err);
    for (size_t i = 0; rc >= 0 && i < cm->n_cancel; i++)
        rc = duro__pg_exec(c, SQL_CANCEL_WORK, err, "tuu", instance, cm->cancel[i].execution_id,
                           cm->cancel[i].activity_id);
    for (size_t i = 0; rc >= 0 && i < cm->n_msgs; i++)
        rc = duro__pg_insert_msg(c, &cm->msgs[i], cm->msg_targets ? &cm->msg_targets[i] : NULL,
                                 err);
    return rc < 0 ? rc : 0;
}

typedef struct ack_arg {
    int64_t now;
    const char *token;
    const duro_orch_commit *commit;
} ack_arg;

static int ack_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    ack_arg *a = arg;
    const duro_orch_commit *cm = a->commit;
    char *instance = NULL;
    int exists = 0;
    int64_t last = 0;
    int rc = verify_lock(c, a->token, a->now, &instance, err);

    *notes = cm->n_work > 0 ? DURO__NOTE_WORK : 0;
    if (rc == 0)
        rc = upsert_instance(c, instance, a->now, cm, &exists, &last, err);
    if (rc == 0 && exists)
        rc = append_events(c, instance, cm, last, err);
    if (rc == 0)
        rc = apply_writes(c, instance, a->now, cm, err);
    if (rc == 0 && cm->n_kv > 0)
        rc = duro__pg_apply_kv(c, instance, cm, err);
    /* Orchestration fetchers are woken only when this commit sent messages or the instance,
     * now unlocked, still has messages due. */
    if (rc == 0) {
        int64_t due;
        rc = duro__pg_int(c, SQL_FINISH, 0, &due, err, "tti", a->token, instance, a->now);
        if (rc >= 0 && (due == 1 || cm->n_msgs > 0))
            *notes |= DURO__NOTE_ORCH;
    }
    free(instance);
    return rc < 0 ? rc : 0;
}

int duro__pg_ack_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                      const duro_orch_commit *commit, duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    ack_arg a = { now_ms, lock_token, commit };
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0)
        rc = duro_provider_check_commit(commit, err);
    return rc != 0 ? rc : duro__pg_run(&s->pool, DURO__PG_WRITE, ack_txn, &a, err);
}

/* ---- Abandon and renew ------------------------------------------------------------------- */

static const char SQL_UNCOUNT[] =
    "UPDATE orch_queue SET attempt_count = GREATEST(attempt_count - 1, 0)"
    " WHERE lock_token = $1::text";
static const char SQL_DELAY[] =
    "UPDATE orch_queue SET visible_at = $2::bigint"
    " WHERE instance_id = $1::text AND visible_at <= $3::bigint";
static const char SQL_UNTAG[] =
    "UPDATE orch_queue SET lock_token = NULL WHERE lock_token = $1::text";
/* An abandon delay keeps the instance's lock row as a hold: a fresh token nobody knows, up to
 * now + delay, so arrivals and timers due sooner cannot overtake the hidden batch. */
static const char SQL_HOLD[] =
    "UPDATE instance_locks SET lock_token = $2::text, locked_until = $3::bigint"
    " WHERE lock_token = $1::text";
static const char SQL_RENEW[] =
    "UPDATE instance_locks SET locked_until = $2::bigint"
    " WHERE lock_token = $1::text AND locked_until > $3::bigint";

typedef struct abandon_arg {
    int64_t now;
    const char *token;
    int64_t delay_ms;
    int ignore_attempt;
    char hold[33];                 /* the hold's token, when delay_ms > 0 */
} abandon_arg;

static int abandon_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    abandon_arg *a = arg;
    int64_t until = duro__add_sat(a->now, a->delay_ms);
    char *instance = NULL;
    int rc = verify_lock(c, a->token, a->now, &instance, err);

    *notes = DURO__NOTE_ORCH;
    if (rc == 0 && a->ignore_attempt)
        rc = duro__pg_exec(c, SQL_UNCOUNT, err, "t", a->token);
    if (rc >= 0 && a->delay_ms > 0)
        rc = duro__pg_exec(c, SQL_DELAY, err, "tii", instance, until, a->now);
    if (rc >= 0)
        rc = duro__pg_exec(c, SQL_UNTAG, err, "t", a->token);
    if (rc >= 0 && a->delay_ms > 0)
        rc = duro__pg_exec(c, SQL_HOLD, err, "tti", a->token, a->hold, until);
    else if (rc >= 0)
        rc = duro__pg_exec(c, SQL_UNLOCK, err, "t", a->token);
    free(instance);
    return rc < 0 ? rc : 0;
}

int duro__pg_abandon_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                          int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    abandon_arg a = { now_ms, lock_token, delay_ms, ignore_attempt, "" };
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0 && delay_ms < 0)
        rc = duro_error_set(err, DURO_EINVAL, 0, "abandon_orch: negative delay");
    if (rc == 0 && delay_ms > 0 && duro_random_token(a.hold) != 0)
        rc = duro_error_set(err, DURO_EIO, 1, "cannot generate a hold token");
    return rc != 0 ? rc : duro__pg_run(&s->pool, DURO__PG_LOCK, abandon_txn, &a, err);
}

typedef struct renew_arg {
    const char *sql;
    int64_t now;
    const char *token;
    int64_t extend_ms;
    const char *what;
} renew_arg;

static int renew_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    renew_arg *a = arg;
    int rc = duro__pg_exec(c, a->sql, err, "tii", a->token, duro__add_sat(a->now, a->extend_ms),
                           a->now);

    *notes = 0;
    if (rc == 0)
        rc = duro_error_set(err, DURO_ELOCK, 0, "%s", a->what);
    return rc < 0 ? rc : 0;
}

int duro__pg_renew_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t extend_ms, duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    renew_arg a = { SQL_RENEW, now_ms, lock_token, extend_ms,
                    "instance lock is gone or expired" };
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0)
        rc = duro_provider_check_lock_ms(extend_ms, "renew_orch: extend_ms", err);
    return rc != 0 ? rc : duro__pg_run(&s->pool, DURO__PG_LOCK, renew_txn, &a, err);
}
