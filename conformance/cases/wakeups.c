/*
 * wakeups.c — conformance cases for long-polling fetches in real time (DURO_CAP_LONG_POLL):
 * nothing is delivered before its time, measured in microseconds, and a sleeping fetcher is
 * woken within the bound of "Wake-ups" in duro-provider.h (25 ms) by each path that makes an
 * item fetchable.
 *
 * Visibility: a fetch called when the caller's clock reads now_ms (ctx->now) must not return
 * a message visible at now_ms + D, an item abandoned with delay D, or an instance whose lock
 * expires at now_ms + D before D ms of real time have passed since the call, to the
 * microsecond (a provider may round the time it waited down, never up), and must return it
 * within WK_BOUND_US after that, plus the time a fetch of an available item takes the provider
 * at that moment (measured right after, with a probe instance; near zero for SQLite).
 *
 * Wake-ups: a fetcher thread and the case thread pass a barrier; the fetcher calls fetch
 * with a long poll while the case thread makes an item fetchable (abandon, ack_orch sending
 * a message, ack_orch scheduling work, ack_orch releasing an instance that has arrivals,
 * ack_work completing, enqueue). Nothing sleeps to synchronise: whichever comes first, the
 * fetch must return the item within WK_BOUND_US of the waking call's return (plus the
 * fetch's own time). Each case runs WK_ROUNDS rounds so that in most of them the fetcher is
 * already asleep in its poll when the call comes (that sleep is what is measured); at most
 * WK_LATE_ALLOWED of them may be late. Under valgrind (DURO_UNDER_VALGRIND) the
 * upper bounds are relaxed, the lower bounds are not.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suite.h"

#define DURO_CATEGORY wakeups

/* The contract's wake-up bound (duro-provider.h, "Wake-ups"). */
#define WK_BOUND_US (INT64_C(25000) * wk_slow())
/* Poll time of a fetcher that must be woken long before it runs out. */
#define WK_POLL_MS 2000
/* Rounds of each wake-up case, and how many may miss the bound: a loaded machine can stall
 * a thread for longer than the bound once, while a missing wake-up misses it every round. */
#define WK_ROUNDS 6
#define WK_LATE_ALLOWED 1
/* When two items arrive for two sleeping fetchers, counted from their barrier. */
#define WK_ARRIVAL_MS 20
/* Lock time of the items the case thread holds. */
#define WK_LOCK_MS INT64_C(30000)

/* ---- Helpers --------------------------------------------------------------------------- */

static int64_t wk_slow(void)
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

/* A thread blocked in fetch_orch (work = 0) or fetch_work (work = 1). It never calls
 * ck_assert; results are read after joining. */
typedef struct wk_fetcher {
    duro_ct_ctx *ctx;
    ct_barrier *start;
    int work;
    int rc;
    duro_orch_item *item;
    duro_work_item *witem;
    int64_t returned_us;
    pthread_t thread;
} wk_fetcher;

static void *wk_fetch(void *arg)
{
    wk_fetcher *f = arg;
    duro_provider *p = f->ctx->p;
    duro_error err = {0};

    ct_barrier_wait(f->start);
    if (f->work)
        f->rc = p->ops->fetch_work(p, f->ctx->now, WK_LOCK_MS, WK_POLL_MS, &f->witem, &err);
    else
        f->rc = p->ops->fetch_orch(p, f->ctx->now, WK_LOCK_MS, WK_POLL_MS, &f->item, &err);
    f->returned_us = mono_us();
    return NULL;
}

/* Start a fetcher; it calls fetch when the case thread reaches `start`. */
static void wk_start(wk_fetcher *f, duro_ct_ctx *ctx, ct_barrier *start, int work)
{
    memset(f, 0, sizeof *f);
    f->ctx = ctx;
    f->start = start;
    f->work = work;
    ck_assert_int_eq(pthread_create(&f->thread, NULL, wk_fetch, f), 0);
}

static void ack_drain(duro_ct_ctx *ctx, duro_orch_item *item);

/* The real time in us a poll-0 fetch of an available item (work = 0: an orchestration
 * item, 1: a work item) takes now: the provider's own cost of a fetch, which the contract
 * allows on top of the wake-up bound. Uses, and drains, a probe instance of its own. */
