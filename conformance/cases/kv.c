/*
 * kv.c — conformance cases for durable values (DURO_CAP_KV, ops version 5): the key-value
 * changes a commit carries (duro_orch_commit.kv), applied in ack_orch's transaction, and
 * read back through get_value and list_values.
 *
 * A SET stores a value under a key, a CLEAR removes one key, a CLEAR_ALL every key, in
 * commit order; each change bumps the instance's value counter, whose value a SET stamps on
 * its key (so versions never repeat, even after a clear). A rejected commit (bad event id,
 * lost lock, a key or value over its limit, too many keys) applies no change. Values belong
 * to the instance: a new execution and prune keep them, delete and bulk delete remove them.
 * Keys and instance ids compare as exact bytes (never as patterns), the limits count bytes,
 * and the key limit holds for the state at the end of the commit. Every case is skipped,
 * with the reason, on a provider without DURO_CAP_KV.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY kv

/* ---- Helpers --------------------------------------------------------------------------- */

#define SET(k, v) {DURO_KV_SET, (k), (v)}
#define CLEAR(k) {DURO_KV_CLEAR, (k), NULL}
#define CLEAR_ALL {DURO_KV_CLEAR_ALL, NULL, NULL}
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A commit of execution `execution_id` without events carrying `kv`. */
static duro_orch_commit kv_commit(uint64_t execution_id, const duro_kv_change *kv, size_t n)
{
    duro_orch_commit c = ct_commit(execution_id, NULL, 0);

    c.kv = kv;
    c.n_kv = n;
    return c;
}

/* One turn of execution 1 of the existing `instance` that applies `kv`. */
static void kv_turn(duro_ct_ctx *ctx, const char *instance, const duro_kv_change *kv, size_t n)
{
    duro_orch_commit c = kv_commit(1, kv, n);

    ct_turn(ctx, instance, &c);
}

/* Assert that `key` of `instance` reads `value` at `version` through `p`. */
static void expect_value_on(duro_provider *p, const char *instance, const char *key,
                            const char *value, uint64_t version)
{
    char *got = NULL;
    uint64_t v = 0;
    duro_error err = {0};
    int rc = p->ops->get_value(p, instance, key, &got, &v, &err);

    ck_assert_msg(rc == 0, "get_value(%s, %s) failed: %s (%s)", instance, key,
                  duro_strerror(rc), err.message);
    ck_assert_str_eq(got, value);
    ck_assert_uint_eq(v, version);
    free(got);
}

static void expect_value(duro_ct_ctx *ctx, const char *instance, const char *key,
                         const char *value, uint64_t version)
{
    expect_value_on(ctx->p, instance, key, value, version);
}

/* Assert that get_value of `key` of `instance` is DURO_ENOTFOUND (retryable 0). */
static void expect_absent(duro_ct_ctx *ctx, const char *instance, const char *key)
{
    char *got = (char *)"untouched";
    uint64_t v = 99;
    duro_error err = {0};
    int rc = ctx->p->ops->get_value(ctx->p, instance, key, &got, &v, &err);

    ck_assert_msg(rc == DURO_ENOTFOUND, "get_value(%s, %s) gave %s, not DURO_ENOTFOUND",
                  instance, key, duro_err_name(rc));
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(got);
}

/* Every value of `instance` through `p` as "key=value@version;..." ("ENOTFOUND" when the
 * instance is unknown), into buf. */
static const char *values_on(duro_provider *p, const char *instance, char *buf, size_t size)
{
    duro_kv_entry *e = NULL;
    size_t n = 0, used = 0;
    duro_error err = {0};
    int rc = p->ops->list_values(p, instance, &e, &n, &err);

    if (rc == DURO_ENOTFOUND) {
        ck_assert_ptr_null(e);
        snprintf(buf, size, "ENOTFOUND");
        return buf;
    }
    ck_assert_msg(rc == 0, "list_values(%s) failed: %s (%s)", instance, duro_strerror(rc),
                  err.message);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + used, size - used, "%s=%s@%llu;", e[i].key, e[i].value,
                         (unsigned long long)e[i].version);
        ck_assert(w >= 0 && (size_t)w < size - used);
        used += (size_t)w;
    }
    duro_kv_entries_free(e, n);
    return buf;
}

static const char *values(duro_ct_ctx *ctx, const char *instance, char *buf, size_t size)
{
    return values_on(ctx->p, instance, buf, size);
}

/* A string of `n` bytes 'x' (malloc'd). */
static char *repeat_x(size_t n)
{
    char *s = malloc(n + 1);

    ck_assert_ptr_nonnull(s);
    memset(s, 'x', n);
    s[n] = '\0';
    return s;
}

/* Ack a fresh turn of `instance` with `c`, expecting `code` (retryable 0); then show that the
 * lock was kept by acking the same token with an empty commit. */
static void expect_rejected(duro_ct_ctx *ctx, const char *instance, const duro_orch_commit *c,
                            int code)
{
    duro_orch_item *item = ct_poke(ctx, instance);
    duro_orch_commit empty = ct_commit(1, NULL, 0);
    duro_error err = {0};
    int rc = ct_ack_rc(ctx, item->lock_token, c, &err);

    ck_assert_msg(rc == code, "ack gave %s (%s), expected %s", duro_err_name(rc), err.message,
                  duro_err_name(code));
    ck_assert_int_eq(err.retryable, 0);
    ct_ack(ctx, item, &empty);
}

/* ---- Cases: changes -------------------------------------------------------------------- */

static void set_then_get(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("colour", "blue")};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", kv, N_OF(kv));
    expect_value(ctx, "a", "colour", "blue", 1);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "colour=blue@1;");
}

static void overwrite_bumps_version(duro_ct_ctx *ctx)
{
    const duro_kv_change first[] = {SET("k", "one"), SET("other", "x")};
    const duro_kv_change second[] = {SET("k", "two")};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", first, N_OF(first));
    expect_value(ctx, "a", "k", "one", 1);
    expect_value(ctx, "a", "other", "x", 2);
    kv_turn(ctx, "a", second, N_OF(second));
    expect_value(ctx, "a", "k", "two", 3);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "k=two@3;other=x@2;");
}

static void version_never_reused_after_clear(duro_ct_ctx *ctx)
{
    const duro_kv_change set[] = {SET("k", "v")};
    const duro_kv_change clear[] = {CLEAR("k")};

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", set, N_OF(set));
    kv_turn(ctx, "a", clear, N_OF(clear));
    expect_absent(ctx, "a", "k");
    kv_turn(ctx, "a", set, N_OF(set));
    expect_value(ctx, "a", "k", "v", 3);
}

