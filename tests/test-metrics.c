/*
 * test-metrics.c — the runtime metrics snapshot, its Prometheus text exposition and the trace
 * hook. The exposition is compared with the exact expected text of a known snapshot
 * (tests/metrics-expected.prom) and checked against the format's rules; the counters of a
 * real runtime (SQLite in memory and on file, a fault wrapper injecting a known number of
 * provider errors) must equal what the test's own activities, observer and fault wrapper
 * counted, and every span must name a parent the same run emitted.
 */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e-common.h"
#include "junit-check.h"

/* ---- exposition ---------------------------------------------------------------------------- */

/* A snapshot with a distinct value in every kind of member. */
static void known_snapshot(duro_runtime_metrics *m)
{
    duro_runtime_metrics_init(m);
    m->turns = 42;
    m->completed = 30;
    m->continued_as_new = 2;
    m->terminated = 4;
    m->failed[DURO_CAT_APPLICATION] = 3;
    m->failed[DURO_CAT_POISON] = 1;
    m->activity_attempts = 57;
    m->activity_retries = 5;
    m->activity_failed = 6;
    m->activity_cancelled = 1;
    m->poison_activities = 1;
    m->provider_calls[DURO_OP_ACK_ORCH] = 44;
    m->provider_errors[DURO_OP_ACK_ORCH] = 2;
    m->provider_calls[DURO_OP_FETCH_WORK] = 70;
    /* turns: 10 us (the first bound, inclusive), 11 us, 2 s, 20 s (+Inf) */
    m->turn_duration.bucket[0] = 1;
    m->turn_duration.bucket[1] = 1;
    m->turn_duration.bucket[16] = 1;
    m->turn_duration.bucket[19] = 1;
    m->turn_duration.count = 4;
    m->turn_duration.sum_us = 10 + 11 + 2000000 + 20000000;
    m->provider_latency[DURO_OP_ACK_ORCH].bucket[6] = 44;
    m->provider_latency[DURO_OP_ACK_ORCH].count = 44;
    m->provider_latency[DURO_OP_ACK_ORCH].sum_us = 44 * 800;
    /* queue waits: orchestration 0 us and 2.5 ms, work 250 us */
    m->queue_wait_orch.bucket[0] = 1;
    m->queue_wait_orch.bucket[7] = 1;
    m->queue_wait_orch.count = 2;
    m->queue_wait_orch.sum_us = 2500;
    m->queue_wait_work.bucket[4] = 1;
    m->queue_wait_work.count = 1;
    m->queue_wait_work.sum_us = 250;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static char *expected_text(void)
{
    const char *src = getenv("DURO_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/metrics-expected.prom", src ? src : ".");
    return read_file(path);
}

START_TEST(test_exposition_exact)
{
    duro_runtime_metrics m;
    char *want = expected_text();
    known_snapshot(&m);
    int64_t n = duro_runtime_metrics_format(&m, NULL, 0);
    ck_assert_int_eq(n, (int64_t)strlen(want));
    char *got = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(duro_runtime_metrics_format(&m, got, (size_t)n + 1), n);
    ck_assert_str_eq(got, want);
    /* FILE* output is the same bytes */
    char *mem = NULL;
    size_t mem_len = 0;
    FILE *f = open_memstream(&mem, &mem_len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(duro_runtime_metrics_write(&m, f), 0);
    fclose(f);
    ck_assert_uint_eq(mem_len, (size_t)n);
    ck_assert_str_eq(mem, want);
    free(mem);
    free(got);
    free(want);
}
END_TEST

START_TEST(test_exposition_truncates_like_snprintf)
{
    duro_runtime_metrics m;
    char small[32];
    known_snapshot(&m);
    int64_t n = duro_runtime_metrics_format(&m, small, sizeof small);
    ck_assert_int_gt(n, (int64_t)sizeof small);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert_int_eq(strncmp(small, "# HELP duro_turns_total Orchest", sizeof small - 1), 0);
    /* a snapshot from a caller whose struct is shorter renders its missing members as 0 */
    duro_runtime_metrics shorter;
    known_snapshot(&shorter);
    shorter.size = offsetof(duro_runtime_metrics, continued_as_new);
    char buf[1024];
    duro_runtime_metrics_format(&shorter, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "\nduro_executions_completed_total 30\n"));
    ck_assert_ptr_nonnull(strstr(buf, "\nduro_executions_continued_as_new_total 0\n"));
    /* bad input */
    ck_assert_int_eq(duro_runtime_metrics_format(NULL, buf, sizeof buf), DURO_EINVAL);
    shorter.size = 0;
    ck_assert_int_eq(duro_runtime_metrics_format(&shorter, buf, sizeof buf), DURO_EINVAL);
    ck_assert_int_eq(duro_runtime_metrics_write(&m, NULL), DURO_EINVAL);
    ck_assert_str_eq(duro_provider_op_name(DURO_OP_RENEW_WORK), "renew_work");
    ck_assert_str_eq(duro_provider_op_name(DURO_OP_COUNT), "unknown");
    ck_assert_int_eq(duro_histogram_bound_us(0), 10);
    ck_assert_int_eq(duro_histogram_bound_us(DURO_HIST_BUCKETS - 2), 10000000);
    ck_assert_int_eq(duro_histogram_bound_us(DURO_HIST_BUCKETS - 1), INT64_MAX);
}
END_TEST

/* Is `s` a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) of `len` bytes? */
static int valid_name(const char *s, size_t len)
{
    size_t i;
    if (len == 0)
        return 0;
    for (i = 0; i < len; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

/* The format's rules over a whole exposition: every line is a HELP, a TYPE or a sample;
 * every family has HELP then TYPE before its samples, each once; counters end in _total;
 * a histogram's buckets per label set are cumulative, end with le="+Inf" equal to _count,
 * and have _sum and _count; the text ends with a newline. Returns the number of samples. */
static size_t check_format(const char *text)
{
    char family[128] = "", type[16] = "";
    uint64_t last_bucket = 0;
    int in_buckets = 0, inf_seen = 0;
    uint64_t inf_value = 0;
    size_t samples = 0;
    const char *line = text;
    ck_assert_msg(text[0] && text[strlen(text) - 1] == '\n', "exposition must end in \\n");
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t len = (size_t)(eol - line);
        char buf[512];
        ck_assert_uint_lt(len, sizeof buf);
        memcpy(buf, line, len);
        buf[len] = '\0';
        if (strncmp(buf, "# HELP ", 7) == 0) {
            const char *name = buf + 7, *sp = strchr(name, ' ');
            ck_assert_msg(sp && valid_name(name, (size_t)(sp - name)) && sp[1], "bad HELP: %s",
                          buf);
            ck_assert_msg(strlen(family) != (size_t)(sp - name) ||
                              strncmp(family, name, (size_t)(sp - name)) != 0,
                          "family repeated: %s", buf);
            snprintf(family, sizeof family, "%.*s", (int)(sp - name), name);
            type[0] = '\0';
        } else if (strncmp(buf, "# TYPE ", 7) == 0) {
            char name[128], t[16];
            ck_assert_int_eq(sscanf(buf + 7, "%127s %15s", name, t), 2);
            ck_assert_str_eq(name, family);
            ck_assert_msg(strcmp(t, "counter") == 0 || strcmp(t, "histogram") == 0,
                          "bad type %s", t);
            if (strcmp(t, "counter") == 0)
                ck_assert_msg(len > 6 && strcmp(name + strlen(name) - 6, "_total") == 0,
                              "counter %s must end in _total", name);
            snprintf(type, sizeof type, "%s", t);
        } else {
            const char *end = buf + strcspn(buf, "{ ");
            const char *value;
            char *num_end;
            size_t flen = strlen(family);
            ck_assert_msg(type[0], "sample before TYPE: %s", buf);
            ck_assert_msg(valid_name(buf, (size_t)(end - buf)), "bad name: %s", buf);
            ck_assert_msg(strncmp(buf, family, flen) == 0, "sample %s outside family %s", buf,
                          family);
            if (*end == '{') {
                const char *close = strchr(end, '}');
                ck_assert_msg(close && close[1] == ' ', "bad labels: %s", buf);
                value = close + 2;
            } else
                value = end + 1;
            strtod(value, &num_end);
            ck_assert_msg(num_end != value && *num_end == '\0', "bad value: %s", buf);
            const char *suffix = buf + flen;
            if (strcmp(type, "counter") == 0) {
                ck_assert_msg(suffix == end, "counter sample name must be the family: %s", buf);
            } else if (strncmp(suffix, "_bucket{", 8) == 0) {
                uint64_t v = strtoull(value, NULL, 10);
                ck_assert_msg(strstr(buf, "le=\""), "bucket without le: %s", buf);
                if (!in_buckets)
                    last_bucket = 0;
                ck_assert_msg(v >= last_bucket, "buckets not cumulative: %s", buf);
                last_bucket = v;
                in_buckets = 1;
                if (strstr(buf, "le=\"+Inf\"")) {
                    inf_seen = 1;
                    inf_value = v;
                    in_buckets = 0;
                }
            } else if (strncmp(suffix, "_sum", 4) == 0 && (suffix[4] == ' ' || suffix[4] == '{')) {
                ck_assert_msg(inf_seen, "_sum before the +Inf bucket: %s", buf);
            } else if (strncmp(suffix, "_count", 6) == 0 &&
                       (suffix[6] == ' ' || suffix[6] == '{')) {
                ck_assert_msg(inf_seen && strtoull(value, NULL, 10) == inf_value,
                              "_count differs from the +Inf bucket: %s", buf);
                inf_seen = 0;
            } else
                ck_abort_msg("unexpected histogram sample: %s", buf);
        }
        if (buf[0] != '#')
            samples++;
        line = eol + 1;
    }
    return samples;
}

START_TEST(test_exposition_format_rules)
{
    duro_runtime_metrics m;
    char *text;
    known_snapshot(&m);
    int64_t n = duro_runtime_metrics_format(&m, NULL, 0);
    text = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(text);
    duro_runtime_metrics_format(&m, text, (size_t)n + 1);
    /* 9 plain counters + 5 categories + 2 x 9 ops + 13 histograms of 22 samples */
    ck_assert_uint_eq(check_format(text), 9 + 5 + 2 * DURO_OP_COUNT +
                                              (4 + DURO_OP_COUNT) * (DURO_HIST_BUCKETS + 2));
    free(text);
}
END_TEST

/* ---- a real runtime ------------------------------------------------------------------------ */

/* What the test itself observes, to compare with the runtime's counters. */
typedef struct observed {
    pthread_mutex_t mu;
    uint64_t attempts, retries, failures;
    duro_span *spans;         /* every span, names and instances copied */
    size_t n_spans, cap_spans;
} observed;

static observed seen;

static void observed_reset(void)
{
    size_t i;
    pthread_mutex_lock(&seen.mu);
    for (i = 0; i < seen.n_spans; i++) {
        free((char *)seen.spans[i].name);
        free((char *)seen.spans[i].instance);
    }
    free(seen.spans);
    seen.spans = NULL;
    seen.n_spans = seen.cap_spans = 0;
    seen.attempts = seen.retries = seen.failures = 0;
    pthread_mutex_unlock(&seen.mu);
}

static void on_span(const duro_span *s, void *ud)
{
    (void)ud;
    pthread_mutex_lock(&seen.mu);
    if (seen.n_spans == seen.cap_spans) {
        size_t cap = seen.cap_spans ? seen.cap_spans * 2 : 256;
        duro_span *v = realloc(seen.spans, cap * sizeof *v);
        ck_assert_ptr_nonnull(v);
        seen.spans = v;
        seen.cap_spans = cap;
    }
    duro_span *c = &seen.spans[seen.n_spans++];
    *c = *s;
    c->name = strdup(s->name);
    c->instance = s->instance ? strdup(s->instance) : NULL;
    pthread_mutex_unlock(&seen.mu);
}

static void count_attempt(const duro_activity *a, int fails)
{
    pthread_mutex_lock(&seen.mu);
    seen.attempts++;
    seen.retries += duro_activity_attempt(a) > 1;
    seen.failures += fails;
    pthread_mutex_unlock(&seen.mu);
}

/* Fails its first attempt when the input starts with "flaky". */
static int act_step(duro_activity *a, const char *input, void *ud)
{
    (void)ud;
    int fails = strncmp(input, "flaky", 5) == 0 && duro_activity_attempt(a) == 1;
    count_attempt(a, fails);
    return fails ? duro_activity_fail(a, "first attempt fails") : duro_activity_okf(a, "%s!", input);
}

static int act_boom(duro_activity *a, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    count_attempt(a, 1);
    return duro_activity_fail(a, "boom");
}

static int orch_flow(duro_orch *o, const char *input, void *ud)
{
    static const duro_retry_policy policy = {3, DURO_BACKOFF_FIXED, 5, 0, 0};
    (void)ud;
    duro_task *t = duro_call_activity_retry(o, "Step", input, &policy);
    DURO_AWAIT(o, t);
    return duro_task_ok(t) ? duro_complete(o, duro_task_value(t)) : duro_fail(o, "step failed");
}

static int orch_bad(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *t = duro_call_activity(o, "Boom", "");
    DURO_AWAIT(o, t);
    return duro_fail(o, duro_task_error(t));
}

static int orch_loop(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    return strcmp(input, "0") == 0 ? duro_continue_as_new(o, "1") : duro_complete(o, "looped");
}

static const duro_span *find_span(uint64_t id)
{
    size_t i;
    for (i = 0; i < seen.n_spans; i++)
        if (seen.spans[i].span_id == id)
            return &seen.spans[i];
    return NULL;
}

START_TEST(test_counters_match_what_happened)
{
    static const duro_fault_op faulted[] = {DURO_FAULT_FETCH_ORCH, DURO_FAULT_ACK_ORCH,
                                            DURO_FAULT_ACK_WORK};
    static const int faulted_op[] = {DURO_OP_FETCH_ORCH, DURO_OP_ACK_ORCH, DURO_OP_ACK_WORK};
    static const unsigned faults[] = {1, 2, 2};
    e2e_env e;
    duro_fault_options fo;
    duro_runtime_metrics m;
    duro_error err = {0};
    size_t i, k;
    char id[32];
    observed_reset();
    e2e_open(&e, _i);
    e2e_act(&e, "Step", act_step, NULL);
    e2e_act(&e, "Boom", act_boom, NULL);
    e2e_orch(&e, "Flow", orch_flow, NULL);
    e2e_orch(&e, "Bad", orch_bad, NULL);
    e2e_orch(&e, "Loop", orch_loop, NULL);
    duro_fault_options_init(&fo);
    e2e_wrap_faults(&e, &fo);
    for (k = 0; k < 3; k++)
        ck_assert_int_eq(duro_fault_fail_next(e.faults, faulted[k], faults[k], DURO_FAULT_BEFORE),
                         0);
    e.opt.on_span = on_span;
    e.opt.on_span_ud = NULL;
    e2e_start(&e);
    for (i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "flow-%zu", i);
        e2e_start_instance(&e, id, "Flow", i % 2 ? "flaky" : "steady");
    }
    e2e_start_instance(&e, "bad", "Bad", "");
    e2e_start_instance(&e, "loop", "Loop", "0");
    e2e_wait_terminals(&e, 9); /* 6 flows + bad + loop's two executions */
    e2e_expect_completed(&e, "loop", "looped");

    /* bad input first */
    ck_assert_int_eq(duro_runtime_metrics_get(NULL, &m, &err), DURO_EINVAL);
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(duro_runtime_metrics_get(e.rt, &m, &err), DURO_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "duro_runtime_metrics_init"));

    duro_runtime_metrics_init(&m);
    ck_assert_int_eq(duro_runtime_metrics_get(e.rt, &m, &err), 0);
    ck_assert_uint_eq(m.completed, 7);
    ck_assert_uint_eq(m.continued_as_new, 1);
    for (k = 0; k <= DURO_CAT_POISON; k++)
        ck_assert_uint_eq(m.failed[k], k == DURO_CAT_APPLICATION ? 1 : 0);
    pthread_mutex_lock(&seen.mu);
    ck_assert_uint_eq(seen.attempts, 10); /* 6 + 3 retries + 1 */
    ck_assert_uint_eq(m.activity_attempts, seen.attempts);
    ck_assert_uint_eq(m.activity_retries, seen.retries);
    ck_assert_uint_eq(m.activity_retries, 3);
    ck_assert_uint_eq(m.activity_failed, seen.failures);
    pthread_mutex_unlock(&seen.mu);
    ck_assert_uint_eq(m.activity_cancelled, 0);
    ck_assert_uint_eq(m.poison_activities, 0);
    for (k = 0; k < 3; k++)
        ck_assert_uint_eq(duro_fault_injected(e.faults, faulted[k], 0), faults[k]);
    /* every error is an injected one; a renewal may also meet a lock its turn released
     * between the housekeeping thread's look at the held locks and its call (DURO_ELOCK) */
    for (k = 0; k < DURO_OP_COUNT; k++) {
        uint64_t want = 0;
        size_t f;
        if (k == DURO_OP_RENEW_ORCH || k == DURO_OP_RENEW_WORK)
            continue;
        for (f = 0; f < 3; f++)
            if (faulted_op[f] == (int)k)
                want = faults[f];
        ck_assert_msg(m.provider_errors[k] == want, "%s errors: %" PRIu64 ", injected %" PRIu64,
                      duro_provider_op_name((int)k), m.provider_errors[k], want);
    }
    /* every turn commits once; a faulted commit is tried again */
    ck_assert_uint_eq(m.provider_calls[DURO_OP_ACK_ORCH], m.turns + 2);
    ck_assert_uint_eq(m.provider_calls[DURO_OP_ACK_WORK], m.activity_attempts + 2);
    ck_assert_uint_eq(m.turn_duration.count, m.turns);
    ck_assert_uint_eq(m.activity_duration.count, m.activity_attempts);
    /* every attempt waited in the queue once; every turn took up at least one message */
    ck_assert_uint_eq(m.queue_wait_work.count, m.activity_attempts);
    ck_assert_uint_ge(m.queue_wait_orch.count, m.turns);
    for (k = 0; k < DURO_OP_COUNT; k++) {
        uint64_t sum = 0;
        size_t b;
        for (b = 0; b < DURO_HIST_BUCKETS; b++)
            sum += m.provider_latency[k].bucket[b];
        ck_assert_uint_eq(sum, m.provider_latency[k].count);
        /* calls are counted as they start: at most one per thread is still in flight */
        ck_assert_uint_le(m.provider_latency[k].count, m.provider_calls[k]);
    }
    ck_assert_uint_eq(m.provider_latency[DURO_OP_ACK_ORCH].count,
                      m.provider_calls[DURO_OP_ACK_ORCH]);
    uint64_t turns = m.turns;
    e2e_stop(&e);

    /* the spans of the whole run (every runtime thread has been joined) */
    size_t n_turn = 0, n_activity = 0, n_failed_attempts = 0, n_ack_orch = 0, n_ack_work = 0;
    size_t n_busy = 0;
    for (i = 0; i < seen.n_spans; i++) {
        const duro_span *s = &seen.spans[i];
        ck_assert_uint_ne(s->span_id, 0);
        ck_assert_int_le(s->start_us, s->end_us);
        ck_assert_int_gt(s->start_us, INT64_C(1600000000000000)); /* wall clock, in us */
        for (k = i + 1; k < seen.n_spans; k++)
            ck_assert_uint_ne(s->span_id, seen.spans[k].span_id);
        if (s->status == DURO_EBUSY) /* what the fault wrapper injects */
            n_busy++;
        if (s->kind == DURO_SPAN_TURN) {
            n_turn++;
            ck_assert_uint_eq(s->parent_span_id, 0);
            ck_assert_ptr_nonnull(s->instance);
            ck_assert_int_eq(s->status, 0);
            /* the first turn too, which finds the name in the start message */
            ck_assert_str_eq(s->name, strncmp(s->instance, "flow-", 5) == 0 ? "Flow"
                                      : strcmp(s->instance, "bad") == 0    ? "Bad"
                                                                           : "Loop");
        } else if (s->kind == DURO_SPAN_ACTIVITY) {
            n_activity++;
            ck_assert_msg(strcmp(s->name, "Step") == 0 || strcmp(s->name, "Boom") == 0,
                          "activity span %s", s->name);
            ck_assert_msg(s->status == 0 || s->status == DURO_ESTATE, "activity status %d",
                          s->status);
            n_failed_attempts += s->status == DURO_ESTATE;
        } else {
            ck_assert_int_eq(s->kind, DURO_SPAN_PROVIDER);
            const duro_span *parent = s->parent_span_id ? find_span(s->parent_span_id) : NULL;
            if (strcmp(s->name, "ack_orch") == 0) {
                n_ack_orch++;
                ck_assert_msg(parent && parent->kind == DURO_SPAN_TURN &&
                                  strcmp(parent->instance, s->instance) == 0,
                              "ack_orch span without its turn");
                ck_assert_int_le(parent->start_us, s->start_us);
                ck_assert_int_ge(parent->end_us, s->end_us);
            } else if (strcmp(s->name, "ack_work") == 0) {
                n_ack_work++;
                ck_assert_msg(parent && parent->kind == DURO_SPAN_ACTIVITY &&
                                  strcmp(parent->instance, s->instance) == 0,
                              "ack_work span without its activity attempt");
                ck_assert_int_ge(s->start_us, parent->end_us);
            }
        }
    }
    ck_assert_uint_eq(n_turn, turns);
    ck_assert_uint_eq(n_activity, 10);
    ck_assert_uint_eq(n_failed_attempts, 4); /* 3 flaky first attempts + Boom */
    ck_assert_uint_eq(n_ack_orch, turns + 2);
    ck_assert_uint_eq(n_ack_work, 10 + 2);
    /* the fetch fault is a span too (a fetch that found nothing is not) */
    ck_assert_uint_eq(n_busy, 1 + 2 + 2);
    e2e_close(&e);
    observed_reset();
}
END_TEST

