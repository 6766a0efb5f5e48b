/*
 * duro-common.h — what the application API (duro.h) and the provider contract
 * (duro-provider.h) share: the export and printf-format macros, error codes and the error
 * detail struct, instance states, stored history events and the results of management
 * calls. Include duro.h or duro-provider.h rather than this file.
 *
 * Thread safety: everything declared here is safe to call from any thread.
 */
#ifndef DURO_COMMON_H
#define DURO_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* DURO_EXTERN marks every declaration a duro shared library exports. duro's libraries are
 * built with -fvisibility=hidden, so a function without it is private to its library. */
#if defined(__GNUC__) || defined(__clang__)
#define DURO_EXTERN extern __attribute__((visibility("default")))
#else
#define DURO_EXTERN extern
#endif

/* DURO_PRINTF(f, a): argument `f` is a printf format whose arguments start at `a`; checked
 * by GCC and clang, ignored by other compilers. */
#if defined(__GNUC__) || defined(__clang__)
#define DURO_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DURO_PRINTF(f, a)
#endif

/* ---- Limits ------------------------------------------------------------------------------ */

/* Limits on what duro accepts; larger input is rejected with DURO_ETOOBIG (retryable 0). The
 * runtime and the client check both; a provider checks the id limit on every id a commit or
 * an enqueue stores (duro_provider_check_commit, _msg, _work), but not the payload limit:
 * an encoded history event wraps a payload and may be larger than it. */
#define DURO_MAX_ID_BYTES 256              /* instance ids, names, versions, event names */
#define DURO_MAX_PAYLOAD_BYTES (16u << 20) /* inputs, outputs, event data, statuses */
/* Durable values (duro_set_value, DURO_CAP_KV): a key is a non-empty id of at most
 * DURO_MAX_ID_BYTES, a value at most DURO_MAX_VALUE_BYTES, and an instance holds at most
 * DURO_MAX_VALUES keys. The runtime and providers check all three (DURO_ETOOBIG). */
#define DURO_MAX_VALUE_BYTES (64u << 10)
#define DURO_MAX_VALUES 1024

/* ---- Error codes -------------------------------------------------------------------------- */

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
DURO_EXTERN int duro_error_set(duro_error *err, int code, int retryable, const char *fmt, ...)
    DURO_PRINTF(4, 5);

/* Static English text for a DURO_E* code ("unknown error" for anything else). */
DURO_EXTERN const char *duro_strerror(int code);

/* Static name of a DURO_E* code's macro ("DURO_ELOCK"; "DURO_OK" for 0; "DURO_E?" for a
 * value that is not a duro error code), for logs and test reports. */
DURO_EXTERN const char *duro_err_name(int code);

/* ---- States ------------------------------------------------------------------------------ */

/* Status of an execution (and of an instance: the status of its current execution).
 * Providers store and are handed only the first five values. TERMINATED and SUSPENDED are
 * what libduro's client reports for a stored Failed execution that duro_client_terminate
 * ended and for a stored Running one that duro_client_suspend holds (docs/decisions.md,
 * "Lifecycle controls"). */
typedef enum duro_state {
    DURO_STATE_NOT_FOUND = 0,
    DURO_STATE_RUNNING = 1,
    DURO_STATE_COMPLETED = 2,
    DURO_STATE_FAILED = 3,
    DURO_STATE_CONTINUED_AS_NEW = 4,
    DURO_STATE_TERMINATED = 5,   /* client view: terminal, ended by duro_client_terminate */
    DURO_STATE_SUSPENDED = 6,    /* client view: running, held by duro_client_suspend */
    DURO_STATE_SCHEDULED = 7     /* client view: running, its scheduled start not reached */
} duro_state;

/* ---- Stored history events --------------------------------------------------------------- */

/* A stored history event: its id within the execution (from 1), its kind (a duro_event_kind
 * of duro.h, stored verbatim by providers) and its encoded payload (malloc-owned). */
typedef struct duro_event {
    uint64_t event_id;
    int kind;
    char *payload;
} duro_event;

/* Free `n` events and the array; NULL is a no-op. */
DURO_EXTERN void duro_events_free(duro_event *events, size_t n);

/* ---- Durable values (DURO_CAP_KV) ------------------------------------------------------- */

/* One stored durable value of an instance (duro_client_list_values, the provider's
 * list_values): key, value and version, all malloc-owned. The version is the instance's
 * value counter when the key was last set: it increases with every change the instance's
 * commits make to its values, so a key set again after a clear never reuses a version. */
typedef struct duro_kv_entry {
    char *key;
    char *value;
    uint64_t version;
} duro_kv_entry;

/* Free `n` entries and the array; NULL is a no-op. */
DURO_EXTERN void duro_kv_entries_free(duro_kv_entry *entries, size_t n);

/* ---- Management results (DURO_CAP_MANAGEMENT) ------------------------------------------- */

/* One instance as a listing shows it (duro_client_list, the provider's query_instances).
 * Every string is malloc-owned. */
typedef struct duro_instance_summary {
    char *instance;
    char *orch_name;
    char *orch_version;          /* NULL when none was stored */
    char *parent_instance;       /* NULL for a root */
    uint64_t execution_id;       /* current execution */
    duro_state state;            /* state of the current execution */
    int64_t created_at_ms;       /* when the instance row was created (never changes) */
    int64_t completed_at_ms;     /* when the current execution ended (Completed, Failed or
                                  * ContinuedAsNew); 0 while it runs */
} duro_instance_summary;

/* Free the strings of `n` summaries and the array; NULL is a no-op. */
DURO_EXTERN void duro_instance_summaries_free(duro_instance_summary *v, size_t n);

/* Counts returned by deletion and pruning. */
typedef struct duro_delete_result {
    uint64_t instances;
    uint64_t executions;
    uint64_t events;
    uint64_t messages;           /* orchestrator + worker rows removed */
} duro_delete_result;

/* Queue depths at one moment (now_ms). */
typedef struct duro_queue_depths {
    uint64_t orchestrator;       /* visible, unlocked orchestrator messages at now_ms */
    uint64_t worker;             /* visible, unlocked work items at now_ms */
    uint64_t delayed;            /* orchestrator messages not yet visible (timers, backoff) */
} duro_queue_depths;

/* The work queue of one tag at a time now (queue_depths_by_tag of duro-provider.h,
 * duro_client_work_depths_by_tag of duro.h); free an array with duro_tag_depths_free. */
typedef struct duro_tag_depth {
    char *tag;                  /* NULL: the untagged items */
    uint64_t queued;            /* visible, unlocked (or lock expired) at now */
    uint64_t locked;            /* under a live lock at now */
    uint64_t delayed;           /* hidden by an abandon delay and not locked */
} duro_tag_depth;

/* Free `n` rows of duro_tag_depth, their tags and the array; NULL is a no-op. */
DURO_EXTERN void duro_tag_depths_free(duro_tag_depth *rows, size_t n);

/* Store-wide counts: each instance once, under its current execution's state. */
typedef struct duro_metrics {
    uint64_t instances;
    uint64_t executions;
    uint64_t running;
    uint64_t completed;
    uint64_t failed;
    uint64_t continued_as_new;
    uint64_t events;
} duro_metrics;

/* A storage back end (duro-provider.h says how to implement one; duro-sqlite.h opens the
 * embedded one). Opaque to applications. */
typedef struct duro_provider duro_provider;

/* Destroy a provider through its vtable; NULL is a no-op. */
DURO_EXTERN void duro_provider_destroy(duro_provider *p);

#ifdef __cplusplus
}
#endif
#endif /* DURO_COMMON_H */
