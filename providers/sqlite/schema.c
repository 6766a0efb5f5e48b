/*
 * schema.c — the versioned schema of the SQLite provider and its migrations.
 *
 * The table `schema_version` records every migration applied, one row per version. Opening a
 * database checks it and applies, in one IMMEDIATE transaction, each migration newer than the
 * highest recorded version, so reopening is a no-op and two processes opening the same file
 * cannot both migrate it. A database written by a newer library is refused, not guessed at;
 * so is one without duro's schema unless it is empty and the caller allows initialising it.
 *
 * Tables (times are the caller's now_ms, never SQL's clock):
 *   instances       one row per started instance; created by ack_orch only
 *   executions      one row per (instance, execution); state is a duro_state
 *   history         append-only events per (instance, execution, event_id)
 *   orch_queue      orchestrator messages; lock_token tags the batch of the current lock
 *   instance_locks  the exclusive orchestration lock of an instance
 *   work_queue      activity work items, each with its own lock and routing tag
 */
#include "schema.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

/* Migration N (1-based) brings the schema from version N-1 to N. Append only. */
static const char *const migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE instances ("
    " instance_id TEXT PRIMARY KEY NOT NULL,"
    " orch_name TEXT NOT NULL,"
    " orch_version TEXT,"
    " parent_instance TEXT,"
    " current_execution INTEGER NOT NULL DEFAULT 1,"
    " custom_status TEXT,"
    " custom_status_version INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE INDEX instances_parent ON instances(parent_instance)"
    " WHERE parent_instance IS NOT NULL;"
    "CREATE INDEX instances_created ON instances(created_at);"
    "CREATE TABLE executions ("
    " instance_id TEXT NOT NULL,"
    " execution_id INTEGER NOT NULL,"
    " state INTEGER NOT NULL,"
    " output TEXT,"
    " started_at INTEGER NOT NULL,"
    " completed_at INTEGER,"
    " PRIMARY KEY (instance_id, execution_id));"
    "CREATE TABLE history ("
    " instance_id TEXT NOT NULL,"
    " execution_id INTEGER NOT NULL,"
    " event_id INTEGER NOT NULL CHECK (event_id > 0),"
    " kind INTEGER NOT NULL,"
    " payload TEXT,"
    " PRIMARY KEY (instance_id, execution_id, event_id));"
    "CREATE TABLE orch_queue ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " instance_id TEXT NOT NULL,"
    " kind INTEGER NOT NULL,"
    " execution_id INTEGER NOT NULL,"
    " payload TEXT,"
    " visible_at INTEGER NOT NULL,"
    " lock_token TEXT,"
    " attempt_count INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX orch_queue_instance ON orch_queue(instance_id, visible_at);"
    "CREATE INDEX orch_queue_visible ON orch_queue(visible_at);"
    "CREATE INDEX orch_queue_token ON orch_queue(lock_token) WHERE lock_token IS NOT NULL;"
    "CREATE TABLE instance_locks ("
    " instance_id TEXT PRIMARY KEY NOT NULL,"
    " lock_token TEXT NOT NULL UNIQUE,"
    " locked_until INTEGER NOT NULL);"
    "CREATE TABLE work_queue ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " instance_id TEXT NOT NULL,"
    " execution_id INTEGER NOT NULL,"
    " activity_id INTEGER NOT NULL,"
    " payload TEXT,"
    " visible_at INTEGER NOT NULL,"
    " lock_token TEXT,"
    " locked_until INTEGER,"
    " attempt_count INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX work_queue_activity ON work_queue(instance_id, execution_id, activity_id);"
    "CREATE UNIQUE INDEX work_queue_token ON work_queue(lock_token)"
    " WHERE lock_token IS NOT NULL;"
    "CREATE INDEX work_queue_visible ON work_queue(visible_at);"
    "CREATE INDEX work_queue_locked ON work_queue(locked_until)"
    " WHERE locked_until IS NOT NULL;",
    /* 2: durable values (DURO_CAP_KV): one row per key of an instance; the instance counts
     * its value changes for the versions */
    "ALTER TABLE instances ADD COLUMN kv_version INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE kv ("
    " instance_id TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " PRIMARY KEY (instance_id, key)) WITHOUT ROWID;",
    /* 3: activity tags (ops version 4): a work item's routing tag, NULL when untagged; the
     * index serves the fetch of the oldest item of one tag (or of the untagged ones) */
    "ALTER TABLE work_queue ADD COLUMN tag TEXT;"
    "CREATE INDEX work_queue_tag ON work_queue(tag, id);",
    /* 4: message targets (DURO_CAP_VERSION_FILTER): the (name, version) a START or
     * CONTINUE_AS_NEW message starts, for fetch_orch_filtered */
    "ALTER TABLE orch_queue ADD COLUMN target_name TEXT;"
    "ALTER TABLE orch_queue ADD COLUMN target_version TEXT;",
    /* 5: activity sessions (ops version 6): a work item's session, NULL when none; one row
     * per session that has had an owner (lease_until: the lease's end; active_at: the last
     * time it was seen with an item, for idle release) */
    "ALTER TABLE work_queue ADD COLUMN session TEXT;"
    "CREATE INDEX work_queue_session ON work_queue(session, id);"
    "CREATE TABLE sessions ("
    " session_id TEXT PRIMARY KEY NOT NULL,"
    " owner TEXT NOT NULL,"
    " lease_until INTEGER NOT NULL,"
    " active_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX sessions_owner ON sessions(owner, lease_until);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char SQL_CREATE_VERSION[] =
    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY NOT NULL)";
