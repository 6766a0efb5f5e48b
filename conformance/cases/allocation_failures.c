/*
 * allocation_failures.c — conformance category "allocation_failures": every allocation a
 * provider call makes may fail, and each failure is handled (factory hook fail_allocation).
 *
 * Each case sweeps one call: for n = 1, 2, ... it prepares a fresh fixture, makes the n-th
 * allocation of the call fail and runs it. The call must either fail with DURO_ENOMEM, not
 * retryable, leave a full dump of the store unchanged and then succeed when run again, or
 * succeed (the failure was absorbed) with its complete effect. The sweep ends at the first n
 * the call no longer reaches. The call is warmed up once before the sweep, so the sweep
 * covers its steady state (statements already prepared); cold_first_calls sweeps the first
 * calls of fresh stores. duro-conformance gives both SQLite factories the hook: in memory the
 * sweeps are fast, on file they also go through group commit and the checkpointer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY allocation_failures

/* No call of the contract needs more allocations than this in its steady state; a sweep
 * that reaches it has found a call that fails without end. */
#define CT_MAX_ALLOCATIONS 5000
/* The delay of the swept abandon. */
#define CT_HOLD_MS 100

/* One swept call. `prepare` builds the fixture of round n (fault-free, ids unique to n);
 * `call` is the call under test; `check` asserts its complete effect after a success and
 * releases what prepare and call made; `ids` names what a dump must cover. */
typedef struct sweep {
    const char *name;
    void (*prepare)(duro_ct_ctx *ctx, long n, void *st);
    int (*call)(duro_ct_ctx *ctx, void *st, duro_error *err);
    void (*check)(duro_ct_ctx *ctx, void *st);
} sweep;

/* The fixture and results of one round; each sweep uses the members it needs. */
typedef struct ct_round {
    char id[48];
    char other[48];
    duro_orch_item *item;
    duro_work_item *work;
    duro_event *events;
    size_t n_events;
    char **ids;
    size_t n_ids;
    duro_instance_info info;
    duro_delete_result result;
    duro_queue_depths depths;
    char *expected; /* a read sweep's fault-free answer */
} ct_round;

static long fail_allocation(duro_ct_ctx *ctx, long nth)
{
    return ctx->factory->fail_allocation(ctx->factory->ud, nth);
}

static char *dump(duro_ct_ctx *ctx, const ct_round *r)
{
    const char *ids[] = {r->id, r->other};
    return ct_dump_store(ctx, ctx->p, ids, 2);
}

/* Run sweep `s` to its end (see the file comment). */
static void run_sweep(duro_ct_ctx *ctx, const sweep *s, ct_round *r)
{
    duro_error err;

    for (long n = 1;; n++) {
        ck_assert_msg(n <= CT_MAX_ALLOCATIONS, "%s still reaches allocation %ld", s->name, n);
        s->prepare(ctx, n, r);
        char *before = dump(ctx, r);
        memset(&err, 0, sizeof err);
        fail_allocation(ctx, n);
        int rc = s->call(ctx, r, &err);
        long made = fail_allocation(ctx, 0);
        if (rc != 0) {
            ck_assert_msg(made >= n, "%s failed with %s (%s) although no allocation failed",
                          s->name, duro_err_name(rc), err.message);
            ck_assert_msg(rc == DURO_ENOMEM && err.code == DURO_ENOMEM && err.retryable == 0,
                          "%s with allocation %ld failing: %s (err %s, retryable %d, %s), "
                          "expected DURO_ENOMEM not retryable", s->name, n, duro_err_name(rc),
                          duro_err_name(err.code), err.retryable, err.message);
            char *after = dump(ctx, r);
            ck_assert_msg(strcmp(before, after) == 0, "%s with allocation %ld failing changed "
                          "the store.\nbefore:\n%s\nafter:\n%s", s->name, n, before, after);
            free(after);
            memset(&err, 0, sizeof err);
            rc = s->call(ctx, r, &err);
            ck_assert_msg(rc == 0, "%s after a failed allocation: %s (%s)", s->name,
                          duro_err_name(rc), err.message);
        }
        s->check(ctx, r);
        free(before);
        if (made < n)
            break;
    }
}

