/*
 * test-limits.c — time arguments at their extremes and API misuse from orchestration code,
 * end to end on the in-memory SQLite provider (issue 11, findings 6 and 7).
 *
 * Extremes: a client wait of INT64_MAX ms waits until the instance ends; a timer, a retry
 * backoff or a per-attempt timeout whose due time passes INT64_MAX is due at INT64_MAX
 * (never, in practice) and is recorded as such; a linear backoff that overflows before its
 * cap is capped; runtime durations above DURO_MAX_OPTION_MS are rejected by
 * duro_runtime_start with a message naming the option. Misuse: a negative retry field, an
 * unknown backoff kind, duro_when_any over no task, and awaiting NULL fail the instance at
 * once with a configuration error naming the argument. Nothing here sleeps to synchronise:
 * the tests wait on latches and on the provider's commit notification.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e-common.h"

#define INT64_MAX_TEXT "9223372036854775807"

/* ---- Shared handlers and helpers ------------------------------------------------------------ */

/* An activity that waits for the test: bumps `entered`, then returns once `release` is set. */
typedef struct gate {
    e2e_latch entered;
    e2e_latch release;
} gate;

static void gate_init(gate *g)
{
    e2e_latch_init(&g->entered);
    e2e_latch_init(&g->release);
}

static void gate_destroy(gate *g)
{
    e2e_latch_destroy(&g->entered);
    e2e_latch_destroy(&g->release);
}

static int act_gate(duro_activity *a, const char *input, void *ud)
{
    gate *g = ud;
    e2e_latch_add(&g->entered, 1);
    if (!e2e_latch_wait(&g->release, 1, E2E_WAIT_MS))
        return duro_activity_fail(a, "never released");
    return duro_activity_okf(a, "gate:%s", input);
}

/* Fails every attempt; counts the attempts in the latch `ud`. */
static int act_fail(duro_activity *a, const char *input, void *ud)
{
    (void)input;
    e2e_latch_add(ud, 1);
    return duro_activity_failf(a, "attempt %u failed", duro_activity_attempt(a));
}

/* Fails attempts 1 and 2, succeeds at 3. */
static int act_third_time(duro_activity *a, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    uint32_t n = duro_activity_attempt(a);
    if (n < 3)
        return duro_activity_failf(a, "attempt %u failed", n);
    return duro_activity_okf(a, "ok@%u", n);
}

static int act_quick(duro_activity *a, const char *input, void *ud)
{
    (void)ud;
    return duro_activity_okf(a, "quick:%s", input);
}

/* Wait (on the provider's commit notification) until the current history of `id` holds at
 * least `n` events of kind `kind_name`; fails the test if the instance ends first. */
static void wait_kind(e2e_env *e, const char *id, const char *kind_name, size_t n)
{
    int64_t until = duro__monotonic_ms() + E2E_WAIT_MS;
    for (;;) {
        uint64_t seq = e->p->ops->commit_seq(e->p);
        duro_status st = {0};
        duro_error err = {0};
        ck_assert_int_eq(duro_client_status(e->c, id, &st, &err), 0);
        int ended = st.state == DURO_STATE_COMPLETED || st.state == DURO_STATE_FAILED;
        size_t have = st.state == DURO_STATE_NOT_FOUND ? 0
                                                        : e2e_count_kind(e, id, 0, kind_name);
        ck_assert_msg(have >= n || !ended,
                      "%s ended (%s, %s: %s) with %zu %s events, expected %zu", id,
                      duro_state_name(st.state), duro_category_name(st.error_category),
                      st.error ? st.error : "", have, kind_name, n);
        duro_status_clear(&st);
        if (have >= n)
            return;
        int64_t left = until - duro__monotonic_ms();
        ck_assert_msg(left > 0, "timed out waiting for %zu %s events of %s", n, kind_name, id);
        e->p->ops->wait_commit(e->p, seq, left);
    }
}

