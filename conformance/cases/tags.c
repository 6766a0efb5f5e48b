/*
 * tags.c — conformance cases for activity tags (ops version 4, DURO_CAP_TAGS): a work item
 * is untagged or carries one tag, given at enqueue (enqueue_work_tagged or a commit's
 * work_tags) and kept through abandon, renew and lock expiry; fetch_work sees the untagged
 * items only and fetch_work_filtered the items its filter accepts, class by class round robin
 * from class turn % classes, oldest first within a class; queue_depths_by_tag counts every
 * tag present, accepted by a filter or not. Every case is skipped, with the reason, for a
 * provider without DURO_CAP_TAGS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY tags

/* ---- Helpers --------------------------------------------------------------------------- */

/* Enqueue a work item of (instance "inst", execution 1, activity_id) with `tag` and payload
 * `payload`, asserting success. */
static void put(duro_ct_ctx *ctx, uint64_t activity_id, const char *tag, const char *payload)
{
    duro_error err = {0};
    duro_work_in w = {.instance = "inst", .execution_id = 1, .activity_id = activity_id,
                      .payload = payload};
    int rc = ctx->p->ops->enqueue_work_tagged(ctx->p, &w, tag, &err);

    ck_assert_msg(rc == 0, "enqueue_work_tagged(%s) failed: %s (%s)", tag ? tag : "NULL",
                  duro_strerror(rc), err.message);
}

/* fetch_work_filtered on `p` at ctx->now with poll 0: the item, or NULL on DURO_ENOTFOUND
 * (any other result fails the case). */
static duro_work_item *take_on(duro_ct_ctx *ctx, duro_provider *p, const duro_work_filter *f)
{
    duro_error err = {0};
    duro_work_item *item = NULL;
    int rc = p->ops->fetch_work_filtered(p, ctx->now, DURO_CT_LOCK_MS, 0, f, &item, &err);

    if (rc == DURO_ENOTFOUND) {
        ck_assert_ptr_null(item);
        return NULL;
    }
    ck_assert_msg(rc == 0 && item != NULL, "fetch_work_filtered failed: %s (%s)",
                  duro_strerror(rc), err.message);
    return item;
}

static duro_work_item *take(duro_ct_ctx *ctx, const duro_work_filter *f)
{
    return take_on(ctx, ctx->p, f);
}

/* Take with `f` and assert the payload, then ack the item (no completion). */
static void take_expect(duro_ct_ctx *ctx, const duro_work_filter *f, const char *payload)
{
    duro_error err = {0};
    duro_work_item *item = take(ctx, f);

    ck_assert_msg(item != NULL, "expected work item '%s', got none", payload);
    ck_assert_str_eq(item->payload, payload);
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, item->lock_token, NULL, &err), 0);
    duro_work_item_free(item);
}

/* Assert that `f` gets nothing at ctx->now. */
static void take_none(duro_ct_ctx *ctx, const duro_work_filter *f)
{
    duro_work_item *item = take(ctx, f);

    ck_assert_msg(item == NULL, "expected no work item, got '%s'", item ? item->payload : "");
}

/* The depths per tag on `p` at ctx->now as "tag:queued/locked/delayed,..." ("-" for
 * untagged) into buf. */
static const char *depths_on(duro_ct_ctx *ctx, duro_provider *p, char *buf, size_t size)
{
    duro_tag_depth *rows = NULL;
    duro_error err = {0};
    size_t n = 99, used = 0;
    int rc = p->ops->queue_depths_by_tag(p, ctx->now, &rows, &n, &err);

    ck_assert_msg(rc == 0, "queue_depths_by_tag failed: %s (%s)", duro_strerror(rc),
                  err.message);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s:%llu/%llu/%llu",
                                 i ? "," : "", rows[i].tag ? rows[i].tag : "-",
                                 (unsigned long long)rows[i].queued,
                                 (unsigned long long)rows[i].locked,
                                 (unsigned long long)rows[i].delayed);
    ck_assert_uint_lt(used, size);
    if (n == 0)
        ck_assert_ptr_null(rows);
    duro_tag_depths_free(rows, n);
    return buf;
}

