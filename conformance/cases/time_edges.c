/*
 * time_edges.c — conformance cases for every time argument at its edges: fetch lock_ms and
 * poll_ms, renew extend_ms, abandon delay_ms, enqueue visible_at_ms, wait_commit's timeout
 * and now_ms itself, each at zero, negative, one millisecond and the largest values.
 *
 * The rules are those of "Times at their edges" in duro-provider.h: times are plain signed
 * integers, no now_ms or visible_at_ms is rejected, deadlines saturate at INT64_MAX (held at
 * every now_ms below it), lock and extend times must be > 0 and delays >= 0. Most cases run
 * on the virtual clock; the poll_ms and wait_commit cases measure real time (CLOCK_MONOTONIC,
 * microseconds) and need DURO_CAP_LONG_POLL or DURO_CAP_NOTIFY. Where a thread must be woken,
 * the commit that wakes it comes TE_ARRIVAL_MS after both threads passed a barrier: that delay
 * is the workload (a wait that must still be waiting), not a synchronisation device.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suite.h"

#define DURO_CATEGORY time_edges

/* The last instant before the end of the clock. */
#define TE_LAST (INT64_MAX - 1)
/* Lock time of the cases that only need a lock to exist. */
#define TE_LOCK_MS INT64_C(10)
/* "At once" in real time: a call that must not wait. */
#define TE_AT_ONCE_US (INT64_C(50000) * te_slow())
/* When a waiter is woken, counted from the barrier. */
#define TE_ARRIVAL_MS 20
/* A woken waiter returns within this of starting. */
#define TE_PROMPT_US (INT64_C(1000000) * te_slow())

/* ---- Helpers --------------------------------------------------------------------------- */

static int64_t te_slow(void)
{
    const char *v = getenv("DURO_UNDER_VALGRIND");

    return v != NULL && *v != '\0' && strcmp(v, "0") != 0 ? 4 : 1;
}

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Enqueue a message for `instance` visible at the absolute time `visible_at`. */
static void put(duro_ct_ctx *ctx, const char *instance, int kind, const char *payload,
                int64_t visible_at)
{
    duro_error err = {0};
    duro_msg m = {.instance = instance, .kind = kind, .execution_id = 1,
                  .visible_at_ms = visible_at, .payload = payload};

    ck_assert_int_eq(ctx->p->ops->enqueue_orch(ctx->p, &m, &err), 0);
}

/* fetch_orch at `now` with `lock_ms` and poll 0; NULL when DURO_ENOTFOUND. */
static duro_orch_item *orch_at(duro_ct_ctx *ctx, int64_t now, int64_t lock_ms)
{
    duro_error err = {0};
    duro_orch_item *item = NULL;
    int rc = ctx->p->ops->fetch_orch(ctx->p, now, lock_ms, 0, &item, &err);

    if (rc == DURO_ENOTFOUND) {
        ck_assert_ptr_null(item);
        return NULL;
    }
    ck_assert_msg(rc == 0, "fetch_orch at %lld: %s (%s)", (long long)now, duro_strerror(rc),
                  err.message);
    return item;
}

static duro_work_item *work_at(duro_ct_ctx *ctx, int64_t now, int64_t lock_ms)
{
    duro_error err = {0};
    duro_work_item *w = NULL;
    int rc = ctx->p->ops->fetch_work(ctx->p, now, lock_ms, 0, &w, &err);

    if (rc == DURO_ENOTFOUND) {
        ck_assert_ptr_null(w);
        return NULL;
    }
    ck_assert_msg(rc == 0, "fetch_work at %lld: %s (%s)", (long long)now, duro_strerror(rc),
                  err.message);
    return w;
}

/* Nothing of the orchestrator queue is fetchable at `now`. */
static void orch_none_at(duro_ct_ctx *ctx, int64_t now)
{
    duro_orch_item *item = orch_at(ctx, now, TE_LOCK_MS);

    ck_assert_msg(item == NULL, "fetched %s at %lld", item ? item->instance : "", (long long)now);
}

static void work_none_at(duro_ct_ctx *ctx, int64_t now)
{
    duro_work_item *w = work_at(ctx, now, TE_LOCK_MS);

    ck_assert_msg(w == NULL, "fetched work %lld at %lld", w ? (long long)w->id : 0LL,
                  (long long)now);
}

/* The batch of "te" with one message and `attempt` is fetchable at `now`; returns it. */
static duro_orch_item *orch_te_at(duro_ct_ctx *ctx, int64_t now, uint32_t attempt)
{
    duro_orch_item *item = orch_at(ctx, now, TE_LOCK_MS);

    ck_assert_msg(item != NULL, "nothing fetchable at %lld", (long long)now);
    ck_assert_str_eq(item->instance, "te");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_uint_eq(item->attempt, attempt);
    return item;
}

