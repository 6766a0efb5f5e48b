/*
 * test-e2e-fail.c — end-to-end tests of the duro runtime's failure, cancellation and
 * recovery paths, on the in-memory and the file SQLite provider: when_any races with
 * cancelled losers, retry with backoff and per-attempt timeouts, the pending-observation
 * rule, cancellation cascading to children and running activities, poison after
 * max_attempts for unregistered names and corrupt history, nondeterminism after a code
 * change, work items fetched ahead handed back uncounted (after the window, at shutdown,
 * and when a hand-back meets a fault), commits whose reply was lost (a fault wrapper,
 * duro-fault.h, between runtime and store), ids that are not UTF-8, and child ids that are
 * taken. Activities that must see their cancellation report it through latches; nothing
 * here sleeps to synchronise.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e-common.h"

/* ---- Shared handlers ------------------------------------------------------------------------ */

/* Attempt numbers an activity saw ("1 2 3") and whether a hung attempt saw cancellation. */
typedef struct attempts {
    pthread_mutex_t mu;
    char seen[128];
    e2e_latch entered;
    e2e_latch cancelled;
} attempts;

static void attempts_init(attempts *at)
{
    ck_assert_int_eq(pthread_mutex_init(&at->mu, NULL), 0);
    at->seen[0] = '\0';
    e2e_latch_init(&at->entered);
    e2e_latch_init(&at->cancelled);
}

static void attempts_destroy(attempts *at)
{
    e2e_latch_destroy(&at->entered);
    e2e_latch_destroy(&at->cancelled);
    pthread_mutex_destroy(&at->mu);
}

static void attempts_note(attempts *at, uint32_t n)
{
    pthread_mutex_lock(&at->mu);
    size_t len = strlen(at->seen);
    snprintf(at->seen + len, sizeof at->seen - len, "%s%u", len ? " " : "", n);
    pthread_mutex_unlock(&at->mu);
}

/* Runs until cancelled: bumps `entered`, then `cancelled` once it sees the cancellation. */
static int act_block(duro_activity *a, const char *input, void *ud)
{
    (void)input;
    attempts *at = ud;
    e2e_latch_add(&at->entered, 1);
    if (!e2e_run_until_cancelled(a, E2E_WAIT_MS))
        return duro_activity_okf(a, "never cancelled");
    e2e_latch_add(&at->cancelled, 1);
    return duro_activity_failf(a, "stopped after cancellation");
}

static int act_quick(duro_activity *a, const char *input, void *ud)
{
    (void)ud;
    return duro_activity_okf(a, "quick:%s", input);
}

/* Custom status "waiting", then one event "go": completes with "got:<data>". */
static int orch_status_then_wait(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_set_custom_status(o, "waiting");
    duro_task *ev = duro_wait_event(o, "go");
    DURO_AWAIT(o, ev);
    return duro_completef(o, "got:%s", duro_task_value(ev));
}

/* ---- when_any races ------------------------------------------------------------------------- */

/* The activity is running when the timer is created: the orchestration first races it
 * against an event "arm" that the test raises once the activity has started. */
static int orch_race_timer_wins(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *act = duro_call_activity(o, "Block", "");
    duro_task *arm = duro_wait_event(o, "arm");
    duro_task *first[2] = {act, arm};
    duro_task *w = duro_when_any(o, first, 2);
    if (!w)
        return DURO_SUSPEND;
    if (w == act)
        return duro_failf(o, "the activity finished before it was armed");
    duro_task *tmr = duro_timer(o, 50);
    duro_task *second[2] = {act, tmr};
    w = duro_when_any(o, second, 2);
    if (!w)
        return DURO_SUSPEND;
    if (w == act)
        return duro_failf(o, "the activity beat the timer: %s", duro_task_value(act));
    duro_task_cancel(act);
    return duro_completef(o, "timer won; activity done=%d ok=%d error=%s", duro_task_done(act),
                          duro_task_ok(act), duro_task_error(act));
}

START_TEST(test_when_any_timer_wins)
{
    e2e_env e;
    attempts at;
    attempts_init(&at);
    e2e_open(&e, _i);
    e2e_act(&e, "Block", act_block, &at);
    e2e_orch(&e, "RaceTimer", orch_race_timer_wins, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "race-t", "RaceTimer", "");
    ck_assert_msg(e2e_latch_wait(&at.entered, 1, E2E_WAIT_MS), "the activity never started");
    e2e_raise(&e, "race-t", "arm", "");
    e2e_expect_completed(&e, "race-t", "timer won; activity done=1 ok=0 error=canceled");
    ck_assert_msg(e2e_latch_wait(&at.cancelled, 1, E2E_WAIT_MS),
                  "the losing activity never observed its cancellation");
    ck_assert_uint_eq(e2e_count_kind(&e, "race-t", 0, "ActivityCancelled"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "race-t", 0, "TimerFired"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "race-t", 0, "ActivityCompleted"), 0);
    e2e_close(&e);
    ck_assert_int_eq(e2e_latch_get(&at.entered), 1);
    attempts_destroy(&at);
}
END_TEST

