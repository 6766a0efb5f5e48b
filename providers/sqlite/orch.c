/*
 * orch.c — the orchestrator queue of the SQLite provider: enqueue, fetch (lock one instance
 * and take all its visible messages), ack (one turn's writes in one transaction), abandon and
 * renew.
 *
 * The lock of an instance is its row in instance_locks (token, locked_until); the messages of
 * the current batch carry the same token in orch_queue.lock_token, so ack deletes exactly
 * what was fetched and nothing that arrived during the turn. An instance is eligible for
 * fetch when it has a visible message, no live lock, and either an instance row or a visible
 * START message: messages for never-started instances are skipped, never spun on.
 */
#include "sqlite-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Enqueue ----------------------------------------------------------------------------- */

typedef struct enqueue_arg {
    const duro_msg *msg;
    const duro_orch_ref *target;
} enqueue_arg;

/* Group-commit body of enqueue_orch and enqueue_orch_start. */
static int enqueue_body(duro__sq_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    const enqueue_arg *a = arg;
    *notes = DURO__NOTE_ORCH;
    return duro__sq_insert_msg(c, a->msg, a->target, err);
}

int duro__sq_enqueue_orch_start(duro_provider *p, const duro_msg *msg,
                                const duro_orch_ref *target, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    enqueue_arg a = { msg, target };
    int rc = duro_provider_check_msg(msg, err);

    if (rc == 0)
        rc = duro_provider_check_target(target, err);
    if (rc != 0)
        return rc;
    return duro__sq_commit(&s->pool, enqueue_body, &a, err);
}

int duro__sq_enqueue_orch(duro_provider *p, const duro_msg *msg, duro_error *err)
{
    return duro__sq_enqueue_orch_start(p, msg, NULL, err);
}

/* ---- Fetch ------------------------------------------------------------------------------- */

/* The eligible messages: visible at ?1, their instance not locked, and either started or
 * with a visible START (kind ?2). Scanned in id order, stopping at the first ("+" keeps the
 * planner off the visible_at index, which would sort every visible message on each fetch). */
#define CANDIDATE_WHERE                                                                       \
    " WHERE +q.visible_at <= ?1"                                                              \
    " AND NOT EXISTS (SELECT 1 FROM instance_locks l"                                         \
    "  WHERE l.instance_id = q.instance_id AND l.locked_until > ?1)"                          \
    " AND (EXISTS (SELECT 1 FROM instances i WHERE i.instance_id = q.instance_id)"            \
    "  OR EXISTS (SELECT 1 FROM orch_queue s WHERE s.instance_id = q.instance_id"             \
    "   AND s.kind = ?2 AND s.visible_at <= ?1))"
/* The same, among the instances whose route (duro_route_ok) the filter ?3 accepts (?4: the
 * CONTINUE_AS_NEW kind). */
#define ROUTE_TARGET(column, kind)                                                            \
    "  (SELECT t." column " FROM orch_queue t WHERE t.instance_id = q.instance_id"            \
    "   AND t.kind = " kind " AND t.visible_at <= ?1 AND t.target_name IS NOT NULL"           \
    "   ORDER BY t.id DESC LIMIT 1)"
#define CANDIDATE_FILTERED_FROM_WHERE                                                         \
    " FROM orch_queue q LEFT JOIN instances i ON i.instance_id = q.instance_id"               \
    " WHERE +q.visible_at <= ?1"                                                              \
    " AND NOT EXISTS (SELECT 1 FROM instance_locks l"                                         \
    "  WHERE l.instance_id = q.instance_id AND l.locked_until > ?1)"                          \
    " AND (i.instance_id IS NOT NULL"                                                         \
    "  OR EXISTS (SELECT 1 FROM orch_queue s WHERE s.instance_id = q.instance_id"             \
    "   AND s.kind = ?2 AND s.visible_at <= ?1))"                                             \
    " AND duro_route_ok(?3," ROUTE_TARGET("target_name", "?4") ","                            \
    ROUTE_TARGET("target_version", "?4") ", i.orch_name, i.orch_version,"                     \
    ROUTE_TARGET("target_name", "?2") "," ROUTE_TARGET("target_version", "?2") ")"