static int64_t fetch_cost_us(duro_ct_ctx *ctx, int work)
{
    static unsigned probes;
    char id[32];
    int64_t t0, cost;

    snprintf(id, sizeof id, "wk-probe-%u", probes++);
    if (work) {
        duro_error err = {0};
        ct_enqueue_work(ctx, id, 1, "probe");
        t0 = mono_us();
        duro_work_item *w = ct_try_fetch_work(ctx);
        cost = mono_us() - t0;
        ck_assert_ptr_nonnull(w);
        ck_assert_str_eq(w->instance, id);
        ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, NULL, &err), 0);
        duro_work_item_free(w);
    } else {
        ct_enqueue_start(ctx, id);
        t0 = mono_us();
        duro_orch_item *item = ct_fetch(ctx);
        cost = mono_us() - t0;
        ck_assert_str_eq(item->instance, id);
        ack_drain(ctx, item);
    }
    return cost;
}

/* Join `f` and assert it returned an item. */
static void wk_wait(wk_fetcher *f)
{
    ck_assert_int_eq(pthread_join(f->thread, NULL), 0);
    ck_assert_int_eq(f->rc, 0);
    ck_assert(f->work ? f->witem != NULL : f->item != NULL);
}

/* 1 when joined fetcher `f` returned later than the bound after `woke_us`, when the waking
 * call returned: 25 ms plus `cost_us`, the provider's fetch cost; the latency is printed
 * into `late` then. */
static int wk_late(const wk_fetcher *f, int64_t woke_us, int64_t cost_us, char *late,
                   size_t size)
{
    int64_t bound = WK_BOUND_US + cost_us;

    if (f->returned_us - woke_us < bound)
        return 0;
    snprintf(late, size, "%lld us after the waking call (bound %lld us)",
             (long long)(f->returned_us - woke_us), (long long)bound);
    return 1;
}

/* Join `f`, assert it returned an item, and return 1 when that was late (wk_late, with the
 * fetch cost measured right after). */
static int wk_join(wk_fetcher *f, int64_t woke_us, char *late, size_t size)
{
    wk_wait(f);
    return wk_late(f, woke_us, fetch_cost_us(f->ctx, f->work), late, size);
}

/* A fetch at ctx->now with a long poll in the case thread: returns the orchestration item
 * (work = 0) or work item (work = 1) and the real time in us from the call to its return. */
static int64_t timed_fetch(duro_ct_ctx *ctx, int work, duro_orch_item **item,
                           duro_work_item **w)
{
    duro_error err = {0};
    int64_t t0 = mono_us();
    int rc = work ? ctx->p->ops->fetch_work(ctx->p, ctx->now, WK_LOCK_MS, WK_POLL_MS, w, &err)
                  : ctx->p->ops->fetch_orch(ctx->p, ctx->now, WK_LOCK_MS, WK_POLL_MS, item,
                                            &err);
    int64_t elapsed = mono_us() - t0;

    ck_assert_msg(rc == 0, "fetch: %s (%s)", duro_strerror(rc), err.message);
    return elapsed;
}

/* The item under test came after `delay_ms`, not one microsecond sooner, within the bound
 * (plus the provider's fetch cost of `work`'s queue, measured right after). */
static void assert_on_time(duro_ct_ctx *ctx, int work, int64_t elapsed_us, int64_t delay_ms)
{
    ck_assert_msg(elapsed_us >= delay_ms * 1000,
                  "delivered %lld us after the call, before its time (%lld ms)",
                  (long long)elapsed_us, (long long)delay_ms);
    int64_t bound = delay_ms * 1000 + WK_BOUND_US + fetch_cost_us(ctx, work);
    ck_assert_msg(elapsed_us < bound,
                  "delivered %lld us after the call, its time was %lld ms (bound %lld us)",
                  (long long)elapsed_us, (long long)delay_ms, (long long)bound);
}

/* The case thread's own fetch of `instance`'s visible messages (poll 0). */
static duro_orch_item *lock_instance(duro_ct_ctx *ctx, const char *instance)
{
    duro_orch_item *item = ct_fetch(ctx);

    ck_assert_str_eq(item->instance, instance);
    return item;
}

