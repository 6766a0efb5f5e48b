/*
 * custom-provider.c — a complete provider in one file: the shape every duro provider has.
 *
 * The contract is lib/duro-provider.h: a struct that embeds duro_provider as its FIRST
 * member, a static table of callbacks (duro_provider_ops), and the capabilities the provider
 * claims. To stay short and obviously correct, this "custom" provider keeps its data in a
 * private in-memory SQLite database and forwards each callback to it; a real back end
 * replaces each forwarding body with its own storage code, one callback at a time, and runs
 * the conformance suite after each step. Everything else here (the struct, the ops table,
 * the capability bits, the factory and its hooks) is what a real provider writes too.
 */
#include <stdlib.h>

#include <duro-sqlite.h>

#include "custom-provider.h"

/* The provider object: duro_provider first, then the back end's own state. */
typedef struct custom {
    duro_provider base;
    duro_provider *store; /* the storage this example delegates to */
} custom;

static duro_provider *store_of(duro_provider *p)
{
    return ((custom *)p)->store;
}

/* ---- Orchestrator queue ------------------------------------------------------------------ */

static int custom_enqueue_orch(duro_provider *p, const duro_msg *msg, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->enqueue_orch(s, msg, err);
}

static int custom_fetch_orch(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                             duro_orch_item **out, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->fetch_orch(s, now_ms, lock_ms, poll_ms, out, err);
}

static int custom_ack_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                           const duro_orch_commit *commit, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->ack_orch(s, now_ms, lock_token, commit, err);
}

static int custom_abandon_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                               int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->abandon_orch(s, now_ms, lock_token, delay_ms, ignore_attempt, err);
}

static int custom_renew_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                             int64_t extend_ms, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->renew_orch(s, now_ms, lock_token, extend_ms, err);
}

/* ---- Worker queue ------------------------------------------------------------------------ */

static int custom_enqueue_work(duro_provider *p, const duro_work_in *work, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->enqueue_work(s, work, err);
}

static int custom_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                             duro_work_item **out, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->fetch_work(s, now_ms, lock_ms, poll_ms, out, err);
}

static int custom_ack_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                           const duro_msg *completion, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->ack_work(s, now_ms, lock_token, completion, err);
}

static int custom_abandon_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                               int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->abandon_work(s, now_ms, lock_token, delay_ms, ignore_attempt, err);
}

static int custom_renew_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                             int64_t extend_ms, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->renew_work(s, now_ms, lock_token, extend_ms, err);
}

/* ---- Reads and waking ------------------------------------------------------------------ */

static int custom_read_history(duro_provider *p, const char *instance, uint64_t execution_id,
                               duro_event **events, size_t *n, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->read_history(s, instance, execution_id, events, n, err);
}

static int custom_instance_info(duro_provider *p, const char *instance,
                                duro_instance_info *out, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->instance_info(s, instance, out, err);
}

static void custom_interrupt(duro_provider *p)
{
    duro_provider *s = store_of(p);

    s->ops->interrupt(s);
}

static uint64_t custom_commit_seq(duro_provider *p)
{
    duro_provider *s = store_of(p);

    return s->ops->commit_seq(s);
}

static int custom_wait_commit(duro_provider *p, uint64_t seq, int64_t timeout_ms)
{
    duro_provider *s = store_of(p);

    return s->ops->wait_commit(s, seq, timeout_ms);
}

/* ---- Management (DURO_CAP_MANAGEMENT) ---------------------------------------------------- */

static int custom_list_instances(duro_provider *p, int state_filter, char ***ids, size_t *n,
                                 duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->list_instances(s, state_filter, ids, n, err);
}

static int custom_list_executions(duro_provider *p, const char *instance, uint64_t **ids,
                                  size_t *n, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->list_executions(s, instance, ids, n, err);
}

static int custom_execution_info(duro_provider *p, const char *instance, uint64_t execution_id,
                                 duro_execution_info *out, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->execution_info(s, instance, execution_id, out, err);
}

static int custom_list_children(duro_provider *p, const char *instance, char ***ids,
                                size_t *n, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->list_children(s, instance, ids, n, err);
}

static int custom_delete_instance(duro_provider *p, int64_t now_ms, const char *instance,
                                  int force, duro_delete_result *out, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->delete_instance(s, now_ms, instance, force, out, err);
}

