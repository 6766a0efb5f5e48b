/*
 * duro.h — durable code execution for C.
 *
 * An orchestration is a deterministic C function that the runtime re-runs from the top on
 * every turn against the recorded history. Each durable call (activity, timer, external
 * event, sub-orchestration) either finds its result in history or records a new decision;
 * DURO_AWAIT returns DURO_SUSPEND from the function while the result is not there yet.
 * Activities do the real work and run at least once. Everything is stored by a provider
 * (duro-provider.h); libduro-sqlite is the embedded default.
 *
 * The one rule (enforced): once a run has observed a task that is not complete (an AWAIT
 * that suspends, a duro_when_any that returns NULL, duro_task_done() returning 0) it may make
 * no further durable call except a terminal one (complete, fail, continue-as-new). A
 * violation fails the instance with a clear configuration error instead of corrupting
 * history.
 *
 * Memory: every string handed to orchestration code (inputs, task values and errors, guids)
 * is owned by the turn and stays valid until the orchestration function returns. Tasks are
 * owned by the turn too. Strings passed to duro are copied.
 *
 * Naming: a function whose name ends in `f` takes a printf format and its arguments
 * (duro_completef, duro_failf, duro_activity_okf, duro_activity_failf, duro_logf); the same
 * name without the `f` takes the text verbatim.
 *
 * Thread safety, per handle:
 * - duro_registry: not thread-safe while handlers are registered; read-only (and shareable by
 *   any number of runtimes) once a runtime has started on it.
 * - duro_runtime: start and shutdown from one thread; its callbacks (on_terminal, log) run on
 *   runtime threads, possibly several at once.
 * - duro_client: safe to use from many threads at once.
 * - duro_orch and its duro_task objects: only inside the orchestration function, on the
 *   thread that runs the turn.
 * - duro_activity: only inside the activity function, on its activity thread.
 * - Everything else (names, clocks, duro_status helpers) is safe from any thread.
 */
#ifndef DURO_H
#define DURO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "duro-common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DURO_VERSION_STRING "0.2.0"

/* DURO_MAX_ID_BYTES and DURO_MAX_PAYLOAD_BYTES, the limits on what duro accepts, are in
 * duro-common.h: providers enforce the first one too. */
/* Longest duration (24 h in ms) a runtime option accepts (duro_runtime_options). */
#define DURO_MAX_OPTION_MS INT64_C(86400000)

/* Time arguments of the orchestration and client APIs have no upper bound: a due time or
 * deadline that would pass INT64_MAX ms saturates at INT64_MAX, which means "never" (a timer
 * that never fires, a wait that lasts until the instance ends). */

/* Return values of an orchestration function. */
#define DURO_SUSPEND 1 /* waiting for a result that is not in history yet */
#define DURO_DONE 2    /* a terminal call was made (complete, fail, continue-as-new) */

/* Kinds of the history events duro_client_history() returns (duro_event.kind);
 * duro_event_kind_name() names each. Values are stored and never renumbered. */
typedef enum duro_event_kind {
    DURO_EVENT_ORCH_STARTED = 1,        /* always event 1 of an execution */
    DURO_EVENT_ORCH_COMPLETED,          /* terminal */
    DURO_EVENT_ORCH_FAILED,             /* terminal */
    DURO_EVENT_ORCH_CONTINUED,          /* terminal: continued as new */
    DURO_EVENT_CANCEL_REQUESTED,
    DURO_EVENT_ACTIVITY_SCHEDULED,
    DURO_EVENT_ACTIVITY_RETRY,          /* backoff before the next attempt */
    DURO_EVENT_ACTIVITY_DISPATCHED,     /* attempt 2 and later */
    DURO_EVENT_ACTIVITY_COMPLETED,
    DURO_EVENT_ACTIVITY_FAILED,
    DURO_EVENT_ACTIVITY_TIMEOUT,
    DURO_EVENT_ACTIVITY_CANCELLED,
    DURO_EVENT_TIMER_CREATED,
    DURO_EVENT_TIMER_FIRED,
    DURO_EVENT_EXTERNAL_WAIT,
    DURO_EVENT_EXTERNAL_RAISED,
    DURO_EVENT_SUB_SCHEDULED,
    DURO_EVENT_SUB_COMPLETED,
    DURO_EVENT_SUB_FAILED,
    DURO_EVENT_SUB_CANCELLED,
    DURO_EVENT_DETACHED,
    DURO_EVENT_VALUE,                   /* a recorded now / guid / random value */
    DURO_EVENT_ORCH_TERMINATED,         /* terminal: duro_client_terminate (text = reason) */
    DURO_EVENT_SUSPENDED,               /* duro_client_suspend (text = reason) */
    DURO_EVENT_RESUMED,                 /* duro_client_resume (text = reason) */
    DURO_EVENT_VALUE_SET,               /* duro_set_value (name = key, text = value) */
    DURO_EVENT_VALUE_CLEARED,           /* duro_clear_value (name = key) */
    DURO_EVENT_VALUES_CLEARED,          /* duro_clear_values */
    DURO_EVENT_VALUE_READ               /* duro_read_value (instance, name = key, what =
                                         * "set" with text = value, "unset" or
                                         * "no_instance") */
} duro_event_kind;

typedef struct duro_registry duro_registry;
typedef struct duro_runtime duro_runtime;
typedef struct duro_client duro_client;
typedef struct duro_orch duro_orch;
typedef struct duro_task duro_task;
typedef struct duro_activity duro_activity;

/* An orchestration: deterministic, replayed. Returns DURO_SUSPEND (via DURO_AWAIT) or the
 * value of duro_complete / duro_fail / duro_continue_as_new. */
typedef int (*duro_orch_fn)(duro_orch *o, const char *input, void *ud);
/* An activity: real work, at least once. Returns duro_activity_ok / duro_activity_fail. */
typedef int (*duro_activity_fn)(duro_activity *a, const char *input, void *ud);

/* ---- Registry ---------------------------------------------------------------------------- */

/* A new, empty registry, or NULL when out of memory (its only failure). */
DURO_EXTERN duro_registry *duro_registry_new(void);
/* Free a registry; NULL is a no-op. No runtime may still use it. */
DURO_EXTERN void duro_registry_free(duro_registry *r);

/* Register orchestration `name` at `version` ("MAJOR.MINOR.PATCH"; NULL means "1.0.0").
 * New instances start on the highest registered version; replay uses the exact version
 * recorded in history. Errors: DURO_EINVAL (bad name or version), DURO_EEXIST (same name
 * and version twice), DURO_ETOOBIG, DURO_ENOMEM. Names starting with "duro:" are reserved. */
DURO_EXTERN int duro_register_orchestration(duro_registry *r, const char *name,
                                            const char *version,
                                            duro_orch_fn fn, void *ud);
/* Register activity `name`. Same errors as above. */
DURO_EXTERN int duro_register_activity(duro_registry *r, const char *name, duro_activity_fn fn,
                                       void *ud);

/* ---- Orchestration side: durable calls --------------------------------------------------- */