/* Warm the call up once (fault-free), then sweep it. */
static void sweep_call(duro_ct_ctx *ctx, const sweep *s)
{
    ct_round r = {0};
    duro_error err = {0};

    ct_require_management(ctx);
    s->prepare(ctx, 0, &r);
    ck_assert_int_eq(s->call(ctx, &r, &err), 0);
    s->check(ctx, &r);
    run_sweep(ctx, s, &r);
    free(r.expected);
}

/* ---- Queue calls ---------------------------------------------------------------------- */

/* Ack work item `w` without a completion, asserting success, and free it. */
static void ack_work_done(duro_ct_ctx *ctx, duro_work_item *w)
{
    duro_error err = {0};

    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, NULL, &err), 0);
    duro_work_item_free(w);
}

/* "r<n>": Running, 3 events, its work item taken and done; an EVENT "poke" visible now. */
static void prepare_poked(duro_ct_ctx *ctx, long n, void *st)
{
    ct_round *r = st;
    duro_work_item *w;

    snprintf(r->id, sizeof r->id, "r%ld", n);
    snprintf(r->other, sizeof r->other, "o%ld", n);
    ct_make_instance(ctx, r->id, NULL, 3, 1, 0, NULL);
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ack_work_done(ctx, w);
    ct_enqueue(ctx, r->id, DURO_MSG_EVENT, "poke", 0);
}

static int call_fetch_orch(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    return ctx->p->ops->fetch_orch(ctx->p, ctx->now, DURO_CT_LOCK_MS, 0, &r->item, err);
}

