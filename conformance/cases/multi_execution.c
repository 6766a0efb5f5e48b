/*
 * multi_execution.c — conformance cases for instances with several executions
 * (continue-as-new): which execution is current, history isolation per execution, event ids
 * and states per execution, and activity references scoped to their execution.
 *
 * The provider never invents execution ids: the runtime names the execution in each commit,
 * and the current execution is the largest one committed so far. Each case builds its
 * executions through ordinary turns (enqueue, fetch, ack) on the virtual clock.
 */
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY multi_execution

/* ---- Helpers --------------------------------------------------------------------------- */

/* Assert that execution `execution_id` of `instance` (0 = current) holds exactly the events
 * with ids `ids` and payloads `payloads`, in that order. */
static void expect_history(duro_ct_ctx *ctx, const char *instance, uint64_t execution_id,
                           const uint64_t *ids, const char *const *payloads, size_t n)
{
    duro_event *events = NULL;
    size_t got = 0;
    duro_error err = {0};
    int rc = ctx->p->ops->read_history(ctx->p, instance, execution_id, &events, &got, &err);

    ck_assert_msg(rc == 0, "read_history(%s, %llu) failed: %s (%s)", instance,
                  (unsigned long long)execution_id, duro_strerror(rc), err.message);
    ck_assert_msg(got == n, "read_history(%s, %llu): %zu events, expected %zu", instance,
                  (unsigned long long)execution_id, got, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(events[i].event_id, ids[i]);
        ck_assert_str_eq(events[i].payload, payloads[i]);
    }
    duro_events_free(events, got);
}

/* Execution 1 of `instance` gets events 1 "started", 2 "e1-sched", 3 "e1-can" and ends
 * CONTINUED_AS_NEW with output "input-2"; execution 2 then starts with events
 * 1 "e2-started", 2 "e2-sched" and is RUNNING (the state of a newly created execution; the
 * commit sets none). Each turn is 1 s after the previous one. */
static void two_executions(duro_ct_ctx *ctx, const char *instance)
{
    const duro_event_in e1[] = {
        {.event_id = 2, .kind = 3, .payload = "e1-sched"},
        {.event_id = 3, .kind = 9, .payload = "e1-can"},
    };
    const duro_event_in e2[] = {
        {.event_id = 1, .kind = 1, .payload = "e2-started"},
        {.event_id = 2, .kind = 3, .payload = "e2-sched"},
    };
    duro_orch_commit c1 = ct_commit(1, e1, 2);
    duro_orch_commit c2 = ct_commit(2, e2, 2);

    ct_create_instance(ctx, instance);
    ctx->now += 1000;
    c1.state = DURO_STATE_CONTINUED_AS_NEW;
    c1.output = "input-2";
    ct_turn(ctx, instance, &c1);
    ctx->now += 1000;
    ct_turn(ctx, instance, &c2);
}

static const uint64_t ids_123[] = {1, 2, 3};
static const char *const exec1_payloads[] = {"started", "e1-sched", "e1-can"};
static const char *const exec2_payloads[] = {"e2-started", "e2-sched"};

/* ---- Cases ----------------------------------------------------------------------------- */

static void current_execution_is_per_instance(duro_ct_ctx *ctx)
{
    static const uint64_t ids_1[] = {1};
    static const char *const started[] = {"started"};

    ct_create_instance(ctx, "one"); /* execution 1 current */
    two_executions(ctx, "two");     /* execution 2 current */
    expect_history(ctx, "one", 0, ids_1, started, 1);
    expect_history(ctx, "two", 0, ids_123, exec2_payloads, 2);
}