static void ack_drain(duro_ct_ctx *ctx, duro_orch_item *item)
{
    duro_orch_commit c = ct_commit(1, NULL, 0);

    ct_ack(ctx, item, &c);
}

/* ---- Never early ------------------------------------------------------------------------- */

static const int64_t delays_ms[] = {1, 2, 13};
#define N_DELAYS (sizeof(delays_ms) / sizeof(delays_ms[0]))

static void delayed_message_never_delivered_early(duro_ct_ctx *ctx)
{
    for (size_t i = 0; i < N_DELAYS; i++) {
        char id[16];
        duro_orch_item *item = NULL;

        snprintf(id, sizeof id, "wk-%zu", i);
        duro_msg m = {.instance = id, .kind = DURO_MSG_START, .execution_id = 1,
                      .visible_at_ms = ctx->now + delays_ms[i], .payload = "start"};
        duro_error err = {0};
        ck_assert_int_eq(ctx->p->ops->enqueue_orch(ctx->p, &m, &err), 0);
        int64_t elapsed = timed_fetch(ctx, 0, &item, NULL);
        ck_assert_str_eq(item->instance, id);
        duro_orch_item_free(item);
        assert_on_time(ctx, 0, elapsed, delays_ms[i]);
    }
}

static void orch_abandon_delay_never_ends_early(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "wk");
    for (size_t i = 0; i < N_DELAYS; i++) {
        duro_orch_item *item = NULL;

        ct_enqueue(ctx, "wk", DURO_MSG_EVENT, "ev", 0);
        ct_abandon(ctx, lock_instance(ctx, "wk"), delays_ms[i], 0);
        int64_t elapsed = timed_fetch(ctx, 0, &item, NULL);
        ck_assert_str_eq(item->instance, "wk");
        ck_assert_uint_eq(item->attempt, 2);
        assert_on_time(ctx, 0, elapsed, delays_ms[i]);
        ack_drain(ctx, item); /* its lock, taken later than ctx->now, is live at ctx->now */
    }
}

static void work_abandon_delay_never_ends_early(duro_ct_ctx *ctx)
{
    for (size_t i = 0; i < N_DELAYS; i++) {
        duro_work_item *w = NULL;
        duro_error err = {0};

        ct_enqueue_work(ctx, "wk", i + 1, "w");
        duro_work_item *first = ct_try_fetch_work(ctx);
        ck_assert_ptr_nonnull(first);
        ct_abandon_work(ctx, first, delays_ms[i], 0);
        int64_t elapsed = timed_fetch(ctx, 1, NULL, &w);
        ck_assert_uint_eq(w->activity_id, i + 1);
        ck_assert_uint_eq(w->attempt, 2);
        assert_on_time(ctx, 1, elapsed, delays_ms[i]);
        ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, NULL, &err), 0);
        duro_work_item_free(w);
    }
}

static void orch_lock_expiry_never_early(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "wk");
    for (size_t i = 0; i < N_DELAYS; i++) {
        duro_orch_item *item = NULL;
        duro_orch_item *held = NULL;
        duro_error err = {0};

        ct_enqueue(ctx, "wk", DURO_MSG_EVENT, "ev", 0);
        ck_assert_int_eq(ctx->p->ops->fetch_orch(ctx->p, ctx->now, delays_ms[i], 0, &held,
                                                 &err), 0);
        ck_assert_str_eq(held->instance, "wk");
        int64_t elapsed = timed_fetch(ctx, 0, &item, NULL);
        ck_assert_str_eq(item->instance, "wk");
        ck_assert_uint_eq(item->attempt, 2);
        ck_assert_str_ne(item->lock_token, held->lock_token);
        assert_on_time(ctx, 0, elapsed, delays_ms[i]);
        duro_orch_item_free(held);
        ack_drain(ctx, item);
    }
}

