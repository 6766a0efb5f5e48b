/*
 * test-kv.c — durable values end to end (issue 13): orchestrations set, read and clear
 * values through the runtime while a client reads them from the store, on both SQLite
 * providers (":memory:" and a real file) and, built as test-kv-postgres (DURO_E2E_POSTGRES),
 * on the PostgreSQL provider.
 *
 * Covered: a value updated over several turns, each new version seen by the client as it
 * happens (duro_client_wait_value, woken by the commit; the turns are paced by external
 * events, never by sleeps) and read back by the orchestration's own replays, across a
 * runtime restart; values carried through continue-as-new, kept by prune and removed by
 * delete; each limit failing the instance with an error that names it and storing nothing
 * of the failing call; a replay that sets another value failing as nondeterministic; and a
 * provider without DURO_CAP_KV failing the turn with DURO_ENOTSUP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e-common.h"

/* Read `key` of `id` through the client, asserting `value` at `version`. */
static void expect_value(e2e_env *e, const char *id, const char *key, const char *value,
                         uint64_t version)
{
    char *got = NULL;
    uint64_t v = 0;
    duro_error err = {0};
    int rc = duro_client_get_value(e->c, id, key, &got, &v, &err);

    ck_assert_msg(rc == 0, "get_value(%s, %s): %s (%s)", id, key, duro_err_name(rc),
                  err.message);
    ck_assert_str_eq(got, value);
    ck_assert_uint_eq(v, version);
    free(got);
}

/* Assert that `key` of `id` is not stored. */
static void expect_absent(e2e_env *e, const char *id, const char *key)
{
    char *got = NULL;
    duro_error err = {0};

    ck_assert_int_eq(duro_client_get_value(e->c, id, key, &got, NULL, &err), DURO_ENOTFOUND);
    ck_assert_ptr_null(got);
}

/* Wait for `key` of `id` to move past `last`; assert it reads `value` at `version`. */
static void wait_value(e2e_env *e, const char *id, const char *key, uint64_t last,
                       const char *value, uint64_t version)
{
    char *got = NULL;
    uint64_t v = 0;
    duro_error err = {0};
    int rc = duro_client_wait_value(e->c, id, key, last, E2E_WAIT_MS, &got, &v, &err);

    ck_assert_msg(rc == 0, "wait_value(%s, %s, %llu): %s (%s)", id, key,
                  (unsigned long long)last, duro_err_name(rc), err.message);
    ck_assert_str_eq(got, value);
    ck_assert_uint_eq(v, version);
    free(got);
}

/* Number of stored values of `id`. */
static size_t count_values(e2e_env *e, const char *id)
{
    duro_kv_entry *entries = NULL;
    size_t n = 0;
    duro_error err = {0};

    ck_assert_int_eq(duro_client_list_values(e->c, id, &entries, &n, &err), 0);
    duro_kv_entries_free(entries, n);
    return n;
}

/* ---- A value updated over several turns ------------------------------------------------- */

/* Sets "step" to 1, 2, 3, waiting for event "next" after each, and checks on every run that
 * what it reads is what it set (counted in *ud as mismatches). */
static int stepper(duro_orch *o, const char *input, void *ud)
{
    int *mismatches = ud;
    char want[16];

    if (duro_get_value(o, "step") != NULL)
        __atomic_add_fetch(mismatches, 1, __ATOMIC_SEQ_CST);
    for (int i = 1; i <= 3; i++) {
        const char *got;
        snprintf(want, sizeof want, "%d", i);
        if (duro_set_value(o, "step", want) != 0)
            return DURO_DONE;
        got = duro_get_value(o, "step");
        if (got == NULL || strcmp(got, want) != 0)
            __atomic_add_fetch(mismatches, 1, __ATOMIC_SEQ_CST);
        duro_task *t = duro_wait_event(o, "next");
        DURO_AWAIT(o, t);
    }
    if (duro_clear_value(o, "scratch") != 0 || duro_set_value(o, "scratch", "s") != 0 ||
        duro_clear_values(o) != 0)
        return DURO_DONE;
    if (duro_set_value(o, "final", duro_get_value(o, "step") ? "step survived" : "cleared"))
        return DURO_DONE;
    return duro_completef(o, "final=%s", duro_get_value(o, "final"));
}

