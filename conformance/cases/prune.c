/*
 * prune.c — conformance category "prune": removing old executions of one instance
 * (DURO_CAP_MANAGEMENT). prune keeps the newest `keep_last` executions (0 and 1 both keep
 * only the current one), optionally prunes only executions completed strictly before a time,
 * never prunes the current execution or a running one, deletes the pruned executions'
 * history, and reports exact counts. The instance itself, its metadata and its queued
 * messages are untouched.
 */
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY prune

static const duro_event_in two_events[] = {{1, 1, "e1"}, {2, 1, "e2"}};

/* Give a new instance `inst` executions 1..n_exec with 2 events each, one turn per
 * execution; turn k runs at (ctx->now on entry) + (k-1)*DURO_CT_STEP_MS. Every execution
 * but the last ends CONTINUED_AS_NEW in its own turn (so it completes at that turn's time)
 * and enqueues the CONTINUE_AS_NEW message of the next; the last ends in `last_state` (0 =
 * Running). On return ctx->now is one step after the last turn. */
static void chain(duro_ct_ctx *ctx, const char *inst, uint64_t n_exec, int last_state)
{
    ct_enqueue_start(ctx, inst);
    for (uint64_t k = 1; k <= n_exec; k++) {
        duro_orch_item *it = ct_fetch(ctx);
        duro_orch_commit c = ct_commit(k, two_events, 2);
        duro_msg next = {inst, DURO_MSG_CONTINUE_AS_NEW, k + 1, ctx->now, "next"};

        ck_assert_str_eq(it->instance, inst);
        c.orch_name = "TestOrch";
        c.orch_version = "1.0.0";
        if (k < n_exec) {
            c.state = DURO_STATE_CONTINUED_AS_NEW;
            c.output = "continued";
            c.msgs = &next;
            c.n_msgs = 1;
        } else {
            c.state = last_state;
            c.output = last_state ? "final" : NULL;
        }
        ct_ack(ctx, it, &c);
        ctx->now += DURO_CT_STEP_MS;
    }
}

/* prune at ctx->now; returns the code, the counts in *out. */
static int prune(duro_ct_ctx *ctx, const char *inst, uint64_t keep_last,
                 int64_t completed_before, duro_delete_result *out, duro_error *err)
{
    duro_prune_options opt = {keep_last, completed_before};

    memset(out, 0xff, sizeof *out);
    return ctx->p->ops->prune(ctx->p, ctx->now, inst, &opt, out, err);
}

static void prune_keep_last_2_of_4(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_execution_info info;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "p", 4, DURO_STATE_COMPLETED);
    ck_assert_int_eq(prune(ctx, "p", 2, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 2, 4, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "p", buf, sizeof buf), "3,4");
    ck_assert_uint_eq(ct_history_len(ctx, "p", 1), 0);
    ck_assert_uint_eq(ct_history_len(ctx, "p", 2), 0);
    ck_assert_uint_eq(ct_history_len(ctx, "p", 3), 2);
    ck_assert_uint_eq(ct_history_len(ctx, "p", 4), 2);
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "p", 2, &info, &err), DURO_ENOTFOUND);
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "p", 3, &info, &err), 0);
    ck_assert_int_eq(info.state, DURO_STATE_CONTINUED_AS_NEW);
    ck_assert_uint_eq(info.event_count, 2);
    duro_execution_info_clear(&info);
}

static void prune_keep_last_0_keeps_current(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "p", 4, DURO_STATE_COMPLETED);
    ck_assert_int_eq(prune(ctx, "p", 0, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 3, 6, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "p", buf, sizeof buf), "4");
    ck_assert_uint_eq(ct_history_len(ctx, "p", 0), 2);
}

static void prune_keep_last_1_keeps_current(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "p", 4, DURO_STATE_FAILED);
    ck_assert_int_eq(prune(ctx, "p", 1, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 3, 6, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "p", buf, sizeof buf), "4");
    ck_assert_uint_eq(ct_history_len(ctx, "p", 4), 2);
}

static void prune_never_prunes_running_current(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_instance_info info;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "p", 3, 0);
    ck_assert_int_eq(prune(ctx, "p", 0, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 2, 4, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "p", buf, sizeof buf), "3");
    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, "p", &info, &err), 0);
    ck_assert_uint_eq(info.execution_id, 3);
    ck_assert_int_eq(info.state, DURO_STATE_RUNNING);
    duro_instance_info_clear(&info);
}

static void prune_skips_running_old_execution(duro_ct_ctx *ctx)
{
    duro_orch_commit c = ct_commit(1, two_events, 2);
    duro_delete_result r;
    duro_orch_item *it;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    ct_enqueue_start(ctx, "p");
    it = ct_fetch(ctx);
    c.orch_name = "TestOrch";
    c.orch_version = "1.0.0";
    ct_ack(ctx, it, &c);
    ctx->now += DURO_CT_STEP_MS;
    ct_enqueue(ctx, "p", DURO_MSG_CONTINUE_AS_NEW, "next", 0);
    it = ct_fetch(ctx);
    c = ct_commit(2, two_events, 2);
    c.state = DURO_STATE_COMPLETED;
    c.output = "final";
    ct_ack(ctx, it, &c);
    ctx->now += DURO_CT_STEP_MS;
    ck_assert_int_eq(prune(ctx, "p", 0, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "p", buf, sizeof buf), "1,2");
    ck_assert_uint_eq(ct_history_len(ctx, "p", 1), 2);
}

