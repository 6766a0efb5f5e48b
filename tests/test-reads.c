/*
 * test-reads.c — durable cross-instance value reads end to end (issue 13):
 * duro_read_value(o, instance, key, &value) from an orchestration, on both SQLite providers
 * (":memory:" and a real file) and, built as test-reads-postgres (DURO_E2E_POSTGRES), on
 * PostgreSQL.
 *
 * Covered: an instance reads another running instance's key, a key that is not set and an
 * instance that does not exist, each result recorded in history (ValueRead); after the
 * other instance changed the key and the runtime restarted, the replay returns the recorded
 * value while a new read after it sees the new one; a retryable store error while reading
 * discards the turn (nothing recorded) and the turn is retried until the read succeeds;
 * misuse (this instance's own id, an empty key, a NULL result pointer) fails the instance
 * with a configuration error naming it; a provider without DURO_CAP_KV fails the turn with
 * DURO_ENOTSUP; a replay that reads another key at that point is a nondeterminism.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e-common.h"

#define HOLDER "holder"

/* The instance whose value the readers read: sets "color" to "red", to the data of event
 * "change" when it arrives, and completes with "held" on event "finish". */
static int holder(duro_orch *o, const char *input, void *ud)
{
    duro_task *t;

    (void)input;
    (void)ud;
    if (duro_set_value(o, "color", "red"))
        return DURO_DONE;
    t = duro_wait_event(o, "change");
    DURO_AWAIT(o, t);
    if (duro_set_value(o, "color", duro_task_value(t)))
        return DURO_DONE;
    t = duro_wait_event(o, "finish");
    DURO_AWAIT(o, t);
    return duro_complete(o, "held");
}

/* Three reads (a set key, an unset key, an instance that does not exist), custom status
 * "read", then, after event "again", one more read of the set key. */
static int reader(duro_orch *o, const char *input, void *ud)
{
    const char *first, *missing, *nobody, *second;
    int nobody_rc;
    duro_task *t;

    (void)input;
    (void)ud;
    if (duro_read_value(o, HOLDER, "color", &first) || duro_read_value(o, HOLDER, "shape", &missing))
        return DURO_DONE;
    nobody_rc = duro_read_value(o, "nobody", "color", &nobody);
    duro_set_custom_status(o, "read");
    t = duro_wait_event(o, "again");
    DURO_AWAIT(o, t);
    if (duro_read_value(o, HOLDER, "color", &second))
        return DURO_DONE;
    return duro_completef(o, "first=%s missing=%s nobody=%s/%s second=%s", first,
                          missing ? missing : "(unset)", duro_err_name(nobody_rc),
                          nobody ? nobody : "(null)", second);
}

/* One read of the holder's color, completing with it. */
static int read_once(duro_orch *o, const char *input, void *ud)
{
    const char *color;

    (void)input;
    (void)ud;
    if (duro_read_value(o, HOLDER, "color", &color))
        return DURO_DONE;
    return duro_completef(o, "got=%s", color ? color : "(unset)");
}

/* A misuse of duro_read_value chosen by the input; completes only if the call returns 0. */
static int misuse(duro_orch *o, const char *input, void *ud)
{
    const char *v;
    int rc;

    (void)ud;
    if (strcmp(input, "self") == 0)
        rc = duro_read_value(o, duro_orch_instance(o), "color", &v);
    else if (strcmp(input, "empty-key") == 0)
        rc = duro_read_value(o, HOLDER, "", &v);
    else
        rc = duro_read_value(o, HOLDER, "color", NULL);
    if (rc == 0)
        return duro_complete(o, "not refused");
    return DURO_DONE;
}

/* Index into nondet_keys of the key Nondet reads (changed by the test between turns). */
static int nondet_key;
static const char *const nondet_keys[] = {"a", "b"};

/* Reads a key of "nobody" chosen by nondet_key, then waits for event "go". */
static int nondet(duro_orch *o, const char *input, void *ud)
{
    const char *v;
    duro_task *t;

    (void)input;
    (void)ud;
    if (duro_read_value(o, "nobody", nondet_keys[__atomic_load_n(&nondet_key, __ATOMIC_SEQ_CST)],
                        &v) != DURO_ENOTFOUND)
        return duro_fail(o, "expected no instance");
    duro_set_custom_status(o, "read");
    t = duro_wait_event(o, "go");
    DURO_AWAIT(o, t);
    return duro_complete(o, "done");
}