/* Without a hook the runtime reports no span and counts all the same. */
START_TEST(test_no_hook_counts)
{
    e2e_env e;
    duro_runtime_metrics m;
    observed_reset();
    e2e_open(&e, _i);
    e2e_act(&e, "Step", act_step, NULL);
    e2e_orch(&e, "Flow", orch_flow, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "one", "Flow", "steady");
    e2e_expect_completed(&e, "one", "steady!");
    e2e_wait_terminals(&e, 1); /* counted just before the observer hears of it */
    duro_runtime_metrics_init(&m);
    ck_assert_int_eq(duro_runtime_metrics_get(e.rt, &m, NULL), 0);
    ck_assert_uint_eq(m.completed, 1);
    ck_assert_uint_eq(m.activity_attempts, 1);
    ck_assert_uint_eq(m.provider_calls[DURO_OP_ACK_WORK], 1);
    ck_assert_uint_eq(m.provider_calls[DURO_OP_ACK_ORCH], m.turns);
    e2e_close(&e);
    ck_assert_uint_eq(seen.n_spans, 0);
}
END_TEST

/* Enqueue a START of "Flow" for `id` straight through the provider, with `payload`. */
static void enqueue_start(e2e_env *e, const char *id, const char *payload)
{
    const duro_msg msg = {id, DURO_MSG_START, 0, 0, payload};
    duro_error err = {0};
    ck_assert_int_eq(e->p->ops->enqueue_orch(e->p, &msg, &err), 0);
}

