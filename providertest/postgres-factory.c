/*
 * postgres-factory.c — the PostgreSQL provider's factory for the conformance and stress
 * suites, built on the provider's public API only: each store is a fresh schema with a
 * unique name on one server, dropped with everything in it when the store is destroyed; more
 * handles on the same schema (another process's, with their own connections and listener)
 * through the locate and attach hooks, and real contention through hold_write_lock: a raw
 * libpq connection whose open transaction holds LOCK TABLE ... IN EXCLUSIVE MODE on every
 * table of the store, so the writes of every handle wait for it (reads go on) and a handle
 * whose lock_timeout_ms is the busy wait gives up with DURO_EBUSY. Linked into
 * duro-conformance, duro-stress and the tests; not part of libduro-postgres.
 */
#include "postgres-factory.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "duro-postgres.h"

#define LOCATOR_MAX 4096
/* The longest hold_write_lock waits for the tables (another transaction may be writing). */
#define HOLD_WAIT_MS "10000"

static char *factory_conninfo;

static int hook_corrupt(void *ud, duro_provider *p, const char *instance)
{
    return duro_postgres_corrupt_history(p, instance);
}

static int hook_attempts(void *ud, duro_provider *p, const char *instance, uint32_t *out)
{
    return duro_postgres_max_attempt_count(p, instance, out);
}

static void options(duro_postgres_options *opt, const char *schema)
{
    const char *sync = getenv("DURO_PG_SYNC");

    duro_postgres_options_init(opt);
    opt->schema = schema;
    opt->synchronous_commit = !(sync != NULL && strcasecmp(sync, "off") == 0);
}

/* A schema name no other store of any process uses. */
static void unique_schema(char *buf, size_t size)
{
    static unsigned counter;
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    char token[33];
    unsigned n;

    pthread_mutex_lock(&mu);
    n = ++counter;
    pthread_mutex_unlock(&mu);
    if (duro_random_token(token) != 0)
        snprintf(token, sizeof token, "%08x", (unsigned)rand());
    token[8] = '\0';
    snprintf(buf, size, "duro_t_%ld_%u_%s", (long)getpid(), n, token);
}

static int pg_create(void *ud, duro_provider **out, duro_error *err)
{
    duro_postgres_options opt;
    char schema[64];
    int rc;

    unique_schema(schema, sizeof schema);
    options(&opt, schema);
    rc = duro_postgres_open(factory_conninfo, &opt, out, err);
    if (rc != 0)
        duro_postgres_drop_schema(factory_conninfo, schema, NULL);
    return rc;
}

static void pg_destroy(void *ud, duro_provider *p)
{
    const char *schema = duro_postgres_schema(p);
    char buf[64];

    if (schema == NULL) {
        duro_provider_destroy(p);
        return;
    }
    snprintf(buf, sizeof buf, "%s", schema);
    duro_provider_destroy(p);
    duro_postgres_drop_schema(factory_conninfo, buf, NULL);
}

/* The locator of a store: "<schema> <conninfo>". */
static int pg_locate(void *ud, duro_provider *p, char *buf, size_t size)
{
    const char *schema = duro_postgres_schema(p);
    const char *conninfo = duro_postgres_conninfo(p);
    int n;

    if (schema == NULL || conninfo == NULL)
        return DURO_EINVAL;
    n = snprintf(buf, size, "%s %s", schema, conninfo);
    return n < 0 || (size_t)n >= size ? DURO_ETOOBIG : 0;
}

static int pg_attach(void *ud, const char *locator, duro_provider **out, duro_error *err)
{
    duro_postgres_options opt;
    char schema[64];
    const char *sp = strchr(locator, ' ');

    if (sp == NULL || (size_t)(sp - locator) >= sizeof schema)
        return duro_error_set(err, DURO_EINVAL, 0, "postgres locator must be '<schema> <conninfo>'");
    memcpy(schema, locator, (size_t)(sp - locator));
    schema[sp - locator] = '\0';
    options(&opt, schema);
    return duro_postgres_open(sp + 1, &opt, out, err);
}