static void clear_removes_one_key(duro_ct_ctx *ctx)
{
    const duro_kv_change set[] = {SET("a", "1"), SET("b", "2")};
    const duro_kv_change clear[] = {CLEAR("a"), CLEAR("never-set")};
    char buf[256];

    ct_create_instance(ctx, "i");
    kv_turn(ctx, "i", set, N_OF(set));
    kv_turn(ctx, "i", clear, N_OF(clear));
    expect_absent(ctx, "i", "a");
    expect_absent(ctx, "i", "never-set");
    ck_assert_str_eq(values(ctx, "i", buf, sizeof buf), "b=2@2;");
}

static void clear_all_removes_every_key(duro_ct_ctx *ctx)
{
    const duro_kv_change set[] = {SET("a", "1"), SET("b", "2"), SET("c", "3")};
    const duro_kv_change clear[] = {CLEAR_ALL, SET("d", "4")};
    const duro_kv_change other[] = {SET("a", "kept")};
    char buf[256];

    ct_create_instance(ctx, "i");
    ct_create_instance(ctx, "j");
    kv_turn(ctx, "i", set, N_OF(set));
    kv_turn(ctx, "j", other, N_OF(other));
    kv_turn(ctx, "i", clear, N_OF(clear));
    ck_assert_str_eq(values(ctx, "i", buf, sizeof buf), "d=4@5;");
    expect_absent(ctx, "i", "a");
    ck_assert_str_eq(values(ctx, "j", buf, sizeof buf), "a=kept@1;");
}

static void changes_apply_in_commit_order(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("k", "1"), SET("k", "2"), CLEAR("k"), SET("k", "3"),
                                 SET("gone", "x"), CLEAR_ALL, SET("last", "y")};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", kv, N_OF(kv));
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "last=y@7;");
}

static void list_is_sorted_by_key_bytes(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("b", "3"), SET("ab", "2"), SET("a", "1"), SET("B", "0"),
                                 SET("\xc3\xa9", "e-acute")};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", kv, N_OF(kv));
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf),
                     "B=0@4;a=1@3;ab=2@2;b=3@1;\xc3\xa9=e-acute@5;");
}

static void values_round_trip_byte_for_byte(duro_ct_ctx *ctx)
{
    const char *odd = "line 1\nline \"2\"\t\xe2\x82\xac \\ '; DROP TABLE kv; --";
    const duro_kv_change kv[] = {SET("odd", odd), SET("empty", "")};
    char *big = repeat_x(DURO_MAX_VALUE_BYTES);
    const duro_kv_change max[] = {SET("big", big)};

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", kv, N_OF(kv));
    kv_turn(ctx, "a", max, N_OF(max));
    expect_value(ctx, "a", "odd", odd, 1);
    expect_value(ctx, "a", "empty", "", 2);
    expect_value(ctx, "a", "big", big, 3);
    free(big);
}

/* ---- Cases: atomicity ------------------------------------------------------------------ */

static void rejected_commit_applies_no_value(duro_ct_ctx *ctx)
{
    const duro_kv_change before[] = {SET("k", "old"), SET("gone", "g")};
    const duro_kv_change kv[] = {SET("k", "new"), SET("fresh", "f"), CLEAR("gone"), CLEAR_ALL};
    duro_event_in dup = {1, 1, "duplicate of event 1"};
    duro_orch_commit c = kv_commit(1, kv, N_OF(kv));
    char was[256], now[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", before, N_OF(before));
    values(ctx, "a", was, sizeof was);
    c.events = &dup;
    c.n_events = 1;
    expect_rejected(ctx, "a", &c, DURO_ECONSTRAINT);
    ck_assert_str_eq(values(ctx, "a", now, sizeof now), was);
    c = kv_commit(7, kv, N_OF(kv)); /* an execution that is not stored, current or next */
    expect_rejected(ctx, "a", &c, DURO_ENOTFOUND);
    ck_assert_str_eq(values(ctx, "a", now, sizeof now), was);
    expect_value(ctx, "a", "k", "old", 1);
}

static void lost_lock_applies_nothing(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("k", "late"), CLEAR_ALL};
    const duro_kv_change before[] = {SET("k", "v")};
    duro_orch_commit c = kv_commit(1, kv, N_OF(kv));
    duro_orch_item *item;
    duro_error err = {0};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", before, N_OF(before));
    item = ct_poke(ctx, "a");
    ctx->now += DURO_CT_LOCK_MS;
    ck_assert_int_eq(ct_ack_rc(ctx, item->lock_token, &c, &err), DURO_ELOCK);
    duro_orch_item_free(item);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "k=v@1;");
}

static void oversize_key_rejected(duro_ct_ctx *ctx)
{
    char *key = repeat_x(DURO_MAX_ID_BYTES + 1);
    char *longest = repeat_x(DURO_MAX_ID_BYTES);
    const duro_kv_change too_long[] = {SET("ok", "1"), SET(key, "v")};
    const duro_kv_change empty[] = {SET("ok", "1"), CLEAR("")};
    const duro_kv_change fits[] = {SET(longest, "v")};
    duro_event_in ev = {2, 1, "e2"};
    duro_orch_commit c = kv_commit(1, too_long, N_OF(too_long));
    char buf[512];

    ct_create_instance(ctx, "a");
    c.events = &ev;
    c.n_events = 1;
    expect_rejected(ctx, "a", &c, DURO_ETOOBIG);
    c.kv = empty;
    expect_rejected(ctx, "a", &c, DURO_EINVAL);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "");
    ck_assert_uint_eq(ct_history_len(ctx, "a", 1), 1);
    kv_turn(ctx, "a", fits, N_OF(fits));
    expect_value(ctx, "a", longest, "v", 1);
    free(key);
    free(longest);
}

static void oversize_value_rejected(duro_ct_ctx *ctx)
{
    char *big = repeat_x(DURO_MAX_VALUE_BYTES + 1);
    const duro_kv_change kv[] = {SET("ok", "1"), SET("big", big)};
    const duro_kv_change null_value[] = {SET("null", NULL)};
    duro_orch_commit c = kv_commit(1, kv, N_OF(kv));
    char buf[256];

    ct_create_instance(ctx, "a");
    expect_rejected(ctx, "a", &c, DURO_ETOOBIG);
    c = kv_commit(1, null_value, N_OF(null_value));
    expect_rejected(ctx, "a", &c, DURO_EINVAL);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "");
    free(big);
}

