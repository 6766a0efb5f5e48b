/*
 * proxy.c — a provider that wraps another one to simulate a network and its failures.
 *
 * Every call first sleeps the configured latency (the simulated round trip: this sleep IS the
 * workload), and a configured share of the data-path calls fail with DURO_EBUSY, retryable,
 * before they reach the wrapped store, so no injected error ever has a side effect. The stress
 * driver uses it for --provider-latency and --inject-provider-errors; with both at zero it is
 * not used at all. The proxy mirrors the wrapped provider's capabilities and leaves the
 * callbacks it does not have NULL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stress.h"

typedef struct proxy {
    duro_provider base;      /* first member: a proxy is a duro_provider */
    duro_provider_ops ops;
    duro_provider *inner;
    int latency_ms;
    uint64_t threshold;      /* inject when hash(call number) % 1000000 < threshold */
    atomic_uint_fast64_t calls;
    atomic_uint_fast64_t injected;
} proxy;

static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static void delay(const proxy *x)
{
    if (x->latency_ms <= 0)
        return;
    struct timespec ts = {x->latency_ms / 1000, (long)(x->latency_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The simulated round trip; for data-path calls, maybe an injected retryable error. */
static int pre(duro_provider *p, int may_fail, duro_error *err)
{
    proxy *x = (proxy *)p;
    delay(x);
    if (!may_fail || x->threshold == 0)
        return 0;
    uint64_t n = atomic_fetch_add_explicit(&x->calls, 1, memory_order_relaxed);
    if (mix(n) % 1000000u >= x->threshold)
        return 0;
    atomic_fetch_add_explicit(&x->injected, 1, memory_order_relaxed);
    return duro_error_set(err, DURO_EBUSY, 1, "%s: storage busy", DURO__PROXY_SIGNATURE);
}

#define INNER(p) (((proxy *)(p))->inner)

static void px_destroy(duro_provider *p)
{
    free(p);
}

static int px_enqueue_orch(duro_provider *p, const duro_msg *msg, duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc : INNER(p)->ops->enqueue_orch(INNER(p), msg, err);
}

static int px_fetch_orch(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                         duro_orch_item **out, duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc : INNER(p)->ops->fetch_orch(INNER(p), now_ms, lock_ms, poll_ms, out, err);
}

static int px_ack_orch(duro_provider *p, int64_t now_ms, const char *token,
                       const duro_orch_commit *commit, duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc : INNER(p)->ops->ack_orch(INNER(p), now_ms, token, commit, err);
}

static int px_abandon_orch(duro_provider *p, int64_t now_ms, const char *token,
                           int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc
              : INNER(p)->ops->abandon_orch(INNER(p), now_ms, token, delay_ms, ignore_attempt,
                                            err);
}

static int px_renew_orch(duro_provider *p, int64_t now_ms, const char *token, int64_t extend_ms,
                         duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc : INNER(p)->ops->renew_orch(INNER(p), now_ms, token, extend_ms, err);
}

static int px_enqueue_work(duro_provider *p, const duro_work_in *work, duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc : INNER(p)->ops->enqueue_work(INNER(p), work, err);
}

static int px_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                         duro_work_item **out, duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc : INNER(p)->ops->fetch_work(INNER(p), now_ms, lock_ms, poll_ms, out, err);
}

static int px_ack_work(duro_provider *p, int64_t now_ms, const char *token,
                       const duro_msg *completion, duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc : INNER(p)->ops->ack_work(INNER(p), now_ms, token, completion, err);
}

static int px_abandon_work(duro_provider *p, int64_t now_ms, const char *token,
                           int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc
              : INNER(p)->ops->abandon_work(INNER(p), now_ms, token, delay_ms, ignore_attempt,
                                            err);
}

static int px_renew_work(duro_provider *p, int64_t now_ms, const char *token, int64_t extend_ms,
                         duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc : INNER(p)->ops->renew_work(INNER(p), now_ms, token, extend_ms, err);
}

static int px_read_history(duro_provider *p, const char *instance, uint64_t execution_id,
                           duro_event **events, size_t *n, duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc : INNER(p)->ops->read_history(INNER(p), instance, execution_id, events, n, err);
}

static int px_instance_info(duro_provider *p, const char *instance, duro_instance_info *out,
                            duro_error *err)
{
    int rc = pre(p, 1, err);
    return rc ? rc : INNER(p)->ops->instance_info(INNER(p), instance, out, err);
}

static void px_interrupt(duro_provider *p)
{
    INNER(p)->ops->interrupt(INNER(p));
}

static uint64_t px_commit_seq(duro_provider *p)
{
    return INNER(p)->ops->commit_seq(INNER(p));
}

static int px_wait_commit(duro_provider *p, uint64_t seq, int64_t timeout_ms)
{
    return INNER(p)->ops->wait_commit(INNER(p), seq, timeout_ms);
}

static int px_list_instances(duro_provider *p, int state_filter, char ***ids, size_t *n,
                             duro_error *err)
{
    int rc = pre(p, 0, err);
    return rc ? rc : INNER(p)->ops->list_instances(INNER(p), state_filter, ids, n, err);
}

static int px_list_executions(duro_provider *p, const char *instance, uint64_t **ids, size_t *n,
                              duro_error *err)
{
    int rc = pre(p, 0, err);
    return rc ? rc : INNER(p)->ops->list_executions(INNER(p), instance, ids, n, err);
}

static int px_execution_info(duro_provider *p, const char *instance, uint64_t execution_id,
                             duro_execution_info *out, duro_error *err)
{
    int rc = pre(p, 0, err);
    return rc ? rc : INNER(p)->ops->execution_info(INNER(p), instance, execution_id, out, err);
}

static int px_list_children(duro_provider *p, const char *instance, char ***ids, size_t *n,
                            duro_error *err)
{
    int rc = pre(p, 0, err);
    return rc ? rc : INNER(p)->ops->list_children(INNER(p), instance, ids, n, err);
}

static int px_delete_instance(duro_provider *p, int64_t now_ms, const char *instance, int force,
                              duro_delete_result *out, duro_error *err)
{
    int rc = pre(p, 0, err);
    return rc ? rc : INNER(p)->ops->delete_instance(INNER(p), now_ms, instance, force, out, err);
}

static int px_delete_bulk(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                          duro_delete_result *out, duro_error *err)
{
    int rc = pre(p, 0, err);
    return rc ? rc : INNER(p)->ops->delete_bulk(INNER(p), now_ms, filter, out, err);
}

static int px_prune(duro_provider *p, int64_t now_ms, const char *instance,
                    const duro_prune_options *opt, duro_delete_result *out, duro_error *err)
{
    int rc = pre(p, 0, err);
    return rc ? rc : INNER(p)->ops->prune(INNER(p), now_ms, instance, opt, out, err);
}

static int px_queue_depths(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                           duro_error *err)
{
    int rc = pre(p, 0, err);
    return rc ? rc : INNER(p)->ops->queue_depths(INNER(p), now_ms, out, err);
}

static int px_metrics(duro_provider *p, duro_metrics *out, duro_error *err)
{
    int rc = pre(p, 0, err);
    return rc ? rc : INNER(p)->ops->metrics(INNER(p), out, err);
}

static int px_integrity_check(duro_provider *p, char *msg, size_t msg_size)
{
    return duro_provider_integrity_check(INNER(p), msg, msg_size);
}

/* Point ops->f at px_f when the inner provider has f. */
#define MIRROR(f) x->ops.f = in->f != NULL ? px_##f : NULL

int duro__proxy_new(duro_provider *inner, int latency_ms, double error_pct, duro_provider **out)
{
    proxy *x = calloc(1, sizeof *x);
    if (x == NULL)
        return DURO_ENOMEM;
    const duro_provider_ops *in = inner->ops;
    x->ops.version = DURO_PROVIDER_OPS_VERSION;
    x->ops.destroy = px_destroy;
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
    x->base.ops = &x->ops;
    x->base.name = inner->name;
    x->base.caps = inner->caps;
    x->inner = inner;
    x->latency_ms = latency_ms;
    x->threshold = error_pct > 0 ? (uint64_t)(error_pct * 10000.0 + 0.5) : 0;
    atomic_init(&x->calls, 0);
    atomic_init(&x->injected, 0);
    *out = &x->base;
    return 0;
}

uint64_t duro__proxy_injected(const duro_provider *p)
{
    return atomic_load(&((const proxy *)p)->injected);
}
