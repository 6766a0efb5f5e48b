/*
 * cancellation.c — conformance category "cancellation": how an orchestration cancels
 * activities. An ack_orch commit lists (execution_id, activity_id) refs in `cancel`; the
 * provider deletes the matching queued work rows of the locked instance after inserting the
 * commit's own work items, ignores refs that match nothing, and leaves every other instance
 * alone. A worker learns that its in-flight item was cancelled because its lock is gone:
 * ack_work, renew_work and abandon_work then fail with DURO_ELOCK (permanent). The last case
 * races a worker's ack against a cancelling orchestrator ack on real threads.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY cancellation

/* Rounds of the worker-ack versus cancel race. */
#define RACE_ROUNDS 200

/* Create `inst` (Running, event 1 "started") in one turn whose commit also schedules
 * activities acts[0..n) of execution 1 with payload "act-<id>", and, when n_cancel > 0,
 * cancels the refs cancel[0..n_cancel) in the same commit. */
static void start_with_work(duro_ct_ctx *ctx, const char *inst, const uint64_t *acts, size_t n,
                            const duro_activity_ref *cancel, size_t n_cancel)
{
    static const duro_event_in started = {1, 1, "started"};
    char payloads[8][32];
    duro_work_in work[8];
    duro_orch_item *it;
    duro_orch_commit c;

    ck_assert_uint_le(n, 8);
    for (size_t i = 0; i < n; i++) {
        snprintf(payloads[i], sizeof payloads[i], "act-%llu", (unsigned long long)acts[i]);
        work[i] = (duro_work_in){inst, 1, acts[i], payloads[i]};
    }
    ct_enqueue_start(ctx, inst);
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, inst);
    c = ct_commit(1, &started, 1);
    c.orch_name = "TestOrch";
    c.orch_version = "1.0.0";
    c.work = work;
    c.n_work = n;
    c.cancel = cancel;
    c.n_cancel = n_cancel;
    ct_ack(ctx, it, &c);
}

/* One turn of `inst` that appends nothing and cancels refs[0..n). */
static void cancel_turn(duro_ct_ctx *ctx, const char *inst, const duro_activity_ref *refs,
                        size_t n)
{
    duro_orch_commit c = ct_commit(1, NULL, 0);

    c.cancel = refs;
    c.n_cancel = n;
    ct_turn(ctx, inst, &c);
}

/* Drain the worker queue at ctx->now and describe what it held, in fetch order, as
 * "inst/execution/activity=payload" joined by commas ("" when empty). The drained items
 * stay locked; the case ends or moves the clock on. */
static void drain_work(duro_ct_ctx *ctx, char *buf, size_t size)
{
    duro_work_item *w;
    size_t used = 0;

    buf[0] = '\0';
    while ((w = ct_try_fetch_work(ctx)) != NULL) {
        int len = snprintf(buf + used, size - used, "%s%s/%llu/%llu=%s", used ? "," : "",
                           w->instance, (unsigned long long)w->execution_id,
                           (unsigned long long)w->activity_id, w->payload);
        ck_assert_int_ge(len, 0);
        ck_assert_uint_lt((size_t)len, size - used);
        used += (size_t)len;
        duro_work_item_free(w);
    }
}

/* The activity-done message a worker sends to `inst` for activity `payload`. */
static duro_msg completion_for(const duro_ct_ctx *ctx, const char *inst, const char *payload)
{
    return (duro_msg){inst, DURO_MSG_ACTIVITY_DONE, 1, ctx->now, payload};
}

static void cancel_deletes_listed_work_items(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1, 2, 3};
    static const duro_activity_ref refs[] = {{1, 1}, {1, 2}};
    char listing[256];

    start_with_work(ctx, "A", acts, 3, NULL, 0);
    cancel_turn(ctx, "A", refs, 2);
    drain_work(ctx, listing, sizeof listing);
    ck_assert_str_eq(listing, "A/1/3=act-3");
}

