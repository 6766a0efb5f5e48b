/*
 * scenario.c — the stress workloads: orchestrations, activities and the one output each root
 * instance may have.
 *
 * Every root's input is derived from its index, and so is its expected output: the driver
 * verifies each completed instance exactly (a wrong output is an application failure of its
 * own class), which also proves determinism across repeats. Orchestrations check what their
 * activities and children return and fail loudly on a mismatch; an activity failure fails the
 * orchestration (the reference's fan-out reported success whatever its activities did).
 * Payloads are pseudo-random base64 text, so compression cannot hide their size.
 */
#include <errno.h>
#include <sys/prctl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stress.h"

#define ORCH_FANOUT "StressFanout"
#define ORCH_LARGE "StressLargePayload"
#define ORCH_LARGE_CHILD "StressLargeChild"
#define ORCH_TIMERS "StressTimers"
#define ORCH_LONG "StressLongRunning"
#define ORCH_SUB "StressSubParent"
#define ORCH_SUB_CHILD "StressSubChild"
#define ACT_ECHO "StressEcho"
#define ACT_GEN "StressGenerate"
#define ACT_DIGEST "StressDigest"
#define ACT_TICK "StressTick"
#define ACT_SQUARE "StressSquare"
#define ORCH_ROUTE "StressRoute"
#define ACT_ROUTE "StressRouteStep"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static const struct {
    const char *name;
    const char *title;
    const char *summary;
} scenarios[DURO__SC_COUNT] = {
    {"parallel", "Parallel Orchestrations",
     "fan-out of tasks_per_instance activities, fan-in; output = their echoes in order"},
    {"large-payload", "Large Payload",
     "10/50/100 KB activity payloads, 5 parallel sub-orchestrations with 50 KB in and out, "
     "a 100 KB result (14 activities per root)"},
    {"timers", "Timer Orchestrations",
     "tasks_per_instance parallel durable timers of 1..n x activity_delay_ms; fired order "
     "and elapsed time verified"},
    {"long-running", "Long-Running Orchestrations",
     "continue-as-new loop: one activity and one timer per execution, "
     "tasks_per_instance executions; final counter verified"},
    {"sub-orchestrations", "Sub-Orchestrations",
     "tasks_per_instance children each squaring a number in an activity; the parent's sum "
     "verified"},
    {"mixed", "Mixed Workload", "the five scenarios above at once, rotating per instance"},
    {"faults", "Fault Injection",
     "the mixed workload behind a fault wrapper (duro-fault.h); unless --inject-* sets a "
     "mix, 5 % of data-path calls fail before the store and 2 % of the calls that change it "
     "are applied and reported lost"},
    {"routing", "Tag and Session Routing, Durable Values",
     "two runtimes (A: untagged + \"gpu\", B: untagged + \"io\", both sessions); "
     "tasks_per_instance steps rotating untagged, \"gpu\", session, \"io\", session "
     "activities (" STRINGIFY(DURO__ROUTING_SESSIONS) " sessions shared by the roots), a "
     "durable value set after each; the runtime of every tagged step, one runtime per "
     "session and the value verified (not in 'all')"},
};

