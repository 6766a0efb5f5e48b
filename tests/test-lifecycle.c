/*
 * test-lifecycle.c — end-to-end tests of the client's lifecycle controls (duro.h:
 * duro_client_terminate, duro_client_suspend, duro_client_resume) on the in-memory and the
 * file SQLite provider, and, built as test-lifecycle-postgres (DURO_E2E_POSTGRES), on the
 * PostgreSQL provider: terminating a tree of three instances while the grandchild's
 * activity runs (every instance Terminated with its reason, the late activity result
 * dropped), events raised while suspended (kept, not seen by the code, seen in order after
 * the resume, also across a runtime restart), terminating a suspended instance, a scheduled
 * start (Scheduled until its time, no code run before it), each id-reuse policy of
 * duro_client_start_with, the states status, details and list filters show, every error
 * case, and every allocation failure of the new client calls (conformance/alloc-fault.c,
 * glibc without AddressSanitizer).
 *
 * Waits are event-driven (the provider's commit notification, duro_client_wait, latches),
 * never sleeps.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-fault.h"
#include "duro-provider.h"
#include "e2e-common.h"

/* ---- Orchestrations and activities ---------------------------------------------------------- */

/* The grandchild's activity: reports that it runs, then holds until the test opens the gate,
 * whatever its cancellation flag says, and succeeds with "late". */
static e2e_latch hold_started;
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void open_gate(void)
{
    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

static int act_hold(duro_activity *a, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    e2e_latch_add(&hold_started, 1);
    pthread_mutex_lock(&gate_mu);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    return duro_activity_ok(a, "late");
}

/* Root -> Mid ("<root>-mid") -> Leaf ("<root>-leaf") -> activity Hold. */
static int orch_root(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    char id[64];
    snprintf(id, sizeof id, "%s-mid", duro_orch_instance(o));
    duro_task *t = duro_call_sub(o, "Mid", id, input);
    DURO_AWAIT(o, t);
    return duro_complete(o, duro_task_ok(t) ? duro_task_value(t) : "child failed");
}

static int orch_mid(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    char id[64];
    snprintf(id, sizeof id, "%.50s-leaf", input);
    duro_task *t = duro_call_sub(o, "Leaf", id, input);
    DURO_AWAIT(o, t);
    return duro_complete(o, duro_task_ok(t) ? duro_task_value(t) : "child failed");
}

static int orch_leaf(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_task *t = duro_call_activity(o, "Hold", input);
    DURO_AWAIT(o, t);
    return duro_complete(o, duro_task_value(t));
}

/* Waits for three events "e" one after another, showing "waiting:<k>" (k received so far)
 * as custom status, and completes with their data joined by commas. */
static int orch_waiter(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    char out[256] = "", st[32];
    for (int k = 0; k < 3; k++) {
        snprintf(st, sizeof st, "waiting:%d", k);
        duro_set_custom_status(o, st);
        duro_task *t = duro_wait_event(o, "e");
        DURO_AWAIT(o, t);
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", k ? "," : "",
                 duro_task_value(t));
    }
    return duro_complete(o, out);
}

static int orch_quick(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    return duro_complete(o, input);
}

/* Counts its runs and completes with the turn's time (duro_now_ms). */
static int stamp_runs;

static int orch_stamp(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    __atomic_add_fetch(&stamp_runs, 1, __ATOMIC_SEQ_CST);
    return duro_completef(o, "%lld", (long long)duro_now_ms(o));
}

static int orch_boom(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    return duro_fail(o, input);
}

static void register_all(e2e_env *e)
{
    e2e_orch(e, "Stamp", orch_stamp, NULL);
    e2e_orch(e, "Boom", orch_boom, NULL);
    e2e_orch(e, "Root", orch_root, NULL);
    e2e_orch(e, "Mid", orch_mid, NULL);
    e2e_orch(e, "Leaf", orch_leaf, NULL);
    e2e_orch(e, "Waiter", orch_waiter, NULL);
    e2e_orch(e, "Quick", orch_quick, NULL);
    e2e_act(e, "Hold", act_hold, NULL);
}

/* ---- Helpers -------------------------------------------------------------------------------- */

