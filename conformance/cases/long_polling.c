/*
 * long_polling.c — conformance cases for blocking fetches (DURO_CAP_LONG_POLL) and change
 * notification (DURO_CAP_NOTIFY).
 *
 * This is the one category that measures real elapsed time, with CLOCK_MONOTONIC and small
 * timeouts. A long-polling fetch must return at once with poll 0, wait out its poll time on
 * an empty store, and return promptly (well before its 5 s poll time) when work arrives:
 * an enqueue or a worker completion from another thread, or a delayed message whose
 * visible_at passes while it waits (the provider advances the caller's now_ms by the
 * elapsed time). A message that cannot be fetched (an orphan) must not end the wait. The
 * thread that makes work arrive does so LP_ARRIVAL_MS after both threads passed a barrier:
 * that delay is the workload (the arrival time under test), not a synchronisation device.
 * Under valgrind (DURO_UNDER_VALGRIND set) the upper bounds are relaxed; lower bounds and the
 * requirement to be woken before the poll time ends are not.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suite.h"

#define DURO_CATEGORY long_polling

/* Poll time of a waiter that is expected to be woken long before it runs out. */
#define LP_LONG_POLL_MS 5000
/* Poll time of a waiter that is expected to run out. */
#define LP_SHORT_POLL_MS 300
/* When work arrives, counted from the barrier that releases waiter and producer. */
#define LP_ARRIVAL_MS 100
/* A woken waiter must have returned within this many ms of starting to wait. */
#define LP_PROMPT_MS (1000 * lp_slow())
/* "At once": a fetch with poll 0 or a wait whose condition already holds. */
#define LP_AT_ONCE_MS (50 * lp_slow())
/* Most CPU time an idle LP_SHORT_POLL_MS poll may use: a few tries, no busy waiting. */
#define LP_IDLE_CPU_MS (60 * lp_slow())
/* Due time of the message a poll must sleep towards: not a multiple of SQLite's 50 ms
 * re-check, so the last stretch (45 ms) is a wait for the due time itself. */
#define LP_DUE_MS 95
/* Most CPU time that poll may use: its tries take under 1 ms; a spin towards the due time,
 * measured, 14 ms of the 45 (the rest is spent in the kernel's timed waits). */
#define LP_DUE_CPU_MS (6 * lp_slow())
/* Tolerance below a timeout for a provider's millisecond rounding. */
#define LP_ROUNDING_MS 10

/* ---- Helpers --------------------------------------------------------------------------- */

