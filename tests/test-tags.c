/*
 * test-tags.c — end-to-end test of activity tags (issue 13): two runtimes in one process on
 * one real SQLite file, one whose workers take only the tag "gpu" and one with the default
 * filter (untagged only). Each activity records the runtime that ran it; the test asserts
 * exactly where every activity ran, that an activity tagged with a tag no runtime accepts
 * stays queued and shows in the per-tag depth, and the errors of the API: a bad tag, tags on
 * a provider that does not route them (the SQLite provider's ops presented as version 3,
 * which has no routing calls) and bad runtime
 * options; and the upgrade of a SQLite store of schema version 1 (no tag column), whose
 * queued work stays untagged. All waits are event-driven (condition variable,
 * duro_client_wait), bounded.
 */
#include <check.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duro-sqlite.h"
#include "e2e-common.h"
#include "duro.h"
#include "junit-check.h"

#define WAIT_MS INT64_C(20000)
#define N_EACH 4

static const char *const gpu_inputs[N_EACH] = {"g1", "g2", "g3", "g4"};
static const char *const plain_inputs[N_EACH] = {"u1", "u2", "u3", "u4"};

/* Where each activity ran: "input@runtime" entries, and a condition for the test to wait on. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char ran[64][16];
    int n;
} ledger = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0}}, 0};

static char dir[64];
static char path[96];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/duro-test-tags-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/store.db", dir);
    pthread_mutex_lock(&ledger.mu);
    ledger.n = 0;
    pthread_mutex_unlock(&ledger.mu);
}

static void teardown(void)
{
    e2e_remove_store(path);
    rmdir(dir);
}

/* Activity "Work": records "<input>@<runtime name (ud)>" and returns it. */
static int work(duro_activity *a, const char *input, void *ud)
{
    char entry[16];
    snprintf(entry, sizeof entry, "%s@%s", input, (const char *)ud);
    pthread_mutex_lock(&ledger.mu);
    if (ledger.n < 64)
        snprintf(ledger.ran[ledger.n++], sizeof ledger.ran[0], "%s", entry);
    pthread_cond_broadcast(&ledger.cv);
    pthread_mutex_unlock(&ledger.mu);
    return duro_activity_ok(a, entry);
}

/* Wait until `n` activities ran; 1 when they did within WAIT_MS. */
static int ledger_wait(int n)
{
    struct timespec dl;
    int ok = 1;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&ledger.mu);
    while (ledger.n < n && ok)
        ok = pthread_cond_timedwait(&ledger.cv, &ledger.mu, &dl) == 0;
    ok = ledger.n >= n;
    pthread_mutex_unlock(&ledger.mu);
    return ok;
}

/* "Route": schedules one activity tagged "tpu" (which no runtime accepts), N_EACH tagged
 * "gpu" and N_EACH untagged in its first turn, awaits the gpu and untagged ones, then waits
 * for the event "stop" and completes with their results joined by spaces. */
static int route(duro_orch *o, const char *input, void *ud)
{
    duro_task *t[2 * N_EACH], *stop;
    char out[256] = "";
    (void)input;
    (void)ud;
    duro_call_activity_tagged(o, "Work", "t1", "tpu", NULL);
    for (int i = 0; i < N_EACH; i++)
        t[i] = duro_call_activity_tagged(o, "Work", gpu_inputs[i], "gpu", NULL);
    for (int i = 0; i < N_EACH; i++)
        t[N_EACH + i] = duro_call_activity(o, "Work", plain_inputs[i]);
    DURO_AWAIT_ALL(o, t, 2 * N_EACH);
    stop = duro_wait_event(o, "stop");
    DURO_AWAIT(o, stop);
    for (int i = 0; i < 2 * N_EACH; i++) {
        if (!duro_task_ok(t[i]))
            return duro_fail(o, duro_task_error(t[i]));
        strncat(out, duro_task_value(t[i]), sizeof out - strlen(out) - 2);
        if (i + 1 < 2 * N_EACH)
            strcat(out, " ");
    }
    return duro_complete(o, out);
}

/* "Tagged": one activity tagged with its input as the tag, retried (policy given). */
static int tagged(duro_orch *o, const char *input, void *ud)
{
    duro_retry_policy p = {.max_attempts = 2, .backoff = DURO_BACKOFF_NONE};
    duro_task *t;
    (void)ud;
    t = duro_call_activity_tagged(o, "Work", "x", input, &p);
    DURO_AWAIT(o, t);
    return duro_complete(o, duro_task_value(t));
}

