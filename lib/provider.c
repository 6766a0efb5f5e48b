/*
 * provider.c — the shared layer of the provider contract: checking a provider's versioned
 * vtable and reading its later members, the argument validation every provider calls,
 * freeing what providers return, and destroying a provider through its vtable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duro-provider.h"

void duro_events_free(duro_event *events, size_t n)
{
    size_t i;
    if (!events)
        return;
    for (i = 0; i < n; i++)
        free(events[i].payload);
    free(events);
}

void duro_kv_entries_free(duro_kv_entry *entries, size_t n)
{
    if (!entries)
        return;
    for (size_t i = 0; i < n; i++) {
        free(entries[i].key);
        free(entries[i].value);
    }
    free(entries);
}

void duro_instance_summaries_free(duro_instance_summary *v, size_t n)
{
    size_t i;
    if (!v)
        return;
    for (i = 0; i < n; i++) {
        free(v[i].instance);
        free(v[i].orch_name);
        free(v[i].orch_version);
        free(v[i].parent_instance);
    }
    free(v);
}

void duro_orch_item_free(duro_orch_item *item)
{
    size_t i;
    if (!item)
        return;
    free(item->instance);
    free(item->orch_name);
    free(item->orch_version);
    free(item->custom_status);
    for (i = 0; i < item->n_msgs; i++)
        free(item->msgs[i].payload);
    free(item->msgs);
    duro_events_free(item->history, item->n_history);
    free(item->history_error);
    free(item);
}

void duro_work_item_free(duro_work_item *item)
{
    if (!item)
        return;
    free(item->instance);
    free(item->payload);
    free(item);
}

void duro_tag_depths_free(duro_tag_depth *rows, size_t n)
{
    if (!rows)
        return;
    for (size_t i = 0; i < n; i++)
        free(rows[i].tag);
    free(rows);
}

void duro_instance_info_clear(duro_instance_info *info)
{
    if (!info)
        return;
    free(info->instance);
    free(info->orch_name);
    free(info->orch_version);
    free(info->parent_instance);
    free(info->output);
    free(info->custom_status);
    info->instance = info->orch_name = info->orch_version = NULL;
    info->parent_instance = info->output = info->custom_status = NULL;
}

void duro_execution_info_clear(duro_execution_info *info)
{
    if (!info)
        return;
    free(info->output);
    info->output = NULL;
}

void duro_strv_free(char **v, size_t n)
{
    size_t i;
    if (!v)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void duro_provider_destroy(duro_provider *p)
{
    if (p && p->ops && p->ops->destroy)
        p->ops->destroy(p);
}

int duro_provider_has_version(const duro_provider *p, int version)
{
    return p != NULL && p->ops != NULL && p->ops->version >= version;
}

int duro_provider_has_tags(const duro_provider *p)
{
    return duro_provider_has_version(p, DURO_PROVIDER_OPS_V4) && (p->caps & DURO_CAP_TAGS) &&
           p->ops->enqueue_work_tagged && p->ops->fetch_work_filtered &&
           p->ops->queue_depths_by_tag;
}

int duro_provider_has_sessions(const duro_provider *p)
{
    return duro_provider_has_version(p, DURO_PROVIDER_OPS_V6) && (p->caps & DURO_CAP_SESSIONS) &&
           p->ops->fetch_work_session && p->ops->renew_sessions;
}

/* The name of the first required callback of `o` that is NULL, or NULL when all are set.
 * Members of a later version than `o`'s are not read. */
