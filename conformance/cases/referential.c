/*
 * referential.c — conformance category "referential": what a provider does when the rows a
 * call refers to are missing or not there yet. Orphan messages wait for a start message that
 * is delayed, without blocking anyone; a sub-orchestration whose parent row is gone is a root
 * for delete_instance and every path of delete_bulk and keeps its parent link for
 * instance_info and list_children; an instance whose current execution continued as new is
 * skipped by every bulk-delete path (by id, by filter, by time) and deleted by
 * delete_instance without force; and execution_info and read_history answer for execution 0
 * (the current one), the current id, an older id and an id that does not exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY referential

/* ---- Helpers ------------------------------------------------------------------------------ */

/* The payloads of read_history(instance, execution) joined with commas, after asserting
 * that the read succeeded. */
static const char *history_of(duro_ct_ctx *ctx, const char *instance, uint64_t execution,
                              char *buf, size_t size)
{
    duro_error err = {0};
    duro_event *ev = NULL;
    size_t n = 0, used = 0;
    int rc = ctx->p->ops->read_history(ctx->p, instance, execution, &ev, &n, &err);

    ck_assert_msg(rc == 0, "read_history(%s, %llu): %s (%s)", instance,
                  (unsigned long long)execution, duro_strerror(rc), err.message);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(buf + used, size - used, "%s%llu:%s", i ? "," : "",
                           (unsigned long long)ev[i].event_id, ev[i].payload);
        ck_assert_int_ge(len, 0);
        ck_assert_uint_lt((size_t)len, size - used);
        used += (size_t)len;
    }
    duro_events_free(ev, n);
    return buf;
}

static int del(duro_ct_ctx *ctx, const char *instance, int force, duro_delete_result *r,
               duro_error *err)
{
    memset(r, 0, sizeof *r);
    memset(err, 0, sizeof *err);
    return ctx->p->ops->delete_instance(ctx->p, ctx->now, instance, force, r, err);
}

/* delete_bulk with the given filter at ctx->now; asserts success. */
static duro_delete_result bulk(duro_ct_ctx *ctx, const char *const *ids, size_t n_ids,
                               int64_t completed_before)
{
    duro_bulk_filter f = {ids, n_ids, completed_before, 0};
    duro_delete_result r;
    duro_error err = {0};
    int rc;

    memset(&r, 0xff, sizeof r);
    rc = ctx->p->ops->delete_bulk(ctx->p, ctx->now, &f, &r, &err);
    ck_assert_msg(rc == 0, "delete_bulk failed: %s (%s)", duro_strerror(rc), err.message);
    return r;
}

/* A sub-orchestration "c" whose parent row "P" is gone: P completes in the turn that starts
 * c, P is deleted before c's first turn, and c's first ack (at the returned time) names P
 * as its parent and ends c in `state` (0: Running) with one event. */
static int64_t orphan_child(duro_ct_ctx *ctx, int state)
{
    const duro_event_in ev[] = {{1, 1, "started"}};
    const duro_msg start = {"c", DURO_MSG_START, 1, ctx->now, "start:c"};
    duro_orch_commit cm = ct_commit(1, ev, 1);
    duro_delete_result r;
    duro_error err;
    duro_orch_item *it;

    ct_enqueue_start(ctx, "P");
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "P");
    cm.orch_name = "Parent";
    cm.orch_version = "1.0.0";
    cm.state = DURO_STATE_COMPLETED;
    cm.output = "p-out";
    cm.msgs = &start;
    cm.n_msgs = 1;
    ct_ack(ctx, it, &cm);
    ctx->now += DURO_CT_STEP_MS;
    ck_assert_int_eq(del(ctx, "P", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 0);
    ctx->now += DURO_CT_STEP_MS;
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "c");
    cm = ct_commit(1, ev, 1);
    cm.orch_name = "Child";
    cm.orch_version = "1.0.0";
    cm.parent_instance = "P";
    cm.state = state;
    cm.output = state != 0 ? "c-out" : NULL;
    ct_ack(ctx, it, &cm);
    return ctx->now;
}

