/*
 * queue.h — the queue writes and lock reads shared by the orchestrator queue (orch.c) and
 * the work queue (work.c) of the SQLite provider, inside a transaction the caller holds:
 * an ack of either queue enqueues on the other. Below both, above one connection (stmt.h).
 */
#ifndef DURO_SQLITE_QUEUE_H
#define DURO_SQLITE_QUEUE_H

#include <stdint.h>

#include "duro-provider.h"
#include "stmt.h"
/* Validate (duro_provider_check_msg, duro_provider_check_target) and insert one orchestrator
 * message with its target (NULL: none). Returns 0 or a DURO_E* code (err filled). */
int duro__sq_insert_msg(duro__sq_conn *c, const duro_msg *msg, const duro_orch_ref *target,
                        duro_error *err);
/* Validate (duro_provider_check_work) and insert one untagged work item, visible at once. */
int duro__sq_insert_work(duro__sq_conn *c, const duro_work_in *work, duro_error *err);
/* The same with `tag` (NULL: untagged; else checked by duro_provider_check_tag). */
int duro__sq_insert_work_tagged(duro__sq_conn *c, const duro_work_in *work, const char *tag,
                                duro_error *err);
/* The same in `session` too (NULL: none; else checked by duro_provider_check_session; a
 * session item has no tag). */
int duro__sq_insert_work_routed(duro__sq_conn *c, const duro_work_in *work, const char *tag,
                                const char *session, duro_error *err);
/* Check all `n` work items of a commit first (each as duro__sq_insert_work_routed does;
 * tags and sessions each NULL or n entries, each NULL or the item's), then insert them in
 * order, up to 8 in one statement. Returns 0 or a DURO_E* code (err filled). */
int duro__sq_insert_works(duro__sq_conn *c, size_t n, const duro_work_in *work,
                          const char *const *tags, const char *const *sessions,
                          duro_error *err);
/* Validate (duro_provider_check_msg) and insert one orchestrator message without a target,
 * as duro__sq_insert_msg does. Returns 1 when its instance holds a live orchestration lock
 * at `now_ms`, 0 when not, or a negative DURO_E* code (err filled). */
int duro__sq_insert_msg_locked(duro__sq_conn *c, const duro_msg *msg, int64_t now_ms,
                               duro_error *err);

#endif /* DURO_SQLITE_QUEUE_H */