static void cancel_unknown_refs_are_ignored(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1};
    static const duro_activity_ref refs[] = {{1, 999}, {7, 1}, {1, 0}};
    static const duro_event_in ev = {2, 1, "cancel-unknown"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    char listing[256];

    start_with_work(ctx, "A", acts, 1, NULL, 0);
    c.cancel = refs;
    c.n_cancel = 3;
    ct_turn(ctx, "A", &c);
    ck_assert_uint_eq(ct_history_len(ctx, "A", 0), 2);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    drain_work(ctx, listing, sizeof listing);
    ck_assert_str_eq(listing, "A/1/1=act-1");
}

static void cancel_twice_is_idempotent(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1, 2};
    static const duro_activity_ref refs[] = {{1, 1}};
    static const duro_event_in ev = {2, 1, "second-cancel"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    char listing[256];

    start_with_work(ctx, "A", acts, 2, NULL, 0);
    cancel_turn(ctx, "A", refs, 1);
    c.cancel = refs;
    c.n_cancel = 1;
    ct_turn(ctx, "A", &c);
    ck_assert_uint_eq(ct_history_len(ctx, "A", 0), 2);
    drain_work(ctx, listing, sizeof listing);
    ck_assert_str_eq(listing, "A/1/2=act-2");
}

static void cancel_duplicate_refs_in_one_ack(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1, 2, 3};
    static const duro_activity_ref refs[] = {{1, 2}, {1, 2}, {1, 2}};
    char listing[256];

    start_with_work(ctx, "A", acts, 3, NULL, 0);
    cancel_turn(ctx, "A", refs, 3);
    drain_work(ctx, listing, sizeof listing);
    ck_assert_str_eq(listing, "A/1/1=act-1,A/1/3=act-3");
}

static void cancel_batch_of_five(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1, 2, 3, 4, 5, 6};
    static const duro_activity_ref refs[] = {{1, 1}, {1, 2}, {1, 3}, {1, 4}, {1, 5}};
    static const duro_event_in ev = {2, 1, "cancel-five"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    char listing[256];

    start_with_work(ctx, "A", acts, 6, NULL, 0);
    c.cancel = refs;
    c.n_cancel = 5;
    ct_turn(ctx, "A", &c);
    ck_assert_uint_eq(ct_history_len(ctx, "A", 0), 2);
    drain_work(ctx, listing, sizeof listing);
    ck_assert_str_eq(listing, "A/1/6=act-6");
}

static void cancel_scheduled_in_same_ack_is_deleted(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {2, 3};
    static const duro_activity_ref refs[] = {{1, 2}};
    char listing[256];

    start_with_work(ctx, "A", acts, 2, refs, 1);
    drain_work(ctx, listing, sizeof listing);
    ck_assert_str_eq(listing, "A/1/3=act-3");
}

static void cancel_leaves_other_instances_untouched(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1, 2};
    static const duro_activity_ref refs[] = {{1, 1}, {1, 2}};
    char listing[256];

    start_with_work(ctx, "A", acts, 2, NULL, 0);
    start_with_work(ctx, "B", acts, 2, NULL, 0);
    cancel_turn(ctx, "A", refs, 2);
    drain_work(ctx, listing, sizeof listing);
    ck_assert_str_eq(listing, "B/1/1=act-1,B/1/2=act-2");
}

static void cancel_locked_item_ack_work_fails(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1};
    static const duro_activity_ref refs[] = {{1, 1}};
    duro_work_item *w;
    duro_msg done;
    duro_error err;
    int rc;

    start_with_work(ctx, "A", acts, 1, NULL, 0);
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    cancel_turn(ctx, "A", refs, 1);
    done = completion_for(ctx, "A", "done-1");
    rc = ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, &done, &err);
    ck_assert_int_eq(rc, DURO_ELOCK);
    ck_assert_int_eq(err.code, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    duro_work_item_free(w);
}

static void cancel_locked_item_renew_work_fails(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1};
    static const duro_activity_ref refs[] = {{1, 1}};
    duro_work_item *w;
    duro_error err;
    int rc;

    start_with_work(ctx, "A", acts, 1, NULL, 0);
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    rc = ctx->p->ops->renew_work(ctx->p, ctx->now, w->lock_token, DURO_CT_LOCK_MS, &err);
    ck_assert_int_eq(rc, 0);
    cancel_turn(ctx, "A", refs, 1);
    rc = ctx->p->ops->renew_work(ctx->p, ctx->now, w->lock_token, DURO_CT_LOCK_MS, &err);
    ck_assert_int_eq(rc, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    duro_work_item_free(w);
}