#define EXPECT_DEPTHS(ctx, want)                                                               \
    do {                                                                                       \
        char b_[512];                                                                          \
        ck_assert_str_eq(depths_on((ctx), (ctx)->p, b_, sizeof b_), (want));                   \
    } while (0)

static const char *const gpu[] = {"gpu"};
static const char *const cpu[] = {"cpu"};
static const duro_work_filter only_untagged = {.untagged = 1};
static const duro_work_filter only_gpu = {.tags = gpu, .n_tags = 1};
static const duro_work_filter only_cpu = {.tags = cpu, .n_tags = 1};
static const duro_work_filter any_tag = {.any_tag = 1};

/* ---- Visibility ------------------------------------------------------------------------ */

static void tagged_invisible_to_other_filters(duro_ct_ctx *ctx)
{
    put(ctx, 1, "gpu", "g1");
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    take_none(ctx, &only_untagged);
    take_none(ctx, &only_cpu);
    EXPECT_DEPTHS(ctx, "gpu:1/0/0");
}

static void tagged_visible_to_its_tag_and_any(duro_ct_ctx *ctx)
{
    duro_work_item *item;

    put(ctx, 1, "gpu", "g1");
    item = take(ctx, &only_gpu);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "g1");
    ck_assert_str_eq(item->instance, "inst");
    ck_assert_uint_eq(item->activity_id, 1);
    ck_assert_uint_eq(item->attempt, 1);
    ct_abandon_work(ctx, item, 0, 0);
    take_expect(ctx, &any_tag, "g1");
    EXPECT_DEPTHS(ctx, "");
}

static void untagged_invisible_to_tag_filters(duro_ct_ctx *ctx)
{
    ct_enqueue_work(ctx, "inst", 1, "u1");
    take_none(ctx, &only_gpu);
    take_none(ctx, &any_tag);
    take_expect(ctx, &only_untagged, "u1");
}

static void enqueue_work_is_untagged(duro_ct_ctx *ctx)
{
    duro_work_item *item;

    ct_enqueue_work(ctx, "inst", 1, "u1");
    put(ctx, 2, NULL, "u2");
    EXPECT_DEPTHS(ctx, "-:2/0/0");
    item = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "u1");
    ct_abandon_work(ctx, item, 0, 1);
    take_expect(ctx, &only_untagged, "u1");
    take_expect(ctx, &only_untagged, "u2");
}

/* ---- Order ----------------------------------------------------------------------------- */

static void fifo_within_a_tag(duro_ct_ctx *ctx)
{
    put(ctx, 1, "gpu", "g1");
    put(ctx, 2, "cpu", "c1");
    put(ctx, 3, "gpu", "g2");
    ct_enqueue_work(ctx, "inst", 4, "u1");
    put(ctx, 5, "gpu", "g3");
    take_expect(ctx, &only_gpu, "g1");
    take_expect(ctx, &only_gpu, "g2");
    take_expect(ctx, &only_gpu, "g3");
    take_none(ctx, &only_gpu);
    EXPECT_DEPTHS(ctx, "-:1/0/0,cpu:1/0/0");
}

static void mixed_filter_alternates_classes(duro_ct_ctx *ctx)
{
    static const char *const want[] = {"u1", "g1", "u2", "g2", "u3", "u4"};
    duro_work_filter f = {.untagged = 1, .tags = gpu, .n_tags = 1};

    for (int i = 1; i <= 4; i++) {
        char p[8];
        snprintf(p, sizeof p, "u%d", i);
        ct_enqueue_work(ctx, "inst", (uint64_t)i, p);
    }
    put(ctx, 10, "gpu", "g1");
    put(ctx, 11, "gpu", "g2");
    for (uint32_t turn = 0; turn < 6; turn++) {
        f.turn = turn;
        take_expect(ctx, &f, want[turn]);
    }
    take_none(ctx, &f);
}