static void too_many_keys_rejected(duro_ct_ctx *ctx)
{
    duro_kv_change *kv = calloc(DURO_MAX_VALUES + 1, sizeof *kv);
    char (*keys)[16] = calloc(DURO_MAX_VALUES + 1, sizeof *keys);
    const duro_kv_change overwrite[] = {SET("k0", "again")};
    const duro_kv_change swap[] = {CLEAR("k1"), SET("new", "n")};
    duro_orch_commit c;
    duro_kv_entry *e = NULL;
    size_t n = 0;
    duro_error err = {0};

    ck_assert_ptr_nonnull(kv);
    ck_assert_ptr_nonnull(keys);
    for (size_t i = 0; i <= DURO_MAX_VALUES; i++) {
        snprintf(keys[i], sizeof keys[i], "k%zu", i);
        kv[i] = (duro_kv_change)SET(keys[i], "v");
    }
    ct_create_instance(ctx, "a");
    c = kv_commit(1, kv, DURO_MAX_VALUES + 1);
    expect_rejected(ctx, "a", &c, DURO_ETOOBIG);
    ck_assert_int_eq(ctx->p->ops->list_values(ctx->p, "a", &e, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    kv_turn(ctx, "a", kv, DURO_MAX_VALUES);
    c = kv_commit(1, &kv[DURO_MAX_VALUES], 1);
    expect_rejected(ctx, "a", &c, DURO_ETOOBIG);
    expect_absent(ctx, "a", keys[DURO_MAX_VALUES]);
    kv_turn(ctx, "a", overwrite, N_OF(overwrite));
    kv_turn(ctx, "a", swap, N_OF(swap));
    expect_value(ctx, "a", "k0", "again", DURO_MAX_VALUES + 1);
    expect_value(ctx, "a", "new", "n", DURO_MAX_VALUES + 3);
    ck_assert_int_eq(ctx->p->ops->list_values(ctx->p, "a", &e, &n, &err), 0);
    ck_assert_uint_eq(n, DURO_MAX_VALUES);
    duro_kv_entries_free(e, n);
    free(kv);
    free(keys);
}

/* ---- Cases: lifetime ------------------------------------------------------------------- */

static void values_survive_a_new_execution(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("count", "1")};
    const duro_kv_change next[] = {SET("count", "2")};
    duro_event_in ev = {1, 1, "started 2"};
    duro_orch_commit c = kv_commit(1, kv, N_OF(kv));
    char buf[256];

    ct_create_instance(ctx, "a");
    c.state = DURO_STATE_CONTINUED_AS_NEW;
    c.output = "next input";
    ct_turn(ctx, "a", &c);
    c = kv_commit(2, NULL, 0);
    c.events = &ev;
    c.n_events = 1;
    c.state = DURO_STATE_RUNNING;
    ct_turn(ctx, "a", &c);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "count=1@1;");
    c = kv_commit(2, next, N_OF(next));
    ct_turn(ctx, "a", &c);
    expect_value(ctx, "a", "count", "2", 2);
}

static void values_survive_prune(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("k", "v")};
    duro_event_in ev = {1, 1, "started"};
    duro_orch_commit c = kv_commit(1, kv, N_OF(kv));
    duro_prune_options opt = {1, 0};
    duro_delete_result r = {0};
    duro_error err = {0};
    char buf[256];

    ct_create_instance(ctx, "a");
    c.state = DURO_STATE_CONTINUED_AS_NEW;
    c.output = "again";
    ct_turn(ctx, "a", &c);
    for (uint64_t x = 2; x <= 3; x++) {
        c = kv_commit(x, NULL, 0);
        c.events = &ev;
        c.n_events = 1;
        c.state = x == 2 ? DURO_STATE_CONTINUED_AS_NEW : DURO_STATE_COMPLETED;
        c.output = "done";
        ct_turn(ctx, "a", &c);
    }
    ck_assert_int_eq(ctx->p->ops->prune(ctx->p, ctx->now, "a", &opt, &r, &err), 0);
    ck_assert_uint_eq(r.executions, 2);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "k=v@1;");
}

static void delete_removes_values(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("k", "v"), SET("l", "w")};
    duro_delete_result r = {0};
    duro_error err = {0};
    char buf[256];

    ct_create_terminal(ctx, "a", DURO_STATE_COMPLETED, "done");
    kv_turn(ctx, "a", kv, N_OF(kv));
    ck_assert_int_eq(ctx->p->ops->delete_instance(ctx->p, ctx->now, "a", 0, &r, &err), 0);
    expect_absent(ctx, "a", "k");
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "ENOTFOUND");
    ct_create_instance(ctx, "a"); /* the same id again starts without values */
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "");
}

static void bulk_delete_removes_values(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("k", "v")};
    duro_bulk_filter f = {0};
    duro_delete_result r = {0};
    duro_error err = {0};
    char buf[256];

    ct_create_terminal(ctx, "done-1", DURO_STATE_COMPLETED, "x");
    ct_create_terminal(ctx, "done-2", DURO_STATE_FAILED, "y");
    ct_create_instance(ctx, "running");
    kv_turn(ctx, "done-1", kv, N_OF(kv));
    kv_turn(ctx, "done-2", kv, N_OF(kv));
    kv_turn(ctx, "running", kv, N_OF(kv));
    ck_assert_int_eq(ctx->p->ops->delete_bulk(ctx->p, ctx->now, &f, &r, &err), 0);
    ck_assert_uint_eq(r.instances, 2);
    ck_assert_str_eq(values(ctx, "done-1", buf, sizeof buf), "ENOTFOUND");
    ck_assert_str_eq(values(ctx, "done-2", buf, sizeof buf), "ENOTFOUND");
    expect_absent(ctx, "done-1", "k");
    expect_absent(ctx, "done-2", "k");
    ck_assert_str_eq(values(ctx, "running", buf, sizeof buf), "k=v@1;");
}

/* ---- Cases: reads ---------------------------------------------------------------------- */

static void unknown_instance_or_key_not_found(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    char *v = NULL;
    char buf[64];

    expect_absent(ctx, "nobody", "k");
    ck_assert_str_eq(values(ctx, "nobody", buf, sizeof buf), "ENOTFOUND");
    ct_create_instance(ctx, "a");
    expect_absent(ctx, "a", "k");
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "");
    ck_assert_int_eq(ctx->p->ops->get_value(ctx->p, "a", "", &v, NULL, &err), DURO_EINVAL);
    ck_assert_ptr_null(v);
}

static void other_handle_sees_values(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("k", "v"), SET("l", "w")};
    const duro_provider_factory *f = ctx->factory;
    char locator[4096], a[256], b[256];
    duro_provider *other = NULL;
    duro_error err = {0};

    ct_create_instance(ctx, "i");
    ck_assert_int_eq(f->locate(f->ud, ctx->p, locator, sizeof locator), 0);
    ck_assert_int_eq(f->attach(f->ud, locator, &other, &err), 0);
    kv_turn(ctx, "i", kv, N_OF(kv));
    expect_value_on(other, "i", "l", "w", 2);
    ck_assert_str_eq(values_on(other, "i", b, sizeof b), values(ctx, "i", a, sizeof a));
    duro_provider_destroy(other);
}

typedef struct waiter {
    duro_provider *p;
    uint64_t seq;
    int rc;
    ct_barrier *ready;
} waiter;

static void *wait_for_commit(void *arg)
{
    waiter *w = arg;

    ct_barrier_wait(w->ready);
    w->rc = w->p->ops->wait_commit(w->p, w->seq, 10000);
    return NULL;
}

