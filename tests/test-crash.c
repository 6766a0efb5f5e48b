/*
 * test-crash.c — crash recovery of the duro runtime on a file SQLite database.
 *
 * A child process starts 50 instances (each: three sequential activities, then a timer) and
 * a runtime on a fresh file database, reports every finished activity through a pipe, and
 * is killed with SIGKILL once at least 10 activities ran — mid-run, holding instance and
 * activity locks. The test process then opens a new runtime on the same file: short lock
 * timeouts let it take over the dead process's expired locks, every instance must complete
 * with its exact output, and each instance's history must record exactly one completion per
 * scheduled activity (at-least-once execution, exactly-once recording).
 *
 * Crash at every step: a small workflow (activity, timer, activity) runs behind the fault
 * wrapper, which kills its process right after the store answered call k, for every k of a
 * clean run; a fresh runtime then finishes it and the final history must be exactly the one
 * correct history.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "e2e-common.h"

#define N_INSTANCES 50
#define KILL_AFTER 10   /* activities the child must have run before it is killed */
#define ORCH_LOCK_MS 500
#define WORKER_LOCK_MS 1000

/* What an activity does besides its result: an activity delay (the workload) and a byte
 * written to `fd` after each run (the child's progress report). */
typedef struct step_ctx {
    int fd;          /* -1: report nothing */
    long delay_ms;
} step_ctx;

static int act_step(duro_activity *a, const char *input, void *ud)
{
    const step_ctx *cx = ud;
    if (cx->delay_ms > 0) {
        struct timespec d = {0, cx->delay_ms * 1000000L};
        nanosleep(&d, NULL);
    }
    if (cx->fd >= 0 && write(cx->fd, "s", 1) != 1)
        return duro_activity_failf(a, "cannot report progress: %s", strerror(errno));
    return duro_activity_okf(a, "%s.s", input);
}

static int orch_flow(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    const char *cur = input;
    for (int i = 0; i < 3; i++) {
        duro_task *t = duro_call_activity(o, "Step", cur);
        DURO_AWAIT(o, t);
        if (!duro_task_ok(t))
            return duro_failf(o, "step %d: %s", i, duro_task_error(t));
        cur = duro_task_value(t);
    }
    duro_task *tm = duro_timer(o, 50);
    DURO_AWAIT(o, tm);
    return duro_completef(o, "%s+t", cur);
}

static void crash_options(duro_runtime_options *opt)
{
    opt->worker_concurrency = 2;
    opt->orch_lock_ms = ORCH_LOCK_MS;
    opt->worker_lock_ms = WORKER_LOCK_MS;
}

/* The doomed process: plain error handling (no Check here), never returns. */
static void run_child(const char *path, int fd) __attribute__((noreturn));
static void run_child(const char *path, int fd)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
#endif
    step_ctx cx = {fd, 20};
    duro_provider *p = NULL;
    duro_registry *reg = duro_registry_new();
    duro_error err = {0};
    if (!reg || duro_sqlite_open(path, NULL, &p, &err) != 0 ||
        duro_register_activity(reg, "Step", act_step, &cx) != 0 ||
        duro_register_orchestration(reg, "Flow", NULL, orch_flow, NULL) != 0)
        _exit(2);
    duro_client *c = NULL;
    if (duro_client_new(p, &c, &err) != 0)
        _exit(2);
    /* every instance exists before any activity runs */
    for (int i = 0; i < N_INSTANCES; i++) {
        char id[32], input[32];
        snprintf(id, sizeof id, "crash-%02d", i);
        snprintf(input, sizeof input, "%d", i);
        if (duro_client_start(c, id, "Flow", input, &err) != 0)
            _exit(3);
    }
    duro_runtime_options opt;
    duro_runtime_options_init(&opt);
    crash_options(&opt);
    duro_runtime *rt = NULL;
    if (duro_runtime_start(p, reg, &opt, &rt, &err) != 0)
        _exit(4);
    for (;;)
        pause();
}

/* Read progress bytes until `want` arrived; returns how many did (fewer on EOF/timeout). */
static int read_progress(int fd, int want)
{
    int got = 0;
    int64_t until = duro__monotonic_ms() + E2E_WAIT_MS;
    char buf[64];
    while (got < want) {
        int64_t left = until - duro__monotonic_ms();
        struct pollfd pfd = {fd, POLLIN, 0};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            break;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        got += (int)n;
    }
    return got;
}

/* "src" of an event payload, or 0. */
static uint64_t event_src(const char *payload)
{
    json_t *j = json_loads(payload, 0, NULL);
    ck_assert_msg(j != NULL, "event payload is not JSON: %s", payload);
    json_t *src = json_object_get(j, "src");
    uint64_t v = json_is_integer(src) ? (uint64_t)json_integer_value(src) : 0;
    json_decref(j);
    return v;
}

