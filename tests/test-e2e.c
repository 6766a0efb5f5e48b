/*
 * test-e2e.c — end-to-end tests of the duro runtime's happy paths, on the in-memory and the
 * file SQLite provider: hello, fan-out/fan-in, sequential chains, timers, external events
 * (raised before start, before the wait and after it), a sub-orchestration tree, a
 * continue-as-new loop, duplicate starts, status and bounded waits, and the deterministic
 * values replayed across turns. Every test asserts exact outputs and the history that
 * produced them.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e-common.h"

/* ---- Shared handlers ------------------------------------------------------------------------ */

/* Inputs an activity saw, in call order, separated by spaces. */
typedef struct seen {
    pthread_mutex_t mu;
    char text[1024];
} seen;

static void seen_init(seen *s)
{
    ck_assert_int_eq(pthread_mutex_init(&s->mu, NULL), 0);
    s->text[0] = '\0';
}

static void seen_add(seen *s, const char *item)
{
    pthread_mutex_lock(&s->mu);
    size_t len = strlen(s->text);
    snprintf(s->text + len, sizeof s->text - len, "%s%s", len ? " " : "", item);
    pthread_mutex_unlock(&s->mu);
}

/* "n" -> "n+1"; records its input when ud is a `seen`. */
static int act_inc(duro_activity *a, const char *input, void *ud)
{
    if (ud)
        seen_add(ud, input);
    return duro_activity_okf(a, "%ld", strtol(input, NULL, 10) + 1);
}

/* Returns its input unchanged. */
static int act_echo_raw(duro_activity *a, const char *input, void *ud)
{
    (void)ud;
    return duro_activity_ok(a, input);
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

/* Index of the first event of kind `kind_name` in the current history, or -1. */
static long first_event_of(e2e_env *e, const char *id, const char *kind_name)
{
    duro_event *ev = NULL;
    size_t n = 0;
    long at = -1;
    e2e_history(e, id, 0, &ev, &n);
    for (size_t i = 0; i < n && at < 0; i++)
        if (strcmp(duro_event_kind_name(ev[i].kind), kind_name) == 0)
            at = (long)i;
    duro_events_free(ev, n);
    return at;
}

/* ---- hello ---------------------------------------------------------------------------------- */

static int act_greet(duro_activity *a, const char *name, void *ud)
{
    (void)ud;
    return duro_activity_okf(a, "Hello, %s!", name);
}

static int orch_hello(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_task *t = duro_call_activity(o, "Greet", input);
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_fail(o, duro_task_error(t));
    return duro_complete(o, duro_task_value(t));
}

START_TEST(test_hello)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_act(&e, "Greet", act_greet, NULL);
    e2e_orch(&e, "Hello", orch_hello, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "hello-1", "Hello", "World");
    e2e_expect_completed(&e, "hello-1", "Hello, World!");
    ck_assert_uint_eq(e2e_count_kind(&e, "hello-1", 0, "OrchestrationStarted"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "hello-1", 0, "ActivityScheduled"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "hello-1", 0, "ActivityCompleted"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "hello-1", 0, "OrchestrationCompleted"), 1);
    e2e_close(&e);
}
END_TEST

/* ---- fan-out / fan-in ----------------------------------------------------------------------- */

#define FANOUT 100

static int act_square(duro_activity *a, const char *input, void *ud)
{
    e2e_latch_add(ud, 1);
    long v = strtol(input, NULL, 10);
    return duro_activity_okf(a, "%ld", v * v);
}

static int orch_fanout(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *ts[FANOUT];
    char arg[16];
    for (int i = 0; i < FANOUT; i++) {
        snprintf(arg, sizeof arg, "%d", i);
        ts[i] = duro_call_activity(o, "Square", arg);
    }
    DURO_AWAIT_ALL(o, ts, FANOUT);
    char out[FANOUT * 8];
    size_t len = 0;
    for (int i = 0; i < FANOUT; i++) {
        if (!duro_task_ok(ts[i]))
            return duro_failf(o, "square %d: %s", i, duro_task_error(ts[i]));
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "," : "",
                                duro_task_value(ts[i]));
    }
    return duro_complete(o, out);
}