/* The statements of a hold on `schema` (validated by the provider: [A-Za-z0-9_]). */
static void hold_sql(const char *schema, char *buf, size_t size)
{
    snprintf(buf, size,
             "BEGIN; SET LOCAL lock_timeout = " HOLD_WAIT_MS "; LOCK TABLE \"%s\".instances,"
             " \"%s\".executions, \"%s\".history, \"%s\".orch_queue, \"%s\".instance_locks,"
             " \"%s\".work_queue IN EXCLUSIVE MODE", schema, schema, schema, schema, schema,
             schema);
}

/* hold_write_lock of "postgres": a handle on the schema of `p` with lock_timeout_ms =
 * busy_ms, opened first (its migration check takes the schema's advisory lock), then a raw
 * connection that holds every table of the schema in EXCLUSIVE mode in an open transaction:
 * it conflicts with every INSERT, UPDATE, DELETE and SELECT ... FOR UPDATE, never with a
 * plain SELECT, so writes wait and reads go on. */
static int pg_hold_write_lock(void *ud, duro_provider *p, int64_t busy_ms,
                              duro_provider **busy, void **hold, duro_error *err)
{
    const char *schema = duro_postgres_schema(p);
    const char *conninfo = duro_postgres_conninfo(p);
    duro_postgres_options opt;
    char sql[768];
    PGconn *pg;
    PGresult *res;
    int rc;

    *busy = NULL;
    *hold = NULL;
    if (schema == NULL || conninfo == NULL || busy_ms <= 0 || busy_ms > 60000)
        return duro_error_set(err, DURO_EINVAL, 0, "hold_write_lock: bad store or busy_ms");
    options(&opt, schema);
    opt.lock_timeout_ms = (int)busy_ms;
    rc = duro_postgres_open(conninfo, &opt, busy, err);
    if (rc != 0)
        return rc;
    hold_sql(schema, sql, sizeof sql);
    pg = PQconnectdb(conninfo);
    res = pg != NULL && PQstatus(pg) == CONNECTION_OK ? PQexec(pg, sql) : NULL;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        duro_error_set(err, DURO_EIO, 1, "hold_write_lock: %s",
                       pg != NULL ? PQerrorMessage(pg) : "out of memory");
        PQclear(res);
        PQfinish(pg);
        duro_provider_destroy(*busy);
        *busy = NULL;
        return DURO_EIO;
    }
    PQclear(res);
    *hold = pg;
    return 0;
}

/* Roll the hold's transaction back (dropping its locks) and close its connection. */
static void pg_release_write_lock(void *ud, void *hold)
{
    PGconn *pg = hold;

    if (pg == NULL)
        return;
    PQclear(PQexec(pg, "ROLLBACK"));
    PQfinish(pg);
}

static duro_provider_factory factory = {
    .version = DURO_PROVIDER_FACTORY_VERSION,
    .name = "postgres",
    .caps = DURO_CAP_MANAGEMENT | DURO_CAP_LONG_POLL | DURO_CAP_NOTIFY | DURO_CAP_TAGS |
            DURO_CAP_KV | DURO_CAP_SESSIONS | DURO_CAP_VERSION_FILTER,
    .create = pg_create,
    .destroy = pg_destroy,
    .corrupt_history = hook_corrupt,
    .max_attempt_count = hook_attempts,
    .locate = pg_locate,
    .attach = pg_attach,
    .ud = NULL,
    .hold_write_lock = pg_hold_write_lock,
    .release_write_lock = pg_release_write_lock,
};

const duro_provider_factory *duro__postgres_factory(const char *conninfo)
{
    char *copy = conninfo != NULL ? strdup(conninfo) : NULL;

    if (copy == NULL)
        return NULL;
    free(factory_conninfo);
    factory_conninfo = copy;
    return &factory;
}

const char *duro__postgres_conninfo(const char *arg)
{
    const char *env = getenv("DURO_PG_CONNINFO");

    if (arg != NULL && *arg != '\0')
        return arg;
    return env != NULL && *env != '\0' ? env : NULL;
}