static const char SQL_CANDIDATE[] =
    "SELECT q.instance_id FROM orch_queue q" CANDIDATE_WHERE " ORDER BY q.id";
static const char SQL_CANDIDATE_FILTERED[] =
    "SELECT q.instance_id" CANDIDATE_FILTERED_FROM_WHERE " ORDER BY q.id";
static const char SQL_NEXT_TIME[] =
    "SELECT MIN(t) FROM ("
    " SELECT MIN(visible_at) AS t FROM orch_queue WHERE visible_at > ?1"
    " UNION ALL SELECT MIN(locked_until) FROM instance_locks WHERE locked_until > ?1)";
/* Tag the instance's visible messages with the lock token and read them (in no particular
 * order: read_batch sorts them by id). */
static const char SQL_LOCK[] =
    "INSERT INTO instance_locks (instance_id, lock_token, locked_until) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (instance_id) DO UPDATE SET lock_token = excluded.lock_token,"
    " locked_until = excluded.locked_until WHERE instance_locks.locked_until <= ?4";
static const char SQL_TAG[] =
    "UPDATE orch_queue SET lock_token = ?1, attempt_count = attempt_count + 1"
    " WHERE instance_id = ?2 AND visible_at <= ?3"
    " RETURNING id, kind, execution_id, payload, attempt_count";
/* The instance row with its current execution's state, one row per event of that
 * execution's history in event id order (event columns NULL when it has none); no row when
 * the instance has no row (a history needs one: ack_orch appends events only then). */
static const char SQL_INSTANCE_HISTORY[] =
    "SELECT i.orch_name, i.orch_version, i.current_execution, i.custom_status, e.state,"
    " h.event_id, h.kind, h.payload"
    " FROM instances i LEFT JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " LEFT JOIN history h"
    " ON h.instance_id = i.instance_id AND h.execution_id = i.current_execution"
    " WHERE i.instance_id = ?1 ORDER BY h.event_id";

/* qsort order of fetched messages: by id, the order they were enqueued in. */
static int msg_id_order(const void *a, const void *b)
{
    int64_t x = ((const duro_stored_msg *)a)->id, y = ((const duro_stored_msg *)b)->id;
    return (x > y) - (x < y);
}

/* Tag the instance's messages visible at `now` with the item's token and read them into
 * item->msgs in id order; sets item->attempt. */
static int read_batch(duro__sq_conn *c, int64_t now, duro_orch_item *item, duro_error *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc = duro__sq_query(c, SQL_TAG, &st, err, "tti", item->lock_token, item->instance, now);

    if (rc != 0)
        return rc;
    while ((rc = duro__sq_step(c, st, err)) == 1) {
        duro_stored_msg *m;
        int64_t attempts;

        if (item->n_msgs == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            duro_stored_msg *nm = realloc(item->msgs, ncap * sizeof(*nm));
            if (nm == NULL) {
                rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (fetched messages)");
                break;
            }
            item->msgs = nm;
            cap = ncap;
        }
        m = &item->msgs[item->n_msgs];
        m->id = sqlite3_column_int64(st, 0);
        m->kind = sqlite3_column_int(st, 1);
        m->execution_id = (uint64_t)sqlite3_column_int64(st, 2);
        rc = duro__sq_col_strdup(st, 3, &m->payload, err);
        if (rc != 0)
            break;
        item->n_msgs++;
        attempts = sqlite3_column_int64(st, 4);
        if (attempts > (int64_t)item->attempt)
            item->attempt = attempts > UINT32_MAX ? UINT32_MAX : (uint32_t)attempts;
    }
    duro__sq_reset(st);
    if (rc < 0)
        return rc;
    if (item->n_msgs > 1) /* msgs is NULL when no row came back (a damaged store) */
        qsort(item->msgs, item->n_msgs, sizeof(*item->msgs), msg_id_order);
    return 0;
}

/* Fill the item's instance fields from the current row of SQL_INSTANCE_HISTORY. */
static int instance_from_row(sqlite3_stmt *st, duro_orch_item *item, duro_error *err)
{
    int rc;

    item->execution_id = (uint64_t)sqlite3_column_int64(st, 2);
    if (sqlite3_column_type(st, 4) != SQLITE_NULL)
        item->state = sqlite3_column_int(st, 4);
    rc = duro__sq_col_strdup(st, 0, &item->orch_name, err);
    if (rc == 0)
        rc = duro__sq_col_strdup(st, 1, &item->orch_version, err);
    if (rc == 0)
        rc = duro__sq_col_strdup(st, 3, &item->custom_status, err);
    return rc;
}

