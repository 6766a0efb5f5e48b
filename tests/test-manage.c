/*
 * test-manage.c — end-to-end tests of the client's management calls (duro.h, "Client:
 * management") on the in-memory and the file SQLite provider, and, built as
 * test-manage-postgres (DURO_E2E_POSTGRES), on the PostgreSQL provider: paged listing over
 * 2000 instances (each seen once, in order, also while instances come and go), every filter,
 * details of completed, failed, running and child instances, trees, deletion with and
 * without force, bulk deletion, pruning, queue depths, store counts, the missing-capability
 * errors, bad input, and every allocation failure of every call.
 *
 * Instances whose times matter are written straight through the provider's queue calls at
 * chosen virtual times (no runtime runs then), so every listing, count and time is asserted
 * exactly; the runtime writes the instances whose details come from real orchestrations,
 * and the tests wait for them with the e2e helpers (duro_client_wait, custom-status waits),
 * never with sleeps.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-fault.h"
#include "duro-provider.h"
#include "e2e-common.h"

/* Virtual time of the instances written through the provider. */
#define T0 INT64_C(1700000000000)
#define LOCK_MS INT64_C(30000)

/* ---- Instances written through the provider ------------------------------------------------ */

/* Output a failed execution stores (what the runtime writes). */
#define FAILED_APP "{\"category\":3,\"text\":\"boom\"}"

/* Enqueue a message of `kind` for `id` visible at `now`, fetch it at `now` (asserting the
 * fetched instance is `id`), and ack the fetch with `cm`, whose events get ids after the
 * stored ones. */
static void turn(e2e_env *e, const char *id, int kind, int64_t now, duro_orch_commit *cm)
{
    duro_msg m = {id, kind, 0, now, "{}"};
    duro_orch_item *it = NULL;
    duro_event_in ev;
    duro_error err = {0};
    int rc = e->p->ops->enqueue_orch(e->p, &m, &err);
    ck_assert_msg(rc == 0, "enqueue %s: %s", id, err.message);
    rc = e->p->ops->fetch_orch(e->p, now, LOCK_MS, 0, &it, &err);
    ck_assert_msg(rc == 0, "fetch %s: %s", id, err.message);
    ck_assert_str_eq(it->instance, id);
    ev.event_id = it->n_history + 1;
    ev.kind = DURO_EVENT_VALUE;
    ev.payload = "{}";
    cm->events = &ev;
    cm->n_events = 1;
    if (cm->execution_id == 0)
        cm->execution_id = it->execution_id;
    rc = e->p->ops->ack_orch(e->p, now, it->lock_token, cm, &err);
    ck_assert_msg(rc == 0, "ack %s: %s", id, err.message);
    duro_orch_item_free(it);
}

/* Make instance `id` of orchestration `name` (child of `parent`, or a root when NULL),
 * created at `created`; with `state` non-zero it ends in that state with `output` at
 * `ended` (in the creating turn when ended == created). */
static void make(e2e_env *e, const char *id, const char *name, const char *parent,
                 int64_t created, duro_state state, const char *output, int64_t ended)
{
    duro_orch_commit cm;
    memset(&cm, 0, sizeof cm);
    cm.orch_name = name;
    cm.orch_version = "1.0.0";
    cm.parent_instance = parent;
    if (state && ended == created) {
        cm.state = state;
        cm.output = output;
    }
    turn(e, id, DURO_MSG_START, created, &cm);
    if (state && ended != created) {
        memset(&cm, 0, sizeof cm);
        cm.state = state;
        cm.output = output;
        turn(e, id, DURO_MSG_EVENT, ended, &cm);
    }
}

/* Make `id` with executions 1..n, execution k started at `start + (k - 1) * step` and
 * continued as new at the start of the next; the last one Completed at `start + n * step`
 * (2 events in each execution). */
static void make_chain(e2e_env *e, const char *id, uint64_t n, int64_t start, int64_t step)
{
    for (uint64_t k = 1; k <= n; k++) {
        int64_t at = start + (int64_t)(k - 1) * step;
        duro_msg next = {id, DURO_MSG_CONTINUE_AS_NEW, k + 1, at + step, "{}"};
        duro_orch_commit cm;
        memset(&cm, 0, sizeof cm);
        cm.execution_id = k;
        cm.orch_name = "Chain";
        cm.orch_version = "1.0.0";
        if (k == 1)
            turn(e, id, DURO_MSG_START, at, &cm);
        else {
            /* the CONTINUE_AS_NEW message of the execution before is due at `at` */
            duro_orch_item *it = NULL;
            duro_event_in ev = {1, DURO_EVENT_VALUE, "{}"};
            duro_error err = {0};
            ck_assert_int_eq(e->p->ops->fetch_orch(e->p, at, LOCK_MS, 0, &it, &err), 0);
            ck_assert_str_eq(it->instance, id);
            cm.events = &ev;
            cm.n_events = 1;
            ck_assert_int_eq(e->p->ops->ack_orch(e->p, at, it->lock_token, &cm, &err), 0);
            duro_orch_item_free(it);
        }
        memset(&cm, 0, sizeof cm);
        cm.execution_id = k;
        cm.state = k < n ? DURO_STATE_CONTINUED_AS_NEW : DURO_STATE_COMPLETED;
        cm.output = k < n ? "next" : "last";
        if (k < n) {
            cm.msgs = &next;
            cm.n_msgs = 1;
        }
        turn(e, id, DURO_MSG_EVENT, at + step / 2, &cm);
    }
}

/* ---- Listing helpers ------------------------------------------------------------------------ */

/* The ids of `n` summaries joined with commas into buf. */
static const char *join_ids(const duro_instance_summary *v, size_t n, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "", v[i].instance);
    return buf;
}

/* Every id a walk over all pages of `opt` (its limit, no cursor) returns, comma-joined into
 * buf; *pages counts the pages. */
static const char *walk(e2e_env *e, const duro_list_options *opt, char *buf, size_t size,
                        size_t *pages)
{
    duro_list_options o = *opt;
    char *cursor = NULL;
    size_t len = 0;
    buf[0] = '\0';
    *pages = 0;
    do {
        duro_instance_page pg;
        duro_error err = {0};
        o.cursor = cursor;
        int rc = duro_client_list(e->c, &o, &pg, &err);
        ck_assert_msg(rc == 0, "duro_client_list: %s (%s)", duro_strerror(rc), err.message);
        free(cursor);
        cursor = pg.next_cursor;
        pg.next_cursor = NULL;
        ck_assert_msg(pg.n > 0 || *pages == 0, "page %zu is empty", *pages + 1);
        for (size_t i = 0; i < pg.n; i++)
            len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
                                    len ? "," : "", pg.items[i].instance);
        ck_assert_msg(len < size, "walk: buffer too small");
        (*pages)++;
        duro_instance_page_clear(&pg);
    } while (cursor);
    return buf;
}

/* The ids every filter of `opt` selects (one walk with pages of 2). */
static const char *ids_of(e2e_env *e, duro_list_options *opt, char *buf, size_t size)
{
    size_t pages;
    opt->limit = 2;
    return walk(e, opt, buf, size, &pages);
}

/* Assert `rc` is `code` and the message contains `needle`. */
#define ASSERT_ERR(rc, code, err, needle)                                                      \
    do {                                                                                       \
        int rc_ = (rc);                                                                        \
        ck_assert_msg(rc_ == (code), "got %s (%s), expected %s", duro_err_name(rc_),          \
                      (err).message, duro_err_name(code));                                     \
        ck_assert_msg(strstr((err).message, (needle)) != NULL,                                 \
                      "message \"%s\" lacks \"%s\"", (err).message, (needle));                 \
    } while (0)

/* ---- Paging -------------------------------------------------------------------------------- */

#define N_PAGED 2000

/* Ids made in a shuffled order, 7 per virtual millisecond, so that ties of created_at are
 * ordered by id and the order is neither the insertion nor the id order. */
static void make_paged(e2e_env *e, char ids[][16])
{
    for (int i = 0; i < N_PAGED; i++) {
        snprintf(ids[i], 16, "p-%04d", (i * 7919) % N_PAGED);
        make(e, ids[i], "Paged", NULL, T0 + i / 7, 0, NULL, 0);
    }
}

/* qsort order of fixed-size id buffers. */
static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