typedef enum duro_backoff {
    DURO_BACKOFF_NONE = 0,   /* retry at once */
    DURO_BACKOFF_FIXED,      /* delay = base */
    DURO_BACKOFF_LINEAR,     /* delay = min(base * attempt, max) */
    DURO_BACKOFF_EXPONENTIAL /* delay = min(base * 2^(attempt-1), max) */
} duro_backoff;

/* Retry policy of one activity call. The engine runs every attempt and every backoff (on
 * durable timers) under the one task: the orchestration sees a single task that completes
 * when an attempt succeeds or the last attempt fails. A per-attempt timeout counts as a
 * failed attempt ("timeout: attempt N exceeded T ms") and the timed-out attempt is cancelled.
 * A field out of range fails the instance at the call with a configuration error naming it,
 * e.g. "duro_call_activity_retry: activity "Charge": retry.base_ms is -1 (must be >= 0)".
 * Durations have no upper bound: before the max_ms cap, a linear backoff whose product would
 * overflow is INT64_MAX and an exponential one stops doubling past 2^40 ms; a retry or
 * timeout due past INT64_MAX ms is due at INT64_MAX (never). */
typedef struct duro_retry_policy {
    uint32_t max_attempts;   /* >= 1 */
    duro_backoff backoff;    /* one of DURO_BACKOFF_* */
    int64_t base_ms;         /* >= 0 */
    int64_t max_ms;          /* >= 0; 0 = no cap */
    int64_t timeout_ms;      /* per attempt, >= 0; 0 = none */
} duro_retry_policy;

/* Schedule activity `name` with `input`. Never returns NULL: an invalid call returns a task
 * that never completes and fails the instance with a configuration error. */
DURO_EXTERN duro_task *duro_call_activity(duro_orch *o, const char *name, const char *input);
DURO_EXTERN duro_task *duro_call_activity_retry(duro_orch *o, const char *name,
                                                const char *input,
                                                const duro_retry_policy *policy);
/* Schedule activity `name` on the workers that accept `tag` (NULL: untagged, as
 * duro_call_activity), with `policy` (NULL: one attempt, as duro_call_activity). Every
 * attempt carries the tag, which is recorded in history (the ActivityScheduled event), so
 * replay routes it the same way; changing a call's tag is a nondeterminism. A tag is an id
 * (non-empty, at most DURO_MAX_ID_BYTES, UTF-8 without control characters): an invalid one
 * fails the instance with a configuration error naming it. On a provider that does not
 * route tags (ops version < 4 or no DURO_CAP_TAGS) the turn that would enqueue a tagged
 * attempt fails the instance with a configuration error (DURO_ENOTSUP) naming the provider:
 * tagged work is never enqueued untagged. Only runtimes whose worker_tags accept the tag
 * (duro_runtime_options) run it. */
DURO_EXTERN duro_task *duro_call_activity_tagged(duro_orch *o, const char *name,
                                                 const char *input, const char *tag,
                                                 const duro_retry_policy *policy);
/* Schedule activity `name` in session `session` (an id: non-empty, at most
 * DURO_MAX_ID_BYTES; NULL or invalid fails the instance with a configuration error naming
 * it), with `policy` (NULL: one attempt). Every attempt runs on the runtime that owns the
 * session while its lease lives (duro_runtime_options.session_lease_ms), so an activity
 * may keep state (a loaded model, a cache) in memory for the next activities of its
 * session; see docs/user-guide.md "Sessions". A session activity is untagged. The session
 * is recorded in history (ActivityScheduled), so replay enqueues it the same way; changing
 * it is a nondeterminism. On a provider that does not run sessions (ops version < 6 or no
 * DURO_CAP_SESSIONS) the turn that would enqueue it fails the instance with a
 * configuration error (DURO_ENOTSUP) naming the provider. */
DURO_EXTERN duro_task *duro_call_activity_session(duro_orch *o, const char *name,
                                                  const char *input, const char *session,
                                                  const duro_retry_policy *policy);
/* A durable timer that fires `delay_ms` after the turn that first created it. A negative
 * delay acts as 0; a due time past INT64_MAX ms is INT64_MAX (the timer never fires). */
DURO_EXTERN duro_task *duro_timer(duro_orch *o, int64_t delay_ms);
/* Wait for the next external event called `name`. Events are buffered FIFO per name: one
 * raised before the wait is kept and delivered to it. The task value is the event data. */
DURO_EXTERN duro_task *duro_wait_event(duro_orch *o, const char *name);
/* Start a sub-orchestration and wait for its result. `child_id` NULL generates
 * "<parent>::<event id>". The child knows its parent instance and execution. */
DURO_EXTERN duro_task *duro_call_sub(duro_orch *o, const char *name, const char *child_id,
                                     const char *input);
/* duro_call_sub with the child pinned to orchestration `version` ("MAJOR.MINOR.PATCH"; NULL:
 * the latest version registered on the runtime that starts the child, as duro_call_sub).
 * The version is recorded in history (SubOrchestrationScheduled), so replay is
 * deterministic (a call that now names another version is a nondeterminism), and the
 * child's start carries (name, version) as its target: with a provider that filters by
 * version (DURO_CAP_VERSION_FILTER) only runtimes that register that version fetch the
 * child. A version no runtime of this process registers is allowed (another runtime may
 * have it); an invalid one fails the instance with a configuration error naming it. */
DURO_EXTERN duro_task *duro_call_sub_version(duro_orch *o, const char *name,
                                             const char *version, const char *child_id,
                                             const char *input);
/* Start an independent orchestration (no parent link). Returns 0 or a DURO_E* code. */
DURO_EXTERN int duro_start_detached(duro_orch *o, const char *name, const char *instance,
                                    const char *input);

/* ---- Orchestration side: tasks and combinators ------------------------------------------ */

/* 1 if the task has a result in history. Observing 0 counts as observing a pending task. */
DURO_EXTERN int duro_task_done(duro_task *t);
/* 1 if the task completed successfully (only meaningful when done). */
DURO_EXTERN int duro_task_ok(const duro_task *t);
/* The success value, or NULL. Owned by the turn. */
DURO_EXTERN const char *duro_task_value(const duro_task *t);
/* The failure message, or NULL. Owned by the turn. */
DURO_EXTERN const char *duro_task_error(const duro_task *t);
/* The first of `tasks` to complete, by position of its completion in history (ties go to
 * the earlier argument), or NULL if none has completed (a pending observation). NULL entries
 * are skipped; a call that could never return a task (n 0, `tasks` NULL, every entry NULL)
 * fails the instance with a configuration error naming the argument and returns NULL. */
DURO_EXTERN duro_task *duro_when_any(duro_orch *o, duro_task *const *tasks, size_t n);
/* Cancel a task that is not done: a queued activity is deleted and a running one sees its
 * cancellation flag; a sub-orchestration is cancelled; an event wait gives up its place in
 * the FIFO. The task then counts as done and failed with "canceled". No-op on done tasks. */
DURO_EXTERN void duro_task_cancel(duro_task *t);

/* Used by the AWAIT macros: 1 when the task (every task) is done, else 0 after recording a
 * pending observation. A NULL task (or `tasks` array) never completes: it fails the instance
 * with a configuration error naming it, unless the run has already observed a pending task,
 * when NULL only means "not done" (DURO_AWAIT on the NULL of a pending duro_when_any).
 * Awaiting all of n = 0 tasks is done at once. */