/* Append the event of the current row of SQL_INSTANCE_HISTORY (*cap: the history's
 * capacity). A payload that is not text empties the history and sets item->history_error
 * instead of failing the fetch: 1 then (read no further), else 0 or a DURO_E* code. */
static int event_from_row(sqlite3_stmt *st, duro_orch_item *item, size_t *cap, duro_error *err)
{
    duro_event *e;

    if (sqlite3_column_type(st, 7) != SQLITE_TEXT) {
        char buf[160];
        snprintf(buf, sizeof(buf), "history event %lld of execution %llu cannot be read"
                 " (payload is not text)", (long long)sqlite3_column_int64(st, 5),
                 (unsigned long long)item->execution_id);
        duro_events_free(item->history, item->n_history);
        item->history = NULL;
        item->n_history = 0;
        item->history_error = strdup(buf);
        return item->history_error == NULL
                   ? duro_error_set(err, DURO_ENOMEM, 0, "out of memory (history error)")
                   : 1;
    }
    if (item->n_history == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        duro_event *ne = realloc(item->history, ncap * sizeof(*ne));
        if (ne == NULL)
            return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (history)");
        item->history = ne;
        *cap = ncap;
    }
    e = &item->history[item->n_history];
    e->event_id = (uint64_t)sqlite3_column_int64(st, 5);
    e->kind = sqlite3_column_int(st, 6);
    if (duro__sq_col_strdup(st, 7, &e->payload, err) != 0)
        return DURO_ENOMEM;
    item->n_history++;
    return 0;
}

/* Read the instance row (if any) and its current execution's history into the item. */
static int read_instance_history(duro__sq_conn *c, duro_orch_item *item, duro_error *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc = duro__sq_query(c, SQL_INSTANCE_HISTORY, &st, err, "t", item->instance);

    if (rc != 0)
        return rc;
    item->execution_id = 1;
    item->state = DURO_STATE_NOT_FOUND;
    rc = duro__sq_step(c, st, err);
    if (rc == 1)
        rc = instance_from_row(st, item, err) != 0 ? DURO_ENOMEM : 1;
    while (rc == 1) {
        if (sqlite3_column_type(st, 5) != SQLITE_NULL &&
            (rc = event_from_row(st, item, &cap, err)) != 0)
            break;
        rc = duro__sq_step(c, st, err);
    }
    duro__sq_reset(st);
    return rc < 0 ? rc : 0;
}

/* Build the item of `instance`, just locked with `token` at `now`: tag and read its batch,
 * then its instance row and history. */
static int take_instance(duro__sq_conn *c, const char *instance, const char *token, int64_t now,
                         duro_orch_item **out, duro_error *err)
{
    duro_orch_item *item = calloc(1, sizeof(*item));
    int rc;

    if (item == NULL || (item->instance = strdup(instance)) == NULL) {
        free(item);
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (orchestration item)");
    }
    memcpy(item->lock_token, token, sizeof(item->lock_token));
    rc = read_batch(c, now, item, err);
    if (rc == 0)
        rc = read_instance_history(c, item, err);
    if (rc != 0) {
        duro_orch_item_free(item);
        return rc;
    }
    *out = item;
    return 0;
}

typedef struct fetch_arg {
    duro_sqlite *s;
    int64_t lock_ms;
    const duro_version_filter *filter; /* NULL: any instance */
    duro_orch_item **out;
} fetch_arg;

/* The first eligible instance in id order (fetch_orch or, with a filter, its filtered
 * form): 0 with *instance a malloc'ed copy of its id (NULL when none is eligible) and
 * *another set when another instance is eligible too, or an error. The scan goes on past
 * the first one's messages to the first message of another instance (every row before the
 * first one was not eligible), so one statement answers both. */