static void turn_picks_the_first_class(duro_ct_ctx *ctx)
{
    static const char *const ab[] = {"a", "b"};
    duro_work_filter f = {.untagged = 1, .tags = ab, .n_tags = 2};
    duro_work_filter any = {.untagged = 1, .any_tag = 1};

    ct_enqueue_work(ctx, "inst", 1, "u1");
    put(ctx, 2, "a", "a1");
    put(ctx, 3, "b", "b1");
    put(ctx, 4, "a", "a2");
    f.turn = 5; /* 5 % 3 = class 2: tag b */
    take_expect(ctx, &f, "b1");
    f.turn = 5; /* b is empty now: the next class wraps to untagged */
    take_expect(ctx, &f, "u1");
    f.turn = 4; /* class 1: tag a */
    take_expect(ctx, &f, "a1");
    any.turn = 0; /* untagged first: none left, so the oldest tagged item */
    take_expect(ctx, &any, "a2");
}

/* ---- Tags are kept ----------------------------------------------------------------------- */

static void tag_survives_abandon_with_delay(duro_ct_ctx *ctx)
{
    duro_work_item *item;

    put(ctx, 1, "gpu", "g1");
    item = take(ctx, &only_gpu);
    ck_assert_ptr_nonnull(item);
    ct_abandon_work(ctx, item, 1000, 0);
    EXPECT_DEPTHS(ctx, "gpu:0/0/1");
    take_none(ctx, &only_gpu);
    ctx->now += 1000;
    EXPECT_DEPTHS(ctx, "gpu:1/0/0");
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    take_none(ctx, &only_untagged);
    item = take(ctx, &only_gpu);
    ck_assert_ptr_nonnull(item);
    ck_assert_uint_eq(item->attempt, 2);
    ct_abandon_work(ctx, item, 0, 0);
}

static void tag_survives_renew_and_lock_expiry(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_work_item *item;

    put(ctx, 1, "gpu", "g1");
    item = take(ctx, &only_gpu);
    ck_assert_ptr_nonnull(item);
    ck_assert_int_eq(ctx->p->ops->renew_work(ctx->p, ctx->now, item->lock_token,
                                             2 * DURO_CT_LOCK_MS, &err), 0);
    ctx->now += DURO_CT_LOCK_MS;
    EXPECT_DEPTHS(ctx, "gpu:0/1/0");
    take_none(ctx, &any_tag);
    ctx->now += DURO_CT_LOCK_MS;
    EXPECT_DEPTHS(ctx, "gpu:1/0/0");
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    take_none(ctx, &only_cpu);
    duro_work_item_free(item);
    item = take(ctx, &only_gpu);
    ck_assert_ptr_nonnull(item);
    ck_assert_uint_eq(item->attempt, 2);
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, item->lock_token, NULL, &err), 0);
    duro_work_item_free(item);
    EXPECT_DEPTHS(ctx, "");
}

/* ---- Commits --------------------------------------------------------------------------- */

static void commit_tags_roundtrip(duro_ct_ctx *ctx)
{
    static const char *const tags[] = {NULL, "gpu", "cpu"};
    duro_work_in work[3] = {
        {.instance = "a", .execution_id = 1, .activity_id = 1, .payload = "w1"},
        {.instance = "a", .execution_id = 1, .activity_id = 2, .payload = "w2"},
        {.instance = "a", .execution_id = 1, .activity_id = 3, .payload = "w3"},
    };
    duro_orch_commit c = ct_commit(1, NULL, 0);
    duro_work_item *item;

    ct_create_instance(ctx, "a");
    c.work = work;
    c.n_work = 3;
    c.work_tags = tags;
    ct_turn(ctx, "a", &c);
    EXPECT_DEPTHS(ctx, "-:1/0/0,cpu:1/0/0,gpu:1/0/0");
    item = take(ctx, &only_gpu);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->instance, "a");
    ck_assert_uint_eq(item->execution_id, 1);
    ck_assert_uint_eq(item->activity_id, 2);
    ck_assert_str_eq(item->payload, "w2");
    ct_abandon_work(ctx, item, 0, 0);
    take_expect(ctx, &only_untagged, "w1");
    take_expect(ctx, &only_cpu, "w3");
    take_expect(ctx, &only_gpu, "w2");
}