static void value_commit_wakes_waiter(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("progress", "50%")};
    waiter w = {ctx->p, 0, -1, ct_barrier_new(2)};
    pthread_t t;

    ct_create_instance(ctx, "a");
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "poke", 0);
    duro_orch_item *item = ct_fetch(ctx);
    duro_orch_commit c = kv_commit(1, kv, N_OF(kv));
    w.seq = ctx->p->ops->commit_seq(ctx->p);
    ck_assert_int_eq(pthread_create(&t, NULL, wait_for_commit, &w), 0);
    ct_barrier_wait(w.ready);
    ct_ack(ctx, item, &c);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_uint_gt(ctx->p->ops->commit_seq(ctx->p), w.seq);
    expect_value(ctx, "a", "progress", "50%", 1);
    ct_barrier_free(w.ready);
}

/* ---- Cases: versions and changes within one commit -------------------------------------- */

static void clears_count_as_changes(duro_ct_ctx *ctx)
{
    const duro_kv_change nothing_there[] = {CLEAR("never-set"), CLEAR_ALL, SET("k", "v")};
    const duro_kv_change clear_missing[] = {CLEAR("still-never-set")};
    const duro_kv_change set[] = {SET("j", "w")};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", nothing_there, N_OF(nothing_there));
    expect_value(ctx, "a", "k", "v", 3);
    kv_turn(ctx, "a", clear_missing, N_OF(clear_missing));
    kv_turn(ctx, "a", set, N_OF(set));
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "j=w@5;k=v@3;");
}

static void counters_are_per_instance(duro_ct_ctx *ctx)
{
    const duro_kv_change first_i[] = {SET("k", "i-1")};
    const duro_kv_change first_j[] = {SET("k", "j-1"), SET("l", "j-2")};
    const duro_kv_change second_i[] = {SET("m", "i-2")};
    char buf[256];

    ct_create_instance(ctx, "i");
    ct_create_instance(ctx, "j");
    kv_turn(ctx, "i", first_i, N_OF(first_i));
    kv_turn(ctx, "j", first_j, N_OF(first_j));
    kv_turn(ctx, "i", second_i, N_OF(second_i));
    ck_assert_str_eq(values(ctx, "i", buf, sizeof buf), "k=i-1@1;m=i-2@2;");
    ck_assert_str_eq(values(ctx, "j", buf, sizeof buf), "k=j-1@1;l=j-2@2;");
}

static void set_then_clear_in_one_commit(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("k", "brief"), SET("j", "stays"), CLEAR("k")};
    const duro_kv_change again[] = {SET("k", "back")};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", kv, N_OF(kv));
    expect_absent(ctx, "a", "k");
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "j=stays@2;");
    kv_turn(ctx, "a", again, N_OF(again));
    expect_value(ctx, "a", "k", "back", 4);
}

static void clear_then_set_in_one_commit(duro_ct_ctx *ctx)
{
    const duro_kv_change before[] = {SET("k", "old"), SET("j", "other")};
    const duro_kv_change kv[] = {CLEAR("k"), SET("k", "new")};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", before, N_OF(before));
    kv_turn(ctx, "a", kv, N_OF(kv));
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "j=other@2;k=new@4;");
}

static void same_value_set_again_bumps_version(duro_ct_ctx *ctx)
{
    const duro_kv_change set[] = {SET("k", "same")};
    const duro_kv_change twice[] = {SET("k", "same"), SET("k", "same")};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", set, N_OF(set));
    kv_turn(ctx, "a", set, N_OF(set));
    expect_value(ctx, "a", "k", "same", 2);
    kv_turn(ctx, "a", twice, N_OF(twice));
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "k=same@4;");
}

/* ---- Cases: keys and instances are exact bytes ------------------------------------------ */

static void keys_round_trip_byte_for_byte(duro_ct_ctx *ctx)
{
    static const char *const keys[] = {
        "with space", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xf0\x9f\x94\x91", "a.b.c",
        "path/to/key", "quote'\"", "line\nbreak\ttab", "back\\slash",
        "'); DELETE FROM kv; --", "%s%n",
    };
    duro_kv_change kv[N_OF(keys)];
    duro_kv_entry *e = NULL;
    size_t n = 0;
    duro_error err = {0};

    for (size_t i = 0; i < N_OF(keys); i++)
        kv[i] = (duro_kv_change)SET(keys[i], keys[i]);
    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", kv, N_OF(kv));
    for (size_t i = 0; i < N_OF(keys); i++)
        expect_value(ctx, "a", keys[i], keys[i], i + 1);
    ck_assert_int_eq(ctx->p->ops->list_values(ctx->p, "a", &e, &n, &err), 0);
    ck_assert_uint_eq(n, N_OF(keys));
    for (size_t i = 0; i < n; i++) {
        size_t at = 0;

        while (at < N_OF(keys) && strcmp(keys[at], e[i].key) != 0)
            at++;
        ck_assert_msg(at < N_OF(keys), "list_values returned an unknown key \"%s\"", e[i].key);
        ck_assert_str_eq(e[i].value, keys[at]);
        ck_assert_uint_eq(e[i].version, at + 1);
        if (i > 0)
            ck_assert_int_lt(strcmp(e[i - 1].key, e[i].key), 0);
    }
    duro_kv_entries_free(e, n);
}

static void keys_are_not_patterns(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("k", "plain"), SET("K", "upper"), SET("kx", "kx"),
                                 SET("k_", "underscore"), SET("k%", "percent"),
                                 SET("k*", "star"), SET("k ", "trailing space")};
    const duro_kv_change clear[] = {CLEAR("k_"), CLEAR("k%"), CLEAR("k*"), CLEAR("k?")};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", kv, N_OF(kv));
    expect_value(ctx, "a", "K", "upper", 2);
    expect_value(ctx, "a", "k_", "underscore", 4);
    expect_value(ctx, "a", "k%", "percent", 5);
    expect_value(ctx, "a", "k ", "trailing space", 7);
    expect_absent(ctx, "a", "k?");
    kv_turn(ctx, "a", clear, N_OF(clear));
    expect_absent(ctx, "a", "k_");
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf),
                     "K=upper@2;k=plain@1;k =trailing space@7;kx=kx@3;");
}

static void instance_ids_match_exactly(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"a", "A", "ab", "a_", "a%", "a "};
    const duro_kv_change clear[] = {CLEAR_ALL};
    char buf[256];

    for (size_t i = 0; i < N_OF(ids); i++) {
        const duro_kv_change kv[] = {SET("owner", ids[i])};

        ct_create_instance(ctx, ids[i]);
        kv_turn(ctx, ids[i], kv, N_OF(kv));
    }
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "owner=a@1;");
    kv_turn(ctx, "a", clear, N_OF(clear));
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "");
    for (size_t i = 1; i < N_OF(ids); i++)
        expect_value(ctx, ids[i], "owner", ids[i], 1);
}