static void new_execution_becomes_current(duro_ct_ctx *ctx)
{
    two_executions(ctx, "a");

    duro_orch_item *item = ct_poke(ctx, "a");
    ck_assert_uint_eq(item->execution_id, 2);
    ck_assert_int_eq(item->state, DURO_STATE_RUNNING);
    ck_assert_uint_eq(item->n_history, 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_uint_eq(item->history[i].event_id, i + 1);
        ck_assert_str_eq(item->history[i].payload, exec2_payloads[i]);
    }
    duro_orch_item_free(item);

    duro_instance_info info = {0};
    ct_instance_info(ctx, "a", &info);
    ck_assert_uint_eq(info.execution_id, 2);
    ck_assert_int_eq(info.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(info.output);
    duro_instance_info_clear(&info);
}

static void read_history_isolates_executions(duro_ct_ctx *ctx)
{
    two_executions(ctx, "a");
    expect_history(ctx, "a", 1, ids_123, exec1_payloads, 3);
    expect_history(ctx, "a", 2, ids_123, exec2_payloads, 2);
}

static void read_history_zero_reads_current(duro_ct_ctx *ctx)
{
    const duro_event_in e2[] = {{.event_id = 1, .kind = 1, .payload = "e2-started"}};
    duro_orch_commit can = ct_commit(1, NULL, 0);
    duro_orch_commit c2 = ct_commit(2, e2, 1);
    static const char *const started[] = {"started"};
    static const char *const e2_started[] = {"e2-started"};

    ct_create_instance(ctx, "a");
    expect_history(ctx, "a", 0, ids_123, started, 1);
    can.state = DURO_STATE_CONTINUED_AS_NEW;
    can.output = "input-2";
    ct_turn(ctx, "a", &can);
    expect_history(ctx, "a", 0, ids_123, started, 1);
    c2.state = DURO_STATE_RUNNING;
    ct_turn(ctx, "a", &c2);
    expect_history(ctx, "a", 0, ids_123, e2_started, 1);
    expect_history(ctx, "a", 1, ids_123, started, 1);
}

static void current_execution_is_max(duro_ct_ctx *ctx)
{
    const duro_event_in late[] = {{.event_id = 4, .kind = 5, .payload = "late-e1"}};
    duro_orch_commit c = ct_commit(1, late, 1);
    static const char *const exec1_late[] = {"started", "e1-sched", "e1-can", "late-e1"};
    static const uint64_t ids_1234[] = {1, 2, 3, 4};

    two_executions(ctx, "a");
    ct_turn(ctx, "a", &c);

    duro_orch_item *item = ct_poke(ctx, "a");
    ck_assert_uint_eq(item->execution_id, 2);
    ck_assert_uint_eq(item->n_history, 2);
    duro_orch_item_free(item);
    duro_instance_info info = {0};
    ct_instance_info(ctx, "a", &info);
    ck_assert_uint_eq(info.execution_id, 2);
    ck_assert_int_eq(info.state, DURO_STATE_RUNNING);
    duro_instance_info_clear(&info);
    expect_history(ctx, "a", 0, ids_123, exec2_payloads, 2);
    expect_history(ctx, "a", 1, ids_1234, exec1_late, 4);
}

static void event_ids_restart_per_execution(duro_ct_ctx *ctx)
{
    const duro_event_in dup[] = {{.event_id = 1, .kind = 1, .payload = "dup-in-e2"}};
    duro_orch_commit c = ct_commit(2, dup, 1);
    duro_error err = {0};

    two_executions(ctx, "a");
    duro_orch_item *item = ct_poke(ctx, "a");
    int rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, item->lock_token, &c, &err);
    ck_assert_int_eq(rc, DURO_ECONSTRAINT);
    ck_assert_int_eq(err.code, DURO_ECONSTRAINT);
    ck_assert_int_eq(err.retryable, 0);
    duro_orch_item_free(item);

    expect_history(ctx, "a", 1, ids_123, exec1_payloads, 3);
    expect_history(ctx, "a", 2, ids_123, exec2_payloads, 2);
}

static void state_is_per_execution(duro_ct_ctx *ctx)
{
    const duro_event_in done[] = {{.event_id = 3, .kind = 2, .payload = "e2-done"}};
    duro_orch_commit c = ct_commit(2, done, 1);
    duro_instance_info info = {0};

    two_executions(ctx, "a");
    ct_instance_info(ctx, "a", &info);
    ck_assert_uint_eq(info.execution_id, 2);
    ck_assert_int_eq(info.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(info.output);
    duro_instance_info_clear(&info);

    c.state = DURO_STATE_COMPLETED;
    c.output = "final";
    ct_turn(ctx, "a", &c);
    ct_instance_info(ctx, "a", &info);
    ck_assert_uint_eq(info.execution_id, 2);
    ck_assert_int_eq(info.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(info.output, "final");
    duro_instance_info_clear(&info);
}

static void fetch_reports_current_execution_state(duro_ct_ctx *ctx)
{
    const duro_msg next = {
        .instance = "a", .kind = DURO_MSG_CONTINUE_AS_NEW, .execution_id = 2,
        .visible_at_ms = ctx->now, .payload = "input-2",
    };
    const duro_event_in e2[] = {{.event_id = 1, .kind = 1, .payload = "e2-started"}};
    duro_orch_commit can = ct_commit(1, NULL, 0);
    duro_orch_commit c2 = ct_commit(2, e2, 1);

    ct_create_instance(ctx, "a");
    can.state = DURO_STATE_CONTINUED_AS_NEW;
    can.output = "input-2";
    can.msgs = &next;
    can.n_msgs = 1;
    ct_turn(ctx, "a", &can);

    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "a");
    ck_assert_uint_eq(item->execution_id, 1);
    ck_assert_int_eq(item->state, DURO_STATE_CONTINUED_AS_NEW);
    ck_assert_uint_eq(item->n_history, 1);
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_CONTINUE_AS_NEW);
    ck_assert_uint_eq(item->msgs[0].execution_id, 2);
    c2.state = DURO_STATE_RUNNING;
    ct_ack(ctx, item, &c2);

    item = ct_poke(ctx, "a");
    ck_assert_uint_eq(item->execution_id, 2);
    ck_assert_int_eq(item->state, DURO_STATE_RUNNING);
    ck_assert_uint_eq(item->n_history, 1);
    ck_assert_str_eq(item->history[0].payload, "e2-started");
    duro_orch_item_free(item);
}