static int first_candidate(duro__sq_conn *c, int64_t now, const duro_version_filter *filter,
                           char **instance, int *another, duro_error *err)
{
    sqlite3_stmt *st;
    int rc = filter ? duro__sq_query(c, SQL_CANDIDATE_FILTERED, &st, err, "idfd", now,
                                     (int)DURO_MSG_START, (void *)filter,
                                     (int)DURO_MSG_CONTINUE_AS_NEW)
                    : duro__sq_query(c, SQL_CANDIDATE, &st, err, "id", now,
                                     (int)DURO_MSG_START);

    if (rc != 0)
        return rc;
    rc = duro__sq_step(c, st, err);
    if (rc == 1)
        rc = duro__sq_col_strdup(st, 0, instance, err);
    while (rc == 0 && *instance != NULL && (rc = duro__sq_step(c, st, err)) == 1) {
        const unsigned char *id = sqlite3_column_text(st, 0);

        rc = 0;
        if (id == NULL || strcmp((const char *)id, *instance) != 0) {
            *another = 1;
            break;
        }
    }
    duro__sq_reset(st);
    return rc < 0 ? rc : 0;
}

/* Lock `instance` with `token` until now + lock_ms, where no live lock holds it. */
static int lock_instance(duro__sq_conn *c, const char *instance, const char *token, int64_t now,
                         int64_t lock_ms, duro_error *err)
{
    int rc = duro__sq_exec(c, SQL_LOCK, err, "ttii", instance, token,
                           duro__add_sat(now, lock_ms), now);

    if (rc == 0)
        return duro_error_set(err, DURO_ENOTFOUND, 1, "instance %s was locked concurrently",
                              instance);
    return rc < 0 ? rc : 0;
}

static int try_fetch(void *arg, int64_t now, int64_t *next, duro_error *err)
{
    fetch_arg *fa = arg;
    duro_sqlite *s = fa->s;
    duro__sq_conn *c;
    char token[33];
    char *instance = NULL;
    int another = 0;
    int rc = duro_random_token(token);

    if (rc != 0)
        return duro_error_set(err, rc, 1, "cannot generate a lock token");
    rc = duro__sq_begin_lock(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = first_candidate(c, now, fa->filter, &instance, &another, err);
    if (rc == 0 && instance != NULL)
        rc = lock_instance(c, instance, token, now, fa->lock_ms, err);
    if (rc == 0 && instance == NULL) {
        rc = duro__sq_int(c, SQL_NEXT_TIME, DURO__NEVER, next, err, "i", now);
        if (rc >= 0)
            rc = DURO_ENOTFOUND;
    } else if (rc == 0) {
        rc = take_instance(c, instance, token, now, fa->out, err);
        if (rc == 0 && another) /* another instance ready too (this one is locked now) */
            *next = now;
    }
    free(instance);
    rc = duro__sq_end_write(&s->pool, c, rc, 0, err);
    if (rc != 0 && *fa->out != NULL) {
        duro_orch_item_free(*fa->out);
        *fa->out = NULL;
    }
    return rc;
}

int duro__sq_fetch_orch_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                 int64_t poll_ms, const duro_version_filter *filter,
                                 duro_orch_item **out, duro_error *err)
{
    fetch_arg fa = { (duro_sqlite *)p, lock_ms, filter, out };
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_orch: out is required");
    *out = NULL;
    rc = duro_provider_check_lock_ms(lock_ms, "fetch_orch: lock_ms", err);
    if (rc == 0)
        rc = duro_provider_check_version_filter(filter, err);
    if (rc != 0)
        return rc;
    return duro__notify_poll(&fa.s->notes, DURO__NOTE_ORCH, now_ms, poll_ms, try_fetch, &fa,
                         err);
}

int duro__sq_fetch_orch(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_orch_item **out, duro_error *err)
{
    return duro__sq_fetch_orch_filtered(p, now_ms, lock_ms, poll_ms, NULL, out, err);
}

/* ---- Ack --------------------------------------------------------------------------------- */

static const char SQL_LOCK_BY_TOKEN[] =
    "SELECT instance_id, locked_until FROM instance_locks WHERE lock_token = ?1";
/* What ack_orch checks before it writes, in one row for lock token ?1 and the commit's
 * execution ?2: the instance and the lock's end; whether the instance has a row; whether
 * execution ?2 is stored, the current one or the next one (current + 1); whether it is
 * stored; the last event id stored in it (0: none). */