/* ---- Cases: limits ---------------------------------------------------------------------- */

/* A string of `n` bytes: as many three-byte euro signs as fit, then 'x' (malloc'd). */
static char *euros(size_t n)
{
    char *s = malloc(n + 1);
    size_t i = 0;

    ck_assert_ptr_nonnull(s);
    for (; i + 3 <= n; i += 3)
        memcpy(s + i, "\xe2\x82\xac", 3);
    for (; i < n; i++)
        s[i] = 'x';
    s[n] = '\0';
    return s;
}

static void limits_count_bytes_not_characters(duro_ct_ctx *ctx)
{
    char *key = euros(DURO_MAX_ID_BYTES), *long_key = euros(DURO_MAX_ID_BYTES + 1);
    char *value = euros(DURO_MAX_VALUE_BYTES), *long_value = euros(DURO_MAX_VALUE_BYTES + 1);
    const duro_kv_change fits[] = {SET(key, value)};
    const duro_kv_change key_over[] = {SET(long_key, "v")};
    const duro_kv_change value_over[] = {SET("k", long_value)};
    duro_orch_commit c = kv_commit(1, key_over, N_OF(key_over));

    ct_create_instance(ctx, "a");
    expect_rejected(ctx, "a", &c, DURO_ETOOBIG);
    c = kv_commit(1, value_over, N_OF(value_over));
    expect_rejected(ctx, "a", &c, DURO_ETOOBIG);
    expect_absent(ctx, "a", "k");
    kv_turn(ctx, "a", fits, N_OF(fits));
    expect_value(ctx, "a", key, value, 1);
    free(key);
    free(long_key);
    free(value);
    free(long_value);
}

static void over_limit_rejects_the_whole_turn(duro_ct_ctx *ctx)
{
    char *big = repeat_x(DURO_MAX_VALUE_BYTES + 1);
    char *long_key = repeat_x(DURO_MAX_ID_BYTES + 1);
    const duro_kv_change value_over[] = {SET("ok", "1"), SET("big", big)};
    const duro_kv_change key_over[] = {SET("ok", "1"), CLEAR(long_key)};
    const duro_kv_change *const faults[] = {value_over, key_over};
    const duro_event_in ev = {2, 1, "e2"};
    const duro_work_in work = {"a", 1, 1, "work"};
    const duro_msg start = {"b", DURO_MSG_START, 0, ctx->now, "start:b"};
    duro_instance_info info;
    char buf[256];

    ct_create_instance(ctx, "a");
    for (size_t i = 0; i < N_OF(faults); i++) {
        duro_orch_commit c = kv_commit(1, faults[i], 2);

        c.events = &ev;
        c.n_events = 1;
        c.work = &work;
        c.n_work = 1;
        c.msgs = &start;
        c.n_msgs = 1;
        c.state = DURO_STATE_COMPLETED;
        c.output = "done";
        c.set_custom_status = 1;
        c.custom_status = "half way";
        expect_rejected(ctx, "a", &c, DURO_ETOOBIG);
    }
    ck_assert_uint_eq(ct_history_len(ctx, "a", 1), 1);
    ct_instance_info(ctx, "a", &info);
    ck_assert_int_eq(info.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(info.custom_status);
    duro_instance_info_clear(&info);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "");
    free(big);
    free(long_key);
}

static void key_limit_checks_the_end_of_the_commit(duro_ct_ctx *ctx)
{
    duro_kv_change *full = calloc(DURO_MAX_VALUES, sizeof *full);
    duro_kv_change *fresh = calloc(DURO_MAX_VALUES + 1, sizeof *fresh);
    char (*keys)[16] = calloc(2 * DURO_MAX_VALUES, sizeof *keys);
    const duro_kv_change passing[] = {SET("extra", "x"), CLEAR("extra")};
    const duro_kv_change one_over[] = {CLEAR("old-0"), SET("extra-1", "x"), SET("extra-2", "y")};
    duro_orch_commit c = kv_commit(1, one_over, N_OF(one_over));
    duro_kv_entry *e = NULL;
    size_t n = 0;
    duro_error err = {0};

    ck_assert_ptr_nonnull(full);
    ck_assert_ptr_nonnull(fresh);
    ck_assert_ptr_nonnull(keys);
    fresh[0] = (duro_kv_change)CLEAR_ALL;
    for (size_t i = 0; i < DURO_MAX_VALUES; i++) {
        snprintf(keys[i], sizeof keys[i], "old-%zu", i);
        full[i] = (duro_kv_change)SET(keys[i], "old");
        snprintf(keys[DURO_MAX_VALUES + i], sizeof keys[i], "new-%zu", i);
        fresh[i + 1] = (duro_kv_change)SET(keys[DURO_MAX_VALUES + i], "new");
    }
    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", full, DURO_MAX_VALUES);
    kv_turn(ctx, "a", passing, N_OF(passing)); /* 1025 keys for a moment, 1024 at the end */
    expect_absent(ctx, "a", "extra");
    expect_rejected(ctx, "a", &c, DURO_ETOOBIG); /* 1025 at the end */
    expect_value(ctx, "a", "old-0", "old", 1);
    expect_absent(ctx, "a", "extra-1");
    kv_turn(ctx, "a", fresh, DURO_MAX_VALUES + 1); /* 2048 keys seen, 1024 at the end */
    expect_absent(ctx, "a", "old-0");
    expect_value(ctx, "a", "new-0", "new", DURO_MAX_VALUES + 4);
    expect_value(ctx, "a", "new-1023", "new", 2 * DURO_MAX_VALUES + 3);
    ck_assert_int_eq(ctx->p->ops->list_values(ctx->p, "a", &e, &n, &err), 0);
    ck_assert_uint_eq(n, DURO_MAX_VALUES);
    duro_kv_entries_free(e, n);
    free(full);
    free(fresh);
    free(keys);
}

/* ---- Cases: which commits may write values ---------------------------------------------- */

static void values_in_the_creating_commit(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("input-seen", "yes")};
    const duro_event_in ev = {1, 1, "started"};
    duro_orch_commit c = kv_commit(1, kv, N_OF(kv));
    char buf[256];

    ct_enqueue_start(ctx, "a");
    expect_absent(ctx, "a", "input-seen");
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "ENOTFOUND");
    c.orch_name = "TestOrch";
    c.orch_version = "1.0.0";
    c.events = &ev;
    c.n_events = 1;
    ct_ack(ctx, ct_fetch(ctx), &c);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "input-seen=yes@1;");
}