static void work_lock_expiry_never_early(duro_ct_ctx *ctx)
{
    for (size_t i = 0; i < N_DELAYS; i++) {
        duro_work_item *w = NULL;
        duro_work_item *held = NULL;
        duro_error err = {0};

        ct_enqueue_work(ctx, "wk", i + 1, "w");
        ck_assert_int_eq(ctx->p->ops->fetch_work(ctx->p, ctx->now, delays_ms[i], 0, &held,
                                                 &err), 0);
        int64_t elapsed = timed_fetch(ctx, 1, NULL, &w);
        ck_assert_int_eq(w->id, held->id);
        ck_assert_uint_eq(w->attempt, 2);
        assert_on_time(ctx, 1, elapsed, delays_ms[i]);
        ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, NULL, &err), 0);
        duro_work_item_free(w);
        duro_work_item_free(held);
    }
}

/* ---- Woken by a call --------------------------------------------------------------------- */

/* What the case thread does to wake the fetcher, and what the fetcher must then get. */
typedef enum wk_path {
    WK_ABANDON_ORCH,    /* abandon (delay 0) of the instance the case thread holds */
    WK_ABANDON_WORK,    /* abandon_work (delay 0) of the item the case thread holds */
    WK_ACK_SENDS_MSG,   /* ack_orch of one instance sending a message to another */
    WK_ACK_SENDS_WORK,  /* ack_orch scheduling a work item */
    WK_ACK_RELEASES,    /* ack_orch of an instance that got a message during the turn */
    WK_ACK_WORK_DONE,   /* ack_work enqueueing a completion */
    WK_ENQUEUE_ORCH,    /* enqueue_orch */
    WK_ENQUEUE_WORK,    /* enqueue_work */
} wk_path;

typedef struct wk_setup {
    duro_orch_item *item;  /* held by the case thread */
    duro_work_item *work;  /* held by the case thread */
    char instance[16];     /* the instance the fetcher must get */
    char other[16];
} wk_setup;

static void prepare(duro_ct_ctx *ctx, wk_path path, unsigned round, wk_setup *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->instance, sizeof s->instance, "wk-%u", round);
    snprintf(s->other, sizeof s->other, "wk-o%u", round);
    switch (path) {
    case WK_ABANDON_ORCH:
        ct_enqueue_start(ctx, s->instance);
        s->item = lock_instance(ctx, s->instance);
        break;
    case WK_ABANDON_WORK:
        ct_enqueue_work(ctx, s->instance, 1, "w");
        s->work = ct_try_fetch_work(ctx);
        ck_assert_ptr_nonnull(s->work);
        break;
    case WK_ACK_SENDS_MSG:
    case WK_ACK_SENDS_WORK:
        ct_enqueue_start(ctx, s->other);
        s->item = lock_instance(ctx, s->other);
        break;
    case WK_ACK_RELEASES:
        ct_create_instance(ctx, s->instance);
        ct_enqueue(ctx, s->instance, DURO_MSG_EVENT, "turn", 0);
        s->item = lock_instance(ctx, s->instance);
        ct_enqueue(ctx, s->instance, DURO_MSG_EVENT, "arrival", 0);
        break;
    case WK_ACK_WORK_DONE:
        ct_create_instance(ctx, s->instance);
        ct_enqueue_work(ctx, s->instance, 1, "w");
        s->work = ct_try_fetch_work(ctx);
        ck_assert_ptr_nonnull(s->work);
        break;
    case WK_ENQUEUE_ORCH:
    case WK_ENQUEUE_WORK:
        break;
    }
}

