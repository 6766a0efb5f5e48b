/*
 * queue.h — the queue writes, instance-lock helpers and small result helpers shared by the
 * orchestrator queue (orch.c), the work queue (work.c) and management (manage.c) of the
 * PostgreSQL provider, inside a transaction the caller holds. Below them, above one
 * connection (conn.h).
 *
 * Lock order, which keeps every writer free of deadlocks with fetchers: the instance's
 * advisory lock (fetchers only try it, everybody else waits for it), then its
 * instance_locks row, then its queue rows.
 */
#ifndef DURO_PG_QUEUE_H
#define DURO_PG_QUEUE_H

#include <stdint.h>

#include "conn.h"
#include "duro-provider.h"

/* Validate (duro_provider_check_msg, duro_provider_check_target) and insert one
 * orchestrator message with its target (NULL: none). 0 or DURO_E*. */
int duro__pg_insert_msg(duro__pg_conn *c, const duro_msg *msg, const duro_orch_ref *target,
                        duro_error *err);
/* Validate (duro_provider_check_work) and insert one work item, visible at once. */
int duro__pg_insert_work(duro__pg_conn *c, const duro_work_in *work, duro_error *err);
/* The same with `tag` (NULL: untagged; else checked by duro_provider_check_tag). */
int duro__pg_insert_work_tagged(duro__pg_conn *c, const duro_work_in *work, const char *tag,
                                duro_error *err);
/* The same in `session` too (NULL: none; else checked by duro_provider_check_session; a
 * session item has no tag, else DURO_EINVAL). */
int duro__pg_insert_work_routed(duro__pg_conn *c, const duro_work_in *work, const char *tag,
                                const char *session, duro_error *err);
/* Wait for the advisory lock of `instance` in this transaction. 0 or DURO_E*. */
int duro__pg_lock_instance(duro__pg_conn *c, const char *instance, duro_error *err);

/* A growable array of malloc'ed strings. */
typedef struct duro__pg_strv {
    char **v;
    size_t n;
    size_t cap;
} duro__pg_strv;

int duro__pg_strv_push(duro__pg_strv *sv, const char *s, duro_error *err);
int duro__pg_strv_has(const duro__pg_strv *sv, const char *s);
/* A PostgreSQL array literal ({"a","b"}) of the strings, malloc'ed; NULL when out of memory. */
char *duro__pg_array_literal(const duro__pg_strv *sv);

#endif /* DURO_PG_QUEUE_H */
