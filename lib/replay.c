/*
 * replay.c — the replay engine: one orchestration turn from fetched history and messages to
 * the provider commit.
 *
 * A turn (duro__turn_run) runs seven phases in order; each is linear in the history size.
 * (1) decode_messages: decode the fetched messages. (2) read_history: decode the current
 * execution's history and index it by event id. (3) choose_execution: a terminal instance
 * only consumes its messages, unless a continue-as-new message begins the next execution.
 * (4) bind_orchestration: find the orchestration function in the registry and record the
 * Started event of a new execution. Phases 1-4 may end the turn early, or abandon it when
 * stored data is unreadable or the orchestration is not registered. (5) apply_messages:
 * turn incoming messages into new events in FIFO order, dropping duplicates and stale ones
 * and running the retry machinery of activity tasks. (6) decide: unless the instance is
 * being cancelled, already failed, or aborted by a system-class task failure, run the
 * orchestration function ONCE against the whole history, matching its durable calls to the
 * recorded decisions in call order (context.c); then finish: terminal bookkeeping,
 * cancellations, parent notification. (7) build_commit: the provider commit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

/* ---- small helpers ------------------------------------------------------------------------ */

duro__slot *duro__slot_at(duro_orch *o, uint64_t id)
{
    if (id == 0 || id > o->slots.len)
        return NULL;
    return (duro__slot *)o->slots.data + (id - 1);
}

/* Replace, in place, every byte of `s` that does not begin a valid UTF-8 sequence by '?':
 * a failure text quotes stored names and provider messages, may cut a quoted name inside
 * a character, and must still be stored (as JSON, which only holds UTF-8). Returns s. */
static char *utf8_repair(char *s)
{
    size_t at;
    for (char *p = s; p && (at = duro__utf8_invalid_at(p)) != SIZE_MAX; p += at + 1)
        p[at] = '?';
    return s;
}

int duro__fail_turn(duro_orch *o, int code, int category, const char *fmt, ...)
{
    va_list ap;
    if (o->err_code)
        return 0;
    o->err_code = code;
    o->err_category = category;
    va_start(ap, fmt);
    o->err_msg = utf8_repair(duro__vasprintf(fmt, ap));
    va_end(ap);
    return 0;
}

char *duro__keep(duro_orch *o, char *s)
{
    char **slot;
    if (!s) {
        duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
        return NULL;
    }
    slot = duro__vec_push(&o->strs);
    if (!slot) {
        free(s);
        duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
        return NULL;
    }
    *slot = s;
    return s;
}

static char *keep_json(duro_orch *o, json_t *j)
{
    char *s = duro__json_text(j);
    json_decref(j);
    return duro__keep(o, s);
}

int duro__out_msg(duro_orch *o, const char *instance, int kind, uint64_t exec,
                  int64_t visible_at, json_t *payload)
{
    duro_msg *m;
    duro_orch_ref *target;
    char *text, *inst;
    /* the due time goes last: the metrics read it from the end of the text (metrics.c) */
    if (payload &&
        duro__rec_int(payload, "due", visible_at > o->now_ms ? visible_at : o->now_ms) != 0) {
        json_decref(payload);
        payload = NULL;
    }
    text = keep_json(o, payload);
    inst = duro__keep(o, duro__strdup(instance));
    if (!text || !inst)
        return DURO_ENOMEM;
    target = duro__vec_push(&o->out_msg_targets);
    m = target ? duro__vec_push(&o->out_msgs) : NULL;
    if (!m)
        return duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory"),
               DURO_ENOMEM;
    target->orch_name = target->orch_version = NULL;
    m->instance = inst;
    m->kind = kind;
    m->execution_id = exec;
    m->visible_at_ms = visible_at;
    m->payload = text;
    return 0;
}

void duro__out_target(duro_orch *o, const char *name, const char *version)
{
    duro_orch_ref *t = (duro_orch_ref *)o->out_msg_targets.data + o->out_msg_targets.len - 1;
    t->orch_name = name;
    t->orch_version = version;
    o->any_msg_target = 1;
}

static int kind_is_decision(int kind)
{
    return kind == DURO_EVENT_ACTIVITY_SCHEDULED || kind == DURO_EVENT_TIMER_CREATED ||
           kind == DURO_EVENT_EXTERNAL_WAIT || kind == DURO_EVENT_SUB_SCHEDULED ||
           kind == DURO_EVENT_DETACHED || kind == DURO_EVENT_VALUE ||
           kind == DURO_EVENT_VALUE_SET || kind == DURO_EVENT_VALUE_CLEARED ||
           kind == DURO_EVENT_VALUES_CLEARED || kind == DURO_EVENT_VALUE_READ;
}

static int kind_is_dispatch(int kind)
{
    return kind == DURO_EVENT_ACTIVITY_SCHEDULED || kind == DURO_EVENT_ACTIVITY_DISPATCHED;
}

static int kind_is_terminal(int kind)
{
    return kind == DURO_EVENT_ORCH_COMPLETED || kind == DURO_EVENT_ORCH_FAILED ||
           kind == DURO_EVENT_ORCH_CONTINUED || kind == DURO_EVENT_ORCH_TERMINATED;
}

/* ---- indexing ------------------------------------------------------------------------------ */

/* Check that `src` names an earlier event of an allowed kind. */
static duro__slot *source(duro_orch *o, uint64_t id, uint64_t src, int k1, int k2)
{
    duro__slot *s = src < id ? duro__slot_at(o, src) : NULL;
    if (!s || (s->rec.kind != k1 && s->rec.kind != k2))
        return NULL;
    return s;
}