static duro_work_item *work_te_at(duro_ct_ctx *ctx, int64_t now, uint32_t attempt)
{
    duro_work_item *w = work_at(ctx, now, TE_LOCK_MS);

    ck_assert_msg(w != NULL, "no work fetchable at %lld", (long long)now);
    ck_assert_str_eq(w->instance, "te");
    ck_assert_uint_eq(w->attempt, attempt);
    return w;
}

/* "te": a START visible at ctx->now, fetched at ctx->now with `lock_ms`. */
static duro_orch_item *locked_te(duro_ct_ctx *ctx, int64_t lock_ms)
{
    put(ctx, "te", DURO_MSG_START, "start:te", ctx->now);
    duro_orch_item *item = orch_at(ctx, ctx->now, lock_ms);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->instance, "te");
    ck_assert_uint_eq(item->attempt, 1);
    return item;
}

/* A work item of "te" fetched at ctx->now with `lock_ms`. */
static duro_work_item *locked_te_work(duro_ct_ctx *ctx, int64_t lock_ms)
{
    ct_enqueue_work(ctx, "te", 1, "w1");
    duro_work_item *w = work_at(ctx, ctx->now, lock_ms);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(w->attempt, 1);
    return w;
}

/* Ack `item` at `now` creating "te" (one event), asserting success; frees the item. */
static void ack_te_at(duro_ct_ctx *ctx, duro_orch_item *item, int64_t now)
{
    const duro_event_in ev[] = {{.event_id = 1, .kind = 1, .payload = "started"}};
    duro_orch_commit c = ct_commit(1, ev, 1);
    duro_error err = {0};

    c.orch_name = "TestOrch";
    ck_assert_int_eq(ctx->p->ops->ack_orch(ctx->p, now, item->lock_token, &c, &err), 0);
    duro_orch_item_free(item);
}

static void ack_work_at(duro_ct_ctx *ctx, duro_work_item *w, int64_t now)
{
    duro_error err = {0};

    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, now, w->lock_token, NULL, &err), 0);
    duro_work_item_free(w);
}

#define ASSERT_EINVAL(call, err)                          \
    do {                                                  \
        ck_assert_int_eq((call), DURO_EINVAL);            \
        ck_assert_int_eq((err).code, DURO_EINVAL);        \
        ck_assert_int_eq((err).retryable, 0);             \
    } while (0)

static const int64_t not_positive[] = {0, -1, INT64_MIN};
static const int64_t negative[] = {-1, INT64_MIN};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fetch lock_ms ----------------------------------------------------------------------- */

static void fetch_lock_ms_not_positive_rejected(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "te");
    ct_enqueue_work(ctx, "te", 1, "w1");
    for (size_t i = 0; i < N_OF(not_positive); i++) {
        duro_error err = {0};
        duro_orch_item *item = NULL;
        duro_work_item *w = NULL;

        ASSERT_EINVAL(ctx->p->ops->fetch_orch(ctx->p, ctx->now, not_positive[i], 0, &item, &err),
                      err);
        ck_assert_ptr_null(item);
        memset(&err, 0, sizeof err);
        ASSERT_EINVAL(ctx->p->ops->fetch_work(ctx->p, ctx->now, not_positive[i], 0, &w, &err),
                      err);
        ck_assert_ptr_null(w);
    }
    duro_orch_item_free(orch_te_at(ctx, ctx->now, 1));
    duro_work_item_free(work_te_at(ctx, ctx->now, 1));
}

static void orch_lock_ms_one_expires_next_ms(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_te(ctx, 1);

    orch_none_at(ctx, ctx->now);
    duro_orch_item_free(orch_te_at(ctx, ctx->now + 1, 2));
    duro_orch_item_free(item);
}

static void work_lock_ms_one_expires_next_ms(duro_ct_ctx *ctx)
{
    duro_work_item *w = locked_te_work(ctx, 1);

    work_none_at(ctx, ctx->now);
    duro_work_item_free(work_te_at(ctx, ctx->now + 1, 2));
    duro_work_item_free(w);
}

static void orch_lock_ms_max_held_to_end_of_clock(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_te(ctx, INT64_MAX);

    orch_none_at(ctx, ctx->now + DURO_CT_LOCK_MS);
    orch_none_at(ctx, TE_LAST);
    ack_te_at(ctx, item, TE_LAST);
}

static void work_lock_ms_max_held_to_end_of_clock(duro_ct_ctx *ctx)
{
    duro_work_item *w = locked_te_work(ctx, INT64_MAX);

    work_none_at(ctx, ctx->now + DURO_CT_LOCK_MS);
    work_none_at(ctx, TE_LAST);
    ack_work_at(ctx, w, TE_LAST);
}

/* ---- renew extend_ms --------------------------------------------------------------------- */