static int orch_race_activity_wins(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *act = duro_call_activity(o, "Quick", "a");
    duro_task *tmr = duro_timer(o, 600000);
    duro_task *ts[2] = {tmr, act};
    duro_task *w = duro_when_any(o, ts, 2);
    if (!w)
        return DURO_SUSPEND;
    if (w != act)
        return duro_failf(o, "the 10-minute timer won");
    duro_task_cancel(tmr);
    return duro_completef(o, "activity won: %s", duro_task_value(act));
}

START_TEST(test_when_any_activity_wins)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_act(&e, "Quick", act_quick, NULL);
    e2e_orch(&e, "RaceActivity", orch_race_activity_wins, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "race-a", "RaceActivity", "");
    /* completes within E2E_WAIT_MS, long before the timer */
    e2e_expect_completed(&e, "race-a", "activity won: quick:a");
    ck_assert_uint_eq(e2e_count_kind(&e, "race-a", 0, "TimerFired"), 0);
    e2e_close(&e);
}
END_TEST

/* ---- retries --------------------------------------------------------------------------------- */

/* Fails attempts 1 and 2, succeeds on 3. */
static int act_flaky(duro_activity *a, const char *input, void *ud)
{
    (void)input;
    uint32_t n = duro_activity_attempt(a);
    attempts_note(ud, n);
    if (n < 3)
        return duro_activity_failf(a, "flaky failure %u", n);
    return duro_activity_okf(a, "ok@%u", n);
}

/* Attempt 1 hangs until cancelled; later attempts succeed. */
static int act_hang_once(duro_activity *a, const char *input, void *ud)
{
    (void)input;
    attempts *at = ud;
    uint32_t n = duro_activity_attempt(a);
    attempts_note(at, n);
    if (n > 1)
        return duro_activity_okf(a, "attempt %u", n);
    e2e_latch_add(&at->entered, 1);
    if (!e2e_run_until_cancelled(a, E2E_WAIT_MS))
        return duro_activity_okf(a, "attempt 1 was never cancelled");
    e2e_latch_add(&at->cancelled, 1);
    return duro_activity_failf(a, "attempt 1 stopped");
}

static int act_always_fail(duro_activity *a, const char *input, void *ud)
{
    (void)input;
    uint32_t n = duro_activity_attempt(a);
    attempts_note(ud, n);
    return duro_activity_failf(a, "fail #%u", n);
}

/* Calls activity <input> under the policy in ud; completes with its value or fails with
 * its error. */
static int orch_retry(duro_orch *o, const char *input, void *ud)
{
    duro_task *t = duro_call_activity_retry(o, input, "", ud);
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_failf(o, "gave up: %s", duro_task_error(t));
    return duro_complete(o, duro_task_value(t));
}

START_TEST(test_retry_backoff)
{
    e2e_env e;
    attempts at;
    attempts_init(&at);
    duro_retry_policy policy = {5, DURO_BACKOFF_EXPONENTIAL, 20, 1000, 0};
    e2e_open(&e, _i);
    e2e_act(&e, "Flaky", act_flaky, &at);
    e2e_orch(&e, "Retry", orch_retry, &policy);
    e2e_start(&e);
    int64_t t0 = duro__monotonic_ms();
    e2e_start_instance(&e, "retry-1", "Retry", "Flaky");
    e2e_expect_completed(&e, "retry-1", "ok@3");
    int64_t elapsed = duro__monotonic_ms() - t0;
    ck_assert_str_eq(at.seen, "1 2 3");
    /* backoff 20 ms then 40 ms, on durable timers */
    ck_assert_msg(elapsed >= 60, "three attempts took only %" PRId64 " ms", elapsed);
    ck_assert_uint_eq(e2e_count_kind(&e, "retry-1", 0, "ActivityScheduled"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "retry-1", 0, "ActivityRetryScheduled"), 2);
    ck_assert_uint_eq(e2e_count_kind(&e, "retry-1", 0, "ActivityDispatched"), 2);
    ck_assert_uint_eq(e2e_count_kind(&e, "retry-1", 0, "ActivityFailed"), 2);
    ck_assert_uint_eq(e2e_count_kind(&e, "retry-1", 0, "ActivityCompleted"), 1);
    e2e_close(&e);
    attempts_destroy(&at);
}
END_TEST

