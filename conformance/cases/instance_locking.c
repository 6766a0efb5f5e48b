/*
 * instance_locking.c — conformance cases for the exclusive instance lock of fetch_orch.
 *
 * A fetch locks one instance with a fresh 32-hex-digit token and tags its visible messages;
 * nobody else gets that instance until the holder acks, abandons or the lock expires;
 * messages arriving meanwhile wait for the next batch; a wrong token changes nothing. The
 * contention cases release real threads together at a barrier, round after round, and check
 * in the case thread that no instance, token or message was handed out twice and none lost.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY instance_locking

#define TOKENS 200          /* fetches in the token uniqueness cases */
#define RACE_ROUNDS 200
#define RACE_THREADS 8
#define RACE_INSTANCES 6    /* instances per round in the many-instances race */
#define FLOW_ROUNDS 50
#define FLOW_MESSAGES 16    /* messages per round in the producer/consumer race */
#define FLOW_CONSUMERS 2
#define MAX_RETRIES 10000   /* bound on retries of a call failing with a retryable error */

/* ---- Helpers ------------------------------------------------------------------------------ */

static int is_token(const char *t)
{
    size_t n = strlen(t);

    if (n != 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f') ||
              (t[i] >= 'A' && t[i] <= 'F')))
            return 0;
    return 1;
}

static int token_cmp(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Sort n tokens of 33 bytes and assert they are pairwise distinct. */
static void assert_distinct_tokens(char (*tokens)[33], size_t n)
{
    qsort(tokens, n, sizeof tokens[0], token_cmp);
    for (size_t i = 1; i < n; i++)
        ck_assert_msg(strcmp(tokens[i - 1], tokens[i]) != 0, "token %s handed out twice",
                      tokens[i]);
}

/* Ack a first turn (event 1, name TestOrch) for a fetched START. */
static void ack_first_turn(duro_ct_ctx *ctx, duro_orch_item *item)
{
    const duro_event_in events[] = {{1, 1, "started"}};
    duro_orch_commit c = ct_commit(1, events, 1);

    c.orch_name = "TestOrch";
    ct_ack(ctx, item, &c);
}

/* Ack an existing instance's turn without events (consumes the batch). */
static void ack_drain(duro_ct_ctx *ctx, duro_orch_item *item)
{
    duro_orch_commit c = ct_commit(item->execution_id, NULL, 0);

    ct_ack(ctx, item, &c);
}

/* "lk-a" exists and one EVENT "first" is fetched and locked. */
static duro_orch_item *locked_a(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "lk-a");
    ct_enqueue(ctx, "lk-a", DURO_MSG_EVENT, "first", 0);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "lk-a");
    ck_assert_uint_eq(item->n_msgs, 1);
    return item;
}

/* ---- Exclusivity -------------------------------------------------------------------------- */

static void fetch_locks_instance_exclusively(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_a(ctx);

    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now += DURO_CT_LOCK_MS - 1;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now -= DURO_CT_LOCK_MS - 1;
    ack_drain(ctx, item);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void locked_instance_does_not_block_others(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "lk-b");
    duro_orch_item *a = locked_a(ctx);
    ct_enqueue(ctx, "lk-b", DURO_MSG_EVENT, "b-1", 0);
    duro_orch_item *b = ct_fetch(ctx);

    ck_assert_str_eq(b->instance, "lk-b");
    ck_assert_str_ne(b->lock_token, a->lock_token);
    ack_drain(ctx, b);
    ct_enqueue(ctx, "lk-b", DURO_MSG_EVENT, "b-2", 0);
    b = ct_fetch(ctx);
    ck_assert_str_eq(b->instance, "lk-b");
    ck_assert_uint_eq(b->n_msgs, 1);
    ck_assert_str_eq(b->msgs[0].payload, "b-2");
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ack_drain(ctx, b);
    ack_drain(ctx, a);
}

