/*
 * atomicity.c — conformance cases for ack_orch as ONE transaction.
 *
 * A successful ack lands every part of its commit (history, metadata, custom status, work
 * items, cancellations, messages to any instance, deletion of the consumed messages); a
 * failed ack (duplicate event id, event id 0, expired, stolen or unknown lock token) writes
 * none of them and leaves the fetched messages to be fetched again once the lock is released
 * or expires. Racing acks with one token: exactly one wins.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY atomicity

#define RACE_ROUNDS 200
#define RACE_THREADS 4
/* Bound on retries of a call that keeps failing with a retryable error. */
#define MAX_RETRIES 10000

/* ---- Helpers ------------------------------------------------------------------------------ */

static void abandon_ok(duro_ct_ctx *ctx, const char *token)
{
    duro_error err = {0};
    int rc = ctx->p->ops->abandon_orch(ctx->p, ctx->now, token, 0, 0, &err);

    ck_assert_msg(rc == 0, "abandon_orch failed: %s (%s)", duro_strerror(rc), err.message);
}

/* Read history of (instance, execution), asserting success. */
static duro_event *history(duro_ct_ctx *ctx, const char *instance, uint64_t execution,
                           size_t *n)
{
    duro_error err = {0};
    duro_event *events = NULL;
    int rc = ctx->p->ops->read_history(ctx->p, instance, execution, &events, n, &err);

    ck_assert_msg(rc == 0, "read_history failed: %s (%s)", duro_strerror(rc), err.message);
    return events;
}

static void assert_no_instance(duro_ct_ctx *ctx, const char *instance)
{
    duro_error err = {0};
    duro_instance_info out;

    memset(&out, 0, sizeof out);
    int rc = ctx->p->ops->instance_info(ctx->p, instance, &out, &err);
    ck_assert_int_eq(rc, DURO_ENOTFOUND);
    duro_instance_info_clear(&out);
}

/* Metadata of an instance made by ct_create_instance and never changed since. */
static void assert_untouched_instance(duro_ct_ctx *ctx, const char *instance)
{
    duro_instance_info in;

    ct_instance_info(ctx, instance, &in);
    ck_assert_str_eq(in.orch_name, "TestOrch");
    ck_assert_str_eq(in.orch_version, "1.0.0");
    ck_assert_int_eq(in.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(in.output);
    ck_assert_ptr_null(in.custom_status);
    ck_assert_uint_eq(in.custom_status_version, 0);
    ck_assert_uint_eq(in.execution_id, 1);
    duro_instance_info_clear(&in);
}

/* History of `instance` is exactly the single "started" event of ct_create_instance. */
static void assert_only_started(duro_ct_ctx *ctx, const char *instance)
{
    size_t n = 0;
    duro_event *ev = history(ctx, instance, 1, &n);

    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ev[0].event_id, 1);
    ck_assert_str_eq(ev[0].payload, "started");
    duro_events_free(ev, n);
}

/* Every part a turn can write, for `instance` (execution 1). The caller sets events. */
static const duro_work_in full_work[] = {
    {.instance = "atom-a", .execution_id = 1, .activity_id = 7, .payload = "work-7"},
};
static const duro_msg full_msgs[] = {
    {.instance = "atom-other", .kind = DURO_MSG_START, .execution_id = 1,
     .visible_at_ms = 0, .payload = "start:atom-other"},
};

static duro_orch_commit full_commit(const duro_event_in *events, size_t n)
{
    duro_orch_commit c = ct_commit(1, events, n);

    c.orch_name = "Renamed";
    c.orch_version = "9.9.9";
    c.work = full_work;
    c.n_work = 1;
    c.msgs = full_msgs;
    c.n_msgs = 1;
    c.state = DURO_STATE_COMPLETED;
    c.output = "output";
    c.set_custom_status = 1;
    c.custom_status = "status";
    return c;
}

/* "atom-a" exists (ct_create_instance) and has one EVENT message "ev-1" fetched and locked. */
static duro_orch_item *locked_turn(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "atom-a");
    ct_enqueue(ctx, "atom-a", DURO_MSG_EVENT, "ev-1", 0);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "atom-a");
    ck_assert_uint_eq(item->n_msgs, 1);
    return item;
}

