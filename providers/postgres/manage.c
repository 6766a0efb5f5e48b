/*
 * manage.c — the management capability of the PostgreSQL provider: listing instances,
 * executions and children, filtered pages of instances (query_instances), execution details,
 * deletion of instance trees (single and bulk), pruning of old executions, queue depths and
 * metrics.
 *
 * Every deletion runs in one transaction and removes history, executions, both queues and the
 * instance lock along with the instance row; it takes each instance's advisory lock first
 * (the lock order of queue.h), so it waits for a fetch of that instance to finish instead of
 * deadlocking with it. Removing the lock row is what makes a turn still running on a deleted
 * instance fail its ack with DURO_ELOCK instead of recreating it. A "root" is an instance
 * without a parent row (a child whose parent has already been deleted counts as a root).
 */
#include "pg-internal.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_BULK_LIMIT 1000

/* Append column 0 of every row to `sv` (skipping duplicates when `unique`); clears r. */
static int collect(PGresult *r, duro__pg_strv *sv, int unique, duro_error *err)
{
    int rc = 0;

    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        const char *id = PQgetvalue(r, i, 0);
        if (unique && duro__pg_strv_has(sv, id))
            continue;
        rc = duro__pg_strv_push(sv, id, err);
    }
    PQclear(r);
    return rc;
}

typedef struct list_arg {
    const char *sql;
    const char *instance;
    int state;
    duro__pg_strv sv;
} list_arg;

static int list_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    list_arg *a = arg;
    PGresult *r;
    int rc;

    duro_strv_free(a->sv.v, a->sv.n);
    memset(&a->sv, 0, sizeof a->sv);
    rc = a->instance != NULL ? duro__pg_query(c, a->sql, &r, err, "t", a->instance)
                             : duro__pg_query(c, a->sql, &r, err, "d", a->state);
    return rc != 0 ? rc : collect(r, &a->sv, 0, err);
}

/* Run a read-only id query and hand the list to the caller. */
static int list_ids(duro_pg *s, const char *sql, const char *instance, int state, char ***ids,
                    size_t *n, duro_error *err)
{
    list_arg a = { sql, instance, state, { NULL, 0, 0 } };
    int rc;

    if (ids == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "ids and n are required");
    *ids = NULL;
    *n = 0;
    rc = duro__pg_run(&s->pool, DURO__PG_READ, list_txn, &a, err);
    if (rc != 0) {
        duro_strv_free(a.sv.v, a.sv.n);
        return rc;
    }
    *ids = a.sv.v;
    *n = a.sv.n;
    return 0;
}

/* ---- Queries ----------------------------------------------------------------------------- */

static const char SQL_LIST_INSTANCES[] =
    "SELECT i.instance_id FROM instances i LEFT JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE $1::int = 0 OR COALESCE(e.state, 0) = $1::int"
    " ORDER BY i.created_at DESC, i.seq DESC";
static const char SQL_LIST_CHILDREN[] =
    "SELECT instance_id FROM instances WHERE parent_instance = $1::text ORDER BY created_at, seq";
static const char SQL_LIST_EXECUTIONS[] =
    "SELECT execution_id FROM executions WHERE instance_id = $1::text ORDER BY execution_id";
static const char SQL_EXECUTION_INFO[] =
    "SELECT e.execution_id, e.state, e.output, e.started_at, e.completed_at,"
    " (SELECT COUNT(*) FROM history h"
    "  WHERE h.instance_id = e.instance_id AND h.execution_id = e.execution_id)"
    " FROM executions e WHERE e.instance_id = $1::text AND e.execution_id ="
    " (CASE WHEN $2::bigint = 0"
    "  THEN (SELECT current_execution FROM instances WHERE instance_id = $1::text)"
    "  ELSE $2::bigint END)";

int duro__pg_list_instances(duro_provider *p, int state_filter, char ***ids, size_t *n,
                            duro_error *err)
{
    if (state_filter < 0 || state_filter > DURO_STATE_CONTINUED_AS_NEW)
        return duro_error_set(err, DURO_EINVAL, 0, "list_instances: invalid state %d",
                              state_filter);
    return list_ids((duro_pg *)p, SQL_LIST_INSTANCES, NULL, state_filter, ids, n, err);
}