static void register_all(e2e_env *e)
{
    e2e_orch(e, "Holder", holder, NULL);
    e2e_orch(e, "Reader", reader, NULL);
    e2e_orch(e, "ReadOnce", read_once, NULL);
    e2e_orch(e, "Misuse", misuse, NULL);
    e2e_orch(e, "Nondet", nondet, NULL);
}

/* Start the holder and wait until its "color" is stored. */
static uint64_t start_holder(e2e_env *e)
{
    char *value = NULL;
    uint64_t version = 0;
    duro_error err = {0};
    int rc;

    e2e_start_instance(e, HOLDER, "Holder", "");
    rc = duro_client_wait_value(e->c, HOLDER, "color", 0, E2E_WAIT_MS, &value, &version, &err);
    ck_assert_msg(rc == 0, "wait for the holder's color: %s (%s)", duro_err_name(rc),
                  err.message);
    ck_assert_str_eq(value, "red");
    free(value);
    return version;
}

/* The payload of the `nth` (from 1) event of kind `kind_name` in the current execution of
 * `id`, malloc'ed. */
static char *nth_payload(e2e_env *e, const char *id, const char *kind_name, size_t nth)
{
    duro_event *ev;
    size_t n, i, seen = 0;
    char *payload = NULL;

    e2e_history(e, id, 0, &ev, &n);
    for (i = 0; i < n && !payload; i++)
        if (strcmp(duro_event_kind_name(ev[i].kind), kind_name) == 0 && ++seen == nth)
            payload = strdup(ev[i].payload);
    duro_events_free(ev, n);
    ck_assert_msg(payload != NULL, "%s has no %zu. %s event", id, nth, kind_name);
    return payload;
}

START_TEST(test_read_recorded_and_replayed)
{
    e2e_env e;
    char *value = NULL, *payload;
    uint64_t version;
    duro_error err = {0};
    int rc;

    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    version = start_holder(&e);
    e2e_start_instance(&e, "reader", "Reader", "");
    e2e_wait_custom_status(&e, "reader", "read");
    ck_assert_uint_eq(e2e_count_kind(&e, "reader", 0, "ValueRead"), 3);
    payload = nth_payload(&e, "reader", "ValueRead", 1);
    ck_assert_str_eq(payload, "{\"instance\":\"holder\",\"name\":\"color\",\"what\":\"set\","
                              "\"text\":\"red\"}");
    free(payload);
    payload = nth_payload(&e, "reader", "ValueRead", 2);
    ck_assert_str_eq(payload, "{\"instance\":\"holder\",\"name\":\"shape\",\"what\":\"unset\"}");
    free(payload);
    payload = nth_payload(&e, "reader", "ValueRead", 3);
    ck_assert_str_eq(payload,
                     "{\"instance\":\"nobody\",\"name\":\"color\",\"what\":\"no_instance\"}");
    free(payload);

    /* the holder changes its color; the reader's replay must not see it at the first read */
    e2e_raise(&e, HOLDER, "change", "blue");
    rc = duro_client_wait_value(e.c, HOLDER, "color", version, E2E_WAIT_MS, &value, NULL, &err);
    ck_assert_msg(rc == 0, "wait for blue: %s (%s)", duro_err_name(rc), err.message);
    ck_assert_str_eq(value, "blue");
    free(value);
    e2e_stop(&e);
    e2e_start(&e); /* a new runtime replays the reader from the stored history */
    e2e_raise(&e, "reader", "again", "");
    e2e_expect_completed(&e, "reader",
                         "first=red missing=(unset) nobody=DURO_ENOTFOUND/(null) second=blue");
    ck_assert_uint_eq(e2e_count_kind(&e, "reader", 0, "ValueRead"), 4);
    e2e_raise(&e, HOLDER, "finish", "");
    e2e_expect_completed(&e, HOLDER, "held");
    e2e_close(&e);
}
END_TEST

