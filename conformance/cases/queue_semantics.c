/*
 * queue_semantics.c — conformance cases for the two queues: FIFO order, peek-lock, delayed
 * and immediate visibility, atomic worker acks, orphan messages and exact payload round
 * trips.
 *
 * Every case drives the provider with the virtual clock ctx->now; visibility boundaries are
 * checked to the millisecond (invisible at visible_at - 1, visible at visible_at). The two
 * contention cases run real threads released together by a barrier, many rounds each, and
 * assert in the case thread after joining.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY queue_semantics

/* Rounds and threads of the contention cases. Draining costs 3 writes per item, so it runs
 * fewer rounds to stay quick on file-backed stores that sync every commit. */
#define QS_RACE_ROUNDS 200
#define QS_DRAIN_ROUNDS 100
#define QS_THREADS 4
#define QS_ITEMS_PER_ROUND 4
/* Bound on retries of a call that keeps failing with a retryable error. */
#define QS_MAX_RETRIES 10000

/* UTF-8 text with quotes, backslashes, newlines, tabs, a NUL-free control mix, JSON and
 * SQL-looking fragments: é, —, ✓, 日本語 and an emoji, written as escapes. */
static const char qs_text[] =
    "h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
    "\xf0\x9f\x98\x80 \"double\" 'single' back\\slash\nline two\r\n\ttabbed "
    "{\"json\": [1, 2, \"x\"]} %s %d ; DROP TABLE t; --";

/* ---- Helpers --------------------------------------------------------------------------- */

/* Enqueue one orchestrator message with every field given; asserts success. */
static void enqueue_msg(duro_ct_ctx *ctx, const char *instance, int kind, uint64_t execution_id,
                        int64_t visible_at_ms, const char *payload)
{
    duro_error err = {0};
    duro_msg msg = {
        .instance = instance, .kind = kind, .execution_id = execution_id,
        .visible_at_ms = visible_at_ms, .payload = payload,
    };
    int rc = ctx->p->ops->enqueue_orch(ctx->p, &msg, &err);

    ck_assert_msg(rc == 0, "enqueue_orch failed: %s (%s)", duro_strerror(rc), err.message);
}

/* Worker fetch that must find an item. */
static duro_work_item *must_fetch_work(duro_ct_ctx *ctx)
{
    duro_work_item *item = ct_try_fetch_work(ctx);

    ck_assert_msg(item != NULL, "fetch_work found nothing to fetch");
    return item;
}

/* Ack a work item with `completion` (may be NULL), asserting success; frees the item. */
static void ack_work(duro_ct_ctx *ctx, duro_work_item *item, const duro_msg *completion)
{
    duro_error err = {0};
    int rc = ctx->p->ops->ack_work(ctx->p, ctx->now, item->lock_token, completion, &err);

    ck_assert_msg(rc == 0, "ack_work failed: %s (%s)", duro_strerror(rc), err.message);
    duro_work_item_free(item);
}

/* Ack an orchestration item with a commit of execution 1 without events (consumes its
 * messages; names the orchestration so that a first turn creates the instance row). */
static void ack_empty(duro_ct_ctx *ctx, duro_orch_item *item)
{
    duro_orch_commit commit = ct_commit(1, NULL, 0);

    commit.orch_name = "TestOrch";
    commit.orch_version = "1.0.0";

    ct_ack(ctx, item, &commit);
}

/* Build a `len`-byte UTF-8 text of numbered chunks (so reordered or repeated chunks are
 * detected), padded with ASCII. Owned by the caller. */
static char *make_text(size_t len)
{
    char *s = malloc(len + 1);
    size_t pos = 0;

    ck_assert_msg(s != NULL, "out of memory building a %zu-byte payload", len);
    for (size_t chunk = 0;; chunk++) {
        char unit[64];
        int n = snprintf(unit, sizeof unit,
                         "[%08zu] \xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80 \"q\" \\\n", chunk);
        ck_assert_int_gt(n, 0);
        if (pos + (size_t)n > len)
            break;
        memcpy(s + pos, unit, (size_t)n);
        pos += (size_t)n;
    }
    memset(s + pos, 'x', len - pos);
    s[len] = '\0';
    return s;
}

/* Assert that `got` holds exactly the bytes of `want`, reporting the first difference
 * rather than printing megabytes. */
static void assert_same_text(const char *got, const char *want)
{
    ck_assert_msg(got != NULL, "payload came back NULL");
    size_t glen = strlen(got), wlen = strlen(want), i = 0;
    while (i < glen && i < wlen && got[i] == want[i])
        i++;
    ck_assert_msg(glen == wlen && i == wlen,
                  "payload differs: %zu bytes back for %zu stored, first difference at %zu",
                  glen, wlen, i);
}

/* ---- FIFO ------------------------------------------------------------------------------ */

