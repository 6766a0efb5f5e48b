/*
 * handles.c — conformance category "handles": several handles on one store, opened through
 * the factory's locate and attach hooks as other processes would open them (no in-process
 * wake-ups cross handles). Locks, tokens, queues and counts are store state: a lock taken
 * on one handle blocks fetches on every other, a token may be used on any handle, and every
 * read and count agrees across handles. Work committed through one handle wakes a fetch
 * long-polling on another within DURO_PROVIDER_RECHECK_MS (duro-provider.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suite.h"

#define DURO_CATEGORY handles

/* Real-time slack, on top of DURO_PROVIDER_RECHECK_MS, for a loaded machine to schedule the
 * woken thread. */
#define CT_WAKE_SLACK_MS 250
/* How long the long-polling fetch on the other handle waits at most. */
#define CT_POLL_MS 5000
/* Real time the poller has been waiting before the work arrives. */
#define CT_ARRIVAL_MS 150

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* A long-polling fetch on another handle, run on its own thread (no ck_assert there). */
typedef struct poller {
    duro_provider *p;
    int64_t now;
    int work;                  /* 1: fetch_work, 0: fetch_orch */
    int rc;
    duro_orch_item *orch;
    duro_work_item *item;
    int64_t returned_ms;       /* mono_ms() when the fetch returned */
} poller;

static void *poll_thread(void *arg)
{
    poller *pl = arg;
    duro_error err = {0};

    if (pl->work)
        pl->rc = pl->p->ops->fetch_work(pl->p, pl->now, DURO_CT_LOCK_MS, CT_POLL_MS, &pl->item,
                                        &err);
    else
        pl->rc = pl->p->ops->fetch_orch(pl->p, pl->now, DURO_CT_LOCK_MS, CT_POLL_MS, &pl->orch,
                                        &err);
    pl->returned_ms = mono_ms();
    return NULL;
}

/* Start a long poll on handle b, enqueue on ctx->p after CT_ARRIVAL_MS, and return the ms
 * from the enqueue's return to the fetch's return. */
static int64_t wake_across(duro_ct_ctx *ctx, poller *pl)
{
    pthread_t th;
    int64_t sent;

    ck_assert_int_eq(pthread_create(&th, NULL, poll_thread, pl), 0);
    sleep_ms(CT_ARRIVAL_MS);
    if (pl->work) {
        ct_enqueue_work(ctx, "a", 7, "w7");
    } else {
        ct_enqueue_start(ctx, "x");
    }
    sent = mono_ms();
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    return pl->returned_ms - sent;
}

static void long_poll_fetch_orch_woken_across_handles(duro_ct_ctx *ctx)
{
    duro_provider *b = ct_attach(ctx);
    poller pl = {b, ctx->now, 0, 0, NULL, NULL, 0};
    int64_t waited = wake_across(ctx, &pl);

    ck_assert_int_eq(pl.rc, 0);
    ck_assert_str_eq(pl.orch->instance, "x");
    ck_assert_uint_eq(pl.orch->n_msgs, 1);
    ck_assert_str_eq(pl.orch->msgs[0].payload, "start:x");
    ck_assert_msg(waited >= 0 && waited <= DURO_PROVIDER_RECHECK_MS + CT_WAKE_SLACK_MS,
                  "the fetch on the other handle returned %lld ms after the enqueue (bound %d "
                  "ms + %d ms slack)", (long long)waited, DURO_PROVIDER_RECHECK_MS,
                  CT_WAKE_SLACK_MS);
    duro_orch_item_free(pl.orch);
    duro_provider_destroy(b);
}

static void long_poll_fetch_work_woken_across_handles(duro_ct_ctx *ctx)
{
    duro_provider *b = ct_attach(ctx);
    poller pl = {b, ctx->now, 1, 0, NULL, NULL, 0};
    int64_t waited = wake_across(ctx, &pl);

    ck_assert_int_eq(pl.rc, 0);
    ck_assert_str_eq(pl.item->instance, "a");
    ck_assert_uint_eq(pl.item->activity_id, 7);
    ck_assert_str_eq(pl.item->payload, "w7");
    ck_assert_msg(waited >= 0 && waited <= DURO_PROVIDER_RECHECK_MS + CT_WAKE_SLACK_MS,
                  "the fetch on the other handle returned %lld ms after the enqueue (bound %d "
                  "ms + %d ms slack)", (long long)waited, DURO_PROVIDER_RECHECK_MS,
                  CT_WAKE_SLACK_MS);
    duro_work_item_free(pl.item);
    duro_provider_destroy(b);
}