static void values_need_an_instance_row(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("k", "v")};
    duro_orch_commit c = kv_commit(1, kv, N_OF(kv)); /* no orch_name: it may only drain */
    duro_orch_commit drain = ct_commit(1, NULL, 0);
    duro_orch_item *item;
    duro_error err = {0};
    char buf[256];

    ct_enqueue_start(ctx, "a");
    item = ct_fetch(ctx);
    ck_assert_int_eq(ct_ack_rc(ctx, item->lock_token, &c, &err), DURO_EINVAL);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "ENOTFOUND");
    ct_ack(ctx, item, &drain);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "ENOTFOUND");
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void values_set_with_a_terminal_state(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("result", "42"), SET("scratch", "x"), CLEAR("scratch")};
    duro_orch_commit c = kv_commit(1, kv, N_OF(kv));
    duro_instance_info info;
    char buf[256];

    ct_create_instance(ctx, "a");
    c.state = DURO_STATE_FAILED;
    c.output = "boom";
    ct_turn(ctx, "a", &c);
    ct_instance_info(ctx, "a", &info);
    ck_assert_int_eq(info.state, DURO_STATE_FAILED);
    duro_instance_info_clear(&info);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "result=42@1;");
}

/* ---- Cases: locks ----------------------------------------------------------------------- */

static void taken_over_lock_commit_applies_nothing(duro_ct_ctx *ctx)
{
    const duro_kv_change mine[] = {SET("owner", "second")};
    const duro_kv_change late[] = {SET("owner", "first"), SET("late", "x"), CLEAR_ALL};
    duro_orch_commit c = kv_commit(1, mine, N_OF(mine));
    duro_orch_item *first, *second;
    duro_error err = {0};
    char buf[256];

    ct_create_instance(ctx, "a");
    first = ct_poke(ctx, "a");
    ctx->now += DURO_CT_LOCK_MS;
    second = ct_fetch(ctx);
    ck_assert_str_eq(second->instance, "a");
    ck_assert_str_ne(second->lock_token, first->lock_token);
    ct_ack(ctx, second, &c);
    c = kv_commit(1, late, N_OF(late));
    ck_assert_int_eq(ct_ack_rc(ctx, first->lock_token, &c, &err), DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    duro_orch_item_free(first);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "owner=second@1;");
}

static void deleted_instance_late_ack_sets_nothing(duro_ct_ctx *ctx)
{
    const duro_kv_change before[] = {SET("k", "v")};
    const duro_kv_change late[] = {SET("k", "late"), SET("new", "n")};
    duro_orch_commit c = kv_commit(1, late, N_OF(late));
    duro_delete_result r = {0};
    duro_orch_item *item;
    duro_error err = {0};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", before, N_OF(before));
    item = ct_poke(ctx, "a");
    ck_assert_int_eq(ctx->p->ops->delete_instance(ctx->p, ctx->now, "a", 1, &r, &err), 0);
    ck_assert_int_eq(ct_ack_rc(ctx, item->lock_token, &c, &err), DURO_ELOCK);
    duro_orch_item_free(item);
    expect_absent(ctx, "a", "k");
    expect_absent(ctx, "a", "new");
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "ENOTFOUND");
}

/* ---- Cases: trees, handles, threads ----------------------------------------------------- */

static void delete_parent_removes_child_values(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("k", "v")};
    duro_delete_result r = {0};
    duro_error err = {0};
    char buf[256];

    ct_create_instance(ctx, "parent");
    ct_create_child(ctx, "child", "parent");
    ct_create_instance(ctx, "other");
    kv_turn(ctx, "parent", kv, N_OF(kv));
    kv_turn(ctx, "child", kv, N_OF(kv));
    kv_turn(ctx, "other", kv, N_OF(kv));
    ck_assert_int_eq(ctx->p->ops->delete_instance(ctx->p, ctx->now, "parent", 1, &r, &err), 0);
    ck_assert_uint_eq(r.instances, 2);
    ck_assert_str_eq(values(ctx, "parent", buf, sizeof buf), "ENOTFOUND");
    ck_assert_str_eq(values(ctx, "child", buf, sizeof buf), "ENOTFOUND");
    expect_absent(ctx, "child", "k");
    ck_assert_str_eq(values(ctx, "other", buf, sizeof buf), "k=v@1;");
}

/* One turn of `instance` through handle `p`: enqueue a poke, fetch it, ack it with `kv`. */
static void kv_turn_on(duro_ct_ctx *ctx, duro_provider *p, const char *instance,
                       const duro_kv_change *kv, size_t n)
{
    const duro_msg poke = {instance, DURO_MSG_EVENT, 0, ctx->now, "poke"};
    duro_orch_commit c = kv_commit(1, kv, n);
    duro_orch_item *item = NULL;
    duro_error err = {0};

    ck_assert_int_eq(p->ops->enqueue_orch(p, &poke, &err), 0);
    ck_assert_int_eq(p->ops->fetch_orch(p, ctx->now, DURO_CT_LOCK_MS, 0, &item, &err), 0);
    ck_assert_str_eq(item->instance, instance);
    ck_assert_int_eq(p->ops->ack_orch(p, ctx->now, item->lock_token, &c, &err), 0);
    duro_orch_item_free(item);
}

static void commits_through_two_handles_share_the_counter(duro_ct_ctx *ctx)
{
    const duro_kv_change set_x[] = {SET("x", "from-one")};
    const duro_kv_change set_y[] = {SET("y", "from-two")};
    const duro_kv_change clear_x[] = {CLEAR("x")};
    const duro_kv_change reset_x[] = {SET("x", "from-two")};
    duro_provider *other = ct_attach(ctx);
    char a[256], b[256];

    ct_create_instance(ctx, "i");
    kv_turn_on(ctx, ctx->p, "i", set_x, N_OF(set_x));
    kv_turn_on(ctx, other, "i", set_y, N_OF(set_y));
    kv_turn_on(ctx, ctx->p, "i", clear_x, N_OF(clear_x));
    kv_turn_on(ctx, other, "i", reset_x, N_OF(reset_x));
    ck_assert_str_eq(values(ctx, "i", a, sizeof a), "x=from-two@4;y=from-two@2;");
    ck_assert_str_eq(values_on(other, "i", b, sizeof b), a);
    duro_provider_destroy(other);
}

#define KV_RACE_ROUNDS 20
#define KV_RACE_TRIES 100

typedef struct kv_acker {
    duro_provider *p;
    ct_barrier *go;
    int64_t now;
    const char *token;
    const duro_orch_commit *commit;
    int rc;
} kv_acker;

/* Thread body: wait at the barrier, then ack, again while the failure is retryable. */
static void *ack_at_barrier(void *arg)
{
    kv_acker *a = arg;
    duro_error err;
    int tries = 0;

    ct_barrier_wait(a->go);
    do {
        memset(&err, 0, sizeof err);
        a->rc = a->p->ops->ack_orch(a->p, a->now, a->token, a->commit, &err);
    } while (a->rc != 0 && err.retryable && ++tries < KV_RACE_TRIES);
    return NULL;
}

