/*
 * queue.c — inserts into the two queues and the instance-lock read that the orchestrator
 * and work queues share (see queue.h).
 */
#include "queue.h"

static const char SQL_INSERT_MSG[] =
    "INSERT INTO orch_queue (instance_id, kind, execution_id, payload, visible_at,"
    " target_name, target_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/* A new work item is visible at once, whatever the clock reads (negative times included). */
static const char SQL_INSERT_WORK[] =
    "INSERT INTO work_queue (instance_id, execution_id, activity_id, payload, visible_at, tag,"
    " session) VALUES (?1, ?2, ?3, ?4, -9223372036854775808, ?5, ?6)";
static const char SQL_LOCKED[] =
    "SELECT 1 FROM instance_locks WHERE instance_id = ?1 AND locked_until > ?2";

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

int duro__sq_insert_work_routed(duro__sq_conn *c, const duro_work_in *work, const char *tag,
                                const char *session, duro_error *err)
{
    int rc = duro_provider_check_work(work, err);

    if (rc == 0)
        rc = duro_provider_check_tag(tag, err);
    if (rc == 0)
        rc = duro_provider_check_session(session, err);
    if (rc == 0 && tag != NULL && session != NULL)
        rc = duro_error_set(err, DURO_EINVAL, 0, "a work item in a session has no tag");
    if (rc == 0)
        rc = duro__sq_exec(c, SQL_INSERT_WORK, err, "tuuttt", work->instance,
                           work->execution_id, work->activity_id, work->payload, tag, session);
    return rc < 0 ? rc : 0;
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

int duro__sq_instance_locked(duro__sq_conn *c, const char *instance, int64_t now_ms,
                             duro_error *err)
{
    int64_t locked;
    int rc = duro__sq_int(c, SQL_LOCKED, 0, &locked, err, "ti", instance, now_ms);

    return rc < 0 ? rc : locked == 1;
}
