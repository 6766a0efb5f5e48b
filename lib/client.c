/*
 * client.c — the client API: start instances, raise events, cancel, read status and
 * history, and wait for completion. A client only enqueues messages and reads metadata; the
 * runtime does the rest. The management calls of the client are in manage.c. Waiting is event-driven when the provider can notify commits
 * (DURO_CAP_NOTIFY), else a short backoff poll.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "internal.h"

int duro_client_new(duro_provider *provider, duro_client **out, duro_error *err)
{
    duro_client *c;
    int rc;
    if (!out)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_client_new: out is required");
    *out = NULL;
    rc = duro_provider_check(provider, err);
    if (rc)
        return rc;
    c = calloc(1, sizeof *c);
    if (!c)
        return duro_error_set(err, DURO_ENOMEM, 0, "duro_client_new: out of memory");
    c->p = provider;
    *out = c;
    return 0;
}

void duro_client_free(duro_client *c)
{
    free(c);
}

void duro_status_clear(duro_status *st)
{
    if (!st)
        return;
    free(st->orch_name);
    free(st->orch_version);
    free(st->output);
    free(st->error);
    free(st->custom_status);
    memset(st, 0, sizeof *st);
}

const char *duro_state_name(int state)
{
    switch (state) {
    case DURO_STATE_NOT_FOUND: return "NotFound";
    case DURO_STATE_RUNNING: return "Running";
    case DURO_STATE_COMPLETED: return "Completed";
    case DURO_STATE_FAILED: return "Failed";
    case DURO_STATE_CONTINUED_AS_NEW: return "ContinuedAsNew";
    case DURO_STATE_TERMINATED: return "Terminated";
    case DURO_STATE_SUSPENDED: return "Suspended";
    case DURO_STATE_SCHEDULED: return "Scheduled";
    default: return "Unknown";
    }
}

const char *duro_category_name(int category)
{
    switch (category) {
    case DURO_CAT_INFRASTRUCTURE: return "infrastructure";
    case DURO_CAT_CONFIGURATION: return "configuration";
    case DURO_CAT_APPLICATION: return "application";
    case DURO_CAT_POISON: return "poison";
    default: return "none";
    }
}

/* Enqueue one encoded message for `instance`, due at once. */
static int send_text(duro_client *c, const char *instance, int kind, const char *text,
                     duro_error *err)
{
    duro_msg m;
    m.instance = instance;
    m.kind = kind;
    m.execution_id = 0;
    m.visible_at_ms = 0; /* at once */
    m.payload = text;
    return c->p->ops->enqueue_orch(c->p, &m, err);
}

/* Encode `payload` (taken; NULL means out of memory) into a malloc'ed *text. */
static int encode(json_t *payload, char **text, duro_error *err)
{
    /* due now, as the last member (the runtime's queue-wait metric reads it from the end) */
    *text = payload && duro__rec_int(payload, "due", duro_clock_now_ms()) == 0
                ? duro__json_text(payload)
                : NULL;
    json_decref(payload);
    return *text ? 0 : duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
}

/* Encode and enqueue one message for `instance`. */
static int send(duro_client *c, const char *instance, int kind, json_t *payload, duro_error *err)
{
    char *text;
    int rc = encode(payload, &text, err);
    if (rc)
        return rc;
    rc = send_text(c, instance, kind, text, err);
    free(text);
    return rc;
}

/* Add string fields; reports invalid UTF-8 by field name. */
static int put(json_t *j, const char *key, const char *value, duro_error *err)
{
    int rc = duro__rec_str(j, key, value);
    if (rc == DURO_EINVAL)
        return duro_error_set(err, rc, 0, "%s is not valid UTF-8", key);
    if (rc)
        return duro_error_set(err, rc, 0, "out of memory");
    return 0;
}

void duro_start_options_init(duro_start_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->size = sizeof *opt;
}

/* What `reuse` says to do before sending the start of `instance`: 0 to send it, 1 to send
 * nothing and succeed (IGNORE of an existing id), or an error. REPLACE_ENDED deletes an
 * ended instance's tree here. */
