/*
 * contention.c — conformance category "contention": error classification under real storage
 * contention and real storage faults.
 *
 * Contention, through the factory's hold_write_lock hook: another connection holds the
 * store's write lock, as another process would, while a handle with a short busy wait makes
 * its calls. A call that meets the contention fails with DURO_EBUSY, retryable, applies
 * nothing and succeeds unchanged once the lock is released; a lost lock (expired token) is
 * DURO_ELOCK, permanent. A factory that cannot lock its store from outside (an in-memory
 * database) leaves the hook NULL and these cases are skipped.
 *
 * Storage faults, through the factory's fail_storage hook: the store's device fails every
 * write (an I/O error, a full disk: DURO_EIO, retryable; storage that became read-only:
 * DURO_EIO, permanent). A write call then fails so, applies nothing, leaves reads working,
 * and succeeds unchanged once the device works again.
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

/* Make every write of the store fail as `kind` (DURO_STORAGE_FAULT_*), or stop it. */
static void fail_storage(duro_ct_ctx *ctx, int kind)
{
    duro_error err = {0};
    int rc = ctx->factory->fail_storage(ctx->factory->ud, ctx->p, kind, &err);

    ck_assert_msg(rc == 0, "fail_storage(%d) failed: %s (%s)", kind, duro_strerror(rc),
                  err.message);
}

/* Assert a call's outcome was `want` with retryable `retry`; `why` names the condition. */
#define EXPECT_ERROR(want, retry, why, what, call)                                             \
    do {                                                                                       \
        memset(&err, 0, sizeof err);                                                           \
        int rc_ = (call);                                                                      \
        ck_assert_msg(rc_ == (want) && err.code == (want) && err.retryable == (retry),         \
                      "%s %s: %s (err %s, retryable %d, %s), expected %s retryable %d", what,  \
                      why, duro_err_name(rc_), duro_err_name(err.code), err.retryable,         \
                      err.message, duro_err_name(want), (retry));                              \
    } while (0)
#define EXPECT_BUSY(what, call) EXPECT_ERROR(DURO_EBUSY, 1, "under contention", what, call)

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

/* A condition under which every write call fails, retryably: contention through a short-
 * waiting handle, or a storage fault through the case's own handle. */
typedef struct condition {
    int fault;        /* DURO_STORAGE_FAULT_IO or _FULL, or 0 for contention */
    duro_provider *h; /* the handle the calls go through */
    void *hold;       /* the write lock held from outside (contention) */
} condition;

static void begin(duro_ct_ctx *ctx, condition *c)
{
    if (c->fault == 0) {
        c->hold = hold(ctx, &c->h);
    } else {
        c->h = ctx->p;
        fail_storage(ctx, c->fault);
    }
}

static void end(duro_ct_ctx *ctx, condition *c)
{
    if (c->fault == 0)
        release(ctx, c->hold);
    else
        fail_storage(ctx, DURO_STORAGE_FAULT_NONE);
}

static void finish(condition *c)
{
    if (c->fault == 0)
        duro_provider_destroy(c->h);
}

/* What every write call meets under condition `c`: a busy store is DURO_EBUSY and a failing
 * device DURO_EIO, both retryable (they pass); storage that became read-only is DURO_EIO
 * and permanent (it does not pass by itself). */
#define EXPECT_FAILS(c, what, call)                                                            \
    do {                                                                                       \
        if ((c)->fault == 0)                                                                   \
            EXPECT_BUSY(what, call);                                                           \
        else if ((c)->fault == DURO_STORAGE_FAULT_READONLY)                                    \
            EXPECT_ERROR(DURO_EIO, 0, "on read-only storage", what, call);                     \
        else                                                                                   \
            EXPECT_ERROR(DURO_EIO, 1, (c)->fault == DURO_STORAGE_FAULT_IO ? "on an I/O error"  \
                                                                          : "on a full disk",  \
                         what, call);                                                          \
    } while (0)

/* While a storage fault holds, reads of "a" still see its state before the failed ack. */
static void reads_still_work(duro_ct_ctx *ctx)
{
    duro_instance_info info;

    ct_instance_info(ctx, "a", &info);
    ck_assert_int_eq(info.state, DURO_STATE_RUNNING);
    duro_instance_info_clear(&info);
    ck_assert_uint_eq(ct_history_len(ctx, "a", 0), 1);
}

