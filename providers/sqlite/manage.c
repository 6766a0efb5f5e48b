/*
 * manage.c — the management capability of the SQLite provider: listing instances,
 * executions and children, filtered pages of instances (query_instances), execution
 * details, deletion of instance trees (single and bulk), pruning of old executions, queue
 * depths and metrics.
 *
 * Every deletion runs in one write transaction and removes history, executions, both queues
 * and the instance lock along with the instance row; removing the lock row is what makes a
 * turn still running on a deleted instance fail its ack with DURO_ELOCK instead of
 * recreating it. A "root" is an instance without a parent row (a child whose parent has
 * already been deleted counts as a root, so it can still be deleted).
 */
#include "sqlite-internal.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_BULK_LIMIT 1000

/* A growable array of malloc'ed strings. */
typedef struct strv {
    char **v;
    size_t n;
    size_t cap;
} strv;

static int strv_push(strv *sv, const char *s, duro_error *err)
{
    if (sv->n == sv->cap) {
        size_t ncap = sv->cap ? sv->cap * 2 : 16;
        char **nv = realloc(sv->v, ncap * sizeof(*nv));
        if (nv == NULL)
            return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (id list)");
        sv->v = nv;
        sv->cap = ncap;
    }
    if ((sv->v[sv->n] = strdup(s)) == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (id list)");
    sv->n++;
    return 0;
}

static int strv_has(const strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++) {
        if (strcmp(sv->v[i], s) == 0)
            return 1;
    }
    return 0;
}

/* Append column 0 of every row of a prepared statement to `sv` (skipping duplicates when
 * `unique`). Resets the statement. */
static int collect(duro__sq_conn *c, sqlite3_stmt *st, strv *sv, int unique, duro_error *err)
{
    int rc;

    while ((rc = duro__sq_step(c, st, err)) == 1) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (id == NULL) {
            rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (reading an id)");
            break;
        }
        if (unique && strv_has(sv, id))
            continue;
        if ((rc = strv_push(sv, id, err)) != 0)
            break;
    }
    duro__sq_reset(st);
    return rc < 0 ? rc : 0;
}