static const char *missing_callback(const duro_provider_ops *o, unsigned caps)
{
#define DURO__NEED(member)                                                                    \
    do {                                                                                      \
        if (o->member == NULL)                                                                \
            return #member;                                                                   \
    } while (0)
    DURO__NEED(destroy);
    DURO__NEED(enqueue_orch);
    DURO__NEED(fetch_orch);
    DURO__NEED(ack_orch);
    DURO__NEED(abandon_orch);
    DURO__NEED(renew_orch);
    DURO__NEED(enqueue_work);
    DURO__NEED(fetch_work);
    DURO__NEED(ack_work);
    DURO__NEED(abandon_work);
    DURO__NEED(renew_work);
    DURO__NEED(read_history);
    DURO__NEED(instance_info);
    if (caps & DURO_CAP_LONG_POLL)
        DURO__NEED(interrupt);
    if (caps & DURO_CAP_NOTIFY) {
        DURO__NEED(commit_seq);
        DURO__NEED(wait_commit);
    }
    if (caps & DURO_CAP_MANAGEMENT) {
        DURO__NEED(list_instances);
        DURO__NEED(list_executions);
        DURO__NEED(execution_info);
        DURO__NEED(list_children);
        DURO__NEED(delete_instance);
        DURO__NEED(delete_bulk);
        DURO__NEED(prune);
        DURO__NEED(queue_depths);
        DURO__NEED(metrics);
        if (o->version >= DURO_PROVIDER_OPS_V3)
            DURO__NEED(query_instances);
    }
    /* DURO_CAP_TAGS on older ops is ignored (duro_provider_has_tags says 0): the bit is
     * read only with the members it needs */
    if ((caps & DURO_CAP_TAGS) && o->version >= DURO_PROVIDER_OPS_V4) {
        DURO__NEED(enqueue_work_tagged);
        DURO__NEED(fetch_work_filtered);
        DURO__NEED(queue_depths_by_tag);
    }
    if ((caps & DURO_CAP_KV) && o->version >= DURO_PROVIDER_OPS_V5) {
        DURO__NEED(get_value);
        DURO__NEED(list_values);
    }
    if ((caps & DURO_CAP_SESSIONS) && o->version >= DURO_PROVIDER_OPS_V6) {
        DURO__NEED(fetch_work_session);
        DURO__NEED(renew_sessions);
    }
    if ((caps & DURO_CAP_VERSION_FILTER) && o->version >= DURO_PROVIDER_OPS_V7) {
        DURO__NEED(enqueue_orch_start);
        DURO__NEED(fetch_orch_filtered);
    }
#undef DURO__NEED
    return NULL;
}

int duro_provider_check(const duro_provider *p, duro_error *err)
{
    const char *missing;

    if (p == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "provider is required");
    if (p->ops == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "provider has no ops table");
    if (p->ops->version < DURO_PROVIDER_OPS_V1)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "provider ops version %d is invalid (set .version = "
                              "DURO_PROVIDER_OPS_VERSION)",
                              p->ops->version);
    if (p->name == NULL || p->name[0] == '\0')
        return duro_error_set(err, DURO_EINVAL, 0, "provider has no name");
    missing = missing_callback(p->ops, p->caps);
    if (missing != NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "provider '%s' lacks the %s callback",
                              p->name, missing);
    return 0;
}

int duro_provider_integrity_check(duro_provider *p, char *msg, size_t msg_size)
{
    if (!duro_provider_has_version(p, DURO_PROVIDER_OPS_V2) || p->ops->integrity_check == NULL) {
        if (msg_size > 0)
            snprintf(msg, msg_size, "the provider has no integrity check");
        return DURO_ENOTSUP;
    }
    return p->ops->integrity_check(p, msg, msg_size);
}

int duro_provider_check_id(const char *s, const char *what, duro_error *err)
{
    if (s == NULL || s[0] == '\0')
        return duro_error_set(err, DURO_EINVAL, 0, "%s is required", what);
    return 0;
}

/* An id a commit or an enqueue stores (NULL allowed where optional): at most
 * DURO_MAX_ID_BYTES, else DURO_ETOOBIG. */
static int check_id_size(const char *s, const char *what, duro_error *err)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n > DURO_MAX_ID_BYTES)
        return duro_error_set(err, DURO_ETOOBIG, 0, "%s is %zu bytes (limit %d)", what, n,
                              DURO_MAX_ID_BYTES);
    return 0;
}

