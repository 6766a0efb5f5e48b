/*
 * schema.c — the versioned schema of the PostgreSQL provider and its migrations.
 *
 * One schema (search_path) holds one store: a tenant, an application, a test. The table
 * `schema_version` records every migration applied, one row per version. Opening a provider
 * takes a transaction-scoped advisory lock on the schema's name, creates the schema when it
 * is missing and applies each migration newer than the highest recorded version, all in one
 * transaction, so ten processes starting at once on an empty database serialise here and
 * all but the first find nothing to do. A schema written by a newer library is refused, not
 * guessed at. Migrations are appended, never edited; every version is tested by upgrading
 * from each older one (tests/test-postgres.c).
 *
 * Tables (times are the caller's now_ms as BIGINT, never the server's clock; payloads,
 * outputs and custom status are BYTEA: opaque bytes, whatever the database encoding):
 *   instances       one row per started instance; created by ack_orch only
 *   executions      one row per (instance, execution); state is a duro_state
 *   history         append-only events per (instance, execution, event_id)
 *   orch_queue      orchestrator messages; lock_token tags the batch of the current lock
 *   instance_locks  the exclusive orchestration lock of an instance
 *   work_queue      activity work items, each with its own lock, routing tag and session
 *   sessions        the owner and lease of each activity session that has had one
 */
#include "schema.h"

#include <stdio.h>
#include <string.h>

/* Migration N (1-based) brings the schema from version N-1 to N. Append only. */
static const char *const migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE instances ("
    " instance_id TEXT PRIMARY KEY,"
    " orch_name TEXT NOT NULL,"
    " orch_version TEXT,"
    " parent_instance TEXT,"
    " current_execution BIGINT NOT NULL DEFAULT 1,"
    " custom_status BYTEA,"
    " custom_status_version BIGINT NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " seq BIGINT GENERATED ALWAYS AS IDENTITY);"
    "CREATE INDEX instances_parent ON instances(parent_instance)"
    " WHERE parent_instance IS NOT NULL;"
    "CREATE INDEX instances_created ON instances(created_at, seq);"
    "CREATE TABLE executions ("
    " instance_id TEXT NOT NULL,"
    " execution_id BIGINT NOT NULL,"
    " state INT NOT NULL,"
    " output BYTEA,"
    " started_at BIGINT NOT NULL,"
    " completed_at BIGINT,"
    " PRIMARY KEY (instance_id, execution_id));"
    "CREATE TABLE history ("
    " instance_id TEXT NOT NULL,"
    " execution_id BIGINT NOT NULL,"
    " event_id BIGINT NOT NULL CHECK (event_id > 0),"
    " kind INT NOT NULL,"
    " payload BYTEA NOT NULL,"
    " PRIMARY KEY (instance_id, execution_id, event_id));"
    "CREATE TABLE orch_queue ("
    " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " instance_id TEXT NOT NULL,"
    " kind INT NOT NULL,"
    " execution_id BIGINT NOT NULL,"
    " payload BYTEA,"
    " visible_at BIGINT NOT NULL,"
    " lock_token TEXT,"
    " attempt_count INT NOT NULL DEFAULT 0);"
    "CREATE INDEX orch_queue_instance ON orch_queue(instance_id, visible_at);"
    "CREATE INDEX orch_queue_visible ON orch_queue(visible_at);"
    "CREATE INDEX orch_queue_token ON orch_queue(lock_token) WHERE lock_token IS NOT NULL;"
    "CREATE TABLE instance_locks ("
    " instance_id TEXT PRIMARY KEY,"
    " lock_token TEXT NOT NULL UNIQUE,"
    " locked_until BIGINT NOT NULL);"
    "CREATE TABLE work_queue ("
    " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " instance_id TEXT NOT NULL,"
    " execution_id BIGINT NOT NULL,"
    " activity_id BIGINT NOT NULL,"
    " payload BYTEA,"
    " visible_at BIGINT NOT NULL,"
    " lock_token TEXT,"
    " locked_until BIGINT,"
    " attempt_count INT NOT NULL DEFAULT 0);"
    "CREATE INDEX work_queue_activity ON work_queue(instance_id, execution_id, activity_id);"
    "CREATE UNIQUE INDEX work_queue_token ON work_queue(lock_token)"
    " WHERE lock_token IS NOT NULL;"
    "CREATE INDEX work_queue_visible ON work_queue(visible_at);"
    "CREATE INDEX work_queue_locked ON work_queue(locked_until)"
    " WHERE locked_until IS NOT NULL;",
    /* 2: the order of query_instances, newest first by (created_at, instance id in byte
     * order): a backward scan of this index yields it and seeks to a page's resume key */
    "CREATE INDEX instances_created_id ON instances(created_at, instance_id COLLATE \"C\");",
    /* 3: durable values (DURO_CAP_KV): one row per key of an instance; the instance counts
     * its value changes for the versions */
    "ALTER TABLE instances ADD COLUMN kv_version BIGINT NOT NULL DEFAULT 0;"
    "CREATE TABLE kv ("
    " instance_id TEXT NOT NULL,"
    " key TEXT COLLATE \"C\" NOT NULL,"
    " value BYTEA NOT NULL,"
    " version BIGINT NOT NULL,"
    " PRIMARY KEY (instance_id, key));",
    /* 4: activity tags (ops version 4): a work item's routing tag, NULL when untagged; the
     * index serves the fetch of the oldest item of one tag (or of the untagged ones) */
    "ALTER TABLE work_queue ADD COLUMN tag TEXT;"
    "CREATE INDEX work_queue_tag ON work_queue(tag, id);",
    /* 5: message targets (DURO_CAP_VERSION_FILTER): the (name, version) a START or
     * CONTINUE_AS_NEW message starts, for fetch_orch_filtered */
    "ALTER TABLE orch_queue ADD COLUMN target_name TEXT, ADD COLUMN target_version TEXT;",
    /* 6: activity sessions (ops version 6): a work item's session, NULL when none (the
     * index serves the sessions class of a fetch and the "has it items left" checks); one
     * row per session that has had an owner (lease_until: the lease's end; active_at: the
     * last time it was seen with an item, for idle release), as SQLite's migration 5 */
    "ALTER TABLE work_queue ADD COLUMN session TEXT;"
    "CREATE INDEX work_queue_session ON work_queue(session, id) WHERE session IS NOT NULL;"
    "CREATE TABLE sessions ("
    " session_id TEXT PRIMARY KEY,"
    " owner TEXT NOT NULL,"
    " lease_until BIGINT NOT NULL,"
    " active_at BIGINT NOT NULL);"
    "CREATE INDEX sessions_owner ON sessions(owner, lease_until);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* 'duro' as the first key of the schema's migration lock (the second is its name's hash). */