/* Factor for upper time bounds: 4 under valgrind (still below LP_LONG_POLL_MS), else 1. */
static int64_t lp_slow(void)
{
    const char *v = getenv("DURO_UNDER_VALGRIND");

    return v != NULL && *v != '\0' && strcmp(v, "0") != 0 ? 4 : 1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep for `ms` of real time: the arrival delay of the workload. */
static void delay_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

typedef enum lp_call { LP_FETCH_ORCH, LP_FETCH_WORK, LP_WAIT_COMMIT } lp_call;

/* A thread blocked in one provider call; results are read after joining. */
typedef struct lp_waiter {
    duro_ct_ctx *ctx;
    ct_barrier *start;
    lp_call call;
    int64_t timeout_ms;      /* poll_ms, or wait_commit's timeout */
    uint64_t seq;            /* wait_commit's sequence */
    int rc;
    duro_orch_item *item;
    duro_work_item *work;
    int64_t elapsed_ms;
    atomic_int done;
    pthread_t thread;
} lp_waiter;

static void *lp_wait(void *p)
{
    lp_waiter *w = p;
    duro_provider *prov = w->ctx->p;
    duro_error err = {0};

    ct_barrier_wait(w->start);
    int64_t t0 = mono_ms();
    switch (w->call) {
    case LP_FETCH_ORCH:
        w->rc = prov->ops->fetch_orch(prov, w->ctx->now, DURO_CT_LOCK_MS, w->timeout_ms,
                                      &w->item, &err);
        break;
    case LP_FETCH_WORK:
        w->rc = prov->ops->fetch_work(prov, w->ctx->now, DURO_CT_LOCK_MS, w->timeout_ms,
                                      &w->work, &err);
        break;
    case LP_WAIT_COMMIT:
        w->rc = prov->ops->wait_commit(prov, w->seq, w->timeout_ms);
        break;
    }
    w->elapsed_ms = mono_ms() - t0;
    atomic_store(&w->done, 1);
    return NULL;
}

/* Start a waiter making `call` (`seq` is for LP_WAIT_COMMIT); it begins when the case
 * thread reaches the barrier. */
static void lp_start(lp_waiter *w, duro_ct_ctx *ctx, ct_barrier *start, lp_call call,
                     int64_t timeout_ms, uint64_t seq)
{
    memset(w, 0, sizeof *w);
    w->ctx = ctx;
    w->start = start;
    w->call = call;
    w->timeout_ms = timeout_ms;
    w->seq = seq;
    atomic_init(&w->done, 0);
    ck_assert_int_eq(pthread_create(&w->thread, NULL, lp_wait, w), 0);
}

static void lp_join(lp_waiter *w)
{
    ck_assert_int_eq(pthread_join(w->thread, NULL), 0);
}

/* Call fetch_orch (or fetch_work) in the case thread on an empty store and return the
 * elapsed ms; asserts DURO_ENOTFOUND and no item. */
static int64_t timed_empty_fetch(duro_ct_ctx *ctx, int work, int64_t poll_ms)
{
    duro_error err = {0};
    duro_orch_item *item = NULL;
    duro_work_item *w = NULL;
    int64_t t0 = mono_ms();
    int rc = work ? ctx->p->ops->fetch_work(ctx->p, ctx->now, DURO_CT_LOCK_MS, poll_ms, &w, &err)
                  : ctx->p->ops->fetch_orch(ctx->p, ctx->now, DURO_CT_LOCK_MS, poll_ms, &item,
                                            &err);
    int64_t elapsed = mono_ms() - t0;

    ck_assert_int_eq(rc, DURO_ENOTFOUND);
    ck_assert_ptr_null(item);
    ck_assert_ptr_null(w);
    return elapsed;
}

/* ---- Poll time ------------------------------------------------------------------------- */

static void fetch_orch_poll_zero_returns_at_once(duro_ct_ctx *ctx)
{
    int64_t elapsed = timed_empty_fetch(ctx, 0, 0);
    ck_assert_int_lt(elapsed, LP_AT_ONCE_MS);
}

static void fetch_work_poll_zero_returns_at_once(duro_ct_ctx *ctx)
{
    int64_t elapsed = timed_empty_fetch(ctx, 1, 0);
    ck_assert_int_lt(elapsed, LP_AT_ONCE_MS);
}

/* CPU time of the calling thread, in ms. */
static int64_t thread_cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An empty long poll of LP_SHORT_POLL_MS on `work`'s queue waits it out, and sleeps while it
 * waits: the calling thread spends less than LP_IDLE_CPU_MS of it on the CPU. */
static void waits_out_poll_time_asleep(duro_ct_ctx *ctx, int work)
{
    int64_t cpu = thread_cpu_ms();
    int64_t elapsed = timed_empty_fetch(ctx, work, LP_SHORT_POLL_MS);

    cpu = thread_cpu_ms() - cpu;
    ck_assert_int_ge(elapsed, LP_SHORT_POLL_MS - 50);
    ck_assert_int_lt(elapsed, LP_PROMPT_MS);
    ck_assert_msg(cpu < LP_IDLE_CPU_MS, "an idle %d ms poll used %lld ms of CPU (busy waiting?)",
                  LP_SHORT_POLL_MS, (long long)cpu);
}

static void fetch_orch_waits_out_poll_time(duro_ct_ctx *ctx)
{
    waits_out_poll_time_asleep(ctx, 0);
}

static void fetch_work_waits_out_poll_time(duro_ct_ctx *ctx)
{
    waits_out_poll_time_asleep(ctx, 1);
}

/* A fetch_orch long-polling for a message due LP_DUE_MS ahead returns it at its time and
 * sleeps until then: a poll that knows the next due time must not spin towards it. */
static void fetch_orch_sleeps_until_due_message(duro_ct_ctx *ctx)
{
    duro_orch_item *item = NULL;
    duro_error err = {0};
    int64_t cpu, start;
    int rc;

    ct_enqueue(ctx, "a", DURO_MSG_START, "start", LP_DUE_MS);
    cpu = thread_cpu_ms();
    start = mono_ms();
    rc = ctx->p->ops->fetch_orch(ctx->p, ctx->now, DURO_CT_LOCK_MS, LP_SHORT_POLL_MS, &item,
                                 &err);
    start = mono_ms() - start;
    cpu = thread_cpu_ms() - cpu;
    ck_assert_msg(rc == 0, "fetch_orch: %s (%s)", duro_err_name(rc), err.message);
    ck_assert_str_eq(item->instance, "a");
    duro_orch_item_free(item);
    ck_assert_int_ge(start, LP_DUE_MS);
    ck_assert_int_lt(start, LP_PROMPT_MS);
    ck_assert_msg(cpu < LP_DUE_CPU_MS, "a poll waiting %d ms for a due message used %lld ms "
                  "of CPU (busy waiting?)", LP_DUE_MS, (long long)cpu);
}

/* ---- Wake-ups -------------------------------------------------------------------------- */

static void fetch_orch_woken_by_enqueue(duro_ct_ctx *ctx)
{
    ct_barrier *start = ct_barrier_new(2);
    lp_waiter w;

    ck_assert_ptr_nonnull(start);
    lp_start(&w, ctx, start, LP_FETCH_ORCH, LP_LONG_POLL_MS, 0);
    ct_barrier_wait(start);
    delay_ms(LP_ARRIVAL_MS);
    ct_enqueue_start(ctx, "a");
    lp_join(&w);
    ct_barrier_free(start);

    ck_assert_int_eq(w.rc, 0);
    ck_assert_ptr_nonnull(w.item);
    ck_assert_str_eq(w.item->instance, "a");
    ck_assert_uint_eq(w.item->n_msgs, 1);
    ck_assert_int_eq(w.item->msgs[0].kind, DURO_MSG_START);
    duro_orch_item_free(w.item);
    ck_assert_int_lt(w.elapsed_ms, LP_PROMPT_MS);
}

static void fetch_work_woken_by_enqueue(duro_ct_ctx *ctx)
{
    ct_barrier *start = ct_barrier_new(2);
    lp_waiter w;

    ck_assert_ptr_nonnull(start);
    lp_start(&w, ctx, start, LP_FETCH_WORK, LP_LONG_POLL_MS, 0);
    ct_barrier_wait(start);
    delay_ms(LP_ARRIVAL_MS);
    ct_enqueue_work(ctx, "a", 1, "w1");
    lp_join(&w);
    ct_barrier_free(start);

    ck_assert_int_eq(w.rc, 0);
    ck_assert_ptr_nonnull(w.work);
    ck_assert_uint_eq(w.work->activity_id, 1);
    ck_assert_str_eq(w.work->payload, "w1");
    duro_work_item_free(w.work);
    ck_assert_int_lt(w.elapsed_ms, LP_PROMPT_MS);
}

static void fetch_orch_woken_by_work_completion(duro_ct_ctx *ctx)
{
    ct_barrier *start = ct_barrier_new(2);
    lp_waiter w;
    duro_error err = {0};

    ck_assert_ptr_nonnull(start);
    ct_create_instance(ctx, "a");
    ct_enqueue_work(ctx, "a", 1, "w1");
    duro_work_item *work = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(work);
    duro_msg done = {
        .instance = "a", .kind = DURO_MSG_ACTIVITY_DONE, .execution_id = 1,
        .visible_at_ms = ctx->now, .payload = "done-1",
    };

    lp_start(&w, ctx, start, LP_FETCH_ORCH, LP_LONG_POLL_MS, 0);
    ct_barrier_wait(start);
    delay_ms(LP_ARRIVAL_MS);
    int rc = ctx->p->ops->ack_work(ctx->p, ctx->now, work->lock_token, &done, &err);
    lp_join(&w);
    ct_barrier_free(start);
    duro_work_item_free(work);

    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_ptr_nonnull(w.item);
    ck_assert_str_eq(w.item->instance, "a");
    ck_assert_uint_eq(w.item->n_msgs, 1);
    ck_assert_int_eq(w.item->msgs[0].kind, DURO_MSG_ACTIVITY_DONE);
    ck_assert_str_eq(w.item->msgs[0].payload, "done-1");
    duro_orch_item_free(w.item);
    ck_assert_int_lt(w.elapsed_ms, LP_PROMPT_MS);
}

static void fetch_orch_wakes_when_delayed_message_visible(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_orch_item *item = NULL;
    duro_msg msg = {
        .instance = "a", .kind = DURO_MSG_START, .execution_id = 1,
        .visible_at_ms = ctx->now + 200, .payload = "start:a",
    };

    ck_assert_int_eq(ctx->p->ops->enqueue_orch(ctx->p, &msg, &err), 0);
    int64_t t0 = mono_ms();
    int rc = ctx->p->ops->fetch_orch(ctx->p, ctx->now, DURO_CT_LOCK_MS, LP_LONG_POLL_MS, &item,
                                     &err);
    int64_t elapsed = mono_ms() - t0;

    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->instance, "a");
    duro_orch_item_free(item);
    ck_assert_int_ge(elapsed, 200 - LP_ROUNDING_MS);
    ck_assert_int_lt(elapsed, LP_PROMPT_MS);
}