DURO_EXTERN int duro_await_one(duro_orch *o, duro_task *t);
DURO_EXTERN int duro_await_all(duro_orch *o, duro_task *const *tasks, size_t n);

/* Suspend the orchestration until `t` is done. */
#define DURO_AWAIT(o, t)                                                                      \
    do {                                                                                      \
        if (!duro_await_one((o), (t)))                                                           \
            return DURO_SUSPEND;                                                              \
    } while (0)
/* Suspend until every one of the `n` tasks in array `ts` is done. */
#define DURO_AWAIT_ALL(o, ts, n)                                                              \
    do {                                                                                      \
        if (!duro_await_all((o), (ts), (n)))                                                 \
            return DURO_SUSPEND;                                                              \
    } while (0)

/* ---- Orchestration side: terminal calls and the rest ------------------------------------ */

/* Complete with `output` (NULL means ""). Returns DURO_DONE. */
DURO_EXTERN int duro_complete(duro_orch *o, const char *output);
/* Complete with printf-style output. Returns DURO_DONE. */
DURO_EXTERN int duro_completef(duro_orch *o, const char *fmt, ...) DURO_PRINTF(2, 3);
/* Fail with an application error `message` (NULL means ""). Returns DURO_DONE. */
DURO_EXTERN int duro_fail(duro_orch *o, const char *message);
/* Fail with a printf-style application error. Returns DURO_DONE. */
DURO_EXTERN int duro_failf(duro_orch *o, const char *fmt, ...) DURO_PRINTF(2, 3);
/* End this execution and start the next one with `input`, on the latest registered
 * version. Unconsumed external events are carried forward. Returns DURO_DONE. */
DURO_EXTERN int duro_continue_as_new(duro_orch *o, const char *input);
/* duro_continue_as_new onto orchestration `version` ("MAJOR.MINOR.PATCH"; NULL: the latest
 * registered, exactly as duro_continue_as_new): the next execution runs that version. It is
 * recorded in the OrchestrationContinuedAsNew event and travels with the continue-as-new
 * message as its target (name, version), so with a provider that filters by version
 * (DURO_CAP_VERSION_FILTER) only runtimes that register it take the next execution; others
 * (without the filter) hand it back as unregistered until one that has it does. A version
 * this runtime does not register is allowed; an invalid one fails the instance with a
 * configuration error naming it. Returns DURO_DONE. */
DURO_EXTERN int duro_continue_as_new_version(duro_orch *o, const char *input,
                                             const char *version);

/* Set (NULL clears) the custom status visible to clients. */
DURO_EXTERN void duro_set_custom_status(duro_orch *o, const char *status);
/* Durable values: a small key-value store per instance (keys 1..DURO_MAX_ID_BYTES bytes,
 * values at most DURO_MAX_VALUE_BYTES, at most DURO_MAX_VALUES keys). Each change is a
 * decision recorded in history (matched in call order like an activity call: a replay that
 * sets another key or value is nondeterministic) and stored with the turn's commit, where
 * clients read it (duro_client_get_value). Values belong to the instance: they are carried
 * into the next execution by continue-as-new, kept by prune, deleted with the instance.
 * Each change returns 0, or an error that also fails the instance with a configuration
 * error naming it, the change not applied: DURO_EINVAL (NULL or empty key, NULL value, not
 * valid UTF-8), DURO_ETOOBIG (a limit above), DURO_ENOTSUP (the provider has no
 * DURO_CAP_KV), DURO_ESTATE (after a pending observation or a terminal call). */
DURO_EXTERN int duro_set_value(duro_orch *o, const char *key, const char *value);
/* Remove `key` (not set: no-op, still recorded). Errors as duro_set_value. */
DURO_EXTERN int duro_clear_value(duro_orch *o, const char *key);
/* Remove every key of the instance. Errors as duro_set_value. */
DURO_EXTERN int duro_clear_values(duro_orch *o);
/* The value of `key` as this instance's code has set it up to this point of the run (from
 * replayed history: no I/O), or NULL when it is not set. Owned by the turn. */
DURO_EXTERN const char *duro_get_value(duro_orch *o, const char *key);
/* Read durable value `key` of ANOTHER instance `instance`, as a recorded call: the first
 * run reads the store (the value as of that instance's last commit) and records the result
 * in history (a ValueRead event, committed with the turn); every replay returns the
 * recorded result without reading again, even if the value has changed since. Matched in
 * call order like any decision: a replay that reads another instance or key at that point
 * is a nondeterminism. Returns 0 with *value the value (owned by the turn), 0 with *value
 * NULL when the instance exists and the key is not set, DURO_ENOTFOUND (*value NULL) when
 * there is no such instance (no instance row: never started, its start still queued, or
 * deleted). Errors, which also fail the instance with a configuration error naming them
 * (nothing recorded): DURO_EINVAL (NULL `value`, an invalid or empty instance id or key, or
 * this instance's own id: read those with duro_get_value), DURO_ETOOBIG (an id or key above
 * DURO_MAX_ID_BYTES), DURO_ENOTSUP (a first read on a provider without DURO_CAP_KV; a
 * replay needs no store), DURO_ESTATE (after a pending observation or a terminal call). A
 * store error while reading is returned too: a retryable one (busy, I/O, out of memory)
 * discards the turn, which is retried later (nothing is recorded); any other fails the
 * instance with an infrastructure error naming it. */
DURO_EXTERN int duro_read_value(duro_orch *o, const char *instance, const char *key,
                                const char **value);

/* Deterministic values, recorded in history on first execution and replayed after. */
DURO_EXTERN int64_t duro_now_ms(duro_orch *o);
DURO_EXTERN const char *duro_new_guid(duro_orch *o);
DURO_EXTERN uint64_t duro_random(duro_orch *o);
/* Log `message` through the runtime's log sink, only when not replaying. */
DURO_EXTERN void duro_log(duro_orch *o, const char *message);
/* Log a printf-style line, only when not replaying. */
DURO_EXTERN void duro_logf(duro_orch *o, const char *fmt, ...) DURO_PRINTF(2, 3);
/* 1 while the run is re-executing decisions already in stored history. */
DURO_EXTERN int duro_is_replaying(const duro_orch *o);
DURO_EXTERN const char *duro_orch_instance(const duro_orch *o);
DURO_EXTERN uint64_t duro_orch_execution(const duro_orch *o);
DURO_EXTERN const char *duro_orch_name(const duro_orch *o);
DURO_EXTERN const char *duro_orch_version(const duro_orch *o);

/* ---- Activity side ----------------------------------------------------------------------- */

/* Each sets the activity's result and returns what the activity function should return: 0,
 * or DURO_ENOMEM when the text could not be copied (the attempt then fails). */
