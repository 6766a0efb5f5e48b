/*
 * fault.c — the fault-injecting provider wrapper of duro-fault.h.
 *
 * Each wrapped call asks fault_for() whether it fails: first the op's schedule (the calls
 * duro_fault_fail_next asked for), then its two rates, drawn from a hash of the seed, the op
 * and the op's call number, so a given seed hits the same calls every run. A BEFORE fault
 * returns at once; an AFTER fault lets the call through and, when the store applied it,
 * replaces its success with the injected error (settle()).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "duro-fault.h"
#include "duro-util.h"

typedef struct fault_op_state {
    uint64_t before_threshold; /* fail BEFORE when hash % 1000000 < this */
    uint64_t after_threshold;  /* else AFTER when hash % 1000000 < before + this */
    unsigned scheduled;        /* next calls to fail on schedule (under mu) */
    duro_fault_kind scheduled_kind;
    atomic_uint_fast64_t calls;
    atomic_uint_fast64_t injected[2]; /* BEFORE, AFTER */
} fault_op_state;

typedef struct fault_wrapper {
    duro_provider base; /* first member: a wrapper is a duro_provider */
    duro_provider_ops ops;
    duro_provider *inner;
    int latency_ms;
    uint64_t seed;
    uint64_t crash_after_call;     /* 0: never */
    atomic_uint_fast64_t all_calls; /* every call that went through fault_for */
    pthread_mutex_t mu;          /* guards the schedules */
    atomic_uint scheduled_total; /* any schedule pending? (fast path) */
    fault_op_state op[DURO_FAULT_N_OPS];
} fault_wrapper;

static const char *const op_names[DURO_FAULT_N_OPS] = {
    "enqueue_orch", "fetch_orch",    "ack_orch",  "abandon_orch", "renew_orch",
    "enqueue_work", "fetch_work",    "ack_work",  "abandon_work", "renew_work",
    "read_history", "instance_info", "management"};

const char *duro_fault_op_name(duro_fault_op op)
{
    return (unsigned)op < DURO_FAULT_N_OPS ? op_names[op] : "?";
}

/* May `op` fail AFTER the store applied it? Only calls that change the store and hand back
 * nothing the wrapper would have to free. */
static int after_allowed(duro_fault_op op)
{
    switch (op) {
    case DURO_FAULT_ENQUEUE_ORCH:
    case DURO_FAULT_ACK_ORCH:
    case DURO_FAULT_ABANDON_ORCH:
    case DURO_FAULT_RENEW_ORCH:
    case DURO_FAULT_ENQUEUE_WORK:
    case DURO_FAULT_ACK_WORK:
    case DURO_FAULT_ABANDON_WORK:
    case DURO_FAULT_RENEW_WORK:
        return 1;
    default:
        return 0;
    }
}

static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

#define FW(p) ((fault_wrapper *)(p))
#define IN(p) (FW(p)->inner)

/* Count an injected fault on `op` and fill `err`: BEFORE is DURO_EBUSY, AFTER DURO_EIO, both
 * retryable. Returns the code. */
static int inject(duro_provider *p, duro_fault_op op, duro_fault_kind kind, duro_error *err)
{
    atomic_fetch_add_explicit(&FW(p)->op[op].injected[kind == DURO_FAULT_AFTER], 1,
                              memory_order_relaxed);
    if (kind == DURO_FAULT_AFTER)
        return duro_error_set(err, DURO_EIO, 1, "%s: connection lost after %s was applied (%s)",
                              IN(p)->name, op_names[op], DURO_FAULT_SIGNATURE);
    return duro_error_set(err, DURO_EBUSY, 1, "%s: storage busy at %s (%s)", IN(p)->name,
                          op_names[op], DURO_FAULT_SIGNATURE);
}

/* Marks an AFTER fault pending on the schedule: settle() takes it from the schedule only
 * when the store applied the call, so that it strikes the next call the store applies. */
#define FROM_SCHEDULE 0x10
/* Marks the call after which the process dies (crash_after_call). */
#define CRASH_AFTER 0x20