/* Wait (on the provider's commit notification) until `pred(e, id)` holds. */
static void wait_until(e2e_env *e, const char *id, int (*pred)(e2e_env *, const char *),
                       const char *what)
{
    int64_t until = duro__monotonic_ms() + E2E_WAIT_MS;
    for (;;) {
        uint64_t seq = e->p->ops->commit_seq(e->p);
        if (pred(e, id))
            return;
        int64_t left = until - duro__monotonic_ms();
        ck_assert_msg(left > 0, "timed out waiting until %s: %s", id, what);
        e->p->ops->wait_commit(e->p, seq, left);
    }
}

static int state_of(e2e_env *e, const char *id)
{
    duro_status st;
    duro_error err = {0};
    int rc = duro_client_status(e->c, id, &st, &err);
    ck_assert_msg(rc == 0, "status of %s: %s", id, err.message);
    int s = st.state;
    duro_status_clear(&st);
    return s;
}

static int is_suspended(e2e_env *e, const char *id)
{
    return state_of(e, id) == DURO_STATE_SUSPENDED;
}

static int has_three_events(e2e_env *e, const char *id)
{
    return e2e_count_kind(e, id, 0, "ExternalEventRaised") == 3;
}

/* Assert that `id` is Terminated with exactly `reason`, in status and details. */
static void expect_terminated(e2e_env *e, const char *id, const char *reason)
{
    duro_status st;
    duro_instance_details d;
    duro_error err = {0};
    e2e_wait(e, id, &st);
    ck_assert_msg(st.state == DURO_STATE_TERMINATED, "%s is %s", id, duro_state_name(st.state));
    ck_assert_str_eq(duro_state_name(st.state), "Terminated");
    ck_assert_str_eq(st.error, reason);
    ck_assert_ptr_null(st.output);
    duro_status_clear(&st);
    ck_assert_int_eq(duro_client_info(e->c, id, &d, &err), 0);
    ck_assert_int_eq(d.state, DURO_STATE_TERMINATED);
    ck_assert_str_eq(d.error, reason);
    ck_assert_int_gt(d.completed_at_ms, 0);
    duro_instance_details_clear(&d);
    ck_assert_uint_eq(e2e_count_kind(e, id, 0, "OrchestrationTerminated"), 1);
}

/* The ids a listing with state filter `state` returns, comma-joined into buf. */
static const char *list_ids(e2e_env *e, duro_state state, char *buf, size_t size)
{
    duro_list_options o;
    duro_instance_page page;
    duro_error err = {0};
    size_t len = 0;
    duro_list_options_init(&o);
    o.state = state;
    ck_assert_int_eq(duro_client_list(e->c, &o, &page, &err), 0);
    buf[0] = '\0';
    for (size_t i = 0; i < page.n && len < size; i++) {
        ck_assert_int_eq(page.items[i].state, state);
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "",
                                page.items[i].instance);
    }
    duro_instance_page_clear(&page);
    return buf;
}

static int is_scheduled(e2e_env *e, const char *id)
{
    return state_of(e, id) == DURO_STATE_SCHEDULED;
}

static uint64_t queued_orch(e2e_env *e)
{
    duro_queue_depths q;
    duro_error err = {0};
    ck_assert_int_eq(duro_client_queue_depths(e->c, &q, &err), 0);
    return q.orchestrator + q.delayed;
}

static int queue_empty(e2e_env *e, const char *id)
{
    (void)id;
    return queued_orch(e) == 0;
}

static int start_with(e2e_env *e, const char *id, const char *name, const char *input,
                      duro_reuse_policy reuse, duro_error *err)
{
    duro_start_options o;
    duro_start_options_init(&o);
    o.reuse = reuse;
    return duro_client_start_with(e->c, id, name, input, &o, err);
}

static void expect_rc(int rc, int want, const duro_error *err, const char *needle)
{
    ck_assert_msg(rc == want, "got %s (%s), want %s", duro_err_name(rc), err->message,
                  duro_err_name(want));
    if (needle)
        ck_assert_msg(strstr(err->message, needle), "message \"%s\" lacks \"%s\"", err->message,
                      needle);
}

/* ---- Tests ---------------------------------------------------------------------------------- */

