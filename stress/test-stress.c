/*
 * test-stress.c — Check tests of the stress suite itself: the arithmetic behind the numbers
 * (percentiles, medians, slopes), the payloads and expected outputs, the command line, the
 * gates and baseline comparison, the JSON and JUnit reports, and short real runs on in-memory
 * SQLite that pin down what the driver counts (activities executed, timeouts, open-loop
 * schedule, injected failures, children, continue-as-new) and that the integrity checks
 * catch a failing store check and a corrupted history; and the fault wrapper (duro-fault.h)
 * the driver injects provider faults with.
 */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "duro-report.h"
#include "duro-sqlite.h"
#include "sqlite-factory.h"
#include "junit-check.h"
#include "stress.h"

/* ---- The fault wrapper (duro-fault.h) ------------------------------------------------------ */

static duro_provider *memory_store(void)
{
    duro_provider *p = NULL;
    duro_error err = {0};
    ck_assert_int_eq(duro_sqlite_open(":memory:", NULL, &p, &err), 0);
    return p;
}

static int enqueue_start(duro_provider *p, const char *instance, duro_error *err)
{
    duro_msg m = {0};
    m.instance = instance;
    m.kind = DURO_MSG_START;
    m.execution_id = 1;
    m.payload = "{}";
    return p->ops->enqueue_orch(p, &m, err);
}

/* Fetch and release the next orchestration item; its instance id, "" when there is none. */
static void fetch_release(duro_provider *p, char *instance, size_t size)
{
    duro_orch_item *item = NULL;
    duro_error err = {0};
    instance[0] = '\0';
    if (p->ops->fetch_orch(p, duro_clock_now_ms(), 1000, 0, &item, &err) != 0)
        return;
    snprintf(instance, size, "%s", item->instance);
    ck_assert_int_eq(p->ops->abandon_orch(p, duro_clock_now_ms(), item->lock_token, 0, 1, &err),
                     0);
    duro_orch_item_free(item);
}

START_TEST(fault_wrap_rejects_bad_options)
{
    duro_provider *store = memory_store(), *w = NULL;
    duro_fault_options fo;
    duro_error err = {0};
    duro_fault_options_init(&fo);
    ck_assert_int_eq(duro_fault_wrap(NULL, &fo, &w, &err), DURO_EINVAL);
    ck_assert_str_eq(err.message, "duro_fault_wrap: NULL argument");
    fo.size = 0;
    ck_assert_int_eq(duro_fault_wrap(store, &fo, &w, &err), DURO_EINVAL);
    duro_fault_options_init(&fo);
    fo.before_pct[DURO_FAULT_FETCH_WORK] = 100.5;
    ck_assert_int_eq(duro_fault_wrap(store, &fo, &w, &err), DURO_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "fetch_work has a rate outside 0..100"));
    duro_fault_options_init(&fo);
    fo.after_pct[DURO_FAULT_FETCH_ORCH] = 1;
    ck_assert_int_eq(duro_fault_wrap(store, &fo, &w, &err), DURO_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "fetch_orch has an AFTER rate"));
    duro_fault_options_init(&fo);
    fo.latency_ms = -1;
    ck_assert_int_eq(duro_fault_wrap(store, &fo, &w, &err), DURO_EINVAL);
    ck_assert_ptr_null(w);
    /* a provider that is not a wrapper */
    ck_assert_int_eq(duro_fault_fail_next(store, DURO_FAULT_ACK_ORCH, 1, DURO_FAULT_BEFORE),
                     DURO_EINVAL);
    ck_assert_uint_eq(duro_fault_injected(store, DURO_FAULT_N_OPS, 0), 0);
    ck_assert_str_eq(duro_fault_op_name(DURO_FAULT_ABANDON_WORK), "abandon_work");
    ck_assert_str_eq(duro_fault_op_name(DURO_FAULT_N_OPS), "?");
    duro_provider_destroy(store);
}
END_TEST

/* BEFORE leaves the store untouched; AFTER applies the call and reports it failed; both are
 * retryable and carry the signature; the schedule is exact and AFTER is refused where the
 * wrapper would have to free a result. */
START_TEST(fault_schedule_before_and_after)
{
    duro_provider *store = memory_store(), *w = NULL;
    duro_fault_options fo;
    duro_error err = {0};
    char got[64];
    duro_fault_options_init(&fo);
    ck_assert_int_eq(duro_fault_wrap(store, &fo, &w, &err), 0);
    ck_assert_str_eq(w->name, store->name);
    ck_assert_uint_eq(w->caps, store->caps);
    ck_assert_int_eq(duro_fault_fail_next(w, DURO_FAULT_FETCH_ORCH, 1, DURO_FAULT_AFTER),
                     DURO_EINVAL);
    ck_assert_int_eq(duro_fault_fail_next(w, DURO_FAULT_ENQUEUE_ORCH, 1, DURO_FAULT_BEFORE), 0);
    ck_assert_int_eq(enqueue_start(w, "before", &err), DURO_EBUSY);
    ck_assert_int_eq(err.retryable, 1);
    ck_assert_ptr_nonnull(strstr(err.message, DURO_FAULT_SIGNATURE));
    fetch_release(store, got, sizeof got);
    ck_assert_str_eq(got, ""); /* nothing reached the store */
    ck_assert_int_eq(duro_fault_fail_next(w, DURO_FAULT_ENQUEUE_ORCH, 1, DURO_FAULT_AFTER), 0);
    ck_assert_int_eq(enqueue_start(w, "after", &err), DURO_EIO);
    ck_assert_int_eq(err.retryable, 1);
    fetch_release(store, got, sizeof got);
    ck_assert_str_eq(got, "after"); /* applied although reported failed */
    ck_assert_int_eq(enqueue_start(w, "clean", &err), 0); /* the schedule is used up */
    ck_assert_uint_eq(duro_fault_injected(w, DURO_FAULT_ENQUEUE_ORCH, DURO_FAULT_BEFORE), 1);
    ck_assert_uint_eq(duro_fault_injected(w, DURO_FAULT_ENQUEUE_ORCH, DURO_FAULT_AFTER), 1);
    ck_assert_uint_eq(duro_fault_injected(w, DURO_FAULT_N_OPS, 0), 2);
    duro_provider_destroy(w);
    duro_provider_destroy(store);
}
END_TEST

/* A rate hits the same calls for the same seed, about the share asked for, and other ops not
 * at all. */
START_TEST(fault_rates_are_deterministic_per_seed)
{
    char pattern[2][401];
    for (int run = 0; run < 2; run++) {
        duro_provider *store = memory_store(), *w = NULL;
        duro_fault_options fo;
        duro_error err = {0};
        duro_instance_info info;
        duro_fault_options_init(&fo);
        fo.seed = 42;
        fo.before_pct[DURO_FAULT_INSTANCE_INFO] = 30;
        ck_assert_int_eq(duro_fault_wrap(store, &fo, &w, &err), 0);
        for (int i = 0; i < 400; i++) {
            memset(&info, 0, sizeof info);
            int rc = w->ops->instance_info(w, "none", &info, &err);
            ck_assert(rc == DURO_EBUSY || rc == DURO_ENOTFOUND);
            pattern[run][i] = rc == DURO_EBUSY ? 'x' : '.';
        }
        pattern[run][400] = '\0';
        uint64_t n = duro_fault_injected(w, DURO_FAULT_INSTANCE_INFO, DURO_FAULT_BEFORE);
        ck_assert_uint_ge(n, 80); /* 120 expected */
        ck_assert_uint_le(n, 160);
        ck_assert_int_eq(enqueue_start(w, "untouched", &err), 0);
        ck_assert_uint_eq(duro_fault_injected(w, DURO_FAULT_N_OPS, 0), n);
        duro_provider_destroy(w);
        duro_provider_destroy(store);
    }
    ck_assert_str_eq(pattern[0], pattern[1]);
}
END_TEST

/* ---- Arithmetic ---------------------------------------------------------------------------- */

START_TEST(percentile_is_nearest_rank)
{
    double v[100];
    for (int i = 0; i < 100; i++)
        v[i] = i + 1;
    ck_assert_double_eq(duro__percentile(v, 100, 50), 50);
    ck_assert_double_eq(duro__percentile(v, 100, 95), 95);
    ck_assert_double_eq(duro__percentile(v, 100, 99), 99);
    ck_assert_double_eq(duro__percentile(v, 100, 100), 100);
    ck_assert_double_eq(duro__percentile(v, 100, 0), 1);
    ck_assert_double_eq(duro__percentile(v, 10, 99), 10);
    ck_assert_double_eq(duro__percentile(v, 10, 50), 5);
    ck_assert_double_eq(duro__percentile(v, 3, 50), 2);
    ck_assert_double_eq(duro__percentile(v, 1, 99), 1);
    ck_assert_double_eq(duro__percentile(v, 0, 99), 0);
}
END_TEST

START_TEST(median_is_lower_middle_with_nan_last)
{
    double a[] = {4, 1, 3, 2};
    ck_assert_double_eq(duro__median(a, 4), 2);
    double b[] = {7};
    ck_assert_double_eq(duro__median(b, 1), 7);
    double c[] = {NAN, 5, 1};
    ck_assert_double_eq(duro__median(c, 3), 5);
    ck_assert(isnan(c[2]));
    ck_assert_double_eq(duro__median(c, 0), 0);
}
END_TEST