static int apply_reuse(duro_client *c, const char *instance, duro_reuse_policy reuse,
                       duro_error *err)
{
    static const char call[] = "duro_client_start_with";
    duro_status st;
    int rc, state;
    if (reuse == DURO_REUSE_DEFAULT)
        return 0;
    if (reuse == DURO_REUSE_REPLACE_ENDED && !(c->p->caps & DURO_CAP_MANAGEMENT))
        return duro_error_set(err, DURO_ENOTSUP, 0,
                              "%s: DURO_REUSE_REPLACE_ENDED needs a provider with "
                              "DURO_CAP_MANAGEMENT (provider %s has not)",
                              call, c->p->name);
    if ((rc = duro_client_status(c, instance, &st, err)))
        return rc;
    state = st.state;
    duro_status_clear(&st);
    if (state == DURO_STATE_NOT_FOUND)
        return 0;
    switch (reuse) {
    case DURO_REUSE_REJECT:
        return duro_error_set(err, DURO_EEXIST, 0, "%s: instance \"%s\" exists (%s)", call,
                              instance, duro_state_name(state));
    case DURO_REUSE_IGNORE:
        return 1;
    default: /* DURO_REUSE_REPLACE_ENDED */
        if (state != DURO_STATE_COMPLETED && state != DURO_STATE_FAILED &&
            state != DURO_STATE_TERMINATED)
            return duro_error_set(err, DURO_ERUNNING, 0,
                                  "%s: instance \"%s\" is %s: only an ended instance is "
                                  "replaced",
                                  call, instance, duro_state_name(state));
        return duro_client_delete(c, instance, 0, NULL, err);
    }
}

int duro_client_start_with(duro_client *c, const char *instance, const char *name,
                           const char *input, const duro_start_options *opt, duro_error *err)
{
    duro_start_options o;
    json_t *j;
    char *text;
    int rc;
    if (!c)
        return duro_error_set(err, DURO_EINVAL, 0, "client is NULL");
    duro_start_options_init(&o);
    if (opt) {
        if (opt->size == 0)
            return duro_error_set(err, DURO_EINVAL, 0,
                                  "duro_client_start_with: options not initialised: call "
                                  "duro_start_options_init");
        memcpy(&o, opt, opt->size < sizeof o ? opt->size : sizeof o);
        o.size = sizeof o;
    }
    if ((rc = duro__check_id(instance, "instance id", err)) ||
        (rc = duro__check_id(name, "orchestration name", err)) ||
        (rc = duro__check_payload(input, "input", err)))
        return rc;
    if (o.version && duro__version_key(o.version) < 0)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "version \"%s\" is not MAJOR.MINOR.PATCH", o.version);
    if ((int)o.reuse < DURO_REUSE_DEFAULT || (int)o.reuse > DURO_REUSE_REPLACE_ENDED)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_client_start_with: reuse %d is not a duro_reuse_policy",
                              (int)o.reuse);
    j = duro__rec_new();
    if (!j)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
    if ((rc = put(j, "name", name, err)) || (rc = put(j, "version", o.version, err)) ||
        (rc = put(j, "input", input ? input : "", err))) {
        json_decref(j);
        return rc;
    }
    /* a time not ahead of this client's clock starts at once, as without it */
    if (o.start_at_ms > duro_clock_now_ms() && duro__rec_int(j, "at", o.start_at_ms)) {
        json_decref(j);
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
    }
    /* encoded before a replacement deletes anything */
    if ((rc = encode(j, &text, err)))
        return rc;
    rc = apply_reuse(c, instance, o.reuse, err);
    if (rc == 0 && duro__provider_has_version_filter(c->p)) {
        /* the target routes the start to runtimes that have this version (any version of
         * the name when none is pinned) */
        char canon[DURO__VERSION_CANON_BYTES];
        duro_orch_ref target;
        duro_msg m = { instance, DURO_MSG_START, 0, 0, text };
        target.orch_name = name;
        target.orch_version = o.version ? duro__version_canon(o.version, canon) : NULL;
        rc = c->p->ops->enqueue_orch_start(c->p, &m, &target, err);
    } else if (rc == 0) {
        rc = send_text(c, instance, DURO_MSG_START, text, err);
    }
    free(text);
    return rc < 0 ? rc : 0;
}