static void cancel_of_a_tagged_item(duro_ct_ctx *ctx)
{
    static const char *const tags[] = {"gpu", "gpu"};
    duro_work_in work[2] = {
        {.instance = "a", .execution_id = 1, .activity_id = 1, .payload = "w1"},
        {.instance = "a", .execution_id = 1, .activity_id = 2, .payload = "w2"},
    };
    duro_activity_ref ref = {.execution_id = 1, .activity_id = 1};
    duro_orch_commit c = ct_commit(1, NULL, 0);

    ct_create_instance(ctx, "a");
    c.work = work;
    c.n_work = 2;
    c.work_tags = tags;
    ct_turn(ctx, "a", &c);
    c = ct_commit(1, NULL, 0);
    c.cancel = &ref;
    c.n_cancel = 1;
    ct_turn(ctx, "a", &c);
    EXPECT_DEPTHS(ctx, "gpu:1/0/0");
    take_expect(ctx, &only_gpu, "w2");
    take_none(ctx, &any_tag);
}

/* ---- Depths ---------------------------------------------------------------------------- */

static void depths_count_every_tag(duro_ct_ctx *ctx)
{
    duro_work_item *item;

    ct_enqueue_work(ctx, "inst", 1, "u1");
    ct_enqueue_work(ctx, "inst", 2, "u2");
    put(ctx, 3, "gpu", "g1");
    put(ctx, 4, "gpu", "g2");
    put(ctx, 5, "nobody-takes-this", "n1");
    put(ctx, 6, "Gpu", "G1");
    item = take(ctx, &only_gpu);
    ck_assert_ptr_nonnull(item);
    EXPECT_DEPTHS(ctx, "-:2/0/0,Gpu:1/0/0,gpu:1/1/0,nobody-takes-this:1/0/0");
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 5, 0);
    ct_abandon_work(ctx, item, 500, 0);
    EXPECT_DEPTHS(ctx, "-:2/0/0,Gpu:1/0/0,gpu:1/0/1,nobody-takes-this:1/0/0");
    ctx->now += 500;
    EXPECT_DEPTHS(ctx, "-:2/0/0,Gpu:1/0/0,gpu:2/0/0,nobody-takes-this:1/0/0");
}

/* ---- Bad input ------------------------------------------------------------------------- */