static void fetch_work_wakes_when_abandon_delay_ends(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_work_item *w = NULL;

    ct_enqueue_work(ctx, "a", 1, "w1");
    duro_work_item *first = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(first);
    ck_assert_int_eq(ctx->p->ops->abandon_work(ctx->p, ctx->now, first->lock_token, 200, 0,
                                               &err), 0);
    int64_t id = first->id;
    duro_work_item_free(first);

    int64_t t0 = mono_ms();
    int rc = ctx->p->ops->fetch_work(ctx->p, ctx->now, DURO_CT_LOCK_MS, LP_LONG_POLL_MS, &w,
                                     &err);
    int64_t elapsed = mono_ms() - t0;

    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(w->id, id);
    ck_assert_uint_eq(w->attempt, 2);
    duro_work_item_free(w);
    ck_assert_int_ge(elapsed, 200 - LP_ROUNDING_MS);
    ck_assert_int_lt(elapsed, LP_PROMPT_MS);
}

static void orphan_does_not_satisfy_waiting_fetch(duro_ct_ctx *ctx)
{
    ct_barrier *start = ct_barrier_new(2);
    lp_waiter w;

    ck_assert_ptr_nonnull(start);
    lp_start(&w, ctx, start, LP_FETCH_ORCH, LP_SHORT_POLL_MS, 0);
    ct_barrier_wait(start);
    delay_ms(LP_ARRIVAL_MS);
    ct_enqueue(ctx, "ghost", DURO_MSG_EVENT, "orphan", 0);
    lp_join(&w);
    ct_barrier_free(start);

    ck_assert_int_eq(w.rc, DURO_ENOTFOUND);
    ck_assert_ptr_null(w.item);
    ck_assert_int_ge(w.elapsed_ms, LP_SHORT_POLL_MS - 50);
    ck_assert_int_lt(w.elapsed_ms, LP_PROMPT_MS);

    ct_enqueue_start(ctx, "ghost");
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "ghost");
    ck_assert_uint_eq(item->n_msgs, 2);
    ck_assert_str_eq(item->msgs[0].payload, "orphan");
    duro_orch_item_free(item);
}

