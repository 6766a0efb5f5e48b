/*
 * attempt_counts.c — conformance cases for delivery attempt counts, the input of the
 * runtime's poison-message handling.
 *
 * Each fetch increments the fetch count of every message (or the work item) it locks; the
 * reported attempt of an orchestration batch is the maximum over its messages. Abandon with
 * ignore_attempt undoes this fetch's increment (never below 0); lock expiry and abandon
 * without it keep the increment. Counts belong to messages, so consumed messages take their
 * counts with them. Lock expiry is simulated with the virtual clock.
 */
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY attempt_counts

/* ---- Helpers --------------------------------------------------------------------------- */

/* Fetch the next batch, asserting it is `instance`'s and reports `attempt`. */
static duro_orch_item *fetch_expect(duro_ct_ctx *ctx, const char *instance, uint32_t attempt)
{
    duro_orch_item *item = ct_fetch(ctx);

    ck_assert_str_eq(item->instance, instance);
    ck_assert_msg(item->attempt == attempt, "%s: attempt %u, expected %u", instance,
                  item->attempt, attempt);
    return item;
}

/* Worker-fetch the next item, asserting its activity id and attempt. */
static duro_work_item *fetch_work_expect(duro_ct_ctx *ctx, uint64_t activity_id,
                                         uint32_t attempt)
{
    duro_work_item *w = ct_try_fetch_work(ctx);

    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(w->activity_id, activity_id);
    ck_assert_msg(w->attempt == attempt, "activity %llu: attempt %u, expected %u",
                  (unsigned long long)activity_id, w->attempt, attempt);
    return w;
}

/* Stored fetch count of `instance` through the factory hook. */
static uint32_t stored_attempts(duro_ct_ctx *ctx, const char *instance)
{
    uint32_t n = UINT32_MAX;
    int rc = ctx->factory->max_attempt_count(ctx->factory->ud, ctx->p, instance, &n);

    ck_assert_msg(rc == 0, "max_attempt_count hook failed: %s", duro_strerror(rc));
    return n;
}

/* ---- Orchestrator queue ---------------------------------------------------------------- */

static void orch_first_fetch_attempt_one(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    duro_orch_item *item = fetch_expect(ctx, "a", 1);
    duro_orch_item_free(item);
}

static void orch_attempt_counts_abandons(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    for (uint32_t n = 1; n <= 3; n++)
        ct_abandon(ctx, fetch_expect(ctx, "a", n), 0, 0);
    duro_orch_item_free(fetch_expect(ctx, "a", 4));
}

static void orch_attempt_counts_lock_expiry(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    for (uint32_t n = 1; n <= 3; n++) {
        duro_orch_item_free(fetch_expect(ctx, "a", n));
        ctx->now += DURO_CT_LOCK_MS + 1;
    }
}

static void orch_abandon_with_delay_counts(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    ct_abandon(ctx, fetch_expect(ctx, "a", 1), 100, 0);
    ctx->now += 100;
    duro_orch_item_free(fetch_expect(ctx, "a", 2));
}

static void orch_ignore_attempt_keeps_count(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    for (int i = 0; i < 3; i++)
        ct_abandon(ctx, fetch_expect(ctx, "a", 1), 0, 1);
    duro_orch_item_free(fetch_expect(ctx, "a", 1));
}

static void orch_ignore_attempt_undoes_only_its_fetch(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    ct_abandon(ctx, fetch_expect(ctx, "a", 1), 0, 0);
    ct_abandon(ctx, fetch_expect(ctx, "a", 2), 0, 1);
    ct_abandon(ctx, fetch_expect(ctx, "a", 2), 0, 1);
    ct_abandon(ctx, fetch_expect(ctx, "a", 2), 0, 0);
    duro_orch_item_free(fetch_expect(ctx, "a", 3));
}

static void orch_batch_attempt_is_max(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    ct_abandon(ctx, fetch_expect(ctx, "a", 1), 0, 0);
    ct_abandon(ctx, fetch_expect(ctx, "a", 2), 0, 0);
    ct_enqueue(ctx, "a", DURO_MSG_ACTIVITY_DONE, "done", 0);
    duro_orch_item *item = fetch_expect(ctx, "a", 3);
    ck_assert_uint_eq(item->n_msgs, 2);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_START);
    ck_assert_int_eq(item->msgs[1].kind, DURO_MSG_ACTIVITY_DONE);
    duro_orch_item_free(item);
}