/* The simulated round trip, then the fault for this call of `op`: 0 (none), DURO_FAULT_AFTER
 * (possibly | FROM_SCHEDULE; applied by settle()), or the negative code of a BEFORE fault
 * already in `err`. */
static int fault_for(duro_provider *p, duro_fault_op op, duro_error *err)
{
    fault_wrapper *w = FW(p);
    fault_op_state *s = &w->op[op];
    duro__sleep_ms(w->latency_ms);
    int kind = 0, crash = 0;
    uint64_t nth = atomic_fetch_add_explicit(&w->all_calls, 1, memory_order_relaxed) + 1;
    if (w->crash_after_call != 0 && nth == w->crash_after_call)
        crash = CRASH_AFTER;
    if (atomic_load_explicit(&w->scheduled_total, memory_order_acquire) > 0) {
        pthread_mutex_lock(&w->mu);
        if (s->scheduled > 0 && s->scheduled_kind == DURO_FAULT_AFTER)
            kind = DURO_FAULT_AFTER | FROM_SCHEDULE; /* taken by settle() */
        else if (s->scheduled > 0) {
            s->scheduled--;
            atomic_fetch_sub_explicit(&w->scheduled_total, 1, memory_order_release);
            kind = DURO_FAULT_BEFORE;
        }
        pthread_mutex_unlock(&w->mu);
    }
    if (kind == 0 && (s->before_threshold | s->after_threshold) != 0) {
        uint64_t n = atomic_fetch_add_explicit(&s->calls, 1, memory_order_relaxed);
        uint64_t h = mix(w->seed ^ mix(((uint64_t)op << 56) ^ n)) % 1000000u;
        if (h < s->before_threshold)
            kind = DURO_FAULT_BEFORE;
        else if (h < s->before_threshold + s->after_threshold)
            kind = DURO_FAULT_AFTER;
    }
    if (kind == DURO_FAULT_BEFORE && !crash)
        return inject(p, op, DURO_FAULT_BEFORE, err);
    return crash ? CRASH_AFTER | (kind == DURO_FAULT_BEFORE ? 0 : kind) : kind;
}

/* The result of a call that went through with fault `kind`: the store's own result, unless
 * it succeeded and the fault is AFTER. */
static int settle(duro_provider *p, duro_fault_op op, int kind, int rc, duro_error *err)
{
    if (kind & CRASH_AFTER)
        raise(SIGKILL); /* the store answered; the caller never hears it */
    if ((kind & ~FROM_SCHEDULE) != DURO_FAULT_AFTER || rc != 0)
        return rc;
    if (kind & FROM_SCHEDULE) {
        fault_wrapper *w = FW(p);
        int taken = 0;
        pthread_mutex_lock(&w->mu);
        if (w->op[op].scheduled > 0) { /* a concurrent call may have taken the last one */
            w->op[op].scheduled--;
            atomic_fetch_sub_explicit(&w->scheduled_total, 1, memory_order_release);
            taken = 1;
        }
        pthread_mutex_unlock(&w->mu);
        if (!taken)
            return rc;
    }
    return inject(p, op, DURO_FAULT_AFTER, err);
}

static void fw_destroy(duro_provider *p)
{
    pthread_mutex_destroy(&FW(p)->mu);
    free(p);
}

static int fw_enqueue_orch(duro_provider *p, const duro_msg *msg, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_ENQUEUE_ORCH, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_ENQUEUE_ORCH, kind,
                             IN(p)->ops->enqueue_orch(IN(p), msg, err), err);
}

static int fw_fetch_orch(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                         duro_orch_item **out, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_FETCH_ORCH, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_FETCH_ORCH, kind, IN(p)->ops->fetch_orch(IN(p), now_ms, lock_ms, poll_ms, out, err), err);
}

/* Version 7: a targeted start counts as an enqueue, a filtered fetch as a fetch. */
static int fw_enqueue_orch_start(duro_provider *p, const duro_msg *msg,
                                 const duro_orch_ref *target, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_ENQUEUE_ORCH, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_ENQUEUE_ORCH, kind,
                             IN(p)->ops->enqueue_orch_start(IN(p), msg, target, err), err);
}