/* The whole batch came: the instance, its 3 events, the one poke; then it is drained. */
static void check_fetch_orch(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    const duro_orch_commit drain = ct_commit(1, NULL, 0);

    ck_assert_ptr_nonnull(r->item);
    ck_assert_str_eq(r->item->instance, r->id);
    ck_assert_uint_eq(r->item->n_history, 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_uint_eq(r->item->history[i].event_id, i + 1);
    ck_assert_uint_eq(r->item->n_msgs, 1);
    ck_assert_str_eq(r->item->msgs[0].payload, "poke");
    ck_assert_str_eq(r->item->orch_name, "TestOrch");
    ct_ack(ctx, r->item, &drain);
    r->item = NULL;
}

/* "r<n>" poked and locked. */
static void prepare_locked(duro_ct_ctx *ctx, long n, void *st)
{
    ct_round *r = st;

    prepare_poked(ctx, n, st);
    r->item = ct_fetch(ctx);
    ck_assert_str_eq(r->item->instance, r->id);
}

/* A full turn: an event, completion, custom status, a work item and a START of "o<n>". */
static int call_ack_orch(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    const duro_event_in ev[] = {{4, 1, "e4"}};
    const duro_work_in wk = {r->id, 1, 2, "w2"};
    const duro_msg m = {r->other, DURO_MSG_START, 0, ctx->now, "to-other"};
    duro_orch_commit c = ct_commit(1, ev, 1);

    c.state = DURO_STATE_COMPLETED;
    c.output = "done";
    c.set_custom_status = 1;
    c.custom_status = "cs";
    c.work = &wk;
    c.n_work = 1;
    c.msgs = &m;
    c.n_msgs = 1;
    return ctx->p->ops->ack_orch(ctx->p, ctx->now, r->item->lock_token, &c, err);
}

/* Every part of the turn landed: state, output, status, history, the work item, the
 * message; the work and the message are then consumed. */
static void check_ack_orch(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    const duro_orch_commit drain = ct_commit(1, NULL, 0);
    duro_orch_item *o;
    duro_work_item *w;

    duro_orch_item_free(r->item);
    r->item = NULL;
    ct_instance_info(ctx, r->id, &r->info);
    ck_assert_int_eq(r->info.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(r->info.output, "done");
    ck_assert_str_eq(r->info.custom_status, "cs");
    duro_instance_info_clear(&r->info);
    ck_assert_uint_eq(ct_history_len(ctx, r->id, 0), 4);
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(w->instance, r->id);
    ck_assert_str_eq(w->payload, "w2");
    ack_work_done(ctx, w);
    o = ct_fetch(ctx);
    ck_assert_str_eq(o->instance, r->other);
    ck_assert_uint_eq(o->n_msgs, 1);
    ck_assert_str_eq(o->msgs[0].payload, "to-other");
    ct_ack(ctx, o, &drain);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

/* Abandon the locked "r<n>" with a delay: its batch hidden, the instance held until then. */
static int call_abandon_orch(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    return ctx->p->ops->abandon_orch(ctx->p, ctx->now, r->item->lock_token, CT_HOLD_MS, 0, err);
}

/* Nothing of "r<n>" is fetchable before the delay ends; at its end the poke comes back
 * (second attempt) and is drained. */
static void check_abandon_orch(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    const duro_orch_commit drain = ct_commit(1, NULL, 0);
    duro_error err = {0};
    duro_orch_item *o = NULL;

    duro_orch_item_free(r->item);
    r->item = NULL;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ck_assert_int_eq(ctx->p->ops->fetch_orch(ctx->p, ctx->now + CT_HOLD_MS, DURO_CT_LOCK_MS, 0,
                                             &o, &err), 0);
    ck_assert_str_eq(o->instance, r->id);
    ck_assert_uint_eq(o->attempt, 2);
    ck_assert_uint_eq(o->n_msgs, 1);
    ck_assert_str_eq(o->msgs[0].payload, "poke");
    ct_ack(ctx, o, &drain); /* its lock, taken later than ctx->now, is live at ctx->now */
}

/* "r<n>" poked, with its stored history made undecodable (the corrupt_history hook). */
static void prepare_corrupt(duro_ct_ctx *ctx, long n, void *st)
{
    ct_round *r = st;

    prepare_poked(ctx, n, st);
    ck_assert_int_eq(ctx->factory->corrupt_history(ctx->factory->ud, ctx->p, r->id), 0);
}

/* The batch came with history_error set instead of events, the lock held; it is drained. */
static void check_fetch_corrupt(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    const duro_orch_commit drain = ct_commit(1, NULL, 0);

    ck_assert_ptr_nonnull(r->item);
    ck_assert_str_eq(r->item->instance, r->id);
    ck_assert_ptr_nonnull(r->item->history_error);
    ck_assert_uint_eq(r->item->n_history, 0);
    ct_ack(ctx, r->item, &drain);
    r->item = NULL;
}

/* "w<n>": Running, with one work item (activity 1, payload "work"). */
static void prepare_work(duro_ct_ctx *ctx, long n, void *st)
{
    ct_round *r = st;

    snprintf(r->id, sizeof r->id, "w%ld", n);
    snprintf(r->other, sizeof r->other, "w%ld", n);
    ct_make_instance(ctx, r->id, NULL, 1, 1, 0, NULL);
}

static int call_fetch_work(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    return ctx->p->ops->fetch_work(ctx->p, ctx->now, DURO_CT_LOCK_MS, 0, &r->work, err);
}

static void check_fetch_work(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;

    ck_assert_ptr_nonnull(r->work);
    ck_assert_str_eq(r->work->instance, r->id);
    ck_assert_uint_eq(r->work->activity_id, 1);
    ck_assert_str_eq(r->work->payload, "work");
    ack_work_done(ctx, r->work);
    r->work = NULL;
}

static void prepare_work_locked(duro_ct_ctx *ctx, long n, void *st)
{
    ct_round *r = st;

    prepare_work(ctx, n, st);
    r->work = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(r->work);
}

static int call_ack_work(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    const duro_msg done = {r->id, DURO_MSG_ACTIVITY_DONE, 1, ctx->now, "done"};
    return ctx->p->ops->ack_work(ctx->p, ctx->now, r->work->lock_token, &done, err);
}

/* The item is gone and its completion queued, then drained. */
static void check_ack_work(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    const duro_orch_commit drain = ct_commit(1, NULL, 0);
    duro_orch_item *o;

    duro_work_item_free(r->work);
    r->work = NULL;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    o = ct_fetch(ctx);
    ck_assert_str_eq(o->instance, r->id);
    ck_assert_uint_eq(o->n_msgs, 1);
    ck_assert_int_eq(o->msgs[0].kind, DURO_MSG_ACTIVITY_DONE);
    ck_assert_str_eq(o->msgs[0].payload, "done");
    ct_ack(ctx, o, &drain);
}

static int call_enqueue_orch(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    const duro_msg m = {r->id, DURO_MSG_START, 0, ctx->now, "queued"};
    return ctx->p->ops->enqueue_orch(ctx->p, &m, err);
}

static void prepare_id(duro_ct_ctx *ctx, long n, void *st)
{
    ct_round *r = st;

    snprintf(r->id, sizeof r->id, "q%ld", n);
    snprintf(r->other, sizeof r->other, "q%ld", n);
}

/* Exactly one message arrived; it is drained. */
static void check_enqueue_orch(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    const duro_orch_commit drain = ct_commit(1, NULL, 0);
    duro_orch_item *o = ct_fetch(ctx);

    ck_assert_str_eq(o->instance, r->id);
    ck_assert_uint_eq(o->n_msgs, 1);
    ck_assert_str_eq(o->msgs[0].payload, "queued");
    ct_ack(ctx, o, &drain);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

/* ---- Deletion ------------------------------------------------------------------------- */

/* "d<n>" Completed (2 events) with a Completed child "d<n>c" (2 events). */
static void prepare_tree(duro_ct_ctx *ctx, long n, void *st)
{
    ct_round *r = st;

    snprintf(r->id, sizeof r->id, "d%ld", n);
    snprintf(r->other, sizeof r->other, "d%ldc", n);
    ct_make_instance(ctx, r->id, NULL, 2, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, r->other, r->id, 2, 0, DURO_STATE_COMPLETED, "child out");
}

static int call_delete_instance(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    return ctx->p->ops->delete_instance(ctx->p, ctx->now, r->id, 0, &r->result, err);
}

static int call_delete_bulk(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    const char *const ids[] = {r->id};
    const duro_bulk_filter f = {ids, 1, 0, 0};
    return ctx->p->ops->delete_bulk(ctx->p, ctx->now, &f, &r->result, err);
}

/* The whole tree went, counted exactly. */
static void check_deleted(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    duro_error err = {0};

    DURO_CT_ASSERT_RESULT(r->result, 2, 2, 4, 0);
    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, r->id, &r->info, &err), DURO_ENOTFOUND);
    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, r->other, &r->info, &err),
                     DURO_ENOTFOUND);
    memset(&r->result, 0, sizeof r->result);
}