/* Update derived state for event `id` (already stored in its slot). 0 or DURO_ECORRUPT. */
static int index_event(duro_orch *o, uint64_t id)
{
    duro__slot *e = duro__slot_at(o, id), *s, *t;
    const duro__rec *r = &e->rec;
    switch (r->kind) {
    case DURO_EVENT_ORCH_STARTED:
        if (id != 1)
            return DURO_ECORRUPT;
        if (r->carried) {
            size_t i;
            json_t *pair;
            json_array_foreach(r->carried, i, pair) {
                duro__arrival *a = duro__vec_push(&o->arrivals);
                if (!a)
                    return DURO_ENOMEM;
                a->pos = 1;
                a->sub = (uint32_t)i;
                a->name = json_string_value(json_array_get(pair, 0));
                a->data = json_string_value(json_array_get(pair, 1));
            }
        }
        return 0;
    case DURO_EVENT_ACTIVITY_SCHEDULED:
        e->task = id;
        e->dispatch = id;
        e->attempt = 1;
        e->dattempt = 1;
        return 0;
    case DURO_EVENT_ACTIVITY_RETRY:
        if (!(t = source(o, id, r->src, DURO_EVENT_ACTIVITY_SCHEDULED, 0)))
            return DURO_ECORRUPT;
        e->task = r->src;
        t->dispatch = 0;
        return 0;
    case DURO_EVENT_ACTIVITY_DISPATCHED:
        if (!(t = source(o, id, r->src, DURO_EVENT_ACTIVITY_SCHEDULED, 0)) || r->attempt < 2)
            return DURO_ECORRUPT;
        e->task = r->src;
        e->dattempt = r->attempt;
        t->dispatch = id;
        t->attempt = r->attempt;
        return 0;
    case DURO_EVENT_ACTIVITY_COMPLETED:
    case DURO_EVENT_ACTIVITY_FAILED:
    case DURO_EVENT_ACTIVITY_TIMEOUT: {
        uint32_t max;
        if (!(s = source(o, id, r->src, DURO_EVENT_ACTIVITY_SCHEDULED, DURO_EVENT_ACTIVITY_DISPATCHED)))
            return DURO_ECORRUPT;
        s->result = id;
        e->task = s->task;
        t = duro__slot_at(o, s->task);
        max = t->rec.has_retry ? t->rec.retry.max_attempts : 1;
        if (r->kind == DURO_EVENT_ACTIVITY_COMPLETED || s->dattempt >= max ||
            (r->kind == DURO_EVENT_ACTIVITY_FAILED && r->category != DURO_CAT_APPLICATION))
            t->final = id;
        return 0;
    }
    case DURO_EVENT_ACTIVITY_CANCELLED:
        if (!(t = source(o, id, r->src, DURO_EVENT_ACTIVITY_SCHEDULED, 0)))
            return DURO_ECORRUPT;
        t->cancelled = 1;
        return 0;
    case DURO_EVENT_TIMER_FIRED:
        if (!(t = source(o, id, r->src, DURO_EVENT_TIMER_CREATED, 0)))
            return DURO_ECORRUPT;
        t->final = id;
        return 0;
    case DURO_EVENT_SUB_COMPLETED:
    case DURO_EVENT_SUB_FAILED:
        if (!(t = source(o, id, r->src, DURO_EVENT_SUB_SCHEDULED, 0)))
            return DURO_ECORRUPT;
        t->final = id;
        return 0;
    case DURO_EVENT_SUB_CANCELLED:
        if (!(t = source(o, id, r->src, DURO_EVENT_SUB_SCHEDULED, 0)))
            return DURO_ECORRUPT;
        t->cancelled = 1;
        return 0;
    case DURO_EVENT_EXTERNAL_RAISED: {
        duro__arrival *a;
        if (!r->name)
            return DURO_ECORRUPT;
        a = duro__vec_push(&o->arrivals);
        if (!a)
            return DURO_ENOMEM;
        a->pos = id;
        a->name = r->name;
        a->data = r->text ? r->text : "";
        return 0;
    }
    case DURO_EVENT_CANCEL_REQUESTED:
        if (!o->cancel_req)
            o->cancel_req = id;
        return 0;
    case DURO_EVENT_SUSPENDED:
        if (o->suspended)
            return DURO_ECORRUPT;
        o->suspended = id;
        return 0;
    case DURO_EVENT_RESUMED:
        if (!o->suspended)
            return DURO_ECORRUPT;
        o->suspended = 0;
        return 0;
    case DURO_EVENT_ORCH_TERMINATED:
    case DURO_EVENT_ORCH_COMPLETED:
    case DURO_EVENT_ORCH_FAILED:
    case DURO_EVENT_ORCH_CONTINUED:
    case DURO_EVENT_TIMER_CREATED:
    case DURO_EVENT_EXTERNAL_WAIT:
    case DURO_EVENT_SUB_SCHEDULED:
    case DURO_EVENT_DETACHED:
    case DURO_EVENT_VALUE:
    case DURO_EVENT_VALUES_CLEARED:
        return 0;
    case DURO_EVENT_VALUE_SET:
    case DURO_EVENT_VALUE_CLEARED:
        return r->name ? 0 : DURO_ECORRUPT;
    case DURO_EVENT_VALUE_READ:
        if (!r->name || !r->instance || !r->what)
            return DURO_ECORRUPT;
        if (strcmp(r->what, "set") == 0)
            return r->text ? 0 : DURO_ECORRUPT;
        return strcmp(r->what, "unset") == 0 || strcmp(r->what, "no_instance") == 0
                   ? 0
                   : DURO_ECORRUPT;
    default:
        return DURO_ECORRUPT;
    }
}

static int push_slot(duro_orch *o, duro__rec *rec)
{
    duro__slot *s = duro__vec_push(&o->slots);
    uint64_t id;
    int rc;
    if (!s) {
        duro__rec_clear(rec);
        return DURO_ENOMEM;
    }
    s->rec = *rec;
    id = o->slots.len;
    if (kind_is_decision(rec->kind)) {
        uint64_t *d = duro__vec_push(&o->decisions);
        if (!d)
            return DURO_ENOMEM;
        *d = id;
    }
    rc = index_event(o, id);
    return rc;
}

uint64_t duro__append(duro_orch *o, int kind, json_t *json)
{
    duro__rec rec;
    uint64_t id = o->slots.len + 1;
    int rc;
    if (!json) {
        duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
        return 0;
    }
    if (duro__rec_from_json(json, kind, id, &rec) != 0) {
        duro__fail_turn(o, DURO_EINTERNAL, DURO_CAT_INFRASTRUCTURE,
                        "internal error: malformed %s event", duro__ev_kind_name(kind));
        return 0;
    }
    rc = push_slot(o, &rec);
    if (rc) {
        duro__fail_turn(o, rc, DURO_CAT_INFRASTRUCTURE, "cannot record %s event: %s",
                        duro__ev_kind_name(kind), duro_strerror(rc));
        return 0;
    }
    if (id > o->n_persisted)
        o->replaying = 0;
    return id;
}

/* ---- activity attempts --------------------------------------------------------------------- */

/* The backoff after `failed_attempt` under `p`, in ms: never negative, and INT64_MAX rather
 * than an overflow (the due time then saturates too: the retry never comes). */
static int64_t backoff_ms(const duro_retry_policy *p, uint32_t failed_attempt)
{
    int64_t d;
    switch (p->backoff) {
    case DURO_BACKOFF_FIXED: d = p->base_ms; break;
    case DURO_BACKOFF_LINEAR:
        d = failed_attempt && p->base_ms > INT64_MAX / (int64_t)failed_attempt
                ? INT64_MAX
                : p->base_ms * (int64_t)failed_attempt;
        break;
    case DURO_BACKOFF_EXPONENTIAL:
        d = p->base_ms;
        for (uint32_t i = 1; i < failed_attempt && d < INT64_C(1) << 40; i++)
            d *= 2;
        break;
    default: d = 0; break;
    }
    if (p->max_ms > 0 && d > p->max_ms)
        d = p->max_ms;
    return d < 0 ? 0 : d;
}

/* Fail the turn for an activity `r` in a session (or tagged) on a provider that does not
 * run sessions (route tags): DURO_ENOTSUP, naming the provider. */
static int refuse_routing(duro_orch *o, const duro__rec *r)
{
    if (r->session && o->no_sessions_provider)
        duro__fail_turn(o, DURO_ENOTSUP, DURO_CAT_CONFIGURATION,
                        "activity \"%s\" in session \"%s\": provider \"%s\" does not run "
                        "sessions (needs ops version 6 and DURO_CAP_SESSIONS)",
                        r->name, r->session, o->no_sessions_provider);
    else
        duro__fail_turn(o, DURO_ENOTSUP, DURO_CAT_CONFIGURATION,
                        "activity \"%s\" tagged \"%s\": provider \"%s\" does not route "
                        "tagged work (needs ops version 4 and DURO_CAP_TAGS)",
                        r->name, r->tag, o->no_tags_provider);
    return DURO_ENOTSUP;
}

int duro__dispatch(duro_orch *o, uint64_t task, uint64_t dispatch, uint32_t attempt)
{
    duro__slot *t = duro__slot_at(o, task);
    duro_work_in *w;
    json_t *p = duro__rec_new();
    char *payload;
    const char **tag, **session;
    if ((t->rec.session && o->no_sessions_provider) || (t->rec.tag && o->no_tags_provider)) {
        json_decref(p);
        return refuse_routing(o, &t->rec);
    }
    if (!p || duro__rec_str(p, "name", t->rec.name) || duro__rec_str(p, "input", t->rec.input) ||
        duro__rec_int(p, "attempt", attempt) || duro__rec_int(p, "due", o->now_ms)) {
        json_decref(p);
        return duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory"),
               DURO_ENOMEM;
    }
    payload = keep_json(o, p);
    if (!payload)
        return DURO_ENOMEM;
    w = duro__vec_push(&o->out_work);
    tag = w ? duro__vec_push(&o->out_work_tags) : NULL;
    session = tag ? duro__vec_push(&o->out_work_sessions) : NULL;
    if (!session) {
        if (tag)
            o->out_work_tags.len--;
        if (w)
            o->out_work.len--;
        return duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory"),
               DURO_ENOMEM;
    }
    *tag = t->rec.tag;
    if (t->rec.tag)
        o->any_work_tagged = 1;
    *session = t->rec.session;
    if (t->rec.session)
        o->any_work_session = 1;
    w->instance = o->item->instance;
    w->execution_id = o->exec;
    w->activity_id = dispatch;
    w->payload = payload;
    if (t->rec.has_retry && t->rec.retry.timeout_ms > 0) {
        json_t *m = duro__rec_new();
        if (!m || duro__rec_int(m, "src", (int64_t)dispatch) ||
            duro__rec_str(m, "what", "timeout")) {
            json_decref(m);
            return duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory"),
                   DURO_ENOMEM;
        }
        return duro__out_msg(o, o->item->instance, DURO_MSG_TIMER_FIRED, o->exec,
                             duro__add_sat(o->now_ms, t->rec.retry.timeout_ms), m);
    }
    return 0;
}