static void cancel_locked_item_abandon_work_fails(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1};
    static const duro_activity_ref refs[] = {{1, 1}};
    duro_work_item *w;
    duro_error err;
    int rc;

    start_with_work(ctx, "A", acts, 1, NULL, 0);
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    cancel_turn(ctx, "A", refs, 1);
    rc = ctx->p->ops->abandon_work(ctx->p, ctx->now, w->lock_token, 0, 0, &err);
    ck_assert_int_eq(rc, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ctx->now += DURO_CT_LOCK_MS + 1;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    duro_work_item_free(w);
}

static void cancel_deletes_item_with_expired_lock(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1};
    static const duro_activity_ref refs[] = {{1, 1}};
    duro_work_item *w;
    duro_msg done;
    duro_error err;
    int rc;

    start_with_work(ctx, "A", acts, 1, NULL, 0);
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ctx->now += DURO_CT_LOCK_MS + 1;
    cancel_turn(ctx, "A", refs, 1);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    done = completion_for(ctx, "A", "done-1");
    rc = ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, &done, &err);
    ck_assert_int_eq(rc, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    duro_work_item_free(w);
}

static void cancel_keeps_delivered_completion(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1};
    static const duro_activity_ref refs[] = {{1, 1}};
    duro_orch_item *it;
    duro_work_item *w;
    duro_orch_commit c = ct_commit(1, NULL, 0);
    duro_msg done;
    duro_error err;
    int rc;

    start_with_work(ctx, "A", acts, 1, NULL, 0);
    it = ct_poke(ctx, "A");
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    done = completion_for(ctx, "A", "done-1");
    rc = ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, &done, &err);
    ck_assert_int_eq(rc, 0);
    duro_work_item_free(w);
    c.cancel = refs;
    c.n_cancel = 1;
    ct_ack(ctx, it, &c);
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "A");
    ck_assert_uint_eq(it->n_msgs, 1);
    ck_assert_int_eq(it->msgs[0].kind, DURO_MSG_ACTIVITY_DONE);
    ck_assert_str_eq(it->msgs[0].payload, "done-1");
    duro_orch_item_free(it);
}

static void cancel_not_applied_when_ack_fails(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1};
    static const duro_activity_ref refs[] = {{1, 1}};
    static const duro_event_in dup = {1, 1, "duplicate"};
    duro_orch_commit c = ct_commit(1, &dup, 1);
    duro_orch_item *it;
    duro_error err;
    char listing[256];
    int rc;

    start_with_work(ctx, "A", acts, 1, NULL, 0);
    it = ct_poke(ctx, "A");
    c.cancel = refs;
    c.n_cancel = 1;
    rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, it->lock_token, &c, &err);
    ck_assert_int_eq(rc, DURO_ECONSTRAINT);
    ck_assert_int_eq(err.retryable, 0);
    drain_work(ctx, listing, sizeof listing);
    ck_assert_str_eq(listing, "A/1/1=act-1");
    duro_orch_item_free(it);
}

static void cancel_not_applied_with_expired_orch_lock(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1};
    static const duro_activity_ref refs[] = {{1, 1}};
    duro_orch_commit c = ct_commit(1, NULL, 0);
    duro_orch_item *it;
    duro_error err;
    char listing[256];
    int rc;

    start_with_work(ctx, "A", acts, 1, NULL, 0);
    it = ct_poke(ctx, "A");
    ctx->now += DURO_CT_LOCK_MS + 1;
    c.cancel = refs;
    c.n_cancel = 1;
    rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, it->lock_token, &c, &err);
    ck_assert_int_eq(rc, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    drain_work(ctx, listing, sizeof listing);
    ck_assert_str_eq(listing, "A/1/1=act-1");
    duro_orch_item_free(it);
}

