/*
 * metrics.c — runtime metrics and trace spans: the counters and duration histograms a
 * runtime keeps (updated with relaxed atomic adds from its threads, so the hot path takes no
 * lock), the snapshot that copies them out, their Prometheus text exposition, and the
 * per-span trace hook with the per-thread context that makes a provider call the child of the
 * turn or activity it serves.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

#include "duro-util.h"

/* ---- histograms -------------------------------------------------------------------------- */

static const int64_t bounds_us[DURO_HIST_BUCKETS - 1] = {
    10,      25,      50,      100,      250,      500,      1000,
    2500,    5000,    10000,   25000,    50000,    100000,   250000,
    500000,  1000000, 2500000, 5000000,  10000000,
};

/* The bounds in seconds as the exposition writes them (fixed text: printf's %g would follow
 * the locale's decimal separator). */
static const char *const bounds_text[DURO_HIST_BUCKETS - 1] = {
    "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001",
    "0.0025", "0.005",  "0.01",  "0.025",  "0.05",    "0.1",    "0.25",
    "0.5",   "1",       "2.5",   "5",      "10",
};

int64_t duro_histogram_bound_us(size_t i)
{
    return i < DURO_HIST_BUCKETS - 1 ? bounds_us[i] : INT64_MAX;
}

static void add(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static void observe(duro_histogram *h, int64_t us)
{
    size_t i = 0;
    if (us < 0)
        us = 0;
    while (i < DURO_HIST_BUCKETS - 1 && us > bounds_us[i])
        i++;
    add(&h->bucket[i], 1);
    add(&h->sum_us, (uint64_t)us);
    add(&h->count, 1);
}

/* ---- spans -------------------------------------------------------------------------------- */

/* The calling thread's current span: the turn or activity its provider calls serve. */
static __thread struct {
    uint64_t span_id;
    const char *instance;
    uint64_t execution_id;
} current;

/* Span ids: one process-wide sequence, so ids never repeat across runtimes. */
static uint64_t next_span_id;

int64_t duro__metrics_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void duro__metrics_init(duro__metrics *m, const duro_runtime_options *opt)
{
    struct timespec wall;
    memset(m, 0, sizeof *m);
    m->c.size = sizeof m->c;
    m->on_span = opt->on_span;
    m->on_span_ud = opt->on_span_ud;
    clock_gettime(CLOCK_REALTIME, &wall);
    m->wall_offset_us = (int64_t)wall.tv_sec * 1000000 + wall.tv_nsec / 1000 -
                        duro__metrics_now_us();
}

uint64_t duro__metrics_span_id(const duro__metrics *m)
{
    return m->on_span ? __atomic_add_fetch(&next_span_id, 1, __ATOMIC_RELAXED) : 0;
}

void duro__metrics_enter(uint64_t span_id, const char *instance, uint64_t execution_id)
{
    current.span_id = span_id;
    current.instance = instance;
    current.execution_id = execution_id;
}

void duro__metrics_leave(void)
{
    duro__metrics_enter(0, NULL, 0);
}

uint64_t duro__metrics_current(void)
{
    return current.span_id;
}

static void emit(const duro__metrics *m, duro_span *s, int64_t start_us, int64_t end_us)
{
    s->start_us = start_us + m->wall_offset_us;
    s->end_us = end_us + m->wall_offset_us;
    m->on_span(s, m->on_span_ud);
}

/* ---- recording ---------------------------------------------------------------------------- */

int64_t duro__metrics_call_begin(duro__metrics *m, int op)
{
    add(&m->c.provider_calls[op], 1);
    return duro__metrics_now_us();
}

void duro__metrics_call(duro__metrics *m, int op, int64_t start_us, int rc,
                        const char *instance, uint64_t execution_id)
{
    int64_t end_us = duro__metrics_now_us();
    duro_span s;
    if (rc != 0 && rc != DURO_ENOTFOUND)
        add(&m->c.provider_errors[op], 1);
    observe(&m->c.provider_latency[op], end_us - start_us);
    /* an idle long poll that found nothing is not worth a span */
    if (!m->on_span || (rc == DURO_ENOTFOUND && (op == DURO_OP_FETCH_ORCH ||
                                                 op == DURO_OP_FETCH_WORK)))
        return;
    memset(&s, 0, sizeof s);
    s.kind = DURO_SPAN_PROVIDER;
    s.name = duro_provider_op_name(op);
    s.instance = instance ? instance : current.instance;
    s.execution_id = instance ? execution_id : current.execution_id;
    s.span_id = duro__metrics_span_id(m);
    s.parent_span_id = current.span_id;
    s.status = rc;
    emit(m, &s, start_us, end_us);
}

void duro__metrics_turn_ran(duro__metrics *m, int64_t us)
{
    add(&m->c.turns, 1);
    observe(&m->c.turn_duration, us);
}

void duro__metrics_turn(duro__metrics *m, uint64_t span_id, const duro_orch_item *item,
                        const char *name, int64_t span_start_us, int status)
{
    duro_span s;
    if (!m->on_span)
        return;
    memset(&s, 0, sizeof s);
    s.kind = DURO_SPAN_TURN;
    s.name = name ? name : item->orch_name ? item->orch_name : "";
    s.instance = item->instance;
    s.execution_id = item->execution_id;
    s.span_id = span_id;
    s.status = status;
    s.attempt = item->attempt;
    emit(m, &s, span_start_us, duro__metrics_now_us());
}

void duro__metrics_terminal(duro__metrics *m, int state, int category)
{
    if (state == DURO_STATE_COMPLETED)
        add(&m->c.completed, 1);
    else if (state == DURO_STATE_CONTINUED_AS_NEW)
        add(&m->c.continued_as_new, 1);
    else if (state == DURO_STATE_TERMINATED)
        add(&m->c.terminated, 1);
    else if (state == DURO_STATE_FAILED)
        add(&m->c.failed[category >= 0 && category <= DURO_CAT_POISON ? category
                                                                         : DURO_CAT_NONE],
            1);
}

void duro__metrics_activity(duro__metrics *m, uint64_t span_id, const duro_work_item *wi,
                            const char *name, uint32_t attempt, int64_t start_us,
                            int64_t end_us, int outcome)
{
    duro_span s;
    add(&m->c.activity_attempts, 1);
    if (attempt > 1)
        add(&m->c.activity_retries, 1);
    if (outcome == DURO_ESTATE)
        add(&m->c.activity_failed, 1);
    else if (outcome == DURO_ELOCK || outcome == DURO_ESHUTDOWN)
        add(&m->c.activity_cancelled, 1);
    observe(&m->c.activity_duration, end_us - start_us);
    if (!m->on_span)
        return;
    memset(&s, 0, sizeof s);
    s.kind = DURO_SPAN_ACTIVITY;
    s.name = name;
    s.instance = wi->instance;
    s.execution_id = wi->execution_id;
    s.span_id = span_id;
    s.status = outcome;
    s.attempt = attempt;
    emit(m, &s, start_us, end_us);
}

/* The due time (ms) an encoded message or work item carries as its LAST member, `"due":N}`
 * (codec.h: every sender appends it), or -1 when it has none (an item written by an older
 * duro). Only the end of the text is read: no JSON parse on the hot path. */
static int64_t payload_due(const char *text)
{
    static const char key[] = "\"due\":";
    const size_t key_len = sizeof key - 1;
    size_t n = text ? strlen(text) : 0, start, i;
    int64_t v = 0;
    if (n < key_len + 2 || text[n - 1] != '}')
        return -1;
    start = n - 1;
    while (start > 0 && text[start - 1] >= '0' && text[start - 1] <= '9')
        start--;
    if (start == n - 1 || start < key_len || memcmp(text + start - key_len, key, key_len) != 0)
        return -1;
    for (i = start; i < n - 1; i++) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (text[i] - '0');
    }
    return v;
}