START_TEST(test_terminate_tree)
{
    e2e_env e;
    duro_error err = {0};
    duro_queue_depths q;
    e2e_latch_init(&hold_started);
    gate_open = 0;
    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    e2e_start_instance(&e, "tree", "Root", "tree");
    ck_assert(e2e_latch_wait(&hold_started, 1, E2E_WAIT_MS));

    ck_assert_int_eq(duro_client_terminate(e.c, "tree", "operator: stop", &err), 0);
    expect_terminated(&e, "tree", "operator: stop");
    expect_terminated(&e, "tree-mid", "parent tree terminated: operator: stop");
    expect_terminated(&e, "tree-leaf",
                      "parent tree-mid terminated: parent tree terminated: operator: stop");
    duro_instance_tree tree;
    ck_assert_int_eq(duro_client_tree(e.c, "tree", &tree, &err), 0);
    ck_assert_uint_eq(tree.n, 3);
    for (size_t i = 0; i < tree.n; i++)
        ck_assert_int_eq(tree.nodes[i].info.state, DURO_STATE_TERMINATED);
    duro_instance_tree_clear(&tree);
    /* the observer heard of three terminated instances */
    e2e_wait_terminals(&e, 3);
    pthread_mutex_lock(&e.mu);
    for (size_t i = 0; i < e.n_terms; i++)
        ck_assert_int_eq(e.terms[i].state, DURO_STATE_TERMINATED);
    pthread_mutex_unlock(&e.mu);
    /* the runtime's metrics count them as terminated, not as failed */
    duro_runtime_metrics m;
    duro_runtime_metrics_init(&m);
    ck_assert_int_eq(duro_runtime_metrics_get(e.rt, &m, &err), 0);
    ck_assert_uint_eq(m.terminated, 3);
    for (size_t i = 0; i <= DURO_CAT_POISON; i++)
        ck_assert_uint_eq(m.failed[i], 0);

    /* the activity finishes after the end: its result is dropped. Shutdown joins the
     * activity thread; a second runtime then drains what is queued (the children's results
     * to their ended parents); the leaf's history is what the termination left */
    size_t leaf_events;
    duro_event *ev;
    e2e_history(&e, "tree-leaf", 0, &ev, &leaf_events);
    duro_events_free(ev, leaf_events);
    open_gate();
    e2e_stop(&e);
    e2e_start(&e);
    wait_until(&e, "tree", queue_empty, "queues drained");
    e2e_stop(&e);
    ck_assert_int_eq(duro_client_queue_depths(e.c, &q, &err), 0);
    ck_assert_uint_eq(q.orchestrator, 0);
    ck_assert_uint_eq(q.worker, 0);
    ck_assert_uint_eq(q.delayed, 0);
    size_t now_events;
    e2e_history(&e, "tree-leaf", 0, &ev, &now_events);
    duro_events_free(ev, now_events);
    ck_assert_uint_eq(now_events, leaf_events);
    ck_assert_uint_eq(e2e_count_kind(&e, "tree-leaf", 0, "ActivityCompleted"), 0);
    ck_assert_uint_eq(e2e_count_kind(&e, "tree-leaf", 0, "ActivityCancelled"), 1);
    ck_assert_int_eq(state_of(&e, "tree-leaf"), DURO_STATE_TERMINATED);

    /* terminating an ended instance is an error and changes nothing */
    expect_rc(duro_client_terminate(e.c, "tree", "again", &err), DURO_ESTATE, &err,
              "is Terminated");
    expect_rc(duro_client_suspend(e.c, "tree", "x", &err), DURO_ESTATE, &err, "is Terminated");
    expect_rc(duro_client_resume(e.c, "tree", "x", &err), DURO_ESTATE, &err, "is Terminated");
    ck_assert_int_eq(duro_client_queue_depths(e.c, &q, &err), 0);
    ck_assert_uint_eq(q.orchestrator, 0);
    expect_terminated(&e, "tree", "operator: stop");
    e2e_latch_destroy(&hold_started);
    e2e_close(&e);
}
END_TEST

