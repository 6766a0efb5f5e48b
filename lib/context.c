/*
 * context.c — the orchestration-side API (duro_call_activity, duro_timer, DURO_AWAIT, ...).
 *
 * Each durable call is matched, in call order, to the next decision recorded in history; a
 * call beyond the recorded decisions appends a new decision event and its side effect (work
 * item, timer message, child start). The run enforces the one rule of DESIGN.md §3: after
 * observing a pending task, only terminal calls are allowed.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

/* ---- decisions ------------------------------------------------------------------------------ */

/* Gate every durable call: returns 0 when the call may proceed. */
static int may_call(duro_orch *o, const char *what)
{
    if (!o->in_run || o->err_code)
        return -1;
    if (o->terminal) {
        duro__fail_turn(o, DURO_ESTATE, DURO_CAT_CONFIGURATION,
                        "%s called after the orchestration already finished in this run", what);
        return -1;
    }
    if (o->observed_pending) {
        duro__fail_turn(o, DURO_ESTATE, DURO_CAT_CONFIGURATION,
                        "%s called after the orchestration observed a pending task in this run "
                        "(rule: once a task is seen incomplete, only complete, fail or "
                        "continue-as-new may follow; await tasks in the order they are needed)",
                        what);
        return -1;
    }
    return 0;
}

static int same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static const char *describe(const duro__rec *r, char *buf, size_t n)
{
    switch (r->kind) {
    case DURO_EVENT_ACTIVITY_SCHEDULED: snprintf(buf, n, "activity \"%s\"", r->name ? r->name : ""); break;
    case DURO_EVENT_TIMER_CREATED: snprintf(buf, n, "timer"); break;
    case DURO_EVENT_EXTERNAL_WAIT: snprintf(buf, n, "wait for event \"%s\"", r->name ? r->name : ""); break;
    case DURO_EVENT_SUB_SCHEDULED:
        snprintf(buf, n, "sub-orchestration \"%s\"%s%s", r->name ? r->name : "",
                 r->version ? " version " : "", r->version ? r->version : "");
        break;
    case DURO_EVENT_DETACHED:
        snprintf(buf, n, "detached start of \"%s\" as %s", r->name ? r->name : "",
                 r->instance ? r->instance : "");
        break;
    case DURO_EVENT_VALUE: snprintf(buf, n, "deterministic %s", r->what ? r->what : "value"); break;
    case DURO_EVENT_VALUE_SET: snprintf(buf, n, "set of value \"%s\"", r->name ? r->name : ""); break;
    case DURO_EVENT_VALUE_CLEARED: snprintf(buf, n, "clear of value \"%s\"", r->name ? r->name : ""); break;
    case DURO_EVENT_VALUES_CLEARED: snprintf(buf, n, "clear of every value"); break;
    case DURO_EVENT_VALUE_READ:
        snprintf(buf, n, "read of value \"%s\" of instance \"%s\"", r->name ? r->name : "",
                 r->instance ? r->instance : "");
        break;
    default: snprintf(buf, n, "%s", duro__ev_kind_name(r->kind)); break;
    }
    return buf;
}

/* Match the next recorded decision against `want` (kind and fields) or record it. Returns
 * the decision's event id and sets *fresh when it was appended now; 0 after an error. */
static uint64_t decide(duro_orch *o, json_t *want, int kind, int check_instance, int *fresh)
{
    duro__rec w;
    uint64_t id;
    *fresh = 0;
    if (!want) {
        duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
        return 0;
    }
    if (o->next_decision < o->decisions.len) {
        const duro__rec *h;
        int ok;
        char a[160], b[160];
        id = ((uint64_t *)o->decisions.data)[o->next_decision++];
        h = &duro__slot_at(o, id)->rec;
        if (duro__rec_from_json(want, kind, 0, &w) != 0) {
            duro__fail_turn(o, DURO_EINTERNAL, DURO_CAT_INFRASTRUCTURE, "malformed decision");
            return 0;
        }
        ok = h->kind == kind;
        if (ok && (kind == DURO_EVENT_ACTIVITY_SCHEDULED || kind == DURO_EVENT_SUB_SCHEDULED ||
                   kind == DURO_EVENT_DETACHED))
            ok = same(h->name, w.name) && same(h->input, w.input);
        if (ok && kind == DURO_EVENT_ACTIVITY_SCHEDULED)
            ok = same(h->tag, w.tag) && same(h->session, w.session);
        if (ok && kind == DURO_EVENT_SUB_SCHEDULED)
            ok = same(h->version, w.version);
        if (ok && kind == DURO_EVENT_VALUE_READ)
            ok = same(h->name, w.name);
        if (ok && kind == DURO_EVENT_EXTERNAL_WAIT)
            ok = same(h->name, w.name);
        if (ok && kind == DURO_EVENT_VALUE)
            ok = same(h->what, w.what);
        if (ok && (kind == DURO_EVENT_VALUE_SET || kind == DURO_EVENT_VALUE_CLEARED))
            ok = same(h->name, w.name) && same(h->text, w.text);
        if (ok && check_instance)
            ok = same(h->instance, w.instance);
        if (!ok)
            duro__fail_turn(o, DURO_ENONDET, DURO_CAT_CONFIGURATION,
                            "nondeterministic: decision %zu of %s: the code now makes %s but "
                            "history recorded %s (event %" PRIu64 "); a code change broke "
                            "replay",
                            o->next_decision, o->name, describe(&w, a, sizeof a),
                            describe(h, b, sizeof b), id);
        duro__rec_clear(&w);
        return ok ? id : 0;
    }
    id = duro__append(o, kind, want);
    if (id) {
        /* duro__append registered the decision; matching continues after it */
        o->next_decision = o->decisions.len;
        *fresh = 1;
    }
    return id;
}