/* Give `inst` executions 1..n_exec, one turn each (turn k at entry + (k-1) steps), with
 * events "x<k>-1", "x<k>-2". Every execution but the last continues as new and enqueues the
 * CONTINUE_AS_NEW message of the next; the last ends in `last_state` (0: Running) with
 * output "final", and when that state is CONTINUED_AS_NEW its message for the next
 * execution stays queued. Returns the time of the last turn; ctx->now is one step later. */
static int64_t chain(duro_ct_ctx *ctx, const char *inst, uint64_t n_exec, int last_state)
{
    static const char *const payloads[][2] = {{"x1-1", "x1-2"}, {"x2-1", "x2-2"},
                                              {"x3-1", "x3-2"}};
    int64_t last = ctx->now;

    ck_assert_uint_le(n_exec, 3);
    ct_enqueue_start(ctx, inst);
    for (uint64_t k = 1; k <= n_exec; k++) {
        const duro_event_in ev[] = {{1, 1, payloads[k - 1][0]}, {2, 1, payloads[k - 1][1]}};
        const duro_msg next = {inst, DURO_MSG_CONTINUE_AS_NEW, k + 1, ctx->now, "next"};
        duro_orch_item *it = ct_fetch(ctx);
        duro_orch_commit c = ct_commit(k, ev, 2);

        ck_assert_str_eq(it->instance, inst);
        c.orch_name = "TestOrch";
        c.orch_version = "1.0.0";
        c.state = k < n_exec ? DURO_STATE_CONTINUED_AS_NEW : last_state;
        c.output = k < n_exec ? "continued" : last_state ? "final" : NULL;
        if (c.state == DURO_STATE_CONTINUED_AS_NEW) {
            c.msgs = &next;
            c.n_msgs = 1;
        }
        ct_ack(ctx, it, &c);
        last = ctx->now;
        ctx->now += DURO_CT_STEP_MS;
    }
    return last;
}

/* ---- Orphan messages and a delayed start -------------------------------------------------- */

static void orphans_wait_for_delayed_start(duro_ct_ctx *ctx)
{
    const int64_t t0 = ctx->now;
    duro_orch_item *it;
    duro_orch_commit cm = ct_commit(1, NULL, 0);

    ct_enqueue(ctx, "x", DURO_MSG_EVENT, "o1", 0);
    ct_enqueue(ctx, "x", DURO_MSG_START, "start:x", 5000);
    ct_enqueue(ctx, "x", DURO_MSG_EVENT, "o2", 0);
    ct_enqueue_start(ctx, "y");
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "y");
    ck_assert_uint_eq(it->n_msgs, 1);
    cm.orch_name = "TestOrch";
    ct_ack(ctx, it, &cm);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 4999;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 5000;
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "x");
    ck_assert_ptr_null(it->orch_name);
    ck_assert_int_eq(it->state, DURO_STATE_NOT_FOUND);
    ck_assert_uint_eq(it->execution_id, 1);
    ck_assert_uint_eq(it->attempt, 1);
    ck_assert_uint_eq(it->n_msgs, 3);
    ck_assert_int_eq(it->msgs[0].kind, DURO_MSG_EVENT);
    ck_assert_str_eq(it->msgs[0].payload, "o1");
    ck_assert_int_eq(it->msgs[1].kind, DURO_MSG_START);
    ck_assert_str_eq(it->msgs[1].payload, "start:x");
    ck_assert_int_eq(it->msgs[2].kind, DURO_MSG_EVENT);
    ck_assert_str_eq(it->msgs[2].payload, "o2");
    ck_assert_int_lt(it->msgs[0].id, it->msgs[1].id);
    ck_assert_int_lt(it->msgs[1].id, it->msgs[2].id);
    ct_ack(ctx, it, &cm);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void orphan_and_delayed_start_depths(duro_ct_ctx *ctx)
{
    ct_require_management(ctx);
    ct_enqueue(ctx, "x", DURO_MSG_EVENT, "o1", 0);
    ct_enqueue(ctx, "x", DURO_MSG_START, "start:x", 5000);
    DURO_CT_ASSERT_DEPTHS(ctx, 1, 0, 1);
    ctx->now += 5000;
    DURO_CT_ASSERT_DEPTHS(ctx, 2, 0, 0);
}