/* Assert that the first event of kind `kind_name` in the history of `id` has `needle` in its
 * payload. */
static void expect_payload(e2e_env *e, const char *id, const char *kind_name, const char *needle)
{
    duro_event *ev = NULL;
    size_t n = 0, i;
    e2e_history(e, id, 0, &ev, &n);
    for (i = 0; i < n; i++)
        if (strcmp(duro_event_kind_name(ev[i].kind), kind_name) == 0)
            break;
    ck_assert_msg(i < n, "%s has no %s event", id, kind_name);
    ck_assert_msg(strstr(ev[i].payload, needle), "%s of %s is %s, expected it to contain %s",
                  kind_name, id, ev[i].payload, needle);
    duro_events_free(ev, n);
}

/* ---- Finding 6: time arguments at their extremes -------------------------------------------- */

/* A 200 ms durable timer, then "woke": running when the client starts waiting. */
static int orch_nap(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *t = duro_timer(o, 200);
    DURO_AWAIT(o, t);
    return duro_complete(o, "woke");
}

/* duro_client_wait(INT64_MAX) waits for the end (without the fix: signed overflow of now +
 * timeout, a UBSan abort; in release builds the overflowed deadline minus now happens to
 * wrap back to a large value, so only the sanitizer build shows it). */
START_TEST(test_wait_timeout_max)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_orch(&e, "Nap", orch_nap, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "nap-1", "Nap", "");
    duro_status st = {0};
    duro_error err = {0};
    int rc = duro_client_wait(e.c, "nap-1", INT64_MAX, &st, &err);
    ck_assert_msg(rc == 0, "wait(INT64_MAX): %s (%s)", duro_err_name(rc), err.message);
    ck_assert_int_eq(st.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(st.output, "woke");
    duro_status_clear(&st);
    e2e_close(&e);
}
END_TEST

/* A timer of INT64_MAX ms races an event; the event wins. */
static int orch_timer_max(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *ts[2] = {duro_timer(o, INT64_MAX), duro_wait_event(o, "go")};
    duro_task *w = duro_when_any(o, ts, 2);
    if (!w)
        return DURO_SUSPEND;
    return duro_complete(o, w == ts[0] ? "timer fired" : "event won");
}

/* The timer is due at INT64_MAX (without the fix: UBSan abort on now + delay; release builds
 * record a negative due time and fail the instance as "malformed TimerCreated event"). */
START_TEST(test_timer_delay_max)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_orch(&e, "TimerMax", orch_timer_max, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "tmax-1", "TimerMax", "");
    e2e_raise(&e, "tmax-1", "go", "");
    e2e_expect_completed(&e, "tmax-1", "event won");
    expect_payload(&e, "tmax-1", "TimerCreated", "\"at\":" INT64_MAX_TEXT);
    e2e_close(&e);
}
END_TEST

/* Gate under a per-attempt timeout of INT64_MAX ms, raced against an event "probe". */
static int orch_timeout_max(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_retry_policy p = {1, DURO_BACKOFF_NONE, 0, 0, INT64_MAX};
    duro_task *act = duro_call_activity_retry(o, "Gate", "g", &p);
    duro_task *ts[2] = {act, duro_wait_event(o, "probe")};
    duro_task *w = duro_when_any(o, ts, 2);
    if (!w)
        return DURO_SUSPEND;
    if (w == act)
        return duro_completef(o, "activity first: %s",
                              duro_task_ok(act) ? duro_task_value(act) : duro_task_error(act));
    duro_set_custom_status(o, "probed");
    DURO_AWAIT(o, act);
    return duro_completef(o, "%s", duro_task_ok(act) ? duro_task_value(act)
                                                     : duro_task_error(act));
}

/* The timeout never fires. The probe is raised after the attempt started, so its message
 * comes after the timeout message in the queue: once the probe is handled, a timeout due at
 * once would have been handled too (without the fix: UBSan abort on now + timeout; release
 * builds time the attempt out at once and the instance ends before "probed"). */
