/*
 * role.c — duro-stress --role runtime: serve an existing store.
 *
 * A run split across machines has two kinds of process: drivers (--role driver, runner.c:
 * start roots, read their ends from the store, verify, check integrity) and runtimes
 * (--role runtime, here): a process that opens an existing store through the factory's
 * attach hook, runs one runtime with every stress orchestration and activity on it, and
 * serves until it is told to stop (SIGINT, SIGTERM) or its time is up. They share nothing
 * but the store, so they may run on different hosts; a runtime may be killed at any moment.
 * With --ledger, a runtime's ledger (ledger.c) gets a line per activity it executes and per
 * end it commits.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

#define MAX_PRINTED_WARNINGS 5

/* What the runtime's callbacks share. */
typedef struct server {
    duro__stress_ctx ctx;
    atomic_uint_fast64_t ended;    /* ends (roots and children) this runtime committed */
    atomic_uint_fast64_t warnings; /* runtime warnings and errors */
} server;

static void serve_on_terminal(const duro_terminal_event *ev, void *ud)
{
    server *s = ud;
    if (ev->state != DURO_STATE_COMPLETED && ev->state != DURO_STATE_FAILED)
        return;
    atomic_fetch_add(&s->ended, 1);
    duro__ledger(s->ctx.ledger_fd, "end %s %s %s", s->ctx.runner, ev->instance,
                 duro_state_name(ev->state));
}

static void serve_on_log(int level, const char *instance, const char *message, void *ud)
{
    server *s = ud;
    if (level < 1)
        return;
    uint64_t n = atomic_fetch_add(&s->warnings, 1);
    if (strstr(message, DURO_FAULT_SIGNATURE) == NULL && n < MAX_PRINTED_WARNINGS)
        fprintf(stderr, "duro-stress: runtime %s: %s%s%s: %s\n", s->ctx.runner,
                level >= 2 ? "error" : "warning", instance != NULL ? " on " : "",
                instance != NULL ? instance : "", message);
}

/* Wait for SIGINT or SIGTERM (blocked in every thread) for at most `secs`. The signal, or
 * 0 when the time ran out. */
static int wait_for_stop(const sigset_t *set, double secs)
{
    int64_t deadline = duro__monotonic_ns() + (int64_t)(secs * 1e9);
    for (;;) {
        int64_t left = deadline - duro__monotonic_ns();
        if (left <= 0)
            return 0;
        struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig > 0)
            return sig;
        if (errno != EINTR && errno != EAGAIN)
            return 0;
    }
}

/* The runner name: --name, or <hostname>-<pid>. */
static void runner_name(const duro__stress_opts *o, char *buf, size_t size)
{
    char host[64] = "host";
    if (o->runner_name != NULL) {
        snprintf(buf, size, "%s", o->runner_name);
        return;
    }
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(buf, size, "%s-%ld", host, (long)getpid());
}

/* Open the store, run the runtime on it until told to stop, shut it down and print the
 * summary. 0, or a DURO_E* code with err filled when the store or the runtime would not
 * open or start. */
static int serve(server *s, const duro_provider_factory *f, const duro_registry *reg,
                 const sigset_t *stop, FILE *out, duro_error *err)
{
    const duro_stress_config *cfg = s->ctx.cfg;
    duro_provider *h = NULL, *w = NULL;
    duro_runtime *rt = NULL;
    duro_fault_options fo;
    duro_runtime_options opt;
    int rc = f->attach(f->ud, cfg->store, &h, err);
    if (rc == 0 && duro__fault_options(cfg, &fo))
        rc = duro_fault_wrap(h, &fo, &w, err);
    duro_runtime_options_init(&opt);
    opt.orch_concurrency = cfg->orch_concurrency;
    opt.worker_concurrency = cfg->worker_concurrency;
    if (cfg->prefetch_ms >= 0)
        opt.prefetch_ms = cfg->prefetch_ms;
    opt.on_terminal = serve_on_terminal;
    opt.on_terminal_ud = s;
    opt.log = serve_on_log;
    opt.log_ud = s;
    if (rc == 0)
        rc = duro_runtime_start(w != NULL ? w : h, reg, &opt, &rt, err);
    if (rc == 0) {
        int64_t t0 = duro__monotonic_ns();
        fprintf(out, "duro-stress: runtime %s serving (%d/%d threads, pid %ld)\n",
                s->ctx.runner, cfg->orch_concurrency, cfg->worker_concurrency,
                (long)getpid());
        fflush(out);
        int sig = wait_for_stop(stop, cfg->duration_secs);
        duro_runtime_shutdown(rt);
        fprintf(out, "duro-stress: runtime %s stopped (%s) after %.1f s: %llu activities, "
                "%llu ends committed, %llu runtime warnings\n", s->ctx.runner,
                sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "--duration",
                (double)(duro__monotonic_ns() - t0) / 1e9,
                (unsigned long long)atomic_load(&s->ctx.activities),
                (unsigned long long)atomic_load(&s->ended),
                (unsigned long long)atomic_load(&s->warnings));
    }
    duro_provider_destroy(w);
    duro_provider_destroy(h);
    return rc;
}

int duro__stress_serve(const duro_provider_factory *f, const duro__stress_opts *o, FILE *out)
{
    char name[96];
    runner_name(o, name, sizeof name);
    /* blocked before any thread exists, so that only wait_for_stop takes them */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    server s;
    memset(&s, 0, sizeof s);
    s.ctx.cfg = &o->cfg;
    s.ctx.runner = name;
    s.ctx.ledger_fd = -1;
    atomic_init(&s.ctx.activities, 0);
    atomic_init(&s.ctx.injected, 0);
    atomic_init(&s.ended, 0);
    atomic_init(&s.warnings, 0);
    duro_error err = {0};
    duro_registry *reg = duro_registry_new();
    int rc = reg == NULL ? DURO_ENOMEM : duro__scenario_register(reg, &s.ctx);
    if (rc != 0)
        duro_error_set(&err, rc, 0, "cannot register the handlers: %s", duro_strerror(rc));
    if (rc == 0 && o->cfg.ledger != NULL &&
        (s.ctx.ledger_fd = duro__ledger_open(o->cfg.ledger, &err)) < 0)
        rc = DURO_EIO;
    if (rc == 0)
        rc = serve(&s, f, reg, &stop, out, &err);
    if (rc != 0)
        fprintf(stderr, "duro-stress: runtime %s: %s\n", name, err.message);
    duro_registry_free(reg);
    if (s.ctx.ledger_fd >= 0)
        close(s.ctx.ledger_fd);
    return rc != 0;
}
