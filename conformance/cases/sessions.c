/*
 * sessions.c — conformance cases for activity sessions (ops version 6, DURO_CAP_SESSIONS):
 * a work item of a commit may belong to a session; only fetch_work_session returns session
 * items, and only to the worker that owns the session while its lease lives; the first
 * fetch of a session nobody owns takes the lease, every fetch and renew_sessions of the
 * owner extend it, an idle session is released, max_sessions bounds the sessions a worker
 * takes, and the sessions class takes its turn with the filter's classes. All on the
 * virtual clock, each lease and idle boundary to the millisecond; the take-over race and
 * the drains (one new session, and max_sessions 1 over four) run on real threads. Every
 * case is skipped, with the reason, for a provider without DURO_CAP_SESSIONS.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY sessions

/* Lease and idle durations of these cases; item locks are shorter than a lease. */
#define LEASE_MS INT64_C(10000)
#define IDLE_MS INT64_C(20000)
#define ITEM_LOCK_MS INT64_C(5000)
/* The session bound most cases give */
#define MAX_SESSIONS 8

static const duro_work_filter only_untagged = {.untagged = 1};

/* ---- Helpers --------------------------------------------------------------------------- */

/* Create instance "inst" once (activity ids then name the items). */
static void begin(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "inst");
}

/* Commit one work item (existing `instance`, execution 1, activity_id) in `session` with
 * `payload`, asserting success. */
static void put_in(duro_ct_ctx *ctx, const char *instance, uint64_t activity_id,
                   const char *session, const char *payload)
{
    const char *sessions[1] = {session};
    duro_work_in w = {.instance = instance, .execution_id = 1, .activity_id = activity_id,
                      .payload = payload};
    duro_orch_commit c = ct_commit(1, NULL, 0);

    c.work = &w;
    c.n_work = 1;
    c.work_sessions = sessions;
    ct_turn(ctx, instance, &c);
}

/* put_in of instance "inst". */
static void put(duro_ct_ctx *ctx, uint64_t activity_id, const char *session,
                const char *payload)
{
    put_in(ctx, "inst", activity_id, session, payload);
}

/* fetch_work_session on `p` at ctx->now as `worker` with item lock `lock_ms` and lease
 * `lease_ms` (bound `max`, filter `f`, turn `turn`): the item or NULL on DURO_ENOTFOUND
 * (anything else fails the case). */
static duro_work_item *take_timed(duro_ct_ctx *ctx, duro_provider *p, const char *worker,
                                  int64_t lock_ms, int64_t lease_ms, size_t max,
                                  const duro_work_filter *f, uint32_t turn)
{
    duro_error err = {0};
    duro_work_item *item = NULL;
    duro_work_filter g = *f;
    int rc;

    g.turn = turn;
    rc = p->ops->fetch_work_session(p, ctx->now, lock_ms, 0, &g, worker, lease_ms, max, &item,
                                    &err);
    if (rc == DURO_ENOTFOUND) {
        ck_assert_ptr_null(item);
        return NULL;
    }
    ck_assert_msg(rc == 0 && item != NULL, "fetch_work_session(%s) failed: %s (%s)", worker,
                  duro_strerror(rc), err.message);
    return item;
}

/* take_timed with the item lock and lease of these cases. */
static duro_work_item *take_full(duro_ct_ctx *ctx, duro_provider *p, const char *worker,
                                 size_t max, const duro_work_filter *f, uint32_t turn)
{
    return take_timed(ctx, p, worker, ITEM_LOCK_MS, LEASE_MS, max, f, turn);
}

/* The session class first (turn 1 of an untagged filter: classes untagged, sessions), with
 * the session bound `max`. */
static duro_work_item *take_max(duro_ct_ctx *ctx, const char *worker, size_t max)
{
    return take_full(ctx, ctx->p, worker, max, &only_untagged, 1);
}

static duro_work_item *take(duro_ct_ctx *ctx, const char *worker)
{
    return take_max(ctx, worker, MAX_SESSIONS);
}

static void ack(duro_ct_ctx *ctx, duro_work_item *item)
{
    duro_error err = {0};

    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, item->lock_token, NULL, &err), 0);
    duro_work_item_free(item);
}

/* `worker` takes the item with `payload`, which is then acked. */
static void take_expect(duro_ct_ctx *ctx, const char *worker, const char *payload)
{
    duro_work_item *item = take(ctx, worker);

    ck_assert_msg(item != NULL, "%s expected work item '%s', got none", worker, payload);
    ck_assert_str_eq(item->payload, payload);
    ack(ctx, item);
}

static void take_none(duro_ct_ctx *ctx, const char *worker)
{
    duro_work_item *item = take(ctx, worker);

    ck_assert_msg(item == NULL, "%s expected no work item, got '%s'", worker,
                  item ? item->payload : "");
}

/* renew_sessions of `worker` at ctx->now with `lease_ms` and `idle_ms`: the number it owns
 * after. */
static size_t renew_idle(duro_ct_ctx *ctx, const char *worker, int64_t lease_ms,
                         int64_t idle_ms)
{
    duro_error err = {0};
    size_t owned = 999;
    int rc = ctx->p->ops->renew_sessions(ctx->p, ctx->now, worker, lease_ms, idle_ms, &owned,
                                         &err);

    ck_assert_msg(rc == 0, "renew_sessions(%s) failed: %s (%s)", worker, duro_strerror(rc),
                  err.message);
    return owned;
}

static size_t renew_for(duro_ct_ctx *ctx, const char *worker, int64_t lease_ms)
{
    return renew_idle(ctx, worker, lease_ms, IDLE_MS);
}

static size_t renew(duro_ct_ctx *ctx, const char *worker)
{
    return renew_for(ctx, worker, LEASE_MS);
}

/* renew_sessions of `worker` every LEASE_MS / 2 from ctx->now + LEASE_MS / 2 while before
 * `until`, each reporting `owned`; ctx->now is then `until`. */
static void renew_until(duro_ct_ctx *ctx, const char *worker, int64_t until, size_t owned)
{
    for (ctx->now += LEASE_MS / 2; ctx->now < until; ctx->now += LEASE_MS / 2)
        ck_assert_uint_eq(renew(ctx, worker), owned);
    ctx->now = until;
}

/* The session class of `worker` gives the item with `payload` (left locked, returned). */
static duro_work_item *hold_expect(duro_ct_ctx *ctx, const char *worker, size_t max,
                                   const char *payload)
{
    duro_work_item *item = take_max(ctx, worker, max);

    ck_assert_msg(item != NULL, "%s expected work item '%s', got none", worker, payload);
    ck_assert_str_eq(item->payload, payload);
    return item;
}

/* w1 takes session s1 with item "a" (acked); items "b" and "c" of s1 are queued and the
 * clock is at the end of w1's lease. */
static void lease_ended_with_two_queued(duro_ct_ctx *ctx)
{
    begin(ctx);
    put(ctx, 1, "s1", "a");
    take_expect(ctx, "w1", "a");
    put(ctx, 2, "s1", "b");
    put(ctx, 3, "s1", "c");
    ctx->now += LEASE_MS;
}

/* ---- Ownership --------------------------------------------------------------------------- */

static void session_items_invisible_to_other_fetches(duro_ct_ctx *ctx)
{
    static const duro_work_filter any_tag = {.any_tag = 1};
    duro_error err = {0};
    duro_work_item *item = NULL;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ck_assert_int_eq(ctx->p->ops->fetch_work_filtered(ctx->p, ctx->now, ITEM_LOCK_MS, 0,
                                                      &only_untagged, &item, &err),
                     DURO_ENOTFOUND);
    ck_assert_int_eq(ctx->p->ops->fetch_work_filtered(ctx->p, ctx->now, ITEM_LOCK_MS, 0,
                                                      &any_tag, &item, &err),
                     DURO_ENOTFOUND);
    ck_assert_ptr_null(item);
    item = take(ctx, "w1");
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->instance, "inst");
    ck_assert_uint_eq(item->execution_id, 1);
    ck_assert_uint_eq(item->activity_id, 1);
    ck_assert_uint_eq(item->attempt, 1);
    ck_assert_str_eq(item->payload, "a");
    ack(ctx, item);
}