static duro_task *new_task(duro_orch *o, int type, uint64_t id, const char *name)
{
    duro_task *t, **slot;
    if (!id)
        return &o->dead;
    t = calloc(1, sizeof *t);
    slot = t ? duro__vec_push(&o->tasks) : NULL;
    if (!slot) {
        free(t);
        duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
        return &o->dead;
    }
    *slot = t;
    t->o = o;
    t->type = type;
    t->id = id;
    t->name = name;
    t->seq = o->tasks.len;
    return t;
}

static int invalid(duro_orch *o, int rc, const char *what, const duro_error *err)
{
    return duro__fail_turn(o, rc, DURO_CAT_CONFIGURATION, "invalid %s: %s", what,
                           err->message);
}

/* 1 after failing the turn with a configuration error that names the first field of `p` out
 * of range, else 0. Durations have no upper bound: due times saturate (see duro.h). */
static int bad_policy(duro_orch *o, const char *name, const duro_retry_policy *p)
{
    static const char *const fields[] = {"base_ms", "max_ms", "timeout_ms"};
    const int64_t values[] = {p->base_ms, p->max_ms, p->timeout_ms};
    const char *what = "duro_call_activity_retry";
    size_t i;
    if (p->max_attempts < 1) {
        duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                        "%s: activity \"%s\": retry.max_attempts is 0 (must be >= 1)", what,
                        name);
        return 1;
    }
    if ((int)p->backoff < DURO_BACKOFF_NONE || (int)p->backoff > DURO_BACKOFF_EXPONENTIAL) {
        duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                        "%s: activity \"%s\": retry.backoff is %d (not a duro_backoff)", what,
                        name, (int)p->backoff);
        return 1;
    }
    for (i = 0; i < 3; i++)
        if (values[i] < 0) {
            duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                            "%s: activity \"%s\": retry.%s is %" PRId64 " (must be >= 0)", what,
                            name, fields[i], values[i]);
            return 1;
        }
    return 0;
}

/* Schedule activity `name` with at most one of `tag` and `session` (NULL: none). */
static duro_task *call_activity(duro_orch *o, const char *name, const char *input,
                                const char *tag, const char *session,
                                const duro_retry_policy *policy)
{
    duro_error err;
    json_t *j;
    uint64_t id;
    int rc, fresh;
    if (may_call(o, "duro_call_activity"))
        return &o->dead;
    if ((rc = duro__check_id(name, "activity name", &err)) ||
        (rc = duro__check_payload(input, "activity input", &err)) ||
        (tag && (rc = duro__check_id(tag, "activity tag", &err))) ||
        (session && (rc = duro__check_id(session, "activity session", &err)))) {
        invalid(o, rc, "duro_call_activity", &err);
        return &o->dead;
    }
    if (policy && bad_policy(o, name, policy))
        return &o->dead;
    j = duro__rec_new();
    if (j && ((rc = duro__rec_str(j, "name", name)) || (rc = duro__rec_str(j, "input", input ? input : "")) ||
              (policy && (rc = duro__rec_retry(j, policy))) ||
              (tag && (rc = duro__rec_str(j, "tag", tag))) ||
              (session && (rc = duro__rec_str(j, "session", session))))) {
        json_decref(j);
        duro__fail_turn(o, rc, rc == DURO_EINVAL ? DURO_CAT_CONFIGURATION : DURO_CAT_INFRASTRUCTURE,
                        "activity \"%s\": %s", name,
                        rc == DURO_EINVAL ? "input is not valid UTF-8" : "out of memory");
        return &o->dead;
    }
    id = decide(o, j, DURO_EVENT_ACTIVITY_SCHEDULED, 0, &fresh);
    if (id && fresh && duro__dispatch(o, id, id, 1))
        return &o->dead;
    return new_task(o, DURO__TASK_ACTIVITY, id, NULL);
}

duro_task *duro_call_activity_tagged(duro_orch *o, const char *name, const char *input,
                                     const char *tag, const duro_retry_policy *policy)
{
    return call_activity(o, name, input, tag, NULL, policy);
}

duro_task *duro_call_activity_session(duro_orch *o, const char *name, const char *input,
                                      const char *session, const duro_retry_policy *policy)
{
    if (session == NULL && !may_call(o, "duro_call_activity_session")) {
        duro_error err;
        duro_error_set(&err, DURO_EINVAL, 0, "activity session is required (NULL)");
        invalid(o, DURO_EINVAL, "duro_call_activity_session", &err);
        return &o->dead;
    }
    return call_activity(o, name, input, NULL, session, policy);
}