static void older_messages_of_locked_instance_do_not_block(duro_ct_ctx *ctx)
{
    duro_orch_item *a = locked_a(ctx);

    ct_enqueue(ctx, "lk-a", DURO_MSG_EVENT, "a-waits", 0);
    ct_create_instance(ctx, "lk-b");
    ct_enqueue(ctx, "lk-b", DURO_MSG_EVENT, "b-newer", 0);
    duro_orch_item *b = ct_fetch(ctx);
    ck_assert_str_eq(b->instance, "lk-b");
    ck_assert_uint_eq(b->n_msgs, 1);
    ck_assert_str_eq(b->msgs[0].payload, "b-newer");
    duro_orch_item_free(b);
    duro_orch_item_free(a);
}

static void ack_of_one_instance_leaves_other_locks(duro_ct_ctx *ctx)
{
    duro_error err;

    ct_create_instance(ctx, "lk-b");
    ct_enqueue(ctx, "lk-b", DURO_MSG_EVENT, "b-1", 0);
    duro_orch_item *b = ct_fetch(ctx);
    ck_assert_str_eq(b->instance, "lk-b");
    duro_orch_item *a = locked_a(ctx);
    ack_drain(ctx, a);

    ck_assert_ptr_null(ct_try_fetch(ctx));
    ck_assert_int_eq(ct_renew_rc(ctx, b->lock_token, DURO_CT_LOCK_MS, &err), 0);
    ack_drain(ctx, b);
}

/* ---- Tokens ------------------------------------------------------------------------------- */

static void orch_lock_tokens_unique_and_hex(duro_ct_ctx *ctx)
{
    char(*tokens)[33] = calloc(TOKENS, sizeof *tokens);
    char name[32];

    ck_assert_ptr_nonnull(tokens);
    for (int i = 0; i < TOKENS; i++) {
        snprintf(name, sizeof name, "lk-tok-%03d", i);
        ct_enqueue_start(ctx, name);
    }
    for (int i = 0; i < TOKENS; i++) {
        duro_orch_item *item = ct_fetch(ctx);
        ck_assert_msg(is_token(item->lock_token), "lock token '%s' is not 32 hex digits",
                      item->lock_token);
        memcpy(tokens[i], item->lock_token, 33);
        duro_orch_item_free(item);
    }
    ck_assert_ptr_null(ct_try_fetch(ctx));
    assert_distinct_tokens(tokens, TOKENS);
    free(tokens);
}

static void work_lock_tokens_unique_and_hex(duro_ct_ctx *ctx)
{
    char(*tokens)[33] = calloc(TOKENS, sizeof *tokens);

    ck_assert_ptr_nonnull(tokens);
    for (int i = 0; i < TOKENS; i++)
        ct_enqueue_work(ctx, "lk-w", (uint64_t)i + 1, "w");
    for (int i = 0; i < TOKENS; i++) {
        duro_work_item *item = ct_try_fetch_work(ctx);
        ck_assert_ptr_nonnull(item);
        ck_assert_msg(is_token(item->lock_token), "lock token '%s' is not 32 hex digits",
                      item->lock_token);
        memcpy(tokens[i], item->lock_token, 33);
        duro_work_item_free(item);
    }
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    assert_distinct_tokens(tokens, TOKENS);
    free(tokens);
}