int duro__scenario_lookup(const char *name)
{
    for (int i = 0; i < DURO__SC_COUNT; i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return i;
    return -1;
}

const char *duro_stress_scenario_name(size_t i)
{
    return i < DURO__SC_COUNT ? scenarios[i].name : NULL;
}

const char *duro__scenario_title(int scenario)
{
    return scenario >= 0 && scenario < DURO__SC_COUNT ? scenarios[scenario].title : "?";
}

const char *duro__scenario_summary(int scenario)
{
    return scenario >= 0 && scenario < DURO__SC_COUNT ? scenarios[scenario].summary : "?";
}

/* ---- Deterministic payloads --------------------------------------------------------------- */

uint64_t duro__fnv1a(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static uint64_t splitmix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* The seed of payload `tag` of root `idx`. */
static uint64_t seed_of(uint64_t idx, unsigned tag)
{
    return splitmix64(idx * 1000u + tag);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Generates the payload of a seed 10 characters (60 bits) at a time. */
typedef struct payload_gen {
    uint64_t state;
    uint64_t word;
    int left;
} payload_gen;

static void gen_init(payload_gen *g, uint64_t seed)
{
    g->state = splitmix64(seed) | 1u;
    g->left = 0;
    g->word = 0;
}

static char gen_next(payload_gen *g)
{
    if (g->left == 0) {
        g->state ^= g->state >> 12;
        g->state ^= g->state << 25;
        g->state ^= g->state >> 27;
        g->word = g->state * UINT64_C(2685821657736338717);
        g->left = 10;
    }
    char c = b64[g->word & 63u];
    g->word >>= 6;
    g->left--;
    return c;
}

void duro__payload_fill(uint64_t seed, char *buf, size_t len)
{
    payload_gen g;
    gen_init(&g, seed);
    for (size_t i = 0; i < len; i++)
        buf[i] = gen_next(&g);
    buf[len] = '\0';
}

int duro__payload_match(uint64_t seed, const char *s, size_t len)
{
    if (s == NULL)
        return 0;
    payload_gen g;
    gen_init(&g, seed);
    for (size_t i = 0; i < len; i++)
        if (s[i] != gen_next(&g))
            return 0;
    return s[len] == '\0';
}

/* A malloc'd payload, or NULL when out of memory. */
static char *payload_new(uint64_t seed, size_t len)
{
    char *p = malloc(len + 1);
    if (p != NULL)
        duro__payload_fill(seed, p, len);
    return p;
}

/* ---- Helpers ------------------------------------------------------------------------------- */

/* Parse n unsigned decimal numbers separated by single spaces from s. Without `rest` the
 * numbers must be the whole string; with it, one more space must follow and *rest points
 * after it. 0 on success, -1 otherwise. */
static int parse_u64s(const char *s, uint64_t *v, int n, const char **rest)
{
    if (s == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        if (i > 0 && *s++ != ' ')
            return -1;
        if (*s < '0' || *s > '9')
            return -1;
        char *end;
        errno = 0;
        v[i] = strtoull(s, &end, 10);
        if (errno != 0)
            return -1;
        s = end;
    }
    if (rest == NULL)
        return *s == '\0' ? 0 : -1;
    if (*s != ' ')
        return -1;
    *rest = s + 1;
    return 0;
}

/* The activity's simulated work: exactly the configured delay. The thread sleeps on an
 * absolute monotonic deadline until SPIN_US before it (timer slack lowered to 1 ns), then
 * spins on the clock to the deadline. A plain 10 ms nanosleep lasts 10.2-10.4 ms on a virtual
 * machine; that overshoot would be charged to the runtime under test although it is the
 * operating system's timer, and a vCPU that halted for the whole sleep also wakes with cold
 * caches. The spin costs SPIN_US of CPU per activity (docs/decisions.md §18). */
#define SPIN_US 300
static void activity_work(const duro__stress_ctx *ctx)
{
    int ms = ctx->cfg->activity_delay_ms;
    if (ms <= 0)
        return;
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    int64_t deadline = duro__monotonic_ns() + (int64_t)ms * 1000000;
    int64_t wake = deadline - (int64_t)SPIN_US * 1000;
    struct timespec ts = {(time_t)(wake / 1000000000), (long)(wake % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
    while (duro__monotonic_ns() < deadline)
        ;
}

/* Count an execution, do the work, and decide whether this attempt is an injected failure
 * (deterministic per instance and input, first attempt only). Returns 1 to fail. */
static int activity_begin(duro_activity *a, duro__stress_ctx *ctx, const char *input)
{
    atomic_fetch_add_explicit(&ctx->activities, 1, memory_order_relaxed);
    if (ctx->ledger_fd >= 0)
        duro__ledger(ctx->ledger_fd, "act %s %s %s %016" PRIx64, ctx->runner,
                     duro_activity_instance(a), duro_activity_name(a),
                     duro__fnv1a(input, strlen(input)));
    activity_work(ctx);
    double pct = ctx->cfg->activity_failure_pct;
    if (pct <= 0 || duro_activity_attempt(a) != 1)
        return 0;
    const char *inst = duro_activity_instance(a);
    uint64_t h = duro__fnv1a(inst, strlen(inst)) ^ splitmix64(duro__fnv1a(input, strlen(input)));
    if ((double)(splitmix64(h) % 10000u) >= pct * 100.0)
        return 0;
    atomic_fetch_add_explicit(&ctx->injected, 1, memory_order_relaxed);
    return 1;
}

/* Call an activity; with failure injection on, under a retry policy that absorbs it. */
static duro_task *call_activity(duro_orch *o, const duro__stress_ctx *ctx, const char *name,
                                const char *input)
{
    if (ctx->cfg->activity_failure_pct <= 0)
        return duro_call_activity(o, name, input);
    duro_retry_policy rp = {.max_attempts = 3, .backoff = DURO_BACKOFF_NONE};
    return duro_call_activity_retry(o, name, input, &rp);
}

/* In the runtime role (ctx->runner set), record who runs this turn of a root as its custom
 * status: it is committed with the turn, so a finished root's custom status names the
 * runtime that committed its end. Not a durable call; replay is unaffected. */
static void mark_runner(duro_orch *o, const duro__stress_ctx *ctx)
{
    if (ctx->runner != NULL)
        duro_set_custom_status(o, ctx->runner);
}

/* Complete the orchestration with the malloc'd `out`, which is freed. */
static int complete_free(duro_orch *o, char *out)
{
    int rc = duro_complete(o, out);
    free(out);
    return rc;
}

/* Fail the orchestration because task `what` failed. */
static int fail_task(duro_orch *o, const char *what, const duro_task *t)
{
    const char *e = duro_task_error(t);
    return duro_failf(o, "%s failed: %s", what, e != NULL ? e : "(no message)");
}

/* ---- Activities ----------------------------------------------------------------------------- */

static int act_echo(duro_activity *a, const char *input, void *ud)
{
    if (activity_begin(a, ud, input))
        return duro_activity_failf(a, "injected failure");
    return duro_activity_ok(a, input);
}

/* Input "<seed> <size>": output the payload of seed. */
static int act_generate(duro_activity *a, const char *input, void *ud)
{
    if (activity_begin(a, ud, input))
        return duro_activity_failf(a, "injected failure");
    uint64_t v[2];
    if (parse_u64s(input, v, 2, NULL) != 0 || v[1] > DURO__LP_RESULT_BYTES)
        return duro_activity_failf(a, "bad input '%.40s'", input);
    char *p = payload_new(v[0], (size_t)v[1]);
    if (p == NULL)
        return duro_activity_failf(a, "out of memory");
    int rc = duro_activity_ok(a, p);
    free(p);
    return rc;
}

/* Output "<fnv1a hex>:<length>" of the input. */
static int act_digest(duro_activity *a, const char *input, void *ud)
{
    if (activity_begin(a, ud, input))
        return duro_activity_failf(a, "injected failure");
    size_t n = strlen(input);
    return duro_activity_okf(a, "%016" PRIx64 ":%zu", duro__fnv1a(input, n), n);
}

/* Input "<idx> <k>": output k + 1. */
static int act_tick(duro_activity *a, const char *input, void *ud)
{
    if (activity_begin(a, ud, input))
        return duro_activity_failf(a, "injected failure");
    uint64_t v[2];
    if (parse_u64s(input, v, 2, NULL) != 0)
        return duro_activity_failf(a, "bad input '%.40s'", input);
    return duro_activity_okf(a, "%" PRIu64, v[1] + 1);
}

/* Input "<v>": output v * v. */
static int act_square(duro_activity *a, const char *input, void *ud)
{
    if (activity_begin(a, ud, input))
        return duro_activity_failf(a, "injected failure");
    uint64_t v;
    if (parse_u64s(input, &v, 1, NULL) != 0 || v > UINT32_MAX)
        return duro_activity_failf(a, "bad input '%.40s'", input);
    return duro_activity_okf(a, "%" PRIu64, v * v);
}

/* ---- Parallel fan-out / fan-in ---------------------------------------------------------- */

/* "i<idx>-t<j>" */
static void task_input(char *buf, size_t size, uint64_t idx, uint64_t j)
{
    snprintf(buf, size, "i%" PRIu64 "-t%" PRIu64, idx, j);
}

/* Input "<idx> <n>". */
static int orch_fanout(duro_orch *o, const char *input, void *ud)
{
    const duro__stress_ctx *ctx = ud;
    mark_runner(o, ctx);
    uint64_t v[2];
    if (parse_u64s(input, v, 2, NULL) != 0 || v[1] == 0 || v[1] > DURO__MAX_TASKS)
        return duro_failf(o, "bad input '%.40s'", input);
    size_t n = (size_t)v[1];
    duro_task *tasks[DURO__MAX_TASKS];
    char buf[64];
    for (size_t j = 0; j < n; j++) {
        task_input(buf, sizeof buf, v[0], j);
        tasks[j] = call_activity(o, ctx, ACT_ECHO, buf);
    }
    DURO_AWAIT_ALL(o, tasks, n);
    size_t total = 1;
    for (size_t j = 0; j < n; j++) {
        if (!duro_task_ok(tasks[j]))
            return fail_task(o, "echo task", tasks[j]);
        total += strlen(duro_task_value(tasks[j])) + 1;
    }
    char *out = malloc(total);
    if (out == NULL)
        return duro_failf(o, "out of memory");
    size_t len = 0;
    for (size_t j = 0; j < n; j++) {
        const char *s = duro_task_value(tasks[j]);
        size_t l = strlen(s);
        if (j > 0)
            out[len++] = ',';
        memcpy(out + len, s, l);
        len += l;
    }
    out[len] = '\0';
    return complete_free(o, out);
}

static int verify_fanout(uint64_t idx, const duro_stress_config *cfg, const char *output,
                         char *why, size_t why_size)
{
    const char *p = output;
    char buf[64];
    for (int j = 0; j < cfg->tasks_per_instance; j++) {
        if (j > 0 && *p++ != ',')
            goto wrong;
        task_input(buf, sizeof buf, idx, (uint64_t)j);
        size_t l = strlen(buf);
        if (strncmp(p, buf, l) != 0)
            goto wrong;
        p += l;
    }
    if (*p == '\0')
        return 0;
wrong:
    task_input(buf, sizeof buf, idx, 0);
    snprintf(why, why_size, "expected '%s,...' (%d echoes in order), got '%.60s'", buf,
             cfg->tasks_per_instance, output);
    return -1;
}

/* ---- Large payload ------------------------------------------------------------------------ */

static const size_t lp_sizes[3] = {10240, DURO__LP_CHILD_BYTES, DURO__LP_RESULT_BYTES};

/* Tags of seed_of(): 0..2 generated payloads, 10+c child inputs, 20+c child outputs,
 * 99 the result. */
enum { TAG_CHILD_IN = 10, TAG_CHILD_OUT = 20, TAG_RESULT = 99 };

static int digest_is(const char *digest, const char *data, size_t n)
{
    char want[48];
    snprintf(want, sizeof want, "%016" PRIx64 ":%zu", duro__fnv1a(data, n), n);
    return digest != NULL && strcmp(digest, want) == 0;
}

/* Input "<idx>". */
static int orch_large(duro_orch *o, const char *input, void *ud)
{
    const duro__stress_ctx *ctx = ud;
    mark_runner(o, ctx);
    uint64_t idx;
    if (parse_u64s(input, &idx, 1, NULL) != 0)
        return duro_failf(o, "bad input '%.40s'", input);
    char buf[64];
    duro_task *gen = NULL;
    for (unsigned k = 0; k < 3; k++) {
        snprintf(buf, sizeof buf, "%" PRIu64 " %zu", seed_of(idx, k), lp_sizes[k]);
        gen = call_activity(o, ctx, ACT_GEN, buf);
        DURO_AWAIT(o, gen);
        if (!duro_task_ok(gen))
            return fail_task(o, "generate", gen);
        if (!duro__payload_match(seed_of(idx, k), duro_task_value(gen), lp_sizes[k]))
            return duro_failf(o, "payload %u (%zu bytes) came back corrupted", k, lp_sizes[k]);
    }
    /* The 100 KB payload goes back to an activity as its input. */
    const char *big = duro_task_value(gen);
    duro_task *dig = call_activity(o, ctx, ACT_DIGEST, big);
    DURO_AWAIT(o, dig);
    if (!duro_task_ok(dig))
        return fail_task(o, "digest", dig);
    if (!digest_is(duro_task_value(dig), big, lp_sizes[2]))
        return duro_failf(o, "digest of the 100 KB payload is wrong: %.40s",
                         duro_task_value(dig));

    duro_task *kids[DURO__LP_CHILDREN];
    for (unsigned c = 0; c < DURO__LP_CHILDREN; c++) {
        uint64_t sin = seed_of(idx, TAG_CHILD_IN + c), sout = seed_of(idx, TAG_CHILD_OUT + c);
        char *in = malloc(DURO__LP_CHILD_BYTES + 64);
        if (in == NULL)
            return duro_failf(o, "out of memory");
        int h = snprintf(in, 64, "%" PRIu64 " %" PRIu64 " ", sin, sout);
        duro__payload_fill(sin, in + h, DURO__LP_CHILD_BYTES);
        kids[c] = duro_call_sub(o, ORCH_LARGE_CHILD, NULL, in);
        free(in);
    }
    DURO_AWAIT_ALL(o, kids, DURO__LP_CHILDREN);
    for (unsigned c = 0; c < DURO__LP_CHILDREN; c++) {
        if (!duro_task_ok(kids[c]))
            return fail_task(o, "child", kids[c]);
        if (!duro__payload_match(seed_of(idx, TAG_CHILD_OUT + c), duro_task_value(kids[c]),
                                 DURO__LP_CHILD_BYTES))
            return duro_failf(o, "child %u returned a corrupted 50 KB payload", c);
    }
    char *result = payload_new(seed_of(idx, TAG_RESULT), DURO__LP_RESULT_BYTES);
    if (result == NULL)
        return duro_failf(o, "out of memory");
    int rc = duro_complete(o, result);
    free(result);
    return rc;
}

/* Input "<seed in> <seed out> <50 KB payload of seed in>": digest the payload in an activity,
 * generate the 50 KB payload of seed out in another, return it. */
static int orch_large_child(duro_orch *o, const char *input, void *ud)
{
    const duro__stress_ctx *ctx = ud;
    uint64_t v[2];
    const char *payload;
    if (parse_u64s(input, v, 2, &payload) != 0)
        return duro_failf(o, "bad input '%.40s'", input);
    if (!duro__payload_match(v[0], payload, DURO__LP_CHILD_BYTES))
        return duro_failf(o, "50 KB input arrived corrupted");
    duro_task *dig = call_activity(o, ctx, ACT_DIGEST, payload);
    DURO_AWAIT(o, dig);
    if (!duro_task_ok(dig))
        return fail_task(o, "digest", dig);
    if (!digest_is(duro_task_value(dig), payload, DURO__LP_CHILD_BYTES))
        return duro_failf(o, "digest of the 50 KB input is wrong: %.40s", duro_task_value(dig));
    char buf[64];
    snprintf(buf, sizeof buf, "%" PRIu64 " %u", v[1], DURO__LP_CHILD_BYTES);
    duro_task *gen = call_activity(o, ctx, ACT_GEN, buf);
    DURO_AWAIT(o, gen);
    if (!duro_task_ok(gen))
        return fail_task(o, "generate", gen);
    if (!duro__payload_match(v[1], duro_task_value(gen), DURO__LP_CHILD_BYTES))
        return duro_failf(o, "generated 50 KB payload came back corrupted");
    return duro_complete(o, duro_task_value(gen));
}

static int verify_large(uint64_t idx, const char *output, char *why, size_t why_size)
{
    if (duro__payload_match(seed_of(idx, TAG_RESULT), output, DURO__LP_RESULT_BYTES))
        return 0;
    snprintf(why, why_size, "expected the %u-byte result payload of instance %" PRIu64
             ", got %zu bytes starting '%.24s'", DURO__LP_RESULT_BYTES, idx, strlen(output),
             output);
    return -1;
}

/* ---- Timers ------------------------------------------------------------------------------ */

static int64_t timer_unit(const duro_stress_config *cfg)
{
    return cfg->activity_delay_ms > 0 ? cfg->activity_delay_ms : 1;
}

/* Input "<idx> <n> <unit ms>": timers of unit*(j+1) ms created in ascending order; each must
 * fire in that order, and not before its delay. */
static int orch_timers(duro_orch *o, const char *input, void *ud)
{
    mark_runner(o, ud);
    uint64_t v[3];
    if (parse_u64s(input, v, 3, NULL) != 0 || v[1] == 0 || v[1] > DURO__MAX_TASKS)
        return duro_failf(o, "bad input '%.40s'", input);
    size_t n = (size_t)v[1];
    int64_t unit = (int64_t)v[2];
    int64_t t0 = duro_now_ms(o);
    duro_task *pending[DURO__MAX_TASKS];
    size_t pos[DURO__MAX_TASKS];
    for (size_t j = 0; j < n; j++) {
        pending[j] = duro_timer(o, unit * (int64_t)(j + 1));
        pos[j] = j;
    }
    char order[DURO__MAX_TASKS * 5 + 1];
    size_t len = 0;
    for (size_t left = n; left > 0; left--) {
        duro_task *w = duro_when_any(o, pending, left);
        if (w == NULL)
            return DURO_SUSPEND;
        size_t k = 0;
        while (pending[k] != w)
            k++;
        if (!duro_task_ok(w))
            return fail_task(o, "timer", w);
        len += (size_t)snprintf(order + len, sizeof order - len, "%s%zu", len ? "," : "",
                                pos[k]);
        memmove(pending + k, pending + k + 1, (left - k - 1) * sizeof pending[0]);
        memmove(pos + k, pos + k + 1, (left - k - 1) * sizeof pos[0]);
    }
    int64_t elapsed = duro_now_ms(o) - t0;
    if (elapsed < unit * (int64_t)n)
        return duro_failf(o, "timers fired early: %" PRId64 " ms after start, longest is %" PRId64
                         " ms", elapsed, unit * (int64_t)n);
    return duro_completef(o, "i%" PRIu64 " fired %s", v[0], order);
}

static int verify_timers(uint64_t idx, const duro_stress_config *cfg, const char *output,
                         char *why, size_t why_size)
{
    char want[DURO__MAX_TASKS * 5 + 48];
    size_t len = (size_t)snprintf(want, sizeof want, "i%" PRIu64 " fired ", idx);
    for (int j = 0; j < cfg->tasks_per_instance; j++)
        len += (size_t)snprintf(want + len, sizeof want - len, "%s%d", j ? "," : "", j);
    if (strcmp(output, want) == 0)
        return 0;
    snprintf(why, why_size, "expected '%.60s', got '%.60s'", want, output);
    return -1;
}

/* ---- Long-running (continue-as-new) ------------------------------------------------------- */

/* Input "<idx> <k> <K> <unit>": execution k does one activity and one timer, then continues
 * as new with k+1, until K executions ran. */
static int orch_long(duro_orch *o, const char *input, void *ud)
{
    const duro__stress_ctx *ctx = ud;
    mark_runner(o, ctx);
    uint64_t v[4];
    if (parse_u64s(input, v, 4, NULL) != 0 || v[1] >= v[2])
        return duro_failf(o, "bad input '%.40s'", input);
    char buf[96];
    snprintf(buf, sizeof buf, "%" PRIu64 " %" PRIu64, v[0], v[1]);
    duro_task *tick = call_activity(o, ctx, ACT_TICK, buf);
    DURO_AWAIT(o, tick);
    if (!duro_task_ok(tick))
        return fail_task(o, "tick", tick);
    snprintf(buf, sizeof buf, "%" PRIu64, v[1] + 1);
    if (strcmp(duro_task_value(tick), buf) != 0)
        return duro_failf(o, "tick returned '%.40s', expected '%s'", duro_task_value(tick), buf);
    duro_task *pause = duro_timer(o, (int64_t)v[3]);
    DURO_AWAIT(o, pause);
    if (v[1] + 1 < v[2]) {
        snprintf(buf, sizeof buf, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64, v[0],
                 v[1] + 1, v[2], v[3]);
        return duro_continue_as_new(o, buf);
    }
    return duro_completef(o, "i%" PRIu64 " counter=%" PRIu64 " execution=%" PRIu64, v[0],
                          v[1] + 1, duro_orch_execution(o));
}

static int verify_long(uint64_t idx, const duro_stress_config *cfg, const char *output,
                       char *why, size_t why_size)
{
    char want[96];
    snprintf(want, sizeof want, "i%" PRIu64 " counter=%d execution=%d", idx,
             cfg->tasks_per_instance, cfg->tasks_per_instance);
    if (strcmp(output, want) == 0)
        return 0;
    snprintf(why, why_size, "expected '%s', got '%.60s'", want, output);
    return -1;
}

/* ---- Sub-orchestrations -------------------------------------------------------------------- */

static uint64_t sub_value(uint64_t idx, uint64_t j)
{
    return (idx % 100000u) * 1000u + j + 1;
}

/* Input "<idx> <n>": n children squaring sub_value(idx, j); complete with the sum. */
static int orch_sub(duro_orch *o, const char *input, void *ud)
{
    mark_runner(o, ud);
    uint64_t v[2];
    if (parse_u64s(input, v, 2, NULL) != 0 || v[1] == 0 || v[1] > DURO__MAX_TASKS)
        return duro_failf(o, "bad input '%.40s'", input);
    size_t n = (size_t)v[1];
    duro_task *kids[DURO__MAX_TASKS];
    char buf[32];
    for (size_t j = 0; j < n; j++) {
        snprintf(buf, sizeof buf, "%" PRIu64, sub_value(v[0], j));
        kids[j] = duro_call_sub(o, ORCH_SUB_CHILD, NULL, buf);
    }
    DURO_AWAIT_ALL(o, kids, n);
    uint64_t sum = 0;
    for (size_t j = 0; j < n; j++) {
        if (!duro_task_ok(kids[j]))
            return fail_task(o, "child", kids[j]);
        uint64_t sq;
        if (parse_u64s(duro_task_value(kids[j]), &sq, 1, NULL) != 0)
            return duro_failf(o, "child %zu returned '%.40s'", j, duro_task_value(kids[j]));
        sum += sq;
    }
    return duro_completef(o, "i%" PRIu64 " sum=%" PRIu64, v[0], sum);
}

/* Input "<v>": square it in an activity and return the square after checking it. */
static int orch_sub_child(duro_orch *o, const char *input, void *ud)
{
    const duro__stress_ctx *ctx = ud;
    uint64_t x;
    if (parse_u64s(input, &x, 1, NULL) != 0)
        return duro_failf(o, "bad input '%.40s'", input);
    duro_task *t = call_activity(o, ctx, ACT_SQUARE, input);
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return fail_task(o, "square", t);
    char want[32];
    snprintf(want, sizeof want, "%" PRIu64, x * x);
    if (strcmp(duro_task_value(t), want) != 0)
        return duro_failf(o, "square of %" PRIu64 " came back as '%.40s'", x, duro_task_value(t));
    return duro_complete(o, want);
}

static int verify_sub(uint64_t idx, const duro_stress_config *cfg, const char *output,
                      char *why, size_t why_size)
{
    uint64_t sum = 0;
    for (int j = 0; j < cfg->tasks_per_instance; j++) {
        uint64_t x = sub_value(idx, (uint64_t)j);
        sum += x * x;
    }
    char want[64];
    snprintf(want, sizeof want, "i%" PRIu64 " sum=%" PRIu64, idx, sum);
    if (strcmp(output, want) == 0)
        return 0;
    snprintf(why, why_size, "expected '%s', got '%.60s'", want, output);
    return -1;
}


/* ---- Routing: tagged and session activities on two runtimes, durable values -------------- */

static const char *const route_names[DURO__ROUTING_RUNTIMES] = {"A", "B"};
static const char *const route_tags[DURO__ROUTING_RUNTIMES] = {"gpu", "io"};

/* What step j of a routing root is: steps rotate untagged, "gpu", session, "io", session. */
enum { STEP_UNTAGGED, STEP_GPU, STEP_IO, STEP_SESSION };

static int route_kind(uint64_t j)
{
    static const int rotation[5] = {STEP_UNTAGGED, STEP_GPU, STEP_SESSION, STEP_IO,
                                    STEP_SESSION};
    return rotation[j % 5];
}

/* The tag of step j (NULL: untagged or a session step) and the runtime that must run it
 * (NULL: either; for a session step, whichever owns the session). */
static const char *route_tag(uint64_t j)
{
    int kind = route_kind(j);
    return kind == STEP_GPU ? route_tags[0] : kind == STEP_IO ? route_tags[1] : NULL;
}

static const char *route_runtime(uint64_t j)
{
    int kind = route_kind(j);
    return kind == STEP_GPU ? route_names[0] : kind == STEP_IO ? route_names[1] : NULL;
}

/* The number of the session that root idx's session steps run in. */
static unsigned route_session_of(uint64_t idx)
{
    return (unsigned)(idx % DURO__ROUTING_SESSIONS);
}

/* The id of session k: "route-<k>". */
#define ROUTE_SESSION_FMT "route-%u"

static void route_session_id(char *buf, size_t size, unsigned k)
{
    snprintf(buf, size, ROUTE_SESSION_FMT, k);
}

/* "i<idx>-s<j>": the input of step j. */
static void route_input(char *buf, size_t size, uint64_t idx, uint64_t j)
{
    snprintf(buf, size, "i%" PRIu64 "-s%" PRIu64, idx, j);
}

/* "i<idx> step <k>/<n>": the durable value after step k. */
static void route_value(char *buf, size_t size, uint64_t idx, uint64_t k, uint64_t n)
{
    snprintf(buf, size, "i%" PRIu64 " step %" PRIu64 "/%" PRIu64, idx, k, n);
}

/* Output "<input>@<name of the runtime that ran it>". */
static int act_route(duro_activity *a, const char *input, void *ud)
{
    const duro__route_ud *route = ud;
    if (activity_begin(a, route->ctx, input))
        return duro_activity_failf(a, "injected failure");
    return duro_activity_okf(a, "%s@%s", input, route->name);
}

/* Schedule step j of root idx with input `input`: an activity with route_tag(j), or in the
 * root's session for a session step; under a retry policy when failures are injected. */
static duro_task *call_route_step(duro_orch *o, const duro__stress_ctx *ctx, uint64_t idx,
                                  uint64_t j, const char *input)
{
    duro_retry_policy rp = {.max_attempts = 3, .backoff = DURO_BACKOFF_NONE};
    const duro_retry_policy *policy = ctx->cfg->activity_failure_pct > 0 ? &rp : NULL;
    if (route_kind(j) != STEP_SESSION)
        return duro_call_activity_tagged(o, ACT_ROUTE, input, route_tag(j), policy);
    char session[32];
    route_session_id(session, sizeof session, route_session_of(idx));
    return duro_call_activity_session(o, ACT_ROUTE, input, session, policy);
}

/* Input "<idx> <n>": n steps in turn, step j an activity of route_kind(j) with input
 * "i<idx>-s<j>", then the durable value route_value(j + 1). Output: the steps' results joined
 * by ','; an untagged step's without its runtime (either may run it). */
static int orch_route(duro_orch *o, const char *input, void *ud)
{
    const duro__stress_ctx *ctx = ud;
    uint64_t v[2];
    if (parse_u64s(input, v, 2, NULL) != 0 || v[1] == 0 || v[1] > DURO__MAX_TASKS)
        return duro_failf(o, "bad input '%.40s'", input);
    char *out = malloc((size_t)v[1] * 48 + 1);
    if (out == NULL)
        return duro_failf(o, "out of memory");
    size_t len = 0;
    out[0] = '\0';
    for (uint64_t j = 0; j < v[1]; j++) {
        char buf[64];
        route_input(buf, sizeof buf, v[0], j);
        duro_task *t = call_route_step(o, ctx, v[0], j, buf);
        if (!duro_await_one(o, t)) {
            free(out);
            return DURO_SUSPEND;
        }
        if (!duro_task_ok(t)) {
            free(out);
            return fail_task(o, "route step", t);
        }
        const char *got = duro_task_value(t);
        size_t l = strlen(buf);
        if (strncmp(got, buf, l) != 0 || got[l] != '@') {
            free(out);
            return duro_failf(o, "step %" PRIu64 " returned '%.40s'", j, got);
        }
        size_t keep = route_kind(j) == STEP_UNTAGGED ? l : strlen(got);
        if (keep > 47) {
            free(out);
            return duro_failf(o, "step %" PRIu64 " returned '%.40s'", j, got);
        }
        len += (size_t)snprintf(out + len, 49, "%s%.*s", j ? "," : "", (int)keep, got);
        route_value(buf, sizeof buf, v[0], j + 1, v[1]);
        int rc = duro_set_value(o, DURO__ROUTING_KEY, buf);
        if (rc != 0) {
            free(out);
            return duro_failf(o, "setting the durable value: %s", duro_strerror(rc));
        }
    }
    return complete_free(o, out);
}

/* 1 when `s` starts with step result `want` followed by ',' or the end; for a session step
 * (`any_runtime`) `want` ends in '@' and one runtime's name must follow it. *len = the
 * length of the step result matched. */
static int route_step_matches(const char *s, const char *want, int any_runtime, size_t *len)
{
    size_t l = strlen(want);
    if (strncmp(s, want, l) != 0)
        return 0;
    if (any_runtime) {
        size_t k = 0;
        while (k < DURO__ROUTING_RUNTIMES && s[l] != route_names[k][0])
            k++;
        if (k == DURO__ROUTING_RUNTIMES)
            return 0;
        l++;
    }
    *len = l;
    return s[l] == ',' || s[l] == '\0';
}

static int verify_route(uint64_t idx, const duro_stress_config *cfg, const char *output,
                        char *why, size_t why_size)
{
    const char *p = output;
    char buf[64];
    for (int j = 0; j < cfg->tasks_per_instance; j++) {
        if (j > 0 && *p++ != ',')
            goto wrong;
        route_input(buf, sizeof buf, idx, (uint64_t)j);
        const char *rt = route_runtime((uint64_t)j);
        int session = route_kind((uint64_t)j) == STEP_SESSION;
        if (rt != NULL || session)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "@%s", session ? "" : rt);
        size_t l;
        if (route_step_matches(p, buf, session, &l)) {
            p += l;
            continue;
        }
        if (session)
            snprintf(why, why_size,
                     "step %d: expected '%sA' or '%sB' (session " ROUTE_SESSION_FMT
                     "), got '%.40s'", j, buf, buf, route_session_of(idx), p);
        else
            snprintf(why, why_size, "step %d: expected '%s' (tag %s), got '%.40s'", j, buf,
                     route_tag((uint64_t)j) ? route_tag((uint64_t)j) : "none", p);
        return -1;
    }
    if (*p == '\0')
        return 0;
wrong:
    snprintf(why, why_size, "expected %d steps 'i%" PRIu64 "-s0,...', got '%.60s'",
             cfg->tasks_per_instance, idx, output);
    return -1;
}

int duro__scenario_check_sessions(int scenario, uint64_t idx, const duro_stress_config *cfg,
                                  const char *output, char owners[DURO__ROUTING_SESSIONS],
                                  char *why, size_t why_size)
{
    if (scenario != DURO__SC_ROUTING)
        return 0;
    unsigned k = route_session_of(idx);
    char owner = owners[k];
    int steps = 0;
    const char *p = output;
    for (int j = 0; j < cfg->tasks_per_instance && p != NULL; j++) {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (route_kind((uint64_t)j) == STEP_SESSION) {
            const char *at = memchr(p, '@', n);
            char ran = at != NULL && at + 1 < p + n ? at[1] : '?';
            if (owner != 0 && ran != owner) {
                snprintf(why, why_size,
                         "session " ROUTE_SESSION_FMT
                         ": step %d ran on %c, its earlier steps on %c", k, j, ran, owner);
                return -1;
            }
            owner = ran;
            steps++;
        }
        p = end != NULL ? end + 1 : NULL;
    }
    owners[k] = owner;
    return steps;
}

int duro__scenario_verify_value(int scenario, uint64_t idx, const duro_stress_config *cfg,
                                const char *value, int final, char *why, size_t why_size)
{
    if (scenario != DURO__SC_ROUTING) {
        snprintf(why, why_size, "scenario %s keeps no durable value",
                 duro_stress_scenario_name((size_t)scenario));
        return -1;
    }
    uint64_t n = (uint64_t)cfg->tasks_per_instance;
    char want[64];
    if (!final && value == NULL)
        return 0;
    for (uint64_t k = final ? n : 1; value != NULL && k <= n; k++) {
        route_value(want, sizeof want, idx, k, n);
        if (strcmp(value, want) == 0)
            return 0;
    }
    route_value(want, sizeof want, idx, n, n);
    snprintf(why, why_size, "%s value of '" DURO__ROUTING_KEY "': expected %s'%s', got %s%.60s%s",
             final ? "final" : "running", final ? "" : "a step up to ", want,
             value ? "'" : "", value ? value : "none", value ? "'" : "");
    return -1;
}

int duro__scenario_runtime_options(int scenario, int runtime, duro_runtime_options *opt)
{
    if (scenario != DURO__SC_ROUTING)
        return 0;
    if (runtime >= 0 && runtime < DURO__ROUTING_RUNTIMES) {
        opt->worker_tag_mode = DURO_WORKER_TAGS_AND_UNTAGGED;
        opt->worker_tags = &route_tags[runtime];
        opt->n_worker_tags = 1;
        opt->max_sessions = DURO__ROUTING_SESSIONS;
    }
    return DURO__ROUTING_RUNTIMES;
}

int duro__scenario_unsupported(int scenario, const duro_stress_config *cfg, int tags, int kv,
                               int sessions, char *why, size_t why_size)
{
    if (scenario != DURO__SC_ROUTING)
        return 0;
    if (cfg->processes > 0 || cfg->store != NULL)
        snprintf(why, why_size, "routing runs its two runtimes (A, B) in this process: "
                 "not with %s", cfg->processes > 0 ? "--processes" : "--store");
    else if (!tags)
        snprintf(why, why_size, "the provider does not route tags (no DURO_CAP_TAGS)");
    else if (!kv)
        snprintf(why, why_size, "the provider keeps no durable values (no DURO_CAP_KV)");
    else if (!sessions)
        snprintf(why, why_size, "the provider runs no activity sessions (no DURO_CAP_SESSIONS)");
    else
        return 0;
    return 1;
}

/* ---- Registry, roots and verification ------------------------------------------------------- */

int duro__scenario_register(duro_registry *r, duro__stress_ctx *ctx)
{
    return duro__scenario_register_runtime(r, ctx, 0);
}

int duro__scenario_register_runtime(duro_registry *r, duro__stress_ctx *ctx, int runtime)
{
    if (runtime < 0 || runtime >= DURO__ROUTING_RUNTIMES)
        return DURO_EINVAL;
    static const struct {
        const char *name;
        duro_orch_fn fn;
    } orchs[] = {
        {ORCH_FANOUT, orch_fanout}, {ORCH_LARGE, orch_large},
        {ORCH_LARGE_CHILD, orch_large_child}, {ORCH_TIMERS, orch_timers},
        {ORCH_LONG, orch_long}, {ORCH_SUB, orch_sub}, {ORCH_SUB_CHILD, orch_sub_child},
        {ORCH_ROUTE, orch_route},
    };
    static const struct {
        const char *name;
        duro_activity_fn fn;
    } acts[] = {
        {ACT_ECHO, act_echo}, {ACT_GEN, act_generate}, {ACT_DIGEST, act_digest},
        {ACT_TICK, act_tick}, {ACT_SQUARE, act_square},
    };
    for (size_t i = 0; i < sizeof orchs / sizeof orchs[0]; i++) {
        int rc = duro_register_orchestration(r, orchs[i].name, NULL, orchs[i].fn, ctx);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        int rc = duro_register_activity(r, acts[i].name, acts[i].fn, ctx);
        if (rc != 0)
            return rc;
    }
    ctx->route[runtime] = (duro__route_ud){.ctx = ctx, .name = route_names[runtime]};
    return duro_register_activity(r, ACT_ROUTE, act_route, &ctx->route[runtime]);
}

void duro__scenario_config(int scenario, duro_stress_config *cfg)
{
    if (scenario == DURO__SC_ROUTING)
        cfg->runtimes = DURO__ROUTING_RUNTIMES;
    if (scenario != DURO__SC_FAULTS || cfg->provider_error_pct > 0 || cfg->lost_reply_pct > 0)
        return;
    cfg->provider_error_pct = DURO__FAULTS_ERROR_PCT;
    cfg->lost_reply_pct = DURO__FAULTS_LOST_REPLY_PCT;
}

/* The concrete scenario of root idx (mixed and faults rotate through the first five). */
static int concrete(int scenario, uint64_t idx)
{
    return scenario == DURO__SC_MIXED || scenario == DURO__SC_FAULTS
               ? (int)(idx % DURO__SC_MIXED)
               : scenario;
}

int duro__scenario_root(int scenario, uint64_t idx, const duro_stress_config *cfg,
                        const char **orch_name, char *input, size_t input_size)
{
    int n = 0, tasks = cfg->tasks_per_instance;
    long long unit = (long long)timer_unit(cfg);
    switch (concrete(scenario, idx)) {
    case DURO__SC_PARALLEL:
        *orch_name = ORCH_FANOUT;
        n = snprintf(input, input_size, "%" PRIu64 " %d", idx, tasks);
        break;
    case DURO__SC_LARGE_PAYLOAD:
        *orch_name = ORCH_LARGE;
        n = snprintf(input, input_size, "%" PRIu64, idx);
        break;
    case DURO__SC_TIMERS:
        *orch_name = ORCH_TIMERS;
        n = snprintf(input, input_size, "%" PRIu64 " %d %lld", idx, tasks, unit);
        break;
    case DURO__SC_LONG_RUNNING:
        *orch_name = ORCH_LONG;
        n = snprintf(input, input_size, "%" PRIu64 " 0 %d %lld", idx, tasks, unit);
        break;
    case DURO__SC_SUB_ORCHESTRATIONS:
        *orch_name = ORCH_SUB;
        n = snprintf(input, input_size, "%" PRIu64 " %d", idx, tasks);
        break;
    case DURO__SC_ROUTING:
        *orch_name = ORCH_ROUTE;
        n = snprintf(input, input_size, "%" PRIu64 " %d", idx, tasks);
        break;
    default:
        return DURO_EINVAL;
    }
    return n < 0 || (size_t)n >= input_size ? DURO_ETOOBIG : 0;
}

int duro__scenario_verify(int scenario, uint64_t idx, const duro_stress_config *cfg,
                          const char *output, char *why, size_t why_size)
{
    if (output == NULL) {
        snprintf(why, why_size, "no output");
        return -1;
    }
    switch (concrete(scenario, idx)) {
    case DURO__SC_PARALLEL:
        return verify_fanout(idx, cfg, output, why, why_size);
    case DURO__SC_LARGE_PAYLOAD:
        return verify_large(idx, output, why, why_size);
    case DURO__SC_TIMERS:
        return verify_timers(idx, cfg, output, why, why_size);
    case DURO__SC_LONG_RUNNING:
        return verify_long(idx, cfg, output, why, why_size);
    case DURO__SC_SUB_ORCHESTRATIONS:
        return verify_sub(idx, cfg, output, why, why_size);
    case DURO__SC_ROUTING:
        return verify_route(idx, cfg, output, why, why_size);
    default:
        snprintf(why, why_size, "unknown scenario %d", scenario);
        return -1;
    }
}
