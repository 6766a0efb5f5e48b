/*
 * pg-internal.h — private interface shared by the files of the PostgreSQL provider.
 *
 * The provider is built in layers, each file calling only those below it:
 *
 *   provider.c            the provider object: open, close, options, the ops table
 *   orch.c work.c read.c manage.c hooks.c    the callbacks of duro-provider.h
 *   kv.c                  durable values: their reads, and the changes orch.c's ack applies
 *   queue.c               queue inserts, instance locks, string lists    (queue.h)
 *   schema.c              schema, tables and migrations                  (schema.h)
 *   pool.c                connection pool, transactions, retries, NOTIFY (pool.h)
 *   listen.c              the LISTEN thread on its own connection        (listen.h)
 *   util/notify.c         in-process notification, long polling    (duro-notify.h; shared)
 *   conn.c                one connection, statements, errors             (conn.h)
 *
 * This header defines the provider object for the callback files and provider.c.
 */
#ifndef DURO_PG_INTERNAL_H
#define DURO_PG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "duro-provider.h"
#include "conn.h"
#include "duro-postgres.h"
#include "duro-util.h"
#include "listen.h"
#include "duro-notify.h"
#include "pool.h"
#include "queue.h"
#include "schema.h"

typedef struct duro_pg {
    duro_provider base;            /* first member: the provider contract */
    char *conninfo;                /* as opened */
    char *schema;
    char *channel;                 /* NOTIFY channel: duro_<schema> */
    duro_postgres_options opt;
    duro__pg_conn_settings set;    /* of every connection (points into this object) */
    duro__notifier notes;          /* wakes long polls and wait_commit */
    duro__pg_pool pool;            /* connections and transactions */
    duro__pg_listener listener;    /* LISTEN on its own connection */
} duro_pg;

/* ---- Callbacks (orch.c, work.c, read.c, manage.c) --------------------------------------- */

int duro__pg_enqueue_orch(duro_provider *p, const duro_msg *msg, duro_error *err);
int duro__pg_enqueue_orch_start(duro_provider *p, const duro_msg *msg,
                                const duro_orch_ref *target, duro_error *err);
int duro__pg_fetch_orch_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                 int64_t poll_ms, const duro_version_filter *filter,
                                 duro_orch_item **out, duro_error *err);
int duro__pg_fetch_orch(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_orch_item **out, duro_error *err);
int duro__pg_ack_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                      const duro_orch_commit *commit, duro_error *err);
int duro__pg_abandon_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                          int64_t delay_ms, int ignore_attempt, duro_error *err);
int duro__pg_renew_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t extend_ms, duro_error *err);

int duro__pg_enqueue_work(duro_provider *p, const duro_work_in *work, duro_error *err);
int duro__pg_enqueue_work_tagged(duro_provider *p, const duro_work_in *work, const char *tag,
                                 duro_error *err);
int duro__pg_fetch_work_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                 int64_t poll_ms, const duro_work_filter *filter,
                                 duro_work_item **out, duro_error *err);
int duro__pg_queue_depths_by_tag(duro_provider *p, int64_t now_ms, duro_tag_depth **rows,
                                 size_t *n, duro_error *err);
int duro__pg_fetch_work_session(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                int64_t poll_ms, const duro_work_filter *filter,
                                const char *worker_id, int64_t lease_ms, size_t max_sessions,
                                duro_work_item **out, duro_error *err);
int duro__pg_renew_sessions(duro_provider *p, int64_t now_ms, const char *worker_id,
                            int64_t lease_ms, int64_t idle_ms, size_t *owned, duro_error *err);
int duro__pg_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                        duro_work_item **out, duro_error *err);
int duro__pg_ack_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                      const duro_msg *completion, duro_error *err);
int duro__pg_abandon_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                          int64_t delay_ms, int ignore_attempt, duro_error *err);
int duro__pg_renew_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                        int64_t extend_ms, duro_error *err);

int duro__pg_read_history(duro_provider *p, const char *instance, uint64_t execution_id,
                          duro_event **events, size_t *n, duro_error *err);
int duro__pg_instance_info(duro_provider *p, const char *instance, duro_instance_info *out,
                           duro_error *err);

int duro__pg_list_instances(duro_provider *p, int state_filter, char ***ids, size_t *n,
                            duro_error *err);
int duro__pg_list_executions(duro_provider *p, const char *instance, uint64_t **ids,
                             size_t *n, duro_error *err);
int duro__pg_execution_info(duro_provider *p, const char *instance, uint64_t execution_id,
                            duro_execution_info *out, duro_error *err);
int duro__pg_list_children(duro_provider *p, const char *instance, char ***ids, size_t *n,
                           duro_error *err);
int duro__pg_delete_instance(duro_provider *p, int64_t now_ms, const char *instance,
                             int force, duro_delete_result *out, duro_error *err);
int duro__pg_delete_bulk(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                         duro_delete_result *out, duro_error *err);
int duro__pg_prune(duro_provider *p, int64_t now_ms, const char *instance,
                   const duro_prune_options *opt, duro_delete_result *out, duro_error *err);
int duro__pg_queue_depths(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                          duro_error *err);
int duro__pg_metrics(duro_provider *p, duro_metrics *out, duro_error *err);
int duro__pg_query_instances(duro_provider *p, const duro_instance_query *q,
                             duro_instance_summary **rows, size_t *n, duro_error *err);

/* Durable values (kv.c). duro__pg_apply_kv applies the kv changes of commit `cm` to
 * `instance` inside ack_orch's transaction (DURO_ETOOBIG past DURO_MAX_VALUES keys). */
int duro__pg_apply_kv(duro__pg_conn *c, const char *instance, const duro_orch_commit *cm,
                      duro_error *err);
int duro__pg_get_value(duro_provider *p, const char *instance, const char *key, char **value,
                       uint64_t *version, duro_error *err);
int duro__pg_list_values(duro_provider *p, const char *instance, duro_kv_entry **entries,
                         size_t *n, duro_error *err);

/* ---- The provider object (provider.c) ---------------------------------------------------- */

/* The PostgreSQL provider behind `p`, or NULL when `p` is another provider. */
duro_pg *duro__pg_from(duro_provider *p);

/* ---- Test and integrity hooks (hooks.c; entry points in provider.c) ---------------------- */

/* Overwrite the stored history of `instance` with bytes no decoder accepts. */
int duro__pg_corrupt_history(duro_pg *s, const char *instance);
/* The highest attempt count among the queued messages of `instance` (0 when none). */
int duro__pg_max_attempt_count(duro_pg *s, const char *instance, uint32_t *out);
/* The checks of duro_postgres_integrity_check: 0 when intact, else DURO_ECORRUPT with its
 * first finding in msg (or another DURO_E* code when it cannot run). */
int duro__pg_integrity(duro_pg *s, char *msg, size_t msg_size);

#endif /* DURO_PG_INTERNAL_H */