static void orch_batch_fifo_by_id(duro_ct_ctx *ctx)
{
    static const char *const payloads[] = {"start:a", "e1", "t1", "e2", "c1"};
    static const int kinds[] = {DURO_MSG_START, DURO_MSG_EVENT, DURO_MSG_TIMER_FIRED,
                                DURO_MSG_EVENT, DURO_MSG_ACTIVITY_DONE};

    for (size_t i = 0; i < 5; i++)
        enqueue_msg(ctx, "a", kinds[i], 1, ctx->now, payloads[i]);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "a");
    ck_assert_uint_eq(item->n_msgs, 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_str_eq(item->msgs[i].payload, payloads[i]);
        ck_assert_int_eq(item->msgs[i].kind, kinds[i]);
        if (i > 0)
            ck_assert_int_gt(item->msgs[i].id, item->msgs[i - 1].id);
    }
    duro_orch_item_free(item);
}

static void worker_fifo_by_id(duro_ct_ctx *ctx)
{
    static const char *const payloads[] = {"w1", "w2", "w3", "w4", "w5"};
    int64_t last_id = 0;

    for (uint64_t i = 0; i < 5; i++)
        ct_enqueue_work(ctx, "a", i + 1, payloads[i]);
    for (uint64_t i = 0; i < 5; i++) {
        duro_work_item *w = must_fetch_work(ctx);
        ck_assert_uint_eq(w->activity_id, i + 1);
        ck_assert_str_eq(w->payload, payloads[i]);
        if (i > 0)
            ck_assert_int_gt(w->id, last_id);
        last_id = w->id;
        duro_work_item_free(w);
    }
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
}

/* ---- Peek-lock ------------------------------------------------------------------------- */

static void orch_peek_lock_hides_locked_instance(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "a");
    ck_assert_uint_eq(item->n_msgs, 1);

    ck_assert_ptr_null(ct_try_fetch(ctx));
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "late", 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));

    ack_empty(ctx, item);
    duro_orch_item *again = ct_fetch(ctx);
    ck_assert_str_eq(again->instance, "a");
    ck_assert_uint_eq(again->n_msgs, 1);
    ck_assert_str_eq(again->msgs[0].payload, "late");
    duro_orch_item_free(again);
}

static void orch_abandon_returns_batch(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "a");
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "e1", 0);
    duro_orch_item *item = ct_fetch(ctx);
    char token[33];
    memcpy(token, item->lock_token, sizeof token);
    int64_t ids[2] = {item->msgs[0].id, item->msgs[1].id};
    ct_abandon(ctx, item, 0, 0);

    duro_orch_item *again = ct_fetch(ctx);
    ck_assert_str_eq(again->instance, "a");
    ck_assert_uint_eq(again->n_msgs, 2);
    ck_assert_int_eq(again->msgs[0].id, ids[0]);
    ck_assert_int_eq(again->msgs[1].id, ids[1]);
    ck_assert_str_ne(again->lock_token, token);
    duro_orch_item_free(again);
}

static void worker_peek_lock_hides_fetched_item(duro_ct_ctx *ctx)
{
    ct_enqueue_work(ctx, "a", 1, "w1");
    duro_work_item *w = must_fetch_work(ctx);
    ck_assert_uint_eq(w->activity_id, 1);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ctx->now += DURO_CT_LOCK_MS - 1;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ack_work(ctx, w, NULL);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
}

static void worker_abandon_returns_item(duro_ct_ctx *ctx)
{
    ct_enqueue_work(ctx, "a", 1, "w1");
    duro_work_item *w = must_fetch_work(ctx);
    int64_t id = w->id;
    char token[33];
    memcpy(token, w->lock_token, sizeof token);
    ct_abandon_work(ctx, w, 0, 0);

    duro_work_item *again = must_fetch_work(ctx);
    ck_assert_int_eq(again->id, id);
    ck_assert_str_eq(again->payload, "w1");
    ck_assert_str_ne(again->lock_token, token);
    duro_work_item_free(again);
}

static void worker_lock_expiry_returns_item(duro_ct_ctx *ctx)
{
    ct_enqueue_work(ctx, "a", 1, "w1");
    duro_work_item *w = must_fetch_work(ctx);
    int64_t id = w->id;
    int64_t fetched_at = ctx->now;

    ctx->now = fetched_at + DURO_CT_LOCK_MS - 1;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ctx->now = fetched_at + DURO_CT_LOCK_MS + 1;
    duro_work_item *again = must_fetch_work(ctx);
    ck_assert_int_eq(again->id, id);
    ck_assert_str_ne(again->lock_token, w->lock_token);
    duro_work_item_free(again);
    duro_work_item_free(w);
}

/* ---- Worker acks ----------------------------------------------------------------------- */

static void ack_work_moves_completion_atomically(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    ct_enqueue_work(ctx, "a", 7, "work-7");
    duro_work_item *w = must_fetch_work(ctx);
    duro_msg done = {
        .instance = "a", .kind = DURO_MSG_ACTIVITY_DONE, .execution_id = 1,
        .visible_at_ms = ctx->now, .payload = "done-7",
    };
    ack_work(ctx, w, &done);

    ctx->now += DURO_CT_LOCK_MS + 1;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "a");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_ACTIVITY_DONE);
    ck_assert_uint_eq(item->msgs[0].execution_id, 1);
    ck_assert_str_eq(item->msgs[0].payload, "done-7");
    duro_orch_item_free(item);
}