/* Interrupt until the waiter returns (a waiter not yet blocked at the first interrupt is
 * caught by a later one); asserts it returned promptly with `expect_rc`. */
static void interrupt_waiter(duro_ct_ctx *ctx, lp_call call, int expect_rc)
{
    ct_barrier *start = ct_barrier_new(2);
    lp_waiter w;

    ck_assert_msg(ctx->p->ops->interrupt != NULL,
                  "provider declares DURO_CAP_LONG_POLL but has no interrupt()");
    ck_assert_ptr_nonnull(start);
    if (call == LP_WAIT_COMMIT)
        ck_assert_msg(ctx->p->ops->commit_seq != NULL, "DURO_CAP_NOTIFY without commit_seq");
    lp_start(&w, ctx, start, call, LP_LONG_POLL_MS,
             call == LP_WAIT_COMMIT ? ctx->p->ops->commit_seq(ctx->p) : 0);
    ct_barrier_wait(start);
    for (int i = 0; i < LP_PROMPT_MS / LP_ARRIVAL_MS && !atomic_load(&w.done); i++) {
        delay_ms(LP_ARRIVAL_MS);
        ctx->p->ops->interrupt(ctx->p);
    }
    lp_join(&w);
    ct_barrier_free(start);

    ck_assert_int_eq(w.rc, expect_rc);
    ck_assert_ptr_null(w.item);
    ck_assert_ptr_null(w.work);
    ck_assert_int_lt(w.elapsed_ms, LP_PROMPT_MS + LP_ARRIVAL_MS);
}