START_TEST(test_value_across_turns)
{
    e2e_env e;
    int mismatches = 0;
    char *v = NULL;
    duro_error err = {0};

    e2e_open(&e, _i);
    e2e_orch(&e, "Stepper", stepper, &mismatches);
    e2e_start(&e);
    e2e_start_instance(&e, "s", "Stepper", "");
    wait_value(&e, "s", "step", 0, "1", 1);
    expect_value(&e, "s", "step", "1", 1);
    ck_assert_int_eq(duro_client_wait_value(e.c, "s", "step", 1, 0, &v, NULL, &err),
                     DURO_ETIMEDOUT);
    e2e_raise(&e, "s", "next", "");
    wait_value(&e, "s", "step", 1, "2", 2);
    e2e_stop(&e); /* the next turns replay in a fresh runtime */
    e2e_start(&e);
    e2e_raise(&e, "s", "next", "");
    wait_value(&e, "s", "step", 2, "3", 3);
    e2e_raise(&e, "s", "next", "");
    e2e_expect_completed(&e, "s", "final=cleared");
    ck_assert_int_eq(__atomic_load_n(&mismatches, __ATOMIC_SEQ_CST), 0);
    ck_assert_uint_eq(e2e_count_kind(&e, "s", 1, "ValueSet"), 5);
    ck_assert_uint_eq(e2e_count_kind(&e, "s", 1, "ValueCleared"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "s", 1, "ValuesCleared"), 1);
    ck_assert_uint_eq(count_values(&e, "s"), 1);
    expect_value(&e, "s", "final", "cleared", 7);
    expect_absent(&e, "s", "step");
    ck_assert_int_eq(duro_client_wait_value(e.c, "s", "step", 3, E2E_WAIT_MS, &v, NULL, &err),
                     DURO_ENOTFOUND);
    e2e_close(&e);
}
END_TEST

/* ---- Continue-as-new, prune and delete --------------------------------------------------- */

/* Generation n (the input) checks that "gen" holds n - 1, sets it to n and continues as new
 * until generation 3. */
static int generations(duro_orch *o, const char *input, void *ud)
{
    long n = strtol(input, NULL, 10);
    char buf[24];
    const char *prev = duro_get_value(o, "gen");

    (void)ud;
    if (n == 0) {
        if (prev != NULL)
            return duro_fail(o, "generation 0 found a value");
        if (duro_set_value(o, "keep", "yes") != 0)
            return DURO_DONE;
    } else if (prev == NULL || strtol(prev, NULL, 10) != n - 1)
        return duro_failf(o, "generation %ld found gen=%s", n, prev ? prev : "(none)");
    snprintf(buf, sizeof buf, "%ld", n);
    if (duro_set_value(o, "gen", buf) != 0)
        return DURO_DONE;
    if (n < 3) {
        snprintf(buf, sizeof buf, "%ld", n + 1);
        return duro_continue_as_new(o, buf);
    }
    return duro_completef(o, "gen=%s keep=%s", duro_get_value(o, "gen"),
                          duro_get_value(o, "keep"));
}

START_TEST(test_continue_as_new_prune_delete)
{
    e2e_env e;
    duro_delete_result r = {0};
    duro_error err = {0};

    e2e_open(&e, _i);
    e2e_orch(&e, "Generations", generations, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "g", "Generations", "0");
    e2e_expect_completed(&e, "g", "gen=3 keep=yes");
    expect_value(&e, "g", "gen", "3", 5);
    expect_value(&e, "g", "keep", "yes", 1);
    ck_assert_int_eq(duro_client_prune(e.c, "g", 1, 0, &r, &err), 0);
    ck_assert_uint_eq(r.executions, 3);
    expect_value(&e, "g", "gen", "3", 5);
    ck_assert_uint_eq(count_values(&e, "g"), 2);
    ck_assert_int_eq(duro_client_delete(e.c, "g", 0, &r, &err), 0);
    expect_absent(&e, "g", "gen");
    e2e_close(&e);
}
END_TEST

/* ---- Limits ------------------------------------------------------------------------------ */

/* Breaks the limit named by the input. */
static int limits(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    if (strcmp(input, "value") == 0) {
        char *big = malloc(DURO_MAX_VALUE_BYTES + 2);
        int rc;
        if (big == NULL)
            return duro_fail(o, "out of memory");
        memset(big, 'v', DURO_MAX_VALUE_BYTES + 1);
        big[DURO_MAX_VALUE_BYTES + 1] = '\0';
        rc = duro_set_value(o, "big", big);
        free(big);
        return rc == DURO_ETOOBIG ? DURO_DONE : duro_fail(o, "no DURO_ETOOBIG");
    }
    if (strcmp(input, "empty-key") == 0)
        return duro_set_value(o, "", "v") == DURO_EINVAL ? DURO_DONE
                                                         : duro_fail(o, "no DURO_EINVAL");
    if (strcmp(input, "keys") == 0) {
        char key[16];
        for (int i = 0; i < DURO_MAX_VALUES; i++) {
            snprintf(key, sizeof key, "k%d", i);
            if (duro_set_value(o, key, "v") != 0)
                return DURO_DONE;
        }
        return duro_set_value(o, "one-too-many", "v") == DURO_ETOOBIG
                   ? DURO_DONE
                   : duro_fail(o, "no DURO_ETOOBIG");
    }
    return duro_fail(o, "unknown limit");
}