/* Succeed with `output` copied verbatim (NULL means ""). */
DURO_EXTERN int duro_activity_ok(duro_activity *a, const char *output);
/* Succeed with printf-style output. */
DURO_EXTERN int duro_activity_okf(duro_activity *a, const char *fmt, ...) DURO_PRINTF(2, 3);
/* Fail with `message` (an application error the orchestration sees). */
DURO_EXTERN int duro_activity_fail(duro_activity *a, const char *message);
/* Fail with a printf-style message. */
DURO_EXTERN int duro_activity_failf(duro_activity *a, const char *fmt, ...) DURO_PRINTF(2, 3);
DURO_EXTERN const char *duro_activity_instance(const duro_activity *a);
DURO_EXTERN const char *duro_activity_name(const duro_activity *a);
/* Attempt number under the task's retry policy, from 1. */
DURO_EXTERN uint32_t duro_activity_attempt(const duro_activity *a);
/* 1 once the activity has been cancelled (its work item was deleted or its lock lost) or
 * the runtime is shutting down: long activities should check it and return early; the
 * result of an activity that saw the flag is discarded. */
DURO_EXTERN int duro_activity_cancelled(const duro_activity *a);

/* ---- Runtime ------------------------------------------------------------------------------ */

typedef enum duro_error_category {
    DURO_CAT_NONE = 0,
    DURO_CAT_INFRASTRUCTURE, /* provider or runtime failure */
    DURO_CAT_CONFIGURATION,  /* nondeterminism, rule violation, unregistered */
    DURO_CAT_APPLICATION,    /* the orchestration or an activity failed */
    DURO_CAT_POISON          /* a message exceeded max_attempts */
} duro_error_category;

/* Passed to the observer when an instance's execution reaches a terminal state. */
typedef struct duro_terminal_event {
    const char *instance;
    uint64_t execution_id;
    duro_state state;          /* DURO_STATE_COMPLETED, _FAILED, _CONTINUED_AS_NEW or
                                * _TERMINATED */
    const char *output;        /* output, error message, next input or termination reason */
    duro_error_category category; /* when failed */
} duro_terminal_event;

struct duro_span; /* a trace span (below, with the metrics) */

/* Options of duro_runtime_start(). Fill with duro_runtime_options_init() first: it sets
 * `size`, which tells the library how much of the struct the caller's header has, so a
 * program built against this header keeps working with a later library whose struct has
 * grown (members are only ever appended). Every duration but prefetch_ms is at most
 * DURO_MAX_OPTION_MS (24 h): duro_runtime_start rejects a larger one with DURO_EINVAL and a
 * message naming it. */
typedef struct duro_runtime_options {
    size_t size;                   /* sizeof(duro_runtime_options), set by the init function */
    int orch_concurrency;          /* orchestration turn threads (default 2) */
    int worker_concurrency;        /* activity threads (default 2) */
    int64_t orch_lock_ms;          /* instance lock while a turn runs (default 5000) */
    int64_t worker_lock_ms;        /* activity lock, renewed while it runs (default 30000) */
    int64_t renew_interval_ms;     /* lock renewal period (default 0: the shorter lock / 2,
                                    * and at most session_lease_ms / 3 with sessions) */
    uint32_t max_attempts;         /* fetches before a message is poison (default 10); a
                                    * fetch whose commit the store failed (I/O, busy, a
                                    * damaged store) is given back, not counted */
    int64_t unregistered_backoff_ms;     /* first backoff for unknown names (default 1000) */
    int64_t unregistered_backoff_max_ms; /* cap (default 60000) */
    int64_t poll_ms;               /* long-poll timeout of idle dispatchers (default 30000; a
                                    * commit, a due time or shutdown ends it sooner) */
    /* Fetch ahead: while every activity thread is busy and activities have lately taken at
     * most this long on average, the runtime locks up to one more work item per activity
     * thread, so a thread that finishes starts the next item without a storage round trip.
     * An item not started within this time, or held at shutdown, goes back to the queue
     * without counting the fetch. 0 disables; values above worker_lock_ms / 4 act as
     * worker_lock_ms / 4 (default 50). */
    int64_t prefetch_ms;
    /* Called on a runtime thread after a terminal state is committed. Must not block. */
    void (*on_terminal)(const duro_terminal_event *ev, void *ud);
    void *on_terminal_ud;
    /* Log sink for duro_log and runtime warnings; NULL writes to stderr. level: 0 info,
     * 1 warning, 2 error. */
    void (*log)(int level, const char *instance, const char *message, void *ud);
    void *log_ud;
    /* Trace hook: called once per finished span (a turn, an activity attempt, a provider
     * call; see duro_span below) on the runtime thread that did the work, several at once:
     * it must be thread-safe, return quickly (a turn thread may hold an instance lock) and
     * not call into the runtime. NULL (the default) disables tracing. */
    void (*on_span)(const struct duro_span *span, void *ud);
    void *on_span_ud;
    /* Which activities this runtime's workers run (duro_call_activity_tagged): one of
     * duro_worker_tag_mode, default DURO_WORKER_UNTAGGED. worker_tags (n_worker_tags of
     * them, distinct ids, at most 64; copied at start) are the tags of DURO_WORKER_TAGS and
     * DURO_WORKER_TAGS_AND_UNTAGGED and must be empty in the other modes. A worker that
     * accepts several kinds (untagged, each listed tag; or untagged and tagged for
     * DURO_WORKER_ANY_TAG) takes them in turn, one fetch each, skipping kinds with nothing
     * queued, so a deep queue of one kind never starves another; within a kind it takes the
     * oldest first. A mode other than the default needs a provider that routes tags (ops
     * version 4, DURO_CAP_TAGS): duro_runtime_start fails with DURO_ENOTSUP otherwise. */
    int worker_tag_mode;
    const char *const *worker_tags;
    size_t n_worker_tags;
    /* Sessions (duro_call_activity_session; used only with a provider that runs them). A
     * session this runtime takes stays its own until session_lease_ms (default 30000,
     * 1..86400000) after the last renewal (every fetch and every housekeeping pass renew;
     * a renew_interval_ms you set must be below it) and is released when it has had no
     * item for session_idle_ms (default 300000, 1..86400000). max_sessions (default 64,
     * 0..1000000) bounds the sessions it owns: at the bound it takes no new session's
     * items but keeps serving its own; 0 takes no session work. */
    int64_t session_lease_ms;
    int64_t session_idle_ms;
    size_t max_sessions;
} duro_runtime_options;

/* Values of duro_runtime_options.worker_tag_mode. */
typedef enum duro_worker_tag_mode {
    DURO_WORKER_UNTAGGED = 0,       /* untagged activities only (the default) */
    DURO_WORKER_TAGS,               /* only activities tagged with one of worker_tags */
    DURO_WORKER_TAGS_AND_UNTAGGED,  /* those, and untagged activities */
    DURO_WORKER_ANY_TAG             /* every activity, tagged or not */
} duro_worker_tag_mode;

/* Fill `opt` with the defaults documented above and set opt->size. NULL is a no-op. */
DURO_EXTERN void duro_runtime_options_init(duro_runtime_options *opt);