static void owner_gets_every_item_of_its_session(duro_ct_ctx *ctx)
{
    begin(ctx);
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s1", "b");
    put(ctx, 3, "s1", "c");
    take_expect(ctx, "w1", "a");
    take_none(ctx, "w2");
    take_expect(ctx, "w1", "b");
    take_none(ctx, "w2");
    take_expect(ctx, "w1", "c");
    take_none(ctx, "w2");
}

static void other_worker_none_until_lease_end(duro_ct_ctx *ctx)
{
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    t0 = ctx->now;
    take_expect(ctx, "w1", "a");
    put(ctx, 2, "s1", "b");
    ctx->now = t0 + LEASE_MS - 1;
    take_none(ctx, "w2");
    ctx->now = t0 + LEASE_MS; /* the lease ended exactly now: w2 takes over */
    take_expect(ctx, "w2", "b");
}

static void expired_lease_moves_to_one_worker(duro_ct_ctx *ctx)
{
    lease_ended_with_two_queued(ctx);
    take_expect(ctx, "w2", "b");
    take_none(ctx, "w1");
    take_none(ctx, "w3");
    take_expect(ctx, "w2", "c");
}

typedef struct race_arg {
    duro_ct_ctx *ctx;
    ct_barrier *start;
    char worker[8];
    duro_work_item *got;
} race_arg;

static void *race_fetch(void *arg)
{
    race_arg *a = arg;
    duro_error err = {0};
    duro_work_filter f = only_untagged;
    int rc;

    f.turn = 1;
    ct_barrier_wait(a->start);
    rc = a->ctx->p->ops->fetch_work_session(a->ctx->p, a->ctx->now, ITEM_LOCK_MS, 0, &f,
                                            a->worker, LEASE_MS, MAX_SESSIONS, &a->got, &err);
    if (rc != 0 && rc != DURO_ENOTFOUND)
        a->got = (duro_work_item *)-1;
    return NULL;
}

#define RACERS 4

static void takeover_race_has_one_winner(duro_ct_ctx *ctx)
{
    race_arg args[RACERS];
    pthread_t th[RACERS];
    ct_barrier *b = ct_barrier_new(RACERS);
    int winners = 0, winner = -1;

    ck_assert_ptr_nonnull(b);
    lease_ended_with_two_queued(ctx);
    for (int i = 0; i < RACERS; i++) {
        args[i] = (race_arg){.ctx = ctx, .start = b, .got = NULL};
        snprintf(args[i].worker, sizeof args[i].worker, "r%d", i);
        ck_assert_int_eq(pthread_create(&th[i], NULL, race_fetch, &args[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(th[i], NULL);
    ct_barrier_free(b);
    for (int i = 0; i < RACERS; i++) {
        ck_assert_msg(args[i].got != (duro_work_item *)-1, "racer %d: fetch failed", i);
        if (args[i].got != NULL) {
            winners++;
            winner = i;
        }
    }
    ck_assert_int_eq(winners, 1);
    ck_assert_str_eq(args[winner].got->payload, "b");
    ack(ctx, args[winner].got);
    for (int i = 0; i < RACERS; i++)
        if (i != winner)
            take_none(ctx, args[i].worker);
    take_expect(ctx, args[winner].worker, "c");
}

/* ---- Renewal ----------------------------------------------------------------------------- */

/* w1 takes (and acks) item "a" of s1: the time its lease began. */
static int64_t w1_took_s1(duro_ct_ctx *ctx)
{
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    t0 = ctx->now;
    take_expect(ctx, "w1", "a");
    return t0;
}

/* Queue item "b" (activity_id) of s1, owned by w1: w2 gets nothing before `end` and "b" at
 * exactly `end`, the end of w1's lease. */
static void lease_ends_at(duro_ct_ctx *ctx, uint64_t activity_id, int64_t end)
{
    put(ctx, activity_id, "s1", "b");
    ctx->now = end - 1;
    take_none(ctx, "w2");
    ctx->now = end;
    take_expect(ctx, "w2", "b");
}

static void fetch_extends_the_lease(duro_ct_ctx *ctx)
{
    int64_t t0 = w1_took_s1(ctx);

    ctx->now = t0 + LEASE_MS - 1;
    take_none(ctx, "w1"); /* a poll that finds nothing renews too */
    lease_ends_at(ctx, 2, t0 + 2 * LEASE_MS - 1);
}

/* The owner's fetch that finds an item of another class extends its session's lease too. */
static void fetch_of_another_class_extends_the_lease(duro_ct_ctx *ctx)
{
    int64_t t0 = w1_took_s1(ctx);

    ctx->now = t0 + LEASE_MS - 1;
    put(ctx, 2, NULL, "u"); /* untagged: s1 has nothing, so the untagged class serves it */
    take_expect(ctx, "w1", "u");
    lease_ends_at(ctx, 3, t0 + 2 * LEASE_MS - 1);
}

static void renew_keeps_the_lease(duro_ct_ctx *ctx)
{
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    t0 = ctx->now;
    take_expect(ctx, "w1", "a");
    put(ctx, 2, "s1", "b");
    ctx->now = t0 + LEASE_MS - 1;
    ck_assert_uint_eq(renew(ctx, "w1"), 1);
    ctx->now = t0 + 2 * LEASE_MS - 2;
    take_none(ctx, "w2");
    take_expect(ctx, "w1", "b");
}

static void renew_after_expiry_reclaims_nothing(duro_ct_ctx *ctx)
{
    lease_ended_with_two_queued(ctx);
    ck_assert_uint_eq(renew(ctx, "w1"), 0);
    take_expect(ctx, "w2", "b");
    ck_assert_uint_eq(renew(ctx, "w1"), 0);
    ck_assert_uint_eq(renew(ctx, "w2"), 1);
    take_none(ctx, "w1");
    take_expect(ctx, "w2", "c");
}

static void idle_session_is_released(duro_ct_ctx *ctx)
{
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    t0 = ctx->now;
    take_expect(ctx, "w1", "a");
    for (ctx->now = t0 + LEASE_MS / 2; ctx->now < t0 + IDLE_MS - 1; ctx->now += LEASE_MS / 2)
        ck_assert_uint_eq(renew(ctx, "w1"), 1);
    ctx->now = t0 + IDLE_MS - 1;
    ck_assert_uint_eq(renew(ctx, "w1"), 1); /* idle, but not yet for IDLE_MS */
    ctx->now = t0 + IDLE_MS;
    ck_assert_uint_eq(renew(ctx, "w1"), 0); /* released although its lease lives on */
    put(ctx, 2, "s1", "b");
    take_expect(ctx, "w2", "b");
    take_none(ctx, "w1");
}

static void session_with_a_running_item_is_not_idle(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_work_item *item;
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s1", "b");
    t0 = ctx->now;
    item = take(ctx, "w1");
    ck_assert_ptr_nonnull(item);
    for (int64_t t = t0 + ITEM_LOCK_MS / 2; t <= t0 + 2 * IDLE_MS; t += ITEM_LOCK_MS / 2) {
        ctx->now = t;
        ck_assert_int_eq(ctx->p->ops->renew_work(ctx->p, t, item->lock_token, ITEM_LOCK_MS,
                                                 &err), 0);
        ck_assert_uint_eq(renew(ctx, "w1"), 1);
        take_none(ctx, "w2");
    }
    ack(ctx, item);
    take_expect(ctx, "w1", "b");
}

/* ---- Bounds and fairness ----------------------------------------------------------------- */

static void max_sessions_bounds_new_sessions_only(duro_ct_ctx *ctx)
{
    duro_work_item *item;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s2", "x");
    put(ctx, 3, "s1", "b");
    item = take_full(ctx, ctx->p, "w1", 1, &only_untagged, 1);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "a");
    ack(ctx, item);
    item = take_full(ctx, ctx->p, "w1", 1, &only_untagged, 1); /* its own, past s2's older x */
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "b");
    ack(ctx, item);
    ck_assert_ptr_null(take_full(ctx, ctx->p, "w1", 1, &only_untagged, 1));
    take_expect(ctx, "w2", "x");
    item = take_full(ctx, ctx->p, "w1", 2, &only_untagged, 1);
    ck_assert_ptr_null(item); /* s2 is now w2's */
}

static void max_sessions_zero_takes_no_session(duro_ct_ctx *ctx)
{
    duro_work_item *item;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    ct_enqueue_work(ctx, "inst", 2, "u");
    item = take_full(ctx, ctx->p, "w1", 0, &only_untagged, 1); /* sessions first, none */
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "u");
    ack(ctx, item);
    ck_assert_ptr_null(take_full(ctx, ctx->p, "w1", 0, &only_untagged, 1));
    take_expect(ctx, "w2", "a");
}

static void sessions_and_untagged_alternate(duro_ct_ctx *ctx)
{
    static const char *const want[] = {"u1", "a", "u2", "b", "u3", "c", "u4"};
    duro_work_item *item;

    begin(ctx);
    for (uint64_t i = 1; i <= 4; i++) {
        char p[4];
        snprintf(p, sizeof p, "u%u", (unsigned)i);
        ct_enqueue_work(ctx, "inst", 10 + i, p);
    }
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s1", "b");
    put(ctx, 3, "s1", "c");
    for (uint32_t turn = 0; turn < 7; turn++) {
        item = take_full(ctx, ctx->p, "w1", MAX_SESSIONS, &only_untagged, turn);
        ck_assert_msg(item != NULL, "turn %u: nothing", (unsigned)turn);
        ck_assert_str_eq(item->payload, want[turn]);
        ack(ctx, item);
    }
    ck_assert_ptr_null(take_full(ctx, ctx->p, "w1", MAX_SESSIONS, &only_untagged, 0));
}

static void sessions_and_tags_alternate(duro_ct_ctx *ctx)
{
    static const char *const gpu[] = {"gpu"};
    const duro_work_filter only_gpu = {.tags = gpu, .n_tags = 1};
    duro_error err = {0};
    duro_work_in g = {.instance = "inst", .execution_id = 1, .activity_id = 20, .payload = "g1"};
    duro_work_item *item;

    begin(ctx);
    ck_assert_int_eq(ctx->p->ops->enqueue_work_tagged(ctx->p, &g, "gpu", &err), 0);
    g.activity_id = 21;
    g.payload = "g2";
    ck_assert_int_eq(ctx->p->ops->enqueue_work_tagged(ctx->p, &g, "gpu", &err), 0);
    ct_enqueue_work(ctx, "inst", 22, "u1");
    put(ctx, 1, "s1", "a");
    /* classes: gpu (turn 0), sessions (turn 1); the untagged item is not accepted */
    item = take_full(ctx, ctx->p, "w1", MAX_SESSIONS, &only_gpu, 1);
    ck_assert_str_eq(item->payload, "a");
    ack(ctx, item);
    item = take_full(ctx, ctx->p, "w1", MAX_SESSIONS, &only_gpu, 0);
    ck_assert_str_eq(item->payload, "g1");
    ack(ctx, item);
    item = take_full(ctx, ctx->p, "w1", MAX_SESSIONS, &only_gpu, 1); /* sessions empty: wraps */
    ck_assert_str_eq(item->payload, "g2");
    ack(ctx, item);
    ck_assert_ptr_null(take_full(ctx, ctx->p, "w1", MAX_SESSIONS, &only_gpu, 0));
    ck_assert_ptr_nonnull(item = ct_try_fetch_work(ctx));
    ck_assert_str_eq(item->payload, "u1");
    ack(ctx, item);
}

/* ---- Abandon, lock expiry, cancel -------------------------------------------------------- */

static void abandon_keeps_the_session(duro_ct_ctx *ctx)
{
    duro_work_item *item;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    item = take(ctx, "w1");
    ck_assert_ptr_nonnull(item);
    ct_abandon_work(ctx, item, 1000, 0);
    take_none(ctx, "w1");
    ctx->now += 1000;
    take_none(ctx, "w2");
    item = take(ctx, "w1");
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "a");
    ck_assert_uint_eq(item->attempt, 2);
    ack(ctx, item);
}