int duro_client_start_version(duro_client *c, const char *instance, const char *name,
                              const char *version, const char *input, duro_error *err)
{
    duro_start_options o;
    duro_start_options_init(&o);
    o.version = version;
    return duro_client_start_with(c, instance, name, input, &o, err);
}

int duro_client_start(duro_client *c, const char *instance, const char *name, const char *input,
                      duro_error *err)
{
    return duro_client_start_version(c, instance, name, NULL, input, err);
}

int duro_client_raise_event(duro_client *c, const char *instance, const char *name,
                            const char *data, duro_error *err)
{
    json_t *j;
    int rc;
    if (!c)
        return duro_error_set(err, DURO_EINVAL, 0, "client is NULL");
    if ((rc = duro__check_id(instance, "instance id", err)) ||
        (rc = duro__check_id(name, "event name", err)) ||
        (rc = duro__check_payload(data, "event data", err)))
        return rc;
    j = duro__rec_new();
    if (!j)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
    if ((rc = put(j, "name", name, err)) || (rc = put(j, "text", data ? data : "", err))) {
        json_decref(j);
        return rc;
    }
    return send(c, instance, DURO_MSG_EVENT, j, err);
}

int duro_client_cancel(duro_client *c, const char *instance, const char *reason, duro_error *err)
{
    json_t *j;
    int rc;
    if (!c)
        return duro_error_set(err, DURO_EINVAL, 0, "client is NULL");
    if ((rc = duro__check_id(instance, "instance id", err)) ||
        (rc = duro__check_payload(reason, "reason", err)))
        return rc;
    j = duro__rec_new();
    if (!j)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
    if ((rc = put(j, "text", reason ? reason : "", err))) {
        json_decref(j);
        return rc;
    }
    return send(c, instance, DURO_MSG_CANCEL, j, err);
}

/* Send a lifecycle control `kind` with `reason` to `instance`, after checking that its
 * current state (as duro_client_status reports it) is one the control applies to: `allowed`
 * is a bit set of (1 << state). `call` names the call in messages. */
static int send_control(duro_client *c, const char *call, const char *instance, int kind,
                        unsigned allowed, const char *reason, duro_error *err)
{
    duro_status st;
    json_t *j;
    int rc;
    if (!c)
        return duro_error_set(err, DURO_EINVAL, 0, "%s: client is NULL", call);
    if ((rc = duro__check_id(instance, "instance id", err)) ||
        (rc = duro__check_payload(reason, "reason", err)))
        return rc;
    j = duro__rec_new();
    if (!j)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
    if ((rc = put(j, "text", reason ? reason : "", err)) ||
        (rc = duro_client_status(c, instance, &st, err))) {
        json_decref(j);
        return rc;
    }
    if (st.state == DURO_STATE_NOT_FOUND)
        rc = duro_error_set(err, DURO_ENOTFOUND, 0, "%s: instance \"%s\" does not exist", call,
                            instance);
    else if (!(allowed & (1u << st.state)))
        rc = duro_error_set(err, DURO_ESTATE, 0, "%s: instance \"%s\" is %s", call, instance,
                            duro_state_name(st.state));
    duro_status_clear(&st);
    if (rc) {
        json_decref(j);
        return rc;
    }
    return send(c, instance, kind, j, err);
}

/* States an instance can be suspended or terminated in: running, or between two executions
 * (continued as new: the control reaches the next one). */
#define LIVE_STATES                                                                         \
    ((1u << DURO_STATE_RUNNING) | (1u << DURO_STATE_CONTINUED_AS_NEW) |                      \
     (1u << DURO_STATE_SCHEDULED))

int duro_client_terminate(duro_client *c, const char *instance, const char *reason,
                          duro_error *err)
{
    return send_control(c, "duro_client_terminate", instance, DURO_MSG_TERMINATE,
                        LIVE_STATES | (1u << DURO_STATE_SUSPENDED), reason, err);
}