static void prune_completed_before_strict(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "p", 4, DURO_STATE_COMPLETED);
    ck_assert_int_eq(prune(ctx, "p", 0, t0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_int_eq(prune(ctx, "p", 0, t0 + DURO_CT_STEP_MS, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 1, 2, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "p", buf, sizeof buf), "2,3,4");
    ck_assert_uint_eq(ct_history_len(ctx, "p", 1), 0);
    ck_assert_uint_eq(ct_history_len(ctx, "p", 2), 2);
}

static void prune_keep_last_and_cutoff_combined(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "p", 4, DURO_STATE_COMPLETED);
    ck_assert_int_eq(prune(ctx, "p", 3, t0 + 1500, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 1, 2, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "p", buf, sizeof buf), "2,3,4");
    ck_assert_int_eq(prune(ctx, "p", 1, t0 + 1500, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 1, 2, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "p", buf, sizeof buf), "3,4");
}

static void prune_unknown_instance_not_found(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;

    ct_require_management(ctx);
    chain(ctx, "p", 2, DURO_STATE_COMPLETED);
    ct_enqueue_start(ctx, "queued");
    ck_assert_int_eq(prune(ctx, "nobody", 1, 0, &r, &err), DURO_ENOTFOUND);
    ck_assert_int_eq(err.code, DURO_ENOTFOUND);
    ck_assert_int_eq(err.retryable, 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0); /* prune() filled it with 0xff first */
    ck_assert_int_eq(prune(ctx, "queued", 1, 0, &r, &err), DURO_ENOTFOUND);
    ck_assert_int_eq(err.retryable, 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
}

static void prune_single_execution_noop(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "one", 1, DURO_STATE_COMPLETED);
    ck_assert_int_eq(prune(ctx, "one", 0, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "one", buf, sizeof buf), "1");
    ck_assert_uint_eq(ct_history_len(ctx, "one", 1), 2);
}

static void prune_is_idempotent(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "p", 3, DURO_STATE_COMPLETED);
    ck_assert_int_eq(prune(ctx, "p", 1, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 2, 4, 0);
    ck_assert_int_eq(prune(ctx, "p", 1, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "p", buf, sizeof buf), "3");
}

static void prune_keep_last_beyond_count_noop(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "p", 4, DURO_STATE_COMPLETED);
    ck_assert_int_eq(prune(ctx, "p", 4, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_int_eq(prune(ctx, "p", 10, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "p", buf, sizeof buf), "1,2,3,4");
}

static void prune_leaves_instance_metadata(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_delete_result r;
    duro_instance_info info;
    duro_metrics m;
    duro_error err;

    ct_require_management(ctx);
    chain(ctx, "p", 4, DURO_STATE_COMPLETED);
    ck_assert_int_eq(prune(ctx, "p", 0, 0, &r, &err), 0);
    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, "p", &info, &err), 0);
    ck_assert_str_eq(info.orch_name, "TestOrch");
    ck_assert_str_eq(info.orch_version, "1.0.0");
    ck_assert_uint_eq(info.execution_id, 4);
    ck_assert_int_eq(info.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(info.output, "final");
    ck_assert_int_eq(info.created_at_ms, t0);
    duro_instance_info_clear(&info);
    ck_assert_int_eq(ctx->p->ops->metrics(ctx->p, &m, &err), 0);
    ck_assert_uint_eq(m.instances, 1);
    ck_assert_uint_eq(m.executions, 1);
    ck_assert_uint_eq(m.completed, 1);
    ck_assert_uint_eq(m.events, 2);
}

static void prune_leaves_other_instances(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "a", 3, DURO_STATE_COMPLETED);
    chain(ctx, "b", 3, DURO_STATE_COMPLETED);
    ck_assert_int_eq(prune(ctx, "a", 0, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 2, 4, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "a", buf, sizeof buf), "3");
    ck_assert_str_eq(ct_list_executions(ctx, "b", buf, sizeof buf), "1,2,3");
    ck_assert_uint_eq(ct_history_len(ctx, "b", 1), 2);
}

static void prune_judges_only_its_own_executions(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "old", 3, DURO_STATE_COMPLETED);
    int64_t t1 = ctx->now;
    chain(ctx, "new", 3, DURO_STATE_COMPLETED);
    /* "old" has executions 1 and 2 completed before t1, "new" none: nothing to prune */
    ck_assert_int_eq(prune(ctx, "new", 0, t1, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "new", buf, sizeof buf), "1,2,3");
    ck_assert_uint_eq(ct_history_len(ctx, "new", 1), 2);
    ck_assert_str_eq(ct_list_executions(ctx, "old", buf, sizeof buf), "1,2,3");
}