static int fw_fetch_orch_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                  int64_t poll_ms, const duro_version_filter *filter,
                                  duro_orch_item **out, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_FETCH_ORCH, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_FETCH_ORCH, kind,
                             IN(p)->ops->fetch_orch_filtered(IN(p), now_ms, lock_ms, poll_ms,
                                                             filter, out, err),
                             err);
}

static int fw_ack_orch(duro_provider *p, int64_t now_ms, const char *token,
                       const duro_orch_commit *commit, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_ACK_ORCH, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_ACK_ORCH, kind,
                             IN(p)->ops->ack_orch(IN(p), now_ms, token, commit, err), err);
}

static int fw_abandon_orch(duro_provider *p, int64_t now_ms, const char *token, int64_t delay_ms,
                           int ignore_attempt, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_ABANDON_ORCH, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_ABANDON_ORCH, kind,
                             IN(p)->ops->abandon_orch(IN(p), now_ms, token, delay_ms,
                                                      ignore_attempt, err),
                             err);
}

static int fw_renew_orch(duro_provider *p, int64_t now_ms, const char *token, int64_t extend_ms,
                         duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_RENEW_ORCH, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_RENEW_ORCH, kind,
                             IN(p)->ops->renew_orch(IN(p), now_ms, token, extend_ms, err), err);
}

static int fw_enqueue_work(duro_provider *p, const duro_work_in *work, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_ENQUEUE_WORK, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_ENQUEUE_WORK, kind,
                             IN(p)->ops->enqueue_work(IN(p), work, err), err);
}

static int fw_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                         duro_work_item **out, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_FETCH_WORK, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_FETCH_WORK, kind, IN(p)->ops->fetch_work(IN(p), now_ms, lock_ms, poll_ms, out, err), err);
}

static int fw_ack_work(duro_provider *p, int64_t now_ms, const char *token,
                       const duro_msg *completion, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_ACK_WORK, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_ACK_WORK, kind,
                             IN(p)->ops->ack_work(IN(p), now_ms, token, completion, err), err);
}

static int fw_abandon_work(duro_provider *p, int64_t now_ms, const char *token, int64_t delay_ms,
                           int ignore_attempt, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_ABANDON_WORK, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_ABANDON_WORK, kind,
                             IN(p)->ops->abandon_work(IN(p), now_ms, token, delay_ms,
                                                      ignore_attempt, err),
                             err);
}

static int fw_renew_work(duro_provider *p, int64_t now_ms, const char *token, int64_t extend_ms,
                         duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_RENEW_WORK, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_RENEW_WORK, kind,
                             IN(p)->ops->renew_work(IN(p), now_ms, token, extend_ms, err), err);
}

static int fw_read_history(duro_provider *p, const char *instance, uint64_t execution_id,
                           duro_event **events, size_t *n, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_READ_HISTORY, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_READ_HISTORY, kind, IN(p)->ops->read_history(IN(p), instance, execution_id, events, n, err), err);
}

static int fw_instance_info(duro_provider *p, const char *instance, duro_instance_info *out,
                            duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_INSTANCE_INFO, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_INSTANCE_INFO, kind, IN(p)->ops->instance_info(IN(p), instance, out, err), err);
}

static void fw_interrupt(duro_provider *p)
{
    IN(p)->ops->interrupt(IN(p));
}

static uint64_t fw_commit_seq(duro_provider *p)
{
    return IN(p)->ops->commit_seq(IN(p));
}

static int fw_wait_commit(duro_provider *p, uint64_t seq, int64_t timeout_ms)
{
    return IN(p)->ops->wait_commit(IN(p), seq, timeout_ms);
}

static int fw_list_instances(duro_provider *p, int state_filter, char ***ids, size_t *n,
                             duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_MANAGEMENT, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_MANAGEMENT, kind, IN(p)->ops->list_instances(IN(p), state_filter, ids, n, err), err);
}