START_TEST(slope_is_least_squares)
{
    double x[] = {0, 1, 2, 3, 4};
    double y[] = {1, 3, 5, 7, 9};
    ck_assert_double_eq_tol(duro__slope(x, y, 5), 2.0, 1e-12);
    double y2[] = {1, 2, 1, 2, 1};
    ck_assert_double_eq_tol(duro__slope(x, y2, 5), 0.0, 1e-12);
    ck_assert(isnan(duro__slope(x, y, 2)));
    double same[] = {1, 1, 1};
    ck_assert(isnan(duro__slope(same, y, 3)));
}
END_TEST

START_TEST(result_median_takes_each_metric_and_any_integrity_failure)
{
    duro_stress_result r[3];
    memset(r, 0, sizeof r);
    r[0].orch_per_sec = 10;
    r[1].orch_per_sec = 30;
    r[2].orch_per_sec = 20;
    r[0].completed = 5;
    r[1].completed = 9;
    r[2].completed = 7;
    r[0].integrity_ok = r[2].integrity_ok = 1;
    snprintf(r[1].integrity_message, sizeof r[1].integrity_message, "broken");
    snprintf(r[2].first_failure, sizeof r[2].first_failure, "stress-3: boom");
    duro_stress_result m;
    ck_assert_int_eq(duro__result_median(r, 3, &m), 0);
    ck_assert_double_eq(m.orch_per_sec, 20);
    ck_assert_uint_eq(m.completed, 7);
    ck_assert_int_eq(m.integrity_ok, 0);
    ck_assert_str_eq(m.integrity_message, "broken");
    ck_assert_str_eq(m.first_failure, "stress-3: boom");
}
END_TEST

/* ---- Payloads and expected outputs ------------------------------------------------------- */

START_TEST(payload_is_deterministic_and_exact)
{
    char a[10241], b[10241];
    duro__payload_fill(42, a, 10240);
    duro__payload_fill(42, b, 10240);
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(strlen(a), 10240);
    ck_assert(duro__payload_match(42, a, 10240));
    ck_assert(!duro__payload_match(43, a, 10240));
    ck_assert(!duro__payload_match(42, a, 10239));
    a[5000] = a[5000] == 'A' ? 'B' : 'A';
    ck_assert(!duro__payload_match(42, a, 10240));
    ck_assert(!duro__payload_match(42, NULL, 1));
    int seen[256] = {0}, distinct = 0;
    for (size_t i = 0; i < 10240; i++)
        distinct += !seen[(unsigned char)b[i]]++;
    ck_assert_int_eq(distinct, 64);
}
END_TEST

START_TEST(verify_accepts_exactly_the_expected_output)
{
    duro_stress_config cfg;
    duro_stress_config_init(&cfg);
    cfg.tasks_per_instance = 3;
    char why[256];
    ck_assert_int_eq(duro__scenario_verify(DURO__SC_PARALLEL, 7, &cfg, "i7-t0,i7-t1,i7-t2", why,
                                           sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_PARALLEL, 7, &cfg, "i7-t0,i7-t2,i7-t1", why,
                                           sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_PARALLEL, 7, &cfg, "i7-t0,i7-t1,i7-t2,",
                                           why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "expected 'i7-t0,...'"));
    ck_assert_int_eq(duro__scenario_verify(DURO__SC_TIMERS, 3, &cfg, "i3 fired 0,1,2", why,
                                           sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_TIMERS, 3, &cfg, "i3 fired 1,0,2", why,
                                           sizeof why), 0);
    ck_assert_int_eq(duro__scenario_verify(DURO__SC_LONG_RUNNING, 4, &cfg,
                                           "i4 counter=3 execution=3", why, sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_LONG_RUNNING, 4, &cfg,
                                           "i4 counter=3 execution=1", why, sizeof why), 0);
    /* children of root 2 square 2001, 2002, 2003 */
    char want[64];
    snprintf(want, sizeof want, "i2 sum=%llu", 2001ULL * 2001 + 2002ULL * 2002 + 2003ULL * 2003);
    ck_assert_int_eq(duro__scenario_verify(DURO__SC_SUB_ORCHESTRATIONS, 2, &cfg, want, why,
                                           sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_SUB_ORCHESTRATIONS, 3, &cfg, want, why,
                                           sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_LARGE_PAYLOAD, 1, &cfg, "short", why,
                                           sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_PARALLEL, 1, &cfg, NULL, why, sizeof why), 0);
    /* mixed: root 5 is parallel, root 7 is timers */
    ck_assert_int_eq(duro__scenario_verify(DURO__SC_MIXED, 5, &cfg, "i5-t0,i5-t1,i5-t2", why,
                                           sizeof why), 0);
    ck_assert_int_eq(duro__scenario_verify(DURO__SC_MIXED, 7, &cfg, "i7 fired 0,1,2", why,
                                           sizeof why), 0);
}
END_TEST

/* Routing: an exact output ("gpu" steps on A, "io" steps on B, session steps on either,
 * untagged steps without a runtime); a tagged step on the wrong runtime, a session step on no
 * runtime, a missing or extra step fails. Durable values: any step's value (or none yet) while
 * running, exactly the last step's at the end. */
