/*
 * queue.c — inserts into the two queues, the instance-lock helpers and the string lists the
 * callback files share (see queue.h).
 */
#include "queue.h"

#include <stdlib.h>
#include <string.h>

static const char SQL_INSERT_MSG[] =
    "INSERT INTO orch_queue (instance_id, kind, execution_id, payload, visible_at,"
    " target_name, target_version)"
    " VALUES ($1::text, $2::int, $3::bigint, $4::bytea, $5::bigint, $6::text, $7::text)";
/* A new work item is visible at once, whatever the clock reads (negative times and INT64_MIN
 * included): its visible_at is the smallest BIGINT, bound as $5. */
static const char SQL_INSERT_WORK[] =
    "INSERT INTO work_queue (instance_id, execution_id, activity_id, payload, visible_at, tag,"
    " session) VALUES ($1::text, $2::bigint, $3::bigint, $4::bytea, $5::bigint, $6::text,"
    " $7::text)";
/* the first key is the schema's (search_path), the second the instance's; a fetch tries the
 * same lock inside its candidate query (orch.c) */
static const char SQL_ADVISORY[] =
    "SELECT pg_advisory_xact_lock(hashtext(current_setting('search_path')), hashtext($1::text))";

int duro__pg_insert_msg(duro__pg_conn *c, const duro_msg *msg, const duro_orch_ref *target,
                        duro_error *err)
{
    int rc = duro_provider_check_msg(msg, err);
    int has = target != NULL && target->orch_name != NULL;

    if (rc == 0)
        rc = duro_provider_check_target(target, err);
    if (rc == 0)
        rc = duro__pg_exec(c, SQL_INSERT_MSG, err, "tdubitt", msg->instance, (int)msg->kind,
                           msg->execution_id, msg->payload, msg->visible_at_ms,
                           has ? target->orch_name : NULL, has ? target->orch_version : NULL);
    return rc < 0 ? rc : 0;
}

int duro__pg_insert_work_routed(duro__pg_conn *c, const duro_work_in *work, const char *tag,
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
        rc = duro__pg_exec(c, SQL_INSERT_WORK, err, "tuubitt", work->instance,
                           work->execution_id, work->activity_id, work->payload, INT64_MIN, tag,
                           session);
    return rc < 0 ? rc : 0;
}

int duro__pg_insert_work_tagged(duro__pg_conn *c, const duro_work_in *work, const char *tag,
                                duro_error *err)
{
    return duro__pg_insert_work_routed(c, work, tag, NULL, err);
}

int duro__pg_insert_work(duro__pg_conn *c, const duro_work_in *work, duro_error *err)
{
    return duro__pg_insert_work_tagged(c, work, NULL, err);
}

int duro__pg_lock_instance(duro__pg_conn *c, const char *instance, duro_error *err)
{
    int rc = duro__pg_exec(c, SQL_ADVISORY, err, "t", instance);

    return rc < 0 ? rc : 0;
}

int duro__pg_strv_push(duro__pg_strv *sv, const char *s, duro_error *err)
{
    if (sv->n == sv->cap) {
        size_t ncap = sv->cap ? sv->cap * 2 : 16;
        char **nv = realloc(sv->v, ncap * sizeof(*nv));
        if (nv == NULL)
            return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (id list)");
        sv->v = nv;
        sv->cap = ncap;
    }
    if ((sv->v[sv->n] = strdup(s)) == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (id list)");
    sv->n++;
    return 0;
}

int duro__pg_strv_has(const duro__pg_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++) {
        if (strcmp(sv->v[i], s) == 0)
            return 1;
    }
    return 0;
}

char *duro__pg_array_literal(const duro__pg_strv *sv)
{
    size_t len = 3;
    char *out, *p;

    for (size_t i = 0; i < sv->n; i++)
        len += 2 * strlen(sv->v[i]) + 3;
    out = malloc(len);
    if (out == NULL)
        return NULL;
    p = out;
    *p++ = '{';
    for (size_t i = 0; i < sv->n; i++) {
        if (i > 0)
            *p++ = ',';
        *p++ = '"';
        for (const char *s = sv->v[i]; *s != '\0'; s++) {
            if (*s == '"' || *s == '\\')
                *p++ = '\\';
            *p++ = *s;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return out;
}