static const char SQL_ACK_STATE[] =
    "SELECT l.instance_id, l.locked_until, i.instance_id IS NOT NULL,"
    " ?2 IN (i.current_execution, i.current_execution + 1) OR e.execution_id IS NOT NULL,"
    " e.execution_id IS NOT NULL,"
    " (SELECT COALESCE(MAX(h.event_id), 0) FROM history h"
    "  WHERE h.instance_id = l.instance_id AND h.execution_id = ?2)"
    " FROM instance_locks l LEFT JOIN instances i ON i.instance_id = l.instance_id"
    " LEFT JOIN executions e ON e.instance_id = l.instance_id AND e.execution_id = ?2"
    " WHERE l.lock_token = ?1";
static const char SQL_CREATE_INSTANCE[] =
    "INSERT INTO instances (instance_id, orch_name, orch_version, parent_instance,"
    " current_execution, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
static const char SQL_UPDATE_INSTANCE[] =
    "UPDATE instances SET orch_name = COALESCE(?2, orch_name),"
    " orch_version = CASE WHEN ?2 IS NULL THEN orch_version ELSE ?3 END,"
    " current_execution = MAX(current_execution, ?4), updated_at = ?5"
    " WHERE instance_id = ?1";
static const char SQL_CREATE_EXECUTION[] =
    "INSERT INTO executions (instance_id, execution_id, state, started_at)"
    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (instance_id, execution_id) DO NOTHING";
/* Up to EVENT_ROWS events of execution ?2 of ?1 in one statement; rows left unbound (event
 * id NULL) are skipped. */
#define EVENT_ROWS 8
static const char SQL_INSERT_EVENTS[] =
    "INSERT INTO history (instance_id, execution_id, event_id, kind, payload)"
    " SELECT ?1, ?2, column1, column2, column3 FROM (VALUES"
    " (?3, ?4, ?5),"
    " (?6, ?7, ?8),"
    " (?9, ?10, ?11),"
    " (?12, ?13, ?14),"
    " (?15, ?16, ?17),"
    " (?18, ?19, ?20),"
    " (?21, ?22, ?23),"
    " (?24, ?25, ?26))"
    " WHERE column1 IS NOT NULL";
#define EVENT_ROW_PARAMS 3
static const char SQL_SET_STATE[] =
    "UPDATE executions SET state = ?3, output = ?4,"
    " completed_at = CASE WHEN ?3 = 1 THEN NULL ELSE ?5 END" /* 1 = DURO_STATE_RUNNING */
    " WHERE instance_id = ?1 AND execution_id = ?2";
static const char SQL_SET_CUSTOM[] =
    "UPDATE instances SET custom_status = ?2, custom_status_version = custom_status_version + 1"
    " WHERE instance_id = ?1";
static const char SQL_CANCEL_WORK[] =
    "DELETE FROM work_queue WHERE instance_id = ?1 AND execution_id = ?2 AND activity_id = ?3";
static const char SQL_DELETE_TAGGED[] = "DELETE FROM orch_queue WHERE lock_token = ?1";
static const char SQL_UNLOCK[] = "DELETE FROM instance_locks WHERE lock_token = ?1";
/* The same, answering whether the instance, now unlocked, still has messages due at ?2. */
static const char SQL_UNLOCK_DUE[] =
    "DELETE FROM instance_locks WHERE lock_token = ?1"
    " RETURNING EXISTS (SELECT 1 FROM orch_queue q"
    "  WHERE q.instance_id = instance_locks.instance_id AND q.visible_at <= ?2)";

/* Step `st`, a query of the lock row of a token (column 1: locked_until): 1 when the row is
 * there and the lock live at now, else DURO_ELOCK or the step's error (err filled). */
static int step_live_lock(duro__sq_conn *c, sqlite3_stmt *st, int64_t now, duro_error *err)
{
    int rc = duro__sq_step(c, st, err);

    if (rc == 0)
        return duro_error_set(err, DURO_ELOCK, 0,
                              "invalid lock token: unknown, released or stolen");
    if (rc == 1 && sqlite3_column_int64(st, 1) <= now)
        return duro_error_set(err, DURO_ELOCK, 0, "instance lock expired");
    return rc;
}