static void prune_removes_execution_without_events(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    ct_enqueue_start(ctx, "z");
    duro_orch_item *it = ct_fetch(ctx);
    duro_orch_commit c = ct_commit(1, NULL, 0); /* execution 1 ends with no event at all */
    duro_msg next = {"z", DURO_MSG_CONTINUE_AS_NEW, 2, ctx->now, "next"};
    c.orch_name = "TestOrch";
    c.orch_version = "1.0.0";
    c.state = DURO_STATE_CONTINUED_AS_NEW;
    c.output = "continued";
    c.msgs = &next;
    c.n_msgs = 1;
    ct_ack(ctx, it, &c);
    ctx->now += DURO_CT_STEP_MS;
    it = ct_fetch(ctx);
    c = ct_commit(2, two_events, 2);
    c.state = DURO_STATE_COMPLETED;
    c.output = "final";
    ct_ack(ctx, it, &c);
    ck_assert_str_eq(ct_list_executions(ctx, "z", buf, sizeof buf), "1,2");
    ck_assert_int_eq(prune(ctx, "z", 0, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 1, 0, 0);
    ck_assert_str_eq(ct_list_executions(ctx, "z", buf, sizeof buf), "2");
}

static void prune_keeps_queued_messages(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_orch_item *it;
    duro_error err;

    ct_require_management(ctx);
    chain(ctx, "p", 3, 0);
    ct_enqueue(ctx, "p", DURO_MSG_EVENT, "pending", 0);
    ck_assert_int_eq(prune(ctx, "p", 0, 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 2, 4, 0);
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "p");
    ck_assert_uint_eq(it->execution_id, 3);
    ck_assert_uint_eq(it->n_history, 2);
    ck_assert_uint_eq(it->n_msgs, 1);
    ck_assert_str_eq(it->msgs[0].payload, "pending");
    duro_orch_item_free(it);
}

DURO_CASES = {
    DURO_CASE(prune_keep_last_2_of_4, DURO_CAP_MANAGEMENT, 0,
              "keep_last 2 of 4 executions deletes executions 1 and 2 with their history and "
              "counts exactly 2 executions and 4 events."),
    DURO_CASE(prune_keep_last_0_keeps_current, DURO_CAP_MANAGEMENT, 0,
              "keep_last 0 still keeps the current execution and prunes all the others."),
    DURO_CASE(prune_keep_last_1_keeps_current, DURO_CAP_MANAGEMENT, 0,
              "keep_last 1 keeps only the current execution, like keep_last 0."),
    DURO_CASE(prune_never_prunes_running_current, DURO_CAP_MANAGEMENT, 0,
              "A running current execution is never pruned and the instance stays Running."),
    DURO_CASE(prune_skips_running_old_execution, DURO_CAP_MANAGEMENT, 0,
              "An older execution that is still Running is never pruned."),
    DURO_CASE(prune_completed_before_strict, DURO_CAP_MANAGEMENT, 0,
              "completed_before prunes only executions completed strictly before the bound."),
    DURO_CASE(prune_keep_last_and_cutoff_combined, DURO_CAP_MANAGEMENT, 0,
              "keep_last and completed_before combine: an execution is pruned only when it is "
              "outside the newest keep_last and completed before the bound."),
    DURO_CASE(prune_unknown_instance_not_found, DURO_CAP_MANAGEMENT, 0,
              "Pruning an unknown instance (or one with only a queued start) fails with "
              "DURO_ENOTFOUND (not retryable) and reports a result of zeros."),
    DURO_CASE(prune_single_execution_noop, DURO_CAP_MANAGEMENT, 0,
              "Pruning an instance with one execution deletes nothing and counts 0."),
    DURO_CASE(prune_is_idempotent, DURO_CAP_MANAGEMENT, 0,
              "A second identical prune deletes nothing and counts 0."),
    DURO_CASE(prune_keep_last_beyond_count_noop, DURO_CAP_MANAGEMENT, 0,
              "keep_last at or above the number of executions deletes nothing."),
    DURO_CASE(prune_leaves_instance_metadata, DURO_CAP_MANAGEMENT, 0,
              "Pruning leaves the instance's name, version, current execution, state, output "
              "and created_at unchanged, and metrics drop the pruned executions and events."),
    DURO_CASE(prune_leaves_other_instances, DURO_CAP_MANAGEMENT, 0,
              "Pruning one instance leaves another instance's executions and history "
              "untouched."),
    DURO_CASE(prune_judges_only_its_own_executions, DURO_CAP_MANAGEMENT, 0,
              "prune judges the completion times of the instance's own executions: another "
              "instance's executions with the same ids, completed before the cutoff, make "
              "none of this instance's prunable."),
    DURO_CASE(prune_removes_execution_without_events, DURO_CAP_MANAGEMENT, 0,
              "prune deletes an old execution that has no history event (its row counted, "
              "0 events)."),
    DURO_CASE(prune_keeps_queued_messages, DURO_CAP_MANAGEMENT, 0,
              "Pruning removes no queued messages: the instance's pending message is still "
              "fetched, with the current execution's history."),
    DURO_CASES_END,
};