START_TEST(test_fanout_100)
{
    e2e_env e;
    e2e_latch runs;
    e2e_latch_init(&runs);
    e2e_open(&e, _i);
    e2e_act(&e, "Square", act_square, &runs);
    e2e_orch(&e, "FanOut", orch_fanout, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "fan-1", "FanOut", "");

    char expected[FANOUT * 8];
    size_t len = 0;
    for (int i = 0; i < FANOUT; i++)
        len += (size_t)snprintf(expected + len, sizeof expected - len, "%s%d", i ? "," : "",
                                i * i);
    e2e_expect_completed(&e, "fan-1", expected);
    ck_assert_uint_eq(e2e_count_kind(&e, "fan-1", 0, "ActivityScheduled"), FANOUT);
    ck_assert_uint_eq(e2e_count_kind(&e, "fan-1", 0, "ActivityCompleted"), FANOUT);
    ck_assert_int_eq(e2e_latch_get(&runs), FANOUT);
    e2e_close(&e);
    e2e_latch_destroy(&runs);
}
END_TEST

/* ---- sequential chain ------------------------------------------------------------------------ */

static int orch_chain(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    char trail[256];
    size_t len = 0;
    const char *cur = input;
    trail[0] = '\0';
    for (int i = 0; i < 10; i++) {
        duro_task *t = duro_call_activity(o, "Inc", cur);
        DURO_AWAIT(o, t);
        if (!duro_task_ok(t))
            return duro_failf(o, "step %d: %s", i, duro_task_error(t));
        cur = duro_task_value(t);
        len += (size_t)snprintf(trail + len, sizeof trail - len, "%s%s", i ? ">" : "", cur);
    }
    return duro_complete(o, trail);
}

START_TEST(test_chain_10)
{
    e2e_env e;
    seen inputs;
    seen_init(&inputs);
    e2e_open(&e, _i);
    e2e_act(&e, "Inc", act_inc, &inputs);
    e2e_orch(&e, "Chain", orch_chain, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "chain-1", "Chain", "0");
    e2e_expect_completed(&e, "chain-1", "1>2>3>4>5>6>7>8>9>10");
    /* each step received the previous step's output, in order, once */
    ck_assert_str_eq(inputs.text, "0 1 2 3 4 5 6 7 8 9");
    ck_assert_uint_eq(e2e_count_kind(&e, "chain-1", 0, "ActivityCompleted"), 10);
    e2e_close(&e);
    pthread_mutex_destroy(&inputs.mu);
}
END_TEST

/* ---- timers ---------------------------------------------------------------------------------- */

/* Two timers (50 and 100 ms); reports which fired first and whether either fired early by
 * the deterministic clock. */
static int orch_timers(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    int64_t t0 = duro_now_ms(o);
    duro_task *fast = duro_timer(o, 50);
    duro_task *slow = duro_timer(o, 100);
    duro_task *both[2] = {slow, fast}; /* a tie would favour slow: only history decides */
    duro_task *first = duro_when_any(o, both, 2);
    if (!first)
        return DURO_SUSPEND;
    int64_t t1 = duro_now_ms(o);
    duro_task *second = first == fast ? slow : fast;
    DURO_AWAIT(o, second);
    int64_t t2 = duro_now_ms(o);
    return duro_completef(o, "first=%s second=%s early=%s", first == fast ? "fast" : "slow",
                          second == fast ? "fast" : "slow",
                          t1 - t0 < 50 || t2 - t0 < 100 ? "yes" : "no");
}

