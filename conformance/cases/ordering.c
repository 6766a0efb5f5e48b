/*
 * ordering.c — conformance cases for message order under every path: batches that mix
 * messages due at once with timers that fired, FIFO across batches, lock releases and
 * expiry, the instance hold of an abandon with a delay, and work-queue order after a delayed
 * abandon.
 *
 * The rules are those of "Order" in duro-provider.h: a batch is every visible message of its
 * instance in id order; an abandon with a delay holds the whole instance until its end, so
 * that no newer message or earlier timer overtakes the hidden batch, and never pulls a later
 * timer forward; fetch_work takes the lowest id. All on the virtual clock.
 */
#include <stdio.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY ordering

/* The delay of the abandons below. */
#define OR_DELAY_MS INT64_C(1000)

/* ---- Helpers --------------------------------------------------------------------------- */

/* Assert that `item` is `instance`'s batch with exactly the payloads `want` (comma-separated,
 * in order) and `attempt`; frees nothing. */
static void assert_batch(const duro_orch_item *item, const char *instance, const char *want,
                         uint32_t attempt)
{
    char got[256] = "";
    size_t len = 0;

    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->instance, instance);
    for (size_t i = 0; i < item->n_msgs; i++) {
        int n = snprintf(got + len, sizeof got - len, "%s%s", i ? "," : "",
                         item->msgs[i].payload);
        ck_assert(n > 0 && (size_t)n < sizeof got - len);
        len += (size_t)n;
        if (i > 0)
            ck_assert_int_lt(item->msgs[i - 1].id, item->msgs[i].id);
    }
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(item->attempt, attempt);
}

/* Ack `item` consuming its batch (no events), asserting success; frees it. */
static void ack_drain(duro_ct_ctx *ctx, duro_orch_item *item)
{
    duro_orch_commit c = ct_commit(1, NULL, 0);

    ct_ack(ctx, item, &c);
}

/* "or" exists; then its EVENTs e1, e2 are fetched at ctx->now as one batch. */
static duro_orch_item *locked_batch(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "or");
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e1", 0);
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e2", 0);
    duro_orch_item *item = ct_fetch(ctx);
    assert_batch(item, "or", "e1,e2", 1);
    return item;
}

static duro_work_item *must_fetch_work(duro_ct_ctx *ctx, uint64_t activity_id)
{
    duro_work_item *w = ct_try_fetch_work(ctx);

    ck_assert_msg(w != NULL, "no work item fetchable at %lld", (long long)ctx->now);
    ck_assert_uint_eq(w->activity_id, activity_id);
    return w;
}

/* ---- Batches ----------------------------------------------------------------------------- */

static void batch_interleaves_due_messages_and_fired_timers_by_id(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;

    ct_create_instance(ctx, "or");
    ct_enqueue(ctx, "or", DURO_MSG_TIMER_FIRED, "t1", 50);   /* fires at t0 + 50 */
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e2", 0);          /* due at once */
    ct_enqueue(ctx, "or", DURO_MSG_TIMER_FIRED, "t3", -10);  /* fired before t0 */
    ct_enqueue(ctx, "or", DURO_MSG_TIMER_FIRED, "t4", 30);   /* fires at t0 + 30 */
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e5", 200);        /* not yet due at t0 + 100 */
    ctx->now = t0 + 100;
    duro_orch_item *item = ct_fetch(ctx);
    assert_batch(item, "or", "t1,e2,t3,t4", 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_TIMER_FIRED);
    ck_assert_int_eq(item->msgs[1].kind, DURO_MSG_EVENT);
    ack_drain(ctx, item);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 200;
    item = ct_fetch(ctx);
    assert_batch(item, "or", "e5", 1);
    ack_drain(ctx, item);
}