/* Resolve the token to its instance and verify the lock is live at now (abandon_orch). */
static int verify_lock(duro__sq_conn *c, const char *token, int64_t now, char **instance,
                       duro_error *err)
{
    sqlite3_stmt *st;
    int rc = duro__sq_query(c, SQL_LOCK_BY_TOKEN, &st, err, "t", token);

    if (rc != 0)
        return rc;
    rc = step_live_lock(c, st, now, err);
    if (rc == 1)
        rc = duro__sq_col_strdup(st, 0, instance, err);
    duro__sq_reset(st);
    return rc;
}

/* What SQL_ACK_STATE read for one ack. */
typedef struct ack_state {
    char *instance;        /* malloc'ed */
    int exists;            /* the instance has a row */
    int execution_ok;      /* the commit's execution is stored, current or next */
    int execution_stored;  /* it has a row */
    int64_t last_event;    /* the last event id stored in it, 0: none */
} ack_state;

/* Step 1: resolve the token to its instance, verify the lock is live at now, and read what
 * the next steps check. 1 with *state filled, or a negative DURO_E* code. */
static int read_ack_state(duro__sq_conn *c, const char *token, int64_t now, uint64_t execution,
                          ack_state *state, duro_error *err)
{
    sqlite3_stmt *st;
    int rc = duro__sq_query(c, SQL_ACK_STATE, &st, err, "tu", token, execution);

    if (rc != 0)
        return rc;
    rc = step_live_lock(c, st, now, err);
    if (rc == 1) {
        state->exists = sqlite3_column_int(st, 2);
        state->execution_ok = sqlite3_column_int(st, 3) == 1;
        state->execution_stored = sqlite3_column_int(st, 4);
        state->last_event = sqlite3_column_int64(st, 5);
        if (duro__sq_col_strdup(st, 0, &state->instance, err) != 0)
            rc = DURO_ENOMEM;
    }
    duro__sq_reset(st);
    return rc;
}

/* Step 2: instance and execution rows; state->exists becomes whether the instance has a
 * row now. */
static int upsert_instance(duro__sq_conn *c, ack_state *state, int64_t now,
                           const duro_orch_commit *cm, duro_error *err)
{
    const char *instance = state->instance;
    int rc;

    if (state->exists ? !state->execution_ok : cm->execution_id != 1)
        return duro_error_set(err, DURO_ENOTFOUND, 0,
                              "ack_orch: execution %llu of %s is not stored, current or next",
                              (unsigned long long)cm->execution_id, instance);
    if (!state->exists && cm->orch_name == NULL) {
        if (cm->n_events || cm->state || cm->set_custom_status || cm->n_kv)
            return duro_error_set(err, DURO_EINVAL, 0,
                                  "ack_orch: orch_name is required to create instance %s",
                                  instance);
        return 0;
    }
    if (state->exists)
        rc = duro__sq_exec(c, SQL_UPDATE_INSTANCE, err, "tttui", instance, cm->orch_name,
                           cm->orch_version, cm->execution_id, now);
    else
        rc = duro__sq_exec(c, SQL_CREATE_INSTANCE, err, "ttttui", instance, cm->orch_name,
                           cm->orch_version, cm->parent_instance, cm->execution_id, now);
    state->exists = 1;
    if (rc >= 0 && !state->execution_stored)
        rc = duro__sq_exec(c, SQL_CREATE_EXECUTION, err, "tudi", instance, cm->execution_id,
                           (int)DURO_STATE_RUNNING, now);
    return rc < 0 ? rc : 0;
}