START_TEST(test_suspend_keeps_events)
{
    e2e_env e;
    duro_error err = {0};
    duro_instance_details d;
    char buf[256];
    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    e2e_start_instance(&e, "w", "Waiter", "");
    e2e_start_instance(&e, "other", "Waiter", "");
    e2e_wait_custom_status(&e, "w", "waiting:0");
    e2e_wait_custom_status(&e, "other", "waiting:0");

    ck_assert_int_eq(duro_client_suspend(e.c, "w", "maintenance", &err), 0);
    wait_until(&e, "w", is_suspended, "Suspended");
    ck_assert_str_eq(duro_state_name(DURO_STATE_SUSPENDED), "Suspended");
    expect_rc(duro_client_suspend(e.c, "w", "twice", &err), DURO_ESTATE, &err, "is Suspended");
    ck_assert_int_eq(duro_client_info(e.c, "w", &d, &err), 0);
    ck_assert_int_eq(d.state, DURO_STATE_SUSPENDED);
    ck_assert_int_eq(d.completed_at_ms, 0);
    duro_instance_details_clear(&d);
    ck_assert_str_eq(list_ids(&e, DURO_STATE_SUSPENDED, buf, sizeof buf), "w");
    ck_assert_str_eq(list_ids(&e, DURO_STATE_RUNNING, buf, sizeof buf), "other");

    e2e_raise(&e, "w", "e", "a");
    e2e_raise(&e, "w", "e", "b");
    e2e_raise(&e, "w", "e", "c");
    wait_until(&e, "w", has_three_events, "three events recorded");
    /* recorded, not seen: the code has not run since the suspension */
    duro_status st;
    ck_assert_int_eq(duro_client_status(e.c, "w", &st, &err), 0);
    ck_assert_int_eq(st.state, DURO_STATE_SUSPENDED);
    ck_assert_str_eq(st.custom_status, "waiting:0");
    duro_status_clear(&st);

    ck_assert_int_eq(duro_client_resume(e.c, "w", "done", &err), 0);
    e2e_expect_completed(&e, "w", "a,b,c");
    ck_assert_uint_eq(e2e_count_kind(&e, "w", 0, "OrchestrationSuspended"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "w", 0, "OrchestrationResumed"), 1);
    expect_rc(duro_client_resume(e.c, "w", "x", &err), DURO_ESTATE, &err, "is Completed");
    expect_rc(duro_client_resume(e.c, "other", "x", &err), DURO_ESTATE, &err, "is Running");
    ck_assert_int_eq(state_of(&e, "other"), DURO_STATE_RUNNING);
    e2e_close(&e);
}
END_TEST

START_TEST(test_suspend_survives_restart)
{
    e2e_env e;
    duro_error err = {0};
    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    e2e_start_instance(&e, "w", "Waiter", "");
    e2e_raise(&e, "w", "e", "a");
    e2e_wait_custom_status(&e, "w", "waiting:1");
    ck_assert_int_eq(duro_client_suspend(e.c, "w", "hold", &err), 0);
    wait_until(&e, "w", is_suspended, "Suspended");
    e2e_raise(&e, "w", "e", "b");
    e2e_raise(&e, "w", "e", "c");
    wait_until(&e, "w", has_three_events, "three events recorded");

    /* a new runtime on the same store: still suspended, nothing lost */
    e2e_stop(&e);
    e2e_start(&e);
    ck_assert_int_eq(state_of(&e, "w"), DURO_STATE_SUSPENDED);
    ck_assert_int_eq(duro_client_resume(e.c, "w", "go", &err), 0);
    e2e_expect_completed(&e, "w", "a,b,c");
    e2e_close(&e);
}
END_TEST

START_TEST(test_terminate_suspended)
{
    e2e_env e;
    duro_error err = {0};
    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    e2e_start_instance(&e, "w", "Waiter", "");
    e2e_wait_custom_status(&e, "w", "waiting:0");
    ck_assert_int_eq(duro_client_suspend(e.c, "w", "hold", &err), 0);
    wait_until(&e, "w", is_suspended, "Suspended");
    e2e_raise(&e, "w", "e", "a");
    ck_assert_int_eq(duro_client_terminate(e.c, "w", "give up", &err), 0);
    expect_terminated(&e, "w", "give up");
    e2e_close(&e);
}
END_TEST