/* ---- A child whose parent row is gone ----------------------------------------------------- */

static void orphan_child_keeps_parent_link(duro_ct_ctx *ctx)
{
    duro_instance_info info;
    duro_error err;
    char **kids = NULL;
    size_t n = 0;
    char buf[64];

    ct_require_management(ctx);
    orphan_child(ctx, DURO_STATE_COMPLETED);
    ct_instance_info(ctx, "c", &info);
    ck_assert_str_eq(info.parent_instance, "P");
    duro_instance_info_clear(&info);
    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, "P", &info, &err), DURO_ENOTFOUND);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "c");
    ck_assert_int_eq(ctx->p->ops->list_children(ctx->p, "P", &kids, &n, &err), 0);
    ck_assert_str_eq(ct_join(kids, n, buf, sizeof buf), "c");
    duro_strv_free(kids, n);
}

static void orphan_child_is_root_for_delete(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    orphan_child(ctx, 0);
    ct_make_instance(ctx, "g", "c", 2, 1, DURO_STATE_COMPLETED, "g-out");
    ck_assert_int_eq(del(ctx, "g", 1, &r, &err), DURO_ECHILD);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_int_eq(del(ctx, "c", 0, &r, &err), DURO_ERUNNING);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "g,c");
    ck_assert_int_eq(del(ctx, "c", 1, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 2, 2, 3, 1);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "");
}

static void orphan_child_bulk_delete_by_id(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"c"};
    duro_delete_result r;
    char buf[64];

    ct_require_management(ctx);
    orphan_child(ctx, DURO_STATE_COMPLETED);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "g", "c", 1, 0, DURO_STATE_COMPLETED, "g-out");
    r = bulk(ctx, ids, 1, 0);
    DURO_CT_ASSERT_RESULT(r, 2, 2, 2, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "");
}

static void orphan_child_bulk_delete_by_filter_and_time(duro_ct_ctx *ctx)
{
    duro_delete_result r;
    char buf[64];
    int64_t done;

    ct_require_management(ctx);
    done = orphan_child(ctx, DURO_STATE_FAILED);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "g", "c", 1, 0, DURO_STATE_COMPLETED, "g-out");
    r = bulk(ctx, NULL, 0, done);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    r = bulk(ctx, NULL, 0, done + 1);
    DURO_CT_ASSERT_RESULT(r, 2, 2, 2, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "");

    ctx->now += DURO_CT_STEP_MS;
    orphan_child(ctx, DURO_STATE_COMPLETED);
    r = bulk(ctx, NULL, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 1, 0);
}

/* ---- Continued-as-new and bulk deletion ---------------------------------------------------- */

static void continued_as_new_skipped_by_every_bulk_path(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"can", "done"};
    duro_delete_result r;
    duro_error err;
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "done", 1, DURO_STATE_COMPLETED);
    chain(ctx, "can", 2, DURO_STATE_CONTINUED_AS_NEW);
    r = bulk(ctx, ids, 2, 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 2, 0);
    r = bulk(ctx, ids, 2, ctx->now);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    r = bulk(ctx, NULL, 0, ctx->now);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    r = bulk(ctx, NULL, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "can");
    ck_assert_str_eq(ct_list_executions(ctx, "can", buf, sizeof buf), "1,2");
    ck_assert_int_eq(del(ctx, "can", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 2, 4, 1);
}

static void continued_as_new_then_completed_on_every_bulk_path(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"a"};
    duro_delete_result r;
    char buf[64];
    int64_t b_done;

    ct_require_management(ctx);
    chain(ctx, "a", 3, DURO_STATE_COMPLETED);
    b_done = chain(ctx, "b", 3, DURO_STATE_COMPLETED);
    chain(ctx, "c", 2, DURO_STATE_FAILED);
    r = bulk(ctx, ids, 1, 0);
    DURO_CT_ASSERT_RESULT(r, 1, 3, 6, 0);
    /* b's first execution ended long before b_done: only the current one counts */
    r = bulk(ctx, NULL, 0, b_done);
    DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    r = bulk(ctx, NULL, 0, b_done + 1);
    DURO_CT_ASSERT_RESULT(r, 1, 3, 6, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "c");
    r = bulk(ctx, NULL, 0, 0);
    DURO_CT_ASSERT_RESULT(r, 1, 2, 4, 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "");
}