static int custom_delete_bulk(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                              duro_delete_result *out, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->delete_bulk(s, now_ms, filter, out, err);
}

static int custom_prune(duro_provider *p, int64_t now_ms, const char *instance,
                        const duro_prune_options *opt, duro_delete_result *out,
                        duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->prune(s, now_ms, instance, opt, out, err);
}

static int custom_queue_depths(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                               duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->queue_depths(s, now_ms, out, err);
}

static int custom_metrics(duro_provider *p, duro_metrics *out, duro_error *err)
{
    duro_provider *s = store_of(p);

    return s->ops->metrics(s, out, err);
}

/* ---- Life cycle -------------------------------------------------------------------------- */

static void custom_destroy(duro_provider *p)
{
    custom *c = (custom *)p;

    duro_provider_destroy(c->store);
    free(c);
}

static const duro_provider_ops custom_ops = {
    .destroy = custom_destroy,
    .enqueue_orch = custom_enqueue_orch,
    .fetch_orch = custom_fetch_orch,
    .ack_orch = custom_ack_orch,
    .abandon_orch = custom_abandon_orch,
    .renew_orch = custom_renew_orch,
    .enqueue_work = custom_enqueue_work,
    .fetch_work = custom_fetch_work,
    .ack_work = custom_ack_work,
    .abandon_work = custom_abandon_work,
    .renew_work = custom_renew_work,
    .read_history = custom_read_history,
    .instance_info = custom_instance_info,
    .interrupt = custom_interrupt,
    .commit_seq = custom_commit_seq,
    .wait_commit = custom_wait_commit,
    .list_instances = custom_list_instances,
    .list_executions = custom_list_executions,
    .execution_info = custom_execution_info,
    .list_children = custom_list_children,
    .delete_instance = custom_delete_instance,
    .delete_bulk = custom_delete_bulk,
    .prune = custom_prune,
    .queue_depths = custom_queue_depths,
    .metrics = custom_metrics,
};

/* What this provider claims; the suites skip (visibly) every case needing anything else. */
#define CUSTOM_CAPS (DURO_CAP_MANAGEMENT | DURO_CAP_LONG_POLL | DURO_CAP_NOTIFY)

int custom_provider_open(duro_provider **out, duro_error *err)
{
    custom *c;
    int rc;

    *out = NULL;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "custom: out of memory");
    rc = duro_sqlite_open(":memory:", NULL, &c->store, err);
    if (rc != 0) {
        free(c);
        return rc;
    }
    c->base.ops = &custom_ops;
    c->base.name = "custom";
    c->base.caps = CUSTOM_CAPS;
    *out = &c->base;
    return 0;
}

/* ---- Factory for the suites -------------------------------------------------------------- */

static int factory_create(void *ud, duro_provider **out, duro_error *err)
{
    (void)ud;
    return custom_provider_open(out, err);
}

static void factory_destroy(void *ud, duro_provider *p)
{
    (void)ud;
    duro_provider_destroy(p);
}

/* Hook: make the stored history of `instance` undecodable (error-handling cases). */
static int factory_corrupt_history(void *ud, duro_provider *p, const char *instance)
{
    (void)ud;
    return duro_sqlite_corrupt_history(store_of(p), instance);
}

/* Hook: the largest stored fetch count of the instance's messages (attempt-count cases). */
static int factory_max_attempt_count(void *ud, duro_provider *p, const char *instance,
                                     uint32_t *out)
{
    (void)ud;
    return duro_sqlite_max_attempt_count(store_of(p), instance, out);
}

/* Hook: physical integrity of the store (checked by the stress suite after a run). */
static int factory_integrity_check(void *ud, duro_provider *p, char *msg, size_t msg_size)
{
    (void)ud;
    return duro_sqlite_integrity_check(store_of(p), msg, msg_size);
}

const duro_provider_factory custom_factory = {
    .name = "custom",
    .caps = CUSTOM_CAPS,
    .create = factory_create,
    .destroy = factory_destroy,
    .corrupt_history = factory_corrupt_history,
    .max_attempt_count = factory_max_attempt_count,
    .integrity_check = factory_integrity_check,
    .ud = NULL,
};
