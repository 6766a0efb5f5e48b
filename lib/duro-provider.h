/*
 * duro-provider.h — the storage contract between libduro and a provider.
 *
 * A provider is storage only: two queues (orchestrator messages per instance, activity work
 * items), exclusive instance locks, append-only history per (instance, execution), and the
 * materialised instance metadata (status, output, custom status). It never invents event ids
 * or execution ids and never parses payloads: the runtime hands it opaque encoded text plus
 * the indexed fields declared below. Time is always an argument (`now_ms`, milliseconds since
 * the epoch) so that lock expiry and delayed visibility can be driven by a virtual clock.
 *
 * Implementing a provider: embed `duro_provider` as the FIRST member of your own struct,
 * point `ops` at a static `duro_provider_ops`, set `caps`, and fill the callbacks. Every
 * callback returns 0 on success or a negative DURO_E* code, and on failure fills `err`
 * (which may be NULL) through duro_error_set(). Strings passed IN are borrowed for the
 * duration of the call. Everything passed OUT is allocated with malloc() and owned by the
 * caller, who releases it with the matching duro_*_free() function below.
 *
 * Thread safety: every callback may be called concurrently from many threads.
 *
 * Readings the conformance suite checks (where the comments below are short):
 * - Locks: a lock taken at t for d ms is held while now < t + d and free from now >= t + d.
 *   Abandon, renew and ack with an expired or unknown token fail with DURO_ELOCK
 *   (retryable 0) and change nothing; after a rejected ack the lock is still held and a
 *   corrected ack with the same token may succeed.
 * - Validation: NULL or empty instance ids, message kinds <= 0, lock or extend times <= 0,
 *   execution id 0 in a commit and NULL event payloads are DURO_EINVAL. An empty string is a
 *   value, never NULL.
 * - A commit for an instance without a row and without orch_name may only consume messages
 *   (no events, state or custom status): that is how stray messages are drained.
 * - A new execution row starts RUNNING; started_at is the now_ms of the ack that created it,
 *   completed_at 0 until a terminal state is set.
 * - Messages hidden by an abandon delay are visible again at exactly now + delay.
 * - Management: prune reports instances = 0 (it never deletes instances); the bulk-delete
 *   limit counts roots; completed_before is strict; queue_depths counts rows whose lock has
 *   expired as queued; metrics counts each instance once, by its current execution's state;
 *   a child whose parent row is gone counts as a root; execution_info with execution 0 means
 *   the current execution; wait_commit with a negative timeout waits without limit.
 */
#ifndef DURO_PROVIDER_H
#define DURO_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Error codes (shared with duro.h) ---------------------------------------------------- */

#define DURO_OK 0
#define DURO_ENOMEM (-1)         /* allocation failed */
#define DURO_EINVAL (-2)         /* invalid argument (bad id, name, NULL, malformed) */
#define DURO_ENOTFOUND (-3)      /* instance, execution or row does not exist */
#define DURO_EEXIST (-4)         /* duplicate registration or duplicate row */
#define DURO_ELOCK (-5)          /* lock token unknown, expired or stolen (permanent) */
#define DURO_EBUSY (-6)          /* storage busy or locked; try again (retryable) */
#define DURO_ECORRUPT (-7)       /* stored data cannot be decoded */
#define DURO_ECONSTRAINT (-8)    /* constraint violated (duplicate event id, event id 0, ...) */
#define DURO_EIO (-9)            /* I/O or connection failure (retryable) */
#define DURO_ETIMEDOUT (-10)     /* a wait ran out of time */
#define DURO_ERUNNING (-11)      /* instance still running (delete without force) */
#define DURO_ECHILD (-12)        /* instance is a sub-orchestration: delete its root */
#define DURO_ENOTSUP (-13)       /* capability not provided */
#define DURO_ENONDET (-14)       /* nondeterminism detected */
#define DURO_EUNREGISTERED (-15) /* orchestration or activity name not registered */
#define DURO_ESHUTDOWN (-16)     /* runtime is shutting down */
#define DURO_ETOOBIG (-17)       /* payload or identifier exceeds its limit */
#define DURO_ESTATE (-18)        /* call not allowed in the current state */
#define DURO_EINTERNAL (-19)     /* invariant broken inside duro (a bug) */