static void renew_extend_not_positive_rejected(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_te(ctx, TE_LOCK_MS);
    duro_work_item *w = locked_te_work(ctx, TE_LOCK_MS);

    for (size_t i = 0; i < N_OF(not_positive); i++) {
        duro_error err = {0};

        ASSERT_EINVAL(ctx->p->ops->renew_orch(ctx->p, ctx->now + 1, item->lock_token,
                                              not_positive[i], &err), err);
        memset(&err, 0, sizeof err);
        ASSERT_EINVAL(ctx->p->ops->renew_work(ctx->p, ctx->now + 1, w->lock_token,
                                              not_positive[i], &err), err);
    }
    orch_none_at(ctx, ctx->now + TE_LOCK_MS - 1);
    work_none_at(ctx, ctx->now + TE_LOCK_MS - 1);
    duro_orch_item_free(orch_te_at(ctx, ctx->now + TE_LOCK_MS, 2));
    duro_work_item_free(work_te_at(ctx, ctx->now + TE_LOCK_MS, 2));
    duro_orch_item_free(item);
    duro_work_item_free(w);
}

static void renew_extend_one_holds_only_that_ms(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_te(ctx, DURO_CT_LOCK_MS);
    duro_work_item *w = locked_te_work(ctx, DURO_CT_LOCK_MS);
    int64_t t = ctx->now + 5;
    duro_error err = {0};

    ck_assert_int_eq(ctx->p->ops->renew_orch(ctx->p, t, item->lock_token, 1, &err), 0);
    ck_assert_int_eq(ctx->p->ops->renew_work(ctx->p, t, w->lock_token, 1, &err), 0);
    orch_none_at(ctx, t);
    work_none_at(ctx, t);
    duro_orch_item_free(orch_te_at(ctx, t + 1, 2));
    duro_work_item_free(work_te_at(ctx, t + 1, 2));
    duro_orch_item_free(item);
    duro_work_item_free(w);
}

static void renew_extend_max_held_to_end_of_clock(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_te(ctx, TE_LOCK_MS);
    duro_work_item *w = locked_te_work(ctx, TE_LOCK_MS);
    duro_error err = {0};

    ck_assert_int_eq(ctx->p->ops->renew_orch(ctx->p, ctx->now + 5, item->lock_token, INT64_MAX,
                                             &err), 0);
    ck_assert_int_eq(ctx->p->ops->renew_work(ctx->p, ctx->now + 5, w->lock_token, INT64_MAX,
                                             &err), 0);
    orch_none_at(ctx, ctx->now + TE_LOCK_MS);
    work_none_at(ctx, ctx->now + TE_LOCK_MS);
    orch_none_at(ctx, TE_LAST);
    work_none_at(ctx, TE_LAST);
    ack_te_at(ctx, item, TE_LAST);
    ack_work_at(ctx, w, TE_LAST);
}

/* ---- abandon delay_ms -------------------------------------------------------------------- */

static void abandon_negative_delay_rejected(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_te(ctx, TE_LOCK_MS);
    duro_work_item *w = locked_te_work(ctx, TE_LOCK_MS);

    for (size_t i = 0; i < N_OF(negative); i++) {
        duro_error err = {0};

        ASSERT_EINVAL(ctx->p->ops->abandon_orch(ctx->p, ctx->now, item->lock_token, negative[i],
                                                0, &err), err);
        memset(&err, 0, sizeof err);
        ASSERT_EINVAL(ctx->p->ops->abandon_work(ctx->p, ctx->now, w->lock_token, negative[i], 0,
                                                &err), err);
    }
    orch_none_at(ctx, ctx->now + TE_LOCK_MS - 1);
    work_none_at(ctx, ctx->now + TE_LOCK_MS - 1);
    ack_te_at(ctx, item, ctx->now + TE_LOCK_MS - 1);
    ack_work_at(ctx, w, ctx->now + TE_LOCK_MS - 1);
}

static void abandon_delay_one_hides_one_ms(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_te(ctx, DURO_CT_LOCK_MS);
    duro_work_item *w = locked_te_work(ctx, DURO_CT_LOCK_MS);
    int64_t t = ctx->now + 3;
    duro_error err = {0};

    ck_assert_int_eq(ctx->p->ops->abandon_orch(ctx->p, t, item->lock_token, 1, 0, &err), 0);
    ck_assert_int_eq(ctx->p->ops->abandon_work(ctx->p, t, w->lock_token, 1, 0, &err), 0);
    orch_none_at(ctx, t);
    work_none_at(ctx, t);
    duro_orch_item_free(orch_te_at(ctx, t + 1, 2));
    duro_work_item_free(work_te_at(ctx, t + 1, 2));
    duro_orch_item_free(item);
    duro_work_item_free(w);
}

