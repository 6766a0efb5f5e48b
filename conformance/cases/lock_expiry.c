/*
 * lock_expiry.c — conformance cases for lock lifetimes on both queues, on the virtual clock.
 *
 * The boundary is exact and the same everywhere: a lock taken at T for L ms is held while
 * now < T + L and is expired from now = T + L on (expired when locked_until <= now). Renew
 * moves the expiry to now + extend. Once a lock expired or was taken over, its token can no
 * longer ack, renew or abandon (DURO_ELOCK, not retryable), and the messages or work item
 * come back with the next attempt. Abandon releases at once, or hides until now + delay
 * exactly.
 */
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY lock_expiry

/* ---- Helpers ------------------------------------------------------------------------------ */

static int ack_work_rc(duro_ct_ctx *ctx, const char *token, const duro_msg *completion,
                       duro_error *err)
{
    memset(err, 0, sizeof *err);
    return ctx->p->ops->ack_work(ctx->p, ctx->now, token, completion, err);
}

static int renew_work_rc(duro_ct_ctx *ctx, const char *token, int64_t extend, duro_error *err)
{
    memset(err, 0, sizeof *err);
    return ctx->p->ops->renew_work(ctx->p, ctx->now, token, extend, err);
}

static int abandon_work_rc(duro_ct_ctx *ctx, const char *token, int64_t delay,
                           duro_error *err)
{
    memset(err, 0, sizeof *err);
    return ctx->p->ops->abandon_work(ctx->p, ctx->now, token, delay, 0, err);
}

/* Assert a failed call: DURO_ELOCK, not retryable (a macro, so failures show the case's
 * line). */
#define ASSERT_ELOCK(call, err)                          \
    do {                                                 \
        ck_assert_int_eq((call), DURO_ELOCK);            \
        ck_assert_int_eq((err).code, DURO_ELOCK);        \
        ck_assert_int_eq((err).retryable, 0);            \
    } while (0)

/* "le-a" exists and its EVENT "ev" is fetched at ctx->now and locked for DURO_CT_LOCK_MS. */
static duro_orch_item *locked_a(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "le-a");
    ct_enqueue(ctx, "le-a", DURO_MSG_EVENT, "ev", 0);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "le-a");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_uint_eq(item->attempt, 1);
    return item;
}

/* The batch of "le-a" is fetchable again with `attempt`; returns it. */
static duro_orch_item *refetch_a(duro_ct_ctx *ctx, uint32_t attempt)
{
    duro_orch_item *item = ct_fetch(ctx);

    ck_assert_str_eq(item->instance, "le-a");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_str_eq(item->msgs[0].payload, "ev");
    ck_assert_uint_eq(item->attempt, attempt);
    return item;
}

/* A work item "act" (activity 1) of existing instance "le-w", fetched at ctx->now. */
static duro_work_item *locked_work(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "le-w");
    ct_enqueue_work(ctx, "le-w", 1, "act");
    duro_work_item *w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(w->payload, "act");
    ck_assert_uint_eq(w->attempt, 1);
    return w;
}

static duro_work_item *refetch_work(duro_ct_ctx *ctx, uint32_t attempt)
{
    duro_work_item *w = ct_try_fetch_work(ctx);

    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(w->instance, "le-w");
    ck_assert_uint_eq(w->activity_id, 1);
    ck_assert_str_eq(w->payload, "act");
    ck_assert_uint_eq(w->attempt, attempt);
    return w;
}

/* The completion a worker sends for "le-w". */
static duro_msg completion(duro_ct_ctx *ctx, const char *payload)
{
    duro_msg m = {"le-w", DURO_MSG_ACTIVITY_DONE, 1, ctx->now, payload};

    return m;
}

/* ---- Orchestration locks ------------------------------------------------------------------ */

static void orch_lock_held_until_last_millisecond(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_orch_item *item = locked_a(ctx);

    ctx->now = t0 + DURO_CT_LOCK_MS - 1;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    duro_orch_item_free(item);
}