static void lock_expiry_within_the_lease_stays_with_the_owner(duro_ct_ctx *ctx)
{
    duro_work_item *item;
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    t0 = ctx->now;
    item = take(ctx, "w1");
    ck_assert_ptr_nonnull(item);
    duro_work_item_free(item); /* the worker dies holding it */
    ctx->now = t0 + ITEM_LOCK_MS;
    take_none(ctx, "w2");
    item = take(ctx, "w1");
    ck_assert_ptr_nonnull(item);
    ck_assert_uint_eq(item->attempt, 2);
    duro_work_item_free(item);
    ctx->now = t0 + ITEM_LOCK_MS + LEASE_MS; /* both the lock and the lease are gone */
    item = take(ctx, "w2");
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "a");
    ck_assert_uint_eq(item->attempt, 3);
    ack(ctx, item);
}

static void cancel_of_a_session_item(duro_ct_ctx *ctx)
{
    static const char *const sessions[] = {"s1", "s1"};
    duro_work_in work[2] = {
        {.instance = "inst", .execution_id = 1, .activity_id = 1, .payload = "a"},
        {.instance = "inst", .execution_id = 1, .activity_id = 2, .payload = "b"},
    };
    duro_activity_ref ref = {.execution_id = 1, .activity_id = 1};
    duro_orch_commit c = ct_commit(1, NULL, 0);

    begin(ctx);
    c.work = work;
    c.n_work = 2;
    c.work_sessions = sessions;
    ct_turn(ctx, "inst", &c);
    c = ct_commit(1, NULL, 0);
    c.cancel = &ref;
    c.n_cancel = 1;
    ct_turn(ctx, "inst", &c);
    take_expect(ctx, "w1", "b");
    take_none(ctx, "w1");
    take_none(ctx, "w2");
}

/* ---- Invalid input ----------------------------------------------------------------------- */

