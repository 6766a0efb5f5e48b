/*
 * tracing.c — the runtime's trace hook and metrics: the hello orchestration run with an
 * on_span callback that logs every span (turn, activity attempt, provider call) as one line
 * on stderr, then the runtime's metrics snapshot printed in the Prometheus text format on
 * stdout. An application connects the same callback to OpenTelemetry (one span per call,
 * span_id / parent_span_id as the span and parent ids) or to its logs. Exits 0 when the
 * instance completed.
 *
 *     cc tracing.c $(pkg-config --cflags --libs duro-sqlite) -o tracing && ./tracing
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "duro-sqlite.h"
#include "duro.h"

static int greet(duro_activity *a, const char *name, void *ud)
{
    (void)ud;
    return duro_activity_okf(a, "Hello, %s!", name);
}

static int hello(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_task *t = duro_call_activity(o, "Greet", input);
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_fail(o, duro_task_error(t));
    return duro_complete(o, duro_task_value(t));
}

/* Runs on runtime threads, several at once: one fprintf per span keeps lines whole. It does
 * not call back into the runtime and returns at once. */
static void log_span(const duro_span *s, void *ud)
{
    static const char *const kinds[] = {"?", "turn", "activity", "provider"};
    FILE *out = ud;
    fprintf(out, "span %" PRIu64 " parent %" PRIu64 " %s %s instance=%s exec=%" PRIu64
                 " attempt=%u %" PRId64 "us status=%s\n",
            s->span_id, s->parent_span_id, kinds[s->kind <= DURO_SPAN_PROVIDER ? s->kind : 0],
            s->name, s->instance ? s->instance : "-", s->execution_id, s->attempt,
            s->end_us - s->start_us, s->status ? duro_strerror(s->status) : "ok");
}

/* The end of the instance as the runtime's observer reports it: from then on its counts
 * are all in the metrics snapshot (a client may see the state a moment earlier). */
static pthread_mutex_t ended_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended_cv = PTHREAD_COND_INITIALIZER;
static int ended;

static void on_terminal(const duro_terminal_event *ev, void *ud)
{
    (void)ev;
    (void)ud;
    pthread_mutex_lock(&ended_mu);
    ended = 1;
    pthread_cond_broadcast(&ended_cv);
    pthread_mutex_unlock(&ended_mu);
}

int main(void)
{
    duro_provider *provider = NULL;
    duro_registry *registry = NULL;
    duro_runtime *runtime = NULL;
    duro_client *client = NULL;
    duro_runtime_options opt;
    duro_runtime_metrics m;
    duro_status st = {0};
    duro_error err = {0};
    int rc, status = EXIT_FAILURE;

    rc = duro_sqlite_open(":memory:", NULL, &provider, &err);
    if (rc != 0) {
        fprintf(stderr, "tracing: cannot open the database: %s\n", err.message);
        return EXIT_FAILURE;
    }
    registry = duro_registry_new();
    if (!registry || duro_register_activity(registry, "Greet", greet, NULL) != 0 ||
        duro_register_orchestration(registry, "Hello", NULL, hello, NULL) != 0) {
        fprintf(stderr, "tracing: cannot register the handlers\n");
        goto out;
    }
    duro_runtime_options_init(&opt);
    opt.on_span = log_span;
    opt.on_span_ud = stderr;
    opt.on_terminal = on_terminal;
    rc = duro_runtime_start(provider, registry, &opt, &runtime, &err);
    if (rc == 0)
        rc = duro_client_new(provider, &client, &err);
    if (rc == 0)
        rc = duro_client_start(client, "hello-1", "Hello", "World", &err);
    if (rc == 0)
        rc = duro_client_wait(client, "hello-1", 10000, &st, &err);
    if (rc != 0) {
        fprintf(stderr, "tracing: %s (%s)\n", duro_strerror(rc), err.message);
        goto out;
    }
    if (st.state != DURO_STATE_COMPLETED) {
        fprintf(stderr, "tracing: the orchestration ended %s\n", duro_state_name(st.state));
        goto out;
    }
    pthread_mutex_lock(&ended_mu);
    while (!ended) /* the wait above saw the end, so the report is on its way */
        pthread_cond_wait(&ended_cv, &ended_mu);
    pthread_mutex_unlock(&ended_mu);
    duro_runtime_metrics_init(&m);
    rc = duro_runtime_metrics_get(runtime, &m, &err);
    if (rc == 0)
        rc = duro_runtime_metrics_write(&m, stdout);
    if (rc != 0) {
        fprintf(stderr, "tracing: metrics: %s\n", duro_strerror(rc));
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
