/*
 * test-sessions.c — end-to-end test of activity sessions (issue 13): three runtimes in one
 * process on one real SQLite file, a handle each; built as test-sessions-postgres
 * (DURO_E2E_POSTGRES), the same on one fresh PostgreSQL schema of $DURO_PG_CONNINFO's
 * server. Each activity records the runtime that ran it. The activities of one session all
 * run on the runtime that took the session, also while two more runtimes run beside it;
 * once that runtime is shut down (its lease left to expire), the next activities of the
 * session all run on exactly one of the other two.
 * Also: an invalid session id fails the instance with a configuration error, a provider
 * without sessions (the provider's own ops presented as version 5) fails the turn with
 * DURO_ENOTSUP and runs nothing, and bad session options are refused.
 * All waits are event-driven (duro_client_wait), bounded.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef DURO_E2E_POSTGRES
#include "duro-postgres.h"
#else
#include "duro-sqlite.h"
#endif
#include "e2e-common.h"
#include "duro.h"
#include "junit-check.h"

#define WAIT_MS INT64_C(30000)
#define N_RUNTIMES 3
#define N_CALLS 8
/* Leases short enough for a quick take-over after a shutdown, long enough to outlive a
 * renewal delayed by a loaded machine (renewals come every LEASE_MS / 3). */
#define LEASE_MS 3000

static const char *const names[N_RUNTIMES] = {"A", "B", "C"};

/* Which runtime ran each activity, in order. */
static struct {
    pthread_mutex_t mu;
    char ran[64];
    int n;
} ledger = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};

#ifdef DURO_E2E_POSTGRES
/* The store: a schema of its own per test on the server of $DURO_PG_CONNINFO. */
static char schema[64];
static unsigned n_schemas;

static const char *conninfo(void)
{
    const char *ci = getenv("DURO_PG_CONNINFO");
    ck_assert_msg(ci != NULL && *ci != '\0', "DURO_PG_CONNINFO is not set");
    return ci;
}

static void open_new_store(void)
{
    snprintf(schema, sizeof schema, "duro_sessions_%ld_%u", (long)getpid(), n_schemas++);
    duro_postgres_drop_schema(conninfo(), schema, NULL);
}

static void remove_store(void)
{
    duro_error err = {0};
    ck_assert_msg(duro_postgres_drop_schema(conninfo(), schema, &err) == 0, "drop %s: %s",
                  schema, err.message);
}
#else
/* The store: a SQLite file in a folder of its own per test. */
static char dir[64];
static char path[96];

static void open_new_store(void)
{
    snprintf(dir, sizeof dir, "/tmp/duro-test-sessions-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/store.db", dir);
}

static void remove_store(void)
{
    e2e_remove_store(path);
    rmdir(dir);
}
#endif

static void setup(void)
{
    open_new_store();
    pthread_mutex_lock(&ledger.mu);
    ledger.n = 0;
    pthread_mutex_unlock(&ledger.mu);
}

static void teardown(void)
{
    remove_store();
}

/* Activity "Work": records the first letter of its runtime's name (ud) and returns it. */
static int work(duro_activity *a, const char *input, void *ud)
{
    const char *name = ud;
    (void)input;
    pthread_mutex_lock(&ledger.mu);
    if (ledger.n < (int)sizeof ledger.ran - 1)
        ledger.ran[ledger.n++] = name[0];
    pthread_mutex_unlock(&ledger.mu);
    return duro_activity_ok(a, name);
}

/* "Sessioned": N_CALLS activities in session `input`, one after the other (each completion
 * is a turn that any runtime may run, whose commit enqueues the next activity on that
 * runtime's handle); completes with the runtimes that ran them ("AAAA..."). */
static int sessioned(duro_orch *o, const char *input, void *ud)
{
    char out[N_CALLS + 1] = "";
    (void)ud;
    for (int i = 0; i < N_CALLS; i++) {
        duro_task *t = duro_call_activity_session(o, "Work", "x", input, NULL);
        DURO_AWAIT(o, t);
        if (!duro_task_ok(t))
            return duro_fail(o, duro_task_error(t));
        out[i] = duro_task_value(t)[0];
    }
    return duro_complete(o, out);
}

static duro_registry *registry(const char *runtime_name)
{
    duro_registry *r = duro_registry_new();
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(duro_register_orchestration(r, "Sessioned", NULL, sessioned, NULL), 0);
    ck_assert_int_eq(duro_register_activity(r, "Work", work, (void *)runtime_name), 0);
    return r;
}