static void invalid_session_in_a_commit_applies_nothing(duro_ct_ctx *ctx)
{
    char big[DURO_MAX_ID_BYTES + 2];
    const char *bad[1] = {""};
    const char *tags[1] = {"gpu"};
    duro_work_in w = {.instance = "inst", .execution_id = 1, .activity_id = 1, .payload = "a"};
    duro_event_in ev = {.event_id = 2, .kind = 1, .payload = "e2"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    duro_error err = {0};
    duro_orch_item *item;

    memset(big, 's', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    begin(ctx);
    item = ct_poke(ctx, "inst");
    c.work = &w;
    c.n_work = 1;
    c.work_sessions = bad;
    ck_assert_int_eq(ct_ack_rc(ctx, item->lock_token, &c, &err), DURO_EINVAL);
    ck_assert_int_eq(err.retryable, 0);
    bad[0] = big;
    ck_assert_int_eq(ct_ack_rc(ctx, item->lock_token, &c, &err), DURO_ETOOBIG);
    bad[0] = "s1";
    c.work_tags = tags;
    ck_assert_int_eq(ct_ack_rc(ctx, item->lock_token, &c, &err), DURO_EINVAL);
    ck_assert_uint_eq(ct_history_len(ctx, "inst", 1), 1);
    take_none(ctx, "w1");
    /* the lock is kept: a session of exactly the limit goes through */
    c.work_tags = NULL;
    big[DURO_MAX_ID_BYTES] = '\0';
    bad[0] = big;
    ct_ack(ctx, item, &c);
    ck_assert_uint_eq(ct_history_len(ctx, "inst", 1), 2);
    take_expect(ctx, "w1", "a");
}

static void invalid_fetch_and_renew_arguments(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_work_item *item = NULL;
    duro_provider *p = ctx->p;
    size_t owned = 7;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    ck_assert_int_eq(p->ops->fetch_work_session(p, ctx->now, ITEM_LOCK_MS, 0, &only_untagged,
                                                NULL, LEASE_MS, 1, &item, &err), DURO_EINVAL);
    ck_assert_int_eq(p->ops->fetch_work_session(p, ctx->now, ITEM_LOCK_MS, 0, &only_untagged,
                                                "", LEASE_MS, 1, &item, &err), DURO_EINVAL);
    ck_assert_int_eq(p->ops->fetch_work_session(p, ctx->now, ITEM_LOCK_MS, 0, &only_untagged,
                                                "w1", 0, 1, &item, &err), DURO_EINVAL);
    ck_assert_int_eq(p->ops->fetch_work_session(p, ctx->now, 0, 0, &only_untagged, "w1",
                                                LEASE_MS, 1, &item, &err), DURO_EINVAL);
    ck_assert_int_eq(p->ops->fetch_work_session(p, ctx->now, ITEM_LOCK_MS, 0, NULL, "w1",
                                                LEASE_MS, 1, &item, &err), DURO_EINVAL);
    ck_assert_ptr_null(item);
    ck_assert_int_eq(p->ops->renew_sessions(p, ctx->now, "", LEASE_MS, IDLE_MS, &owned, &err),
                     DURO_EINVAL);
    ck_assert_int_eq(p->ops->renew_sessions(p, ctx->now, "w1", 0, IDLE_MS, &owned, &err),
                     DURO_EINVAL);
    ck_assert_int_eq(p->ops->renew_sessions(p, ctx->now, "w1", LEASE_MS, 0, &owned, &err),
                     DURO_EINVAL);
    ck_assert_uint_eq(owned, 7);
    /* nothing was locked or leased: another worker takes the item */
    take_expect(ctx, "w2", "a");
}

/* ---- Handles ----------------------------------------------------------------------------- */

static void handles_agree_on_owners(duro_ct_ctx *ctx)
{
    duro_provider *b = ct_attach(ctx);
    duro_work_item *item;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s1", "b");
    take_expect(ctx, "w1", "a");
    ck_assert_ptr_null(take_full(ctx, b, "w2", MAX_SESSIONS, &only_untagged, 1));
    item = take_full(ctx, b, "w1", MAX_SESSIONS, &only_untagged, 1);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "b");
    ack(ctx, item);
    put(ctx, 3, "s1", "c");
    ctx->now += LEASE_MS;
    item = take_full(ctx, b, "w2", MAX_SESSIONS, &only_untagged, 1);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "c");
    ack(ctx, item);
    duro_provider_destroy(b);
}

/* ---- Lease boundaries -------------------------------------------------------------------- */

static void owner_serves_its_session_until_lease_end_only(duro_ct_ctx *ctx)
{
    duro_work_item *item;
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    t0 = ctx->now;
    take_expect(ctx, "w1", "a");
    put(ctx, 2, "s1", "b");
    put(ctx, 3, "s1", "c");
    ctx->now = t0 + LEASE_MS - 1; /* still its own: the bound 0 does not apply to it */
    item = hold_expect(ctx, "w1", 0, "b");
    ack(ctx, item);
    ctx->now = t0 + 2 * LEASE_MS - 1; /* that fetch leased it until exactly now */
    ck_assert_ptr_null(take_max(ctx, "w1", 0));
    take_expect(ctx, "w2", "c");
}

static void renew_leases_for_its_own_lease_ms(duro_ct_ctx *ctx)
{
    int64_t t1;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    take_expect(ctx, "w1", "a");
    put(ctx, 2, "s1", "b");
    ctx->now += LEASE_MS / 2;
    t1 = ctx->now;
    ck_assert_uint_eq(renew_for(ctx, "w1", 3 * LEASE_MS), 1);
    ctx->now = t1 + 3 * LEASE_MS - 1;
    take_none(ctx, "w2");
    ctx->now = t1 + 3 * LEASE_MS;
    take_expect(ctx, "w2", "b");
}

static void huge_lease_saturates(duro_ct_ctx *ctx)
{
    duro_work_item *item;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    item = take_timed(ctx, ctx->p, "w1", ITEM_LOCK_MS, INT64_MAX, MAX_SESSIONS, &only_untagged,
                      1);
    ck_assert_ptr_nonnull(item);
    ack(ctx, item);
    put(ctx, 2, "s1", "b");
    ctx->now += 1;
    take_none(ctx, "w2");
    ctx->now = INT64_MAX / 2;
    take_none(ctx, "w2");
    ck_assert_uint_eq(renew_for(ctx, "w1", INT64_MAX), 1);
    ctx->now = INT64_MAX - 1;
    take_none(ctx, "w2");
    item = take_timed(ctx, ctx->p, "w1", INT64_MAX, INT64_MAX, MAX_SESSIONS, &only_untagged, 1);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "b");
    ck_assert_ptr_null(take(ctx, "w1")); /* b's lock saturated too: still held */
    ack(ctx, item);
}

static void ack_after_the_lease_expired_succeeds(duro_ct_ctx *ctx)
{
    duro_work_item *held, *item;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s1", "b");
    put(ctx, 3, "s1", "c");
    held = take_timed(ctx, ctx->p, "w1", 3 * LEASE_MS, LEASE_MS, MAX_SESSIONS, &only_untagged,
                      1);
    ck_assert_ptr_nonnull(held);
    ck_assert_str_eq(held->payload, "a");
    ctx->now += LEASE_MS; /* the lease is over, a's lock is not */
    item = hold_expect(ctx, "w2", MAX_SESSIONS, "b");
    ack(ctx, held);
    ack(ctx, item);
    take_none(ctx, "w1");
    take_expect(ctx, "w2", "c");
    take_none(ctx, "w2");
}

/* ---- Renewal and idle release ------------------------------------------------------------ */

static void renew_counts_each_owned_session(duro_ct_ctx *ctx)
{
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s2", "b");
    put(ctx, 3, "s3", "c");
    put(ctx, 4, "s1", "a2");
    t0 = ctx->now;
    take_expect(ctx, "w1", "a");
    take_expect(ctx, "w1", "b");
    take_expect(ctx, "w2", "c"); /* a2 is w1's: w2 takes the next session */
    ck_assert_uint_eq(renew(ctx, "w1"), 2);
    ck_assert_uint_eq(renew(ctx, "w2"), 1);
    ck_assert_uint_eq(renew(ctx, "w3"), 0);
    renew_until(ctx, "w1", t0 + IDLE_MS - 1, 2);
    ck_assert_uint_eq(renew(ctx, "w1"), 2);
    ctx->now = t0 + IDLE_MS; /* s2 idle since b's fetch; s1 still has a2 queued */
    ck_assert_uint_eq(renew(ctx, "w1"), 1);
    put(ctx, 5, "s2", "d");
    take_expect(ctx, "w3", "d");
    take_none(ctx, "w3");
    take_expect(ctx, "w1", "a2");
}