duro_task *duro_call_activity_retry(duro_orch *o, const char *name, const char *input,
                                    const duro_retry_policy *policy)
{
    return call_activity(o, name, input, NULL, NULL, policy);
}

duro_task *duro_call_activity(duro_orch *o, const char *name, const char *input)
{
    return call_activity(o, name, input, NULL, NULL, NULL);
}

duro_task *duro_timer(duro_orch *o, int64_t delay_ms)
{
    json_t *j, *m;
    uint64_t id;
    int fresh;
    if (may_call(o, "duro_timer"))
        return &o->dead;
    if (delay_ms < 0)
        delay_ms = 0;
    j = duro__rec_new();
    if (j && duro__rec_int(j, "at", duro__add_sat(o->now_ms, delay_ms))) {
        json_decref(j);
        j = NULL;
    }
    id = decide(o, j, DURO_EVENT_TIMER_CREATED, 0, &fresh);
    if (id && fresh) {
        m = duro__rec_new();
        if (!m || duro__rec_int(m, "src", (int64_t)id) || duro__rec_str(m, "what", "timer")) {
            json_decref(m);
            duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
            return &o->dead;
        }
        if (duro__out_msg(o, o->item->instance, DURO_MSG_TIMER_FIRED, o->exec,
                          duro__slot_at(o, id)->rec.at, m))
            return &o->dead;
    }
    return new_task(o, DURO__TASK_TIMER, id, NULL);
}

duro_task *duro_wait_event(duro_orch *o, const char *name)
{
    duro_error err;
    json_t *j;
    uint64_t id;
    int rc, fresh;
    if (may_call(o, "duro_wait_event"))
        return &o->dead;
    if ((rc = duro__check_id(name, "event name", &err))) {
        invalid(o, rc, "duro_wait_event", &err);
        return &o->dead;
    }
    j = duro__rec_new();
    if (j && duro__rec_str(j, "name", name)) {
        json_decref(j);
        j = NULL;
    }
    id = decide(o, j, DURO_EVENT_EXTERNAL_WAIT, 0, &fresh);
    return new_task(o, DURO__TASK_WAIT, id, id ? duro__slot_at(o, id)->rec.name : NULL);
}

/* The canonical text of `version` kept for the turn, or NULL after failing the instance with
 * a configuration error naming `call` and the version (invalid, or out of memory). */
static const char *pinned_version(duro_orch *o, const char *call, const char *version)
{
    char canon[DURO__VERSION_CANON_BYTES];
    duro_error err;
    int rc = duro__check_id(version, "version", &err);
    if (rc) {
        invalid(o, rc, call, &err);
        return NULL;
    }
    if (duro__version_key(version) < 0) {
        duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                        "%s: version \"%s\" is not MAJOR.MINOR.PATCH", call, version);
        return NULL;
    }
    return duro__keep(o, duro__strdup(duro__version_canon(version, canon)));
}

/* Start sub-orchestration `name`, pinned to `version` (valid; NULL: the latest). */
static duro_task *call_sub(duro_orch *o, const char *call, const char *name,
                           const char *version, const char *child_id, const char *input)
{
    duro_error err;
    json_t *j, *m;
    uint64_t id;
    int rc, fresh;
    const char *child;
    if (may_call(o, call))
        return &o->dead;
    if ((rc = duro__check_id(name, "sub-orchestration name", &err)) ||
        (child_id && (rc = duro__check_id(child_id, "child instance id", &err))) ||
        (rc = duro__check_payload(input, "sub-orchestration input", &err))) {
        invalid(o, rc, call, &err);
        return &o->dead;
    }
    if (version && !(version = pinned_version(o, call, version)))
        return &o->dead;
    j = duro__rec_new();
    if (j && ((rc = duro__rec_str(j, "name", name)) ||
              (rc = duro__rec_str(j, "input", input ? input : "")) ||
              (rc = duro__rec_str(j, "instance", child_id)) ||
              (rc = duro__rec_str(j, "version", version)))) {
        json_decref(j);
        duro__fail_turn(o, rc, rc == DURO_EINVAL ? DURO_CAT_CONFIGURATION : DURO_CAT_INFRASTRUCTURE,
                        "sub-orchestration \"%s\": %s", name,
                        rc == DURO_EINVAL ? "input is not valid UTF-8" : "out of memory");
        return &o->dead;
    }
    id = decide(o, j, DURO_EVENT_SUB_SCHEDULED, child_id != NULL, &fresh);
    if (!id)
        return &o->dead;
    if (fresh) {
        duro__slot *s = duro__slot_at(o, id);
        if (!child_id) {
            char *gen = duro__keep(o, duro__asprintf("%s::%" PRIu64, o->item->instance, id));
            if (!gen)
                return &o->dead;
            if ((rc = duro__check_id(gen, "generated child instance id", &err))) {
                duro__fail_turn(o, rc, DURO_CAT_CONFIGURATION, "sub-orchestration \"%s\": %s; "
                                "give the child an explicit, shorter id", name, err.message);
                return &o->dead;
            }
            if ((rc = duro__rec_str(s->rec.json, "instance", gen))) {
                duro__fail_turn(o, rc, DURO_CAT_INFRASTRUCTURE, "out of memory");
                return &o->dead;
            }
            s->rec.instance = json_string_value(json_object_get(s->rec.json, "instance"));
        }
        child = s->rec.instance;
        m = duro__rec_new();
        if (!m || duro__rec_str(m, "name", name) || duro__rec_str(m, "version", version) ||
            duro__rec_str(m, "input", input ? input : "") ||
            duro__rec_str(m, "parent", o->item->instance) ||
            duro__rec_int(m, "pexec", (int64_t)o->exec) || duro__rec_int(m, "pid", (int64_t)id)) {
            json_decref(m);
            duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
            return &o->dead;
        }
        if (duro__out_msg(o, child, DURO_MSG_START, 0, 0, m))
            return &o->dead;
        /* routes the child to runtimes that have the name (and the pinned version) */
        duro__out_target(o, s->rec.name, s->rec.version);
    }
    return new_task(o, DURO__TASK_SUB, id, NULL);
}