/* The queue-wait histograms read each item's due time: a START sent an hour ago waits in
 * the +Inf bucket, one without a due time (written by duro before 0.3) is not sampled, and
 * everything the runtime itself sends waits a short time. */
START_TEST(test_queue_wait)
{
    e2e_env e;
    duro_runtime_metrics m;
    char payload[128];
    const int64_t hour_ms = 3600 * 1000;
    int64_t before = duro_clock_now_ms();
    observed_reset();
    e2e_open(&e, _i);
    e2e_act(&e, "Step", act_step, NULL);
    e2e_orch(&e, "Flow", orch_flow, NULL);
    snprintf(payload, sizeof payload, "{\"name\":\"Flow\",\"input\":\"old\",\"due\":%" PRId64 "}",
             before - hour_ms);
    enqueue_start(&e, "old", payload);
    enqueue_start(&e, "legacy", "{\"name\":\"Flow\",\"input\":\"legacy\"}");
    e2e_start(&e);
    e2e_expect_completed(&e, "old", "old!");
    e2e_expect_completed(&e, "legacy", "legacy!");
    e2e_wait_terminals(&e, 2);
    int64_t after = duro_clock_now_ms();
    duro_runtime_metrics_init(&m);
    ck_assert_int_eq(duro_runtime_metrics_get(e.rt, &m, NULL), 0);
    ck_assert_uint_eq(m.turns, 4);
    /* "old"'s START and the two completions; not "legacy"'s START */
    ck_assert_uint_eq(m.queue_wait_orch.count, 3);
    ck_assert_uint_eq(m.queue_wait_orch.bucket[DURO_HIST_BUCKETS - 1], 1);
    ck_assert_uint_ge(m.queue_wait_orch.sum_us, (uint64_t)hour_ms * 1000);
    ck_assert_uint_le(m.queue_wait_orch.sum_us, (uint64_t)(after - before + hour_ms) * 1000 * 3);
    ck_assert_uint_eq(m.queue_wait_work.count, 2);
    ck_assert_uint_eq(m.queue_wait_work.bucket[DURO_HIST_BUCKETS - 1], 0);
    ck_assert_uint_le(m.queue_wait_work.sum_us, (uint64_t)(after - before) * 1000 * 2);
    e2e_close(&e);
}
END_TEST

int main(void)
{
    const e2e_test tests[] = {
        {"exposition_exact", test_exposition_exact},
        {"exposition_truncates_like_snprintf", test_exposition_truncates_like_snprintf},
        {"exposition_format_rules", test_exposition_format_rules},
        {"counters_match_what_happened", test_counters_match_what_happened},
        {"no_hook_counts", test_no_hook_counts},
        {"queue_wait", test_queue_wait},
    };
    pthread_mutex_init(&seen.mu, NULL);
    return e2e_main("test-metrics", E2E_ALL_KINDS, tests, sizeof tests / sizeof tests[0]);
}