/* Insert events [first, first + EVENT_ROWS) of the commit (fewer at the end). */
static int insert_events(duro__sq_conn *c, const char *instance, const duro_orch_commit *cm,
                         size_t first, duro_error *err)
{
    size_t end = cm->n_events - first < EVENT_ROWS ? cm->n_events : first + EVENT_ROWS;
    sqlite3_stmt *st;
    int rc = duro__sq_query(c, SQL_INSERT_EVENTS, &st, err, "tu", instance, cm->execution_id);

    if (rc != 0)
        return rc;
    for (size_t i = first; rc == 0 && i < end; i++)
        rc = duro__sq_bind_from(c, st, 3 + (int)(i - first) * EVENT_ROW_PARAMS, err, "udt",
                                cm->events[i].event_id, cm->events[i].kind,
                                cm->events[i].payload);
    if (rc == 0)
        rc = duro__sq_step(c, st, err);
    duro__sq_reset(st);
    if (rc == DURO_ECONSTRAINT)
        return duro_error_set(err, DURO_ECONSTRAINT, 0,
                              "event ids %llu to %llu rejected in execution %llu of %s"
                              " (duplicate or out of range)",
                              (unsigned long long)cm->events[first].event_id,
                              (unsigned long long)cm->events[end - 1].event_id,
                              (unsigned long long)cm->execution_id, instance);
    return rc < 0 ? rc : 0;
}

/* Step 3: append the events, insert-only, above the last stored id (the commit's own ids
 * increase: duro_provider_check_commit), up to EVENT_ROWS in one statement. */
static int append_events(duro__sq_conn *c, const ack_state *state, const duro_orch_commit *cm,
                         duro_error *err)
{
    int rc = 0;

    if (cm->n_events > 0 && cm->events[0].event_id <= (uint64_t)state->last_event)
        return duro_error_set(err, DURO_ECONSTRAINT, 0,
                              "event id %llu rejected in execution %llu of %s: not above the"
                              " last stored id %lld (duplicate or out of order)",
                              (unsigned long long)cm->events[0].event_id,
                              (unsigned long long)cm->execution_id, state->instance,
                              (long long)state->last_event);
    for (size_t i = 0; i < cm->n_events; i++)
        if (cm->events[i].event_id == 0)
            return duro_error_set(err, DURO_ECONSTRAINT, 0, "event id 0 is invalid");
    for (size_t first = 0; rc == 0 && first < cm->n_events; first += EVENT_ROWS)
        rc = insert_events(c, state->instance, cm, first, err);
    return rc;
}

/* Steps 4-7: state, custom status, work (inserts before cancel-deletes), messages. */
static int apply_writes(duro__sq_conn *c, const char *instance, int64_t now,
                        const duro_orch_commit *cm, duro_error *err)
{
    int rc = 0;

    if (cm->state != 0)
        rc = duro__sq_exec(c, SQL_SET_STATE, err, "tudti", instance, cm->execution_id,
                           cm->state, cm->output, now);
    if (rc >= 0 && cm->set_custom_status)
        rc = duro__sq_exec(c, SQL_SET_CUSTOM, err, "tt", instance, cm->custom_status);
    if (rc >= 0)
        rc = duro__sq_insert_works(c, cm->n_work, cm->work, cm->work_tags, cm->work_sessions,
                                   err);
    for (size_t i = 0; rc >= 0 && i < cm->n_cancel; i++)
        rc = duro__sq_exec(c, SQL_CANCEL_WORK, err, "tuu", instance, cm->cancel[i].execution_id,
                           cm->cancel[i].activity_id);
    for (size_t i = 0; rc >= 0 && i < cm->n_msgs; i++)
        rc = duro__sq_insert_msg(c, &cm->msgs[i], cm->msg_targets ? &cm->msg_targets[i] : NULL,
                                 err);
    return rc < 0 ? rc : 0;
}

typedef struct ack_arg {
    int64_t now_ms;
    const char *lock_token;
    const duro_orch_commit *commit;
} ack_arg;

/* Group-commit body of ack_orch: one turn's writes, the lock checked first. */
static int ack_body(duro__sq_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    const ack_arg *a = arg;
    const duro_orch_commit *commit = a->commit;
    ack_state state = { 0 };
    int rc = read_ack_state(c, a->lock_token, a->now_ms, commit->execution_id, &state, err);

    *notes = commit->n_work > 0 ? DURO__NOTE_WORK : 0;
    if (rc >= 0)
        rc = upsert_instance(c, &state, a->now_ms, commit, err);
    if (rc == 0 && state.exists)
        rc = append_events(c, &state, commit, err);
    if (rc == 0)
        rc = apply_writes(c, state.instance, a->now_ms, commit, err);
    if (rc == 0 && commit->n_kv > 0)
        rc = duro__sq_apply_kv(c, state.instance, commit, err);
    if (rc == 0)
        rc = duro__sq_exec(c, SQL_DELETE_TAGGED, err, "t", a->lock_token);
    /* Orchestration fetchers are woken only when this commit sent messages (a delay may
     * change their next wake-up) or the instance, now unlocked, still has messages due. */
    if (rc >= 0 && commit->n_msgs > 0) {
        rc = duro__sq_exec(c, SQL_UNLOCK, err, "t", a->lock_token);
        if (rc >= 0)
            *notes |= DURO__NOTE_ORCH;
    } else if (rc >= 0) {
        int64_t due;
        rc = duro__sq_int(c, SQL_UNLOCK_DUE, 0, &due, err, "ti", a->lock_token, a->now_ms);
        if (rc >= 0 && due == 1)
            *notes |= DURO__NOTE_ORCH;
    }
    free(state.instance);
    return rc < 0 ? rc : 0;
}

