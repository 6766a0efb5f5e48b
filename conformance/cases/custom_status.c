/*
 * custom_status.c — conformance cases for the custom status an orchestration publishes:
 * its value and version as materialised by ack_orch and read back through instance_info and
 * fetch.
 *
 * A commit with set_custom_status sets the value (NULL clears it) and increments the
 * version, whatever the value; a commit without it leaves both alone. The version starts at
 * 0 on a new instance and spans executions. Values are opaque text returned byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY custom_status

/* ---- Helpers --------------------------------------------------------------------------- */

/* One turn of `instance` in execution `execution_id` with `events`; when `set` is non-zero
 * the commit sets the custom status to `value` (NULL clears). */
static void status_turn_x(duro_ct_ctx *ctx, const char *instance, uint64_t execution_id,
                          const duro_event_in *events, size_t n, int set, const char *value)
{
    duro_orch_commit c = ct_commit(execution_id, events, n);

    c.set_custom_status = set;
    c.custom_status = value;
    ct_turn(ctx, instance, &c);
}

/* A turn of execution 1 without events that sets the status to `value` (NULL clears). */
static void set_status(duro_ct_ctx *ctx, const char *instance, const char *value)
{
    status_turn_x(ctx, instance, 1, NULL, 0, 1, value);
}

/* Assert the custom status of `instance` through instance_info. */
static void expect_status(duro_ct_ctx *ctx, const char *instance, const char *value,
                          uint64_t version)
{
    duro_instance_info info = {0};
    duro_error err = {0};
    int rc = ctx->p->ops->instance_info(ctx->p, instance, &info, &err);

    ck_assert_msg(rc == 0, "instance_info(%s) failed: %s (%s)", instance, duro_strerror(rc),
                  err.message);
    if (value == NULL)
        ck_assert_ptr_null(info.custom_status);
    else
        ck_assert_str_eq(info.custom_status, value);
    ck_assert_uint_eq(info.custom_status_version, version);
    duro_instance_info_clear(&info);
}

/* ---- Cases ----------------------------------------------------------------------------- */

static void new_instance_has_no_status(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    expect_status(ctx, "a", NULL, 0);
}

static void set_gives_value_version_one(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    set_status(ctx, "a", "progress: 10%");
    expect_status(ctx, "a", "progress: 10%", 1);
}

static void set_again_gives_version_two(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    set_status(ctx, "a", "first");
    set_status(ctx, "a", "second");
    expect_status(ctx, "a", "second", 2);
}

static void clear_gives_null_version_three(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    set_status(ctx, "a", "first");
    set_status(ctx, "a", "second");
    set_status(ctx, "a", NULL);
    expect_status(ctx, "a", NULL, 3);
}

static void same_value_still_counts(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    set_status(ctx, "a", "same");
    set_status(ctx, "a", "same");
    expect_status(ctx, "a", "same", 2);
}

static void clear_without_status_counts(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    set_status(ctx, "a", NULL);
    expect_status(ctx, "a", NULL, 1);
}

static void commit_without_set_keeps_status(duro_ct_ctx *ctx)
{
    const duro_event_in ev[] = {{.event_id = 2, .kind = 3, .payload = "more"}};
    const duro_event_in done[] = {{.event_id = 3, .kind = 2, .payload = "done"}};
    duro_orch_commit c = ct_commit(1, done, 1);

    ct_create_instance(ctx, "a");
    set_status(ctx, "a", "kept");
    status_turn_x(ctx, "a", 1, ev, 1, 0, "ignored without set_custom_status");
    expect_status(ctx, "a", "kept", 1);

    c.state = DURO_STATE_COMPLETED;
    c.output = "result";
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "poke", 0);
    ct_ack(ctx, ct_fetch(ctx), &c);
    expect_status(ctx, "a", "kept", 1);
}

static void status_set_by_first_turn(duro_ct_ctx *ctx)
{
    const duro_event_in ev[] = {{.event_id = 1, .kind = 1, .payload = "started"}};
    duro_orch_commit c = ct_commit(1, ev, 1);

    c.orch_name = "TestOrch";
    c.orch_version = "1.0.0";
    c.set_custom_status = 1;
    c.custom_status = "booting";
    ct_enqueue_start(ctx, "a");
    ct_ack(ctx, ct_fetch(ctx), &c);
    expect_status(ctx, "a", "booting", 1);
}

static void status_survives_new_execution(duro_ct_ctx *ctx)
{
    const duro_event_in e2[] = {{.event_id = 1, .kind = 1, .payload = "e2-started"}};
    const duro_event_in e2b[] = {{.event_id = 2, .kind = 3, .payload = "e2-more"}};
    const duro_event_in can[] = {{.event_id = 2, .kind = 9, .payload = "can"}};
    duro_orch_commit c = ct_commit(1, can, 1);

    ct_create_instance(ctx, "a");
    set_status(ctx, "a", "from-exec-1");
    c.state = DURO_STATE_CONTINUED_AS_NEW;
    c.output = "input-2";
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "poke", 0);
    ct_ack(ctx, ct_fetch(ctx), &c);
    status_turn_x(ctx, "a", 2, e2, 1, 0, NULL);
    expect_status(ctx, "a", "from-exec-1", 1);
    status_turn_x(ctx, "a", 2, e2b, 1, 1, "from-exec-2");
    expect_status(ctx, "a", "from-exec-2", 2);
}