START_TEST(verify_routing_outputs_and_values)
{
    duro_stress_config cfg;
    duro_stress_config_init(&cfg);
    cfg.tasks_per_instance = 5;
    char why[256];
    /* steps: untagged, "gpu", session, "io", session */
    ck_assert_int_eq(duro__scenario_verify(DURO__SC_ROUTING, 9, &cfg,
                                           "i9-s0,i9-s1@A,i9-s2@B,i9-s3@B,i9-s4@B", why,
                                           sizeof why), 0);
    ck_assert_int_eq(duro__scenario_verify(DURO__SC_ROUTING, 9, &cfg,
                                           "i9-s0,i9-s1@A,i9-s2@A,i9-s3@B,i9-s4@A", why,
                                           sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_ROUTING, 9, &cfg,
                                           "i9-s0,i9-s1@B,i9-s2@A,i9-s3@B,i9-s4@A", why,
                                           sizeof why), 0);
    ck_assert_str_eq(why, "step 1: expected 'i9-s1@A' (tag gpu), got "
                          "'i9-s1@B,i9-s2@A,i9-s3@B,i9-s4@A'");
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_ROUTING, 9, &cfg,
                                           "i9-s0,i9-s1@A,i9-s2@A,i9-s3@A,i9-s4@A", why,
                                           sizeof why), 0);
    ck_assert_str_eq(why, "step 3: expected 'i9-s3@B' (tag io), got 'i9-s3@A,i9-s4@A'");
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_ROUTING, 9, &cfg,
                                           "i9-s0,i9-s1@A,i9-s2@C,i9-s3@B,i9-s4@A", why,
                                           sizeof why), 0);
    ck_assert_str_eq(why, "step 2: expected 'i9-s2@A' or 'i9-s2@B' (session route-1), got "
                          "'i9-s2@C,i9-s3@B,i9-s4@A'");
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_ROUTING, 9, &cfg,
                                           "i9-s0,i9-s1@A,i9-s2,i9-s3@B,i9-s4@A", why,
                                           sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_ROUTING, 9, &cfg,
                                           "i9-s0,i9-s1@A,i9-s2@AB,i9-s3@B,i9-s4@A", why,
                                           sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_ROUTING, 9, &cfg,
                                           "i9-s0@A,i9-s1@A,i9-s2@A,i9-s3@B,i9-s4@A", why,
                                           sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_ROUTING, 9, &cfg,
                                           "i9-s0,i9-s1@A,i9-s2@A,i9-s3@B", why, sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_ROUTING, 9, &cfg,
                                           "i9-s0,i9-s1@A,i9-s2@A,i9-s3@B,i9-s4@A,", why,
                                           sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify(DURO__SC_ROUTING, 8, &cfg,
                                           "i9-s0,i9-s1@A,i9-s2@A,i9-s3@B,i9-s4@A", why,
                                           sizeof why), 0);

    /* sessions: roots 1, 5 and 9 share session route-1; whoever ran its first step runs all */
    char owners[DURO__ROUTING_SESSIONS] = {0};
    ck_assert_int_eq(duro__scenario_check_sessions(DURO__SC_ROUTING, 9, &cfg,
                                                   "i9-s0,i9-s1@A,i9-s2@B,i9-s3@B,i9-s4@B",
                                                   owners, why, sizeof why), 2);
    ck_assert_int_eq(owners[1], 'B');
    ck_assert_int_eq(owners[0] | owners[2] | owners[3], 0);
    ck_assert_int_eq(duro__scenario_check_sessions(DURO__SC_ROUTING, 5, &cfg,
                                                   "i5-s0,i5-s1@A,i5-s2@B,i5-s3@B,i5-s4@B",
                                                   owners, why, sizeof why), 2);
    ck_assert_int_eq(duro__scenario_check_sessions(DURO__SC_ROUTING, 1, &cfg,
                                                   "i1-s0,i1-s1@A,i1-s2@B,i1-s3@B,i1-s4@A",
                                                   owners, why, sizeof why), -1);
    ck_assert_str_eq(why, "session route-1: step 4 ran on A, its earlier steps on B");
    ck_assert_int_eq(duro__scenario_check_sessions(DURO__SC_ROUTING, 13, &cfg,
                                                   "i13-s0,i13-s1@A,i13-s2@A,i13-s3@B,i13-s4@A",
                                                   owners, why, sizeof why), -1);
    ck_assert_str_eq(why, "session route-1: step 2 ran on A, its earlier steps on B");
    ck_assert_int_eq(owners[1], 'B');
    /* a root of a new session takes it; inside one root the steps must agree too */
    ck_assert_int_eq(duro__scenario_check_sessions(DURO__SC_ROUTING, 2, &cfg,
                                                   "i2-s0,i2-s1@A,i2-s2@B,i2-s3@B,i2-s4@A",
                                                   owners, why, sizeof why), -1);
    ck_assert_str_eq(why, "session route-2: step 4 ran on A, its earlier steps on B");
    ck_assert_int_eq(owners[2], 0);
    ck_assert_int_eq(duro__scenario_check_sessions(DURO__SC_ROUTING, 6, &cfg,
                                                   "i6-s0,i6-s1@A,i6-s2@A,i6-s3@B,i6-s4@A",
                                                   owners, why, sizeof why), 2);
    ck_assert_int_eq(owners[2], 'A');
    ck_assert_int_eq(duro__scenario_check_sessions(DURO__SC_PARALLEL, 6, &cfg, "i6-t0", owners,
                                                   why, sizeof why), 0);
    cfg.tasks_per_instance = 2; /* untagged and "gpu": no session step */
    ck_assert_int_eq(duro__scenario_check_sessions(DURO__SC_ROUTING, 3, &cfg, "i3-s0,i3-s1@A",
                                                   owners, why, sizeof why), 0);
    ck_assert_int_eq(owners[3], 0);
    cfg.tasks_per_instance = 4;

    ck_assert_int_eq(duro__scenario_verify_value(DURO__SC_ROUTING, 9, &cfg, NULL, 0, why,
                                                 sizeof why), 0);
    ck_assert_int_eq(duro__scenario_verify_value(DURO__SC_ROUTING, 9, &cfg, "i9 step 2/4", 0,
                                                 why, sizeof why), 0);
    ck_assert_int_eq(duro__scenario_verify_value(DURO__SC_ROUTING, 9, &cfg, "i9 step 4/4", 1,
                                                 why, sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify_value(DURO__SC_ROUTING, 9, &cfg, "i9 step 3/4", 1,
                                                 why, sizeof why), 0);
    ck_assert_str_eq(why, "final value of 'progress': expected 'i9 step 4/4', got 'i9 step 3/4'");
    ck_assert_int_ne(duro__scenario_verify_value(DURO__SC_ROUTING, 9, &cfg, NULL, 1, why,
                                                 sizeof why), 0);
    ck_assert_str_eq(why, "final value of 'progress': expected 'i9 step 4/4', got none");
    ck_assert_int_ne(duro__scenario_verify_value(DURO__SC_ROUTING, 9, &cfg, "i9 step 5/4", 0,
                                                 why, sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify_value(DURO__SC_ROUTING, 9, &cfg, "i8 step 2/4", 0,
                                                 why, sizeof why), 0);
    ck_assert_int_ne(duro__scenario_verify_value(DURO__SC_PARALLEL, 9, &cfg, "i9 step 4/4", 1,
                                                 why, sizeof why), 0);

    /* runtime A takes untagged and "gpu" work, B untagged and "io", both sessions; other
     * scenarios: none */
    duro_runtime_options opt;
    duro_runtime_options_init(&opt);
    ck_assert_int_eq(duro__scenario_runtime_options(DURO__SC_PARALLEL, 0, &opt), 0);
    ck_assert_int_eq(opt.worker_tag_mode, DURO_WORKER_UNTAGGED);
    ck_assert_int_eq(duro__scenario_runtime_options(DURO__SC_ROUTING, 1, &opt), 2);
    ck_assert_int_eq(opt.worker_tag_mode, DURO_WORKER_TAGS_AND_UNTAGGED);
    ck_assert_uint_eq(opt.n_worker_tags, 1);
    ck_assert_str_eq(opt.worker_tags[0], "io");
    ck_assert_uint_eq(opt.max_sessions, DURO__ROUTING_SESSIONS);
    duro_runtime_options_init(&opt);
    ck_assert_int_eq(duro__scenario_runtime_options(DURO__SC_ROUTING, 0, &opt), 2);
    ck_assert_str_eq(opt.worker_tags[0], "gpu");
    ck_assert_uint_eq(opt.max_sessions, DURO__ROUTING_SESSIONS); /* both may own them all */
}
END_TEST

START_TEST(roots_rotate_in_mixed)
{
    duro_stress_config cfg;
    duro_stress_config_init(&cfg);
    const char *names[DURO__SC_MIXED];
    char input[64];
    for (uint64_t i = 0; i < DURO__SC_MIXED; i++) {
        ck_assert_int_eq(duro__scenario_root(DURO__SC_MIXED, i + 10, &cfg, &names[i], input,
                                             sizeof input), 0);
        for (uint64_t j = 0; j < i; j++)
            ck_assert_str_ne(names[i], names[j]);
    }
    const char *name;
    ck_assert_int_eq(duro__scenario_root(DURO__SC_PARALLEL, 12, &cfg, &name, input,
                                         sizeof input), 0);
    ck_assert_str_eq(input, "12 5");
    ck_assert_int_eq(duro__scenario_root(DURO__SC_PARALLEL, 12, &cfg, &name, input, 3),
                     DURO_ETOOBIG);
}
END_TEST

/* ---- Command line ------------------------------------------------------------------------ */

/* Parse a NULL-terminated argument list; *msg gets what was printed (caller frees). */
static int parse(duro__stress_opts *o, char **msg, const char *const *args)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"duro-stress";
    while (*args != NULL)
        argv[argc++] = (char *)*args++;
    size_t len;
    FILE *f = open_memstream(msg, &len);
    ck_assert_ptr_nonnull(f);
    int rc = duro__stress_parse(argc, argv, o, f);
    fclose(f);
    return rc;
}

START_TEST(options_defaults_are_the_spec)
{
    duro__stress_opts o;
    char *msg;
    const char *none[] = {NULL};
    ck_assert_int_eq(parse(&o, &msg, none), 0);
    ck_assert_str_eq(msg, "");
    free(msg);
    ck_assert_int_eq(o.cfg.max_concurrent, 20);
    ck_assert_double_eq(o.cfg.duration_secs, 10);
    ck_assert_int_eq(o.cfg.tasks_per_instance, 5);
    ck_assert_int_eq(o.cfg.activity_delay_ms, 10);
    ck_assert_int_eq(o.cfg.orch_concurrency, 2);
    ck_assert_int_eq(o.cfg.worker_concurrency, 2);
    ck_assert_int_eq(o.cfg.wait_timeout_secs, 60);
    ck_assert_int_eq(o.cfg.runtimes, 1);
    ck_assert_int_eq(o.cfg.prefetch_ms, -1); /* the runtime's own default */
    ck_assert_int_eq(o.cfg.attach, 0);
    ck_assert_int_eq(o.cfg.processes, 0);
    ck_assert_double_eq(o.cfg.kill_every_secs, 0);
    ck_assert_uint_eq(o.n_configs, 2);
    ck_assert_int_eq(o.orch[0], 1);
    ck_assert_int_eq(o.worker[0], 1);
    ck_assert_int_eq(o.orch[1], 2);
    ck_assert_int_eq(o.worker[1], 2);
    ck_assert_uint_eq(o.n_scenarios, 1);
    ck_assert_int_eq(o.scenarios[0], DURO__SC_PARALLEL);
    ck_assert_double_eq(o.min_success, 100);
    ck_assert(isnan(o.min_orch_per_sec));
    ck_assert_int_eq(o.repeat, 1);
}
END_TEST