/* "p<n>": execution 1 ended CONTINUED_AS_NEW (1 event), execution 2 runs (1 event). */
static void prepare_prunable(duro_ct_ctx *ctx, long n, void *st)
{
    ct_round *r = st;
    const duro_event_in ev[] = {{1, 1, "again"}};
    duro_orch_commit c = ct_commit(2, ev, 1);

    snprintf(r->id, sizeof r->id, "p%ld", n);
    snprintf(r->other, sizeof r->other, "p%ld", n);
    ct_make_instance(ctx, r->id, NULL, 1, 0, DURO_STATE_CONTINUED_AS_NEW, "next");
    ct_turn(ctx, r->id, &c);
}

static int call_prune(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    const duro_prune_options keep_current = {0, 0};
    return ctx->p->ops->prune(ctx->p, ctx->now, r->id, &keep_current, &r->result, err);
}

/* Execution 1 and its event went, counted exactly; execution 2 stays. */
static void check_pruned(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    char buf[32];

    DURO_CT_ASSERT_RESULT(r->result, 0, 1, 1, 0);
    ck_assert_str_eq(ct_list_executions(ctx, r->id, buf, sizeof buf), "2");
    memset(&r->result, 0, sizeof r->result);
}

/* ---- Reads ---------------------------------------------------------------------------- */

/* Read sweeps share one fixture, made in ct_round 0: "t" Running with 3 events and a child
 * "tc"; each later ct_round adds nothing. The first answer is the expected one. */
static void prepare_read(duro_ct_ctx *ctx, long n, void *st)
{
    ct_round *r = st;

    if (n > 0)
        return;
    snprintf(r->id, sizeof r->id, "t");
    snprintf(r->other, sizeof r->other, "tc");
    ct_make_instance(ctx, r->id, NULL, 3, 0, 0, NULL);
    ct_make_instance(ctx, r->other, r->id, 1, 0, DURO_STATE_COMPLETED, "c");
}

/* Compare a read's answer, printed into `text`, with the first one. */
static void expect_answer(ct_round *r, char *text)
{
    if (r->expected == NULL) {
        r->expected = text;
        return;
    }
    ck_assert_str_eq(text, r->expected);
    free(text);
}

static int call_read_history(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    return ctx->p->ops->read_history(ctx->p, r->id, 0, &r->events, &r->n_events, err);
}

static void check_read_history(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(r->n_events, 3);
    for (size_t i = 0; i < r->n_events; i++)
        fprintf(f, "%llu:%d:%s;", (unsigned long long)r->events[i].event_id,
                r->events[i].kind, r->events[i].payload);
    fclose(f);
    duro_events_free(r->events, r->n_events);
    r->events = NULL;
    r->n_events = 0;
    expect_answer(r, text);
}