static void invalid_tag_rejected(duro_ct_ctx *ctx)
{
    char big[DURO_MAX_ID_BYTES + 2];
    duro_error err = {0};
    duro_work_in w = {.instance = "inst", .execution_id = 1, .activity_id = 1, .payload = "x"};

    memset(big, 't', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(ctx->p->ops->enqueue_work_tagged(ctx->p, &w, "", &err), DURO_EINVAL);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_int_eq(ctx->p->ops->enqueue_work_tagged(ctx->p, &w, big, &err), DURO_ETOOBIG);
    ck_assert_int_eq(err.retryable, 0);
    EXPECT_DEPTHS(ctx, "");
    big[DURO_MAX_ID_BYTES] = '\0'; /* exactly the limit is a valid tag */
    put(ctx, 1, big, "x");
    {
        const char *const one[] = {big};
        duro_work_filter f = {.tags = one, .n_tags = 1};
        take_expect(ctx, &f, "x");
    }
}

static void invalid_commit_tag_applies_nothing(duro_ct_ctx *ctx)
{
    static const char *const bad[] = {"gpu", ""};
    duro_work_in work[2] = {
        {.instance = "a", .execution_id = 1, .activity_id = 1, .payload = "w1"},
        {.instance = "a", .execution_id = 1, .activity_id = 2, .payload = "w2"},
    };
    duro_event_in ev = {.event_id = 2, .kind = 1, .payload = "e2"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    duro_error err = {0};
    duro_orch_item *item;

    ct_create_instance(ctx, "a");
    item = ct_poke(ctx, "a");
    c.work = work;
    c.n_work = 2;
    c.work_tags = bad;
    ck_assert_int_eq(ct_ack_rc(ctx, item->lock_token, &c, &err), DURO_EINVAL);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_uint_eq(ct_history_len(ctx, "a", 1), 1);
    EXPECT_DEPTHS(ctx, "");
    /* the lock is kept: the corrected commit goes through */
    c.work_tags = NULL;
    ct_ack(ctx, item, &c);
    ck_assert_uint_eq(ct_history_len(ctx, "a", 1), 2);
    EXPECT_DEPTHS(ctx, "-:2/0/0");
}

static void invalid_filter_rejected(duro_ct_ctx *ctx)
{
    static const char *const twice[] = {"gpu", "gpu"};
    static const char *const empty[] = {"gpu", ""};
    static const char *const null_tag[] = {NULL};
    char big[DURO_MAX_ID_BYTES + 2];
    const char *const huge[] = {big};
    const duro_work_filter nothing = {0};
    const duro_work_filter both = {.any_tag = 1, .tags = gpu, .n_tags = 1};
    const duro_work_filter dup = {.tags = twice, .n_tags = 2};
    const duro_work_filter with_empty = {.tags = empty, .n_tags = 2};
    const duro_work_filter with_null = {.tags = null_tag, .n_tags = 1};
    const duro_work_filter no_array = {.n_tags = 1};
    const duro_work_filter too_long = {.tags = huge, .n_tags = 1};
    const duro_work_filter too_many = {.tags = gpu, .n_tags = DURO_MAX_FILTER_TAGS + 1};
    const duro_work_filter *const invalid[] = {NULL, &nothing, &both, &dup, &with_empty,
                                               &with_null, &no_array, &too_many};
    duro_work_item *item = NULL;
    duro_error err = {0};

    memset(big, 't', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    put(ctx, 1, "gpu", "g1");
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        int rc = ctx->p->ops->fetch_work_filtered(ctx->p, ctx->now, DURO_CT_LOCK_MS, 0,
                                                  invalid[i], &item, &err);
        ck_assert_msg(rc == DURO_EINVAL, "filter %zu: %s, not DURO_EINVAL", i,
                      duro_strerror(rc));
        ck_assert_ptr_null(item);
    }
    ck_assert_int_eq(ctx->p->ops->fetch_work_filtered(ctx->p, ctx->now, DURO_CT_LOCK_MS, 0,
                                                      &too_long, &item, &err),
                     DURO_ETOOBIG);
    ck_assert_ptr_null(item);
    EXPECT_DEPTHS(ctx, "gpu:1/0/0");
    take_expect(ctx, &only_gpu, "g1");
}

/* ---- Handles --------------------------------------------------------------------------- */

static void handles_agree_on_tags(duro_ct_ctx *ctx)
{
    duro_provider *b = ct_attach(ctx);
    duro_error err = {0};
    duro_work_item *item;
    char buf[256];

    put(ctx, 1, "gpu", "g1");
    ct_enqueue_work(ctx, "inst", 2, "u1");
    ck_assert_str_eq(depths_on(ctx, b, buf, sizeof buf), "-:1/0/0,gpu:1/0/0");
    item = take_on(ctx, b, &only_gpu);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->payload, "g1");
    EXPECT_DEPTHS(ctx, "-:1/0/0,gpu:0/1/0");
    take_none(ctx, &any_tag);
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, item->lock_token, NULL, &err), 0);
    duro_work_item_free(item);
    ck_assert_ptr_null(take_on(ctx, b, &only_gpu));
    ck_assert_str_eq(depths_on(ctx, b, buf, sizeof buf), "-:1/0/0");
    duro_provider_destroy(b);
}

