/*
 * replay.h — the turn engine's private interface (lib/replay.c, lib/context.c,
 * lib/runtime.c). One turn = one fetched orchestration item in, one provider commit (or an
 * abandon) out. See DESIGN.md §3 and codec.h for the event model.
 */
#ifndef DURO_REPLAY_H
#define DURO_REPLAY_H

#include "codec.h"
#include "internal.h"

/* Registry lookups (registry.c). `version` NULL = latest. 0 or DURO_EUNREGISTERED. */
int duro__registry_orch(const duro_registry *r, const char *name, const char *version,
                        duro_orch_fn *fn, void **ud, const char **resolved);
int duro__registry_activity(const duro_registry *r, const char *name, duro_activity_fn *fn,
                            void **ud);
/* The (name, version) pairs `r` can replay, as a version filter: every registered version as
 * registered and, when it differs, in canonical text. out->refs is malloc'ed (free() it); its
 * strings belong to the registry. 0 or DURO_ENOMEM. */
int duro__registry_filter(const duro_registry *r, duro_version_filter *out);

/* Derived per-event state, indexed by event id - 1. */
typedef struct duro__slot {
    duro__rec rec;
    uint64_t task;      /* activity events: the ACT_SCHEDULED id of their task */
    uint64_t result;    /* dispatch events: id of their completion/failure/timeout */
    uint64_t final;     /* task events: id of the event that finished the task */
    uint64_t dispatch;  /* ACT_SCHEDULED: current attempt's dispatch id (0 in backoff) */
    uint32_t attempt;   /* ACT_SCHEDULED: current attempt number */
    uint32_t dattempt;  /* dispatch events: the attempt they dispatched */
    uint8_t cancelled;  /* task events: cancellation breadcrumb recorded */
} duro__slot;

typedef enum duro__task_type {
    DURO__TASK_DEAD = 0, /* an invalid call: never completes */
    DURO__TASK_ACTIVITY,
    DURO__TASK_TIMER,
    DURO__TASK_WAIT,
    DURO__TASK_SUB
} duro__task_type;

struct duro_task {
    duro_orch *o;
    int type;
    uint64_t id;         /* decision event id */
    const char *name;    /* WAIT: event name */
    size_t seq;          /* creation order within the run */
    int cancelled;       /* duro_task_cancel was called while not done */
    int observed_done;
};

/* An arrival of an external event: position (event id, index within carried events). */
typedef struct duro__arrival {
    uint64_t pos;
    uint32_t sub;
    const char *name;
    const char *data;
} duro__arrival;

typedef enum duro__terminal {
    DURO__TERM_NONE = 0,
    DURO__TERM_COMPLETE,
    DURO__TERM_FAIL,
    DURO__TERM_CAN
} duro__terminal;

/* One durable value of the run's state: both strings live for the turn (in a history
 * record or the Started event's carried values). */
typedef struct duro__kv {
    const char *key;
    const char *value;
} duro__kv;

/* Log hook used by duro_log (runtime supplies it). */
typedef void (*duro__log_fn)(int level, const char *instance, const char *msg, void *ud);

/* The turn state; it is also the `duro_orch` handed to orchestration code. */
struct duro_orch {
    const duro_registry *reg;
    const duro_orch_item *item;
    int64_t now_ms;
    duro__log_fn log;
    void *log_ud;

    uint64_t exec;
    const char *name, *version, *input, *parent;
    uint64_t pexec, pid;

    duro__vec slots;          /* duro__slot, index = event id - 1 */
    size_t n_persisted;       /* events loaded from storage for this execution */
    duro__vec decisions;      /* uint64_t decision event ids in order */
    size_t n_old_decisions;   /* decisions recorded before this run */
    size_t next_decision;
    duro__vec arrivals;       /* duro__arrival */
    duro__vec tasks;          /* duro_task * */
    duro__vec strs;           /* char * owned by the turn */
    uint64_t cancel_req;      /* id of CANCEL_REQ event, 0 if none */
    uint64_t suspended;       /* id of the SUSPENDED event in force, 0 when not suspended */
    uint64_t resumed_from;    /* SUSPENDED event a RESUMED of this turn ended, else 0 */
    char *terminate_reason;   /* kept by the turn: a TERMINATE message arrived */
    int64_t start_at;         /* scheduled start (ms) of the execution, 0 if none */
    int start_due;            /* the scheduled start's timer arrived in this turn */

    int replaying;
    int observed_pending;
    int in_run;
    duro_task dead;

    /* failure recorded by the engine (nondeterminism, rule violation, abort) */
    int err_code;
    int err_category;
    char *err_msg;

    /* terminal call made by the code */
    int terminal;
    char *term_text;
    const char *term_version; /* continue-as-new onto this version (canonical), or NULL */

    int custom_status_set;
    char *custom_status;

    int kv_supported;         /* the provider stores durable values (DURO_CAP_KV) */
    duro_provider *values;    /* the store duro_read_value reads from, or NULL: none */
    char *retry_reason;       /* a store read failed retryably: discard the turn, retry */
    duro__vec kv;             /* duro__kv: values as the code has set them so far this run */

    /* outputs */
    duro__vec out_work;       /* duro_work_in */
    duro__vec out_msgs;       /* duro_msg */
    duro__vec out_msg_targets; /* duro_orch_ref, parallel to out_msgs (orch_name NULL: none) */
    int any_msg_target;       /* some entry of out_msg_targets has a name */
    duro__vec out_cancel;     /* duro_activity_ref */
    duro__vec out_kv;         /* duro_kv_change */
    duro__vec out_work_tags;  /* const char *, parallel to out_work (NULL = untagged) */
    int any_work_tagged;      /* some entry of out_work_tags is not NULL */
    const char *no_tags_provider; /* non-NULL: the provider (this name) routes no tags */
    duro__vec out_work_sessions; /* const char *, parallel to out_work (NULL = none) */
    int any_work_session;     /* some entry of out_work_sessions is not NULL */
    const char *no_sessions_provider; /* non-NULL: the provider (this name) runs no sessions */
};