duro_task *duro_call_sub(duro_orch *o, const char *name, const char *child_id, const char *input)
{
    return call_sub(o, "duro_call_sub", name, NULL, child_id, input);
}

duro_task *duro_call_sub_version(duro_orch *o, const char *name, const char *version,
                                 const char *child_id, const char *input)
{
    return call_sub(o, "duro_call_sub_version", name, version, child_id, input);
}

int duro_start_detached(duro_orch *o, const char *name, const char *instance, const char *input)
{
    duro_error err;
    json_t *j, *m;
    uint64_t id;
    int rc, fresh;
    if (may_call(o, "duro_start_detached"))
        return DURO_ESTATE;
    if ((rc = duro__check_id(name, "orchestration name", &err)) ||
        (rc = duro__check_id(instance, "instance id", &err)) ||
        (rc = duro__check_payload(input, "input", &err))) {
        invalid(o, rc, "duro_start_detached", &err);
        return rc;
    }
    j = duro__rec_new();
    if (j && ((rc = duro__rec_str(j, "name", name)) ||
              (rc = duro__rec_str(j, "instance", instance)) ||
              (rc = duro__rec_str(j, "input", input ? input : "")))) {
        json_decref(j);
        duro__fail_turn(o, rc, rc == DURO_EINVAL ? DURO_CAT_CONFIGURATION : DURO_CAT_INFRASTRUCTURE,
                        "detached start of \"%s\": %s", name,
                        rc == DURO_EINVAL ? "input is not valid UTF-8" : "out of memory");
        return rc;
    }
    id = decide(o, j, DURO_EVENT_DETACHED, 1, &fresh);
    if (!id)
        return o->err_code ? o->err_code : DURO_EINTERNAL;
    if (fresh) {
        m = duro__rec_new();
        if (!m || duro__rec_str(m, "name", name) || duro__rec_str(m, "input", input ? input : "")) {
            json_decref(m);
            duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
            return DURO_ENOMEM;
        }
        if (duro__out_msg(o, instance, DURO_MSG_START, 0, 0, m))
            return DURO_ENOMEM;
        duro__out_target(o, duro__slot_at(o, id)->rec.name, NULL);
    }
    return 0;
}

/* ---- tasks ---------------------------------------------------------------------------------- */

/* Position of the ordinal-th arrival of `name`, or NULL. */
static const duro__arrival *arrival(duro_orch *o, const char *name, size_t ordinal)
{
    size_t i;
    for (i = 0; i < o->arrivals.len; i++) {
        const duro__arrival *a = (const duro__arrival *)o->arrivals.data + i;
        if (strcmp(a->name, name) == 0 && ordinal-- == 0)
            return a;
    }
    return NULL;
}

int duro__task_result(duro_task *t, uint64_t *pos, uint32_t *sub, int *ok, const char **value,
                      const char **error)
{
    duro_orch *o = t->o;
    duro__slot *s;
    const duro__rec *r;
    *sub = 0;
    *value = *error = NULL;
    if (t->type == DURO__TASK_DEAD)
        return 0;
    if (t->cancelled) {
        *pos = UINT64_MAX;
        *ok = 0;
        *error = "canceled";
        return 1;
    }
    if (t->type == DURO__TASK_WAIT) {
        size_t i, ordinal = 0;
        const duro__arrival *a;
        for (i = 0; i < o->tasks.len; i++) {
            duro_task *w = ((duro_task **)o->tasks.data)[i];
            if (w == t)
                break;
            if (w->type == DURO__TASK_WAIT && !w->cancelled && strcmp(w->name, t->name) == 0)
                ordinal++;
        }
        a = arrival(o, t->name, ordinal);
        if (!a)
            return 0;
        *pos = a->pos;
        *sub = a->sub;
        *ok = 1;
        *value = a->data;
        return 1;
    }
    s = duro__slot_at(o, t->id);
    if (!s->final)
        return 0;
    r = &duro__slot_at(o, s->final)->rec;
    *pos = s->final;
    switch (r->kind) {
    case DURO_EVENT_ACTIVITY_COMPLETED:
    case DURO_EVENT_SUB_COMPLETED:
        *ok = 1;
        *value = r->text ? r->text : "";
        return 1;
    case DURO_EVENT_TIMER_FIRED:
        *ok = 1;
        *value = "";
        return 1;
    case DURO_EVENT_ACTIVITY_TIMEOUT: {
        duro__slot *d = duro__slot_at(o, r->src);
        char *msg = duro__keep(o, duro__asprintf("timeout: attempt %u exceeded %lld ms",
                                                 d->dattempt, (long long)s->rec.retry.timeout_ms));
        *ok = 0;
        *error = msg ? msg : "timeout";
        return 1;
    }
    default:
        *ok = 0;
        *error = r->text ? r->text : "";
        return 1;
    }
}

