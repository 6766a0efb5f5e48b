/*
 * integrity.c — what the store must look like after a stress run.
 *
 * 1. The provider's physical check (duro_provider_integrity_check, e.g. PRAGMA
 *    integrity_check), when it has one (DURO_ENOTSUP: skipped).
 * 2. Every launched root and, through its SubOrchestrationScheduled events, every child:
 *    the stored state agrees with what the observer reported (a completed root is stored as
 *    completed with the same verified output), and every execution's history is well formed:
 *    event ids 1..n without gaps, each payload a JSON object, OrchestrationStarted first and
 *    only first (with the right parent link for children), at most one terminal event and
 *    only last, every reference (`src`) pointing at an earlier event of the right kind, at
 *    most one outcome per activity dispatch, timer and child, and, in an execution that
 *    completed, exactly one (the stress workloads await everything they schedule).
 *    Event kinds are recognised by their public names (duro_event_kind_name).
 * 3. When every root completed: no message, work item or delayed message left, not even one
 *    hidden by a lock (queue depths at now and ten years later are all zero), and no
 *    instance still running.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

#define MAX_DEPTH 8
#define TEN_YEARS_MS (INT64_C(3650) * 24 * 3600 * 1000)

enum role {
    R_UNKNOWN = 0,
    R_STARTED,
    R_COMPLETED,
    R_FAILED,
    R_CONTINUED,
    R_CANCEL_REQ,
    R_ACT_TASK,      /* ActivityScheduled: the task and its first dispatch */
    R_ACT_RETRY,     /* src = task */
    R_ACT_DISPATCH,  /* src = task: attempt >= 2 */
    R_ACT_OUTCOME,   /* src = dispatch (task or dispatch event) */
    R_ACT_CANCELLED, /* src = task */
    R_TIMER,
    R_TIMER_FIRED,   /* src = timer */
    R_WAIT,
    R_RAISED,
    R_SUB,
    R_SUB_OUTCOME,   /* src = sub */
    R_SUB_CANCELLED, /* src = sub */
    R_DETACHED,
    R_VALUE
};

#define BIT(r) (1u << (r))

static const struct {
    const char *name;
    enum role role;
    unsigned src_roles; /* kinds `src` may point at; 0 = no src */
} kinds[] = {
    {"OrchestrationStarted", R_STARTED, 0},
    {"OrchestrationCompleted", R_COMPLETED, 0},
    {"OrchestrationFailed", R_FAILED, 0},
    {"OrchestrationContinuedAsNew", R_CONTINUED, 0},
    {"OrchestrationCancelRequested", R_CANCEL_REQ, 0},
    {"ActivityScheduled", R_ACT_TASK, 0},
    {"ActivityRetryScheduled", R_ACT_RETRY, BIT(R_ACT_TASK)},
    {"ActivityDispatched", R_ACT_DISPATCH, BIT(R_ACT_TASK)},
    {"ActivityCompleted", R_ACT_OUTCOME, BIT(R_ACT_TASK) | BIT(R_ACT_DISPATCH)},
    {"ActivityFailed", R_ACT_OUTCOME, BIT(R_ACT_TASK) | BIT(R_ACT_DISPATCH)},
    {"ActivityTimedOut", R_ACT_OUTCOME, BIT(R_ACT_TASK) | BIT(R_ACT_DISPATCH)},
    {"ActivityCancelled", R_ACT_CANCELLED, BIT(R_ACT_TASK)},
    {"TimerCreated", R_TIMER, 0},
    {"TimerFired", R_TIMER_FIRED, BIT(R_TIMER)},
    {"ExternalEventWait", R_WAIT, 0},
    {"ExternalEventRaised", R_RAISED, 0},
    {"SubOrchestrationScheduled", R_SUB, 0},
    {"SubOrchestrationCompleted", R_SUB_OUTCOME, BIT(R_SUB)},
    {"SubOrchestrationFailed", R_SUB_OUTCOME, BIT(R_SUB)},
    {"SubOrchestrationCancelled", R_SUB_CANCELLED, BIT(R_SUB)},
    {"OrchestrationDetached", R_DETACHED, 0},
    {"ValueRecorded", R_VALUE, 0},
    /* durable value changes: decisions of their own, like a recorded value */
    {"ValueSet", R_VALUE, 0},
    {"ValueCleared", R_VALUE, 0},
    {"ValuesCleared", R_VALUE, 0},
    {"ValueRead", R_VALUE, 0}, /* duro_read_value: a recorded read of another instance */
};

