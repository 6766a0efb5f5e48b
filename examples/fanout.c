/*
 * fanout.c — fan-out/fan-in with duro: one orchestration schedules N activities at once
 * (each squares its input), waits for all of them with DURO_AWAIT_ALL and completes with
 * their sum. Runs on a private in-memory SQLite database with 4 activity threads, prints
 * the result and the elapsed time, and exits 0 when the sum is right.
 *
 *     ./fanout [N]      N activities, 1..1000, default 100
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "duro-sqlite.h"
#include "duro.h"

#define FANOUT_MAX 1000

static int square(duro_activity *a, const char *input, void *ud)
{
    (void)ud;
    long long v = strtoll(input, NULL, 10);
    return duro_activity_okf(a, "%lld", v * v);
}

/* Input: N. Output: the sum of the squares of 0..N-1, computed by N activities. */
static int fan_out(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    long n = strtol(input, NULL, 10);
    if (n < 1 || n > FANOUT_MAX)
        return duro_failf(o, "N must be 1..%d, got \"%s\"", FANOUT_MAX, input);
    duro_task *tasks[FANOUT_MAX];
    char arg[24];
    for (long i = 0; i < n; i++) {
        snprintf(arg, sizeof arg, "%ld", i);
        tasks[i] = duro_call_activity(o, "Square", arg);
    }
    DURO_AWAIT_ALL(o, tasks, (size_t)n);
    long long sum = 0;
    for (long i = 0; i < n; i++) {
        if (!duro_task_ok(tasks[i]))
            return duro_failf(o, "square(%ld) failed: %s", i, duro_task_error(tasks[i]));
        sum += strtoll(duro_task_value(tasks[i]), NULL, 10);
    }
    return duro_completef(o, "%lld", sum);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
    if (n < 1 || n > FANOUT_MAX) {
        fprintf(stderr, "usage: fanout [N]   (N activities, 1..%d)\n", FANOUT_MAX);
        return 2;
    }
    char input[24];
    snprintf(input, sizeof input, "%ld", n);

    duro_provider *provider = NULL;
    duro_registry *registry = NULL;
    duro_runtime *runtime = NULL;
    duro_client *client = NULL;
    duro_status st = {0};
    duro_error err = {0};
    duro_runtime_options opt;
    int rc, status = EXIT_FAILURE;

    rc = duro_sqlite_open(":memory:", NULL, &provider, &err);
    if (rc != 0) {
        fprintf(stderr, "fanout: cannot open the database: %s\n", err.message);
        return EXIT_FAILURE;
    }
    registry = duro_registry_new();
    if (!registry || duro_register_activity(registry, "Square", square, NULL) != 0 ||
        duro_register_orchestration(registry, "FanOut", NULL, fan_out, NULL) != 0) {
        fprintf(stderr, "fanout: cannot register the handlers\n");
        goto out;
    }
    duro_runtime_options_init(&opt);
    opt.worker_concurrency = 4;
    rc = duro_runtime_start(provider, registry, &opt, &runtime, &err);
    if (rc == 0)
        rc = duro_client_new(provider, &client, &err);
    if (rc != 0) {
        fprintf(stderr, "fanout: cannot start: %s\n", err.message);
        goto out;
    }
    int64_t t0 = mono_ms();
    rc = duro_client_start(client, "fanout-1", "FanOut", input, &err);
    if (rc == 0)
        rc = duro_client_wait(client, "fanout-1", 60000, &st, &err);
    if (rc != 0) {
        fprintf(stderr, "fanout: %s (%s)\n", duro_strerror(rc), err.message);
        goto out;
    }
    if (st.state != DURO_STATE_COMPLETED) {
        fprintf(stderr, "fanout: the orchestration ended %s: %s\n", duro_state_name(st.state),
                st.error ? st.error : "");
        goto out;
    }
    long long want = (long long)(n - 1) * n * (2 * n - 1) / 6;
    printf("sum of squares of 0..%ld = %s (%ld activities, %" PRId64 " ms)\n", n - 1,
           st.output, n, mono_ms() - t0);
    if (strtoll(st.output, NULL, 10) != want) {
        fprintf(stderr, "fanout: expected %lld\n", want);
        goto out;
    }
    status = EXIT_SUCCESS;
out:
    duro_status_clear(&st);
    duro_client_free(client);
    duro_runtime_shutdown(runtime);
    duro_registry_free(registry);
    duro_provider_destroy(provider);
    return status;
}