static void renew_touches_only_the_callers_sessions(duro_ct_ctx *ctx)
{
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s2", "b");
    t0 = ctx->now;
    take_expect(ctx, "w1", "a");
    take_expect(ctx, "w2", "b");
    for (ctx->now = t0 + LEASE_MS / 2; ctx->now < t0 + IDLE_MS; ctx->now += LEASE_MS / 2) {
        ck_assert_uint_eq(renew(ctx, "w1"), 1);
        ck_assert_uint_eq(renew_idle(ctx, "w2", LEASE_MS, 3 * IDLE_MS), 1);
    }
    ctx->now = t0 + IDLE_MS; /* both idle for IDLE_MS: only w1's own is released */
    ck_assert_uint_eq(renew(ctx, "w1"), 0);
    put(ctx, 3, "s2", "c");
    take_none(ctx, "w1");
    take_expect(ctx, "w2", "c"); /* leased until t0 + IDLE_MS + LEASE_MS */
    put(ctx, 4, "s2", "d");
    ctx->now = t0 + IDLE_MS + LEASE_MS - 1;
    ck_assert_uint_eq(renew(ctx, "w1"), 0); /* extends nothing of w2's */
    take_none(ctx, "w3");
    ctx->now = t0 + IDLE_MS + LEASE_MS;
    take_expect(ctx, "w3", "d");
}

static void idle_counts_from_the_last_renew_that_saw_an_item(duro_ct_ctx *ctx)
{
    duro_work_item *item;
    int64_t seen;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    item = hold_expect(ctx, "w1", MAX_SESSIONS, "a");
    ctx->now += 1000;
    seen = ctx->now;
    ck_assert_uint_eq(renew(ctx, "w1"), 1); /* sees a running */
    ack(ctx, item);
    renew_until(ctx, "w1", seen + IDLE_MS - 1, 1);
    ck_assert_uint_eq(renew(ctx, "w1"), 1);
    ctx->now = seen + IDLE_MS;
    ck_assert_uint_eq(renew(ctx, "w1"), 0);
    put(ctx, 2, "s1", "b");
    take_expect(ctx, "w2", "b");
}

static void delayed_item_keeps_its_session(duro_ct_ctx *ctx)
{
    duro_work_item *item;
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    t0 = ctx->now;
    ct_abandon_work(ctx, hold_expect(ctx, "w1", MAX_SESSIONS, "a"), 3 * IDLE_MS, 0);
    renew_until(ctx, "w1", t0 + 3 * IDLE_MS, 1);
    take_none(ctx, "w2");
    item = hold_expect(ctx, "w1", MAX_SESSIONS, "a");
    ck_assert_uint_eq(item->attempt, 2);
    ack(ctx, item);
}

static void release_frees_a_session_slot(duro_ct_ctx *ctx)
{
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    t0 = ctx->now;
    ack(ctx, hold_expect(ctx, "w1", 1, "a"));
    put(ctx, 2, "s2", "x");
    ck_assert_ptr_null(take_max(ctx, "w1", 1));
    renew_until(ctx, "w1", t0 + IDLE_MS, 1);
    ck_assert_uint_eq(renew(ctx, "w1"), 0);
    ack(ctx, hold_expect(ctx, "w1", 1, "x"));
    ck_assert_uint_eq(renew(ctx, "w1"), 1);
}

static void max_sessions_ignores_an_expired_own_lease(duro_ct_ctx *ctx)
{
    int64_t t1;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    ack(ctx, hold_expect(ctx, "w1", 1, "a"));
    put(ctx, 2, "s2", "x");
    ctx->now += 1;
    t1 = ctx->now;
    ck_assert_ptr_null(take_max(ctx, "w1", 1)); /* at the bound; s1 leased until t1 + lease */
    ctx->now = t1 + LEASE_MS;
    ack(ctx, hold_expect(ctx, "w1", 1, "x"));
    ck_assert_uint_eq(renew(ctx, "w1"), 1);
    put(ctx, 3, "s1", "b");
    take_expect(ctx, "w2", "b");
}

/* ---- Order and independence -------------------------------------------------------------- */

static void one_worker_serves_its_sessions_in_id_order(duro_ct_ctx *ctx)
{
    static const char *const order[][2] = {
        {"s1", "a1"}, {"s2", "b1"}, {"s1", "a2"}, {"s3", "c1"}, {"s2", "b2"}, {"s1", "a3"},
    };
    enum { N = sizeof order / sizeof order[0] };
    duro_work_item *held[N];

    begin(ctx);
    for (size_t i = 0; i < N; i++)
        put(ctx, i + 1, order[i][0], order[i][1]);
    for (size_t i = 0; i < N; i++) /* each held: the next is the next id, not a wait */
        held[i] = hold_expect(ctx, "w1", MAX_SESSIONS, order[i][1]);
    ck_assert_ptr_null(take(ctx, "w1"));
    take_none(ctx, "w2");
    ck_assert_uint_eq(renew(ctx, "w1"), 3);
    for (size_t i = 0; i < N; i++)
        ack(ctx, held[i]);
}

static void two_workers_progress_independently(duro_ct_ctx *ctx)
{
    duro_work_item *held[6];

    begin(ctx);
    put(ctx, 1, "s1", "a1");
    put(ctx, 2, "s2", "b1");
    put(ctx, 3, "s1", "a2");
    put(ctx, 4, "s2", "b2");
    put(ctx, 5, "s1", "a3");
    put(ctx, 6, "s2", "b3");
    held[0] = hold_expect(ctx, "w1", 1, "a1");
    held[1] = hold_expect(ctx, "w2", 1, "b1");
    held[2] = hold_expect(ctx, "w2", 1, "b2");
    held[3] = hold_expect(ctx, "w1", 1, "a2");
    held[4] = hold_expect(ctx, "w1", 1, "a3");
    held[5] = hold_expect(ctx, "w2", 1, "b3");
    ck_assert_ptr_null(take_max(ctx, "w1", 1));
    ck_assert_ptr_null(take_max(ctx, "w2", 1));
    ck_assert_uint_eq(renew(ctx, "w1"), 1);
    ck_assert_uint_eq(renew(ctx, "w2"), 1);
    for (size_t i = 0; i < 6; i++)
        ack(ctx, held[i]);
}

static void three_classes_round_robin(duro_ct_ctx *ctx)
{
    static const char *const gpu[] = {"gpu"};
    static const char *const want[] = {"u1", "g1", "a", "u2", "g2", "c", "b"};
    const duro_work_filter mixed = {.untagged = 1, .tags = gpu, .n_tags = 1};
    duro_error err = {0};
    duro_work_in g = {.instance = "inst", .execution_id = 1, .activity_id = 21, .payload = "g1"};
    duro_work_item *item;

    begin(ctx);
    put(ctx, 1, "s3", "x0");
    take_expect(ctx, "w2", "x0");
    ct_enqueue_work(ctx, "inst", 11, "u1");
    ct_enqueue_work(ctx, "inst", 12, "u2");
    ck_assert_int_eq(ctx->p->ops->enqueue_work_tagged(ctx->p, &g, "gpu", &err), 0);
    g.activity_id = 22;
    g.payload = "g2";
    ck_assert_int_eq(ctx->p->ops->enqueue_work_tagged(ctx->p, &g, "gpu", &err), 0);
    put(ctx, 2, "s1", "a");
    put(ctx, 3, "s2", "c");
    put(ctx, 4, "s1", "b");
    put(ctx, 5, "s3", "x1");
    /* classes: untagged (0), gpu (1), sessions (2); x1 is w2's */
    for (uint32_t turn = 0; turn < 7; turn++) {
        item = take_full(ctx, ctx->p, "w1", MAX_SESSIONS, &mixed, turn);
        ck_assert_msg(item != NULL, "turn %u: nothing", (unsigned)turn);
        ck_assert_str_eq(item->payload, want[turn]);
        ack(ctx, item);
    }
    for (uint32_t turn = 7; turn < 10; turn++)
        ck_assert_ptr_null(take_full(ctx, ctx->p, "w1", MAX_SESSIONS, &mixed, turn));
    take_expect(ctx, "w2", "x1");
}