typedef struct checker {
    duro_provider *store;
    duro_client *client;
    duro_stress_result *res;
    uint64_t problems;
    size_t msg_len;
} checker;

static void problem(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record a problem; the first ones are kept in res->integrity_message. */
static void problem(checker *c, const char *fmt, ...)
{
    c->problems++;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    duro__appendf(c->res->integrity_message, sizeof c->res->integrity_message, &c->msg_len,
                  "%s", msg);
}

static enum role role_of(int kind, unsigned *src_roles)
{
    const char *name = duro_event_kind_name(kind);
    for (size_t i = 0; name != NULL && i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(kinds[i].name, name) == 0) {
            *src_roles = kinds[i].src_roles;
            return kinds[i].role;
        }
    }
    *src_roles = 0;
    return R_UNKNOWN;
}

static int is_terminal(enum role r)
{
    return r == R_COMPLETED || r == R_FAILED || r == R_CONTINUED;
}

/* An unsigned integer field of a JSON object, or -1 when absent or not one. */
static int64_t json_u(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
}

/* Children found in one execution, to visit after it. */
typedef struct child_ref {
    char *instance;
    uint64_t pid;
} child_ref;

typedef struct exec_view {
    const char *instance;
    uint64_t execution;
    const char *parent;      /* expected parent instance, NULL for roots */
    uint64_t pexec, pid;     /* expected parent execution and scheduling event */
    enum role terminal;      /* filled: the terminal event's role, R_UNKNOWN if none */
    child_ref *children;     /* filled: SubOrchestrationScheduled targets (malloc) */
    size_t n_children;
} exec_view;

static int add_child(exec_view *v, const char *instance, uint64_t pid)
{
    child_ref *n = realloc(v->children, (v->n_children + 1) * sizeof *n);
    if (n == NULL)
        return DURO_ENOMEM;
    v->children = n;
    n[v->n_children].instance = strdup(instance);
    if (n[v->n_children].instance == NULL)
        return DURO_ENOMEM;
    n[v->n_children].pid = pid;
    v->n_children++;
    return 0;
}

static void check_started(checker *c, const exec_view *v, const json_t *o)
{
    if (!json_is_string(json_object_get(o, "name")))
        problem(c, "%s#%" PRIu64 ": OrchestrationStarted without a name", v->instance,
                v->execution);
    const json_t *parent = json_object_get(o, "parent");
    if (v->parent == NULL) {
        if (parent != NULL && v->execution == 1)
            problem(c, "%s: root started with a parent link", v->instance);
        return;
    }
    if (v->execution == 1 &&
        (!json_is_string(parent) || strcmp(json_string_value(parent), v->parent) != 0 ||
         json_u(o, "pexec") != (int64_t)v->pexec || json_u(o, "pid") != (int64_t)v->pid))
        problem(c, "%s: parent link is not %s#%" PRIu64 " event %" PRIu64, v->instance,
                v->parent, v->pexec, v->pid);
}