START_TEST(test_retry_timeout_max)
{
    e2e_env e;
    gate g;
    gate_init(&g);
    e2e_open(&e, _i);
    e2e_act(&e, "Gate", act_gate, &g);
    e2e_orch(&e, "TimeoutMax", orch_timeout_max, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "to-1", "TimeoutMax", "");
    ck_assert_msg(e2e_latch_wait(&g.entered, 1, E2E_WAIT_MS), "the attempt never started");
    e2e_raise(&e, "to-1", "probe", "");
    e2e_wait_custom_status(&e, "to-1", "probed");
    e2e_latch_add(&g.release, 1);
    e2e_expect_completed(&e, "to-1", "gate:g");
    ck_assert_uint_eq(e2e_count_kind(&e, "to-1", 0, "ActivityTimedOut"), 0);
    e2e_close(&e);
    gate_destroy(&g);
}
END_TEST

/* Fail, with a fixed backoff of INT64_MAX ms, raced against an event "stop". */
static int orch_backoff_max(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_retry_policy p = {2, DURO_BACKOFF_FIXED, INT64_MAX, 0, 0};
    duro_task *act = duro_call_activity_retry(o, "Fail", "", &p);
    duro_task *ts[2] = {act, duro_wait_event(o, "stop")};
    duro_task *w = duro_when_any(o, ts, 2);
    if (!w)
        return DURO_SUSPEND;
    if (w == act)
        return duro_completef(o, "activity finished: %s", duro_task_error(act));
    duro_task_cancel(act);
    return duro_complete(o, "stopped");
}

/* The retry is recorded due at INT64_MAX and attempt 2 never starts (without the fix: UBSan
 * abort on now + delay; release builds fail the instance as "malformed
 * ActivityRetryScheduled event", an infrastructure error). */
START_TEST(test_retry_backoff_max)
{
    e2e_env e;
    e2e_latch attempts;
    e2e_latch_init(&attempts);
    e2e_open(&e, _i);
    e2e_act(&e, "Fail", act_fail, &attempts);
    e2e_orch(&e, "BackoffMax", orch_backoff_max, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "bo-1", "BackoffMax", "");
    wait_kind(&e, "bo-1", "ActivityRetryScheduled", 1);
    expect_payload(&e, "bo-1", "ActivityRetryScheduled", "\"at\":" INT64_MAX_TEXT);
    e2e_raise(&e, "bo-1", "stop", "");
    e2e_expect_completed(&e, "bo-1", "stopped");
    ck_assert_uint_eq(e2e_count_kind(&e, "bo-1", 0, "ActivityDispatched"), 0);
    ck_assert_int_eq(e2e_latch_get(&attempts), 1);
    e2e_close(&e);
    e2e_latch_destroy(&attempts);
}
END_TEST

static int orch_linear_cap(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_retry_policy p = {3, DURO_BACKOFF_LINEAR, INT64_C(1) << 62, 1, 0};
    duro_task *t = duro_call_activity_retry(o, "ThirdTime", "", &p);
    DURO_AWAIT(o, t);
    return duro_completef(o, "%s", duro_task_ok(t) ? duro_task_value(t) : duro_task_error(t));
}

/* A linear backoff whose product base * attempt overflows is still capped at max_ms (1 ms),
 * so both retries wait on a durable timer (without the fix: UBSan abort on base * 2; release
 * builds wrap to a negative delay and retry at once, recording one retry instead of two). */
START_TEST(test_retry_linear_overflow_capped)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_act(&e, "ThirdTime", act_third_time, NULL);
    e2e_orch(&e, "LinearCap", orch_linear_cap, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "lin-1", "LinearCap", "");
    e2e_expect_completed(&e, "lin-1", "ok@3");
    ck_assert_uint_eq(e2e_count_kind(&e, "lin-1", 0, "ActivityRetryScheduled"), 2);
    ck_assert_uint_eq(e2e_count_kind(&e, "lin-1", 0, "ActivityDispatched"), 2);
    e2e_close(&e);
}
END_TEST