START_TEST(options_parse_every_form)
{
    duro__stress_opts o;
    char *msg;
    const char *args[] = {"--scenario", "timers,parallel", "--config=4/4,8/2", "--max-concurrent",
                          "100", "--duration", "2.5", "--tasks-per-instance=7",
                          "--activity-delay", "0", "--wait-timeout", "5", "--rate", "50",
                          "--repeat", "3", "--warmup", "1", "--runtimes", "2",
                          "--provider-latency", "3", "--inject-provider-errors", "1.5",
                          "--inject-activity-failures", "10", "--prefetch-ms", "0", "--attach",
                          "--junit", "j.xml", "--json",
                          "r.json", "--history", "h.jsonl", "--min-success", "99.5",
                          "--min-orch-per-sec", "12", "--max-p99-ms", "250", "--baseline",
                          "b.json", "--max-regression", "15", "--save-baseline", "s.json",
                          "--no-progress", NULL};
    ck_assert_int_eq(parse(&o, &msg, args), 0);
    free(msg);
    ck_assert_uint_eq(o.n_scenarios, 2);
    ck_assert_int_eq(o.scenarios[0], DURO__SC_PARALLEL); /* report order, not argument order */
    ck_assert_int_eq(o.scenarios[1], DURO__SC_TIMERS);
    ck_assert_uint_eq(o.n_configs, 2);
    ck_assert_int_eq(o.orch[1], 8);
    ck_assert_int_eq(o.worker[1], 2);
    ck_assert_int_eq(o.cfg.max_concurrent, 100);
    ck_assert_double_eq(o.cfg.duration_secs, 2.5);
    ck_assert_int_eq(o.cfg.tasks_per_instance, 7);
    ck_assert_int_eq(o.cfg.activity_delay_ms, 0);
    ck_assert_int_eq(o.cfg.wait_timeout_secs, 5);
    ck_assert_double_eq(o.cfg.rate, 50);
    ck_assert_int_eq(o.repeat, 3);
    ck_assert_double_eq(o.warmup_secs, 1);
    ck_assert_int_eq(o.cfg.runtimes, 2);
    ck_assert_int_eq(o.cfg.provider_latency_ms, 3);
    ck_assert_double_eq(o.cfg.provider_error_pct, 1.5);
    ck_assert_double_eq(o.cfg.activity_failure_pct, 10);
    ck_assert_int_eq(o.cfg.prefetch_ms, 0);
    ck_assert_int_eq(o.cfg.attach, 1);
    ck_assert_str_eq(o.junit_path, "j.xml");
    ck_assert_str_eq(o.json_path, "r.json");
    ck_assert_str_eq(o.history_path, "h.jsonl");
    ck_assert_double_eq(o.min_success, 99.5);
    ck_assert_double_eq(o.min_orch_per_sec, 12);
    ck_assert_double_eq(o.max_p99_ms, 250);
    ck_assert_str_eq(o.baseline_path, "b.json");
    ck_assert_double_eq(o.max_regression, 15);
    ck_assert_str_eq(o.save_baseline_path, "s.json");
    ck_assert_int_eq(o.cfg.progress, 0);

    const char *single[] = {"--orch-concurrency", "3", "--scenario", "all", NULL};
    ck_assert_int_eq(parse(&o, &msg, single), 0);
    free(msg);
    ck_assert_uint_eq(o.n_configs, 1);
    ck_assert_int_eq(o.orch[0], 3);
    ck_assert_int_eq(o.worker[0], 2);
    /* every scenario but routing, which is named on its own */
    ck_assert_uint_eq(o.n_scenarios, DURO__SC_COUNT - 1);
    ck_assert_int_eq(o.scenarios[o.n_scenarios - 1], DURO__SC_FAULTS);
    const char *with_routing[] = {"--scenario", "routing,all", NULL};
    ck_assert_int_eq(parse(&o, &msg, with_routing), 0);
    free(msg);
    ck_assert_uint_eq(o.n_scenarios, DURO__SC_COUNT);
    ck_assert_int_eq(o.scenarios[DURO__SC_COUNT - 1], DURO__SC_ROUTING);
    const char *procs[] = {"--processes", "3", "--kill-every", "0.5", "--count", "1000",
                           "--prefill", "250", NULL};
    ck_assert_int_eq(parse(&o, &msg, procs), 0);
    free(msg);
    ck_assert_uint_eq(o.cfg.prefill, 250);
    ck_assert_int_eq(o.cfg.processes, 3);
    ck_assert_double_eq(o.cfg.kill_every_secs, 0.5);
    ck_assert_uint_eq(o.cfg.max_roots, 1000);
    const char *runtime[] = {"--role", "runtime", "--store", "/db", "--name", "rt1.2",
                             "--ledger", "l.txt", "--config", "3/1", NULL};
    ck_assert_int_eq(parse(&o, &msg, runtime), 0);
    free(msg);
    ck_assert_int_eq(o.role, DURO__ROLE_RUNTIME);
    ck_assert_str_eq(o.cfg.store, "/db");
    ck_assert_str_eq(o.runner_name, "rt1.2");
    ck_assert_str_eq(o.cfg.ledger, "l.txt");
    ck_assert_int_eq(o.cfg.orch_concurrency, 3); /* what the runtime serves with */
    ck_assert_int_eq(o.cfg.worker_concurrency, 1);
    const char *driver[] = {"--role", "driver", "--store", "/db", NULL};
    ck_assert_int_eq(parse(&o, &msg, driver), 0);
    free(msg);
    ck_assert_int_eq(o.role, DURO__ROLE_DRIVER);
    ck_assert_uint_eq(o.n_configs, 1); /* one cell: the default 2/2 */
    ck_assert_int_eq(o.orch[0], 2);
    ck_assert_int_eq(o.worker[0], 2);
}
END_TEST

/* Each bad command line is exit status 2 and a message naming the culprit. */
START_TEST(options_reject_mistakes)
{
    static const struct {
        const char *args[5]; /* NULL-terminated: at most four arguments */
        const char *needle;
    } bad[] = {
        {{"--bogus", NULL}, "unknown option '--bogus'"},
        {{"--duration", NULL}, "--duration needs a value"},
        {{"--duration", "ten", NULL}, "--duration: invalid value 'ten'"},
        {{"--duration", "0", NULL}, "--duration: invalid value '0'"},
        {{"--max-concurrent", "5x", NULL}, "--max-concurrent: invalid value '5x'"},
        {{"--tasks-per-instance", "1001", NULL}, "invalid value '1001'"},
        {{"--inject-provider-errors", "101", NULL}, "invalid value '101'"},
        {{"--config", "2", NULL}, "'2' is not ORCH/WORKER"},
        {{"--config", "0/2", NULL}, "needs two thread counts"},
        {{"--config", "1/1", "--worker-concurrency", "4"}, "use either --config"},
        {{"--scenario", "fast", NULL}, "unknown scenario 'fast'"},
        {{"--help=yes", NULL}, "--help takes no value"},
        {{"--junit", "", NULL}, "--junit: empty file name"},
        {{"--processes", "65", NULL}, "--processes: invalid value '65'"},
        {{"--count", "-1", NULL}, "--count: invalid value '-1'"},
        {{"--prefill", "-1", NULL}, "--prefill: invalid value '-1'"},
        {{"--kill-every", "1", NULL}, "--kill-every needs --processes"},
        {{"--processes", "2", "--attach", NULL}, "--processes replaces --runtimes and --attach"},
        {{"--inject-provider-errors", "60", "--inject-lost-replies", "50"}, "add up to more"},
        {{"--role", "boss", "--store", "x"}, "--role: invalid value 'boss'"},
        {{"--role", "runtime", NULL}, "--role needs --store"},
        {{"--store", "x", NULL}, "--store needs --role"},
        {{"--ledger", "l", NULL}, "--ledger needs --role"},
        {{"--role", "driver", "--store", ""}, "--store: empty file name"},
        {{"--role", "driver", "--name", "n"}, "--role needs --store"},
        {{"--role", "runtime", "--name", "a b"}, "--name: invalid value 'a b'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        duro__stress_opts o;
        char *msg;
        ck_assert_int_eq(parse(&o, &msg, bad[i].args), 2);
        ck_assert_msg(strstr(msg, bad[i].needle) != NULL, "case %zu: '%s' lacks '%s'", i, msg,
                      bad[i].needle);
        free(msg);
    }
    /* what --role does not combine with */
    static const struct {
        const char *args[3];
        const char *needle;
    } with_role[] = {
        {{"--processes", "2", NULL}, "--role replaces --processes"},
        {{"--kill-every", "1", NULL}, "--kill-every needs --processes"},
        {{"--attach", NULL}, "--role replaces"},
        {{"--repeat", "2", NULL}, "--role runs one scenario with one config once"},
        {{"--config", "1/1,2/2", NULL}, "--role runs one scenario"},
        {{"--scenario", "parallel,timers", NULL}, "--role runs one scenario"},
        {{"--name", "n", NULL}, "--name is for --role runtime"},
        {{"--prefill", "5", NULL}, "--prefill fills a fresh store: not with --role"},
    };
    for (size_t i = 0; i < sizeof with_role / sizeof with_role[0]; i++) {
        const char *args[8] = {"--role", "driver", "--store", "x"};
        duro__stress_opts o;
        char *msg;
        memcpy(args + 4, with_role[i].args, sizeof with_role[i].args);
        ck_assert_int_eq(parse(&o, &msg, args), 2);
        ck_assert_msg(strstr(msg, with_role[i].needle) != NULL, "role case %zu: '%s' lacks '%s'",
                      i, msg, with_role[i].needle);
        free(msg);
    }
}
END_TEST

START_TEST(main_exit_status_for_help_and_usage)
{
    const duro_provider_factory *f = duro__sqlite_factory_memory();
    char *help[] = {(char *)"duro-stress", (char *)"--help", NULL};
    fflush(stdout);
    ck_assert_int_eq(duro_stress_main(f, 2, help), 0);
    char *bad[] = {(char *)"duro-stress", (char *)"--nope", NULL};
    ck_assert_int_eq(duro_stress_main(f, 2, bad), 2);
    ck_assert_int_eq(duro_stress_main(NULL, 2, bad), 2);
    char *attach[] = {(char *)"duro-stress", (char *)"--attach", NULL};
    ck_assert_int_eq(duro_stress_main(f, 2, attach), 2); /* in-memory: no attach hook */
}
END_TEST

/* ---- Gates and reports ---------------------------------------------------------------------- */

static void fake_cell(duro__stress_cell *c, duro_stress_result *runs, double orch, double p99,
                      double success)
{
    memset(c, 0, sizeof *c);
    memset(runs, 0, sizeof *runs);
    c->scenario = DURO__SC_PARALLEL;
    c->provider = "sqlite";
    c->orch = c->worker = 2;
    runs->orch_per_sec = orch;
    runs->lat_p99_ms = p99;
    runs->success_pct = success;
    runs->launched = 100;
    runs->completed = (uint64_t)success;
    runs->failed = 100 - runs->completed;
    runs->integrity_ok = 1;
    runs->rss_slope_kb_per_min = NAN;
    c->runs = runs;
    c->n_runs = 1;
    ck_assert_int_eq(duro__result_median(runs, 1, &c->median), 0);
}

static duro__stress_opts default_opts(void)
{
    duro__stress_opts o;
    char *msg;
    const char *none[] = {NULL};
    ck_assert_int_eq(parse(&o, &msg, none), 0);
    free(msg);
    return o;
}

START_TEST(gates_check_success_integrity_and_thresholds)
{
    duro__stress_opts o = default_opts();
    duro__stress_cell c[4];
    duro_stress_result r[4];
    fake_cell(&c[0], &r[0], 20, 100, 100);
    fake_cell(&c[1], &r[1], 20, 100, 99);
    fake_cell(&c[2], &r[2], 20, 100, 100);
    r[2].integrity_ok = 0;
    snprintf(r[2].integrity_message, sizeof r[2].integrity_message, "queues not empty");
    fake_cell(&c[3], &r[3], 20, 100, 100);
    c[3].run_error = 1;
    snprintf(c[3].run_error_msg, sizeof c[3].run_error_msg, "store creation failed");
    ck_assert_int_eq(duro__stress_gates(&o, c, 4, NULL), 3);
    ck_assert_ptr_null(c[0].gate_failures);
    ck_assert_str_eq(c[1].gate_failures, "success 99.00% < 100.00% (run 1: 1 of 100 failed)");
    ck_assert_str_eq(c[2].gate_failures, "integrity (run 1): queues not empty");
    ck_assert_str_eq(c[3].gate_failures, "run could not take place: store creation failed");

    o.min_success = 0;
    o.min_orch_per_sec = 25;
    o.max_p99_ms = 50;
    ck_assert_int_eq(duro__stress_gates(&o, c, 2, NULL), 2);
    ck_assert_str_eq(c[0].gate_failures, "orch/s 20.00 < 25.00; P99 100.00 ms > 50.00 ms");
    for (int i = 0; i < 4; i++)
        free(c[i].gate_failures);
}
END_TEST

/* A temporary file name in $TMPDIR (or /tmp); caller frees and removes. */
static char *temp_path(const char *suffix)
{
    const char *dir = getenv("TMPDIR");
    char *p = malloc(512);
    ck_assert_ptr_nonnull(p);
    snprintf(p, 512, "%s/duro-test-stress-%ld-%s", dir && *dir ? dir : "/tmp", (long)getpid(),
             suffix);
    return p;
}

START_TEST(baseline_regression_and_json_round_trip)
{
    duro__stress_opts o = default_opts();
    duro__stress_cell base;
    duro_stress_result br;
    fake_cell(&base, &br, 100, 50, 100);
    char *text = duro__report_json(&o, &base, 1, 1, 2);
    ck_assert_ptr_nonnull(text);
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "format")), "duro-stress/1");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(doc, "machine"),
                                                       "nproc")), sysconf(_SC_NPROCESSORS_ONLN));
    json_t *res0 = json_array_get(json_object_get(doc, "results"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(res0, "config")), "2/2");
    json_t *med = json_object_get(res0, "median");
    ck_assert_double_eq(json_number_value(json_object_get(med, "orch_per_sec")), 100);
    ck_assert(json_is_null(json_object_get(med, "rss_slope_kb_per_min")));
    json_decref(doc);

    char *path = temp_path("baseline.json");
    duro_error err = {0};
    ck_assert_int_eq(duro__write_file(path, text, &err), 0);
    free(text);
    char msg[256];
    void *b = duro__baseline_load(path, msg, sizeof msg);
    ck_assert_ptr_nonnull(b);
    o.min_success = 0;

    duro__stress_cell c[3];
    duro_stress_result r[3];
    fake_cell(&c[0], &r[0], 91, 54, 100);  /* within 10% */
    fake_cell(&c[1], &r[1], 89, 56, 100);  /* both outside */
    fake_cell(&c[2], &r[2], 10, 500, 100); /* another provider: not in the baseline */
    c[2].provider = "sqlite-file";
    ck_assert_int_eq(duro__stress_gates(&o, c, 3, b), 1);
    ck_assert_ptr_null(c[0].gate_failures);
    ck_assert_str_eq(c[1].gate_failures,
                     "orch/s 89.00 is 11.0% below the baseline 100.00 (limit 10.0%); "
                     "P99 56.00 ms is 12.0% above the baseline 50.00 ms (limit 10.0%)");
    ck_assert_ptr_null(c[2].gate_failures);
    free(c[1].gate_failures);
    duro__baseline_free(b);

    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"format\": \"something else\"}", f);
    fclose(f);
    ck_assert_ptr_null(duro__baseline_load(path, msg, sizeof msg));
    ck_assert_ptr_nonnull(strstr(msg, "not a duro-stress JSON report"));
    remove(path);
    free(path);
}
END_TEST

