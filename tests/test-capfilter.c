/*
 * test-capfilter.c — version-aware fetching end to end (issue 13): two runtimes on one
 * SQLite file during a rolling upgrade, runtime A with only version 1.0.0 of an
 * orchestration, runtime B with 1.0.0 and 2.0.0.
 *
 * Covered: an instance pinned to 2.0.0 is never fetched by A (A's turn count shows it: the
 * pinned instance is enqueued first, so a fetch that could take it would take it before
 * the 1.0.0 instance A completes) and is completed by B; a 1.0.0 instance runs on either;
 * an unpinned start runs the latest version of the runtime that takes it; a start of a name
 * no runtime has waits, neither poisoned nor counted, until deleted by id; and, with the
 * filter off (a provider wrapper without DURO_CAP_VERSION_FILTER), A takes the pinned
 * instance again and again, backs it off as unregistered each time, and ends it as poison
 * once max_attempts is exceeded: what rolling upgrades risk before ops version 7.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e-common.h"

#define ORCH "Upgrade"

static int upgrade_v1(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    return duro_complete(o, "v1");
}

static int upgrade_v2(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    return duro_complete(o, "v2");
}

/* Runtime A (only 1.0.0) and runtime B (1.0.0 and 2.0.0), each on its own handle of one
 * fresh database file; neither runs yet. */
static void open_pair(e2e_env *a, e2e_env *b)
{
    char path[PATH_MAX];

    e2e_new_db_path(path, sizeof path);
    e2e_open_path(a, path);
    e2e_open_path(b, path);
    ck_assert_int_eq(duro_register_orchestration(a->reg, ORCH, "1.0.0", upgrade_v1, NULL), 0);
    ck_assert_int_eq(duro_register_orchestration(b->reg, ORCH, "1.0.0", upgrade_v1, NULL), 0);
    ck_assert_int_eq(duro_register_orchestration(b->reg, ORCH, "2.0.0", upgrade_v2, NULL), 0);
}

static void start_pinned(e2e_env *e, const char *id, const char *version)
{
    duro_error err = {0};
    int rc = duro_client_start_version(e->c, id, ORCH, version, "", &err);

    ck_assert_msg(rc == 0, "start %s at %s: %s (%s)", id, version ? version : "(latest)",
                  duro_err_name(rc), err.message);
}

/* Assert the orchestrator queue of the store holds `n` visible unlocked instances' messages
 * and nothing delayed (a macro, so failures show the test's line). */
#define DURO_ASSERT_QUEUED(e, n)                                                               \
    do {                                                                                       \
        duro_queue_depths d_;                                                                  \
        duro_error e_ = {0};                                                                   \
        ck_assert_int_eq((e)->p->ops->queue_depths((e)->p, duro_clock_now_ms(), &d_, &e_), 0); \
        ck_assert_uint_eq(d_.orchestrator, (n));                                               \
        ck_assert_uint_eq(d_.delayed, 0);                                                      \
    } while (0)

static duro_runtime_metrics metrics_of(e2e_env *e)
{
    duro_runtime_metrics m;
    duro_error err = {0};

    duro_runtime_metrics_init(&m);
    ck_assert_int_eq(duro_runtime_metrics_get(e->rt, &m, &err), 0);
    return m;
}

/* Assert that `id` completed with `output` at orchestration version `version`. */
static void expect_done_at(e2e_env *e, const char *id, const char *output, const char *version)
{
    duro_status st;

    e2e_expect_completed(e, id, output);
    memset(&st, 0, sizeof st);
    e2e_wait(e, id, &st);
    ck_assert_str_eq(st.orch_version, version);
    duro_status_clear(&st);
}

START_TEST(test_rolling_upgrade)
{
    e2e_env a, b;
    duro_status st;
    duro_runtime_metrics m;
    duro_delete_result del;
    duro_error err = {0};

    open_pair(&a, &b);
    e2e_start(&a);
    /* enqueued first: the first instances a fetch could take */
    e2e_start_instance(&a, "no-such", "NoSuchOrchestration", "");
    start_pinned(&a, "on-v2", "2.0.0");
    start_pinned(&a, "on-v1", "1.0.0");
    expect_done_at(&a, "on-v1", "v1", "1.0.0");
    e2e_wait_terminals(&a, 1); /* the observer hears of it after the metrics count it */
    m = metrics_of(&a);
    ck_assert_uint_eq(m.turns, 1);
    ck_assert_uint_eq(m.completed, 1);
    memset(&st, 0, sizeof st);
    ck_assert_int_eq(duro_client_status(a.c, "on-v2", &st, &err), 0);
    ck_assert_int_eq(st.state, DURO_STATE_NOT_FOUND); /* still only a queued start */
    duro_status_clear(&st);
    DURO_ASSERT_QUEUED(&a, 2); /* on-v2 and no-such wait, neither locked nor delayed */

    e2e_start(&b);
    expect_done_at(&b, "on-v2", "v2", "2.0.0");
    m = metrics_of(&a);
    ck_assert_uint_eq(m.turns, 1); /* a never took it, not even to back it off */
    ck_assert_uint_eq(m.failed[DURO_CAT_POISON], 0);

    e2e_stop(&a);
    start_pinned(&b, "v1-on-b", "1.0.0");
    expect_done_at(&b, "v1-on-b", "v1", "1.0.0");
    start_pinned(&b, "latest-on-b", NULL);
    expect_done_at(&b, "latest-on-b", "v2", "2.0.0");
    e2e_wait_terminals(&b, 3);
    m = metrics_of(&b);
    ck_assert_uint_eq(m.completed, 3);
    /* the start nobody can run is removed by id: its one message, no instance row */
    DURO_ASSERT_QUEUED(&b, 1);
    ck_assert_int_eq(duro_client_delete(b.c, "no-such", 0, &del, &err), 0);
    ck_assert_uint_eq(del.instances, 0);
    ck_assert_uint_eq(del.messages, 1);
    DURO_ASSERT_QUEUED(&b, 0);
    ck_assert_int_eq(duro_client_delete(b.c, "no-such", 0, &del, &err), DURO_ENOTFOUND);
    e2e_close(&b);
    e2e_close(&a);
}
END_TEST

START_TEST(test_without_filter_old_runtime_poisons_new_version)
{
    e2e_env a, b;
    duro_fault_options none;
    duro_runtime_metrics m;

    open_pair(&a, &b);
    duro_fault_options_init(&none);
    e2e_wrap_faults(&a, &none);
    a.faults->caps &= ~DURO_CAP_VERSION_FILTER; /* a's runtime fetches as before version 7 */
    e2e_start(&a);
    start_pinned(&a, "on-v2", "2.0.0");
    start_pinned(&a, "on-v1", "1.0.0");
    expect_done_at(&a, "on-v1", "v1", "1.0.0");
    /* every fetch takes on-v2, hands it back as unregistered and counts an attempt, until the
     * test options' max_attempts (10) ends it as poison */
    e2e_expect_failed(&a, "on-v2", DURO_CAT_POISON, "exceeded 11 attempts");
    m = metrics_of(&a);
    ck_assert_uint_ge(m.turns, 11);
    e2e_close(&b);
    e2e_close(&a);
}
END_TEST

int main(void)
{
    const e2e_test tests[] = {
        {"rolling_upgrade", test_rolling_upgrade},
        {"without_filter_old_runtime_poisons_new_version",
         test_without_filter_old_runtime_poisons_new_version},
    };
    return e2e_main("test-capfilter", 1u << E2E_FILE, tests, sizeof tests / sizeof tests[0]);
}