/* ---- Registry -------------------------------------------------------------------------- */

DURO_CASES = {
    DURO_CASE(tagged_invisible_to_other_filters, DURO_CAP_TAGS, 0,
              "A tagged item is invisible to fetch_work, to an untagged-only filter and to a "
              "filter of another tag."),
    DURO_CASE(tagged_visible_to_its_tag_and_any, DURO_CAP_TAGS, 0,
              "A tagged item is fetched, with its fields, by a filter of its tag and by "
              "any_tag."),
    DURO_CASE(untagged_invisible_to_tag_filters, DURO_CAP_TAGS, 0,
              "An untagged item is invisible to a tag-only filter and to any_tag alone."),
    DURO_CASE(enqueue_work_is_untagged, DURO_CAP_TAGS, 0,
              "enqueue_work and enqueue_work_tagged with a NULL tag enqueue untagged items that "
              "fetch_work and an untagged filter both take, oldest first."),
    DURO_CASE(fifo_within_a_tag, DURO_CAP_TAGS, 0,
              "Items of one tag come in enqueue order, whatever is enqueued between them."),
    DURO_CASE(mixed_filter_alternates_classes, DURO_CAP_TAGS, 0,
              "A filter accepting untagged and a tag alternates with the turn, so a deep "
              "untagged queue does not starve the tag, and skips a class that is empty."),
    DURO_CASE(turn_picks_the_first_class, DURO_CAP_TAGS, 0,
              "The class tried first is turn % classes (untagged, then tags in the order "
              "given, or any tag), wrapping round to the next class with an item."),
    DURO_CASE(tag_survives_abandon_with_delay, DURO_CAP_TAGS, 0,
              "An item abandoned with a delay is hidden until then and comes back with its "
              "tag: only a filter of its tag takes it."),
    DURO_CASE(tag_survives_renew_and_lock_expiry, DURO_CAP_TAGS, 0,
              "A renewed lock holds the tagged item; once it expires the item is fetchable "
              "again by its tag only, as attempt 2."),
    DURO_CASE(commit_tags_roundtrip, DURO_CAP_TAGS, 0,
              "A commit's work_tags route each work item to its tag (NULL untagged)."),
    DURO_CASE(cancel_of_a_tagged_item, DURO_CAP_TAGS, 0,
              "A cancel ref of a commit deletes the queued tagged item and only it."),
    DURO_CASE(depths_count_every_tag, DURO_CAP_TAGS | DURO_CAP_MANAGEMENT, 0,
              "queue_depths_by_tag counts each tag (bytes compared) as queued, locked and "
              "delayed, untagged first, tags no filter accepts included."),
    DURO_CASE(invalid_tag_rejected, DURO_CAP_TAGS, 0,
              "An empty tag is DURO_EINVAL and one longer than DURO_MAX_ID_BYTES is "
              "DURO_ETOOBIG, nothing enqueued; a tag of exactly the limit works."),
    DURO_CASE(invalid_commit_tag_applies_nothing, DURO_CAP_TAGS, 0,
              "A commit with an invalid work tag is DURO_EINVAL, applies nothing and keeps "
              "the lock."),
    DURO_CASE(invalid_filter_rejected, DURO_CAP_TAGS, 0,
              "An invalid filter (NULL, accepting nothing, any_tag with tags, a tag twice, "
              "an empty or NULL tag, no array, too many tags) is DURO_EINVAL and a too long "
              "tag DURO_ETOOBIG, locking nothing."),
    DURO_CASE(handles_agree_on_tags, DURO_CAP_TAGS, DURO_HOOK_ATTACH,
              "Tags, filtered fetches, locks and depths are the same through every handle."),
    DURO_CASES_END,
};