static void orch_lock_and_token_shared_across_handles(duro_ct_ctx *ctx)
{
    const duro_event_in ev[] = {{1, 1, "by-b"}};
    duro_orch_commit c = ct_commit(1, ev, 1);
    duro_provider *b = ct_attach(ctx);
    duro_orch_item *it = NULL;
    duro_error err = {0};
    duro_instance_info info;

    ct_enqueue_start(ctx, "x");
    duro_orch_item *mine = ct_fetch(ctx);
    ck_assert_int_eq(b->ops->fetch_orch(b, ctx->now, DURO_CT_LOCK_MS, 0, &it, &err),
                     DURO_ENOTFOUND);
    ck_assert_int_eq(b->ops->renew_orch(b, ctx->now, mine->lock_token, 2 * DURO_CT_LOCK_MS,
                                        &err), 0);
    ctx->now += DURO_CT_LOCK_MS; /* past the fetch's lock, inside the renewal */
    ck_assert_int_eq(b->ops->fetch_orch(b, ctx->now, DURO_CT_LOCK_MS, 0, &it, &err),
                     DURO_ENOTFOUND);
    c.orch_name = "TestOrch";
    ck_assert_int_eq(b->ops->ack_orch(b, ctx->now, mine->lock_token, &c, &err), 0);
    ck_assert_int_eq(ct_ack_rc(ctx, mine->lock_token, &c, &err), DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    duro_orch_item_free(mine);
    ct_instance_info(ctx, "x", &info);
    ck_assert_str_eq(info.orch_name, "TestOrch");
    duro_instance_info_clear(&info);
    ck_assert_uint_eq(ct_history_len(ctx, "x", 0), 1);
    duro_provider_destroy(b);
}

static void orch_lock_expiry_agrees_across_handles(duro_ct_ctx *ctx)
{
    const int64_t t0 = ctx->now;
    duro_provider *b = ct_attach(ctx);
    duro_orch_item *it = NULL;
    duro_error err = {0};
    duro_orch_commit c = ct_commit(1, NULL, 0);

    ct_enqueue_start(ctx, "x");
    duro_orch_item *mine = ct_fetch(ctx);
    ck_assert_int_eq(b->ops->fetch_orch(b, t0 + DURO_CT_LOCK_MS - 1, DURO_CT_LOCK_MS, 0, &it,
                                        &err), DURO_ENOTFOUND);
    ck_assert_int_eq(b->ops->fetch_orch(b, t0 + DURO_CT_LOCK_MS, DURO_CT_LOCK_MS, 0, &it, &err),
                     0);
    ck_assert_str_eq(it->instance, "x");
    ck_assert_uint_eq(it->attempt, 2);
    ctx->now = t0 + DURO_CT_LOCK_MS;
    c.orch_name = "TestOrch";
    ck_assert_int_eq(ct_ack_rc(ctx, mine->lock_token, &c, &err), DURO_ELOCK);
    ck_assert_int_eq(ct_ack_rc(ctx, it->lock_token, &c, &err), 0);
    duro_orch_item_free(mine);
    duro_orch_item_free(it);
    duro_provider_destroy(b);
}

static void work_lock_and_token_shared_across_handles(duro_ct_ctx *ctx)
{
    const duro_msg done = {"a", DURO_MSG_ACTIVITY_DONE, 1, ctx->now, "done-1"};
    duro_provider *b = ct_attach(ctx);
    duro_work_item *w = NULL;
    duro_error err = {0};

    ct_make_instance(ctx, "a", NULL, 1, 1, 0, NULL);
    duro_work_item *mine = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(mine);
    ck_assert_int_eq(b->ops->fetch_work(b, ctx->now, DURO_CT_LOCK_MS, 0, &w, &err),
                     DURO_ENOTFOUND);
    ck_assert_int_eq(b->ops->renew_work(b, ctx->now, mine->lock_token, 2 * DURO_CT_LOCK_MS,
                                        &err), 0);
    ctx->now += DURO_CT_LOCK_MS;
    ck_assert_int_eq(b->ops->fetch_work(b, ctx->now, DURO_CT_LOCK_MS, 0, &w, &err),
                     DURO_ENOTFOUND);
    ck_assert_int_eq(b->ops->ack_work(b, ctx->now, mine->lock_token, &done, &err), 0);
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, mine->lock_token, &done, &err),
                     DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    duro_work_item_free(mine);
    duro_orch_item *it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "a");
    ck_assert_uint_eq(it->n_msgs, 1);
    ck_assert_str_eq(it->msgs[0].payload, "done-1");
    duro_orch_item_free(it);
    duro_provider_destroy(b);
}