static int fw_list_executions(duro_provider *p, const char *instance, uint64_t **ids, size_t *n,
                              duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_MANAGEMENT, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_MANAGEMENT, kind, IN(p)->ops->list_executions(IN(p), instance, ids, n, err), err);
}

static int fw_execution_info(duro_provider *p, const char *instance, uint64_t execution_id,
                             duro_execution_info *out, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_MANAGEMENT, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_MANAGEMENT, kind, IN(p)->ops->execution_info(IN(p), instance, execution_id, out, err), err);
}

static int fw_list_children(duro_provider *p, const char *instance, char ***ids, size_t *n,
                            duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_MANAGEMENT, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_MANAGEMENT, kind, IN(p)->ops->list_children(IN(p), instance, ids, n, err), err);
}

static int fw_delete_instance(duro_provider *p, int64_t now_ms, const char *instance, int force,
                              duro_delete_result *out, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_MANAGEMENT, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_MANAGEMENT, kind, IN(p)->ops->delete_instance(IN(p), now_ms, instance, force, out, err), err);
}

static int fw_delete_bulk(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                          duro_delete_result *out, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_MANAGEMENT, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_MANAGEMENT, kind, IN(p)->ops->delete_bulk(IN(p), now_ms, filter, out, err), err);
}

static int fw_prune(duro_provider *p, int64_t now_ms, const char *instance,
                    const duro_prune_options *opt, duro_delete_result *out, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_MANAGEMENT, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_MANAGEMENT, kind, IN(p)->ops->prune(IN(p), now_ms, instance, opt, out, err), err);
}

static int fw_queue_depths(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                           duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_MANAGEMENT, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_MANAGEMENT, kind, IN(p)->ops->queue_depths(IN(p), now_ms, out, err), err);
}

/* Version 4: the routing calls fail like their untagged counterparts (enqueue, fetch) and as
 * a management call (depths). */
static int fw_enqueue_work_tagged(duro_provider *p, const duro_work_in *work, const char *tag,
                                  duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_ENQUEUE_WORK, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_ENQUEUE_WORK, kind,
                             IN(p)->ops->enqueue_work_tagged(IN(p), work, tag, err), err);
}

static int fw_fetch_work_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                  int64_t poll_ms, const duro_work_filter *filter,
                                  duro_work_item **out, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_FETCH_WORK, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_FETCH_WORK, kind,
                             IN(p)->ops->fetch_work_filtered(IN(p), now_ms, lock_ms, poll_ms,
                                                             filter, out, err),
                             err);
}

static int fw_queue_depths_by_tag(duro_provider *p, int64_t now_ms, duro_tag_depth **rows,
                                  size_t *n, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_MANAGEMENT, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_MANAGEMENT, kind,
                             IN(p)->ops->queue_depths_by_tag(IN(p), now_ms, rows, n, err), err);
}

static int fw_metrics(duro_provider *p, duro_metrics *out, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_MANAGEMENT, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_MANAGEMENT, kind, IN(p)->ops->metrics(IN(p), out, err), err);
}

static int fw_query_instances(duro_provider *p, const duro_instance_query *q,
                              duro_instance_summary **rows, size_t *n, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_MANAGEMENT, err);
    return kind < 0 ? kind : settle(p, DURO_FAULT_MANAGEMENT, kind, IN(p)->ops->query_instances(IN(p), q, rows, n, err), err);
}

/* Reads of durable values count as instance reads (DURO_FAULT_INSTANCE_INFO). */
static int fw_get_value(duro_provider *p, const char *instance, const char *key, char **value,
                        uint64_t *version, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_INSTANCE_INFO, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_INSTANCE_INFO, kind,
                             IN(p)->ops->get_value(IN(p), instance, key, value, version, err),
                             err);
}

static int fw_list_values(duro_provider *p, const char *instance, duro_kv_entry **entries,
                          size_t *n, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_INSTANCE_INFO, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_INSTANCE_INFO, kind,
                             IN(p)->ops->list_values(IN(p), instance, entries, n, err), err);
}