/* Observe `t`: returns 1 when done (and marks it observed), else records a pending observation. */
static int observe(duro_task *t)
{
    uint64_t pos;
    uint32_t sub;
    int ok;
    const char *v, *e;
    duro_orch *o = t->o;
    if (duro__task_result(t, &pos, &sub, &ok, &v, &e)) {
        t->observed_done = 1;
        if (pos != UINT64_MAX && pos > o->n_persisted)
            o->replaying = 0;
        return 1;
    }
    o->observed_pending = 1;
    o->replaying = 0;
    return 0;
}

int duro_task_done(duro_task *t)
{
    return t ? observe(t) : 0;
}

int duro_task_ok(const duro_task *t)
{
    uint64_t pos;
    uint32_t sub;
    int ok = 0;
    const char *v, *e;
    if (!t || !duro__task_result((duro_task *)t, &pos, &sub, &ok, &v, &e))
        return 0;
    return ok;
}

const char *duro_task_value(const duro_task *t)
{
    uint64_t pos;
    uint32_t sub;
    int ok = 0;
    const char *v = NULL, *e;
    if (!t || !duro__task_result((duro_task *)t, &pos, &sub, &ok, &v, &e))
        return NULL;
    return ok ? v : NULL;
}

const char *duro_task_error(const duro_task *t)
{
    uint64_t pos;
    uint32_t sub;
    int ok = 0;
    const char *v, *e = NULL;
    if (!t || !duro__task_result((duro_task *)t, &pos, &sub, &ok, &v, &e))
        return NULL;
    return ok ? NULL : e;
}

/* Awaiting a NULL task would never end: a configuration error, unless the run had already
 * observed a pending task (DURO_AWAIT on the NULL of a duro_when_any that found nothing
 * done), when NULL only means "not done". */
int duro_await_one(duro_orch *o, duro_task *t)
{
    if (t)
        return observe(t);
    if (o && !o->observed_pending)
        duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION, "duro_await_one: task is NULL");
    return 0;
}

int duro_await_all(duro_orch *o, duro_task *const *tasks, size_t n)
{
    size_t i;
    int all = 1, pending_before = o->observed_pending;
    if (!tasks && n > 0)
        return duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                               "duro_await_all: tasks is NULL (n is %zu)", n);
    for (i = 0; i < n; i++) {
        if (tasks[i] && observe(tasks[i]))
            continue;
        all = 0;
        if (!tasks[i] && !pending_before)
            duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                            "duro_await_all: tasks[%zu] is NULL", i);
    }
    if (!all)
        o->observed_pending = 1;
    return all;
}

duro_task *duro_when_any(duro_orch *o, duro_task *const *tasks, size_t n)
{
    size_t i;
    duro_task *best = NULL;
    uint64_t best_pos = 0;
    uint32_t best_sub = 0;
    size_t nulls = 0;
    if (n == 0 || !tasks) {
        if (n == 0)
            duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                            "duro_when_any: n is 0 (no task to wait for)");
        else
            duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                            "duro_when_any: tasks is NULL (n is %zu)", n);
        return NULL;
    }
    for (i = 0; i < n; i++)
        nulls += tasks[i] == NULL;
    if (nulls == n) {
        duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                        "duro_when_any: all %zu tasks are NULL", n);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        uint64_t pos;
        uint32_t sub;
        int ok;
        const char *v, *e;
        if (!tasks[i] || !duro__task_result(tasks[i], &pos, &sub, &ok, &v, &e))
            continue;
        if (!best || pos < best_pos || (pos == best_pos && sub < best_sub)) {
            best = tasks[i];
            best_pos = pos;
            best_sub = sub;
        }
    }
    if (!best) {
        o->observed_pending = 1;
        o->replaying = 0;
        return NULL;
    }
    observe(best);
    return best;
}

void duro_task_cancel(duro_task *t)
{
    uint64_t pos;
    uint32_t sub;
    int ok;
    const char *v, *e;
    if (!t || t->type == DURO__TASK_DEAD || t->cancelled)
        return;
    if (t->observed_done)
        return;
    if (t->type != DURO__TASK_WAIT && duro__task_result(t, &pos, &sub, &ok, &v, &e))
        return;
    t->cancelled = 1;
}

/* ---- terminal calls ------------------------------------------------------------------------- */