static void abandon_work_delay_zero_keeps_it_visible_at_every_time(duro_ct_ctx *ctx)
{
    duro_work_item *w = locked_te_work(ctx, DURO_CT_LOCK_MS);
    int64_t t = ctx->now + 3;
    duro_error err = {0};

    /* a work item is visible at once at every now_ms; an abandon without delay keeps it so,
     * even for a caller whose clock reads earlier than the abandon's */
    ck_assert_int_eq(ctx->p->ops->abandon_work(ctx->p, t, w->lock_token, 0, 0, &err), 0);
    duro_work_item_free(work_te_at(ctx, t - 5, 2));
    duro_work_item_free(w);
}

static void abandon_delay_max_hides_to_end_of_clock(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_te(ctx, DURO_CT_LOCK_MS);
    duro_work_item *w = locked_te_work(ctx, DURO_CT_LOCK_MS);
    duro_error err = {0};

    ck_assert_int_eq(ctx->p->ops->abandon_orch(ctx->p, ctx->now, item->lock_token, INT64_MAX, 0,
                                               &err), 0);
    ck_assert_int_eq(ctx->p->ops->abandon_work(ctx->p, ctx->now, w->lock_token, INT64_MAX, 0,
                                               &err), 0);
    orch_none_at(ctx, ctx->now + DURO_CT_LOCK_MS);
    work_none_at(ctx, ctx->now + DURO_CT_LOCK_MS);
    orch_none_at(ctx, TE_LAST);
    work_none_at(ctx, TE_LAST);
    duro_orch_item_free(orch_te_at(ctx, INT64_MAX, 2));
    duro_work_item_free(work_te_at(ctx, INT64_MAX, 2));
    duro_orch_item_free(item);
    duro_work_item_free(w);
}

/* ---- enqueue visible_at_ms --------------------------------------------------------------- */

static void visible_at_not_after_now_is_visible(duro_ct_ctx *ctx)
{
    static const int64_t at[] = {INT64_MIN, -1, 0, 1};
    static const char *const payload[] = {"min", "minus-one", "zero", "one"};

    put(ctx, "te", DURO_MSG_START, "start:te", ctx->now);
    for (size_t i = 0; i < N_OF(at); i++)
        put(ctx, "te", DURO_MSG_EVENT, payload[i], at[i]);
    put(ctx, "te", DURO_MSG_EVENT, "now", ctx->now);

    duro_orch_item *item = orch_at(ctx, ctx->now, TE_LOCK_MS);
    ck_assert_ptr_nonnull(item);
    ck_assert_uint_eq(item->n_msgs, 6);
    for (size_t i = 0; i < N_OF(at); i++)
        ck_assert_str_eq(item->msgs[i + 1].payload, payload[i]);
    ck_assert_str_eq(item->msgs[5].payload, "now");
    duro_orch_item_free(item);
}

static void visible_at_one_ms_ahead_hidden_until_then(duro_ct_ctx *ctx)
{
    put(ctx, "te", DURO_MSG_START, "start:te", ctx->now + 1);
    orch_none_at(ctx, ctx->now);
    duro_orch_item_free(orch_te_at(ctx, ctx->now + 1, 1));
}

static void visible_at_max_hidden_to_end_of_clock(duro_ct_ctx *ctx)
{
    put(ctx, "te", DURO_MSG_START, "start:te", INT64_MAX);
    orch_none_at(ctx, ctx->now);
    orch_none_at(ctx, TE_LAST);
    duro_orch_item_free(orch_te_at(ctx, INT64_MAX, 1));
}

static void ack_timer_at_max_hidden_to_end_of_clock(duro_ct_ctx *ctx)
{
    duro_msg timer = {.instance = "te", .kind = DURO_MSG_TIMER_FIRED, .execution_id = 1,
                      .visible_at_ms = INT64_MAX, .payload = "timer"};
    duro_orch_commit c = ct_commit(1, NULL, 0);
    duro_error err = {0};

    ct_create_instance(ctx, "te");
    duro_orch_item *item = ct_poke(ctx, "te");
    c.msgs = &timer;
    c.n_msgs = 1;
    ck_assert_int_eq(ct_ack_rc(ctx, item->lock_token, &c, &err), 0);
    duro_orch_item_free(item);
    orch_none_at(ctx, ctx->now);
    orch_none_at(ctx, TE_LAST);
    item = orch_te_at(ctx, INT64_MAX, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_TIMER_FIRED);
    ck_assert_str_eq(item->msgs[0].payload, "timer");
    duro_orch_item_free(item);
}

static void depths_count_max_visible_at_as_delayed(duro_ct_ctx *ctx)
{
    put(ctx, "te", DURO_MSG_START, "start:te", INT64_MAX);
    ctx->now = TE_LAST;
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 0, 1);
    ctx->now = INT64_MAX;
    DURO_CT_ASSERT_DEPTHS(ctx, 1, 0, 0);
}