static const char SQL_MAX_VERSION[] = "SELECT MAX(version) FROM schema_version";
static const char SQL_ADD_VERSION[] = "INSERT INTO schema_version (version) VALUES (?1)";
static const char SQL_OBJECTS[] = "SELECT COUNT(*) FROM sqlite_master";
static const char SQL_HAS_VERSION[] =
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
static const char SQL_EXPECTED[] =
    "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    " ORDER BY rowid";
static const char SQL_OBJECT[] = "SELECT 1 FROM sqlite_master WHERE type = ?1 AND name = ?2";

int duro__sq_schema_version(void)
{
    return N_MIGRATIONS;
}

/* Restate the error `rc` in `err` as "<path>: <message>". */
static int about(const char *path, int rc, duro_error *err)
{
    char msg[sizeof err->message];

    if (err == NULL)
        return rc;
    snprintf(msg, sizeof(msg), "%s", err->message);
    return duro_error_set(err, rc, err->retryable, "%s: %s", path, msg);
}

/* Apply the migrations after `from` inside the caller's transaction. */
static int apply(duro__sq_conn *c, int from, duro_error *err)
{
    for (int v = from + 1; v <= N_MIGRATIONS; v++) {
        int rc = sqlite3_exec(c->db, migrations[v - 1], NULL, NULL, NULL);

        if (rc != SQLITE_OK)
            return duro__sq_error(c->db, rc, "schema migration", err);
        rc = duro__sq_exec(c, SQL_ADD_VERSION, err, "d", v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A database without schema_version: initialise it (version 0, the migrations follow) when
 * it is empty and that is allowed, otherwise refuse it. */
static int adopt_empty(duro__sq_conn *c, const char *path, int may_initialise, duro_error *err)
{
    struct stat st;
    int64_t objects;
    int rc = duro__sq_int(c, SQL_OBJECTS, 0, &objects, err, "");

    if (rc < 0)
        return about(path, rc, err);
    if (objects > 0)
        return duro_error_set(err, DURO_ECORRUPT, 0,
                              "%s holds a SQLite database that is not a duro store (no "
                              "schema_version table); refusing to use it", path);
    if (!may_initialise)
        return duro_error_set(err, DURO_ECORRUPT, 0,
                              "%s exists but holds no duro store (%s); refusing to initialise "
                              "it - remove it or set duro_sqlite_options.initialize_existing",
                              path, stat(path, &st) == 0 && st.st_size == 0
                                        ? "0 bytes" : "an empty SQLite database");
    rc = duro__sq_exec(c, SQL_CREATE_VERSION, err, "");
    return rc < 0 ? about(path, rc, err) : 0;
}

/* The recorded schema version of a store with schema_version, checked against this library. */
static int stored_version(duro__sq_conn *c, const char *path, int64_t *version,
                          duro_error *err)
{
    int rc = duro__sq_int(c, SQL_MAX_VERSION, 0, version, err, "");

    if (rc < 0)
        return about(path, rc, err);
    if (*version > N_MIGRATIONS)
        return duro_error_set(err, DURO_ENOTSUP, 0,
                              "%s: database schema version %lld is newer than this library "
                              "(%d)", path, (long long)*version, N_MIGRATIONS);
    if (*version < 1)
        return duro_error_set(err, DURO_ECORRUPT, 0,
                              "%s: damaged duro store: schema_version records no version",
                              path);
    return 0;
}

/* Check that the store of `c` has every table and index of schema version `v`: those that
 * migrations 1..v create in an empty in-memory database, so that the list never lags behind
 * the migrations. A missing one is DURO_ECORRUPT naming it. */
static int verify_objects(duro__sq_conn *c, const char *path, int v, duro_error *err)
{
    sqlite3 *mem = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open_v2(":memory:", &mem, SQLITE_OPEN_READWRITE, NULL);

    for (int i = 0; rc == SQLITE_OK && i < v; i++)
        rc = sqlite3_exec(mem, migrations[i], NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(mem, SQL_EXPECTED, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *type = (const char *)sqlite3_column_text(st, 0);
            const char *name = (const char *)sqlite3_column_text(st, 1);
            int64_t found;
            int q = duro__sq_int(c, SQL_OBJECT, 0, &found, err, "tt", type, name);

            if (q == 0)
                q = duro_error_set(err, DURO_ECORRUPT, 0,
                                   "%s: damaged duro store: %s %s is missing (schema version "
                                   "%d)", path, type, name, v);
            else if (q < 0)
                q = about(path, q, err);
            if (q < 0) {
                rc = q;
                break;
            }
        }
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = duro__sq_error(mem, rc, "schema check", err);
    sqlite3_finalize(st);
    sqlite3_close(mem);
    return rc;
}

/* The error `rc` of the first statement on a database: a file that is not SQLite says so. */
static int first_error(duro__sq_conn *c, const char *path, int rc, duro_error *err)
{
    if (rc == DURO_ECORRUPT && sqlite3_errcode(c->db) == SQLITE_NOTADB)
        return duro_error_set(err, DURO_ECORRUPT, 0,
                              "%s exists but is not a database (not SQLite); refusing to use "
                              "it", path);
    return about(path, rc, err);
}

/* Inside the open transaction: what the database of `c` is. A duro store of a version this
 * library knows, with all its tables and indexes, sets *version; an empty database that may
 * be initialised gets schema_version and *version 0; anything else is an error. */
static int check_store(duro__sq_conn *c, const char *path, int may_initialise,
                       int64_t *version, duro_error *err)
{
    int64_t has_version;
    int rc = duro__sq_int(c, SQL_HAS_VERSION, 0, &has_version, err, "");

    *version = 0;
    if (rc < 0)
        return first_error(c, path, rc, err);
    if (!has_version)
        return adopt_empty(c, path, may_initialise, err);
    rc = stored_version(c, path, version, err);
    return rc < 0 ? rc : verify_objects(c, path, (int)*version, err);
}

int duro__sq_prepare_store(duro__sq_conn *c, const char *path, int may_initialise,
                           duro_error *err)
{
    int64_t version;
    int rc = duro__sq_exec(c, "BEGIN IMMEDIATE", err, "");

    if (rc < 0)
        return first_error(c, path, rc, err);
    rc = check_store(c, path, may_initialise, &version, err);
    if (rc >= 0 && (rc = apply(c, (int)version, err)) < 0)
        rc = about(path, rc, err);
    if (rc >= 0 && (rc = duro__sq_exec(c, "COMMIT", err, "")) < 0)
        rc = about(path, rc, err);
    if (rc < 0) {
        if (!sqlite3_get_autocommit(c->db))
            duro__sq_exec(c, "ROLLBACK", NULL, "");
        return rc;
    }
    return 0;
}

int duro__sq_check_store(duro__sq_conn *c, const char *path, duro_error *err)
{
    int64_t version;
    int rc = duro__sq_exec(c, "BEGIN", err, "");

    if (rc < 0)
        return first_error(c, path, rc, err);
    rc = check_store(c, path, 0, &version, err);
    if (rc >= 0 && version < N_MIGRATIONS)
        rc = duro_error_set(err, DURO_ENOTSUP, 0,
                            "%s: database schema version %lld is older than this library "
                            "(%d): open it read-write once to migrate it", path,
                            (long long)version, N_MIGRATIONS);
    duro__sq_exec(c, "ROLLBACK", NULL, "");
    return rc < 0 ? rc : 0;
}
