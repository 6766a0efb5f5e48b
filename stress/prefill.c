/*
 * prefill.c — --prefill N: fill a fresh store with N completed instances before the measured
 * run, so that the run shows how the store's size affects fetch latency and throughput.
 *
 * The instances go through the engine, the normal path of every provider: a runtime of its
 * own on the store and a client that keeps PREFILL_WINDOW starts in flight. Each instance
 * ("prefill-<i>", orchestration StressPrefill) calls one activity that echoes its input and
 * completes with that output, so the store holds what a user's completed instance leaves: an
 * instance row, a history of started / activity scheduled / activity completed / completed
 * events with the turn markers, and empty queues. Nothing is written behind the provider's
 * back, so the filled store is exactly one a real workload would have made.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "stress.h"

#define ORCH_PREFILL "StressPrefill"
#define ACT_PREFILL "StressPrefillEcho"
#define PREFILL_WINDOW 256 /* starts kept in flight */
#define PREFILL_STALL_SECS 60 /* no instance ended for this long: the prefill fails */

typedef struct prefill {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t inflight;
    uint64_t completed;
    uint64_t failed;
    char first_failure[256];
} prefill;

static int act_prefill(duro_activity *a, const char *input, void *ud)
{
    (void)ud;
    return duro_activity_ok(a, input);
}

static int orch_prefill(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_task *t = duro_call_activity(o, ACT_PREFILL, input);
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_failf(o, "prefill echo failed: %.80s", duro_task_error(t));
    return duro_complete(o, duro_task_value(t));
}

static void on_prefill_terminal(const duro_terminal_event *ev, void *ud)
{
    prefill *f = ud;
    pthread_mutex_lock(&f->mu);
    if (ev->state == DURO_STATE_COMPLETED) {
        f->completed++;
    } else if (f->failed++ == 0) {
        snprintf(f->first_failure, sizeof f->first_failure, "%s ended %s: %.120s",
                 ev->instance, duro_state_name(ev->state), ev->output ? ev->output : "");
    }
    f->inflight--;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* With f->mu held: wait until fewer than `limit` instances are in flight. 0, or DURO_EIO
 * (err filled) when none ended for PREFILL_STALL_SECS. */
static int wait_below(prefill *f, uint64_t limit, duro_error *err)
{
    while (f->inflight >= limit) {
        uint64_t ended = f->completed + f->failed;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += PREFILL_STALL_SECS;
        int rc = 0;
        while (f->inflight >= limit && f->completed + f->failed == ended && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&f->cv, &f->mu, &until);
        if (rc == ETIMEDOUT && f->completed + f->failed == ended)
            return duro_error_set(err, DURO_EIO, 0, "prefill stalled: no instance ended in "
                                  "%d s (%" PRIu64 " completed, %" PRIu64 " in flight)",
                                  PREFILL_STALL_SECS, f->completed, f->inflight);
    }
    return 0;
}

/* Start every instance, at most PREFILL_WINDOW at once, and wait for all of them. */
static int fill(prefill *f, duro_client *c, uint64_t n, duro_error *err)
{
    char id[48], input[32];
    for (uint64_t i = 0; i < n; i++) {
        pthread_mutex_lock(&f->mu);
        int rc = wait_below(f, PREFILL_WINDOW, err);
        f->inflight += rc == 0;
        pthread_mutex_unlock(&f->mu);
        if (rc != 0)
            return rc;
        snprintf(id, sizeof id, "prefill-%" PRIu64, i);
        snprintf(input, sizeof input, "%" PRIu64, i);
        do
            rc = duro_client_start(c, id, ORCH_PREFILL, input, err);
        while (rc != 0 && err != NULL && err->retryable);
        if (rc != 0) {
            pthread_mutex_lock(&f->mu);
            f->inflight--;
            pthread_mutex_unlock(&f->mu);
            return rc;
        }
    }
    pthread_mutex_lock(&f->mu);
    int rc = wait_below(f, 1, err);
    pthread_mutex_unlock(&f->mu);
    return rc;
}

int duro__prefill(duro_provider *store, uint64_t n, int orch_threads, int worker_threads,
                  double *secs, duro_error *err)
{
    prefill f = {.inflight = 0};
    duro_registry *reg = duro_registry_new();
    duro_runtime *rt = NULL;
    duro_client *c = NULL;
    int rc;

    *secs = 0;
    if (n == 0) {
        duro_registry_free(reg);
        return 0;
    }
    if (reg == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "prefill: out of memory");
    if (pthread_mutex_init(&f.mu, NULL) != 0) {
        duro_registry_free(reg);
        return duro_error_set(err, DURO_ENOMEM, 0, "prefill: cannot initialise a lock");
    }
    if (pthread_cond_init(&f.cv, NULL) != 0) {
        pthread_mutex_destroy(&f.mu);
        duro_registry_free(reg);
        return duro_error_set(err, DURO_ENOMEM, 0, "prefill: cannot initialise a lock");
    }
    int64_t t0 = duro__monotonic_ns();
    rc = duro_register_orchestration(reg, ORCH_PREFILL, NULL, orch_prefill, NULL);
    if (rc == 0)
        rc = duro_register_activity(reg, ACT_PREFILL, act_prefill, NULL);
    if (rc != 0) {
        duro_error_set(err, rc, 0, "prefill: registering: %s", duro_strerror(rc));
        goto out;
    }
    duro_runtime_options opt;
    duro_runtime_options_init(&opt);
    opt.orch_concurrency = orch_threads;
    opt.worker_concurrency = worker_threads;
    opt.on_terminal = on_prefill_terminal;
    opt.on_terminal_ud = &f;
    duro_error why = {0};
    rc = duro_runtime_start(store, reg, &opt, &rt, &why);
    if (rc != 0) {
        duro_error_set(err, rc, 0, "prefill: runtime did not start: %s", why.message);
        goto out;
    }
    rc = duro_client_new(store, &c, err);
    if (rc == 0)
        rc = fill(&f, c, n, err);
    if (rc == 0 && f.failed > 0)
        rc = duro_error_set(err, DURO_EIO, 0, "prefill: %" PRIu64 " of %" PRIu64
                            " instances did not complete; first: %s", f.failed, n,
                            f.first_failure);
out:
    duro_client_free(c);
    if (rt != NULL)
        duro_runtime_shutdown(rt);
    *secs = (double)(duro__monotonic_ns() - t0) / 1e9;
    pthread_cond_destroy(&f.cv);
    pthread_mutex_destroy(&f.mu);
    duro_registry_free(reg);
    return rc;
}
