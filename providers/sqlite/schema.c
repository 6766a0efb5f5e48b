/*
 * schema.c — the versioned schema of the SQLite provider and its migrations.
 *
 * The table `schema_version` records every migration applied, one row per version. Opening a
 * database applies, in one IMMEDIATE transaction, each migration newer than the highest
 * recorded version, so reopening is a no-op and two processes opening the same new file
 * cannot both migrate it. A database written by a newer library is refused, not guessed at.
 *
 * Tables (times are the caller's now_ms, never SQL's clock):
 *   instances       one row per started instance; created by ack_orch only
 *   executions      one row per (instance, execution); state is a duro_state
 *   history         append-only events per (instance, execution, event_id)
 *   orch_queue      orchestrator messages; lock_token tags the batch of the current lock
 *   instance_locks  the exclusive orchestration lock of an instance
 *   work_queue      activity work items, each with its own lock
 */
#include "schema.h"

#include <stddef.h>

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
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char SQL_CREATE_VERSION[] =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY NOT NULL)";
static const char SQL_MAX_VERSION[] = "SELECT MAX(version) FROM schema_version";
static const char SQL_ADD_VERSION[] = "INSERT INTO schema_version (version) VALUES (?1)";

int duro__sq_schema_version(void)
{
    return N_MIGRATIONS;
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

int duro__sq_migrate(duro__sq_conn *c, duro_error *err)
{
    int64_t version;
    int rc = duro__sq_exec(c, "BEGIN IMMEDIATE", err, "");

    if (rc < 0)
        return rc;
    rc = duro__sq_exec(c, SQL_CREATE_VERSION, err, "");
    if (rc >= 0)
        rc = duro__sq_int(c, SQL_MAX_VERSION, 0, &version, err, "");
    if (rc >= 0 && version > N_MIGRATIONS)
        rc = duro_error_set(err, DURO_ENOTSUP, 0,
                            "database schema version %lld is newer than this library (%d)",
                            (long long)version, N_MIGRATIONS);
    if (rc >= 0)
        rc = apply(c, (int)version, err);
    if (rc >= 0)
        rc = duro__sq_exec(c, "COMMIT", err, "");
    if (rc < 0) {
        if (!sqlite3_get_autocommit(c->db))
            duro__sq_exec(c, "ROLLBACK", NULL, "");
        return rc;
    }
    return 0;
}