/* One queue-wait sample of an item due at `due` (ms) taken up at `now_ms`. */
static void observe_wait(duro_histogram *h, int64_t due, int64_t now_ms)
{
    int64_t ms = now_ms - due;
    if (due <= 0) /* none, or an item built without a clock (the last-resort poison commit) */
        return;
    observe(h, ms > 0 ? duro__ms_to_us_sat(ms) : 0);
}

void duro__metrics_orch_waits(duro__metrics *m, const duro_orch_item *item, int64_t now_ms)
{
    for (size_t i = 0; i < item->n_msgs; i++)
        observe_wait(&m->c.queue_wait_orch, payload_due(item->msgs[i].payload), now_ms);
}

void duro__metrics_work_wait(duro__metrics *m, const duro_work_item *wi, int64_t now_ms)
{
    observe_wait(&m->c.queue_wait_work, payload_due(wi->payload), now_ms);
}

void duro__metrics_poison_activity(duro__metrics *m)
{
    add(&m->c.poison_activities, 1);
}

/* ---- snapshot ----------------------------------------------------------------------------- */

void duro_runtime_metrics_init(duro_runtime_metrics *m)
{
    if (!m)
        return;
    memset(m, 0, sizeof *m);
    m->size = sizeof *m;
}

/* Copy `n` counters one relaxed load at a time. */
static void load_counters(uint64_t *dst, const uint64_t *src, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void duro__metrics_snapshot(const duro__metrics *m, duro_runtime_metrics *out)
{
    /* every member after `size` is a uint64_t: copy them as an array, as far as out->size
     * goes (a caller built against a shorter struct gets its prefix) */
    size_t first = offsetof(duro_runtime_metrics, turns);
    size_t end = out->size < sizeof *out ? out->size : sizeof *out;
    uint64_t tmp[(sizeof *out - offsetof(duro_runtime_metrics, turns)) / sizeof(uint64_t)];
    _Static_assert((sizeof(duro_runtime_metrics) - offsetof(duro_runtime_metrics, turns)) %
                       sizeof(uint64_t) == 0,
                   "duro_runtime_metrics holds only uint64_t counters after size");
    if (end <= first)
        return;
    load_counters(tmp, (const uint64_t *)((const char *)&m->c + first),
                  sizeof tmp / sizeof tmp[0]);
    memcpy((char *)out + first, tmp, (end - first) / sizeof(uint64_t) * sizeof(uint64_t));
}

/* ---- Prometheus text exposition ----------------------------------------------------------- */

const char *duro_provider_op_name(int op)
{
    static const char *const names[DURO_OP_COUNT] = {
        "fetch_orch", "ack_orch",     "abandon_orch", "renew_orch",   "fetch_work",
        "ack_work",   "abandon_work", "renew_work",   "instance_info",
    };
    return op >= 0 && op < DURO_OP_COUNT ? names[op] : "unknown";
}

static const char *const category_names[DURO_CAT_POISON + 1] = {
    "none", "infrastructure", "configuration", "application", "poison",
};

/* Text being built: like snprintf, counts what it needs beyond what fits. */
typedef struct text {
    char *buf;
    size_t size;
    size_t len;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(t->len < t->size ? t->buf + t->len : NULL,
                  t->len < t->size ? t->size - t->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

static void header(text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(text *t, const char *name, const char *help, uint64_t v)
{
    header(t, name, "counter", help);
    put(t, "%s %" PRIu64 "\n", name, v);
}

/* The samples of one histogram; `label` is "" or `op="fetch_orch",` (with the comma). */
static void histogram_samples(text *t, const char *name, const char *label,
                              const duro_histogram *h)
{
    uint64_t cumulative = 0;
    size_t i;
    for (i = 0; i < DURO_HIST_BUCKETS; i++) {
        cumulative += h->bucket[i];
        if (i < DURO_HIST_BUCKETS - 1)
            put(t, "%s_bucket{%sle=\"%s\"} %" PRIu64 "\n", name, label, bounds_text[i],
                cumulative);
        else
            put(t, "%s_bucket{%sle=\"+Inf\"} %" PRIu64 "\n", name, label, cumulative);
    }
    /* the label list without its trailing comma, for _sum and _count */
    size_t n = strlen(label);
    if (n)
        put(t, "%s_sum{%.*s} %" PRIu64 ".%06" PRIu64 "\n%s_count{%.*s} %" PRIu64 "\n", name,
            (int)(n - 1), label, h->sum_us / 1000000, h->sum_us % 1000000, name, (int)(n - 1),
            label, h->count);
    else
        put(t, "%s_sum %" PRIu64 ".%06" PRIu64 "\n%s_count %" PRIu64 "\n", name,
            h->sum_us / 1000000, h->sum_us % 1000000, name, h->count);
}

/* Counters labelled by provider operation. */
static void op_counter(text *t, const char *name, const char *help, const uint64_t *v)
{
    int op;
    header(t, name, "counter", help);
    for (op = 0; op < DURO_OP_COUNT; op++)
        put(t, "%s{op=\"%s\"} %" PRIu64 "\n", name, duro_provider_op_name(op), v[op]);
}

static void render(const duro_runtime_metrics *m, text *t)
{
    char label[64];
    int i;
    counter(t, "duro_turns_total", "Orchestration turns run.", m->turns);
    counter(t, "duro_executions_completed_total", "Executions committed as completed.",
            m->completed);
    counter(t, "duro_executions_continued_as_new_total",
            "Executions committed as continued-as-new.", m->continued_as_new);
    counter(t, "duro_executions_terminated_total", "Executions ended by a terminate request.",
            m->terminated);
    header(t, "duro_executions_failed_total", "counter",
           "Executions committed as failed, by error category.");
    for (i = 0; i <= DURO_CAT_POISON; i++)
        put(t, "duro_executions_failed_total{category=\"%s\"} %" PRIu64 "\n", category_names[i],
            m->failed[i]);
    counter(t, "duro_activity_attempts_total", "Activity functions run.", m->activity_attempts);
    counter(t, "duro_activity_retries_total",
            "Activity attempts after the first under a retry policy.", m->activity_retries);
    counter(t, "duro_activity_failures_total", "Activity attempts that returned a failure.",
            m->activity_failed);
    counter(t, "duro_activity_cancelled_total",
            "Activity attempts whose result was discarded because they were cancelled.",
            m->activity_cancelled);
    counter(t, "duro_poison_activities_total", "Work items given up as poison.",
            m->poison_activities);
    op_counter(t, "duro_provider_calls_total", "Provider calls, by operation.",
               m->provider_calls);
    op_counter(t, "duro_provider_errors_total",
               "Provider calls that returned an error, by operation.", m->provider_errors);
    header(t, "duro_turn_duration_seconds", "histogram",
           "Time an orchestration turn spent in replay and user code.");
    histogram_samples(t, "duro_turn_duration_seconds", "", &m->turn_duration);
    header(t, "duro_activity_duration_seconds", "histogram",
           "Time an activity function ran.");
    histogram_samples(t, "duro_activity_duration_seconds", "", &m->activity_duration);
    header(t, "duro_provider_call_duration_seconds", "histogram",
           "Latency of provider calls (a fetch includes its long-poll wait), by operation.");
    for (i = 0; i < DURO_OP_COUNT; i++) {
        snprintf(label, sizeof label, "op=\"%s\",", duro_provider_op_name(i));
        histogram_samples(t, "duro_provider_call_duration_seconds", label,
                          &m->provider_latency[i]);
    }
    header(t, "duro_queue_wait_seconds", "histogram",
           "Time from a message or work item being due to a turn or activity attempt "
           "starting on it, by queue.");
    histogram_samples(t, "duro_queue_wait_seconds", "queue=\"orch\",", &m->queue_wait_orch);
    histogram_samples(t, "duro_queue_wait_seconds", "queue=\"work\",", &m->queue_wait_work);
}

/* `m` as a full-size snapshot (a caller's shorter struct padded with zeros). */
static void widen(const duro_runtime_metrics *m, duro_runtime_metrics *full)
{
    duro_runtime_metrics_init(full);
    memcpy(full, m, m->size < sizeof *full ? m->size : sizeof *full);
    full->size = sizeof *full;
}

int64_t duro_runtime_metrics_format(const duro_runtime_metrics *m, char *buf, size_t size)
{
    duro_runtime_metrics full;
    text t = {buf, buf ? size : 0, 0};
    if (!m || m->size == 0)
        return DURO_EINVAL;
    widen(m, &full);
    if (t.size)
        t.buf[0] = '\0';
    render(&full, &t);
    return (int64_t)t.len;
}

int duro_runtime_metrics_write(const duro_runtime_metrics *m, FILE *f)
{
    int64_t n;
    char *buf;
    int rc = 0;
    if (!f)
        return DURO_EINVAL;
    n = duro_runtime_metrics_format(m, NULL, 0);
    if (n < 0)
        return (int)n;
    buf = malloc((size_t)n + 1);
    if (!buf)
        return DURO_ENOMEM;
    duro_runtime_metrics_format(m, buf, (size_t)n + 1);
    if (fwrite(buf, 1, (size_t)n, f) != (size_t)n || fflush(f) != 0)
        rc = DURO_EIO;
    free(buf);
    return rc;
}