/* Start dispatcher threads on `provider` with the handlers of `registry`. The registry and
 * provider must outlive the runtime; `opt` may be NULL for defaults. With a provider that
 * filters by version (DURO_CAP_VERSION_FILTER) the runtime fetches only instances whose
 * orchestration (name, version) the registry holds AT THIS CALL (register everything first;
 * see "Rolling upgrades" in the user guide); without it, every instance, those it cannot
 * replay being handed back with the unregistered backoff. On failure `err` (may
 * be NULL) says why. Errors: DURO_EINVAL (a NULL argument, options whose size is 0 because
 * duro_runtime_options_init was not called, an option out of range, a provider that fails
 * duro_provider_check), DURO_ENOMEM, DURO_EIO (thread creation). */
DURO_EXTERN int duro_runtime_start(duro_provider *provider, const duro_registry *registry,
                                   const duro_runtime_options *opt, duro_runtime **out,
                                   duro_error *err);
/* Stop: stop fetching, interrupt long polls, raise the cancellation flag of running
 * activities, let running turns finish and commit, join, free. An activity that observed the
 * flag (duro_activity_cancelled) has its work item abandoned without counting an attempt,
 * so another process picks it up at once; one that finished anyway is committed. Returns
 * 0. NULL is a no-op. */
DURO_EXTERN int duro_runtime_shutdown(duro_runtime *rt);

/* The worker id `rt` takes sessions as: 32 random lowercase hex digits, drawn at start,
 * distinct per runtime (valid until duro_runtime_shutdown). NULL for NULL. */
DURO_EXTERN const char *duro_runtime_worker_id(const duro_runtime *rt);

/* ---- Client -------------------------------------------------------------------------------- */

/* Status of an instance as a client sees it. */
typedef struct duro_status {
    duro_state state;          /* DURO_STATE_NOT_FOUND if unknown */
    uint64_t execution_id;
    char *orch_name;
    char *orch_version;
    char *output;              /* COMPLETED: output; CONTINUED_AS_NEW: next input */
    char *error;               /* FAILED: error message */
    duro_error_category error_category; /* FAILED */
    char *custom_status;
    uint64_t custom_status_version;
} duro_status;

/* Free the strings of a status (the struct itself is the caller's). */
DURO_EXTERN void duro_status_clear(duro_status *st);

/* A client on `provider` (which must outlive it) in *out. Returns 0, DURO_EINVAL (NULL
 * argument, or a provider that fails duro_provider_check; err says which) or DURO_ENOMEM. */
DURO_EXTERN int duro_client_new(duro_provider *provider, duro_client **out, duro_error *err);
/* Free a client; NULL is a no-op. */
DURO_EXTERN void duro_client_free(duro_client *c);

/* What a start does when its instance id exists already (an instance row: started, or
 * ended and not deleted). */
typedef enum duro_reuse_policy {
    DURO_REUSE_DEFAULT = 0,     /* duro_client_start's: the start is sent and the runtime
                                 * drops it; 0, the existing instance is untouched */
    DURO_REUSE_REJECT,          /* DURO_EEXIST, nothing sent */
    DURO_REUSE_IGNORE,          /* 0, nothing sent, nothing changed */
    DURO_REUSE_REPLACE_ENDED    /* an ended instance (Completed, Failed, Terminated) is
                                 * deleted with its tree (duro_client_delete, no force), then
                                 * started fresh under the same id; any other state is
                                 * DURO_ERUNNING and nothing changes. Needs
                                 * DURO_CAP_MANAGEMENT (else DURO_ENOTSUP). */
} duro_reuse_policy;

/* Options of duro_client_start_with. Fill with duro_start_options_init() first (it sets
 * `size`, as for duro_runtime_options): the defaults are those of duro_client_start. */
typedef struct duro_start_options {
    size_t size;                /* sizeof(duro_start_options), set by the init function */
    const char *version;        /* NULL: the latest registered version; else exactly this */
    int64_t start_at_ms;        /* 0 or a time not ahead of the client's clock: at once;
                                 * else no orchestration code runs before this time (ms since
                                 * the epoch, the runtime's clock): the instance shows as
                                 * DURO_STATE_SCHEDULED once a runtime has taken its start,
                                 * and events raised meanwhile are kept for it */
    duro_reuse_policy reuse;    /* default DURO_REUSE_DEFAULT */
} duro_start_options;

/* Fill `opt` with the defaults and set opt->size. NULL is a no-op. */
DURO_EXTERN void duro_start_options_init(duro_start_options *opt);

/* Start `instance` running orchestration `name` with `input` as `opt` (NULL: defaults)
 * says. The existence check of REJECT, IGNORE and REPLACE_ENDED reads the instance row: a
 * start sent but not yet taken by a runtime is not seen (the later start is then dropped by
 * the runtime, as with DURO_REUSE_DEFAULT). Errors: DURO_EINVAL (NULL client, bad id, name,
 * version or input, options whose size is 0, a reuse value out of range), DURO_ETOOBIG,
 * DURO_EEXIST (REJECT), DURO_ERUNNING (REPLACE_ENDED of an instance that has not ended),
 * DURO_ENOTSUP (REPLACE_ENDED without management), DURO_ECHILD (REPLACE_ENDED of a
 * sub-orchestration whose parent exists), DURO_ENOMEM, provider errors. */
DURO_EXTERN int duro_client_start_with(duro_client *c, const char *instance, const char *name,
                                       const char *input, const duro_start_options *opt,
                                       duro_error *err);

/* Start `instance` running orchestration `name` (latest version) with `input`. Starting an
 * id that already exists is not an error and does not restart it (DURO_REUSE_DEFAULT).
 * Errors: DURO_EINVAL, DURO_ETOOBIG, and provider errors (err filled). */
DURO_EXTERN int duro_client_start(duro_client *c, const char *instance, const char *name,
                                  const char *input, duro_error *err);
/* Same, pinned to an exact registered version. */
DURO_EXTERN int duro_client_start_version(duro_client *c, const char *instance,
                                          const char *name, const char *version,
                                          const char *input, duro_error *err);
/* Raise external event `name` with `data` on `instance`. An event raised before the
 * instance starts is delivered once it does. */
DURO_EXTERN int duro_client_raise_event(duro_client *c, const char *instance, const char *name,
                                        const char *data, duro_error *err);
/* Request cancellation: the instance fails with "canceled: <reason>", its children are
 * cancelled and its in-flight activities are cancelled. No effect on terminal instances. */
DURO_EXTERN int duro_client_cancel(duro_client *c, const char *instance, const char *reason,
                                   duro_error *err);
/* Lifecycle controls (docs/operating.md, "Lifecycle"). Each checks the instance's current
 * state, then sends a message that its next turn applies; `reason` (NULL means "") is
 * recorded in history. They return 0 once the message is queued: status shows the effect
 * after that turn. A control whose check passed but that no longer applies when its turn
 * comes (two clients racing) changes nothing. Errors: DURO_EINVAL (NULL client, bad id,
 * reason not UTF-8), DURO_ETOOBIG, DURO_ENOTFOUND (no instance row: never started,
 * deleted, or its start not yet taken by a runtime), DURO_ESTATE (the state does not allow
 * the control; err names it; nothing is sent), provider errors. */

/* End `instance` now: no more orchestration code runs; it becomes DURO_STATE_TERMINATED with
 * `reason` (the status's and details' error text); its outstanding activities are cancelled
 * (a result arriving later is dropped) and its running sub-orchestrations are terminated
 * too, recursively; a parent sees the sub-orchestration fail with "terminated: <reason>".
 * Allowed while Running, Suspended or ContinuedAsNew; DURO_ESTATE when it has ended. */