/* ---- Reads of execution 0, the current one, an older one and an unknown one --------------- */

static void history_reads_by_execution(duro_ct_ctx *ctx)
{
    char buf[256];

    chain(ctx, "a", 2, 0);
    ct_enqueue_start(ctx, "queued");
    ck_assert_str_eq(history_of(ctx, "a", 0, buf, sizeof buf), "1:x2-1,2:x2-2");
    ck_assert_str_eq(history_of(ctx, "a", 2, buf, sizeof buf), "1:x2-1,2:x2-2");
    ck_assert_str_eq(history_of(ctx, "a", 1, buf, sizeof buf), "1:x1-1,2:x1-2");
    ck_assert_str_eq(history_of(ctx, "a", 3, buf, sizeof buf), "");
    ck_assert_str_eq(history_of(ctx, "a", UINT64_MAX, buf, sizeof buf), "");
    ck_assert_str_eq(history_of(ctx, "nope", 0, buf, sizeof buf), "");
    ck_assert_str_eq(history_of(ctx, "nope", 1, buf, sizeof buf), "");
    ck_assert_str_eq(history_of(ctx, "queued", 0, buf, sizeof buf), "");
}

/* Assert execution_info(instance, id) fails with DURO_ENOTFOUND, not retryable. */
static void expect_no_execution(duro_ct_ctx *ctx, const char *instance, uint64_t id)
{
    duro_execution_info x;
    duro_error err = {0};
    int rc = ctx->p->ops->execution_info(ctx->p, instance, id, &x, &err);

    ck_assert_msg(rc == DURO_ENOTFOUND, "execution_info(%s, %llu) = %s, not DURO_ENOTFOUND",
                  instance, (unsigned long long)id, duro_strerror(rc));
    ck_assert_int_eq(err.retryable, 0);
}

static void execution_info_by_execution(duro_ct_ctx *ctx)
{
    duro_execution_info x0, x1, x2;
    duro_error err = {0};
    int64_t t1 = ctx->now;

    ct_require_management(ctx);
    chain(ctx, "a", 2, 0);
    ct_enqueue_start(ctx, "queued");
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "a", 0, &x0, &err), 0);
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "a", 2, &x2, &err), 0);
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "a", 1, &x1, &err), 0);
    ck_assert_uint_eq(x0.execution_id, 2);
    ck_assert_uint_eq(x2.execution_id, 2);
    ck_assert_int_eq(x0.state, DURO_STATE_RUNNING);
    ck_assert_int_eq(x2.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(x0.output);
    ck_assert_ptr_null(x2.output);
    ck_assert_int_eq(x0.started_at_ms, t1 + DURO_CT_STEP_MS);
    ck_assert_int_eq(x2.started_at_ms, t1 + DURO_CT_STEP_MS);
    ck_assert_int_eq(x0.completed_at_ms, 0);
    ck_assert_int_eq(x2.completed_at_ms, 0);
    ck_assert_uint_eq(x0.event_count, 2);
    ck_assert_uint_eq(x2.event_count, 2);
    ck_assert_uint_eq(x1.execution_id, 1);
    ck_assert_int_eq(x1.state, DURO_STATE_CONTINUED_AS_NEW);
    ck_assert_str_eq(x1.output, "continued");
    ck_assert_int_eq(x1.started_at_ms, t1);
    ck_assert_int_eq(x1.completed_at_ms, t1);
    ck_assert_uint_eq(x1.event_count, 2);
    duro_execution_info_clear(&x0);
    duro_execution_info_clear(&x1);
    duro_execution_info_clear(&x2);
    expect_no_execution(ctx, "a", 3);
    expect_no_execution(ctx, "a", UINT64_MAX);
    expect_no_execution(ctx, "nope", 0);
    expect_no_execution(ctx, "nope", 1);
    expect_no_execution(ctx, "queued", 0);
    expect_no_execution(ctx, "queued", 1);
}