/* The waking call; asserts nothing but its success. */
static void wake_call(duro_ct_ctx *ctx, wk_path path, wk_setup *s)
{
    duro_provider *p = ctx->p;
    duro_error err = {0};
    duro_orch_commit c = ct_commit(1, NULL, 0);
    duro_msg msg = {.instance = s->instance, .kind = DURO_MSG_START, .execution_id = 1,
                    .visible_at_ms = 0, .payload = "start"};
    duro_work_in work = {.instance = s->other, .execution_id = 1, .activity_id = 1,
                         .payload = "w"};
    int rc = 0;

    switch (path) {
    case WK_ABANDON_ORCH:
        rc = p->ops->abandon_orch(p, ctx->now, s->item->lock_token, 0, 0, &err);
        break;
    case WK_ABANDON_WORK:
        rc = p->ops->abandon_work(p, ctx->now, s->work->lock_token, 0, 0, &err);
        break;
    case WK_ACK_SENDS_MSG:
        c.msgs = &msg;
        c.n_msgs = 1;
        rc = p->ops->ack_orch(p, ctx->now, s->item->lock_token, &c, &err);
        break;
    case WK_ACK_SENDS_WORK:
        c.work = &work;
        c.n_work = 1;
        rc = p->ops->ack_orch(p, ctx->now, s->item->lock_token, &c, &err);
        break;
    case WK_ACK_RELEASES:
        rc = p->ops->ack_orch(p, ctx->now, s->item->lock_token, &c, &err);
        break;
    case WK_ACK_WORK_DONE:
        msg.kind = DURO_MSG_ACTIVITY_DONE;
        msg.payload = "done";
        rc = p->ops->ack_work(p, ctx->now, s->work->lock_token, &msg, &err);
        break;
    case WK_ENQUEUE_ORCH:
        rc = p->ops->enqueue_orch(p, &msg, &err);
        break;
    case WK_ENQUEUE_WORK:
        work.instance = s->instance;
        rc = p->ops->enqueue_work(p, &work, &err);
        break;
    }
    ck_assert_msg(rc == 0, "waking call failed: %s (%s)", duro_strerror(rc), err.message);
}

/* The fetcher got what `path` made fetchable; release it. */
static void check_got(duro_ct_ctx *ctx, wk_path path, wk_setup *s, wk_fetcher *f)
{
    duro_error err = {0};

    if (f->work) {
        ck_assert_str_eq(f->witem->instance, path == WK_ACK_SENDS_WORK ? s->other : s->instance);
        ck_assert_uint_eq(f->witem->attempt, path == WK_ABANDON_WORK ? 2 : 1);
        ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, f->witem->lock_token, NULL,
                                               &err), 0);
        duro_work_item_free(f->witem);
    } else {
        ck_assert_str_eq(f->item->instance, s->instance);
        ck_assert_uint_eq(f->item->n_msgs, 1);
        ck_assert_uint_eq(f->item->attempt, path == WK_ABANDON_ORCH ? 2 : 1);
        if (path == WK_ACK_RELEASES)
            ck_assert_str_eq(f->item->msgs[0].payload, "arrival");
        if (path == WK_ACK_WORK_DONE)
            ck_assert_int_eq(f->item->msgs[0].kind, DURO_MSG_ACTIVITY_DONE);
        ack_drain(ctx, f->item);
    }
    duro_orch_item_free(s->item);
    duro_work_item_free(s->work);
}

static void woken_by(duro_ct_ctx *ctx, wk_path path)
{
    int work = path == WK_ABANDON_WORK || path == WK_ACK_SENDS_WORK || path == WK_ENQUEUE_WORK;

    char late[WK_ROUNDS][96];
    unsigned n_late = 0;

    for (unsigned r = 0; r < WK_ROUNDS; r++) {
        ct_barrier *start = ct_barrier_new(2);
        wk_fetcher f;
        wk_setup s;

        ck_assert_ptr_nonnull(start);
        prepare(ctx, path, r, &s);
        wk_start(&f, ctx, start, work);
        ct_barrier_wait(start);
        wake_call(ctx, path, &s);
        int64_t woke = mono_us();
        n_late += (unsigned)wk_join(&f, woke, late[n_late], sizeof late[0]);
        ct_barrier_free(start);
        check_got(ctx, path, &s, &f);
    }
    ck_assert_msg(n_late <= WK_LATE_ALLOWED, "%u of %d rounds were woken late; first: fetch "
                  "returned %s", n_late, WK_ROUNDS, late[0]);
}

static void abandon_wakes_sleeping_fetch_orch(duro_ct_ctx *ctx)
{
    woken_by(ctx, WK_ABANDON_ORCH);
}

static void abandon_wakes_sleeping_fetch_work(duro_ct_ctx *ctx)
{
    woken_by(ctx, WK_ABANDON_WORK);
}

static void ack_sending_message_wakes_sleeping_fetch_orch(duro_ct_ctx *ctx)
{
    woken_by(ctx, WK_ACK_SENDS_MSG);
}

static void ack_scheduling_work_wakes_sleeping_fetch_work(duro_ct_ctx *ctx)
{
    woken_by(ctx, WK_ACK_SENDS_WORK);
}

