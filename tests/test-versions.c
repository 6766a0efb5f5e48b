/*
 * test-versions.c — version targets from orchestration code end to end (issue 13):
 * duro_continue_as_new_version and duro_call_sub_version with two runtimes on one SQLite
 * file (and, built as test-versions-postgres with DURO_E2E_POSTGRES, on one PostgreSQL
 * schema) during a rolling upgrade, runtime A with only version 1.0.0 of the orchestrations,
 * runtime B with 1.0.0 and 2.0.0.
 *
 * Covered: an instance on A continues as new onto 2.0.0 (a version A does not have: allowed),
 * A never takes the 2.0.0 execution and B completes it at 2.0.0; a parent that only A runs
 * starts a child pinned to 2.0.0 that only B runs, and completes with the child's output;
 * both targets are recorded in history. "Never" is shown as test-capfilter shows it: after
 * the pinned work is queued, a 1.0.0 instance is started behind it and A completes that one,
 * so a fetch of A that could take the pinned work would have taken it first (the oldest
 * message first); A's turn count proves it did not. Invalid versions fail the instance with a
 * configuration error naming them, and a replay that pins another version is a
 * nondeterminism.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e-common.h"

/* Which runtime runs a handler: its registration's user data. */
static const char runtime_a[] = "A", runtime_b[] = "B";

/* Loop 1.0.0: input "start" continues as new onto 2.0.0 with "from-v1"; other input
 * completes at 1.0.0. */
static int loop_v1(duro_orch *o, const char *input, void *ud)
{
    if (strcmp(input, "start") == 0)
        return duro_continue_as_new_version(o, "from-v1", "2.0.0");
    return duro_completef(o, "v1@%s:%s", (const char *)ud, input);
}

static int loop_v2(duro_orch *o, const char *input, void *ud)
{
    return duro_completef(o, "v2@%s:%s", (const char *)ud, input);
}

static int child_v1(duro_orch *o, const char *input, void *ud)
{
    return duro_completef(o, "child v1@%s:%s", (const char *)ud, input);
}

static int child_v2(duro_orch *o, const char *input, void *ud)
{
    return duro_completef(o, "child v2@%s:%s", (const char *)ud, input);
}

/* Index into pinned_versions of the version Parent pins (changed by the nondeterminism test
 * between turns). */
static int parent_pin;
static const char *const pinned_versions[] = {"2.0.0", "1.0.0"};

/* Starts child "kid" of Child pinned to pinned_versions[parent_pin], sets custom status
 * "waiting" and completes with "parent got <child output>". */
static int parent(duro_orch *o, const char *input, void *ud)
{
    duro_task *t;

    (void)ud;
    t = duro_call_sub_version(o, "Child",
                              pinned_versions[__atomic_load_n(&parent_pin, __ATOMIC_SEQ_CST)],
                              "kid", input);
    duro_set_custom_status(o, "waiting");
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_fail(o, duro_task_error(t));
    return duro_completef(o, "parent got %s", duro_task_value(t));
}

/* An invalid version target chosen by the input. */
static int bad_version(duro_orch *o, const char *input, void *ud)
{
    duro_task *t;

    (void)ud;
    if (strcmp(input, "can") == 0)
        return duro_continue_as_new_version(o, "next", "v2");
    t = duro_call_sub_version(o, "Child", "2.x", NULL, "");
    DURO_AWAIT(o, t);
    return duro_complete(o, "not refused");
}

/* Runtime A (Loop, Child 1.0.0; Parent, BadVersion) and runtime B (Loop, Child 1.0.0 and
 * 2.0.0), each on its own handle of one fresh store of `kind`; neither runs yet. */