static void reads_of_pruned_execution(duro_ct_ctx *ctx)
{
    const duro_prune_options opt = {0, 0};
    duro_execution_info x;
    duro_delete_result r;
    duro_error err = {0};
    char buf[256];

    ct_require_management(ctx);
    chain(ctx, "a", 3, DURO_STATE_COMPLETED);
    ck_assert_int_eq(ctx->p->ops->prune(ctx->p, ctx->now, "a", &opt, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 2, 4, 0);
    expect_no_execution(ctx, "a", 1);
    expect_no_execution(ctx, "a", 2);
    ck_assert_str_eq(history_of(ctx, "a", 1, buf, sizeof buf), "");
    ck_assert_str_eq(history_of(ctx, "a", 2, buf, sizeof buf), "");
    ck_assert_str_eq(history_of(ctx, "a", 0, buf, sizeof buf), "1:x3-1,2:x3-2");
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "a", 0, &x, &err), 0);
    ck_assert_uint_eq(x.execution_id, 3);
    ck_assert_int_eq(x.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(x.output, "final");
    duro_execution_info_clear(&x);
}

DURO_CASES = {
    DURO_CASE(orphans_wait_for_delayed_start, 0, 0,
              "Orphan messages of an instance whose only START is delayed are not fetched and "
              "block no other instance; at exactly the START's visible_at the instance is "
              "fetched with the orphans and the START in one batch, FIFO by id, attempt 1."),
    DURO_CASE(orphan_and_delayed_start_depths, DURO_CAP_MANAGEMENT, 0,
              "queue_depths counts a visible orphan as an orchestrator message and its delayed "
              "START as delayed, and both as orchestrator messages once the START is due."),
    DURO_CASE(orphan_child_keeps_parent_link, DURO_CAP_MANAGEMENT, 0,
              "A child whose parent row is gone keeps its parent link: instance_info reports "
              "it, list_children of the parent id lists it, and list_instances lists it."),
    DURO_CASE(orphan_child_is_root_for_delete, DURO_CAP_MANAGEMENT, 0,
              "A child whose parent row is gone is a root for delete_instance: running, it "
              "needs force (DURO_ERUNNING, not DURO_ECHILD), and it is deleted with its own "
              "child, whose direct delete is still DURO_ECHILD."),
    DURO_CASE(orphan_child_bulk_delete_by_id, DURO_CAP_MANAGEMENT, 0,
              "delete_bulk by id deletes a terminal child whose parent row is gone, with its "
              "own child, and counts exactly."),
    DURO_CASE(orphan_child_bulk_delete_by_filter_and_time, DURO_CAP_MANAGEMENT, 0,
              "delete_bulk with an empty filter, and with completed_before strictly after its "
              "completion, deletes a terminal child whose parent row is gone."),
    DURO_CASE(continued_as_new_skipped_by_every_bulk_path, DURO_CAP_MANAGEMENT, 0,
              "An instance whose current execution continued as new is skipped by delete_bulk "
              "by id, by an empty filter and by completed_before, and delete_instance deletes "
              "it without force, counting its queued CONTINUE_AS_NEW message."),
    DURO_CASE(continued_as_new_then_completed_on_every_bulk_path, DURO_CAP_MANAGEMENT, 0,
              "A continued-as-new chain whose last execution is terminal is deleted by every "
              "bulk path with all its executions and events; completed_before compares the "
              "current execution's completion, not the first one's."),
    DURO_CASE(history_reads_by_execution, 0, 0,
              "read_history of execution 0 and of the current id return the current "
              "execution's events, an older id its own, and an id that does not exist (of a "
              "known, unknown or only queued instance) 0 events without error."),
    DURO_CASE(execution_info_by_execution, DURO_CAP_MANAGEMENT, 0,
              "execution_info of execution 0 equals that of the current id, an older id "
              "reports its own state, output and times, and an id that does not exist (of a "
              "known, unknown or only queued instance) is DURO_ENOTFOUND, not retryable."),
    DURO_CASE(reads_of_pruned_execution, DURO_CAP_MANAGEMENT, 0,
              "After prune, execution_info of a pruned execution is DURO_ENOTFOUND and its "
              "history reads as 0 events, while execution 0 still reads the current one."),
    DURO_CASES_END,
};