/* A runtime with `workers` activity threads and the test's short lease. */
static duro_runtime *start_with(duro_provider *p, duro_registry *r, int workers)
{
    duro_runtime_options o;
    duro_runtime *rt = NULL;
    duro_error err = {0};
    duro_runtime_options_init(&o);
    o.poll_ms = 200;
    o.worker_concurrency = workers;
    o.session_lease_ms = LEASE_MS;
    ck_assert_msg(duro_runtime_start(p, r, &o, &rt, &err) == 0, "runtime start: %s",
                  err.message);
    return rt;
}

static duro_runtime *start(duro_provider *p, duro_registry *r)
{
    return start_with(p, r, 2);
}

/* A new handle on the test's store. */
static duro_provider *open_store(void)
{
    duro_provider *p = NULL;
    duro_error err = {0};
#ifdef DURO_E2E_POSTGRES
    duro_postgres_options po;
    duro_postgres_options_init(&po);
    po.schema = schema;
    ck_assert_msg(duro_postgres_open(conninfo(), &po, &p, &err) == 0, "open: %s", err.message);
#else
    ck_assert_msg(duro_sqlite_open(path, NULL, &p, &err) == 0, "open: %s", err.message);
#endif
    return p;
}

/* Start `instance` of "Sessioned" in `session` and wait for its end into *st. */
static void run(duro_client *c, const char *instance, const char *session, duro_status *st)
{
    duro_error err = {0};
    ck_assert_int_eq(duro_client_start(c, instance, "Sessioned", session, &err), 0);
    ck_assert_msg(duro_client_wait(c, instance, WAIT_MS, st, &err) == 0, "wait %s: %s",
                  instance, err.message);
}

static int index_of(char name)
{
    for (int i = 0; i < N_RUNTIMES; i++)
        if (names[i][0] == name)
            return i;
    return -1;
}

/* Run "Sessioned" as `instance` in session "model-7"; its output (N_CALLS runtime letters)
 * into out, asserted completed. */
static void run_ok(duro_client *c, const char *instance, char out[N_CALLS + 1])
{
    duro_status st = {0};
    run(c, instance, "model-7", &st);
    ck_assert_msg(st.state == DURO_STATE_COMPLETED, "%s: state %d", instance, (int)st.state);
    ck_assert_uint_eq(strlen(st.output), N_CALLS);
    snprintf(out, N_CALLS + 1, "%s", st.output);
    duro_status_clear(&st);
}

/* A session's activities run on the runtime that took it, also once two more runtimes (with
 * four workers each, eager for work) run beside it; when it stops, on exactly one other. */
START_TEST(session_moves_to_one_runtime_when_its_owner_stops)
{
    duro_provider *p[N_RUNTIMES];
    duro_registry *r[N_RUNTIMES];
    duro_runtime *rt[N_RUNTIMES];
    duro_client *c = NULL;
    duro_error err = {0};
    char one[N_CALLS + 1], two[N_CALLS + 1], three[N_CALLS + 1];
    char want[3 * N_CALLS + 1];
    int next;

    for (int i = 0; i < N_RUNTIMES; i++) {
        p[i] = open_store(); /* a handle each, as three processes would have */
        r[i] = registry(names[i]);
    }
    rt[0] = start(p[0], r[0]);
    ck_assert_int_eq(duro_client_new(p[0], &c, &err), 0);
    run_ok(c, "one", one); /* only A runs: A takes the session */
    ck_assert_str_eq(one, "AAAAAAAA");

    for (int i = 1; i < N_RUNTIMES; i++)
        rt[i] = start_with(p[i], r[i], 4);
    for (int i = 0; i < N_RUNTIMES; i++)
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(duro_runtime_worker_id(rt[i]), duro_runtime_worker_id(rt[j]));
    ck_assert_int_eq(strlen(duro_runtime_worker_id(rt[0])), 32);
    run_ok(c, "two", two); /* B and C run, but A's lease lives */
    ck_assert_str_eq(two, "AAAAAAAA");

    duro_runtime_shutdown(rt[0]); /* its lease is left to expire */
    rt[0] = NULL;
    run_ok(c, "three", three);
    next = index_of(three[0]);
    ck_assert_msg(next == 1 || next == 2, "third run: %s", three);
    for (int i = 0; i < N_CALLS; i++)
        ck_assert_msg(three[i] == three[0], "third run not on one runtime: %s", three);

    snprintf(want, sizeof want, "%s%s%s", one, two, three);
    pthread_mutex_lock(&ledger.mu);
    ck_assert_int_eq(ledger.n, 3 * N_CALLS);
    ledger.ran[ledger.n] = '\0';
    ck_assert_str_eq(ledger.ran, want);
    pthread_mutex_unlock(&ledger.mu);

    duro_client_free(c);
    for (int i = 0; i < N_RUNTIMES; i++) {
        if (rt[i])
            duro_runtime_shutdown(rt[i]);
        duro_registry_free(r[i]);
        duro_provider_destroy(p[i]);
    }
}
END_TEST