static void orch_lock_expires_exactly_at_lock_ms(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_orch_item *item = locked_a(ctx);

    ctx->now = t0 + DURO_CT_LOCK_MS;
    duro_orch_item *again = refetch_a(ctx, 2);
    ck_assert_str_ne(again->lock_token, item->lock_token);
    duro_orch_item_free(again);
    duro_orch_item_free(item);
}

static void orch_lock_duration_is_per_fetch(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_orch_item *item = NULL;
    int64_t t0 = ctx->now;

    ct_create_instance(ctx, "le-a");
    ct_enqueue(ctx, "le-a", DURO_MSG_EVENT, "ev", 0);
    ck_assert_int_eq(ctx->p->ops->fetch_orch(ctx->p, t0, 1000, 0, &item, &err), 0);
    ctx->now = t0 + 999;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 1000;
    duro_orch_item *again = refetch_a(ctx, 2);
    duro_orch_item_free(again);
    duro_orch_item_free(item);
}

static void expired_token_cannot_ack(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{2, 2, "late"}};
    duro_orch_commit c = ct_commit(1, events, 1);
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    ASSERT_ELOCK(ct_ack_rc(ctx, item->lock_token, &c, &err), err);
    duro_orch_item_free(item);
    ck_assert_uint_eq(ct_history_len(ctx, "le-a", 0), 1);
    duro_orch_item_free(refetch_a(ctx, 2));
}

static void expired_token_cannot_renew(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    ASSERT_ELOCK(ct_renew_rc(ctx, item->lock_token, DURO_CT_LOCK_MS, &err), err);
    duro_orch_item_free(item);
    duro_orch_item_free(refetch_a(ctx, 2));
}

static void expired_token_cannot_abandon(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    ASSERT_ELOCK(ct_abandon_rc(ctx, item->lock_token, 60000, &err), err);
    duro_orch_item_free(item);
    duro_orch_item_free(refetch_a(ctx, 2));
}

