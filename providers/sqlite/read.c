/*
 * read.c — the read callbacks of the SQLite provider: the history of one execution and the
 * metadata of one instance. Both run in a read transaction (one snapshot) and never take the
 * writer mutex, so on a file database they run in parallel with writers (WAL).
 */
#include "sqlite-internal.h"

#include <stdlib.h>
#include <string.h>

static const char SQL_CURRENT[] =
    "SELECT COALESCE((SELECT current_execution FROM instances WHERE instance_id = ?1),"
    " (SELECT MAX(execution_id) FROM history WHERE instance_id = ?1))";
static const char SQL_HISTORY[] =
    "SELECT event_id, kind, payload FROM history"
    " WHERE instance_id = ?1 AND execution_id = ?2 ORDER BY event_id";

/* Read the events of (instance, execution) into a new array; a payload that is not text is
 * DURO_ECORRUPT. */
static int read_events(duro__sq_conn *c, const char *instance, uint64_t execution,
                       duro_event **events, size_t *n, duro_error *err)
{
    sqlite3_stmt *st;
    duro_event *ev = NULL;
    size_t len = 0, cap = 0;
    int rc = duro__sq_query(c, SQL_HISTORY, &st, err, "tu", instance, execution);

    if (rc != 0)
        return rc;
    while ((rc = duro__sq_step(c, st, err)) == 1) {
        if (sqlite3_column_type(st, 2) != SQLITE_TEXT) {
            rc = duro_error_set(err, DURO_ECORRUPT, 0,
                                "history event %lld of execution %llu of %s cannot be read"
                                " (payload is not text)", (long long)sqlite3_column_int64(st, 0),
                                (unsigned long long)execution, instance);
            break;
        }
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            duro_event *ne = realloc(ev, ncap * sizeof(*ne));
            if (ne == NULL) {
                rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (history)");
                break;
            }
            ev = ne;
            cap = ncap;
        }
        ev[len].event_id = (uint64_t)sqlite3_column_int64(st, 0);
        ev[len].kind = sqlite3_column_int(st, 1);
        rc = duro__sq_col_strdup(st, 2, &ev[len].payload, err);
        if (rc != 0)
            break;
        len++;
    }
    duro__sq_reset(st);
    if (rc < 0) {
        duro_events_free(ev, len);
        return rc;
    }
    *events = ev;
    *n = len;
    return 0;
}

int duro__sq_read_history(duro_provider *p, const char *instance, uint64_t execution_id,
                          duro_event **events, size_t *n, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    int64_t current = 0;
    int rc;

    if (events == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "read_history: events and n are required");
    *events = NULL;
    *n = 0;
    rc = duro_provider_check_id(instance, "instance id", err);
    if (rc == 0)
        rc = duro__sq_begin_read(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    if (execution_id == 0) {
        rc = duro__sq_int(c, SQL_CURRENT, 0, &current, err, "t", instance);
        execution_id = rc >= 0 ? (uint64_t)current : 0;
    }
    if (rc >= 0 && execution_id != 0)
        rc = read_events(c, instance, execution_id, events, n, err);
    duro__sq_end_read(&s->pool, c);
    return rc < 0 ? rc : 0;
}

static const char SQL_INFO[] =
    "SELECT i.orch_name, i.orch_version, i.parent_instance, i.current_execution, e.state,"
    " e.output, i.custom_status, i.custom_status_version, i.created_at, i.updated_at"
    " FROM instances i LEFT JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE i.instance_id = ?1";

/* Fill `out` from the current row of SQL_INFO. */
static int info_from_row(sqlite3_stmt *st, const char *instance, duro_instance_info *out,
                         duro_error *err)
{
    int rc;

    out->execution_id = (uint64_t)sqlite3_column_int64(st, 3);
    out->state = sqlite3_column_type(st, 4) == SQLITE_NULL ? DURO_STATE_NOT_FOUND
                                                            : sqlite3_column_int(st, 4);
    out->custom_status_version = (uint64_t)sqlite3_column_int64(st, 7);
    out->created_at_ms = sqlite3_column_int64(st, 8);
    out->updated_at_ms = sqlite3_column_int64(st, 9);
    out->instance = strdup(instance);
    if (out->instance == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (instance info)");
    rc = duro__sq_col_strdup(st, 0, &out->orch_name, err);
    if (rc == 0)
        rc = duro__sq_col_strdup(st, 1, &out->orch_version, err);
    if (rc == 0)
        rc = duro__sq_col_strdup(st, 2, &out->parent_instance, err);
    if (rc == 0 && out->state != DURO_STATE_RUNNING)
        rc = duro__sq_col_strdup(st, 5, &out->output, err);
    if (rc == 0)
        rc = duro__sq_col_strdup(st, 6, &out->custom_status, err);
    return rc;
}

int duro__sq_instance_info(duro_provider *p, const char *instance, duro_instance_info *out,
                           duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    sqlite3_stmt *st;
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "instance_info: out is required");
    memset(out, 0, sizeof(*out));
    rc = duro_provider_check_id(instance, "instance id", err);
    if (rc == 0)
        rc = duro__sq_begin_read(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_query(c, SQL_INFO, &st, err, "t", instance);
    if (rc == 0) {
        rc = duro__sq_step(c, st, err);
        if (rc == 0)
            rc = duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s not found", instance);
        else if (rc == 1)
            rc = info_from_row(st, instance, out, err);
        duro__sq_reset(st);
    }
    duro__sq_end_read(&s->pool, c);
    if (rc != 0)
        duro_instance_info_clear(out);
    return rc;
}
