/*
 * provider.c — the PostgreSQL provider object, the top of the provider's layers (see
 * pg-internal.h): options, opening (one connection migrates the schema before the pool and
 * the listener start), closing, the public entry points of duro-postgres.h and the ops table.
 *
 * Every committed write bumps commit_seq; one that adds fetchable work also wakes one
 * long-polling fetcher of its queue in this process at once, and NOTIFYs the schema's channel
 * in its transaction, which the listener of every other provider object on the schema (in
 * any process) turns into the same wake-up. Idle fetchers therefore sleep until a commit,
 * the next due time (a delayed message, a lock expiry) or the re-check bound, whichever comes
 * first; no poll interval is on the idle path.
 */
#include "pg-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_POOL_SIZE 8
#define MAX_POOL_SIZE 64
#define DEFAULT_STATEMENT_TIMEOUT_MS 30000
#define DEFAULT_LOCK_TIMEOUT_MS 10000
#define DEFAULT_RECHECK_MS 30000
#define DEFAULT_MAX_RETRIES 20
#define DEFAULT_DEAD_CLIENT_TIMEOUT_MS 10000
#define MAX_SCHEMA_LEN 58 /* "duro_" + schema fits a channel name (63 bytes) */

static const duro_provider_ops postgres_ops;

static void pg_destroy(duro_provider *p)
{
    duro_pg *s = (duro_pg *)p;

    if (s == NULL)
        return;
    duro__pg_listener_stop(&s->listener);
    duro__pg_pool_destroy(&s->pool);
    duro__notifier_destroy(&s->notes);
    free(s->conninfo);
    free(s->schema);
    free(s->channel);
    free(s);
}

void duro_postgres_options_init(duro_postgres_options *opt)
{
    if (opt == NULL)
        return;
    memset(opt, 0, sizeof *opt);
    opt->size = sizeof *opt;
    opt->schema = "duro";
    opt->pool_size = DEFAULT_POOL_SIZE;
    opt->statement_timeout_ms = DEFAULT_STATEMENT_TIMEOUT_MS;
    opt->lock_timeout_ms = DEFAULT_LOCK_TIMEOUT_MS;
    opt->recheck_ms = DEFAULT_RECHECK_MS;
    opt->synchronous_commit = 1;
    opt->max_retries = DEFAULT_MAX_RETRIES;
    opt->dead_client_timeout_ms = DEFAULT_DEAD_CLIENT_TIMEOUT_MS;
}

/* A schema name this provider accepts: 1..58 of [A-Za-z0-9_], not starting with pg_. */
static int valid_schema(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;

    if (n == 0 || n > MAX_SCHEMA_LEN || strncmp(name, "pg_", 3) == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return 0;
    }
    return 1;
}

/* Copy the caller's options (as far as its struct goes) over the defaults and check them. */
static int read_options(const duro_postgres_options *opt, duro_postgres_options *o,
                        duro_error *err)
{
    duro_postgres_options_init(o);
    if (opt != NULL && opt->size == 0)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_postgres_open: options not initialised: call "
                              "duro_postgres_options_init");
    if (opt != NULL)
        memcpy(o, opt, opt->size < sizeof *o ? opt->size : sizeof *o);
    o->size = sizeof *o;
    if (o->schema == NULL)
        o->schema = "duro";
    if (!valid_schema(o->schema))
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_postgres_open: schema '%s' must be 1..%d of [A-Za-z0-9_]"
                              " and not start with pg_", o->schema, MAX_SCHEMA_LEN);
    if (o->pool_size < 1 || o->pool_size > MAX_POOL_SIZE || o->statement_timeout_ms < 0 ||
        o->lock_timeout_ms < 0 || o->recheck_ms < 0 || o->max_retries < 0 ||
        o->dead_client_timeout_ms < 0)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_postgres_open: pool_size must be within 1..%d and the "
                              "timeouts, recheck_ms and max_retries >= 0", MAX_POOL_SIZE);
    if (o->recheck_ms == 0)
        o->recheck_ms = DEFAULT_RECHECK_MS;
    return 0;
}

/* Connect once and migrate the schema (read-only: check its version), before the pool and
 * the listener start. */