/* Every ActivityScheduled event has exactly one ActivityCompleted pointing at it. */
static void check_history(e2e_env *e, const char *id)
{
    duro_event *ev = NULL;
    size_t n = 0, scheduled = 0, completed = 0;
    e2e_history(e, id, 0, &ev, &n);
    for (size_t i = 0; i < n; i++) {
        const char *kind = duro_event_kind_name(ev[i].kind);
        if (strcmp(kind, "ActivityCompleted") == 0)
            completed++;
        if (strcmp(kind, "ActivityScheduled") != 0)
            continue;
        scheduled++;
        size_t matches = 0;
        for (size_t k = 0; k < n; k++)
            if (strcmp(duro_event_kind_name(ev[k].kind), "ActivityCompleted") == 0 &&
                event_src(ev[k].payload) == ev[i].event_id)
                matches++;
        ck_assert_msg(matches == 1, "%s: activity %llu completed %zu times in history", id,
                      (unsigned long long)ev[i].event_id, matches);
    }
    duro_events_free(ev, n);
    ck_assert_msg(scheduled == 3 && completed == 3,
                  "%s: %zu activities scheduled, %zu completions", id, scheduled, completed);
    ck_assert_uint_eq(e2e_count_kind(e, id, 0, "TimerFired"), 1);
}

START_TEST(test_crash_recovery)
{
    char path[PATH_MAX];
    e2e_new_db_path(path, sizeof path);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        run_child(path, fds[1]);
    }
    close(fds[1]);
    int ran = read_progress(fds[0], KILL_AFTER);
    kill(pid, SIGKILL);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    close(fds[0]);
    ck_assert_msg(ran >= KILL_AFTER, "the child ran %d activities before it stopped (status %d)",
                  ran, status);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "the child ended on its own (status %d)", status);

    e2e_env e;
    e2e_open_path(&e, path);
    crash_options(&e.opt);
    step_ctx cx = {-1, 0};
    e2e_act(&e, "Step", act_step, &cx);
    e2e_orch(&e, "Flow", orch_flow, NULL);

    /* the kill happened mid-run: some instances are unfinished on disk (an instance whose
     * start message was not processed yet has no row: NOT_FOUND) */
    int unfinished = 0;
    for (int i = 0; i < N_INSTANCES; i++) {
        char id[32];
        snprintf(id, sizeof id, "crash-%02d", i);
        duro_status st = {0};
        duro_error err = {0};
        ck_assert_int_eq(duro_client_status(e.c, id, &st, &err), 0);
        unfinished += st.state != DURO_STATE_COMPLETED;
        duro_status_clear(&st);
    }
    printf("child killed after %d activity reports; %d of %d instances unfinished\n", ran,
           unfinished, N_INSTANCES);
    ck_assert_int_gt(unfinished, 0);

    e2e_start(&e);
    for (int i = 0; i < N_INSTANCES; i++) {
        char id[32], want[32];
        snprintf(id, sizeof id, "crash-%02d", i);
        snprintf(want, sizeof want, "%d.s.s.s+t", i);
        e2e_expect_completed(&e, id, want);
        check_history(&e, id);
    }
    e2e_close(&e);
}
END_TEST

/* ---- Crash at every step ------------------------------------------------------------------ */

/* One activity, a timer, another activity: the small workflow killed at every call. */
static int orch_small(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_task *a = duro_call_activity(o, "Step", "a");
    DURO_AWAIT(o, a);
    duro_task *tm = duro_timer(o, 5);
    DURO_AWAIT(o, tm);
    duro_task *b = duro_call_activity(o, "Step", duro_task_value(a));
    DURO_AWAIT(o, b);
    return duro_completef(o, "%s", duro_task_value(b));
}

/* Its one correct final history, event by event. */
static const char *const small_history[] = {
    "OrchestrationStarted", "ActivityScheduled", "ActivityCompleted", "TimerCreated",
    "TimerFired",           "ActivityScheduled", "ActivityCompleted", "OrchestrationCompleted"};

/* One turn thread, one activity thread, nothing fetched ahead: the calls come in one order;
 * short locks and polls: a dead process's locks expire and are noticed quickly. */
static void small_options(duro_runtime_options *opt)
{
    opt->orch_concurrency = 1;
    opt->worker_concurrency = 1;
    opt->prefetch_ms = 0;
    opt->orch_lock_ms = 150;
    opt->worker_lock_ms = 300;
    opt->poll_ms = 50;
}

static void small_register(duro_registry *reg, step_ctx *cx)
{
    ck_assert_int_eq(duro_register_activity(reg, "Step", act_step, cx), 0);
    ck_assert_int_eq(duro_register_orchestration(reg, "Small", NULL, orch_small, NULL), 0);
}