static void reads_and_counts_agree_across_handles(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"a", "b", "c", "queued"};
    const size_t n_ids = sizeof ids / sizeof ids[0];
    duro_provider *b = ct_attach(ctx);
    duro_error err = {0};
    const duro_msg m = {"b", DURO_MSG_EVENT, 0, ctx->now + 5000, "later"};
    duro_work_in w = {"c", 1, 5, "w5"};

    ct_require_management(ctx);
    ct_make_instance(ctx, "a", NULL, 3, 2, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "b", NULL, 2, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "c", "a", 1, 0, 0, NULL);
    ck_assert_int_eq(b->ops->enqueue_orch(b, &m, &err), 0);
    ck_assert_int_eq(b->ops->enqueue_work(b, &w, &err), 0);
    ct_enqueue_start(ctx, "queued");
    duro_orch_item *locked = ct_fetch(ctx);
    duro_work_item *wl = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(wl);

    char *on_a = ct_dump_store(ctx, ctx->p, ids, n_ids);
    char *on_b = ct_dump_store(ctx, b, ids, n_ids);
    ck_assert_msg(strcmp(on_a, on_b) == 0, "handles disagree.\nfirst:\n%s\nsecond:\n%s", on_a,
                  on_b);
    ck_assert_ptr_nonnull(strstr(on_a, "depths at +0: rc 0 orch 0 work 2 delayed 1\n"));
    free(on_a);
    free(on_b);
    duro_orch_item_free(locked);
    duro_work_item_free(wl);
    duro_provider_destroy(b);
}

DURO_CASES = {
    DURO_CASE(long_poll_fetch_orch_woken_across_handles, DURO_CAP_LONG_POLL, DURO_HOOK_ATTACH,
              "A fetch_orch long-polling on one handle returns the START enqueued through "
              "another handle within DURO_PROVIDER_RECHECK_MS (plus 250 ms of scheduling "
              "slack) of the enqueue, well before its poll ends."),
    DURO_CASE(long_poll_fetch_work_woken_across_handles, DURO_CAP_LONG_POLL, DURO_HOOK_ATTACH,
              "A fetch_work long-polling on one handle returns the work item enqueued through "
              "another handle within DURO_PROVIDER_RECHECK_MS (plus 250 ms of slack)."),
    DURO_CASE(orch_lock_and_token_shared_across_handles, 0, DURO_HOOK_ATTACH,
              "An instance locked on one handle is not fetchable on another; the other handle "
              "can renew and ack with the token, after which the first handle's ack with it "
              "fails with DURO_ELOCK, not retryable."),
    DURO_CASE(orch_lock_expiry_agrees_across_handles, 0, DURO_HOOK_ATTACH,
              "A lock taken on one handle at T for L is held on another handle at T + L - 1 "
              "and free at T + L, where the other handle's fetch takes it at attempt 2 and the "
              "old token is dead on the first."),
    DURO_CASE(work_lock_and_token_shared_across_handles, 0, DURO_HOOK_ATTACH,
              "A work item locked on one handle is not fetchable on another, which can renew "
              "and ack it with the token; the first handle's ack then fails with DURO_ELOCK "
              "and the completion is enqueued once."),
    DURO_CASE(reads_and_counts_agree_across_handles, DURO_CAP_MANAGEMENT, DURO_HOOK_ATTACH,
              "After writes through two handles, with locks held, a full dump of the store "
              "(instances, executions, histories, children, queue depths, metrics) is the same "
              "on both."),
    DURO_CASES_END,
};