static duro_registry *registry(const char *runtime_name)
{
    duro_registry *r = duro_registry_new();
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(duro_register_orchestration(r, "Route", NULL, route, NULL), 0);
    ck_assert_int_eq(duro_register_orchestration(r, "Tagged", NULL, tagged, NULL), 0);
    ck_assert_int_eq(duro_register_activity(r, "Work", work, (void *)runtime_name), 0);
    return r;
}

static duro_runtime *start(duro_provider *p, duro_registry *r, int mode,
                           const char *const *tags, size_t n_tags)
{
    duro_runtime_options o;
    duro_runtime *rt = NULL;
    duro_error err = {0};
    duro_runtime_options_init(&o);
    o.poll_ms = 200;
    o.worker_tag_mode = mode;
    o.worker_tags = tags;
    o.n_worker_tags = n_tags;
    ck_assert_msg(duro_runtime_start(p, r, &o, &rt, &err) == 0, "runtime start: %s",
                  err.message);
    return rt;
}

static duro_provider *open_store(void)
{
    duro_provider *p = NULL;
    duro_error err = {0};
    ck_assert_msg(duro_sqlite_open(path, NULL, &p, &err) == 0, "open: %s", err.message);
    return p;
}

/* The row of `tag` in the client's depths per tag, asserted present. */
static duro_tag_depth depth_of(duro_client *c, const char *tag, size_t *n_rows)
{
    duro_tag_depth *rows = NULL, d = {0};
    duro_error err = {0};
    size_t n = 0;
    int found = 0;
    ck_assert_msg(duro_client_work_depths_by_tag(c, &rows, &n, &err) == 0, "depths: %s",
                  err.message);
    for (size_t i = 0; i < n; i++)
        if (rows[i].tag && strcmp(rows[i].tag, tag) == 0) {
            d = rows[i];
            d.tag = NULL;
            found = 1;
        }
    duro_tag_depths_free(rows, n);
    *n_rows = n;
    ck_assert_msg(found, "no depth row for tag %s", tag);
    return d;
}