START_TEST(test_limits)
{
    e2e_env e;

    e2e_open(&e, _i);
    e2e_orch(&e, "Limits", limits, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "value", "Limits", "value");
    e2e_start_instance(&e, "empty-key", "Limits", "empty-key");
    e2e_start_instance(&e, "keys", "Limits", "keys");
    e2e_expect_failed(&e, "value", DURO_CAT_CONFIGURATION,
                      "duro_set_value: value of \"big\" is 65537 bytes (limit 65536)");
    e2e_expect_failed(&e, "empty-key", DURO_CAT_CONFIGURATION,
                      "invalid duro_set_value: key is empty");
    e2e_expect_failed(&e, "keys", DURO_CAT_CONFIGURATION,
                      "\"one-too-many\" would be key 1025 of the instance (limit 1024 keys)");
    expect_absent(&e, "value", "big");
    ck_assert_uint_eq(count_values(&e, "empty-key"), 0);
    /* the calls before the failing one are in history, so they are stored too */
    ck_assert_uint_eq(count_values(&e, "keys"), DURO_MAX_VALUES);
    expect_absent(&e, "keys", "one-too-many");
    e2e_close(&e);
}
END_TEST

/* ---- Nondeterminism ---------------------------------------------------------------------- */

/* Sets "k" to "a" (or, once *ud is 1, to "b") and waits for event "go". */
static int setter(duro_orch *o, const char *input, void *ud)
{
    const int *variant = ud;

    (void)input;
    if (duro_set_value(o, "k", __atomic_load_n(variant, __ATOMIC_SEQ_CST) ? "b" : "a") != 0)
        return DURO_DONE;
    duro_task *t = duro_wait_event(o, "go");
    DURO_AWAIT(o, t);
    return duro_complete(o, duro_get_value(o, "k"));
}

START_TEST(test_replay_with_other_value_is_nondeterministic)
{
    e2e_env e;
    int variant = 0;

    e2e_open(&e, _i);
    e2e_orch(&e, "Setter", setter, &variant);
    e2e_start(&e);
    e2e_start_instance(&e, "n", "Setter", "");
    wait_value(&e, "n", "k", 0, "a", 1);
    e2e_stop(&e);
    __atomic_store_n(&variant, 1, __ATOMIC_SEQ_CST);
    e2e_start(&e);
    e2e_raise(&e, "n", "go", "");
    e2e_expect_failed(&e, "n", DURO_CAT_CONFIGURATION, "nondeterministic");
    e2e_expect_failed(&e, "n", DURO_CAT_CONFIGURATION, "set of value \"k\"");
    expect_value(&e, "n", "k", "a", 1);
    e2e_close(&e);
}
END_TEST

/* ---- A provider without DURO_CAP_KV ------------------------------------------------------- */

START_TEST(test_provider_without_kv)
{
    e2e_env e;
    duro_fault_options none;
    int variant = 0;

    e2e_open(&e, _i);
    duro_fault_options_init(&none);
    e2e_wrap_faults(&e, &none);
    e.faults->caps &= ~DURO_CAP_KV; /* the runtime's provider no longer claims values */
    e2e_orch(&e, "Setter", setter, &variant);
    e2e_start(&e);
    e2e_start_instance(&e, "x", "Setter", "");
    e2e_expect_failed(&e, "x", DURO_CAT_CONFIGURATION,
                      "duro_set_value: the provider does not store durable values (it lacks "
                      "DURO_CAP_KV)");
    expect_absent(&e, "x", "k");
    e2e_close(&e);
}
END_TEST

int main(void)
{
    const e2e_test tests[] = {
        {"value_across_turns", test_value_across_turns},
        {"continue_as_new_prune_delete", test_continue_as_new_prune_delete},
        {"limits", test_limits},
        {"replay_with_other_value_is_nondeterministic",
         test_replay_with_other_value_is_nondeterministic},
        {"provider_without_kv", test_provider_without_kv},
    };
#ifdef DURO_E2E_POSTGRES
    return e2e_main("test-kv-postgres", 1u << E2E_POSTGRES, tests,
                    sizeof tests / sizeof tests[0]);
#else
    return e2e_main("test-kv", E2E_ALL_KINDS, tests, sizeof tests / sizeof tests[0]);
#endif
}