static void msg_execution_id_zero_stored_verbatim(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_msg ev = {.instance = "te", .kind = DURO_MSG_EVENT, .execution_id = 0,
                   .visible_at_ms = ctx->now, .payload = "ev"};

    ct_enqueue_start(ctx, "te");
    ck_assert_int_eq(ctx->p->ops->enqueue_orch(ctx->p, &ev, &err), 0);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_uint_eq(item->n_msgs, 2);
    ck_assert_uint_eq(item->msgs[0].execution_id, 1);
    ck_assert_uint_eq(item->msgs[1].execution_id, 0);
    duro_orch_item_free(item);
}

/* ---- now_ms ------------------------------------------------------------------------------ */

/* A full cycle at clock `t0`: START visible at t0, locked at t0 for 10 ms (held at t0 + 9,
 * expired at t0 + 10), the refetch acked at t0 + 10 creates the instance at that time; a
 * work item fetched at t0 expires at t0 + 10. */
static void cycle_at(duro_ct_ctx *ctx, int64_t t0)
{
    duro_instance_info info;

    ctx->now = t0;
    duro_orch_item *item = locked_te(ctx, TE_LOCK_MS);
    duro_work_item *w = locked_te_work(ctx, TE_LOCK_MS);
    orch_none_at(ctx, t0 + TE_LOCK_MS - 1);
    work_none_at(ctx, t0 + TE_LOCK_MS - 1);
    duro_orch_item_free(item);
    ack_te_at(ctx, orch_te_at(ctx, t0 + TE_LOCK_MS, 2), t0 + TE_LOCK_MS);
    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, "te", &info, NULL), 0);
    ck_assert_int_eq(info.created_at_ms, t0 + TE_LOCK_MS);
    ck_assert_int_eq(info.updated_at_ms, t0 + TE_LOCK_MS);
    duro_instance_info_clear(&info);
    duro_work_item_free(w);
    ack_work_at(ctx, work_te_at(ctx, t0 + TE_LOCK_MS, 2), t0 + TE_LOCK_MS);
}

static void now_zero_is_an_ordinary_time(duro_ct_ctx *ctx)
{
    cycle_at(ctx, 0);
}

static void now_negative_is_an_ordinary_time(duro_ct_ctx *ctx)
{
    cycle_at(ctx, -5000);
    /* plain comparison: a message visible at 0 is not yet visible before 0 */
    put(ctx, "te", DURO_MSG_EVENT, "at-zero", 0);
    orch_none_at(ctx, -1);
    duro_orch_item *item = orch_te_at(ctx, 0, 1);
    ck_assert_str_eq(item->msgs[0].payload, "at-zero");
    duro_orch_item_free(item);
}

static void now_min_is_an_ordinary_time(duro_ct_ctx *ctx)
{
    ctx->now = INT64_MIN;
    duro_orch_item *item = locked_te(ctx, 1);
    duro_work_item *w = locked_te_work(ctx, 1);
    orch_none_at(ctx, INT64_MIN);
    work_none_at(ctx, INT64_MIN);
    duro_orch_item_free(orch_te_at(ctx, INT64_MIN + 1, 2));
    duro_work_item_free(work_te_at(ctx, INT64_MIN + 1, 2));
    duro_orch_item_free(item);
    duro_work_item_free(w);
}

static void now_max_is_past_every_deadline(duro_ct_ctx *ctx)
{
    duro_orch_item *held = locked_te(ctx, INT64_MAX);
    duro_work_item *w = locked_te_work(ctx, INT64_MAX);

    orch_none_at(ctx, TE_LAST);
    work_none_at(ctx, TE_LAST);
    duro_orch_item *first = orch_at(ctx, INT64_MAX, DURO_CT_LOCK_MS);
    duro_orch_item *second = orch_at(ctx, INT64_MAX, DURO_CT_LOCK_MS);
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_nonnull(second);
    ck_assert_str_eq(first->instance, "te");
    ck_assert_uint_eq(first->attempt, 2);
    ck_assert_str_eq(second->instance, "te");
    ck_assert_uint_eq(second->attempt, 3); /* a lock taken at INT64_MAX is already expired */
    duro_work_item_free(work_te_at(ctx, INT64_MAX, 2));
    duro_orch_item_free(first);
    duro_orch_item_free(second);
    duro_orch_item_free(held);
    duro_work_item_free(w);
}

/* ---- fetch poll_ms ----------------------------------------------------------------------- */