/* The JUnit directory of the source tree's sibling "shared/junit", or NULL. */
static char *schema_dir(void)
{
    const char *src = getenv("DURO_SRCDIR");
    char *p = malloc(1024);
    ck_assert_ptr_nonnull(p);
    snprintf(p, 1024, "%s/../shared/junit", src && *src ? src : "..");
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/JUnit.xsd", p);
    if (access(probe, R_OK) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

/* Read the report at `path` (malloc'd, freed here, the file removed) into buf, NUL-ended;
 * returns its length. */
static size_t take_report(char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t len = fread(buf, 1, size - 1, f);
    buf[len] = '\0';
    fclose(f);
    remove(path);
    free(path);
    return len;
}

/* Validate the JUnit XML `xml` against both schemas, where they are present (they live
 * outside the distributed tree). */
static void assert_valid_junit(const char *xml, size_t len)
{
    char *dir = schema_dir();
    if (dir == NULL)
        return;
    static const char *const xsd[] = {"JUnit.xsd", "junit-10.xsd"};
    for (size_t i = 0; i < 2; i++) {
        char p[1200], msg[512];
        snprintf(p, sizeof p, "%s/%s", dir, xsd[i]);
        ck_assert_msg(duro_junit_validate(xml, len, p, msg, sizeof msg) == 0, "%s: %s", xsd[i],
                      msg);
    }
    free(dir);
}

START_TEST(junit_report_is_valid_and_carries_metrics)
{
    duro__stress_opts o = default_opts();
    duro__stress_cell c[2];
    duro_stress_result r[2];
    fake_cell(&c[0], &r[0], 20, 100, 100);
    fake_cell(&c[1], &r[1], 20, 100, 90);
    c[1].provider = "sqlite-file";
    ck_assert_int_eq(duro__stress_gates(&o, c, 2, NULL), 1);
    char *path = temp_path("junit.xml");
    duro_error err = {0};
    ck_assert_int_eq(duro__report_junit(path, &o, c, 2, &err), 0);
    static char xml[1 << 20];
    size_t len = take_report(path, xml, sizeof xml);
    ck_assert_ptr_nonnull(strstr(xml, "<testsuite name=\"stress.parallel\""));
    ck_assert_ptr_nonnull(strstr(xml, "name=\"sqlite.2/2.orch_per_sec\" value=\"20.000\""));
    ck_assert_ptr_nonnull(strstr(xml, "<testcase name=\"sqlite.2/2\" classname=\"stress.parallel\""));
    ck_assert_ptr_nonnull(strstr(xml, "<failure type=\"gate\" message=\"success 90.00% &lt; "
                                      "100.00% (run 1: 10 of 100 failed)\""));
    ck_assert_ptr_nonnull(strstr(xml, "tests=\"2\" failures=\"1\""));
    free(c[1].gate_failures);
    assert_valid_junit(xml, len);
}
END_TEST

/* The console table of a routing cell ends with how its sessions fell; other scenarios'
 * tables have no such line. */
START_TEST(table_prints_the_routing_sessions_line)
{
    duro__stress_opts o = default_opts();
    duro__stress_cell c;
    duro_stress_result r;
    fake_cell(&c, &r, 60, 400, 100);
    c.scenario = DURO__SC_ROUTING;
    r.sessions_on_a = 1;
    r.sessions_on_b = 3;
    r.session_steps = 200;
    ck_assert_int_eq(duro__result_median(&r, 1, &c.median), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(mem);
    ck_assert_int_eq(duro__report_table(mem, &o, DURO__SC_ROUTING, &c, 1), 0);
    ck_assert_int_eq(fclose(mem), 0);
    ck_assert_ptr_nonnull(strstr(text, "\nSessions: sqlite 2/2 on A 1, on B 3, 200 steps, 0 "
                                       "roots with a step on the other runtime\n"));
    free(text);
    c.scenario = DURO__SC_PARALLEL;
    mem = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(mem);
    ck_assert_int_eq(duro__report_table(mem, &o, DURO__SC_PARALLEL, &c, 1), 0);
    ck_assert_int_eq(fclose(mem), 0);
    ck_assert_ptr_null(strstr(text, "Sessions:"));
    free(text);
}
END_TEST

/* ---- Real runs -------------------------------------------------------------------------------- */

static duro_stress_config quick(void)
{
    duro_stress_config c;
    duro_stress_config_init(&c);
    c.duration_secs = 0.3;
    c.max_concurrent = 4;
    c.tasks_per_instance = 3;
    c.activity_delay_ms = 1;
    c.wait_timeout_secs = 20;
    return c;
}

static void assert_clean(const duro_stress_result *r)
{
    ck_assert_msg(r->failed == 0, "failures: %s", r->first_failure);
    ck_assert_msg(r->integrity_ok, "integrity: %s", r->integrity_message);
    ck_assert_uint_gt(r->launched, 0);
    ck_assert_uint_eq(r->completed, r->launched);
    ck_assert_double_eq(r->success_pct, 100);
    ck_assert_uint_le(r->completed_in_window, r->completed);
    ck_assert(r->lat_p50_ms <= r->lat_p95_ms && r->lat_p95_ms <= r->lat_p99_ms &&
              r->lat_p99_ms <= r->lat_max_ms);
    ck_assert_uint_eq(r->duplicate_terminal, 0);
}

START_TEST(run_parallel_counts_executed_activities)
{
    duro_stress_config c = quick();
    duro_stress_result r;
    duro_error err = {0};
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "parallel", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_eq(r.activities_total, 3 * r.launched);
    ck_assert_uint_eq(r.histories_checked, r.launched);
    ck_assert_double_eq_tol(r.window_secs, 0.3, 1e-6);
    ck_assert_double_eq_tol(r.orch_per_sec, (double)r.completed_in_window / r.window_secs, 1e-9);
    ck_assert_double_eq_tol(r.activity_per_sec, (double)r.activities_in_window / r.window_secs,
                            1e-9);
}
END_TEST

/* The runtime's own metrics equal what the stress suite counted in the same run: every
 * completion, every activity execution, and with BEFORE faults only, every error of the
 * queue calls is an injected one. With --trace-spans the spans arrive: at least one turn,
 * one activity and one provider call each per activity. */
START_TEST(run_runtime_metrics_equal_the_suite_counts)
{
    duro_stress_config c = quick();
    c.trace_spans = 1;
    duro_stress_result r;
    duro_error err = {0};
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "parallel", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_eq(r.rt_completed, r.completed);
    ck_assert_uint_eq(r.rt_failed, 0);
    ck_assert_uint_eq(r.rt_continued_as_new, 0);
    ck_assert_uint_eq(r.rt_activity_attempts, r.activities_total);
    ck_assert_uint_eq(r.rt_provider_errors, 0);
    ck_assert_uint_eq(r.injected_queue_errors, 0);
    ck_assert_uint_ge(r.rt_turns, 2 * r.launched); /* start, then at least one fan-in turn */
    ck_assert_uint_ge(r.rt_spans, r.rt_turns + 2 * r.rt_activity_attempts);

    c = quick();
    c.provider_error_pct = 5; /* the faults scenario without its lost replies: exact */
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "faults", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_gt(r.injected_queue_errors, 0);
    ck_assert_uint_eq(r.rt_queue_errors, r.injected_queue_errors);
    ck_assert_uint_ge(r.rt_provider_errors, r.rt_queue_errors);
    ck_assert_uint_eq(r.rt_completed, r.completed + r.children);
    ck_assert_uint_eq(r.rt_continued_as_new, r.continued_as_new);
    ck_assert_uint_eq(r.rt_failed, 0);
    ck_assert_uint_eq(r.rt_activity_attempts, r.activities_total);
    ck_assert_uint_eq(r.rt_spans, 0);
}
END_TEST

/* --count: exactly N roots, the window ending at the last launch (well before the 30 s cap),
 * so orch/s is over that shorter window. */
START_TEST(run_count_launches_exactly_n_roots)
{
    duro_stress_config c = quick();
    c.duration_secs = 30;
    c.max_roots = 7;
    duro_stress_result r;
    duro_error err = {0};
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "parallel", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_eq(r.launched, 7);
    ck_assert_uint_eq(r.activities_total, 3 * 7);
    ck_assert_double_lt(r.window_secs, 30);
    ck_assert_double_eq_tol(r.orch_per_sec, (double)r.completed_in_window / r.window_secs, 1e-9);
}
END_TEST

START_TEST(run_injected_activity_failures_are_retried)
{
    duro_stress_config c = quick();
    c.activity_failure_pct = 100;
    duro_stress_result r;
    duro_error err = {0};
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "parallel", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_eq(r.injected_activity_failures, 3 * r.launched);
    ck_assert_uint_eq(r.activities_total, 6 * r.launched);
}
END_TEST

START_TEST(run_children_and_continue_as_new_are_counted_apart)
{
    duro_stress_config c = quick();
    duro_stress_result r;
    duro_error err = {0};
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "sub-orchestrations", &c, &r,
                                     &err), 0);
    assert_clean(&r);
    ck_assert_uint_eq(r.children, 3 * r.launched);
    ck_assert_uint_eq(r.histories_checked, 4 * r.launched);
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "long-running", &c, &r, &err),
                     0);
    assert_clean(&r);
    ck_assert_uint_eq(r.continued_as_new, 2 * r.launched);
    ck_assert_uint_eq(r.histories_checked, 3 * r.launched);
    ck_assert_uint_eq(r.activities_total, 3 * r.launched);
}
END_TEST

