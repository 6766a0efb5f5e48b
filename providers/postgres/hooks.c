/*
 * hooks.c — the work behind the PostgreSQL provider's test and integrity hooks
 * (duro-postgres.h, whose entry points are in provider.c): corrupt an instance's stored
 * history, read raw fetch counts, and the integrity check (also the provider's version-2
 * integrity_check callback). The suites' factory that uses them lives with the suites
 * (providertest/postgres-factory.c).
 */
#include "pg-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_CORRUPT[] =
    "UPDATE history SET payload = '\\x00fffe'::bytea WHERE instance_id = $1::text";
static const char SQL_CORRUPT_INSERT[] =
    "INSERT INTO history (instance_id, execution_id, event_id, kind, payload) VALUES ($1::text,"
    " COALESCE((SELECT current_execution FROM instances WHERE instance_id = $1::text), 1), 1, 0,"
    " '\\x00fffe'::bytea) ON CONFLICT DO NOTHING";
static const char SQL_MAX_ATTEMPTS[] =
    "SELECT MAX(attempt_count) FROM orch_queue WHERE instance_id = $1::text";

typedef struct hook_arg {
    const char *instance;
    int64_t value;
    char *msg;
    size_t msg_size;
} hook_arg;

static int corrupt_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    hook_arg *a = arg;
    int rc = duro__pg_exec(c, SQL_CORRUPT, err, "t", a->instance);

    if (rc >= 0)
        rc = duro__pg_exec(c, SQL_CORRUPT_INSERT, err, "t", a->instance);
    return rc < 0 ? rc : 0;
}

int duro__pg_corrupt_history(duro_pg *s, const char *instance)
{
    hook_arg a = { instance, 0, NULL, 0 };

    return duro__pg_run(&s->pool, DURO__PG_WRITE, corrupt_txn, &a, NULL);
}

static int attempts_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    hook_arg *a = arg;
    int rc = duro__pg_int(c, SQL_MAX_ATTEMPTS, 0, &a->value, err, "t", a->instance);

    return rc < 0 ? rc : 0;
}

int duro__pg_max_attempt_count(duro_pg *s, const char *instance, uint32_t *out)
{
    hook_arg a = { instance, 0, NULL, 0 };
    int rc = duro__pg_run(&s->pool, DURO__PG_READ, attempts_txn, &a, NULL);

    *out = 0;
    if (rc != 0)
        return rc;
    *out = a.value < 0 ? 0 : a.value > UINT32_MAX ? UINT32_MAX : (uint32_t)a.value;
    return 0;
}

/* ---- Integrity --------------------------------------------------------------------------- */

/* Each query returns one count of rows that break an invariant, named by `what`. */
static const struct {
    const char *sql;
    const char *what;
} checks[] = {
    {"SELECT COUNT(*) FROM executions e"
     " WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.instance_id = e.instance_id)",
     "executions without an instance row"},
    {"SELECT COUNT(*) FROM instances i WHERE NOT EXISTS (SELECT 1 FROM executions e"
     " WHERE e.instance_id = i.instance_id AND e.execution_id = i.current_execution)",
     "instances without a row for their current execution"},
    {"SELECT COUNT(*) FROM executions WHERE state NOT BETWEEN 1 AND 4"
     " OR (state = 1 AND completed_at IS NOT NULL)",
     "executions with an invalid state or a running one with a completion time"},
    {"SELECT COUNT(*) FROM work_queue WHERE (lock_token IS NULL) <> (locked_until IS NULL)",
     "work items with half a lock"},
    {"SELECT COUNT(*) FROM orch_queue q WHERE q.lock_token IS NOT NULL AND NOT EXISTS"
     " (SELECT 1 FROM instance_locks l WHERE l.lock_token = q.lock_token)",
     "orchestrator messages tagged with a token no lock holds"},
    {"SELECT COUNT(*) FROM (SELECT SUM(length(payload)) FROM history"
     " UNION ALL SELECT SUM(length(payload)) FROM orch_queue"
     " UNION ALL SELECT SUM(length(payload)) FROM work_queue"
     " UNION ALL SELECT SUM(length(output)) FROM executions"
     " UNION ALL SELECT SUM(length(custom_status)) FROM instances) t (n) WHERE t.n < 0",
     "unreadable rows"},
};

static int integrity_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    hook_arg *a = arg;

    a->msg[0] = '\0';
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        int64_t bad = 0;
        int rc = duro__pg_int(c, checks[i].sql, 0, &bad, err, "");
        if (rc < 0)
            return rc;
        if (bad > 0) {
            snprintf(a->msg, a->msg_size, "integrity_check: %lld %s", (long long)bad,
                     checks[i].what);
            return DURO_ECORRUPT;
        }
    }
    return 0;
}

int duro__pg_integrity(duro_pg *s, char *msg, size_t msg_size)
{
    char buf[256];
    duro_error err = { 0, 0, "" };
    hook_arg a = { NULL, 0, buf, sizeof buf };
    int rc;

    if (msg != NULL && msg_size > 0)
        msg[0] = '\0';
    rc = duro__pg_run(&s->pool, DURO__PG_READ, integrity_txn, &a, &err);
    if (rc != 0 && msg != NULL && msg_size > 0)
        snprintf(msg, msg_size, "%s", rc == DURO_ECORRUPT && buf[0] ? buf : err.message);
    return rc;
}