static void fetch_poll_negative_does_not_wait(duro_ct_ctx *ctx)
{
    for (size_t i = 0; i < N_OF(negative); i++) {
        duro_error err = {0};
        duro_orch_item *item = NULL;
        duro_work_item *w = NULL;
        int64_t t0 = mono_us();
        int rc = ctx->p->ops->fetch_orch(ctx->p, ctx->now, TE_LOCK_MS, negative[i], &item, &err);
        int rw = ctx->p->ops->fetch_work(ctx->p, ctx->now, TE_LOCK_MS, negative[i], &w, &err);
        int64_t elapsed = mono_us() - t0;

        ck_assert_int_eq(rc, DURO_ENOTFOUND);
        ck_assert_int_eq(rw, DURO_ENOTFOUND);
        ck_assert_ptr_null(item);
        ck_assert_ptr_null(w);
        ck_assert_int_lt(elapsed, TE_AT_ONCE_US);
    }
    ct_enqueue_start(ctx, "te");
    ct_enqueue_work(ctx, "te", 1, "w1");
    duro_error err = {0};
    duro_orch_item *item = NULL;
    duro_work_item *w = NULL;
    ck_assert_int_eq(ctx->p->ops->fetch_orch(ctx->p, ctx->now, TE_LOCK_MS, -1, &item, &err), 0);
    ck_assert_int_eq(ctx->p->ops->fetch_work(ctx->p, ctx->now, TE_LOCK_MS, INT64_MIN, &w, &err),
                     0);
    ck_assert_str_eq(item->instance, "te");
    ck_assert_str_eq(w->instance, "te");
    duro_orch_item_free(item);
    duro_work_item_free(w);
}

static void fetch_orch_poll_one_returns_message_due_at_its_end(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_orch_item *item = NULL;

    put(ctx, "te", DURO_MSG_START, "start:te", ctx->now + 1);
    int64_t t0 = mono_us();
    int rc = ctx->p->ops->fetch_orch(ctx->p, ctx->now, TE_LOCK_MS, 1, &item, &err);
    int64_t elapsed = mono_us() - t0;

    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->instance, "te");
    duro_orch_item_free(item);
    ck_assert_int_ge(elapsed, 1000);
    ck_assert_int_lt(elapsed, TE_AT_ONCE_US);
}

static void fetch_work_poll_one_returns_item_due_at_its_end(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_work_item *w = locked_te_work(ctx, DURO_CT_LOCK_MS);

    ck_assert_int_eq(ctx->p->ops->abandon_work(ctx->p, ctx->now, w->lock_token, 1, 0, &err), 0);
    duro_work_item_free(w);
    w = NULL;
    int64_t t0 = mono_us();
    int rc = ctx->p->ops->fetch_work(ctx->p, ctx->now, TE_LOCK_MS, 1, &w, &err);
    int64_t elapsed = mono_us() - t0;

    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(w->attempt, 2);
    duro_work_item_free(w);
    ck_assert_int_ge(elapsed, 1000);
    ck_assert_int_lt(elapsed, TE_AT_ONCE_US);
}

/* A thread blocked in fetch_orch, fetch_work or wait_commit with `timeout`; it must not
 * call ck_assert (results are read after joining). */
typedef enum te_call { TE_FETCH_ORCH, TE_FETCH_WORK, TE_WAIT_COMMIT } te_call;

typedef struct te_waiter {
    duro_ct_ctx *ctx;
    ct_barrier *start;
    te_call call;
    int64_t timeout;
    uint64_t seq;
    int rc;
    duro_orch_item *item;
    duro_work_item *work;
    int64_t elapsed_us;
    pthread_t thread;
} te_waiter;

static void *te_wait(void *arg)
{
    te_waiter *w = arg;
    duro_provider *p = w->ctx->p;
    duro_error err = {0};

    ct_barrier_wait(w->start);
    int64_t t0 = mono_us();
    if (w->call == TE_FETCH_ORCH)
        w->rc = p->ops->fetch_orch(p, w->ctx->now, TE_LOCK_MS, w->timeout, &w->item, &err);
    else if (w->call == TE_FETCH_WORK)
        w->rc = p->ops->fetch_work(p, w->ctx->now, TE_LOCK_MS, w->timeout, &w->work, &err);
    else
        w->rc = p->ops->wait_commit(p, w->seq, w->timeout);
    w->elapsed_us = mono_us() - t0;
    return NULL;
}

/* Run `call` with `timeout` in a thread; TE_ARRIVAL_MS after the barrier the case thread
 * enqueues a START of "te" (fetch_orch, wait_commit) or a work item (fetch_work); the waiter
 * must have been waiting for it. */
static void woken_after_arrival(duro_ct_ctx *ctx, te_call call, int64_t timeout)
{
    ct_barrier *start = ct_barrier_new(2);
    te_waiter w = {.ctx = ctx, .start = start, .call = call, .timeout = timeout};

    ck_assert_ptr_nonnull(start);
    if (call == TE_WAIT_COMMIT)
        w.seq = ctx->p->ops->commit_seq(ctx->p);
    ck_assert_int_eq(pthread_create(&w.thread, NULL, te_wait, &w), 0);
    ct_barrier_wait(start);
    sleep_ms(TE_ARRIVAL_MS);
    if (call == TE_FETCH_WORK)
        ct_enqueue_work(ctx, "te", 1, "w1");
    else
        ct_enqueue_start(ctx, "te");
    ck_assert_int_eq(pthread_join(w.thread, NULL), 0);
    ct_barrier_free(start);

    ck_assert_int_eq(w.rc, 0);
    if (call == TE_FETCH_ORCH) {
        ck_assert_ptr_nonnull(w.item);
        ck_assert_str_eq(w.item->instance, "te");
    }
    if (call == TE_FETCH_WORK) {
        ck_assert_ptr_nonnull(w.work);
        ck_assert_str_eq(w.work->instance, "te");
    }
    if (w.item != NULL) /* its lock, taken at now plus the wait, is live at now */
        ack_te_at(ctx, w.item, ctx->now);
    duro_work_item_free(w.work);
    ck_assert_int_lt(w.elapsed_us, TE_PROMPT_US);
}