int duro__pg_list_children(duro_provider *p, const char *instance, char ***ids, size_t *n,
                           duro_error *err)
{
    int rc = duro_provider_check_id(instance, "instance id", err);

    return rc != 0 ? rc : list_ids((duro_pg *)p, SQL_LIST_CHILDREN, instance, 0, ids, n, err);
}

typedef struct exec_arg {
    const char *instance;
    uint64_t execution;
    uint64_t *ids;
    size_t n;
    duro_execution_info *out;
} exec_arg;

static int executions_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    exec_arg *a = arg;
    PGresult *r;
    int rc = duro__pg_query(c, SQL_LIST_EXECUTIONS, &r, err, "t", a->instance);
    int n;

    free(a->ids);
    a->ids = NULL;
    a->n = 0;
    if (rc != 0)
        return rc;
    n = PQntuples(r);
    a->ids = n > 0 ? malloc((size_t)n * sizeof(*a->ids)) : NULL;
    if (n > 0 && a->ids == NULL)
        rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (execution ids)");
    for (int i = 0; rc == 0 && i < n; i++)
        a->ids[a->n++] = (uint64_t)duro__pg_get_i64(r, i, 0);
    PQclear(r);
    return rc;
}

int duro__pg_list_executions(duro_provider *p, const char *instance, uint64_t **ids,
                             size_t *n, duro_error *err)
{
    exec_arg a = { instance, 0, NULL, 0, NULL };
    int rc;

    if (ids == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "list_executions: ids and n are required");
    *ids = NULL;
    *n = 0;
    rc = duro_provider_check_id(instance, "instance id", err);
    if (rc == 0)
        rc = duro__pg_run(&((duro_pg *)p)->pool, DURO__PG_READ, executions_txn, &a, err);
    if (rc != 0) {
        free(a.ids);
        return rc;
    }
    *ids = a.ids;
    *n = a.n;
    return 0;
}

static int execution_info_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    exec_arg *a = arg;
    PGresult *r;
    int rc;

    duro_execution_info_clear(a->out);
    memset(a->out, 0, sizeof(*a->out));
    rc = duro__pg_query(c, SQL_EXECUTION_INFO, &r, err, "tu", a->instance, a->execution);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0) {
        rc = duro_error_set(err, DURO_ENOTFOUND, 0, "execution %llu of %s not found",
                            (unsigned long long)a->execution, a->instance);
    } else {
        a->out->execution_id = (uint64_t)duro__pg_get_i64(r, 0, 0);
        a->out->state = (duro_state)duro__pg_get_i64(r, 0, 1);
        a->out->started_at_ms = duro__pg_get_i64(r, 0, 3);
        a->out->completed_at_ms = duro__pg_get_i64(r, 0, 4);
        a->out->event_count = (uint64_t)duro__pg_get_i64(r, 0, 5);
        rc = duro__pg_get_bytes(r, 0, 2, &a->out->output, err);
    }
    PQclear(r);
    return rc;
}

int duro__pg_execution_info(duro_provider *p, const char *instance, uint64_t execution_id,
                            duro_execution_info *out, duro_error *err)
{
    exec_arg a = { instance, execution_id, NULL, 0, out };
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "execution_info: out is required");
    memset(out, 0, sizeof(*out));
    rc = duro_provider_check_id(instance, "instance id", err);
    if (rc == 0)
        rc = duro__pg_run(&((duro_pg *)p)->pool, DURO__PG_READ, execution_info_txn, &a, err);
    if (rc != 0)
        duro_execution_info_clear(out);
    return rc;
}

/* ---- Query ------------------------------------------------------------------------------- */

/* The filters of query_instances: $1 state, $2 name, $3 id prefix (bytea), $4..$7 the time
 * bounds, $8 the limit; the next-page form adds the key $9 created_at, $10 instance id.
 * Instance ids are ordered with COLLATE "C", byte order (memcmp), as the index
 * instances_created_id (migration 2) holds them: a backward scan of it yields the order, the
 * key is a row comparison it seeks to, and LIMIT stops the scan. The prefix compares the
 * id's bytes in the client encoding (those the caller sent and reads), not LIKE, so that
 * '_' and '%' are literal and a prefix may end inside a character. Both forms run
 * unprepared, planned for their values: the unused filters ($n = 0, $n IS NULL) fold away,
 * and a narrow filter may sort its few matches instead of scanning the index. */