/* duro_runtime_start rejects `*field` = INT64_MAX with DURO_EINVAL and a message naming
 * `name`, and accepts DURO_MAX_OPTION_MS. */
static void expect_option_bound(e2e_env *e, int64_t *field, const char *name)
{
    duro_runtime *rt = NULL;
    duro_error err = {0};
    int64_t keep = *field;
    int rc;
    *field = INT64_MAX;
    rc = duro_runtime_start(e->p, e->reg, &e->opt, &rt, &err);
    if (rc == 0)
        duro_runtime_shutdown(rt);
    ck_assert_msg(rc == DURO_EINVAL, "%s = INT64_MAX: %s, expected DURO_EINVAL", name,
                  duro_err_name(rc));
    ck_assert_msg(strstr(err.message, name), "the error \"%s\" does not name %s", err.message,
                  name);
    ck_assert_ptr_null(rt);
    *field = DURO_MAX_OPTION_MS;
    rc = duro_runtime_start(e->p, e->reg, &e->opt, &rt, &err);
    ck_assert_msg(rc == 0, "%s = DURO_MAX_OPTION_MS: %s", name, err.message);
    duro_runtime_shutdown(rt);
    *field = keep;
}

/* Without the fix every INT64_MAX below is accepted (and renew_interval_ms = INT64_MAX makes
 * the housekeeping thread overflow ms * 1000: a UBSan abort, a busy loop in release). */
START_TEST(test_option_orch_lock_ms_max)
{
    e2e_env e;
    e2e_open(&e, _i);
    expect_option_bound(&e, &e.opt.orch_lock_ms, "orch_lock_ms");
    e2e_close(&e);
}
END_TEST

START_TEST(test_option_worker_lock_ms_max)
{
    e2e_env e;
    e2e_open(&e, _i);
    expect_option_bound(&e, &e.opt.worker_lock_ms, "worker_lock_ms");
    e2e_close(&e);
}
END_TEST

START_TEST(test_option_renew_interval_ms_max)
{
    e2e_env e;
    e2e_open(&e, _i);
    expect_option_bound(&e, &e.opt.renew_interval_ms, "renew_interval_ms");
    e2e_close(&e);
}
END_TEST

START_TEST(test_option_poll_ms_max)
{
    e2e_env e;
    e2e_open(&e, _i);
    expect_option_bound(&e, &e.opt.poll_ms, "poll_ms");
    e2e_close(&e);
}
END_TEST

START_TEST(test_option_unregistered_backoff_max)
{
    e2e_env e;
    e2e_open(&e, _i);
    expect_option_bound(&e, &e.opt.unregistered_backoff_max_ms, "unregistered_backoff_max_ms");
    e.opt.unregistered_backoff_max_ms = DURO_MAX_OPTION_MS;
    expect_option_bound(&e, &e.opt.unregistered_backoff_ms, "unregistered_backoff_ms");
    e2e_close(&e);
}
END_TEST

/* ---- Finding 7: misuse from orchestration code ---------------------------------------------- */

/* Policies of the misuse cases, chosen by the instance input (an index). */
static const duro_retry_policy bad_policies[] = {
    {3, DURO_BACKOFF_FIXED, -1, 0, 0},              /* 0: base_ms */
    {3, DURO_BACKOFF_FIXED, 10, -5, 0},             /* 1: max_ms */
    {3, DURO_BACKOFF_FIXED, 10, 0, INT64_MIN},      /* 2: timeout_ms */
    {3, (duro_backoff)7, 10, 0, 0},                 /* 3: an unknown backoff */
    {3, (duro_backoff)-1, 10, 0, 0},                /* 4: a negative backoff */
    {0, DURO_BACKOFF_NONE, 0, 0, 0},                /* 5: max_attempts */
};