static void ack_releasing_arrivals_wakes_sleeping_fetch_orch(duro_ct_ctx *ctx)
{
    woken_by(ctx, WK_ACK_RELEASES);
}

static void work_completion_wakes_sleeping_fetch_orch(duro_ct_ctx *ctx)
{
    woken_by(ctx, WK_ACK_WORK_DONE);
}

static void enqueue_wakes_sleeping_fetch_orch(duro_ct_ctx *ctx)
{
    woken_by(ctx, WK_ENQUEUE_ORCH);
}

static void enqueue_wakes_sleeping_fetch_work(duro_ct_ctx *ctx)
{
    woken_by(ctx, WK_ENQUEUE_WORK);
}

/* ---- Several at once ---------------------------------------------------------------------- */

/* Two fetchers sleep; one ack makes two items fetchable at once (work = 0: STARTs of two new
 * instances; 1: two work items). Both fetchers must return one of them each, within the
 * bound (the second to return within the bound plus two fetch times: it may be handed on by
 * the first after the first's fetch): a provider that wakes one fetcher per commit must have
 * it wake the next when it sees more to fetch. The ack comes WK_ARRIVAL_MS after the barrier: that delay is the
 * workload (both fetchers asleep in their polls when two items arrive), not a
 * synchronisation device; a fetcher still between its first try and its sleep would see
 * the commit without being woken and hide a missing hand-on. */
static void two_fetchable_wake_two(duro_ct_ctx *ctx, int work)
{
    char late[2 * WK_ROUNDS][96];
    unsigned n_late = 0;

    for (unsigned r = 0; r < WK_ROUNDS; r++) {
        ct_barrier *start = ct_barrier_new(3);
        char src[24], a[24], b[24];
        wk_fetcher f[2];
        duro_error err = {0};

        ck_assert_ptr_nonnull(start);
        snprintf(src, sizeof src, "wk-src%u", r);
        snprintf(a, sizeof a, "wk-a%u", r);
        snprintf(b, sizeof b, "wk-b%u", r);
        ct_enqueue_start(ctx, src);
        duro_orch_item *held = lock_instance(ctx, src);
        const duro_msg starts[] = {
            {.instance = a, .kind = DURO_MSG_START, .execution_id = 1, .payload = "start"},
            {.instance = b, .kind = DURO_MSG_START, .execution_id = 1, .payload = "start"},
        };
        const duro_work_in jobs[] = {{src, 1, 1, "w1"}, {src, 1, 2, "w2"}};
        duro_orch_commit c = ct_commit(1, NULL, 0);
        if (work) {
            c.work = jobs;
            c.n_work = 2;
        } else {
            c.msgs = starts;
            c.n_msgs = 2;
        }
        wk_start(&f[0], ctx, start, work);
        wk_start(&f[1], ctx, start, work);
        ct_barrier_wait(start);
        nanosleep(&(struct timespec){0, WK_ARRIVAL_MS * 1000000L}, NULL);
        ck_assert_int_eq(ctx->p->ops->ack_orch(ctx->p, ctx->now, held->lock_token, &c, &err), 0);
        int64_t woke = mono_us();
        wk_wait(&f[0]);
        wk_wait(&f[1]);
        /* the second to return was handed on by the first, after the first's fetch */
        int second = f[1].returned_us >= f[0].returned_us;
        int64_t cost = fetch_cost_us(ctx, work);
        for (int i = 0; i < 2; i++)
            n_late += (unsigned)wk_late(&f[i], woke, i == second ? 2 * cost : cost,
                                        late[n_late], sizeof late[0]);
        ct_barrier_free(start);
        duro_orch_item_free(held);
        if (work) {
            ck_assert_uint_ne(f[0].witem->activity_id, f[1].witem->activity_id);
            for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, f[i].witem->lock_token,
                                                       NULL, &err), 0);
                duro_work_item_free(f[i].witem);
            }
        } else {
            ck_assert_str_ne(f[0].item->instance, f[1].item->instance);
            ack_drain(ctx, f[0].item);
            ack_drain(ctx, f[1].item);
        }
    }
    ck_assert_msg(n_late <= WK_LATE_ALLOWED, "%u of %d returns were late; first: fetch "
                  "returned %s", n_late, 2 * WK_ROUNDS, late[0]);
}