/* The ack of a full turn under condition `c` fails and applies nothing; it succeeds after. */
static void ack_orch_fails_then_succeeds(duro_ct_ctx *ctx, condition *c)
{
    const duro_event_in ev[] = {{2, 1, "e2"}};
    const duro_work_in wk = {"a", 1, 2, "w2"};
    const duro_msg m = {"b", DURO_MSG_EVENT, 0, ctx->now, "to-b"};
    duro_orch_commit cm = ct_commit(1, ev, 1);
    duro_orch_item *a;
    duro_work_item *w;
    duro_error err;

    setup(ctx, &a, &w);
    cm.state = DURO_STATE_COMPLETED;
    cm.output = "done";
    cm.set_custom_status = 1;
    cm.custom_status = "cs";
    cm.work = &wk;
    cm.n_work = 1;
    cm.msgs = &m;
    cm.n_msgs = 1;
    char *before = dump(ctx);
    begin(ctx, c);
    duro_provider *h = c->h;
    EXPECT_FAILS(c, "ack_orch", h->ops->ack_orch(h, ctx->now, a->lock_token, &cm, &err));
    if (c->fault != 0)
        reads_still_work(ctx);
    end(ctx, c);
    char *after = dump(ctx);
    ck_assert_msg(strcmp(before, after) == 0, "a failed ack changed the store.\nbefore:\n%s\n"
                  "after:\n%s", before, after);
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(h->ops->ack_orch(h, ctx->now, a->lock_token, &cm, &err), 0);
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
    finish(c);
}