int duro_provider_check_msg(const duro_msg *msg, duro_error *err)
{
    int rc;

    if (msg == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "message is required");
    if ((int)msg->kind <= 0)
        return duro_error_set(err, DURO_EINVAL, 0, "invalid message kind %d", (int)msg->kind);
    rc = duro_provider_check_id(msg->instance, "message instance id", err);
    return rc != 0 ? rc : check_id_size(msg->instance, "message instance id", err);
}

int duro_provider_check_work(const duro_work_in *work, duro_error *err)
{
    int rc;

    if (work == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "work item is required");
    rc = duro_provider_check_id(work->instance, "work item instance id", err);
    return rc != 0 ? rc : check_id_size(work->instance, "work item instance id", err);
}

int duro_provider_check_kv_key(const char *key, duro_error *err)
{
    int rc = duro_provider_check_id(key, "durable value key", err);

    return rc != 0 ? rc : check_id_size(key, "durable value key", err);
}

/* Durable value changes: a known op, a valid key for SET and CLEAR, a bounded value for SET. */
static int check_kv(const duro_orch_commit *cm, duro_error *err)
{
    for (size_t i = 0; i < cm->n_kv; i++) {
        const duro_kv_change *k = &cm->kv[i];
        size_t n;
        int rc;

        if (k->op == DURO_KV_CLEAR_ALL)
            continue;
        if (k->op != DURO_KV_SET && k->op != DURO_KV_CLEAR)
            return duro_error_set(err, DURO_EINVAL, 0, "ack_orch: kv change %zu has op %d",
                                  i, (int)k->op);
        if ((rc = duro_provider_check_kv_key(k->key, err)) != 0)
            return rc;
        if (k->op == DURO_KV_CLEAR)
            continue;
        if (k->value == NULL)
            return duro_error_set(err, DURO_EINVAL, 0,
                                  "ack_orch: kv change %zu sets \"%s\" to NULL", i, k->key);
        n = strlen(k->value);
        if (n > DURO_MAX_VALUE_BYTES)
            return duro_error_set(err, DURO_ETOOBIG, 0,
                                  "ack_orch: value of \"%s\" is %zu bytes (limit %u)", k->key,
                                  n, DURO_MAX_VALUE_BYTES);
    }
    return 0;
}

/* Event ids: not 0, a payload each, strictly increasing within the commit. */
static int check_events(const duro_orch_commit *cm, duro_error *err)
{
    for (size_t i = 0; i < cm->n_events; i++) {
        uint64_t id = cm->events[i].event_id;
        if (id == 0)
            return duro_error_set(err, DURO_ECONSTRAINT, 0, "ack_orch: event id 0 is invalid");
        if (cm->events[i].payload == NULL)
            return duro_error_set(err, DURO_EINVAL, 0, "ack_orch: event %llu has no payload",
                                  (unsigned long long)id);
        if (i > 0 && id <= cm->events[i - 1].event_id)
            return duro_error_set(err, DURO_ECONSTRAINT, 0,
                                  "ack_orch: event id %llu follows %llu (ids must increase:"
                                  " duplicate or out of order)", (unsigned long long)id,
                                  (unsigned long long)cm->events[i - 1].event_id);
    }
    return 0;
}

