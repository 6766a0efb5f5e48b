/*
 * error_handling.c — conformance cases for the errors a provider must report exactly: the
 * DURO_E* code and the `retryable` flag for unknown or dead lock tokens, rejected history
 * events, missing instances, invalid arguments, and stored history that cannot be read.
 *
 * Every rejected call is followed by checks that it wrote nothing (history, queues,
 * metadata) and that a lock held by someone else is untouched. The corruption cases use the
 * factory's corrupt_history hook and accept either way of surfacing the damage the contract
 * allows (an error, or the rows intact), but never fewer rows presented as the whole history.
 */
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY error_handling

/* Assert that a call returned `want`, filled err with it, and marked it permanent. */
#define EXPECT_ERR(rc, err, want)                    \
    do {                                             \
        ck_assert_int_eq((rc), (want));              \
        ck_assert_int_eq((err).code, (want));        \
        ck_assert_int_eq((err).retryable, 0);        \
    } while (0)

/* Tokens no provider can hold: well-formed but never issued, and malformed. */
static const char *const bad_tokens[] = {
    "00000000000000000000000000000000",
    "ffffffffffffffffffffffffffffffff",
    "invalid-token",
};
#define N_BAD_TOKENS (sizeof bad_tokens / sizeof bad_tokens[0])

/* ---- Helpers --------------------------------------------------------------------------- */

/* Create instance `instance` (history: event 1) and lock it with a fresh message. */
static duro_orch_item *locked_instance(duro_ct_ctx *ctx, const char *instance)
{
    ct_create_instance(ctx, instance);
    return ct_poke(ctx, instance);
}

/* Create instance "a" and lock one work item of it (activity 1, payload "w1"). */
static duro_work_item *locked_work(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    ct_enqueue_work(ctx, "a", 1, "w1");
    duro_work_item *w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    return w;
}

/* Ack `item` with one event (id `event_id`, payload "next"); asserts success, frees. */
static void ack_next(duro_ct_ctx *ctx, duro_orch_item *item, uint64_t event_id)
{
    const duro_event_in ev[] = {{.event_id = event_id, .kind = 2, .payload = "next"}};
    duro_orch_commit c = ct_commit(1, ev, 1);

    ct_ack(ctx, item, &c);
}

/* The instance metadata is as ct_create_instance left it: running, no output, no status. */
static void expect_untouched_info(duro_ct_ctx *ctx, const char *instance)
{
    duro_instance_info info = {0};
    duro_error err = {0};

    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, instance, &info, &err), 0);
    ck_assert_uint_eq(info.execution_id, 1);
    ck_assert_int_eq(info.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(info.output);
    ck_assert_ptr_null(info.custom_status);
    ck_assert_uint_eq(info.custom_status_version, 0);
    duro_instance_info_clear(&info);
}

/* Give "a" a three-event history (1 "started", 2 "two", 3 "three") and corrupt it through
 * the factory hook. */
static void corrupted_instance(duro_ct_ctx *ctx)
{
    const duro_event_in ev[] = {
        {.event_id = 2, .kind = 3, .payload = "two"},
        {.event_id = 3, .kind = 4, .payload = "three"},
    };
    duro_orch_commit c = ct_commit(1, ev, 2);

    ct_create_instance(ctx, "a");
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "poke", 0);
    ct_ack(ctx, ct_fetch(ctx), &c);
    int rc = ctx->factory->corrupt_history(ctx->factory->ud, ctx->p, "a");
    ck_assert_msg(rc == 0, "corrupt_history hook failed: %s", duro_strerror(rc));
}

/* read_history of "a" (execution `x`) either reports DURO_ECORRUPT (permanent) or returns
 * exactly `n` events with ids 1..n; never fewer rows as if the history were shorter. */
