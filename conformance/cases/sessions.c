/*
 * sessions.c — conformance cases for activity sessions (ops version 6, DURO_CAP_SESSIONS):
 * a work item of a commit may belong to a session; only fetch_work_session returns session
 * items, and only to the worker that owns the session while its lease lives; the first
 * fetch of a session nobody owns takes the lease, every fetch and renew_sessions of the
 * owner extend it, an idle session is released, max_sessions bounds the sessions a worker
 * takes, and the sessions class takes its turn with the filter's classes. All on the
 * virtual clock; the take-over race runs on real threads. Every case is skipped, with the
 * reason, for a provider without DURO_CAP_SESSIONS.
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

/* Commit one work item (instance "inst", execution 1, activity_id) in `session` with
 * `payload`, asserting success. */
static void put(duro_ct_ctx *ctx, uint64_t activity_id, const char *session,
                const char *payload)
{
    const char *sessions[1] = {session};
    duro_work_in w = {.instance = "inst", .execution_id = 1, .activity_id = activity_id,
                      .payload = payload};
    duro_orch_commit c = ct_commit(1, NULL, 0);

    c.work = &w;
    c.n_work = 1;
    c.work_sessions = sessions;
    ct_turn(ctx, "inst", &c);
}

/* fetch_work_session on `p` at ctx->now as `worker` (bound `max`, filter `f`, turn
 * `turn`): the item or NULL on DURO_ENOTFOUND (anything else fails the case). */
static duro_work_item *take_full(duro_ct_ctx *ctx, duro_provider *p, const char *worker,
                                 size_t max, const duro_work_filter *f, uint32_t turn)
{
    duro_error err = {0};
    duro_work_item *item = NULL;
    duro_work_filter g = *f;
    int rc;

    g.turn = turn;
    rc = p->ops->fetch_work_session(p, ctx->now, ITEM_LOCK_MS, 0, &g, worker, LEASE_MS, max,
                                    &item, &err);
    if (rc == DURO_ENOTFOUND) {
        ck_assert_ptr_null(item);
        return NULL;
    }
    ck_assert_msg(rc == 0 && item != NULL, "fetch_work_session(%s) failed: %s (%s)", worker,
                  duro_strerror(rc), err.message);
    return item;
}

/* The session class first (turn 1 of an untagged filter: classes untagged, sessions). */
static duro_work_item *take(duro_ct_ctx *ctx, const char *worker)
{
    return take_full(ctx, ctx->p, worker, MAX_SESSIONS, &only_untagged, 1);
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

/* renew_sessions of `worker` at ctx->now: the number it owns after. */
static size_t renew(duro_ct_ctx *ctx, const char *worker)
{
    duro_error err = {0};
    size_t owned = 999;
    int rc = ctx->p->ops->renew_sessions(ctx->p, ctx->now, worker, LEASE_MS, IDLE_MS, &owned,
                                         &err);

    ck_assert_msg(rc == 0, "renew_sessions(%s) failed: %s (%s)", worker, duro_strerror(rc),
                  err.message);
    return owned;
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
    DURO_CASES_END,
};