START_TEST(run_open_loop_follows_the_schedule)
{
    duro_stress_config c = quick();
    c.rate = 20;
    c.duration_secs = 0.5;
    duro_stress_result r;
    duro_error err = {0};
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "timers", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_eq(r.launched, 10);
}
END_TEST

START_TEST(run_slow_instances_time_out)
{
    duro_stress_config c = quick();
    /* Two roots start at once and need 2.5 s; the drain gives up 1 s after the 0.5 s window. */
    c.tasks_per_instance = 1;
    c.activity_delay_ms = 2500;
    c.wait_timeout_secs = 1;
    c.duration_secs = 0.5;
    c.max_concurrent = 2;
    duro_stress_result r;
    duro_error err = {0};
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "parallel", &c, &r, &err), 0);
    ck_assert_uint_eq(r.launched, 2);
    ck_assert_uint_eq(r.completed, 0);
    ck_assert_uint_eq(r.failed, 2);
    ck_assert_uint_eq(r.failed_timeout, 2);
    ck_assert_double_eq(r.success_pct, 0);
    ck_assert_double_eq(r.orch_per_sec, 0);
    ck_assert_ptr_nonnull(strstr(r.first_failure, "stress-0: not finished 1 s after the window"));
    ck_assert_msg(r.integrity_ok, "integrity: %s", r.integrity_message);
}
END_TEST

/* A factory around in-memory SQLite whose integrity hook does what the test wants. */
static int hook_mode;

static int hook_check(duro_provider *p, char *msg, size_t size)
{
    if (hook_mode == 0) {
        snprintf(msg, size, "page 7 is never used");
        return DURO_ECORRUPT;
    }
    ck_assert_int_eq(duro_sqlite_corrupt_history(p, "stress-0"), 0);
    return 0;
}

/* The in-memory SQLite store with its integrity_check callback replaced by hook_check. */
static duro_provider_ops hooked_ops;

static int hook_create(void *ud, duro_provider **out, duro_error *err)
{
    const duro_provider_factory *m = duro__sqlite_factory_memory();
    int rc = m->create(m->ud, out, err);
    if (rc == 0) {
        hooked_ops = *(*out)->ops;
        hooked_ops.integrity_check = hook_check;
        (*out)->ops = &hooked_ops;
    }
    return rc;
}

static void hook_destroy(void *ud, duro_provider *p)
{
    const duro_provider_factory *m = duro__sqlite_factory_memory();
    m->destroy(m->ud, p);
}

static const duro_provider_factory hook_factory = {
    .version = DURO_PROVIDER_FACTORY_VERSION,
    .name = "hooked", .create = hook_create, .destroy = hook_destroy,
};

START_TEST(run_integrity_reports_store_check_and_corrupt_history)
{
    duro_stress_config c = quick();
    duro_stress_result r;
    duro_error err = {0};
    hook_mode = 0;
    ck_assert_int_eq(duro_stress_run(&hook_factory, "parallel", &c, &r, &err), 0);
    ck_assert_int_eq(r.integrity_ok, 0);
    ck_assert_str_eq(r.integrity_message, "store integrity check failed: page 7 is never used");
    hook_mode = 1;
    ck_assert_int_eq(duro_stress_run(&hook_factory, "parallel", &c, &r, &err), 0);
    ck_assert_int_eq(r.integrity_ok, 0);
    ck_assert_msg(strstr(r.integrity_message, "stress-0#1: history unreadable") != NULL, "%s",
                  r.integrity_message);
}
END_TEST

/* An in-memory factory whose statement counter reads 1000, 1700, then 2500 on its calls, and
 * which counts the prefilled instances of each store it destroys. */
static int scripted_calls;
static int scripted_count(void *ud, uint64_t *out)
{
    static const uint64_t reads[] = {1000, 1700, 2500};
    (void)ud;
    *out = reads[scripted_calls < 2 ? scripted_calls : 2];
    scripted_calls++;
    return 0;
}

static int scripted_create(void *ud, duro_provider **out, duro_error *err)
{
    const duro_provider_factory *m = duro__sqlite_factory_memory();
    (void)ud;
    return m->create(m->ud, out, err);
}

/* Completed "prefill-" instances in the store the scripted factory destroyed last. */
static size_t prefilled_found;