static int migrate(duro_pg *s, duro_error *err)
{
    duro__pg_conn c;
    int rc;

    memset(&c, 0, sizeof c);
    rc = duro__pg_conn_open(&c, &s->set, err);
    if (rc == 0 && s->opt.read_only)
        rc = duro__pg_check_version(&c, err);
    else if (rc == 0)
        rc = duro__pg_migrate(&c, duro__pg_schema_version(), err);
    duro__pg_conn_close(&c);
    return rc;
}

static int provider_open(const char *conninfo, const duro_postgres_options *o, duro_pg **out,
                         duro_error *err)
{
    duro_pg *s = calloc(1, sizeof(*s));
    char token[33];
    int rc;

    if (s == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory opening the provider");
    s->conninfo = duro__strdup(conninfo);
    s->schema = duro__strdup(o->schema);
    s->channel = malloc(strlen(o->schema) + 6);
    if (s->conninfo == NULL || s->schema == NULL || s->channel == NULL) {
        free(s->conninfo);
        free(s->schema);
        free(s->channel);
        free(s);
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory opening the provider");
    }
    sprintf(s->channel, "duro_%s", o->schema);
    s->opt = *o;
    s->opt.schema = s->schema;
    s->set.conninfo = s->conninfo;
    s->set.schema = s->schema;
    s->set.statement_timeout_ms = o->statement_timeout_ms;
    s->set.lock_timeout_ms = o->lock_timeout_ms;
    s->set.synchronous_commit = o->synchronous_commit;
    s->set.dead_client_timeout_ms = o->dead_client_timeout_ms;
    s->set.read_only = o->read_only != 0;
    rc = duro__notifier_init(&s->notes, err);
    if (rc != 0) {
        free(s->conninfo);
        free(s->schema);
        free(s->channel);
        free(s);
        return rc;
    }
    rc = migrate(s, err);
    if (rc == 0)
        rc = duro__pg_pool_init(&s->pool, (size_t)o->pool_size, &s->set, s->channel,
                                o->max_retries, &s->notes, err);
    if (rc != 0) {
        duro__notifier_destroy(&s->notes);
        free(s->conninfo);
        free(s->schema);
        free(s->channel);
        free(s);
        return rc;
    }
    if (duro_random_token(token) != 0)
        snprintf(token, sizeof token, "%p", (void *)s);
    memcpy(s->pool.sender, token, 16);
    s->pool.sender[16] = '\0';
    /* read-only: nothing to fetch, so no long poll and no LISTEN connection; waiting for a
     * change (duro_client_wait) polls */
    rc = o->read_only ? 0
                      : duro__pg_listener_start(&s->listener, &s->set, s->channel,
                                                s->pool.sender, o->recheck_ms, &s->notes, err);
    if (rc != 0) {
        pg_destroy(&s->base);
        return rc;
    }
    s->base.ops = &postgres_ops;
    s->base.name = "postgres";
    s->base.caps = o->read_only ? DURO_CAP_MANAGEMENT | DURO_CAP_KV
                                : DURO_CAP_MANAGEMENT | DURO_CAP_LONG_POLL | DURO_CAP_NOTIFY |
                                      DURO_CAP_TAGS | DURO_CAP_KV | DURO_CAP_SESSIONS |
                                      DURO_CAP_VERSION_FILTER;
    *out = s;
    return 0;
}

int duro_postgres_open(const char *conninfo, const duro_postgres_options *opt,
                       duro_provider **out, duro_error *err)
{
    duro_postgres_options o;
    duro_pg *s = NULL;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (conninfo == NULL || out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_postgres_open: conninfo and out are required");
    rc = read_options(opt, &o, err);
    if (rc == 0)
        rc = provider_open(conninfo, &o, &s, err);
    if (rc != 0)
        return rc;
    *out = &s->base;
    return 0;
}

int duro_postgres_drop_schema(const char *conninfo, const char *schema, duro_error *err)
{
    duro__pg_conn_settings set = { conninfo, schema, 0, 0, 1, 0, 0 };
    duro__pg_conn c;
    char sql[128];
    int rc;

    if (conninfo == NULL || !valid_schema(schema))
        return duro_error_set(err, DURO_EINVAL, 0, "drop_schema: bad conninfo or schema name");
    memset(&c, 0, sizeof c);
    rc = duro__pg_conn_open(&c, &set, err);
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS \"%s\" CASCADE", schema);
    if (rc == 0)
        rc = duro__pg_simple(&c, sql, err);
    duro__pg_conn_close(&c);
    return rc;
}

int duro_postgres_schema_version(void)
{
    return duro__pg_schema_version();
}

/* ---- Entry points of duro-postgres.h and the provider object ------------------------------ */

duro_pg *duro__pg_from(duro_provider *p)
{
    /* by the destroy callback, so that a caller may wrap the ops table (tests do) */
    return p != NULL && p->ops != NULL && p->ops->destroy == pg_destroy ? (duro_pg *)p : NULL;
}

const char *duro_postgres_conninfo(duro_provider *p)
{
    duro_pg *s = duro__pg_from(p);

    return s != NULL ? s->conninfo : NULL;
}

const char *duro_postgres_schema(duro_provider *p)
{
    duro_pg *s = duro__pg_from(p);

    return s != NULL ? s->schema : NULL;
}

int duro_postgres_corrupt_history(duro_provider *p, const char *instance)
{
    duro_pg *s = duro__pg_from(p);

    if (s == NULL || instance == NULL || *instance == '\0')
        return DURO_EINVAL;
    return duro__pg_corrupt_history(s, instance);
}

int duro_postgres_max_attempt_count(duro_provider *p, const char *instance, uint32_t *out)
{
    duro_pg *s = duro__pg_from(p);

    if (s == NULL || instance == NULL || out == NULL)
        return DURO_EINVAL;
    return duro__pg_max_attempt_count(s, instance, out);
}

int duro_postgres_integrity_check(duro_provider *p, char *msg, size_t msg_size)
{
    duro_pg *s = duro__pg_from(p);

    if (s == NULL) {
        if (msg != NULL && msg_size > 0)
            msg[0] = '\0';
        return DURO_EINVAL;
    }
    return duro__pg_integrity(s, msg, msg_size);
}

static int pg_integrity_check(duro_provider *p, char *msg, size_t msg_size)
{
    return duro__pg_integrity((duro_pg *)p, msg, msg_size);
}

static uint64_t pg_commit_seq(duro_provider *p)
{
    return duro__notify_commit_seq(&((duro_pg *)p)->notes);
}

static int pg_wait_commit(duro_provider *p, uint64_t seq, int64_t timeout_ms)
{
    return duro__notify_wait_commit(&((duro_pg *)p)->notes, seq, timeout_ms);
}

static void pg_interrupt(duro_provider *p)
{
    duro__notify_interrupt(&((duro_pg *)p)->notes);
}

static const duro_provider_ops postgres_ops = {
    .version = DURO_PROVIDER_OPS_VERSION,
    .destroy = pg_destroy,
    .enqueue_orch = duro__pg_enqueue_orch,
    .fetch_orch = duro__pg_fetch_orch,
    .enqueue_orch_start = duro__pg_enqueue_orch_start,
    .fetch_orch_filtered = duro__pg_fetch_orch_filtered,
    .ack_orch = duro__pg_ack_orch,
    .abandon_orch = duro__pg_abandon_orch,
    .renew_orch = duro__pg_renew_orch,
    .enqueue_work = duro__pg_enqueue_work,
    .fetch_work = duro__pg_fetch_work,
    .ack_work = duro__pg_ack_work,
    .abandon_work = duro__pg_abandon_work,
    .renew_work = duro__pg_renew_work,
    .read_history = duro__pg_read_history,
    .instance_info = duro__pg_instance_info,
    .interrupt = pg_interrupt,
    .commit_seq = pg_commit_seq,
    .wait_commit = pg_wait_commit,
    .list_instances = duro__pg_list_instances,
    .list_executions = duro__pg_list_executions,
    .execution_info = duro__pg_execution_info,
    .list_children = duro__pg_list_children,
    .delete_instance = duro__pg_delete_instance,
    .delete_bulk = duro__pg_delete_bulk,
    .prune = duro__pg_prune,
    .queue_depths = duro__pg_queue_depths,
    .metrics = duro__pg_metrics,
    .integrity_check = pg_integrity_check,
    .query_instances = duro__pg_query_instances,
    .enqueue_work_tagged = duro__pg_enqueue_work_tagged,
    .fetch_work_filtered = duro__pg_fetch_work_filtered,
    .queue_depths_by_tag = duro__pg_queue_depths_by_tag,
    .get_value = duro__pg_get_value,
    .list_values = duro__pg_list_values,
    .fetch_work_session = duro__pg_fetch_work_session,
    .renew_sessions = duro__pg_renew_sessions,
};