static void expect_corrupt_or_whole(duro_ct_ctx *ctx, uint64_t x, size_t n)
{
    duro_event *events = NULL;
    size_t got = 0;
    duro_error err = {0};
    int rc = ctx->p->ops->read_history(ctx->p, "a", x, &events, &got, &err);

    ck_assert_msg(rc == 0 || rc == DURO_ECORRUPT,
                  "read_history of a corrupted history gave %s", duro_strerror(rc));
    if (rc == DURO_ECORRUPT) {
        ck_assert_int_eq(err.code, DURO_ECORRUPT);
        ck_assert_int_eq(err.retryable, 0);
    } else {
        ck_assert_uint_eq(got, n);
        for (size_t i = 0; i < n; i++)
            ck_assert_uint_eq(events[i].event_id, i + 1);
        duro_events_free(events, got);
    }
}

/* ---- Unknown tokens -------------------------------------------------------------------- */

static void ack_orch_unknown_token(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_instance(ctx, "a");
    const duro_event_in ev[] = {{.event_id = 2, .kind = 2, .payload = "forged"}};
    duro_orch_commit c = ct_commit(1, ev, 1);

    for (size_t i = 0; i < N_BAD_TOKENS; i++) {
        duro_error err = {0};
        int rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, bad_tokens[i], &c, &err);
        EXPECT_ERR(rc, err, DURO_ELOCK);
    }
    ck_assert_uint_eq(ct_history_len(ctx, "a", 0), 1);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ack_next(ctx, item, 2);
    ck_assert_uint_eq(ct_history_len(ctx, "a", 0), 2);
}

static void abandon_orch_unknown_token(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_instance(ctx, "a");

    for (size_t i = 0; i < N_BAD_TOKENS; i++) {
        duro_error err = {0};
        int rc = ctx->p->ops->abandon_orch(ctx->p, ctx->now, bad_tokens[i], 0, 0, &err);
        EXPECT_ERR(rc, err, DURO_ELOCK);
    }
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ack_next(ctx, item, 2);
}

static void renew_orch_unknown_token(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_instance(ctx, "a");
    int64_t locked_at = ctx->now;

    for (size_t i = 0; i < N_BAD_TOKENS; i++) {
        duro_error err = {0};
        int rc = ctx->p->ops->renew_orch(ctx->p, ctx->now, bad_tokens[i], 10 * DURO_CT_LOCK_MS,
                                         &err);
        EXPECT_ERR(rc, err, DURO_ELOCK);
    }
    duro_orch_item_free(item);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = locked_at + DURO_CT_LOCK_MS + 1;
    item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "a");
    duro_orch_item_free(item);
}

static void ack_work_unknown_token(duro_ct_ctx *ctx)
{
    duro_work_item *w = locked_work(ctx);
    duro_msg done = {
        .instance = "a", .kind = DURO_MSG_ACTIVITY_DONE, .execution_id = 1,
        .visible_at_ms = ctx->now, .payload = "forged",
    };

    for (size_t i = 0; i < N_BAD_TOKENS; i++) {
        duro_error err = {0};
        int rc = ctx->p->ops->ack_work(ctx->p, ctx->now, bad_tokens[i], &done, &err);
        EXPECT_ERR(rc, err, DURO_ELOCK);
    }
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ck_assert_ptr_null(ct_try_fetch_work(ctx));

    duro_error err = {0};
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, NULL, &err), 0);
    duro_work_item_free(w);
}

static void abandon_work_unknown_token(duro_ct_ctx *ctx)
{
    duro_work_item *w = locked_work(ctx);

    for (size_t i = 0; i < N_BAD_TOKENS; i++) {
        duro_error err = {0};
        int rc = ctx->p->ops->abandon_work(ctx->p, ctx->now, bad_tokens[i], 0, 0, &err);
        EXPECT_ERR(rc, err, DURO_ELOCK);
    }
    ck_assert_ptr_null(ct_try_fetch_work(ctx));

    duro_error err = {0};
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, NULL, &err), 0);
    duro_work_item_free(w);
}