int duro_client_suspend(duro_client *c, const char *instance, const char *reason,
                        duro_error *err)
{
    return send_control(c, "duro_client_suspend", instance, DURO_MSG_SUSPEND, LIVE_STATES,
                        reason, err);
}

int duro_client_resume(duro_client *c, const char *instance, const char *reason,
                       duro_error *err)
{
    return send_control(c, "duro_client_resume", instance, DURO_MSG_RESUME,
                        1u << DURO_STATE_SUSPENDED, reason, err);
}

/* 1 when json_loads failed for lack of memory: jansson says so (2.11 and later), or left the
 * error text empty, as it does when an allocation fails building a value (an object, an
 * array, a member), while every error of the input itself has a text. */
static int parse_out_of_memory(const json_error_t *je)
{
#if JANSSON_VERSION_HEX >= 0x020b00
    if (json_error_code(je) == json_error_out_of_memory)
        return 1;
#endif
    return je->text[0] == '\0';
}

/* `text` parsed as a stored record, or NULL with *oom set when memory ran out. jansson
 * reports a failed allocation while lexing a string as a syntax error, but parsing the same
 * bytes is deterministic: a syntax error that does not come back on a second parse was not
 * the input's. */
static json_t *parse_record(const char *text, int *oom)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!j && !parse_out_of_memory(&je))
        j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    *oom = !j && parse_out_of_memory(&je);
    return j;
}

int duro__split_failure(const char *output, char **error, duro_error_category *category)
{
    int oom = 0;
    json_t *j = output ? parse_record(output, &oom) : NULL;
    duro__rec r;
    *error = NULL;
    *category = DURO_CAT_NONE;
    if (oom)
        return DURO_ENOMEM;
    if (j && duro__rec_from_json(j, 0, 0, &r) == 0) { /* takes j, whatever it returns */
        *error = duro__strdup(r.text ? r.text : "");
        *category = r.category;
        duro__rec_clear(&r);
    } else {
        *error = duro__strdup(output ? output : "");
    }
    return *error ? 0 : DURO_ENOMEM;
}

/* 1 when the parsed stored output `j` marks a terminated execution. */
static int marks_terminated(const json_t *j)
{
    const char *what = json_string_value(json_object_get(j, "what"));
    return what && strcmp(what, "terminated") == 0;
}

int duro__view_state(duro_provider *p, const char *instance, uint64_t execution,
                     duro_state stored, const char *output, duro_state *view, duro_error *err)
{
    duro_event *ev = NULL;
    size_t n = 0, i;
    int rc, oom = 0;
    *view = stored;
    if (stored == DURO_STATE_FAILED && output) {
        json_t *j = parse_record(output, &oom);
        if (oom)
            return duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
        if (j && marks_terminated(j))
            *view = DURO_STATE_TERMINATED;
        json_decref(j);
        return 0;
    }
    if (stored != DURO_STATE_RUNNING)
        return 0;
    rc = p->ops->read_history(p, instance, execution, &ev, &n, err);
    if (rc == DURO_ECORRUPT)
        return 0; /* unreadable history (headed for the poison path): the stored state */
    if (rc)
        return rc;
    if (n && ev[0].kind == DURO_EVENT_ORCH_STARTED && ev[0].payload) {
        json_t *j = parse_record(ev[0].payload, &oom);
        json_t *at = j ? json_object_get(j, "at") : NULL;
        if (json_is_integer(at) && json_integer_value(at) > duro_clock_now_ms())
            *view = DURO_STATE_SCHEDULED;
        json_decref(j);
        if (oom) {
            duro_events_free(ev, n);
            return duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
        }
    }
    for (i = n; i-- > 0;)
        if (ev[i].kind == DURO_EVENT_SUSPENDED || ev[i].kind == DURO_EVENT_RESUMED) {
            if (ev[i].kind == DURO_EVENT_SUSPENDED)
                *view = DURO_STATE_SUSPENDED;
            break;
        }
    duro_events_free(ev, n);
    return 0;
}