static int orch_bad_policy(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_task *t = duro_call_activity_retry(o, "Quick", "q", &bad_policies[atoi(input)]);
    DURO_AWAIT(o, t);
    return duro_complete(o, "the call was accepted");
}

/* Run policy `index`: the instance fails as a configuration error containing `needle`. */
static void expect_bad_policy(int kind, const char *index, const char *needle)
{
    e2e_env e;
    char id[32];
    snprintf(id, sizeof id, "policy-%s", index);
    e2e_open(&e, kind);
    e2e_act(&e, "Quick", act_quick, NULL);
    e2e_orch(&e, "BadPolicy", orch_bad_policy, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, id, "BadPolicy", index);
    e2e_expect_failed(&e, id, DURO_CAT_CONFIGURATION, needle);
    ck_assert_uint_eq(e2e_count_kind(&e, id, 0, "ActivityScheduled"), 0);
    e2e_close(&e);
}

/* Without the fix the four negative values are recorded, read back as a malformed event and
 * filed as infrastructure errors; backoff 7 is accepted and behaves as "none". */
START_TEST(test_retry_negative_base)
{
    expect_bad_policy(_i, "0", "duro_call_activity_retry: activity \"Quick\": "
                               "retry.base_ms is -1 (must be >= 0)");
}
END_TEST

START_TEST(test_retry_negative_max)
{
    expect_bad_policy(_i, "1", "retry.max_ms is -5 (must be >= 0)");
}
END_TEST

START_TEST(test_retry_negative_timeout)
{
    expect_bad_policy(_i, "2", "retry.timeout_ms is -9223372036854775808 (must be >= 0)");
}
END_TEST

START_TEST(test_retry_unknown_backoff)
{
    expect_bad_policy(_i, "3", "retry.backoff is 7 (not a duro_backoff)");
}
END_TEST

START_TEST(test_retry_negative_backoff)
{
    expect_bad_policy(_i, "4", "retry.backoff is -1 (not a duro_backoff)");
}
END_TEST

/* Already a configuration error before; the message now names the field like the others. */
START_TEST(test_retry_zero_attempts)
{
    expect_bad_policy(_i, "5", "retry.max_attempts is 0 (must be >= 1)");
}
END_TEST

/* Misuse of the combinators, chosen by the instance input. */
static int orch_bad_wait(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_task *none[2] = {NULL, NULL};
    duro_task *one[2];
    if (strcmp(input, "any-empty") == 0) {
        if (!duro_when_any(o, none, 0))
            return DURO_SUSPEND;
    } else if (strcmp(input, "any-null-array") == 0) {
        if (!duro_when_any(o, NULL, 2))
            return DURO_SUSPEND;
    } else if (strcmp(input, "any-all-null") == 0) {
        if (!duro_when_any(o, none, 2))
            return DURO_SUSPEND;
    } else if (strcmp(input, "all-null-array") == 0) {
        DURO_AWAIT_ALL(o, NULL, 2);
    } else if (strcmp(input, "all-null-entry") == 0) {
        one[0] = duro_call_activity(o, "Quick", "q");
        one[1] = NULL;
        DURO_AWAIT_ALL(o, one, 2);
    } else if (strcmp(input, "one-null") == 0) {
        DURO_AWAIT(o, NULL);
    } else if (strcmp(input, "any-pending-then-await") == 0) {
        /* the pattern that must keep working: AWAIT on a when_any that found nothing */
        duro_task *ts[2] = {duro_wait_event(o, "a"), duro_wait_event(o, "b")};
        duro_task *w = duro_when_any(o, ts, 2);
        DURO_AWAIT(o, w);
        return duro_completef(o, "%s", w == ts[0] ? "a" : "b");
    }
    return duro_complete(o, "the call returned");
}

static void expect_bad_wait(int kind, const char *input, const char *needle)
{
    e2e_env e;
    e2e_open(&e, kind);
    e2e_act(&e, "Quick", act_quick, NULL);
    e2e_orch(&e, "BadWait", orch_bad_wait, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, input, "BadWait", input);
    e2e_expect_failed(&e, input, DURO_CAT_CONFIGURATION, needle);
    e2e_close(&e);
}