static void failed_ack_work_enqueues_nothing(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    ct_enqueue_work(ctx, "a", 1, "w1");
    duro_work_item *w = must_fetch_work(ctx);
    int64_t id = w->id;
    duro_msg done = {
        .instance = "a", .kind = DURO_MSG_ACTIVITY_DONE, .execution_id = 1,
        .visible_at_ms = ctx->now, .payload = "done-1",
    };
    duro_error err = {0};

    ctx->now += DURO_CT_LOCK_MS + 1;
    int rc = ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, &done, &err);
    ck_assert_int_eq(rc, DURO_ELOCK);
    ck_assert_int_eq(err.code, DURO_ELOCK);
    ck_assert_int_eq(err.retryable, 0);
    duro_work_item_free(w);

    ck_assert_ptr_null(ct_try_fetch(ctx));
    duro_work_item *again = must_fetch_work(ctx);
    ck_assert_int_eq(again->id, id);
    duro_work_item_free(again);
}

static void ack_work_without_completion_deletes_only(duro_ct_ctx *ctx)
{
    ct_create_instance(ctx, "a");
    ct_enqueue_work(ctx, "a", 1, "w1");
    ct_enqueue_work(ctx, "a", 2, "w2");
    duro_work_item *w = must_fetch_work(ctx);
    ck_assert_uint_eq(w->activity_id, 1);
    ack_work(ctx, w, NULL);

    ctx->now += DURO_CT_LOCK_MS + 1;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    duro_work_item *next = must_fetch_work(ctx);
    ck_assert_uint_eq(next->activity_id, 2);
    duro_work_item_free(next);
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
}

/* ---- Visibility ------------------------------------------------------------------------ */

static void orch_delayed_message_visible_exactly_at_visible_at(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;

    ct_create_instance(ctx, "a");
    enqueue_msg(ctx, "a", DURO_MSG_TIMER_FIRED, 1, t0 + 5000, "timer");
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 4999;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 5000;
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "a");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_TIMER_FIRED);
    ck_assert_str_eq(item->msgs[0].payload, "timer");
    duro_orch_item_free(item);
}

static void delayed_start_invisible_until_visible_at(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;

    enqueue_msg(ctx, "a", DURO_MSG_START, 1, t0 + 1000, "start:a");
    ctx->now = t0 + 999;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 1000;
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "a");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_START);
    duro_orch_item_free(item);
}

static void batch_excludes_not_yet_visible_messages(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;

    ct_create_instance(ctx, "a");
    enqueue_msg(ctx, "a", DURO_MSG_EVENT, 1, t0, "e1");
    enqueue_msg(ctx, "a", DURO_MSG_TIMER_FIRED, 1, t0 + 1000, "timer");
    enqueue_msg(ctx, "a", DURO_MSG_EVENT, 1, t0, "e2");

    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "a");
    ck_assert_uint_eq(item->n_msgs, 2);
    ck_assert_str_eq(item->msgs[0].payload, "e1");
    ck_assert_str_eq(item->msgs[1].payload, "e2");
    ack_empty(ctx, item);

    ctx->now = t0 + 999;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 1000;
    duro_orch_item *later = ct_fetch(ctx);
    ck_assert_str_eq(later->instance, "a");
    ck_assert_uint_eq(later->n_msgs, 1);
    ck_assert_str_eq(later->msgs[0].payload, "timer");
    duro_orch_item_free(later);
}

static void committed_work_visible_immediately(duro_ct_ctx *ctx)
{
    const duro_work_in work[] = {
        {.instance = "a", .execution_id = 1, .activity_id = 1, .payload = "act-1"},
        {.instance = "a", .execution_id = 1, .activity_id = 2, .payload = "act-2"},
    };
    const duro_event_in events[] = {{.event_id = 2, .kind = 3, .payload = "scheduled"}};

    ct_create_instance(ctx, "a");
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "go", 0);
    duro_orch_item *item = ct_fetch(ctx);
    duro_orch_commit commit = ct_commit(1, events, 1);
    commit.work = work;
    commit.n_work = 2;
    ct_ack(ctx, item, &commit);

    for (uint64_t i = 0; i < 2; i++) {
        duro_work_item *w = must_fetch_work(ctx);
        ck_assert_str_eq(w->instance, "a");
        ck_assert_uint_eq(w->activity_id, i + 1);
        ck_assert_str_eq(w->payload, work[i].payload);
        duro_work_item_free(w);
    }
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
}

static void abandon_work_with_delay_hides_item(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;

    ct_enqueue_work(ctx, "a", 1, "w1");
    ct_enqueue_work(ctx, "a", 2, "w2");
    duro_work_item *w1 = must_fetch_work(ctx);
    ck_assert_uint_eq(w1->activity_id, 1);
    int64_t id1 = w1->id;
    ct_abandon_work(ctx, w1, 500, 0);

    duro_work_item *w2 = must_fetch_work(ctx);
    ck_assert_uint_eq(w2->activity_id, 2);
    ack_work(ctx, w2, NULL);
    ctx->now = t0 + 499;
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ctx->now = t0 + 500;
    duro_work_item *again = must_fetch_work(ctx);
    ck_assert_int_eq(again->id, id1);
    duro_work_item_free(again);
}