static void scripted_destroy(void *ud, duro_provider *p)
{
    char **ids = NULL;
    size_t n = 0;
    duro_error err = {0};
    prefilled_found = 0;
    ck_assert_int_eq(p->ops->list_instances(p, DURO_STATE_COMPLETED, &ids, &n, &err), 0);
    for (size_t i = 0; i < n; i++)
        prefilled_found += strncmp(ids[i], "prefill-", 8) == 0;
    duro_strv_free(ids, n);
    hook_destroy(ud, p);
}

static const duro_provider_factory scripted_factory = {
    .version = DURO_PROVIDER_FACTORY_VERSION,
    .name = "scripted", .create = scripted_create, .destroy = scripted_destroy,
    .count_statements = scripted_count,
};

/* Statements per orchestration: the factory's count from just before the store opens to the
 * drain's end, over completed roots (exactly, with a scripted counter); the SQLite factory's
 * real counter gives a positive count; a factory without the hook gives 0 and NAN. */
START_TEST(run_counts_statements_per_orchestration)
{
    duro_stress_config c = quick();
    duro_stress_result r;
    duro_error err = {0};
    scripted_calls = 0;
    ck_assert_int_eq(duro_stress_run(&scripted_factory, "parallel", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_int_eq(scripted_calls, 2);
    ck_assert_uint_eq(r.store_statements, 700);
    ck_assert_double_eq_tol(r.statements_per_orch, 700.0 / (double)r.completed, 1e-12);
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "parallel", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_gt(r.store_statements, 3 * r.completed); /* an ack per activity at least */
    ck_assert_double_eq_tol(r.statements_per_orch,
                            (double)r.store_statements / (double)r.completed, 1e-12);
    ck_assert_int_eq(duro_stress_run(&hook_factory, "parallel", &c, &r, &err), 0);
    ck_assert_uint_eq(r.store_statements, 0);
    ck_assert(isnan(r.statements_per_orch));
}
END_TEST

/* --prefill: the store holds exactly the N completed prefill instances besides the run's own
 * roots, the run is clean, and its statements are counted from after the prefill (the
 * counter's third read minus its second). With a store to attach to it is refused. */
START_TEST(run_prefill_fills_the_store_first)
{
    duro_stress_config c = quick();
    c.prefill = 37;
    duro_stress_result r;
    duro_error err = {0};
    scripted_calls = 0;
    ck_assert_int_eq(duro_stress_run(&scripted_factory, "parallel", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_eq(prefilled_found, 37);
    ck_assert_double_gt(r.prefill_secs, 0);
    ck_assert_int_eq(scripted_calls, 3);
    ck_assert_uint_eq(r.store_statements, 800);
    c.store = "x";
    ck_assert_int_eq(duro_stress_run(&scripted_factory, "parallel", &c, &r, &err), DURO_EINVAL);
}
END_TEST

/* Two runtimes, each on its own handle on one database file (separate connections, no
 * in-process wake-ups between them), with provider errors injected on every handle: every
 * root completes, and the store is intact. */
START_TEST(run_attached_handles_share_one_file)
{
    duro_stress_config c = quick();
    c.runtimes = 2;
    c.attach = 1;
    c.provider_error_pct = 2;
    duro_stress_result r;
    duro_error err = {0};
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_file(), "parallel", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_eq(r.activities_total, 3 * r.launched);
    ck_assert_uint_gt(r.injected_provider_errors, 0);
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "parallel", &c, &r, &err),
                     DURO_ENOTSUP);
    ck_assert_str_eq(err.message, "provider sqlite has no attach hook");
}
END_TEST

/* Two child processes run the runtimes on their own handles; then one is killed with SIGKILL
 * every 0.45 s of a 2 s window and replaced (kills are due at 0.45, 0.9 and 1.35 s; the
 * sampler that does them may run late on a loaded machine, so at least two are required).
 * Every root still completes with the right output, the store is intact, and every activity
 * ran at least once (a killed child's may run again). */
START_TEST(run_child_processes_survive_kills)
{
    duro_stress_config c = quick();
    c.processes = 2;
    c.duration_secs = 2;
    duro_stress_result r;
    duro_error err = {0};
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_file(), "parallel", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_eq(r.activities_total, 3 * r.launched);
    ck_assert_uint_eq(r.killed_processes, 0);
    /* each child sent its runtime's snapshot at shutdown: the sums equal the suite's counts */
    ck_assert_uint_eq(r.rt_partial, 0);
    ck_assert_uint_eq(r.rt_completed, r.completed);
    ck_assert_uint_eq(r.rt_failed, 0);
    ck_assert_uint_eq(r.rt_activity_attempts, r.activities_total);
    ck_assert_uint_ge(r.rt_turns, 2 * r.launched);
    ck_assert_uint_gt(r.rt_provider_calls, r.rt_turns);
    c.kill_every_secs = 0.45;
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_file(), "parallel", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_ge(r.killed_processes, 2);
    /* the killed children's counts are lost: partial, never more than the suite counted */
    ck_assert_uint_eq(r.rt_partial, 1);
    ck_assert_uint_le(r.rt_completed, r.completed);
    ck_assert_uint_le(r.rt_activity_attempts, r.activities_total);
    ck_assert_uint_le(r.killed_processes, 3);
    ck_assert_uint_ge(r.activities_total, 3 * r.launched);
    ck_assert_uint_eq(r.histories_checked, r.launched);
    /* and the faults scenario: each child's runtime behind its own fault wrapper */
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_file(), "faults", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_ge(r.killed_processes, 2);
    ck_assert_uint_gt(r.injected_provider_errors + r.injected_lost_replies, 0); /* the driver's */
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "parallel", &c, &r, &err),
                     DURO_ENOTSUP);
}
END_TEST

/* Lines of the file at `path` that contain `needle`. */
static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int n = 0;
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f) != NULL)
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* The two halves of a run in two processes on one database file: --role runtime in a child
 * (forked before the store exists, told its locator on a pipe), --role driver here. Every
 * root completes through the child, the driver read every end from the store and its ledger
 * names the child as every root's finisher, the child's ledger has every activity once and
 * every end, and SIGTERM stops the child with status 0. */
START_TEST(run_roles_split_across_processes)
{
    const duro_provider_factory *f = duro__sqlite_factory_file();
    char *drv_ledger = temp_path("driver.ledger"), *rt_ledger = temp_path("runtime.ledger");
    char loc[4096] = "";
    int gate[2], st;
    remove(drv_ledger);
    remove(rt_ledger);
    ck_assert_int_eq(pipe(gate), 0);
    fflush(NULL);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        duro__stress_opts o;
        char *msg;
        close(gate[1]);
        if (read(gate[0], loc, sizeof loc - 1) <= 0)
            _exit(3);
        const char *args[] = {"--role", "runtime", "--store", loc, "--name", "rt.t",
                              "--ledger", rt_ledger, "--activity-delay", "1", "--duration",
                              "30", NULL};
        if (parse(&o, &msg, args) != 0)
            _exit(2);
        _exit(duro__stress_serve(f, &o, stdout));
    }
    close(gate[0]);
    duro_provider *store = NULL;
    duro_error err = {0};
    ck_assert_int_eq(f->create(f->ud, &store, &err), 0);
    ck_assert_int_eq(f->locate(f->ud, store, loc, sizeof loc), 0);
    ck_assert_int_eq(write(gate[1], loc, strlen(loc)), (ssize_t)strlen(loc));
    close(gate[1]);
    duro_stress_config c = quick();
    c.store = loc;
    c.ledger = drv_ledger;
    duro_stress_result r;
    int rc = duro_stress_run(f, "parallel", &c, &r, &err);
    kill(child, SIGTERM);
    ck_assert_int_eq(waitpid(child, &st, 0), child);
    ck_assert_msg(rc == 0, "%s", err.message);
    assert_clean(&r);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_uint_eq(r.swept_terminals, r.launched); /* every end read from the store */
    ck_assert_uint_eq(r.activities_total, 0);         /* they ran in the child */
    ck_assert_int_eq(count_lines(drv_ledger, " start driver stress-"), (int)r.launched);
    ck_assert_int_eq(count_lines(drv_ledger, " Completed rt.t"), (int)r.launched);
    ck_assert_int_eq(count_lines(rt_ledger, " act rt.t stress-"), 3 * (int)r.launched);
    ck_assert_int_eq(count_lines(rt_ledger, " end rt.t stress-"), (int)r.launched);
    f->destroy(f->ud, store);
    remove(drv_ledger);
    remove(rt_ledger);
    free(drv_ledger);
    free(rt_ledger);
}
END_TEST

/* The in-memory SQLite store with the DURO_CAP_* bits of cap_strip cleared. */
static unsigned cap_strip;

static int stripped_create(void *ud, duro_provider **out, duro_error *err)
{
    const duro_provider_factory *m = duro__sqlite_factory_memory();
    int rc = m->create(m->ud, out, err);
    if (rc == 0)
        (*out)->caps &= ~cap_strip;
    return rc;
}

static const duro_provider_factory stripped_factory = {
    .version = DURO_PROVIDER_FACTORY_VERSION,
    .name = "stripped", .create = stripped_create, .destroy = hook_destroy,
};

/* Routing on two runtimes: every root completes with each tagged step on its runtime, the
 * steps of each session on one runtime, and its durable value right (read while running and
 * at the end), also when activity attempts fail and are retried in their session; a provider
 * without tags, values or sessions and --processes are skipped with the reason, nothing run. */