static void commit_mixes_session_tagged_and_plain_items(duro_ct_ctx *ctx)
{
    static const char *const gpu[] = {"gpu"};
    static const char *const tags[] = {"gpu", NULL, NULL};
    static const char *const sessions[] = {NULL, "s1", NULL};
    const duro_work_filter only_gpu = {.tags = gpu, .n_tags = 1};
    duro_work_in work[3] = {
        {.instance = "inst", .execution_id = 1, .activity_id = 1, .payload = "g"},
        {.instance = "inst", .execution_id = 1, .activity_id = 2, .payload = "a"},
        {.instance = "inst", .execution_id = 1, .activity_id = 3, .payload = "u"},
    };
    duro_orch_commit c = ct_commit(1, NULL, 0);
    duro_error err = {0};
    duro_work_item *item = NULL;

    begin(ctx);
    c.work = work;
    c.n_work = 3;
    c.work_tags = tags;
    c.work_sessions = sessions;
    ct_turn(ctx, "inst", &c);
    ck_assert_ptr_nonnull(item = ct_try_fetch_work(ctx));
    ck_assert_str_eq(item->payload, "u");
    ack(ctx, item);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ck_assert_int_eq(ctx->p->ops->fetch_work_filtered(ctx->p, ctx->now, ITEM_LOCK_MS, 0,
                                                      &only_gpu, &item, &err), 0);
    ck_assert_str_eq(item->payload, "g");
    ack(ctx, item);
    item = take_full(ctx, ctx->p, "w1", MAX_SESSIONS, &only_gpu, 0); /* gpu empty: sessions */
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "a");
    ck_assert_uint_eq(item->activity_id, 2);
    ack(ctx, item);
    ck_assert_ptr_null(take(ctx, "w1"));
}

static void depths_count_session_items_as_untagged(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_work_in g = {.instance = "inst", .execution_id = 1, .activity_id = 9, .payload = "g"};
    duro_tag_depth *rows = NULL;
    duro_work_item *running;
    size_t n = 0;

    begin(ctx);
    ct_enqueue_work(ctx, "inst", 8, "u");
    ck_assert_int_eq(ctx->p->ops->enqueue_work_tagged(ctx->p, &g, "gpu", &err), 0);
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s1", "b");
    put(ctx, 3, "s1", "c");
    running = hold_expect(ctx, "w1", MAX_SESSIONS, "a");
    ct_abandon_work(ctx, hold_expect(ctx, "w1", MAX_SESSIONS, "b"), 1000, 0);
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 3, 0); /* u, g, c */
    ck_assert_int_eq(ctx->p->ops->queue_depths_by_tag(ctx->p, ctx->now, &rows, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_null(rows[0].tag);
    ck_assert_uint_eq(rows[0].queued, 2);  /* u, c */
    ck_assert_uint_eq(rows[0].locked, 1);  /* a */
    ck_assert_uint_eq(rows[0].delayed, 1); /* b */
    ck_assert_str_eq(rows[1].tag, "gpu");
    ck_assert_uint_eq(rows[1].queued, 1);
    ck_assert_uint_eq(rows[1].locked, 0);
    ck_assert_uint_eq(rows[1].delayed, 0);
    duro_tag_depths_free(rows, n);
    ack(ctx, running);
}

/* ---- Contention (real threads) ----------------------------------------------------------- */

#define DRAINERS 4
#define DRAIN_ITEMS 12
#define DRAIN_ROUNDS 20

typedef struct drain_arg {
    duro_ct_ctx *ctx;
    ct_barrier *start;
    size_t max;
    char worker[8];
    uint64_t got[DRAIN_ITEMS]; /* activity ids, in the order taken */
    size_t n_got;
    int failed;
} drain_arg;

/* Fetch and ack as a->worker until nothing is left for it. */
static void *drain(void *arg)
{
    drain_arg *a = arg;
    duro_provider *p = a->ctx->p;
    duro_work_filter f = only_untagged;

    f.turn = 1;
    ct_barrier_wait(a->start);
    for (;;) {
        duro_error err = {0};
        duro_work_item *item = NULL;
        int rc = p->ops->fetch_work_session(p, a->ctx->now, ITEM_LOCK_MS, 0, &f, a->worker,
                                            LEASE_MS, a->max, &item, &err);

        if (rc == DURO_ENOTFOUND)
            return NULL;
        if (rc != 0 || a->n_got == DRAIN_ITEMS) {
            duro_work_item_free(item);
            a->failed = 1;
            return NULL;
        }
        a->got[a->n_got++] = item->activity_id;
        rc = p->ops->ack_work(p, a->ctx->now, item->lock_token, NULL, &err);
        duro_work_item_free(item);
        if (rc != 0) {
            a->failed = 1;
            return NULL;
        }
    }
}

/* DRAINERS threads drain the queue with session bound `max`; args[] holds what each took. */
static void run_drainers(duro_ct_ctx *ctx, size_t max, drain_arg args[DRAINERS])
{
    pthread_t th[DRAINERS];
    ct_barrier *b = ct_barrier_new(DRAINERS);

    ck_assert_ptr_nonnull(b);
    for (int i = 0; i < DRAINERS; i++) {
        args[i] = (drain_arg){.ctx = ctx, .start = b, .max = max};
        snprintf(args[i].worker, sizeof args[i].worker, "d%d", i);
        ck_assert_int_eq(pthread_create(&th[i], NULL, drain, &args[i]), 0);
    }
    for (int i = 0; i < DRAINERS; i++)
        pthread_join(th[i], NULL);
    ct_barrier_free(b);
    for (int i = 0; i < DRAINERS; i++)
        ck_assert_msg(!args[i].failed, "drainer %d: a fetch or ack failed", i);
}

/* One turn of "inst" committing DRAIN_ITEMS items, activity ids base + 1 .. base +
 * DRAIN_ITEMS in id order, item k in session k % DRAINERS of round `round` ("r<round>-s<j>";
 * only session 0 when `one_session`). */
static void put_drain_round(duro_ct_ctx *ctx, unsigned round, int one_session, uint64_t base)
{
    char names[DRAINERS][16];
    const char *sessions[DRAIN_ITEMS];
    duro_work_in work[DRAIN_ITEMS];
    duro_orch_commit c = ct_commit(1, NULL, 0);

    for (int j = 0; j < DRAINERS; j++)
        snprintf(names[j], sizeof names[j], "r%u-s%d", round, j);
    for (size_t k = 0; k < DRAIN_ITEMS; k++) {
        work[k] = (duro_work_in){.instance = "inst", .execution_id = 1,
                                 .activity_id = base + k + 1, .payload = "item"};
        sessions[k] = names[one_session ? 0 : k % DRAINERS];
    }
    c.work = work;
    c.n_work = DRAIN_ITEMS;
    c.work_sessions = sessions;
    ct_turn(ctx, "inst", &c);
}

static void racers_for_a_new_session_leave_one_owner(duro_ct_ctx *ctx)
{
    begin(ctx);
    for (unsigned round = 0; round < DRAIN_ROUNDS; round++) {
        uint64_t base = (uint64_t)round * DRAIN_ITEMS;
        drain_arg args[DRAINERS];
        int owner = -1;

        put_drain_round(ctx, round, 1, base);
        run_drainers(ctx, MAX_SESSIONS, args);
        for (int i = 0; i < DRAINERS; i++) {
            if (args[i].n_got == 0)
                continue;
            ck_assert_msg(owner < 0, "round %u: drainers %d and %d both got items of one "
                          "session", round, owner, i);
            owner = i;
        }
        ck_assert_int_ge(owner, 0);
        ck_assert_uint_eq(args[owner].n_got, DRAIN_ITEMS);
        for (size_t k = 0; k < DRAIN_ITEMS; k++)
            ck_assert_uint_eq(args[owner].got[k], base + k + 1);
        ck_assert_uint_eq(renew(ctx, args[owner].worker), 1);
        ctx->now += LEASE_MS; /* the next round's session is new to everyone */
    }
}

static void max_sessions_holds_under_contention(duro_ct_ctx *ctx)
{
    begin(ctx);
    for (unsigned round = 0; round < DRAIN_ROUNDS; round++) {
        uint64_t base = (uint64_t)round * DRAIN_ITEMS;
        drain_arg args[DRAINERS];
        unsigned sessions_seen = 0;

        put_drain_round(ctx, round, 0, base);
        run_drainers(ctx, 1, args);
        for (int i = 0; i < DRAINERS; i++) {
            uint64_t first;

            ck_assert_msg(args[i].n_got == DRAIN_ITEMS / DRAINERS,
                          "round %u: drainer %d got %zu items", round, i, args[i].n_got);
            first = args[i].got[0];
            for (size_t k = 0; k < args[i].n_got; k++) /* one session, in id order */
                ck_assert_uint_eq(args[i].got[k], first + k * DRAINERS);
            sessions_seen |= 1u << ((first - base - 1) % DRAINERS);
            ck_assert_uint_eq(renew(ctx, args[i].worker), 1);
        }
        ck_assert_uint_eq(sessions_seen, (1u << DRAINERS) - 1);
        ctx->now += LEASE_MS; /* every lease of this round ends */
    }
}

/* ---- Cancel and delete ------------------------------------------------------------------- */

static void cancel_keeps_the_owner(duro_ct_ctx *ctx)
{
    duro_activity_ref ref = {.execution_id = 1, .activity_id = 2};
    duro_orch_commit c = ct_commit(1, NULL, 0);

    begin(ctx);
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s1", "b");
    take_expect(ctx, "w1", "a");
    c.cancel = &ref;
    c.n_cancel = 1;
    ct_turn(ctx, "inst", &c);
    take_none(ctx, "w1");
    ck_assert_uint_eq(renew(ctx, "w1"), 1);
    put(ctx, 3, "s1", "c");
    take_none(ctx, "w2");
    take_expect(ctx, "w1", "c");
}

static void deleted_instance_keeps_the_owner(duro_ct_ctx *ctx)
{
    duro_delete_result r = {0};
    duro_error err = {0};
    duro_work_item *item;

    begin(ctx);
    ct_create_instance(ctx, "other");
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s1", "b");
    item = hold_expect(ctx, "w1", MAX_SESSIONS, "a");
    ck_assert_int_eq(ctx->p->ops->delete_instance(ctx->p, ctx->now, "inst", 1, &r, &err), 0);
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, item->lock_token, NULL, &err),
                     DURO_ELOCK);
    duro_work_item_free(item);
    take_none(ctx, "w1");
    ck_assert_uint_eq(renew(ctx, "w1"), 1);
    put_in(ctx, "other", 1, "s1", "c");
    take_none(ctx, "w2");
    take_expect(ctx, "w1", "c");
}

