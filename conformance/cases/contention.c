/*
 * contention.c — conformance category "contention": error classification under real storage
 * contention, through the factory's hold_write_lock hook (another connection holds the
 * store's write lock, as another process would, while a handle with a short busy wait makes
 * its calls). A call that meets the contention fails with DURO_EBUSY, retryable, applies
 * nothing and succeeds unchanged once the lock is released; a lost lock (expired token) is
 * DURO_ELOCK, permanent. A factory that cannot lock its store from outside (an in-memory
 * database) leaves the hook NULL and these cases are skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY contention

/* How long the busy handle waits for the store's lock before it gives up. */
#define CT_BUSY_MS 40

static const char *const dump_ids[] = {"a", "b"};

static char *dump(duro_ct_ctx *ctx)
{
    return ct_dump_store(ctx, ctx->p, dump_ids, sizeof dump_ids / sizeof dump_ids[0]);
}

/* Take the store's write lock from outside; *busy is the short-waiting handle. */
static void *hold(duro_ct_ctx *ctx, duro_provider **busy)
{
    const duro_provider_factory *f = ctx->factory;
    duro_error err = {0};
    void *h = NULL;
    int rc = f->hold_write_lock(f->ud, ctx->p, CT_BUSY_MS, busy, &h, &err);

    ck_assert_msg(rc == 0 && *busy != NULL, "hold_write_lock failed: %s (%s)",
                  duro_strerror(rc), err.message);
    return h;
}

static void release(duro_ct_ctx *ctx, void *h)
{
    ctx->factory->release_write_lock(ctx->factory->ud, h);
}

/* Assert a call's outcome was DURO_EBUSY with retryable 1. */
#define EXPECT_BUSY(what, call)                                                                \
    do {                                                                                       \
        memset(&err, 0, sizeof err);                                                           \
        int rc_ = (call);                                                                      \
        ck_assert_msg(rc_ == DURO_EBUSY && err.code == DURO_EBUSY && err.retryable == 1,       \
                      "%s under contention: %s (err %s, retryable %d, %s), expected "          \
                      "DURO_EBUSY retryable", what, duro_err_name(rc_),                        \
                      duro_err_name(err.code), err.retryable, err.message);                    \
    } while (0)

/* "a" Running with one event and work item (1, 1) "work"; "b" Completed. "a" locked with
 * an EVENT "poke"; its work item locked by a worker. */
static void setup(duro_ct_ctx *ctx, duro_orch_item **a, duro_work_item **w)
{
    ct_require_management(ctx);
    ct_make_instance(ctx, "a", NULL, 1, 1, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "b", NULL, 2, 0, DURO_STATE_COMPLETED, "out");
    ctx->now += DURO_CT_STEP_MS;
    *a = ct_poke(ctx, "a");
    *w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(*w);
}