START_TEST(test_retry_attempt_timeout)
{
    e2e_env e;
    attempts at;
    attempts_init(&at);
    duro_retry_policy policy = {2, DURO_BACKOFF_NONE, 0, 0, 300};
    e2e_open(&e, _i);
    e2e_act(&e, "HangOnce", act_hang_once, &at);
    e2e_orch(&e, "Retry", orch_retry, &policy);
    e2e_start(&e);
    e2e_start_instance(&e, "timeout-1", "Retry", "HangOnce");
    e2e_expect_completed(&e, "timeout-1", "attempt 2");
    ck_assert_msg(e2e_latch_wait(&at.cancelled, 1, E2E_WAIT_MS),
                  "the timed-out attempt never observed its cancellation");
    ck_assert_str_eq(at.seen, "1 2");
    ck_assert_uint_eq(e2e_count_kind(&e, "timeout-1", 0, "ActivityTimedOut"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "timeout-1", 0, "ActivityCompleted"), 1);
    e2e_close(&e);
    attempts_destroy(&at);
}
END_TEST

START_TEST(test_retry_exhausted)
{
    e2e_env e;
    attempts at;
    attempts_init(&at);
    duro_retry_policy policy = {3, DURO_BACKOFF_FIXED, 5, 0, 0};
    e2e_open(&e, _i);
    e2e_act(&e, "AlwaysFail", act_always_fail, &at);
    e2e_orch(&e, "Retry", orch_retry, &policy);
    e2e_start(&e);
    e2e_start_instance(&e, "exhaust-1", "Retry", "AlwaysFail");
    e2e_expect_failed(&e, "exhaust-1", DURO_CAT_APPLICATION, "gave up: fail #3");
    ck_assert_str_eq(at.seen, "1 2 3");
    ck_assert_uint_eq(e2e_count_kind(&e, "exhaust-1", 0, "ActivityFailed"), 3);
    e2e_close(&e);
    attempts_destroy(&at);
}
END_TEST

/* ---- the pending-observation rule ----------------------------------------------------------- */

static int orch_breaks_rule(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *a = duro_call_activity(o, "Quick", "1");
    duro_task *t = duro_timer(o, 600000);
    duro_task *ts[2] = {a, t};
    if (!duro_when_any(o, ts, 2)) {
        duro_call_activity(o, "Quick", "2"); /* a durable call after a pending observation */
        return DURO_SUSPEND;
    }
    return duro_complete(o, "the rule was not enforced");
}

START_TEST(test_pending_observation_rule)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_act(&e, "Quick", act_quick, NULL);
    e2e_orch(&e, "BreaksRule", orch_breaks_rule, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "rule-1", "BreaksRule", "");
    e2e_expect_failed(&e, "rule-1", DURO_CAT_CONFIGURATION, "observed a pending task");
    /* the offending call was never recorded */
    ck_assert_uint_le(e2e_count_kind(&e, "rule-1", 0, "ActivityScheduled"), 1);
    e2e_close(&e);
}
END_TEST

/* ---- cancellation cascade -------------------------------------------------------------------- */

static int orch_casc_child(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_set_custom_status(o, "child-waiting");
    duro_task *ev = duro_wait_event(o, "never");
    DURO_AWAIT(o, ev);
    return duro_complete(o, "child done");
}

static int orch_casc_parent(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    char child[128];
    snprintf(child, sizeof child, "%s-child", duro_orch_instance(o));
    duro_task *ts[2] = {duro_call_sub(o, "CascChild", child, input),
                        duro_call_activity(o, "Block", input)};
    DURO_AWAIT_ALL(o, ts, 2);
    return duro_complete(o, "parent done");
}

START_TEST(test_cancel_cascade)
{
    e2e_env e;
    attempts at;
    attempts_init(&at);
    e2e_open(&e, _i);
    e2e_act(&e, "Block", act_block, &at);
    e2e_orch(&e, "CascParent", orch_casc_parent, NULL);
    e2e_orch(&e, "CascChild", orch_casc_child, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "casc-1", "CascParent", "");
    e2e_wait_custom_status(&e, "casc-1-child", "child-waiting");
    ck_assert_msg(e2e_latch_wait(&at.entered, 1, E2E_WAIT_MS), "the activity never started");

    e2e_cancel(&e, "casc-1", "stop now");
    duro_status st;
    e2e_wait(&e, "casc-1", &st);
    ck_assert_int_eq(st.state, DURO_STATE_FAILED);
    ck_assert_pstr_eq(st.error, "canceled: stop now");
    duro_status_clear(&st);
    e2e_wait(&e, "casc-1-child", &st);
    ck_assert_int_eq(st.state, DURO_STATE_FAILED);
    ck_assert_msg(st.error && strncmp(st.error, "canceled", 8) == 0, "child failed with %s",
                  st.error ? st.error : "(null)");
    duro_status_clear(&st);
    ck_assert_msg(e2e_latch_wait(&at.cancelled, 1, E2E_WAIT_MS),
                  "the running activity never observed the cancellation");
    ck_assert_uint_eq(e2e_count_kind(&e, "casc-1", 0, "OrchestrationCancelRequested"), 1);
    e2e_close(&e);
    attempts_destroy(&at);
}
END_TEST

