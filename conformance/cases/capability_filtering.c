/*
 * capability_filtering.c — conformance cases for version-aware fetching
 * (DURO_CAP_VERSION_FILTER, ops version 7): message targets stored by enqueue_orch_start and
 * duro_orch_commit.msg_targets, and fetch_orch_filtered, which takes only instances whose
 * route (see "Version filtering" in duro-provider.h) its filter accepts.
 *
 * An instance a filter does not accept is never fetched through it, whether it is running
 * (routed by its row), newly started (by its START's target), continuing as new to a newer
 * version (by its CONTINUE_AS_NEW's target) or a child started with a version; a filter that
 * has the version takes it, in the order fetch_orch would. The routes rank as the contract
 * says (CONTINUE_AS_NEW target, then the row, then the latest targeted START) and a ref
 * matches name and version together. Filtered-out instances are left untouched: not
 * locked, their attempt counts unchanged, their messages kept in order. Every case is
 * skipped, with the reason, on a provider without DURO_CAP_VERSION_FILTER.
 */
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY capability_filtering

/* ---- Helpers --------------------------------------------------------------------------- */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ORCH "VersionedOrch"

static const duro_orch_ref ref_v1[] = {{ORCH, "1.0.0"}};
static const duro_orch_ref ref_v2[] = {{ORCH, "2.0.0"}};
static const duro_orch_ref ref_both[] = {{ORCH, "1.0.0"}, {ORCH, "2.0.0"}};
static const duro_orch_ref ref_other[] = {{"OtherOrch", "1.0.0"}};
static const duro_version_filter only_v1 = {ref_v1, 1};
static const duro_version_filter only_v2 = {ref_v2, 1};
static const duro_version_filter v1_and_v2 = {ref_both, 2};
static const duro_version_filter only_other = {ref_other, 1};

/* Enqueue a START for `instance` visible at ctx->now with target (name, version) through
 * `p`, asserting success. */
static void start_on(duro_ct_ctx *ctx, duro_provider *p, const char *instance,
                     const char *name, const char *version)
{
    const duro_msg m = {instance, DURO_MSG_START, 0, ctx->now, "start"};
    const duro_orch_ref target = {name, version};
    duro_error err = {0};
    int rc = p->ops->enqueue_orch_start(p, &m, &target, &err);

    ck_assert_msg(rc == 0, "enqueue_orch_start(%s) failed: %s (%s)", instance,
                  duro_strerror(rc), err.message);
}

static void start_at(duro_ct_ctx *ctx, const char *instance, const char *version)
{
    start_on(ctx, ctx->p, instance, ORCH, version);
}

/* fetch_orch_filtered through `p` with poll 0: the item, or NULL when nothing is available
 * (any other outcome fails the case). */
static duro_orch_item *fetch_on(duro_ct_ctx *ctx, duro_provider *p,
                                const duro_version_filter *f)
{
    duro_orch_item *item = NULL;
    duro_error err = {0};
    int rc = p->ops->fetch_orch_filtered(p, ctx->now, DURO_CT_LOCK_MS, 0, f, &item, &err);

    if (rc == DURO_ENOTFOUND) {
        ck_assert_ptr_null(item);
        return NULL;
    }
    ck_assert_msg(rc == 0, "fetch_orch_filtered failed: %s (%s)", duro_strerror(rc),
                  err.message);
    ck_assert_ptr_nonnull(item);
    return item;
}

static duro_orch_item *fetch_f(duro_ct_ctx *ctx, const duro_version_filter *f)
{
    return fetch_on(ctx, ctx->p, f);
}

/* Assert that a fetch through `f` finds nothing. */
static void expect_nothing(duro_ct_ctx *ctx, const duro_version_filter *f)
{
    duro_orch_item *item = fetch_f(ctx, f);

    ck_assert_msg(item == NULL, "the filter fetched %s", item ? item->instance : "");
}

