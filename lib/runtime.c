/*
 * runtime.c — the dispatchers: fixed pthread pools of orchestration-turn threads and activity
 * threads, one housekeeping thread that renews held locks and turns a lost activity lock into
 * the activity's cancellation flag, and one acker thread that commits activity results so that
 * an activity slot is busy only while an activity runs; while every activity thread is busy,
 * the acker also fetches work items ahead (up to one per thread) for the threads that finish
 * next. Idle threads long-poll the provider, which wakes them on commit. Shutdown signals every
 * thread, interrupts long polls, lets running turns and activities finish (so no lock stays
 * held) and joins.
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>

#include "metrics.h"
#include "replay.h"

enum { HELD_NONE = 0, HELD_ORCH, HELD_WORK };

/* A lock held by one dispatcher thread, visible to the housekeeping thread. */
typedef struct held_lock {
    int kind;
    uint64_t generation;
    char token[33];
    duro_activity *activity;
} held_lock;

/* An activity result to commit. The activity's slot is free as soon as it is queued: the
 * acker thread commits it (on files this is where the fsync happens), so activity slots only
 * run activities. */
typedef struct pending_ack {
    struct pending_ack *next;
    char token[33];
    char *instance;
    uint64_t execution_id;
    char *payload;
    uint64_t span_id;         /* the activity attempt's trace span (0: tracing off) */
} pending_ack;

typedef struct thread_arg {
    duro_runtime *rt;
    size_t slot;
} thread_arg;

struct duro_runtime {
    duro_provider *p;
    const duro_registry *reg;
    duro_runtime_options opt;
    duro__metrics metrics;

    pthread_mutex_t mu;
    pthread_cond_t cv;        /* stop signal, backoff waits, thread exits */
    int stop;
    size_t live;              /* threads still running */

    /* activity results waiting for the acker thread, FIFO */
    struct pending_ack *ack_head, *ack_tail;
    pthread_cond_t ack_cv;    /* queue not empty, or the last worker exited */
    size_t workers_live;

    /* fetch ahead (opt.prefetch_ms): the acker fills `ready` (oldest first, at most one item
     * per activity thread) only while no worker is looking for work; a worker looking for
     * work takes from it first */
    duro_work_item **ready;
    int64_t *ready_since_us;
    size_t n_ready;
    size_t workers_seeking;   /* workers between finding `ready` empty and getting an item */
    int64_t activity_avg_us;  /* moving average of activity run times */

    pthread_t *threads;       /* orch, then work, then housekeeping, then the acker */
    thread_arg *args;
    size_t n_threads;
    held_lock *held;          /* one per dispatcher thread */
    size_t n_slots;

    /* routing (opt.worker_tag_mode): `filtered` when workers fetch through
     * fetch_work_filtered with `filter` (its tags are `tags`, copies owned here) */
    int filtered;
    duro_work_filter filter;
    char **tags;
    atomic_uint fetch_turn;   /* the filter's turn: incremented on every filtered fetch */

    /* sessions: `sessions` when the provider runs them (workers then fetch through
     * fetch_work_session as `worker_id`, and housekeeping renews their leases) */
    int sessions;
    char worker_id[33];
    /* DURO_CAP_VERSION_FILTER: what the registry could replay at start; orchestration fetches
     * take only instances it accepts. `orch_filtered` 0: the provider cannot filter, every
     * fetch takes any instance. */
    int orch_filtered;
    duro_version_filter orch_filter;
};

void duro_runtime_options_init(duro_runtime_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->size = sizeof *opt;
    opt->orch_concurrency = 2;
    opt->worker_concurrency = 2;
    opt->orch_lock_ms = 5000;
    opt->worker_lock_ms = 30000;
    opt->max_attempts = 10;
    opt->unregistered_backoff_ms = 1000;
    opt->unregistered_backoff_max_ms = 60000;
    opt->poll_ms = 30000;
    opt->prefetch_ms = 50;
    opt->session_lease_ms = 30000;
    opt->session_idle_ms = 300000;
    opt->max_sessions = 64;
}

/* ---- helpers ------------------------------------------------------------------------------ */

/* Make provider call `call` (an int expression) counted and timed as `op` in rt->metrics,
 * for `instance` / `execution_id` (NULL, 0: the thread's current span's); its value. */
#define PROVIDER_CALL(rt, op, instance, execution_id, call)                                    \
    __extension__({                                                                          \
        int64_t start_us_ = duro__metrics_call_begin(&(rt)->metrics, (op));                  \
        int rc_ = (call);                                                                    \
        duro__metrics_call(&(rt)->metrics, (op), start_us_, rc_, (instance), (execution_id)); \
        rc_;                                                                                 \
    })