static void interrupt_wakes_fetch_orch(duro_ct_ctx *ctx)
{
    interrupt_waiter(ctx, LP_FETCH_ORCH, DURO_ENOTFOUND);
}

static void interrupt_wakes_fetch_work(duro_ct_ctx *ctx)
{
    interrupt_waiter(ctx, LP_FETCH_WORK, DURO_ENOTFOUND);
}

static void interrupt_wakes_wait_commit(duro_ct_ctx *ctx)
{
    interrupt_waiter(ctx, LP_WAIT_COMMIT, DURO_ETIMEDOUT);
}

/* ---- Notification ---------------------------------------------------------------------- */

static void commit_seq_increases_on_writes(duro_ct_ctx *ctx)
{
    const duro_provider_ops *ops = ctx->p->ops;
    duro_provider *p = ctx->p;
    duro_error err = {0};
    uint64_t before;

    ck_assert_ptr_nonnull(ops->commit_seq);
    before = ops->commit_seq(p);
    ct_enqueue_start(ctx, "a");
    ck_assert_uint_gt(ops->commit_seq(p), before);

    duro_orch_item *item = ct_fetch(ctx);
    before = ops->commit_seq(p);
    const duro_event_in ev[] = {{.event_id = 1, .kind = 1, .payload = "started"}};
    duro_orch_commit c = ct_commit(1, ev, 1);
    c.orch_name = "TestOrch";
    ct_ack(ctx, item, &c);
    ck_assert_uint_gt(ops->commit_seq(p), before);

    before = ops->commit_seq(p);
    ct_enqueue_work(ctx, "a", 1, "w1");
    ck_assert_uint_gt(ops->commit_seq(p), before);

    duro_work_item *w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    before = ops->commit_seq(p);
    ck_assert_int_eq(ops->ack_work(p, ctx->now, w->lock_token, NULL, &err), 0);
    duro_work_item_free(w);
    ck_assert_uint_gt(ops->commit_seq(p), before);
}

static void wait_commit_woken_by_other_thread(duro_ct_ctx *ctx)
{
    ct_barrier *start = ct_barrier_new(2);
    lp_waiter w;

    ck_assert_ptr_nonnull(start);
    ck_assert_ptr_nonnull(ctx->p->ops->commit_seq);
    lp_start(&w, ctx, start, LP_WAIT_COMMIT, LP_LONG_POLL_MS, ctx->p->ops->commit_seq(ctx->p));
    ct_barrier_wait(start);
    delay_ms(LP_ARRIVAL_MS);
    ct_enqueue_start(ctx, "a");
    lp_join(&w);
    ct_barrier_free(start);

    ck_assert_int_eq(w.rc, 0);
    ck_assert_int_lt(w.elapsed_ms, LP_PROMPT_MS);
}

static void wait_commit_times_out_without_commit(duro_ct_ctx *ctx)
{
    uint64_t seq = ctx->p->ops->commit_seq(ctx->p);
    int64_t t0 = mono_ms();
    int rc = ctx->p->ops->wait_commit(ctx->p, seq, 200);
    int64_t elapsed = mono_ms() - t0;

    ck_assert_int_eq(rc, DURO_ETIMEDOUT);
    ck_assert_int_ge(elapsed, 200 - LP_ROUNDING_MS);
    ck_assert_int_lt(elapsed, LP_PROMPT_MS);
}

static void wait_commit_returns_at_once_when_passed(duro_ct_ctx *ctx)
{
    uint64_t seq = ctx->p->ops->commit_seq(ctx->p);

    ct_enqueue_start(ctx, "a");
    int64_t t0 = mono_ms();
    int rc = ctx->p->ops->wait_commit(ctx->p, seq, LP_LONG_POLL_MS);
    int64_t elapsed = mono_ms() - t0;

    ck_assert_int_eq(rc, 0);
    ck_assert_int_lt(elapsed, LP_AT_ONCE_MS);
}