static int terminal(duro_orch *o, int kind, char *text)
{
    if (!o->in_run || o->terminal || o->err_code) {
        free(text);
        if (o->in_run && o->terminal && !o->err_code)
            duro__fail_turn(o, DURO_ESTATE, DURO_CAT_CONFIGURATION,
                            "a second terminal call in one run of %s", o->name);
        return DURO_DONE;
    }
    if (!text) {
        duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
        return DURO_DONE;
    }
    if (duro__check_payload(text, "orchestration output", NULL) || !duro__utf8_valid(text)) {
        free(text);
        duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                        "orchestration output is too big or not valid UTF-8");
        return DURO_DONE;
    }
    o->terminal = kind;
    o->term_text = text;
    return DURO_DONE;
}

int duro_complete(duro_orch *o, const char *output)
{
    return terminal(o, DURO__TERM_COMPLETE, duro__strdup(output));
}

int duro_completef(duro_orch *o, const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    s = duro__vasprintf(fmt, ap);
    va_end(ap);
    return terminal(o, DURO__TERM_COMPLETE, s);
}

int duro_fail(duro_orch *o, const char *message)
{
    return terminal(o, DURO__TERM_FAIL, duro__strdup(message));
}

int duro_failf(duro_orch *o, const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    s = duro__vasprintf(fmt, ap);
    va_end(ap);
    return terminal(o, DURO__TERM_FAIL, s);
}

int duro_continue_as_new(duro_orch *o, const char *input)
{
    return terminal(o, DURO__TERM_CAN, duro__strdup(input));
}

int duro_continue_as_new_version(duro_orch *o, const char *input, const char *version)
{
    const char *pinned = NULL;
    int rc;
    if (version && o->in_run && !o->terminal && !o->err_code &&
        !(pinned = pinned_version(o, "duro_continue_as_new_version", version)))
        return DURO_DONE;
    rc = terminal(o, DURO__TERM_CAN, duro__strdup(input));
    if (o->terminal == DURO__TERM_CAN && !o->err_code)
        o->term_version = pinned;
    return rc;
}

/* ---- deterministic values, status, logging -------------------------------------------------- */

/* Record or replay a VALUE decision; returns the recorded text or NULL. */
static const char *value(duro_orch *o, const char *what, const char *fresh_value)
{
    json_t *j;
    uint64_t id;
    int fresh;
    if (may_call(o, what))
        return NULL;
    j = duro__rec_new();
    if (j && (duro__rec_str(j, "what", what) || duro__rec_str(j, "text", fresh_value))) {
        json_decref(j);
        j = NULL;
    }
    id = decide(o, j, DURO_EVENT_VALUE, 0, &fresh);
    return id ? duro__slot_at(o, id)->rec.text : NULL;
}

int64_t duro_now_ms(duro_orch *o)
{
    char buf[32];
    const char *v;
    snprintf(buf, sizeof buf, "%lld", (long long)o->now_ms);
    v = value(o, "now", buf);
    return v ? strtoll(v, NULL, 10) : 0;
}

const char *duro_new_guid(duro_orch *o)
{
    char buf[40];
    uint64_t a = 0, b = 0;
    const char *v;
    duro__random_u64(&a);
    duro__random_u64(&b);
    snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0x0fff,
             (unsigned)((b >> 48) & 0x3fff) | 0x8000, (unsigned long long)(b & 0xffffffffffffULL));
    v = value(o, "guid", buf);
    return v ? v : "";
}

uint64_t duro_random(duro_orch *o)
{
    char buf[32];
    uint64_t r = 0;
    const char *v;
    duro__random_u64(&r);
    snprintf(buf, sizeof buf, "%" PRIu64, r);
    v = value(o, "random", buf);
    return v ? strtoull(v, NULL, 10) : 0;
}

void duro_set_custom_status(duro_orch *o, const char *status)
{
    char *copy = NULL;
    if (!o->in_run)
        return;
    if (status) {
        if (duro__check_payload(status, "custom status", NULL) || !duro__utf8_valid(status)) {
            duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                            "custom status is too big or not valid UTF-8");
            return;
        }
        copy = duro__strdup(status);
        if (!copy) {
            duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
            return;
        }
    }
    free(o->custom_status);
    o->custom_status = copy;
    o->custom_status_set = 1;
}

/* ---- durable values ------------------------------------------------------------------------ */

/* Index of `key` in o->kv, or o->kv.len when it is not set. */
static size_t kv_index(const duro_orch *o, const char *key)
{
    size_t i;
    for (i = 0; i < o->kv.len; i++)
        if (strcmp(((const duro__kv *)o->kv.data)[i].key, key) == 0)
            return i;
    return o->kv.len;
}

int duro__kv_begin(duro_orch *o)
{
    const duro__rec *started;
    const char *key;
    json_t *val;
    o->kv.len = 0;
    if (!o->slots.len)
        return 0;
    started = &duro__slot_at(o, 1)->rec;
    if (!started->kv)
        return 0;
    json_object_foreach(started->kv, key, val) {
        duro__kv *e = duro__vec_push(&o->kv);
        if (!e)
            return DURO_ENOMEM;
        e->key = key;
        e->value = json_string_value(val);
    }
    return 0;
}

