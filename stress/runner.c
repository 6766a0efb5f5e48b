/*
 * runner.c — one measured stress run (duro_stress_run).
 *
 * A fresh store, one or more runtimes on it, a client, and a driver thread (the caller) that
 * launches root instances for the launch window: closed loop (keep max_concurrent in flight,
 * launch the next one as soon as one ends) or open loop (a fixed schedule of `rate` per
 * second, latency measured from the scheduled time so a slow system cannot hide its queueing).
 * Completion is learned from the runtime's terminal observer, never by polling the store: the
 * observer verifies the output, stamps the end time and signals the driver's condition
 * variable. Then the drain (until every root ended or wait_timeout), the metrics, and the
 * integrity checks. The only sleeps are the activities' own work and the sampler's period.
 *
 * The driver role (cfg->store) is the same run without runtimes, on an existing store that
 * runtimes in other processes or on other machines serve: a watcher thread reads the status
 * of every root in flight every WATCH_PERIOD_NS instead of the observer, and each start and
 * end read is a ledger line (cfg->ledger), with the runtime that committed the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "stress.h"

#define ROOT_PREFIX "stress-"
#define SAMPLE_PERIOD_NS INT64_C(250000000)
#define START_RETRIES 20
#define MAX_RUNTIMES 64
#define MAX_PROCESSES 64
#define MAX_SPARES 256 /* fresh children held ready to replace killed ones */
#define MAX_PRINTED_WARNINGS 5
#define MIN_SLOPE_SAMPLES 8 /* 2 s of samples */
#define WATCH_PERIOD_NS INT64_C(50000000) /* driver role: how often ends are read */

void duro_stress_config_init(duro_stress_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->max_concurrent = 20;
    cfg->duration_secs = 10;
    cfg->tasks_per_instance = 5;
    cfg->activity_delay_ms = 10;
    cfg->orch_concurrency = 2;
    cfg->worker_concurrency = 2;
    cfg->wait_timeout_secs = 60;
    cfg->runtimes = 1;
    cfg->prefetch_ms = -1;
}

/* One launched root. */
typedef struct rec {
    int64_t start_ns;        /* launch time (closed loop) or scheduled time (open loop) */
    int64_t end_ns;          /* when the observer saw it end; 0 while in flight */
    unsigned char done;      /* 0 in flight, 1 completed and verified, 2 failed */
    unsigned char observed;  /* state the observer reported, 0 if none */
    unsigned char verified;  /* 1 when the reported output was the expected one */
    unsigned char swept;     /* its end was read from the store (see sweep) */
} rec;

typedef struct run {
    const duro_stress_config *cfg;
    int scenario;
    duro_stress_result *res;   /* counters are updated under mu */
    char label[128];

    pthread_mutex_t mu;
    pthread_cond_t cv;         /* CLOCK_MONOTONIC; signalled when a root ends */
    rec *recs;
    size_t n_recs, cap;
    uint64_t inflight;
    int closed;                /* drain over: the observer ignores late root events */
    size_t failure_len;        /* bytes used in res->first_failure */
    int64_t t0, window_end, timeout_ns; /* window_end moves earlier once with max_roots:
                                         * written under mu, read atomically by the sampler */

    duro__stress_ctx *ctx;     /* counters of the handlers; shared with child processes */
    duro__procs *procs;        /* child processes (cfg->processes), NULL otherwise */
    duro_client *sweep_client; /* the reader's or watcher's own client (processes, store) */
    size_t sweep_from;         /* every root before this index has ended */
    int64_t sweep_age_ns;      /* a root is looked up once it has run this long */
    int ledger_fd;             /* cfg->ledger, else -1 */
    int64_t next_kill;         /* sampler: when to kill the next child */
    long child_max_rss;        /* largest child's peak RSS (KB) in this run, -1 without
                                * children */
    int rss_reset;             /* 1: the RSS high-water mark was reset at the run's start */
    double child_cpu0;         /* CPU of reaped children before this run's were forked */
    uint64_t procs_killed;
    atomic_uint_fast64_t warnings;  /* runtime warnings and errors */
    atomic_uint_fast64_t printed;   /* of which not injected on purpose */
    atomic_uint_fast64_t start_retries;
    long fds_start, fds_end;        /* open descriptors at t0 and after the drain */
    const duro_provider_factory *counter; /* counts this run's statements, or NULL */
    uint64_t statements_at_open;    /* its count just before the store was opened */
    int statements_counted;         /* res->store_statements holds this run's count */
    char session_owner[DURO__ROUTING_SESSIONS]; /* routing: who ran each session's steps
                                                 * ('A', 'B'; 0: none yet), under mu */

    /* sampler thread, and the watcher thread of the driver role; both stop on `stop` */
    pthread_t sampler, watcher;
    int sampler_running, watcher_running;
    pthread_mutex_t smu;
    pthread_cond_t scv;
    int stop;
    double *st, *srss;         /* sample times (s since t0) and RSS (KB) in the window */
    size_t n_samples, samples_cap;
    long max_rss;
    int progress_shown;
} run;

static struct timespec to_abs(int64_t mono_ns)
{
    struct timespec ts = {(time_t)(mono_ns / 1000000000), (long)(mono_ns % 1000000000)};
    return ts;
}

static void timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ns)
{
    struct timespec ts = to_abs(deadline_ns);
    pthread_cond_timedwait(cv, mu, &ts);
}