static void concurrent_commits_on_two_instances(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"left", "right"};
    ct_barrier *go = ct_barrier_new(N_OF(ids));
    char want[64], buf[256];

    ck_assert_ptr_nonnull(go);
    for (size_t i = 0; i < N_OF(ids); i++)
        ct_create_instance(ctx, ids[i]);
    for (int round = 0; round < KV_RACE_ROUNDS; round++) {
        duro_orch_item *items[N_OF(ids)];
        duro_kv_change kv[N_OF(ids)][2];
        duro_orch_commit c[N_OF(ids)];
        kv_acker acker[N_OF(ids)];
        pthread_t tid[N_OF(ids)];
        char v[N_OF(ids)][32];

        for (size_t i = 0; i < N_OF(ids); i++) {
            items[i] = ct_poke(ctx, ids[i]);
            snprintf(v[i], sizeof v[i], "%s-%d", ids[i], round);
            kv[i][0] = (duro_kv_change)SET("round", v[i]);
            kv[i][1] = (duro_kv_change)SET(ids[i], v[i]);
            c[i] = kv_commit(1, kv[i], 2);
            acker[i] = (kv_acker){ctx->p, go, ctx->now, items[i]->lock_token, &c[i], -1};
        }
        for (size_t i = 0; i < N_OF(ids); i++)
            ck_assert_int_eq(pthread_create(&tid[i], NULL, ack_at_barrier, &acker[i]), 0);
        for (size_t i = 0; i < N_OF(ids); i++)
            ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
        for (size_t i = 0; i < N_OF(ids); i++) {
            ck_assert_msg(acker[i].rc == 0, "round %d: ack of %s gave %s", round, ids[i],
                          duro_err_name(acker[i].rc));
            duro_orch_item_free(items[i]);
        }
    }
    ct_barrier_free(go);
    for (size_t i = 0; i < N_OF(ids); i++) {
        snprintf(want, sizeof want, "%s=%s-%d@%d;round=%s-%d@%d;", ids[i], ids[i],
                 KV_RACE_ROUNDS - 1, 2 * KV_RACE_ROUNDS, ids[i], KV_RACE_ROUNDS - 1,
                 2 * KV_RACE_ROUNDS - 1);
        ck_assert_str_eq(values(ctx, ids[i], buf, sizeof buf), want);
    }
}

/* ---- Cases: invalid reads and changes --------------------------------------------------- */

/* Assert that get_value(instance, key) is `code`, retryable 0, *value NULL. */
static void expect_get_error(duro_ct_ctx *ctx, const char *instance, const char *key, int code)
{
    char *got = (char *)"untouched";
    duro_error err = {0};
    int rc = ctx->p->ops->get_value(ctx->p, instance, key, &got, NULL, &err);

    ck_assert_msg(rc == code, "get_value gave %s, expected %s", duro_err_name(rc),
                  duro_err_name(code));
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(got);
}

static void read_arguments_checked(duro_ct_ctx *ctx)
{
    const duro_kv_change kv[] = {SET("k", "v")};
    char *long_key = repeat_x(DURO_MAX_ID_BYTES + 1);
    char *longest = repeat_x(DURO_MAX_ID_BYTES);
    duro_kv_entry *e = (duro_kv_entry *)&e;
    size_t n = 7;
    char *got = NULL;
    duro_error err = {0};

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", kv, N_OF(kv));
    expect_get_error(ctx, "a", NULL, DURO_EINVAL);
    expect_get_error(ctx, "a", long_key, DURO_ETOOBIG);
    expect_get_error(ctx, "a", longest, DURO_ENOTFOUND);
    expect_get_error(ctx, NULL, "k", DURO_EINVAL);
    expect_get_error(ctx, "", "k", DURO_EINVAL);
    ck_assert_int_eq(ctx->p->ops->list_values(ctx->p, "", &e, &n, &err), DURO_EINVAL);
    ck_assert_ptr_null(e);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(ctx->p->ops->list_values(ctx->p, NULL, &e, &n, &err), DURO_EINVAL);
    ck_assert_int_eq(ctx->p->ops->get_value(ctx->p, "a", "k", &got, NULL, &err), 0);
    ck_assert_str_eq(got, "v");
    free(got);
    free(long_key);
    free(longest);
}

static void malformed_changes_rejected(duro_ct_ctx *ctx)
{
    const duro_kv_change before[] = {SET("k", "kept")};
    const duro_kv_change op_zero[] = {SET("ok", "1"), {(duro_kv_op)0, "k", "v"}};
    const duro_kv_change op_unknown[] = {SET("ok", "1"), {(duro_kv_op)(DURO_KV_CLEAR_ALL + 1),
                                                          "k", "v"}};
    const duro_kv_change clear_null[] = {SET("ok", "1"), CLEAR(NULL)};
    const duro_kv_change set_null_key[] = {SET(NULL, "v")};
    const duro_kv_change *const faults[] = {op_zero, op_unknown, clear_null, set_null_key, NULL};
    const size_t n_faults[] = {2, 2, 2, 1, 1}; /* the last: n_kv 1 without an array */
    const duro_event_in ev = {2, 1, "e2"};
    char buf[256];

    ct_create_instance(ctx, "a");
    kv_turn(ctx, "a", before, N_OF(before));
    for (size_t i = 0; i < N_OF(faults); i++) {
        duro_orch_commit c = kv_commit(1, faults[i], n_faults[i]);

        c.events = &ev;
        c.n_events = 1;
        expect_rejected(ctx, "a", &c, DURO_EINVAL);
    }
    ck_assert_uint_eq(ct_history_len(ctx, "a", 1), 1);
    ck_assert_str_eq(values(ctx, "a", buf, sizeof buf), "k=kept@1;");
}

/* ---- The table ------------------------------------------------------------------------- */