#define SQL_QUERY_FILTERED                                                                    \
    "SELECT i.instance_id, i.orch_name, i.orch_version, i.parent_instance,"                   \
    " i.current_execution, COALESCE(e.state, 0), i.created_at,"                               \
    " CASE WHEN e.state IN (2, 3, 4) THEN COALESCE(e.completed_at, 0) ELSE 0 END"             \
    " FROM instances i LEFT JOIN executions e"                                                \
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"              \
    " WHERE ($1::int = 0 OR COALESCE(e.state, 0) = $1::int)"                                  \
    " AND ($2::text IS NULL OR i.orch_name = $2::text)"                                       \
    " AND ($3::bytea IS NULL OR substring(convert_to(i.instance_id, pg_client_encoding())"    \
    "  FROM 1 FOR length($3::bytea)) = $3::bytea)"                                            \
    " AND ($4::bigint = 0 OR i.created_at >= $4::bigint)"                                     \
    " AND ($5::bigint = 0 OR i.created_at < $5::bigint)"                                      \
    " AND ($6::bigint = 0 OR (e.state IN (2, 3, 4) AND e.completed_at >= $6::bigint))"        \
    " AND ($7::bigint = 0 OR (e.state IN (2, 3, 4) AND e.completed_at < $7::bigint))"
#define SQL_QUERY_ORDER                                                                       \
    " ORDER BY i.created_at DESC, i.instance_id COLLATE \"C\" DESC LIMIT $8::bigint"

static const char SQL_QUERY_FIRST[] = SQL_QUERY_FILTERED SQL_QUERY_ORDER;
static const char SQL_QUERY_AFTER[] =
    SQL_QUERY_FILTERED
    " AND (i.created_at, i.instance_id COLLATE \"C\") < ($9::bigint, $10::text)" SQL_QUERY_ORDER;

typedef struct query_arg {
    const duro_instance_query *q;
    const char *prefix;            /* NULL: no prefix filter */
    int64_t limit;
    duro_instance_summary *rows;
    size_t n;
} query_arg;

/* Fill `row` from row `i` of a SQL_QUERY_* result. */
static int summary_from_row(const PGresult *r, int i, duro_instance_summary *row,
                            duro_error *err)
{
    int rc;

    row->execution_id = (uint64_t)duro__pg_get_i64(r, i, 4);
    row->state = (duro_state)duro__pg_get_i64(r, i, 5);
    row->created_at_ms = duro__pg_get_i64(r, i, 6);
    row->completed_at_ms = duro__pg_get_i64(r, i, 7);
    rc = duro__pg_get_str(r, i, 0, &row->instance, err);
    if (rc == 0)
        rc = duro__pg_get_str(r, i, 1, &row->orch_name, err);
    if (rc == 0)
        rc = duro__pg_get_str(r, i, 2, &row->orch_version, err);
    if (rc == 0)
        rc = duro__pg_get_str(r, i, 3, &row->parent_instance, err);
    return rc;
}

static int query_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    query_arg *a = arg;
    const duro_instance_query *q = a->q;
    PGresult *r;
    int rc, n;

    duro_instance_summaries_free(a->rows, a->n);
    a->rows = NULL;
    a->n = 0;
    if (q->after_instance == NULL)
        rc = duro__pg_query_unprepared(c, SQL_QUERY_FIRST, &r, err, "dtbiiiii", (int)q->state,
                                       q->orch_name, a->prefix, q->created_from_ms,
                                       q->created_before_ms, q->completed_from_ms,
                                       q->completed_before_ms, a->limit);
    else
        rc = duro__pg_query_unprepared(c, SQL_QUERY_AFTER, &r, err, "dtbiiiiiit",
                                       (int)q->state, q->orch_name, a->prefix,
                                       q->created_from_ms, q->created_before_ms,
                                       q->completed_from_ms, q->completed_before_ms, a->limit,
                                       q->after_created_ms, q->after_instance);
    if (rc != 0)
        return rc;
    n = PQntuples(r);
    a->rows = n > 0 ? calloc((size_t)n, sizeof(*a->rows)) : NULL;
    if (n > 0 && a->rows == NULL)
        rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (query_instances)");
    for (int i = 0; rc == 0 && i < n; i++)
        rc = summary_from_row(r, i, &a->rows[a->n++], err);
    PQclear(r);
    return rc;
}