/* The doomed process: starts "small" on the database at `path` and runs it behind a fault
 * wrapper that kills this process right after the store answered call `crash_after`; exits
 * 0 if the workflow completes first. Plain error handling (no Check here). */
static void run_small_child(const char *path, uint64_t crash_after) __attribute__((noreturn));
static void run_small_child(const char *path, uint64_t crash_after)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    step_ctx cx = {-1, 0};
    duro_provider *p = NULL, *w = NULL;
    duro_registry *reg = duro_registry_new();
    duro_client *c = NULL;
    duro_error err = {0};
    duro_fault_options fo;
    duro_fault_options_init(&fo);
    fo.crash_after_call = crash_after;
    if (!reg || duro_sqlite_open(path, NULL, &p, &err) != 0 ||
        duro_register_activity(reg, "Step", act_step, &cx) != 0 ||
        duro_register_orchestration(reg, "Small", NULL, orch_small, NULL) != 0 ||
        duro_client_new(p, &c, &err) != 0 || duro_client_start(c, "small", "Small", "", &err) ||
        duro_fault_wrap(p, &fo, &w, &err) != 0)
        _exit(2);
    duro_runtime_options opt;
    duro_runtime_options_init(&opt);
    small_options(&opt);
    duro_runtime *rt = NULL;
    duro_status st = {0};
    if (duro_runtime_start(w, reg, &opt, &rt, &err) != 0 ||
        duro_client_wait(c, "small", E2E_WAIT_MS, &st, &err) != 0)
        _exit(3);
    _exit(st.state == DURO_STATE_COMPLETED ? 0 : 4);
}

/* After a kill (or none), a fresh runtime finishes the workflow and its history is exactly
 * the one correct history: nothing lost, nothing recorded twice. */
static void recover_small(const char *path, uint64_t crash_after)
{
    e2e_env e;
    step_ctx cx = {-1, 0};
    duro_event *ev = NULL;
    size_t n = 0;
    e2e_open_path(&e, path);
    small_options(&e.opt);
    small_register(e.reg, &cx);
    e2e_start(&e);
    e2e_expect_completed(&e, "small", "a.s.s");
    e2e_history(&e, "small", 0, &ev, &n);
    ck_assert_msg(n == sizeof small_history / sizeof small_history[0],
                  "killed after call %llu: %zu events in the final history",
                  (unsigned long long)crash_after, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strcmp(duro_event_kind_name(ev[i].kind), small_history[i]) == 0 &&
                          ev[i].event_id == i + 1,
                      "killed after call %llu: event %zu is %s #%llu, expected %s",
                      (unsigned long long)crash_after, i + 1, duro_event_kind_name(ev[i].kind),
                      (unsigned long long)ev[i].event_id, small_history[i]);
    duro_events_free(ev, n);
    e2e_close(&e);
}

/* Kill the process right after each provider call of the small workflow in turn (call 1, 2,
 * ... through the whole run: the fault wrapper's crash_after_call), then recover on the same
 * file and check the exact final history. */
START_TEST(test_crash_at_every_call)
{
    /* a clean run behind the wrapper counts the calls */
    e2e_env e;
    step_ctx cx = {-1, 0};
    duro_fault_options fo;
    e2e_open(&e, E2E_FILE);
    small_options(&e.opt);
    small_register(e.reg, &cx);
    duro_fault_options_init(&fo);
    e2e_wrap_faults(&e, &fo);
    e2e_start(&e);
    e2e_start_instance(&e, "small", "Small", "");
    e2e_expect_completed(&e, "small", "a.s.s");
    e2e_stop(&e);
    uint64_t calls = duro_fault_calls(e.faults);
    e2e_close(&e);
    ck_assert_uint_ge(calls, 8); /* at least a fetch and an ack per turn and activity */

    uint64_t killed = 0;
    for (uint64_t k = 1; k <= calls; k++) {
        char path[PATH_MAX];
        e2e_new_db_path(path, sizeof path);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            run_small_child(path, k);
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            killed++;
        else /* a run may need a few calls fewer than the counted one (idle polls) */
            ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                          "child for call %llu ended with status %d", (unsigned long long)k,
                          status);
        recover_small(path, k);
    }
    printf("crash at every call: %llu calls, %llu kills, every recovery exact\n",
           (unsigned long long)calls, (unsigned long long)killed);
    ck_assert_uint_ge(killed, calls - calls / 4);
}
END_TEST

int main(void)
{
    const e2e_test tests[] = {{"crash_recovery", test_crash_recovery},
                              {"crash_at_every_call", test_crash_at_every_call}};
    return e2e_main("test-crash", 1u << E2E_FILE, tests, 2);
}