/* Assert that a fetch through `f` takes `instance`; returns the item. */
static duro_orch_item *expect_fetch(duro_ct_ctx *ctx, const duro_version_filter *f,
                                    const char *instance)
{
    duro_orch_item *item = fetch_f(ctx, f);

    ck_assert_msg(item != NULL, "the filter fetched nothing, expected %s", instance);
    ck_assert_str_eq(item->instance, instance);
    return item;
}

/* Make `instance` a running instance of ORCH at `version` (one event), started with that
 * target and fetched through a filter that has both versions. */
static void create_at(duro_ct_ctx *ctx, const char *instance, const char *version)
{
    const duro_event_in e[] = {{1, 1, "started"}};
    duro_orch_commit c = ct_commit(1, e, 1);
    duro_orch_item *item;

    start_at(ctx, instance, version);
    item = expect_fetch(ctx, &v1_and_v2, instance);
    c.orch_name = ORCH;
    c.orch_version = version;
    c.state = DURO_STATE_RUNNING;
    ct_ack(ctx, item, &c);
}

/* Enqueue an EVENT for `instance` visible at ctx->now. */
static void poke(duro_ct_ctx *ctx, const char *instance)
{
    ct_enqueue(ctx, instance, DURO_MSG_EVENT, "poke", 0);
}

/* End execution 1 of the running `instance` by continuing as new with a CONTINUE_AS_NEW
 * targeted at (ORCH, version). */
static void continue_as_new_to(duro_ct_ctx *ctx, const char *instance, const char *version)
{
    const duro_msg next = {instance, DURO_MSG_CONTINUE_AS_NEW, 2, ctx->now, "input-2"};
    const duro_orch_ref target = {ORCH, version};
    duro_orch_commit c = ct_commit(1, NULL, 0);
    duro_orch_item *item;

    poke(ctx, instance);
    item = expect_fetch(ctx, NULL, instance);
    c.state = DURO_STATE_CONTINUED_AS_NEW;
    c.output = "input-2";
    c.msgs = &next;
    c.n_msgs = 1;
    c.msg_targets = &target;
    ct_ack(ctx, item, &c);
}

/* fetch_orch_filtered with `f`: assert DURO_EINVAL, retryable 0, and nothing locked. */
static void expect_invalid(duro_ct_ctx *ctx, const duro_version_filter *f)
{
    duro_orch_item *item = (duro_orch_item *)&item;
    duro_error err = {0};
    int rc = ctx->p->ops->fetch_orch_filtered(ctx->p, ctx->now, DURO_CT_LOCK_MS, 0, f, &item,
                                              &err);

    ck_assert_msg(rc == DURO_EINVAL, "invalid filter gave %s, not DURO_EINVAL",
                  duro_err_name(rc));
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(item);
}

/* A name one byte over DURO_MAX_ID_BYTES (malloc'd). */
static char *too_long_id(void)
{
    char *s = malloc(DURO_MAX_ID_BYTES + 2);

    ck_assert_ptr_nonnull(s);
    memset(s, 'n', DURO_MAX_ID_BYTES + 1);
    s[DURO_MAX_ID_BYTES + 1] = '\0';
    return s;
}

/* ---- Cases: routes ----------------------------------------------------------------------- */

static void new_start_needs_its_version(duro_ct_ctx *ctx)
{
    duro_orch_item *item;

    start_at(ctx, "a", "2.0.0");
    expect_nothing(ctx, &only_v1);
    expect_nothing(ctx, &only_other);
    item = expect_fetch(ctx, &only_v2, "a");
    ck_assert_uint_eq(item->attempt, 1);
    ck_assert_ptr_null(item->orch_name);
    duro_orch_item_free(item);
}

static void filter_with_several_versions_takes_start(duro_ct_ctx *ctx)
{
    start_at(ctx, "a", "2.0.0");
    duro_orch_item_free(expect_fetch(ctx, &v1_and_v2, "a"));
}