static void two_starts_wake_two_sleeping_fetch_orch(duro_ct_ctx *ctx)
{
    two_fetchable_wake_two(ctx, 0);
}

static void two_work_items_wake_two_sleeping_fetch_work(duro_ct_ctx *ctx)
{
    two_fetchable_wake_two(ctx, 1);
}

/* ---- Registry ---------------------------------------------------------------------------- */

#define LP DURO_CAP_LONG_POLL

DURO_CASES = {
    DURO_CASE(delayed_message_never_delivered_early, LP, 0,
              "A long-polling fetch_orch returns a message visible at now + D (D = 1, 2, 13 ms) "
              "no sooner than D ms after the call, to the microsecond, and within D + 25 ms."),
    DURO_CASE(orch_abandon_delay_never_ends_early, LP, 0,
              "A long-polling fetch_orch returns a batch abandoned with delay D (1, 2, 13 ms) no "
              "sooner than D ms after the call, to the microsecond, and within D + 25 ms."),
    DURO_CASE(work_abandon_delay_never_ends_early, LP, 0,
              "A long-polling fetch_work returns an item abandoned with delay D (1, 2, 13 ms) no "
              "sooner than D ms after the call, to the microsecond, and within D + 25 ms."),
    DURO_CASE(orch_lock_expiry_never_early, LP, 0,
              "A long-polling fetch_orch gets an instance locked for D ms (1, 2, 13) no sooner "
              "than D ms after the call, to the microsecond, and within D + 25 ms."),
    DURO_CASE(work_lock_expiry_never_early, LP, 0,
              "A long-polling fetch_work gets an item locked for D ms (1, 2, 13) no sooner than "
              "D ms after the call, to the microsecond, and within D + 25 ms."),
    DURO_CASE(abandon_wakes_sleeping_fetch_orch, LP, 0,
              "abandon_orch of a held instance wakes a fetch_orch sleeping in its poll, which "
              "returns the batch within 25 ms (6 rounds)."),
    DURO_CASE(abandon_wakes_sleeping_fetch_work, LP, 0,
              "abandon_work of a held item wakes a fetch_work sleeping in its poll, which "
              "returns the item within 25 ms (6 rounds)."),
    DURO_CASE(ack_sending_message_wakes_sleeping_fetch_orch, LP, 0,
              "An ack_orch that sends a START to another instance wakes a sleeping fetch_orch, "
              "which returns it within 25 ms (6 rounds)."),
    DURO_CASE(ack_scheduling_work_wakes_sleeping_fetch_work, LP, 0,
              "An ack_orch that schedules a work item wakes a sleeping fetch_work, which "
              "returns it within 25 ms (6 rounds)."),
    DURO_CASE(ack_releasing_arrivals_wakes_sleeping_fetch_orch, LP, 0,
              "An ack_orch that releases an instance with a message that arrived during the "
              "turn wakes a sleeping fetch_orch, which returns it within 25 ms (6 rounds)."),
    DURO_CASE(work_completion_wakes_sleeping_fetch_orch, LP, 0,
              "An ack_work whose completion makes an instance fetchable wakes a sleeping "
              "fetch_orch, which returns it within 25 ms (6 rounds)."),
    DURO_CASE(enqueue_wakes_sleeping_fetch_orch, LP, 0,
              "enqueue_orch of a START wakes a sleeping fetch_orch, which returns it within "
              "25 ms (6 rounds)."),
    DURO_CASE(enqueue_wakes_sleeping_fetch_work, LP, 0,
              "enqueue_work wakes a sleeping fetch_work, which returns the item within 25 ms "
              "(6 rounds)."),
    DURO_CASE(two_starts_wake_two_sleeping_fetch_orch, LP, 0,
              "One ack_orch that sends STARTs to two new instances while two fetch_orch sleep "
              "in their polls: each returns one of them within 25 ms (6 rounds)."),
    DURO_CASE(two_work_items_wake_two_sleeping_fetch_work, LP, 0,
              "One ack_orch that schedules two work items while two fetch_work sleep in their "
              "polls: each returns one of them within 25 ms (6 rounds)."),
    DURO_CASES_END,
};