static int call_instance_info(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    return ctx->p->ops->instance_info(ctx->p, r->other, &r->info, err);
}

static void check_instance_info(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(r->info.parent_instance, r->id);
    fprintf(f, "%s %s %s %s %llu %d %s", r->info.instance, r->info.orch_name,
            r->info.orch_version, r->info.parent_instance,
            (unsigned long long)r->info.execution_id, r->info.state, r->info.output);
    fclose(f);
    duro_instance_info_clear(&r->info);
    expect_answer(r, text);
}

static int call_list_children(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    return ctx->p->ops->list_children(ctx->p, r->id, &r->ids, &r->n_ids, err);
}

static int call_list_instances(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    return ctx->p->ops->list_instances(ctx->p, 0, &r->ids, &r->n_ids, err);
}

static void check_ids(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    char buf[256];

    ck_assert_uint_gt(r->n_ids, 0);
    char *text = strdup(ct_join(r->ids, r->n_ids, buf, sizeof buf));
    ck_assert_ptr_nonnull(text);
    duro_strv_free(r->ids, r->n_ids);
    r->ids = NULL;
    r->n_ids = 0;
    expect_answer(r, text);
}

static int call_queue_depths(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    ct_round *r = st;
    return ctx->p->ops->queue_depths(ctx->p, ctx->now, &r->depths, err);
}

static void check_queue_depths(duro_ct_ctx *ctx, void *st)
{
    ct_round *r = st;
    char buf[96];

    snprintf(buf, sizeof buf, "%llu %llu %llu", (unsigned long long)r->depths.orchestrator,
             (unsigned long long)r->depths.worker, (unsigned long long)r->depths.delayed);
    char *text = strdup(buf);
    ck_assert_ptr_nonnull(text);
    expect_answer(r, text);
}

/* integrity_check through libduro, its outcome as a duro_error: a failure must describe
 * itself in the message. */
static int call_integrity_check(duro_ct_ctx *ctx, void *st, duro_error *err)
{
    char msg[sizeof err->message];
    int rc;

    (void)st;
    msg[0] = 'x';
    msg[1] = '\0';
    rc = duro_provider_integrity_check(ctx->p, msg, sizeof msg);
    if (rc != 0) {
        ck_assert_msg(msg[0] != '\0' && strcmp(msg, "x") != 0,
                      "integrity_check failed (%s) without a description", duro_err_name(rc));
        duro_error_set(err, rc, 0, "%s", msg);
    }
    return rc;
}

/* A healthy store: nothing to check beyond the 0 the call returned. */
static void check_integrity(duro_ct_ctx *ctx, void *st)
{
    (void)ctx;
    (void)st;
}

/* ---- Cases ---------------------------------------------------------------------------- */