/* After a failed ack on locked_turn(): nothing of full_commit() exists and the lock is
 * still held by `item` (the START for "atom-other" would otherwise be fetchable). */
static void assert_failed_turn_wrote_nothing(duro_ct_ctx *ctx)
{
    assert_only_started(ctx, "atom-a");
    assert_untouched_instance(ctx, "atom-a");
    assert_no_instance(ctx, "atom-other");
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

/* The single message of locked_turn() comes back in a new batch with `attempt`. */
static void assert_refetched(duro_ct_ctx *ctx, uint32_t attempt)
{
    duro_orch_item *again = ct_fetch(ctx);

    ck_assert_str_eq(again->instance, "atom-a");
    ck_assert_uint_eq(again->n_msgs, 1);
    ck_assert_str_eq(again->msgs[0].payload, "ev-1");
    ck_assert_uint_eq(again->attempt, attempt);
    ck_assert_uint_eq(again->n_history, 1);
    duro_orch_item_free(again);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

/* ---- Successful acks ---------------------------------------------------------------------- */

static void ack_applies_every_part(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {
        {1, 10, "started"}, {2, 11, "scheduled-a"}, {3, 11, "scheduled-b"},
        {4, 11, "scheduled-c"}, {5, 12, "timer-created"},
    };
    const duro_work_in work[] = {
        {"atom-multi", 1, 2, "act-a"}, {"atom-multi", 1, 3, "act-b"},
        {"atom-multi", 1, 4, "act-c"},
    };
    const duro_msg msgs[] = {
        {"atom-multi", DURO_MSG_TIMER_FIRED, 1, ctx->now, "timer-fired"},
        {"atom-multi", DURO_MSG_EVENT, 1, ctx->now, "event-raised"},
    };
    duro_orch_commit c = ct_commit(1, events, 5);
    const char *work_payloads[] = {"act-a", "act-b", "act-c"};

    c.orch_name = "MultiOrch";
    c.orch_version = "2.1.0";
    c.work = work;
    c.n_work = 3;
    c.msgs = msgs;
    c.n_msgs = 2;
    c.set_custom_status = 1;
    c.custom_status = "phase-1";
    ct_enqueue_start(ctx, "atom-multi");
    ct_ack(ctx, ct_fetch(ctx), &c);

    size_t n = 0;
    duro_event *ev = history(ctx, "atom-multi", 1, &n);
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_uint_eq(ev[i].event_id, events[i].event_id);
        ck_assert_int_eq(ev[i].kind, events[i].kind);
        ck_assert_str_eq(ev[i].payload, events[i].payload);
    }
    duro_events_free(ev, n);

    for (size_t i = 0; i < 3; i++) {
        duro_work_item *w = ct_try_fetch_work(ctx);
        ck_assert_ptr_nonnull(w);
        ck_assert_str_eq(w->instance, "atom-multi");
        ck_assert_uint_eq(w->execution_id, 1);
        ck_assert_uint_eq(w->activity_id, i + 2);
        ck_assert_str_eq(w->payload, work_payloads[i]);
        duro_work_item_free(w);
    }
    ck_assert_ptr_null(ct_try_fetch_work(ctx));

    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "atom-multi");
    ck_assert_uint_eq(item->n_msgs, 2);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_TIMER_FIRED);
    ck_assert_str_eq(item->msgs[0].payload, "timer-fired");
    ck_assert_int_eq(item->msgs[1].kind, DURO_MSG_EVENT);
    ck_assert_str_eq(item->msgs[1].payload, "event-raised");
    ck_assert_uint_eq(item->n_history, 5);
    ck_assert_str_eq(item->orch_name, "MultiOrch");
    ck_assert_str_eq(item->orch_version, "2.1.0");
    ck_assert_str_eq(item->custom_status, "phase-1");
    ck_assert_int_eq(item->state, DURO_STATE_RUNNING);
    duro_orch_item_free(item);

    duro_instance_info in;
    ct_instance_info(ctx, "atom-multi", &in);
    ck_assert_str_eq(in.custom_status, "phase-1");
    ck_assert_uint_eq(in.custom_status_version, 1);
    ck_assert_int_eq(in.state, DURO_STATE_RUNNING);
    duro_instance_info_clear(&in);
}