/* ---- Invalid calls ----------------------------------------------------------------------- */

static void invalid_calls_extend_no_lease(duro_ct_ctx *ctx)
{
    duro_provider *p = ctx->p;
    duro_error err = {0};
    duro_work_item *item = NULL;
    size_t owned = 7;
    int64_t t0;

    begin(ctx);
    put(ctx, 1, "s1", "a");
    t0 = ctx->now;
    take_expect(ctx, "w1", "a");
    put(ctx, 2, "s1", "b");
    ctx->now = t0 + LEASE_MS - 1;
    ck_assert_int_eq(p->ops->fetch_work_session(p, ctx->now, 0, 0, &only_untagged, "w1",
                                                LEASE_MS, 1, &item, &err), DURO_EINVAL);
    ck_assert_int_eq(p->ops->fetch_work_session(p, ctx->now, ITEM_LOCK_MS, 0, &only_untagged,
                                                "w1", -1, 1, &item, &err), DURO_EINVAL);
    ck_assert_int_eq(p->ops->fetch_work_session(p, ctx->now, ITEM_LOCK_MS, 0, NULL, "w1",
                                                LEASE_MS, 1, &item, &err), DURO_EINVAL);
    ck_assert_ptr_null(item);
    ck_assert_int_eq(p->ops->renew_sessions(p, ctx->now, "w1", -1, IDLE_MS, &owned, &err),
                     DURO_EINVAL);
    ck_assert_int_eq(p->ops->renew_sessions(p, ctx->now, "w1", LEASE_MS, -1, &owned, &err),
                     DURO_EINVAL);
    ck_assert_uint_eq(owned, 7);
    ctx->now = t0 + LEASE_MS;
    take_expect(ctx, "w2", "b");
}