static void running_instance_routed_by_row(duro_ct_ctx *ctx)
{
    duro_orch_item *item;

    create_at(ctx, "a", "2.0.0");
    poke(ctx, "a");
    expect_nothing(ctx, &only_v1);
    item = expect_fetch(ctx, &only_v2, "a");
    ck_assert_str_eq(item->orch_version, "2.0.0");
    ck_assert_uint_eq(item->n_msgs, 1);
    duro_orch_item_free(item);
}

static void old_version_runs_on_old_and_new(duro_ct_ctx *ctx)
{
    duro_orch_item *item;

    create_at(ctx, "a", "1.0.0");
    poke(ctx, "a");
    expect_nothing(ctx, &only_v2);
    item = expect_fetch(ctx, &only_v1, "a");
    ct_abandon(ctx, item, 0, 1);
    duro_orch_item_free(expect_fetch(ctx, &v1_and_v2, "a"));
}

static void continue_as_new_to_newer_version(duro_ct_ctx *ctx)
{
    const duro_event_in e[] = {{1, 1, "v2-started"}};
    duro_orch_commit c2 = ct_commit(2, e, 1);
    duro_orch_item *item;

    create_at(ctx, "a", "1.0.0");
    continue_as_new_to(ctx, "a", "2.0.0");
    expect_nothing(ctx, &only_v1);
    item = expect_fetch(ctx, &only_v2, "a");
    ck_assert_int_eq(item->state, DURO_STATE_CONTINUED_AS_NEW);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_CONTINUE_AS_NEW);
    c2.orch_name = ORCH;
    c2.orch_version = "2.0.0";
    c2.state = DURO_STATE_RUNNING;
    ct_ack(ctx, item, &c2);
    /* the row now says 2.0.0: later messages go to runtimes that have it */
    poke(ctx, "a");
    expect_nothing(ctx, &only_v1);
    item = expect_fetch(ctx, &only_v2, "a");
    ck_assert_uint_eq(item->execution_id, 2);
    duro_orch_item_free(item);
}

static void continue_as_new_to_same_version(duro_ct_ctx *ctx)
{
    create_at(ctx, "a", "1.0.0");
    continue_as_new_to(ctx, "a", "1.0.0");
    expect_nothing(ctx, &only_v2);
    duro_orch_item_free(expect_fetch(ctx, &only_v1, "a"));
}

static void child_started_with_version(duro_ct_ctx *ctx)
{
    const duro_msg start = {"child", DURO_MSG_START, 0, ctx->now, "child-start"};
    const duro_orch_ref target = {ORCH, "2.0.0"};
    duro_orch_commit c = ct_commit(1, NULL, 0);
    duro_orch_item *item;

    create_at(ctx, "parent", "1.0.0");
    poke(ctx, "parent");
    item = expect_fetch(ctx, &only_v1, "parent");
    c.msgs = &start;
    c.n_msgs = 1;
    c.msg_targets = &target;
    ct_ack(ctx, item, &c);
    expect_nothing(ctx, &only_v1);
    item = expect_fetch(ctx, &only_v2, "child");
    ck_assert_str_eq(item->msgs[0].payload, "child-start");
    duro_orch_item_free(item);
}

static void unpinned_start_accepted_by_name(duro_ct_ctx *ctx)
{
    start_at(ctx, "a", NULL);
    expect_nothing(ctx, &only_other);
    duro_orch_item_free(expect_fetch(ctx, &only_v1, "a"));
}

static void start_without_target_accepted_by_any_filter(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    duro_orch_item_free(expect_fetch(ctx, &only_other, "a"));
}

static void versions_compare_byte_for_byte(duro_ct_ctx *ctx)
{
    static const duro_orch_ref short_ref[] = {{ORCH, "2.0"}};
    static const duro_orch_ref case_ref[] = {{"versionedorch", "2.0.0"}};
    const duro_version_filter short_version = {short_ref, 1};
    const duro_version_filter other_case = {case_ref, 1};

    start_at(ctx, "a", "2.0.0");
    expect_nothing(ctx, &short_version);
    expect_nothing(ctx, &other_case);
    duro_orch_item_free(expect_fetch(ctx, &only_v2, "a"));
}