static void ack_sets_state_and_output_with_history(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{2, 20, "completed"}};
    duro_orch_commit c = ct_commit(1, events, 1);
    duro_instance_info in;

    ct_create_instance(ctx, "atom-done");
    ct_enqueue(ctx, "atom-done", DURO_MSG_ACTIVITY_DONE, "result", 0);
    c.state = DURO_STATE_COMPLETED;
    c.output = "final output";
    ct_ack(ctx, ct_fetch(ctx), &c);

    ct_instance_info(ctx, "atom-done", &in);
    ck_assert_int_eq(in.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(in.output, "final output");
    ck_assert_str_eq(in.orch_name, "TestOrch");
    duro_instance_info_clear(&in);
    size_t n = 0;
    duro_event *ev = history(ctx, "atom-done", 1, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ev[0].payload, "started");
    ck_assert_str_eq(ev[1].payload, "completed");
    ck_assert_int_eq(ev[1].kind, 20);
    duro_events_free(ev, n);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void ack_creates_execution_row(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{1, 1, "started"}, {2, 3, "scheduled"}};
    duro_orch_commit c = ct_commit(1, events, 2);
    duro_error err = {0};
    uint64_t *ids = NULL;
    size_t n = 99;
    duro_execution_info ex;

    ct_require_management(ctx);
    ct_enqueue_start(ctx, "atom-exec");
    c.orch_name = "TestOrch";
    ct_ack(ctx, ct_fetch(ctx), &c);

    int rc = ctx->p->ops->list_executions(ctx->p, "atom-exec", &ids, &n, &err);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ids[0], 1);
    free(ids);
    memset(&ex, 0, sizeof ex);
    rc = ctx->p->ops->execution_info(ctx->p, "atom-exec", 1, &ex, &err);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(ex.execution_id, 1);
    ck_assert_int_eq(ex.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(ex.output);
    ck_assert_int_eq(ex.started_at_ms, ctx->now);
    ck_assert_int_eq(ex.completed_at_ms, 0);
    ck_assert_uint_eq(ex.event_count, 2);
    duro_execution_info_clear(&ex);
}

static void ack_enqueues_messages_to_other_instances(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "atom-c");
    const duro_msg msgs[] = {
        {"atom-b", DURO_MSG_START, 1, ctx->now, "start:atom-b"},
        {"atom-c", DURO_MSG_EVENT, 0, ctx->now, "to-c"},
        {"atom-a", DURO_MSG_TIMER_FIRED, 1, ctx->now + 5000, "timer-a"},
    };
    const duro_event_in events[] = {{1, 1, "started"}};
    duro_orch_commit c = ct_commit(1, events, 1);

    c.orch_name = "TestOrch";
    c.msgs = msgs;
    c.n_msgs = 3;
    ct_enqueue_start(ctx, "atom-a");
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "atom-a");
    ct_ack(ctx, item, &c);

    duro_orch_item *b = ct_fetch(ctx);
    ck_assert_str_eq(b->instance, "atom-b");
    ck_assert_uint_eq(b->n_msgs, 1);
    ck_assert_int_eq(b->msgs[0].kind, DURO_MSG_START);
    ck_assert_str_eq(b->msgs[0].payload, "start:atom-b");
    ck_assert_ptr_null(b->orch_name);
    duro_orch_item *cc = ct_fetch(ctx);
    ck_assert_str_eq(cc->instance, "atom-c");
    ck_assert_uint_eq(cc->n_msgs, 1);
    ck_assert_str_eq(cc->msgs[0].payload, "to-c");
    ck_assert_ptr_null(ct_try_fetch(ctx));
    duro_orch_item_free(b);
    duro_orch_item_free(cc);

    ctx->now += 5000;
    duro_orch_item *a = ct_fetch(ctx);
    ck_assert_str_eq(a->instance, "atom-a");
    ck_assert_uint_eq(a->n_msgs, 1);
    ck_assert_int_eq(a->msgs[0].kind, DURO_MSG_TIMER_FIRED);
    ck_assert_str_eq(a->msgs[0].payload, "timer-a");
    duro_orch_item_free(a);
}