START_TEST(test_list_paging_2000)
{
    static char ids[N_PAGED][16];
    static char expect[N_PAGED * 8], got[N_PAGED * 8];
    e2e_env e;
    e2e_open(&e, _i);
    make_paged(&e, ids);

    /* expected order: created descending (index descending by groups of 7), id descending
     * within a millisecond */
    size_t len = 0;
    for (int g = (N_PAGED - 1) / 7; g >= 0; g--) {
        char group[7][16];
        int n = 0;
        for (int i = g * 7; i < N_PAGED && i < g * 7 + 7; i++)
            snprintf(group[n++], 16, "%s", ids[i]);
        qsort(group, (size_t)n, sizeof group[0], cmp_id);
        for (int k = n - 1; k >= 0; k--)
            len += (size_t)snprintf(expect + len, sizeof expect - len, "%s%s", len ? "," : "",
                                    group[k]);
    }

    duro_list_options o;
    duro_list_options_init(&o);
    size_t pages;
    ck_assert_uint_eq(o.limit, DURO_LIST_DEFAULT_LIMIT);
    ck_assert_str_eq(walk(&e, &o, got, sizeof got, &pages), expect);
    ck_assert_uint_eq(pages, 20); /* 2000 / 100: the 20th page is full and has no cursor */
    o.limit = 333;
    ck_assert_str_eq(walk(&e, &o, got, sizeof got, &pages), expect);
    ck_assert_uint_eq(pages, 7); /* 6 x 333 + 2 */
    o.limit = DURO_LIST_MAX_LIMIT;
    ck_assert_str_eq(walk(&e, &o, got, sizeof got, &pages), expect);
    ck_assert_uint_eq(pages, 2);
    o.limit = 1;
    ck_assert_str_eq(walk(&e, &o, got, sizeof got, &pages), expect);
    ck_assert_uint_eq(pages, N_PAGED);

    /* every id once: the expected list has 2000 distinct entries */
    size_t commas = 0;
    for (const char *s = got; *s; s++)
        commas += *s == ',';
    ck_assert_uint_eq(commas, N_PAGED - 1);
    e2e_close(&e);
}
END_TEST

START_TEST(test_list_walk_while_changing)
{
    e2e_env e;
    char buf[4096], *cursor;
    duro_instance_page pg;
    duro_delete_result res;
    duro_error err = {0};
    e2e_open(&e, _i);
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "w%d", i);
        make(&e, id, "W", NULL, T0 + i, DURO_STATE_COMPLETED, "ok", T0 + i);
    }
    duro_list_options o;
    duro_list_options_init(&o);
    o.limit = 4;
    ck_assert_int_eq(duro_client_list(e.c, &o, &pg, &err), 0);
    ck_assert_str_eq(join_ids(pg.items, pg.n, buf, sizeof buf), "w9,w8,w7,w6");
    cursor = pg.next_cursor;
    pg.next_cursor = NULL;
    duro_instance_page_clear(&pg);

    /* meanwhile: a newer instance, the cursor's own row and a later one are deleted */
    make(&e, "w10", "W", NULL, T0 + 10, DURO_STATE_COMPLETED, "ok", T0 + 10);
    ck_assert_int_eq(duro_client_delete(e.c, "w6", 0, &res, &err), 0);
    ck_assert_int_eq(duro_client_delete(e.c, "w3", 0, &res, &err), 0);

    o.cursor = cursor;
    ck_assert_int_eq(duro_client_list(e.c, &o, &pg, &err), 0);
    ck_assert_str_eq(join_ids(pg.items, pg.n, buf, sizeof buf), "w5,w4,w2,w1");
    ck_assert_ptr_nonnull(pg.next_cursor);
    free(cursor);
    cursor = pg.next_cursor;
    pg.next_cursor = NULL;
    duro_instance_page_clear(&pg);
    o.cursor = cursor;
    ck_assert_int_eq(duro_client_list(e.c, &o, &pg, &err), 0);
    ck_assert_str_eq(join_ids(pg.items, pg.n, buf, sizeof buf), "w0");
    ck_assert_ptr_null(pg.next_cursor);
    duro_instance_page_clear(&pg);
    free(cursor);
    e2e_close(&e);
}
END_TEST

/* ---- Filters ------------------------------------------------------------------------------- */

/* Created at T0+10, +20, +30, +40, +50: a1 Running "A"; a2 Completed "A" at T0+25; b1
 * Failed "B" at T0+35; ab "B", whose current execution continued as new at T0+42; c1, child
 * of a1, Completed "C" at T0+55. */
static void make_filter_set(e2e_env *e)
{
    make(e, "a1", "A", NULL, T0 + 10, 0, NULL, 0);
    make(e, "a2", "A", NULL, T0 + 20, DURO_STATE_COMPLETED, "ok", T0 + 25);
    make(e, "b1", "B", NULL, T0 + 30, DURO_STATE_FAILED, FAILED_APP, T0 + 35);
    make(e, "ab", "B", NULL, T0 + 40, DURO_STATE_CONTINUED_AS_NEW, "next", T0 + 42);
    make(e, "c1", "C", "a1", T0 + 50, DURO_STATE_COMPLETED, "ok", T0 + 55);
}

START_TEST(test_list_filters)
{
    e2e_env e;
    char buf[512];
    duro_list_options o;
    e2e_open(&e, _i);
    make_filter_set(&e);

    duro_list_options_init(&o);
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "c1,ab,b1,a2,a1");
    /* state of the current execution */
    duro_list_options_init(&o);
    o.state = DURO_STATE_RUNNING;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "a1");
    o.state = DURO_STATE_COMPLETED;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "c1,a2");
    o.state = DURO_STATE_FAILED;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "b1");
    o.state = DURO_STATE_CONTINUED_AS_NEW;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "ab");
    /* orchestration name */
    duro_list_options_init(&o);
    o.orch_name = "A";
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "a2,a1");
    o.orch_name = "B";
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "ab,b1");
    o.orch_name = "Nope";
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "");
    /* id prefix: bytes, "" means none */
    duro_list_options_init(&o);
    o.id_prefix = "a";
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "ab,a2,a1");
    o.id_prefix = "a1";
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "a1");
    o.id_prefix = "a10";
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "");
    o.id_prefix = "";
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "c1,ab,b1,a2,a1");
    /* created range [from, before) */
    duro_list_options_init(&o);
    o.created_from_ms = T0 + 20;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "c1,ab,b1,a2");
    o.created_before_ms = T0 + 40;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "b1,a2");
    o.created_from_ms = 0;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "b1,a2,a1");
    /* completed range: instances whose current execution ended (a1 runs: never) */
    duro_list_options_init(&o);
    o.completed_from_ms = 1;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "c1,ab,b1,a2");
    o.completed_from_ms = T0 + 35;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "c1,ab,b1");
    o.completed_before_ms = T0 + 55;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "ab,b1");
    o.completed_from_ms = 0;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "ab,b1,a2");
    /* filters combine */
    duro_list_options_init(&o);
    o.state = DURO_STATE_COMPLETED;
    o.id_prefix = "a";
    o.orch_name = "A";
    o.created_before_ms = T0 + 21;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "a2");
    o.created_before_ms = T0 + 20;
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "");

    /* the summary fields */
    duro_instance_page pg;
    duro_error err = {0};
    duro_list_options_init(&o);
    o.id_prefix = "c1";
    ck_assert_int_eq(duro_client_list(e.c, &o, &pg, &err), 0);
    ck_assert_uint_eq(pg.n, 1);
    ck_assert_str_eq(pg.items[0].orch_name, "C");
    ck_assert_str_eq(pg.items[0].orch_version, "1.0.0");
    ck_assert_str_eq(pg.items[0].parent_instance, "a1");
    ck_assert_uint_eq(pg.items[0].execution_id, 1);
    ck_assert_int_eq(pg.items[0].state, DURO_STATE_COMPLETED);
    ck_assert_int_eq(pg.items[0].created_at_ms, T0 + 50);
    ck_assert_int_eq(pg.items[0].completed_at_ms, T0 + 55);
    duro_instance_page_clear(&pg);
    o.id_prefix = "a1";
    ck_assert_int_eq(duro_client_list(e.c, &o, &pg, &err), 0);
    ck_assert_ptr_null(pg.items[0].parent_instance);
    ck_assert_int_eq(pg.items[0].completed_at_ms, 0);
    duro_instance_page_clear(&pg);
    o.id_prefix = "ab";
    ck_assert_int_eq(duro_client_list(e.c, &o, &pg, &err), 0);
    ck_assert_uint_eq(pg.n, 1);
    ck_assert_int_eq(pg.items[0].state, DURO_STATE_CONTINUED_AS_NEW);
    ck_assert_int_eq(pg.items[0].completed_at_ms, T0 + 42);
    duro_instance_page_clear(&pg);
    e2e_close(&e);
}
END_TEST