/* Without the fix these three wait forever (the NULL array crashes the turn thread). */
START_TEST(test_when_any_no_tasks)
{
    expect_bad_wait(_i, "any-empty", "duro_when_any: n is 0 (no task to wait for)");
}
END_TEST

START_TEST(test_when_any_null_array)
{
    expect_bad_wait(_i, "any-null-array", "duro_when_any: tasks is NULL (n is 2)");
}
END_TEST

START_TEST(test_when_any_all_null)
{
    expect_bad_wait(_i, "any-all-null", "duro_when_any: all 2 tasks are NULL");
}
END_TEST

/* Without the fix the NULL array crashes the turn thread and the NULL entry waits forever. */
START_TEST(test_await_all_null_array)
{
    expect_bad_wait(_i, "all-null-array", "duro_await_all: tasks is NULL (n is 2)");
}
END_TEST

START_TEST(test_await_all_null_entry)
{
    expect_bad_wait(_i, "all-null-entry", "duro_await_all: tasks[1] is NULL");
}
END_TEST

/* Without the fix this is the generic "returned 1 without ... waiting on a pending task". */
START_TEST(test_await_null)
{
    expect_bad_wait(_i, "one-null", "duro_await_one: task is NULL");
}
END_TEST

/* DURO_AWAIT on the NULL of a pending duro_when_any only suspends: the run already observed
 * a pending task (a guard: this passes with and without the fix). */
START_TEST(test_await_null_after_pending_when_any)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_orch(&e, "BadWait", orch_bad_wait, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "pend-1", "BadWait", "any-pending-then-await");
    wait_kind(&e, "pend-1", "ExternalEventWait", 2);
    e2e_raise(&e, "pend-1", "b", "");
    e2e_expect_completed(&e, "pend-1", "b");
    e2e_close(&e);
}
END_TEST

/* duro_runtime_options_init(NULL) is a no-op (a guard: the check predates this fix). */
START_TEST(test_options_init_null)
{
    duro_runtime_options_init(NULL);
}
END_TEST

int main(void)
{
    const e2e_test tests[] = {
        {"wait_timeout_max", test_wait_timeout_max},
        {"timer_delay_max", test_timer_delay_max},
        {"retry_timeout_max", test_retry_timeout_max},
        {"retry_backoff_max", test_retry_backoff_max},
        {"retry_linear_overflow_capped", test_retry_linear_overflow_capped},
        {"option_orch_lock_ms_max", test_option_orch_lock_ms_max},
        {"option_worker_lock_ms_max", test_option_worker_lock_ms_max},
        {"option_renew_interval_ms_max", test_option_renew_interval_ms_max},
        {"option_poll_ms_max", test_option_poll_ms_max},
        {"option_unregistered_backoff_max", test_option_unregistered_backoff_max},
        {"retry_negative_base", test_retry_negative_base},
        {"retry_negative_max", test_retry_negative_max},
        {"retry_negative_timeout", test_retry_negative_timeout},
        {"retry_unknown_backoff", test_retry_unknown_backoff},
        {"retry_negative_backoff", test_retry_negative_backoff},
        {"retry_zero_attempts", test_retry_zero_attempts},
        {"when_any_no_tasks", test_when_any_no_tasks},
        {"when_any_null_array", test_when_any_null_array},
        {"when_any_all_null", test_when_any_all_null},
        {"await_all_null_array", test_await_all_null_array},
        {"await_all_null_entry", test_await_all_null_entry},
        {"await_null", test_await_null},
        {"await_null_after_pending_when_any", test_await_null_after_pending_when_any},
        {"options_init_null", test_options_init_null},
    };
    return e2e_main("test-limits", 1u << E2E_MEMORY, tests, sizeof tests / sizeof tests[0]);
}