static void ack_consumes_only_messages_of_its_batch(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "atom-a");
    ct_enqueue(ctx, "atom-a", DURO_MSG_EVENT, "fetched", 0);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_uint_eq(item->n_msgs, 1);
    ct_enqueue(ctx, "atom-a", DURO_MSG_EVENT, "late-1", 0);
    ct_enqueue(ctx, "atom-a", DURO_MSG_ACTIVITY_DONE, "late-2", 0);
    const duro_msg own[] = {{"atom-a", DURO_MSG_TIMER_FIRED, 1, ctx->now, "from-ack"}};
    const duro_event_in events[] = {{2, 5, "event-seen"}};
    duro_orch_commit c = ct_commit(1, events, 1);
    c.msgs = own;
    c.n_msgs = 1;
    ct_ack(ctx, item, &c);

    duro_orch_item *next = ct_fetch(ctx);
    ck_assert_uint_eq(next->n_msgs, 3);
    ck_assert_str_eq(next->msgs[0].payload, "late-1");
    ck_assert_str_eq(next->msgs[1].payload, "late-2");
    ck_assert_str_eq(next->msgs[2].payload, "from-ack");
    ck_assert_uint_eq(next->attempt, 1);
    ck_assert_uint_eq(next->n_history, 2);
    duro_orch_item_free(next);
}

static void ack_without_events_drains_stray_messages(duro_ct_ctx *ctx)
{
    duro_orch_commit c = ct_commit(1, NULL, 0);
    duro_instance_info in;

    ct_create_terminal(ctx, "atom-done", DURO_STATE_COMPLETED, "kept");
    ct_enqueue(ctx, "atom-done", DURO_MSG_EVENT, "stray-1", 0);
    ct_enqueue(ctx, "atom-done", DURO_MSG_ACTIVITY_DONE, "stray-2", 0);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_uint_eq(item->n_msgs, 2);
    ck_assert_int_eq(item->state, DURO_STATE_COMPLETED);
    ct_ack(ctx, item, &c);

    ck_assert_ptr_null(ct_try_fetch(ctx));
    ck_assert_uint_eq(ct_history_len(ctx, "atom-done", 0), 2);
    ct_instance_info(ctx, "atom-done", &in);
    ck_assert_int_eq(in.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(in.output, "kept");
    duro_instance_info_clear(&in);
}

static void ack_inserts_work_before_cancelling(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{2, 4, "cancel-turn"}};
    const duro_work_in work[] = {{"atom-a", 1, 5, "scheduled-and-cancelled"},
                                 {"atom-a", 1, 6, "kept"}};
    const duro_activity_ref cancel[] = {{1, 3}, {1, 5}};
    duro_orch_commit c = ct_commit(1, events, 1);

    ct_create_instance(ctx, "atom-a");
    ct_enqueue_work(ctx, "atom-a", 3, "queued-earlier");
    ct_enqueue(ctx, "atom-a", DURO_MSG_EVENT, "cancel", 0);
    c.work = work;
    c.n_work = 2;
    c.cancel = cancel;
    c.n_cancel = 2;
    ct_ack(ctx, ct_fetch(ctx), &c);

    duro_work_item *w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(w->activity_id, 6);
    ck_assert_str_eq(w->payload, "kept");
    duro_work_item_free(w);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ck_assert_uint_eq(ct_history_len(ctx, "atom-a", 0), 2);
}

/* ---- Failed acks -------------------------------------------------------------------------- */