static void rt_log(duro_runtime *rt, int level, const char *instance, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void rt_log(duro_runtime *rt, int level, const char *instance, const char *fmt, ...)
{
    va_list ap;
    char *msg;
    va_start(ap, fmt);
    msg = duro__vasprintf(fmt, ap);
    va_end(ap);
    if (!msg)
        return;
    if (rt->opt.log)
        rt->opt.log(level, instance, msg, rt->opt.log_ud);
    else
        fprintf(stderr, "duro %s [%s] %s\n", level >= 2 ? "error" : level ? "warning" : "info",
                instance ? instance : "-", msg);
    free(msg);
}

static void turn_log(int level, const char *instance, const char *msg, void *ud)
{
    rt_log(ud, level, instance, "%s", msg);
}

static int stopping(duro_runtime *rt)
{
    return __atomic_load_n(&rt->stop, __ATOMIC_ACQUIRE);
}

/* Wait up to ms, returning early when the runtime stops. */
static void pause_ms(duro_runtime *rt, int64_t ms)
{
    struct timespec ts = duro__monotonic_after_us(ms * 1000);
    pthread_mutex_lock(&rt->mu);
    while (!rt->stop)
        if (pthread_cond_timedwait(&rt->cv, &rt->mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&rt->mu);
}

/* Calls on a held lock (abandon, renew, ack) must not leave an item to wait for its lock to
 * expire because one call met a passing fault. After a retryable error this waits 10, 20, 40,
 * 80, then 160 ms and says to try again; it says stop (0) on any other error or after the
 * fifth retry. The wait ignores shutdown: a hand-back at shutdown needs it most. */
static int retry_locked_call(unsigned attempt, const duro_error *err)
{
    if (!err->retryable || attempt >= 5)
        return 0;
    duro__sleep_ms(10 << attempt);
    return 1;
}

/* abandon_work, retried as retry_locked_call says; the provider's result. */
static int abandon_work_retried(duro_runtime *rt, const char *token, int64_t delay_ms,
                                int uncounted, duro_error *err)
{
    unsigned attempt;
    int rc;
    for (attempt = 0;; attempt++) {
        memset(err, 0, sizeof *err);
        rc = PROVIDER_CALL(rt, DURO_OP_ABANDON_WORK, NULL, 0,
                           rt->p->ops->abandon_work(rt->p, duro_clock_now_ms(), token, delay_ms,
                                                    uncounted, err));
        if (rc == 0 || !retry_locked_call(attempt, err))
            return rc;
    }
}

static int64_t fetch_backoff(duro_error *err, unsigned failures)
{
    int64_t d;
    if (!err->retryable)
        return 100;
    d = 100;
    while (failures-- > 1 && d < 3000)
        d *= 2;
    return d > 3000 ? 3000 : d;
}

static int64_t retry_delay(const duro_runtime *rt, uint32_t attempt)
{
    int64_t d = rt->opt.unregistered_backoff_ms;
    uint32_t i;
    for (i = 1; i < attempt && i <= 6; i++)
        d *= 2;
    if (d > rt->opt.unregistered_backoff_max_ms)
        d = rt->opt.unregistered_backoff_max_ms;
    return d;
}

static void hold(duro_runtime *rt, size_t slot, int kind, const char *token, duro_activity *a)
{
    held_lock *h = &rt->held[slot];
    pthread_mutex_lock(&rt->mu);
    h->kind = kind;
    h->generation++;
    memcpy(h->token, token, sizeof h->token);
    h->activity = a;
    pthread_mutex_unlock(&rt->mu);
}

static void release(duro_runtime *rt, size_t slot)
{
    held_lock *h = &rt->held[slot];
    pthread_mutex_lock(&rt->mu);
    h->kind = HELD_NONE;
    h->generation++;
    h->activity = NULL;
    pthread_mutex_unlock(&rt->mu);
}

/* ---- orchestration turns ------------------------------------------------------------------ */

static void notify_terminal(duro_runtime *rt, const duro_orch_item *item, const duro__turn *t)
{
    duro_terminal_event ev;
    int s = t->commit.state;
    duro__metrics_terminal(&rt->metrics, t->terminated ? DURO_STATE_TERMINATED : s,
                           t->category);
    if (!rt->opt.on_terminal ||
        (s != DURO_STATE_COMPLETED && s != DURO_STATE_FAILED && s != DURO_STATE_CONTINUED_AS_NEW))
        return;
    ev.instance = item->instance;
    ev.execution_id = t->commit.execution_id;
    ev.state = t->terminated ? DURO_STATE_TERMINATED : s;
    ev.output = t->terminal_text ? t->terminal_text : "";
    ev.category = t->category;
    rt->opt.on_terminal(&ev, rt->opt.on_terminal_ud);
}

/* A commit the store could not make (I/O, busy, a damaged store, no memory) says nothing
 * about the instance or activity: its attempt is given back, so that an infrastructure fault
 * never ends as poison. A commit refused for what it holds (a constraint, a size) counts. */
static int storage_fault(int rc)
{
    return rc == DURO_EIO || rc == DURO_EBUSY || rc == DURO_ECORRUPT || rc == DURO_ENOMEM;
}

static void abandon_orch(duro_runtime *rt, const duro_orch_item *item, int64_t delay,
                         int ignore_attempt)
{
    unsigned attempt;
    for (attempt = 0;; attempt++) {
        duro_error err = {0};
        if (PROVIDER_CALL(rt, DURO_OP_ABANDON_ORCH, item->instance, item->execution_id,
                          rt->p->ops->abandon_orch(rt->p, duro_clock_now_ms(), item->lock_token,
                                                   delay, ignore_attempt, &err)) == 0)
            return;
        if (!retry_locked_call(attempt, &err)) {
            rt_log(rt, 1, item->instance, "abandon failed (the lock will expire): %s",
                   err.message);
            return;
        }
    }
}

/* A commit retried after a retryable error found its lock gone: did the first try land
 * (a connection lost at COMMIT)? Then the store holds this turn's state for this execution,
 * and the turn is as done as if the retry had succeeded. */
static int commit_landed(duro_runtime *rt, const duro_orch_item *item, const duro__turn *t)
{
    duro_instance_info info;
    duro_error err = {0};
    int s = t->commit.state, landed = 0;
    if (s != DURO_STATE_COMPLETED && s != DURO_STATE_FAILED && s != DURO_STATE_CONTINUED_AS_NEW)
        return 0; /* only a terminal commit leaves something to report */
    memset(&info, 0, sizeof info);
    if (PROVIDER_CALL(rt, DURO_OP_INSTANCE_INFO, item->instance, item->execution_id,
                      rt->p->ops->instance_info(rt->p, item->instance, &info, &err)) != 0)
        return 0;
    if (s == DURO_STATE_CONTINUED_AS_NEW)
        landed = info.execution_id > t->commit.execution_id;
    else
        landed = info.execution_id == t->commit.execution_id && (int)info.state == s;
    duro_instance_info_clear(&info);
    return landed;
}

/* Commit a turn, retrying retryable errors (not through shutdown) and recognising a commit
 * whose reply was lost; the observer hears of a terminal state once. 0 when the turn is in
 * the store, else the provider's error in *err (DURO_ELOCK: the lock is gone). */
static int try_commit(duro_runtime *rt, const duro_orch_item *item, duro__turn *t,
                      duro_error *err)
{
    unsigned attempt;
    int maybe_applied = 0; /* an earlier try failed in a way that may have committed */
    for (attempt = 0;; attempt++) {
        memset(err, 0, sizeof *err);
        int rc = PROVIDER_CALL(rt, DURO_OP_ACK_ORCH, item->instance, item->execution_id,
                               rt->p->ops->ack_orch(rt->p, duro_clock_now_ms(), item->lock_token,
                                                    &t->commit, err));
        if (rc == 0) {
            notify_terminal(rt, item, t);
            return 0;
        }
        if (err->retryable && attempt < 5 && !stopping(rt)) {
            maybe_applied = 1;
            pause_ms(rt, 10 << attempt);
            continue;
        }
        if (rc == DURO_ELOCK && maybe_applied) {
            /* not a lost lock but, most likely, a commit whose reply was lost */
            rt_log(rt, 0, item->instance, "turn retried after a retryable error found its "
                   "lock released: %s", err->message);
            if (!commit_landed(rt, item, t))
                return rc;
            notify_terminal(rt, item, t);
            return 0;
        }
        return rc;
    }
}

/* Commit a turn or hand it back for later; 0 or the commit's error. */
static int commit_turn(duro_runtime *rt, const duro_orch_item *item, duro__turn *t)
{
    duro_error err;
    int rc = try_commit(rt, item, t, &err);
    if (rc == 0)
        return 0;
    if (rc == DURO_ELOCK) {
        rt_log(rt, 1, item->instance, "turn discarded, lock lost: %s", err.message);
        return rc;
    }
    rt_log(rt, 2, item->instance, "commit failed (%s): %s; retrying the turn later",
           duro_strerror(rc), err.message);
    abandon_orch(rt, item, retry_delay(rt, item->attempt), storage_fault(rc));
    return rc;
}

/* How long an instance that cannot even be ended waits before it is tried again. */
#define UNENDABLE_DELAY_MS (60 * 60 * 1000)

/* End an instance whose messages exceeded max_attempts. The poison verdict normally goes
 * into its history; when what is stored defeats that (the verdict cannot be built, or the
 * store refuses it), the instance is ended by a bare verdict without a history event, and
 * the runtime says so at error level. When even that is refused the instance is set aside
 * for an hour, loudly, instead of being retried every few milliseconds. */
static void poison_orch(duro_runtime *rt, const duro_orch_item *item)
{
    duro__turn t;
    duro_error err = {0};
    int built = duro__turn_poison(rt->reg, item, duro_clock_now_ms(), rt->opt.max_attempts,
                                  item->history_error, &t);
    int rc = built;
    if (built == 0)
        rc = try_commit(rt, item, &t, &err);
    else
        duro_error_set(&err, rc, 0, "the verdict could not be built (%s)", duro_strerror(rc));
    duro__turn_free(&t);
    if (rc == 0)
        return;
    if (rc == DURO_ELOCK) {
        rt_log(rt, 1, item->instance, "poison verdict discarded, lock lost: %s", err.message);
        return;
    }
    if (built == 0 && (err.retryable || storage_fault(rc) || stopping(rt))) {
        /* the store failed, not the verdict: try the same verdict again later */
        abandon_orch(rt, item, retry_delay(rt, item->attempt), 1);
        return;
    }
    char *text = duro__asprintf("poison: orchestration %s exceeded %u attempts (max %u); its "
                                "stored state defeats the poison verdict: %s",
                                item->instance, item->attempt, rt->opt.max_attempts,
                                err.message);
    rt_log(rt, 2, item->instance, "poison verdict could not be committed (%s); ending the "
           "instance without a history event", err.message);
    rc = text ? duro__turn_poison_bare(item, text, &t) : DURO_ENOMEM;
    free(text);
    if (rc == 0)
        rc = try_commit(rt, item, &t, &err);
    else
        duro_error_set(&err, rc, 0, "%s", duro_strerror(rc));
    duro__turn_free(&t);
    if (rc == 0 || rc == DURO_ELOCK)
        return;
    if (err.retryable || storage_fault(rc) || stopping(rt)) {
        abandon_orch(rt, item, retry_delay(rt, item->attempt), 1);
        return;
    }
    rt_log(rt, 2, item->instance, "instance %s cannot be ended (%s); it is set aside for %d "
           "minutes", item->instance, err.message, UNENDABLE_DELAY_MS / 60000);
    abandon_orch(rt, item, UNENDABLE_DELAY_MS, 0);
}

/* Handle one fetched item; 0 when it was committed (or poisoned), else why it was handed
 * back. When tracing, *name is the orchestration's name as the turn found it (malloc'ed;
 * an instance's first turn reads it from its start message), else it stays NULL. */
static int run_orch(duro_runtime *rt, const duro_orch_item *item, char **name)
{
    duro__turn t;
    int64_t now = duro_clock_now_ms();
    int rc;
    if (item->attempt > rt->opt.max_attempts) {
        poison_orch(rt, item);
        return 0;
    }
    if (item->history_error && item->state != DURO_STATE_COMPLETED &&
        item->state != DURO_STATE_FAILED) {
        rt_log(rt, 1, item->instance, "history unreadable (attempt %u): %s", item->attempt,
               item->history_error);
        abandon_orch(rt, item, retry_delay(rt, item->attempt), 0);
        return DURO_ECORRUPT;
    }
    int64_t run_start_us = duro__metrics_now_us();
    duro__turn_env env;
    env.kv_supported = duro__provider_has_kv(rt->p);
    env.no_tags_provider = duro_provider_has_tags(rt->p) ? NULL : rt->p->name;
    env.no_sessions_provider = rt->sessions ? NULL : rt->p->name;
    env.values = env.kv_supported ? rt->p : NULL;
    rc = duro__turn_run_for(rt->reg, item, now, turn_log, rt, &env, &t);
    duro__metrics_turn_ran(&rt->metrics, duro__metrics_now_us() - run_start_us);
    if (rc == 0 && rt->metrics.on_span && t.o && duro_orch_name(t.o))
        *name = duro__strdup(duro_orch_name(t.o));
    if (rc) {
        rt_log(rt, 2, item->instance, "turn failed: %s", duro_strerror(rc));
        duro__turn_free(&t);
        abandon_orch(rt, item, 100, 0);
        return rc;
    }
    switch (t.action) {
    case DURO__TURN_ABANDON_UNREGISTERED:
    case DURO__TURN_ABANDON_CORRUPT:
        rt_log(rt, 1, item->instance, "%s (attempt %u of %u)", t.reason ? t.reason : "",
               item->attempt, rt->opt.max_attempts);
        abandon_orch(rt, item, retry_delay(rt, item->attempt), 0);
        rc = t.action == DURO__TURN_ABANDON_UNREGISTERED ? DURO_EUNREGISTERED : DURO_ECORRUPT;
        break;
    case DURO__TURN_ABANDON_RETRY:
        /* a store read of the code (duro_read_value) failed retryably: nothing was recorded,
         * the turn runs again soon and its attempt is not counted, as a failed commit */
        rt_log(rt, 1, item->instance, "%s", t.reason ? t.reason : "");
        abandon_orch(rt, item, retry_delay(rt, item->attempt), 1);
        rc = DURO_EBUSY;
        break;
    default:
        rc = commit_turn(rt, item, &t);
        break;
    }
    duro__turn_free(&t);
    return rc;
}

/* One turn under its trace span: provider calls made for it are the span's children. */
static void process_orch(duro_runtime *rt, const duro_orch_item *item)
{
    int64_t span_start_us = duro__metrics_now_us();
    uint64_t span_id = duro__metrics_span_id(&rt->metrics);
    char *name = NULL;
    int status;
    duro__metrics_orch_waits(&rt->metrics, item, duro_clock_now_ms());
    duro__metrics_enter(span_id, item->instance, item->execution_id);
    status = run_orch(rt, item, &name);
    duro__metrics_leave();
    duro__metrics_turn(&rt->metrics, span_id, item, name, span_start_us, status);
    free(name);
}

static void *orch_thread(void *arg)
{
    thread_arg *ta = arg;
    duro_runtime *rt = ta->rt;
    unsigned failures = 0;
    while (!stopping(rt)) {
        duro_error err = {0};
        duro_orch_item *item = NULL;
        int rc = rt->orch_filtered
                     ? PROVIDER_CALL(rt, DURO_OP_FETCH_ORCH, NULL, 0,
                                     rt->p->ops->fetch_orch_filtered(
                                         rt->p, duro_clock_now_ms(), rt->opt.orch_lock_ms,
                                         rt->opt.poll_ms, &rt->orch_filter, &item, &err))
                     : PROVIDER_CALL(rt, DURO_OP_FETCH_ORCH, NULL, 0,
                                     rt->p->ops->fetch_orch(rt->p, duro_clock_now_ms(),
                                                            rt->opt.orch_lock_ms,
                                                            rt->opt.poll_ms, &item, &err));
        if (rc == DURO_ENOTFOUND) {
            failures = 0;
            continue;
        }
        if (rc) {
            failures++;
            rt_log(rt, 1, NULL, "orchestration fetch failed: %s", err.message);
            pause_ms(rt, fetch_backoff(&err, failures));
            continue;
        }
        failures = 0;
        hold(rt, ta->slot, HELD_ORCH, item->lock_token, NULL);
        process_orch(rt, item);
        release(rt, ta->slot);
        duro_orch_item_free(item);
    }
    return NULL;
}

/* ---- activities ----------------------------------------------------------------------------- */

/* Give a fetched work item back to the queue at once, without counting the attempt; `why`
 * completes "handed back ..." in the log (info level) when `say` is set. */
static void give_back(duro_runtime *rt, duro_work_item *wi, const char *why, int say)
{
    duro_error err = {0};
    if (abandon_work_retried(rt, wi->lock_token, 0, 1, &err))
        rt_log(rt, 1, wi->instance, "work item #%llu could not be handed back %s (its lock "
               "will expire): %s", (unsigned long long)wi->activity_id, why, err.message);
    else if (say)
        rt_log(rt, 0, wi->instance, "work item #%llu handed back %s",
               (unsigned long long)wi->activity_id, why);
    duro_work_item_free(wi);
}

/* Commit one activity result: delete the work item and enqueue the completion atomically. */
static void commit_ack(duro_runtime *rt, const pending_ack *pa)
{
    duro_msg m;
    unsigned attempt;
    m.instance = pa->instance;
    m.kind = DURO_MSG_ACTIVITY_DONE;
    m.execution_id = pa->execution_id;
    m.payload = pa->payload;
    duro__metrics_enter(pa->span_id, pa->instance, pa->execution_id);
    for (attempt = 0;; attempt++) {
        duro_error err = {0};
        int rc;
        m.visible_at_ms = 0; /* at once */
        rc = PROVIDER_CALL(rt, DURO_OP_ACK_WORK, NULL, 0,
                           rt->p->ops->ack_work(rt->p, duro_clock_now_ms(), pa->token, &m,
                                                &err));
        if (rc == 0)
            break;
        if (retry_locked_call(attempt, &err))
            continue;
        if (rc == DURO_ELOCK)
            rt_log(rt, 0, pa->instance, "activity result discarded (cancelled or lock lost): %s",
                   err.message);
        else {
            rt_log(rt, 2, pa->instance, "activity ack failed: %s", err.message);
            abandon_work_retried(rt, pa->token, 100, storage_fault(rc), &err);
        }
        break;
    }
    duro__metrics_leave();
}

static void pending_ack_free(pending_ack *pa)
{
    free(pa->instance);
    free(pa->payload);
    free(pa);
}

/* Queue a result for the acker thread (committed in order). */
static void queue_ack(duro_runtime *rt, pending_ack *pa)
{
    pthread_mutex_lock(&rt->mu);
    if (rt->ack_tail)
        rt->ack_tail->next = pa;
    else
        rt->ack_head = pa;
    rt->ack_tail = pa;
    pthread_cond_signal(&rt->ack_cv);
    pthread_mutex_unlock(&rt->mu);
}

/* Build the result of an activity for the acker; *out stays NULL when memory runs out (the
 * work item is then retried when its lock expires). */
static void build_ack(duro_runtime *rt, const duro_work_item *wi, int ok, int category,
                      const char *text, pending_ack **out)
{
    json_t *j = duro__rec_new();
    pending_ack *pa = calloc(1, sizeof *pa);
    if (!pa || !j || duro__rec_int(j, "src", (int64_t)wi->activity_id) ||
        duro__rec_int(j, "ok", ok) || (!ok && duro__rec_int(j, "category", category)) ||
        duro__rec_str(j, "text", text ? text : "") ||
        duro__rec_int(j, "due", duro_clock_now_ms()) ||
        !(pa->payload = duro__json_text(j)) || !(pa->instance = duro__strdup(wi->instance))) {
        rt_log(rt, 2, wi->instance, "out of memory recording an activity result; the work item "
               "will be retried when its lock expires");
        json_decref(j);
        if (pa)
            pending_ack_free(pa);
        return;
    }
    json_decref(j);
    memcpy(pa->token, wi->lock_token, sizeof pa->token);
    pa->execution_id = wi->execution_id;
    *out = pa;
}

/* Effective fetch-ahead window in microseconds (0: off). */
static int64_t prefetch_us(const duro_runtime *rt)
{
    int64_t ms = rt->opt.prefetch_ms;
    if (ms > rt->opt.worker_lock_ms / 4)
        ms = rt->opt.worker_lock_ms / 4;
    return rt->opt.worker_concurrency > 0 ? ms * 1000 : 0;
}

/* Caller holds rt->mu: is fetching ahead useful now? Only while every worker is busy (an idle
 * worker gets new work from its own long poll) and activities are short enough that one
 * should finish within the window. An item fetched ahead once shutdown has begun is handed
 * back by the acker before it exits, like one fetched earlier. */
static int prefetch_wanted(const duro_runtime *rt)
{
    int64_t window = prefetch_us(rt);
    return window > 0 && rt->n_ready < (size_t)rt->opt.worker_concurrency &&
           rt->workers_seeking == 0 &&
           __atomic_load_n(&rt->activity_avg_us, __ATOMIC_RELAXED) <= window;
}

/* Lock the next work item this runtime's workers accept (opt.worker_tag_mode), waiting up
 * to poll_ms; the provider's result. */
static int fetch_work(duro_runtime *rt, int64_t poll_ms, duro_work_item **wi, duro_error *err)
{
    duro_work_filter f;
    if (!rt->filtered && !rt->sessions)
        return rt->p->ops->fetch_work(rt->p, duro_clock_now_ms(), rt->opt.worker_lock_ms,
                                      poll_ms, wi, err);
    f = rt->filter;
    f.turn = atomic_fetch_add(&rt->fetch_turn, 1u);
    if (rt->sessions)
        return rt->p->ops->fetch_work_session(rt->p, duro_clock_now_ms(),
                                              rt->opt.worker_lock_ms, poll_ms, &f,
                                              rt->worker_id, rt->opt.session_lease_ms,
                                              rt->opt.max_sessions, wi, err);
    return rt->p->ops->fetch_work_filtered(rt->p, duro_clock_now_ms(), rt->opt.worker_lock_ms,
                                           poll_ms, &f, wi, err);
}

/* Fetch work items ahead into rt->ready (acker thread) while that is wanted and the queue
 * has some. If a worker started looking for work meanwhile, the item goes straight back to
 * the queue, where that worker's long poll finds it: an item is never parked while a worker
 * waits. */
static void prefetch(duro_runtime *rt)
{
    for (;;) {
        duro_error err = {0};
        duro_work_item *wi = NULL;
        int wanted;
        pthread_mutex_lock(&rt->mu);
        wanted = prefetch_wanted(rt);
        pthread_mutex_unlock(&rt->mu);
        if (!wanted || PROVIDER_CALL(rt, DURO_OP_FETCH_WORK, NULL, 0,
                                     fetch_work(rt, 0, &wi, &err)) != 0)
            return;
        pthread_mutex_lock(&rt->mu);
        if (prefetch_wanted(rt)) {
            rt->ready[rt->n_ready] = wi;
            rt->ready_since_us[rt->n_ready] = duro__monotonic_us();
            rt->n_ready++;
            wi = NULL;
        }
        pthread_mutex_unlock(&rt->mu);
        if (wi) {
            give_back(rt, wi, "for a worker that became free", 0);
            return;
        }
    }
}

/* Caller holds rt->mu and rt->n_ready > 0: remove and return the oldest item fetched
 * ahead. */
static duro_work_item *ready_pop(duro_runtime *rt)
{
    duro_work_item *wi = rt->ready[0];
    rt->n_ready--;
    memmove(rt->ready, rt->ready + 1, rt->n_ready * sizeof *rt->ready);
    memmove(rt->ready_since_us, rt->ready_since_us + 1,
            rt->n_ready * sizeof *rt->ready_since_us);
    return wi;
}

/* The acker: commits queued activity results, fetches ahead after them, and hands back an
 * item fetched ahead that no worker took within the window. It runs until the runtime stops
 * and every worker has exited with the queue drained; items still fetched ahead then go
 * back to the queue uncounted. */
static void *acker_thread(void *arg)
{
    thread_arg *ta = arg;
    duro_runtime *rt = ta->rt;
    for (;;) {
        pending_ack *batch;
        duro_work_item *stale = NULL;
        pthread_mutex_lock(&rt->mu);
        while (!rt->ack_head && !(rt->stop && rt->workers_live == 0)) {
            if (rt->n_ready == 0) {
                pthread_cond_wait(&rt->ack_cv, &rt->mu);
            } else if (rt->stop || duro__monotonic_us() >= rt->ready_since_us[0] + prefetch_us(rt)) {
                stale = ready_pop(rt);
                break;
            } else {
                struct timespec dl = duro__monotonic_after_us(
                    rt->ready_since_us[0] + prefetch_us(rt) - duro__monotonic_us());
                pthread_cond_timedwait(&rt->ack_cv, &rt->mu, &dl);
            }
        }
        if (!stale && !rt->ack_head && rt->n_ready > 0)
            stale = ready_pop(rt); /* stopping with items fetched ahead */
        batch = rt->ack_head;
        rt->ack_head = rt->ack_tail = NULL;
        pthread_mutex_unlock(&rt->mu);
        if (stale) {
            give_back(rt, stale, rt->stop ? "at shutdown (fetched ahead)"
                                          : "after the fetch-ahead window (no worker free)", 1);
            if (!batch)
                continue;
        }
        if (!batch)
            return NULL;
        while (batch) {
            pending_ack *next = batch->next;
            commit_ack(rt, batch);
            pending_ack_free(batch);
            batch = next;
        }
        prefetch(rt);
    }
}

/* Fold one activity run time into the moving average (weight 1/8) that decides whether
 * fetching ahead pays off. Concurrent updates may lose one sample; the average stays sane. */
static void note_activity_time(duro_runtime *rt, int64_t us)
{
    int64_t avg = __atomic_load_n(&rt->activity_avg_us, __ATOMIC_RELAXED);
    __atomic_store_n(&rt->activity_avg_us, avg + (us - avg) / 8, __ATOMIC_RELAXED);
}

/* Run one work item; its result (if any) is left in *ack for the caller to queue. */
static void process_work(duro_runtime *rt, size_t slot, const duro_work_item *wi,
                         pending_ack **ack)
{
    duro__rec rec;
    duro_error err = {0};
    duro_activity a;
    duro_activity_fn fn;
    void *ud;
    char *msg;
    int cancelled, decoded;
    duro__metrics_work_wait(&rt->metrics, wi, duro_clock_now_ms());
    decoded = duro__rec_decode(wi->payload, 0, wi->activity_id, &rec, &err);
    if (decoded == DURO_ENOMEM) {
        /* out of memory says nothing of the item: back to the queue, not to poison */
        rt_log(rt, 1, wi->instance, "work item #%llu: %s; handed back",
               (unsigned long long)wi->activity_id, err.message);
        if (abandon_work_retried(rt, wi->lock_token, 100, 0, &err))
            rt_log(rt, 1, wi->instance, "work item #%llu could not be handed back (its lock "
                   "will expire): %s", (unsigned long long)wi->activity_id, err.message);
        return;
    }
    if (decoded != 0 || !rec.name) {
        msg = duro__asprintf("poison: activity #%llu of %s is undecodable: %s",
                             (unsigned long long)wi->activity_id, wi->instance,
                             decoded ? err.message : "no name");
        build_ack(rt, wi, 0, DURO_CAT_POISON, msg ? msg : "poison: undecodable activity", ack);
        duro__metrics_poison_activity(&rt->metrics);
        free(msg);
        if (decoded == 0) /* a failed decode leaves `rec` unset */
            duro__rec_clear(&rec);
        return;
    }
    if (wi->attempt > rt->opt.max_attempts) {
        msg = duro__asprintf("poison: activity %s#%llu exceeded %u attempts (max %u)", rec.name,
                             (unsigned long long)wi->activity_id, wi->attempt,
                             rt->opt.max_attempts);
        build_ack(rt, wi, 0, DURO_CAT_POISON, msg ? msg : "poison", ack);
        duro__metrics_poison_activity(&rt->metrics);
        free(msg);
        duro__rec_clear(&rec);
        return;
    }
    if (duro__registry_activity(rt->reg, rec.name, &fn, &ud) != 0) {
        rt_log(rt, 1, wi->instance, "activity \"%s\" is not registered (attempt %u of %u)",
               rec.name, wi->attempt, rt->opt.max_attempts);
        abandon_work_retried(rt, wi->lock_token, retry_delay(rt, wi->attempt), 0, &err);
        duro__rec_clear(&rec);
        return;
    }
    memset(&a, 0, sizeof a);
    a.instance = wi->instance;
    a.name = rec.name;
    a.attempt = rec.attempt ? rec.attempt : 1;
    hold(rt, slot, HELD_WORK, wi->lock_token, &a);
    uint64_t span_id = duro__metrics_span_id(&rt->metrics);
    int64_t started_us = duro__monotonic_us();
    fn(&a, rec.input ? rec.input : "", ud);
    int64_t ended_us = duro__monotonic_us();
    note_activity_time(rt, ended_us - started_us);
    release(rt, slot);
    cancelled = __atomic_load_n(&a.cancelled, __ATOMIC_ACQUIRE);
    duro__metrics_activity(&rt->metrics, span_id, wi, rec.name, a.attempt, started_us, ended_us,
                           cancelled == DURO__CANCEL_LOCK_LOST ? DURO_ELOCK
                           : cancelled == DURO__CANCEL_SHUTDOWN && a.saw_cancel ? DURO_ESHUTDOWN
                           : a.has_result && a.ok ? 0 : DURO_ESTATE);
    if (cancelled == DURO__CANCEL_LOCK_LOST) {
        rt_log(rt, 0, wi->instance, "activity %s#%llu was cancelled; result discarded", rec.name,
               (unsigned long long)wi->activity_id);
    } else if (cancelled == DURO__CANCEL_SHUTDOWN && a.saw_cancel) {
        /* it stopped early for the shutdown: hand the item to the next worker at once */
        if (abandon_work_retried(rt, wi->lock_token, 0, 1, &err))
            rt_log(rt, 1, wi->instance, "abandon at shutdown failed (the lock will expire): %s",
                   err.message);
    } else if (!a.has_result || !a.result) {
        msg = duro__asprintf(a.has_result ? "activity %s: out of memory building its result"
                                          : "activity %s returned without a result",
                             rec.name);
        build_ack(rt, wi, 0, DURO_CAT_APPLICATION, msg ? msg : "activity returned no result", ack);
        free(msg);
    } else if (!duro__utf8_valid(a.result) ||
               duro__check_payload(a.result, "activity output", NULL)) {
        msg = duro__asprintf("activity %s produced output that is not valid UTF-8 or exceeds "
                             "%u bytes",
                             rec.name, (unsigned)DURO_MAX_PAYLOAD_BYTES);
        build_ack(rt, wi, 0, DURO_CAT_APPLICATION, msg ? msg : "invalid activity output", ack);
        free(msg);
    } else
        build_ack(rt, wi, a.ok, DURO_CAT_APPLICATION, a.result, ack);
    if (*ack)
        (*ack)->span_id = span_id;
    free(a.result);
    duro__rec_clear(&rec);
}

/* Caller holds rt->mu: take the oldest item fetched ahead, or register as looking for work
 * (the caller unregisters when its own fetch returns). */
static duro_work_item *take_ready_or_seek(duro_runtime *rt)
{
    if (rt->n_ready > 0)
        return ready_pop(rt);
    rt->workers_seeking++;
    return NULL;
}

/* An activity thread. After an activity it first takes the item the acker fetched ahead,
 * if any, or tries to take the next work item without waiting. If there is one, the result
 * goes to the acker, so the slot runs the next activity while the result is committed (on
 * files, during its fsync). If there is none, the result is committed right here, which
 * spares the idle path a thread hop; a long poll starts only after that. */
static void *work_thread(void *arg)
{
    thread_arg *ta = arg;
    duro_runtime *rt = ta->rt;
    unsigned failures = 0;
    pending_ack *ack = NULL;
    while (!stopping(rt)) {
        duro_error err = {0};
        duro_work_item *wi;
        int rc = DURO_ENOTFOUND;
        pthread_mutex_lock(&rt->mu);
        wi = take_ready_or_seek(rt);
        pthread_mutex_unlock(&rt->mu);
        if (wi) {
            rc = 0;
            if (ack)
                queue_ack(rt, ack);
            ack = NULL;
        } else {
            if (ack) {
                rc = PROVIDER_CALL(rt, DURO_OP_FETCH_WORK, NULL, 0,
                                   fetch_work(rt, 0, &wi, &err));
                if (rc != 0) {
                    commit_ack(rt, ack); /* idle: commit here, sparing a thread hop */
                    pending_ack_free(ack);
                    ack = NULL;
                }
            }
            if (rc == DURO_ENOTFOUND)
                rc = PROVIDER_CALL(rt, DURO_OP_FETCH_WORK, NULL, 0,
                                   fetch_work(rt, rt->opt.poll_ms, &wi, &err));
            pthread_mutex_lock(&rt->mu);
            rt->workers_seeking--;
            pthread_mutex_unlock(&rt->mu);
            if (ack) /* more work: the acker commits while it runs, then may fetch ahead */
                queue_ack(rt, ack);
            ack = NULL;
        }
        if (rc == DURO_ENOTFOUND) {
            failures = 0;
            continue;
        }
        if (rc) {
            failures++;
            rt_log(rt, 1, NULL, "work fetch failed: %s", err.message);
            pause_ms(rt, fetch_backoff(&err, failures));
            continue;
        }
        failures = 0;
        if (stopping(rt)) {
            /* taken while shutting down (e.g. an item another activity just gave back):
             * hand it back uncounted instead of starting it */
            give_back(rt, wi, "at shutdown", 0);
            break;
        }
        process_work(rt, ta->slot, wi, &ack);
        duro_work_item_free(wi);
    }
    if (ack)
        queue_ack(rt, ack);
    return NULL;
}

/* ---- housekeeping --------------------------------------------------------------------------- */

/* Extend the leases of the sessions this runtime owns and release its idle ones; a failure
 * is logged and retried on the next pass (leases outlive several passes). */
static void renew_sessions(duro_runtime *rt)
{
    duro_error err = {0};
    if (rt->p->ops->renew_sessions(rt->p, duro_clock_now_ms(), rt->worker_id,
                                   rt->opt.session_lease_ms, rt->opt.session_idle_ms, NULL,
                                   &err) != 0)
        rt_log(rt, 1, NULL, "renew_sessions failed: %s", err.message);
}

static void *housekeeping_thread(void *arg)
{
    thread_arg *ta = arg;
    duro_runtime *rt = ta->rt;
    held_lock *snap = calloc(rt->n_slots, sizeof *snap);
    while (!stopping(rt)) {
        size_t i;
        pause_ms(rt, rt->opt.renew_interval_ms);
        if (stopping(rt) || !snap)
            break;
        if (rt->sessions)
            renew_sessions(rt);
        pthread_mutex_lock(&rt->mu);
        memcpy(snap, rt->held, rt->n_slots * sizeof *snap);
        pthread_mutex_unlock(&rt->mu);
        for (i = 0; i < rt->n_slots; i++) {
            duro_error err;
            int rc;
            unsigned attempt;
            if (snap[i].kind == HELD_NONE)
                continue;
            for (attempt = 0;; attempt++) {
                memset(&err, 0, sizeof err);
                if (snap[i].kind == HELD_ORCH)
                    rc = PROVIDER_CALL(rt, DURO_OP_RENEW_ORCH, NULL, 0,
                                       rt->p->ops->renew_orch(rt->p, duro_clock_now_ms(),
                                                              snap[i].token,
                                                              rt->opt.orch_lock_ms, &err));
                else
                    rc = PROVIDER_CALL(rt, DURO_OP_RENEW_WORK, NULL, 0,
                                       rt->p->ops->renew_work(rt->p, duro_clock_now_ms(),
                                                              snap[i].token,
                                                              rt->opt.worker_lock_ms, &err));
                if (rc == 0 || !retry_locked_call(attempt, &err))
                    break;
            }
            if (rc == DURO_ELOCK && snap[i].kind == HELD_WORK) {
                pthread_mutex_lock(&rt->mu);
                if (rt->held[i].generation == snap[i].generation && rt->held[i].activity)
                    __atomic_store_n(&rt->held[i].activity->cancelled, DURO__CANCEL_LOCK_LOST,
                                     __ATOMIC_RELEASE);
                pthread_mutex_unlock(&rt->mu);
            }
        }
    }
    free(snap);
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

typedef void *(*thread_fn)(void *);

static void *thread_main(void *arg)
{
    thread_arg *ta = arg;
    duro_runtime *rt = ta->rt;
    thread_fn fn;
    int worker = 0;
    if (ta->slot < (size_t)rt->opt.orch_concurrency)
        fn = orch_thread;
    else if (ta->slot < rt->n_slots) {
        fn = work_thread;
        worker = 1;
    } else if (ta->slot == rt->n_slots)
        fn = housekeeping_thread;
    else
        fn = acker_thread;
    fn(arg);
    pthread_mutex_lock(&rt->mu);
    rt->live--;
    if (worker && --rt->workers_live == 0)
        pthread_cond_broadcast(&rt->ack_cv);
    pthread_cond_broadcast(&rt->cv);
    pthread_mutex_unlock(&rt->mu);
    return NULL;
}

/* DURO_MAX_OPTION_MS as the option messages spell it. */
#define MAX_MS_TEXT "86400000"
_Static_assert(DURO_MAX_OPTION_MS == INT64_C(86400000), "MAX_MS_TEXT is DURO_MAX_OPTION_MS");

/* 0 when every option is in range, else DURO_EINVAL with err naming the first one that is
 * not. The DURO_MAX_OPTION_MS bound keeps every sum and product of durations in this file
 * and in the providers far from overflow. */
static int check_options(const duro_runtime_options *o, duro_error *err)
{
    const char *bad = NULL;
    if (o->orch_concurrency < 1 || o->orch_concurrency > 1024)
        bad = "orch_concurrency (1..1024)";
    else if (o->worker_concurrency < 0 || o->worker_concurrency > 1024)
        bad = "worker_concurrency (0..1024)";
    else if (o->orch_lock_ms < 1 || o->orch_lock_ms > DURO_MAX_OPTION_MS)
        bad = "orch_lock_ms (1.." MAX_MS_TEXT ")";
    else if (o->worker_lock_ms < 1 || o->worker_lock_ms > DURO_MAX_OPTION_MS)
        bad = "worker_lock_ms (1.." MAX_MS_TEXT ")";
    else if (o->max_attempts < 1)
        bad = "max_attempts (>= 1)";
    else if (o->unregistered_backoff_ms < 0 || o->unregistered_backoff_ms > DURO_MAX_OPTION_MS)
        bad = "unregistered_backoff_ms (0.." MAX_MS_TEXT ")";
    else if (o->unregistered_backoff_max_ms < o->unregistered_backoff_ms ||
             o->unregistered_backoff_max_ms > DURO_MAX_OPTION_MS)
        bad = "unregistered_backoff_max_ms (unregistered_backoff_ms.." MAX_MS_TEXT ")";
    else if (o->poll_ms < 0 || o->poll_ms > DURO_MAX_OPTION_MS)
        bad = "poll_ms (0.." MAX_MS_TEXT ")";
    else if (o->renew_interval_ms < 0 || o->renew_interval_ms > DURO_MAX_OPTION_MS)
        bad = "renew_interval_ms (0.." MAX_MS_TEXT ")";
    else if (o->prefetch_ms < 0)
        bad = "prefetch_ms (>= 0)";
    else if (o->session_lease_ms < 1 || o->session_lease_ms > DURO_MAX_OPTION_MS)
        bad = "session_lease_ms (1.." MAX_MS_TEXT ")";
    else if (o->session_idle_ms < 1 || o->session_idle_ms > DURO_MAX_OPTION_MS)
        bad = "session_idle_ms (1.." MAX_MS_TEXT ")";
    else if (o->max_sessions > 1000000)
        bad = "max_sessions (0..1000000)";
    if (bad)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_runtime_start: option %s out of range",
                              bad);
    return 0;
}

/* The caller's options over the defaults, read only as far as the caller's struct goes
 * (opt->size), so a program built against an older, shorter struct is safe. */
static int adopt_options(duro_runtime_options *dst, const duro_runtime_options *opt,
                         duro_error *err)
{
    duro_runtime_options_init(dst);
    if (!opt)
        return 0;
    if (opt->size < offsetof(duro_runtime_options, orch_concurrency) +
                        sizeof opt->orch_concurrency)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "runtime options not initialised: call "
                              "duro_runtime_options_init first");
    memcpy(dst, opt, opt->size < sizeof *dst ? opt->size : sizeof *dst);
    dst->size = sizeof *dst;
    return 0;
}

static void free_routing(duro_runtime *rt)
{
    duro_strv_free(rt->tags, rt->filter.n_tags);
    rt->tags = NULL;
}

/* Build rt->filter from opt.worker_tag_mode and copies of opt.worker_tags. 0, or DURO_EINVAL
 * (a bad mode or tag list), DURO_ENOTSUP (tags on a provider that does not route them),
 * DURO_ENOMEM; err names the fault. */
static int adopt_routing(duro_runtime *rt, const duro_provider *p, duro_error *err)
{
    const duro_runtime_options *o = &rt->opt;
    int mode = o->worker_tag_mode;
    int listed = mode == DURO_WORKER_TAGS || mode == DURO_WORKER_TAGS_AND_UNTAGGED;
    int rc;
    if (mode < DURO_WORKER_UNTAGGED || mode > DURO_WORKER_ANY_TAG)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_runtime_start: option worker_tag_mode %d is not a "
                              "duro_worker_tag_mode", mode);
    if (!listed && o->n_worker_tags > 0)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_runtime_start: option worker_tags given, but "
                              "worker_tag_mode %d lists no tags", mode);
    if (listed && (o->n_worker_tags == 0 || o->worker_tags == NULL))
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_runtime_start: option worker_tag_mode %d needs worker_tags",
                              mode);
    rt->filter.untagged = 1;
    if (mode == DURO_WORKER_UNTAGGED)
        return 0;
    if (!duro_provider_has_tags(p))
        return duro_error_set(err, DURO_ENOTSUP, 0,
                              "duro_runtime_start: option worker_tag_mode %d: provider \"%s\" "
                              "does not route tagged work (needs ops version 4 and "
                              "DURO_CAP_TAGS)", mode, p->name);
    if (listed) {
        if (o->n_worker_tags > DURO_MAX_FILTER_TAGS)
            return duro_error_set(err, DURO_EINVAL, 0,
                                  "duro_runtime_start: option worker_tags has %zu tags (limit "
                                  "%d)", o->n_worker_tags, DURO_MAX_FILTER_TAGS);
        rt->tags = calloc(o->n_worker_tags, sizeof *rt->tags);
        if (!rt->tags)
            return duro_error_set(err, DURO_ENOMEM, 0, "duro_runtime_start: out of memory");
        for (size_t i = 0; i < o->n_worker_tags; i++) {
            if ((rc = duro__check_id(o->worker_tags[i], "option worker_tags entry", err)))
                return rc;
            if (!(rt->tags[i] = duro__strdup(o->worker_tags[i])))
                return duro_error_set(err, DURO_ENOMEM, 0, "duro_runtime_start: out of memory");
            rt->filter.n_tags = i + 1;
        }
        rt->filter.tags = (const char *const *)rt->tags;
    }
    rt->filter.untagged = mode != DURO_WORKER_TAGS;
    rt->filter.any_tag = mode == DURO_WORKER_ANY_TAG;
    rc = duro_provider_check_work_filter(&rt->filter, err);
    if (rc)
        return rc;
    rt->filtered = 1;
    atomic_init(&rt->fetch_turn, 0u);
    return 0;
}