int duro__pg_query_instances(duro_provider *p, const duro_instance_query *q,
                             duro_instance_summary **rows, size_t *n, duro_error *err)
{
    query_arg a = { q, NULL, 0, NULL, 0 };
    int rc;

    if (rows == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "query_instances: rows and n are required");
    *rows = NULL;
    *n = 0;
    rc = duro_provider_check_query(q, err);
    if (rc != 0)
        return rc;
    a.prefix = q->id_prefix != NULL && q->id_prefix[0] != '\0' ? q->id_prefix : NULL;
    a.limit = q->limit > INT64_MAX ? INT64_MAX : (int64_t)q->limit;
    rc = duro__pg_run(&((duro_pg *)p)->pool, DURO__PG_READ, query_txn, &a, err);
    if (rc != 0) {
        duro_instance_summaries_free(a.rows, a.n);
        return rc;
    }
    *rows = a.rows;
    *n = a.n;
    return 0;
}

/* ---- Deletion ---------------------------------------------------------------------------- */

static const char SQL_PARENT[] =
    "SELECT parent_instance,"
    " EXISTS (SELECT 1 FROM instances p WHERE p.instance_id = i.parent_instance)::int"
    " FROM instances i WHERE i.instance_id = $1::text";
/* An instance with no row yet (a start no runtime took, orphans): queued messages, and
 * whether a runtime holds its lock at $2 (it is processing the start). */
static const char SQL_QUEUED_ONLY[] =
    "SELECT (SELECT COUNT(*) FROM orch_queue WHERE instance_id = $1::text) * 2 +"
    " (EXISTS (SELECT 1 FROM instance_locks WHERE instance_id = $1::text"
    " AND locked_until > $2::bigint))::int";
static const char SQL_STATE[] =
    "SELECT e.state FROM instances i JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE i.instance_id = $1::text";
static const char SQL_DEL_LOCK[] = "DELETE FROM instance_locks WHERE instance_id = $1::text";
static const char SQL_DEL_HISTORY[] = "DELETE FROM history WHERE instance_id = $1::text";
static const char SQL_DEL_EXECUTIONS[] = "DELETE FROM executions WHERE instance_id = $1::text";
static const char SQL_DEL_ORCH_QUEUE[] = "DELETE FROM orch_queue WHERE instance_id = $1::text";
static const char SQL_DEL_WORK_QUEUE[] = "DELETE FROM work_queue WHERE instance_id = $1::text";
static const char SQL_DEL_INSTANCE[] = "DELETE FROM instances WHERE instance_id = $1::text";
static const char SQL_DEL_KV[] = "DELETE FROM kv WHERE instance_id = $1::text";

/* Every row of one instance (its advisory lock held); adds the counts to *out. */
static int delete_one(duro__pg_conn *c, const char *id, duro_delete_result *out,
                      duro_error *err)
{
    int rc;

    if ((rc = duro__pg_exec(c, SQL_DEL_LOCK, err, "t", id)) < 0)
        return rc;
    if ((rc = duro__pg_exec(c, SQL_DEL_HISTORY, err, "t", id)) < 0)
        return rc;
    out->events += (uint64_t)rc;
    if ((rc = duro__pg_exec(c, SQL_DEL_EXECUTIONS, err, "t", id)) < 0)
        return rc;
    out->executions += (uint64_t)rc;
    if ((rc = duro__pg_exec(c, SQL_DEL_ORCH_QUEUE, err, "t", id)) < 0)
        return rc;
    out->messages += (uint64_t)rc;
    if ((rc = duro__pg_exec(c, SQL_DEL_WORK_QUEUE, err, "t", id)) < 0)
        return rc;
    out->messages += (uint64_t)rc;
    if ((rc = duro__pg_exec(c, SQL_DEL_KV, err, "t", id)) < 0)
        return rc;
    if ((rc = duro__pg_exec(c, SQL_DEL_INSTANCE, err, "t", id)) < 0)
        return rc;
    out->instances += (uint64_t)rc;
    return 0;
}

/* Delete `root` and all its descendants. Without `force`, DURO_ERUNNING if any of them is
 * running (nothing deleted; the caller rolls back). */