/* ---- poison ------------------------------------------------------------------------------------ */

static int orch_calls_missing(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *t = duro_call_activity(o, "Missing", "");
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_failf(o, "the orchestration saw: %s", duro_task_error(t));
    return duro_complete(o, duro_task_value(t));
}

START_TEST(test_poison_unregistered_activity)
{
    e2e_env e;
    e2e_open(&e, _i);
    e.opt.max_attempts = 2;
    e2e_orch(&e, "CallsMissing", orch_calls_missing, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "poison-act", "CallsMissing", "");
    e2e_expect_failed(&e, "poison-act", DURO_CAT_POISON, "poison: activity Missing");
    e2e_close(&e);
}
END_TEST

/* Without version filtering (a wrapper that drops DURO_CAP_VERSION_FILTER) every fetch takes
 * a start nobody registered, and max_attempts ends it as poison; with the filter the start
 * waits for a runtime that has the name (tests/test-capfilter.c). */
START_TEST(test_poison_unregistered_orchestration)
{
    e2e_env e;
    duro_fault_options none;
    e2e_open(&e, _i);
    duro_fault_options_init(&none);
    e2e_wrap_faults(&e, &none);
    e.faults->caps &= ~DURO_CAP_VERSION_FILTER;
    e.opt.max_attempts = 2;
    e2e_orch(&e, "StatusThenWait", orch_status_then_wait, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "poison-orch", "NoSuchOrchestration", "");
    e2e_expect_failed(&e, "poison-orch", DURO_CAT_POISON, "poison: orchestration poison-orch");
    e2e_close(&e);
}
END_TEST

START_TEST(test_corrupt_history)
{
    e2e_env e;
    e2e_open(&e, _i);
    e.opt.max_attempts = 3;
    e2e_orch(&e, "StatusThenWait", orch_status_then_wait, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "corrupt-a", "StatusThenWait", "");
    e2e_start_instance(&e, "healthy-b", "StatusThenWait", "");
    e2e_wait_custom_status(&e, "corrupt-a", "waiting");
    e2e_wait_custom_status(&e, "healthy-b", "waiting");
    ck_assert_int_eq(duro_sqlite_corrupt_history(e.p, "corrupt-a"), 0);
    e2e_raise(&e, "corrupt-a", "go", "a");
    e2e_raise(&e, "healthy-b", "go", "b");
    /* b is not held up while a is retried and poisoned */
    e2e_expect_completed(&e, "healthy-b", "got:b");
    e2e_expect_failed(&e, "corrupt-a", DURO_CAT_POISON, "poison: orchestration corrupt-a");
    e2e_close(&e);
}
END_TEST

/* ---- nondeterminism ---------------------------------------------------------------------------- */

/* Version B of "Det": calls an activity before the wait that version A recorded. */
static int orch_det_changed(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *t = duro_call_activity(o, "Other", "");
    DURO_AWAIT(o, t);
    duro_task *ev = duro_wait_event(o, "go");
    DURO_AWAIT(o, ev);
    return duro_completef(o, "changed:%s", duro_task_value(ev));
}

static int act_other(duro_activity *a, const char *input, void *ud)
{
    (void)input;
    e2e_latch_add(ud, 1);
    return duro_activity_okf(a, "other");
}

START_TEST(test_nondeterminism)
{
    e2e_env e;
    e2e_latch other_runs;
    e2e_latch_init(&other_runs);
    e2e_open(&e, _i);
    e2e_orch(&e, "Det", orch_status_then_wait, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "det-1", "Det", "");
    e2e_wait_custom_status(&e, "det-1", "waiting");

    duro_registry *b = duro_registry_new();
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(duro_register_orchestration(b, "Det", NULL, orch_det_changed, NULL), 0);
    ck_assert_int_eq(duro_register_activity(b, "Other", act_other, &other_runs), 0);
    e2e_restart_with(&e, b);
    e2e_raise(&e, "det-1", "go", "x");
    e2e_expect_failed(&e, "det-1", DURO_CAT_CONFIGURATION, "nondetermin");
    ck_assert_int_eq(e2e_latch_get(&other_runs), 0);
    ck_assert_uint_eq(e2e_count_kind(&e, "det-1", 0, "ActivityScheduled"), 0);
    ck_assert_uint_eq(e2e_count_kind(&e, "det-1", 0, "OrchestrationFailed"), 1);
    e2e_close(&e);
    e2e_latch_destroy(&other_runs);
}
END_TEST

/* Shutdown: a cooperative activity sees its flag, and its work item is abandoned (attempt not
 * counted) instead of staying locked until expiry; the next runtime finishes the instance. */
typedef struct coop {
    e2e_latch entered;
    int runs;
} coop;