START_TEST(test_list_bad_input)
{
    e2e_env e;
    duro_list_options o;
    duro_instance_page pg;
    duro_error err = {0};
    char long_name[DURO_MAX_ID_BYTES + 2];
    e2e_open(&e, _i);
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "x%d", i);
        make(&e, id, "X", NULL, T0 + i, 0, NULL, 0);
    }

    ASSERT_ERR(duro_client_list(NULL, NULL, &pg, &err), DURO_EINVAL, err, "client is NULL");
    ASSERT_ERR(duro_client_list(e.c, NULL, NULL, &err), DURO_EINVAL, err, "page is NULL");
    memset(&o, 0, sizeof o);
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err,
               "call duro_list_options_init");
    duro_list_options_init(&o);
    o.limit = 0;
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err,
               "limit 0 is out of range (1..1000)");
    o.limit = DURO_LIST_MAX_LIMIT + 1;
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err,
               "limit 1001 is out of range");
    o.limit = SIZE_MAX;
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err, "out of range");
    duro_list_options_init(&o);
    o.state = (duro_state)9;
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err,
               "state 9 is not a duro_state");
    o.state = (duro_state)-1;
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err, "not a duro_state");
    duro_list_options_init(&o);
    o.orch_name = "";
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err,
               "duro_client_list: orch_name is empty");
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    o.orch_name = long_name;
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_ETOOBIG, err, "257 bytes");
    duro_list_options_init(&o);
    o.id_prefix = "a\tb";
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err,
               "id_prefix contains a control character at byte 1");
    o.id_prefix = "\xc3";
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err,
               "id_prefix is not valid UTF-8");
    duro_list_options_init(&o);
    o.created_from_ms = T0 + 5;
    o.created_before_ms = T0 + 5;
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err,
               "created_from_ms 1700000000005 is not before created_before_ms");
    duro_list_options_init(&o);
    o.completed_from_ms = 9;
    o.completed_before_ms = 3;
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err,
               "completed_from_ms 9 is not before completed_before_ms 3");

    /* cursors: a real one, then damaged copies of it */
    duro_list_options_init(&o);
    o.limit = 1;
    ck_assert_int_eq(duro_client_list(e.c, &o, &pg, &err), 0);
    ck_assert_ptr_nonnull(pg.next_cursor);
    char good[1024], bad[1024];
    snprintf(good, sizeof good, "%s", pg.next_cursor);
    duro_instance_page_clear(&pg);
    const char *const broken[] = {
        "", "c1", "c1.", "x", "c2.0000000000000000.0000000000000000.78", "zzz",
        NULL, /* good with its last hex digit dropped (odd length) */
        NULL, /* good with an uppercase digit */
        NULL, /* good with a NUL byte encoded as its id */
        NULL, /* good with an id of 257 bytes */
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        const char *cur = broken[i];
        if (!cur) {
            snprintf(bad, sizeof bad, "%s", good);
            size_t n = strlen(bad);
            if (i == 6)
                bad[n - 1] = '\0';
            else if (i == 7)
                bad[3] = bad[3] >= 'a' ? (char)(bad[3] - 32) : 'G';
            else if (i == 8)
                snprintf(bad + 37, sizeof bad - 37, "00");
            else {
                for (size_t k = 0; k < 2 * (DURO_MAX_ID_BYTES + 1); k++)
                    bad[37 + k] = k % 2 ? '1' : '6';
                bad[37 + 2 * (DURO_MAX_ID_BYTES + 1)] = '\0';
            }
            cur = bad;
        }
        o.cursor = cur;
        int rc = duro_client_list(e.c, &o, &pg, &err);
        ck_assert_msg(rc == DURO_EINVAL && strstr(err.message, "cursor is malformed"),
                      "cursor %zu \"%s\": %s (%s)", i, cur, duro_err_name(rc), err.message);
        ck_assert_ptr_null(pg.items);
    }
    /* a cursor is only accepted with the filters of the listing that made it */
    o.cursor = good;
    o.orch_name = "X";
    ASSERT_ERR(duro_client_list(e.c, &o, &pg, &err), DURO_EINVAL, err,
               "cursor belongs to a listing with other filters");
    o.orch_name = NULL;
    o.limit = 5; /* another page size is fine */
    ck_assert_int_eq(duro_client_list(e.c, &o, &pg, &err), 0);
    ck_assert_uint_eq(pg.n, 2);
    duro_instance_page_clear(&pg);
    duro_instance_page_clear(NULL);
    duro_list_options_init(NULL);
    e2e_close(&e);
}
END_TEST

/* ---- Details ------------------------------------------------------------------------------- */

static int act_decline(duro_activity *a, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    return duro_activity_fail(a, "card declined");
}

/* Custom status "fine", then completes with "out:<input>". */
static int orch_done(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_set_custom_status(o, "fine");
    return duro_completef(o, "out:%s", input);
}

/* Fails (application) with the failure of activity Decline. */
static int orch_boom(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_task *t = duro_call_activity(o, "Decline", input);
    DURO_AWAIT(o, t);
    return duro_failf(o, "boom: %s", duro_task_error(t));
}

/* Fails with a configuration error: a race over no task. */
static int orch_misuse(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_when_any(o, NULL, 0);
    return DURO_SUSPEND;
}

/* Starts Done as child "<me>/kid" and completes with its output. */
static int orch_parent(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    char kid[DURO_MAX_ID_BYTES + 8];
    snprintf(kid, sizeof kid, "%s/kid", duro_orch_instance(o));
    duro_task *t = duro_call_sub(o, "Done", kid, input);
    DURO_AWAIT(o, t);
    return duro_complete(o, duro_task_value(t));
}

/* Custom status "waiting", then completes "leaf" on event "go". */
static int orch_leaf(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_set_custom_status(o, "waiting");
    duro_task *go = duro_wait_event(o, "go");
    DURO_AWAIT(o, go);
    return duro_complete(o, "leaf");
}

/* Child Leaf "<me>/a", custom status "waiting", then waits for "go" and the child. */
static int orch_branch(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    char id[DURO_MAX_ID_BYTES + 8];
    snprintf(id, sizeof id, "%s/a", duro_orch_instance(o));
    duro_task *kid = duro_call_sub(o, "Leaf", id, "");
    duro_set_custom_status(o, "waiting");
    duro_task *go = duro_wait_event(o, "go");
    DURO_AWAIT(o, go);
    DURO_AWAIT(o, kid);
    return duro_complete(o, "branch");
}

/* Child Branch "<me>/a"; on event "spawn" child Leaf "<me>/b" and custom status
 * "waiting"; then waits for "go" and both children. */
static int orch_root(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    char a[DURO_MAX_ID_BYTES + 8], b[DURO_MAX_ID_BYTES + 8];
    snprintf(a, sizeof a, "%s/a", duro_orch_instance(o));
    snprintf(b, sizeof b, "%s/b", duro_orch_instance(o));
    duro_task *ta = duro_call_sub(o, "Branch", a, "");
    duro_task *spawn = duro_wait_event(o, "spawn");
    DURO_AWAIT(o, spawn);
    duro_task *tb = duro_call_sub(o, "Leaf", b, "");
    duro_set_custom_status(o, "waiting");
    duro_task *go = duro_wait_event(o, "go");
    duro_task *all[3] = {go, ta, tb};
    DURO_AWAIT_ALL(o, all, 3);
    return duro_complete(o, "root");
}

static void register_all(e2e_env *e)
{
    e2e_act(e, "Decline", act_decline, NULL);
    e2e_orch(e, "Done", orch_done, NULL);
    e2e_orch(e, "Boom", orch_boom, NULL);
    e2e_orch(e, "Misuse", orch_misuse, NULL);
    e2e_orch(e, "Parent", orch_parent, NULL);
    e2e_orch(e, "Leaf", orch_leaf, NULL);
    e2e_orch(e, "Branch", orch_branch, NULL);
    e2e_orch(e, "Root", orch_root, NULL);
}