static void note_failure(run *r, const char *instance, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append "instance: message" to the failure samples (mu held); the first few only. */
static void note_failure(run *r, const char *instance, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    duro__appendf(r->res->first_failure, sizeof r->res->first_failure, &r->failure_len,
                  "%s: %s", instance, msg);
}

/* 0: one of our roots (idx set); 1: one of our sub-orchestrations; -1: not ours. */
static int classify_instance(const char *instance, uint64_t *idx)
{
    size_t pl = sizeof ROOT_PREFIX - 1;
    if (strncmp(instance, ROOT_PREFIX, pl) != 0)
        return -1;
    const char *s = instance + pl;
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    if (*end != '\0')
        return 1;
    *idx = v;
    return 0;
}

static void count_failure_class(run *r, const duro_terminal_event *ev)
{
    duro_stress_result *res = r->res;
    switch (ev->category) {
    case DURO_CAT_CONFIGURATION:
        res->failed_configuration++;
        break;
    case DURO_CAT_APPLICATION:
        res->failed_application++;
        break;
    default: /* infrastructure, poison, or none given */
        res->failed_infrastructure++;
        break;
    }
    note_failure(r, ev->instance, "failed (%s): %.200s", duro_category_name(ev->category),
                 ev->output != NULL ? ev->output : "");
}

/* Record the end of an instance. `swept`: read from the store by sweep(), which yields to
 * a report that arrived first; a report arriving after it is ignored. Returns 1 when the
 * event ended a root in flight, else 0. */
/* The routing scenario: check the session steps of verified root idx (mu held); counted in
 * session_steps, or as a session mismatch with its failure noted. */
static void check_sessions(run *r, const char *instance, uint64_t idx, const char *output)
{
    char why[256];
    int steps = duro__scenario_check_sessions(r->scenario, idx, r->cfg, output,
                                              r->session_owner, why, sizeof why);
    if (steps >= 0) {
        r->res->session_steps += (uint64_t)steps;
        return;
    }
    r->res->session_mismatches++;
    note_failure(r, instance, "%s", why);
}

static int observe(run *r, const duro_terminal_event *ev, int swept)
{
    int64_t now = duro__monotonic_ns();
    uint64_t idx = 0;
    int kind = classify_instance(ev->instance, &idx);
    if (kind < 0)
        return 0;
    if (ev->state == DURO_STATE_CONTINUED_AS_NEW || kind == 1) {
        /* Counted until the runtimes stop: a child's callback may come after its parent's. */
        pthread_mutex_lock(&r->mu);
        if (ev->state == DURO_STATE_CONTINUED_AS_NEW)
            r->res->continued_as_new++;
        else
            r->res->children++;
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    if (ev->state != DURO_STATE_COMPLETED && ev->state != DURO_STATE_FAILED)
        return 0;
    char why[256] = "";
    int wrong = ev->state == DURO_STATE_COMPLETED &&
                duro__scenario_verify(r->scenario, idx, r->cfg, ev->output, why, sizeof why) != 0;

    pthread_mutex_lock(&r->mu);
    if (r->closed) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    if (idx < r->n_recs && (r->recs[idx].swept || (swept && r->recs[idx].done != 0))) {
        pthread_mutex_unlock(&r->mu); /* sweep and report raced: the first one counts */
        return 0;
    }
    if (idx >= r->n_recs || r->recs[idx].done != 0) {
        r->res->duplicate_terminal++;
        note_failure(r, ev->instance, "reported %s although %s",
                     duro_state_name(ev->state),
                     idx >= r->n_recs ? "never launched" : "already ended");
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    rec *x = &r->recs[idx];
    x->end_ns = now;
    if (swept) {
        x->swept = 1;
        r->res->swept_terminals++;
    }
    x->observed = (unsigned char)ev->state;
    x->verified = ev->state == DURO_STATE_COMPLETED && !wrong;
    if (x->verified)
        check_sessions(r, ev->instance, idx, ev->output);
    if (wrong) {
        x->done = 2;
        r->res->wrong_output++;
        note_failure(r, ev->instance, "wrong output: %s", why);
    } else if (ev->state == DURO_STATE_FAILED) {
        x->done = 2;
        count_failure_class(r, ev);
    } else if (now - x->start_ns > r->timeout_ns) {
        x->done = 2;
        r->res->failed_timeout++;
        note_failure(r, ev->instance, "completed after %.1f s, over wait_timeout",
                     (double)(now - x->start_ns) / 1e9);
    } else {
        x->done = 1;
        r->res->completed++;
    }
    r->inflight--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return 1;
}

/* The runtime's terminal observer: runs on a runtime thread, never blocks for long. */
static void on_terminal(const duro_terminal_event *ev, void *ud)
{
    observe(ud, ev, 0);
}

/* With child processes, a root is looked up in the store only when it has run this long
 * without a report (the driver role looks up every root in flight); at most SWEEP_BATCH
 * roots per sweep. */
#define SWEEP_AGE_NS INT64_C(1000000000)
#define SWEEP_BATCH 256

/* With child processes (reader thread, every 200 ms): a child killed between committing an
 * instance's end and reporting it leaves no report; read the state of every root in flight
 * for longer than sweep_age_ns from the store, and record the ended ones. In the driver role
 * (watcher thread) this is how every end is learned, and each is a ledger line naming the
 * runtime that committed it (the root's custom status, "-" when none). */
static void sweep(void *ud)
{
    run *r = ud;
    size_t due[SWEEP_BATCH], n_due = 0;
    int64_t now = duro__monotonic_ns();
    pthread_mutex_lock(&r->mu);
    duro_client *c = r->sweep_client;
    while (r->sweep_from < r->n_recs && r->recs[r->sweep_from].done != 0)
        r->sweep_from++;
    for (size_t i = r->sweep_from; c != NULL && !r->closed && i < r->n_recs; i++) {
        if (now - r->recs[i].start_ns < r->sweep_age_ns || n_due == SWEEP_BATCH)
            break; /* roots are recorded in start order: the rest are younger */
        if (r->recs[i].done == 0)
            due[n_due++] = i;
    }
    pthread_mutex_unlock(&r->mu);
    for (size_t k = 0; k < n_due; k++) {
        char id[64];
        snprintf(id, sizeof id, ROOT_PREFIX "%zu", due[k]);
        duro_status st;
        duro_error err = {0};
        if (duro_client_status(c, id, &st, &err) != 0)
            continue;
        if (st.state == DURO_STATE_COMPLETED || st.state == DURO_STATE_FAILED) {
            int done = st.state == DURO_STATE_COMPLETED;
            duro_terminal_event ev = {.instance = id, .execution_id = st.execution_id,
                                      .state = st.state,
                                      .output = done ? st.output : st.error,
                                      .category = st.error_category};
            if (observe(r, &ev, 1))
                duro__ledger(r->ledger_fd, "done driver %s %s %s", id,
                             duro_state_name(st.state),
                             st.custom_status != NULL ? st.custom_status : "-");
        }
        duro_status_clear(&st);
    }
}

/* Runtime log sink: count warnings and errors, print the first few that we did not cause. */
static void on_log(int level, const char *instance, const char *message, void *ud)
{
    run *r = ud;
    if (level < 1)
        return;
    atomic_fetch_add(&r->warnings, 1);
    if (strstr(message, DURO_FAULT_SIGNATURE) != NULL)
        return; /* an error we injected on purpose: counted, not printed */
    uint64_t n = atomic_fetch_add(&r->printed, 1);
    if (n < MAX_PRINTED_WARNINGS)
        fprintf(stderr, "%sduro-stress: runtime %s%s%s: %s\n", r->cfg->progress ? "\r\033[K" : "",
                level >= 2 ? "error" : "warning", instance != NULL ? " on " : "",
                instance != NULL ? instance : "", message);
    else if (n == MAX_PRINTED_WARNINGS)
        fprintf(stderr, "%sduro-stress: further runtime warnings are counted, not printed\n",
                r->cfg->progress ? "\r\033[K" : "");
}

/* ---- Sampler: RSS every 250 ms, and the live progress line ---------------------------- */

static void sample(run *r, int64_t now)
{
    long rss = duro__rss_now_kb();
    if (rss > r->max_rss)
        r->max_rss = rss;
    if (rss < 0 || now > __atomic_load_n(&r->window_end, __ATOMIC_RELAXED))
        return;
    if (r->n_samples == r->samples_cap) {
        size_t cap = r->samples_cap ? r->samples_cap * 2 : 256;
        double *t = realloc(r->st, cap * sizeof *t);
        if (t == NULL)
            return;
        r->st = t;
        double *y = realloc(r->srss, cap * sizeof *y);
        if (y == NULL)
            return;
        r->srss = y;
        r->samples_cap = cap;
    }
    r->st[r->n_samples] = (double)(now - r->t0) / 1e9;
    r->srss[r->n_samples] = (double)rss;
    r->n_samples++;
}

static void show_progress(run *r, int64_t now)
{
    pthread_mutex_lock(&r->mu);
    uint64_t launched = r->n_recs, completed = r->res->completed, inflight = r->inflight;
    uint64_t failed = r->res->failed_infrastructure + r->res->failed_configuration +
                      r->res->failed_application + r->res->failed_timeout +
                      r->res->wrong_output;
    pthread_mutex_unlock(&r->mu);
    double el = (double)(now - r->t0) / 1e9;
    fprintf(stderr, "\r\033[K[%s] %5.1fs %slaunched %" PRIu64 ", completed %" PRIu64
            ", failed %" PRIu64 ", in flight %" PRIu64 ", %.1f orch/s",
            r->label, el, now > __atomic_load_n(&r->window_end, __ATOMIC_RELAXED) ? "draining, " : "",
            launched, completed, failed,
            inflight, el > 0 ? (double)completed / el : 0.0);
    fflush(stderr);
    r->progress_shown = 1;
}

static void *sampler_main(void *arg)
{
    run *r = arg;
    pthread_mutex_lock(&r->smu);
    int64_t next = duro__monotonic_ns();
    while (!r->stop) {
        int64_t now = duro__monotonic_ns();
        if (now >= next) {
            pthread_mutex_unlock(&r->smu);
            if (r->procs != NULL && r->cfg->kill_every_secs > 0 &&
                now < __atomic_load_n(&r->window_end, __ATOMIC_RELAXED) &&
                now >= r->next_kill) {
                duro__procs_kill_one(r->procs);
                r->next_kill += (int64_t)(r->cfg->kill_every_secs * 1e9);
            }
            sample(r, now);
            if (r->cfg->progress)
                show_progress(r, now);
            pthread_mutex_lock(&r->smu);
            next += SAMPLE_PERIOD_NS;
            continue;
        }
        timed_wait(&r->scv, &r->smu, next);
    }
    pthread_mutex_unlock(&r->smu);
    if (r->progress_shown) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
    return NULL;
}

/* The driver role's watcher: sweep every WATCH_PERIOD_NS until stopped. */
static void *watcher_main(void *arg)
{
    run *r = arg;
    pthread_mutex_lock(&r->smu);
    while (!r->stop) {
        pthread_mutex_unlock(&r->smu);
        sweep(r);
        pthread_mutex_lock(&r->smu);
        if (!r->stop)
            timed_wait(&r->scv, &r->smu, duro__monotonic_ns() + WATCH_PERIOD_NS);
    }
    pthread_mutex_unlock(&r->smu);
    return NULL;
}

/* Start the sampler, and in the driver role the watcher. */
static int start_sampler(run *r)
{
    if (pthread_create(&r->sampler, NULL, sampler_main, r) != 0)
        return -1;
    r->sampler_running = 1;
    if (r->cfg->store != NULL) {
        if (pthread_create(&r->watcher, NULL, watcher_main, r) != 0)
            return -1;
        r->watcher_running = 1;
    }
    return 0;
}

/* Stop and join the sampler and the watcher where they run. */
static void stop_sampler(run *r)
{
    if (!r->sampler_running && !r->watcher_running)
        return;
    pthread_mutex_lock(&r->smu);
    r->stop = 1;
    pthread_cond_broadcast(&r->scv);
    pthread_mutex_unlock(&r->smu);
    if (r->sampler_running)
        pthread_join(r->sampler, NULL);
    if (r->watcher_running)
        pthread_join(r->watcher, NULL);
    r->sampler_running = r->watcher_running = 0;
}

/* ---- Driver ------------------------------------------------------------------------------- */

static int init_cond_mono(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0)
        return -1;
    int rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
    return rc;
}

/* Append a record for a new root (mu held). Returns its index or -1 when out of memory. */
static long add_rec(run *r, int64_t start_ns)
{
    if (r->n_recs == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        rec *n = realloc(r->recs, cap * sizeof *n);
        if (n == NULL)
            return -1;
        r->recs = n;
        r->cap = cap;
    }
    r->recs[r->n_recs] = (rec){.start_ns = start_ns};
    r->inflight++;
    return (long)r->n_recs++;
}

/* Start root idx; on failure (after retrying retryable errors) record it as an
 * infrastructure failure. */
static void launch(run *r, duro_client *c, uint64_t idx)
{
    char id[64], input[256];
    const char *orch = NULL;
    snprintf(id, sizeof id, ROOT_PREFIX "%" PRIu64, idx);
    duro_error err = {0};
    int rc = duro__scenario_root(r->scenario, idx, r->cfg, &orch, input, sizeof input);
    if (rc != 0) {
        duro_error_set(&err, rc, 0, "cannot build the input: %s", duro_strerror(rc));
    } else {
        /* as a real client would: retryable errors again after 10, 20, ... 640 ms; a start
         * whose reply was lost and is sent again is one start (the runtime ignores the copy) */
        for (int attempt = 0;; attempt++) {
            rc = duro_client_start(c, id, orch, input, &err);
            if (rc == 0) {
                duro__ledger(r->ledger_fd, "start driver %s", id);
                return;
            }
            if (!err.retryable || attempt + 1 >= START_RETRIES)
                break;
            atomic_fetch_add(&r->start_retries, 1);
            duro__sleep_ms(10 << (attempt < 6 ? attempt : 6));
        }
    }
    pthread_mutex_lock(&r->mu);
    rec *x = &r->recs[idx];
    if (x->done == 0) {
        x->done = 2;
        x->end_ns = duro__monotonic_ns();
        r->res->failed_infrastructure++;
        r->inflight--;
        note_failure(r, id, "start failed: %s (%s)", err.message, duro_strerror(rc));
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

/* The routing scenario: read the durable value of root idx through `c` and check it
 * (`final`: the root completed, so the value must be its last step's). Counted in kv_reads and
 * kv_mismatches; a wrong value, or a read that failed for another reason than "not set",
 * is a mismatch with its failure noted. Retryable errors are tried again as in launch(). */
static void check_value(run *r, duro_client *c, uint64_t idx, int final)
{
    char id[64], why[320];
    snprintf(id, sizeof id, ROOT_PREFIX "%" PRIu64, idx);
    char *value = NULL;
    duro_error err = {0};
    int rc;
    for (int attempt = 0;; attempt++) {
        rc = duro_client_get_value(c, id, DURO__ROUTING_KEY, &value, NULL, &err);
        if (rc == 0 || !err.retryable || attempt + 1 >= START_RETRIES)
            break;
        duro__sleep_ms(10 << (attempt < 6 ? attempt : 6));
    }
    int bad;
    if (rc != 0 && rc != DURO_ENOTFOUND) {
        bad = 1;
        snprintf(why, sizeof why, "reading '" DURO__ROUTING_KEY "': %.200s (%s)", err.message,
                 duro_strerror(rc));
    } else {
        bad = duro__scenario_verify_value(r->scenario, idx, r->cfg, rc == 0 ? value : NULL,
                                          final, why, sizeof why) != 0;
    }
    free(value);
    pthread_mutex_lock(&r->mu);
    r->res->kv_reads++;
    if (bad) {
        r->res->kv_mismatches++;
        note_failure(r, id, "%s", why);
    }
    pthread_mutex_unlock(&r->mu);
}

/* The routing scenario, after the drain: how many sessions ran on runtime A and on B. */
static void count_session_owners(run *r)
{
    pthread_mutex_lock(&r->mu);
    for (size_t k = 0; k < DURO__ROUTING_SESSIONS; k++) {
        r->res->sessions_on_a += r->session_owner[k] == 'A';
        r->res->sessions_on_b += r->session_owner[k] == 'B';
    }
    pthread_mutex_unlock(&r->mu);
}

/* The launch window; returns at its end. 0, or DURO_ENOMEM when a record could not be
 * added. */
static int drive(run *r, duro_client *c)
{
    const duro_stress_config *cfg = r->cfg;
    int open_loop = cfg->rate > 0;
    uint64_t scheduled = 0;
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        int64_t now = duro__monotonic_ns(), start;
        if (cfg->max_roots > 0 && r->n_recs >= cfg->max_roots) {
            if (now < r->window_end)
                __atomic_store_n(&r->window_end, now, __ATOMIC_RELAXED);
            break;
        }
        if (open_loop) {
            /* Start k is due at k / rate seconds; every start due inside the window happens,
             * late if need be. */
            start = r->t0 + llround((double)scheduled * 1e9 / cfg->rate);
            if (start >= r->window_end)
                break;
            if (now < start) {
                timed_wait(&r->cv, &r->mu, start);
                continue;
            }
            scheduled++;
        } else {
            if (now >= r->window_end)
                break;
            if (r->inflight >= (uint64_t)cfg->max_concurrent) {
                timed_wait(&r->cv, &r->mu, r->window_end);
                continue;
            }
            start = now;
        }
        long idx = add_rec(r, start);
        if (idx < 0) {
            rc = DURO_ENOMEM;
            break;
        }
        pthread_mutex_unlock(&r->mu);
        launch(r, c, (uint64_t)idx);
        /* routing: the previous root's value while it (most likely) still runs */
        if (r->scenario == DURO__SC_ROUTING && idx > 0)
            check_value(r, c, (uint64_t)idx - 1, 0);
        pthread_mutex_lock(&r->mu);
    }
    while (rc == 0 && duro__monotonic_ns() < r->window_end)
        timed_wait(&r->cv, &r->mu, r->window_end);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* Wait until every root ended or the deadline; returns when the drain ended (mono ns). */
static int64_t drain(run *r)
{
    int64_t deadline = r->window_end + r->timeout_ns;
    pthread_mutex_lock(&r->mu);
    while (r->inflight > 0 && duro__monotonic_ns() < deadline)
        timed_wait(&r->cv, &r->mu, deadline);
    int64_t end = r->window_end;
    if (r->inflight > 0) {
        end = duro__monotonic_ns();
    } else {
        for (size_t i = 0; i < r->n_recs; i++)
            if (r->recs[i].end_ns > end)
                end = r->recs[i].end_ns;
    }
    /* Whatever has not ended now is a timeout. */
    for (size_t i = 0; i < r->n_recs; i++) {
        if (r->recs[i].done != 0)
            continue;
        r->recs[i].done = 2;
        r->res->failed_timeout++;
        char id[64];
        snprintf(id, sizeof id, ROOT_PREFIX "%zu", i);
        note_failure(r, id, "not finished %d s after the window", r->cfg->wait_timeout_secs);
    }
    r->inflight = 0;
    r->closed = 1;
    pthread_mutex_unlock(&r->mu);
    return end;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* KB/min over the second half of the window (the first half includes start-up and
 * allocator warm-up); NAN with fewer than MIN_SLOPE_SAMPLES samples there. */
static double rss_slope(const run *r)
{
    double half = (double)(r->window_end - r->t0) / 2e9;
    size_t i = 0;
    while (i < r->n_samples && r->st[i] < half)
        i++;
    if (r->n_samples - i < MIN_SLOPE_SAMPLES)
        return NAN;
    return duro__slope(r->st + i, r->srss + i, r->n_samples - i) * 60.0;
}

/* Latency statistics, throughput and the rest, from the records. */
static int compute(run *r, uint64_t acts_window, int64_t drain_end, double cpu_secs)
{
    duro_stress_result *res = r->res;
    double *lat = malloc((r->n_recs ? r->n_recs : 1) * sizeof *lat);
    if (lat == NULL)
        return DURO_ENOMEM;
    size_t n = 0;
    double sum = 0;
    for (size_t i = 0; i < r->n_recs; i++) {
        const rec *x = &r->recs[i];
        if (x->done != 1)
            continue;
        if (x->end_ns <= r->window_end)
            res->completed_in_window++;
        lat[n] = (double)(x->end_ns - x->start_ns) / 1e6;
        sum += lat[n++];
    }
    qsort(lat, n, sizeof *lat, cmp_double);
    res->launched = r->n_recs;
    res->failed = res->failed_infrastructure + res->failed_configuration +
                  res->failed_application + res->failed_timeout + res->wrong_output;
    res->window_secs = (double)(r->window_end - r->t0) / 1e9;
    res->drain_secs = (double)(drain_end - r->window_end) / 1e9;
    res->success_pct = res->launched ? (double)res->completed * 100.0 / (double)res->launched : 0;
    res->orch_per_sec = (double)res->completed_in_window / res->window_secs;
    res->activities_in_window = acts_window;
    res->activities_total = atomic_load(&r->ctx->activities);
    res->activity_per_sec = (double)acts_window / res->window_secs;
    res->lat_avg_ms = n ? sum / (double)n : 0;
    res->lat_p50_ms = duro__percentile(lat, n, 50);
    res->lat_p95_ms = duro__percentile(lat, n, 95);
    res->lat_p99_ms = duro__percentile(lat, n, 99);
    res->lat_max_ms = n ? lat[n - 1] : 0;
    free(lat);
    long hwm = r->rss_reset ? duro__rss_hwm_kb() : -1;
    res->peak_rss_kb = (double)(hwm >= 0 ? hwm : duro__rss_peak_kb());
    if (r->child_max_rss > res->peak_rss_kb)
        res->peak_rss_kb = (double)r->child_max_rss;
    if (r->procs_killed > 0)
        res->killed_processes = r->procs_killed;
    res->run_peak_rss_kb = (double)r->max_rss;
    res->rss_slope_kb_per_min = rss_slope(r);
    res->cpu_ms_per_orch = res->completed ? cpu_secs * 1000.0 / (double)res->completed : 0;
    res->runtime_warnings = atomic_load(&r->warnings);
    res->injected_activity_failures = atomic_load(&r->ctx->injected);
    res->start_retries = atomic_load(&r->start_retries);
    res->open_fds_start = r->fds_start > 0 ? (uint64_t)r->fds_start : 0;
    res->open_fds_end = r->fds_end > 0 ? (uint64_t)r->fds_end : 0;
    res->statements_per_orch = r->statements_counted && res->completed
                                   ? (double)res->store_statements / (double)res->completed
                                   : NAN;
    return 0;
}

/* The factory that can count the statements of this run's store (in this process only:
 * not with child processes or in the driver role), with its count before the store opens
 * in r->statements_at_open; NULL when there is none. */
static const duro_provider_factory *statement_counter(const duro_provider_factory *f,
                                                      const duro_stress_config *cfg, run *r)
{
    if (!DURO_PROVIDER_FACTORY_HAS(f, DURO_PROVIDER_FACTORY_V4) || f->count_statements == NULL ||
        cfg->processes > 0 || cfg->store != NULL ||
        f->count_statements(f->ud, &r->statements_at_open) != 0)
        return NULL;
    return f;
}

/* Take the statement count once the drain is over. */
static void count_statements(run *r)
{
    uint64_t now;

    if (r->counter != NULL && r->counter->count_statements(r->counter->ud, &now) == 0) {
        r->res->store_statements = now - r->statements_at_open;
        r->statements_counted = 1;
    }
}

/* Post-run checks on the unwrapped store. */
static int check_integrity(run *r, const duro_provider_factory *factory, duro_provider *store)
{
    duro__root_view *roots = calloc(r->n_recs ? r->n_recs : 1, sizeof *roots);
    char *ids = malloc((r->n_recs ? r->n_recs : 1) * 32);
    if (roots == NULL || ids == NULL) {
        free(roots);
        free(ids);
        return DURO_ENOMEM;
    }
    for (size_t i = 0; i < r->n_recs; i++) {
        char *id = ids + i * 32;
        snprintf(id, 32, ROOT_PREFIX "%zu", i);
        roots[i].instance = id;
        roots[i].idx = i;
        roots[i].observed = r->recs[i].observed;
        roots[i].verified = r->recs[i].verified;
    }
    int64_t t = duro__monotonic_ns();
    int rc = duro__integrity_check(factory, store, r->scenario, r->cfg, roots, r->n_recs,
                                   r->res);
    r->res->integrity_secs = (double)(duro__monotonic_ns() - t) / 1e9;
    if (rc == 0 && r->res->duplicate_terminal > 0 && r->res->integrity_ok) {
        r->res->integrity_ok = 0;
        snprintf(r->res->integrity_message, sizeof r->res->integrity_message,
                 "%" PRIu64 " root(s) reported terminal twice", r->res->duplicate_terminal);
    }
    if (rc == 0 && r->res->kv_mismatches > 0 && r->res->integrity_ok) {
        r->res->integrity_ok = 0;
        snprintf(r->res->integrity_message, sizeof r->res->integrity_message,
                 "%" PRIu64 " of %" PRIu64 " durable values read were wrong (first failures)",
                 r->res->kv_mismatches, r->res->kv_reads);
    }
    if (rc == 0 && r->res->session_mismatches > 0 && r->res->integrity_ok) {
        r->res->integrity_ok = 0;
        snprintf(r->res->integrity_message, sizeof r->res->integrity_message,
                 "%" PRIu64 " of %" PRIu64 " completed roots ran a session step on another "
                 "runtime than their session's earlier steps (first failures)",
                 r->res->session_mismatches, r->res->completed);
    }
    free(roots);
    free(ids);
    return rc;
}

static int validate(const duro_stress_config *c, duro_error *err)
{
    if (c->max_concurrent < 1 || !(c->duration_secs > 0) || c->tasks_per_instance < 1 ||
        c->tasks_per_instance > DURO__MAX_TASKS || c->activity_delay_ms < 0 ||
        c->orch_concurrency < 1 || c->worker_concurrency < 1 || c->wait_timeout_secs < 1 ||
        c->rate < 0 || c->runtimes < 1 || c->runtimes > MAX_RUNTIMES ||
        c->provider_latency_ms < 0 || c->provider_error_pct < 0 ||
        c->provider_error_pct > 100 || !(c->lost_reply_pct >= 0) ||
        c->lost_reply_pct + c->provider_error_pct > 100 || c->activity_failure_pct < 0 ||
        c->activity_failure_pct > 100 || c->prefetch_ms < -1 || c->processes < 0 ||
        c->processes > MAX_PROCESSES || !(c->kill_every_secs >= 0) ||
        (c->kill_every_secs > 0 && c->processes < 1) ||
        (c->processes > 0 && (c->runtimes > 1 || c->attach)) ||
        (c->store != NULL && (c->processes > 0 || c->runtimes > 1 || c->attach)) ||
        (c->ledger != NULL && c->store == NULL) || (c->prefill > 0 && c->store != NULL))
        return duro_error_set(err, DURO_EINVAL, 0, "invalid stress configuration");
    return 0;
}

static int run_init(run *r, const duro_stress_config *cfg, int scenario, duro_stress_result *out)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->scenario = scenario;
    r->res = out;
    /* a MAP_SHARED mapping survives fork, so the children's activities count here too */
    r->ctx = mmap(NULL, sizeof *r->ctx, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                  0);
    if (r->ctx == MAP_FAILED) {
        r->ctx = NULL;
        return -1;
    }
    r->ctx->cfg = cfg;
    r->ctx->ledger_fd = -1;
    r->ledger_fd = -1;
    r->sweep_age_ns = cfg->store != NULL ? 0 : SWEEP_AGE_NS;
    atomic_init(&r->ctx->activities, 0);
    atomic_init(&r->ctx->injected, 0);
    atomic_init(&r->warnings, 0);
    atomic_init(&r->printed, 0);
    atomic_init(&r->start_retries, 0);
    r->timeout_ns = (int64_t)cfg->wait_timeout_secs * 1000000000;
    r->max_rss = -1;
    r->child_max_rss = -1;
    r->rss_reset = duro__rss_peak_reset() == 0;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        munmap(r->ctx, sizeof *r->ctx);
        return -1;
    }
    if (init_cond_mono(&r->cv) != 0) {
        pthread_mutex_destroy(&r->mu);
        munmap(r->ctx, sizeof *r->ctx);
        return -1;
    }
    if (pthread_mutex_init(&r->smu, NULL) != 0 || init_cond_mono(&r->scv) != 0) {
        pthread_mutex_destroy(&r->smu);
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        munmap(r->ctx, sizeof *r->ctx);
        return -1;
    }
    return 0;
}

static void run_destroy(run *r)
{
    pthread_cond_destroy(&r->scv);
    pthread_mutex_destroy(&r->smu);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r->recs);
    free(r->st);
    free(r->srss);
    munmap(r->ctx, sizeof *r->ctx);
}

/* The no-op trace consumer of cfg->trace_spans: it only counts. */
static void count_span(const duro_span *span, void *ud)
{
    (void)span;
    __atomic_fetch_add(&((run *)ud)->res->rt_spans, 1, __ATOMIC_RELAXED);
}

/* Add the snapshot `m` of one runtime to `out` (the rt_* members). */
static void add_metrics(const duro_runtime_metrics *m, duro_stress_result *out)
{
    static const int queue_ops[] = {DURO_OP_FETCH_ORCH, DURO_OP_ACK_ORCH, DURO_OP_ABANDON_ORCH,
                                    DURO_OP_FETCH_WORK, DURO_OP_ACK_WORK, DURO_OP_ABANDON_WORK};
    out->rt_turns += m->turns;
    out->rt_completed += m->completed;
    out->rt_continued_as_new += m->continued_as_new;
    for (int c = 0; c <= DURO_CAT_POISON; c++)
        out->rt_failed += m->failed[c];
    out->rt_activity_attempts += m->activity_attempts;
    for (int op = 0; op < DURO_OP_COUNT; op++) {
        out->rt_provider_calls += m->provider_calls[op];
        out->rt_provider_errors += m->provider_errors[op];
    }
    for (size_t i = 0; i < sizeof queue_ops / sizeof queue_ops[0]; i++)
        out->rt_queue_errors += m->provider_errors[queue_ops[i]];
}

/* Add what runtime `rt` counted to `out` (the rt_* members). */
static void add_runtime_metrics(duro_runtime *rt, duro_stress_result *out)
{
    duro_runtime_metrics m;
    duro_runtime_metrics_init(&m);
    if (duro_runtime_metrics_get(rt, &m, NULL) == 0)
        add_metrics(&m, out);
}

/* --processes: the snapshot a child sent at its graceful shutdown. */
static void on_child_metrics(const duro_runtime_metrics *m, void *ud)
{
    run *r = ud;
    pthread_mutex_lock(&r->mu);
    add_metrics(m, r->res);
    pthread_mutex_unlock(&r->mu);
}

/* The runtimes' options. Where children are killed, locks are short (2 s for turns, 4 s for
 * activities, renewed every second) so that another child takes over a dead one's work
 * soon. */
static void runtime_options(run *r, duro_runtime_options *opt)
{
    const duro_stress_config *cfg = r->cfg;
    duro_runtime_options_init(opt);
    opt->orch_concurrency = cfg->orch_concurrency;
    opt->worker_concurrency = cfg->worker_concurrency;
    if (cfg->prefetch_ms >= 0)
        opt->prefetch_ms = cfg->prefetch_ms;
    if (cfg->kill_every_secs > 0) {
        opt->orch_lock_ms = 2000;
        opt->worker_lock_ms = 4000;
    }
    opt->on_terminal = on_terminal;
    opt->on_terminal_ud = r;
    opt->log = on_log;
    opt->log_ud = r;
    if (cfg->trace_spans) {
        opt->on_span = count_span;
        opt->on_span_ud = r;
    }
}

/* Stop the child processes, if any, and take their counts. */
static void stop_children(run *r)
{
    if (r->procs == NULL)
        return;
    r->procs_killed = duro__procs_killed(r->procs);
    duro__procs_stop(r->procs, &r->child_max_rss);
    /* a killed child's counts died with it */
    r->res->rt_partial = r->procs_killed > 0;
    r->procs = NULL;
}

/* Start the runtimes (runtime i on rt_p[i] with regs[i] and the scenario's options for it;
 * none when child processes run them), drive through `p`, drain, shut down, compute. The
 * store and registries are ready. */
static int measure(run *r, duro_provider *p, duro_provider *const *rt_p,
                   const duro_registry *const *regs, duro_error *err)
{
    const duro_stress_config *cfg = r->cfg;
    duro_runtime *rts[MAX_RUNTIMES] = {0};
    duro_client *client = NULL, *sweeper = NULL;
    int rc = 0, nrt = 0;
    duro_runtime_options opt;
    runtime_options(r, &opt);
    for (; r->procs == NULL && cfg->store == NULL && nrt < cfg->runtimes; nrt++) {
        duro_error why = {0};
        duro_runtime_options own = opt;
        duro__scenario_runtime_options(r->scenario, nrt, &own);
        rc = duro_runtime_start(rt_p[nrt], regs[nrt], &own, &rts[nrt], &why);
        if (rc != 0) {
            duro_error_set(err, rc, 0, "runtime %d did not start: %s", nrt + 1, why.message);
            goto out;
        }
    }
    rc = duro_client_new(p, &client, err);
    if (rc == 0 && (r->procs != NULL || cfg->store != NULL))
        rc = duro_client_new(p, &sweeper, err);
    if (rc != 0)
        goto out;
    double cpu0 = duro__cpu_secs(RUSAGE_SELF);
    pthread_mutex_lock(&r->mu);
    r->sweep_client = sweeper;
    r->t0 = duro__monotonic_ns();
    r->fds_start = duro__open_fds();
    r->window_end = r->t0 + (int64_t)(cfg->duration_secs * 1e9);
    r->next_kill = r->t0 + (int64_t)(cfg->kill_every_secs * 1e9);
    pthread_mutex_unlock(&r->mu);
    if (start_sampler(r) != 0) {
        rc = duro_error_set(err, DURO_EIO, 0, "cannot start the sampler thread");
        goto out;
    }
    rc = drive(r, client);
    uint64_t acts_window = atomic_load(&r->ctx->activities);
    int64_t drain_end = drain(r);
    count_statements(r);
    for (size_t i = 0; r->scenario == DURO__SC_ROUTING && i < r->n_recs; i++) {
        pthread_mutex_lock(&r->mu);
        int completed = r->recs[i].done == 1;
        pthread_mutex_unlock(&r->mu);
        if (completed)
            check_value(r, client, i, 1);
    }
    count_session_owners(r);
    r->fds_end = duro__open_fds();
    double cpu = duro__cpu_secs(RUSAGE_SELF) - cpu0;
    stop_sampler(r);
    for (int i = 0; i < nrt; i++)
        add_runtime_metrics(rts[i], r->res);
    for (; nrt > 0; nrt--)
        duro_runtime_shutdown(rts[nrt - 1]);
    if (r->procs != NULL) {
        stop_children(r);
        cpu += duro__cpu_secs(RUSAGE_CHILDREN) - r->child_cpu0;
    }
    if (rc != 0) {
        duro_error_set(err, rc, 0, "out of memory while launching");
        goto out;
    }
    rc = compute(r, acts_window, drain_end, cpu);
    if (rc != 0)
        duro_error_set(err, rc, 0, "out of memory");
out:
    stop_sampler(r);
    for (int i = 0; i < nrt; i++)
        duro_runtime_shutdown(rts[i]);
    stop_children(r);
    pthread_mutex_lock(&r->mu);
    r->sweep_client = NULL;
    pthread_mutex_unlock(&r->mu);
    duro_client_free(sweeper);
    duro_client_free(client);
    return rc;
}

int duro__fault_options(const duro_stress_config *cfg, duro_fault_options *fo)
{
    static const duro_fault_op changing[] = {
        DURO_FAULT_ENQUEUE_ORCH, DURO_FAULT_ACK_ORCH,  DURO_FAULT_ABANDON_ORCH,
        DURO_FAULT_RENEW_ORCH,   DURO_FAULT_ENQUEUE_WORK, DURO_FAULT_ACK_WORK,
        DURO_FAULT_ABANDON_WORK, DURO_FAULT_RENEW_WORK};
    duro_fault_options_init(fo);
    if (cfg->provider_latency_ms <= 0 && cfg->provider_error_pct <= 0 &&
        cfg->lost_reply_pct <= 0)
        return 0;
    fo->latency_ms = cfg->provider_latency_ms;
    duro_fault_options_set_data_path(fo, cfg->provider_error_pct);
    for (size_t i = 0; i < sizeof changing / sizeof changing[0]; i++)
        fo->after_pct[changing[i]] = cfg->lost_reply_pct;
    return 1;
}

/* Fault wrapper around `inner` as duro__fault_options() says, or 0 with *out NULL when none is
 * configured. */
static int wrap_faults(duro_provider *inner, const duro_stress_config *cfg, duro_provider **out,
                       duro_error *err)
{
    duro_fault_options fo;
    *out = NULL;
    return duro__fault_options(cfg, &fo) ? duro_fault_wrap(inner, &fo, out, err) : 0;
}

/* Add the faults `fault` (a wrapper or NULL) injected to `out`. */
static void count_faults(const duro_provider *fault, duro_stress_result *out)
{
    out->injected_provider_errors +=
        duro_fault_injected(fault, DURO_FAULT_N_OPS, DURO_FAULT_BEFORE);
    out->injected_lost_replies += duro_fault_injected(fault, DURO_FAULT_N_OPS, DURO_FAULT_AFTER);
    static const duro_fault_op queue_ops[] = {DURO_FAULT_FETCH_ORCH, DURO_FAULT_ACK_ORCH,
                                              DURO_FAULT_ABANDON_ORCH, DURO_FAULT_FETCH_WORK,
                                              DURO_FAULT_ACK_WORK, DURO_FAULT_ABANDON_WORK};
    for (size_t i = 0; i < sizeof queue_ops / sizeof queue_ops[0]; i++)
        out->injected_queue_errors += duro_fault_injected(fault, queue_ops[i], DURO_FAULT_BEFORE);
}

/* Open one handle per runtime on `store` through the factory's attach hook (each behind its
 * own fault wrapper when provider latency or errors are injected) and point rt_p at them. What was
 * opened before a failure is left in handles/proxies for the caller to release. */
static int attach_handles(const duro_provider_factory *factory, duro_provider *store,
                          const duro_stress_config *cfg, duro_provider **handles,
                          duro_provider **proxies, duro_provider **rt_p, duro_error *err)
{
    char locator[4096];
    if (factory->locate == NULL || factory->attach == NULL)
        return duro_error_set(err, DURO_ENOTSUP, 0, "provider %s has no attach hook",
                              factory->name);
    int rc = factory->locate(factory->ud, store, locator, sizeof locator);
    if (rc != 0)
        return duro_error_set(err, rc, 0, "provider %s cannot name its store: %s",
                              factory->name, duro_strerror(rc));
    for (int i = 0; i < cfg->runtimes; i++) {
        rc = factory->attach(factory->ud, locator, &handles[i], err);
        if (rc != 0)
            return rc;
        rc = wrap_faults(handles[i], cfg, &proxies[i], err);
        if (rc != 0)
            return rc;
        rt_p[i] = proxies[i] != NULL ? proxies[i] : handles[i];
    }
    return 0;
}

/* The run's store: a fresh one from the factory, or in the driver role a handle on the
 * existing cfg->store (factory attach hook). */
static int open_store(const duro_provider_factory *factory, const duro_stress_config *cfg,
                      duro_provider **store, duro_error *err)
{
    if (cfg->store == NULL)
        return factory->create(factory->ud, store, err);
    if (factory->attach == NULL)
        return duro_error_set(err, DURO_ENOTSUP, 0, "provider %s has no attach hook",
                              factory->name);
    return factory->attach(factory->ud, cfg->store, store, err);
}

int duro_stress_run(const duro_provider_factory *factory, const char *scenario,
                    const duro_stress_config *caller_cfg, duro_stress_result *out,
                    duro_error *err)
{
    if (out == NULL || caller_cfg == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_stress_run: %s is required",
                              out == NULL ? "out" : "cfg");
    memset(out, 0, sizeof *out);
    if (caller_cfg->size < offsetof(duro_stress_config, max_concurrent) +
                               sizeof caller_cfg->max_concurrent)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "stress config not initialised: call duro_stress_config_init");
    /* read the caller's config only as far as its struct goes (cfg->size) */
    duro_stress_config full;
    duro_stress_config_init(&full);
    memcpy(&full, caller_cfg, caller_cfg->size < sizeof full ? caller_cfg->size : sizeof full);
    full.size = sizeof full;
    const duro_stress_config *cfg = &full;
    int sc = scenario != NULL ? duro__scenario_lookup(scenario) : -1;
    int frc = duro__factory_check(factory, err);
    if (frc != 0)
        return frc;
    if (sc < 0)
        return duro_error_set(err, DURO_EINVAL, 0, "unknown scenario '%s'",
                              scenario != NULL ? scenario : "(null)");
    duro__scenario_config(sc, &full);
    char skip_why[256];
    if (duro__scenario_unsupported(sc, cfg, 1, 1, 1, skip_why, sizeof skip_why)) {
        out->skipped = 1;
        snprintf(out->first_failure, sizeof out->first_failure, "%s", skip_why);
        return 0;
    }
    int rc = validate(cfg, err);
    if (rc != 0)
        return rc;
    run r;
    if (run_init(&r, cfg, sc, out) != 0)
        return duro_error_set(err, DURO_ENOMEM, 0, "cannot initialise locks");
    snprintf(r.label, sizeof r.label, "%s %s %d/%d", duro_stress_scenario_name((size_t)sc),
             factory->name, cfg->orch_concurrency, cfg->worker_concurrency);

    duro_registry *reg = duro_registry_new();
    /* runtime i runs with regs[i]: the routing scenario's runtime B has a registry of its
     * own (its routing activity reports "B"), every other runtime shares reg */
    duro_registry *reg_b = NULL;
    const duro_registry *regs[MAX_RUNTIMES];
    duro_provider *store = NULL, *proxy = NULL; /* proxy: the fault wrapper */
    /* with cfg->attach: runtime i's own handle, and its proxy when errors are injected */
    duro_provider *handles[MAX_RUNTIMES] = {0}, *handle_proxies[MAX_RUNTIMES] = {0};
    duro_provider *rt_p[MAX_RUNTIMES];
    if (reg == NULL) {
        rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
        goto out;
    }
    rc = duro__scenario_register(reg, r.ctx);
    for (int i = 0; i < MAX_RUNTIMES; i++)
        regs[i] = reg;
    if (rc == 0 && sc == DURO__SC_ROUTING) {
        reg_b = duro_registry_new();
        rc = reg_b != NULL ? duro__scenario_register_runtime(reg_b, r.ctx, 1) : DURO_ENOMEM;
        regs[1] = reg_b;
    }
    if (rc != 0) {
        duro_error_set(err, rc, 0, "registering the stress handlers: %s", duro_strerror(rc));
        goto out;
    }
    if (cfg->processes > 0) {
        /* forked before the store exists, while this process has no other thread */
        duro_runtime_options opt;
        runtime_options(&r, &opt);
        int spares = 0;
        if (cfg->kill_every_secs > 0)
            spares = (int)fmin(MAX_SPARES, ceil(cfg->duration_secs / cfg->kill_every_secs));
        r.child_cpu0 = duro__cpu_secs(RUSAGE_CHILDREN);
        duro_fault_options fo;
        int faulty = duro__fault_options(cfg, &fo);
        rc = duro__procs_fork(factory, reg, &opt, faulty ? &fo : NULL, cfg->processes, spares,
                              on_terminal, on_child_metrics, sweep, &r, &r.procs, err);
        if (rc != 0)
            goto out;
    }
    if (cfg->ledger != NULL && (r.ledger_fd = duro__ledger_open(cfg->ledger, err)) < 0) {
        rc = DURO_EIO;
        goto out;
    }
    r.counter = statement_counter(factory, cfg, &r);
    rc = open_store(factory, cfg, &store, err);
    if (rc != 0)
        goto out;
    if (duro__scenario_unsupported(sc, cfg, duro_provider_has_tags(store),
                                   duro_provider_has_version(store, 5) &&
                                       (store->caps & DURO_CAP_KV) != 0,
                                   duro_provider_has_sessions(store), skip_why,
                                   sizeof skip_why)) {
        memset(out, 0, sizeof *out);
        out->skipped = 1;
        snprintf(out->first_failure, sizeof out->first_failure, "%s", skip_why);
        goto out;
    }
    rc = duro__prefill(store, cfg->prefill, cfg->orch_concurrency, cfg->worker_concurrency,
                       &out->prefill_secs, err);
    if (rc != 0)
        goto out;
    /* the run's statements start after the prefill's */
    if (cfg->prefill > 0 && r.counter != NULL &&
        r.counter->count_statements(r.counter->ud, &r.statements_at_open) != 0)
        r.counter = NULL;
    if (r.procs != NULL && (rc = duro__procs_go(r.procs, store, err)) != 0)
        goto out;
    rc = wrap_faults(store, cfg, &proxy, err);
    if (rc != 0)
        goto out;
    for (int i = 0; i < cfg->runtimes; i++)
        rt_p[i] = proxy != NULL ? proxy : store;
    if (cfg->attach)
        rc = attach_handles(factory, store, cfg, handles, handle_proxies, rt_p, err);
    if (rc == 0)
        rc = measure(&r, proxy != NULL ? proxy : store, rt_p, regs, err);
    count_faults(proxy, out);
    for (int i = 0; i < cfg->runtimes; i++) {
        count_faults(handle_proxies[i], out);
        duro_provider_destroy(handle_proxies[i]);
        duro_provider_destroy(handles[i]);
    }
    if (rc == 0)
        rc = check_integrity(&r, factory, store);
    if (rc != 0 && err != NULL && err->code == 0)
        duro_error_set(err, rc, 0, "%s", duro_strerror(rc));
out:
    stop_children(&r);
    duro_provider_destroy(proxy);
    if (store != NULL && cfg->store != NULL)
        duro_provider_destroy(store); /* an existing store is kept */
    else if (store != NULL)
        factory->destroy(factory->ud, store);
    if (r.ledger_fd >= 0)
        close(r.ledger_fd);
    duro_registry_free(reg_b);
    duro_registry_free(reg);
    run_destroy(&r);
    return rc;
}