static void renew_work_unknown_token(duro_ct_ctx *ctx)
{
    duro_work_item *w = locked_work(ctx);
    int64_t locked_at = ctx->now;
    int64_t id = w->id;

    for (size_t i = 0; i < N_BAD_TOKENS; i++) {
        duro_error err = {0};
        int rc = ctx->p->ops->renew_work(ctx->p, ctx->now, bad_tokens[i], 10 * DURO_CT_LOCK_MS,
                                         &err);
        EXPECT_ERR(rc, err, DURO_ELOCK);
    }
    duro_work_item_free(w);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ctx->now = locked_at + DURO_CT_LOCK_MS + 1;
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(w->id, id);
    duro_work_item_free(w);
}

static void tokens_dead_after_ack(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_instance(ctx, "a");
    char token[33];
    duro_error err = {0};
    int rc;

    memcpy(token, item->lock_token, sizeof token);
    ack_next(ctx, item, 2);
    duro_orch_commit c = ct_commit(1, NULL, 0);
    rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, token, &c, &err);
    EXPECT_ERR(rc, err, DURO_ELOCK);
    memset(&err, 0, sizeof err);
    rc = ctx->p->ops->abandon_orch(ctx->p, ctx->now, token, 0, 0, &err);
    EXPECT_ERR(rc, err, DURO_ELOCK);
    memset(&err, 0, sizeof err);
    rc = ctx->p->ops->renew_orch(ctx->p, ctx->now, token, DURO_CT_LOCK_MS, &err);
    EXPECT_ERR(rc, err, DURO_ELOCK);

    ct_enqueue_work(ctx, "a", 1, "w1");
    duro_work_item *w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, NULL, &err), 0);
    memset(&err, 0, sizeof err);
    rc = ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, NULL, &err);
    EXPECT_ERR(rc, err, DURO_ELOCK);
    memset(&err, 0, sizeof err);
    rc = ctx->p->ops->abandon_work(ctx->p, ctx->now, w->lock_token, 0, 0, &err);
    EXPECT_ERR(rc, err, DURO_ELOCK);
    memset(&err, 0, sizeof err);
    rc = ctx->p->ops->renew_work(ctx->p, ctx->now, w->lock_token, DURO_CT_LOCK_MS, &err);
    EXPECT_ERR(rc, err, DURO_ELOCK);
    duro_work_item_free(w);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ck_assert_uint_eq(ct_history_len(ctx, "a", 0), 2);
}

/* ---- Rejected events ------------------------------------------------------------------- */

static void duplicate_event_id_rejected_then_corrected(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_instance(ctx, "a");
    const duro_event_in ev[] = {
        {.event_id = 2, .kind = 3, .payload = "new"},
        {.event_id = 1, .kind = 3, .payload = "dup"},
    };
    const duro_work_in work = {.instance = "a", .execution_id = 1, .activity_id = 1,
                               .payload = "w"};
    const duro_msg msg = {.instance = "child", .kind = DURO_MSG_START, .execution_id = 1,
                          .visible_at_ms = ctx->now, .payload = "start:child"};
    duro_orch_commit c = ct_commit(1, ev, 2);
    duro_error err = {0};

    c.work = &work;
    c.n_work = 1;
    c.msgs = &msg;
    c.n_msgs = 1;
    c.state = DURO_STATE_COMPLETED;
    c.output = "out";
    c.set_custom_status = 1;
    c.custom_status = "status";
    int rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, item->lock_token, &c, &err);
    EXPECT_ERR(rc, err, DURO_ECONSTRAINT);

    ck_assert_uint_eq(ct_history_len(ctx, "a", 0), 1);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ck_assert_ptr_null(ct_try_fetch(ctx));
    expect_untouched_info(ctx, "a");

    ack_next(ctx, item, 2);
    ck_assert_uint_eq(ct_history_len(ctx, "a", 0), 2);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void duplicate_event_id_within_commit(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_instance(ctx, "a");
    const duro_event_in ev[] = {
        {.event_id = 2, .kind = 3, .payload = "x"},
        {.event_id = 2, .kind = 3, .payload = "y"},
    };
    duro_orch_commit c = ct_commit(1, ev, 2);
    duro_error err = {0};

    int rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, item->lock_token, &c, &err);
    EXPECT_ERR(rc, err, DURO_ECONSTRAINT);
    ck_assert_uint_eq(ct_history_len(ctx, "a", 0), 1);
    duro_orch_item_free(item);
}