START_TEST(test_errors)
{
    e2e_env e;
    duro_error err = {0};
    duro_queue_depths q;
    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    e2e_start_instance(&e, "done", "Quick", "x");
    e2e_expect_completed(&e, "done", "x");

    expect_rc(duro_client_terminate(e.c, "nope", "r", &err), DURO_ENOTFOUND, &err, "nope");
    expect_rc(duro_client_suspend(e.c, "nope", "r", &err), DURO_ENOTFOUND, &err, "nope");
    expect_rc(duro_client_resume(e.c, "nope", "r", &err), DURO_ENOTFOUND, &err, "nope");
    expect_rc(duro_client_terminate(e.c, "done", "r", &err), DURO_ESTATE, &err, "is Completed");
    expect_rc(duro_client_suspend(e.c, "done", "r", &err), DURO_ESTATE, &err, "is Completed");
    expect_rc(duro_client_resume(e.c, "done", "r", &err), DURO_ESTATE, &err, "is Completed");
    expect_rc(duro_client_terminate(NULL, "done", "r", &err), DURO_EINVAL, &err, NULL);
    expect_rc(duro_client_suspend(e.c, NULL, "r", &err), DURO_EINVAL, &err, NULL);
    expect_rc(duro_client_resume(e.c, "", "r", &err), DURO_EINVAL, &err, NULL);
    expect_rc(duro_client_terminate(e.c, "done", "\xff", &err), DURO_EINVAL, &err, NULL);
    /* nothing was sent */
    e2e_stop(&e);
    ck_assert_int_eq(duro_client_queue_depths(e.c, &q, &err), 0);
    ck_assert_uint_eq(q.orchestrator, 0);
    ck_assert_int_eq(state_of(&e, "done"), DURO_STATE_COMPLETED);
    ck_assert_str_eq(duro_event_kind_name(DURO_EVENT_ORCH_TERMINATED), "OrchestrationTerminated");
    ck_assert_str_eq(duro_event_kind_name(DURO_EVENT_VALUE_READ + 1), "Unknown");
    e2e_close(&e);
}
END_TEST

START_TEST(test_scheduled_start)
{
    e2e_env e;
    duro_error err = {0};
    duro_start_options o;
    char buf[256];
    stamp_runs = 0;
    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    int64_t at = duro_clock_now_ms() + 1000;
    duro_start_options_init(&o);
    o.start_at_ms = at;
    ck_assert_int_eq(duro_client_start_with(e.c, "later", "Stamp", "", &o, &err), 0);
    wait_until(&e, "later", is_scheduled, "Scheduled");
    /* it exists, is listed as Scheduled, and its code has not run */
    ck_assert_int_lt(duro_clock_now_ms(), at);
    ck_assert_int_eq(__atomic_load_n(&stamp_runs, __ATOMIC_SEQ_CST), 0);
    ck_assert_str_eq(duro_state_name(DURO_STATE_SCHEDULED), "Scheduled");
    ck_assert_str_eq(list_ids(&e, DURO_STATE_SCHEDULED, buf, sizeof buf), "later");
    ck_assert_str_eq(list_ids(&e, DURO_STATE_RUNNING, buf, sizeof buf), "");
    /* at its time it runs, once */
    duro_status st;
    e2e_wait(&e, "later", &st);
    ck_assert_int_eq(st.state, DURO_STATE_COMPLETED);
    ck_assert_int_ge(strtoll(st.output, NULL, 10), at);
    duro_status_clear(&st);
    ck_assert_int_eq(__atomic_load_n(&stamp_runs, __ATOMIC_SEQ_CST), 1);
    /* a time that is not ahead starts at once */
    o.start_at_ms = 1;
    ck_assert_int_eq(duro_client_start_with(e.c, "now", "Quick", "n", &o, &err), 0);
    e2e_expect_completed(&e, "now", "n");
    ck_assert_uint_eq(e2e_count_kind(&e, "now", 0, "TimerFired"), 0);
    e2e_close(&e);
}
END_TEST