static int act_coop(duro_activity *a, const char *input, void *ud)
{
    coop *c = ud;
    (void)input;
    if (__atomic_add_fetch(&c->runs, 1, __ATOMIC_SEQ_CST) > 1)
        return duro_activity_okf(a, "finished on run %d", c->runs);
    e2e_latch_add(&c->entered, 1);
    if (e2e_run_until_cancelled(a, E2E_WAIT_MS))
        return duro_activity_failf(a, "stopped for shutdown");
    return duro_activity_okf(a, "never cancelled");
}

static int orch_one_coop(duro_orch *o, const char *input, void *ud)
{
    duro_task *t = duro_call_activity(o, "Coop", input);
    (void)ud;
    DURO_AWAIT(o, t);
    return duro_complete(o, duro_task_value(t));
}

START_TEST(test_shutdown_abandons_activity)
{
    e2e_env e;
    coop c = {.runs = 0};
    duro_work_item *wi = NULL;
    duro_error err = {0};
    e2e_latch_init(&c.entered);
    e2e_open(&e, _i);
    e.opt.worker_lock_ms = 600000; /* expiry cannot be what frees the item */
    e2e_act(&e, "Coop", act_coop, &c);
    e2e_orch(&e, "OneCoop", orch_one_coop, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "coop-1", "OneCoop", "x");
    ck_assert_msg(e2e_latch_wait(&c.entered, 1, E2E_WAIT_MS), "the activity never started");
    e2e_stop(&e);
    ck_assert_int_eq(e.p->ops->fetch_work(e.p, duro_clock_now_ms(), 1000, 0, &wi, &err), 0);
    ck_assert_uint_eq(wi->attempt, 1);
    ck_assert_int_eq(e.p->ops->abandon_work(e.p, duro_clock_now_ms(), wi->lock_token, 0, 1, &err), 0);
    duro_work_item_free(wi);
    e2e_start(&e);
    e2e_expect_completed(&e, "coop-1", "finished on run 2");
    ck_assert_int_eq(__atomic_load_n(&c.runs, __ATOMIC_SEQ_CST), 2);
    e2e_close(&e);
    e2e_latch_destroy(&c.entered);
}
END_TEST

/* ---- Fetching ahead -------------------------------------------------------------------------- */

/* The only activity thread runs "a" (quick), then "b", which holds it until `release` is set
 * (or the runtime cancels it); meanwhile the acker fetches "c" ahead. `handed_back` counts
 * runtime log lines containing `needle`. */
typedef struct ahead {
    e2e_latch held;
    e2e_latch release;
    e2e_latch handed_back;
    const char *needle;
    int held_runs;
} ahead;

static void ahead_log(int level, const char *instance, const char *message, void *ud)
{
    ahead *h = ud;
    (void)instance;
    if (level == 0 && strstr(message, h->needle)) /* not "could not be handed back ..." */
        e2e_latch_add(&h->handed_back, 1);
}

static int act_hold(duro_activity *a, const char *input, void *ud)
{
    ahead *h = ud;
    __atomic_add_fetch(&h->held_runs, 1, __ATOMIC_SEQ_CST);
    e2e_latch_add(&h->held, 1);
    while (!e2e_latch_wait(&h->release, 1, 1)) {
        if (duro_activity_cancelled(a))
            return duro_activity_failf(a, "stopped for shutdown");
    }
    return duro_activity_okf(a, "held:%s", input);
}

static int orch_ahead(duro_orch *o, const char *input, void *ud)
{
    duro_task *t[3];
    (void)input;
    (void)ud;
    t[0] = duro_call_activity(o, "Quick", "a");
    t[1] = duro_call_activity(o, "Hold", "b");
    t[2] = duro_call_activity(o, "Quick", "c");
    DURO_AWAIT_ALL(o, t, 3);
    return duro_completef(o, "%s|%s|%s", duro_task_value(t[0]), duro_task_value(t[1]),
                          duro_task_value(t[2]));
}

/* Open, start a runtime with one activity thread and the given window (behind a fault
 * wrapper whose first `abandon_faults` abandon_work calls fail retryably, when not 0), start
 * instance `id` of "Ahead", and wait until "b" holds the thread. */