START_TEST(test_timers)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_orch(&e, "Timers", orch_timers, NULL);
    e2e_start(&e);
    int64_t t0 = duro__monotonic_ms();
    e2e_start_instance(&e, "timers-1", "Timers", "");
    e2e_expect_completed(&e, "timers-1", "first=fast second=slow early=no");
    int64_t elapsed = duro__monotonic_ms() - t0;
    ck_assert_msg(elapsed >= 100, "both timers done after %" PRId64 " ms", elapsed);
    ck_assert_uint_eq(e2e_count_kind(&e, "timers-1", 0, "TimerCreated"), 2);
    ck_assert_uint_eq(e2e_count_kind(&e, "timers-1", 0, "TimerFired"), 2);
    e2e_close(&e);
}
END_TEST

/* ---- external events ------------------------------------------------------------------------- */

static int orch_wait_two(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *a = duro_wait_event(o, "go");
    DURO_AWAIT(o, a);
    duro_task *b = duro_wait_event(o, "go");
    DURO_AWAIT(o, b);
    return duro_completef(o, "%s,%s", duro_task_value(a), duro_task_value(b));
}

START_TEST(test_event_before_start)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_orch(&e, "WaitTwo", orch_wait_two, NULL);
    e2e_start(&e);
    /* both raised before the instance exists: kept, delivered FIFO once it starts */
    e2e_raise(&e, "pre-1", "go", "one");
    e2e_raise(&e, "pre-1", "go", "two");
    e2e_start_instance(&e, "pre-1", "WaitTwo", "");
    e2e_expect_completed(&e, "pre-1", "one,two");
    ck_assert_uint_eq(e2e_count_kind(&e, "pre-1", 0, "ExternalEventRaised"), 2);
    ck_assert_uint_eq(e2e_count_kind(&e, "pre-1", 0, "ExternalEventWait"), 2);
    e2e_close(&e);
}
END_TEST

/* Blocks the orchestration before its wait until the test has raised the event. */
typedef struct gate {
    e2e_latch entered;
    e2e_latch release;
} gate;

static int act_gate(duro_activity *a, const char *input, void *ud)
{
    (void)input;
    gate *g = ud;
    e2e_latch_add(&g->entered, 1);
    if (!e2e_latch_wait(&g->release, 1, E2E_WAIT_MS))
        return duro_activity_failf(a, "the gate was never released");
    return duro_activity_okf(a, "opened");
}

static int orch_gate_then_wait(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *g = duro_call_activity(o, "Gate", "");
    DURO_AWAIT(o, g);
    if (!duro_task_ok(g))
        return duro_fail(o, duro_task_error(g));
    duro_task *ev = duro_wait_event(o, "go");
    DURO_AWAIT(o, ev);
    return duro_completef(o, "%s:%s", duro_task_value(g), duro_task_value(ev));
}

START_TEST(test_event_before_wait)
{
    e2e_env e;
    gate g;
    e2e_latch_init(&g.entered);
    e2e_latch_init(&g.release);
    e2e_open(&e, _i);
    e2e_act(&e, "Gate", act_gate, &g);
    e2e_orch(&e, "GateThenWait", orch_gate_then_wait, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "early-1", "GateThenWait", "");
    ck_assert_msg(e2e_latch_wait(&g.entered, 1, E2E_WAIT_MS), "the gate activity never ran");
    e2e_raise(&e, "early-1", "go", "early"); /* the orchestration is still at the gate */
    e2e_latch_add(&g.release, 1);
    e2e_expect_completed(&e, "early-1", "opened:early");
    long raised = first_event_of(&e, "early-1", "ExternalEventRaised");
    long waited = first_event_of(&e, "early-1", "ExternalEventWait");
    ck_assert_int_ge(raised, 0);
    ck_assert_msg(raised < waited, "event recorded at %ld, wait at %ld: not raised before",
                  raised, waited);
    e2e_close(&e);
    e2e_latch_destroy(&g.entered);
    e2e_latch_destroy(&g.release);
}
END_TEST