int duro_client_status(duro_client *c, const char *instance, duro_status *out, duro_error *err)
{
    duro_instance_info info;
    int rc;
    if (!out)
        return duro_error_set(err, DURO_EINVAL, 0, "status output is NULL");
    memset(out, 0, sizeof *out);
    if (!c)
        return duro_error_set(err, DURO_EINVAL, 0, "client is NULL");
    if ((rc = duro__check_id(instance, "instance id", err)))
        return rc;
    memset(&info, 0, sizeof info);
    rc = c->p->ops->instance_info(c->p, instance, &info, err);
    if (rc == DURO_ENOTFOUND) {
        out->state = DURO_STATE_NOT_FOUND;
        return 0;
    }
    if (rc)
        return rc;
    rc = duro__view_state(c->p, instance, info.execution_id, info.state, info.output,
                          &out->state, err);
    if (rc) {
        duro_instance_info_clear(&info);
        return rc;
    }
    out->execution_id = info.execution_id;
    out->orch_name = info.orch_name;
    out->orch_version = info.orch_version;
    out->custom_status = info.custom_status;
    out->custom_status_version = info.custom_status_version;
    info.orch_name = info.orch_version = info.custom_status = NULL;
    if (info.state == DURO_STATE_FAILED)
        rc = duro__split_failure(info.output, &out->error, &out->error_category);
    else {
        out->output = info.output;
        info.output = NULL;
    }
    duro_instance_info_clear(&info);
    if (rc) {
        duro_status_clear(out);
        return duro_error_set(err, rc, 0, "out of memory");
    }
    return 0;
}

/* Wait at most `left` ms (and at most 100) for a commit after `seq` when the provider
 * notifies, else sleep the doubling *backoff (1..64 ms, at most `left`). */
static void wait_for_commit(duro_client *c, int notify, uint64_t seq, int64_t left,
                            int64_t *backoff)
{
    struct timespec ts;
    int64_t d = *backoff < left ? *backoff : left;
    if (notify) {
        c->p->ops->wait_commit(c->p, seq, left < 100 ? left : 100);
        return;
    }
    ts.tv_sec = d / 1000;
    ts.tv_nsec = (d % 1000) * 1000000;
    nanosleep(&ts, NULL);
    if (*backoff < 50)
        *backoff *= 2;
}

int duro_client_wait(duro_client *c, const char *instance, int64_t timeout_ms, duro_status *out,
                     duro_error *err)
{
    int64_t deadline = duro__add_sat(duro__monotonic_ms(), timeout_ms > 0 ? timeout_ms : 0);
    int64_t backoff = 1;
    int notify = c && (c->p->caps & DURO_CAP_NOTIFY) && c->p->ops->commit_seq &&
                 c->p->ops->wait_commit;
    for (;;) {
        uint64_t seq = notify ? c->p->ops->commit_seq(c->p) : 0;
        int64_t left;
        int rc = duro_client_status(c, instance, out, err);
        if (rc)
            return rc;
        if (out->state == DURO_STATE_COMPLETED || out->state == DURO_STATE_FAILED ||
            out->state == DURO_STATE_TERMINATED)
            return 0;
        left = deadline - duro__monotonic_ms();
        if (left <= 0)
            return duro_error_set(err, DURO_ETIMEDOUT, 1,
                                  "instance %s still %s after %lld ms", instance,
                                  duro_state_name(out->state), (long long)timeout_ms);
        duro_status_clear(out);
        wait_for_commit(c, notify, seq, left, &backoff);
    }
}

int duro_client_history(duro_client *c, const char *instance, uint64_t execution_id,
                        duro_event **events, size_t *n, duro_error *err)
{
    int rc;
    if (!c || !events || !n)
        return duro_error_set(err, DURO_EINVAL, 0, "NULL argument");
    *events = NULL;
    *n = 0;
    if ((rc = duro__check_id(instance, "instance id", err)))
        return rc;
    return c->p->ops->read_history(c->p, instance, execution_id, events, n, err);
}

/* ---- durable values ------------------------------------------------------------------------ */