static void busy_ack_orch_retryable_nothing_applied(duro_ct_ctx *ctx)
{
    const duro_event_in ev[] = {{2, 1, "e2"}};
    const duro_work_in wk = {"a", 1, 2, "w2"};
    const duro_msg m = {"b", DURO_MSG_EVENT, 0, ctx->now, "to-b"};
    duro_orch_commit c = ct_commit(1, ev, 1);
    duro_orch_item *a;
    duro_work_item *w;
    duro_provider *busy;
    duro_error err;

    setup(ctx, &a, &w);
    c.state = DURO_STATE_COMPLETED;
    c.output = "done";
    c.set_custom_status = 1;
    c.custom_status = "cs";
    c.work = &wk;
    c.n_work = 1;
    c.msgs = &m;
    c.n_msgs = 1;
    char *before = dump(ctx);
    void *h = hold(ctx, &busy);
    EXPECT_BUSY("ack_orch", busy->ops->ack_orch(busy, ctx->now, a->lock_token, &c, &err));
    release(ctx, h);
    char *after = dump(ctx);
    ck_assert_msg(strcmp(before, after) == 0, "a busy ack changed the store.\nbefore:\n%s\n"
                  "after:\n%s", before, after);
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(busy->ops->ack_orch(busy, ctx->now, a->lock_token, &c, &err), 0);
    duro_instance_info info;
    ct_instance_info(ctx, "a", &info);
    ck_assert_int_eq(info.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(info.custom_status, "cs");
    duro_instance_info_clear(&info);
    ck_assert_uint_eq(ct_history_len(ctx, "a", 0), 2);
    free(before);
    free(after);
    duro_orch_item_free(a);
    duro_work_item_free(w);
    duro_provider_destroy(busy);
}

static void busy_write_calls_retryable_nothing_applied(duro_ct_ctx *ctx)
{
    const duro_msg m = {"a", DURO_MSG_EVENT, 0, ctx->now, "m"};
    const duro_work_in wk = {"a", 1, 9, "w9"};
    const duro_msg done = {"a", DURO_MSG_ACTIVITY_DONE, 1, ctx->now, "done"};
    const duro_bulk_filter all = {NULL, 0, 0, 0};
    const duro_prune_options keep = {0, 0};
    duro_orch_item *a, *it = NULL;
    duro_work_item *w, *wi = NULL;
    duro_delete_result r;
    duro_provider *busy;
    duro_error err;
    int64_t now;

    setup(ctx, &a, &w);
    ct_enqueue_start(ctx, "x"); /* fetchable, so a fetch has something to write */
    ct_enqueue_work(ctx, "b", 3, "w3");
    now = ctx->now;
    char *before = dump(ctx);
    void *h = hold(ctx, &busy);
    EXPECT_BUSY("enqueue_orch", busy->ops->enqueue_orch(busy, &m, &err));
    EXPECT_BUSY("fetch_orch", busy->ops->fetch_orch(busy, now, DURO_CT_LOCK_MS, 0, &it, &err));
    EXPECT_BUSY("renew_orch", busy->ops->renew_orch(busy, now, a->lock_token, 1000, &err));
    EXPECT_BUSY("abandon_orch", busy->ops->abandon_orch(busy, now, a->lock_token, 0, 0, &err));
    EXPECT_BUSY("enqueue_work", busy->ops->enqueue_work(busy, &wk, &err));
    EXPECT_BUSY("fetch_work", busy->ops->fetch_work(busy, now, DURO_CT_LOCK_MS, 0, &wi, &err));
    EXPECT_BUSY("renew_work", busy->ops->renew_work(busy, now, w->lock_token, 1000, &err));
    EXPECT_BUSY("abandon_work", busy->ops->abandon_work(busy, now, w->lock_token, 0, 0, &err));
    EXPECT_BUSY("ack_work", busy->ops->ack_work(busy, now, w->lock_token, &done, &err));
    EXPECT_BUSY("delete_instance", busy->ops->delete_instance(busy, now, "b", 0, &r, &err));
    EXPECT_BUSY("delete_bulk", busy->ops->delete_bulk(busy, now, &all, &r, &err));
    EXPECT_BUSY("prune", busy->ops->prune(busy, now, "b", &keep, &r, &err));
    release(ctx, h);
    ck_assert_ptr_null(it);
    ck_assert_ptr_null(wi);
    char *after = dump(ctx);
    ck_assert_msg(strcmp(before, after) == 0, "busy calls changed the store.\nbefore:\n%s\n"
                  "after:\n%s", before, after);
    /* the same calls succeed unchanged once the lock is gone */
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(busy->ops->ack_work(busy, now, w->lock_token, &done, &err), 0);
    ck_assert_int_eq(busy->ops->delete_instance(busy, now, "b", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 2, 1);
    free(before);
    free(after);
    duro_orch_item_free(a);
    duro_work_item_free(w);
    duro_provider_destroy(busy);
}

static void lost_lock_is_permanent_nothing_applied(duro_ct_ctx *ctx)
{
    const duro_event_in ev[] = {{2, 1, "e2"}};
    const duro_msg done = {"a", DURO_MSG_ACTIVITY_DONE, 1, ctx->now, "done"};
    duro_orch_commit c = ct_commit(1, ev, 1);
    duro_orch_item *a;
    duro_work_item *w;
    duro_provider *busy;
    duro_error err = {0};

    setup(ctx, &a, &w);
    void *h = hold(ctx, &busy);
    release(ctx, h);
    ctx->now += DURO_CT_LOCK_MS;
    char *before = dump(ctx);
    c.state = DURO_STATE_COMPLETED;
    c.output = "done";
    ck_assert_int_eq(busy->ops->ack_orch(busy, ctx->now, a->lock_token, &c, &err), DURO_ELOCK);
    ck_assert_int_eq(err.code, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(busy->ops->ack_work(busy, ctx->now, w->lock_token, &done, &err),
                     DURO_ELOCK);
    ck_assert_int_eq(err.code, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    char *after = dump(ctx);
    ck_assert_msg(strcmp(before, after) == 0, "a lost-lock ack changed the store.\nbefore:\n%s"
                  "\nafter:\n%s", before, after);
    free(before);
    free(after);
    duro_orch_item_free(a);
    duro_work_item_free(w);
    duro_provider_destroy(busy);
}

DURO_CASES = {
    DURO_CASE(busy_ack_orch_retryable_nothing_applied, DURO_CAP_MANAGEMENT,
              DURO_HOOK_WRITE_LOCK,
              "An ack_orch that meets a write lock held from outside fails with DURO_EBUSY, "
              "retryable, leaves a full dump of the store unchanged and keeps the lock; the "
              "same ack succeeds once the lock is released."),
    DURO_CASE(busy_write_calls_retryable_nothing_applied, DURO_CAP_MANAGEMENT,
              DURO_HOOK_WRITE_LOCK,
              "Every write call (enqueue, fetch, renew, abandon and ack of both queues, "
              "delete_instance, delete_bulk, prune) that meets a write lock held from outside "
              "fails with DURO_EBUSY, retryable, and applies nothing; they succeed after."),
    DURO_CASE(lost_lock_is_permanent_nothing_applied, DURO_CAP_MANAGEMENT,
              DURO_HOOK_WRITE_LOCK,
              "Through a handle that has met contention, an ack_orch and an ack_work whose "
              "lock expired fail with DURO_ELOCK, not retryable, and change nothing."),
    DURO_CASES_END,
};