#define SWEEP_CASE(fn, prep, chk)                                                              \
    static void fn(duro_ct_ctx *ctx)                                                           \
    {                                                                                          \
        static const sweep s = {#fn, prep, call_##fn, chk};                                    \
        sweep_call(ctx, &s);                                                                   \
    }

SWEEP_CASE(enqueue_orch, prepare_id, check_enqueue_orch)
SWEEP_CASE(fetch_orch, prepare_poked, check_fetch_orch)
SWEEP_CASE(ack_orch, prepare_locked, check_ack_orch)

static void fetch_orch_corrupt_history(duro_ct_ctx *ctx)
{
    static const sweep s = {"fetch_orch_corrupt_history", prepare_corrupt, call_fetch_orch,
                            check_fetch_corrupt};
    sweep_call(ctx, &s);
}
SWEEP_CASE(abandon_orch, prepare_locked, check_abandon_orch)
SWEEP_CASE(fetch_work, prepare_work, check_fetch_work)
SWEEP_CASE(ack_work, prepare_work_locked, check_ack_work)
SWEEP_CASE(delete_instance, prepare_tree, check_deleted)
SWEEP_CASE(delete_bulk, prepare_tree, check_deleted)
SWEEP_CASE(prune, prepare_prunable, check_pruned)
SWEEP_CASE(read_history, prepare_read, check_read_history)
SWEEP_CASE(instance_info, prepare_read, check_instance_info)
SWEEP_CASE(list_children, prepare_read, check_ids)
SWEEP_CASE(list_instances, prepare_read, check_ids)
SWEEP_CASE(queue_depths, prepare_read, check_queue_depths)

static void integrity_check(duro_ct_ctx *ctx)
{
    static const sweep s = {"integrity_check", prepare_read, call_integrity_check,
                            check_integrity};
    char msg[64];

    if (duro_provider_integrity_check(ctx->p, msg, sizeof msg) == DURO_ENOTSUP)
        return; /* optional (ops version 2): nothing to sweep */
    sweep_call(ctx, &s);
}

/* ---- Cold calls: the first call on a fresh handle --------------------------------------- */

/* A call made as the very first on a fresh store, so that whatever it prepares on the way
 * (its statements, the BEGIN of its transaction) is prepared with the failure armed: the
 * sweeps above warm every call up first, which this one does not. `expected` is the code of
 * a fault-free run; `check` asserts its whole effect on `p` afterwards. */
typedef struct cold_sweep {
    const char *name;
    int (*call)(duro_provider *p, int64_t now, duro_error *err);
    int expected;
    void (*check)(duro_provider *p, int64_t now);
} cold_sweep;

static int cold_enqueue_orch(duro_provider *p, int64_t now, duro_error *err)
{
    const duro_msg m = {"cold", DURO_MSG_START, 0, now, "start"};
    return p->ops->enqueue_orch(p, &m, err);
}

/* The START is there: one fetch returns it alone. */
static void check_cold_enqueue_orch(duro_provider *p, int64_t now)
{
    duro_orch_item *item = NULL;
    duro_error err = {0};

    ck_assert_int_eq(p->ops->fetch_orch(p, now, DURO_CT_LOCK_MS, 0, &item, &err), 0);
    ck_assert_str_eq(item->instance, "cold");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_START);
    ck_assert_str_eq(item->msgs[0].payload, "start");
    duro_orch_item_free(item);
}

static int cold_enqueue_work(duro_provider *p, int64_t now, duro_error *err)
{
    const duro_work_in w = {"cold", 1, 7, "job"};
    (void)now;
    return p->ops->enqueue_work(p, &w, err);
}

/* The work item is there: one fetch returns it. */
static void check_cold_enqueue_work(duro_provider *p, int64_t now)
{
    duro_work_item *item = NULL;
    duro_error err = {0};

    ck_assert_int_eq(p->ops->fetch_work(p, now, DURO_CT_LOCK_MS, 0, &item, &err), 0);
    ck_assert_str_eq(item->instance, "cold");
    ck_assert_uint_eq(item->activity_id, 7);
    ck_assert_str_eq(item->payload, "job");
    duro_work_item_free(item);
}

static int cold_fetch_orch(duro_provider *p, int64_t now, duro_error *err)
{
    duro_orch_item *item = NULL;
    int rc = p->ops->fetch_orch(p, now, DURO_CT_LOCK_MS, 0, &item, err);
    /* An item from an empty store is wrong: 0 is not the expected answer, so the sweep fails
     * the round (no assertion here: the failure is still armed). */
    duro_orch_item_free(item);
    return rc;
}

/* Nothing to check: the store stays empty (compared by the sweep). */
static void check_nothing(duro_provider *p, int64_t now)
{
    (void)p;
    (void)now;
}

/* Sweep `s` with a fresh store per round (see cold_sweep). A failed round must be
 * DURO_ENOMEM, not retryable, leave the store as empty as a fresh one and give the
 * fault-free answer when run again. */