static void fetch_reports_custom_status(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    set_status(ctx, "a", "visible-to-turns");
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "poke", 0);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->custom_status, "visible-to-turns");
    duro_orch_commit c = ct_commit(1, NULL, 0);
    c.set_custom_status = 1;
    c.custom_status = NULL;
    ct_ack(ctx, item, &c);

    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "poke", 0);
    item = ct_fetch(ctx);
    ck_assert_ptr_null(item->custom_status);
    duro_orch_item_free(item);
}

static void failed_ack_keeps_status(duro_ct_ctx *ctx)
{
    const duro_event_in dup[] = {{.event_id = 1, .kind = 1, .payload = "dup"}};
    duro_orch_commit c = ct_commit(1, dup, 1);
    duro_error err = {0};

    ct_create_instance(ctx, "a");
    set_status(ctx, "a", "kept");
    c.set_custom_status = 1;
    c.custom_status = "lost";
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "poke", 0);
    duro_orch_item *item = ct_fetch(ctx);
    int rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, item->lock_token, &c, &err);
    ck_assert_int_eq(rc, DURO_ECONSTRAINT);
    ck_assert_int_eq(err.retryable, 0);
    duro_orch_item_free(item);
    expect_status(ctx, "a", "kept", 1);
}

static void large_status_roundtrip(duro_ct_ctx *ctx)
{
    const size_t len = (size_t)256 * 1024;
    char *big = malloc(len + 1);
    size_t pos = 0;

    ck_assert_ptr_nonnull(big);
    for (size_t chunk = 0;; chunk++) {
        char unit[48];
        int n = snprintf(unit, sizeof unit, "%06zu:\xe2\x9c\x93\xc3\xa9\"\n", chunk);
        ck_assert_int_gt(n, 0);
        if (pos + (size_t)n > len)
            break;
        memcpy(big + pos, unit, (size_t)n);
        pos += (size_t)n;
    }
    memset(big + pos, '.', len - pos);
    big[len] = '\0';

    ct_create_instance(ctx, "a");
    set_status(ctx, "a", big);
    duro_instance_info info = {0};
    duro_error err = {0};
    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, "a", &info, &err), 0);
    ck_assert_ptr_nonnull(info.custom_status);
    ck_assert_uint_eq(strlen(info.custom_status), len);
    ck_assert_msg(memcmp(info.custom_status, big, len) == 0, "256 KiB status differs");
    ck_assert_uint_eq(info.custom_status_version, 1);
    duro_instance_info_clear(&info);
    free(big);
}

static void utf8_status_roundtrip(duro_ct_ctx *ctx)
{
    /* "état ✓ 日本 😀", quotes, backslash, CR/LF and a tab, as escapes. */
    static const char text[] = "\xc3\xa9tat \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac "
                               "\xf0\x9f\x98\x80 \"q\" 'q' \\ \r\n\t{\"pct\": 50}";

    ct_create_instance(ctx, "a");
    set_status(ctx, "a", text);
    expect_status(ctx, "a", text, 1);
}

static void empty_status_is_not_cleared(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    set_status(ctx, "a", "");
    expect_status(ctx, "a", "", 1);
}

static void unknown_instance_notfound(duro_ct_ctx *ctx)
{
    duro_instance_info info = {0};
    duro_error err = {0};

    ct_create_instance(ctx, "a");
    int rc = ctx->p->ops->instance_info(ctx->p, "b", &info, &err);
    ck_assert_int_eq(rc, DURO_ENOTFOUND);
    ck_assert_int_eq(err.code, DURO_ENOTFOUND);
    ck_assert_int_eq(err.retryable, 0);
}

/* ---- Registry -------------------------------------------------------------------------- */

DURO_CASES = {
    DURO_CASE(new_instance_has_no_status, 0, 0,
              "A new instance has no custom status and version 0."),
    DURO_CASE(set_gives_value_version_one, 0, 0,
              "The first set gives that value at version 1."),
    DURO_CASE(set_again_gives_version_two, 0, 0,
              "A second set replaces the value and gives version 2."),
    DURO_CASE(clear_gives_null_version_three, 0, 0,
              "Set, set, clear gives no value at version 3."),
    DURO_CASE(same_value_still_counts, 0, 0,
              "Setting the same value again still increments the version."),
    DURO_CASE(clear_without_status_counts, 0, 0,
              "Clearing when no status is set gives no value at version 1."),
    DURO_CASE(commit_without_set_keeps_status, 0, 0,
              "Commits without set_custom_status, including a completing one, keep the value "
              "and its version even when custom_status is non-NULL."),
    DURO_CASE(status_set_by_first_turn, 0, 0,
              "The ack that creates the instance can set the status, at version 1."),
    DURO_CASE(status_survives_new_execution, 0, 0,
              "The status and version carry over into a new execution and keep counting "
              "there."),
    DURO_CASE(fetch_reports_custom_status, 0, 0,
              "Fetch reports the current custom status, and NULL once it is cleared."),
    DURO_CASE(failed_ack_keeps_status, 0, 0,
              "A rejected ack (duplicate event id) does not change the status or its version."),
    DURO_CASE(large_status_roundtrip, 0, 0,
              "A 256 KiB UTF-8 custom status comes back byte for byte."),
    DURO_CASE(utf8_status_roundtrip, 0, 0,
              "A status with multi-byte UTF-8, quotes, backslash and CR/LF comes back "
              "exactly."),
    DURO_CASE(empty_status_is_not_cleared, 0, 0,
              "An empty string is a value, distinct from a cleared (NULL) status."),
    DURO_CASE(unknown_instance_notfound, 0, 0,
              "The status of an unknown instance is not invented: instance_info fails with "
              "DURO_ENOTFOUND (permanent)."),
    DURO_CASES_END,
};