static int delete_tree(duro__pg_conn *c, const char *root, int force, duro_delete_result *out,
                       duro_error *err)
{
    duro__pg_strv tree = { NULL, 0, 0 };
    int rc = duro__pg_strv_push(&tree, root, err);

    for (size_t i = 0; rc == 0 && i < tree.n; i++) {
        PGresult *r;
        rc = duro__pg_lock_instance(c, tree.v[i], err);
        if (rc == 0)
            rc = duro__pg_query(c, SQL_LIST_CHILDREN, &r, err, "t", tree.v[i]);
        if (rc == 0)
            rc = collect(r, &tree, 1, err);
    }
    for (size_t i = 0; rc == 0 && !force && i < tree.n; i++) {
        int64_t state;
        rc = duro__pg_int(c, SQL_STATE, 0, &state, err, "t", tree.v[i]);
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
static int queued_only(duro__pg_conn *c, int64_t now_ms, const char *instance, int force,
                       duro_error *err)
{
    int64_t v;
    int rc = duro__pg_int(c, SQL_QUEUED_ONLY, 0, &v, err, "ti", instance, now_ms);

    if (rc < 0)
        return rc;
    return duro_provider_delete_rowless(instance, (uint64_t)(v / 2), (int)(v & 1), force, err);
}

typedef struct delete_arg {
    const char *instance;
    int64_t now_ms;
    int force;
    const duro_bulk_filter *filter;
    int64_t limit;
    duro_delete_result res;
} delete_arg;

static int delete_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    delete_arg *a = arg;
    PGresult *r;
    int rc;

    memset(&a->res, 0, sizeof a->res);
    rc = duro__pg_lock_instance(c, a->instance, err);
    if (rc == 0)
        rc = duro__pg_query(c, SQL_PARENT, &r, err, "t", a->instance);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = queued_only(c, a->now_ms, a->instance, a->force, err);
    else if (duro__pg_get_i64(r, 0, 1))
        rc = duro_error_set(err, DURO_ECHILD, 0,
                            "instance %s is a sub-orchestration of %s: delete its root",
                            a->instance, PQgetvalue(r, 0, 0));
    PQclear(r);
    if (rc == 0)
        rc = delete_tree(c, a->instance, a->force, &a->res, err);
    return rc;
}

int duro__pg_delete_instance(duro_provider *p, int64_t now_ms, const char *instance,
                             int force, duro_delete_result *out, duro_error *err)
{
    delete_arg a = { instance, now_ms, force, NULL, 0, { 0, 0, 0, 0 } };
    int rc = duro_provider_check_id(instance, "instance id", err);

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (rc == 0)
        rc = duro__pg_run(&((duro_pg *)p)->pool, DURO__PG_WRITE, delete_txn, &a, err);
    if (rc == 0 && out != NULL)
        *out = a.res;
    return rc;
}

static const char SQL_BULK_CANDIDATES[] =
    "SELECT i.instance_id FROM instances i JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE e.state IN (2, 3)" /* DURO_STATE_COMPLETED, DURO_STATE_FAILED */
    " AND ($1::bigint = 0 OR e.completed_at < $1::bigint)"
    " AND (i.parent_instance IS NULL OR NOT EXISTS"
    "  (SELECT 1 FROM instances p WHERE p.instance_id = i.parent_instance))"
    " ORDER BY i.created_at, i.seq LIMIT $2::bigint";
static const char SQL_BULK_ONE[] =
    "SELECT i.instance_id FROM instances i JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution"
    " WHERE i.instance_id = $3::text AND e.state IN (2, 3)"
    " AND ($1::bigint = 0 OR e.completed_at < $1::bigint)"
    " AND (i.parent_instance IS NULL OR NOT EXISTS"
    "  (SELECT 1 FROM instances p WHERE p.instance_id = i.parent_instance))"
    " AND $2::bigint > 0";

/* The roots the filter selects, at most `limit`, in creation order (or list order). */
static int bulk_roots(duro__pg_conn *c, const duro_bulk_filter *f, int64_t limit,
                      duro__pg_strv *roots, duro_error *err)
{
    int64_t before = f != NULL ? f->completed_before_ms : 0;
    PGresult *r;
    int rc = 0;

    if (f == NULL || f->instances == NULL) {
        rc = duro__pg_query(c, SQL_BULK_CANDIDATES, &r, err, "ii", before, limit);
        return rc != 0 ? rc : collect(r, roots, 1, err);
    }
    for (size_t i = 0; rc == 0 && i < f->n_instances && (int64_t)roots->n < limit; i++) {
        if (f->instances[i] == NULL)
            continue;
        rc = duro__pg_query(c, SQL_BULK_ONE, &r, err, "iit", before, limit, f->instances[i]);
        if (rc == 0)
            rc = collect(r, roots, 1, err);
    }
    return rc;
}

static int bulk_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    delete_arg *a = arg;
    duro__pg_strv roots = { NULL, 0, 0 };
    int rc;

    memset(&a->res, 0, sizeof a->res);
    rc = bulk_roots(c, a->filter, a->limit, &roots, err);
    for (size_t i = 0; rc == 0 && i < roots.n; i++)
        rc = delete_tree(c, roots.v[i], 1, &a->res, err);
    duro_strv_free(roots.v, roots.n);
    return rc;
}