static void ahead_begin(e2e_env *e, ahead *h, int kind, int64_t prefetch_ms, const char *needle,
                        const char *id, unsigned abandon_faults)
{
    memset(h, 0, sizeof *h);
    e2e_latch_init(&h->held);
    e2e_latch_init(&h->release);
    e2e_latch_init(&h->handed_back);
    h->needle = needle;
    e2e_open(e, kind);
    e->opt.worker_concurrency = 1;
    e->opt.worker_lock_ms = 600000; /* expiry cannot be what frees an item */
    e->opt.prefetch_ms = prefetch_ms;
    e->opt.log = ahead_log;
    e->opt.log_ud = h;
    e2e_act(e, "Quick", act_quick, NULL);
    e2e_act(e, "Hold", act_hold, h);
    e2e_orch(e, "Ahead", orch_ahead, NULL);
    if (abandon_faults > 0) {
        duro_fault_options fo;
        duro_fault_options_init(&fo);
        e2e_wrap_faults(e, &fo);
        ck_assert_int_eq(duro_fault_fail_next(e->faults, DURO_FAULT_ABANDON_WORK, abandon_faults,
                                              DURO_FAULT_BEFORE),
                         0);
    }
    e2e_start(e);
    e2e_start_instance(e, id, "Ahead", "");
    ck_assert_msg(e2e_latch_wait(&h->held, 1, E2E_WAIT_MS), "Hold never started");
}

static void ahead_close(e2e_env *e, ahead *h)
{
    e2e_close(e);
    e2e_latch_destroy(&h->held);
    e2e_latch_destroy(&h->release);
    e2e_latch_destroy(&h->handed_back);
}

/* Take the next `n` work items directly from the store: they must be the activities with
 * `inputs`, in order, each fetched for the first time (an item handed back uncounted).
 * Then hand them back uncounted. */
static void expect_queued_first_fetch(e2e_env *e, const char *const *inputs, size_t n)
{
    duro_work_item *wi[2] = {NULL, NULL};
    duro_error err = {0};
    char needle[32];
    ck_assert_uint_le(n, 2);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(e->p->ops->fetch_work(e->p, duro_clock_now_ms(), 1000, 0, &wi[i], &err),
                         0);
        snprintf(needle, sizeof needle, "\"%s\"", inputs[i]);
        ck_assert_msg(strstr(wi[i]->payload, needle) != NULL, "expected activity %s, got %s",
                      inputs[i], wi[i]->payload);
        ck_assert_uint_eq(wi[i]->attempt, 1);
    }
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(e->p->ops->abandon_work(e->p, duro_clock_now_ms(), wi[i]->lock_token,
                                                 0, 1, &err), 0);
        duro_work_item_free(wi[i]);
    }
}

/* While the only activity thread is held, the item fetched ahead is not stranded: after the
 * window it is back in the queue with its fetch not counted, and it finally runs. */
START_TEST(test_prefetch_window_hands_back)
{
    e2e_env e;
    ahead h;
    ahead_begin(&e, &h, _i, 50, "after the fetch-ahead window", "ahead-1", 0);
    ck_assert_msg(e2e_latch_wait(&h.handed_back, 1, E2E_WAIT_MS),
                  "the item fetched ahead was never handed back");
    ck_assert_int_eq(e2e_latch_get(&h.held), 1);
    expect_queued_first_fetch(&e, (const char *const[]){"c"}, 1);
    e2e_latch_add(&h.release, 1);
    e2e_expect_completed(&e, "ahead-1", "quick:a|held:b|quick:c");
    ck_assert_int_eq(e2e_latch_get(&h.handed_back), 1);
    ahead_close(&e, &h);
}
END_TEST

/* Shutdown hands the item fetched ahead back uncounted, like the activity it interrupts;
 * a new runtime then runs both. */
START_TEST(test_prefetch_shutdown_hands_back)
{
    e2e_env e;
    ahead h;
    ahead_begin(&e, &h, _i, 60000, "at shutdown (fetched ahead)", "ahead-2", 0);
    e2e_stop(&e);
    ck_assert_int_eq(e2e_latch_get(&h.handed_back), 1);
    expect_queued_first_fetch(&e, (const char *const[]){"b", "c"}, 2);
    e2e_latch_add(&h.release, 1);
    e2e_start(&e);
    e2e_expect_completed(&e, "ahead-2", "quick:a|held:b|quick:c");
    ck_assert_int_eq(__atomic_load_n(&h.held_runs, __ATOMIC_SEQ_CST), 2);
    ahead_close(&e, &h);
}
END_TEST

/* A hand-back that meets a passing fault is tried again (issue 11, finding 3): with the
 * first two abandon_work calls failing retryably, the item fetched ahead is still back in the
 * queue, uncounted, right after the window, not stranded until its 600 s lock expires. */
START_TEST(test_prefetch_hand_back_retried)
{
    e2e_env e;
    ahead h;
    ahead_begin(&e, &h, _i, 50, "after the fetch-ahead window", "ahead-3", 2);
    ck_assert_msg(e2e_latch_wait(&h.handed_back, 1, E2E_WAIT_MS),
                  "the item fetched ahead was never handed back");
    ck_assert_uint_eq(duro_fault_injected(e.faults, DURO_FAULT_ABANDON_WORK, 0), 2);
    expect_queued_first_fetch(&e, (const char *const[]){"c"}, 1);
    e2e_latch_add(&h.release, 1);
    e2e_expect_completed(&e, "ahead-3", "quick:a|held:b|quick:c");
    ahead_close(&e, &h);
}
END_TEST