static void open_pair(e2e_env *a, e2e_env *b, int kind)
{
    e2e_open(a, kind);
    e2e_open_shared(b, a);
    ck_assert_int_eq(duro_register_orchestration(a->reg, "Loop", "1.0.0", loop_v1, (void *)runtime_a), 0);
    ck_assert_int_eq(duro_register_orchestration(a->reg, "Child", "1.0.0", child_v1, (void *)runtime_a), 0);
    ck_assert_int_eq(duro_register_orchestration(a->reg, "Parent", "1.0.0", parent, NULL), 0);
    ck_assert_int_eq(duro_register_orchestration(a->reg, "BadVersion", "1.0.0", bad_version, NULL), 0);
    ck_assert_int_eq(duro_register_orchestration(b->reg, "Loop", "1.0.0", loop_v1, (void *)runtime_b), 0);
    ck_assert_int_eq(duro_register_orchestration(b->reg, "Loop", "2.0.0", loop_v2, (void *)runtime_b), 0);
    ck_assert_int_eq(duro_register_orchestration(b->reg, "Child", "1.0.0", child_v1, (void *)runtime_b), 0);
    ck_assert_int_eq(duro_register_orchestration(b->reg, "Child", "2.0.0", child_v2, (void *)runtime_b), 0);
}

static void start_at(e2e_env *e, const char *id, const char *name, const char *version,
                     const char *input)
{
    duro_error err = {0};
    int rc = duro_client_start_version(e->c, id, name, version, input, &err);

    ck_assert_msg(rc == 0, "start %s: %s (%s)", id, duro_err_name(rc), err.message);
}

/* open_pair, then only A runs: "parent" (Parent, input "x", pinning 2.0.0) has made its first
 * turn, which queued kid's start in the commit that set its status "waiting". */
static void start_parent_on_a(e2e_env *a, e2e_env *b, int kind)
{
    open_pair(a, b, kind);
    __atomic_store_n(&parent_pin, 0, __ATOMIC_SEQ_CST);
    e2e_start(a);
    start_at(a, "parent", "Parent", NULL, "x");
    e2e_wait_custom_status(a, "parent", "waiting");
}

static uint64_t turns_of(e2e_env *e)
{
    duro_runtime_metrics m;
    duro_error err = {0};

    duro_runtime_metrics_init(&m);
    ck_assert_int_eq(duro_runtime_metrics_get(e->rt, &m, &err), 0);
    return m.turns;
}

/* Assert the status of `id`: `state`, execution `execution`, orchestration `version`. */
static void expect_status(e2e_env *e, const char *id, duro_state state, uint64_t execution,
                          const char *version)
{
    duro_status st;
    duro_error err = {0};

    memset(&st, 0, sizeof st);
    ck_assert_int_eq(duro_client_status(e->c, id, &st, &err), 0);
    ck_assert_msg(st.state == state, "%s is %s, expected %s", id, duro_state_name(st.state),
                  duro_state_name(state));
    ck_assert_uint_eq(st.execution_id, execution);
    if (version)
        ck_assert_str_eq(st.orch_version, version);
    duro_status_clear(&st);
}

/* 1 when the first event of kind `kind_name` of execution `execution` of `id` has a payload
 * containing `needle`. */
static int event_has(e2e_env *e, const char *id, uint64_t execution, const char *kind_name,
                     const char *needle)
{
    duro_event *ev;
    size_t n, i;
    int found = 0, seen = 0;

    e2e_history(e, id, execution, &ev, &n);
    for (i = 0; i < n && !seen; i++)
        if (strcmp(duro_event_kind_name(ev[i].kind), kind_name) == 0) {
            seen = 1;
            found = strstr(ev[i].payload, needle) != NULL;
        }
    duro_events_free(ev, n);
    return found;
}

START_TEST(test_continue_as_new_onto_newer_version)
{
    e2e_env a, b;

    open_pair(&a, &b, _i);
    e2e_start(&a);
    start_at(&a, "loop", "Loop", "1.0.0", "start");
    e2e_wait_terminals(&a, 1); /* A's observer: execution 1 continued as new */
    ck_assert_int_eq(a.terms[0].state, DURO_STATE_CONTINUED_AS_NEW);
    ck_assert_str_eq(a.terms[0].output, "from-v1");
    ck_assert(event_has(&a, "loop", 1, "OrchestrationContinuedAsNew", "\"version\":\"2.0.0\""));
    /* queued behind the next execution's message: A takes it, and would take loop first */
    start_at(&a, "probe", "Loop", "1.0.0", "probe");
    e2e_expect_completed(&a, "probe", "v1@A:probe");
    e2e_wait_terminals(&a, 2);
    ck_assert_uint_eq(turns_of(&a), 2); /* loop's first execution and probe: never loop's 2nd */
    expect_status(&a, "loop", DURO_STATE_CONTINUED_AS_NEW, 1, "1.0.0");

    e2e_start(&b);
    e2e_expect_completed(&a, "loop", "v2@B:from-v1");
    expect_status(&a, "loop", DURO_STATE_COMPLETED, 2, "2.0.0");
    ck_assert_uint_eq(turns_of(&a), 2);
    e2e_close(&b);
    e2e_close(&a);
}
END_TEST

