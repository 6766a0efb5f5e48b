/*
 * sqlite-internal.h — private interface shared by the files of the SQLite provider.
 *
 * The provider is built in layers, each file calling only those below it:
 *
 *   provider.c            the provider object: open, close, options, the ops table
 *   orch.c work.c read.c manage.c hooks.c    the callbacks of duro-provider.h
 *   kv.c                  durable values: their reads, and the changes orch.c's ack applies
 *   queue.c               queue inserts and lock reads shared by orch.c and work.c
 *   schema.c              tables and migrations
 *   pool.c                connection pool, transactions, group commit, checkpointer (pool.h)
 *   util/notify.c         in-process notification, long polling   (duro-notify.h; shared
 *                         with the PostgreSQL provider)
 *   stmt.c                one connection, statements, errors      (stmt.h)
 *
 * This header defines the provider object for the callback files and provider.c.
 */
#ifndef DURO_SQLITE_INTERNAL_H
#define DURO_SQLITE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "duro-provider.h"
#include "duro-sqlite.h"
#include "duro-util.h"
#include "duro-notify.h"
#include "pool.h"
#include "queue.h"
#include "schema.h"
#include "stmt.h"

typedef struct duro_sqlite {
    duro_provider base;            /* first member: the provider contract */
    char *path;                    /* as opened; ":memory:" for the private database */
    int memory;
    duro_sqlite_options opt;
    duro__notifier notes;          /* wakes long polls and wait_commit */
    duro__sq_pool pool;            /* connections and transactions */
} duro_sqlite;

/* ---- Callbacks (orch.c, work.c, read.c, manage.c) --------------------------------------- */

int duro__sq_enqueue_orch(duro_provider *p, const duro_msg *msg, duro_error *err);
int duro__sq_enqueue_orch_start(duro_provider *p, const duro_msg *msg,
                                const duro_orch_ref *target, duro_error *err);
int duro__sq_fetch_orch_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                 int64_t poll_ms, const duro_version_filter *filter,
                                 duro_orch_item **out, duro_error *err);
int duro__sq_fetch_orch(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_orch_item **out, duro_error *err);
int duro__sq_ack_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                      const duro_orch_commit *commit, duro_error *err);
int duro__sq_abandon_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                          int64_t delay_ms, int ignore_attempt, duro_error *err);
int duro__sq_renew_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t extend_ms, duro_error *err);

int duro__sq_enqueue_work(duro_provider *p, const duro_work_in *work, duro_error *err);
int duro__sq_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_work_item **out, duro_error *err);
int duro__sq_enqueue_work_tagged(duro_provider *p, const duro_work_in *work, const char *tag,
                                 duro_error *err);
int duro__sq_fetch_work_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                 int64_t poll_ms, const duro_work_filter *filter,
                                 duro_work_item **out, duro_error *err);
int duro__sq_queue_depths_by_tag(duro_provider *p, int64_t now_ms, duro_tag_depth **rows,
                                 size_t *n, duro_error *err);
int duro__sq_fetch_work_session(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                int64_t poll_ms, const duro_work_filter *filter,
                                const char *worker_id, int64_t lease_ms, size_t max_sessions,
                                duro_work_item **out, duro_error *err);
int duro__sq_renew_sessions(duro_provider *p, int64_t now_ms, const char *worker_id,
                            int64_t lease_ms, int64_t idle_ms, size_t *owned, duro_error *err);
int duro__sq_ack_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                      const duro_msg *completion, duro_error *err);
int duro__sq_abandon_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                          int64_t delay_ms, int ignore_attempt, duro_error *err);
int duro__sq_renew_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t extend_ms, duro_error *err);

int duro__sq_read_history(duro_provider *p, const char *instance, uint64_t execution_id,
                          duro_event **events, size_t *n, duro_error *err);
int duro__sq_instance_info(duro_provider *p, const char *instance, duro_instance_info *out,
                           duro_error *err);

int duro__sq_list_instances(duro_provider *p, int state_filter, char ***ids, size_t *n,
                            duro_error *err);
int duro__sq_list_executions(duro_provider *p, const char *instance, uint64_t **ids,
                             size_t *n, duro_error *err);
int duro__sq_execution_info(duro_provider *p, const char *instance, uint64_t execution_id,
                            duro_execution_info *out, duro_error *err);
int duro__sq_list_children(duro_provider *p, const char *instance, char ***ids, size_t *n,
                           duro_error *err);
int duro__sq_delete_instance(duro_provider *p, int64_t now_ms, const char *instance,
                             int force, duro_delete_result *out, duro_error *err);
int duro__sq_delete_bulk(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                         duro_delete_result *out, duro_error *err);
int duro__sq_prune(duro_provider *p, int64_t now_ms, const char *instance,
                   const duro_prune_options *opt, duro_delete_result *out, duro_error *err);
int duro__sq_queue_depths(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                          duro_error *err);
int duro__sq_metrics(duro_provider *p, duro_metrics *out, duro_error *err);
int duro__sq_query_instances(duro_provider *p, const duro_instance_query *q,
                             duro_instance_summary **rows, size_t *n, duro_error *err);

/* Durable values (kv.c). duro__sq_apply_kv applies the kv changes of commit `cm` to
 * `instance` inside ack_orch's transaction (DURO_ETOOBIG past DURO_MAX_VALUES keys). */
int duro__sq_apply_kv(duro__sq_conn *c, const char *instance, const duro_orch_commit *cm,
                      duro_error *err);
int duro__sq_get_value(duro_provider *p, const char *instance, const char *key, char **value,
                       uint64_t *version, duro_error *err);
int duro__sq_list_values(duro_provider *p, const char *instance, duro_kv_entry **entries,
                         size_t *n, duro_error *err);

/* ---- The provider object (provider.c) ---------------------------------------------------- */

/* The SQLite provider behind `p`, or NULL when `p` is another provider. */
duro_sqlite *duro__sq_from(duro_provider *p);
/* Path the provider was opened with (borrowed; ":memory:" for in-memory). */
const char *duro__sq_path(duro_provider *p);

/* ---- Test and integrity hooks (hooks.c; entry points in provider.c) ---------------------- */

/* Overwrite the stored history of `instance` with bytes no decoder accepts. */
int duro__sq_corrupt_history(duro_sqlite *s, const char *instance);
/* The highest attempt count among the queued messages of `instance` (0 when none). */
int duro__sq_max_attempt_count(duro_sqlite *s, const char *instance, uint32_t *out);
/* PRAGMA integrity_check of the store of `s`: 0 when it reports "ok", else DURO_ECORRUPT
 * with its first finding in msg (or another DURO_E* code when it cannot run). */
int duro__sq_integrity(duro_sqlite *s, char *msg, size_t msg_size);

#endif /* DURO_SQLITE_INTERNAL_H */