/* Check one execution's history; collects its children. */
static int check_history(checker *c, exec_view *v)
{
    duro_event *ev = NULL;
    size_t n = 0;
    duro_error err = {0};
    int rc = duro_client_history(c->client, v->instance, v->execution, &ev, &n, &err);
    if (rc != 0) {
        problem(c, "%s#%" PRIu64 ": history unreadable: %s", v->instance, v->execution,
                err.message);
        return rc == DURO_ENOMEM ? rc : 0;
    }
    c->res->histories_checked++;
    c->res->events_checked += n;
    v->terminal = R_UNKNOWN;
    if (n == 0) {
        problem(c, "%s#%" PRIu64 ": empty history", v->instance, v->execution);
        return 0;
    }
    unsigned char *roles = calloc(n + 1, 1);
    unsigned *outcomes = calloc(n + 1, sizeof *outcomes);
    if (roles == NULL || outcomes == NULL) {
        rc = DURO_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t id = ev[i].event_id;
        if (id != i + 1) {
            problem(c, "%s#%" PRIu64 ": event %zu has id %" PRIu64, v->instance, v->execution,
                    i + 1, id);
            break;
        }
        unsigned src_roles;
        enum role r = role_of(ev[i].kind, &src_roles);
        roles[id] = (unsigned char)r;
        json_error_t jerr;
        json_t *o = ev[i].payload != NULL ? json_loads(ev[i].payload, 0, &jerr) : NULL;
        if (!json_is_object(o)) {
            problem(c, "%s#%" PRIu64 " event %" PRIu64 ": payload is not a JSON object",
                    v->instance, v->execution, id);
            json_decref(o);
            continue;
        }
        if (r == R_UNKNOWN)
            problem(c, "%s#%" PRIu64 " event %" PRIu64 ": unknown kind %d", v->instance,
                    v->execution, id, ev[i].kind);
        if ((r == R_STARTED) != (id == 1))
            problem(c, "%s#%" PRIu64 " event %" PRIu64 ": OrchestrationStarted %s",
                    v->instance, v->execution, id, id == 1 ? "missing" : "repeated");
        if (r == R_STARTED)
            check_started(c, v, o);
        if (is_terminal(r)) {
            if (id != n)
                problem(c, "%s#%" PRIu64 ": terminal event %" PRIu64 " is not the last of %zu",
                        v->instance, v->execution, id, n);
            v->terminal = r;
        }
        if (src_roles != 0) {
            int64_t src = json_u(o, "src");
            if (src < 1 || (uint64_t)src >= id || !(src_roles & BIT(roles[src])))
                problem(c, "%s#%" PRIu64 " event %" PRIu64 " (%s): src %" PRId64
                        " is not an earlier matching schedule", v->instance, v->execution, id,
                        duro_event_kind_name(ev[i].kind), src);
            else if ((r == R_ACT_OUTCOME || r == R_TIMER_FIRED || r == R_SUB_OUTCOME) &&
                     ++outcomes[src] > 1)
                problem(c, "%s#%" PRIu64 ": event %" PRId64 " has %u outcomes", v->instance,
                        v->execution, src, outcomes[src]);
        }
        if (r == R_SUB) {
            const json_t *child = json_object_get(o, "instance");
            if (!json_is_string(child))
                problem(c, "%s#%" PRIu64 " event %" PRIu64 ": sub-orchestration without an "
                        "instance", v->instance, v->execution, id);
            else
                rc = add_child(v, json_string_value(child), id);
        }
        json_decref(o);
    }
    /* A finished execution of these workloads awaited everything it scheduled. */
    if (rc == 0 && (v->terminal == R_COMPLETED || v->terminal == R_CONTINUED)) {
        for (uint64_t id = 1; id <= n; id++) {
            enum role r = roles[id];
            if ((r == R_ACT_TASK || r == R_ACT_DISPATCH || r == R_TIMER || r == R_SUB) &&
                outcomes[id] != 1)
                problem(c, "%s#%" PRIu64 ": %s event %" PRIu64 " has %u outcomes in a finished "
                        "execution", v->instance, v->execution,
                        duro_event_kind_name(ev[id - 1].kind), id, outcomes[id]);
        }
    }
out:
    free(roles);
    free(outcomes);
    duro_events_free(ev, n);
    return rc;
}

static void free_children(exec_view *v)
{
    for (size_t i = 0; i < v->n_children; i++)
        free(v->children[i].instance);
    free(v->children);
    v->children = NULL;
    v->n_children = 0;
}

/* Check an instance (every execution) and, recursively, its children. `expect` is the state
 * the instance must be stored in (0 = any terminal state is fine, -1 = do not check). */
