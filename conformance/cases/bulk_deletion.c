/*
 * bulk_deletion.c — conformance category "bulk_deletion": delete_bulk (DURO_CAP_MANAGEMENT).
 * A bulk delete selects ROOT instances whose current state is terminal (completed or
 * failed), optionally restricted to listed ids and to completion strictly before a time,
 * at most `limit` roots per call, and deletes each with its whole tree. Running and
 * continued-as-new instances are skipped, sub-orchestrations are never deleted on their own,
 * and the returned counts are exact.
 */
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY bulk_deletion

/* delete_bulk with the given filter fields at ctx->now; asserts success. */
static duro_delete_result bulk(duro_ct_ctx *ctx, const char *const *ids, size_t n_ids,
                               int64_t completed_before, size_t limit)
{
    duro_bulk_filter f = {ids, n_ids, completed_before, limit};
    duro_delete_result r;
    duro_error err = {0};
    int rc;

    memset(&r, 0xff, sizeof r);
    rc = ctx->p->ops->delete_bulk(ctx->p, ctx->now, &f, &r, &err);
    ck_assert_msg(rc == 0, "delete_bulk failed: %s (%s)", duro_strerror(rc), err.message);
    return r;
}

static void bulk_delete_empty_store(duro_ct_ctx *ctx)
{
    duro_delete_result r;

    ct_require_management(ctx);
    r = bulk(ctx, NULL, 0, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
}

static void bulk_delete_by_ids(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"b", "d"};
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_make_instance(ctx, "a", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "b", NULL, 2, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "c", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "d", NULL, 3, 0, DURO_STATE_FAILED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "e", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    r = bulk(ctx, ids, 2, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 2, 2, 5, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "e,c,a");
    ck_assert_uint_eq(ct_history_len(ctx, "b", 0), 0);
    ck_assert_uint_eq(ct_history_len(ctx, "d", 0), 0);
}

static void bulk_delete_unknown_ids_zero(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"x", "y", "queued"};
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_make_instance(ctx, "a", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "b", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ct_enqueue_start(ctx, "queued");
    r = bulk(ctx, ids, 3, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "b,a");
}

static void bulk_delete_empty_filter_all_terminal_roots(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_make_instance(ctx, "c1", NULL, 2, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "run", NULL, 1, 0, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "f1", NULL, 1, 0, DURO_STATE_FAILED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "cont", NULL, 1, 0, DURO_STATE_CONTINUED_AS_NEW, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "c2", NULL, 3, 0, DURO_STATE_COMPLETED, "out");
    r = bulk(ctx, NULL, 0, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 3, 3, 6, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "cont,run");
}

static void bulk_delete_skips_running_ids(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"r1", "c1", "r2", "c2"};
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_make_instance(ctx, "r1", NULL, 1, 0, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "c1", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "r2", NULL, 1, 0, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "c2", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    r = bulk(ctx, ids, 4, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 2, 2, 2, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "r2,r1");
    ck_assert_uint_eq(ct_history_len(ctx, "r1", 0), 1);
}

static void bulk_delete_limit_batches(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_make_instance(ctx, "a", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "b", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "c", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "d", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "run", NULL, 1, 0, 0, NULL);
    r = bulk(ctx, NULL, 0, 0, 2);
    DURO_CT_ASSERT_RESULT(r, 2, 2, 2, 0);
    r = bulk(ctx, NULL, 0, 0, 2);
    DURO_CT_ASSERT_RESULT(r, 2, 2, 2, 0);
    r = bulk(ctx, NULL, 0, 0, 2);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "run");
}

static void bulk_delete_limit_counts_roots(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_make_instance(ctx, "r1", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "r1-kid", "r1", 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "r2", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "r2-kid", "r2", 1, 0, DURO_STATE_COMPLETED, "out");
    r = bulk(ctx, NULL, 0, 0, 1);
    DURO_CT_ASSERT_RESULT(r, 2, 2, 2, 0);
    r = bulk(ctx, NULL, 0, 0, 1);
    DURO_CT_ASSERT_RESULT(r, 2, 2, 2, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "");
}