START_TEST(test_reuse_policies)
{
    e2e_env e;
    duro_error err = {0};
    duro_status st;
    duro_start_options o;
    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    /* an unknown id starts under every policy */
    ck_assert_int_eq(start_with(&e, "a", "Quick", "one", DURO_REUSE_REJECT, &err), 0);
    ck_assert_int_eq(start_with(&e, "b", "Quick", "one", DURO_REUSE_IGNORE, &err), 0);
    ck_assert_int_eq(start_with(&e, "c", "Boom", "bad", DURO_REUSE_REPLACE_ENDED, &err), 0);
    e2e_start_instance(&e, "w", "Waiter", "");
    e2e_expect_completed(&e, "a", "one");
    e2e_expect_completed(&e, "b", "one");
    e2e_expect_failed(&e, "c", DURO_CAT_APPLICATION, "bad");
    e2e_wait_custom_status(&e, "w", "waiting:0");

    /* replace: ended instances (failed, completed, terminated) start afresh */
    ck_assert_int_eq(start_with(&e, "c", "Quick", "fresh", DURO_REUSE_REPLACE_ENDED, &err), 0);
    e2e_expect_completed(&e, "c", "fresh");
    ck_assert_uint_eq(e2e_count_kind(&e, "c", 0, "OrchestrationStarted"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "c", 0, "OrchestrationFailed"), 0);
    ck_assert_int_eq(start_with(&e, "a", "Quick", "two", DURO_REUSE_REPLACE_ENDED, &err), 0);
    e2e_expect_completed(&e, "a", "two");
    ck_assert_int_eq(duro_client_terminate(e.c, "w", "end", &err), 0);
    expect_terminated(&e, "w", "end");
    ck_assert_int_eq(start_with(&e, "w", "Quick", "after", DURO_REUSE_REPLACE_ENDED, &err), 0);
    e2e_expect_completed(&e, "w", "after");
    e2e_start_instance(&e, "run", "Waiter", "");
    e2e_wait_custom_status(&e, "run", "waiting:0");

    /* with no runtime: what each policy sends or refuses, exactly */
    e2e_stop(&e);
    expect_rc(start_with(&e, "a", "Quick", "x", DURO_REUSE_REJECT, &err), DURO_EEXIST, &err,
              "exists (Completed)");
    ck_assert_int_eq(start_with(&e, "a", "Quick", "x", DURO_REUSE_IGNORE, &err), 0);
    expect_rc(start_with(&e, "run", "Quick", "x", DURO_REUSE_REPLACE_ENDED, &err),
              DURO_ERUNNING, &err, "is Running");
    ck_assert_uint_eq(queued_orch(&e), 0);
    ck_assert_int_eq(state_of(&e, "run"), DURO_STATE_RUNNING);
    /* the default (duro_client_start's) sends the start, which the runtime drops */
    ck_assert_int_eq(start_with(&e, "a", "Quick", "x", DURO_REUSE_DEFAULT, &err), 0);
    ck_assert_uint_eq(queued_orch(&e), 1);
    e2e_start_instance(&e, "a", "Quick", "y");
    ck_assert_uint_eq(queued_orch(&e), 2);
    e2e_start(&e);
    wait_until(&e, "a", queue_empty, "both starts consumed");
    e2e_stop(&e);
    e2e_wait(&e, "a", &st);
    ck_assert_str_eq(st.output, "two");
    duro_status_clear(&st);

    /* bad options */
    duro_start_options_init(&o);
    o.reuse = (duro_reuse_policy)99;
    expect_rc(duro_client_start_with(e.c, "q", "Quick", "", &o, &err), DURO_EINVAL, &err,
              "reuse 99");
    o.reuse = DURO_REUSE_DEFAULT;
    o.size = 0;
    expect_rc(duro_client_start_with(e.c, "q", "Quick", "", &o, &err), DURO_EINVAL, &err,
              "duro_start_options_init");
    duro_start_options_init(&o);
    o.version = "1.x";
    expect_rc(duro_client_start_with(e.c, "q", "Quick", "", &o, &err), DURO_EINVAL, &err,
              "MAJOR.MINOR.PATCH");
    ck_assert_uint_eq(queued_orch(&e), 0);
    e2e_close(&e);
}
END_TEST

#if DURO_ALLOC_FAULT_AVAILABLE
/* 1 when `rc` is PostgreSQL's "the reply of COMMIT was lost" (an allocation failed while
 * libpq read it): the write may or may not have happened. */
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