static void duplicate_event_id_writes_nothing(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{2, 2, "new"}, {1, 2, "duplicate"}};
    duro_orch_commit c = full_commit(events, 2);
    duro_orch_item *item = locked_turn(ctx);
    duro_error err;

    int rc = ct_ack_rc(ctx, item->lock_token, &c, &err);
    ck_assert_int_eq(rc, DURO_ECONSTRAINT);
    ck_assert_int_eq(err.code, DURO_ECONSTRAINT);
    ck_assert_int_eq(err.retryable, 0);
    assert_failed_turn_wrote_nothing(ctx);
    abandon_ok(ctx, item->lock_token);
    duro_orch_item_free(item);
    assert_refetched(ctx, 2);
}

static void event_id_zero_writes_nothing(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{2, 2, "valid"}, {0, 2, "zero"}};
    duro_orch_commit c = full_commit(events, 2);
    duro_orch_item *item = locked_turn(ctx);
    duro_error err;

    int rc = ct_ack_rc(ctx, item->lock_token, &c, &err);
    ck_assert_int_eq(rc, DURO_ECONSTRAINT);
    ck_assert_int_eq(err.retryable, 0);
    assert_failed_turn_wrote_nothing(ctx);
    abandon_ok(ctx, item->lock_token);
    duro_orch_item_free(item);
    assert_refetched(ctx, 2);
}

static void failed_ack_leaves_messages_for_refetch_after_expiry(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{1, 2, "duplicate"}};
    duro_orch_commit c = full_commit(events, 1);
    duro_orch_item *item = locked_turn(ctx);
    duro_error err;

    ck_assert_int_eq(ct_ack_rc(ctx, item->lock_token, &c, &err), DURO_ECONSTRAINT);
    duro_orch_item_free(item);
    ctx->now += DURO_CT_LOCK_MS - 1;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now += 1;
    assert_refetched(ctx, 2);
    assert_only_started(ctx, "atom-a");
    assert_no_instance(ctx, "atom-other");
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
}

static void failed_ack_keeps_lock_for_corrected_retry(duro_ct_ctx *ctx)
{
    const duro_event_in bad[] = {{1, 2, "duplicate"}};
    const duro_event_in good[] = {{2, 2, "corrected"}};
    duro_orch_commit c = full_commit(bad, 1);
    duro_orch_item *item = locked_turn(ctx);
    duro_error err;
    duro_instance_info in;

    ck_assert_int_eq(ct_ack_rc(ctx, item->lock_token, &c, &err), DURO_ECONSTRAINT);
    c = full_commit(good, 1);
    ct_ack(ctx, item, &c);

    size_t n = 0;
    duro_event *ev = history(ctx, "atom-a", 1, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ev[1].payload, "corrected");
    duro_events_free(ev, n);
    ct_instance_info(ctx, "atom-a", &in);
    ck_assert_int_eq(in.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(in.output, "output");
    ck_assert_str_eq(in.custom_status, "status");
    ck_assert_uint_eq(in.custom_status_version, 1);
    duro_instance_info_clear(&in);
    duro_work_item *w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(w->payload, "work-7");
    duro_work_item_free(w);
    duro_orch_item *other = ct_fetch(ctx);
    ck_assert_str_eq(other->instance, "atom-other");
    ck_assert_str_eq(other->msgs[0].payload, "start:atom-other");
    duro_orch_item_free(other);
}

static void failed_ack_keeps_cancelled_work(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{1, 2, "duplicate"}};
    const duro_activity_ref cancel[] = {{1, 3}};
    duro_orch_commit c = ct_commit(1, events, 1);
    duro_error err;

    ct_create_instance(ctx, "atom-a");
    ct_enqueue_work(ctx, "atom-a", 3, "must-survive");
    ct_enqueue(ctx, "atom-a", DURO_MSG_CANCEL, "cancel", 0);
    duro_orch_item *item = ct_fetch(ctx);
    c.cancel = cancel;
    c.n_cancel = 1;
    ck_assert_int_eq(ct_ack_rc(ctx, item->lock_token, &c, &err), DURO_ECONSTRAINT);
    duro_orch_item_free(item);

    duro_work_item *w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(w->activity_id, 3);
    ck_assert_str_eq(w->payload, "must-survive");
    duro_work_item_free(w);
}