static int orch_two_quick(duro_orch *o, const char *input, void *ud)
{
    duro_task *t[2];
    (void)input;
    (void)ud;
    t[0] = duro_call_activity(o, "Quick", "a");
    t[1] = duro_call_activity(o, "Quick", "b");
    DURO_AWAIT_ALL(o, t, 2);
    return duro_completef(o, "%s|%s", duro_task_value(t[0]), duro_task_value(t[1]));
}

static int orch_at_once(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    return duro_completef(o, "done:%s", input);
}

/* Activity results whose commit landed but whose reply was lost (a connection dropped at
 * COMMIT): the runtime's retry finds the lock released and drops its copy; each result is
 * recorded once and the instance completes. */
START_TEST(test_lost_reply_of_activity_ack)
{
    e2e_env e;
    duro_fault_options fo;
    e2e_open(&e, _i);
    duro_fault_options_init(&fo);
    e2e_wrap_faults(&e, &fo);
    ck_assert_int_eq(duro_fault_fail_next(e.faults, DURO_FAULT_ACK_WORK, 2, DURO_FAULT_AFTER), 0);
    e2e_act(&e, "Quick", act_quick, NULL);
    e2e_orch(&e, "TwoQuick", orch_two_quick, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "lost-ack", "TwoQuick", "");
    e2e_expect_completed(&e, "lost-ack", "quick:a|quick:b");
    e2e_stop(&e); /* the last fault is counted after the store applied its call */
    ck_assert_uint_eq(duro_fault_injected(e.faults, DURO_FAULT_ACK_WORK, 0), 2);
    ck_assert_uint_eq(e2e_count_kind(&e, "lost-ack", 0, "ActivityScheduled"), 2);
    ck_assert_uint_eq(e2e_count_kind(&e, "lost-ack", 0, "ActivityCompleted"), 2);
    e2e_close(&e);
}
END_TEST

/* The final turn's commit landed but its reply was lost: the runtime sees the instance
 * completed by that try and reports the terminal state exactly once, as if the retry had
 * succeeded. */
START_TEST(test_lost_reply_of_final_turn)
{
    e2e_env e;
    duro_fault_options fo;
    e2e_open(&e, _i);
    duro_fault_options_init(&fo);
    e2e_wrap_faults(&e, &fo);
    ck_assert_int_eq(duro_fault_fail_next(e.faults, DURO_FAULT_ACK_ORCH, 1, DURO_FAULT_AFTER), 0);
    e2e_orch(&e, "AtOnce", orch_at_once, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "lost-turn", "AtOnce", "x");
    e2e_expect_completed(&e, "lost-turn", "done:x");
    e2e_wait_terminals(&e, 1);
    e2e_stop(&e);
    ck_assert_uint_eq(duro_fault_injected(e.faults, DURO_FAULT_ACK_ORCH, 0), 1);
    ck_assert_uint_eq(e.n_terms, 1);
    ck_assert_str_eq(e.terms[0].instance, "lost-turn");
    ck_assert_int_eq(e.terms[0].state, DURO_STATE_COMPLETED);
    ck_assert_uint_eq(e2e_count_kind(&e, "lost-turn", 0, "OrchestrationCompleted"), 1);
    e2e_close(&e);
}
END_TEST

/* ---- ids (issue 11, findings 1 and 2) ------------------------------------------------------ */

/* Calls child "Echo" under the id in `input` ("" = generated) and reports how it ended. */
static int orch_calls_child(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_task *t = duro_call_sub(o, "Echo", input[0] ? input : NULL, "x");
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_completef(o, "child failed: %s", duro_task_error(t));
    return duro_completef(o, "child: %s", duro_task_value(t));
}

static int orch_echo(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    return duro_completef(o, "echo:%s", input);
}

/* Starts a child under an id that is not valid UTF-8. */
static int orch_bad_child_id(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *t = duro_call_sub(o, "Echo", "kid-\xc3\x28", "x");
    DURO_AWAIT(o, t);
    return duro_completef(o, "unreachable");
}

/* An id that is not valid UTF-8 is refused where it enters, naming the argument and the
 * byte: by the client, and inside an orchestration (the instance fails as configuration). */