static void abandon_orch_with_delay_hides_instance(duro_ct_ctx *ctx)
{
    int64_t t0 = ctx->now;

    ct_enqueue_start(ctx, "a");
    ct_enqueue_start(ctx, "b");
    duro_orch_item *first = ct_fetch(ctx);
    char *delayed = strdup(first->instance);
    ck_assert_ptr_nonnull(delayed);
    ct_abandon(ctx, first, 500, 0);

    duro_orch_item *other = ct_fetch(ctx);
    ck_assert_str_ne(other->instance, delayed);
    ack_empty(ctx, other);
    ctx->now = t0 + 499;
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now = t0 + 500;
    duro_orch_item *again = ct_fetch(ctx);
    ck_assert_str_eq(again->instance, delayed);
    ck_assert_uint_eq(again->n_msgs, 1);
    ck_assert_int_eq(again->msgs[0].kind, DURO_MSG_START);
    duro_orch_item_free(again);
    free(delayed);
}

/* ---- Orphans --------------------------------------------------------------------------- */

static void orphans_at_head_do_not_block_queue(duro_ct_ctx *ctx)
{
    char id[32];

    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "ghost-%02d", i);
        ct_enqueue(ctx, id, i % 2 ? DURO_MSG_CANCEL : DURO_MSG_EVENT, "orphan", 0);
    }
    ct_enqueue_start(ctx, "a");
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "a");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_START);
    ack_empty(ctx, item);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void orphans_wait_for_their_start(duro_ct_ctx *ctx)
{
    static const int kinds[] = {DURO_MSG_CONTINUE_AS_NEW, DURO_MSG_ACTIVITY_DONE,
                                DURO_MSG_TIMER_FIRED, DURO_MSG_EVENT, DURO_MSG_CHILD_DONE,
                                DURO_MSG_CANCEL};
    static const char *const payloads[] = {"can", "done", "timer", "event", "child", "cancel"};

    for (size_t i = 0; i < 6; i++)
        ct_enqueue(ctx, "ghost", kinds[i], payloads[i], 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now += 3600 * 1000;
    ck_assert_ptr_null(ct_try_fetch(ctx));

    ct_enqueue_start(ctx, "ghost");
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "ghost");
    ck_assert_uint_eq(item->n_msgs, 7);
    for (size_t i = 0; i < 6; i++) {
        ck_assert_int_eq(item->msgs[i].kind, kinds[i]);
        ck_assert_str_eq(item->msgs[i].payload, payloads[i]);
    }
    ck_assert_int_eq(item->msgs[6].kind, DURO_MSG_START);
    ck_assert_str_eq(item->msgs[6].payload, "start:ghost");
    duro_orch_item_free(item);
}

static void orphans_delivered_with_start_in_fifo_order(duro_ct_ctx *ctx)
{
    ct_enqueue(ctx, "b", DURO_MSG_EVENT, "early-event", 0);
    ct_enqueue(ctx, "b", DURO_MSG_CANCEL, "early-cancel", 0);
    ct_enqueue_start(ctx, "b");
    ct_enqueue(ctx, "b", DURO_MSG_EVENT, "after-start", 0);

    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "b");
    ck_assert_uint_eq(item->n_msgs, 4);
    ck_assert_str_eq(item->msgs[0].payload, "early-event");
    ck_assert_str_eq(item->msgs[1].payload, "early-cancel");
    ck_assert_str_eq(item->msgs[2].payload, "start:b");
    ck_assert_str_eq(item->msgs[3].payload, "after-start");
    for (size_t i = 1; i < 4; i++)
        ck_assert_int_gt(item->msgs[i].id, item->msgs[i - 1].id);
    duro_orch_item_free(item);
}

static void message_fetched_once_instance_row_exists(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "c");
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "c");
    ck_assert_uint_eq(item->n_msgs, 1);
    ct_enqueue(ctx, "c", DURO_MSG_EVENT, "during-first-turn", 0);

    const duro_event_in events[] = {{.event_id = 1, .kind = 1, .payload = "started"}};
    duro_orch_commit commit = ct_commit(1, events, 1);
    commit.orch_name = "TestOrch";
    commit.orch_version = "1.0.0";
    ct_ack(ctx, item, &commit);

    duro_orch_item *next = ct_fetch(ctx);
    ck_assert_str_eq(next->instance, "c");
    ck_assert_uint_eq(next->n_msgs, 1);
    ck_assert_int_eq(next->msgs[0].kind, DURO_MSG_EVENT);
    ck_assert_str_eq(next->msgs[0].payload, "during-first-turn");
    ck_assert_str_eq(next->orch_name, "TestOrch");
    duro_orch_item_free(next);
}

/* ---- Payloads and fields --------------------------------------------------------------- */