START_TEST(test_child_pinned_to_version_only_new_runtime_runs)
{
    e2e_env a, b;

    start_parent_on_a(&a, &b, _i);
    start_at(&a, "probe", "Child", "1.0.0", "probe");
    e2e_expect_completed(&a, "probe", "child v1@A:probe");
    e2e_wait_terminals(&a, 1);
    ck_assert_uint_eq(turns_of(&a), 2); /* the parent's first turn and probe: never kid */
    expect_status(&a, "kid", DURO_STATE_NOT_FOUND, 0, NULL);
    ck_assert(event_has(&a, "parent", 0, "SubOrchestrationScheduled", "\"version\":\"2.0.0\""));

    e2e_start(&b);
    e2e_expect_completed(&a, "kid", "child v2@B:x");
    expect_status(&a, "kid", DURO_STATE_COMPLETED, 1, "2.0.0");
    e2e_expect_completed(&a, "parent", "parent got child v2@B:x");
    e2e_close(&b);
    e2e_close(&a);
}
END_TEST

START_TEST(test_invalid_version_fails_instance)
{
    e2e_env a, b;

    open_pair(&a, &b, _i);
    e2e_start(&a);
    start_at(&a, "bad-can", "BadVersion", NULL, "can");
    start_at(&a, "bad-sub", "BadVersion", NULL, "sub");
    e2e_expect_failed(&a, "bad-can", DURO_CAT_CONFIGURATION,
                      "duro_continue_as_new_version: version \"v2\" is not MAJOR.MINOR.PATCH");
    e2e_expect_failed(&a, "bad-sub", DURO_CAT_CONFIGURATION,
                      "duro_call_sub_version: version \"2.x\" is not MAJOR.MINOR.PATCH");
    ck_assert_uint_eq(e2e_count_kind(&a, "bad-sub", 0, "SubOrchestrationScheduled"), 0);
    e2e_close(&b);
    e2e_close(&a);
}
END_TEST

START_TEST(test_other_pinned_version_on_replay_is_nondeterminism)
{
    e2e_env a, b;

    start_parent_on_a(&a, &b, _i);
    __atomic_store_n(&parent_pin, 1, __ATOMIC_SEQ_CST); /* the code now pins 1.0.0 */
    e2e_start(&b); /* B runs kid at 2.0.0; its result replays the parent on A */
    e2e_expect_completed(&a, "kid", "child v2@B:x");
    e2e_expect_failed(&a, "parent", DURO_CAT_CONFIGURATION,
                      "the code now makes sub-orchestration \"Child\" version 1.0.0 but history "
                      "recorded sub-orchestration \"Child\" version 2.0.0");
    e2e_close(&b);
    e2e_close(&a);
}
END_TEST

int main(void)
{
    const e2e_test tests[] = {
        {"continue_as_new_onto_newer_version", test_continue_as_new_onto_newer_version},
        {"child_pinned_to_version_only_new_runtime_runs",
         test_child_pinned_to_version_only_new_runtime_runs},
        {"invalid_version_fails_instance", test_invalid_version_fails_instance},
        {"other_pinned_version_on_replay_is_nondeterminism",
         test_other_pinned_version_on_replay_is_nondeterminism},
    };
#ifdef DURO_E2E_POSTGRES
    return e2e_main("test-versions-postgres", 1u << E2E_POSTGRES, tests,
                    sizeof tests / sizeof tests[0]);
#else
    return e2e_main("test-versions", 1u << E2E_FILE, tests, sizeof tests / sizeof tests[0]);
#endif
}
