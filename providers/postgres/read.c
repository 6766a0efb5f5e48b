/*
 * read.c — the read callbacks of the PostgreSQL provider: the history of one execution and
 * the metadata of one instance. Each runs in one read-only snapshot (repeatable read), so the
 * current execution and its events are read consistently.
 */
#include "pg-internal.h"

#include <stdlib.h>
#include <string.h>

static const char SQL_CURRENT[] =
    "SELECT COALESCE((SELECT current_execution FROM instances WHERE instance_id = $1::text),"
    " (SELECT MAX(execution_id) FROM history WHERE instance_id = $1::text))";
static const char SQL_HISTORY[] =
    "SELECT event_id, kind, payload FROM history"
    " WHERE instance_id = $1::text AND execution_id = $2::bigint ORDER BY event_id";

typedef struct history_arg {
    const char *instance;
    uint64_t execution;
    duro_event *events;
    size_t n;
} history_arg;

static int history_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    history_arg *a = arg;
    uint64_t execution = a->execution;
    PGresult *r;
    int rc = 0, n;

    duro_events_free(a->events, a->n);
    a->events = NULL;
    a->n = 0;
    if (execution == 0) {
        int64_t current = 0;
        rc = duro__pg_int(c, SQL_CURRENT, 0, &current, err, "t", a->instance);
        if (rc < 0)
            return rc;
        execution = (uint64_t)current;
    }
    if (execution == 0)
        return 0;
    rc = duro__pg_query(c, SQL_HISTORY, &r, err, "tu", a->instance, execution);
    if (rc != 0)
        return rc;
    n = PQntuples(r);
    a->events = n > 0 ? calloc((size_t)n, sizeof(*a->events)) : NULL;
    if (n > 0 && a->events == NULL)
        rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (history)");
    for (int i = 0; rc == 0 && i < n; i++) {
        a->events[i].event_id = (uint64_t)duro__pg_get_i64(r, i, 0);
        a->events[i].kind = (int)duro__pg_get_i64(r, i, 1);
        rc = duro__pg_get_bytes(r, i, 2, &a->events[i].payload, err);
        if (rc == DURO_ECORRUPT)
            rc = duro_error_set(err, DURO_ECORRUPT, 0,
                                "history event %lld of execution %llu of %s cannot be read"
                                " (payload is not text)", (long long)duro__pg_get_i64(r, i, 0),
                                (unsigned long long)execution, a->instance);
        if (rc == 0)
            a->n++;
    }
    PQclear(r);
    return rc;
}

int duro__pg_read_history(duro_provider *p, const char *instance, uint64_t execution_id,
                          duro_event **events, size_t *n, duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    history_arg a = { instance, execution_id, NULL, 0 };
    int rc;

    if (events == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "read_history: events and n are required");
    *events = NULL;
    *n = 0;
    rc = duro_provider_check_id(instance, "instance id", err);
    if (rc == 0)
        rc = duro__pg_run(&s->pool, DURO__PG_READ, history_txn, &a, err);
    if (rc != 0) {
        duro_events_free(a.events, a.n);
        return rc;
    }
    *events = a.events;
    *n = a.n;
    return 0;
}

static const char SQL_INFO[] =
    "SELECT i.orch_name, i.orch_version, i.parent_instance, i.current_execution, e.state,"
    " e.output, i.custom_status, i.custom_status_version, i.created_at, i.updated_at"
    " FROM instances i LEFT JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE i.instance_id = $1::text";

typedef struct info_arg {
    const char *instance;
    duro_instance_info *out;
} info_arg;

/* Fill `out` from the row of SQL_INFO. */
static int info_from_row(PGresult *r, const char *instance, duro_instance_info *out,
                         duro_error *err)
{
    int rc;

    out->execution_id = (uint64_t)duro__pg_get_i64(r, 0, 3);
    out->state = duro__pg_is_null(r, 0, 4) ? DURO_STATE_NOT_FOUND
                                           : (duro_state)duro__pg_get_i64(r, 0, 4);
    out->custom_status_version = (uint64_t)duro__pg_get_i64(r, 0, 7);
    out->created_at_ms = duro__pg_get_i64(r, 0, 8);
    out->updated_at_ms = duro__pg_get_i64(r, 0, 9);
    out->instance = strdup(instance);
    if (out->instance == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (instance info)");
    rc = duro__pg_get_str(r, 0, 0, &out->orch_name, err);
    if (rc == 0)
        rc = duro__pg_get_str(r, 0, 1, &out->orch_version, err);
    if (rc == 0)
        rc = duro__pg_get_str(r, 0, 2, &out->parent_instance, err);
    if (rc == 0 && out->state != DURO_STATE_RUNNING)
        rc = duro__pg_get_bytes(r, 0, 5, &out->output, err);
    if (rc == 0)
        rc = duro__pg_get_bytes(r, 0, 6, &out->custom_status, err);
    return rc;
}

static int info_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    info_arg *a = arg;
    PGresult *r;
    int rc;

    duro_instance_info_clear(a->out);
    memset(a->out, 0, sizeof(*a->out));
    rc = duro__pg_query(c, SQL_INFO, &r, err, "t", a->instance);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s not found", a->instance);
    else
        rc = info_from_row(r, a->instance, a->out, err);
    PQclear(r);
    return rc;
}

int duro__pg_instance_info(duro_provider *p, const char *instance, duro_instance_info *out,
                           duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    info_arg a = { instance, out };
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "instance_info: out is required");
    memset(out, 0, sizeof(*out));
    rc = duro_provider_check_id(instance, "instance id", err);
    if (rc == 0)
        rc = duro__pg_run(&s->pool, DURO__PG_READ, info_txn, &a, err);
    if (rc != 0)
        duro_instance_info_clear(out);
    return rc;
}