/* Version 6: a session fetch fails like fetch_work, a lease renewal like renew_work. */
static int fw_fetch_work_session(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                 int64_t poll_ms, const duro_work_filter *filter,
                                 const char *worker_id, int64_t lease_ms, size_t max_sessions,
                                 duro_work_item **out, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_FETCH_WORK, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_FETCH_WORK, kind,
                             IN(p)->ops->fetch_work_session(IN(p), now_ms, lock_ms, poll_ms,
                                                            filter, worker_id, lease_ms,
                                                            max_sessions, out, err),
                             err);
}

static int fw_renew_sessions(duro_provider *p, int64_t now_ms, const char *worker_id,
                             int64_t lease_ms, int64_t idle_ms, size_t *owned, duro_error *err)
{
    int kind = fault_for(p, DURO_FAULT_RENEW_WORK, err);
    return kind < 0 ? kind
                    : settle(p, DURO_FAULT_RENEW_WORK, kind,
                             IN(p)->ops->renew_sessions(IN(p), now_ms, worker_id, lease_ms,
                                                        idle_ms, owned, err),
                             err);
}

static int fw_integrity_check(duro_provider *p, char *msg, size_t msg_size)
{
    return duro_provider_integrity_check(IN(p), msg, msg_size);
}

/* Point ops->f at fw_f when the inner provider has f. */
#define MIRROR(f) w->ops.f = in->f != NULL ? fw_##f : NULL

void duro_fault_options_init(duro_fault_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->size = sizeof *opt;
}

void duro_fault_options_set_data_path(duro_fault_options *opt, double pct)
{
    for (int op = 0; op < DURO_FAULT_MANAGEMENT; op++)
        opt->before_pct[op] = pct;
}

/* A rate in percent as a threshold out of 1000000 calls, or UINT64_MAX when out of range. */
static uint64_t threshold(double pct)
{
    if (!(pct >= 0 && pct <= 100))
        return UINT64_MAX;
    return (uint64_t)(pct * 10000.0 + 0.5);
}

int duro_fault_wrap(duro_provider *inner, const duro_fault_options *opt, duro_provider **out,
                    duro_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (inner == NULL || opt == NULL || out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_fault_wrap: NULL argument");
    if (opt->size == 0)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_fault_wrap: options.size is 0 (call "
                              "duro_fault_options_init)");
    duro_fault_options o;
    duro_fault_options_init(&o);
    memcpy(&o, opt, opt->size < sizeof o ? opt->size : sizeof o);
    if (o.latency_ms < 0)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_fault_wrap: latency_ms %d is negative",
                              o.latency_ms);
    fault_wrapper *w = calloc(1, sizeof *w);
    if (w == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "duro_fault_wrap: out of memory");
    for (int op = 0; op < DURO_FAULT_N_OPS; op++) {
        uint64_t b = threshold(o.before_pct[op]), a = threshold(o.after_pct[op]);
        const char *bad = b == UINT64_MAX || a == UINT64_MAX || a + b > 1000000u
                              ? "a rate outside 0..100 % (or before + after above 100 %)"
                          : a > 0 && !after_allowed((duro_fault_op)op)
                              ? "an AFTER rate, which only calls that change the store allow"
                              : NULL;
        if (bad) {
            free(w);
            return duro_error_set(err, DURO_EINVAL, 0, "duro_fault_wrap: %s has %s", op_names[op],
                                  bad);
        }
        w->op[op].before_threshold = b;
        w->op[op].after_threshold = a;
        atomic_init(&w->op[op].calls, 0);
        atomic_init(&w->op[op].injected[0], 0);
        atomic_init(&w->op[op].injected[1], 0);
    }
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return duro_error_set(err, DURO_ENOMEM, 0, "duro_fault_wrap: cannot create a mutex");
    }
    atomic_init(&w->scheduled_total, 0);
    const duro_provider_ops *in = inner->ops;
    /* the wrapper has the members of the inner provider's version, no more */
    w->ops.version = in->version < DURO_PROVIDER_OPS_VERSION ? in->version
                                                              : DURO_PROVIDER_OPS_VERSION;
    w->ops.destroy = fw_destroy;
    MIRROR(enqueue_orch);
    MIRROR(fetch_orch);
    MIRROR(ack_orch);
    MIRROR(abandon_orch);
    MIRROR(renew_orch);
    MIRROR(enqueue_work);
    MIRROR(fetch_work);
    MIRROR(ack_work);
    MIRROR(abandon_work);
    MIRROR(renew_work);
    MIRROR(read_history);
    MIRROR(instance_info);
    MIRROR(interrupt);
    MIRROR(commit_seq);
    MIRROR(wait_commit);
    MIRROR(list_instances);
    MIRROR(list_executions);
    MIRROR(execution_info);
    MIRROR(list_children);
    MIRROR(delete_instance);
    MIRROR(delete_bulk);
    MIRROR(prune);
    MIRROR(queue_depths);
    MIRROR(metrics);
    if (duro_provider_has_version(inner, DURO_PROVIDER_OPS_V2))
        MIRROR(integrity_check);
    if (duro_provider_has_version(inner, DURO_PROVIDER_OPS_V3))
        MIRROR(query_instances);
    if (duro_provider_has_version(inner, DURO_PROVIDER_OPS_V4)) {
        MIRROR(enqueue_work_tagged);
        MIRROR(fetch_work_filtered);
        MIRROR(queue_depths_by_tag);
    }
    if (duro_provider_has_version(inner, DURO_PROVIDER_OPS_V5)) {
        MIRROR(get_value);
        MIRROR(list_values);
    }
    if (duro_provider_has_version(inner, DURO_PROVIDER_OPS_V6)) {
        MIRROR(fetch_work_session);
        MIRROR(renew_sessions);
    }
    if (duro_provider_has_version(inner, DURO_PROVIDER_OPS_V7)) {
        MIRROR(enqueue_orch_start);
        MIRROR(fetch_orch_filtered);
    }
    w->base.ops = &w->ops;
    w->base.name = inner->name;
    w->base.caps = inner->caps;
    w->inner = inner;
    w->latency_ms = o.latency_ms;
    w->seed = o.seed;
    w->crash_after_call = o.crash_after_call;
    atomic_init(&w->all_calls, 0);
    *out = &w->base;
    return 0;
}