static void consumed_messages_take_their_counts(duro_ct_ctx *ctx)
{
    const duro_event_in ev[] = {{.event_id = 1, .kind = 1, .payload = "started"}};
    duro_orch_commit c = ct_commit(1, ev, 1);

    c.orch_name = "TestOrch";
    c.orch_version = "1.0.0";
    ct_enqueue_start(ctx, "a");
    ct_abandon(ctx, fetch_expect(ctx, "a", 1), 0, 0);
    ct_abandon(ctx, fetch_expect(ctx, "a", 2), 0, 0);
    ct_ack(ctx, fetch_expect(ctx, "a", 3), &c);

    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "next", 0);
    duro_orch_item *item = fetch_expect(ctx, "a", 1);
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_str_eq(item->msgs[0].payload, "next");
    duro_orch_item_free(item);
}

static void orch_attempts_per_instance(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    ct_abandon(ctx, fetch_expect(ctx, "a", 1), 0, 0);
    ct_abandon(ctx, fetch_expect(ctx, "a", 2), 0, 0);
    ct_enqueue_start(ctx, "b");

    duro_orch_item *x = ct_fetch(ctx);
    duro_orch_item *y = ct_fetch(ctx);
    duro_orch_item *a = strcmp(x->instance, "a") == 0 ? x : y;
    duro_orch_item *b = a == x ? y : x;
    ck_assert_str_eq(a->instance, "a");
    ck_assert_str_eq(b->instance, "b");
    ck_assert_uint_eq(a->attempt, 3);
    ck_assert_uint_eq(b->attempt, 1);
    duro_orch_item_free(x);
    duro_orch_item_free(y);
}

/* ---- Worker queue ---------------------------------------------------------------------- */

static void worker_first_fetch_attempt_one(duro_ct_ctx *ctx)
{
    ct_enqueue_work(ctx, "a", 1, "w1");
    duro_work_item_free(fetch_work_expect(ctx, 1, 1));
}

static void worker_attempt_counts_abandons(duro_ct_ctx *ctx)
{
    ct_enqueue_work(ctx, "a", 1, "w1");
    for (uint32_t n = 1; n <= 2; n++)
        ct_abandon_work(ctx, fetch_work_expect(ctx, 1, n), 0, 0);
    duro_work_item_free(fetch_work_expect(ctx, 1, 3));
}

static void worker_attempt_counts_lock_expiry(duro_ct_ctx *ctx)
{
    ct_enqueue_work(ctx, "a", 1, "w1");
    duro_work_item_free(fetch_work_expect(ctx, 1, 1));
    ctx->now += DURO_CT_LOCK_MS + 1;
    duro_work_item_free(fetch_work_expect(ctx, 1, 2));
}

static void worker_ignore_attempt_keeps_count(duro_ct_ctx *ctx)
{
    ct_enqueue_work(ctx, "a", 1, "w1");
    for (int i = 0; i < 3; i++)
        ct_abandon_work(ctx, fetch_work_expect(ctx, 1, 1), 0, 1);
    duro_work_item_free(fetch_work_expect(ctx, 1, 1));
}

static void worker_ignore_attempt_undoes_only_its_fetch(duro_ct_ctx *ctx)
{
    ct_enqueue_work(ctx, "a", 1, "w1");
    ct_abandon_work(ctx, fetch_work_expect(ctx, 1, 1), 0, 0);
    ct_abandon_work(ctx, fetch_work_expect(ctx, 1, 2), 0, 1);
    ct_abandon_work(ctx, fetch_work_expect(ctx, 1, 2), 0, 1);
    ct_abandon_work(ctx, fetch_work_expect(ctx, 1, 2), 0, 0);
    duro_work_item_free(fetch_work_expect(ctx, 1, 3));
}

static void worker_attempts_per_item(duro_ct_ctx *ctx)
{
    ct_enqueue_work(ctx, "a", 1, "w1");
    ct_enqueue_work(ctx, "a", 2, "w2");
    ct_abandon_work(ctx, fetch_work_expect(ctx, 1, 1), 0, 0);
    ct_abandon_work(ctx, fetch_work_expect(ctx, 1, 2), 0, 0);
    duro_work_item *first = fetch_work_expect(ctx, 1, 3);
    duro_work_item *second = fetch_work_expect(ctx, 2, 1);
    duro_work_item_free(first);
    duro_work_item_free(second);
}