static void large_message_payload_roundtrip(duro_ct_ctx *ctx)
{
    char *big = make_text((size_t)1 << 20);

    enqueue_msg(ctx, "a", DURO_MSG_START, 1, ctx->now, big);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_uint_eq(item->n_msgs, 1);
    assert_same_text(item->msgs[0].payload, big);
    duro_orch_item_free(item);
    free(big);
}

static void large_work_and_history_payload_roundtrip(duro_ct_ctx *ctx)
{
    char *big = make_text((size_t)1 << 20);
    const duro_event_in events[] = {{.event_id = 2, .kind = 3, .payload = big}};

    ct_create_instance(ctx, "a");
    ct_enqueue_work(ctx, "a", 1, big);
    duro_work_item *w = must_fetch_work(ctx);
    assert_same_text(w->payload, big);
    duro_msg done = {
        .instance = "a", .kind = DURO_MSG_ACTIVITY_DONE, .execution_id = 1,
        .visible_at_ms = ctx->now, .payload = big,
    };
    ack_work(ctx, w, &done);

    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_uint_eq(item->n_msgs, 1);
    assert_same_text(item->msgs[0].payload, big);
    duro_orch_commit commit = ct_commit(1, events, 1);
    ct_ack(ctx, item, &commit);

    duro_event *hist = NULL;
    size_t n = 0;
    duro_error err = {0};
    ck_assert_int_eq(ctx->p->ops->read_history(ctx->p, "a", 1, &hist, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(hist[1].event_id, 2);
    assert_same_text(hist[1].payload, big);
    duro_events_free(hist, n);
    free(big);
}

static void text_payload_roundtrip_exact(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{.event_id = 2, .kind = 3, .payload = qs_text}};

    enqueue_msg(ctx, "a", DURO_MSG_START, 1, ctx->now, qs_text);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->msgs[0].payload, qs_text);
    const duro_event_in first[] = {{.event_id = 1, .kind = 1, .payload = qs_text}};
    duro_orch_commit commit = ct_commit(1, first, 1);
    commit.orch_name = "TestOrch";
    ct_ack(ctx, item, &commit);

    ct_enqueue_work(ctx, "a", 1, qs_text);
    duro_work_item *w = must_fetch_work(ctx);
    ck_assert_str_eq(w->payload, qs_text);
    duro_msg done = {
        .instance = "a", .kind = DURO_MSG_ACTIVITY_DONE, .execution_id = 1,
        .visible_at_ms = ctx->now, .payload = qs_text,
    };
    ack_work(ctx, w, &done);

    item = ct_fetch(ctx);
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_str_eq(item->msgs[0].payload, qs_text);
    ck_assert_uint_eq(item->n_history, 1);
    ck_assert_str_eq(item->history[0].payload, qs_text);
    commit = ct_commit(1, events, 1);
    ct_ack(ctx, item, &commit);

    duro_event *hist = NULL;
    size_t n = 0;
    duro_error err = {0};
    ck_assert_int_eq(ctx->p->ops->read_history(ctx->p, "a", 0, &hist, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(hist[0].payload, qs_text);
    ck_assert_str_eq(hist[1].payload, qs_text);
    duro_events_free(hist, n);
}

static void empty_payload_roundtrip(duro_ct_ctx *ctx)
{
    enqueue_msg(ctx, "a", DURO_MSG_START, 1, ctx->now, "");
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_ptr_nonnull(item->msgs[0].payload);
    ck_assert_str_eq(item->msgs[0].payload, "");
    duro_orch_item_free(item);

    ct_enqueue_work(ctx, "a", 1, "");
    duro_work_item *w = must_fetch_work(ctx);
    ck_assert_ptr_nonnull(w->payload);
    ck_assert_str_eq(w->payload, "");
    duro_work_item_free(w);
}

static void message_kind_and_execution_id_roundtrip(duro_ct_ctx *ctx)
{
    static const int kinds[] = {DURO_MSG_START, DURO_MSG_CONTINUE_AS_NEW,
                                DURO_MSG_ACTIVITY_DONE, DURO_MSG_TIMER_FIRED, DURO_MSG_EVENT,
                                DURO_MSG_CHILD_DONE, DURO_MSG_CANCEL};
    static const uint64_t execs[] = {1, 2, 3, 7, 42, UINT64_C(1) << 40, 5};

    for (size_t i = 0; i < 7; i++)
        enqueue_msg(ctx, "a", kinds[i], execs[i], ctx->now, "m");
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_uint_eq(item->n_msgs, 7);
    for (size_t i = 0; i < 7; i++) {
        ck_assert_int_eq(item->msgs[i].kind, kinds[i]);
        ck_assert_uint_eq(item->msgs[i].execution_id, execs[i]);
    }
    duro_orch_item_free(item);
}

static void committed_message_fields_roundtrip(duro_ct_ctx *ctx)
{
    const duro_msg msgs[] = {
        {.instance = "child", .kind = DURO_MSG_START, .execution_id = 1,
         .visible_at_ms = ctx->now, .payload = "start:child"},
        {.instance = "child", .kind = DURO_MSG_EVENT, .execution_id = 9,
         .visible_at_ms = ctx->now, .payload = "child-event"},
        {.instance = "a", .kind = DURO_MSG_TIMER_FIRED, .execution_id = 1,
         .visible_at_ms = ctx->now + 100, .payload = "a-timer"},
    };
    const duro_event_in events[] = {{.event_id = 2, .kind = 4, .payload = "child-scheduled"}};

    ct_create_instance(ctx, "a");
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "go", 0);
    duro_orch_item *item = ct_fetch(ctx);
    duro_orch_commit commit = ct_commit(1, events, 1);
    commit.msgs = msgs;
    commit.n_msgs = 3;
    ct_ack(ctx, item, &commit);

    duro_orch_item *child = ct_fetch(ctx);
    ck_assert_str_eq(child->instance, "child");
    ck_assert_uint_eq(child->n_msgs, 2);
    ck_assert_int_eq(child->msgs[0].kind, DURO_MSG_START);
    ck_assert_uint_eq(child->msgs[0].execution_id, 1);
    ck_assert_str_eq(child->msgs[0].payload, "start:child");
    ck_assert_int_eq(child->msgs[1].kind, DURO_MSG_EVENT);
    ck_assert_uint_eq(child->msgs[1].execution_id, 9);
    ck_assert_str_eq(child->msgs[1].payload, "child-event");
    duro_orch_item_free(child);

    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now += 100;
    duro_orch_item *timer = ct_fetch(ctx);
    ck_assert_str_eq(timer->instance, "a");
    ck_assert_uint_eq(timer->n_msgs, 1);
    ck_assert_int_eq(timer->msgs[0].kind, DURO_MSG_TIMER_FIRED);
    ck_assert_str_eq(timer->msgs[0].payload, "a-timer");
    duro_orch_item_free(timer);
}

static void work_item_fields_roundtrip(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_work_in in = {
        .instance = "inst-\xc3\xa9", .execution_id = 3, .activity_id = UINT64_C(1) << 33,
        .payload = "payload-3",
    };

    ck_assert_int_eq(ctx->p->ops->enqueue_work(ctx->p, &in, &err), 0);
    duro_work_item *w = must_fetch_work(ctx);
    ck_assert_str_eq(w->instance, "inst-\xc3\xa9");
    ck_assert_uint_eq(w->execution_id, 3);
    ck_assert_uint_eq(w->activity_id, UINT64_C(1) << 33);
    ck_assert_str_eq(w->payload, "payload-3");
    ck_assert_uint_eq(w->attempt, 1);
    ck_assert_uint_eq(strlen(w->lock_token), 32);
    duro_work_item_free(w);
}

/* ---- Contention ------------------------------------------------------------------------ */

typedef struct qs_drain_arg {
    duro_ct_ctx *ctx;
    ct_barrier *start;
    uint64_t got[QS_ITEMS_PER_ROUND];   /* activity ids this thread acked */
    size_t n_got;
    int bad_rc;                         /* first non-retryable unexpected code, 0 if none */
    int overflow;                       /* more items than a round holds */
} qs_drain_arg;

/* Worker thread: fetch and ack until the queue reports empty. Retryable errors retry. */
static void *qs_drain(void *p)
{
    qs_drain_arg *a = p;
    duro_provider *prov = a->ctx->p;
    unsigned retries = 0;

    ct_barrier_wait(a->start);
    for (;;) {
        duro_error err = {0};
        duro_work_item *w = NULL;
        int rc = prov->ops->fetch_work(prov, a->ctx->now, DURO_CT_LOCK_MS, 0, &w, &err);
        if (rc == DURO_ENOTFOUND)
            break;
        if (rc != 0) {
            if (err.retryable && ++retries < QS_MAX_RETRIES)
                continue;
            a->bad_rc = rc;
            break;
        }
        for (;;) {
            rc = prov->ops->ack_work(prov, a->ctx->now, w->lock_token, NULL, &err);
            if (rc == 0 || !err.retryable || ++retries >= QS_MAX_RETRIES)
                break;
        }
        if (rc != 0)
            a->bad_rc = rc;
        else if (a->n_got < QS_ITEMS_PER_ROUND)
            a->got[a->n_got++] = w->activity_id;
        else
            a->overflow = 1;
        duro_work_item_free(w);
        if (rc != 0)
            break;
    }
    return NULL;
}

static void concurrent_workers_get_each_item_once(duro_ct_ctx *ctx)
{
    ct_barrier *start = ct_barrier_new(QS_THREADS);
    ck_assert_ptr_nonnull(start);

    for (unsigned round = 0; round < QS_DRAIN_ROUNDS; round++) {
        qs_drain_arg args[QS_THREADS];
        pthread_t th[QS_THREADS];
        unsigned seen[QS_ITEMS_PER_ROUND] = {0};
        uint64_t base = (uint64_t)round * QS_ITEMS_PER_ROUND + 1;

        for (uint64_t i = 0; i < QS_ITEMS_PER_ROUND; i++)
            ct_enqueue_work(ctx, "a", base + i, "w");
        for (int t = 0; t < QS_THREADS; t++) {
            memset(&args[t], 0, sizeof args[t]);
            args[t].ctx = ctx;
            args[t].start = start;
            ck_assert_int_eq(pthread_create(&th[t], NULL, qs_drain, &args[t]), 0);
        }
        for (int t = 0; t < QS_THREADS; t++)
            ck_assert_int_eq(pthread_join(th[t], NULL), 0);

        size_t total = 0;
        for (int t = 0; t < QS_THREADS; t++) {
            ck_assert_msg(args[t].bad_rc == 0, "round %u: thread %d got %s", round, t,
                          duro_strerror(args[t].bad_rc));
            ck_assert_int_eq(args[t].overflow, 0);
            for (size_t i = 0; i < args[t].n_got; i++) {
                uint64_t id = args[t].got[i];
                ck_assert_msg(id >= base && id < base + QS_ITEMS_PER_ROUND,
                              "round %u: foreign activity id %llu", round,
                              (unsigned long long)id);
                seen[id - base]++;
            }
            total += args[t].n_got;
        }
        ck_assert_uint_eq(total, QS_ITEMS_PER_ROUND);
        for (size_t i = 0; i < QS_ITEMS_PER_ROUND; i++)
            ck_assert_msg(seen[i] == 1, "round %u: activity %llu delivered %u times", round,
                          (unsigned long long)(base + i), seen[i]);
        ck_assert_ptr_null(ct_try_fetch_work(ctx));
    }
    ct_barrier_free(start);
}

typedef struct qs_ack_arg {
    duro_ct_ctx *ctx;
    ct_barrier *start;
    const char *token;
    char payload[32];
    int rc;
    int retryable;
} qs_ack_arg;

/* Racer: ack the shared token with this thread's completion. Retryable errors retry. */
static void *qs_race_ack(void *p)
{
    qs_ack_arg *a = p;
    duro_provider *prov = a->ctx->p;
    duro_msg done = {
        .instance = "a", .kind = DURO_MSG_ACTIVITY_DONE, .execution_id = 1,
        .visible_at_ms = a->ctx->now, .payload = a->payload,
    };
    duro_error err = {0};

    ct_barrier_wait(a->start);
    for (unsigned retries = 0;; retries++) {
        memset(&err, 0, sizeof err);
        a->rc = prov->ops->ack_work(prov, a->ctx->now, a->token, &done, &err);
        if (a->rc == 0 || !err.retryable || retries >= QS_MAX_RETRIES)
            break;
    }
    a->retryable = err.retryable;
    return NULL;
}

static void racing_ack_work_single_completion(duro_ct_ctx *ctx)
{
    char winners[QS_RACE_ROUNDS][32];
    ct_barrier *start = ct_barrier_new(2);
    ck_assert_ptr_nonnull(start);
    ct_create_instance(ctx, "a");

    for (unsigned round = 0; round < QS_RACE_ROUNDS; round++) {
        qs_ack_arg args[2];
        pthread_t th[2];

        ct_enqueue_work(ctx, "a", round + 1, "w");
        duro_work_item *w = must_fetch_work(ctx);
        for (int t = 0; t < 2; t++) {
            memset(&args[t], 0, sizeof args[t]);
            args[t].ctx = ctx;
            args[t].start = start;
            args[t].token = w->lock_token;
            snprintf(args[t].payload, sizeof args[t].payload, "done-%u-%d", round, t);
            ck_assert_int_eq(pthread_create(&th[t], NULL, qs_race_ack, &args[t]), 0);
        }
        for (int t = 0; t < 2; t++)
            ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        duro_work_item_free(w);

        int winner = args[0].rc == 0 ? 0 : 1;
        int loser = 1 - winner;
        ck_assert_msg(args[winner].rc == 0, "round %u: no ack succeeded (%s, %s)", round,
                      duro_strerror(args[0].rc), duro_strerror(args[1].rc));
        ck_assert_msg(args[loser].rc == DURO_ELOCK, "round %u: second ack gave %s", round,
                      duro_strerror(args[loser].rc));
        ck_assert_int_eq(args[loser].retryable, 0);
        memcpy(winners[round], args[winner].payload, sizeof winners[round]);
        ck_assert_ptr_null(ct_try_fetch_work(ctx));
    }
    ct_barrier_free(start);

    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "a");
    ck_assert_uint_eq(item->n_msgs, QS_RACE_ROUNDS);
    for (unsigned round = 0; round < QS_RACE_ROUNDS; round++)
        ck_assert_str_eq(item->msgs[round].payload, winners[round]);
    duro_orch_item_free(item);
}