START_TEST(tagged_work_runs_only_where_accepted)
{
    static const char *const gpu[] = {"gpu"};
    duro_provider *p = open_store();
    duro_registry *ra = registry("A"), *rb = registry("B");
    duro_runtime *a = start(p, ra, DURO_WORKER_TAGS, gpu, 1);
    duro_runtime *b = start(p, rb, DURO_WORKER_UNTAGGED, NULL, 0);
    duro_client *c = NULL;
    duro_status st = {0};
    duro_error err = {0};
    duro_tag_depth d;
    size_t n_rows;
    int gpu_on_a = 0, plain_on_b = 0;

    ck_assert_int_eq(duro_client_new(p, &c, &err), 0);
    ck_assert_int_eq(duro_client_start(c, "r1", "Route", "", &err), 0);
    ck_assert_msg(ledger_wait(2 * N_EACH), "activities did not run");
    /* the tpu item was enqueued in the same commit as the others and nobody takes it */
    d = depth_of(c, "tpu", &n_rows);
    ck_assert_uint_eq(d.queued, 1);
    ck_assert_uint_eq(d.locked, 0);
    ck_assert_uint_eq(d.delayed, 0);
    ck_assert_int_eq(duro_client_raise_event(c, "r1", "stop", "", &err), 0);
    ck_assert_int_eq(duro_client_wait(c, "r1", WAIT_MS, &st, &err), 0);
    ck_assert_int_eq(st.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(st.output, "g1@A g2@A g3@A g4@A u1@B u2@B u3@B u4@B");
    duro_status_clear(&st);
    pthread_mutex_lock(&ledger.mu);
    ck_assert_int_eq(ledger.n, 2 * N_EACH); /* each ran once, t1 never */
    for (int i = 0; i < ledger.n; i++) {
        gpu_on_a += ledger.ran[i][0] == 'g' && strcmp(ledger.ran[i] + 2, "@A") == 0;
        plain_on_b += ledger.ran[i][0] == 'u' && strcmp(ledger.ran[i] + 2, "@B") == 0;
    }
    pthread_mutex_unlock(&ledger.mu);
    ck_assert_int_eq(gpu_on_a, N_EACH);
    ck_assert_int_eq(plain_on_b, N_EACH);
    /* completing cancelled the queued tpu activity: the queue is empty */
    {
        duro_tag_depth *rows = NULL;
        size_t n = 99;
        ck_assert_int_eq(duro_client_work_depths_by_tag(c, &rows, &n, &err), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_null(rows);
    }
    duro_runtime_shutdown(a);
    duro_runtime_shutdown(b);
    duro_client_free(c);
    duro_registry_free(ra);
    duro_registry_free(rb);
    duro_provider_destroy(p);
}
END_TEST

/* Run one "Tagged" instance `instance` with `input` (its tag) to its end on a fresh
 * runtime "Z" that accepts any tag; *st receives its final status. */
static void run_tagged_instance(const char *instance, const char *input, duro_status *st)
{
    duro_provider *p = open_store();
    duro_registry *r = registry("Z");
    duro_runtime *rt = start(p, r, DURO_WORKER_ANY_TAG, NULL, 0);
    duro_client *c = NULL;
    duro_error err = {0};

    ck_assert_int_eq(duro_client_new(p, &c, &err), 0);
    ck_assert_int_eq(duro_client_start(c, instance, "Tagged", input, &err), 0);
    ck_assert_int_eq(duro_client_wait(c, instance, WAIT_MS, st, &err), 0);
    duro_runtime_shutdown(rt);
    duro_client_free(c);
    duro_registry_free(r);
    duro_provider_destroy(p);
}

/* A runtime accepting any tag runs tagged work, with its retry policy. */
START_TEST(any_tag_runtime_runs_everything)
{
    duro_status st = {0};

    run_tagged_instance("t1", "blue", &st);
    ck_assert_int_eq(st.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(st.output, "x@Z");
    duro_status_clear(&st);
}
END_TEST

/* An invalid tag fails the instance with a configuration error naming it; nothing runs. */
START_TEST(invalid_tag_fails_the_instance)
{
    duro_status st = {0};

    run_tagged_instance("bad", "tab\there", &st);
    ck_assert_int_eq(st.state, DURO_STATE_FAILED);
    ck_assert_int_eq(st.error_category, DURO_CAT_CONFIGURATION);
    ck_assert_msg(strstr(st.error, "activity tag") != NULL, "error: %s", st.error);
    duro_status_clear(&st);
    pthread_mutex_lock(&ledger.mu);
    ck_assert_int_eq(ledger.n, 0);
    pthread_mutex_unlock(&ledger.mu);
}
END_TEST

/* On a provider without DURO_CAP_TAGS: a tagged call fails the instance (DURO_ENOTSUP, never
 * enqueued untagged), a tag filter refuses to start, the depths call is DURO_ENOTSUP. */
START_TEST(provider_without_tags_refuses)
{
    static const char *const gpu[] = {"gpu"};
    duro_provider *p = open_store();
    const duro_provider_ops *own = p->ops;
    duro_provider_ops v3 = *own;
    duro_registry *r = registry("A");
    duro_runtime_options o;
    duro_runtime *rt = NULL;
    duro_client *c = NULL;
    duro_status st = {0};
    duro_error err = {0};
    duro_tag_depth *rows = NULL;
    size_t n = 0;

    v3.version = DURO_PROVIDER_OPS_V3; /* as built against a header without tags */
    p->ops = &v3;
    ck_assert_uint_ne(p->caps & DURO_CAP_TAGS, 0); /* the bit is ignored on version 3 */
    ck_assert_int_eq(duro_provider_has_tags(p), 0);
    duro_runtime_options_init(&o);
    o.worker_tag_mode = DURO_WORKER_TAGS;
    o.worker_tags = gpu;
    o.n_worker_tags = 1;
    ck_assert_int_eq(duro_runtime_start(p, r, &o, &rt, &err), DURO_ENOTSUP);
    ck_assert_ptr_null(rt);
    ck_assert_msg(strstr(err.message, "does not route tagged work") != NULL, "%s",
                  err.message);
    rt = start(p, r, DURO_WORKER_UNTAGGED, NULL, 0);
    ck_assert_int_eq(duro_client_new(p, &c, &err), 0);
    ck_assert_int_eq(duro_client_work_depths_by_tag(c, &rows, &n, &err), DURO_ENOTSUP);
    ck_assert_int_eq(duro_client_start(c, "t", "Tagged", "gpu", &err), 0);
    ck_assert_int_eq(duro_client_wait(c, "t", WAIT_MS, &st, &err), 0);
    ck_assert_int_eq(st.state, DURO_STATE_FAILED);
    ck_assert_int_eq(st.error_category, DURO_CAT_CONFIGURATION);
    ck_assert_msg(strstr(st.error, "does not route tagged work") != NULL, "error: %s",
                  st.error);
    duro_status_clear(&st);
    duro_runtime_shutdown(rt);
    duro_client_free(c);
    /* nothing was enqueued, tagged or not */
    p->ops = own;
    ck_assert_int_eq(p->ops->queue_depths_by_tag(p, 0, &rows, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    pthread_mutex_lock(&ledger.mu);
    ck_assert_int_eq(ledger.n, 0);
    pthread_mutex_unlock(&ledger.mu);
    duro_provider_destroy(p);
    duro_registry_free(r);
}
END_TEST

/* Runtime options out of range are DURO_EINVAL naming the option. */
START_TEST(bad_tag_options_refused)
{
    static const char *const gpu[] = {"gpu"};
    static const char *const twice[] = {"gpu", "gpu"};
    static const char *const empty[] = {""};
    struct {
        int mode;
        const char *const *tags;
        size_t n;
    } bad[] = {
        {7, NULL, 0},                              /* not a mode */
        {DURO_WORKER_UNTAGGED, gpu, 1},            /* tags without a listing mode */
        {DURO_WORKER_ANY_TAG, gpu, 1},
        {DURO_WORKER_TAGS, NULL, 0},               /* a listing mode without tags */
        {DURO_WORKER_TAGS, twice, 2},
        {DURO_WORKER_TAGS_AND_UNTAGGED, empty, 1},
    };
    duro_provider *p = open_store();
    duro_registry *r = registry("A");

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        duro_runtime_options o;
        duro_runtime *rt = NULL;
        duro_error err = {0};
        duro_runtime_options_init(&o);
        o.worker_tag_mode = bad[i].mode;
        o.worker_tags = bad[i].tags;
        o.n_worker_tags = bad[i].n;
        ck_assert_msg(duro_runtime_start(p, r, &o, &rt, &err) == DURO_EINVAL, "case %zu", i);
        ck_assert_ptr_null(rt);
        ck_assert_msg(strstr(err.message, "worker_tag") != NULL ||
                          strstr(err.message, "tag") != NULL,
                      "case %zu: %s", i, err.message);
    }
    duro_registry_free(r);
    duro_provider_destroy(p);
}
END_TEST

/* Run `sql` on the store file through a raw connection. */
static void raw_exec(const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
                  msg ? msg : "");
    sqlite3_close(db);
}

/* The single integer `sql` returns on the store file. */
static int64_t raw_int(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* A store of schema version 1 (made by undoing migration 2 by hand) with a queued item opens,
 * migrates to the tag schema, and keeps the item untagged. */
START_TEST(schema_1_store_upgrades)
{
    static const char *const gpu[] = {"gpu"};
    duro_work_in w = {.instance = "old", .execution_id = 1, .activity_id = 1,
                      .payload = "v1-item"};
    duro_work_filter only_gpu = {.tags = gpu, .n_tags = 1};
    duro_provider *p = open_store();
    duro_work_item *item = NULL;
    duro_tag_depth *rows = NULL;
    duro_error err = {0};
    size_t n = 0;

    ck_assert_int_eq(p->ops->enqueue_work(p, &w, &err), 0);
    duro_provider_destroy(p);
    /* back to schema 1: without migrations 2 (values), 3 (tags), 4 (targets), 5 (sessions) */
    raw_exec("DROP TABLE sessions; DROP INDEX work_queue_session;"
             " ALTER TABLE work_queue DROP COLUMN session;"
             " DROP INDEX work_queue_tag; ALTER TABLE work_queue DROP COLUMN tag;"
             " DROP TABLE kv; ALTER TABLE instances DROP COLUMN kv_version;"
             " ALTER TABLE orch_queue DROP COLUMN target_name;"
             " ALTER TABLE orch_queue DROP COLUMN target_version;"
             " DELETE FROM schema_version WHERE version > 1");
    ck_assert_int_eq(raw_int("SELECT MAX(version) FROM schema_version"), 1);
    ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM pragma_table_info('work_queue')"
                             " WHERE name = 'tag'"), 0);
    p = open_store();
    ck_assert_int_eq(raw_int("SELECT MAX(version) FROM schema_version"), 5);
    ck_assert_int_eq(p->ops->queue_depths_by_tag(p, 0, &rows, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_ptr_null(rows[0].tag);
    ck_assert_uint_eq(rows[0].queued, 1);
    duro_tag_depths_free(rows, n);
    ck_assert_int_eq(p->ops->fetch_work_filtered(p, 0, 1000, 0, &only_gpu, &item, &err),
                     DURO_ENOTFOUND);
    ck_assert_int_eq(p->ops->fetch_work(p, 0, 1000, 0, &item, &err), 0);
    ck_assert_str_eq(item->payload, "v1-item");
    duro_work_item_free(item);
    duro_provider_destroy(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tags");
    TCase *tc = tcase_create("e2e");
    SRunner *sr;
    int failed;
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tagged_work_runs_only_where_accepted);
    tcase_add_test(tc, any_tag_runtime_runs_everything);
    tcase_add_test(tc, invalid_tag_fails_the_instance);
    tcase_add_test(tc, provider_without_tags_refuses);
    tcase_add_test(tc, bad_tag_options_refused);
    tcase_add_test(tc, schema_1_store_upgrades);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    failed = junit_check_run(sr, "test-tags", CK_NORMAL);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