/* An empty session id fails the instance with a configuration error naming it; nothing
 * runs. */
START_TEST(invalid_session_fails_the_instance)
{
    duro_provider *p = open_store();
    duro_registry *r = registry("A");
    duro_runtime *rt = start(p, r);
    duro_client *c = NULL;
    duro_status st = {0};
    duro_error err = {0};

    ck_assert_int_eq(duro_client_new(p, &c, &err), 0);
    run(c, "bad", "", &st);
    ck_assert_int_eq(st.state, DURO_STATE_FAILED);
    ck_assert_int_eq(st.error_category, DURO_CAT_CONFIGURATION);
    ck_assert_msg(strstr(st.error, "activity session") != NULL, "error: %s", st.error);
    duro_status_clear(&st);
    duro_runtime_shutdown(rt);
    duro_client_free(c);
    duro_registry_free(r);
    duro_provider_destroy(p);
    pthread_mutex_lock(&ledger.mu);
    ck_assert_int_eq(ledger.n, 0);
    pthread_mutex_unlock(&ledger.mu);
}
END_TEST

/* On a provider without sessions (ops version 5): the session call fails the instance with
 * DURO_ENOTSUP naming the provider; nothing is enqueued or run. */
START_TEST(provider_without_sessions_refuses)
{
    duro_provider *p = open_store();
    const duro_provider_ops *own = p->ops;
    duro_provider_ops v5 = *own;
    duro_registry *r = registry("A");
    duro_runtime *rt;
    duro_client *c = NULL;
    duro_status st = {0};
    duro_error err = {0};
    duro_queue_depths d;

    v5.version = DURO_PROVIDER_OPS_V5; /* as built against a header without sessions */
    p->ops = &v5;
    ck_assert_uint_ne(p->caps & DURO_CAP_SESSIONS, 0); /* the bit is ignored on version 5 */
    ck_assert_int_eq(duro_provider_has_sessions(p), 0);
    rt = start(p, r);
    ck_assert_int_eq(duro_client_new(p, &c, &err), 0);
    run(c, "s", "model-7", &st);
    ck_assert_int_eq(st.state, DURO_STATE_FAILED);
    ck_assert_int_eq(st.error_category, DURO_CAT_CONFIGURATION);
    ck_assert_msg(strstr(st.error, "does not run sessions") != NULL, "error: %s", st.error);
    duro_status_clear(&st);
    duro_runtime_shutdown(rt);
    duro_client_free(c);
    ck_assert_int_eq(p->ops->queue_depths(p, 0, &d, &err), 0);
    ck_assert_uint_eq(d.worker, 0);
    p->ops = own;
    duro_provider_destroy(p);
    duro_registry_free(r);
    pthread_mutex_lock(&ledger.mu);
    ck_assert_int_eq(ledger.n, 0);
    pthread_mutex_unlock(&ledger.mu);
}
END_TEST

/* Session options out of range are DURO_EINVAL naming the option. */
START_TEST(bad_session_options_refused)
{
    static const struct {
        int64_t lease, idle;
        size_t max;
        const char *name;
    } bad[] = {
        {0, 1000, 1, "session_lease_ms"},
        {INT64_C(86400001), 1000, 1, "session_lease_ms"},
        {1000, 0, 1, "session_idle_ms"},
        {1000, INT64_C(86400001), 1, "session_idle_ms"},
        {1000, 1000, 1000001, "max_sessions"},
    };
    duro_provider *p = open_store();
    duro_registry *r = registry("A");

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        duro_runtime_options o;
        duro_runtime *rt = NULL;
        duro_error err = {0};
        duro_runtime_options_init(&o);
        o.session_lease_ms = bad[i].lease;
        o.session_idle_ms = bad[i].idle;
        o.max_sessions = bad[i].max;
        ck_assert_int_eq(duro_runtime_start(p, r, &o, &rt, &err), DURO_EINVAL);
        ck_assert_ptr_null(rt);
        ck_assert_msg(strstr(err.message, bad[i].name) != NULL, "%zu: %s", i, err.message);
    }
    duro_registry_free(r);
    duro_provider_destroy(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sessions");
    TCase *tc = tcase_create("e2e");
    SRunner *sr;
    int failed;
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, session_moves_to_one_runtime_when_its_owner_stops);
    tcase_add_test(tc, invalid_session_fails_the_instance);
    tcase_add_test(tc, provider_without_sessions_refuses);
    tcase_add_test(tc, bad_session_options_refused);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
#ifdef DURO_E2E_POSTGRES
    failed = junit_check_run(sr, "test-sessions-postgres", CK_NORMAL);
#else
    failed = junit_check_run(sr, "test-sessions", CK_NORMAL);
#endif
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