static const char SQL_LOCK[] =
    "SELECT pg_advisory_xact_lock(1685418607, hashtext(current_setting('search_path')))";
static const char SQL_CREATE_VERSION[] =
    "CREATE TABLE IF NOT EXISTS schema_version (version INT PRIMARY KEY,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";
static const char SQL_MAX_VERSION[] = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
static const char SQL_HAS_TABLE[] = "SELECT to_regclass('schema_version') IS NOT NULL";
static const char SQL_ADD_VERSION[] = "INSERT INTO schema_version (version) VALUES ($1::int)";
static const char SQL_HAS_SCHEMA[] =
    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1::text)";

int duro__pg_schema_version(void)
{
    return N_MIGRATIONS;
}

int duro__pg_stored_version(duro__pg_conn *c, duro_error *err)
{
    int64_t has = 0, v = 0;
    int rc = duro__pg_int(c, SQL_HAS_TABLE, 0, &has, err, "");

    if (rc >= 0 && has)
        rc = duro__pg_int(c, SQL_MAX_VERSION, 0, &v, err, "");
    return rc < 0 ? rc : (int)v;
}

static int migrate_locked(duro__pg_conn *c, int target, duro_error *err)
{
    char create[128];
    int64_t version = 0;
    int rc;

    /* the name is validated ([A-Za-z0-9_]) before any connection is made */
    snprintf(create, sizeof create, "CREATE SCHEMA IF NOT EXISTS \"%s\"", c->set->schema);
    rc = duro__pg_exec(c, SQL_LOCK, err, "");
    if (rc >= 0)
        rc = duro__pg_simple(c, create, err);
    if (rc >= 0)
        rc = duro__pg_simple(c, SQL_CREATE_VERSION, err);
    if (rc >= 0)
        rc = duro__pg_int(c, SQL_MAX_VERSION, 0, &version, err, "");
    if (rc < 0)
        return rc;
    if (version > N_MIGRATIONS)
        return duro_error_set(err, DURO_ENOTSUP, 0,
                              "schema %s has version %lld, newer than this library (%d)",
                              c->set->schema, (long long)version, N_MIGRATIONS);
    for (int v = (int)version + 1; v <= target && v <= N_MIGRATIONS; v++) {
        rc = duro__pg_simple(c, migrations[v - 1], err);
        if (rc >= 0)
            rc = duro__pg_exec(c, SQL_ADD_VERSION, err, "d", v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int duro__pg_migrate(duro__pg_conn *c, int target, duro_error *err)
{
    int rc = duro__pg_simple(c, "BEGIN", err);

    if (rc != 0)
        return rc;
    rc = migrate_locked(c, target, err);
    /* prepared statements planned before the tables existed are re-planned by the server */
    if (rc == 0)
        rc = duro__pg_simple(c, "COMMIT", err);
    else if (!c->broken)
        duro__pg_simple(c, "ROLLBACK", NULL);
    return rc;
}

int duro__pg_check_version(duro__pg_conn *c, duro_error *err)
{
    const char *name = c->set->schema;
    int64_t exists = 0;
    int rc = duro__pg_int(c, SQL_HAS_SCHEMA, 0, &exists, err, "t", name);
    int version;

    if (rc < 0)
        return rc;
    if (!exists)
        return duro_error_set(err, DURO_ENOTFOUND, 0,
                              "schema %s does not exist (a read-only open creates nothing)",
                              name);
    version = duro__pg_stored_version(c, err);
    if (version < 0)
        return version;
    if (version == 0)
        return duro_error_set(err, DURO_ENOTFOUND, 0,
                              "schema %s holds no duro store (no schema version)", name);
    if (version > N_MIGRATIONS)
        return duro_error_set(err, DURO_ENOTSUP, 0,
                              "schema %s has version %d, newer than this library (%d)", name,
                              version, N_MIGRATIONS);
    if (version < N_MIGRATIONS)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "schema %s has version %d, this library needs %d: a read-only "
                              "open does not migrate (open it read-write once)", name, version,
                              N_MIGRATIONS);
    return 0;
}
