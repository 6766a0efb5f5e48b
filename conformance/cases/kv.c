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
 * Every case is skipped, with the reason, on a provider without DURO_CAP_KV.
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
    DURO_CASES_END,
};