static void bulk_delete_completed_before_strict(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_make_instance(ctx, "t0", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "t1", NULL, 1, 0, DURO_STATE_FAILED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "t2", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += DURO_CT_STEP_MS;
    r = bulk(ctx, NULL, 0, t0, 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    r = bulk(ctx, NULL, 0, t0 + DURO_CT_STEP_MS, 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "t2,t1");
    r = bulk(ctx, NULL, 0, t0 + 2 * DURO_CT_STEP_MS + 1, 0);
    DURO_CT_ASSERT_RESULT(r, 2, 2, 2, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "");
}

static void bulk_delete_completed_before_uses_completion_time(duro_ct_ctx *ctx)
{
    static const duro_event_in ev = {2, 1, "finish"};
    int64_t t0 = ctx->now;
    duro_orch_commit c = ct_commit(1, &ev, 1);
    duro_orch_item *it;
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_make_instance(ctx, "old-start", NULL, 1, 0, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "new-start", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += 4 * DURO_CT_STEP_MS;
    ct_enqueue(ctx, "old-start", DURO_MSG_EVENT, "finish", 0);
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "old-start");
    c.state = DURO_STATE_COMPLETED;
    c.output = "late";
    ct_ack(ctx, it, &c);
    r = bulk(ctx, NULL, 0, t0 + 2 * DURO_CT_STEP_MS, 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "old-start");
}

static void bulk_delete_combines_ids_and_cutoff(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"a", "c"};
    int64_t t0 = ctx->now;
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_make_instance(ctx, "a", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "b", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "c", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    r = bulk(ctx, ids, 2, t0 + 1, 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "c,b");
}

static void bulk_delete_cascades_to_children(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_make_instance(ctx, "r1", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "r1-k1", "r1", 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "r2", NULL, 1, 0, DURO_STATE_FAILED, "out");
    ct_make_instance(ctx, "r2-k1", "r2", 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "r2-k2", "r2", 1, 0, DURO_STATE_FAILED, "out");
    ct_make_instance(ctx, "r2-k3", "r2", 1, 0, DURO_STATE_COMPLETED, "out");
    ct_make_instance(ctx, "r3", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    r = bulk(ctx, NULL, 0, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 7, 7, 7, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "");
    ck_assert_uint_eq(ct_history_len(ctx, "r2-k3", 0), 0);
}

static void bulk_delete_never_deletes_children_alone(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"kid"};
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_make_instance(ctx, "root", NULL, 1, 0, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "kid", "root", 2, 0, DURO_STATE_COMPLETED, "out");
    r = bulk(ctx, NULL, 0, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    r = bulk(ctx, ids, 1, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "kid,root");
    ck_assert_uint_eq(ct_history_len(ctx, "kid", 0), 2);
}

static void bulk_delete_counts_queued_messages(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    duro_queue_depths d;

    ct_require_management(ctx);
    ct_make_instance(ctx, "q", NULL, 1, 0, DURO_STATE_COMPLETED, "out");
    ct_enqueue(ctx, "q", DURO_MSG_EVENT, "late", 0);
    ct_enqueue(ctx, "q", DURO_MSG_TIMER_FIRED, "timer", 5000);
    ct_enqueue_work(ctx, "q", 9, "leftover");
    r = bulk(ctx, NULL, 0, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 3);
    ck_assert_int_eq(ctx->p->ops->queue_depths(ctx->p, ctx->now, &d, &err), 0);
    ck_assert_uint_eq(d.orchestrator, 0);
    ck_assert_uint_eq(d.worker, 0);
    ck_assert_uint_eq(d.delayed, 0);
}

static void bulk_delete_multi_execution_counts(duro_ct_ctx *ctx)
{
    static const duro_event_in ev[] = {{1, 1, "e1"}, {2, 1, "e2"}, {3, 1, "e3"}};
    duro_delete_result r;
    char buf[128];

    ct_require_management(ctx);
    ct_enqueue_start(ctx, "multi");
    for (uint64_t k = 1; k <= 3; k++) {
        duro_orch_item *it = ct_fetch(ctx);
        duro_orch_commit c = ct_commit(k, ev, 3);
        duro_msg next = {"multi", DURO_MSG_CONTINUE_AS_NEW, k + 1, ctx->now, "next"};

        c.orch_name = "TestOrch";
        c.orch_version = "1.0.0";
        c.state = k < 3 ? DURO_STATE_CONTINUED_AS_NEW : DURO_STATE_COMPLETED;
        c.output = "out";
        c.msgs = &next;
        c.n_msgs = k < 3;
        ct_ack(ctx, it, &c);
    }
    r = bulk(ctx, NULL, 0, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 1, 3, 9, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "");
}

DURO_CASES = {
    DURO_CASE(bulk_delete_empty_store, DURO_CAP_MANAGEMENT, 0,
              "A bulk delete on an empty store succeeds and counts 0."),
    DURO_CASE(bulk_delete_by_ids, DURO_CAP_MANAGEMENT, 0,
              "A bulk delete restricted to ids deletes exactly those terminal roots and "
              "reports their exact counts."),
    DURO_CASE(bulk_delete_unknown_ids_zero, DURO_CAP_MANAGEMENT, 0,
              "Ids that name no instance (or only a queued start) delete nothing and count 0."),
    DURO_CASE(bulk_delete_empty_filter_all_terminal_roots, DURO_CAP_MANAGEMENT, 0,
              "An empty filter deletes every completed or failed root and skips running and "
              "continued-as-new instances."),
    DURO_CASE(bulk_delete_skips_running_ids, DURO_CAP_MANAGEMENT, 0,
              "Running instances listed by id are skipped; the terminal ones listed are "
              "deleted."),
    DURO_CASE(bulk_delete_limit_batches, DURO_CAP_MANAGEMENT, 0,
              "limit caps the roots deleted per call: 4 terminal roots with limit 2 go as 2, "
              "2, then 0."),
    DURO_CASE(bulk_delete_limit_counts_roots, DURO_CAP_MANAGEMENT, 0,
              "limit counts roots, not instances: limit 1 deletes one root with its whole tree "
              "per call."),
    DURO_CASE(bulk_delete_completed_before_strict, DURO_CAP_MANAGEMENT, 0,
              "completed_before selects instances completed strictly before the bound: a bound "
              "equal to a completion time does not select it."),
    DURO_CASE(bulk_delete_completed_before_uses_completion_time, DURO_CAP_MANAGEMENT, 0,
              "completed_before compares the completion time, not the creation time."),
    DURO_CASE(bulk_delete_combines_ids_and_cutoff, DURO_CAP_MANAGEMENT, 0,
              "ids and completed_before combine: only listed instances completed before the "
              "bound are deleted."),
    DURO_CASE(bulk_delete_cascades_to_children, DURO_CAP_MANAGEMENT, 0,
              "Each selected root is deleted with its whole tree: 3 roots with 1, 3 and 0 "
              "children count exactly 7 instances."),
    DURO_CASE(bulk_delete_never_deletes_children_alone, DURO_CAP_MANAGEMENT, 0,
              "A terminal sub-orchestration is never bulk-deleted on its own, neither by an "
              "empty filter nor when listed by id."),
    DURO_CASE(bulk_delete_counts_queued_messages, DURO_CAP_MANAGEMENT, 0,
              "A bulk delete removes and counts the instance's queued, delayed and work rows."),
    DURO_CASE(bulk_delete_multi_execution_counts, DURO_CAP_MANAGEMENT, 0,
              "A bulk delete counts every execution and event of a continued-as-new chain."),
    DURO_CASES_END,
};