/* Execution 1 queues activity 2 and continues as new; execution 2 queues its own
 * activity 2. Both work items stay queued. */
static void same_activity_id_in_two_executions(duro_ct_ctx *ctx)
{
    const duro_work_in w1 = {.instance = "a", .execution_id = 1, .activity_id = 2,
                             .payload = "e1-act2"};
    const duro_work_in w2 = {.instance = "a", .execution_id = 2, .activity_id = 2,
                             .payload = "e2-act2"};
    const duro_event_in s1[] = {{.event_id = 2, .kind = 3, .payload = "e1-sched"}};
    const duro_event_in s2[] = {{.event_id = 1, .kind = 1, .payload = "e2-started"},
                                {.event_id = 2, .kind = 3, .payload = "e2-sched"}};
    duro_orch_commit c1 = ct_commit(1, s1, 1);
    duro_orch_commit c2 = ct_commit(2, s2, 2);

    ct_create_instance(ctx, "a");
    c1.work = &w1;
    c1.n_work = 1;
    c1.state = DURO_STATE_CONTINUED_AS_NEW;
    c1.output = "input-2";
    ct_turn(ctx, "a", &c1);
    c2.work = &w2;
    c2.n_work = 1;
    c2.state = DURO_STATE_RUNNING;
    ct_turn(ctx, "a", &c2);
}

/* Cancel (execution, activity 2) in a turn of execution 2 and assert that exactly the work
 * item of the other execution is left, with payload `left`. */
static void cancel_and_expect(duro_ct_ctx *ctx, uint64_t cancel_execution, uint64_t left_execution,
                              const char *left)
{
    const duro_activity_ref ref = {.execution_id = cancel_execution, .activity_id = 2};
    const duro_event_in ev[] = {{.event_id = 3, .kind = 6, .payload = "cancelled"}};
    duro_orch_commit c = ct_commit(2, ev, 1);

    c.cancel = &ref;
    c.n_cancel = 1;
    ct_turn(ctx, "a", &c);

    duro_work_item *w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(w->execution_id, left_execution);
    ck_assert_uint_eq(w->activity_id, 2);
    ck_assert_str_eq(w->payload, left);
    duro_work_item_free(w);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
}

static void cancel_old_execution_ref_keeps_new(duro_ct_ctx *ctx)
{
    same_activity_id_in_two_executions(ctx);
    cancel_and_expect(ctx, 1, 2, "e2-act2");
}

static void cancel_new_execution_ref_keeps_old(duro_ct_ctx *ctx)
{
    same_activity_id_in_two_executions(ctx);
    cancel_and_expect(ctx, 2, 1, "e1-act2");
}