static void expired_lock_ack_writes_nothing(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{2, 2, "too-late"}};
    duro_orch_commit c = full_commit(events, 1);
    duro_orch_item *item = locked_turn(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    int rc = ct_ack_rc(ctx, item->lock_token, &c, &err);
    ck_assert_int_eq(rc, DURO_ELOCK);
    ck_assert_int_eq(err.code, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    duro_orch_item_free(item);
    assert_only_started(ctx, "atom-a");
    assert_untouched_instance(ctx, "atom-a");
    assert_no_instance(ctx, "atom-other");
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    assert_refetched(ctx, 2);
}

static void bogus_token_ack_writes_nothing(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{2, 2, "forged"}};
    duro_orch_commit c = full_commit(events, 1);
    duro_orch_item *item = locked_turn(ctx);
    duro_error err;

    int rc = ct_ack_rc(ctx, ct_bogus_token, &c, &err);
    ck_assert_int_eq(rc, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    assert_failed_turn_wrote_nothing(ctx);
    abandon_ok(ctx, item->lock_token);
    duro_orch_item_free(item);
    assert_refetched(ctx, 2);
}

static void stolen_lock_ack_writes_nothing(duro_ct_ctx *ctx)
{
    const duro_event_in stale_events[] = {{2, 2, "stale"}};
    const duro_event_in fresh_events[] = {{2, 2, "fresh"}};
    duro_orch_commit stale = full_commit(stale_events, 1);
    duro_orch_commit fresh = ct_commit(1, fresh_events, 1);
    duro_orch_item *first = locked_turn(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    duro_orch_item *second = ct_fetch(ctx);
    ck_assert_str_eq(second->instance, "atom-a");
    ck_assert_str_ne(second->lock_token, first->lock_token);
    ck_assert_int_eq(ct_ack_rc(ctx, first->lock_token, &stale, &err), DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    duro_orch_item_free(first);
    assert_only_started(ctx, "atom-a");
    assert_untouched_instance(ctx, "atom-a");
    assert_no_instance(ctx, "atom-other");
    ck_assert_ptr_null(ct_try_fetch_work(ctx));

    ct_ack(ctx, second, &fresh);
    size_t n = 0;
    duro_event *ev = history(ctx, "atom-a", 1, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ev[1].payload, "fresh");
    duro_events_free(ev, n);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

/* ---- Racing acks -------------------------------------------------------------------------- */

typedef struct race_arg {
    duro_provider *p;
    ct_barrier *barrier;
    int64_t now;
    const char *token;
    const duro_orch_commit *commit;
    int rc;
    int retryable;
} race_arg;

static void *race_ack(void *arg)
{
    race_arg *a = arg;
    duro_error err;
    int tries = 0;

    ct_barrier_wait(a->barrier);
    do {
        memset(&err, 0, sizeof err);
        a->rc = a->p->ops->ack_orch(a->p, a->now, a->token, a->commit, &err);
    } while (a->rc != 0 && err.retryable && ++tries < MAX_RETRIES);
    a->retryable = err.retryable;
    return NULL;
}

static void concurrent_acks_same_token_one_wins(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{1, 1, "started"}, {2, 2, "once"}};
    duro_orch_commit c = ct_commit(1, events, 2);
    ct_barrier *barrier = ct_barrier_new(RACE_THREADS);
    int winners[RACE_ROUNDS], elock[RACE_ROUNDS], retryable[RACE_ROUNDS];
    size_t hist[RACE_ROUNDS];
    char name[64];

    ck_assert_ptr_nonnull(barrier);
    c.orch_name = "TestOrch";
    for (int r = 0; r < RACE_ROUNDS; r++) {
        pthread_t tid[RACE_THREADS];
        race_arg args[RACE_THREADS];

        snprintf(name, sizeof name, "atom-race-%d", r);
        ct_enqueue_start(ctx, name);
        duro_orch_item *item = ct_fetch(ctx);
        ck_assert_str_eq(item->instance, name);
        for (int t = 0; t < RACE_THREADS; t++) {
            args[t] = (race_arg){ctx->p, barrier, ctx->now, item->lock_token, &c, 1, 0};
            ck_assert_int_eq(pthread_create(&tid[t], NULL, race_ack, &args[t]), 0);
        }
        for (int t = 0; t < RACE_THREADS; t++)
            pthread_join(tid[t], NULL);
        duro_orch_item_free(item);
        winners[r] = elock[r] = retryable[r] = 0;
        for (int t = 0; t < RACE_THREADS; t++) {
            winners[r] += args[t].rc == 0;
            elock[r] += args[t].rc == DURO_ELOCK;
            retryable[r] += args[t].rc != 0 && args[t].retryable;
        }
        hist[r] = ct_history_len(ctx, name, 0);
    }
    ct_barrier_free(barrier);
    for (int r = 0; r < RACE_ROUNDS; r++) {
        ck_assert_msg(winners[r] == 1, "round %d: %d acks succeeded", r, winners[r]);
        ck_assert_msg(elock[r] == RACE_THREADS - 1, "round %d: %d losers got DURO_ELOCK", r,
                      elock[r]);
        ck_assert_int_eq(retryable[r], 0);
        ck_assert_uint_eq(hist[r], 2);
    }
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

DURO_CASES = {
    DURO_CASE(ack_applies_every_part, 0, 0,
              "One ack lands all of its history events, metadata, custom status, work items "
              "and messages together."),
    DURO_CASE(ack_sets_state_and_output_with_history, 0, 0,
              "The state and output of an ack are stored together with its history events."),
    DURO_CASE(ack_creates_execution_row, DURO_CAP_MANAGEMENT, 0,
              "The first ack of an execution creates its execution row (Running, started at "
              "now, exact event count)."),
    DURO_CASE(ack_enqueues_messages_to_other_instances, 0, 0,
              "Messages an ack sends to other instances are enqueued with it, each with its "
              "own visibility time."),
    DURO_CASE(ack_consumes_only_messages_of_its_batch, 0, 0,
              "An ack deletes exactly the messages fetched under its token; arrivals during "
              "the lock and the ack's own messages remain, in id order."),
    DURO_CASE(ack_without_events_drains_stray_messages, 0, 0,
              "An ack with no events deletes the fetched stray messages and leaves history and "
              "state unchanged."),
    DURO_CASE(ack_inserts_work_before_cancelling, 0, 0,
              "An ack inserts its work items before deleting cancelled ones, so an activity "
              "scheduled and cancelled in one turn ends deleted."),
    DURO_CASE(duplicate_event_id_writes_nothing, 0, 0,
              "An ack with a duplicate event id fails with DURO_ECONSTRAINT and writes no part "
              "of its commit."),
    DURO_CASE(event_id_zero_writes_nothing, 0, 0,
              "An ack with event id 0 fails with DURO_ECONSTRAINT and writes no part of its "
              "commit."),
    DURO_CASE(failed_ack_leaves_messages_for_refetch_after_expiry, 0, 0,
              "After a failed ack the fetched messages come back, with attempt 2, once the "
              "lock expires."),
    DURO_CASE(failed_ack_keeps_lock_for_corrected_retry, 0, 0,
              "A failed ack rolls back entirely, including the lock release, so the holder can "
              "retry with a corrected commit."),
    DURO_CASE(failed_ack_keeps_cancelled_work, 0, 0,
              "The cancellations of a failed ack are rolled back: the work item stays queued."),
    DURO_CASE(expired_lock_ack_writes_nothing, 0, 0,
              "An ack after the lock expired fails with DURO_ELOCK (not retryable) and writes "
              "nothing."),
    DURO_CASE(bogus_token_ack_writes_nothing, 0, 0,
              "An ack with an unknown token fails with DURO_ELOCK (not retryable), writes "
              "nothing and leaves the real lock held."),
    DURO_CASE(stolen_lock_ack_writes_nothing, 0, 0,
              "An ack with a token whose lock was taken over after expiry fails and writes "
              "nothing; the new holder's ack succeeds."),
    DURO_CASE(concurrent_acks_same_token_one_wins, 0, 0,
              "Of several threads acking one token at the same moment exactly one succeeds and "
              "the others get DURO_ELOCK (200 rounds)."),
    DURO_CASES_END,
};