static void sweep_cold(duro_ct_ctx *ctx, const cold_sweep *s)
{
    static const char *const ids[] = {"cold"};
    const duro_provider_factory *f = ctx->factory;
    char *empty = ct_dump_store(ctx, ctx->p, ids, 1);

    ct_require_management(ctx);
    for (long n = 1;; n++) {
        duro_provider *p = NULL;
        duro_error err = {0};

        ck_assert_msg(n <= CT_MAX_ALLOCATIONS, "cold %s still reaches allocation %ld", s->name,
                      n);
        ck_assert_int_eq(f->create(f->ud, &p, &err), 0);
        fail_allocation(ctx, n);
        int rc = s->call(p, ctx->now, &err);
        long made = fail_allocation(ctx, 0);
        if (rc != s->expected) {
            ck_assert_msg(rc == DURO_ENOMEM && err.code == DURO_ENOMEM && err.retryable == 0,
                          "cold %s with allocation %ld failing: %s (err %s, retryable %d, %s), "
                          "expected DURO_ENOMEM not retryable or %s", s->name, n,
                          duro_err_name(rc), duro_err_name(err.code), err.retryable,
                          err.message, duro_err_name(s->expected));
            ck_assert_msg(made >= n, "cold %s failed with %s although no allocation failed",
                          s->name, duro_err_name(rc));
            char *after = ct_dump_store(ctx, p, ids, 1);
            ck_assert_msg(strcmp(empty, after) == 0, "cold %s with allocation %ld failing "
                          "changed the store:\n%s", s->name, n, after);
            free(after);
            memset(&err, 0, sizeof err);
            rc = s->call(p, ctx->now, &err);
            ck_assert_msg(rc == s->expected, "cold %s after a failed allocation: %s (%s)",
                          s->name, duro_err_name(rc), err.message);
        }
        s->check(p, ctx->now);
        f->destroy(f->ud, p);
        if (made < n)
            break;
    }
    free(empty);
}

/* The first enqueue_orch, enqueue_work and fetch_orch of a fresh handle, each swept. */
static void cold_first_calls(duro_ct_ctx *ctx)
{
    static const cold_sweep sweeps[] = {
        {"enqueue_orch", cold_enqueue_orch, 0, check_cold_enqueue_orch},
        {"enqueue_work", cold_enqueue_work, 0, check_cold_enqueue_work},
        {"fetch_orch", cold_fetch_orch, DURO_ENOTFOUND, check_nothing},
    };

    for (size_t i = 0; i < sizeof sweeps / sizeof sweeps[0]; i++)
        sweep_cold(ctx, &sweeps[i]);
}

#define ALLOC_CASE(fn, what)                                                                   \
    DURO_CASE(fn, DURO_CAP_MANAGEMENT, DURO_HOOK_ALLOC_FAULT,                                  \
              "Each allocation of " what " may fail: the call then fails with DURO_ENOMEM, "   \
              "not retryable, changes nothing and succeeds when run again; or it succeeds "    \
              "with its whole effect.")

DURO_CASES = {
    ALLOC_CASE(enqueue_orch, "enqueue_orch"),
    ALLOC_CASE(fetch_orch, "fetch_orch (an instance with history and a message)"),
    ALLOC_CASE(ack_orch, "a full ack_orch (event, completion, status, work, message)"),
    DURO_CASE(fetch_orch_corrupt_history, DURO_CAP_MANAGEMENT,
              DURO_HOOK_ALLOC_FAULT | DURO_HOOK_CORRUPT,
              "Each allocation of a fetch_orch whose stored history cannot be decoded may "
              "fail: it then fails with DURO_ENOMEM, not retryable, and changes nothing; "
              "otherwise it returns the batch with history_error set."),
    ALLOC_CASE(abandon_orch, "abandon_orch with a delay"),
    ALLOC_CASE(fetch_work, "fetch_work"),
    ALLOC_CASE(ack_work, "ack_work with a completion"),
    ALLOC_CASE(delete_instance, "delete_instance of a tree"),
    ALLOC_CASE(delete_bulk, "delete_bulk of a tree"),
    ALLOC_CASE(prune, "prune of an old execution"),
    ALLOC_CASE(read_history, "read_history"),
    ALLOC_CASE(instance_info, "instance_info"),
    ALLOC_CASE(list_children, "list_children"),
    ALLOC_CASE(list_instances, "list_instances"),
    ALLOC_CASE(queue_depths, "queue_depths"),
    DURO_CASE(integrity_check, DURO_CAP_MANAGEMENT, DURO_HOOK_ALLOC_FAULT,
              "integrity_check of a healthy store returns 0; each of its allocations may "
              "fail, and then it fails with DURO_ENOMEM and a description, and succeeds when "
              "run again. (A provider without integrity_check has nothing to sweep.)"),
    DURO_CASE(cold_first_calls, DURO_CAP_MANAGEMENT, DURO_HOOK_ALLOC_FAULT,
              "Each allocation of the first enqueue_orch, enqueue_work and fetch_orch of a "
              "fresh store may fail (statements and transactions not yet prepared): the call "
              "then fails with DURO_ENOMEM, not retryable, leaves the store empty and gives "
              "its fault-free answer when run again; or it succeeds with its whole effect."),
    DURO_CASES_END,
};
