/*
 * queue.c — inserts into the two queues and the instance-lock read that the orchestrator
 * and work queues share (see queue.h).
 */
#include "queue.h"

static const char SQL_INSERT_MSG[] =
    "INSERT INTO orch_queue (instance_id, kind, execution_id, payload, visible_at,"
    " target_name, target_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/* Up to WORK_ROWS new work items in one statement, in row order (so in id order), each
 * visible at once whatever the clock reads (negative times included); rows left unbound
 * (instance NULL) are skipped. */
#define WORK_ROWS 8
static const char SQL_INSERT_WORK[] =
    "INSERT INTO work_queue (instance_id, execution_id, activity_id, payload, visible_at, tag,"
    " session) SELECT column1, column2, column3, column4, -9223372036854775808, column5,"
    " column6 FROM (VALUES"
    " (?1, ?2, ?3, ?4, ?5, ?6),"
    " (?7, ?8, ?9, ?10, ?11, ?12),"
    " (?13, ?14, ?15, ?16, ?17, ?18),"
    " (?19, ?20, ?21, ?22, ?23, ?24),"
    " (?25, ?26, ?27, ?28, ?29, ?30),"
    " (?31, ?32, ?33, ?34, ?35, ?36),"
    " (?37, ?38, ?39, ?40, ?41, ?42),"
    " (?43, ?44, ?45, ?46, ?47, ?48))"
    " WHERE column1 IS NOT NULL";
#define WORK_ROW_PARAMS 6
/* The same, answering whether the instance holds a live lock at ?8. */
static const char SQL_INSERT_MSG_LOCKED[] =
    "INSERT INTO orch_queue (instance_id, kind, execution_id, payload, visible_at,"
    " target_name, target_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    " RETURNING EXISTS (SELECT 1 FROM instance_locks l"
    "  WHERE l.instance_id = ?1 AND l.locked_until > ?8)";

int duro__sq_insert_msg(duro__sq_conn *c, const duro_msg *msg, const duro_orch_ref *target,
                        duro_error *err)
{
    int rc = duro_provider_check_msg(msg, err);
    int has = target != NULL && target->orch_name != NULL;

    if (rc == 0)
        rc = duro_provider_check_target(target, err);
    if (rc == 0)
        rc = duro__sq_exec(c, SQL_INSERT_MSG, err, "tdutitt", msg->instance, (int)msg->kind,
                           msg->execution_id, msg->payload, msg->visible_at_ms,
                           has ? target->orch_name : NULL, has ? target->orch_version : NULL);
    return rc < 0 ? rc : 0;
}

/* Check one work item of a commit, as duro__sq_insert_works states. */
static int check_routed(const duro_work_in *work, const char *tag, const char *session,
                        duro_error *err)
{
    int rc = duro_provider_check_work(work, err);

    if (rc == 0)
        rc = duro_provider_check_tag(tag, err);
    if (rc == 0)
        rc = duro_provider_check_session(session, err);
    if (rc == 0 && tag != NULL && session != NULL)
        rc = duro_error_set(err, DURO_EINVAL, 0, "a work item in a session has no tag");
    return rc;
}

int duro__sq_insert_works(duro__sq_conn *c, size_t n, const duro_work_in *work,
                          const char *const *tags, const char *const *sessions,
                          duro_error *err)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = check_routed(&work[i], tags != NULL ? tags[i] : NULL,
                          sessions != NULL ? sessions[i] : NULL, err);
    for (size_t first = 0; rc == 0 && first < n; first += WORK_ROWS) {
        sqlite3_stmt *st;

        rc = duro__sq_query(c, SQL_INSERT_WORK, &st, err, "");
        if (rc != 0)
            break;
        for (size_t i = first; rc == 0 && i < n && i < first + WORK_ROWS; i++)
            rc = duro__sq_bind_from(c, st, 1 + (int)(i - first) * WORK_ROW_PARAMS, err,
                                    "tuuttt", work[i].instance, work[i].execution_id,
                                    work[i].activity_id, work[i].payload,
                                    tags != NULL ? tags[i] : NULL,
                                    sessions != NULL ? sessions[i] : NULL);
        if (rc == 0)
            rc = duro__sq_step(c, st, err);
        duro__sq_reset(st);
    }
    return rc < 0 ? rc : 0;
}

int duro__sq_insert_work_routed(duro__sq_conn *c, const duro_work_in *work, const char *tag,
                                const char *session, duro_error *err)
{
    return duro__sq_insert_works(c, 1, work, &tag, &session, err);
}

int duro__sq_insert_work_tagged(duro__sq_conn *c, const duro_work_in *work, const char *tag,
                                duro_error *err)
{
    return duro__sq_insert_work_routed(c, work, tag, NULL, err);
}

int duro__sq_insert_work(duro__sq_conn *c, const duro_work_in *work, duro_error *err)
{
    return duro__sq_insert_work_tagged(c, work, NULL, err);
}

int duro__sq_insert_msg_locked(duro__sq_conn *c, const duro_msg *msg, int64_t now_ms,
                               duro_error *err)
{
    int64_t locked;
    int rc = duro_provider_check_msg(msg, err);

    if (rc == 0)
        rc = duro__sq_int(c, SQL_INSERT_MSG_LOCKED, 0, &locked, err, "tdutitti", msg->instance,
                          (int)msg->kind, msg->execution_id, msg->payload, msg->visible_at_ms,
                          NULL, NULL, now_ms);
    return rc < 0 ? rc : locked == 1;
}