static void stolen_token_cannot_ack_new_holder_can(duro_ct_ctx *ctx)
{
    const duro_event_in stale_ev[] = {{2, 2, "stale"}};
    const duro_event_in fresh_ev[] = {{2, 2, "fresh"}};
    duro_orch_commit stale = ct_commit(1, stale_ev, 1);
    duro_orch_commit fresh = ct_commit(1, fresh_ev, 1);
    duro_orch_item *old = locked_a(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    duro_orch_item *holder = refetch_a(ctx, 2);
    ASSERT_ELOCK(ct_ack_rc(ctx, old->lock_token, &stale, &err), err);
    duro_orch_item_free(old);
    ct_ack(ctx, holder, &fresh);

    duro_event *ev = NULL;
    size_t n = 0;
    ck_assert_int_eq(ctx->p->ops->read_history(ctx->p, "le-a", 1, &ev, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ev[1].payload, "fresh");
    duro_events_free(ev, n);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void stolen_token_cannot_renew(duro_ct_ctx *ctx)
{
    duro_orch_item *old = locked_a(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    duro_orch_item *holder = refetch_a(ctx, 2);
    ASSERT_ELOCK(ct_renew_rc(ctx, old->lock_token, DURO_CT_LOCK_MS, &err), err);
    ck_assert_int_eq(ct_renew_rc(ctx, holder->lock_token, DURO_CT_LOCK_MS, &err), 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    duro_orch_item_free(old);
    duro_orch_item_free(holder);
}

static void stolen_token_cannot_abandon(duro_ct_ctx *ctx)
{
    duro_orch_item *old = locked_a(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    duro_orch_item *holder = refetch_a(ctx, 2);
    ASSERT_ELOCK(ct_abandon_rc(ctx, old->lock_token, 0, &err), err);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    duro_orch_commit c = ct_commit(1, NULL, 0);
    ct_ack(ctx, holder, &c);
    duro_orch_item_free(old);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void renew_sets_expiry_to_now_plus_extend(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ctx->now = t0 + 10000;
    ck_assert_int_eq(ct_renew_rc(ctx, item->lock_token, 2000, &err), 0);
    ctx->now = t0 + 11999;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 12000;
    duro_orch_item_free(refetch_a(ctx, 2));
    duro_orch_item_free(item);
}

static void renew_after_expiry_fails_even_unclaimed(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ctx->now = t0 + DURO_CT_LOCK_MS + 1;
    ASSERT_ELOCK(ct_renew_rc(ctx, item->lock_token, DURO_CT_LOCK_MS, &err), err);
    duro_orch_item *again = refetch_a(ctx, 2);
    ck_assert_str_ne(again->lock_token, item->lock_token);
    duro_orch_item_free(again);
    duro_orch_item_free(item);
}

/* ---- Abandon ------------------------------------------------------------------------------ */

static void abandon_releases_immediately(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ck_assert_int_eq(ct_abandon_rc(ctx, item->lock_token, 0, &err), 0);
    duro_orch_item *again = refetch_a(ctx, 2);
    ck_assert_str_ne(again->lock_token, item->lock_token);
    duro_orch_item_free(again);
    duro_orch_item_free(item);
}

static void abandon_with_delay_hides_until_exact_time(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ctx->now = t0 + 100;
    ck_assert_int_eq(ct_abandon_rc(ctx, item->lock_token, 5000, &err), 0);
    duro_orch_item_free(item);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 5099;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 5100;
    duro_orch_item_free(refetch_a(ctx, 2));
}

static void abandoned_token_is_dead(duro_ct_ctx *ctx)
{
    duro_orch_commit c = ct_commit(1, NULL, 0);
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ck_assert_int_eq(ct_abandon_rc(ctx, item->lock_token, 0, &err), 0);
    ASSERT_ELOCK(ct_ack_rc(ctx, item->lock_token, &c, &err), err);
    ASSERT_ELOCK(ct_renew_rc(ctx, item->lock_token, DURO_CT_LOCK_MS, &err), err);
    ASSERT_ELOCK(ct_abandon_rc(ctx, item->lock_token, 0, &err), err);
    duro_orch_item_free(item);
    duro_orch_item_free(refetch_a(ctx, 2));
}

/* ---- Worker locks ------------------------------------------------------------------------- */

static void work_lock_held_until_last_millisecond(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_work_item *w = locked_work(ctx);

    ctx->now = t0 + DURO_CT_LOCK_MS - 1;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    duro_work_item_free(w);
}

static void work_lock_expires_exactly_at_lock_ms(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_work_item *w = locked_work(ctx);

    ctx->now = t0 + DURO_CT_LOCK_MS;
    duro_work_item *again = refetch_work(ctx, 2);
    ck_assert_str_ne(again->lock_token, w->lock_token);
    ck_assert_int_eq(again->id, w->id);
    duro_work_item_free(again);
    duro_work_item_free(w);
}

static void work_ack_after_expiry_fails_and_item_returns(duro_ct_ctx *ctx)
{
    duro_work_item *w = locked_work(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    duro_msg late = completion(ctx, "late-result");
    ASSERT_ELOCK(ack_work_rc(ctx, w->lock_token, &late, &err), err);
    duro_work_item_free(w);
    ck_assert_ptr_null(ct_try_fetch(ctx));

    duro_work_item *again = refetch_work(ctx, 2);
    duro_msg done = completion(ctx, "result");
    ck_assert_int_eq(ack_work_rc(ctx, again->lock_token, &done, &err), 0);
    duro_work_item_free(again);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "le-w");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_ACTIVITY_DONE);
    ck_assert_str_eq(item->msgs[0].payload, "result");
    duro_orch_item_free(item);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
}

static void work_stolen_token_cannot_ack(duro_ct_ctx *ctx)
{
    duro_work_item *old = locked_work(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    duro_work_item *holder = refetch_work(ctx, 2);
    duro_msg stale = completion(ctx, "stale");
    ASSERT_ELOCK(ack_work_rc(ctx, old->lock_token, &stale, &err), err);
    ASSERT_ELOCK(renew_work_rc(ctx, old->lock_token, DURO_CT_LOCK_MS, &err), err);
    ASSERT_ELOCK(abandon_work_rc(ctx, old->lock_token, 0, &err), err);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    duro_msg fresh = completion(ctx, "fresh");
    ck_assert_int_eq(ack_work_rc(ctx, holder->lock_token, &fresh, &err), 0);
    duro_work_item_free(old);
    duro_work_item_free(holder);

    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_str_eq(item->msgs[0].payload, "fresh");
    duro_orch_item_free(item);
}

static void work_renew_extends_lock(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_work_item *w = locked_work(ctx);
    duro_error err;

    ctx->now = t0 + DURO_CT_LOCK_MS - 1;
    ck_assert_int_eq(renew_work_rc(ctx, w->lock_token, DURO_CT_LOCK_MS, &err), 0);
    ctx->now = t0 + DURO_CT_LOCK_MS;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ctx->now = t0 + 2 * DURO_CT_LOCK_MS - 2;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ctx->now = t0 + 2 * DURO_CT_LOCK_MS - 1;
    duro_work_item_free(refetch_work(ctx, 2));
    duro_work_item_free(w);
}

static void work_renewed_token_acks_after_original_expiry(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_work_item *w = locked_work(ctx);
    duro_error err;

    ctx->now = t0 + 1000;
    ck_assert_int_eq(renew_work_rc(ctx, w->lock_token, DURO_CT_LOCK_MS, &err), 0);
    ctx->now = t0 + DURO_CT_LOCK_MS + 500;
    ck_assert_int_eq(ack_work_rc(ctx, w->lock_token, NULL, &err), 0);
    duro_work_item_free(w);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
}

static void work_renew_after_expiry_fails(duro_ct_ctx *ctx)
{
    duro_work_item *w = locked_work(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    ASSERT_ELOCK(renew_work_rc(ctx, w->lock_token, DURO_CT_LOCK_MS, &err), err);
    duro_work_item_free(w);
    duro_work_item_free(refetch_work(ctx, 2));
}

static void work_renew_after_ack_fails(duro_ct_ctx *ctx)
{
    duro_work_item *w = locked_work(ctx);
    duro_error err;

    ck_assert_int_eq(ack_work_rc(ctx, w->lock_token, NULL, &err), 0);
    ASSERT_ELOCK(renew_work_rc(ctx, w->lock_token, DURO_CT_LOCK_MS, &err), err);
    ASSERT_ELOCK(ack_work_rc(ctx, w->lock_token, NULL, &err), err);
    duro_work_item_free(w);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
}

static void work_abandon_releases_immediately(duro_ct_ctx *ctx)
{
    duro_work_item *w = locked_work(ctx);
    duro_error err;

    ck_assert_int_eq(abandon_work_rc(ctx, w->lock_token, 0, &err), 0);
    duro_work_item *again = refetch_work(ctx, 2);
    ck_assert_str_ne(again->lock_token, w->lock_token);
    ASSERT_ELOCK(ack_work_rc(ctx, w->lock_token, NULL, &err), err);
    duro_work_item_free(again);
    duro_work_item_free(w);
}

static void work_abandon_with_delay_hides_until_exact_time(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_work_item *w = locked_work(ctx);
    duro_error err;

    ctx->now = t0 + 200;
    ck_assert_int_eq(abandon_work_rc(ctx, w->lock_token, 3000, &err), 0);
    duro_work_item_free(w);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ctx->now = t0 + 3199;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ctx->now = t0 + 3200;
    duro_work_item_free(refetch_work(ctx, 2));
}

static void work_abandon_after_expiry_fails(duro_ct_ctx *ctx)
{
    duro_work_item *w = locked_work(ctx);
    duro_error err;

    ctx->now += DURO_CT_LOCK_MS;
    ASSERT_ELOCK(abandon_work_rc(ctx, w->lock_token, 60000, &err), err);
    duro_work_item_free(w);
    duro_work_item_free(refetch_work(ctx, 2));
}

DURO_CASES = {
    DURO_CASE(orch_lock_held_until_last_millisecond, 0, 0,
              "An orchestration lock taken at T for L ms still holds at T + L - 1."),
    DURO_CASE(orch_lock_expires_exactly_at_lock_ms, 0, 0,
              "An orchestration lock taken at T for L ms is expired at T + L: the batch is "
              "refetched with a new token and attempt 2."),
    DURO_CASE(orch_lock_duration_is_per_fetch, 0, 0,
              "The lock lasts the lock_ms given to that fetch (1000 ms here), not a provider "
              "default."),
    DURO_CASE(expired_token_cannot_ack, 0, 0,
              "After expiry the old token's ack fails with DURO_ELOCK (not retryable), writes "
              "nothing, and the batch is fetchable."),
    DURO_CASE(expired_token_cannot_renew, 0, 0,
              "After expiry the old token's renew fails with DURO_ELOCK (not retryable) and "
              "does not re-lock the instance."),
    DURO_CASE(expired_token_cannot_abandon, 0, 0,
              "After expiry the old token's abandon fails with DURO_ELOCK and its delay is not "
              "applied."),
    DURO_CASE(stolen_token_cannot_ack_new_holder_can, 0, 0,
              "Once another fetch took the expired lock, the old token's ack fails and the new "
              "holder's ack succeeds."),
    DURO_CASE(stolen_token_cannot_renew, 0, 0,
              "The old token cannot renew a lock taken over by a new holder, whose lock stays "
              "valid."),
    DURO_CASE(stolen_token_cannot_abandon, 0, 0,
              "The old token cannot abandon a lock taken over by a new holder; the instance "
              "stays locked."),
    DURO_CASE(renew_sets_expiry_to_now_plus_extend, 0, 0,
              "A renew at now with extend E holds the lock until now + E - 1 and frees it at "
              "now + E."),
    DURO_CASE(renew_after_expiry_fails_even_unclaimed, 0, 0,
              "A renew after expiry fails even when nobody took the lock yet."),
    DURO_CASE(abandon_releases_immediately, 0, 0,
              "Abandon without delay makes the batch fetchable at the same instant with a new "
              "token."),
    DURO_CASE(abandon_with_delay_hides_until_exact_time, 0, 0,
              "Abandon with delay D at now hides the batch until now + D - 1 and shows it at "
              "now + D."),
    DURO_CASE(abandoned_token_is_dead, 0, 0,
              "After abandon the token can no longer ack, renew or abandon."),
    DURO_CASE(work_lock_held_until_last_millisecond, 0, 0,
              "A work item lock taken at T for L ms still holds at T + L - 1."),
    DURO_CASE(work_lock_expires_exactly_at_lock_ms, 0, 0,
              "A work item lock expires at T + L: the same row is refetched with a new token "
              "and attempt 2."),
    DURO_CASE(work_ack_after_expiry_fails_and_item_returns, 0, 0,
              "ack_work after expiry fails with DURO_ELOCK (not retryable), enqueues no "
              "completion, and the item returns with attempt 2."),
    DURO_CASE(work_stolen_token_cannot_ack, 0, 0,
              "Once a work item was refetched, the old token cannot ack, renew or abandon it; "
              "only the new holder's completion arrives."),
    DURO_CASE(work_renew_extends_lock, 0, 0,
              "renew_work sets the expiry to now + extend, exact to the millisecond."),
    DURO_CASE(work_renewed_token_acks_after_original_expiry, 0, 0,
              "A renewed work token can still ack after the original lock time has passed."),
    DURO_CASE(work_renew_after_expiry_fails, 0, 0,
              "renew_work after expiry fails with DURO_ELOCK (not retryable)."),
    DURO_CASE(work_renew_after_ack_fails, 0, 0,
              "After ack_work the token can neither renew nor ack again."),
    DURO_CASE(work_abandon_releases_immediately, 0, 0,
              "abandon_work without delay makes the item fetchable at once and kills the old "
              "token."),
    DURO_CASE(work_abandon_with_delay_hides_until_exact_time, 0, 0,
              "abandon_work with delay D at now hides the item until now + D - 1 and shows it "
              "at now + D."),
    DURO_CASE(work_abandon_after_expiry_fails, 0, 0,
              "abandon_work after expiry fails with DURO_ELOCK and its delay is not applied."),
    DURO_CASES_END,
};