/* ---- Cases: NULL and empty filters, order, attempts --------------------------------------- */

static void null_filter_takes_any(duro_ct_ctx *ctx)
{
    start_at(ctx, "a", "2.0.0");
    duro_orch_item_free(expect_fetch(ctx, NULL, "a"));
}

static void empty_filter_takes_nothing(duro_ct_ctx *ctx)
{
    const duro_version_filter none = {NULL, 0};

    ct_enqueue_start(ctx, "a");
    start_at(ctx, "b", "1.0.0");
    expect_nothing(ctx, &none);
    duro_orch_item_free(expect_fetch(ctx, NULL, "a"));
}

static void order_among_accepted_unchanged(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"d", "c", "b", "a"};
    static const char *const versions[] = {"1.0.0", "2.0.0", "1.0.0", "2.0.0"};
    duro_orch_item *items[4];

    for (size_t i = 0; i < N_OF(ids); i++) {
        start_at(ctx, ids[i], versions[i]);
        ctx->now += DURO_CT_STEP_MS;
    }
    items[0] = expect_fetch(ctx, &only_v2, "c");
    items[1] = expect_fetch(ctx, &only_v1, "d");
    items[2] = expect_fetch(ctx, &only_v1, "b");
    expect_nothing(ctx, &only_v1);
    items[3] = expect_fetch(ctx, &v1_and_v2, "a");
    expect_nothing(ctx, &v1_and_v2);
    for (size_t i = 0; i < N_OF(items); i++)
        duro_orch_item_free(items[i]);
}

static void filtered_out_attempts_untouched(duro_ct_ctx *ctx)
{
    duro_orch_item *item;

    start_at(ctx, "a", "2.0.0");
    for (int i = 0; i < 3; i++) {
        expect_nothing(ctx, &only_v1);
        ctx->now += DURO_CT_STEP_MS;
    }
    item = expect_fetch(ctx, &only_v2, "a");
    ck_assert_uint_eq(item->attempt, 1);
    ct_abandon(ctx, item, 0, 0);
    expect_nothing(ctx, &only_v1);
    item = expect_fetch(ctx, &only_v2, "a");
    ck_assert_uint_eq(item->attempt, 2);
    duro_orch_item_free(item);
}

static void filtered_out_instance_stays_queued(duro_ct_ctx *ctx)
{
    start_at(ctx, "a", "2.0.0");
    expect_nothing(ctx, &only_v1);
    DURO_CT_ASSERT_DEPTHS(ctx, 1, 0, 0);
}

static void filtered_out_does_not_hide_later_work(duro_ct_ctx *ctx)
{
    start_at(ctx, "new", "2.0.0");
    ctx->now += DURO_CT_STEP_MS;
    start_at(ctx, "old", "1.0.0");
    duro_orch_item_free(expect_fetch(ctx, &only_v1, "old"));
}

static void handles_agree(duro_ct_ctx *ctx)
{
    const duro_provider_factory *f = ctx->factory;
    char locator[4096];
    duro_provider *other = NULL;
    duro_error err = {0};
    duro_orch_item *item, *none;

    ck_assert_int_eq(f->locate(f->ud, ctx->p, locator, sizeof locator), 0);
    ck_assert_int_eq(f->attach(f->ud, locator, &other, &err), 0);
    start_on(ctx, other, "a", ORCH, "2.0.0");
    ck_assert_ptr_null(fetch_on(ctx, other, &only_v1));
    expect_nothing(ctx, &only_v1);
    item = fetch_on(ctx, other, &only_v2);
    ck_assert_ptr_nonnull(item);
    ck_assert_str_eq(item->instance, "a");
    none = fetch_f(ctx, &only_v2); /* locked through the other handle */
    ck_assert_ptr_null(none);
    duro_orch_item_free(item);
    duro_provider_destroy(other);
}