static void refetch_after_abandon_gets_new_token(duro_ct_ctx *ctx)
{
    duro_orch_item *first = locked_a(ctx);
    duro_error err;
    char old[33];

    memcpy(old, first->lock_token, sizeof old);
    ck_assert_int_eq(ct_abandon_rc(ctx, first->lock_token, 0, &err), 0);
    duro_orch_item_free(first);
    duro_orch_item *second = ct_fetch(ctx);
    ck_assert_str_eq(second->instance, "lk-a");
    ck_assert_str_ne(second->lock_token, old);

    duro_orch_commit c = ct_commit(1, NULL, 0);
    ck_assert_int_eq(ct_ack_rc(ctx, old, &c, &err), DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_int_eq(ct_renew_rc(ctx, old, DURO_CT_LOCK_MS, &err), DURO_ELOCK);
    ack_drain(ctx, second);
}

/* ---- Arrivals during a lock --------------------------------------------------------------- */

static void arrivals_during_lock_wait_for_next_batch(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_a(ctx);

    ct_enqueue(ctx, "lk-a", DURO_MSG_ACTIVITY_DONE, "arrival-1", 0);
    ct_enqueue(ctx, "lk-a", DURO_MSG_TIMER_FIRED, "arrival-2", 0);
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now += DURO_CT_LOCK_MS - 1;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ack_drain(ctx, item);

    duro_orch_item *next = ct_fetch(ctx);
    ck_assert_uint_eq(next->n_msgs, 2);
    ck_assert_str_eq(next->msgs[0].payload, "arrival-1");
    ck_assert_str_eq(next->msgs[1].payload, "arrival-2");
    ack_drain(ctx, next);
}

static void ack_deletes_only_tagged_messages(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_a(ctx);
    int64_t tagged = item->msgs[0].id;

    ct_enqueue(ctx, "lk-a", DURO_MSG_EVENT, "untagged-1", 0);
    ct_enqueue(ctx, "lk-a", DURO_MSG_EVENT, "untagged-2", 0);
    ack_drain(ctx, item);

    duro_orch_item *next = ct_fetch(ctx);
    ck_assert_uint_eq(next->n_msgs, 2);
    ck_assert_int_gt(next->msgs[0].id, tagged);
    ck_assert_int_gt(next->msgs[1].id, next->msgs[0].id);
    ck_assert_str_eq(next->msgs[0].payload, "untagged-1");
    ck_assert_str_eq(next->msgs[1].payload, "untagged-2");
    ck_assert_uint_eq(next->attempt, 1);
    ack_drain(ctx, next);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void abandon_returns_batch_and_arrivals_in_order(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ct_enqueue(ctx, "lk-a", DURO_MSG_EVENT, "arrival", 0);
    ck_assert_int_eq(ct_abandon_rc(ctx, item->lock_token, 0, &err), 0);
    duro_orch_item_free(item);

    duro_orch_item *next = ct_fetch(ctx);
    ck_assert_uint_eq(next->n_msgs, 2);
    ck_assert_str_eq(next->msgs[0].payload, "first");
    ck_assert_str_eq(next->msgs[1].payload, "arrival");
    ck_assert_uint_eq(next->attempt, 2);
    ack_drain(ctx, next);
}

static void batch_is_fifo_by_id(duro_ct_ctx *ctx)
{
    static const char *const payloads[] = {"a-1", "a-2", "a-3", "a-4", "a-5"};
    static const int kinds[] = {DURO_MSG_EVENT, DURO_MSG_ACTIVITY_DONE, DURO_MSG_TIMER_FIRED,
                                DURO_MSG_CHILD_DONE, DURO_MSG_EVENT};

    ct_create_instance(ctx, "lk-a");
    ct_create_instance(ctx, "lk-b");
    for (int i = 0; i < 5; i++) {
        ct_enqueue(ctx, "lk-a", kinds[i], payloads[i], 0);
        ct_enqueue(ctx, "lk-b", DURO_MSG_EVENT, "b", 0);
    }
    duro_orch_item *a = ct_fetch(ctx);
    ck_assert_str_eq(a->instance, "lk-a");
    ck_assert_uint_eq(a->n_msgs, 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_str_eq(a->msgs[i].payload, payloads[i]);
        ck_assert_int_eq(a->msgs[i].kind, kinds[i]);
        if (i > 0)
            ck_assert_int_gt(a->msgs[i].id, a->msgs[i - 1].id);
    }
    duro_orch_item *b = ct_fetch(ctx);
    ck_assert_str_eq(b->instance, "lk-b");
    ck_assert_uint_eq(b->n_msgs, 5);
    ack_drain(ctx, a);
    ack_drain(ctx, b);
}

/* ---- Wrong tokens ------------------------------------------------------------------------- */

static void bad_token_ack_keeps_lock(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{2, 2, "forged"}};
    duro_orch_commit c = ct_commit(1, events, 1);
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ck_assert_int_eq(ct_ack_rc(ctx, ct_bogus_token, &c, &err), DURO_ELOCK);
    ck_assert_int_eq(err.code, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ck_assert_uint_eq(ct_history_len(ctx, "lk-a", 0), 1);
    ct_ack(ctx, item, &c);
    ck_assert_uint_eq(ct_history_len(ctx, "lk-a", 0), 2);
}

static void bad_token_abandon_keeps_lock(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ck_assert_int_eq(ct_abandon_rc(ctx, ct_bogus_token, 0, &err), DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ck_assert_int_eq(ct_renew_rc(ctx, item->lock_token, DURO_CT_LOCK_MS, &err), 0);
    ack_drain(ctx, item);
}

static void bad_token_renew_extends_nothing(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ctx->now += 1000;
    ck_assert_int_eq(ct_renew_rc(ctx, ct_bogus_token, 10 * DURO_CT_LOCK_MS, &err), DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now += DURO_CT_LOCK_MS - 1000;
    duro_orch_item *next = ct_fetch(ctx);
    ck_assert_str_eq(next->instance, "lk-a");
    ck_assert_uint_eq(next->attempt, 2);
    duro_orch_item_free(next);
    duro_orch_item_free(item);
}

/* ---- Renewal ------------------------------------------------------------------------------ */

static void renew_extends_lock(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ctx->now = t0 + DURO_CT_LOCK_MS - 1000;
    ck_assert_int_eq(ct_renew_rc(ctx, item->lock_token, DURO_CT_LOCK_MS, &err), 0);
    ctx->now = t0 + DURO_CT_LOCK_MS;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 2 * DURO_CT_LOCK_MS - 1001;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 2 * DURO_CT_LOCK_MS - 1000;
    duro_orch_item *next = ct_fetch(ctx);
    ck_assert_str_eq(next->instance, "lk-a");
    ck_assert_str_ne(next->lock_token, item->lock_token);
    duro_orch_item_free(next);
    duro_orch_item_free(item);
}

static void renewed_token_acks_after_original_expiry(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{2, 2, "after-renew"}};
    duro_orch_commit c = ct_commit(1, events, 1);
    int64_t t0 = ctx->now;
    duro_orch_item *item = locked_a(ctx);
    duro_error err;

    ctx->now = t0 + DURO_CT_LOCK_MS / 2;
    ck_assert_int_eq(ct_renew_rc(ctx, item->lock_token, DURO_CT_LOCK_MS, &err), 0);
    ctx->now = t0 + DURO_CT_LOCK_MS + 5;
    ct_ack(ctx, item, &c);
    ck_assert_uint_eq(ct_history_len(ctx, "lk-a", 0), 2);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void ack_releases_lock_for_next_message(duro_ct_ctx *ctx)
{
    duro_orch_item *item = locked_a(ctx);
    char old[33];

    memcpy(old, item->lock_token, sizeof old);
    ack_drain(ctx, item);
    ct_enqueue(ctx, "lk-a", DURO_MSG_EVENT, "next", 0);
    duro_orch_item *next = ct_fetch(ctx);
    ck_assert_str_eq(next->instance, "lk-a");
    ck_assert_str_ne(next->lock_token, old);
    ck_assert_uint_eq(next->n_msgs, 1);
    ck_assert_str_eq(next->msgs[0].payload, "next");
    ack_drain(ctx, next);
}

/* ---- Contention --------------------------------------------------------------------------- */

typedef struct fetcher {
    duro_provider *p;
    ct_barrier *barrier;
    int64_t now;
    duro_orch_item *items[RACE_INSTANCES + 1];
    size_t n;
    int error;   /* first unexpected return code, 0 if none */
} fetcher;

/* Fetch with retries on retryable errors; returns the final code. */
static int fetch_retry(duro_provider *p, int64_t now, duro_orch_item **out)
{
    duro_error err;
    int rc, tries = 0;

    do {
        memset(&err, 0, sizeof err);
        *out = NULL;
        rc = p->ops->fetch_orch(p, now, DURO_CT_LOCK_MS, 0, out, &err);
    } while (rc != 0 && rc != DURO_ENOTFOUND && err.retryable && ++tries < MAX_RETRIES);
    return rc;
}

static void *fetch_until_empty(void *arg)
{
    fetcher *f = arg;

    ct_barrier_wait(f->barrier);
    while (f->n < RACE_INSTANCES + 1) {
        duro_orch_item *item;
        int rc = fetch_retry(f->p, f->now, &item);
        if (rc == DURO_ENOTFOUND)
            break;
        if (rc != 0) {
            f->error = rc;
            break;
        }
        f->items[f->n++] = item;
    }
    return NULL;
}

static void *fetch_once(void *arg)
{
    fetcher *f = arg;
    duro_orch_item *item;

    ct_barrier_wait(f->barrier);
    int rc = fetch_retry(f->p, f->now, &item);
    if (rc == 0)
        f->items[f->n++] = item;
    else if (rc != DURO_ENOTFOUND)
        f->error = rc;
    return NULL;
}

/* Start RACE_THREADS threads running `fn` on fetchers `f`, then join them all. */
static void run_fetchers(duro_ct_ctx *ctx, ct_barrier *barrier, fetcher *f,
                         void *(*fn)(void *))
{
    pthread_t tid[RACE_THREADS];

    for (int t = 0; t < RACE_THREADS; t++) {
        memset(&f[t], 0, sizeof f[t]);
        f[t].p = ctx->p;
        f[t].barrier = barrier;
        f[t].now = ctx->now;
        ck_assert_int_eq(pthread_create(&tid[t], NULL, fn, &f[t]), 0);
    }
    for (int t = 0; t < RACE_THREADS; t++)
        pthread_join(tid[t], NULL);
}

static void contention_each_instance_fetched_once(duro_ct_ctx *ctx)
{
    ct_barrier *barrier = ct_barrier_new(RACE_THREADS);
    fetcher f[RACE_THREADS];
    char name[48];

    ck_assert_ptr_nonnull(barrier);
    for (int r = 0; r < RACE_ROUNDS; r++) {
        duro_orch_item *got[RACE_THREADS * (RACE_INSTANCES + 1)];
        size_t n = 0;

        for (int i = 0; i < RACE_INSTANCES; i++) {
            snprintf(name, sizeof name, "lk-race-%d-%d", r, i);
            ct_enqueue_start(ctx, name);
        }
        run_fetchers(ctx, barrier, f, fetch_until_empty);
        for (int t = 0; t < RACE_THREADS; t++) {
            ck_assert_msg(f[t].error == 0, "round %d: fetch failed: %s", r,
                          duro_strerror(f[t].error));
            for (size_t k = 0; k < f[t].n; k++)
                got[n++] = f[t].items[k];
        }
        ck_assert_msg(n == RACE_INSTANCES, "round %d: %zu batches for %d instances", r, n,
                      RACE_INSTANCES);
        for (int i = 0; i < RACE_INSTANCES; i++) {
            int seen = 0;
            snprintf(name, sizeof name, "lk-race-%d-%d", r, i);
            for (size_t k = 0; k < n; k++)
                seen += strcmp(got[k]->instance, name) == 0;
            ck_assert_msg(seen == 1, "round %d: %s fetched %d times", r, name, seen);
        }
        for (size_t k = 0; k < n; k++) {
            ck_assert_uint_eq(got[k]->n_msgs, 1);
            ck_assert_uint_eq(got[k]->attempt, 1);
            for (size_t m = k + 1; m < n; m++) {
                ck_assert_str_ne(got[k]->lock_token, got[m]->lock_token);
                ck_assert_int_ne(got[k]->msgs[0].id, got[m]->msgs[0].id);
            }
        }
        for (size_t k = 0; k < n; k++)
            ack_first_turn(ctx, got[k]);
    }
    ct_barrier_free(barrier);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void contention_single_instance_one_winner(duro_ct_ctx *ctx)
{
    ct_barrier *barrier = ct_barrier_new(RACE_THREADS);
    fetcher f[RACE_THREADS];
    char name[48];

    ck_assert_ptr_nonnull(barrier);
    for (int r = 0; r < RACE_ROUNDS; r++) {
        duro_orch_item *winner = NULL;
        int winners = 0;

        snprintf(name, sizeof name, "lk-one-%d", r);
        ct_enqueue_start(ctx, name);
        run_fetchers(ctx, barrier, f, fetch_once);
        for (int t = 0; t < RACE_THREADS; t++) {
            ck_assert_msg(f[t].error == 0, "round %d: fetch failed: %s", r,
                          duro_strerror(f[t].error));
            winners += (int)f[t].n;
            if (f[t].n == 1)
                winner = f[t].items[0];
        }
        ck_assert_msg(winners == 1, "round %d: %d threads got the instance", r, winners);
        ck_assert_str_eq(winner->instance, name);
        ck_assert_ptr_null(ct_try_fetch(ctx));
        ack_first_turn(ctx, winner);
    }
    ct_barrier_free(barrier);
}

typedef struct flow {
    duro_provider *p;
    ct_barrier *barrier;
    int64_t now;
    atomic_int done;                 /* producer finished enqueueing */
    atomic_int seen[FLOW_MESSAGES];  /* times each message was delivered */
    atomic_int error;                /* first unexpected return code */
    atomic_int foreign;              /* payloads that are not ours */
} flow;

static void flow_error(flow *fl, int rc)
{
    int expected = 0;

    atomic_compare_exchange_strong(&fl->error, &expected, rc);
}

static void *flow_produce(void *arg)
{
    flow *fl = arg;
    char payload[32];

    ct_barrier_wait(fl->barrier);
    for (int i = 0; i < FLOW_MESSAGES; i++) {
        duro_msg msg = {"lk-flow", DURO_MSG_EVENT, 0, fl->now, payload};
        duro_error err;
        int rc, tries = 0;
        snprintf(payload, sizeof payload, "m-%d", i);
        do {
            memset(&err, 0, sizeof err);
            rc = fl->p->ops->enqueue_orch(fl->p, &msg, &err);
        } while (rc != 0 && err.retryable && ++tries < MAX_RETRIES);
        if (rc != 0)
            flow_error(fl, rc);
    }
    atomic_store(&fl->done, 1);
    return NULL;
}

static void *flow_consume(void *arg)
{
    flow *fl = arg;
    duro_orch_commit drain = ct_commit(1, NULL, 0);

    ct_barrier_wait(fl->barrier);
    for (;;) {
        int done = atomic_load(&fl->done);
        duro_orch_item *item;
        int rc = fetch_retry(fl->p, fl->now, &item);
        if (rc == DURO_ENOTFOUND) {
            if (done)
                break;
            sched_yield();
            continue;
        }
        if (rc != 0) {
            flow_error(fl, rc);
            break;
        }
        for (size_t m = 0; m < item->n_msgs; m++) {
            int idx = -1;
            if (sscanf(item->msgs[m].payload, "m-%d", &idx) == 1 && idx >= 0 &&
                idx < FLOW_MESSAGES)
                atomic_fetch_add(&fl->seen[idx], 1);
            else
                atomic_fetch_add(&fl->foreign, 1);
        }
        duro_error err;
        int tries = 0;
        do {
            memset(&err, 0, sizeof err);
            rc = fl->p->ops->ack_orch(fl->p, fl->now, item->lock_token, &drain, &err);
        } while (rc != 0 && err.retryable && ++tries < MAX_RETRIES);
        duro_orch_item_free(item);
        if (rc != 0) {
            flow_error(fl, rc);
            break;
        }
    }
    return NULL;
}

static void contention_arrivals_delivered_exactly_once(duro_ct_ctx *ctx)
{
    ct_barrier *barrier = ct_barrier_new(FLOW_CONSUMERS + 1);
    flow *fl = calloc(1, sizeof *fl);

    ck_assert_ptr_nonnull(barrier);
    ck_assert_ptr_nonnull(fl);
    ct_create_instance(ctx, "lk-flow");
    for (int r = 0; r < FLOW_ROUNDS; r++) {
        pthread_t producer, consumers[FLOW_CONSUMERS];

        memset(fl, 0, sizeof *fl);
        fl->p = ctx->p;
        fl->barrier = barrier;
        fl->now = ctx->now;
        ck_assert_int_eq(pthread_create(&producer, NULL, flow_produce, fl), 0);
        for (int t = 0; t < FLOW_CONSUMERS; t++)
            ck_assert_int_eq(pthread_create(&consumers[t], NULL, flow_consume, fl), 0);
        pthread_join(producer, NULL);
        for (int t = 0; t < FLOW_CONSUMERS; t++)
            pthread_join(consumers[t], NULL);

        ck_assert_msg(atomic_load(&fl->error) == 0, "round %d: a call failed: %s", r,
                      duro_strerror(atomic_load(&fl->error)));
        ck_assert_int_eq(atomic_load(&fl->foreign), 0);
        for (int i = 0; i < FLOW_MESSAGES; i++)
            ck_assert_msg(atomic_load(&fl->seen[i]) == 1,
                          "round %d: message m-%d delivered %d times", r, i,
                          atomic_load(&fl->seen[i]));
        ck_assert_ptr_null(ct_try_fetch(ctx));
    }
    free(fl);
    ct_barrier_free(barrier);
}

DURO_CASES = {
    DURO_CASE(fetch_locks_instance_exclusively, 0, 0,
              "While an instance is locked no fetch returns it, up to the last millisecond of "
              "the lock."),
    DURO_CASE(locked_instance_does_not_block_others, 0, 0,
              "Locking one instance leaves others fetchable, again and again, with their own "
              "tokens."),
    DURO_CASE(older_messages_of_locked_instance_do_not_block, 0, 0,
              "Older waiting messages of a locked instance do not stop a fetch from returning "
              "another instance."),
    DURO_CASE(ack_of_one_instance_leaves_other_locks, 0, 0,
              "Acking one instance releases only its own lock; another holder's lock stays "
              "valid."),
    DURO_CASE(orch_lock_tokens_unique_and_hex, 0, 0,
              "Every orchestration fetch hands out a distinct token of 32 hex digits (200 "
              "fetches)."),
    DURO_CASE(work_lock_tokens_unique_and_hex, 0, 0,
              "Every worker fetch hands out a distinct token of 32 hex digits (200 fetches)."),
    DURO_CASE(refetch_after_abandon_gets_new_token, 0, 0,
              "A refetch after abandon gets a new token and the abandoned token no longer acks "
              "or renews."),
    DURO_CASE(arrivals_during_lock_wait_for_next_batch, 0, 0,
              "Messages arriving during a lock are neither in the batch nor fetchable until "
              "the ack; then they form the next batch in order."),
    DURO_CASE(ack_deletes_only_tagged_messages, 0, 0,
              "An ack deletes only the messages tagged by its fetch; later arrivals survive, "
              "never counted as fetched."),
    DURO_CASE(abandon_returns_batch_and_arrivals_in_order, 0, 0,
              "After abandon the old batch and the arrivals come back together in id order."),
    DURO_CASE(batch_is_fifo_by_id, 0, 0,
              "A batch holds only its instance's messages, in enqueue (id) order with their "
              "kinds, even when interleaved with another instance's."),
    DURO_CASE(bad_token_ack_keeps_lock, 0, 0,
              "An ack with a wrong token fails with DURO_ELOCK (not retryable), writes nothing "
              "and leaves the holder's lock intact."),
    DURO_CASE(bad_token_abandon_keeps_lock, 0, 0,
              "An abandon with a wrong token fails with DURO_ELOCK (not retryable) and "
              "releases nothing."),
    DURO_CASE(bad_token_renew_extends_nothing, 0, 0,
              "A renew with a wrong token fails with DURO_ELOCK (not retryable) and the real "
              "lock still expires on time."),
    DURO_CASE(renew_extends_lock, 0, 0,
              "Renewing sets the lock expiry to now + extend: locked 1 ms before it, free "
              "exactly at it."),
    DURO_CASE(renewed_token_acks_after_original_expiry, 0, 0,
              "A renewed token can still ack after the original lock time has passed."),
    DURO_CASE(ack_releases_lock_for_next_message, 0, 0,
              "After an ack the next message makes the instance fetchable again at once, with "
              "a new token."),
    DURO_CASE(contention_each_instance_fetched_once, 0, 0,
              "8 threads fetching together from 6 instances lock each exactly once, with "
              "distinct tokens and messages, none missed (200 rounds)."),
    DURO_CASE(contention_single_instance_one_winner, 0, 0,
              "8 threads fetching one instance together: exactly one gets it (200 rounds)."),
    DURO_CASE(contention_arrivals_delivered_exactly_once, 0, 0,
              "Messages enqueued while two consumers fetch and ack the same instance are each "
              "delivered exactly once (50 rounds)."),
    DURO_CASES_END,
};