/* ---- Registry -------------------------------------------------------------------------- */

DURO_CASES = {
    DURO_CASE(orch_batch_fifo_by_id, 0, 0,
              "A fetched batch holds all visible messages of the instance in enqueue (id) "
              "order, with kinds and payloads intact."),
    DURO_CASE(worker_fifo_by_id, 0, 0,
              "Work items are fetched oldest first, one per fetch, in enqueue (id) order."),
    DURO_CASE(orch_peek_lock_hides_locked_instance, 0, 0,
              "A locked instance is not fetchable, not even with a newly arrived message, "
              "until its ack; the message that arrived during the lock comes in the next "
              "batch."),
    DURO_CASE(orch_abandon_returns_batch, 0, 0,
              "Abandon without delay makes the same messages fetchable at once under a new "
              "token."),
    DURO_CASE(worker_peek_lock_hides_fetched_item, 0, 0,
              "A fetched work item stays invisible to other fetches for its whole lock and is "
              "gone after the ack."),
    DURO_CASE(worker_abandon_returns_item, 0, 0,
              "Abandon without delay makes the same work item fetchable at once under a new "
              "token."),
    DURO_CASE(worker_lock_expiry_returns_item, 0, 0,
              "A work item whose lock expired (virtual clock) is fetchable again under a new "
              "token, and not one millisecond before the lock ends."),
    DURO_CASE(ack_work_moves_completion_atomically, 0, 0,
              "ack_work with a completion deletes the work item and enqueues the completion "
              "with its kind, execution id and payload."),
    DURO_CASE(failed_ack_work_enqueues_nothing, 0, 0,
              "ack_work on an expired lock fails with DURO_ELOCK (permanent), enqueues no "
              "completion and keeps the work item."),
    DURO_CASE(ack_work_without_completion_deletes_only, 0, 0,
              "ack_work with a NULL completion deletes just that work item and enqueues "
              "nothing."),
    DURO_CASE(orch_delayed_message_visible_exactly_at_visible_at, 0, 0,
              "An orchestrator message is invisible at visible_at - 1 ms and visible at "
              "visible_at."),
    DURO_CASE(delayed_start_invisible_until_visible_at, 0, 0,
              "A delayed START does not make its instance fetchable before its visible_at."),
    DURO_CASE(batch_excludes_not_yet_visible_messages, 0, 0,
              "A batch excludes the instance's not-yet-visible messages; they are not consumed "
              "by the ack and arrive in a later batch once visible."),
    DURO_CASE(committed_work_visible_immediately, 0, 0,
              "Work items enqueued by ack_orch are fetchable at the same instant, in order."),
    DURO_CASE(abandon_work_with_delay_hides_item, 0, 0,
              "abandon_work with a delay hides the item until now + delay exactly while other "
              "items stay fetchable."),
    DURO_CASE(abandon_orch_with_delay_hides_instance, 0, 0,
              "abandon_orch with a delay hides the instance until now + delay exactly while "
              "other instances stay fetchable."),
    DURO_CASE(orphans_at_head_do_not_block_queue, 0, 0,
              "Messages for never-started instances at the head of the queue do not stop a "
              "START of another instance from being fetched, and are not returned themselves."),
    DURO_CASE(orphans_wait_for_their_start, 0, 0,
              "Orphan messages of every non-START kind are never fetched without a START and "
              "are kept, not dropped: they come with the START once it is enqueued."),
    DURO_CASE(orphans_delivered_with_start_in_fifo_order, 0, 0,
              "Messages enqueued before an instance's START are delivered with it in one "
              "batch, in enqueue order."),
    DURO_CASE(message_fetched_once_instance_row_exists, 0, 0,
              "A non-START message for an instance whose first turn created its row is "
              "fetchable without another START."),
    DURO_CASE(large_message_payload_roundtrip, 0, 0,
              "A 1 MiB UTF-8 message payload comes back from fetch byte for byte."),
    DURO_CASE(large_work_and_history_payload_roundtrip, 0, 0,
              "A 1 MiB payload round-trips exactly through a work item, a completion and a "
              "history event."),
    DURO_CASE(text_payload_roundtrip_exact, 0, 0,
              "Payloads with multi-byte UTF-8, quotes, backslashes, CR/LF, tabs and SQL-like "
              "text come back exactly from messages, work items, completions and history."),
    DURO_CASE(empty_payload_roundtrip, 0, 0,
              "An empty payload comes back as an empty string, not NULL."),
    DURO_CASE(message_kind_and_execution_id_roundtrip, 0, 0,
              "Every message kind and its execution id come back exactly as enqueued."),
    DURO_CASE(committed_message_fields_roundtrip, 0, 0,
              "Messages enqueued by ack_orch keep their instance, kind, execution id, payload "
              "and visible_at."),
    DURO_CASE(work_item_fields_roundtrip, 0, 0,
              "A work item's instance, execution id, 64-bit activity id and payload come back "
              "exactly, with attempt 1 and a 32-character token."),
    DURO_CASE(concurrent_workers_get_each_item_once, 0, 0,
              "Concurrent worker fetches over 100 rounds deliver every work item to exactly "
              "one thread, none lost and none twice."),
    DURO_CASE(racing_ack_work_single_completion, 0, 0,
              "Of two threads acking the same work token at once (200 rounds), exactly one "
              "succeeds, the other gets DURO_ELOCK (permanent), and only the winner's "
              "completion is enqueued."),
    DURO_CASES_END,
};