int duro_provider_check_commit(const duro_orch_commit *cm, duro_error *err)
{
    int rc;

    if (cm == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "ack_orch: commit is required");
    if (cm->execution_id == 0)
        return duro_error_set(err, DURO_EINVAL, 0, "ack_orch: execution id 0 is invalid");
    if ((cm->n_events && cm->events == NULL) || (cm->n_work && cm->work == NULL) ||
        (cm->n_cancel && cm->cancel == NULL) || (cm->n_msgs && cm->msgs == NULL) ||
        (cm->n_kv && cm->kv == NULL))
        return duro_error_set(err, DURO_EINVAL, 0, "ack_orch: array missing for a count");
    if ((int)cm->state < 0 || (int)cm->state > DURO_STATE_CONTINUED_AS_NEW)
        return duro_error_set(err, DURO_EINVAL, 0, "ack_orch: invalid state %d",
                              (int)cm->state);
    rc = check_id_size(cm->orch_name, "ack_orch: orch_name", err);
    if (rc == 0)
        rc = check_id_size(cm->orch_version, "ack_orch: orch_version", err);
    if (rc == 0)
        rc = check_id_size(cm->parent_instance, "ack_orch: parent_instance", err);
    if (rc == 0)
        rc = check_events(cm, err);
    for (size_t i = 0; rc == 0 && i < cm->n_work; i++) {
        rc = duro_provider_check_work(&cm->work[i], err);
        if (rc == 0 && cm->work_tags != NULL)
            rc = duro_provider_check_tag(cm->work_tags[i], err);
        if (rc == 0 && cm->work_sessions != NULL)
            rc = duro_provider_check_session(cm->work_sessions[i], err);
        if (rc == 0 && cm->work_sessions != NULL && cm->work_sessions[i] != NULL &&
            cm->work_tags != NULL && cm->work_tags[i] != NULL)
            rc = duro_error_set(err, DURO_EINVAL, 0,
                                "ack_orch: work item %zu has both a tag and a session", i);
    }
    for (size_t i = 0; rc == 0 && i < cm->n_msgs; i++)
        rc = duro_provider_check_msg(&cm->msgs[i], err);
    if (rc == 0)
        rc = check_kv(cm, err);
    for (size_t i = 0; rc == 0 && cm->msg_targets && i < cm->n_msgs; i++)
        rc = duro_provider_check_target(&cm->msg_targets[i], err);
    return rc;
}

/* One name or version of a filter ref: non-NULL, non-empty, at most DURO_MAX_ID_BYTES. */
static int check_ref_part(const char *s, size_t i, const char *what, duro_error *err)
{
    if (s == NULL || *s == '\0')
        return duro_error_set(err, DURO_EINVAL, 0, "version filter: ref %zu has no %s", i,
                              what);
    if (strlen(s) > DURO_MAX_ID_BYTES)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "version filter: the %s of ref %zu is longer than %d bytes", what,
                              i, DURO_MAX_ID_BYTES);
    return 0;
}

int duro_provider_check_version_filter(const duro_version_filter *f, duro_error *err)
{
    int rc = 0;

    if (f == NULL)
        return 0;
    if (f->n > 0 && f->refs == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "version filter: refs missing for a count");
    for (size_t i = 0; rc == 0 && i < f->n; i++) {
        rc = check_ref_part(f->refs[i].orch_name, i, "name", err);
        if (rc == 0)
            rc = check_ref_part(f->refs[i].orch_version, i, "version", err);
    }
    return rc;
}

int duro_provider_check_target(const duro_orch_ref *target, duro_error *err)
{
    int rc;

    if (target == NULL || target->orch_name == NULL)
        return 0;
    if (*target->orch_name == '\0')
        return duro_error_set(err, DURO_EINVAL, 0, "message target: empty orchestration name");
    rc = check_id_size(target->orch_name, "message target: orch_name", err);
    if (rc == 0)
        rc = check_id_size(target->orch_version, "message target: orch_version", err);
    return rc;
}

int duro_provider_check_tag(const char *tag, duro_error *err)
{
    if (tag == NULL)
        return 0;
    if (tag[0] == '\0')
        return duro_error_set(err, DURO_EINVAL, 0, "work tag is empty (NULL means untagged)");
    return check_id_size(tag, "work tag", err);
}

int duro_provider_check_session(const char *session, duro_error *err)
{
    if (session == NULL)
        return 0;
    if (session[0] == '\0')
        return duro_error_set(err, DURO_EINVAL, 0, "session id is empty (NULL means none)");
    return check_id_size(session, "session id", err);
}

int duro_provider_check_worker_id(const char *worker_id, const char *what, duro_error *err)
{
    int rc = duro_provider_check_id(worker_id, what, err);

    return rc != 0 ? rc : check_id_size(worker_id, what, err);
}