/* ---- Cases: which route wins, and refs as pairs ------------------------------------------- */

static void name_and_version_match_in_one_ref(duro_ct_ctx *ctx)
{
    static const duro_orch_ref crossed_refs[] = {{ORCH, "1.0.0"}, {"OtherOrch", "2.0.0"}};
    static const duro_orch_ref other_name_refs[] = {{"OtherOrch", "1.0.0"},
                                                    {"OtherOrch", "2.0.0"}};
    const duro_version_filter crossed = {crossed_refs, N_OF(crossed_refs)};
    const duro_version_filter other_names = {other_name_refs, N_OF(other_name_refs)};
    duro_orch_item *started, *running;

    create_at(ctx, "running", "2.0.0");
    start_at(ctx, "started", "2.0.0");
    poke(ctx, "running");
    expect_nothing(ctx, &crossed);
    expect_nothing(ctx, &other_names);
    started = expect_fetch(ctx, &only_v2, "started");
    running = expect_fetch(ctx, &only_v2, "running");
    duro_orch_item_free(started);
    duro_orch_item_free(running);
}

static void row_route_wins_over_start_target(duro_ct_ctx *ctx)
{
    duro_orch_item *item;

    create_at(ctx, "a", "1.0.0");
    start_at(ctx, "a", "2.0.0"); /* a START for an instance that has a row */
    expect_nothing(ctx, &only_v2);
    item = expect_fetch(ctx, &only_v1, "a");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_START);
    duro_orch_item_free(item);
}

static void latest_targeted_start_routes(duro_ct_ctx *ctx)
{
    duro_orch_item *item;

    start_at(ctx, "a", "1.0.0");
    start_at(ctx, "a", "2.0.0");
    ct_enqueue_start(ctx, "a"); /* without a target: the targeted START with the highest id */
    expect_nothing(ctx, &only_v1);
    item = expect_fetch(ctx, &only_v2, "a");
    ck_assert_uint_eq(item->n_msgs, 3);
    ck_assert_str_eq(item->msgs[0].payload, "start");
    ck_assert_str_eq(item->msgs[2].payload, "start:a");
    ck_assert(item->msgs[0].id < item->msgs[1].id && item->msgs[1].id < item->msgs[2].id);
    duro_orch_item_free(item);
}

static void unpinned_continue_as_new_accepted_by_name(duro_ct_ctx *ctx)
{
    duro_orch_item *item;

    create_at(ctx, "a", "1.0.0");
    continue_as_new_to(ctx, "a", NULL);
    expect_nothing(ctx, &only_other);
    item = expect_fetch(ctx, &only_v2, "a"); /* the target, not the row's 1.0.0, routes */
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_CONTINUE_AS_NEW);
    ct_abandon(ctx, item, 0, 1);
    duro_orch_item_free(expect_fetch(ctx, &only_v1, "a"));
}

static void left_instance_keeps_its_messages_in_order(duro_ct_ctx *ctx)
{
    static const int kinds[] = {DURO_MSG_START, DURO_MSG_EVENT, DURO_MSG_TIMER_FIRED,
                                DURO_MSG_EVENT};
    static const char *const payloads[] = {"start", "first", "timer", "second"};
    duro_orch_item *item;

    start_at(ctx, "a", "2.0.0");
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "first", 0);
    ct_enqueue(ctx, "a", DURO_MSG_TIMER_FIRED, "timer", DURO_CT_STEP_MS);
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "second", 0);
    for (int i = 0; i < 3; i++) {
        expect_nothing(ctx, &only_v1);
        ctx->now += DURO_CT_STEP_MS;
    }
    item = expect_fetch(ctx, &only_v2, "a");
    ck_assert_uint_eq(item->attempt, 1);
    ck_assert_uint_eq(item->n_msgs, N_OF(kinds));
    for (size_t i = 0; i < N_OF(kinds); i++) {
        ck_assert_int_eq(item->msgs[i].kind, kinds[i]);
        ck_assert_str_eq(item->msgs[i].payload, payloads[i]);
    }
    duro_orch_item_free(item);
}