DURO_EXTERN int duro_client_terminate(duro_client *c, const char *instance,
                                      const char *reason, duro_error *err);
/* Hold `instance`: no orchestration code runs until duro_client_resume. Events, activity
 * results, timers and child results keep arriving and are recorded in history in arrival
 * order; after the resume the code sees them in that order. Activities already running
 * finish, and the retries of an activity task keep to their policy. Allowed while Running
 * or ContinuedAsNew; DURO_ESTATE when already Suspended or ended. Terminate and cancel
 * work on a suspended instance. */
DURO_EXTERN int duro_client_suspend(duro_client *c, const char *instance, const char *reason,
                                    duro_error *err);
/* Let a suspended `instance` run again. DURO_ESTATE unless it is Suspended. */
DURO_EXTERN int duro_client_resume(duro_client *c, const char *instance, const char *reason,
                                   duro_error *err);
/* Current status. An unknown instance is 0 with state DURO_STATE_NOT_FOUND. A terminated
 * instance is DURO_STATE_TERMINATED with the reason in `error`; a suspended one
 * DURO_STATE_SUSPENDED, one whose scheduled start is ahead DURO_STATE_SCHEDULED (one history
 * read for a running instance). */
DURO_EXTERN int duro_client_status(duro_client *c, const char *instance, duro_status *out,
                                   duro_error *err);
/* Wait until the instance is completed, failed or terminated (continued-as-new is not terminal for the
 * instance), at most timeout_ms. DURO_ETIMEDOUT when time runs out (out holds the last
 * status seen). timeout_ms <= 0 looks once; a deadline past INT64_MAX ms saturates, so
 * INT64_MAX waits until the instance ends. */
DURO_EXTERN int duro_client_wait(duro_client *c, const char *instance, int64_t timeout_ms,
                                 duro_status *out, duro_error *err);
/* History of one execution (0 = current) as stored events; free with duro_events_free().
 * duro_event_kind_name() names each kind; the payload is the event as JSON. */
DURO_EXTERN int duro_client_history(duro_client *c, const char *instance, uint64_t execution_id,
                                    duro_event **events, size_t *n, duro_error *err);
/* The stored durable value of `key` of `instance`, as of the last commit (one store read,
 * no replay): *value malloc-owned (free()), *version (may be NULL) its version (see
 * duro_kv_entry). DURO_ENOTFOUND when the instance or the key is unknown; DURO_EINVAL or
 * DURO_ETOOBIG for an invalid key; DURO_ENOTSUP when the provider has no DURO_CAP_KV. */
DURO_EXTERN int duro_client_get_value(duro_client *c, const char *instance, const char *key,
                                      char **value, uint64_t *version, duro_error *err);
/* Every stored durable value of `instance`, keys ascending (free with
 * duro_kv_entries_free). Errors as duro_client_get_value. */
DURO_EXTERN int duro_client_list_values(duro_client *c, const char *instance,
                                        duro_kv_entry **entries, size_t *n, duro_error *err);
/* Wait until the version of `key` differs from `last_version` (0 = "not set"), at most
 * timeout_ms: 0 with the new value and version, or DURO_ENOTFOUND when the key was cleared
 * (or its instance deleted) and last_version was not 0, DURO_ETIMEDOUT (nothing changed)
 * when time runs out. timeout_ms <= 0 looks once; INT64_MAX waits without limit. Woken by
 * the provider's commit notification (DURO_CAP_NOTIFY), else a short backoff poll. */
DURO_EXTERN int duro_client_wait_value(duro_client *c, const char *instance, const char *key,
                                       uint64_t last_version, int64_t timeout_ms, char **value,
                                       uint64_t *version, duro_error *err);
/* Name of a stored event kind (duro_event_kind), e.g. "ActivityScheduled"; "Unknown" for
 * any other value. */
DURO_EXTERN const char *duro_event_kind_name(int kind);
/* Name of a state, e.g. "Completed". */
DURO_EXTERN const char *duro_state_name(int state);
/* Name of an error category, e.g. "configuration". */
DURO_EXTERN const char *duro_category_name(int category);

/* ---- Client: management ------------------------------------------------------------------ */

/* Listing, inspecting, deleting and pruning stored instances, and the store's queue depths
 * and counts, over the provider's management capability (DURO_CAP_MANAGEMENT). On a
 * provider without it every call below fails with DURO_ENOTSUP and a message naming the
 * missing capability; duro_client_list and duro_client_delete_bulk also need the provider's
 * query_instances (provider ops version 3) and name it when it is missing. Results are
 * malloc-owned and freed by the function each call names. A call that reads several things
 * (info, tree) makes several provider reads, not one snapshot: an instance deleted meanwhile
 * is DURO_ENOTFOUND. Time-dependent calls use duro_clock_now_ms(). */

#define DURO_LIST_DEFAULT_LIMIT 100 /* page size duro_list_options_init sets */
#define DURO_LIST_MAX_LIMIT 1000    /* largest page (and bulk-delete batch) accepted */

/* Which instances duro_client_list and duro_client_delete_bulk select: every filter that is
 * set must match. Fill with duro_list_options_init() first (it sets `size`, as for
 * duro_runtime_options). Time bounds are ms since the epoch, 0 meaning "no bound". */
typedef struct duro_list_options {
    size_t size;                  /* sizeof(duro_list_options), set by the init function */
    duro_state state;             /* DURO_STATE_NOT_FOUND (0): any state; else the state of
                                   * the current execution */
    const char *orch_name;        /* NULL: any; else exactly this orchestration name */
    const char *id_prefix;        /* NULL or "": any; else ids that start with it */
    int64_t created_from_ms;      /* created at or after */
    int64_t created_before_ms;    /* created strictly before */
    int64_t completed_from_ms;    /* current execution ended at or after (a completed bound
                                   * leaves out instances whose current execution runs) */
    int64_t completed_before_ms;  /* current execution ended strictly before */
    const char *cursor;           /* NULL: the first page; else next_cursor of the page
                                   * before, with the same filters (list only) */
    size_t limit;                 /* 1..DURO_LIST_MAX_LIMIT (default DURO_LIST_DEFAULT_LIMIT):
                                   * the page size; the most roots one bulk delete removes */
} duro_list_options;

/* Fill `opt` with no filter, no cursor and the default limit, and set opt->size. NULL is a
 * no-op. */
DURO_EXTERN void duro_list_options_init(duro_list_options *opt);

/* One page of a listing. */
typedef struct duro_instance_page {
    duro_instance_summary *items; /* newest first: created_at, then instance id, descending */
    size_t n;
    char *next_cursor;            /* opaque; NULL on the last page */
} duro_instance_page;

/* Free what a page holds (the struct itself is the caller's) and zero it; NULL is a no-op. */
DURO_EXTERN void duro_instance_page_clear(duro_instance_page *page);