/* Run a read-only id query in a read transaction and hand the list to the caller. */
static int list_ids(duro_sqlite *s, const char *sql, const char *instance, int state,
                    char ***ids, size_t *n, duro_error *err)
{
    duro__sq_conn *c;
    sqlite3_stmt *st;
    strv sv = { NULL, 0, 0 };
    int rc;

    if (ids == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "ids and n are required");
    *ids = NULL;
    *n = 0;
    rc = duro__sq_begin_read(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = instance != NULL ? duro__sq_query(c, sql, &st, err, "t", instance)
                          : duro__sq_query(c, sql, &st, err, "d", state);
    if (rc == 0)
        rc = collect(c, st, &sv, 0, err);
    duro__sq_end_read(&s->pool, c);
    if (rc != 0) {
        duro_strv_free(sv.v, sv.n);
        return rc;
    }
    *ids = sv.v;
    *n = sv.n;
    return 0;
}

/* ---- Queries ----------------------------------------------------------------------------- */

static const char SQL_LIST_INSTANCES[] =
    "SELECT i.instance_id FROM instances i LEFT JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE ?1 = 0 OR COALESCE(e.state, 0) = ?1"
    " ORDER BY i.created_at DESC, i.rowid DESC";
static const char SQL_LIST_CHILDREN[] =
    "SELECT instance_id FROM instances WHERE parent_instance = ?1 ORDER BY created_at, rowid";
static const char SQL_LIST_EXECUTIONS[] =
    "SELECT execution_id FROM executions WHERE instance_id = ?1 ORDER BY execution_id";
static const char SQL_EXECUTION_INFO[] =
    "SELECT e.execution_id, e.state, e.output, e.started_at, e.completed_at,"
    " (SELECT COUNT(*) FROM history h"
    "  WHERE h.instance_id = e.instance_id AND h.execution_id = e.execution_id)"
    " FROM executions e WHERE e.instance_id = ?1 AND e.execution_id ="
    " (CASE WHEN ?2 = 0 THEN (SELECT current_execution FROM instances WHERE instance_id = ?1)"
    "  ELSE ?2 END)";

int duro__sq_list_instances(duro_provider *p, int state_filter, char ***ids, size_t *n,
                            duro_error *err)
{
    if (state_filter < 0 || state_filter > DURO_STATE_CONTINUED_AS_NEW)
        return duro_error_set(err, DURO_EINVAL, 0, "list_instances: invalid state %d",
                              state_filter);
    return list_ids((duro_sqlite *)p, SQL_LIST_INSTANCES, NULL, state_filter, ids, n, err);
}

int duro__sq_list_children(duro_provider *p, const char *instance, char ***ids, size_t *n,
                           duro_error *err)
{
    int rc = duro_provider_check_id(instance, "instance id", err);

    return rc != 0 ? rc : list_ids((duro_sqlite *)p, SQL_LIST_CHILDREN, instance, 0, ids, n, err);
}

int duro__sq_list_executions(duro_provider *p, const char *instance, uint64_t **ids,
                             size_t *n, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    sqlite3_stmt *st;
    uint64_t *v = NULL;
    size_t len = 0, cap = 0;
    int rc;

    if (ids == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "list_executions: ids and n are required");
    *ids = NULL;
    *n = 0;
    rc = duro_provider_check_id(instance, "instance id", err);
    if (rc == 0)
        rc = duro__sq_begin_read(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_query(c, SQL_LIST_EXECUTIONS, &st, err, "t", instance);
    if (rc == 0) {
        while ((rc = duro__sq_step(c, st, err)) == 1) {
            if (len == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                uint64_t *nv = realloc(v, ncap * sizeof(*nv));
                if (nv == NULL) {
                    rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (execution ids)");
                    break;
                }
                v = nv;
                cap = ncap;
            }
            v[len++] = (uint64_t)sqlite3_column_int64(st, 0);
        }
        duro__sq_reset(st);
    }
    duro__sq_end_read(&s->pool, c);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *ids = v;
    *n = len;
    return 0;
}

int duro__sq_execution_info(duro_provider *p, const char *instance, uint64_t execution_id,
                            duro_execution_info *out, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    sqlite3_stmt *st;
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "execution_info: out is required");
    memset(out, 0, sizeof(*out));
    rc = duro_provider_check_id(instance, "instance id", err);
    if (rc == 0)
        rc = duro__sq_begin_read(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_query(c, SQL_EXECUTION_INFO, &st, err, "tu", instance, execution_id);
    if (rc == 0) {
        rc = duro__sq_step(c, st, err);
        if (rc == 0) {
            rc = duro_error_set(err, DURO_ENOTFOUND, 0, "execution %llu of %s not found",
                                (unsigned long long)execution_id, instance);
        } else if (rc == 1) {
            out->execution_id = (uint64_t)sqlite3_column_int64(st, 0);
            out->state = sqlite3_column_int(st, 1);
            out->started_at_ms = sqlite3_column_int64(st, 3);
            out->completed_at_ms = sqlite3_column_int64(st, 4);
            out->event_count = (uint64_t)sqlite3_column_int64(st, 5);
            rc = duro__sq_col_strdup(st, 2, &out->output, err);
        }
        duro__sq_reset(st);
    }
    duro__sq_end_read(&s->pool, c);
    if (rc != 0)
        duro_execution_info_clear(out);
    return rc;
}

/* ---- Query ------------------------------------------------------------------------------- */

/* The filters of query_instances: ?1 state, ?2 name, ?3 id prefix, ?4..?7 the time bounds,
 * ?8 the limit; the next-page form adds the key ?9 created_at, ?10 instance id. The key
 * condition is written as a range on created_at so that the created_at index seeks to it. */
#define SQL_QUERY_FILTERED                                                                    \
    "SELECT i.instance_id, i.orch_name, i.orch_version, i.parent_instance,"                   \
    " i.current_execution, COALESCE(e.state, 0), i.created_at,"                               \
    " CASE WHEN e.state IN (2, 3, 4) THEN COALESCE(e.completed_at, 0) ELSE 0 END"             \
    " FROM instances i LEFT JOIN executions e"                                                \
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"              \
    " WHERE (?1 = 0 OR COALESCE(e.state, 0) = ?1)"                                            \
    " AND (?2 IS NULL OR i.orch_name = ?2)"                                                   \
    " AND (?3 IS NULL OR (i.instance_id >= ?3 AND substr(CAST(i.instance_id AS BLOB), 1,"     \
    "  length(CAST(?3 AS BLOB))) = CAST(?3 AS BLOB)))"                                        \
    " AND (?4 = 0 OR i.created_at >= ?4) AND (?5 = 0 OR i.created_at < ?5)"                   \
    " AND (?6 = 0 OR (e.state IN (2, 3, 4) AND e.completed_at >= ?6))"                        \
    " AND (?7 = 0 OR (e.state IN (2, 3, 4) AND e.completed_at < ?7))"
#define SQL_QUERY_ORDER " ORDER BY i.created_at DESC, i.instance_id DESC LIMIT ?8"

static const char SQL_QUERY_FIRST[] = SQL_QUERY_FILTERED SQL_QUERY_ORDER;
static const char SQL_QUERY_AFTER[] =
    SQL_QUERY_FILTERED
    " AND i.created_at <= ?9 AND (i.created_at < ?9 OR i.instance_id < ?10)" SQL_QUERY_ORDER;

/* Fill `row` from the current row of a SQL_QUERY_* statement. */
static int summary_from_row(sqlite3_stmt *st, duro_instance_summary *row, duro_error *err)
{
    int rc;

    row->execution_id = (uint64_t)sqlite3_column_int64(st, 4);
    row->state = sqlite3_column_int(st, 5);
    row->created_at_ms = sqlite3_column_int64(st, 6);
    row->completed_at_ms = sqlite3_column_int64(st, 7);
    rc = duro__sq_col_strdup(st, 0, &row->instance, err);
    if (rc == 0 && row->instance == NULL)
        rc = duro_error_set(err, DURO_ECORRUPT, 0, "query_instances: a stored id is NULL");
    if (rc == 0)
        rc = duro__sq_col_strdup(st, 1, &row->orch_name, err);
    if (rc == 0)
        rc = duro__sq_col_strdup(st, 2, &row->orch_version, err);
    if (rc == 0)
        rc = duro__sq_col_strdup(st, 3, &row->parent_instance, err);
    return rc;
}

/* Step the rows of `st`, at most `limit`, into a new array of summaries. Resets `st`. */
static int collect_summaries(duro__sq_conn *c, sqlite3_stmt *st, size_t limit,
                             duro_instance_summary **rows, size_t *n, duro_error *err)
{
    duro_instance_summary *v = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;

    while (rc == 0 && len < limit && (rc = duro__sq_step(c, st, err)) == 1) {
        duro_instance_summary *nv = duro__grow(v, &cap, len, sizeof(*v));
        if (nv == NULL) {
            rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (query_instances)");
            break;
        }
        v = nv;
        memset(&v[len], 0, sizeof(v[len]));
        rc = summary_from_row(st, &v[len++], err);
    }
    duro__sq_reset(st);
    if (rc < 0) {
        duro_instance_summaries_free(v, len);
        return rc;
    }
    *rows = v;
    *n = len;
    return 0;
}

int duro__sq_query_instances(duro_provider *p, const duro_instance_query *q,
                             duro_instance_summary **rows, size_t *n, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    const char *prefix;
    int64_t limit;
    duro__sq_conn *c;
    sqlite3_stmt *st;
    int rc;

    if (rows == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "query_instances: rows and n are required");
    *rows = NULL;
    *n = 0;
    rc = duro_provider_check_query(q, err);
    if (rc != 0)
        return rc;
    prefix = q->id_prefix != NULL && q->id_prefix[0] != '\0' ? q->id_prefix : NULL;
    limit = q->limit > INT64_MAX ? INT64_MAX : (int64_t)q->limit;
    rc = duro__sq_begin_read(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    if (q->after_instance == NULL)
        rc = duro__sq_query(c, SQL_QUERY_FIRST, &st, err, "dttiiiii", (int)q->state,
                            q->orch_name, prefix, q->created_from_ms, q->created_before_ms,
                            q->completed_from_ms, q->completed_before_ms, limit);
    else
        rc = duro__sq_query(c, SQL_QUERY_AFTER, &st, err, "dttiiiiiit", (int)q->state,
                            q->orch_name, prefix, q->created_from_ms, q->created_before_ms,
                            q->completed_from_ms, q->completed_before_ms, limit,
                            q->after_created_ms, q->after_instance);
    if (rc == 0)
        rc = collect_summaries(c, st, q->limit, rows, n, err);
    duro__sq_end_read(&s->pool, c);
    return rc;
}

/* ---- Deletion ---------------------------------------------------------------------------- */

static const char SQL_PARENT[] =
    "SELECT parent_instance,"
    " EXISTS (SELECT 1 FROM instances p WHERE p.instance_id = i.parent_instance)"
    " FROM instances i WHERE i.instance_id = ?1";
static const char SQL_STATE[] =
    "SELECT e.state FROM instances i JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE i.instance_id = ?1";
static const char SQL_DEL_HISTORY[] = "DELETE FROM history WHERE instance_id = ?1";
static const char SQL_DEL_EXECUTIONS[] = "DELETE FROM executions WHERE instance_id = ?1";
static const char SQL_DEL_ORCH_QUEUE[] = "DELETE FROM orch_queue WHERE instance_id = ?1";
static const char SQL_DEL_WORK_QUEUE[] = "DELETE FROM work_queue WHERE instance_id = ?1";
static const char SQL_DEL_LOCK[] = "DELETE FROM instance_locks WHERE instance_id = ?1";
static const char SQL_DEL_INSTANCE[] = "DELETE FROM instances WHERE instance_id = ?1";
static const char SQL_DEL_KV[] = "DELETE FROM kv WHERE instance_id = ?1";
/* An instance with no row yet (a start no runtime took, orphans): queued messages, and
 * whether a runtime holds its lock at ?2 (it is processing the start). */
static const char SQL_QUEUED_ONLY[] =
    "SELECT (SELECT COUNT(*) FROM orch_queue WHERE instance_id = ?1) * 2 +"
    " EXISTS (SELECT 1 FROM instance_locks WHERE instance_id = ?1 AND locked_until > ?2)";

/* Every row of one instance; adds the counts to *out. */
static int delete_one(duro__sq_conn *c, const char *id, duro_delete_result *out,
                      duro_error *err)
{
    int rc;

    if ((rc = duro__sq_exec(c, SQL_DEL_HISTORY, err, "t", id)) < 0)
        return rc;
    out->events += (uint64_t)rc;
    if ((rc = duro__sq_exec(c, SQL_DEL_EXECUTIONS, err, "t", id)) < 0)
        return rc;
    out->executions += (uint64_t)rc;
    if ((rc = duro__sq_exec(c, SQL_DEL_ORCH_QUEUE, err, "t", id)) < 0)
        return rc;
    out->messages += (uint64_t)rc;
    if ((rc = duro__sq_exec(c, SQL_DEL_WORK_QUEUE, err, "t", id)) < 0)
        return rc;
    out->messages += (uint64_t)rc;
    if ((rc = duro__sq_exec(c, SQL_DEL_LOCK, err, "t", id)) < 0)
        return rc;
    if ((rc = duro__sq_exec(c, SQL_DEL_KV, err, "t", id)) < 0)
        return rc;
    if ((rc = duro__sq_exec(c, SQL_DEL_INSTANCE, err, "t", id)) < 0)
        return rc;
    out->instances += (uint64_t)rc;
    return 0;
}

/* Delete `root` and all its descendants. Without `force`, DURO_ERUNNING if any of them is
 * running (nothing deleted; the caller rolls back). */
static int delete_tree(duro__sq_conn *c, const char *root, int force, duro_delete_result *out,
                       duro_error *err)
{
    strv tree = { NULL, 0, 0 };
    int rc = strv_push(&tree, root, err);

    for (size_t i = 0; rc == 0 && i < tree.n; i++) {
        sqlite3_stmt *st;
        rc = duro__sq_query(c, SQL_LIST_CHILDREN, &st, err, "t", tree.v[i]);
        if (rc == 0)
            rc = collect(c, st, &tree, 1, err);
    }
    for (size_t i = 0; rc == 0 && !force && i < tree.n; i++) {
        int64_t state;
        rc = duro__sq_int(c, SQL_STATE, 0, &state, err, "t", tree.v[i]);
        if (rc >= 0 && state == DURO_STATE_RUNNING)
            rc = duro_error_set(err, DURO_ERUNNING, 0,
                                "instance %s is running; delete with force to remove it",
                                tree.v[i]);
        else if (rc > 0)
            rc = 0;
    }
    for (size_t i = 0; rc == 0 && i < tree.n; i++)
        rc = delete_one(c, tree.v[i], out, err);
    duro_strv_free(tree.v, tree.n);
    return rc;
}

/* delete_instance of an id without an instance row: 0 (delete its messages) when it has
 * queued messages and no runtime holds its lock (or force), else DURO_ENOTFOUND or
 * DURO_ERUNNING. */
static int queued_only(duro__sq_conn *c, int64_t now_ms, const char *instance, int force,
                       duro_error *err)
{
    int64_t v;
    int rc = duro__sq_int(c, SQL_QUEUED_ONLY, 0, &v, err, "ti", instance, now_ms);

    if (rc < 0)
        return rc;
    return duro_provider_delete_rowless(instance, (uint64_t)(v / 2), (int)(v & 1), force, err);
}

int duro__sq_delete_instance(duro_provider *p, int64_t now_ms, const char *instance,
                             int force, duro_delete_result *out, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro_delete_result res = { 0, 0, 0, 0 };
    duro__sq_conn *c;
    sqlite3_stmt *st;
    int rc = duro_provider_check_id(instance, "instance id", err);

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (rc == 0)
        rc = duro__sq_begin_write(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_query(c, SQL_PARENT, &st, err, "t", instance);
    if (rc == 0) {
        rc = duro__sq_step(c, st, err);
        if (rc == 0)
            rc = queued_only(c, now_ms, instance, force, err);
        else if (rc == 1 && sqlite3_column_int(st, 1))
            rc = duro_error_set(err, DURO_ECHILD, 0,
                                "instance %s is a sub-orchestration of %s: delete its root",
                                instance, (const char *)sqlite3_column_text(st, 0));
        else if (rc == 1)
            rc = 0;
        duro__sq_reset(st);
    }
    if (rc == 0)
        rc = delete_tree(c, instance, force, &res, err);
    rc = duro__sq_end_write(&s->pool, c, rc, 0, err);
    if (rc == 0 && out != NULL)
        *out = res;
    return rc;
}

static const char SQL_BULK_CANDIDATES[] =
    "SELECT i.instance_id FROM instances i JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE e.state IN (2, 3)" /* DURO_STATE_COMPLETED, DURO_STATE_FAILED */
    " AND (?1 = 0 OR e.completed_at < ?1)"
    " AND (i.parent_instance IS NULL OR NOT EXISTS"
    "  (SELECT 1 FROM instances p WHERE p.instance_id = i.parent_instance))"
    " ORDER BY i.created_at, i.rowid LIMIT ?2";
static const char SQL_BULK_ONE[] =
    "SELECT i.instance_id FROM instances i JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE i.instance_id = ?3 AND e.state IN (2, 3)"
    " AND (?1 = 0 OR e.completed_at < ?1)"
    " AND (i.parent_instance IS NULL OR NOT EXISTS"
    "  (SELECT 1 FROM instances p WHERE p.instance_id = i.parent_instance))"
    " AND ?2 > 0";

/* The roots the filter selects, at most `limit`, in creation order (or list order). */
static int bulk_roots(duro__sq_conn *c, const duro_bulk_filter *f, int64_t limit, strv *roots,
                      duro_error *err)
{
    int64_t before = f != NULL ? f->completed_before_ms : 0;
    sqlite3_stmt *st;
    int rc = 0;

    if (f == NULL || f->instances == NULL) {
        rc = duro__sq_query(c, SQL_BULK_CANDIDATES, &st, err, "ii", before, limit);
        return rc != 0 ? rc : collect(c, st, roots, 1, err);
    }
    for (size_t i = 0; rc == 0 && i < f->n_instances && (int64_t)roots->n < limit; i++) {
        if (f->instances[i] == NULL)
            continue;
        rc = duro__sq_query(c, SQL_BULK_ONE, &st, err, "iit", before, limit,
                            f->instances[i]);
        if (rc == 0)
            rc = collect(c, st, roots, 1, err);
    }
    return rc;
}

int duro__sq_delete_bulk(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                         duro_delete_result *out, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro_delete_result res = { 0, 0, 0, 0 };
    strv roots = { NULL, 0, 0 };
    int64_t limit = filter != NULL && filter->limit != 0 ? (int64_t)filter->limit
                                                         : DEFAULT_BULK_LIMIT;
    duro__sq_conn *c;
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (filter != NULL && filter->n_instances && filter->instances == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "delete_bulk: instance list missing");
    rc = duro__sq_begin_write(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = bulk_roots(c, filter, limit, &roots, err);
    for (size_t i = 0; rc == 0 && i < roots.n; i++)
        rc = delete_tree(c, roots.v[i], 1, &res, err);
    duro_strv_free(roots.v, roots.n);
    rc = duro__sq_end_write(&s->pool, c, rc, 0, err);
    if (rc == 0 && out != NULL)
        *out = res;
    return rc;
}

/* ---- Prune ------------------------------------------------------------------------------- */

static const char SQL_CURRENT[] =
    "SELECT current_execution FROM instances WHERE instance_id = ?1";
static const char SQL_PRUNABLE[] =
    "SELECT execution_id FROM executions WHERE instance_id = ?1 AND execution_id <> ?2"
    " AND state <> 1" /* DURO_STATE_RUNNING */
    " AND (?3 = 0 OR (completed_at IS NOT NULL AND completed_at < ?3))"
    " AND execution_id NOT IN (SELECT execution_id FROM executions WHERE instance_id = ?1"
    "  ORDER BY execution_id DESC LIMIT ?4)"
    " ORDER BY execution_id";
static const char SQL_DEL_EXEC_HISTORY[] =
    "DELETE FROM history WHERE instance_id = ?1 AND execution_id = ?2";
static const char SQL_DEL_EXECUTION[] =
    "DELETE FROM executions WHERE instance_id = ?1 AND execution_id = ?2";

/* Delete the prunable executions of `instance` (current execution `current`). */
static int prune_executions(duro__sq_conn *c, const char *instance, int64_t current,
                            const duro_prune_options *opt, duro_delete_result *out,
                            duro_error *err)
{
    uint64_t keep = opt != NULL && opt->keep_last > 1 ? opt->keep_last : 1;
    int64_t before = opt != NULL ? opt->completed_before_ms : 0;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st;
    int rc = duro__sq_query(c, SQL_PRUNABLE, &st, err, "tiii", instance, current, before,
                            keep > INT64_MAX ? INT64_MAX : (int64_t)keep);

    if (rc == 0) {
        while ((rc = duro__sq_step(c, st, err)) == 1) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                int64_t *ni = realloc(ids, ncap * sizeof(*ni));
                if (ni == NULL) {
                    rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (prune)");
                    break;
                }
                ids = ni;
                cap = ncap;
            }
            ids[n++] = sqlite3_column_int64(st, 0);
        }
        duro__sq_reset(st);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = duro__sq_exec(c, SQL_DEL_EXEC_HISTORY, err, "ti", instance, ids[i]);
        if (rc >= 0)
            out->events += (uint64_t)rc;
        if (rc >= 0)
            rc = duro__sq_exec(c, SQL_DEL_EXECUTION, err, "ti", instance, ids[i]);
        if (rc >= 0) {
            out->executions += (uint64_t)rc;
            rc = 0;
        }
    }
    free(ids);
    return rc;
}

int duro__sq_prune(duro_provider *p, int64_t now_ms, const char *instance,
                   const duro_prune_options *opt, duro_delete_result *out, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro_delete_result res = { 0, 0, 0, 0 };
    duro__sq_conn *c;
    int64_t current;
    int rc = duro_provider_check_id(instance, "instance id", err);

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (rc == 0)
        rc = duro__sq_begin_write(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_int(c, SQL_CURRENT, 0, &current, err, "t", instance);
    if (rc == 0)
        rc = duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s not found", instance);
    else if (rc == 1)
        rc = prune_executions(c, instance, current, opt, &res, err);
    rc = duro__sq_end_write(&s->pool, c, rc, 0, err);
    if (rc == 0 && out != NULL)
        *out = res;
    return rc;
}

/* ---- Depths and metrics ------------------------------------------------------------------ */

static const char SQL_DEPTH_ORCH[] =
    "SELECT COUNT(*) FROM orch_queue q WHERE q.visible_at <= ?1"
    " AND NOT EXISTS (SELECT 1 FROM instance_locks l"
    "  WHERE l.instance_id = q.instance_id AND l.locked_until > ?1)";
static const char SQL_DEPTH_WORK[] =
    "SELECT COUNT(*) FROM work_queue WHERE visible_at <= ?1"
    " AND (lock_token IS NULL OR locked_until <= ?1)";
static const char SQL_DEPTH_DELAYED[] = "SELECT COUNT(*) FROM orch_queue WHERE visible_at > ?1";

int duro__sq_queue_depths(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                          duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    int64_t orch = 0, work = 0, delayed = 0;
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "queue_depths: out is required");
    memset(out, 0, sizeof(*out));
    rc = duro__sq_begin_read(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_int(c, SQL_DEPTH_ORCH, 0, &orch, err, "i", now_ms);
    if (rc >= 0)
        rc = duro__sq_int(c, SQL_DEPTH_WORK, 0, &work, err, "i", now_ms);
    if (rc >= 0)
        rc = duro__sq_int(c, SQL_DEPTH_DELAYED, 0, &delayed, err, "i", now_ms);
    duro__sq_end_read(&s->pool, c);
    if (rc < 0)
        return rc;
    out->orchestrator = (uint64_t)orch;
    out->worker = (uint64_t)work;
    out->delayed = (uint64_t)delayed;
    return 0;
}

static const char SQL_METRICS[] =
    "SELECT COUNT(*), TOTAL(e.state = 1), TOTAL(e.state = 2), TOTAL(e.state = 3),"
    " TOTAL(e.state = 4), (SELECT COUNT(*) FROM executions), (SELECT COUNT(*) FROM history)"
    " FROM instances i LEFT JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution";

int duro__sq_metrics(duro_provider *p, duro_metrics *out, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    sqlite3_stmt *st;
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "metrics: out is required");
    memset(out, 0, sizeof(*out));
    rc = duro__sq_begin_read(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_query(c, SQL_METRICS, &st, err, "");
    if (rc == 0) {
        rc = duro__sq_step(c, st, err);
        if (rc == 1) {
            out->instances = (uint64_t)sqlite3_column_int64(st, 0);
            out->running = (uint64_t)sqlite3_column_int64(st, 1);
            out->completed = (uint64_t)sqlite3_column_int64(st, 2);
            out->failed = (uint64_t)sqlite3_column_int64(st, 3);
            out->continued_as_new = (uint64_t)sqlite3_column_int64(st, 4);
            out->executions = (uint64_t)sqlite3_column_int64(st, 5);
            out->events = (uint64_t)sqlite3_column_int64(st, 6);
            rc = 0;
        }
        duro__sq_reset(st);
    }
    duro__sq_end_read(&s->pool, c);
    return rc < 0 ? rc : 0;
}