static void event_id_zero_rejected(duro_ct_ctx *ctx)
{
    const duro_event_in ev[] = {{.event_id = 0, .kind = 1, .payload = "zero"}};
    duro_orch_commit c = ct_commit(1, ev, 1);
    duro_instance_info info = {0};
    duro_error err = {0};

    c.orch_name = "TestOrch";
    c.orch_version = "1.0.0";
    ct_enqueue_start(ctx, "a");
    duro_orch_item *item = ct_fetch(ctx);
    int rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, item->lock_token, &c, &err);
    EXPECT_ERR(rc, err, DURO_ECONSTRAINT);
    duro_orch_item_free(item);

    ck_assert_uint_eq(ct_history_len(ctx, "a", 0), 0);
    memset(&err, 0, sizeof err);
    rc = ctx->p->ops->instance_info(ctx->p, "a", &info, &err);
    EXPECT_ERR(rc, err, DURO_ENOTFOUND);
}

/* ---- Unknown instances ----------------------------------------------------------------- */

static void read_history_unknown_instance_empty(duro_ct_ctx *ctx)
{
    duro_event *events = NULL;
    size_t n = 99;
    duro_error err = {0};
    duro_instance_info info = {0};

    ct_create_instance(ctx, "known");
    ck_assert_int_eq(ctx->p->ops->read_history(ctx->p, "unknown", 0, &events, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    duro_events_free(events, n);
    n = 99;
    events = NULL;
    ck_assert_int_eq(ctx->p->ops->read_history(ctx->p, "unknown", 1, &events, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    duro_events_free(events, n);
    int rc = ctx->p->ops->instance_info(ctx->p, "unknown", &info, &err);
    EXPECT_ERR(rc, err, DURO_ENOTFOUND);
}

static void instance_info_unknown_notfound(duro_ct_ctx *ctx)
{
    duro_instance_info info = {0};
    duro_error err = {0};

    int rc = ctx->p->ops->instance_info(ctx->p, "nobody", &info, &err);
    EXPECT_ERR(rc, err, DURO_ENOTFOUND);

    ct_enqueue_start(ctx, "pending");
    memset(&err, 0, sizeof err);
    rc = ctx->p->ops->instance_info(ctx->p, "pending", &info, &err);
    EXPECT_ERR(rc, err, DURO_ENOTFOUND);
}

/* ---- Corruption ------------------------------------------------------------------------ */

static void corrupt_history_surfaced_on_fetch(duro_ct_ctx *ctx)
{
    corrupted_instance(ctx);
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "after-corruption", 0);

    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "a");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_str_eq(item->msgs[0].payload, "after-corruption");
    ck_assert_msg(item->history_error != NULL || item->n_history == 3,
                  "corrupted history came back as %zu events without history_error",
                  item->n_history);
    if (item->history_error != NULL) {
        ck_assert_uint_gt(strlen(item->history_error), 0);
    } else {
        for (size_t i = 0; i < 3; i++)
            ck_assert_uint_eq(item->history[i].event_id, i + 1);
    }
    ck_assert_ptr_null(ct_try_fetch(ctx));
    duro_orch_item_free(item);
}

static void corrupt_history_surfaced_on_read(duro_ct_ctx *ctx)
{
    corrupted_instance(ctx);
    expect_corrupt_or_whole(ctx, 0, 3);
    expect_corrupt_or_whole(ctx, 1, 3);
}

static void ack_appends_to_corrupted_history(duro_ct_ctx *ctx)
{
    corrupted_instance(ctx);
    ack_next(ctx, ct_poke(ctx, "a"), 4);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    expect_corrupt_or_whole(ctx, 1, 4);
}

static void new_execution_clean_after_corruption(duro_ct_ctx *ctx)
{
    const duro_event_in ev[] = {{.event_id = 1, .kind = 1, .payload = "fresh"}};
    duro_orch_commit c = ct_commit(2, ev, 1);
    duro_event *events = NULL;
    size_t n = 0;
    duro_error err = {0};

    corrupted_instance(ctx);
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "poke", 0);
    ct_ack(ctx, ct_fetch(ctx), &c);

    ck_assert_int_eq(ctx->p->ops->read_history(ctx->p, "a", 2, &events, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(events[0].payload, "fresh");
    duro_events_free(events, n);

    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "poke", 0);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_uint_eq(item->execution_id, 2);
    ck_assert_ptr_null(item->history_error);
    ck_assert_uint_eq(item->n_history, 1);
    ck_assert_str_eq(item->history[0].payload, "fresh");
    duro_orch_item_free(item);
}

/* ---- Invalid arguments ----------------------------------------------------------------- */

static void enqueue_orch_rejects_missing_instance(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {NULL, ""};

    for (size_t i = 0; i < 2; i++) {
        duro_msg msg = {.instance = ids[i], .kind = DURO_MSG_START, .execution_id = 1,
                        .visible_at_ms = ctx->now, .payload = "start"};
        duro_error err = {0};
        int rc = ctx->p->ops->enqueue_orch(ctx->p, &msg, &err);
        EXPECT_ERR(rc, err, DURO_EINVAL);
    }
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void enqueue_work_rejects_missing_instance(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {NULL, ""};

    for (size_t i = 0; i < 2; i++) {
        duro_work_in work = {.instance = ids[i], .execution_id = 1, .activity_id = 1,
                             .payload = "w"};
        duro_error err = {0};
        int rc = ctx->p->ops->enqueue_work(ctx->p, &work, &err);
        EXPECT_ERR(rc, err, DURO_EINVAL);
    }
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
}

static void reads_reject_missing_instance(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {NULL, ""};

    for (size_t i = 0; i < 2; i++) {
        duro_event *events = NULL;
        size_t n = 0;
        duro_instance_info info = {0};
        duro_error err = {0};
        int rc = ctx->p->ops->read_history(ctx->p, ids[i], 0, &events, &n, &err);
        EXPECT_ERR(rc, err, DURO_EINVAL);
        memset(&err, 0, sizeof err);
        rc = ctx->p->ops->instance_info(ctx->p, ids[i], &info, &err);
        EXPECT_ERR(rc, err, DURO_EINVAL);
    }
}

static void commit_rejects_missing_instance(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_instance(ctx, "a");
    const duro_event_in ev[] = {{.event_id = 2, .kind = 3, .payload = "e"}};
    const duro_msg msg = {.instance = "", .kind = DURO_MSG_START, .execution_id = 1,
                          .visible_at_ms = ctx->now, .payload = "start"};
    const duro_work_in work = {.instance = NULL, .execution_id = 1, .activity_id = 1,
                               .payload = "w"};
    duro_orch_commit with_msg = ct_commit(1, ev, 1);
    duro_orch_commit with_work = ct_commit(1, ev, 1);
    duro_error err = {0};

    with_msg.msgs = &msg;
    with_msg.n_msgs = 1;
    with_work.work = &work;
    with_work.n_work = 1;
    int rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, item->lock_token, &with_msg, &err);
    EXPECT_ERR(rc, err, DURO_EINVAL);
    memset(&err, 0, sizeof err);
    rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, item->lock_token, &with_work, &err);
    EXPECT_ERR(rc, err, DURO_EINVAL);

    ck_assert_uint_eq(ct_history_len(ctx, "a", 0), 1);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ack_next(ctx, item, 2);
    ck_assert_uint_eq(ct_history_len(ctx, "a", 0), 2);
}

static void commit_rejects_execution_id_zero(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_instance(ctx, "a");
    const duro_event_in ev[] = {{.event_id = 2, .kind = 3, .payload = "e"}};
    duro_orch_commit c = ct_commit(0, ev, 1);
    duro_error err = {0};
    duro_event *events = NULL;
    size_t n = 0;

    int rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, item->lock_token, &c, &err);
    EXPECT_ERR(rc, err, DURO_EINVAL);

    ck_assert_int_eq(ctx->p->ops->read_history(ctx->p, "a", 1, &events, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(events[0].payload, "started");
    duro_events_free(events, n);
    expect_untouched_info(ctx, "a");
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ack_next(ctx, item, 2);
}

/* ---- Registry -------------------------------------------------------------------------- */

/* Assert that `call` failed with DURO_EINVAL, not retryable. */
#define EXPECT_EINVAL(what, call)                                                              \
    do {                                                                                       \
        duro_error e_ = {0};                                                                   \
        duro_error *err = &e_;                                                                 \
        int rc_ = (call);                                                                      \
        ck_assert_msg(rc_ == DURO_EINVAL && e_.code == DURO_EINVAL && e_.retryable == 0,       \
                      "%s with a NULL result pointer: %s (retryable %d, %s), expected "        \
                      "DURO_EINVAL not retryable", what, duro_err_name(rc_), e_.retryable,     \
                      e_.message);                                                             \
    } while (0)

static void null_result_pointers_rejected(duro_ct_ctx *ctx)
{
    duro_provider *p = ctx->p;
    const duro_provider_ops *o = p->ops;
    duro_event *events = NULL;
    char **ids = NULL;
    uint64_t *execs = NULL;
    size_t n = 0;

    ct_require_management(ctx);
    ct_create_instance(ctx, "a");
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "ev", 0);
    ct_enqueue_work(ctx, "a", 1, "w");
    char *before = ct_dump_store(ctx, p, NULL, 0);
    EXPECT_EINVAL("fetch_orch", o->fetch_orch(p, ctx->now, DURO_CT_LOCK_MS, 0, NULL, err));
    EXPECT_EINVAL("fetch_work", o->fetch_work(p, ctx->now, DURO_CT_LOCK_MS, 0, NULL, err));
    EXPECT_EINVAL("read_history", o->read_history(p, "a", 0, NULL, &n, err));
    EXPECT_EINVAL("read_history", o->read_history(p, "a", 0, &events, NULL, err));
    EXPECT_EINVAL("instance_info", o->instance_info(p, "a", NULL, err));
    EXPECT_EINVAL("list_instances", o->list_instances(p, 0, NULL, &n, err));
    EXPECT_EINVAL("list_instances", o->list_instances(p, 0, &ids, NULL, err));
    EXPECT_EINVAL("list_children", o->list_children(p, "a", NULL, &n, err));
    EXPECT_EINVAL("list_executions", o->list_executions(p, "a", NULL, &n, err));
    EXPECT_EINVAL("list_executions", o->list_executions(p, "a", &execs, NULL, err));
    EXPECT_EINVAL("execution_info", o->execution_info(p, "a", 1, NULL, err));
    EXPECT_EINVAL("queue_depths", o->queue_depths(p, ctx->now, NULL, err));
    EXPECT_EINVAL("metrics", o->metrics(p, NULL, err));
    char *after = ct_dump_store(ctx, p, NULL, 0);
    ck_assert_str_eq(before, after); /* the fetches took nothing */
    free(before);
    free(after);
}

DURO_CASES = {
    DURO_CASE(null_result_pointers_rejected, DURO_CAP_MANAGEMENT, 0,
              "Every call that returns a result through a pointer (fetch, read_history, "
              "instance_info, every listing, execution_info, queue_depths, metrics) fails "
              "with DURO_EINVAL, not retryable, when that pointer is NULL, and takes nothing."),
    DURO_CASE(ack_orch_unknown_token, 0, 0,
              "ack_orch with a token never issued fails with DURO_ELOCK (permanent), writes "
              "nothing and leaves the real lock usable."),
    DURO_CASE(abandon_orch_unknown_token, 0, 0,
              "abandon_orch with a token never issued fails with DURO_ELOCK (permanent) and "
              "does not release the real lock."),
    DURO_CASE(renew_orch_unknown_token, 0, 0,
              "renew_orch with a token never issued fails with DURO_ELOCK (permanent) and does "
              "not extend the real lock."),
    DURO_CASE(ack_work_unknown_token, 0, 0,
              "ack_work with a token never issued fails with DURO_ELOCK (permanent), enqueues "
              "no completion and leaves the real lock usable."),
    DURO_CASE(abandon_work_unknown_token, 0, 0,
              "abandon_work with a token never issued fails with DURO_ELOCK (permanent) and "
              "does not release the real lock."),
    DURO_CASE(renew_work_unknown_token, 0, 0,
              "renew_work with a token never issued fails with DURO_ELOCK (permanent) and does "
              "not extend the real lock."),
    DURO_CASE(tokens_dead_after_ack, 0, 0,
              "After a successful ack, every call with that token (ack, abandon, renew; orch "
              "and work) fails with DURO_ELOCK (permanent)."),
    DURO_CASE(duplicate_event_id_rejected_then_corrected, 0, 0,
              "An ack reusing a stored event id fails with DURO_ECONSTRAINT (permanent) and "
              "writes none of its events, work, messages, state or custom status; the lock "
              "stays held, and a corrected ack with the same token then commits and consumes "
              "the batch."),
    DURO_CASE(duplicate_event_id_within_commit, 0, 0,
              "An ack carrying the same new event id twice fails with DURO_ECONSTRAINT "
              "(permanent) and appends nothing."),
    DURO_CASE(event_id_zero_rejected, 0, 0,
              "An event id of 0 fails the ack with DURO_ECONSTRAINT (permanent) and does not "
              "create the instance."),
    DURO_CASE(read_history_unknown_instance_empty, 0, 0,
              "read_history of an unknown instance returns 0 with no events and creates "
              "nothing."),
    DURO_CASE(instance_info_unknown_notfound, 0, 0,
              "instance_info of an instance without a row (unknown, or only a START queued) "
              "fails with DURO_ENOTFOUND (permanent)."),
    DURO_CASE(corrupt_history_surfaced_on_fetch, 0, DURO_HOOK_CORRUPT,
              "Fetching an instance with corrupted history returns the locked item with "
              "history_error set or the whole history, never a silently shorter history."),
    DURO_CASE(corrupt_history_surfaced_on_read, 0, DURO_HOOK_CORRUPT,
              "read_history of a corrupted history fails with DURO_ECORRUPT (permanent) or "
              "returns every row, never fewer."),
    DURO_CASE(ack_appends_to_corrupted_history, 0, DURO_HOOK_CORRUPT,
              "An ack appending the next event id to a corrupted history succeeds "
              "(append-only) and the history then has every row or reports DURO_ECORRUPT."),
    DURO_CASE(new_execution_clean_after_corruption, 0, DURO_HOOK_CORRUPT,
              "A new execution of an instance with a corrupted execution has a clean, exactly "
              "readable history."),
    DURO_CASE(enqueue_orch_rejects_missing_instance, 0, 0,
              "enqueue_orch with a NULL or empty instance id fails with DURO_EINVAL "
              "(permanent) and enqueues nothing."),
    DURO_CASE(enqueue_work_rejects_missing_instance, 0, 0,
              "enqueue_work with a NULL or empty instance id fails with DURO_EINVAL "
              "(permanent) and enqueues nothing."),
    DURO_CASE(reads_reject_missing_instance, 0, 0,
              "read_history and instance_info with a NULL or empty instance id fail with "
              "DURO_EINVAL (permanent)."),
    DURO_CASE(commit_rejects_missing_instance, 0, 0,
              "An ack with a message or work item lacking an instance id fails with "
              "DURO_EINVAL (permanent), writes nothing and keeps the lock."),
    DURO_CASE(commit_rejects_execution_id_zero, 0, 0,
              "An ack with execution id 0 fails with DURO_EINVAL (permanent), writes nothing "
              "and keeps the lock."),
    DURO_CASES_END,
};