static void three_executions_each_readable(duro_ct_ctx *ctx)
{
    static const char *const names[] = {"Activity-1", "Activity-2", "Activity-3"};
    static const uint64_t one[] = {1};

    ct_enqueue_start(ctx, "a");
    for (uint64_t x = 1; x <= 3; x++) {
        const duro_event_in ev[] = {{.event_id = 1, .kind = 3, .payload = names[x - 1]}};
        duro_orch_commit c = ct_commit(x, ev, 1);
        c.orch_name = "TestOrch";
        c.orch_version = "1.0.0";
        c.state = x < 3 ? DURO_STATE_CONTINUED_AS_NEW : DURO_STATE_RUNNING;
        c.output = x < 3 ? names[x] : NULL;
        if (x == 1) {
            duro_orch_item *item = ct_fetch(ctx);
            ck_assert_str_eq(item->instance, "a");
            ct_ack(ctx, item, &c);
        } else {
            ct_turn(ctx, "a", &c);
        }
    }
    for (uint64_t x = 1; x <= 3; x++)
        expect_history(ctx, "a", x, one, &names[x - 1], 1);
    expect_history(ctx, "a", 0, one, &names[2], 1);

    duro_orch_item *item = ct_poke(ctx, "a");
    ck_assert_uint_eq(item->execution_id, 3);
    ck_assert_uint_eq(item->n_history, 1);
    ck_assert_str_eq(item->history[0].payload, "Activity-3");
    duro_orch_item_free(item);
    duro_instance_info info = {0};
    ct_instance_info(ctx, "a", &info);
    ck_assert_uint_eq(info.execution_id, 3);
    duro_instance_info_clear(&info);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void execution_info_per_execution(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_error err = {0};
    uint64_t *ids = NULL;
    size_t n = 0;
    duro_execution_info x1 = {0}, x2 = {0};

    ct_require_management(ctx);
    two_executions(ctx, "a");
    ck_assert_int_eq(ctx->p->ops->list_executions(ctx->p, "a", &ids, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    qsort(ids, n, sizeof *ids, cmp_u64);
    ck_assert_uint_eq(ids[0], 1);
    ck_assert_uint_eq(ids[1], 2);
    free(ids);

    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "a", 1, &x1, &err), 0);
    ck_assert_uint_eq(x1.execution_id, 1);
    ck_assert_int_eq(x1.state, DURO_STATE_CONTINUED_AS_NEW);
    ck_assert_str_eq(x1.output, "input-2");
    ck_assert_int_eq(x1.started_at_ms, t0);
    ck_assert_int_eq(x1.completed_at_ms, t0 + 1000);
    ck_assert_uint_eq(x1.event_count, 3);
    duro_execution_info_clear(&x1);

    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "a", 2, &x2, &err), 0);
    ck_assert_uint_eq(x2.execution_id, 2);
    ck_assert_int_eq(x2.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(x2.output);
    ck_assert_int_eq(x2.started_at_ms, t0 + 2000);
    ck_assert_int_eq(x2.completed_at_ms, 0);
    ck_assert_uint_eq(x2.event_count, 2);
    duro_execution_info_clear(&x2);
}

/* ---- Registry -------------------------------------------------------------------------- */

DURO_CASES = {
    DURO_CASE(current_execution_is_per_instance, 0, 0,
              "read_history with execution 0 reads the current execution of that instance: "
              "another instance's later current execution changes nothing."),
    DURO_CASE(new_execution_becomes_current, 0, 0,
              "After an ack with execution 2, fetch reports execution 2 with only its history, "
              "and instance_info reports execution 2."),
    DURO_CASE(read_history_isolates_executions, 0, 0,
              "read_history of execution 1 and of execution 2 return exactly their own "
              "events."),
    DURO_CASE(read_history_zero_reads_current, 0, 0,
              "read_history with execution 0 returns the current execution's history, "
              "following the current execution as it moves."),
    DURO_CASE(current_execution_is_max, 0, 0,
              "An ack naming a lower execution appends to that execution but never lowers the "
              "current one."),
    DURO_CASE(event_ids_restart_per_execution, 0, 0,
              "Event ids are unique per execution: execution 2 may reuse id 1, but not twice "
              "(DURO_ECONSTRAINT, permanent, nothing written)."),
    DURO_CASE(state_is_per_execution, 0, 0,
              "The instance state and output are those of the current execution (RUNNING with "
              "no output after execution 1 continued as new, then COMPLETED with its output)."),
    DURO_CASE(fetch_reports_current_execution_state, 0, 0,
              "Fetch reports the current execution's id and state: 1 and CONTINUED_AS_NEW "
              "until execution 2 is committed, then 2 and RUNNING."),
    DURO_CASE(cancel_old_execution_ref_keeps_new, 0, 0,
              "Cancelling (execution 1, activity 2) deletes only that work item, not execution "
              "2's activity 2."),
    DURO_CASE(cancel_new_execution_ref_keeps_old, 0, 0,
              "Cancelling (execution 2, activity 2) deletes only that work item, not execution "
              "1's activity 2."),
    DURO_CASE(three_executions_each_readable, 0, 0,
              "Three executions each keep their own history, readable by id, and the third is "
              "current."),
    DURO_CASE(execution_info_per_execution, DURO_CAP_MANAGEMENT, 0,
              "list_executions and execution_info report each execution's state, output, start "
              "and completion times and event count separately."),
    DURO_CASES_END,
};