/* Error detail filled by failing calls. `retryable` tells whether the same call may succeed
 * later unchanged (busy database, lost connection). */
typedef struct duro_error {
    int code;
    int retryable;
    char message[256];
} duro_error;

/* Fill `err` (if non-NULL) with code, retryable flag and a printf-style message; returns
 * `code` so that callers can write `return duro_error_set(err, DURO_ELOCK, 0, "...")`. */
int duro_error_set(duro_error *err, int code, int retryable, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Static English text for a DURO_E* code ("unknown error" for anything else). */
const char *duro_strerror(int code);

/* ---- Capabilities ------------------------------------------------------------------------ */

#define DURO_CAP_MANAGEMENT (1u << 0) /* list/info/executions/delete/bulk delete/prune/depths */
#define DURO_CAP_LONG_POLL (1u << 1)  /* fetch blocks up to poll_ms waiting for work */
#define DURO_CAP_NOTIFY (1u << 2)     /* commit_seq + wait_commit for event-driven waiting */

/* ---- Status and message kinds ------------------------------------------------------------ */

/* Status of an execution (and of an instance: the status of its current execution). */
typedef enum duro_state {
    DURO_STATE_NOT_FOUND = 0,
    DURO_STATE_RUNNING = 1,
    DURO_STATE_COMPLETED = 2,
    DURO_STATE_FAILED = 3,
    DURO_STATE_CONTINUED_AS_NEW = 4
} duro_state;

/* Kind of an orchestrator-queue message. The provider stores it and treats exactly one
 * value specially: a DURO_MSG_START message may create an instance, so it is the only kind
 * that makes an instance without an instance row eligible for fetch. Messages for an
 * instance that has neither a row nor a START message are never fetched and never block
 * other instances ("orphans"); they wait until the instance is started. */
typedef enum duro_msg_kind {
    DURO_MSG_START = 1,          /* start an instance (client, parent, or detached start) */
    DURO_MSG_CONTINUE_AS_NEW,    /* begin the next execution */
    DURO_MSG_ACTIVITY_DONE,      /* activity completed or failed */
    DURO_MSG_TIMER_FIRED,        /* durable timer (delayed visibility) */
    DURO_MSG_EVENT,              /* external event raised */
    DURO_MSG_CHILD_DONE,         /* sub-orchestration completed or failed (to the parent) */
    DURO_MSG_CANCEL              /* cancel request */
} duro_msg_kind;

/* ---- Values passed IN ------------------------------------------------------------------- */

/* One orchestrator-queue message to enqueue. */
typedef struct duro_msg {
    const char *instance;  /* target instance id */
    int kind;              /* duro_msg_kind */
    uint64_t execution_id; /* execution the message belongs to; 0 = current execution */
    int64_t visible_at_ms; /* not fetchable before this time; the runtime sends 0 for every
                            * message due at once, so a fetcher whose clock reads a fraction
                            * of a millisecond behind the sender's never waits for it */
    const char *payload;   /* opaque encoded message */
} duro_msg;

/* One history event to append. Event ids are assigned by the runtime, start at 1 and are
 * unique per (instance, execution); a provider rejects 0 and duplicates (DURO_ECONSTRAINT). */
typedef struct duro_event_in {
    uint64_t event_id;
    int kind;             /* runtime-defined event kind, stored verbatim */
    const char *payload;  /* opaque encoded event */
} duro_event_in;

/* One activity work item to enqueue (always visible immediately). (execution_id,
 * activity_id) identifies it within its instance for cancellation. */
typedef struct duro_work_in {
    const char *instance;
    uint64_t execution_id;
    uint64_t activity_id;
    const char *payload;
} duro_work_in;

/* Reference to a queued activity of the locked instance, for cancellation. */
typedef struct duro_activity_ref {
    uint64_t execution_id;
    uint64_t activity_id;
} duro_activity_ref;

/* Everything one orchestration turn writes. ack_orch applies it in ONE transaction:
 * 1. verify the lock token is held and unexpired at now_ms (else DURO_ELOCK, nothing written);
 * 2. create the instance row if missing (name, version, parent) and the execution row
 *    (instance, execution_id) if missing; current execution = max(current, execution_id);
 * 3. append `events` to (instance, execution_id), insert-only;
 * 4. if `state` is non-zero, set the execution's state and output (completed_at = now_ms);
 * 5. if `set_custom_status`, set custom status (NULL clears) and increment its version;
 * 6. insert `work` items, THEN delete queued work rows listed in `cancel` (so an activity
 *    scheduled and cancelled in the same turn ends up deleted); unknown refs are ignored;
 * 7. insert `msgs` (any instance) with their visible_at_ms;
 * 8. delete the messages that were fetched under this token (and only those);
 * 9. release the lock. */
typedef struct duro_orch_commit {
    uint64_t execution_id;
    const char *orch_name;        /* may be NULL when the instance row already exists */
    const char *orch_version;
    const char *parent_instance;  /* NULL for root instances */
    const duro_event_in *events;
    size_t n_events;
    const duro_work_in *work;
    size_t n_work;
    const duro_activity_ref *cancel;
    size_t n_cancel;
    const duro_msg *msgs;
    size_t n_msgs;
    int state;                    /* duro_state to set, or 0 to leave unchanged */
    const char *output;           /* output / error text / CAN input, with `state` */
    int set_custom_status;
    const char *custom_status;
} duro_orch_commit;

/* ---- Values passed OUT (malloc-owned by the caller) ------------------------------------- */

/* A stored message as fetched. */
typedef struct duro_stored_msg {
    int64_t id;            /* provider queue id; increases in enqueue order */
    int kind;
    uint64_t execution_id;
    char *payload;
} duro_stored_msg;

/* A stored history event. */
typedef struct duro_event {
    uint64_t event_id;
    int kind;
    char *payload;
} duro_event;

/* A locked orchestration work unit: all currently visible messages of one instance, FIFO by
 * id, plus the current execution's history. */
typedef struct duro_orch_item {
    char *instance;
    char lock_token[33];      /* 32 hex chars of a random 128-bit token */
    uint32_t attempt;         /* max fetch count over the messages (1 on first fetch) */
    uint64_t execution_id;    /* current execution; 1 for an instance without a row */
    int state;                /* state of the current execution, DURO_STATE_NOT_FOUND if none */
    char *orch_name;          /* NULL if the instance row does not exist yet */
    char *orch_version;
    char *custom_status;      /* current custom status, NULL if none */
    duro_stored_msg *msgs;
    size_t n_msgs;
    duro_event *history;      /* ordered by event_id; never silently truncated */
    size_t n_history;
    char *history_error;      /* non-NULL: stored history could not be read (lock is held) */
} duro_orch_item;

/* A locked activity work item. */
typedef struct duro_work_item {
    int64_t id;
    char lock_token[33];
    uint32_t attempt;         /* fetch count of this row (1 on first fetch) */
    char *instance;
    uint64_t execution_id;
    uint64_t activity_id;
    char *payload;
} duro_work_item;

/* Instance metadata. */
typedef struct duro_instance_info {
    char *instance;
    char *orch_name;
    char *orch_version;
    char *parent_instance;       /* NULL for roots */
    uint64_t execution_id;       /* current execution */
    int state;                   /* duro_state of the current execution */
    char *output;                /* output of the current execution, NULL while running */
    char *custom_status;
    uint64_t custom_status_version;
    int64_t created_at_ms;
    int64_t updated_at_ms;
} duro_instance_info;

typedef struct duro_execution_info {
    uint64_t execution_id;
    int state;
    char *output;
    int64_t started_at_ms;
    int64_t completed_at_ms;     /* 0 while running */
    uint64_t event_count;
} duro_execution_info;

/* Counts returned by deletion and pruning. */
typedef struct duro_delete_result {
    uint64_t instances;
    uint64_t executions;
    uint64_t events;
    uint64_t messages;           /* orchestrator + worker rows removed */
} duro_delete_result;

typedef struct duro_queue_depths {
    uint64_t orchestrator;       /* visible, unlocked orchestrator messages at now_ms */
    uint64_t worker;             /* visible, unlocked work items at now_ms */
    uint64_t delayed;            /* orchestrator messages not yet visible (timers, backoff) */
} duro_queue_depths;

typedef struct duro_metrics {
    uint64_t instances;
    uint64_t executions;
    uint64_t running;
    uint64_t completed;
    uint64_t failed;
    uint64_t continued_as_new;
    uint64_t events;
} duro_metrics;

/* Filter for bulk deletion: only ROOT instances whose current state is terminal
 * (completed or failed) are deleted, each with its whole tree. */
typedef struct duro_bulk_filter {
    const char *const *instances; /* restrict to these ids; NULL = all */
    size_t n_instances;
    int64_t completed_before_ms;  /* 0 = no bound; else completed strictly before */
    size_t limit;                 /* 0 = 1000 */
} duro_bulk_filter;

/* Prune old executions of one instance. The current execution and running executions are
 * never pruned. keep_last 0 and 1 both keep only the current one. */
typedef struct duro_prune_options {
    uint64_t keep_last;
    int64_t completed_before_ms;  /* 0 = no bound */
} duro_prune_options;

/* ---- The provider vtable ---------------------------------------------------------------- */

typedef struct duro_provider duro_provider;

typedef struct duro_provider_ops {
    /* Close connections and free the provider. Outstanding locks are simply left to expire. */
    void (*destroy)(duro_provider *p);

    /* Orchestrator queue ------------------------------------------------------------------ */
    int (*enqueue_orch)(duro_provider *p, const duro_msg *msg, duro_error *err);
    /* Lock one instance that has a visible message and no live lock, tag ALL its visible
     * messages, increment their fetch counts and return them with the current execution's
     * history. Returns 0 with *out set, or DURO_ENOTFOUND when nothing is available (after
     * waiting up to poll_ms if the provider long-polls; 0 means do not wait). */
    int (*fetch_orch)(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                      duro_orch_item **out, duro_error *err);
    int (*ack_orch)(duro_provider *p, int64_t now_ms, const char *lock_token,
                    const duro_orch_commit *commit, duro_error *err);
    /* Release the lock. delay_ms > 0 hides the instance's messages until now+delay;
     * ignore_attempt undoes this fetch's count increment (never below 0). */
    int (*abandon_orch)(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t delay_ms, int ignore_attempt, duro_error *err);
    /* Extend a live lock to now+extend_ms; DURO_ELOCK if it is gone or expired. */
    int (*renew_orch)(duro_provider *p, int64_t now_ms, const char *lock_token,
                      int64_t extend_ms, duro_error *err);

    /* Worker queue ------------------------------------------------------------------------ */
    int (*enqueue_work)(duro_provider *p, const duro_work_in *work, duro_error *err);
    /* Lock the oldest visible, unlocked work item. DURO_ENOTFOUND when none. */
    int (*fetch_work)(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                      duro_work_item **out, duro_error *err);
    /* Delete the item and enqueue `completion` (may be NULL) atomically. DURO_ELOCK
     * (permanent) when the row is gone (cancelled, deleted) or the lock expired. */
    int (*ack_work)(duro_provider *p, int64_t now_ms, const char *lock_token,
                    const duro_msg *completion, duro_error *err);
    int (*abandon_work)(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t delay_ms, int ignore_attempt, duro_error *err);
    int (*renew_work)(duro_provider *p, int64_t now_ms, const char *lock_token,
                      int64_t extend_ms, duro_error *err);

    /* Reads ------------------------------------------------------------------------------ */
    /* History of one execution (0 = current), ordered by event_id. Unknown instance: 0 with
     * *n = 0. A row that cannot be read is DURO_ECORRUPT, never skipped. */
    int (*read_history)(duro_provider *p, const char *instance, uint64_t execution_id,
                        duro_event **events, size_t *n, duro_error *err);
    /* Metadata of one instance; DURO_ENOTFOUND if it has no row. */
    int (*instance_info)(duro_provider *p, const char *instance, duro_instance_info *out,
                         duro_error *err);

    /* Wake every thread of this process blocked in fetch_orch, fetch_work or wait_commit on
     * this provider so that it returns promptly (DURO_ENOTFOUND / DURO_ETIMEDOUT). Used by
     * runtime shutdown. Required with DURO_CAP_LONG_POLL, else may be NULL. */
    void (*interrupt)(duro_provider *p);

    /* Change notification (DURO_CAP_NOTIFY, else NULL) ------------------------------------- */
    /* A counter that increases on every committed write visible to this process. */
    uint64_t (*commit_seq)(duro_provider *p);
    /* Block until commit_seq() > seq or timeout_ms passes. Returns 0 or DURO_ETIMEDOUT. */
    int (*wait_commit)(duro_provider *p, uint64_t seq, int64_t timeout_ms);

    /* Management (DURO_CAP_MANAGEMENT, else NULL) --------------------------------------- */
    /* Instance ids, newest first; state_filter 0 = all, else a duro_state. */
    int (*list_instances)(duro_provider *p, int state_filter, char ***ids, size_t *n,
                          duro_error *err);
    int (*list_executions)(duro_provider *p, const char *instance, uint64_t **ids, size_t *n,
                           duro_error *err);
    int (*execution_info)(duro_provider *p, const char *instance, uint64_t execution_id,
                          duro_execution_info *out, duro_error *err);
    /* Direct children (instances whose parent is `instance`); unknown id gives 0 children. */
    int (*list_children)(duro_provider *p, const char *instance, char ***ids, size_t *n,
                         duro_error *err);
    /* Delete an instance and its whole tree atomically: history, executions, both queues,
     * locks. DURO_ENOTFOUND unknown; DURO_ECHILD if it has a parent; DURO_ERUNNING if any
     * instance of the tree is running and !force. A lock holder's later ack fails with
     * DURO_ELOCK and can never recreate the instance. */
    int (*delete_instance)(duro_provider *p, int64_t now_ms, const char *instance, int force,
                           duro_delete_result *out, duro_error *err);
    int (*delete_bulk)(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                       duro_delete_result *out, duro_error *err);
    int (*prune)(duro_provider *p, int64_t now_ms, const char *instance,
                 const duro_prune_options *opt, duro_delete_result *out, duro_error *err);
    int (*queue_depths)(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                        duro_error *err);
    int (*metrics)(duro_provider *p, duro_metrics *out, duro_error *err);
} duro_provider_ops;

/* Embed as the first member of a provider implementation. */
struct duro_provider {
    const duro_provider_ops *ops;
    const char *name;   /* short display name, e.g. "sqlite" */
    unsigned caps;      /* DURO_CAP_* bits */
};

/* ---- Ownership helpers (libduro) --------------------------------------------------------- */

/* Each frees the object and every buffer it owns; NULL is a no-op. */
void duro_orch_item_free(duro_orch_item *item);
void duro_work_item_free(duro_work_item *item);
void duro_events_free(duro_event *events, size_t n);
void duro_instance_info_clear(duro_instance_info *info);
void duro_execution_info_clear(duro_execution_info *info);
void duro_strv_free(char **v, size_t n);

/* Fill `token` (33 bytes) with 32 lowercase hex digits from the OS random source.
 * Returns 0 or DURO_EIO. */
int duro_random_token(char token[33]);

/* Destroy a provider through its vtable; NULL is a no-op. */
void duro_provider_destroy(duro_provider *p);

#ifdef __cplusplus
}
#endif
#endif /* DURO_PROVIDER_H */