DURO_CASES = {
    DURO_CASE(set_then_get, DURO_CAP_KV, 0,
              "A SET commits the value; get_value and list_values return it at version 1."),
    DURO_CASE(overwrite_bumps_version, DURO_CAP_KV, 0,
              "Setting a key again replaces its value and stamps the instance's next version."),
    DURO_CASE(version_never_reused_after_clear, DURO_CAP_KV, 0,
              "A key set, cleared and set again gets a new, higher version."),
    DURO_CASE(clear_removes_one_key, DURO_CAP_KV, 0,
              "CLEAR removes exactly its key; clearing an absent key is a no-op."),
    DURO_CASE(clear_all_removes_every_key, DURO_CAP_KV, 0,
              "CLEAR_ALL removes every key of the instance and no other instance's."),
    DURO_CASE(changes_apply_in_commit_order, DURO_CAP_KV, 0,
              "The changes of one commit apply in order, each bumping the version."),
    DURO_CASE(list_is_sorted_by_key_bytes, DURO_CAP_KV, 0,
              "list_values returns keys ascending in byte order with their versions."),
    DURO_CASE(values_round_trip_byte_for_byte, DURO_CAP_KV, 0,
              "Values (quotes, newlines, UTF-8, \"\", DURO_MAX_VALUE_BYTES) return unchanged."),
    DURO_CASE(rejected_commit_applies_no_value, DURO_CAP_KV, 0,
              "A commit rejected for its events or execution changes no value; the lock is "
              "kept."),
    DURO_CASE(lost_lock_applies_nothing, DURO_CAP_KV, 0,
              "An ack with an expired lock is DURO_ELOCK and applies no value change."),
    DURO_CASE(oversize_key_rejected, DURO_CAP_KV, 0,
              "A key over DURO_MAX_ID_BYTES is DURO_ETOOBIG, an empty one DURO_EINVAL; the "
              "commit applies nothing."),
    DURO_CASE(oversize_value_rejected, DURO_CAP_KV, 0,
              "A value over DURO_MAX_VALUE_BYTES is DURO_ETOOBIG, NULL DURO_EINVAL; nothing "
              "applied."),
    DURO_CASE(too_many_keys_rejected, DURO_CAP_KV, 0,
              "A commit leaving more than DURO_MAX_VALUES keys is DURO_ETOOBIG and applies "
              "nothing."),
    DURO_CASE(values_survive_a_new_execution, DURO_CAP_KV, 0,
              "Values belong to the instance: the next execution keeps them."),
    DURO_CASE(values_survive_prune, DURO_CAP_KV | DURO_CAP_MANAGEMENT, 0,
              "Pruning old executions keeps the instance's values."),
    DURO_CASE(delete_removes_values, DURO_CAP_KV | DURO_CAP_MANAGEMENT, 0,
              "delete_instance removes the values; the id reused starts with none."),
    DURO_CASE(bulk_delete_removes_values, DURO_CAP_KV | DURO_CAP_MANAGEMENT, 0,
              "delete_bulk removes the values of the instances it deletes, only theirs."),
    DURO_CASE(unknown_instance_or_key_not_found, DURO_CAP_KV, 0,
              "An unknown instance or key is DURO_ENOTFOUND; an empty key DURO_EINVAL."),
    DURO_CASE(other_handle_sees_values, DURO_CAP_KV, DURO_HOOK_ATTACH,
              "Another handle on the store reads the same values and versions."),
    DURO_CASE(value_commit_wakes_waiter, DURO_CAP_KV | DURO_CAP_NOTIFY, 0,
              "A commit that changes a value wakes a thread blocked in wait_commit."),
    DURO_CASE(clears_count_as_changes, DURO_CAP_KV, 0,
              "A CLEAR of an absent key and a CLEAR_ALL of no keys succeed and each still "
              "counts one change: the next SET's version is past them."),
    DURO_CASE(counters_are_per_instance, DURO_CAP_KV, 0,
              "Each instance has its own keys and counter: the same key holds two values and "
              "both instances' versions start at 1."),
    DURO_CASE(set_then_clear_in_one_commit, DURO_CAP_KV, 0,
              "A key set and cleared in one commit is absent after it; the next SET is "
              "stamped past both changes."),
    DURO_CASE(clear_then_set_in_one_commit, DURO_CAP_KV, 0,
              "A key cleared and set again in one commit holds the new value at the later "
              "version."),
    DURO_CASE(same_value_set_again_bumps_version, DURO_CAP_KV, 0,
              "Setting a key to the value it holds is still a change: one entry, a new "
              "version each time."),
    DURO_CASE(keys_round_trip_byte_for_byte, DURO_CAP_KV, 0,
              "Keys with spaces, CJK, emoji, quotes, newlines, backslashes and SQL text are "
              "stored and listed exactly, in byte order."),
    DURO_CASE(keys_are_not_patterns, DURO_CAP_KV, 0,
              "Keys compare exactly: case, a trailing space and the wildcards _ % * ? never "
              "match another key in get_value or CLEAR."),
    DURO_CASE(instance_ids_match_exactly, DURO_CAP_KV, 0,
              "Values belong to exactly their instance id: CLEAR_ALL of \"a\" leaves \"A\", "
              "\"ab\", \"a_\", \"a%\" and \"a \" alone."),
    DURO_CASE(limits_count_bytes_not_characters, DURO_CAP_KV, 0,
              "Key and value limits count bytes: multi-byte text at the limit is accepted, one "
              "byte over is DURO_ETOOBIG."),
    DURO_CASE(over_limit_rejects_the_whole_turn, DURO_CAP_KV, 0,
              "A value or key over its limit rejects the whole commit: no event, state, custom "
              "status, work item or message of it is applied."),
    DURO_CASE(key_limit_checks_the_end_of_the_commit, DURO_CAP_KV, 0,
              "DURO_MAX_VALUES is checked after all changes: passing over it within a commit "
              "is accepted, ending over it is DURO_ETOOBIG."),
    DURO_CASE(values_in_the_creating_commit, DURO_CAP_KV, 0,
              "The commit that creates the instance row applies its values; a queued start "
              "has none (DURO_ENOTFOUND)."),
    DURO_CASE(values_need_an_instance_row, DURO_CAP_KV, 0,
              "A drain commit (no row, no orch_name) carrying values is DURO_EINVAL, creates "
              "nothing and keeps the lock."),
    DURO_CASE(values_set_with_a_terminal_state, DURO_CAP_KV, 0,
              "The commit that ends the instance applies its value changes; they stay "
              "readable after it ended."),
    DURO_CASE(taken_over_lock_commit_applies_nothing, DURO_CAP_KV, 0,
              "After another fetcher took the expired lock and committed, the first holder's "
              "ack is DURO_ELOCK and changes no value."),
    DURO_CASE(deleted_instance_late_ack_sets_nothing, DURO_CAP_KV | DURO_CAP_MANAGEMENT, 0,
              "An ack after its instance was deleted is DURO_ELOCK and brings back no value."),
    DURO_CASE(delete_parent_removes_child_values, DURO_CAP_KV | DURO_CAP_MANAGEMENT, 0,
              "Deleting a parent removes the values of its whole tree and of no other "
              "instance."),
    DURO_CASE(commits_through_two_handles_share_the_counter, DURO_CAP_KV, DURO_HOOK_ATTACH,
              "Commits through two handles on one store continue one counter and both "
              "handles list the same values."),
    DURO_CASE(concurrent_commits_on_two_instances, DURO_CAP_KV, 0,
              "Two threads committing values to two instances at once lose no change: each "
              "instance's versions run 1..2N."),
    DURO_CASE(read_arguments_checked, DURO_CAP_KV, 0,
              "get_value and list_values reject a NULL or empty instance and a NULL key "
              "(DURO_EINVAL) and a key too long (DURO_ETOOBIG)."),
    DURO_CASE(malformed_changes_rejected, DURO_CAP_KV, 0,
              "A change with an unknown op or a NULL key, or n_kv without an array, is "
              "DURO_EINVAL and the commit applies nothing."),
    DURO_CASES_END,
};