START_TEST(run_routing_verifies_runtimes_sessions_and_values)
{
    duro_stress_config c = quick();
    c.duration_secs = 30;
    c.max_roots = 12;
    c.tasks_per_instance = 5; /* untagged, "gpu", session, "io", session */
    duro_stress_result r;
    duro_error err = {0};
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "routing", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_eq(r.skipped, 0);
    ck_assert_uint_eq(r.completed, 12);
    ck_assert_uint_eq(r.activities_total, 12 * 5);
    /* one read after each completion and one while running per launch but the first */
    ck_assert_uint_eq(r.kv_reads, 12 + 11);
    ck_assert_uint_eq(r.kv_mismatches, 0);
    ck_assert_uint_eq(r.session_steps, 12 * 2);
    ck_assert_uint_eq(r.session_mismatches, 0);
    ck_assert_uint_eq(r.sessions_on_a + r.sessions_on_b, DURO__ROUTING_SESSIONS);

    c.activity_failure_pct = 50; /* retried attempts stay in their session */
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "routing", &c, &r, &err), 0);
    assert_clean(&r);
    ck_assert_uint_gt(r.injected_activity_failures, 0);
    ck_assert_uint_eq(r.activities_total, 12 * 5 + r.injected_activity_failures);
    ck_assert_uint_eq(r.session_steps, 12 * 2);
    ck_assert_uint_eq(r.session_mismatches, 0);
    c.activity_failure_pct = 0;

    cap_strip = DURO_CAP_TAGS;
    ck_assert_int_eq(duro_stress_run(&stripped_factory, "routing", &c, &r, &err), 0);
    ck_assert_uint_eq(r.skipped, 1);
    ck_assert_uint_eq(r.launched, 0);
    ck_assert_str_eq(r.first_failure, "the provider does not route tags (no DURO_CAP_TAGS)");
    cap_strip = DURO_CAP_KV;
    ck_assert_int_eq(duro_stress_run(&stripped_factory, "routing", &c, &r, &err), 0);
    ck_assert_uint_eq(r.skipped, 1);
    ck_assert_str_eq(r.first_failure, "the provider keeps no durable values (no DURO_CAP_KV)");
    cap_strip = DURO_CAP_SESSIONS;
    ck_assert_int_eq(duro_stress_run(&stripped_factory, "routing", &c, &r, &err), 0);
    ck_assert_uint_eq(r.skipped, 1);
    ck_assert_uint_eq(r.launched, 0);
    ck_assert_uint_eq(r.session_steps, 0);
    ck_assert_str_eq(r.first_failure,
                     "the provider runs no activity sessions (no DURO_CAP_SESSIONS)");
    /* the other scenarios need none of them */
    cap_strip = DURO_CAP_TAGS | DURO_CAP_KV | DURO_CAP_SESSIONS;
    ck_assert_int_eq(duro_stress_run(&stripped_factory, "parallel", &c, &r, &err), 0);
    ck_assert_uint_eq(r.skipped, 0);
    assert_clean(&r);
    ck_assert_uint_eq(r.session_steps, 0);
    c.processes = 2;
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "routing", &c, &r, &err), 0);
    ck_assert_uint_eq(r.skipped, 1);
    ck_assert_str_eq(r.first_failure, "routing runs its two runtimes (A, B) in this process: "
                                      "not with --processes");
}
END_TEST

/* The JUnit report of a routing run on a provider with sessions and on one without: the
 * first a passing testcase with the session counts as properties, the second skipped with
 * the reason; valid against both schemas. */
START_TEST(main_routing_junit_reports_sessions_and_the_skip)
{
    char *path = temp_path("routing.xml");
    cap_strip = DURO_CAP_SESSIONS;
    const duro_provider_factory *factories[] = {duro__sqlite_factory_memory(),
                                                &stripped_factory};
    char *argv[] = {(char *)"duro-stress", (char *)"--scenario", (char *)"routing",
                    (char *)"--config", (char *)"2/2", (char *)"--count", (char *)"8",
                    (char *)"--duration", (char *)"30", (char *)"--activity-delay", (char *)"1",
                    (char *)"--min-success", (char *)"100", (char *)"--no-progress",
                    (char *)"--junit", path, NULL};
    fflush(stdout);
    ck_assert_int_eq(duro_stress_main_factories(factories, 2, 16, argv), 0);
    static char xml[1 << 20];
    size_t len = take_report(path, xml, sizeof xml);
    ck_assert_ptr_nonnull(strstr(xml, "<testsuite name=\"stress.routing\""));
    ck_assert_ptr_nonnull(strstr(xml, "name=\"sqlite.2/2.session_steps\" value=\"16\""));
    ck_assert_ptr_nonnull(strstr(xml, "name=\"sqlite.2/2.session_mismatches\" value=\"0\""));
    ck_assert_ptr_nonnull(strstr(xml, "<skipped message=\"the provider runs no activity "
                                      "sessions (no DURO_CAP_SESSIONS)\""));
    ck_assert_ptr_nonnull(strstr(xml, "tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"1\""));
    assert_valid_junit(xml, len);
}
END_TEST

START_TEST(run_rejects_bad_arguments)
{
    duro_stress_config c = quick();
    duro_stress_result r;
    duro_error err = {0};
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "nope", &c, &r, &err),
                     DURO_EINVAL);
    ck_assert_str_eq(err.message, "unknown scenario 'nope'");
    c.tasks_per_instance = 0;
    ck_assert_int_eq(duro_stress_run(duro__sqlite_factory_memory(), "parallel", &c, &r, &err),
                     DURO_EINVAL);
}
END_TEST

START_TEST(main_failing_gate_does_not_save_the_baseline)
{
    char *path = temp_path("saved.json");
    remove(path);
    char *argv[] = {(char *)"duro-stress", (char *)"--duration", (char *)"0.2",
                    (char *)"--config", (char *)"1/1", (char *)"--tasks-per-instance",
                    (char *)"1", (char *)"--activity-delay", (char *)"1",
                    (char *)"--min-orch-per-sec", (char *)"1000000", (char *)"--no-progress",
                    (char *)"--save-baseline", path, NULL};
    fflush(stdout);
    ck_assert_int_eq(duro_stress_main(duro__sqlite_factory_memory(), 14, argv), 1);
    ck_assert_int_eq(access(path, F_OK), -1);
    argv[9] = (char *)"--min-success"; /* a gate every run passes */
    argv[10] = (char *)"0";
    ck_assert_int_eq(duro_stress_main(duro__sqlite_factory_memory(), 14, argv), 0);
    ck_assert_int_eq(access(path, F_OK), 0);
    remove(path);
    free(path);
}
END_TEST

static Suite *stress_suite(void)
{
    Suite *s = suite_create("stress");
    TCase *t = tcase_create("units");
    tcase_add_test(t, percentile_is_nearest_rank);
    tcase_add_test(t, median_is_lower_middle_with_nan_last);
    tcase_add_test(t, slope_is_least_squares);
    tcase_add_test(t, result_median_takes_each_metric_and_any_integrity_failure);
    tcase_add_test(t, payload_is_deterministic_and_exact);
    tcase_add_test(t, verify_accepts_exactly_the_expected_output);
    tcase_add_test(t, verify_routing_outputs_and_values);
    tcase_add_test(t, roots_rotate_in_mixed);
    tcase_add_test(t, options_defaults_are_the_spec);
    tcase_add_test(t, options_parse_every_form);
    tcase_add_test(t, options_reject_mistakes);
    tcase_add_test(t, main_exit_status_for_help_and_usage);
    tcase_add_test(t, gates_check_success_integrity_and_thresholds);
    tcase_add_test(t, baseline_regression_and_json_round_trip);
    tcase_add_test(t, junit_report_is_valid_and_carries_metrics);
    tcase_add_test(t, table_prints_the_routing_sessions_line);
    tcase_add_test(t, fault_wrap_rejects_bad_options);
    tcase_add_test(t, fault_schedule_before_and_after);
    tcase_add_test(t, fault_rates_are_deterministic_per_seed);
    suite_add_tcase(s, t);
    TCase *runs = tcase_create("runs");
    tcase_set_timeout(runs, 60);
    tcase_add_test(runs, run_parallel_counts_executed_activities);
    tcase_add_test(runs, run_count_launches_exactly_n_roots);
    tcase_add_test(runs, run_injected_activity_failures_are_retried);
    tcase_add_test(runs, run_children_and_continue_as_new_are_counted_apart);
    tcase_add_test(runs, run_open_loop_follows_the_schedule);
    tcase_add_test(runs, run_slow_instances_time_out);
    tcase_add_test(runs, run_integrity_reports_store_check_and_corrupt_history);
    tcase_add_test(runs, run_attached_handles_share_one_file);
    tcase_add_test(runs, run_child_processes_survive_kills);
    tcase_add_test(runs, run_roles_split_across_processes);
    tcase_add_test(runs, run_routing_verifies_runtimes_sessions_and_values);
    tcase_add_test(runs, main_routing_junit_reports_sessions_and_the_skip);
    tcase_add_test(runs, run_rejects_bad_arguments);
    tcase_add_test(runs, run_runtime_metrics_equal_the_suite_counts);
    tcase_add_test(runs, run_counts_statements_per_orchestration);
    tcase_add_test(runs, run_prefill_fills_the_store_first);
    tcase_add_test(runs, main_failing_gate_does_not_save_the_baseline);
    suite_add_tcase(s, runs);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stress_suite());
    int failed = junit_check_run(sr, "test-stress", CK_NORMAL);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