START_TEST(test_event_after_wait)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_orch(&e, "StatusThenWait", orch_status_then_wait, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "late-1", "StatusThenWait", "");
    e2e_wait_custom_status(&e, "late-1", "waiting");
    e2e_raise(&e, "late-1", "go", "late");
    e2e_expect_completed(&e, "late-1", "got:late");
    long waited = first_event_of(&e, "late-1", "ExternalEventWait");
    long raised = first_event_of(&e, "late-1", "ExternalEventRaised");
    ck_assert_int_ge(waited, 0);
    ck_assert_msg(waited < raised, "wait recorded at %ld, event at %ld", waited, raised);
    e2e_close(&e);
}
END_TEST

/* ---- sub-orchestration tree ------------------------------------------------------------------ */

static int act_bracket(duro_activity *a, const char *input, void *ud)
{
    (void)ud;
    return duro_activity_okf(a, "[%s]", input);
}

static int orch_leaf(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_task *t = duro_call_activity(o, "Bracket", input);
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_fail(o, duro_task_error(t));
    return duro_complete(o, duro_task_value(t));
}

/* Two children of orchestration `child` with inputs "<input>.0" and "<input>.1", joined as
 * open, left, sep, right, close. */
static int two_children(duro_orch *o, const char *input, const char *child, const char *fmt)
{
    char in0[128], in1[128];
    snprintf(in0, sizeof in0, "%s.0", input);
    snprintf(in1, sizeof in1, "%s.1", input);
    duro_task *kids[2] = {duro_call_sub(o, child, NULL, in0), duro_call_sub(o, child, NULL, in1)};
    DURO_AWAIT_ALL(o, kids, 2);
    for (int i = 0; i < 2; i++)
        if (!duro_task_ok(kids[i]))
            return duro_failf(o, "child %d: %s", i, duro_task_error(kids[i]));
    return duro_completef(o, fmt, duro_task_value(kids[0]), duro_task_value(kids[1]));
}

static int orch_mid(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    return two_children(o, input, "Leaf", "(%s,%s)");
}

static int orch_root(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    return two_children(o, input, "Mid", "{%s;%s}");
}

/* 1 when `id` is "<parent>::<digits>". */
static int is_generated_child(const char *id, const char *parent)
{
    size_t n = strlen(parent);
    if (strncmp(id, parent, n) != 0 || strncmp(id + n, "::", 2) != 0 || !id[n + 2])
        return 0;
    for (const char *c = id + n + 2; *c; c++)
        if (*c < '0' || *c > '9')
            return 0;
    return 1;
}

START_TEST(test_sub_tree_depth3)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_act(&e, "Bracket", act_bracket, NULL);
    e2e_orch(&e, "Root", orch_root, NULL);
    e2e_orch(&e, "Mid", orch_mid, NULL);
    e2e_orch(&e, "Leaf", orch_leaf, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "tree-1", "Root", "r");
    e2e_expect_completed(&e, "tree-1", "{([r.0.0],[r.0.1]);([r.1.0],[r.1.1])}");
    e2e_wait_terminals(&e, 7);

    /* every instance of the tree reported once, completed; child ids generated */
    size_t mids = 0, leaves = 0;
    pthread_mutex_lock(&e.mu);
    ck_assert_uint_eq(e.n_terms, 7);
    for (size_t i = 0; i < e.n_terms; i++) {
        const e2e_terminal *t = &e.terms[i];
        ck_assert_int_eq(t->state, DURO_STATE_COMPLETED);
        for (size_t k = 0; k < i; k++)
            ck_assert_str_ne(e.terms[k].instance, t->instance);
        if (is_generated_child(t->instance, "tree-1")) {
            mids++;
            ck_assert_msg(t->output[0] == '(', "mid %s output %s", t->instance, t->output);
            continue;
        }
        if (strcmp(t->instance, "tree-1") == 0)
            continue;
        /* a leaf: its parent is one of the mids */
        const char *cut = strrchr(t->instance, ':');
        ck_assert_ptr_nonnull(cut);
        char parent[256];
        size_t plen = (size_t)(cut - 1 - t->instance);
        ck_assert_uint_lt(plen, sizeof parent);
        memcpy(parent, t->instance, plen);
        parent[plen] = '\0';
        ck_assert_msg(is_generated_child(parent, "tree-1") &&
                          is_generated_child(t->instance, parent),
                      "unexpected instance id %s", t->instance);
        ck_assert_msg(t->output[0] == '[', "leaf %s output %s", t->instance, t->output);
        leaves++;

        duro_status st = {0};
        duro_error err = {0};
        ck_assert_int_eq(duro_client_status(e.c, t->instance, &st, &err), 0);
        ck_assert_str_eq(st.orch_name, "Leaf");
        ck_assert_str_eq(st.output, t->output);
        duro_status_clear(&st);
    }
    pthread_mutex_unlock(&e.mu);
    ck_assert_uint_eq(mids, 2);
    ck_assert_uint_eq(leaves, 4);
    ck_assert_uint_eq(e2e_count_kind(&e, "tree-1", 0, "SubOrchestrationScheduled"), 2);
    ck_assert_uint_eq(e2e_count_kind(&e, "tree-1", 0, "SubOrchestrationCompleted"), 2);
    e2e_close(&e);
}
END_TEST

