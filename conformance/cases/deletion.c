/*
 * deletion.c — conformance category "deletion": delete_instance (DURO_CAP_MANAGEMENT).
 * Deleting removes an instance and its whole sub-orchestration tree atomically: history,
 * executions, queued orchestrator messages, work items and locks, and reports exact counts.
 * Running trees need force, children cannot be deleted on their own, unknown ids fail. The
 * last cases cover the hazards of deleting under a lock: the holder's ack must fail and can
 * never bring the instance back ("zombie"), and a worker of the deleted instance can never
 * deliver a stale completion to a new instance created with the same id.
 */
#include <stdio.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY deletion

/* Call delete_instance at ctx->now; returns its code, result in *out. */
static int del(duro_ct_ctx *ctx, const char *inst, int force, duro_delete_result *out,
               duro_error *err)
{
    memset(out, 0xff, sizeof *out);
    return ctx->p->ops->delete_instance(ctx->p, ctx->now, inst, force, out, err);
}

/* Assert that nothing of `inst` is left: no metadata, no history. */
#define ASSERT_GONE(ctx, inst)                                                                 \
    do {                                                                                       \
        duro_instance_info i_;                                                                 \
        duro_error e_;                                                                         \
        ck_assert_int_eq((ctx)->p->ops->instance_info((ctx)->p, (inst), &i_, &e_),             \
                         DURO_ENOTFOUND);                                                      \
        ck_assert_uint_eq(ct_history_len((ctx), (inst), 0), 0);                                \
    } while (0)

/* Assert that `inst` still exists in `state` with `n_events` events. */
#define ASSERT_PRESENT(ctx, inst, st, n_events)                                                \
    do {                                                                                       \
        duro_instance_info i_;                                                                 \
        duro_error e_;                                                                         \
        ck_assert_int_eq((ctx)->p->ops->instance_info((ctx)->p, (inst), &i_, &e_), 0);         \
        ck_assert_int_eq(i_.state, (st));                                                      \
        duro_instance_info_clear(&i_);                                                         \
        ck_assert_uint_eq(ct_history_len((ctx), (inst), 0), (n_events));                       \
    } while (0)