/* One page of the instances `opt` selects (NULL: the first DURO_LIST_DEFAULT_LIMIT of all),
 * newest first, children included. Pass page.next_cursor as opt->cursor, with the same
 * filters, for the next page; the walk visits every instance that exists throughout it
 * exactly once, in that order (instances created during the walk are newer than its first
 * page and are not visited; deleted ones are skipped). An empty result is 0 with n 0.
 * Errors: DURO_EINVAL (NULL client or page, options whose size is 0, limit 0 or above
 * DURO_LIST_MAX_LIMIT, a state that is not a duro_state, a from bound not before its before
 * bound, an invalid orch_name or id_prefix, a malformed cursor or one made by a listing with
 * other filters), DURO_ETOOBIG, DURO_ENOTSUP, DURO_ENOMEM, provider errors. */
DURO_EXTERN int duro_client_list(duro_client *c, const duro_list_options *opt,
                                 duro_instance_page *out, duro_error *err);

/* Everything the store knows about one instance. */
typedef struct duro_instance_details {
    char *instance;
    char *orch_name;
    char *orch_version;
    char *parent_instance;         /* NULL for a root */
    uint64_t execution_id;         /* current execution */
    duro_state state;              /* state of the current execution */
    char *output;                  /* COMPLETED: output; CONTINUED_AS_NEW: next input */
    char *error;                   /* FAILED: the error message */
    duro_error_category error_category; /* FAILED: its category */
    char *custom_status;           /* NULL when none is set */
    uint64_t custom_status_version;
    int64_t created_at_ms;         /* instance row created */
    int64_t updated_at_ms;         /* instance row last written */
    int64_t started_at_ms;         /* current execution started */
    int64_t completed_at_ms;       /* current execution ended; 0 while it runs */
    uint64_t event_count;          /* history events of the current execution */
    char **children;               /* direct sub-orchestrations, oldest first */
    size_t n_children;
} duro_instance_details;

/* Free what `d` holds (the struct itself is the caller's) and zero it; NULL is a no-op. */
DURO_EXTERN void duro_instance_details_clear(duro_instance_details *d);

/* Details of `instance` in *out (clear with duro_instance_details_clear; zeroed on
 * failure). Errors: DURO_EINVAL (NULL argument, invalid id), DURO_ETOOBIG, DURO_ENOTFOUND
 * (no such instance: never started, or deleted), DURO_ENOTSUP, DURO_ENOMEM, provider
 * errors. */
DURO_EXTERN int duro_client_info(duro_client *c, const char *instance,
                                 duro_instance_details *out, duro_error *err);

/* One instance of a tree. */
typedef struct duro_tree_node {
    duro_instance_summary info;
    size_t parent;                 /* index of the parent node; SIZE_MAX for the first node */
    size_t depth;                  /* 0 for the first node, its children 1, ... */
} duro_tree_node;

/* An instance and all its descendants, depth first: every node comes before its children,
 * which follow in creation order. */
typedef struct duro_instance_tree {
    duro_tree_node *nodes;
    size_t n;
} duro_instance_tree;

/* Free what `t` holds (the struct itself is the caller's) and zero it; NULL is a no-op. */
DURO_EXTERN void duro_instance_tree_clear(duro_instance_tree *t);

/* The tree under `instance` (which may itself be a child): nodes[0] is `instance`. A
 * descendant deleted while the tree is read is left out; stored links that would make a
 * node its own ancestor are followed once. Errors: as duro_client_info. */
DURO_EXTERN int duro_client_tree(duro_client *c, const char *instance, duro_instance_tree *out,
                                 duro_error *err);

/* Delete `instance` with its whole tree (every descendant, their histories, queued messages
 * and work items) in one atomic step; `out` (may be NULL) counts what went. A runtime
 * holding a lock on a deleted instance cannot write it back. A start no runtime has taken
 * yet (no instance: e.g. a name no runtime registers) is deleted too: its queued messages,
 * out->instances 0; DURO_ERUNNING without `force` while a runtime holds its lock. Errors:
 * DURO_EINVAL,
 * DURO_ETOOBIG, DURO_ENOTFOUND, DURO_ECHILD (a sub-orchestration whose parent exists:
 * delete its root), DURO_ERUNNING (an instance of the tree is running and `force` is 0;
 * nothing is deleted), DURO_ENOTSUP, provider errors. */
DURO_EXTERN int duro_client_delete(duro_client *c, const char *instance, int force,
                                   duro_delete_result *out, duro_error *err);

/* Delete, each with its whole tree, up to opt->limit root instances that the filters of
 * `opt` select (NULL: the defaults) and whose current state is Completed or Failed, newest
 * first, in one atomic step; `out` (may be NULL) counts what went. Running and
 * continued-as-new instances and sub-orchestrations (whose parent exists) are never
 * selected. Call again until out->instances is 0 to delete every match. Errors: as
 * duro_client_list, and DURO_EINVAL for a cursor or for a state other than 0, Completed or
 * Failed. */
DURO_EXTERN int duro_client_delete_bulk(duro_client *c, const duro_list_options *opt,
                                        duro_delete_result *out, duro_error *err);

/* Delete the history of old executions of `instance`: never its current one or a running
 * one, never the newest `keep_last` (0 and 1 both keep only the current one), and with
 * completed_before_ms > 0 only executions that ended strictly before it. `out` (may be NULL)
 * counts executions and events (instances stays 0). Errors: DURO_EINVAL, DURO_ETOOBIG,
 * DURO_ENOTFOUND, DURO_ENOTSUP, provider errors. */
DURO_EXTERN int duro_client_prune(duro_client *c, const char *instance, uint64_t keep_last,
                                  int64_t completed_before_ms, duro_delete_result *out,
                                  duro_error *err);

/* Queue depths now: orchestrator messages and work items ready to be taken, and delayed
 * orchestrator messages (timers, backoff). Errors: DURO_EINVAL (NULL), DURO_ENOTSUP,
 * provider errors. */
/* The work queue per tag at now: one row per tag with items queued, locked or delayed
 * (the untagged row first, tag NULL; then tags in byte order), including tags no runtime
 * accepts. *rows (free with duro_tag_depths_free) and *n; an empty queue is 0 rows. Errors:
 * DURO_EINVAL (NULL argument), DURO_ENOTSUP (a provider that does not route tags), provider
 * errors. */
DURO_EXTERN int duro_client_work_depths_by_tag(duro_client *c, duro_tag_depth **rows,
                                               size_t *n, duro_error *err);
DURO_EXTERN int duro_client_queue_depths(duro_client *c, duro_queue_depths *out,
                                         duro_error *err);

/* Store counts: instances (each under its current execution's state), executions and
 * history events. Errors: DURO_EINVAL (NULL), DURO_ENOTSUP, provider errors. */
DURO_EXTERN int duro_client_stats(duro_client *c, duro_metrics *out, duro_error *err);

/* Wall-clock milliseconds since the epoch (what the runtime passes as now_ms). */
DURO_EXTERN int64_t duro_clock_now_ms(void);

/* ---- Runtime metrics and traces ------------------------------------------------------------ */

