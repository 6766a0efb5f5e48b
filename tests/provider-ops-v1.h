/*
 * provider-ops-v1.h — a frozen copy of the version-1 layout of duro_provider_ops (duro 0.2),
 * as a provider compiled against that header sees it. tests/test-ops-v1.c builds a provider
 * with this layout and runs it under the current library, proving that the runtime never
 * reads past the members a provider's version has. Never edit this file: a later version
 * appends members to lib/duro-provider.h, not here.
 */
#ifndef DURO_TESTS_PROVIDER_OPS_V1_H
#define DURO_TESTS_PROVIDER_OPS_V1_H

#include "duro-provider.h"

typedef struct duro_provider_ops_v1 {
    /* DURO_PROVIDER_OPS_VERSION of the header the provider was compiled against (>= 1). */
    int version;

    /* ---- Version 1 ------------------------------------------------------------------------ */

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
} duro_provider_ops_v1;

#endif /* DURO_TESTS_PROVIDER_OPS_V1_H */