int duro__sq_ack_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                      const duro_orch_commit *commit, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    ack_arg a = { now_ms, lock_token, commit };
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0)
        rc = duro_provider_check_commit(commit, err);
    if (rc != 0)
        return rc;
    return duro__sq_commit(&s->pool, ack_body, &a, err);
}

/* ---- Abandon and renew ------------------------------------------------------------------- */

static const char SQL_UNCOUNT[] =
    "UPDATE orch_queue SET attempt_count = MAX(attempt_count - 1, 0) WHERE lock_token = ?1";
static const char SQL_DELAY[] =
    "UPDATE orch_queue SET visible_at = ?2 WHERE instance_id = ?1 AND visible_at <= ?3";
static const char SQL_UNTAG[] = "UPDATE orch_queue SET lock_token = NULL WHERE lock_token = ?1";
/* An abandon delay keeps the instance's lock row as a hold: a fresh token nobody knows, up to
 * now + delay, so arrivals and timers due sooner cannot overtake the hidden batch. */
static const char SQL_HOLD[] =
    "UPDATE instance_locks SET lock_token = ?2, locked_until = ?3 WHERE lock_token = ?1";
static const char SQL_RENEW[] =
    "UPDATE instance_locks SET locked_until = ?2 WHERE lock_token = ?1 AND locked_until > ?3";

int duro__sq_abandon_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                          int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    char *instance = NULL;
    char hold[33];
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0 && delay_ms < 0)
        rc = duro_error_set(err, DURO_EINVAL, 0, "abandon_orch: negative delay");
    if (rc == 0 && delay_ms > 0 && duro_random_token(hold) != 0)
        rc = duro_error_set(err, DURO_EIO, 1, "cannot generate a hold token");
    if (rc == 0)
        rc = duro__sq_begin_lock(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = verify_lock(c, lock_token, now_ms, &instance, err);
    if (rc == 0 && ignore_attempt)
        rc = duro__sq_exec(c, SQL_UNCOUNT, err, "t", lock_token);
    if (rc >= 0 && delay_ms > 0)
        rc = duro__sq_exec(c, SQL_DELAY, err, "tii", instance, duro__add_sat(now_ms, delay_ms),
                           now_ms);
    if (rc >= 0)
        rc = duro__sq_exec(c, SQL_UNTAG, err, "t", lock_token);
    if (rc >= 0 && delay_ms > 0)
        rc = duro__sq_exec(c, SQL_HOLD, err, "tti", lock_token, hold,
                           duro__add_sat(now_ms, delay_ms));
    else if (rc >= 0)
        rc = duro__sq_exec(c, SQL_UNLOCK, err, "t", lock_token);
    free(instance);
    return duro__sq_end_write(&s->pool, c, rc < 0 ? rc : 0, DURO__NOTE_ORCH, err);
}

int duro__sq_renew_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t extend_ms, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0)
        rc = duro_provider_check_lock_ms(extend_ms, "renew_orch: extend_ms", err);
    if (rc == 0)
        rc = duro__sq_begin_lock(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_exec(c, SQL_RENEW, err, "tii", lock_token, duro__add_sat(now_ms, extend_ms),
                       now_ms);
    if (rc == 0)
        rc = duro_error_set(err, DURO_ELOCK, 0, "instance lock is gone or expired");
    return duro__sq_end_write(&s->pool, c, rc < 0 ? rc : 0, 0, err);
}