static void fetch_poll_max_waits_for_work(duro_ct_ctx *ctx)
{
    woken_after_arrival(ctx, TE_FETCH_ORCH, INT64_MAX);
    woken_after_arrival(ctx, TE_FETCH_WORK, INT64_MAX);
}

/* ---- wait_commit timeout ----------------------------------------------------------------- */

static void wait_commit_timeout_zero_returns_at_once(duro_ct_ctx *ctx)
{
    uint64_t seq = ctx->p->ops->commit_seq(ctx->p);
    int64_t t0 = mono_us();
    int rc = ctx->p->ops->wait_commit(ctx->p, seq, 0);
    int64_t elapsed = mono_us() - t0;

    ck_assert_int_eq(rc, DURO_ETIMEDOUT);
    ck_assert_int_lt(elapsed, TE_AT_ONCE_US);
    ct_enqueue_start(ctx, "te");
    t0 = mono_us();
    rc = ctx->p->ops->wait_commit(ctx->p, seq, 0);
    elapsed = mono_us() - t0;
    ck_assert_int_eq(rc, 0);
    ck_assert_int_lt(elapsed, TE_AT_ONCE_US);
}

static void wait_commit_timeout_one_ms_not_early(duro_ct_ctx *ctx)
{
    uint64_t seq = ctx->p->ops->commit_seq(ctx->p);

    for (int i = 0; i < 5; i++) {
        int64_t t0 = mono_us();
        int rc = ctx->p->ops->wait_commit(ctx->p, seq, 1);
        int64_t elapsed = mono_us() - t0;

        ck_assert_int_eq(rc, DURO_ETIMEDOUT);
        ck_assert_int_ge(elapsed, 1000);
        ck_assert_int_lt(elapsed, TE_AT_ONCE_US);
    }
}

static void wait_commit_negative_or_max_waits_without_limit(duro_ct_ctx *ctx)
{
    static const int64_t timeouts[] = {-1, INT64_MIN, INT64_MAX};

    for (size_t i = 0; i < N_OF(timeouts); i++)
        woken_after_arrival(ctx, TE_WAIT_COMMIT, timeouts[i]);
}

/* ---- Registry ---------------------------------------------------------------------------- */

#define LP DURO_CAP_LONG_POLL
#define NOTIFY DURO_CAP_NOTIFY
#define MGMT DURO_CAP_MANAGEMENT