/* ---- Registry -------------------------------------------------------------------------- */

#define LP DURO_CAP_LONG_POLL
#define NOTIFY DURO_CAP_NOTIFY

DURO_CASES = {
    DURO_CASE(fetch_orch_poll_zero_returns_at_once, LP, 0,
              "fetch_orch with poll 0 on an empty store returns DURO_ENOTFOUND within 50 ms."),
    DURO_CASE(fetch_work_poll_zero_returns_at_once, LP, 0,
              "fetch_work with poll 0 on an empty store returns DURO_ENOTFOUND within 50 ms."),
    DURO_CASE(fetch_orch_waits_out_poll_time, LP, 0,
              "fetch_orch with poll 300 ms on an empty store returns DURO_ENOTFOUND after at "
              "least 250 ms and within 1 s, asleep: under 60 ms of the caller's CPU."),
    DURO_CASE(fetch_work_waits_out_poll_time, LP, 0,
              "fetch_work with poll 300 ms on an empty store returns DURO_ENOTFOUND after at "
              "least 250 ms and within 1 s, asleep: under 60 ms of the caller's CPU."),
    DURO_CASE(fetch_orch_sleeps_until_due_message, LP, 0,
              "fetch_orch with poll 300 ms and a START due in 95 ms returns it after at "
              "least 95 ms and within 1 s, asleep until then: under 6 ms of the caller's "
              "CPU."),
    DURO_CASE(fetch_orch_woken_by_enqueue, LP, 0,
              "A fetch_orch waiting with a 5 s poll returns the START enqueued by another "
              "thread within 1 s."),
    DURO_CASE(fetch_work_woken_by_enqueue, LP, 0,
              "A fetch_work waiting with a 5 s poll returns the item enqueued by another "
              "thread within 1 s."),
    DURO_CASE(fetch_orch_woken_by_work_completion, LP, 0,
              "A fetch_orch waiting with a 5 s poll returns the completion enqueued by another "
              "thread's ack_work within 1 s."),
    DURO_CASE(fetch_orch_wakes_when_delayed_message_visible, LP, 0,
              "A fetch_orch waiting with a 5 s poll returns a message delayed by 200 ms once "
              "its visible_at passes (now_ms plus elapsed time), not before."),
    DURO_CASE(fetch_work_wakes_when_abandon_delay_ends, LP, 0,
              "A fetch_work waiting with a 5 s poll returns an item abandoned with a 200 ms "
              "delay once the delay has passed, not before."),
    DURO_CASE(orphan_does_not_satisfy_waiting_fetch, LP, 0,
              "A message for a never-started instance does not end a waiting fetch_orch, which "
              "runs out its poll time, and is kept for the instance's START."),
    DURO_CASE(interrupt_wakes_fetch_orch, LP, 0,
              "interrupt() makes a fetch_orch blocked with a 5 s poll return DURO_ENOTFOUND "
              "promptly."),
    DURO_CASE(interrupt_wakes_fetch_work, LP, 0,
              "interrupt() makes a fetch_work blocked with a 5 s poll return DURO_ENOTFOUND "
              "promptly."),
    DURO_CASE(interrupt_wakes_wait_commit, LP | NOTIFY, 0,
              "interrupt() makes a wait_commit blocked for 5 s return DURO_ETIMEDOUT "
              "promptly."),
    DURO_CASE(commit_seq_increases_on_writes, NOTIFY, 0,
              "commit_seq increases on every enqueue_orch, ack_orch, enqueue_work and "
              "ack_work."),
    DURO_CASE(wait_commit_woken_by_other_thread, NOTIFY, 0,
              "wait_commit blocked for 5 s returns 0 within 1 s of a commit by another "
              "thread."),
    DURO_CASE(wait_commit_times_out_without_commit, NOTIFY, 0,
              "wait_commit returns DURO_ETIMEDOUT after its 200 ms timeout when nothing "
              "commits."),
    DURO_CASE(wait_commit_returns_at_once_when_passed, NOTIFY, 0,
              "wait_commit on a sequence already passed returns 0 within 50 ms."),
    DURO_CASES_END,
};