int duro_provider_check_session_fetch(duro_work_item **out, int64_t lock_ms, int64_t lease_ms,
                                      const duro_work_filter *filter, const char *worker_id,
                                      duro_error *err)
{
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_work_session: out is required");
    *out = NULL;
    rc = duro_provider_check_lock_ms(lock_ms, "fetch_work_session: lock_ms", err);
    if (rc == 0)
        rc = duro_provider_check_lock_ms(lease_ms, "fetch_work_session: lease_ms", err);
    if (rc == 0)
        rc = duro_provider_check_work_filter(filter, err);
    if (rc == 0)
        rc = duro_provider_check_worker_id(worker_id, "fetch_work_session: worker_id", err);
    return rc;
}

int duro_provider_delete_rowless(const char *instance, uint64_t queued, int locked, int force,
                                 duro_error *err)
{
    if (queued == 0)
        return duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s not found", instance);
    if (locked && !force)
        return duro_error_set(err, DURO_ERUNNING, 0,
                              "instance %s is starting (a runtime holds its lock); delete with"
                              " force to remove it", instance);
    return 0;
}

int duro_provider_check_work_filter(const duro_work_filter *f, duro_error *err)
{
    if (f == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_work_filtered: filter is required");
    if (f->n_tags > DURO_MAX_FILTER_TAGS)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "fetch_work_filtered: %zu tags (limit %d)", f->n_tags,
                              DURO_MAX_FILTER_TAGS);
    if (f->n_tags > 0 && f->tags == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_work_filtered: tags array missing");
    if (f->any_tag && f->n_tags > 0)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "fetch_work_filtered: any_tag with a tag list (give one)");
    if (!f->untagged && !f->any_tag && f->n_tags == 0)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_work_filtered: filter accepts nothing");
    for (size_t i = 0; i < f->n_tags; i++) {
        int rc;
        if (f->tags[i] == NULL)
            return duro_error_set(err, DURO_EINVAL, 0, "fetch_work_filtered: tag %zu is NULL", i);
        if ((rc = duro_provider_check_tag(f->tags[i], err)) != 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(f->tags[i], f->tags[j]) == 0)
                return duro_error_set(err, DURO_EINVAL, 0,
                                      "fetch_work_filtered: tag \"%s\" listed twice", f->tags[i]);
    }
    return 0;
}

/* One pair of time bounds of a query (0 = no bound): from < before when both are set. */
static int check_range(int64_t from, int64_t before, const char *what, duro_error *err)
{
    if (from != 0 && before != 0 && from >= before)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "query_instances: %s_from_ms %lld is not before %s_before_ms %lld",
                              what, (long long)from, what, (long long)before);
    return 0;
}

int duro_provider_check_query(const duro_instance_query *q, duro_error *err)
{
    int rc;

    if (q == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "query_instances: query is required");
    if (q->limit == 0)
        return duro_error_set(err, DURO_EINVAL, 0, "query_instances: limit must be >= 1");
    if ((int)q->state < 0 || (int)q->state > DURO_STATE_CONTINUED_AS_NEW)
        return duro_error_set(err, DURO_EINVAL, 0, "query_instances: invalid state %d",
                              (int)q->state);
    if (q->after_instance != NULL && q->after_instance[0] == '\0')
        return duro_error_set(err, DURO_EINVAL, 0,
                              "query_instances: after_instance is empty (NULL starts at the "
                              "newest)");
    rc = check_range(q->created_from_ms, q->created_before_ms, "created", err);
    return rc != 0 ? rc : check_range(q->completed_from_ms, q->completed_before_ms, "completed",
                                      err);
}

int duro_provider_check_lock_ms(int64_t ms, const char *what, duro_error *err)
{
    if (ms <= 0)
        return duro_error_set(err, DURO_EINVAL, 0, "%s must be > 0 (got %lld)", what,
                              (long long)ms);
    return 0;
}