/* ---- continue-as-new ------------------------------------------------------------------------- */

static int orch_looper(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    long n = strtol(input, NULL, 10);
    if ((uint64_t)n + 1 != duro_orch_execution(o))
        return duro_failf(o, "execution %" PRIu64 " got input %ld", duro_orch_execution(o), n);
    if (n == 0)
        duro_set_custom_status(o, "set in execution 1");
    if (n == 100)
        return duro_completef(o, "done:%ld", n);
    duro_task *t = duro_call_activity(o, "Inc", input);
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_fail(o, duro_task_error(t));
    return duro_continue_as_new(o, duro_task_value(t));
}

START_TEST(test_continue_as_new_100)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_act(&e, "Inc", act_inc, NULL);
    e2e_orch(&e, "Looper", orch_looper, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "loop-1", "Looper", "0");
    duro_status st;
    e2e_wait(&e, "loop-1", &st);
    ck_assert_int_eq(st.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(st.output, "done:100");
    ck_assert_uint_eq(st.execution_id, 101);
    ck_assert_str_eq(st.orch_name, "Looper");
    ck_assert_pstr_eq(st.custom_status, "set in execution 1");
    duro_status_clear(&st);

    /* each execution has its own short history */
    ck_assert_uint_eq(e2e_count_kind(&e, "loop-1", 0, "OrchestrationStarted"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "loop-1", 0, "ActivityScheduled"), 0);
    ck_assert_uint_eq(e2e_count_kind(&e, "loop-1", 1, "ActivityScheduled"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "loop-1", 1, "OrchestrationContinuedAsNew"), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "loop-1", 100, "OrchestrationContinuedAsNew"), 1);

    /* the observer saw each of the 100 continued-as-new executions and the completion once
     * (turn threads report concurrently, so not necessarily in order) */
    e2e_wait_terminals(&e, 101);
    unsigned char reported[102] = {0};
    pthread_mutex_lock(&e.mu);
    ck_assert_uint_eq(e.n_terms, 101);
    for (size_t i = 0; i < 101; i++) {
        uint64_t x = e.terms[i].execution_id;
        ck_assert_msg(x >= 1 && x <= 101 && !reported[x], "execution %" PRIu64 " reported", x);
        reported[x] = 1;
        ck_assert_int_eq(e.terms[i].state,
                         x < 101 ? DURO_STATE_CONTINUED_AS_NEW : DURO_STATE_COMPLETED);
    }
    pthread_mutex_unlock(&e.mu);
    e2e_close(&e);
}
END_TEST

/* ---- duplicate start -------------------------------------------------------------------------- */

static int act_count(duro_activity *a, const char *input, void *ud)
{
    e2e_latch_add(ud, 1);
    return duro_activity_okf(a, "ran:%s", input);
}