static int dispatch_attempt(duro_orch *o, uint64_t task, uint32_t attempt)
{
    json_t *j = duro__rec_new();
    uint64_t d;
    if (!j || duro__rec_int(j, "src", (int64_t)task) || duro__rec_int(j, "attempt", attempt)) {
        json_decref(j);
        return duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
    }
    d = duro__append(o, DURO_EVENT_ACTIVITY_DISPATCHED, j);
    return d ? duro__dispatch(o, task, d, attempt) : DURO_ENOMEM;
}

/* After a failed attempt of `task` that was not its last: back off or dispatch again. */
static int schedule_retry(duro_orch *o, uint64_t task)
{
    duro__slot *t = duro__slot_at(o, task);
    uint32_t next = t->attempt + 1;
    int64_t delay = backoff_ms(&t->rec.retry, t->attempt);
    int64_t at = duro__add_sat(o->now_ms, delay);
    json_t *j, *m;
    uint64_t r;
    if (delay <= 0)
        return dispatch_attempt(o, task, next);
    j = duro__rec_new();
    m = duro__rec_new();
    if (!j || !m || duro__rec_int(j, "src", (int64_t)task) ||
        duro__rec_int(j, "attempt", next) || duro__rec_int(j, "at", at)) {
        json_decref(j);
        json_decref(m);
        return duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
    }
    r = duro__append(o, DURO_EVENT_ACTIVITY_RETRY, j);
    if (!r || duro__rec_int(m, "src", (int64_t)r) || duro__rec_str(m, "what", "retry")) {
        json_decref(m);
        return DURO_ENOMEM;
    }
    return duro__out_msg(o, o->item->instance, DURO_MSG_TIMER_FIRED, o->exec, at, m);
}

static int cancel_dispatch(duro_orch *o, uint64_t dispatch)
{
    duro_activity_ref *c = duro__vec_push(&o->out_cancel);
    if (!c)
        return duro__fail_turn(o, DURO_ENOMEM, DURO_CAT_INFRASTRUCTURE, "out of memory");
    c->execution_id = o->exec;
    c->activity_id = dispatch;
    return 0;
}

/* ---- incoming messages --------------------------------------------------------------------- */