static void filtered_fetch_honours_locks_and_holds(duro_ct_ctx *ctx)
{
    duro_orch_item *item;
    int64_t locked_at;

    create_at(ctx, "a", "2.0.0");
    poke(ctx, "a");
    item = expect_fetch(ctx, &only_v2, "a");
    locked_at = ctx->now;
    duro_orch_item_free(item);
    expect_nothing(ctx, &only_v2);
    ctx->now = locked_at + DURO_CT_LOCK_MS - 1;
    expect_nothing(ctx, &v1_and_v2);
    ctx->now = locked_at + DURO_CT_LOCK_MS;
    item = expect_fetch(ctx, &only_v2, "a");
    ck_assert_uint_eq(item->attempt, 2);
    ct_abandon(ctx, item, DURO_CT_STEP_MS, 1);
    ctx->now += DURO_CT_STEP_MS - 1;
    expect_nothing(ctx, &only_v2);
    ctx->now += 1;
    duro_orch_item_free(expect_fetch(ctx, &only_v2, "a"));
}

/* ---- Cases: invalid input ---------------------------------------------------------------- */

static void invalid_filter_rejected(duro_ct_ctx *ctx)
{
    char *long_name = too_long_id();
    const duro_orch_ref empty_name[] = {{"", "1.0.0"}};
    const duro_orch_ref null_version[] = {{ORCH, NULL}};
    const duro_orch_ref empty_version[] = {{ORCH, ""}};
    duro_orch_ref too_long[] = {{ORCH, "1.0.0"}, {NULL, "1.0.0"}};
    const duro_version_filter filters[] = {
        {empty_name, 1}, {null_version, 1}, {empty_version, 1}, {NULL, 1}, {too_long, 2},
    };

    too_long[1].orch_name = long_name;
    start_at(ctx, "a", "1.0.0");
    for (size_t i = 0; i < N_OF(filters); i++)
        expect_invalid(ctx, &filters[i]);
    too_long[1].orch_name = ORCH;
    too_long[1].orch_version = long_name;
    expect_invalid(ctx, &filters[4]);
    free(long_name);
    /* nothing was locked or counted by the rejected fetches */
    duro_orch_item *item = expect_fetch(ctx, &only_v1, "a");
    ck_assert_uint_eq(item->attempt, 1);
    duro_orch_item_free(item);
}

static void invalid_target_rejected(duro_ct_ctx *ctx)
{
    char *long_name = too_long_id();
    const duro_msg m = {"a", DURO_MSG_START, 0, ctx->now, "start"};
    duro_orch_ref target = {"", "1.0.0"};
    duro_error err = {0};

    ck_assert_int_eq(ctx->p->ops->enqueue_orch_start(ctx->p, &m, &target, &err), DURO_EINVAL);
    target.orch_name = long_name;
    ck_assert_int_eq(ctx->p->ops->enqueue_orch_start(ctx->p, &m, &target, &err),
                     DURO_ETOOBIG);
    target.orch_name = ORCH;
    target.orch_version = long_name;
    ck_assert_int_eq(ctx->p->ops->enqueue_orch_start(ctx->p, &m, &target, &err),
                     DURO_ETOOBIG);
    free(long_name);
    expect_nothing(ctx, NULL); /* nothing was enqueued */
}

/* ---- The table ------------------------------------------------------------------------- */

#define CAP DURO_CAP_VERSION_FILTER