/* Fail the k-th allocation (k = 0, 1, ...) of each new client call, with no runtime running:
 * each run is DURO_ENOMEM with nothing queued, or succeeds having queued exactly its one
 * message (or none, for IGNORE and a REJECT error), or, on PostgreSQL, loses the reply of
 * COMMIT (queued or not), until a run in which no allocation failed. Instances: "run" Running, "sus" Suspended, "done" Completed. */
START_TEST(test_allocation_failures)
{
    e2e_env e;
    duro_error err = {0};
    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    e2e_start_instance(&e, "run", "Waiter", "");
    e2e_start_instance(&e, "sus", "Waiter", "");
    e2e_start_instance(&e, "done", "Quick", "d");
    e2e_wait_custom_status(&e, "run", "waiting:0");
    e2e_wait_custom_status(&e, "sus", "waiting:0");
    e2e_expect_completed(&e, "done", "d");
    ck_assert_int_eq(duro_client_suspend(e.c, "sus", "s", &err), 0);
    wait_until(&e, "sus", is_suspended, "Suspended");
    e2e_stop(&e);
    for (int call = 0; call < 6; call++) {
        long injected_total = 0;
        for (long k = 0;; k++) {
            uint64_t before = queued_orch(&e);
            duro_start_options o;
            int rc, sends = 1;
            duro_start_options_init(&o);
            o.start_at_ms = duro_clock_now_ms() + 60000;
            duro__alloc_fault(NULL, k + 1);
            switch (call) {
            case 0: rc = duro_client_terminate(e.c, "run", "t", &err); break;
            case 1: rc = duro_client_suspend(e.c, "run", "s", &err); break;
            case 2: rc = duro_client_resume(e.c, "sus", "r", &err); break;
            case 3: rc = duro_client_start_with(e.c, "new", "Quick", "", &o, &err); break;
            case 4:
                o.reuse = DURO_REUSE_REJECT;
                rc = duro_client_start_with(e.c, "done", "Quick", "", &o, &err);
                sends = 0;
                break;
            default:
                o.reuse = DURO_REUSE_IGNORE;
                rc = duro_client_start_with(e.c, "done", "Quick", "", &o, &err);
                sends = 0;
                break;
            }
            long made = duro__alloc_fault(NULL, 0);
            int injected = made >= k + 1;
            injected_total += injected;
            uint64_t after = queued_orch(&e);
            if (rc == DURO_ENOMEM) {
                ck_assert_msg(injected, "call %d: ENOMEM without a failed allocation", call);
                ck_assert_uint_eq(after, before);
                continue;
            }
            if (commit_unknown(&e, rc, &err)) {
                /* PostgreSQL lost the reply of COMMIT: the message is queued or not */
                ck_assert(injected);
                ck_assert_uint_le(after, before + 1);
                continue;
            }
            ck_assert_msg(rc == (call == 4 ? DURO_EEXIST : 0), "call %d, allocation %ld: %s (%s)",
                          call, k, duro_err_name(rc), err.message);
            ck_assert_uint_eq(after, before + (uint64_t)sends);
            if (!injected)
                break;
        }
        ck_assert_msg(injected_total > 0, "call %d: no allocation failed", call);
    }
    ck_assert_int_eq(state_of(&e, "done"), DURO_STATE_COMPLETED);
    e2e_close(&e);
}
END_TEST
#endif /* DURO_ALLOC_FAULT_AVAILABLE */

int main(void)
{
    const e2e_test tests[] = {
        {"terminate_tree", test_terminate_tree},
        {"suspend_keeps_events", test_suspend_keeps_events},
        {"suspend_survives_restart", test_suspend_survives_restart},
        {"terminate_suspended", test_terminate_suspended},
        {"scheduled_start", test_scheduled_start},
        {"reuse_policies", test_reuse_policies},
        {"errors", test_errors},
#if DURO_ALLOC_FAULT_AVAILABLE
        {"allocation_failures", test_allocation_failures},
#endif
    };
#ifdef DURO_E2E_POSTGRES
    return e2e_main("test-lifecycle-postgres", 1u << E2E_POSTGRES, tests,
                    sizeof tests / sizeof tests[0]);
#else
    return e2e_main("test-lifecycle", E2E_ALL_KINDS, tests, sizeof tests / sizeof tests[0]);
#endif
}
