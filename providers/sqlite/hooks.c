/*
 * hooks.c — the work behind the SQLite provider's test and integrity hooks (duro-sqlite.h,
 * whose entry points are in provider.c): corrupt an instance's stored history, read raw
 * fetch counts, and PRAGMA integrity_check (also the provider's version-2 integrity_check
 * callback). The suites' factories that use them live with the suites
 * (providertest/sqlite-factory.c).
 */
#include "sqlite-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Hooks ------------------------------------------------------------------------------- */

static const char SQL_CORRUPT[] =
    "UPDATE history SET payload = X'FF00FE' WHERE instance_id = ?1";
static const char SQL_CORRUPT_INSERT[] =
    "INSERT INTO history (instance_id, execution_id, event_id, kind, payload) VALUES (?1,"
    " COALESCE((SELECT current_execution FROM instances WHERE instance_id = ?1), 1), 1, 0,"
    " X'FF00FE')";
static const char SQL_MAX_ATTEMPTS[] =
    "SELECT MAX(attempt_count) FROM orch_queue WHERE instance_id = ?1";
static const char SQL_INTEGRITY[] = "PRAGMA integrity_check";

int duro__sq_corrupt_history(duro_sqlite *s, const char *instance)
{
    duro__sq_conn *c;
    int rc = duro__sq_begin_write(&s->pool, &c, NULL);

    if (rc != 0)
        return rc;
    rc = duro__sq_exec(c, SQL_CORRUPT, NULL, "t", instance);
    if (rc == 0)
        rc = duro__sq_exec(c, SQL_CORRUPT_INSERT, NULL, "t", instance);
    return duro__sq_end_write(&s->pool, c, rc < 0 ? rc : 0, 0, NULL);
}

int duro__sq_max_attempt_count(duro_sqlite *s, const char *instance, uint32_t *out)
{
    duro__sq_conn *c;
    int64_t v = 0;
    int rc;

    *out = 0;
    rc = duro__sq_begin_read(&s->pool, &c, NULL);
    if (rc != 0)
        return rc;
    rc = duro__sq_int(c, SQL_MAX_ATTEMPTS, 0, &v, NULL, "t", instance);
    duro__sq_end_read(&s->pool, c);
    if (rc < 0)
        return rc;
    *out = v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return 0;
}

int duro__sq_integrity(duro_sqlite *s, char *msg, size_t msg_size)
{
    duro__sq_conn *c;
    sqlite3_stmt *st;
    duro_error err = { 0, 0, "" };
    int rc;

    if (msg != NULL && msg_size > 0)
        msg[0] = '\0';
    rc = duro__sq_begin_read(&s->pool, &c, &err);
    if (rc == 0) {
        rc = duro__sq_query(c, SQL_INTEGRITY, &st, &err, "");
        if (rc == 0) {
            rc = duro__sq_step(c, st, &err);
            if (rc == 1) {
                const char *res = (const char *)sqlite3_column_text(st, 0);
                rc = res != NULL && strcmp(res, "ok") == 0 ? 0 : DURO_ECORRUPT;
                if (rc != 0)
                    snprintf(err.message, sizeof(err.message), "integrity_check: %s",
                             res != NULL ? res : "(no result)");
            } else if (rc == 0) {
                rc = duro_error_set(&err, DURO_ECORRUPT, 0, "integrity_check returned nothing");
            }
            duro__sq_reset(st);
        }
        duro__sq_end_read(&s->pool, c);
    }
    if (rc != 0 && msg != NULL && msg_size > 0)
        snprintf(msg, msg_size, "%s", err.message);
    return rc;
}