static void delete_completed_instance_counts(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    duro_event *ev = NULL;
    size_t n = 9;

    ct_require_management(ctx);
    ct_make_instance(ctx, "done", NULL, 3, 0, DURO_STATE_COMPLETED, "ok");
    ck_assert_int_eq(del(ctx, "done", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 3, 0);
    ASSERT_GONE(ctx, "done");
    ck_assert_int_eq(ctx->p->ops->read_history(ctx->p, "done", 1, &ev, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    duro_events_free(ev, n);
}

static void delete_failed_instance_counts(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;

    ct_require_management(ctx);
    ct_make_instance(ctx, "bad", NULL, 2, 0, DURO_STATE_FAILED, "boom");
    ck_assert_int_eq(del(ctx, "bad", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 2, 0);
    ASSERT_GONE(ctx, "bad");
}

static void delete_multi_execution_instance_counts(duro_ct_ctx *ctx)
{
    static const duro_event_in ev[] = {{1, 1, "e1"}, {2, 1, "e2"}};
    duro_delete_result r;
    duro_error err;

    ct_require_management(ctx);
    ct_enqueue_start(ctx, "multi");
    for (uint64_t k = 1; k <= 3; k++) {
        duro_orch_item *it = ct_fetch(ctx);
        duro_orch_commit c = ct_commit(k, ev, 2);
        duro_msg next = {"multi", DURO_MSG_CONTINUE_AS_NEW, k + 1, ctx->now, "next"};

        c.orch_name = "TestOrch";
        c.orch_version = "1.0.0";
        c.state = k < 3 ? DURO_STATE_CONTINUED_AS_NEW : DURO_STATE_COMPLETED;
        c.output = "out";
        c.msgs = &next;
        c.n_msgs = k < 3;
        ct_ack(ctx, it, &c);
    }
    ck_assert_int_eq(del(ctx, "multi", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 3, 6, 0);
    ASSERT_GONE(ctx, "multi");
    for (uint64_t k = 1; k <= 3; k++) {
        duro_event *events = NULL;
        size_t n = 9;

        ck_assert_int_eq(ctx->p->ops->read_history(ctx->p, "multi", k, &events, &n, &err), 0);
        ck_assert_uint_eq(n, 0);
        duro_events_free(events, n);
    }
}

static void delete_running_without_force_rejected(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    duro_orch_item *it;

    ct_require_management(ctx);
    ct_make_instance(ctx, "run", NULL, 1, 0, 0, NULL);
    ct_enqueue(ctx, "run", DURO_MSG_EVENT, "pending", 0);
    ck_assert_int_eq(del(ctx, "run", 0, &r, &err), DURO_ERUNNING);
    ck_assert_int_eq(err.code, DURO_ERUNNING);
    ck_assert_int_eq(err.retryable, 0);
    ASSERT_PRESENT(ctx, "run", DURO_STATE_RUNNING, 1);
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "run");
    ck_assert_uint_eq(it->n_msgs, 1);
    ck_assert_str_eq(it->msgs[0].payload, "pending");
    duro_orch_item_free(it);
}

static void delete_judges_the_current_execution(duro_ct_ctx *ctx)
{
    const duro_event_in ev[] = {{1, 1, "again"}};
    duro_delete_result r;
    duro_error err;

    ct_require_management(ctx);
    /* execution 1 ends CONTINUED_AS_NEW; execution 2, the current one, is running */
    ct_make_instance(ctx, "cont", NULL, 1, 0, DURO_STATE_CONTINUED_AS_NEW, "next");
    duro_orch_commit c = ct_commit(2, ev, 1);
    ct_turn(ctx, "cont", &c);
    ck_assert_int_eq(del(ctx, "cont", 0, &r, &err), DURO_ERUNNING);
    ck_assert_int_eq(err.retryable, 0);
    ASSERT_PRESENT(ctx, "cont", DURO_STATE_RUNNING, 1); /* execution 2 has one event */
}

static void delete_running_with_force(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;

    ct_require_management(ctx);
    ct_make_instance(ctx, "run", NULL, 1, 0, 0, NULL);
    ck_assert_int_eq(del(ctx, "run", 1, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 0);
    ASSERT_GONE(ctx, "run");
}

static void delete_unknown_instance_not_found(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;

    ct_require_management(ctx);
    ct_make_instance(ctx, "other", NULL, 1, 0, DURO_STATE_COMPLETED, "ok");
    ct_enqueue_start(ctx, "queued");
    memset(&r, 0xab, sizeof r); /* a failed delete reports nothing deleted */
    ck_assert_int_eq(del(ctx, "nobody", 0, &r, &err), DURO_ENOTFOUND);
    ck_assert_int_eq(err.retryable, 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_int_eq(del(ctx, "nobody", 1, &r, &err), DURO_ENOTFOUND);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_int_eq(del(ctx, "queue", 1, &r, &err), DURO_ENOTFOUND);
    ASSERT_PRESENT(ctx, "other", DURO_STATE_COMPLETED, 1);
    DURO_CT_ASSERT_DEPTHS(ctx, 1, 0, 0);
}

/* A start that no runtime has taken (no instance row yet) and orphans of it are deleted by
 * id: exact message count, no instance counted, nothing left to fetch; while a runtime holds
 * the row-less instance's lock it is "starting": DURO_ERUNNING without force, and a forced
 * delete leaves the holder's ack DURO_ELOCK with no row created. */
static void delete_instance_without_row(duro_ct_ctx *ctx)
{
    static const duro_event_in ev = {1, 1, "started"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    duro_delete_result r;
    duro_error err;
    duro_orch_item *it;

    ct_require_management(ctx);
    ct_enqueue_start(ctx, "never");
    ct_enqueue(ctx, "never", DURO_MSG_EVENT, "orphan", 0);
    ct_enqueue(ctx, "orphans", DURO_MSG_EVENT, "only-orphan", 0);
    ck_assert_int_eq(del(ctx, "never", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 2);
    ck_assert_int_eq(del(ctx, "orphans", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 1);
    ck_assert_int_eq(del(ctx, "never", 0, &r, &err), DURO_ENOTFOUND);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 0, 0);

    ct_enqueue_start(ctx, "starting");
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "starting");
    ck_assert_int_eq(del(ctx, "starting", 0, &r, &err), DURO_ERUNNING);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_int_eq(del(ctx, "starting", 1, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 1);
    c.orch_name = "TestOrch";
    ck_assert_int_eq(ctx->p->ops->ack_orch(ctx->p, ctx->now, it->lock_token, &c, &err),
                     DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    duro_orch_item_free(it);
    ASSERT_GONE(ctx, "starting");
    ck_assert_ptr_null(ct_try_fetch(ctx));
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 0, 0);
}

static void delete_twice_not_found(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;

    ct_require_management(ctx);
    ct_make_instance(ctx, "once", NULL, 1, 0, DURO_STATE_COMPLETED, "ok");
    ck_assert_int_eq(del(ctx, "once", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 0);
    ck_assert_int_eq(del(ctx, "once", 0, &r, &err), DURO_ENOTFOUND);
    ck_assert_int_eq(err.retryable, 0);
}

static void delete_child_directly_rejected(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;

    ct_require_management(ctx);
    ct_make_instance(ctx, "root", NULL, 1, 0, DURO_STATE_COMPLETED, "ok");
    ct_make_instance(ctx, "kid", "root", 2, 0, DURO_STATE_COMPLETED, "ok");
    ct_make_instance(ctx, "grandkid", "kid", 1, 0, DURO_STATE_COMPLETED, "ok");
    ck_assert_int_eq(del(ctx, "kid", 0, &r, &err), DURO_ECHILD);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_int_eq(del(ctx, "kid", 1, &r, &err), DURO_ECHILD);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_int_eq(del(ctx, "grandkid", 1, &r, &err), DURO_ECHILD);
    ASSERT_PRESENT(ctx, "root", DURO_STATE_COMPLETED, 1);
    ASSERT_PRESENT(ctx, "kid", DURO_STATE_COMPLETED, 2);
    ASSERT_PRESENT(ctx, "grandkid", DURO_STATE_COMPLETED, 1);
}

static void delete_root_deletes_tree_depth3(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    char **ids = NULL;
    size_t n = 9;

    ct_require_management(ctx);
    ct_make_instance(ctx, "root", NULL, 2, 0, DURO_STATE_COMPLETED, "ok");
    ct_make_instance(ctx, "c1", "root", 2, 0, DURO_STATE_COMPLETED, "ok");
    ct_make_instance(ctx, "c2", "root", 3, 0, DURO_STATE_FAILED, "boom");
    ct_make_instance(ctx, "g1", "c1", 1, 0, DURO_STATE_COMPLETED, "ok");
    ct_make_instance(ctx, "bystander", NULL, 1, 0, DURO_STATE_COMPLETED, "ok");
    ck_assert_int_eq(del(ctx, "root", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 4, 4, 8, 0);
    ASSERT_GONE(ctx, "root");
    ASSERT_GONE(ctx, "c1");
    ASSERT_GONE(ctx, "c2");
    ASSERT_GONE(ctx, "g1");
    ASSERT_PRESENT(ctx, "bystander", DURO_STATE_COMPLETED, 1);
    ck_assert_int_eq(ctx->p->ops->list_children(ctx->p, "root", &ids, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    duro_strv_free(ids, n);
    ck_assert_int_eq(ctx->p->ops->list_instances(ctx->p, 0, &ids, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ids[0], "bystander");
    duro_strv_free(ids, n);
}

static void delete_tree_with_running_descendant(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;

    ct_require_management(ctx);
    ct_make_instance(ctx, "root", NULL, 2, 0, DURO_STATE_COMPLETED, "ok");
    ct_make_instance(ctx, "kid", "root", 1, 0, DURO_STATE_COMPLETED, "ok");
    ct_make_instance(ctx, "grandkid", "kid", 1, 0, 0, NULL);
    ck_assert_int_eq(del(ctx, "root", 0, &r, &err), DURO_ERUNNING);
    ck_assert_int_eq(err.retryable, 0);
    ASSERT_PRESENT(ctx, "root", DURO_STATE_COMPLETED, 2);
    ASSERT_PRESENT(ctx, "kid", DURO_STATE_COMPLETED, 1);
    ASSERT_PRESENT(ctx, "grandkid", DURO_STATE_RUNNING, 1);
    ck_assert_int_eq(del(ctx, "root", 1, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 3, 3, 4, 0);
    ASSERT_GONE(ctx, "root");
    ASSERT_GONE(ctx, "kid");
    ASSERT_GONE(ctx, "grandkid");
}

static void delete_removes_queued_messages(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;

    ct_require_management(ctx);
    ct_make_instance(ctx, "q", NULL, 1, 0, DURO_STATE_COMPLETED, "ok");
    ct_enqueue(ctx, "q", DURO_MSG_EVENT, "late-1", 0);
    ct_enqueue(ctx, "q", DURO_MSG_EVENT, "late-2", 0);
    ct_enqueue(ctx, "q", DURO_MSG_TIMER_FIRED, "timer", 10000);
    DURO_CT_ASSERT_DEPTHS(ctx, 2, 0, 1);
    ck_assert_int_eq(del(ctx, "q", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 3);
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 0, 0);
    ctx->now += 10000;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 0, 0);
}

static void delete_removes_work_items(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    duro_work_item *w;

    ct_require_management(ctx);
    ct_make_instance(ctx, "w", NULL, 1, 3, 0, NULL);
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(w->activity_id, 1);
    duro_work_item_free(w);
    ct_enqueue(ctx, "w", DURO_MSG_EVENT, "pending", 0);
    ck_assert_int_eq(del(ctx, "w", 1, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 4);
    ASSERT_GONE(ctx, "w");
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ctx->now += DURO_CT_LOCK_MS + 1;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void delete_leaves_other_instances_intact(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    duro_orch_item *it;
    duro_work_item *w;

    ct_require_management(ctx);
    ct_make_instance(ctx, "a", NULL, 2, 1, DURO_STATE_COMPLETED, "ok");
    ct_make_instance(ctx, "b", NULL, 3, 1, DURO_STATE_COMPLETED, "ok");
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "for-a", 0);
    ct_enqueue(ctx, "b", DURO_MSG_EVENT, "for-b", 0);
    ck_assert_int_eq(del(ctx, "a", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 2, 2);
    ASSERT_PRESENT(ctx, "b", DURO_STATE_COMPLETED, 3);
    DURO_CT_ASSERT_DEPTHS(ctx, 1, 1, 0);
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "b");
    ck_assert_uint_eq(it->n_msgs, 1);
    ck_assert_str_eq(it->msgs[0].payload, "for-b");
    duro_orch_item_free(it);
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(w->instance, "b");
    duro_work_item_free(w);
}

static void delete_terminal_instance_while_locked(duro_ct_ctx *ctx)
{
    static const duro_event_in ev = {2, 1, "late"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    duro_delete_result r;
    duro_error err;
    duro_orch_item *it;

    ct_require_management(ctx);
    ct_make_instance(ctx, "t", NULL, 1, 0, DURO_STATE_COMPLETED, "ok");
    ct_enqueue(ctx, "t", DURO_MSG_EVENT, "stray", 0);
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "t");
    ck_assert_int_eq(del(ctx, "t", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 1);
    ck_assert_int_eq(ctx->p->ops->ack_orch(ctx->p, ctx->now, it->lock_token, &c, &err),
                     DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    ASSERT_GONE(ctx, "t");
    duro_orch_item_free(it);
}

static void delete_force_while_locked_prevents_zombie(duro_ct_ctx *ctx)
{
    static const duro_event_in ev[] = {{2, 1, "decided"}, {3, 1, "done"}};
    duro_work_in work = {"z", 1, 5, "zombie-work"};
    duro_msg msgs[] = {{"z", DURO_MSG_TIMER_FIRED, 1, 0, "zombie-timer"},
                       {"other", DURO_MSG_START, 1, 0, "zombie-start"}};
    duro_orch_commit c = ct_commit(1, ev, 2);
    duro_delete_result r;
    duro_error err;
    duro_orch_item *it;
    char **ids = NULL;
    size_t n = 9;

    ct_require_management(ctx);
    ct_make_instance(ctx, "z", NULL, 1, 0, 0, NULL);
    ct_enqueue(ctx, "z", DURO_MSG_EVENT, "wake", 0);
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "z");
    ck_assert_int_eq(del(ctx, "z", 1, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 1);

    ck_assert_int_eq(ctx->p->ops->renew_orch(ctx->p, ctx->now, it->lock_token,
                                             DURO_CT_LOCK_MS, &err),
                     DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    msgs[0].visible_at_ms = ctx->now;
    msgs[1].visible_at_ms = ctx->now;
    c.orch_name = "TestOrch";
    c.work = &work;
    c.n_work = 1;
    c.msgs = msgs;
    c.n_msgs = 2;
    c.state = DURO_STATE_COMPLETED;
    c.output = "zombie";
    ck_assert_int_eq(ctx->p->ops->ack_orch(ctx->p, ctx->now, it->lock_token, &c, &err),
                     DURO_ELOCK);
    ck_assert_int_eq(err.code, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    duro_orch_item_free(it);

    ASSERT_GONE(ctx, "z");
    ck_assert_int_eq(ctx->p->ops->list_instances(ctx->p, 0, &ids, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    duro_strv_free(ids, n);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 0, 0);
}

static void delete_then_recreate_same_id(duro_ct_ctx *ctx)
{
    static const duro_event_in ev = {1, 7, "reborn"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    duro_delete_result r;
    duro_error err;
    duro_instance_info info;
    duro_orch_item *it;
    duro_event *events = NULL;
    size_t n = 0;

    ct_require_management(ctx);
    ct_make_instance(ctx, "same", NULL, 3, 0, DURO_STATE_COMPLETED, "old");
    ck_assert_int_eq(del(ctx, "same", 0, &r, &err), 0);
    ctx->now += DURO_CT_STEP_MS;
    ct_enqueue_start(ctx, "same");
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "same");
    ck_assert_ptr_null(it->orch_name);
    ck_assert_uint_eq(it->execution_id, 1);
    ck_assert_int_eq(it->state, DURO_STATE_NOT_FOUND);
    ck_assert_uint_eq(it->n_history, 0);
    ck_assert_uint_eq(it->n_msgs, 1);
    c.orch_name = "NewOrch";
    c.orch_version = "2.0.0";
    ct_ack(ctx, it, &c);

    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, "same", &info, &err), 0);
    ck_assert_str_eq(info.orch_name, "NewOrch");
    ck_assert_str_eq(info.orch_version, "2.0.0");
    ck_assert_int_eq(info.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(info.output);
    ck_assert_int_eq(info.created_at_ms, ctx->now);
    duro_instance_info_clear(&info);
    ck_assert_int_eq(ctx->p->ops->read_history(ctx->p, "same", 0, &events, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(events[0].event_id, 1);
    ck_assert_int_eq(events[0].kind, 7);
    ck_assert_str_eq(events[0].payload, "reborn");
    duro_events_free(events, n);
}

static void delete_in_flight_activity_ack_fails(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    duro_work_item *w;
    duro_orch_item *it;
    duro_msg done;

    ct_require_management(ctx);
    ct_make_instance(ctx, "f", NULL, 1, 2, 0, NULL);
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(del(ctx, "f", 1, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 2);
    done = (duro_msg){"f", DURO_MSG_ACTIVITY_DONE, 1, ctx->now, "late-result"};
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, &done, &err),
                     DURO_ELOCK);
    ck_assert_int_eq(err.code, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    duro_work_item_free(w);
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 0, 0);
    ASSERT_GONE(ctx, "f");
    ct_enqueue_start(ctx, "f");
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "f");
    ck_assert_uint_eq(it->n_msgs, 1);
    ck_assert_int_eq(it->msgs[0].kind, DURO_MSG_START);
    duro_orch_item_free(it);
}

static void delete_stale_activity_after_recreate(duro_ct_ctx *ctx)
{
    static const duro_event_in ev = {1, 1, "new-start"};
    duro_work_in work = {"s", 1, 1, "new-work"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    duro_delete_result r;
    duro_error err;
    duro_work_item *old, *fresh;
    duro_orch_item *it;
    duro_msg stale;

    ct_require_management(ctx);
    ct_make_instance(ctx, "s", NULL, 1, 1, 0, NULL);
    old = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(old);
    ck_assert_str_eq(old->payload, "work");
    ck_assert_int_eq(del(ctx, "s", 1, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 1);

    ct_enqueue_start(ctx, "s");
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "s");
    c.orch_name = "TestOrch";
    c.orch_version = "1.0.0";
    c.work = &work;
    c.n_work = 1;
    ct_ack(ctx, it, &c);

    stale = (duro_msg){"s", DURO_MSG_ACTIVITY_DONE, 1, ctx->now, "stale-result"};
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, old->lock_token, &stale, &err),
                     DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    duro_work_item_free(old);
    ck_assert_ptr_null(ct_try_fetch(ctx));

    fresh = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(fresh);
    ck_assert_str_eq(fresh->instance, "s");
    ck_assert_uint_eq(fresh->activity_id, 1);
    ck_assert_str_eq(fresh->payload, "new-work");
    ck_assert_uint_eq(fresh->attempt, 1);
    duro_work_item_free(fresh);
    ASSERT_PRESENT(ctx, "s", DURO_STATE_RUNNING, 1);
}

static void delete_stale_activity_renew_fails(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    duro_work_item *old;

    ct_require_management(ctx);
    ct_make_instance(ctx, "s", NULL, 1, 1, 0, NULL);
    old = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(old);
    ck_assert_int_eq(del(ctx, "s", 1, &r, &err), 0);
    ck_assert_int_eq(ctx->p->ops->renew_work(ctx->p, ctx->now, old->lock_token,
                                             DURO_CT_LOCK_MS, &err),
                     DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_int_eq(ctx->p->ops->abandon_work(ctx->p, ctx->now, old->lock_token, 0, 0, &err),
                     DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    duro_work_item_free(old);
}

static void delete_updates_metrics(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    duro_metrics m;

    ct_require_management(ctx);
    ct_make_instance(ctx, "a", NULL, 4, 0, DURO_STATE_COMPLETED, "ok");
    ct_make_instance(ctx, "b", NULL, 2, 0, DURO_STATE_FAILED, "boom");
    ct_make_instance(ctx, "c", NULL, 1, 0, 0, NULL);
    ck_assert_int_eq(del(ctx, "a", 0, &r, &err), 0);
    ck_assert_int_eq(ctx->p->ops->metrics(ctx->p, &m, &err), 0);
    ck_assert_uint_eq(m.instances, 2);
    ck_assert_uint_eq(m.executions, 2);
    ck_assert_uint_eq(m.completed, 0);
    ck_assert_uint_eq(m.failed, 1);
    ck_assert_uint_eq(m.running, 1);
    ck_assert_uint_eq(m.events, 3);
}

DURO_CASES = {
    DURO_CASE(delete_completed_instance_counts, DURO_CAP_MANAGEMENT, 0,
              "Deleting a completed instance reports exactly 1 instance, 1 execution, its "
              "events and 0 messages, after which instance_info is DURO_ENOTFOUND and history "
              "is empty."),
    DURO_CASE(delete_failed_instance_counts, DURO_CAP_MANAGEMENT, 0,
              "A failed instance is deleted without force with exact counts."),
    DURO_CASE(delete_multi_execution_instance_counts, DURO_CAP_MANAGEMENT, 0,
              "Deleting an instance removes every execution and the history of each of them, "
              "and counts them all."),
    DURO_CASE(delete_running_without_force_rejected, DURO_CAP_MANAGEMENT, 0,
              "Deleting a running instance without force fails with DURO_ERUNNING (not "
              "retryable) and leaves metadata, history and queued messages intact."),
    DURO_CASE(delete_judges_the_current_execution, DURO_CAP_MANAGEMENT, 0,
              "delete_instance without force refuses an instance whose current execution runs, "
              "though an older execution of it ended (DURO_ERUNNING, not retryable)."),
    DURO_CASE(delete_running_with_force, DURO_CAP_MANAGEMENT, 0,
              "force deletes a running instance with exact counts."),
    DURO_CASE(delete_unknown_instance_not_found, DURO_CAP_MANAGEMENT, 0,
              "Deleting an unknown id (one that is only a prefix of a queued one too) fails "
              "with DURO_ENOTFOUND (not retryable), with or without force, reports a result of "
              "zeros and touches no other instance or message."),
    DURO_CASE(delete_instance_without_row, DURO_CAP_MANAGEMENT, 0,
              "A queued start no runtime took (no instance row) and orphans are deleted by id "
              "with exact message counts; while a runtime holds the row-less lock the delete "
              "is DURO_ERUNNING without force, and after a forced one the holder's ack is "
              "DURO_ELOCK and creates no row."),
    DURO_CASE(delete_twice_not_found, DURO_CAP_MANAGEMENT, 0,
              "A second delete of the same instance fails with DURO_ENOTFOUND."),
    DURO_CASE(delete_child_directly_rejected, DURO_CAP_MANAGEMENT, 0,
              "A sub-orchestration cannot be deleted on its own: DURO_ECHILD even with force, "
              "and nothing of the tree is removed."),
    DURO_CASE(delete_root_deletes_tree_depth3, DURO_CAP_MANAGEMENT, 0,
              "Deleting a root removes its whole tree of depth 3 (4 instances) with exact "
              "counts and leaves unrelated instances alone."),
    DURO_CASE(delete_tree_with_running_descendant, DURO_CAP_MANAGEMENT, 0,
              "A running grandchild makes deleting the root without force fail with "
              "DURO_ERUNNING and remove nothing; with force the whole tree goes."),
    DURO_CASE(delete_removes_queued_messages, DURO_CAP_MANAGEMENT, 0,
              "Deleting removes the instance's queued orchestrator messages, delayed ones "
              "included, and counts them."),
    DURO_CASE(delete_removes_work_items, DURO_CAP_MANAGEMENT, 0,
              "Deleting removes the instance's queued and locked work items and its messages, "
              "counts them, and none is fetchable afterwards, not even after lock expiry."),
    DURO_CASE(delete_leaves_other_instances_intact, DURO_CAP_MANAGEMENT, 0,
              "Deleting one instance leaves another instance's history, messages and work "
              "items untouched."),
    DURO_CASE(delete_terminal_instance_while_locked, DURO_CAP_MANAGEMENT, 0,
              "A terminal instance is deleted without force even while a turn holds its lock, "
              "and that turn's ack then fails with DURO_ELOCK."),
    DURO_CASE(delete_force_while_locked_prevents_zombie, DURO_CAP_MANAGEMENT, 0,
              "After a force delete under a held lock, renew and ack with that token fail with "
              "DURO_ELOCK and the ack writes nothing: no instance, history, work or messages "
              "reappear."),
    DURO_CASE(delete_then_recreate_same_id, DURO_CAP_MANAGEMENT, 0,
              "An id can be started again after deletion: it is fetched as a new instance and "
              "the new ack's name, version, history and created_at are what instance_info "
              "shows."),
    DURO_CASE(delete_in_flight_activity_ack_fails, DURO_CAP_MANAGEMENT, 0,
              "A worker's ack of an activity whose instance was force-deleted fails with "
              "DURO_ELOCK (not retryable) and leaves no completion behind: a later start of "
              "the same id is fetched with its START alone."),
    DURO_CASE(delete_stale_activity_after_recreate, DURO_CAP_MANAGEMENT, 0,
              "A worker holding an activity of a deleted instance cannot ack it after the id "
              "is re-created: DURO_ELOCK, no stale completion reaches the new instance, and "
              "the new instance's own work item is intact."),
    DURO_CASE(delete_stale_activity_renew_fails, DURO_CAP_MANAGEMENT, 0,
              "renew_work and abandon_work of an activity whose instance was deleted fail with "
              "DURO_ELOCK and do not resurrect the item."),
    DURO_CASE(delete_updates_metrics, DURO_CAP_MANAGEMENT, 0,
              "After a delete, metrics no longer count the deleted instance, its executions or "
              "its events."),
    DURO_CASES_END,
};