int duro__pg_delete_bulk(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                         duro_delete_result *out, duro_error *err)
{
    delete_arg a = { NULL, now_ms, 1, filter,
                     filter != NULL && filter->limit != 0 ? (int64_t)filter->limit
                                                          : DEFAULT_BULK_LIMIT,
                     { 0, 0, 0, 0 } };
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (filter != NULL && filter->n_instances && filter->instances == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "delete_bulk: instance list missing");
    rc = duro__pg_run(&((duro_pg *)p)->pool, DURO__PG_WRITE, bulk_txn, &a, err);
    if (rc == 0 && out != NULL)
        *out = a.res;
    return rc;
}

/* ---- Prune ------------------------------------------------------------------------------- */

/* Prune writes: it locks the instance row (after the advisory lock, in the order of queue.h)
 * before it reads what to delete, so it meets a lock held on the store whether or not
 * anything is prunable. */
static const char SQL_CURRENT[] =
    "SELECT current_execution FROM instances WHERE instance_id = $1::text FOR UPDATE";
static const char SQL_PRUNABLE[] =
    "SELECT execution_id FROM executions WHERE instance_id = $1::text"
    " AND execution_id <> $2::bigint"
    " AND state <> 1" /* DURO_STATE_RUNNING */
    " AND ($3::bigint = 0 OR (completed_at IS NOT NULL AND completed_at < $3::bigint))"
    " AND execution_id NOT IN (SELECT execution_id FROM executions"
    "  WHERE instance_id = $1::text ORDER BY execution_id DESC LIMIT $4::bigint)"
    " ORDER BY execution_id";
static const char SQL_DEL_EXEC_HISTORY[] =
    "DELETE FROM history WHERE instance_id = $1::text AND execution_id = $2::bigint";
static const char SQL_DEL_EXECUTION[] =
    "DELETE FROM executions WHERE instance_id = $1::text AND execution_id = $2::bigint";

typedef struct prune_arg {
    const char *instance;
    const duro_prune_options *opt;
    duro_delete_result res;
} prune_arg;

static int prune_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    prune_arg *a = arg;
    uint64_t keep = a->opt != NULL && a->opt->keep_last > 1 ? a->opt->keep_last : 1;
    int64_t before = a->opt != NULL ? a->opt->completed_before_ms : 0;
    int64_t current;
    PGresult *r;
    int rc;

    memset(&a->res, 0, sizeof a->res);
    rc = duro__pg_lock_instance(c, a->instance, err);
    if (rc == 0)
        rc = duro__pg_int(c, SQL_CURRENT, 0, &current, err, "t", a->instance);
    if (rc == 0)
        return duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s not found", a->instance);
    if (rc < 0)
        return rc;
    rc = duro__pg_query(c, SQL_PRUNABLE, &r, err, "tiii", a->instance, current, before,
                        keep > INT64_MAX ? INT64_MAX : (int64_t)keep);
    if (rc != 0)
        return rc;
    for (int i = 0; rc >= 0 && i < PQntuples(r); i++) {
        int64_t id = duro__pg_get_i64(r, i, 0);
        rc = duro__pg_exec(c, SQL_DEL_EXEC_HISTORY, err, "ti", a->instance, id);
        if (rc >= 0)
            a->res.events += (uint64_t)rc;
        if (rc >= 0)
            rc = duro__pg_exec(c, SQL_DEL_EXECUTION, err, "ti", a->instance, id);
        if (rc >= 0)
            a->res.executions += (uint64_t)rc;
    }
    PQclear(r);
    return rc < 0 ? rc : 0;
}