static int orch_once(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_task *t = duro_call_activity(o, "Count", input);
    DURO_AWAIT(o, t);
    duro_set_custom_status(o, "waiting");
    duro_task *ev = duro_wait_event(o, "go");
    DURO_AWAIT(o, ev);
    return duro_completef(o, "%s/%s/%s", input, duro_task_value(t), duro_task_value(ev));
}

START_TEST(test_duplicate_start)
{
    e2e_env e;
    e2e_latch runs;
    e2e_latch_init(&runs);
    e2e_open(&e, _i);
    e2e_act(&e, "Count", act_count, &runs);
    e2e_orch(&e, "Once", orch_once, NULL);
    e2e_start(&e);
    e2e_start_instance(&e, "dup-1", "Once", "first");
    e2e_wait_custom_status(&e, "dup-1", "waiting");
    /* a second start of a running instance is accepted and ignored; the event raised after
     * it is handled after it (FIFO per instance) */
    e2e_start_instance(&e, "dup-1", "Once", "second");
    e2e_raise(&e, "dup-1", "go", "x");
    e2e_expect_completed(&e, "dup-1", "first/ran:first/x");
    ck_assert_int_eq(e2e_latch_get(&runs), 1);
    ck_assert_uint_eq(e2e_count_kind(&e, "dup-1", 0, "OrchestrationStarted"), 1);
    /* starting a completed instance again is not an error and does not restart it */
    e2e_start_instance(&e, "dup-1", "Once", "third");
    duro_status st = {0};
    duro_error err = {0};
    ck_assert_int_eq(duro_client_status(e.c, "dup-1", &st, &err), 0);
    ck_assert_int_eq(st.state, DURO_STATE_COMPLETED);
    ck_assert_uint_eq(st.execution_id, 1);
    ck_assert_str_eq(st.output, "first/ran:first/x");
    duro_status_clear(&st);
    e2e_close(&e);
    e2e_latch_destroy(&runs);
}
END_TEST

/* ---- status and waiting --------------------------------------------------------------------- */

START_TEST(test_status_wait_timeout)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_orch(&e, "StatusThenWait", orch_status_then_wait, NULL);
    e2e_start(&e);

    duro_status st = {0};
    duro_error err = {0};
    ck_assert_int_eq(duro_client_status(e.c, "nobody", &st, &err), 0);
    ck_assert_int_eq(st.state, DURO_STATE_NOT_FOUND);
    duro_status_clear(&st);

    e2e_start_instance(&e, "idle-1", "StatusThenWait", "");
    e2e_wait_custom_status(&e, "idle-1", "waiting");
    int64_t t0 = duro__monotonic_ms();
    int rc = duro_client_wait(e.c, "idle-1", 150, &st, &err);
    int64_t waited = duro__monotonic_ms() - t0;
    ck_assert_int_eq(rc, DURO_ETIMEDOUT);
    ck_assert_msg(waited >= 140, "the wait returned after %" PRId64 " ms", waited);
    ck_assert_int_eq(st.state, DURO_STATE_RUNNING);
    ck_assert_uint_eq(st.execution_id, 1);
    ck_assert_str_eq(st.orch_name, "StatusThenWait");
    ck_assert_pstr_eq(st.custom_status, "waiting");
    ck_assert_uint_ge(st.custom_status_version, 1);
    ck_assert_ptr_null(st.output);
    duro_status_clear(&st);

    e2e_raise(&e, "idle-1", "go", "now");
    e2e_expect_completed(&e, "idle-1", "got:now");
    e2e_close(&e);
}
END_TEST

/* ---- deterministic values -------------------------------------------------------------------- */

/* Records now/guid/random, hands them to an activity (so the first turn's values are
 * stored as its input), waits two more turns, then completes with "<activity>|<replay>". */