static void worker_id_longer_than_an_id_is_rejected(duro_ct_ctx *ctx)
{
    char big[DURO_MAX_ID_BYTES + 2];
    duro_provider *p = ctx->p;
    duro_error err = {0};
    duro_work_item *item = NULL;
    size_t owned = 7;

    memset(big, 'w', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    begin(ctx);
    put(ctx, 1, "s1", "a");
    put(ctx, 2, "s1", "b");
    ck_assert_int_eq(p->ops->fetch_work_session(p, ctx->now, ITEM_LOCK_MS, 0, &only_untagged,
                                                big, LEASE_MS, 1, &item, &err), DURO_ETOOBIG);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(item);
    ck_assert_int_eq(p->ops->renew_sessions(p, ctx->now, big, LEASE_MS, IDLE_MS, &owned, &err),
                     DURO_ETOOBIG);
    ck_assert_int_eq(p->ops->renew_sessions(p, ctx->now, NULL, LEASE_MS, IDLE_MS, &owned, &err),
                     DURO_EINVAL);
    ck_assert_uint_eq(owned, 7);
    big[DURO_MAX_ID_BYTES] = '\0'; /* exactly the limit: a worker like any other */
    take_expect(ctx, big, "a");
    take_none(ctx, "w2");
    ck_assert_uint_eq(renew(ctx, big), 1);
    take_expect(ctx, big, "b");
}

/* ---- Registry ---------------------------------------------------------------------------- */

DURO_CASES = {
    DURO_CASE(session_items_invisible_to_other_fetches, DURO_CAP_SESSIONS, 0,
              "A session item is invisible to fetch_work and fetch_work_filtered; "
              "fetch_work_session returns it with its fields."),
    DURO_CASE(owner_gets_every_item_of_its_session, DURO_CAP_SESSIONS, 0,
              "The worker whose fetch took a session gets all its items, in order, and "
              "another worker none of them."),
    DURO_CASE(other_worker_none_until_lease_end, DURO_CAP_SESSIONS, 0,
              "Another worker gets nothing of the session until exactly lease_ms after the "
              "owner's last fetch, and then takes it over."),
    DURO_CASE(expired_lease_moves_to_one_worker, DURO_CAP_SESSIONS, 0,
              "After the lease expires the first worker to fetch becomes the one owner: the "
              "old owner and a third worker get nothing."),
    DURO_CASE(takeover_race_has_one_winner, DURO_CAP_SESSIONS, 0,
              "Four threads racing for an expired session: exactly one gets an item and then "
              "owns the session."),
    DURO_CASE(fetch_extends_the_lease, DURO_CAP_SESSIONS, 0,
              "Every fetch of the owner, one that finds nothing too, extends its lease to "
              "now + lease_ms."),
    DURO_CASE(fetch_of_another_class_extends_the_lease, DURO_CAP_SESSIONS, 0,
              "A fetch of the owner that returns an item of another class (untagged) extends "
              "its lease to now + lease_ms as well."),
    DURO_CASE(renew_keeps_the_lease, DURO_CAP_SESSIONS, 0,
              "renew_sessions extends the owner's lease to now + lease_ms and counts it."),
    DURO_CASE(renew_after_expiry_reclaims_nothing, DURO_CAP_SESSIONS, 0,
              "renew_sessions after the lease expired renews nothing, and the session goes "
              "to the next worker that fetches."),
    DURO_CASE(idle_session_is_released, DURO_CAP_SESSIONS, 0,
              "A session with no item for idle_ms is released by its owner's renew, so "
              "another worker takes its next item at once."),
    DURO_CASE(session_with_a_running_item_is_not_idle, DURO_CAP_SESSIONS, 0,
              "A session whose item is still running is never idle: renew keeps it past "
              "idle_ms."),
    DURO_CASE(max_sessions_bounds_new_sessions_only, DURO_CAP_SESSIONS, 0,
              "A worker at max_sessions takes no new session's item but keeps serving its "
              "own; another worker takes the new session."),
    DURO_CASE(max_sessions_zero_takes_no_session, DURO_CAP_SESSIONS, 0,
              "With max_sessions 0 a worker takes no session item but still takes the items "
              "of its filter."),
    DURO_CASE(sessions_and_untagged_alternate, DURO_CAP_SESSIONS, 0,
              "The sessions class comes after the filter's classes in the round robin, so "
              "session and untagged items alternate with the turn."),
    DURO_CASE(sessions_and_tags_alternate, DURO_CAP_SESSIONS | DURO_CAP_TAGS, 0,
              "Sessions and a tag alternate with the turn, an empty class is skipped, and "
              "items the filter does not accept stay queued."),
    DURO_CASE(abandon_keeps_the_session, DURO_CAP_SESSIONS, 0,
              "An abandoned session item (with a delay) comes back to its owner only."),
    DURO_CASE(lock_expiry_within_the_lease_stays_with_the_owner, DURO_CAP_SESSIONS, 0,
              "An item whose lock expired while the lease lives goes back to the owner only; "
              "once both expire, another worker takes it."),
    DURO_CASE(cancel_of_a_session_item, DURO_CAP_SESSIONS, 0,
              "A cancel ref of a commit deletes the queued session item and only it."),
    DURO_CASE(invalid_session_in_a_commit_applies_nothing, DURO_CAP_SESSIONS, 0,
              "A commit with an empty session (DURO_EINVAL), one too long (DURO_ETOOBIG) or a "
              "session item with a tag (DURO_EINVAL) applies nothing and keeps the lock; "
              "a session of exactly DURO_MAX_ID_BYTES works."),
    DURO_CASE(invalid_fetch_and_renew_arguments, DURO_CAP_SESSIONS, 0,
              "A missing or empty worker id, a lease, lock or idle time of 0 or no filter "
              "is DURO_EINVAL, locking and leasing nothing."),
    DURO_CASE(handles_agree_on_owners, DURO_CAP_SESSIONS, DURO_HOOK_ATTACH,
              "Owners and leases are the same through every handle."),
    DURO_CASE(owner_serves_its_session_until_lease_end_only, DURO_CAP_SESSIONS, 0,
              "The owner takes its session's items up to lease_until - 1 even with "
              "max_sessions 0, and at lease_until it no longer owns the session."),
    DURO_CASE(renew_leases_for_its_own_lease_ms, DURO_CAP_SESSIONS, 0,
              "renew_sessions sets the lease to exactly now + its own lease_ms, longer than "
              "the fetch's."),
    DURO_CASE(huge_lease_saturates, DURO_CAP_SESSIONS, 0,
              "A lease (and item lock) of INT64_MAX saturates instead of overflowing: nobody "
              "else takes the session up to INT64_MAX - 1."),
    DURO_CASE(ack_after_the_lease_expired_succeeds, DURO_CAP_SESSIONS, 0,
              "An item whose lock outlives its session's lease is still acked by its holder "
              "while the session's next item goes to the new owner."),
    DURO_CASE(renew_counts_each_owned_session, DURO_CAP_SESSIONS, 0,
              "renew_sessions counts each session the worker owns (2, 1, 0 for three "
              "workers) and releases only the idle one of them."),
    DURO_CASE(renew_touches_only_the_callers_sessions, DURO_CAP_SESSIONS, 0,
              "renew_sessions releases and extends only the caller's sessions, each judged "
              "by the caller's own idle_ms."),
    DURO_CASE(idle_counts_from_the_last_renew_that_saw_an_item, DURO_CAP_SESSIONS, 0,
              "Idle time runs from the last renew_sessions that saw an item of the session "
              "(here a running one), released exactly idle_ms after it."),
    DURO_CASE(delayed_item_keeps_its_session, DURO_CAP_SESSIONS, 0,
              "A session whose only item is hidden by an abandon delay longer than idle_ms "
              "is not idle: its owner keeps it and gets the item back."),
    DURO_CASE(release_frees_a_session_slot, DURO_CAP_SESSIONS, 0,
              "An idle release lowers the worker's count at once: at max_sessions 1 it then "
              "takes a new session's item."),
    DURO_CASE(max_sessions_ignores_an_expired_own_lease, DURO_CAP_SESSIONS, 0,
              "A worker's session whose lease expired does not count towards max_sessions; "
              "the expired session goes to the next worker."),
    DURO_CASE(one_worker_serves_its_sessions_in_id_order, DURO_CAP_SESSIONS, 0,
              "A worker with several sessions gets their items in id order across sessions, "
              "the next one while the previous ones still run."),
    DURO_CASE(two_workers_progress_independently, DURO_CAP_SESSIONS, 0,
              "Two workers at max_sessions 1 each drain their own session of interleaved "
              "items in id order, whatever the other does."),
    DURO_CASE(three_classes_round_robin, DURO_CAP_SESSIONS | DURO_CAP_TAGS, 0,
              "Untagged, a tag and sessions take turns in this order; a session owned by "
              "another worker counts as empty for the round robin."),
    DURO_CASE(commit_mixes_session_tagged_and_plain_items, DURO_CAP_SESSIONS | DURO_CAP_TAGS,
              0, "One commit's plain, tagged and session items each reach only their own "
                 "fetch."),
    DURO_CASE(depths_count_session_items_as_untagged, DURO_CAP_SESSIONS | DURO_CAP_TAGS |
              DURO_CAP_MANAGEMENT, 0,
              "queue_depths and queue_depths_by_tag count session items (queued, locked, "
              "delayed) with the untagged ones."),
    DURO_CASE(racers_for_a_new_session_leave_one_owner, DURO_CAP_SESSIONS, 0,
              "Four threads draining a never-leased session: one of them gets all twelve "
              "items, in id order, and the others none (20 rounds)."),
    DURO_CASE(max_sessions_holds_under_contention, DURO_CAP_SESSIONS, 0,
              "Four threads at max_sessions 1 draining four sessions: each gets exactly one "
              "whole session, in id order (20 rounds)."),
    DURO_CASE(cancel_keeps_the_owner, DURO_CAP_SESSIONS, 0,
              "Cancelling a session's queued item keeps its owner: the next item goes to it "
              "only."),
    DURO_CASE(deleted_instance_keeps_the_owner, DURO_CAP_SESSIONS | DURO_CAP_MANAGEMENT, 0,
              "Deleting an instance deletes its session items (the running one's ack is "
              "DURO_ELOCK) and keeps the session's owner."),
    DURO_CASE(invalid_calls_extend_no_lease, DURO_CAP_SESSIONS, 0,
              "A rejected fetch_work_session or renew_sessions of the owner does not extend "
              "its lease."),
    DURO_CASE(worker_id_longer_than_an_id_is_rejected, DURO_CAP_SESSIONS, 0,
              "A worker id over DURO_MAX_ID_BYTES is DURO_ETOOBIG and a NULL one DURO_EINVAL, "
              "nothing taken; one of exactly the limit works."),
    DURO_CASES_END,
};