/* duro_client_info of `id`, asserting success. */
static void info(e2e_env *e, const char *id, duro_instance_details *d)
{
    duro_error err = {0};
    int rc = duro_client_info(e->c, id, d, &err);
    ck_assert_msg(rc == 0, "duro_client_info(%s): %s (%s)", id, duro_err_name(rc), err.message);
    ck_assert_str_eq(d->instance, id);
}

/* Number of events in the current execution of `id`. */
static size_t history_len(e2e_env *e, const char *id)
{
    duro_event *ev;
    size_t n;
    e2e_history(e, id, 0, &ev, &n);
    duro_events_free(ev, n);
    return n;
}

/* The times of a finished instance made between `before` and `after`. */
static void assert_times(const duro_instance_details *d, int64_t before, int64_t after)
{
    ck_assert_int_ge(d->created_at_ms, before);
    ck_assert_int_ge(d->started_at_ms, d->created_at_ms);
    ck_assert_int_ge(d->completed_at_ms, d->started_at_ms);
    ck_assert_int_ge(d->updated_at_ms, d->completed_at_ms);
    ck_assert_int_le(d->updated_at_ms, after);
}

START_TEST(test_info_of_each_state)
{
    e2e_env e;
    duro_instance_details d;
    duro_status st;
    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    int64_t before = duro_clock_now_ms();
    e2e_start_instance(&e, "done", "Done", "x");
    e2e_start_instance(&e, "boom", "Boom", "card");
    e2e_start_instance(&e, "misuse", "Misuse", "");
    e2e_start_instance(&e, "parent", "Parent", "k");
    e2e_start_instance(&e, "leaf", "Leaf", "");
    e2e_expect_completed(&e, "done", "out:x");
    e2e_expect_failed(&e, "boom", DURO_CAT_APPLICATION, "boom: card declined");
    e2e_expect_failed(&e, "misuse", DURO_CAT_CONFIGURATION, "n is 0");
    e2e_expect_completed(&e, "parent", "out:k");
    e2e_wait_custom_status(&e, "leaf", "waiting");
    int64_t after = duro_clock_now_ms();

    /* completed */
    info(&e, "done", &d);
    ck_assert_str_eq(d.orch_name, "Done");
    ck_assert_str_eq(d.orch_version, "1.0.0");
    ck_assert_ptr_null(d.parent_instance);
    ck_assert_uint_eq(d.execution_id, 1);
    ck_assert_int_eq(d.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(d.output, "out:x");
    ck_assert_ptr_null(d.error);
    ck_assert_int_eq(d.error_category, DURO_CAT_NONE);
    ck_assert_str_eq(d.custom_status, "fine");
    ck_assert_uint_eq(d.custom_status_version, 1);
    ck_assert_uint_eq(d.event_count, history_len(&e, "done"));
    ck_assert_uint_eq(d.n_children, 0);
    ck_assert_ptr_null(d.children);
    assert_times(&d, before, after);
    duro_instance_details_clear(&d);
    ck_assert_ptr_null(d.instance);

    /* failed: application, with the message */
    info(&e, "boom", &d);
    ck_assert_int_eq(d.state, DURO_STATE_FAILED);
    ck_assert_ptr_null(d.output);
    ck_assert_str_eq(d.error, "boom: card declined");
    ck_assert_int_eq(d.error_category, DURO_CAT_APPLICATION);
    ck_assert_ptr_null(d.custom_status);
    ck_assert_uint_eq(d.event_count, history_len(&e, "boom"));
    assert_times(&d, before, after);
    duro_instance_details_clear(&d);

    /* failed: configuration, the same message the status reports */
    info(&e, "misuse", &d);
    ck_assert_int_eq(d.state, DURO_STATE_FAILED);
    ck_assert_int_eq(d.error_category, DURO_CAT_CONFIGURATION);
    ck_assert_int_eq(duro_client_status(e.c, "misuse", &st, NULL), 0);
    ck_assert_str_eq(d.error, st.error);
    duro_status_clear(&st);
    duro_instance_details_clear(&d);

    /* a parent and its child */
    info(&e, "parent", &d);
    ck_assert_int_eq(d.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(d.output, "out:k");
    ck_assert_uint_eq(d.n_children, 1);
    ck_assert_str_eq(d.children[0], "parent/kid");
    duro_instance_details_clear(&d);
    info(&e, "parent/kid", &d);
    ck_assert_str_eq(d.orch_name, "Done");
    ck_assert_str_eq(d.parent_instance, "parent");
    ck_assert_int_eq(d.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(d.output, "out:k");
    ck_assert_uint_eq(d.n_children, 0);
    duro_instance_details_clear(&d);

    /* running */
    info(&e, "leaf", &d);
    ck_assert_int_eq(d.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(d.output);
    ck_assert_ptr_null(d.error);
    ck_assert_str_eq(d.custom_status, "waiting");
    ck_assert_int_eq(d.completed_at_ms, 0);
    ck_assert_int_ge(d.started_at_ms, before);
    ck_assert_uint_eq(d.event_count, history_len(&e, "leaf"));
    duro_instance_details_clear(&d);
    e2e_raise(&e, "leaf", "go", "");
    e2e_expect_completed(&e, "leaf", "leaf");
    info(&e, "leaf", &d);
    ck_assert_int_eq(d.state, DURO_STATE_COMPLETED);
    ck_assert_int_ge(d.completed_at_ms, after);
    duro_instance_details_clear(&d);

    /* unknown */
    duro_error err = {0};
    ASSERT_ERR(duro_client_info(e.c, "nobody", &d, &err), DURO_ENOTFOUND, err,
               "duro_client_info: instance nobody not found");
    ck_assert_ptr_null(d.instance);
    duro_instance_details_clear(NULL);
    e2e_close(&e);
}
END_TEST

/* ---- Trees and deletion -------------------------------------------------------------------- */

/* Start Root "t" and wait until its tree t, t/a, t/a/a, t/b (created in that order) is
 * idle, every node waiting for "go". */
static void start_tree(e2e_env *e)
{
    e2e_start_instance(e, "t", "Root", "");
    e2e_wait_custom_status(e, "t/a/a", "waiting");
    e2e_wait_custom_status(e, "t/a", "waiting");
    e2e_raise(e, "t", "spawn", "");
    e2e_wait_custom_status(e, "t/b", "waiting");
    e2e_wait_custom_status(e, "t", "waiting");
}

static void assert_node(const duro_instance_tree *t, size_t i, const char *id, size_t parent,
                        size_t depth)
{
    ck_assert_uint_lt(i, t->n);
    ck_assert_str_eq(t->nodes[i].info.instance, id);
    ck_assert_uint_eq(t->nodes[i].parent, parent);
    ck_assert_uint_eq(t->nodes[i].depth, depth);
}

START_TEST(test_tree)
{
    e2e_env e;
    duro_instance_tree t;
    duro_instance_details d;
    duro_error err = {0};
    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    start_tree(&e);

    ck_assert_int_eq(duro_client_tree(e.c, "t", &t, &err), 0);
    ck_assert_uint_eq(t.n, 4);
    assert_node(&t, 0, "t", SIZE_MAX, 0);
    assert_node(&t, 1, "t/a", 0, 1);
    assert_node(&t, 2, "t/a/a", 1, 2);
    assert_node(&t, 3, "t/b", 0, 1);
    ck_assert_str_eq(t.nodes[0].info.orch_name, "Root");
    ck_assert_str_eq(t.nodes[1].info.orch_name, "Branch");
    ck_assert_str_eq(t.nodes[2].info.parent_instance, "t/a");
    for (size_t i = 0; i < t.n; i++) {
        ck_assert_int_eq(t.nodes[i].info.state, DURO_STATE_RUNNING);
        ck_assert_int_eq(t.nodes[i].info.completed_at_ms, 0);
    }
    duro_instance_tree_clear(&t);
    ck_assert_ptr_null(t.nodes);

    /* a subtree, and a leaf */
    ck_assert_int_eq(duro_client_tree(e.c, "t/a", &t, &err), 0);
    ck_assert_uint_eq(t.n, 2);
    assert_node(&t, 0, "t/a", SIZE_MAX, 0);
    assert_node(&t, 1, "t/a/a", 0, 1);
    duro_instance_tree_clear(&t);
    ck_assert_int_eq(duro_client_tree(e.c, "t/b", &t, &err), 0);
    ck_assert_uint_eq(t.n, 1);
    duro_instance_tree_clear(&t);

    info(&e, "t", &d);
    ck_assert_uint_eq(d.n_children, 2);
    ck_assert_str_eq(d.children[0], "t/a");
    ck_assert_str_eq(d.children[1], "t/b");
    duro_instance_details_clear(&d);

    /* the finished tree */
    e2e_raise(&e, "t", "go", "");
    e2e_raise(&e, "t/a", "go", "");
    e2e_raise(&e, "t/a/a", "go", "");
    e2e_raise(&e, "t/b", "go", "");
    e2e_expect_completed(&e, "t", "root");
    ck_assert_int_eq(duro_client_tree(e.c, "t", &t, &err), 0);
    ck_assert_uint_eq(t.n, 4);
    for (size_t i = 0; i < t.n; i++) {
        ck_assert_int_eq(t.nodes[i].info.state, DURO_STATE_COMPLETED);
        ck_assert_int_gt(t.nodes[i].info.completed_at_ms, 0);
    }
    duro_instance_tree_clear(&t);

    ASSERT_ERR(duro_client_tree(e.c, "nobody", &t, &err), DURO_ENOTFOUND, err,
               "duro_client_tree: instance nobody not found");
    ck_assert_ptr_null(t.nodes);
    duro_instance_tree_clear(NULL);
    e2e_close(&e);
}
END_TEST

START_TEST(test_tree_of_damaged_links)
{
    /* parent links that loop (x -> y -> x) are followed once */
    e2e_env e;
    duro_instance_tree t;
    duro_error err = {0};
    e2e_open(&e, _i);
    make(&e, "x", "L", "y", T0, 0, NULL, 0);
    make(&e, "y", "L", "x", T0 + 1, 0, NULL, 0);
    ck_assert_int_eq(duro_client_tree(e.c, "x", &t, &err), 0);
    ck_assert_uint_eq(t.n, 2);
    assert_node(&t, 0, "x", SIZE_MAX, 0);
    assert_node(&t, 1, "y", 0, 1);
    duro_instance_tree_clear(&t);
    e2e_close(&e);
}
END_TEST

START_TEST(test_delete)
{
    e2e_env e;
    duro_instance_details d;
    duro_delete_result res;
    duro_metrics m;
    duro_error err = {0};
    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    start_tree(&e);
    e2e_start_instance(&e, "done", "Done", "x");
    e2e_expect_completed(&e, "done", "out:x");

    /* a child is deleted through its root; a running tree only with force */
    ASSERT_ERR(duro_client_delete(e.c, "t/a", 1, &res, &err), DURO_ECHILD, err,
               "delete its root");
    ASSERT_ERR(duro_client_delete(e.c, "t", 0, &res, &err), DURO_ERUNNING, err,
               "is running; delete with force");
    ck_assert_uint_eq(res.instances, 0);
    ck_assert_int_eq(duro_client_stats(e.c, &m, &err), 0);
    ck_assert_uint_eq(m.instances, 5);
    info(&e, "t/a/a", &d);
    duro_instance_details_clear(&d);

    size_t events = history_len(&e, "t") + history_len(&e, "t/a") + history_len(&e, "t/a/a") +
                    history_len(&e, "t/b");
    ck_assert_int_eq(duro_client_delete(e.c, "t", 1, &res, &err), 0);
    ck_assert_uint_eq(res.instances, 4);
    ck_assert_uint_eq(res.executions, 4);
    ck_assert_uint_eq(res.events, events);
    ck_assert_uint_eq(res.messages, 0);
    ASSERT_ERR(duro_client_info(e.c, "t/b", &d, &err), DURO_ENOTFOUND, err, "not found");
    ASSERT_ERR(duro_client_delete(e.c, "t", 1, &res, &err), DURO_ENOTFOUND, err,
               "instance t not found");

    /* a finished root needs no force; out may be NULL */
    ck_assert_int_eq(duro_client_delete(e.c, "done", 0, NULL, &err), 0);
    ck_assert_int_eq(duro_client_stats(e.c, &m, &err), 0);
    ck_assert_uint_eq(m.instances, 0);
    ck_assert_uint_eq(m.events, 0);
    e2e_close(&e);
}
END_TEST

/* ---- Bulk deletion ------------------------------------------------------------------------- */

START_TEST(test_delete_bulk)
{
    e2e_env e;
    duro_list_options o;
    duro_delete_result res;
    duro_error err = {0};
    char buf[512];
    e2e_open(&e, _i);
    /* roots r1..r6 Completed or Failed at T0+11..+16 (r4 Failed), r7 Running, r8 continued
     * as new; k1 a Completed child of the running r7 (never a bulk root), k2 a Completed
     * child of r1 (goes with r1's tree), o1 a Completed child whose parent never existed
     * (a root) */
    for (int i = 1; i <= 6; i++) {
        char id[8];
        snprintf(id, sizeof id, "r%d", i);
        make(&e, id, i <= 3 ? "Old" : "New", NULL, T0 + i, i == 4 ? DURO_STATE_FAILED
                                                                  : DURO_STATE_COMPLETED,
             i == 4 ? FAILED_APP : "ok", T0 + 10 + i);
    }
    make(&e, "r7", "New", NULL, T0 + 7, 0, NULL, 0);
    make(&e, "r8", "New", NULL, T0 + 8, DURO_STATE_CONTINUED_AS_NEW, "next", T0 + 18);
    make(&e, "k1", "Kid", "r7", T0 + 9, DURO_STATE_COMPLETED, "ok", T0 + 19);
    make(&e, "k2", "Kid", "r1", T0 + 20, DURO_STATE_COMPLETED, "ok", T0 + 21);
    make(&e, "o1", "Kid", "ghost", T0 + 22, DURO_STATE_COMPLETED, "ok", T0 + 23);

    /* by name and completion time: r1 and r2 (completed before T0+13), with k2 */
    duro_list_options_init(&o);
    o.orch_name = "Old";
    o.completed_before_ms = T0 + 13;
    ck_assert_int_eq(duro_client_delete_bulk(e.c, &o, &res, &err), 0);
    ck_assert_uint_eq(res.instances, 3);
    ck_assert_uint_eq(res.executions, 3);
    ck_assert_uint_eq(res.events, 6);
    ck_assert_uint_eq(res.messages, 0);
    duro_list_options_init(&o);
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "o1,k1,r8,r7,r6,r5,r4,r3");

    /* in batches of 2, newest first; running, continued-as-new and children stay */
    duro_list_options_init(&o);
    o.limit = 2;
    ck_assert_int_eq(duro_client_delete_bulk(e.c, &o, &res, &err), 0);
    ck_assert_uint_eq(res.instances, 2);
    duro_list_options_init(&o);
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "k1,r8,r7,r5,r4,r3");
    o.limit = 2;
    o.state = DURO_STATE_FAILED;
    ck_assert_int_eq(duro_client_delete_bulk(e.c, &o, &res, &err), 0);
    ck_assert_uint_eq(res.instances, 1);
    o.state = DURO_STATE_NOT_FOUND;
    o.id_prefix = "r";
    ck_assert_int_eq(duro_client_delete_bulk(e.c, &o, &res, &err), 0);
    ck_assert_uint_eq(res.instances, 2);
    ck_assert_int_eq(duro_client_delete_bulk(e.c, &o, &res, &err), 0);
    ck_assert_uint_eq(res.instances, 0);
    ck_assert_int_eq(duro_client_delete_bulk(e.c, NULL, &res, &err), 0);
    ck_assert_uint_eq(res.instances, 0);
    duro_list_options_init(&o);
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "k1,r8,r7");

    /* what a bulk delete refuses */
    duro_list_options_init(&o);
    o.state = DURO_STATE_RUNNING;
    ASSERT_ERR(duro_client_delete_bulk(e.c, &o, &res, &err), DURO_EINVAL, err,
               "state Running is never deleted in bulk");
    o.state = DURO_STATE_CONTINUED_AS_NEW;
    ASSERT_ERR(duro_client_delete_bulk(e.c, &o, &res, &err), DURO_EINVAL, err,
               "ContinuedAsNew is never deleted");
    duro_list_options_init(&o);
    o.cursor = "c1.";
    ASSERT_ERR(duro_client_delete_bulk(e.c, &o, &res, &err), DURO_EINVAL, err,
               "a cursor does not apply");
    o.cursor = NULL;
    o.limit = 0;
    ASSERT_ERR(duro_client_delete_bulk(e.c, &o, &res, &err), DURO_EINVAL, err, "limit 0");
    ASSERT_ERR(duro_client_delete_bulk(NULL, NULL, &res, &err), DURO_EINVAL, err,
               "client is NULL");
    duro_list_options_init(&o);
    ck_assert_str_eq(ids_of(&e, &o, buf, sizeof buf), "k1,r8,r7");
    e2e_close(&e);
}
END_TEST

START_TEST(test_delete_bulk_many)
{
    /* more matching roots than one scan page, among running ones */
    e2e_env e;
    duro_list_options o;
    duro_delete_result res;
    duro_metrics m;
    duro_error err = {0};
    e2e_open(&e, _i);
    for (int i = 0; i < 2500; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%04d", i);
        if (i % 2)
            make(&e, id, "M", NULL, T0 + i, 0, NULL, 0);
        else
            make(&e, id, "M", NULL, T0 + i, DURO_STATE_COMPLETED, "ok", T0 + i);
    }
    duro_list_options_init(&o);
    o.limit = DURO_LIST_MAX_LIMIT;
    ck_assert_int_eq(duro_client_delete_bulk(e.c, &o, &res, &err), 0);
    ck_assert_uint_eq(res.instances, 1000);
    ck_assert_int_eq(duro_client_delete_bulk(e.c, &o, &res, &err), 0);
    ck_assert_uint_eq(res.instances, 250);
    ck_assert_int_eq(duro_client_delete_bulk(e.c, &o, &res, &err), 0);
    ck_assert_uint_eq(res.instances, 0);
    ck_assert_int_eq(duro_client_stats(e.c, &m, &err), 0);
    ck_assert_uint_eq(m.instances, 1250);
    ck_assert_uint_eq(m.running, 1250);
    e2e_close(&e);
}
END_TEST

/* ---- Prune, depths, counts ----------------------------------------------------------------- */

START_TEST(test_prune)
{
    e2e_env e;
    duro_delete_result res;
    duro_instance_details d;
    duro_metrics m;
    duro_error err = {0};
    e2e_open(&e, _i);
    /* executions 1..5, execution k ended at T0 + 100k + 50 */
    make_chain(&e, "loop", 5, T0 + 100, 100);
    ck_assert_int_eq(duro_client_stats(e.c, &m, &err), 0);
    ck_assert_uint_eq(m.executions, 5);
    ck_assert_uint_eq(m.events, 10);

    /* only executions that ended before T0+260: 1 and 2 */
    ck_assert_int_eq(duro_client_prune(e.c, "loop", 0, T0 + 260, &res, &err), 0);
    ck_assert_uint_eq(res.instances, 0);
    ck_assert_uint_eq(res.executions, 2);
    ck_assert_uint_eq(res.events, 4);
    ck_assert_uint_eq(e2e_count_kind(&e, "loop", 1, "ValueRecorded"), 0);
    ck_assert_uint_eq(e2e_count_kind(&e, "loop", 3, "ValueRecorded"), 2);
    /* keep the newest 2 of 3, 4, 5 */
    ck_assert_int_eq(duro_client_prune(e.c, "loop", 2, 0, &res, &err), 0);
    ck_assert_uint_eq(res.executions, 1);
    ck_assert_uint_eq(res.events, 2);
    /* again: nothing left to prune */
    ck_assert_int_eq(duro_client_prune(e.c, "loop", 2, 0, NULL, &err), 0);
    ck_assert_int_eq(duro_client_prune(e.c, "loop", 0, 0, &res, &err), 0);
    ck_assert_uint_eq(res.executions, 1);
    ck_assert_int_eq(duro_client_prune(e.c, "loop", 0, 0, &res, &err), 0);
    ck_assert_uint_eq(res.executions, 0);
    info(&e, "loop", &d);
    ck_assert_uint_eq(d.execution_id, 5);
    ck_assert_int_eq(d.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(d.output, "last");
    ck_assert_int_eq(d.started_at_ms, T0 + 500);
    ck_assert_int_eq(d.completed_at_ms, T0 + 550);
    ck_assert_uint_eq(d.event_count, 2);
    duro_instance_details_clear(&d);
    ck_assert_int_eq(duro_client_stats(e.c, &m, &err), 0);
    ck_assert_uint_eq(m.executions, 1);
    ck_assert_uint_eq(m.events, 2);

    ASSERT_ERR(duro_client_prune(e.c, "nobody", 0, 0, &res, &err), DURO_ENOTFOUND, err,
               "not found");
    ASSERT_ERR(duro_client_prune(e.c, "", 0, 0, &res, &err), DURO_EINVAL, err,
               "duro_client_prune: instance id is empty");
    e2e_close(&e);
}
END_TEST

START_TEST(test_queue_depths)
{
    e2e_env e;
    duro_queue_depths q;
    duro_error err = {0};
    int64_t now = duro_clock_now_ms();
    e2e_open(&e, _i);
    ck_assert_int_eq(duro_client_queue_depths(e.c, &q, &err), 0);
    ck_assert_uint_eq(q.orchestrator, 0);
    ck_assert_uint_eq(q.worker, 0);
    ck_assert_uint_eq(q.delayed, 0);

    /* two messages due (a start and an event raised before it), a timer due in an hour and
     * two work items */
    e2e_start_instance(&e, "q1", "Q", "");
    e2e_raise(&e, "q1", "go", "");
    duro_msg later = {"q2", DURO_MSG_START, 0, now + 3600000, "{}"};
    ck_assert_int_eq(e.p->ops->enqueue_orch(e.p, &later, &err), 0);
    duro_work_in w = {"q1", 1, 1, "{}"};
    ck_assert_int_eq(e.p->ops->enqueue_work(e.p, &w, &err), 0);
    w.activity_id = 2;
    ck_assert_int_eq(e.p->ops->enqueue_work(e.p, &w, &err), 0);
    ck_assert_int_eq(duro_client_queue_depths(e.c, &q, &err), 0);
    ck_assert_uint_eq(q.orchestrator, 2);
    ck_assert_uint_eq(q.worker, 2);
    ck_assert_uint_eq(q.delayed, 1);

    /* a locked work item is not ready */
    duro_work_item *wi = NULL;
    ck_assert_int_eq(e.p->ops->fetch_work(e.p, duro_clock_now_ms(), LOCK_MS, 0, &wi, &err), 0);
    ck_assert_int_eq(duro_client_queue_depths(e.c, &q, &err), 0);
    ck_assert_uint_eq(q.worker, 1);
    duro_work_item_free(wi);

    ASSERT_ERR(duro_client_queue_depths(e.c, NULL, &err), DURO_EINVAL, err, "out is NULL");
    ASSERT_ERR(duro_client_queue_depths(NULL, &q, &err), DURO_EINVAL, err, "client is NULL");
    e2e_close(&e);
}
END_TEST

START_TEST(test_stats)
{
    e2e_env e;
    duro_metrics m;
    duro_error err = {0};
    e2e_open(&e, _i);
    ck_assert_int_eq(duro_client_stats(e.c, &m, &err), 0);
    ck_assert_uint_eq(m.instances, 0);
    ck_assert_uint_eq(m.executions, 0);
    ck_assert_uint_eq(m.events, 0);
    make_filter_set(&e);          /* 1 running, 2 completed, 1 failed, 1 continued */
    make_chain(&e, "loop", 3, T0 + 100, 100); /* 3 executions, completed */
    ck_assert_int_eq(duro_client_stats(e.c, &m, &err), 0);
    ck_assert_uint_eq(m.instances, 6);
    ck_assert_uint_eq(m.executions, 8);
    ck_assert_uint_eq(m.running, 1);
    ck_assert_uint_eq(m.completed, 3);
    ck_assert_uint_eq(m.failed, 1);
    ck_assert_uint_eq(m.continued_as_new, 1);
    ck_assert_uint_eq(m.events, 1 + 2 + 2 + 2 + 2 + 6);
    ASSERT_ERR(duro_client_stats(e.c, NULL, &err), DURO_EINVAL, err, "out is NULL");
    e2e_close(&e);
}
END_TEST

/* ---- Capabilities and bad input ------------------------------------------------------------ */

START_TEST(test_missing_capability)
{
    e2e_env e;
    duro_instance_page pg;
    duro_instance_details d;
    duro_instance_tree t;
    duro_delete_result res;
    duro_queue_depths q;
    duro_metrics m;
    duro_client *c2 = NULL;
    duro_error err = {0};
    e2e_open(&e, _i);
    make(&e, "m1", "M", NULL, T0, DURO_STATE_COMPLETED, "ok", T0);

    /* a provider that does not claim DURO_CAP_MANAGEMENT: every call says so */
    unsigned caps = e.p->caps;
    e.p->caps &= ~DURO_CAP_MANAGEMENT;
    const char *need = "lacks the management capability (DURO_CAP_MANAGEMENT)";
    ASSERT_ERR(duro_client_list(e.c, NULL, &pg, &err), DURO_ENOTSUP, err, need);
    ASSERT_ERR(duro_client_info(e.c, "m1", &d, &err), DURO_ENOTSUP, err, need);
    ASSERT_ERR(duro_client_tree(e.c, "m1", &t, &err), DURO_ENOTSUP, err, need);
    ASSERT_ERR(duro_client_delete(e.c, "m1", 1, &res, &err), DURO_ENOTSUP, err, need);
    ASSERT_ERR(duro_client_delete_bulk(e.c, NULL, &res, &err), DURO_ENOTSUP, err, need);
    ASSERT_ERR(duro_client_prune(e.c, "m1", 0, 0, &res, &err), DURO_ENOTSUP, err, need);
    ASSERT_ERR(duro_client_queue_depths(e.c, &q, &err), DURO_ENOTSUP, err, need);
    char named[64];
    snprintf(named, sizeof named, "duro_client_stats: provider '%s'", e.p->name);
    ASSERT_ERR(duro_client_stats(e.c, &m, &err), DURO_ENOTSUP, err, named);
    e.p->caps = caps;

    /* a management provider built against version-2 ops (no query_instances): listing and
     * bulk deletion say what is missing, the other calls work */
    const duro_provider_ops *ops = e.p->ops;
    duro_provider_ops v2 = *ops;
    v2.version = DURO_PROVIDER_OPS_V2;
    e.p->ops = &v2;
    ASSERT_ERR(duro_client_list(e.c, NULL, &pg, &err), DURO_ENOTSUP, err,
               "lacks query_instances (management of provider ops version 3; its ops are "
               "version 2)");
    ASSERT_ERR(duro_client_delete_bulk(e.c, NULL, &res, &err), DURO_ENOTSUP, err,
               "lacks query_instances");
    info(&e, "m1", &d);
    duro_instance_details_clear(&d);
    ck_assert_int_eq(duro_client_stats(e.c, &m, &err), 0);
    ck_assert_uint_eq(m.instances, 1);

    /* version 3 with management must have query_instances */
    v2.version = DURO_PROVIDER_OPS_V3;
    v2.query_instances = NULL;
    ASSERT_ERR(duro_client_new(e.p, &c2, &err), DURO_EINVAL, err,
               "lacks the query_instances callback");
    ck_assert_ptr_null(c2);
    e.p->ops = ops;
    e2e_close(&e);
}
END_TEST

START_TEST(test_bad_input)
{
    e2e_env e;
    duro_instance_details d;
    duro_instance_tree t;
    duro_delete_result res;
    duro_metrics m;
    duro_error err = {0};
    char too_long[DURO_MAX_ID_BYTES + 2];
    e2e_open(&e, _i);
    memset(too_long, 'i', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';

    ASSERT_ERR(duro_client_info(NULL, "a", &d, &err), DURO_EINVAL, err, "client is NULL");
    ASSERT_ERR(duro_client_info(e.c, "a", NULL, &err), DURO_EINVAL, err, "details is NULL");
    ASSERT_ERR(duro_client_info(e.c, NULL, &d, &err), DURO_EINVAL, err,
               "duro_client_info: instance id is empty");
    ASSERT_ERR(duro_client_info(e.c, "", &d, &err), DURO_EINVAL, err, "is empty");
    ASSERT_ERR(duro_client_info(e.c, too_long, &d, &err), DURO_ETOOBIG, err,
               "instance id is 257 bytes (limit 256)");
    ASSERT_ERR(duro_client_info(e.c, "a\nb", &d, &err), DURO_EINVAL, err,
               "control character at byte 1");
    ASSERT_ERR(duro_client_info(e.c, "\xff", &d, &err), DURO_EINVAL, err, "not valid UTF-8");
    ASSERT_ERR(duro_client_tree(NULL, "a", &t, &err), DURO_EINVAL, err, "client is NULL");
    ASSERT_ERR(duro_client_tree(e.c, "a", NULL, &err), DURO_EINVAL, err, "tree is NULL");
    ASSERT_ERR(duro_client_tree(e.c, "", &t, &err), DURO_EINVAL, err,
               "duro_client_tree: instance id is empty");
    ASSERT_ERR(duro_client_tree(e.c, too_long, &t, &err), DURO_ETOOBIG, err, "257 bytes");
    ASSERT_ERR(duro_client_delete(NULL, "a", 0, &res, &err), DURO_EINVAL, err,
               "client is NULL");
    ASSERT_ERR(duro_client_delete(e.c, NULL, 0, &res, &err), DURO_EINVAL, err,
               "duro_client_delete: instance id is empty");
    ASSERT_ERR(duro_client_delete(e.c, too_long, 0, &res, &err), DURO_ETOOBIG, err,
               "257 bytes");
    ASSERT_ERR(duro_client_prune(NULL, "a", 0, 0, &res, &err), DURO_EINVAL, err,
               "client is NULL");
    ASSERT_ERR(duro_client_prune(e.c, "\x01", 0, 0, &res, &err), DURO_EINVAL, err,
               "control character");
    ASSERT_ERR(duro_client_stats(NULL, &m, &err), DURO_EINVAL, err, "client is NULL");
    /* err may be NULL */
    ck_assert_int_eq(duro_client_info(e.c, "", &d, NULL), DURO_EINVAL);
    ck_assert_int_eq(duro_client_delete(e.c, "nobody", 0, NULL, NULL), DURO_ENOTFOUND);
    e2e_close(&e);
}
END_TEST

#if DURO_ALLOC_FAULT_AVAILABLE
/* ---- Allocation failures ------------------------------------------------------------------- */

/* Failing allocations come from conformance/alloc-fault.c (linked into this program: its
 * malloc, calloc and realloc replace glibc's for libduro, SQLite and jansson too). While a
 * test arms it on its thread, the allocation numbered `fail_at` (from 0) fails once. Where
 * the allocator cannot be replaced (AddressSanitizer) the allocation test is not built. */
static __thread long alloc_left;  /* armed: allocations until the failing one, counting it */
static __thread int alloc_failed; /* the armed allocation failed since alloc_arm */

static void alloc_arm(long fail_at)
{
    alloc_failed = 0;
    alloc_left = fail_at + 1;
    duro__alloc_fault(NULL, alloc_left);
}

/* Stop counting (Check's assertions allocate too) until alloc_resume. */
static void alloc_pause(void)
{
    long made = duro__alloc_fault(NULL, 0);

    if (alloc_left > 0 && made >= alloc_left)
        alloc_failed = 1;
    alloc_left = alloc_failed ? 0 : alloc_left - made;
}

static void alloc_resume(void)
{
    if (alloc_left > 0)
        duro__alloc_fault(NULL, alloc_left);
}

/* Disarm; 1 when an allocation was failed since alloc_arm. */
static int alloc_disarm(void)
{
    alloc_pause();
    alloc_left = 0;
    return alloc_failed;
}


/* One management call under test, on the store made by make_alloc_store; it pauses the
 * failing allocator before it asserts anything. */
typedef int (*alloc_call)(e2e_env *e, duro_error *err);

static int call_list(e2e_env *e, duro_error *err)
{
    duro_list_options o;
    duro_instance_page p1, p2;
    duro_list_options_init(&o);
    o.limit = 2;
    o.id_prefix = "f";
    int rc = duro_client_list(e->c, &o, &p1, err);
    alloc_pause();
    if (rc)
        return rc;
    ck_assert_uint_eq(p1.n, 2);
    o.cursor = p1.next_cursor;
    alloc_resume();
    rc = duro_client_list(e->c, &o, &p2, err);
    alloc_pause();
    if (rc == 0) {
        ck_assert_uint_eq(p2.n, 2);
        ck_assert_str_eq(p2.items[1].instance, "f1");
        ck_assert_ptr_null(p2.next_cursor);
    }
    duro_instance_page_clear(&p1);
    duro_instance_page_clear(&p2);
    return rc;
}

static int call_info(e2e_env *e, duro_error *err)
{
    duro_instance_details d;
    int rc = duro_client_info(e->c, "f1", &d, err);
    alloc_pause();
    if (rc) {
        ck_assert_ptr_null(d.instance);
        return rc;
    }
    ck_assert_str_eq(d.error, "boom");
    ck_assert_int_eq(d.error_category, DURO_CAT_APPLICATION);
    ck_assert_uint_eq(d.n_children, 2);
    ck_assert_str_eq(d.children[1], "f1/b");
    duro_instance_details_clear(&d);
    return 0;
}

static int call_tree(e2e_env *e, duro_error *err)
{
    duro_instance_tree t;
    int rc = duro_client_tree(e->c, "f1", &t, err);
    alloc_pause();
    if (rc) {
        ck_assert_ptr_null(t.nodes);
        return rc;
    }
    ck_assert_uint_eq(t.n, 3);
    ck_assert_str_eq(t.nodes[2].info.instance, "f1/b");
    duro_instance_tree_clear(&t);
    return 0;
}

static int call_depths(e2e_env *e, duro_error *err)
{
    duro_queue_depths q;
    return duro_client_queue_depths(e->c, &q, err);
}

static int call_stats(e2e_env *e, duro_error *err)
{
    duro_metrics m;
    int rc = duro_client_stats(e->c, &m, err);
    alloc_pause();
    if (rc == 0)
        ck_assert_uint_eq(m.instances, 6);
    return rc;
}

static int call_prune(e2e_env *e, duro_error *err)
{
    duro_delete_result res;
    int rc = duro_client_prune(e->c, "loop", 0, 0, &res, err);
    alloc_pause();
    if (rc == 0)
        ck_assert_uint_eq(res.executions, 2);
    return rc;
}

static int call_delete_bulk(e2e_env *e, duro_error *err)
{
    duro_list_options o;
    duro_delete_result res;
    duro_list_options_init(&o);
    o.id_prefix = "f";
    int rc = duro_client_delete_bulk(e->c, &o, &res, err);
    alloc_pause();
    if (rc == 0)
        ck_assert_uint_eq(res.instances, 4); /* f2, f1 with f1/a and f1/b */
    return rc;
}

static int call_delete(e2e_env *e, duro_error *err)
{
    duro_delete_result res;
    int rc = duro_client_delete(e->c, "loop", 1, &res, err);
    alloc_pause();
    if (rc == 0)
        ck_assert_uint_eq(res.instances, 1);
    return rc;
}

/* f1 Failed with the Completed children f1/a and f1/b; f2 Completed; g Running; loop with 3
 * executions. */
static void make_alloc_store(e2e_env *e)
{
    make(e, "f1", "F", NULL, T0 + 1, DURO_STATE_FAILED, FAILED_APP, T0 + 1);
    make(e, "f1/a", "F", "f1", T0 + 2, DURO_STATE_COMPLETED, "ok", T0 + 2);
    make(e, "f1/b", "F", "f1", T0 + 3, DURO_STATE_COMPLETED, "ok", T0 + 3);
    make(e, "f2", "F", NULL, T0 + 4, DURO_STATE_COMPLETED, "ok", T0 + 4);
    make_chain(e, "loop", 3, T0 + 100, 100);
    make(e, "g", "G", NULL, T0 + 5, 0, NULL, 0);
}

/* On PostgreSQL, libpq's own allocations fail like a lost connection: the pool runs a
 * transaction whose statement failed once more on a new connection, but when the reply of
 * COMMIT cannot be read the outcome is unknown, DURO_EIO retryable (docs/postgres.md,
 * "Faults"), and the store holds either nothing or all of the call. 1 for that error. */
static int commit_unknown(const e2e_env *e, int rc, const duro_error *err)
{
#ifdef DURO_E2E_POSTGRES
    return e->kind == E2E_POSTGRES && rc == DURO_EIO && err->retryable &&
           strstr(err->message, "COMMIT") != NULL;
#else
    (void)e;
    (void)rc;
    (void)err;
    return 0;
#endif
}

START_TEST(test_allocation_failures)
{
    /* Each call, failing its k-th allocation for k = 0, 1, ...: it fails with DURO_ENOMEM and
     * leaves the store as it was, or copes and succeeds with the exact result (a destructive
     * call then gets a fresh store for the next k), or, on PostgreSQL, loses the reply of
     * COMMIT (commit_unknown), until a run in which no allocation failed succeeds. The
     * destructive calls run last, on what the others left. */
    static const struct {
        const char *name;
        alloc_call fn;
        int destructive;
    } calls[] = {
        {"list", call_list, 0},     {"info", call_info, 0},   {"tree", call_tree, 0},
        {"depths", call_depths, 0}, {"stats", call_stats, 0}, {"prune", call_prune, 1},
        {"delete_bulk", call_delete_bulk, 1}, {"delete", call_delete, 1},
    };
    e2e_env e;
    e2e_open(&e, _i);
    make_alloc_store(&e);
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        long injected_total = 0;
        for (long k = 0;; k++) {
            duro_error err = {0};
            duro_metrics before, after;
            ck_assert_int_eq(duro_client_stats(e.c, &before, NULL), 0);
            alloc_arm(k);
            int rc = calls[i].fn(&e, &err);
            int injected = alloc_disarm();
            if (rc == 0 && !injected)
                break;
            injected_total += injected;
            ck_assert_msg(rc == 0 || injected, "%s: %s (%s)", calls[i].name, duro_err_name(rc),
                          err.message);
            if (rc == 0 || commit_unknown(&e, rc, &err)) {
                /* coped (the exact result was asserted), or an unknown outcome: a
                 * destructive call gets a fresh store for the next k, another changed
                 * nothing */
                if (calls[i].destructive) {
                    e2e_close(&e);
                    e2e_open(&e, _i);
                    make_alloc_store(&e);
                } else {
                    ck_assert_int_eq(duro_client_stats(e.c, &after, NULL), 0);
                    ck_assert_msg(memcmp(&before, &after, sizeof before) == 0,
                                  "%s, allocation %ld failing, changed the store",
                                  calls[i].name, k);
                }
                continue;
            }
            ck_assert_msg(rc == DURO_ENOMEM, "%s, allocation %ld failing: %s (%s)",
                          calls[i].name, k, duro_err_name(rc), err.message);
            ck_assert_int_eq(duro_client_stats(e.c, &after, NULL), 0);
            ck_assert_msg(memcmp(&before, &after, sizeof before) == 0,
                          "%s, allocation %ld failing, changed the store", calls[i].name, k);
        }
        /* some allocation was failed (PostgreSQL's pool may cope with every one of a call) */
        ck_assert_msg(injected_total > 0, "%s: no allocation failed", calls[i].name);
    }
    e2e_close(&e);
}
END_TEST
#endif /* DURO_ALLOC_FAULT_AVAILABLE */

int main(void)
{
    const e2e_test tests[] = {
        {"list_paging_2000", test_list_paging_2000},
        {"list_walk_while_changing", test_list_walk_while_changing},
        {"list_filters", test_list_filters},
        {"list_bad_input", test_list_bad_input},
        {"info_of_each_state", test_info_of_each_state},
        {"tree", test_tree},
        {"tree_of_damaged_links", test_tree_of_damaged_links},
        {"delete", test_delete},
        {"delete_bulk", test_delete_bulk},
        {"delete_bulk_many", test_delete_bulk_many},
        {"prune", test_prune},
        {"queue_depths", test_queue_depths},
        {"stats", test_stats},
        {"missing_capability", test_missing_capability},
        {"bad_input", test_bad_input},
#if DURO_ALLOC_FAULT_AVAILABLE
        {"allocation_failures", test_allocation_failures},
#endif
    };
#ifdef DURO_E2E_POSTGRES
    /* tests/test-manage-postgres: the same tests on the PostgreSQL provider */
    return e2e_main("test-manage-postgres", 1u << E2E_POSTGRES, tests,
                    sizeof tests / sizeof tests[0]);
#else
    return e2e_main("test-manage", E2E_ALL_KINDS, tests, sizeof tests / sizeof tests[0]);
#endif
}