START_TEST(test_ids_must_be_utf8)
{
    e2e_env e;
    duro_error err = {0};
    e2e_open(&e, _i);
    e2e_orch(&e, "Echo", orch_echo, NULL);
    e2e_orch(&e, "BadChildId", orch_bad_child_id, NULL);
    e2e_start(&e);
    ck_assert_int_eq(duro_client_start(e.c, "id-\xff", "Echo", "", &err), DURO_EINVAL);
    ck_assert_str_eq(err.message, "instance id is not valid UTF-8 (byte 3)");
    ck_assert_int_eq(duro_client_start(e.c, "id-\xed\xa0\x80", "Echo", "", &err),
                     DURO_EINVAL); /* a UTF-16 surrogate */
    ck_assert_str_eq(err.message, "instance id is not valid UTF-8 (byte 3)");
    ck_assert_int_eq(duro_client_raise_event(e.c, "any", "ev\xc0\xaf", "", &err), DURO_EINVAL);
    ck_assert_str_eq(err.message, "event name is not valid UTF-8 (byte 2)"); /* overlong */
    e2e_start_instance(&e, "ok-\xc3\xa9", "Echo", "y"); /* valid UTF-8 is fine */
    e2e_expect_completed(&e, "ok-\xc3\xa9", "echo:y");
    e2e_start_instance(&e, "bad-child", "BadChildId", "");
    e2e_expect_failed(&e, "bad-child", DURO_CAT_CONFIGURATION,
                      "child instance id is not valid UTF-8 (byte 4)");
    e2e_close(&e);
}
END_TEST

/* A child id that is taken fails the sub-orchestration at once, whether the id was chosen or
 * generated, and whether the instance holding it runs or has finished; that instance is not
 * touched. */
START_TEST(test_child_id_taken)
{
    e2e_env e;
    duro_status st;
    e2e_open(&e, _i);
    e2e_orch(&e, "Echo", orch_echo, NULL);
    e2e_orch(&e, "CallsChild", orch_calls_child, NULL);
    e2e_orch(&e, "StatusThenWait", orch_status_then_wait, NULL);
    e2e_start(&e);
    /* chosen id, held by a running instance a client started */
    e2e_start_instance(&e, "taken-running", "StatusThenWait", "");
    e2e_wait_custom_status(&e, "taken-running", "waiting");
    e2e_start_instance(&e, "parent-a", "CallsChild", "taken-running");
    e2e_expect_completed(&e, "parent-a", "child failed: sub-orchestration instance "
                                         "\"taken-running\" already exists (started by a client)");
    /* generated id (<parent>::2: the sub-orchestration is event 2), held by a finished one */
    e2e_start_instance(&e, "parent-b::2", "Echo", "z");
    e2e_expect_completed(&e, "parent-b::2", "echo:z");
    e2e_start_instance(&e, "parent-b", "CallsChild", "");
    e2e_expect_completed(&e, "parent-b", "child failed: sub-orchestration instance "
                                         "\"parent-b::2\" already exists (started by a client)");
    /* a child of another parent */
    e2e_start_instance(&e, "parent-c", "CallsChild", "shared-kid");
    e2e_expect_completed(&e, "parent-c", "child: echo:x");
    e2e_start_instance(&e, "parent-d", "CallsChild", "shared-kid");
    e2e_expect_completed(&e, "parent-d", "child failed: sub-orchestration instance "
                                         "\"shared-kid\" already exists (the child of another "
                                         "parent)");
    /* the holders are untouched */
    e2e_raise(&e, "taken-running", "go", "still");
    e2e_expect_completed(&e, "taken-running", "got:still");
    e2e_wait(&e, "parent-b::2", &st);
    ck_assert_str_eq(st.output, "echo:z");
    duro_status_clear(&st);
    ck_assert_uint_eq(e2e_count_kind(&e, "shared-kid", 0, "OrchestrationStarted"), 1);
    e2e_close(&e);
}
END_TEST

int main(void)
{
    const e2e_test tests[] = {
        {"when_any_timer_wins", test_when_any_timer_wins},
        {"when_any_activity_wins", test_when_any_activity_wins},
        {"retry_backoff", test_retry_backoff},
        {"retry_attempt_timeout", test_retry_attempt_timeout},
        {"retry_exhausted", test_retry_exhausted},
        {"pending_observation_rule", test_pending_observation_rule},
        {"cancel_cascade", test_cancel_cascade},
        {"poison_unregistered_activity", test_poison_unregistered_activity},
        {"poison_unregistered_orchestration", test_poison_unregistered_orchestration},
        {"corrupt_history", test_corrupt_history},
        {"nondeterminism", test_nondeterminism},
        {"shutdown_abandons_activity", test_shutdown_abandons_activity},
        {"prefetch_window_hands_back", test_prefetch_window_hands_back},
        {"prefetch_shutdown_hands_back", test_prefetch_shutdown_hands_back},
        {"prefetch_hand_back_retried", test_prefetch_hand_back_retried},
        {"lost_reply_of_activity_ack", test_lost_reply_of_activity_ack},
        {"lost_reply_of_final_turn", test_lost_reply_of_final_turn},
        {"ids_must_be_utf8", test_ids_must_be_utf8},
        {"child_id_taken", test_child_id_taken},
    };
    return e2e_main("test-e2e-fail", E2E_ALL_KINDS, tests, sizeof tests / sizeof tests[0]);
}
