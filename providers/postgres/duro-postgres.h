/*
 * duro-postgres.h — the PostgreSQL provider for duro: one shared database for many runtime
 * processes on many machines.
 *
 * duro_postgres_open() connects with a libpq conninfo string, creates its schema on demand
 * (one schema per tenant, per application or per test), migrates it under an advisory lock and
 * returns a duro_provider that implements every callback of duro-provider.h with the
 * management, long-poll and notification capabilities. Instances and work items are locked
 * with lock tokens in the database, so any number of processes can share one schema; idle
 * fetchers wait on LISTEN/NOTIFY, not on a poll interval.
 *
 * Contention: the busy wait of the contract (duro-provider.h, "Contention") is the
 * server-side lock_timeout, `lock_timeout_ms` below. A call that waits longer than that for
 * a lock it needs (a table lock another session holds, e.g. LOCK TABLE from a migration or an
 * operator, a row or advisory lock of a long transaction) fails when the server reports
 * SQLSTATE 55P03 lock_not_available; the provider maps it to DURO_EBUSY with retryable 1, and
 * its transaction rolls back, so nothing is applied. A call that finds nothing to write (a
 * delete_bulk that selects nothing) takes no write lock and succeeds. Reads take only ACCESS
 * SHARE table locks, which nothing but DDL (ACCESS EXCLUSIVE) blocks, so they go on while
 * writes wait.
 *
 * Thread safety: a provider handle may be used from any number of threads at once; the
 * helpers below are safe to call concurrently with every callback.
 */
#ifndef DURO_POSTGRES_H
#define DURO_POSTGRES_H

#include <stddef.h>
#include <stdint.h>

#include "duro-provider.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options of duro_postgres_open(). Fill with duro_postgres_options_init() first: it sets
 * `size`, which tells the library how much of the struct the caller's header has, so a
 * program built against this header keeps working with a later library whose struct has
 * grown. Strings are copied by duro_postgres_open(). */
typedef struct duro_postgres_options {
    size_t size;               /* sizeof(duro_postgres_options), set by the init function */
    const char *schema;        /* schema holding duro's tables, created when missing;
                                * default "duro". 1..63 bytes of [A-Za-z0-9_] */
    int pool_size;             /* connections for the callbacks, default 8, within 1..64 (plus
                                * one listener connection for LISTEN/NOTIFY) */
    int statement_timeout_ms;  /* server-side statement_timeout, default 30000; 0 = none. A
                                * statement that runs out is a retryable DURO_EBUSY */
    int lock_timeout_ms;       /* server-side lock_timeout, default 10000; 0 = none: the
                                * busy wait. A call whose lock wait runs out is DURO_EBUSY,
                                * retryable, with nothing applied */
    int recheck_ms;            /* longest sleep of an idle long poll between two re-checks
                                * while LISTEN/NOTIFY is connected, default 30000 (a safety
                                * net: commits and due times wake fetchers directly) */
    int synchronous_commit;    /* 1 (default): synchronous_commit=on, a commit is durable when
                                * acknowledged; 0: off (a crash of the server may lose the last
                                * few hundred milliseconds of commits, never consistency) */
    int max_retries;           /* retries of a transaction after a serialization failure or a
                                * deadlock, default 20; they are never surfaced before that */
    int dead_client_timeout_ms; /* how long the server waits for this client in the middle
                                * of a transaction (idle_in_transaction_session_timeout) or
                                * for it to acknowledge what was sent (tcp_user_timeout, on
                                * TCP with PostgreSQL 12 and later) before it ends the
                                * session, rolling back and releasing its locks; default
                                * 10000; 0 = leave the server's settings. A host that dies or
                                * loses its network in the middle of a transaction sends no
                                * FIN: without this its sessions would hold their row and
                                * advisory locks, and the instances behind them, until TCP
                                * gives up (hours). A session ended this way reconnects on
                                * next use (DURO_EIO, retryable) */
    int read_only;             /* 0 (default): read-write. 1: every session runs with
                                * default_transaction_read_only=on; the open creates and
                                * migrates nothing: it fails with DURO_ENOTFOUND when the
                                * schema (or its schema_version table) is missing, DURO_EINVAL
                                * when its version is older than this library's (open it
                                * read-write once to migrate), DURO_ENOTSUP when newer. No
                                * LISTEN connection is opened and caps is DURO_CAP_MANAGEMENT
                                * only. Every call that would change a row fails with DURO_EIO,
                                * retryable 0 (SQLSTATE 25006), with nothing applied; one that
                                * finds nothing to change (delete of a missing instance, a bulk
                                * delete selecting nothing, a fetch of an empty queue) answers
                                * as on a read-write provider */
} duro_postgres_options;