int duro_runtime_start(duro_provider *provider, const duro_registry *registry,
                       const duro_runtime_options *opt, duro_runtime **out, duro_error *err)
{
    duro_runtime *rt;
    pthread_condattr_t ca;
    size_t i;
    int rc;
    if (!registry || !out)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_runtime_start: %s is required",
                              registry ? "out" : "registry");
    *out = NULL;
    rc = duro_provider_check(provider, err);
    if (rc)
        return rc;
    rt = calloc(1, sizeof *rt);
    if (!rt)
        return duro_error_set(err, DURO_ENOMEM, 0, "duro_runtime_start: out of memory");
    rc = adopt_options(&rt->opt, opt, err);
    if (rc == 0)
        rc = check_options(&rt->opt, err);
    if (rc == 0)
        rc = adopt_routing(rt, provider, err);
    if (rc == 0 && duro_provider_has_sessions(provider)) {
        rt->sessions = 1;
        if (duro_random_token(rt->worker_id) != 0)
            rc = duro_error_set(err, DURO_EIO, 1, "duro_runtime_start: cannot draw a worker id");
    }
    if (rc) {
        free_routing(rt);
        free(rt);
        return rc;
    }
    if (rt->opt.renew_interval_ms == 0) {
        int64_t m = rt->opt.orch_lock_ms < rt->opt.worker_lock_ms ? rt->opt.orch_lock_ms
                                                                   : rt->opt.worker_lock_ms;
        rt->opt.renew_interval_ms = m / 2 > 0 ? m / 2 : 1;
        /* session leases are renewed at least three times per lease */
        if (rt->sessions && rt->opt.session_lease_ms / 3 < rt->opt.renew_interval_ms)
            rt->opt.renew_interval_ms = rt->opt.session_lease_ms / 3 > 0
                                            ? rt->opt.session_lease_ms / 3 : 1;
    }
    duro__metrics_init(&rt->metrics, &rt->opt);
    rt->p = provider;
    rt->reg = registry;
    rt->n_slots = (size_t)rt->opt.orch_concurrency + (size_t)rt->opt.worker_concurrency;
    rt->n_threads = rt->n_slots + 2;
    rt->workers_live = (size_t)rt->opt.worker_concurrency;
    rt->threads = calloc(rt->n_threads, sizeof *rt->threads);
    rt->args = calloc(rt->n_threads, sizeof *rt->args);
    rt->held = calloc(rt->n_slots, sizeof *rt->held);
    rt->ready = calloc((size_t)rt->opt.worker_concurrency + 1, sizeof *rt->ready);
    rt->ready_since_us = calloc((size_t)rt->opt.worker_concurrency + 1,
                                sizeof *rt->ready_since_us);
    rt->orch_filtered = duro__provider_has_version_filter(provider);
    if (!rt->threads || !rt->args || !rt->held || !rt->ready || !rt->ready_since_us ||
        (rt->orch_filtered && duro__registry_filter(registry, &rt->orch_filter) != 0)) {
        free((void *)rt->orch_filter.refs);
        free(rt->threads);
        free(rt->args);
        free(rt->held);
        free(rt->ready);
        free(rt->ready_since_us);
        free_routing(rt);
        free(rt);
        return duro_error_set(err, DURO_ENOMEM, 0, "duro_runtime_start: out of memory");
    }
    pthread_mutex_init(&rt->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rt->cv, &ca);
    pthread_cond_init(&rt->ack_cv, &ca);
    pthread_condattr_destroy(&ca);
    for (i = 0; i < rt->n_threads; i++) {
        rt->args[i].rt = rt;
        rt->args[i].slot = i;
        pthread_mutex_lock(&rt->mu);
        rt->live++;
        pthread_mutex_unlock(&rt->mu);
        if (pthread_create(&rt->threads[i], NULL, thread_main, &rt->args[i]) != 0) {
            pthread_mutex_lock(&rt->mu);
            rt->live--;
            if (i >= (size_t)rt->opt.orch_concurrency)
                rt->workers_live -= (i < rt->n_slots ? rt->n_slots - i : 0);
            pthread_mutex_unlock(&rt->mu);
            rt->n_threads = i;
            duro_runtime_shutdown(rt);
            return duro_error_set(err, DURO_EIO, 1, "duro_runtime_start: cannot create a thread");
        }
    }
    *out = rt;
    return 0;
}