static void null_completion_ack_enqueues_nothing(duro_ct_ctx *ctx)
{
    static const uint64_t acts[] = {1, 2};
    static const duro_activity_ref refs[] = {{1, 2}};
    duro_orch_commit c = ct_commit(1, NULL, 0);
    duro_orch_item *it;
    duro_work_item *w;
    duro_error err;
    char listing[256];
    int rc;

    start_with_work(ctx, "A", acts, 2, NULL, 0);
    it = ct_poke(ctx, "A");
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(w->activity_id, 1);
    rc = ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, NULL, &err);
    ck_assert_int_eq(rc, 0);
    duro_work_item_free(w);
    c.cancel = refs;
    c.n_cancel = 1;
    ct_ack(ctx, it, &c);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now += DURO_CT_LOCK_MS + 1;
    drain_work(ctx, listing, sizeof listing);
    ck_assert_str_eq(listing, "");
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

/* ---- Worker ack racing a cancelling orchestrator ack ------------------------------------- */

typedef struct race {
    duro_provider *p;
    ct_barrier *barrier;
    int64_t now;
    const char *work_token;
    const duro_msg *completion;
    const char *orch_token;
    const duro_orch_commit *commit;
    int work_rc;
    int orch_rc;
    duro_error work_err;
    duro_error orch_err;
} race;

static void *race_worker(void *arg)
{
    race *r = arg;

    ct_barrier_wait(r->barrier);
    r->work_rc = r->p->ops->ack_work(r->p, r->now, r->work_token, r->completion, &r->work_err);
    return NULL;
}

static void *race_orchestrator(void *arg)
{
    race *r = arg;

    ct_barrier_wait(r->barrier);
    r->orch_rc = r->p->ops->ack_orch(r->p, r->now, r->orch_token, r->commit, &r->orch_err);
    return NULL;
}

/* One round: instance `inst` has activity 1 locked by a worker and is itself locked by an
 * orchestrator turn that cancels activity 1; both acks start together. Afterwards the row
 * must be gone, and a completion exists exactly when the worker's ack succeeded. */