/* The provider calls a runtime makes, each counted and timed on its own. */
typedef enum duro_provider_op {
    DURO_OP_FETCH_ORCH = 0,
    DURO_OP_ACK_ORCH,
    DURO_OP_ABANDON_ORCH,
    DURO_OP_RENEW_ORCH,
    DURO_OP_FETCH_WORK,
    DURO_OP_ACK_WORK,
    DURO_OP_ABANDON_WORK,
    DURO_OP_RENEW_WORK,
    DURO_OP_INSTANCE_INFO,     /* checks whether a commit whose reply was lost landed */
    DURO_OP_COUNT
} duro_provider_op;

/* "fetch_orch", "ack_orch", ... (the vtable member's name); "unknown" out of range. */
DURO_EXTERN const char *duro_provider_op_name(int op);

/* Fixed log-scale buckets of every duration histogram: upper bounds 10 us, 25, 50, 100, 250,
 * 500 us, 1 ms, ... 10 s (1-2.5-5 steps), then +Inf. */
#define DURO_HIST_BUCKETS 20

/* Inclusive upper bound of bucket `i` in microseconds; INT64_MAX for the last (+Inf) and out
 * of range. */
DURO_EXTERN int64_t duro_histogram_bound_us(size_t i);

/* A duration histogram. bucket[i] counts the samples of bucket i alone (not cumulative). */
typedef struct duro_histogram {
    uint64_t bucket[DURO_HIST_BUCKETS];
    uint64_t count;            /* number of samples (the sum of bucket[]) */
    uint64_t sum_us;           /* sum of the samples in microseconds */
} duro_histogram;

/* What one runtime did since it started. Fill `size` with duro_runtime_metrics_init(); the
 * struct only ever grows at its end. Counters are read one by one without a global lock, so
 * under load two counters of one snapshot may be a few events apart. Each count is made
 * before what it counts can be seen elsewhere: a provider call as it starts, a turn before
 * its commit, an activity attempt before its result is committed, a terminal state just
 * before the on_terminal observer is called (a client may see the state a moment earlier).
 * Once the observer has heard of an instance's end, every count of its turns, activities
 * and their provider calls is in the snapshot. */
typedef struct duro_runtime_metrics {
    size_t size;
    uint64_t turns;                 /* turns run by the replay engine (the orchestration
                                     * function executed once against the history) */
    uint64_t completed;             /* executions committed COMPLETED */
    uint64_t continued_as_new;      /* executions committed CONTINUED_AS_NEW */
    uint64_t terminated;            /* executions ended by duro_client_terminate (stored as
                                     * FAILED; not counted in failed[]) */
    /* executions committed FAILED, by duro_error_category (index DURO_CAT_POISON: the
     * instance was ended as poison) */
    uint64_t failed[DURO_CAT_POISON + 1];
    uint64_t activity_attempts;     /* activity functions run */
    uint64_t activity_retries;      /* of those, attempts 2 and later of a retry policy */
    uint64_t activity_failed;       /* attempts that returned a failure */
    uint64_t activity_cancelled;    /* attempts whose result was discarded (cancelled) */
    uint64_t poison_activities;     /* work items given up as poison (undecodable, too many
                                     * fetches); poisoned instances are failed[POISON] */
    uint64_t provider_calls[DURO_OP_COUNT]; /* counted as each call starts */
    /* calls that returned an error; an empty fetch (DURO_ENOTFOUND) is not an error */
    uint64_t provider_errors[DURO_OP_COUNT];
    duro_histogram turn_duration;   /* user code + replay of one turn, without the commit */
    duro_histogram activity_duration; /* one activity function run */
    /* one provider call, counted as it returns (calls minus count: calls in flight); a fetch
     * includes its long-poll wait */
    duro_histogram provider_latency[DURO_OP_COUNT];
    /* Queue wait: from the moment a message or work item was due (sent, or its delay ran
     * out) to the moment this runtime began its turn or its activity attempt, on the
     * runtime's clock (across machines, includes their clock difference, clamped at 0).
     * Orchestration: one sample per message of each batch; work: one per attempt started.
     * Items written by duro before 0.3 carry no due time and are not sampled. */
    duro_histogram queue_wait_orch;
    duro_histogram queue_wait_work;
} duro_runtime_metrics;

/* Zero `m` and set its size. NULL is a no-op. */
DURO_EXTERN void duro_runtime_metrics_init(duro_runtime_metrics *m);

/* Copy the counters of `rt` into `out` (as far as out->size goes). Cheap: a few hundred
 * relaxed atomic loads, callable from any thread at any time while `rt` runs.
 * Errors: DURO_EINVAL (NULL argument, or out->size 0: call duro_runtime_metrics_init). */
DURO_EXTERN int duro_runtime_metrics_get(duro_runtime *rt, duro_runtime_metrics *out,
                                         duro_error *err);

/* Render `m` in the Prometheus text exposition format (version 0.0.4): HELP and TYPE lines,
 * counters named duro_*_total, histograms in seconds with _bucket{le=...}, _sum and _count,
 * labels op="fetch_orch"... and category="application"... . Writes at most `size` bytes
 * including the terminating NUL into `buf` (buf may be NULL when size is 0) and returns the
 * full length the text needs, as snprintf does; a return >= size means it was cut.
 * Returns DURO_EINVAL (negative) when m is NULL or m->size is 0. */
DURO_EXTERN int64_t duro_runtime_metrics_format(const duro_runtime_metrics *m, char *buf,
                                                size_t size);

/* The same text written to `f` (and flushed). Returns 0, DURO_EINVAL (NULL argument, or
 * m->size 0), DURO_ENOMEM or DURO_EIO (the write failed). */
DURO_EXTERN int duro_runtime_metrics_write(const duro_runtime_metrics *m, FILE *f);

/* What a span covers. */
typedef enum duro_span_kind {
    DURO_SPAN_TURN = 1,        /* one orchestration turn, from fetch to commit or abandon */
    DURO_SPAN_ACTIVITY,        /* one activity attempt (the function run) */
    DURO_SPAN_PROVIDER         /* one provider call */
} duro_span_kind;

/* One finished span, passed to duro_runtime_options.on_span. Every pointer is valid only
 * during the callback: copy what you keep. */
typedef struct duro_span {
    duro_span_kind kind;
    /* orchestration name (turn), activity name (activity), duro_provider_op_name (provider) */
    const char *name;
    const char *instance;      /* NULL for fetches, renewals and hand-backs of fetched items */
    uint64_t execution_id;     /* 0 when not known */
    uint64_t span_id;          /* unique within the process, never 0 */
    /* the enclosing span: a provider call made in a turn has the turn; an activity's result
     * commit (ack_work, and an abandon after it failed) has the activity attempt; fetches,
     * lock renewals (housekeeping thread), turns and activity attempts have 0: their cause
     * is in the instance history, possibly written by another process */
    uint64_t parent_span_id;
    int64_t start_us;          /* wall clock, microseconds since the epoch */
    int64_t end_us;
    /* 0 on success; else a DURO_E* code (provider error, DURO_ESTATE for a failed activity
     * attempt, DURO_ESHUTDOWN for one cancelled, DURO_EUNREGISTERED ...) */
    int status;
    uint32_t attempt;          /* activity attempt, or the fetch count of the turn's item */
} duro_span;

#ifdef __cplusplus
}
#endif
#endif /* DURO_H */