DURO_CASES = {
    DURO_CASE(new_start_needs_its_version, CAP, 0,
              "A START targeted at a version is fetched only by a filter that has it."),
    DURO_CASE(filter_with_several_versions_takes_start, CAP, 0,
              "A filter listing several versions takes a start targeted at any of them."),
    DURO_CASE(running_instance_routed_by_row, CAP, 0,
              "A running instance is routed by its row's (orch_name, orch_version)."),
    DURO_CASE(old_version_runs_on_old_and_new, CAP, 0,
              "An instance of version 1 is fetched by a filter of v1 and one of v1 and v2."),
    DURO_CASE(continue_as_new_to_newer_version, CAP, 0,
              "A CONTINUE_AS_NEW targeted at a newer version routes by it; the next "
              "execution's commit moves the row to it."),
    DURO_CASE(continue_as_new_to_same_version, CAP, 0,
              "A CONTINUE_AS_NEW to the same version stays with that version's fetchers."),
    DURO_CASE(child_started_with_version, CAP, 0,
              "A child START sent by a commit with msg_targets routes by its target."),
    DURO_CASE(unpinned_start_accepted_by_name, CAP, 0,
              "A target without a version is accepted by every filter with its name, no "
              "other."),
    DURO_CASE(start_without_target_accepted_by_any_filter, CAP, 0,
              "A START enqueued without a target (enqueue_orch) is accepted by every filter."),
    DURO_CASE(versions_compare_byte_for_byte, CAP, 0,
              "Names and versions compare byte for byte (\"2.0\" is not \"2.0.0\")."),
    DURO_CASE(null_filter_takes_any, CAP, 0,
              "A NULL filter fetches as fetch_orch does, whatever the target."),
    DURO_CASE(empty_filter_takes_nothing, CAP, 0,
              "A filter with no refs accepts nothing, not even an untargeted start."),
    DURO_CASE(order_among_accepted_unchanged, CAP, 0,
              "Among the accepted instances the lowest message id comes first."),
    DURO_CASE(filtered_out_attempts_untouched, CAP, 0,
              "Fetches that filter an instance out never count an attempt for it."),
    DURO_CASE(filtered_out_instance_stays_queued, CAP | DURO_CAP_MANAGEMENT, 0,
              "A filtered-out instance stays queued, neither locked nor delayed."),
    DURO_CASE(filtered_out_does_not_hide_later_work, CAP, 0,
              "An older filtered-out instance does not hide a younger accepted one."),
    DURO_CASE(handles_agree, CAP, DURO_HOOK_ATTACH,
              "Targets and locks are store state: another handle routes and locks alike."),
    DURO_CASE(invalid_filter_rejected, CAP, 0,
              "A ref with an empty or NULL name or version, one too long, or refs NULL with "
              "n > 0 is DURO_EINVAL; nothing locked."),
    DURO_CASE(invalid_target_rejected, CAP, 0,
              "A target with an empty name is DURO_EINVAL, one too long DURO_ETOOBIG; nothing "
              "enqueued."),
    DURO_CASE(name_and_version_match_in_one_ref, CAP, 0,
              "A ref accepts a route only when its name and version both match: a filter "
              "holding the name in one ref and the version in another takes nothing."),
    DURO_CASE(row_route_wins_over_start_target, CAP, 0,
              "An instance with a row is routed by the row, not by the target of a START "
              "sent to it later."),
    DURO_CASE(latest_targeted_start_routes, CAP, 0,
              "Of several STARTs of a queued instance the targeted one with the highest id "
              "routes; an untargeted later START does not reset it."),
    DURO_CASE(unpinned_continue_as_new_accepted_by_name, CAP, 0,
              "A CONTINUE_AS_NEW target without a version routes before the row: every "
              "filter with the name takes it, no other."),
    DURO_CASE(left_instance_keeps_its_messages_in_order, CAP, 0,
              "An instance left by other filters comes to the one that accepts it with all "
              "its visible messages in id order, at attempt 1."),
    DURO_CASE(filtered_fetch_honours_locks_and_holds, CAP, 0,
              "An accepted instance is not taken while locked or held by an abandon delay; "
              "it is taken at the lock's expiry and at the hold's end, exactly."),
    DURO_CASES_END,
};