static void race_round(duro_ct_ctx *ctx, ct_barrier *barrier, const char *inst)
{
    static const uint64_t acts[] = {1};
    static const duro_activity_ref refs[] = {{1, 1}};
    static const duro_event_in ev = {2, 1, "cancel"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    duro_orch_item *it;
    duro_work_item *w;
    duro_msg done;
    pthread_t tw, to;
    race r;
    int worker_won;

    start_with_work(ctx, inst, acts, 1, NULL, 0);
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(w->instance, inst);
    it = ct_poke(ctx, inst);
    c.cancel = refs;
    c.n_cancel = 1;
    done = completion_for(ctx, inst, "done");
    memset(&r, 0, sizeof r);
    r.p = ctx->p;
    r.barrier = barrier;
    r.now = ctx->now;
    r.work_token = w->lock_token;
    r.completion = &done;
    r.orch_token = it->lock_token;
    r.commit = &c;
    ck_assert_int_eq(pthread_create(&tw, NULL, race_worker, &r), 0);
    ck_assert_int_eq(pthread_create(&to, NULL, race_orchestrator, &r), 0);
    ck_assert_int_eq(pthread_join(tw, NULL), 0);
    ck_assert_int_eq(pthread_join(to, NULL), 0);
    duro_work_item_free(w);
    duro_orch_item_free(it);

    ck_assert_int_eq(r.orch_rc, 0);
    worker_won = r.work_rc == 0;
    ck_assert_int_eq(worker_won || r.work_rc == DURO_ELOCK, 1);
    ck_assert_int_eq(worker_won || r.work_err.retryable == 0, 1);

    ctx->now += DURO_CT_LOCK_MS + 1;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    it = ct_try_fetch(ctx);
    ck_assert_int_eq(it != NULL, worker_won);
    if (it != NULL) {
        duro_orch_commit drain = ct_commit(1, NULL, 0);

        ck_assert_str_eq(it->instance, inst);
        ck_assert_uint_eq(it->n_msgs, 1);
        ck_assert_int_eq(it->msgs[0].kind, DURO_MSG_ACTIVITY_DONE);
        ck_assert_str_eq(it->msgs[0].payload, "done");
        ct_ack(ctx, it, &drain);
    }
    ck_assert_uint_eq(ct_history_len(ctx, inst, 0), 2);
}

static void cancel_races_worker_ack(duro_ct_ctx *ctx)
{
    ct_barrier *barrier = ct_barrier_new(2);

    ck_assert_ptr_nonnull(barrier);
    for (unsigned round = 0; round < RACE_ROUNDS; round++) {
        char inst[32];

        snprintf(inst, sizeof inst, "race-%u", round);
        race_round(ctx, barrier, inst);
    }
    ct_barrier_free(barrier);
}

DURO_CASES = {
    DURO_CASE(cancel_deletes_listed_work_items, 0, 0,
              "An ack's cancel list deletes exactly the listed queued work rows of the "
              "instance and no others."),
    DURO_CASE(cancel_unknown_refs_are_ignored, 0, 0,
              "Cancel refs that match no queued row are ignored: the ack succeeds, applies the "
              "rest of its commit and deletes nothing."),
    DURO_CASE(cancel_twice_is_idempotent, 0, 0,
              "Cancelling an activity that an earlier turn already cancelled succeeds and "
              "changes nothing else."),
    DURO_CASE(cancel_duplicate_refs_in_one_ack, 0, 0,
              "The same ref listed several times in one cancel list deletes that one row and "
              "succeeds."),
    DURO_CASE(cancel_batch_of_five, 0, 0,
              "Five activities cancelled in one ack are all deleted while the sixth stays "
              "queued."),
    DURO_CASE(cancel_scheduled_in_same_ack_is_deleted, 0, 0,
              "An activity scheduled and cancelled by the same commit ends deleted, because "
              "work items are inserted before cancel refs are applied."),
    DURO_CASE(cancel_leaves_other_instances_untouched, 0, 0,
              "Cancel refs apply only to the locked instance: another instance's rows with the "
              "same execution and activity ids stay queued."),
    DURO_CASE(cancel_locked_item_ack_work_fails, 0, 0,
              "A cancelled in-flight item's ack_work fails with DURO_ELOCK (not retryable) and "
              "its completion is never enqueued."),
    DURO_CASE(cancel_locked_item_renew_work_fails, 0, 0,
              "renew_work of a cancelled in-flight item fails with DURO_ELOCK (not retryable): "
              "this is how a worker learns of cancellation."),
    DURO_CASE(cancel_locked_item_abandon_work_fails, 0, 0,
              "abandon_work of a cancelled in-flight item fails with DURO_ELOCK and does not "
              "bring the item back, not even after its lock would have expired."),
    DURO_CASE(cancel_deletes_item_with_expired_lock, 0, 0,
              "Cancellation deletes a row whose worker lock has expired, and the old worker's "
              "later ack_work fails with DURO_ELOCK."),
    DURO_CASE(cancel_keeps_delivered_completion, 0, 0,
              "Cancelling an activity whose completion was already delivered succeeds and "
              "keeps the completion message queued for the next turn."),
    DURO_CASE(cancel_not_applied_when_ack_fails, 0, 0,
              "A cancel list in an ack that fails (duplicate event id) deletes nothing."),
    DURO_CASE(cancel_not_applied_with_expired_orch_lock, 0, 0,
              "A cancel list in an ack whose orchestration lock expired fails with DURO_ELOCK "
              "and deletes nothing."),
    DURO_CASE(null_completion_ack_enqueues_nothing, 0, 0,
              "A worker that acks with a NULL completion while its orchestration is mid-turn "
              "deletes its item and enqueues nothing; with the turn's cancel of the other "
              "activity the worker queue ends empty and no orchestrator message is left."),
    DURO_CASE(cancel_races_worker_ack, 0, 0,
              "A worker's ack racing a cancelling orchestrator ack (200 rounds, two threads at "
              "a barrier) ends with the row gone and a completion exactly when the worker's "
              "ack succeeded."),
    DURO_CASES_END,
};