/* ---- Stored counts (hook) -------------------------------------------------------------- */

static void attempt_hook_agrees_with_fetch(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    ck_assert_uint_eq(stored_attempts(ctx, "a"), 0);
    duro_orch_item *item = fetch_expect(ctx, "a", 1);
    ck_assert_uint_eq(stored_attempts(ctx, "a"), 1);
    ct_abandon(ctx, item, 0, 0);
    ck_assert_uint_eq(stored_attempts(ctx, "a"), 1);
    item = fetch_expect(ctx, "a", 2);
    ck_assert_uint_eq(stored_attempts(ctx, "a"), 2);
    ct_abandon(ctx, item, 0, 1);
    ck_assert_uint_eq(stored_attempts(ctx, "a"), 1);
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "e", 0);
    item = fetch_expect(ctx, "a", 2);
    ck_assert_uint_eq(stored_attempts(ctx, "a"), 2);
    duro_orch_item_free(item);
}

static void attempt_hook_zero_after_ignored_fetch(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    for (int i = 0; i < 3; i++) {
        ct_abandon(ctx, fetch_expect(ctx, "a", 1), 0, 1);
        ck_assert_uint_eq(stored_attempts(ctx, "a"), 0);
    }
}

/* ---- Registry -------------------------------------------------------------------------- */

DURO_CASES = {
    DURO_CASE(orch_first_fetch_attempt_one, 0, 0,
              "The first fetch of an orchestration message reports attempt 1."),
    DURO_CASE(orch_attempt_counts_abandons, 0, 0,
              "Each fetch after an abandon reports one more attempt: 1, 2, 3, 4."),
    DURO_CASE(orch_attempt_counts_lock_expiry, 0, 0,
              "A fetch after the previous lock expired counts as a new attempt: 1, 2, 3."),
    DURO_CASE(orch_abandon_with_delay_counts, 0, 0,
              "An abandon with a delay keeps the attempt: the fetch after the delay reports "
              "2."),
    DURO_CASE(orch_ignore_attempt_keeps_count, 0, 0,
              "Abandons with ignore_attempt do not count: fetches report 1, 1, 1, 1."),
    DURO_CASE(orch_ignore_attempt_undoes_only_its_fetch, 0, 0,
              "ignore_attempt undoes only its own fetch's increment: 1, 2, 2, 2, 3."),
    DURO_CASE(orch_batch_attempt_is_max, 0, 0,
              "A batch reports the maximum attempt of its messages (START at 3, new completion "
              "at 1: attempt 3)."),
    DURO_CASE(consumed_messages_take_their_counts, 0, 0,
              "Counts belong to messages: after a batch fetched 3 times is acked, a new "
              "message is fetched at attempt 1."),
    DURO_CASE(orch_attempts_per_instance, 0, 0,
              "Attempt counts of different instances are independent (3 and 1)."),
    DURO_CASE(worker_first_fetch_attempt_one, 0, 0,
              "The first fetch of a work item reports attempt 1."),
    DURO_CASE(worker_attempt_counts_abandons, 0, 0,
              "Each work fetch after an abandon reports one more attempt: 1, 2, 3."),
    DURO_CASE(worker_attempt_counts_lock_expiry, 0, 0,
              "A work fetch after the previous lock expired reports attempt 2."),
    DURO_CASE(worker_ignore_attempt_keeps_count, 0, 0,
              "Work abandons with ignore_attempt do not count: fetches report 1, 1, 1, 1."),
    DURO_CASE(worker_ignore_attempt_undoes_only_its_fetch, 0, 0,
              "On work items ignore_attempt undoes only its own fetch's increment: 1, 2, 2, 2, "
              "3."),
    DURO_CASE(worker_attempts_per_item, 0, 0,
              "Attempt counts of different work items are independent (3 and 1)."),
    DURO_CASE(attempt_hook_agrees_with_fetch, 0, DURO_HOOK_ATTEMPTS,
              "The stored fetch count (0 before any fetch) always equals what fetch reported, "
              "including after abandons with and without ignore_attempt."),
    DURO_CASE(attempt_hook_zero_after_ignored_fetch, 0, DURO_HOOK_ATTEMPTS,
              "Repeated abandons with ignore_attempt leave the stored count at 0, never "
              "below."),
    DURO_CASES_END,
};