/* Every write call under condition `c` fails and applies nothing; they succeed after. */
static void write_calls_fail_then_succeed(duro_ct_ctx *ctx, condition *c)
{
    const duro_msg m = {"a", DURO_MSG_EVENT, 0, ctx->now, "m"};
    const duro_work_in wk = {"a", 1, 9, "w9"};
    const duro_msg done = {"a", DURO_MSG_ACTIVITY_DONE, 1, ctx->now, "done"};
    const duro_bulk_filter all = {NULL, 0, 0, 0};
    const duro_prune_options keep = {0, 0};
    duro_orch_item *a, *it = NULL;
    duro_work_item *w, *wi = NULL;
    duro_delete_result r;
    duro_error err;
    int64_t now;

    setup(ctx, &a, &w);
    ct_enqueue_start(ctx, "x"); /* fetchable, so a fetch has something to write */
    ct_enqueue_work(ctx, "b", 3, "w3");
    now = ctx->now;
    char *before = dump(ctx);
    begin(ctx, c);
    duro_provider *h = c->h;
    EXPECT_FAILS(c, "enqueue_orch", h->ops->enqueue_orch(h, &m, &err));
    EXPECT_FAILS(c, "fetch_orch", h->ops->fetch_orch(h, now, DURO_CT_LOCK_MS, 0, &it, &err));
    EXPECT_FAILS(c, "renew_orch", h->ops->renew_orch(h, now, a->lock_token, 1000, &err));
    EXPECT_FAILS(c, "abandon_orch", h->ops->abandon_orch(h, now, a->lock_token, 0, 0, &err));
    EXPECT_FAILS(c, "enqueue_work", h->ops->enqueue_work(h, &wk, &err));
    EXPECT_FAILS(c, "fetch_work", h->ops->fetch_work(h, now, DURO_CT_LOCK_MS, 0, &wi, &err));
    EXPECT_FAILS(c, "renew_work", h->ops->renew_work(h, now, w->lock_token, 1000, &err));
    EXPECT_FAILS(c, "abandon_work", h->ops->abandon_work(h, now, w->lock_token, 0, 0, &err));
    EXPECT_FAILS(c, "ack_work", h->ops->ack_work(h, now, w->lock_token, &done, &err));
    EXPECT_FAILS(c, "delete_instance", h->ops->delete_instance(h, now, "b", 0, &r, &err));
    EXPECT_FAILS(c, "delete_bulk", h->ops->delete_bulk(h, now, &all, &r, &err));
    if (c->fault == 0) {
        EXPECT_FAILS(c, "prune", h->ops->prune(h, now, "b", &keep, &r, &err));
    } else { /* "b" has one execution: nothing to delete, so nothing reaches the device */
        ck_assert_int_eq(h->ops->prune(h, now, "b", &keep, &r, &err), 0);
        DURO_CT_ASSERT_RESULT(r, 0, 0, 0, 0);
    }
    if (c->fault != 0)
        reads_still_work(ctx);
    end(ctx, c);
    ck_assert_ptr_null(it);
    ck_assert_ptr_null(wi);
    char *after = dump(ctx);
    ck_assert_msg(strcmp(before, after) == 0, "failed calls changed the store.\nbefore:\n%s\n"
                  "after:\n%s", before, after);
    /* the same calls succeed unchanged once the condition is gone */
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(h->ops->ack_work(h, now, w->lock_token, &done, &err), 0);
    ck_assert_int_eq(h->ops->delete_instance(h, now, "b", 0, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 1, 1, 2, 1);
    ck_assert_int_eq(h->ops->renew_orch(h, now, a->lock_token, 1000, &err), 0);
    ck_assert_int_eq(h->ops->enqueue_orch(h, &m, &err), 0);
    free(before);
    free(after);
    duro_orch_item_free(a);
    duro_work_item_free(w);
    finish(c);
}

static void busy_ack_orch_retryable_nothing_applied(duro_ct_ctx *ctx)
{
    condition c = {0};
    ack_orch_fails_then_succeeds(ctx, &c);
}

static void busy_write_calls_retryable_nothing_applied(duro_ct_ctx *ctx)
{
    condition c = {0};
    write_calls_fail_then_succeed(ctx, &c);
}

static void io_error_ack_orch_retryable_nothing_applied(duro_ct_ctx *ctx)
{
    condition c = {.fault = DURO_STORAGE_FAULT_IO};
    ack_orch_fails_then_succeeds(ctx, &c);
}

static void io_error_write_calls_retryable_nothing_applied(duro_ct_ctx *ctx)
{
    condition c = {.fault = DURO_STORAGE_FAULT_IO};
    write_calls_fail_then_succeed(ctx, &c);
}

static void read_only_storage_write_calls_permanent_nothing_applied(duro_ct_ctx *ctx)
{
    condition c = {.fault = DURO_STORAGE_FAULT_READONLY};
    write_calls_fail_then_succeed(ctx, &c);
}

static void full_disk_ack_orch_retryable_nothing_applied(duro_ct_ctx *ctx)
{
    condition c = {.fault = DURO_STORAGE_FAULT_FULL};
    ack_orch_fails_then_succeeds(ctx, &c);
}

static void full_disk_write_calls_retryable_nothing_applied(duro_ct_ctx *ctx)
{
    condition c = {.fault = DURO_STORAGE_FAULT_FULL};
    write_calls_fail_then_succeed(ctx, &c);
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
    DURO_CASE(io_error_ack_orch_retryable_nothing_applied, DURO_CAP_MANAGEMENT,
              DURO_HOOK_STORAGE_FAULT,
              "An ack_orch whose storage writes fail with an I/O error fails with DURO_EIO, "
              "retryable, leaves a full dump of the store unchanged, keeps the lock and the "
              "reads working; the same ack succeeds once the storage works again."),
    DURO_CASE(io_error_write_calls_retryable_nothing_applied, DURO_CAP_MANAGEMENT,
              DURO_HOOK_STORAGE_FAULT,
              "Every write call whose storage writes fail with an I/O error fails with "
              "DURO_EIO, retryable, and applies nothing; reads keep working and the calls "
              "succeed once the storage works again."),
    DURO_CASE(full_disk_ack_orch_retryable_nothing_applied, DURO_CAP_MANAGEMENT,
              DURO_HOOK_STORAGE_FAULT,
              "An ack_orch on a full disk fails with DURO_EIO, retryable, leaves a full dump "
              "of the store unchanged and keeps the lock; it succeeds once there is room."),
    DURO_CASE(full_disk_write_calls_retryable_nothing_applied, DURO_CAP_MANAGEMENT,
              DURO_HOOK_STORAGE_FAULT,
              "Every write call on a full disk fails with DURO_EIO, retryable, and applies "
              "nothing; the calls succeed once there is room."),
    DURO_CASE(read_only_storage_write_calls_permanent_nothing_applied, DURO_CAP_MANAGEMENT,
              DURO_HOOK_STORAGE_FAULT,
              "Every write call on storage that became read-only fails with DURO_EIO, not "
              "retryable (it does not pass by itself), and applies nothing; reads keep "
              "working and the calls succeed once the storage is writable again."),
    DURO_CASE(lost_lock_is_permanent_nothing_applied, DURO_CAP_MANAGEMENT,
              DURO_HOOK_WRITE_LOCK,
              "Through a handle that has met contention, an ack_orch and an ack_work whose "
              "lock expired fail with DURO_ELOCK, not retryable, and change nothing."),
    DURO_CASES_END,
};