int duro__pg_prune(duro_provider *p, int64_t now_ms, const char *instance,
                   const duro_prune_options *opt, duro_delete_result *out, duro_error *err)
{
    prune_arg a = { instance, opt, { 0, 0, 0, 0 } };
    int rc = duro_provider_check_id(instance, "instance id", err);

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (rc == 0)
        rc = duro__pg_run(&((duro_pg *)p)->pool, DURO__PG_WRITE, prune_txn, &a, err);
    if (rc == 0 && out != NULL)
        *out = a.res;
    return rc;
}

/* ---- Depths and metrics ------------------------------------------------------------------ */

static const char SQL_DEPTHS[] =
    "SELECT (SELECT COUNT(*) FROM orch_queue q WHERE q.visible_at <= $1::bigint"
    "  AND NOT EXISTS (SELECT 1 FROM instance_locks l"
    "   WHERE l.instance_id = q.instance_id AND l.locked_until > $1::bigint)),"
    " (SELECT COUNT(*) FROM work_queue WHERE visible_at <= $1::bigint"
    "  AND (lock_token IS NULL OR locked_until <= $1::bigint)),"
    " (SELECT COUNT(*) FROM orch_queue WHERE visible_at > $1::bigint)";

typedef struct depth_arg {
    int64_t now;
    duro_queue_depths *depths;
    duro_metrics *metrics;
} depth_arg;

static int depths_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    depth_arg *a = arg;
    PGresult *r;
    int rc = duro__pg_query(c, SQL_DEPTHS, &r, err, "i", a->now);

    if (rc != 0)
        return rc;
    a->depths->orchestrator = (uint64_t)duro__pg_get_i64(r, 0, 0);
    a->depths->worker = (uint64_t)duro__pg_get_i64(r, 0, 1);
    a->depths->delayed = (uint64_t)duro__pg_get_i64(r, 0, 2);
    PQclear(r);
    return 0;
}

int duro__pg_queue_depths(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                          duro_error *err)
{
    depth_arg a = { now_ms, out, NULL };

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "queue_depths: out is required");
    memset(out, 0, sizeof(*out));
    return duro__pg_run(&((duro_pg *)p)->pool, DURO__PG_READ, depths_txn, &a, err);
}

static const char SQL_METRICS[] =
    "SELECT COUNT(*), COUNT(*) FILTER (WHERE e.state = 1), COUNT(*) FILTER (WHERE e.state = 2),"
    " COUNT(*) FILTER (WHERE e.state = 3), COUNT(*) FILTER (WHERE e.state = 4),"
    " (SELECT COUNT(*) FROM executions), (SELECT COUNT(*) FROM history)"
    " FROM instances i LEFT JOIN executions e"
    " ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution";

static int metrics_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    depth_arg *a = arg;
    PGresult *r;
    int rc = duro__pg_query(c, SQL_METRICS, &r, err, "");

    if (rc != 0)
        return rc;
    a->metrics->instances = (uint64_t)duro__pg_get_i64(r, 0, 0);
    a->metrics->running = (uint64_t)duro__pg_get_i64(r, 0, 1);
    a->metrics->completed = (uint64_t)duro__pg_get_i64(r, 0, 2);
    a->metrics->failed = (uint64_t)duro__pg_get_i64(r, 0, 3);
    a->metrics->continued_as_new = (uint64_t)duro__pg_get_i64(r, 0, 4);
    a->metrics->executions = (uint64_t)duro__pg_get_i64(r, 0, 5);
    a->metrics->events = (uint64_t)duro__pg_get_i64(r, 0, 6);
    PQclear(r);
    return 0;
}

int duro__pg_metrics(duro_provider *p, duro_metrics *out, duro_error *err)
{
    depth_arg a = { 0, NULL, out };

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "metrics: out is required");
    memset(out, 0, sizeof(*out));
    return duro__pg_run(&((duro_pg *)p)->pool, DURO__PG_READ, metrics_txn, &a, err);
}