static json_t *result_json(const duro__rec *m)
{
    json_t *j = duro__rec_new();
    if (!j || duro__rec_int(j, "src", (int64_t)m->src)) {
        json_decref(j);
        return NULL;
    }
    if (m->ok) {
        if (duro__rec_str(j, "text", m->text ? m->text : "")) {
            json_decref(j);
            return NULL;
        }
    } else if (duro__rec_int(j, "category", m->category ? m->category : DURO_CAT_APPLICATION) ||
               duro__rec_str(j, "text", m->text ? m->text : "")) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int on_activity_done(duro_orch *o, const duro__rec *m)
{
    duro__slot *d = duro__slot_at(o, m->src), *t;
    uint64_t id, task;
    if (!d || !kind_is_dispatch(d->rec.kind))
        return duro__fail_turn(o, DURO_ENONDET, DURO_CAT_CONFIGURATION,
                               "nondeterministic: activity result for event %llu, which is not an "
                               "activity in this execution",
                               (unsigned long long)m->src);
    task = d->task;
    t = duro__slot_at(o, task);
    if (d->result || t->cancelled || t->final || t->dispatch != m->src)
        return 0; /* duplicate, cancelled, or a stale attempt */
    id = duro__append(o, m->ok ? DURO_EVENT_ACTIVITY_COMPLETED : DURO_EVENT_ACTIVITY_FAILED, result_json(m));
    if (!id)
        return DURO_ENOMEM;
    /* the append may have moved every slot: look the task up again */
    if (!m->ok && !duro__slot_at(o, task)->final)
        return schedule_retry(o, task);
    return 0;
}

static int on_timer(duro_orch *o, const duro__rec *m)
{
    duro__slot *s = duro__slot_at(o, m->src), *t;
    uint64_t task;
    json_t *j;
    const char *what = m->what ? m->what : "";
    if (strcmp(what, "timer") == 0) {
        if (!s || s->rec.kind != DURO_EVENT_TIMER_CREATED)
            return duro__fail_turn(o, DURO_ENONDET, DURO_CAT_CONFIGURATION,
                                   "nondeterministic: timer fired for event %llu, which is not a "
                                   "timer in this execution",
                                   (unsigned long long)m->src);
        if (s->final)
            return 0;
        j = duro__rec_new();
        if (!j || duro__rec_int(j, "src", (int64_t)m->src)) {
            json_decref(j);
            return DURO_ENOMEM;
        }
        return duro__append(o, DURO_EVENT_TIMER_FIRED, j) ? 0 : DURO_ENOMEM;
    }
    if (strcmp(what, "start") == 0) {
        o->start_due = 1; /* a scheduled start is due, whatever this process's clock says */
        return 0;
    }
    if (strcmp(what, "retry") == 0) {
        if (!s || s->rec.kind != DURO_EVENT_ACTIVITY_RETRY)
            return duro__fail_turn(o, DURO_ENONDET, DURO_CAT_CONFIGURATION,
                                   "nondeterministic: retry timer for event %llu, which is not a "
                                   "retry in this execution",
                                   (unsigned long long)m->src);
        t = duro__slot_at(o, s->task);
        if (t->cancelled || t->final || t->attempt >= s->rec.attempt)
            return 0;
        return dispatch_attempt(o, s->task, s->rec.attempt);
    }
    if (strcmp(what, "timeout") == 0) {
        if (!s || !kind_is_dispatch(s->rec.kind))
            return duro__fail_turn(o, DURO_ENONDET, DURO_CAT_CONFIGURATION,
                                   "nondeterministic: timeout for event %llu, which is not an "
                                   "activity in this execution",
                                   (unsigned long long)m->src);
        task = s->task;
        t = duro__slot_at(o, task);
        if (s->result || t->cancelled || t->final)
            return 0;
        j = duro__rec_new();
        if (!j || duro__rec_int(j, "src", (int64_t)m->src)) {
            json_decref(j);
            return DURO_ENOMEM;
        }
        if (!duro__append(o, DURO_EVENT_ACTIVITY_TIMEOUT, j) || cancel_dispatch(o, m->src))
            return DURO_ENOMEM;
        /* the append may have moved every slot: look the task up again */
        if (!duro__slot_at(o, task)->final)
            return schedule_retry(o, task);
        return 0;
    }
    return duro__fail_turn(o, DURO_ECORRUPT, DURO_CAT_INFRASTRUCTURE,
                           "timer message of unknown purpose \"%s\"", what);
}

static int on_child_done(duro_orch *o, const duro__rec *m)
{
    duro__slot *s = duro__slot_at(o, m->src);
    if (!s || s->rec.kind != DURO_EVENT_SUB_SCHEDULED)
        return duro__fail_turn(o, DURO_ENONDET, DURO_CAT_CONFIGURATION,
                               "nondeterministic: sub-orchestration result for event %llu, which "
                               "is not a sub-orchestration in this execution",
                               (unsigned long long)m->src);
    if (s->final || s->cancelled)
        return 0;
    return duro__append(o, m->ok ? DURO_EVENT_SUB_COMPLETED : DURO_EVENT_SUB_FAILED, result_json(m))
               ? 0
               : DURO_ENOMEM;
}

static int on_message(duro_orch *o, const duro__rec *m)
{
    json_t *j;
    switch (m->kind) {
    case DURO_MSG_ACTIVITY_DONE:
        return m->execution == o->exec ? on_activity_done(o, m) : 0;
    case DURO_MSG_TIMER_FIRED:
        return m->execution == o->exec ? on_timer(o, m) : 0;
    case DURO_MSG_CHILD_DONE:
        return m->execution == o->exec ? on_child_done(o, m) : 0;
    case DURO_MSG_EVENT:
        j = duro__rec_new();
        if (!j || duro__rec_str(j, "name", m->name ? m->name : "") ||
            duro__rec_str(j, "text", m->text ? m->text : "")) {
            json_decref(j);
            return DURO_ENOMEM;
        }
        return duro__append(o, DURO_EVENT_EXTERNAL_RAISED, j) ? 0 : DURO_ENOMEM;
    case DURO_MSG_CANCEL:
        if (o->cancel_req)
            return 0;
        j = duro__rec_new();
        if (!j || duro__rec_str(j, "text", m->text ? m->text : "")) {
            json_decref(j);
            return DURO_ENOMEM;
        }
        return duro__append(o, DURO_EVENT_CANCEL_REQUESTED, j) ? 0 : DURO_ENOMEM;
    case DURO_MSG_TERMINATE:
        if (o->terminate_reason)
            return 0; /* the first one's reason wins */
        o->terminate_reason = duro__keep(o, duro__strdup(m->text ? m->text : ""));
        return o->terminate_reason ? 0 : DURO_ENOMEM;
    case DURO_MSG_SUSPEND:
    case DURO_MSG_RESUME:
        /* a control that no longer applies (a second suspend, a resume of a running
         * instance: the client checked, another client got there first) changes nothing */
        if ((m->kind == DURO_MSG_SUSPEND) == (o->suspended != 0))
            return 0;
        if (m->kind == DURO_MSG_RESUME && !o->resumed_from)
            o->resumed_from = o->suspended;
        j = duro__rec_new();
        if (!j || duro__rec_str(j, "text", m->text ? m->text : "")) {
            json_decref(j);
            return DURO_ENOMEM;
        }
        return duro__append(o, m->kind == DURO_MSG_SUSPEND ? DURO_EVENT_SUSPENDED
                                                           : DURO_EVENT_RESUMED, j)
                   ? 0
                   : DURO_ENOMEM;
    default: /* duplicate starts and continue-as-new messages already handled */
        return 0;
    }
}

/* ---- finishing ----------------------------------------------------------------------------- */

static json_t *failure_json(int category, const char *message)
{
    json_t *j = duro__rec_new();
    if (!j || duro__rec_int(j, "category", category) || duro__rec_str(j, "text", message)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Breadcrumb + side effect for one task that is being cancelled. */
static int cancel_task(duro_orch *o, uint64_t id, const char *reason)
{
    duro__slot *t = duro__slot_at(o, id);
    json_t *j;
    if (t->final || t->cancelled)
        return 0;
    if (t->rec.kind == DURO_EVENT_ACTIVITY_SCHEDULED) {
        if (t->dispatch) {
            duro__slot *d = duro__slot_at(o, t->dispatch);
            if (!d->result && cancel_dispatch(o, t->dispatch))
                return DURO_ENOMEM;
        }
        j = duro__rec_new();
        if (!j || duro__rec_int(j, "src", (int64_t)id) || duro__rec_str(j, "text", reason)) {
            json_decref(j);
            return DURO_ENOMEM;
        }
        return duro__append(o, DURO_EVENT_ACTIVITY_CANCELLED, j) ? 0 : DURO_ENOMEM;
    }
    if (t->rec.kind == DURO_EVENT_SUB_SCHEDULED) {
        /* read before the append, which may move every slot (the string stays put) */
        const char *child = t->rec.instance;
        json_t *m = duro__rec_new();
        j = duro__rec_new();
        if (!j || !m || duro__rec_int(j, "src", (int64_t)id) ||
            duro__rec_str(j, "text", reason) || duro__rec_str(m, "text", reason)) {
            json_decref(j);
            json_decref(m);
            return DURO_ENOMEM;
        }
        if (!duro__append(o, DURO_EVENT_SUB_CANCELLED, j)) {
            json_decref(m);
            return DURO_ENOMEM;
        }
        /* a terminated parent terminates its children; any other end cancels them */
        return duro__out_msg(o, child, o->terminate_reason ? DURO_MSG_TERMINATE : DURO_MSG_CANCEL,
                             0, 0, m);
    }
    return 0;
}

/* Apply duro_task_cancel calls of this run. */
static int apply_code_cancels(duro_orch *o)
{
    size_t i;
    for (i = 0; i < o->tasks.len; i++) {
        duro_task *t = ((duro_task **)o->tasks.data)[i];
        if (t->cancelled && (t->type == DURO__TASK_ACTIVITY || t->type == DURO__TASK_SUB))
            if (cancel_task(o, t->id, "canceled by orchestration"))
                return DURO_ENOMEM;
    }
    return 0;
}

/* Every task still outstanding when the execution ends. */
static int cancel_outstanding(duro_orch *o, const char *reason)
{
    uint64_t id, n = o->slots.len;
    for (id = 1; id <= n; id++) {
        int k = duro__slot_at(o, id)->rec.kind;
        if ((k == DURO_EVENT_ACTIVITY_SCHEDULED || k == DURO_EVENT_SUB_SCHEDULED) && cancel_task(o, id, reason))
            return DURO_ENOMEM;
    }
    return 0;
}

/* Unclaimed arrivals at the end of the run, for continue-as-new. */
static json_t *carried_events(duro_orch *o)
{
    json_t *arr = json_array();
    size_t i, j;
    if (!arr)
        return NULL;
    for (i = 0; i < o->arrivals.len; i++) {
        duro__arrival *a = (duro__arrival *)o->arrivals.data + i;
        size_t claims = 0, before = 0;
        /* arrival i is the before-th of its name; it is claimed if at least before+1 live
         * waits of that name exist */
        for (j = 0; j < i; j++)
            if (strcmp(((duro__arrival *)o->arrivals.data + j)->name, a->name) == 0)
                before++;
        for (j = 0; j < o->tasks.len; j++) {
            duro_task *t = ((duro_task **)o->tasks.data)[j];
            if (t->type == DURO__TASK_WAIT && !t->cancelled && strcmp(t->name, a->name) == 0)
                claims++;
        }
        if (claims > before)
            continue;
        if (json_array_append_new(arr, json_pack("[ss]", a->name, a->data)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static const char *terminal_cancel_reason(int state)
{
    return state == DURO_STATE_COMPLETED ? "orchestration completed"
           : state == DURO_STATE_CONTINUED_AS_NEW ? "orchestration continued as new"
                                                  : "orchestration failed";
}

/* Terminal bookkeeping shared by complete, fail, continue-as-new, cancel and poison. */
static int finish(duro_orch *o, duro__turn *out, int state, int category, const char *text)
{
    json_t *j;
    int kind;
    char *stored;
    if (cancel_outstanding(o, terminal_cancel_reason(state)))
        return DURO_ENOMEM;
    if (state == DURO_STATE_COMPLETED) {
        kind = DURO_EVENT_ORCH_COMPLETED;
        j = duro__rec_new();
        if (!j || duro__rec_str(j, "text", text)) {
            json_decref(j);
            return DURO_ENOMEM;
        }
        stored = duro__keep(o, duro__strdup(text));
    } else if (state == DURO_STATE_CONTINUED_AS_NEW) {
        json_t *m = duro__rec_new(), *carried = carried_events(o);
        json_t *kv = o->kv.len ? duro__kv_snapshot(o) : NULL;
        int bad = !m || !carried || (o->kv.len && !kv) || duro__rec_str(m, "name", o->name) ||
                  duro__rec_str(m, "version", o->term_version) ||
                  duro__rec_str(m, "input", text);
        /* json_object_set_new takes its value even when it fails */
        if (!bad) {
            bad = json_object_set_new(m, "carried", carried) != 0;
            carried = NULL;
        }
        if (!bad && kv) {
            bad = json_object_set_new(m, "kv", kv) != 0;
            kv = NULL;
        }
        json_decref(carried);
        json_decref(kv);
        kind = DURO_EVENT_ORCH_CONTINUED;
        j = duro__rec_new();
        if (bad || !j || duro__rec_str(j, "text", text) ||
            duro__rec_str(j, "version", o->term_version)) {
            json_decref(j);
            json_decref(m);
            return DURO_ENOMEM;
        }
        if (duro__out_msg(o, o->item->instance, DURO_MSG_CONTINUE_AS_NEW, o->exec, 0, m)) {
            json_decref(j);
            return DURO_ENOMEM;
        }
        /* a pinned version routes the next execution to the runtimes that have it; without
         * one the instance keeps its route (the row's name and version), as before */
        if (o->term_version)
            duro__out_target(o, o->name, o->term_version);
        stored = duro__keep(o, duro__strdup(text));
    } else {
        json_t *f = failure_json(category, text);
        kind = DURO_EVENT_ORCH_FAILED;
        j = failure_json(category, text);
        stored = f ? keep_json(o, f) : NULL;
    }
    if (!stored) {
        json_decref(j);
        return DURO_ENOMEM;
    }
    if (!duro__append(o, kind, j))
        return DURO_ENOMEM;
    out->commit.state = state;
    out->commit.output = stored;
    out->category = state == DURO_STATE_FAILED ? category : DURO_CAT_NONE;
    out->terminal_text = text;
    if (o->parent && state != DURO_STATE_CONTINUED_AS_NEW) {
        json_t *m = duro__rec_new();
        if (!m || duro__rec_int(m, "src", (int64_t)o->pid) ||
            duro__rec_int(m, "ok", state == DURO_STATE_COMPLETED) ||
            (state == DURO_STATE_FAILED && duro__rec_int(m, "category", category)) ||
            duro__rec_str(m, "text", text)) {
            json_decref(m);
            return DURO_ENOMEM;
        }
        return duro__out_msg(o, o->parent, DURO_MSG_CHILD_DONE, o->pexec, 0, m);
    }
    return 0;
}

/* ---- turn setup ---------------------------------------------------------------------------- */

static duro_orch *orch_new(const duro_registry *reg, const duro_orch_item *item, int64_t now,
                           duro__log_fn log, void *log_ud)
{
    duro_orch *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->reg = reg;
    o->item = item;
    o->now_ms = now;
    o->log = log;
    o->log_ud = log_ud;
    o->dead.o = o;
    o->dead.type = DURO__TASK_DEAD;
    duro__vec_init(&o->slots, sizeof(duro__slot));
    duro__vec_init(&o->decisions, sizeof(uint64_t));
    duro__vec_init(&o->arrivals, sizeof(duro__arrival));
    duro__vec_init(&o->tasks, sizeof(duro_task *));
    duro__vec_init(&o->strs, sizeof(char *));
    duro__vec_init(&o->out_work, sizeof(duro_work_in));
    duro__vec_init(&o->out_msgs, sizeof(duro_msg));
    duro__vec_init(&o->out_msg_targets, sizeof(duro_orch_ref));
    duro__vec_init(&o->out_cancel, sizeof(duro_activity_ref));
    duro__vec_init(&o->kv, sizeof(duro__kv));
    duro__vec_init(&o->out_kv, sizeof(duro_kv_change));
    duro__vec_init(&o->out_work_tags, sizeof(const char *));
    duro__vec_init(&o->out_work_sessions, sizeof(const char *));
    return o;
}

static void orch_free(duro_orch *o)
{
    size_t i;
    if (!o)
        return;
    for (i = 0; i < o->slots.len; i++)
        duro__rec_clear(&((duro__slot *)o->slots.data)[i].rec);
    for (i = 0; i < o->tasks.len; i++)
        free(((duro_task **)o->tasks.data)[i]);
    for (i = 0; i < o->strs.len; i++)
        free(((char **)o->strs.data)[i]);
    duro__vec_free(&o->slots);
    duro__vec_free(&o->decisions);
    duro__vec_free(&o->arrivals);
    duro__vec_free(&o->tasks);
    duro__vec_free(&o->strs);
    duro__vec_free(&o->out_work);
    duro__vec_free(&o->out_msgs);
    duro__vec_free(&o->out_msg_targets);
    duro__vec_free(&o->out_cancel);
    duro__vec_free(&o->kv);
    duro__vec_free(&o->out_kv);
    duro__vec_free(&o->out_work_tags);
    duro__vec_free(&o->out_work_sessions);
    free(o->err_msg);
    free(o->retry_reason);
    free(o->term_text);
    free(o->custom_status);
    free(o);
}

void duro__turn_free(duro__turn *t)
{
    if (!t)
        return;
    duro__vec_free(&t->events);
    free(t->reason);
    orch_free(t->o);
    memset(t, 0, sizeof *t);
}

/* Does stored event `r` name the instances the engine may send messages to (the parent of
 * a Started event, the child of a sub-orchestration) by ids a store accepts? */
static int stored_ids_valid(const duro__rec *r)
{
    if (r->kind == DURO_EVENT_ORCH_STARTED && r->parent)
        return duro__check_id(r->parent, "parent instance id", NULL) == 0;
    if (r->kind == DURO_EVENT_SUB_SCHEDULED)
        return duro__check_id(r->instance, "child instance id", NULL) == 0;
    return 1;
}

/* Load the stored history; DURO_ECORRUPT with out->reason on undecodable data. */
static int load_history(duro_orch *o, duro__turn *out)
{
    size_t i;
    const duro_orch_item *it = o->item;
    for (i = 0; i < it->n_history; i++) {
        duro_error err;
        duro__rec rec;
        int rc;
        if (it->history[i].event_id != i + 1) {
            out->reason = duro__asprintf("history of %s: event %zu has id %llu", it->instance,
                                         i + 1, (unsigned long long)it->history[i].event_id);
            return DURO_ECORRUPT;
        }
        rc = duro__rec_decode(it->history[i].payload, it->history[i].kind, i + 1, &rec, &err);
        if (rc == 0 && !stored_ids_valid(&rec)) {
            duro__rec_clear(&rec);
            rc = DURO_ECORRUPT;
        }
        if (rc == 0)
            rc = push_slot(o, &rec);
        else
            err.message[sizeof err.message - 1] = '\0';
        if (rc == DURO_ENOMEM)
            return rc;
        if (rc) {
            out->reason = duro__asprintf(
                "history of %s, event %zu (%s): %s", it->instance, i + 1,
                duro__ev_kind_name(it->history[i].kind),
                rc == DURO_ECORRUPT && it->history[i].payload ? "undecodable or inconsistent"
                                                              : err.message);
            return DURO_ECORRUPT;
        }
    }
    o->n_persisted = it->n_history;
    if (o->n_persisted && duro__slot_at(o, 1)->rec.kind != DURO_EVENT_ORCH_STARTED) {
        out->reason = duro__asprintf("history of %s does not begin with OrchestrationStarted",
                                     it->instance);
        return DURO_ECORRUPT;
    }
    return 0;
}

/* Take name, version, input and parent link of the execution from its Started event. */
static void adopt_started(duro_orch *o)
{
    const duro__rec *s = &duro__slot_at(o, 1)->rec;
    o->name = s->name;
    o->version = s->version;
    o->input = s->input ? s->input : "";
    o->parent = s->parent;
    o->pexec = s->pexec;
    o->pid = s->pid;
    o->start_at = s->at;
}

static int history_terminal(duro_orch *o)
{
    return o->slots.len && kind_is_terminal(duro__slot_at(o, o->slots.len)->rec.kind);
}

/* Phase 7: fill out->commit with the turn's new events and outputs (poison uses it too). */
static int build_commit(duro_orch *o, duro__turn *out)
{
    size_t i;
    for (i = o->n_persisted; i < o->slots.len; i++) {
        duro__slot *s = (duro__slot *)o->slots.data + i;
        char *text = duro__keep(o, duro__rec_encode(&s->rec));
        duro_event_in *e = text ? duro__vec_push(&out->events) : NULL;
        if (!e)
            return DURO_ENOMEM;
        e->event_id = i + 1;
        e->kind = s->rec.kind;
        e->payload = text;
        if (s->rec.kind == DURO_EVENT_VALUE_SET || s->rec.kind == DURO_EVENT_VALUE_CLEARED ||
            s->rec.kind == DURO_EVENT_VALUES_CLEARED) {
            duro_kv_change *k = duro__vec_push(&o->out_kv);
            if (!k)
                return DURO_ENOMEM;
            k->op = s->rec.kind == DURO_EVENT_VALUE_SET       ? DURO_KV_SET
                    : s->rec.kind == DURO_EVENT_VALUE_CLEARED ? DURO_KV_CLEAR
                                                              : DURO_KV_CLEAR_ALL;
            k->key = s->rec.name;
            k->value = s->rec.kind == DURO_EVENT_VALUE_SET && !s->rec.text ? "" : s->rec.text;
        }
    }
    out->commit.execution_id = o->exec;
    out->commit.kv = o->out_kv.data;
    out->commit.n_kv = o->out_kv.len;
    out->commit.events = out->events.data;
    out->commit.n_events = out->events.len;
    out->commit.work = o->out_work.data;
    out->commit.n_work = o->out_work.len;
    out->commit.work_tags = o->any_work_tagged ? o->out_work_tags.data : NULL;
    out->commit.work_sessions = o->any_work_session ? o->out_work_sessions.data : NULL;
    out->commit.cancel = o->out_cancel.data;
    out->commit.n_cancel = o->out_cancel.len;
    out->commit.msgs = o->out_msgs.data;
    out->commit.n_msgs = o->out_msgs.len;
    out->commit.msg_targets = o->any_msg_target ? o->out_msg_targets.data : NULL;
    if (o->name) {
        out->commit.orch_name = o->name;
        out->commit.orch_version = o->version;
        out->commit.parent_instance = o->parent;
    }
    if (o->custom_status_set) {
        const char *cur = o->item->custom_status;
        int same = (!cur && !o->custom_status) ||
                   (cur && o->custom_status && strcmp(cur, o->custom_status) == 0);
        if (!same) {
            out->commit.set_custom_status = 1;
            out->commit.custom_status = o->custom_status;
        }
    }
    return 0;
}

/* Find the start or continue-as-new message of the batch (first one wins). */
static const duro__rec *find_start(const duro__rec *msgs, size_t n, int kind)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (msgs[i].kind == kind)
            return &msgs[i];
    return NULL;
}

/* A phase's result besides 0 (go on) and a negative error code: the turn ends here. */
#define TURN_ENDS 1

/* Run the orchestration code once and decide the outcome. */
static int run_code(duro_orch *o, duro__turn *out, duro_orch_fn fn, void *ud)
{
    int r;
    o->replaying = o->n_persisted > 0;
    if (duro__kv_begin(o))
        return DURO_ENOMEM;
    o->in_run = 1;
    r = fn(o, o->input, ud);
    o->in_run = 0;
    if (o->retry_reason) {
        out->action = DURO__TURN_ABANDON_RETRY;
        out->reason = o->retry_reason;
        o->retry_reason = NULL;
        return TURN_ENDS;
    }
    if (o->err_code == DURO_ENOMEM)
        return DURO_ENOMEM;
    if (!o->err_code && o->next_decision < o->n_old_decisions)
        duro__fail_turn(o, DURO_ENONDET, DURO_CAT_CONFIGURATION,
                        "nondeterministic: history holds %zu decisions but the orchestration "
                        "made only %zu before %s",
                        o->n_old_decisions, o->next_decision,
                        o->terminal ? "finishing" : "waiting");
    if (!o->err_code && !o->terminal && !o->observed_pending)
        duro__fail_turn(o, DURO_ESTATE, DURO_CAT_CONFIGURATION,
                        "orchestration %s returned %d without completing, failing, continuing "
                        "as new or waiting on a pending task",
                        o->name, r);
    if (o->err_code)
        return finish(o, out, DURO_STATE_FAILED, o->err_category, o->err_msg ? o->err_msg : "");
    if (apply_code_cancels(o))
        return DURO_ENOMEM;
    switch (o->terminal) {
    case DURO__TERM_COMPLETE:
        return finish(o, out, DURO_STATE_COMPLETED, DURO_CAT_NONE, o->term_text);
    case DURO__TERM_FAIL:
        return finish(o, out, DURO_STATE_FAILED, DURO_CAT_APPLICATION, o->term_text);
    case DURO__TERM_CAN:
        return finish(o, out, DURO_STATE_CONTINUED_AS_NEW, DURO_CAT_NONE, o->term_text);
    default:
        return 0;
    }
}

static int start_execution(duro_orch *o, const duro__rec *start, const char *resolved)
{
    json_t *j = duro__rec_new();
    if (!j || duro__rec_str(j, "name", start->name) || duro__rec_str(j, "version", resolved) ||
        duro__rec_str(j, "input", start->input ? start->input : "") ||
        (start->parent && (duro__rec_str(j, "parent", start->parent) ||
                           duro__rec_int(j, "pexec", (int64_t)start->pexec) ||
                           duro__rec_int(j, "pid", (int64_t)start->pid))) ||
        (start->carried && json_object_set(j, "carried", start->carried) != 0) ||
        (start->kind == DURO_MSG_CONTINUE_AS_NEW && start->kv &&
         json_object_set(j, "kv", start->kv) != 0) ||
        (start->at > 0 && duro__rec_int(j, "at", start->at))) {
        json_decref(j);
        return DURO_ENOMEM;
    }
    return duro__append(o, DURO_EVENT_ORCH_STARTED, j) ? 0 : DURO_ENOMEM;
}

/* ---- the turn ------------------------------------------------------------------------------ */

/* Phase 1: decode the fetched messages; an undecodable one abandons the turn as corrupt. */
static int decode_messages(const duro_orch_item *item, duro__rec *msgs, duro__turn *out)
{
    size_t i;
    for (i = 0; i < item->n_msgs; i++) {
        duro_error err;
        int rc = duro__rec_decode(item->msgs[i].payload, item->msgs[i].kind,
                                  (uint64_t)item->msgs[i].id, &msgs[i], &err);
        if (rc == DURO_ENOMEM)
            return rc; /* not a broken message: the runtime retries the turn */
        if (rc != 0 ||
            (msgs[i].parent && duro__check_id(msgs[i].parent, "parent instance id", &err))) {
            /* unknown stored data goes to the poison path: retried, then failed as poison (a
             * parent id no message can go to is as unreadable as a broken payload) */
            out->action = DURO__TURN_ABANDON_CORRUPT;
            out->reason = duro__asprintf("message %lld of %s: %s", (long long)item->msgs[i].id,
                                         item->instance, err.message);
            return TURN_ENDS;
        }
        msgs[i].execution = item->msgs[i].execution_id;
    }
    return 0;
}

/* Phase 2: decode and index the stored history, unless the instance is already terminal. */
static int read_history(duro_orch *o, duro__turn *out)
{
    int rc;
    if (o->item->state == DURO_STATE_COMPLETED || o->item->state == DURO_STATE_FAILED)
        return TURN_ENDS; /* terminal: consume stray messages without reading history */
    rc = load_history(o, out);
    if (rc == DURO_ECORRUPT) {
        out->action = DURO__TURN_ABANDON_CORRUPT;
        return TURN_ENDS;
    }
    return rc;
}

/* Drop the loaded history: the turn runs the execution after the current one. */
static void begin_next_execution(duro_orch *o)
{
    size_t k;
    for (k = 0; k < o->slots.len; k++)
        duro__rec_clear(&((duro__slot *)o->slots.data)[k].rec);
    o->slots.len = o->decisions.len = o->arrivals.len = 0;
    o->n_persisted = 0;
    o->cancel_req = 0;
    o->suspended = o->resumed_from = 0;
    o->exec++; /* after the current one, whose id 0 reads as 1 */
}

/* Phase 3: pick the execution to run and its start message (*start NULL: it has history). */
static int choose_execution(duro_orch *o, const duro__rec *msgs, duro__turn *out,
                            const duro__rec **start)
{
    const duro_orch_item *item = o->item;
    const duro__rec *can = find_start(msgs, item->n_msgs, DURO_MSG_CONTINUE_AS_NEW);
    *start = find_start(msgs, item->n_msgs, DURO_MSG_START);
    if (history_terminal(o) || item->state == DURO_STATE_COMPLETED ||
        item->state == DURO_STATE_FAILED) {
        if (!(can && item->state == DURO_STATE_CONTINUED_AS_NEW))
            return TURN_ENDS; /* terminal: consume stray messages, write nothing */
        begin_next_execution(o);
        *start = can;
    }
    if (o->n_persisted == 0 && !*start) {
        out->reason = duro__asprintf("instance %s has no history and no start message",
                                     item->instance);
        out->action = DURO__TURN_ABANDON_CORRUPT;
        return TURN_ENDS;
    }
    return 0;
}

/* Phase 4: find the orchestration function; a new execution records its Started event. */
static int bind_orchestration(duro_orch *o, const duro__rec *start, duro__turn *out,
                              duro_orch_fn *fn, void **ud)
{
    const char *resolved = NULL;
    int rc;
    if (o->n_persisted) {
        adopt_started(o);
        rc = duro__registry_orch(o->reg, o->name ? o->name : "", o->version, fn, ud, &resolved);
    } else {
        rc = duro__registry_orch(o->reg, start->name ? start->name : "", start->version, fn, ud,
                                 &resolved);
        if (rc == 0)
            rc = start_execution(o, start, resolved);
        if (rc == 0) {
            adopt_started(o);
            out->commit.state = DURO_STATE_RUNNING;
        }
    }
    if (rc == DURO_EUNREGISTERED) {
        const char *nm = o->n_persisted ? duro__slot_at(o, 1)->rec.name : start->name;
        const char *vr = o->n_persisted ? duro__slot_at(o, 1)->rec.version : start->version;
        out->action = DURO__TURN_ABANDON_UNREGISTERED;
        out->reason = duro__asprintf("orchestration \"%s\" version %s is not registered",
                                     nm ? nm : "", vr ? vr : "(latest)");
        return TURN_ENDS;
    }
    return rc;
}

/* Phase 5: turn the incoming messages into new events in FIFO order. */
static int apply_messages(duro_orch *o, const duro__rec *msgs)
{
    size_t i;
    o->replaying = o->n_persisted > 0;
    o->n_old_decisions = o->decisions.len;
    for (i = 0; i < o->item->n_msgs && !o->err_code; i++)
        if (msgs[i].json && on_message(o, &msgs[i]) == DURO_ENOMEM)
            return DURO_ENOMEM;
    return 0;
}

/* The first new activity or child failure of a system class (the run aborts), or NULL. */
static const duro__rec *system_failure(duro_orch *o)
{
    uint64_t id = o->n_persisted + 1;
    /* results that arrived while the instance was suspended are new to the code too */
    if (o->resumed_from && o->resumed_from < id)
        id = o->resumed_from;
    for (; id <= o->slots.len; id++) {
        const duro__rec *r = &duro__slot_at(o, id)->rec;
        if ((r->kind == DURO_EVENT_ACTIVITY_FAILED || r->kind == DURO_EVENT_SUB_FAILED) &&
            r->category != DURO_CAT_APPLICATION && r->category != DURO_CAT_NONE)
            return r;
    }
    return NULL;
}

/* End the execution as terminated with `reason`: no code runs, outstanding activities are
 * cancelled, children are terminated (their reason "parent <id> terminated: <reason>") and
 * a parent hears of a failure "terminated: <reason>". The stored output
 * {"what":"terminated","text":reason} tells clients the state apart from an ordinary
 * failure (providers store Failed). */
static int terminate(duro_orch *o, duro__turn *out, const char *reason)
{
    json_t *j = duro__rec_new(), *stored = duro__rec_new();
    char *text;
    if (!j || !stored || duro__rec_str(j, "text", reason) ||
        duro__rec_str(stored, "what", "terminated") || duro__rec_str(stored, "text", reason)) {
        json_decref(j);
        json_decref(stored);
        return DURO_ENOMEM;
    }
    text = duro__keep(o, duro__asprintf("parent %s terminated: %s", o->item->instance, reason));
    if (!text || cancel_outstanding(o, text)) {
        json_decref(j);
        json_decref(stored);
        return DURO_ENOMEM;
    }
    out->commit.output = keep_json(o, stored);
    if (!out->commit.output) {
        json_decref(j);
        return DURO_ENOMEM;
    }
    if (!duro__append(o, DURO_EVENT_ORCH_TERMINATED, j))
        return DURO_ENOMEM;
    out->commit.state = DURO_STATE_FAILED;
    out->category = DURO_CAT_NONE;
    out->terminal_text = reason;
    out->terminated = 1;
    if (!o->parent)
        return 0;
    text = duro__keep(o, duro__asprintf("terminated: %s", reason));
    j = duro__rec_new();
    if (!text || !j || duro__rec_int(j, "src", (int64_t)o->pid) || duro__rec_int(j, "ok", 0) ||
        duro__rec_int(j, "category", DURO_CAT_APPLICATION) || duro__rec_str(j, "text", text)) {
        json_decref(j);
        return DURO_ENOMEM;
    }
    return duro__out_msg(o, o->parent, DURO_MSG_CHILD_DONE, o->pexec, 0, j);
}

/* Phase 6: end a terminated, broken, cancelled or aborted execution; else, unless it is
 * suspended, run the code once. */
static int decide(duro_orch *o, duro__turn *out, duro_orch_fn fn, void *ud)
{
    const duro__rec *r;
    if (o->terminate_reason)
        return terminate(o, out, o->terminate_reason);
    if (o->err_code)
        return finish(o, out, DURO_STATE_FAILED, o->err_category, o->err_msg ? o->err_msg : "");
    if (o->cancel_req) {
        const char *reason = duro__slot_at(o, o->cancel_req)->rec.text;
        char *text = duro__keep(o, duro__asprintf("canceled: %s", reason ? reason : ""));
        return text ? finish(o, out, DURO_STATE_FAILED, DURO_CAT_APPLICATION, text) : DURO_ENOMEM;
    }
    if (o->suspended)
        return 0; /* what arrived is in history; the code sees it after the resume */
    if (o->start_at > o->now_ms && !o->start_due) {
        /* a scheduled start (duro_start_options.start_at_ms): the code first runs at its
         * time; the turn that created the execution sets the timer that wakes it */
        json_t *m;
        if (o->n_persisted)
            return 0;
        m = duro__rec_new();
        if (!m || duro__rec_int(m, "src", 1) || duro__rec_str(m, "what", "start")) {
            json_decref(m);
            return DURO_ENOMEM;
        }
        return duro__out_msg(o, o->item->instance, DURO_MSG_TIMER_FIRED, o->exec, o->start_at, m);
    }
    if ((r = system_failure(o)))
        return finish(o, out, DURO_STATE_FAILED, r->category, r->text ? r->text : "");
    return run_code(o, out, fn, ud);
}

/* Does start message `m` come from the parent slot that started this instance (`own`, its
 * Started event or start message; NULL when unknown)? */
static int same_parent_slot(const duro__rec *m, const duro__rec *own)
{
    return own && own->parent && strcmp(own->parent, m->parent) == 0 &&
           own->pexec == m->pexec && own->pid == m->pid;
}

/* Phase 6b: a parent's start of a child whose id is taken (by an instance a client started,
 * another parent's child, or one that has finished) must not be dropped as a duplicate, or
 * that parent waits forever: its sub-orchestration fails at once with the reason. */
static int reject_foreign_starts(duro_orch *o, const duro__rec *msgs, const duro__rec *start)
{
    const duro_orch_item *item = o->item;
    duro__rec first;
    const duro__rec *own = NULL; /* what started this instance */
    int have_first = 0, rc = 0;
    size_t i;
    if (o->slots.len)
        own = &duro__slot_at(o, 1)->rec;
    else if (item->n_history && item->history[0].kind == DURO_EVENT_ORCH_STARTED &&
             duro__rec_decode(item->history[0].payload, DURO_EVENT_ORCH_STARTED, 1, &first,
                              NULL) == 0) {
        own = &first;
        have_first = 1;
    } else if (item->state != DURO_STATE_COMPLETED && item->state != DURO_STATE_FAILED)
        own = start;
    for (i = 0; i < item->n_msgs && rc == 0; i++) {
        const duro__rec *m = &msgs[i];
        if (m->kind != DURO_MSG_START || !m->parent || same_parent_slot(m, own))
            continue;
        char *text = duro__asprintf("sub-orchestration instance \"%s\" already exists (%s)",
                                    item->instance,
                                    own && own->parent ? "the child of another parent"
                                                       : "started by a client");
        json_t *j = duro__rec_new();
        if (!text || !j || duro__rec_int(j, "src", (int64_t)m->pid) || duro__rec_int(j, "ok", 0) ||
            duro__rec_int(j, "category", DURO_CAT_APPLICATION) ||
            duro__rec_str(j, "text", text)) {
            json_decref(j);
            rc = DURO_ENOMEM;
        } else
            rc = duro__out_msg(o, m->parent, DURO_MSG_CHILD_DONE, m->pexec, 0, j);
        free(text);
    }
    if (have_first)
        duro__rec_clear(&first);
    return rc;
}

int duro__turn_run(const duro_registry *reg, const duro_orch_item *item, int64_t now_ms,
                   duro__log_fn log, void *log_ud, duro__turn *out)
{
    const duro__turn_env all = {1, NULL, NULL, NULL};
    return duro__turn_run_for(reg, item, now_ms, log, log_ud, &all, out);
}

int duro__turn_run_for(const duro_registry *reg, const duro_orch_item *item, int64_t now_ms,
                       duro__log_fn log, void *log_ud, const duro__turn_env *env,
                       duro__turn *out)
{
    duro__rec *msgs;
    const duro__rec *start = NULL;
    duro_orch *o;
    duro_orch_fn fn = NULL;
    void *ud = NULL;
    size_t i;
    int rc;

    memset(out, 0, sizeof *out);
    duro__vec_init(&out->events, sizeof(duro_event_in));
    o = out->o = orch_new(reg, item, now_ms, log, log_ud);
    if (!o)
        return DURO_ENOMEM;
    o->no_tags_provider = env->no_tags_provider;
    o->no_sessions_provider = env->no_sessions_provider;
    out->action = DURO__TURN_COMMIT;
    o->kv_supported = env->kv_supported;
    o->values = env->values;
    o->exec = item->execution_id ? item->execution_id : 1;
    msgs = calloc(item->n_msgs ? item->n_msgs : 1, sizeof *msgs);
    if (!msgs)
        return DURO_ENOMEM;

    rc = decode_messages(item, msgs, out);
    if (rc == 0)
        rc = read_history(o, out);
    if (rc == 0)
        rc = choose_execution(o, msgs, out, &start);
    if (rc == 0)
        rc = bind_orchestration(o, start, out, &fn, &ud);
    if (rc == 0)
        rc = apply_messages(o, msgs);
    if (rc == 0)
        rc = decide(o, out, fn, ud);
    if ((rc == 0 || rc == TURN_ENDS) && out->action == DURO__TURN_COMMIT) {
        int rejected = reject_foreign_starts(o, msgs, start);
        if (rejected)
            rc = rejected;
    }
    if (rc == 0)
        rc = build_commit(o, out);
    if (rc == TURN_ENDS)
        rc = 0;

    for (i = 0; i < item->n_msgs; i++)
        duro__rec_clear(&msgs[i]);
    free(msgs);
    /* a turn that ended early without abandoning still commits: it consumes the messages */
    if (rc == 0 && out->action == DURO__TURN_COMMIT && !out->commit.execution_id)
        rc = build_commit(o, out);
    return rc;
}

/* Event id of a poison verdict appended to a history whose stored ids are unknown (the
 * provider could not read any row): far above any real history, so it cannot collide. */
#define POISON_EVENT_ID UINT64_C(1000000000)

int duro__turn_poison(const duro_registry *reg, const duro_orch_item *item, int64_t now_ms,
                      uint32_t max_attempts, const char *why, duro__turn *out)
{
    duro_orch *o;
    char *text;
    size_t i;
    int rc = 0, corrupt = 0;
    memset(out, 0, sizeof *out);
    duro__vec_init(&out->events, sizeof(duro_event_in));
    o = out->o = orch_new(NULL, item, now_ms, NULL, NULL);
    if (!o)
        return DURO_ENOMEM;
    out->action = DURO__TURN_COMMIT;
    o->exec = item->execution_id ? item->execution_id : 1;
    /* Decode what can be decoded to learn the parent; never rewrite stored rows. */
    if (item->history_error || load_history(o, out) != 0) {
        corrupt = 1;
        for (i = 0; i < o->slots.len; i++)
            duro__rec_clear(&((duro__slot *)o->slots.data)[i].rec);
        o->slots.len = o->decisions.len = o->arrivals.len = 0;
    }
    if (out->reason) {
        if (!why)
            why = out->reason;
        if (!duro__keep(o, out->reason)) {
            out->reason = NULL;
            return DURO_ENOMEM;
        }
        out->reason = NULL;
    }
    if (!corrupt && o->slots.len) {
        adopt_started(o);
        if (history_terminal(o))
            return build_commit(o, out); /* already terminal: drain */
    } else if (!corrupt || item->n_history == 0) {
        const duro__rec *start = NULL;
        duro__rec tmp;
        for (i = 0; i < item->n_msgs && !start; i++) {
            if (item->msgs[i].kind != DURO_MSG_START)
                continue;
            if (duro__rec_decode(item->msgs[i].payload, DURO_MSG_START, 0, &tmp, NULL) == 0)
                start = &tmp;
        }
        if (start) {
            rc = start_execution(o, start, start->version ? start->version : "unknown");
            duro__rec_clear(&tmp);
            if (rc)
                return rc;
            adopt_started(o);
        }
    }
    if (!why && reg && o->name) {
        duro_orch_fn fn;
        void *ud;
        const char *resolved;
        const char *v = o->n_persisted ? o->version : NULL;
        if (duro__registry_orch(reg, o->name, v, &fn, &ud, &resolved) != 0)
            why = duro__keep(o, duro__asprintf("orchestration \"%s\" version %s is not registered",
                                               o->name, v ? v : "(latest)"));
    }
    text = duro__keep(o, utf8_repair(duro__asprintf(
                             "poison: orchestration %s exceeded %u attempts (max %u)%s%s",
                             item->instance, item->attempt, max_attempts, why ? ": " : "",
                             why ? why : "")));
    if (!text)
        return DURO_ENOMEM;
    if (corrupt) {
        /* append after the unreadable rows: event id = highest stored id + 1 */
        uint64_t next = 0;
        json_t *j = failure_json(DURO_CAT_POISON, text), *f = failure_json(DURO_CAT_POISON, text);
        duro_event_in *e;
        char *payload = duro__json_text(j);
        json_decref(j);
        for (i = 0; i < item->n_history; i++)
            if (item->history[i].event_id > next)
                next = item->history[i].event_id;
        if (!duro__keep(o, payload) || !(e = duro__vec_push(&out->events))) {
            json_decref(f);
            return DURO_ENOMEM;
        }
        e->event_id = item->n_history ? next + 1 : POISON_EVENT_ID;
        e->kind = DURO_EVENT_ORCH_FAILED;
        e->payload = payload;
        out->commit.execution_id = o->exec;
        out->commit.events = out->events.data;
        out->commit.n_events = 1;
        out->commit.state = DURO_STATE_FAILED;
        out->commit.output = keep_json(o, f);
        out->category = DURO_CAT_POISON;
        out->terminal_text = text;
        return out->commit.output ? 0 : DURO_ENOMEM;
    }
    rc = finish(o, out, DURO_STATE_FAILED, DURO_CAT_POISON, text);
    return rc ? rc : build_commit(o, out);
}

int duro__turn_poison_bare(const duro_orch_item *item, const char *text, duro__turn *out)
{
    duro_orch *o;
    duro__rec started;
    int rc = 0;
    memset(out, 0, sizeof *out);
    duro__vec_init(&out->events, sizeof(duro_event_in));
    o = out->o = orch_new(NULL, item, 0, NULL, NULL);
    if (!o)
        return DURO_ENOMEM;
    out->action = DURO__TURN_COMMIT;
    o->exec = item->execution_id ? item->execution_id : 1;
    out->terminal_text = text = duro__keep(o, utf8_repair(duro__strdup(text)));
    if (!text)
        return DURO_ENOMEM;
    out->commit.output = keep_json(o, failure_json(DURO_CAT_POISON, text));
    if (!out->terminal_text || !out->commit.output)
        return DURO_ENOMEM;
    if (item->n_history && item->history[0].kind == DURO_EVENT_ORCH_STARTED &&
        duro__rec_decode(item->history[0].payload, DURO_EVENT_ORCH_STARTED, 1, &started,
                         NULL) == 0) {
        /* a parent id no message can go to would make the store refuse even this */
        if (started.parent && duro__check_id(started.parent, "parent instance id", NULL) == 0) {
            json_t *m = duro__rec_new();
            if (!m || duro__rec_int(m, "src", (int64_t)started.pid) ||
                duro__rec_int(m, "ok", 0) || duro__rec_int(m, "category", DURO_CAT_POISON) ||
                duro__rec_str(m, "text", text)) {
                json_decref(m);
                rc = DURO_ENOMEM;
            } else
                rc = duro__out_msg(o, started.parent, DURO_MSG_CHILD_DONE, started.pexec, 0, m);
        }
        duro__rec_clear(&started);
        if (rc)
            return rc;
    }
    out->commit.execution_id = o->exec;
    out->commit.msgs = o->out_msgs.data;
    out->commit.n_msgs = o->out_msgs.len;
    /* an instance that never started gets a row, under a name that says why */
    out->commit.orch_name = item->orch_name ? NULL : "(unreadable start)";
    out->commit.state = DURO_STATE_FAILED;
    out->category = DURO_CAT_POISON;
    return 0;
}