json_t *duro__kv_snapshot(duro_orch *o)
{
    json_t *obj = json_object();
    size_t i;
    for (i = 0; obj && i < o->kv.len; i++) {
        const duro__kv *e = (const duro__kv *)o->kv.data + i;
        if (json_object_set_new(obj, e->key, json_string(e->value)) != 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

/* Apply the recorded change `r` (a VALUE_SET, VALUE_CLEARED or VALUES_CLEARED event, whose
 * strings live for the turn) to the run's values. 0 or DURO_ENOMEM. */
static int kv_apply(duro_orch *o, const duro__rec *r)
{
    duro__kv *all = o->kv.data;
    size_t i;
    if (r->kind == DURO_EVENT_VALUES_CLEARED) {
        o->kv.len = 0;
        return 0;
    }
    i = kv_index(o, r->name);
    if (r->kind == DURO_EVENT_VALUE_CLEARED) {
        if (i < o->kv.len) {
            memmove(all + i, all + i + 1, (o->kv.len - i - 1) * sizeof *all);
            o->kv.len--;
        }
        return 0;
    }
    if (i == o->kv.len) {
        duro__kv *e = duro__vec_push(&o->kv);
        if (!e)
            return DURO_ENOMEM;
        e->key = r->name;
        all = o->kv.data;
    }
    all[i].value = r->text ? r->text : "";
    return 0;
}

/* Check a change of a durable value against the limits (nothing recorded on failure). */
static int kv_check(duro_orch *o, const char *call, int kind, const char *key,
                    const char *value)
{
    duro_error err;
    size_t n;
    int rc;
    if (!o->kv_supported) {
        duro__fail_turn(o, DURO_ENOTSUP, DURO_CAT_CONFIGURATION,
                        "%s: the provider does not store durable values (it lacks "
                        "DURO_CAP_KV)", call);
        return DURO_ENOTSUP;
    }
    if (kind == DURO_EVENT_VALUES_CLEARED)
        return 0;
    if ((rc = duro__check_id(key, "key", &err))) {
        invalid(o, rc, call, &err);
        return rc;
    }
    if (kind != DURO_EVENT_VALUE_SET)
        return 0;
    if (!value) {
        duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION, "%s: value of \"%s\" is NULL",
                        call, key);
        return DURO_EINVAL;
    }
    n = strlen(value);
    if (n > DURO_MAX_VALUE_BYTES) {
        duro__fail_turn(o, DURO_ETOOBIG, DURO_CAT_CONFIGURATION,
                        "%s: value of \"%s\" is %zu bytes (limit %u)", call, key, n,
                        DURO_MAX_VALUE_BYTES);
        return DURO_ETOOBIG;
    }
    if (kv_index(o, key) == o->kv.len && o->kv.len >= DURO_MAX_VALUES) {
        duro__fail_turn(o, DURO_ETOOBIG, DURO_CAT_CONFIGURATION,
                        "%s: \"%s\" would be key %zu of the instance (limit %d keys)", call,
                        key, o->kv.len + 1, DURO_MAX_VALUES);
        return DURO_ETOOBIG;
    }
    if (!duro__utf8_valid(value)) {
        duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                        "%s: value of \"%s\" is not valid UTF-8", call, key);
        return DURO_EINVAL;
    }
    return 0;
}

/* Record or replay one change of the durable values and apply it to the run's values. */
static int kv_change(duro_orch *o, const char *call, int kind, const char *key,
                     const char *value)
{
    json_t *j;
    uint64_t id;
    int rc, fresh;
    if (may_call(o, call))
        return DURO_ESTATE;
    if ((rc = kv_check(o, call, kind, key, value)))
        return rc;
    j = duro__rec_new();
    if (j && ((rc = duro__rec_str(j, "name", key)) || (rc = duro__rec_str(j, "text", value)))) {
        json_decref(j);
        duro__fail_turn(o, rc, DURO_CAT_INFRASTRUCTURE, "%s: out of memory", call);
        return rc;
    }
    id = decide(o, j, kind, 0, &fresh);
    if (!id)
        return o->err_code ? o->err_code : DURO_EINTERNAL;
    if ((rc = kv_apply(o, &duro__slot_at(o, id)->rec))) {
        duro__fail_turn(o, rc, DURO_CAT_INFRASTRUCTURE, "%s: out of memory", call);
        return rc;
    }
    return 0;
}

int duro_set_value(duro_orch *o, const char *key, const char *value)
{
    return kv_change(o, "duro_set_value", DURO_EVENT_VALUE_SET, key, value);
}

int duro_clear_value(duro_orch *o, const char *key)
{
    return kv_change(o, "duro_clear_value", DURO_EVENT_VALUE_CLEARED, key, NULL);
}

int duro_clear_values(duro_orch *o)
{
    return kv_change(o, "duro_clear_values", DURO_EVENT_VALUES_CLEARED, NULL, NULL);
}

const char *duro_get_value(duro_orch *o, const char *key)
{
    size_t i;
    if (!o || !key || !o->in_run)
        return NULL;
    i = kv_index(o, key);
    return i < o->kv.len ? ((const duro__kv *)o->kv.data)[i].value : NULL;
}

/* Read `key` of `instance` from the store into the fresh decision `j` (what, text). 0, or
 * the store's error after recording it: a retryable one discards the turn (retry_reason),
 * any other fails the instance. */
static int read_other(duro_orch *o, const char *instance, const char *key, json_t *j)
{
    duro_provider *p = o->values;
    duro_error err = {0};
    const char *what = "set";
    char *value = NULL;
    int rc = p->ops->get_value(p, instance, key, &value, NULL, &err);
    if (rc == DURO_ENOTFOUND) {
        /* no instance, or no key: the instance row tells them apart */
        duro_instance_info info;
        memset(&info, 0, sizeof info);
        memset(&err, 0, sizeof err);
        rc = p->ops->instance_info(p, instance, &info, &err);
        duro_instance_info_clear(&info);
        what = rc == 0 ? "unset" : "no_instance";
        if (rc == DURO_ENOTFOUND)
            rc = 0;
    }
    if (rc == 0 && (duro__rec_str(j, "what", what) || duro__rec_str(j, "text", value))) {
        duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
        rc = DURO_ENOMEM;
    }
    free(value);
    if (rc == 0 || o->err_code)
        return rc;
    err.message[sizeof err.message - 1] = '\0';
    if (err.retryable || rc == DURO_EBUSY || rc == DURO_EIO || rc == DURO_ENOMEM) {
        o->retry_reason = duro__asprintf("duro_read_value: reading \"%s\" of instance \"%s\": "
                                         "%s (%s); the turn is retried",
                                         key, instance, err.message, duro_strerror(rc));
        if (!o->retry_reason) {
            duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
            return DURO_ENOMEM;
        }
    }
    duro__fail_turn(o, rc, DURO_CAT_INFRASTRUCTURE,
                    "duro_read_value: reading \"%s\" of instance \"%s\" failed: %s (%s)", key,
                    instance, err.message, duro_strerror(rc));
    return rc;
}

int duro_read_value(duro_orch *o, const char *instance, const char *key, const char **value)
{
    static const char call[] = "duro_read_value";
    const duro__rec *r;
    duro_error err;
    json_t *j;
    uint64_t id;
    int rc, fresh;
    if (value)
        *value = NULL;
    if (!o)
        return DURO_EINVAL;
    if (may_call(o, call))
        return DURO_ESTATE;
    if (!value) {
        duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION, "%s: value is NULL", call);
        return DURO_EINVAL;
    }
    if ((rc = duro__check_id(instance, "instance id", &err)) ||
        (rc = duro__check_id(key, "key", &err))) {
        invalid(o, rc, call, &err);
        return rc;
    }
    if (strcmp(instance, o->item->instance) == 0) {
        duro__fail_turn(o, DURO_EINVAL, DURO_CAT_CONFIGURATION,
                        "%s: \"%s\" is this instance: read its own values with "
                        "duro_get_value", call, instance);
        return DURO_EINVAL;
    }
    j = duro__rec_new();
    if (j && (duro__rec_str(j, "instance", instance) || duro__rec_str(j, "name", key))) {
        json_decref(j);
        j = NULL;
    }
    /* past the recorded decisions: read the store now (a replay never does) */
    if (j && o->next_decision >= o->decisions.len) {
        if (!o->values) {
            json_decref(j);
            duro__fail_turn(o, DURO_ENOTSUP, DURO_CAT_CONFIGURATION,
                            "%s: the provider does not store durable values (it lacks "
                            "DURO_CAP_KV)", call);
            return DURO_ENOTSUP;
        }
        if ((rc = read_other(o, instance, key, j))) {
            json_decref(j);
            return rc;
        }
    }
    id = decide(o, j, DURO_EVENT_VALUE_READ, 1, &fresh);
    if (!id)
        return o->err_code ? o->err_code : DURO_EINTERNAL;
    r = &duro__slot_at(o, id)->rec;
    if (strcmp(r->what, "no_instance") == 0)
        return DURO_ENOTFOUND;
    *value = strcmp(r->what, "set") == 0 ? r->text : NULL;
    return 0;
}

void duro_log(duro_orch *o, const char *message)
{
    if (o->replaying || message == NULL)
        return;
    if (o->log)
        o->log(0, o->item->instance, message, o->log_ud);
    else
        fprintf(stderr, "duro [%s] %s\n", o->item->instance, message);
}

void duro_logf(duro_orch *o, const char *fmt, ...)
{
    va_list ap;
    char *msg;
    if (o->replaying)
        return;
    va_start(ap, fmt);
    msg = duro__vasprintf(fmt, ap);
    va_end(ap);
    if (!msg)
        return;
    duro_log(o, msg);
    free(msg);
}

int duro_is_replaying(const duro_orch *o)
{
    return o->replaying;
}

const char *duro_orch_instance(const duro_orch *o)
{
    return o->item->instance;
}

uint64_t duro_orch_execution(const duro_orch *o)
{
    return o->exec;
}

const char *duro_orch_name(const duro_orch *o)
{
    return o->name;
}

const char *duro_orch_version(const duro_orch *o)
{
    return o->version;
}