/* Fill `opt` with the defaults above and set opt->size. */
DURO_EXTERN void duro_postgres_options_init(duro_postgres_options *opt);

/* Connect to `conninfo` (a libpq connection string or URI, e.g. "host=/run/pg dbname=app"),
 * create the schema named in the options if it does not exist and migrate it (under
 * pg_advisory_xact_lock, so that any number of processes may open an empty database at once).
 * `opt` may be NULL for defaults. On success *out is a provider owned by the caller (free it
 * with duro_provider_destroy()). Errors: DURO_EINVAL (NULL conninfo/out, bad option, an
 * options struct whose size is 0), DURO_ENOMEM, DURO_EIO (cannot connect: retryable),
 * DURO_ENOTSUP (schema newer than this library); with read_only also DURO_ENOTFOUND and
 * DURO_EINVAL for a missing or older schema (see read_only). */
DURO_EXTERN int duro_postgres_open(const char *conninfo, const duro_postgres_options *opt,
                                   duro_provider **out, duro_error *err);

/* The conninfo and schema `p` was opened with, borrowed for the provider's lifetime; NULL
 * when `p` is not a PostgreSQL provider. */
DURO_EXTERN const char *duro_postgres_conninfo(duro_provider *p);
DURO_EXTERN const char *duro_postgres_schema(duro_provider *p);

/* The schema version this library writes (the number of its migrations). */
DURO_EXTERN int duro_postgres_schema_version(void);

/* Drop `schema` and everything in it (DROP SCHEMA ... CASCADE) on the database of
 * `conninfo`; a missing schema is not an error. For tests and tenant removal: no provider
 * may be open on it. Returns 0, DURO_EINVAL (bad name) or DURO_EIO. */
DURO_EXTERN int duro_postgres_drop_schema(const char *conninfo, const char *schema,
                                          duro_error *err);

/* Test and integrity hooks (used by the conformance and stress suites). Each returns
 * DURO_EINVAL when `p` is not a PostgreSQL provider. */

/* Overwrite every stored history event of `instance` with bytes that are not text (they hold
 * a NUL byte), so that fetch reports history_error and read_history fails with DURO_ECORRUPT.
 * An instance without history gets one such event (id 1) in its current execution. */
DURO_EXTERN int duro_postgres_corrupt_history(duro_provider *p, const char *instance);
/* Largest stored fetch count among the orchestrator messages of `instance` (0 if none). */
DURO_EXTERN int duro_postgres_max_attempt_count(duro_provider *p, const char *instance,
                                                uint32_t *out);
/* Check the schema: every table is present, every row is readable, and the provider's
 * invariants hold (locks reference instances' messages, executions reference instances,
 * tagged messages carry a live or expired lock's token). 0 when intact; otherwise
 * DURO_ECORRUPT (or the error of the check itself) with a description in msg (always
 * NUL-terminated if msg_size > 0). The provider's integrity_check callback runs the same. */
DURO_EXTERN int duro_postgres_integrity_check(duro_provider *p, char *msg, size_t msg_size);

#ifdef __cplusplus
}
#endif
#endif /* DURO_POSTGRES_H */