DURO_CASES = {
    DURO_CASE(fetch_lock_ms_not_positive_rejected, 0, 0,
              "fetch_orch and fetch_work with lock_ms 0, -1 or INT64_MIN fail with DURO_EINVAL "
              "(not retryable) and lock nothing: the next fetch gets attempt 1."),
    DURO_CASE(orch_lock_ms_one_expires_next_ms, 0, 0,
              "An orchestration lock of 1 ms taken at T is held at T and expired at T + 1."),
    DURO_CASE(work_lock_ms_one_expires_next_ms, 0, 0,
              "A work lock of 1 ms taken at T is held at T and expired at T + 1."),
    DURO_CASE(orch_lock_ms_max_held_to_end_of_clock, 0, 0,
              "An orchestration lock of INT64_MAX ms does not overflow: it is held at "
              "INT64_MAX - 1, where its token still acks."),
    DURO_CASE(work_lock_ms_max_held_to_end_of_clock, 0, 0,
              "A work lock of INT64_MAX ms does not overflow: it is held at INT64_MAX - 1, where "
              "its token still acks."),
    DURO_CASE(renew_extend_not_positive_rejected, 0, 0,
              "renew_orch and renew_work with extend 0, -1 or INT64_MIN fail with DURO_EINVAL "
              "(not retryable) and leave the lock to expire at its original time."),
    DURO_CASE(renew_extend_one_holds_only_that_ms, 0, 0,
              "A renew at t with extend 1 (orchestration and work) holds the lock at t and frees "
              "it at t + 1, even though the lock had longer to run."),
    DURO_CASE(renew_extend_max_held_to_end_of_clock, 0, 0,
              "A renew with extend INT64_MAX (orchestration and work) does not overflow: the "
              "lock is held at INT64_MAX - 1, where its token still acks."),
    DURO_CASE(abandon_negative_delay_rejected, 0, 0,
              "abandon_orch and abandon_work with delay -1 or INT64_MIN fail with DURO_EINVAL "
              "(not retryable) and release nothing: the token still acks."),
    DURO_CASE(abandon_delay_one_hides_one_ms, 0, 0,
              "An abandon at t with delay 1 (orchestration and work) hides the item at t and "
              "shows it at t + 1 with attempt 2."),
    DURO_CASE(abandon_work_delay_zero_keeps_it_visible_at_every_time, 0, 0,
              "abandon_work with delay 0 leaves the item visible at every now_ms, also to a "
              "caller whose clock reads 5 ms earlier than the abandon's."),
    DURO_CASE(abandon_delay_max_hides_to_end_of_clock, 0, 0,
              "An abandon with delay INT64_MAX (orchestration and work) hides the item at every "
              "time up to INT64_MAX - 1 and shows it at INT64_MAX."),
    DURO_CASE(visible_at_not_after_now_is_visible, 0, 0,
              "Messages with visible_at INT64_MIN, -1, 0, 1 and now are all visible at now, in "
              "one batch in id order."),
    DURO_CASE(visible_at_one_ms_ahead_hidden_until_then, 0, 0,
              "A message visible at now + 1 is not fetchable at now and is at now + 1."),
    DURO_CASE(visible_at_max_hidden_to_end_of_clock, 0, 0,
              "A START visible at INT64_MAX is not fetchable at INT64_MAX - 1 and is at "
              "INT64_MAX."),
    DURO_CASE(ack_timer_at_max_hidden_to_end_of_clock, 0, 0,
              "A timer sent by an ack with visible_at INT64_MAX is not fetchable at "
              "INT64_MAX - 1 and is at INT64_MAX."),
    DURO_CASE(depths_count_max_visible_at_as_delayed, MGMT, 0,
              "queue_depths counts a message visible at INT64_MAX as delayed at INT64_MAX - 1 "
              "and as queued at INT64_MAX."),
    DURO_CASE(msg_execution_id_zero_stored_verbatim, 0, 0,
              "A message with execution id 0 is fetched with execution id 0 (stored verbatim)."),
    DURO_CASE(now_zero_is_an_ordinary_time, 0, 0,
              "At now 0 a lock of 10 ms is held at 9 and expired at 10 (both queues), and an ack "
              "at 10 creates the instance with created_at 10."),
    DURO_CASE(now_negative_is_an_ordinary_time, 0, 0,
              "Negative times compare as integers: a lock taken at -5000 for 10 ms is held at "
              "-4991 and expired at -4990, created_at is -4990, and visible_at 0 is hidden at -1."),
    DURO_CASE(now_min_is_an_ordinary_time, 0, 0,
              "A lock of 1 ms taken at INT64_MIN (both queues) is held at INT64_MIN and expired "
              "at INT64_MIN + 1."),
    DURO_CASE(now_max_is_past_every_deadline, 0, 0,
              "At INT64_MAX every deadline has passed: locks of INT64_MAX ms taken earlier are "
              "expired (both queues), and a lock taken at INT64_MAX is already expired (the "
              "next fetch at INT64_MAX gets attempt 3)."),
    DURO_CASE(fetch_poll_negative_does_not_wait, 0, 0,
              "fetch_orch and fetch_work with poll -1 or INT64_MIN do not wait (DURO_ENOTFOUND "
              "within 50 ms on an empty store) and fetch what is there."),
    DURO_CASE(fetch_orch_poll_one_returns_message_due_at_its_end, LP, 0,
              "fetch_orch with poll 1 returns a message visible at now + 1, no sooner than "
              "1000 us after the call."),
    DURO_CASE(fetch_work_poll_one_returns_item_due_at_its_end, LP, 0,
              "fetch_work with poll 1 returns an item abandoned with delay 1, no sooner than "
              "1000 us after the call."),
    DURO_CASE(fetch_poll_max_waits_for_work, LP, 0,
              "fetch_orch and fetch_work with poll INT64_MAX do not overflow: each waits and "
              "returns the item another thread enqueues 20 ms later."),
    DURO_CASE(wait_commit_timeout_zero_returns_at_once, NOTIFY, 0,
              "wait_commit with timeout 0 returns DURO_ETIMEDOUT at once, and 0 at once when the "
              "sequence has passed."),
    DURO_CASE(wait_commit_timeout_one_ms_not_early, NOTIFY, 0,
              "wait_commit with timeout 1 returns DURO_ETIMEDOUT no sooner than 1000 us and "
              "within 50 ms."),
    DURO_CASE(wait_commit_negative_or_max_waits_without_limit, NOTIFY, 0,
              "wait_commit with timeout -1, INT64_MIN or INT64_MAX waits for the commit another "
              "thread makes 20 ms later and returns 0."),
    DURO_CASES_END,
};