const char *duro_runtime_worker_id(const duro_runtime *rt)
{
    return rt ? rt->worker_id : NULL;
}

int duro_runtime_metrics_get(duro_runtime *rt, duro_runtime_metrics *out, duro_error *err)
{
    if (!rt || !out)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_runtime_metrics_get: %s is NULL",
                              rt ? "out" : "rt");
    if (out->size == 0)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_runtime_metrics_get: out->size is 0 "
                              "(call duro_runtime_metrics_init first)");
    duro__metrics_snapshot(&rt->metrics, out);
    return 0;
}

int duro_runtime_shutdown(duro_runtime *rt)
{
    size_t i;
    if (!rt)
        return 0;
    pthread_mutex_lock(&rt->mu);
    __atomic_store_n(&rt->stop, 1, __ATOMIC_RELEASE);
    for (i = 0; i < rt->n_slots; i++)
        if (rt->held[i].kind == HELD_WORK && rt->held[i].activity)
            __atomic_store_n(&rt->held[i].activity->cancelled, DURO__CANCEL_SHUTDOWN,
                             __ATOMIC_RELEASE);
    pthread_cond_broadcast(&rt->cv);
    pthread_cond_broadcast(&rt->ack_cv);
    while (rt->live > 0) {
        struct timespec ts;
        pthread_mutex_unlock(&rt->mu);
        if (rt->p->ops->interrupt)
            rt->p->ops->interrupt(rt->p);
        ts = duro__monotonic_after_us(5000);
        pthread_mutex_lock(&rt->mu);
        if (rt->live > 0)
            pthread_cond_timedwait(&rt->cv, &rt->mu, &ts);
    }
    pthread_mutex_unlock(&rt->mu);
    for (i = 0; i < rt->n_threads; i++)
        pthread_join(rt->threads[i], NULL);
    while (rt->ack_head) { /* only when the acker could not be started */
        pending_ack *next = rt->ack_head->next;
        commit_ack(rt, rt->ack_head);
        pending_ack_free(rt->ack_head);
        rt->ack_head = next;
    }
    while (rt->n_ready > 0) /* only when the acker could not be started */
        give_back(rt, ready_pop(rt), "at shutdown (fetched ahead)", 1);
    pthread_cond_destroy(&rt->cv);
    pthread_cond_destroy(&rt->ack_cv);
    pthread_mutex_destroy(&rt->mu);
    free(rt->threads);
    free(rt->args);
    free(rt->held);
    free(rt->ready);
    free(rt->ready_since_us);
    free_routing(rt);
    free((void *)rt->orch_filter.refs);
    free(rt);
    return 0;
}