static int orch_values(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    char mine[256];
    int64_t now = duro_now_ms(o);
    const char *guid = duro_new_guid(o);
    uint64_t r1 = duro_random(o), r2 = duro_random(o);
    snprintf(mine, sizeof mine, "%" PRId64 " %s %" PRIu64 " %" PRIu64, now, guid, r1, r2);
    duro_task *t = duro_call_activity(o, "EchoRaw", mine);
    DURO_AWAIT(o, t);
    duro_task *tm = duro_timer(o, 10);
    DURO_AWAIT(o, tm);
    if (!duro_task_ok(t))
        return duro_fail(o, duro_task_error(t));
    return duro_completef(o, "%s|%s", duro_task_value(t), mine);
}

static int is_guid(const char *g)
{
    if (strlen(g) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        int hex = (g[i] >= '0' && g[i] <= '9') || (g[i] >= 'a' && g[i] <= 'f') ||
                  (g[i] >= 'A' && g[i] <= 'F');
        if (dash ? g[i] != '-' : !hex)
            return 0;
    }
    return 1;
}

/* Check one instance's output (its clock reading lies between `before` and the end of its
 * run); returns its guid in `guid` (37 bytes). */
static void check_values(e2e_env *e, const char *id, int64_t before, char *guid)
{
    duro_status st;
    e2e_wait(e, id, &st);
    int64_t after = duro_clock_now_ms();
    ck_assert_int_eq(st.state, DURO_STATE_COMPLETED);
    const char *bar = strchr(st.output, '|');
    ck_assert_ptr_nonnull(bar);
    ck_assert_msg(strlen(st.output) == 2 * (size_t)(bar - st.output) + 1 &&
                      strncmp(st.output, bar + 1, (size_t)(bar - st.output)) == 0,
                  "first turn and replay disagree: %s", st.output);
    long long now = 0;
    unsigned long long r1 = 0, r2 = 0;
    char g[64] = "";
    ck_assert_int_eq(sscanf(bar + 1, "%lld %63s %llu %llu", &now, g, &r1, &r2), 4);
    ck_assert_msg(now >= before && now <= after, "now %lld outside [%" PRId64 ", %" PRId64 "]",
                  now, before, after);
    ck_assert_msg(is_guid(g), "not a guid: %s", g);
    ck_assert_msg(r1 != r2, "two random draws are equal: %llu", r1);
    snprintf(guid, 37, "%s", g);
    duro_status_clear(&st);
}

START_TEST(test_deterministic_values)
{
    e2e_env e;
    e2e_open(&e, _i);
    e2e_act(&e, "EchoRaw", act_echo_raw, NULL);
    e2e_orch(&e, "Values", orch_values, NULL);
    e2e_start(&e);
    int64_t before = duro_clock_now_ms();
    e2e_start_instance(&e, "values-1", "Values", "");
    e2e_start_instance(&e, "values-2", "Values", "");
    char g1[37], g2[37];
    check_values(&e, "values-1", before, g1);
    check_values(&e, "values-2", before, g2);
    ck_assert_str_ne(g1, g2);
    ck_assert_uint_eq(e2e_count_kind(&e, "values-1", 0, "ValueRecorded"), 4);
    e2e_close(&e);
}
END_TEST

int main(void)
{
    const e2e_test tests[] = {
        {"hello", test_hello},
        {"fanout_100", test_fanout_100},
        {"chain_10", test_chain_10},
        {"timers", test_timers},
        {"event_before_start", test_event_before_start},
        {"event_before_wait", test_event_before_wait},
        {"event_after_wait", test_event_after_wait},
        {"sub_tree_depth3", test_sub_tree_depth3},
        {"continue_as_new_100", test_continue_as_new_100},
        {"duplicate_start", test_duplicate_start},
        {"status_wait_timeout", test_status_wait_timeout},
        {"deterministic_values", test_deterministic_values},
    };
    return e2e_main("test-e2e", E2E_ALL_KINDS, tests, sizeof tests / sizeof tests[0]);
}