static int is_wrapper(const duro_provider *p)
{
    return p != NULL && p->ops != NULL && p->ops->destroy == fw_destroy;
}

int duro_fault_fail_next(duro_provider *fault, duro_fault_op op, unsigned count,
                         duro_fault_kind kind)
{
    if (!is_wrapper(fault) || (unsigned)op >= DURO_FAULT_N_OPS ||
        (kind != DURO_FAULT_BEFORE && kind != DURO_FAULT_AFTER) ||
        (kind == DURO_FAULT_AFTER && !after_allowed(op)))
        return DURO_EINVAL;
    fault_wrapper *w = FW(fault);
    pthread_mutex_lock(&w->mu);
    w->op[op].scheduled += count;
    w->op[op].scheduled_kind = kind;
    atomic_fetch_add_explicit(&w->scheduled_total, count, memory_order_release);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

uint64_t duro_fault_injected(const duro_provider *fault, duro_fault_op op, duro_fault_kind kind)
{
    if (!is_wrapper(fault) || (unsigned)op > DURO_FAULT_N_OPS ||
        (kind != 0 && kind != DURO_FAULT_BEFORE && kind != DURO_FAULT_AFTER))
        return 0;
    const fault_wrapper *w = (const fault_wrapper *)fault;
    uint64_t total = 0;
    for (int i = 0; i < DURO_FAULT_N_OPS; i++) {
        if (op != DURO_FAULT_N_OPS && i != (int)op)
            continue;
        if (kind != DURO_FAULT_AFTER)
            total += atomic_load(&w->op[i].injected[0]);
        if (kind != DURO_FAULT_BEFORE)
            total += atomic_load(&w->op[i].injected[1]);
    }
    return total;
}

uint64_t duro_fault_calls(const duro_provider *fault)
{
    return is_wrapper(fault) ? atomic_load(&((const fault_wrapper *)fault)->all_calls) : 0;
}