typedef enum duro__turn_action {
    DURO__TURN_COMMIT = 1,
    DURO__TURN_ABANDON_UNREGISTERED, /* handler missing: back off and retry */
    DURO__TURN_ABANDON_CORRUPT,      /* stored history unreadable: retry, then poison */
    DURO__TURN_ABANDON_RETRY         /* a store read of the code failed retryably: retry
                                      * soon without counting the attempt */
} duro__turn_action;

/* Result of one turn; owns everything `commit` points at. */
typedef struct duro__turn {
    int action;
    char *reason;             /* abandon reason (for logs) */
    duro_orch_commit commit;
    duro__vec events;         /* duro_event_in */
    duro_orch *o;
    /* terminal summary for the observer (when commit.state is terminal) */
    int category;
    const char *terminal_text;
    int terminated;           /* the commit ends the execution as terminated */
} duro__turn;

/* Run one turn of `item` (history + messages) against `reg` at `now_ms`. Returns 0 with
 * *out filled (free with duro__turn_free), or DURO_ENOMEM. */
int duro__turn_run(const duro_registry *reg, const duro_orch_item *item, int64_t now_ms,
                   duro__log_fn log, void *log_ud, duro__turn *out);
/* What the store of a turn supports (duro__turn_run_for). */
typedef struct duro__turn_env {
    /* 0: a change of a durable value fails the instance with DURO_ENOTSUP */
    int kv_supported;
    /* non-NULL (the provider's name): a turn that would enqueue a tagged attempt (an attempt
     * in a session) fails the instance with DURO_ENOTSUP naming it */
    const char *no_tags_provider;
    const char *no_sessions_provider;
    /* the provider duro_read_value reads other instances' values from (it has
     * DURO_CAP_KV), or NULL: a read fails the instance with DURO_ENOTSUP */
    duro_provider *values;
} duro__turn_env;

/* duro__turn_run for the store `env` describes. duro__turn_run assumes values, tags and
 * sessions are all supported, with no store to read other instances' values from. */
int duro__turn_run_for(const duro_registry *reg, const duro_orch_item *item, int64_t now_ms,
                       duro__log_fn log, void *log_ud, const duro__turn_env *env,
                       duro__turn *out);
void duro__turn_free(duro__turn *t);

/* The poison commit for an item whose messages exceeded max_attempts (or whose history is
 * unreadable): appends OrchestrationFailed{poison} (after a synthesized Started when the
 * history is empty) and notifies the parent. The message names the cause when it can tell
 * without running user code: `why`, unreadable history, or an unregistered name (`reg`). */
int duro__turn_poison(const duro_registry *reg, const duro_orch_item *item, int64_t now_ms,
                      uint32_t max_attempts, const char *why, duro__turn *out);

/* The last resort when the poison commit cannot be built or the store refuses it (what is
 * stored defeats it: an event id at its limit, a start message that names no orchestration,
 * text that cannot be encoded): a commit that ends the current execution FAILED{poison} with
 * `text` (invalid UTF-8 bytes shown as '?') and no history event, tells the parent when the
 * stored Started event names a valid parent id, and consumes the messages; an instance
 * without a row gets one named "(unreadable start)".
 * Returns 0 with *out filled (free with duro__turn_free), or DURO_ENOMEM. */
int duro__turn_poison_bare(const duro_orch_item *item, const char *text, duro__turn *out);

/* Engine internals used by context.c. */
duro__slot *duro__slot_at(duro_orch *o, uint64_t id);
/* Append a new event of `kind` built from `json` (ownership taken). Returns its id or 0
 * after recording an error on `o`. The append may move every slot: a duro__slot pointer
 * taken before it is invalid after it (the strings of its record stay valid). */
uint64_t duro__append(duro_orch *o, int kind, json_t *json);
/* Record a failure of the turn (first one wins). Returns 0. */
int duro__fail_turn(duro_orch *o, int code, int category, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Queue outputs. Strings are copied into the turn. 0 or DURO_ENOMEM (error recorded). */
int duro__out_msg(duro_orch *o, const char *instance, int kind, uint64_t exec,
                  int64_t visible_at, json_t *payload);
/* Give the message queued last by duro__out_msg the routing target (name, version): both
 * strings must live for the turn; version NULL means "the latest registered". */
void duro__out_target(duro_orch *o, const char *name, const char *version);
int duro__dispatch(duro_orch *o, uint64_t task, uint64_t dispatch, uint32_t attempt);
/* Keep a malloc'd string alive for the turn; returns it (NULL: error recorded). */
char *duro__keep(duro_orch *o, char *s);
/* Load the durable values the execution started with (its Started event) into o->kv.
 * 0 or DURO_ENOMEM. */
int duro__kv_begin(duro_orch *o);
/* The values of o->kv as a JSON object {key: value} (for continue-as-new), NULL when out
 * of memory. */
json_t *duro__kv_snapshot(duro_orch *o);
/* Task result: 1 if done, with position and outcome. */
int duro__task_result(duro_task *t, uint64_t *pos, uint32_t *sub, int *ok, const char **value,
                      const char **error);

#endif /* DURO_REPLAY_H */