START_TEST(test_read_retryable_error_retries_turn)
{
    e2e_env e;
    duro_fault_options none;
    duro_runtime_metrics m;
    duro_error err = {0};

    e2e_open(&e, _i);
    register_all(&e);
    duro_fault_options_init(&none);
    e2e_wrap_faults(&e, &none);
    e2e_start(&e);
    start_holder(&e);
    /* the reader's next two store reads (get_value counts as an instance read) fail busy */
    ck_assert_int_eq(duro_fault_fail_next(e.faults, DURO_FAULT_INSTANCE_INFO, 2,
                                          DURO_FAULT_BEFORE),
                     0);
    e2e_start_instance(&e, "once", "ReadOnce", "");
    e2e_expect_completed(&e, "once", "got=red");
    ck_assert_uint_eq(duro_fault_injected(e.faults, DURO_FAULT_INSTANCE_INFO, 0), 2);
    ck_assert_uint_eq(e2e_count_kind(&e, "once", 0, "ValueRead"), 1);
    e2e_wait_terminals(&e, 1);
    duro_runtime_metrics_init(&m);
    ck_assert_int_eq(duro_runtime_metrics_get(e.rt, &m, &err), 0);
    /* the holder's one turn, the reader's two discarded turns and the one that committed */
    ck_assert_uint_eq(m.turns, 4);
    ck_assert_uint_eq(m.completed, 1);
    ck_assert_uint_eq(m.failed[DURO_CAT_POISON], 0);
    e2e_close(&e);
}
END_TEST

START_TEST(test_read_misuse_fails_instance)
{
    e2e_env e;

    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    e2e_start_instance(&e, "self", "Misuse", "self");
    e2e_start_instance(&e, "empty-key", "Misuse", "empty-key");
    e2e_start_instance(&e, "null-value", "Misuse", "null-value");
    e2e_expect_failed(&e, "self", DURO_CAT_CONFIGURATION,
                      "duro_read_value: \"self\" is this instance: read its own values with "
                      "duro_get_value");
    e2e_expect_failed(&e, "empty-key", DURO_CAT_CONFIGURATION,
                      "invalid duro_read_value: key is empty");
    e2e_expect_failed(&e, "null-value", DURO_CAT_CONFIGURATION,
                      "duro_read_value: value is NULL");
    ck_assert_uint_eq(e2e_count_kind(&e, "self", 0, "ValueRead"), 0);
    e2e_close(&e);
}
END_TEST

START_TEST(test_read_without_kv_is_enotsup)
{
    e2e_env e;
    duro_fault_options none;
    duro_status st;

    e2e_open(&e, _i);
    register_all(&e);
    duro_fault_options_init(&none);
    e2e_wrap_faults(&e, &none);
    e.faults->caps &= ~DURO_CAP_KV; /* the runtime sees a store without durable values */
    e2e_start(&e);
    e2e_start_instance(&e, "once", "ReadOnce", "");
    e2e_expect_failed(&e, "once", DURO_CAT_CONFIGURATION,
                      "duro_read_value: the provider does not store durable values (it lacks "
                      "DURO_CAP_KV)");
    ck_assert_uint_eq(e2e_count_kind(&e, "once", 0, "ValueRead"), 0);
    memset(&st, 0, sizeof st);
    e2e_wait(&e, "once", &st);
    ck_assert_int_eq(st.state, DURO_STATE_FAILED);
    duro_status_clear(&st);
    e2e_close(&e);
}
END_TEST

START_TEST(test_read_other_key_on_replay_is_nondeterminism)
{
    e2e_env e;

    e2e_open(&e, _i);
    register_all(&e);
    e2e_start(&e);
    __atomic_store_n(&nondet_key, 0, __ATOMIC_SEQ_CST);
    e2e_start_instance(&e, "nondet", "Nondet", "");
    e2e_wait_custom_status(&e, "nondet", "read");
    __atomic_store_n(&nondet_key, 1, __ATOMIC_SEQ_CST); /* the code now reads "b" */
    e2e_raise(&e, "nondet", "go", "");
    e2e_expect_failed(&e, "nondet", DURO_CAT_CONFIGURATION,
                      "the code now makes read of value \"b\" of instance \"nobody\" but "
                      "history recorded read of value \"a\" of instance \"nobody\"");
    e2e_close(&e);
}
END_TEST

int main(void)
{
    const e2e_test tests[] = {
        {"read_recorded_and_replayed", test_read_recorded_and_replayed},
        {"read_retryable_error_retries_turn", test_read_retryable_error_retries_turn},
        {"read_misuse_fails_instance", test_read_misuse_fails_instance},
        {"read_without_kv_is_enotsup", test_read_without_kv_is_enotsup},
        {"read_other_key_on_replay_is_nondeterminism",
         test_read_other_key_on_replay_is_nondeterminism},
    };
#ifdef DURO_E2E_POSTGRES
    return e2e_main("test-reads-postgres", 1u << E2E_POSTGRES, tests,
                    sizeof tests / sizeof tests[0]);
#else
    return e2e_main("test-reads", E2E_ALL_KINDS, tests, sizeof tests / sizeof tests[0]);
#endif
}