int duro__provider_has_version_filter(const duro_provider *p)
{
    return p && (p->caps & DURO_CAP_VERSION_FILTER) &&
           duro_provider_has_version(p, DURO_PROVIDER_OPS_V7) && p->ops->enqueue_orch_start &&
           p->ops->fetch_orch_filtered;
}

int duro__provider_has_kv(const duro_provider *p)
{
    return p && (p->caps & DURO_CAP_KV) && duro_provider_has_version(p, DURO_PROVIDER_OPS_V5) &&
           p->ops->get_value && p->ops->list_values;
}

/* Arguments of a durable value read: 0, or the error (with `call` named) and nothing read. */
static int check_value_read(duro_client *c, const char *call, const char *instance,
                            const char *key, duro_error *err)
{
    int rc;
    if (!c)
        return duro_error_set(err, DURO_EINVAL, 0, "%s: client is required", call);
    if ((rc = duro__check_id(instance, "instance id", err)))
        return rc;
    if (key && (rc = duro_provider_check_kv_key(key, err)))
        return rc;
    if (!duro__provider_has_kv(c->p))
        return duro_error_set(err, DURO_ENOTSUP, 0,
                              "%s: provider '%s' does not store durable values (no "
                              "DURO_CAP_KV)", call, c->p->name);
    return 0;
}

int duro_client_get_value(duro_client *c, const char *instance, const char *key, char **value,
                          uint64_t *version, duro_error *err)
{
    uint64_t v = 0;
    int rc;
    if (!value)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_client_get_value: value is required");
    *value = NULL;
    if (version)
        *version = 0;
    if (!key)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_client_get_value: key is required");
    if ((rc = check_value_read(c, "duro_client_get_value", instance, key, err)))
        return rc;
    rc = c->p->ops->get_value(c->p, instance, key, value, &v, err);
    if (rc == 0 && version)
        *version = v;
    return rc;
}

int duro_client_list_values(duro_client *c, const char *instance, duro_kv_entry **entries,
                            size_t *n, duro_error *err)
{
    int rc;
    if (!entries || !n)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_client_list_values: entries and n are required");
    *entries = NULL;
    *n = 0;
    if ((rc = check_value_read(c, "duro_client_list_values", instance, NULL, err)))
        return rc;
    return c->p->ops->list_values(c->p, instance, entries, n, err);
}

int duro_client_wait_value(duro_client *c, const char *instance, const char *key,
                           uint64_t last_version, int64_t timeout_ms, char **value,
                           uint64_t *version, duro_error *err)
{
    int64_t deadline = duro__add_sat(duro__monotonic_ms(), timeout_ms > 0 ? timeout_ms : 0);
    int64_t backoff = 1;
    int notify, rc;
    if (!value)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_client_wait_value: value is required");
    *value = NULL;
    if (version)
        *version = 0;
    if (!key)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_client_wait_value: key is required");
    if ((rc = check_value_read(c, "duro_client_wait_value", instance, key, err)))
        return rc;
    notify = (c->p->caps & DURO_CAP_NOTIFY) && c->p->ops->commit_seq && c->p->ops->wait_commit;
    for (;;) {
        uint64_t seq = notify ? c->p->ops->commit_seq(c->p) : 0, v = 0;
        int64_t left;
        char *got = NULL;
        rc = c->p->ops->get_value(c->p, instance, key, &got, &v, err);
        if (rc && rc != DURO_ENOTFOUND)
            return rc;
        if (rc == 0 && v != last_version) {
            *value = got;
            if (version)
                *version = v;
            return 0;
        }
        free(got);
        if (rc == DURO_ENOTFOUND && last_version != 0)
            return rc; /* cleared (or the instance deleted) since last_version */
        left = deadline - duro__monotonic_ms();
        if (left <= 0)
            return duro_error_set(err, DURO_ETIMEDOUT, 1,
                                  "value \"%s\" of %s still at version %llu after %lld ms", key,
                                  instance, (unsigned long long)last_version,
                                  (long long)timeout_ms);
        wait_for_commit(c, notify, seq, left, &backoff);
    }
}