static int check_instance(checker *c, const char *instance, const char *parent, uint64_t pexec,
                          uint64_t pid, int expect, int depth)
{
    duro_instance_info info;
    memset(&info, 0, sizeof info);
    duro_error err = {0};
    int rc = c->store->ops->instance_info(c->store, instance, &info, &err);
    if (rc != 0) {
        problem(c, "%s: no instance metadata: %s", instance, err.message);
        return rc == DURO_ENOMEM ? rc : 0;
    }
    if (expect > 0 && (int)info.state != expect)
        problem(c, "%s: stored as %s, the observer reported %s", instance,
                duro_state_name(info.state), duro_state_name(expect));
    else if (expect == 0 && info.state != DURO_STATE_COMPLETED && info.state != DURO_STATE_FAILED)
        problem(c, "%s: stored as %s after the run", instance, duro_state_name(info.state));
    if ((c->store->caps & DURO_CAP_MANAGEMENT) && c->store->ops->list_executions != NULL) {
        uint64_t *ids = NULL;
        size_t n = 0;
        if (c->store->ops->list_executions(c->store, instance, &ids, &n, &err) == 0) {
            if (n != info.execution_id)
                problem(c, "%s: %zu executions listed, current is %" PRIu64, instance, n,
                        info.execution_id);
            free(ids);
        }
    }
    for (uint64_t e = 1; e <= info.execution_id && rc == 0; e++) {
        exec_view v = {.instance = instance, .execution = e, .parent = parent, .pexec = pexec,
                       .pid = pid};
        rc = check_history(c, &v);
        int current = e == info.execution_id;
        if (rc == 0 && !current && v.terminal != R_CONTINUED)
            problem(c, "%s#%" PRIu64 ": earlier execution does not end in continue-as-new",
                    instance, e);
        if (rc == 0 && current && expect >= 0 &&
            (info.state == DURO_STATE_COMPLETED || info.state == DURO_STATE_FAILED) &&
            v.terminal != (info.state == DURO_STATE_COMPLETED ? R_COMPLETED : R_FAILED))
            problem(c, "%s: state %s but the history does not end that way", instance,
                    duro_state_name(info.state));
        for (size_t i = 0; i < v.n_children && rc == 0; i++) {
            if (depth >= MAX_DEPTH) {
                problem(c, "%s: sub-orchestrations nested deeper than %d", instance, MAX_DEPTH);
                break;
            }
            rc = check_instance(c, v.children[i].instance, instance, e, v.children[i].pid,
                                info.state == DURO_STATE_COMPLETED ? DURO_STATE_COMPLETED : -1,
                                depth + 1);
        }
        free_children(&v);
    }
    duro_instance_info_clear(&info);
    return rc;
}

static void check_queues(checker *c)
{
    duro_provider *p = c->store;
    duro_error err = {0};
    int64_t now = duro_clock_now_ms();
    const int64_t at[2] = {now, now + TEN_YEARS_MS};
    for (int i = 0; i < 2; i++) {
        duro_queue_depths d = {0};
        if (p->ops->queue_depths(p, at[i], &d, &err) != 0) {
            problem(c, "queue depths unreadable: %s", err.message);
            return;
        }
        if (d.orchestrator || d.worker || d.delayed)
            problem(c, "%s queues not empty after the drain: orchestrator %" PRIu64
                    ", worker %" PRIu64 ", delayed %" PRIu64,
                    i == 0 ? "visible" : "locked or delayed", d.orchestrator, d.worker,
                    d.delayed);
    }
    if (p->ops->metrics != NULL) {
        duro_metrics m = {0};
        if (p->ops->metrics(p, &m, &err) != 0)
            problem(c, "store metrics unreadable: %s", err.message);
        else if (m.running != 0)
            problem(c, "%" PRIu64 " instance(s) still running after the drain", m.running);
    }
}

int duro__integrity_check(const duro_provider_factory *factory, duro_provider *store,
                          int scenario, const duro_stress_config *cfg,
                          const duro__root_view *roots, size_t n_roots, duro_stress_result *res)
{
    checker c = {.store = store, .res = res};
    res->integrity_message[0] = '\0';
    char msg[256] = "";
    int physical = duro_provider_integrity_check(store, msg, sizeof msg);
    if (physical != 0 && physical != DURO_ENOTSUP)
        problem(&c, "store integrity check failed: %s", msg);
    int new_rc = duro_client_new(store, &c.client, NULL);
    if (new_rc != 0)
        return new_rc;
    int rc = 0, all_completed = 1;
    for (size_t i = 0; i < n_roots && rc == 0; i++) {
        const duro__root_view *r = &roots[i];
        if (r->observed != DURO_STATE_COMPLETED || !r->verified)
            all_completed = 0;
        if (r->observed == 0)
            continue; /* never reported terminal (start error or timeout): nothing to compare */
        rc = check_instance(&c, r->instance, NULL, 0, 0, r->observed, 0);
        if (rc != 0 || r->observed != DURO_STATE_COMPLETED || !r->verified)
            continue;
        duro_instance_info info;
        memset(&info, 0, sizeof info);
        duro_error err = {0};
        if (store->ops->instance_info(store, r->instance, &info, &err) == 0) {
            char why[256];
            if (duro__scenario_verify(scenario, r->idx, cfg, info.output, why, sizeof why) != 0)
                problem(&c, "%s: stored output differs from the reported one: %s",
                        r->instance, why);
            duro_instance_info_clear(&info);
        }
    }
    if (rc == 0 && all_completed && (store->caps & DURO_CAP_MANAGEMENT) &&
        store->ops->queue_depths != NULL)
        check_queues(&c);
    duro_client_free(c.client);
    res->integrity_ok = c.problems == 0;
    return rc;
}