static void fifo_across_batches_releases_and_expiry(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_batch(ctx);

    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e3", 0);
    ct_abandon(ctx, item, 0, 0);                  /* released: old batch and arrival */
    item = ct_fetch(ctx);
    assert_batch(item, "or", "e1,e2,e3", 2);
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e4", 0);
    ctx->now += DURO_CT_LOCK_MS;                  /* expired: the same again, and e4 */
    duro_orch_item_free(item);
    item = ct_fetch(ctx);
    assert_batch(item, "or", "e1,e2,e3,e4", 3);
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e5", 0);
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e6", 0);
    ack_drain(ctx, item);                         /* acked: only the arrivals are left */
    item = ct_fetch(ctx);
    assert_batch(item, "or", "e5,e6", 1);
    ack_drain(ctx, item);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

/* ---- Abandon with a delay ---------------------------------------------------------------- */

static void delayed_abandon_holds_later_arrivals(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_orch_item *item = locked_batch(ctx);

    ct_abandon(ctx, item, OR_DELAY_MS, 0);
    ctx->now = t0 + 1;
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e3", 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + OR_DELAY_MS - 1;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + OR_DELAY_MS;
    item = ct_fetch(ctx);
    assert_batch(item, "or", "e1,e2,e3", 2);
    ack_drain(ctx, item);
}

static void one_ms_abandon_holds_arrivals(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_orch_item *item = locked_batch(ctx);

    ct_abandon(ctx, item, 1, 0); /* the shortest delay holds the instance as well */
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e3", 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 1;
    item = ct_fetch(ctx);
    assert_batch(item, "or", "e1,e2,e3", 2);
    ack_drain(ctx, item);
}

static void delayed_abandon_holds_timer_due_during_delay(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;

    ct_create_instance(ctx, "or");
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e1", 0);
    ct_enqueue(ctx, "or", DURO_MSG_TIMER_FIRED, "t2", OR_DELAY_MS / 2);
    duro_orch_item *item = ct_fetch(ctx);
    assert_batch(item, "or", "e1", 1);
    ct_abandon(ctx, item, OR_DELAY_MS, 0);
    ctx->now = t0 + OR_DELAY_MS / 2;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + OR_DELAY_MS - 1;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + OR_DELAY_MS;
    item = ct_fetch(ctx);
    assert_batch(item, "or", "e1,t2", 2);
    ack_drain(ctx, item);
}

static void delayed_abandon_keeps_later_timer_time(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;

    ct_create_instance(ctx, "or");
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e1", 0);
    ct_enqueue(ctx, "or", DURO_MSG_TIMER_FIRED, "t2", 3 * OR_DELAY_MS);
    duro_orch_item *item = ct_fetch(ctx);
    assert_batch(item, "or", "e1", 1);
    ct_abandon(ctx, item, OR_DELAY_MS, 0);
    ctx->now = t0 + OR_DELAY_MS;
    item = ct_fetch(ctx);
    assert_batch(item, "or", "e1", 2);
    ack_drain(ctx, item);
    ctx->now = t0 + 3 * OR_DELAY_MS - 1;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 3 * OR_DELAY_MS;
    item = ct_fetch(ctx);
    assert_batch(item, "or", "t2", 1);
    ack_drain(ctx, item);
}

static void delayed_abandon_holds_only_its_instance(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_orch_item *item = locked_batch(ctx);

    ct_abandon(ctx, item, OR_DELAY_MS, 0);
    ct_create_instance(ctx, "other");
    ct_enqueue(ctx, "other", DURO_MSG_EVENT, "o1", 0);
    ctx->now = t0 + 1;
    item = ct_fetch(ctx);
    assert_batch(item, "other", "o1", 1);
    ack_drain(ctx, item);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void delayed_abandon_depths(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_orch_item *item = locked_batch(ctx);

    ct_abandon(ctx, item, OR_DELAY_MS, 0);
    ct_enqueue(ctx, "or", DURO_MSG_EVENT, "e3", 0);
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 0, 2);
    ctx->now = t0 + OR_DELAY_MS;
    DURO_CT_ASSERT_DEPTHS(ctx, 3, 0, 0);
}

static void zero_delay_abandon_holds_nothing(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_batch(ctx);

    ct_enqueue(ctx, "or", DURO_MSG_TIMER_FIRED, "t3", 1);
    ct_abandon(ctx, item, 0, 0);
    item = ct_fetch(ctx);
    assert_batch(item, "or", "e1,e2", 2);
    ack_drain(ctx, item);
    ctx->now += 1;
    item = ct_fetch(ctx);
    assert_batch(item, "or", "t3", 1);
    ack_drain(ctx, item);
}

/* ---- Work queue -------------------------------------------------------------------------- */

static void work_order_after_delayed_abandon(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;

    for (uint64_t a = 1; a <= 4; a++)
        ct_enqueue_work(ctx, "or", a, "w");
    ct_abandon_work(ctx, must_fetch_work(ctx, 1), OR_DELAY_MS, 0);
    duro_work_item *w2 = must_fetch_work(ctx, 2);          /* 1 is hidden, 2 is next */
    ctx->now = t0 + OR_DELAY_MS - 1;
    duro_work_item *w3 = must_fetch_work(ctx, 3);
    ctx->now = t0 + OR_DELAY_MS;
    duro_work_item *w1 = must_fetch_work(ctx, 1);          /* back, ahead of younger 4 */
    ck_assert_uint_eq(w1->attempt, 2);
    duro_work_item *w4 = must_fetch_work(ctx, 4);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    duro_work_item_free(w1);
    duro_work_item_free(w2);
    duro_work_item_free(w3);
    duro_work_item_free(w4);
}

/* ---- Registry ---------------------------------------------------------------------------- */

DURO_CASES = {
    DURO_CASE(one_ms_abandon_holds_arrivals, 0, 0,
              "abandon_orch with a delay of 1 ms holds the instance too: a message arriving at "
              "the abandon's now is not fetched before now + 1, and then comes after the "
              "abandoned batch, in id order."),
    DURO_CASE(batch_interleaves_due_messages_and_fired_timers_by_id, 0, 0,
              "A batch mixing messages due at once with timers that fired holds them in id "
              "order, not visible_at order, and leaves the not-yet-due for a later batch."),
    DURO_CASE(fifo_across_batches_releases_and_expiry, 0, 0,
              "Across an abandon, a lock expiry and an ack, each batch is the instance's "
              "visible messages in id order: older ones first, arrivals after them."),
    DURO_CASE(delayed_abandon_holds_later_arrivals, 0, 0,
              "After an abandon with delay D at t, a message arriving at t + 1 is not fetched "
              "before t + D; at t + D it comes after the abandoned batch, in one batch."),
    DURO_CASE(delayed_abandon_holds_timer_due_during_delay, 0, 0,
              "A timer that fires during an abandon delay does not overtake the hidden batch: "
              "nothing until t + D, then batch and timer together in id order."),
    DURO_CASE(delayed_abandon_keeps_later_timer_time, 0, 0,
              "An abandon with delay D never pulls a timer due after t + D forward: it is "
              "fetched exactly at its own visible_at."),
    DURO_CASE(delayed_abandon_holds_only_its_instance, 0, 0,
              "An abandon delay holds only its instance: another instance's message is "
              "fetched during the delay."),
    DURO_CASE(delayed_abandon_depths, DURO_CAP_MANAGEMENT, 0,
              "During an abandon delay queue_depths counts the hidden batch as delayed and an "
              "arrival of the held instance as neither; at t + D all three are queued."),
    DURO_CASE(zero_delay_abandon_holds_nothing, 0, 0,
              "An abandon with delay 0 holds nothing: the batch is fetchable at once, and a "
              "timer keeps its own time."),
    DURO_CASE(work_order_after_delayed_abandon, 0, 0,
              "fetch_work takes the lowest visible id: an item abandoned with a delay is "
              "skipped until the delay ends, then comes before younger items."),
    DURO_CASES_END,
};
