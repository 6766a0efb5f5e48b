/*
 * duro-sqlite.h — the embedded SQLite provider for duro.
 *
 * Opens a private in-memory database (":memory:", one connection) or a file database (WAL,
 * a small connection pool) and returns a duro_provider that implements every callback of
 * duro-provider.h, with the management, long-poll and notification capabilities.
 *
 * Thread safety: a provider handle may be used from any number of threads at once; the
 * helpers below are safe to call concurrently with every callback.
 */
#ifndef DURO_SQLITE_H
#define DURO_SQLITE_H

#include <stddef.h>
#include <stdint.h>

#include "duro-provider.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options of duro_sqlite_open(). Fill with duro_sqlite_options_init() first: it sets `size`,
 * which tells the library how much of the struct the caller's header has, so a program built
 * against this header keeps working with a later library whose struct has grown. */
typedef struct duro_sqlite_options {
    size_t size;              /* sizeof(duro_sqlite_options), set by duro_sqlite_options_init */
    int synchronous_normal;   /* 0 (default): PRAGMA synchronous=FULL; 1: NORMAL (files only);
                               * any other value is DURO_EINVAL */
    int busy_timeout_ms;      /* default 10000 */
    int pool_size;            /* connections for file databases, default 4; ":memory:" uses 1 */
    unsigned file_mode;       /* permission bits of a database file that open creates, whatever
                               * the umask (SQLite gives its -wal and -shm files the same);
                               * default (and 0) 0600: the store holds every input and
                               * output. An existing file keeps its mode. At most 0777. */
    int initialize_existing;  /* 0 (default): an existing file that holds no duro store (0
                               * bytes, or an empty SQLite database) is refused with
                               * DURO_ECORRUPT; 1: it is initialised as a new store (for a file
                               * prepared beforehand, e.g. with mkstemp). A file that holds
                               * anything else is refused either way. */
    int read_only;            /* 0 (default): read-write. 1: open an existing file store for
                               * reading only (SQLITE_OPEN_READONLY): a missing path is
                               * DURO_EIO and nothing is created, the store is checked but
                               * never initialised or migrated (a store of an older schema is
                               * DURO_ENOTSUP: open it read-write once), the database file is
                               * never written, and every write callback fails. SQLite may
                               * create the -wal and -shm files beside a WAL database that has
                               * none. Not for ":memory:" (DURO_EINVAL). */
    int synchronous_off;      /* 0 (default): synchronous_normal decides. 1: PRAGMA
                               * synchronous=OFF (files only; ignored for ":memory:"): no
                               * fsync at all. WAL keeps the store intact and every commit
                               * through a crash of the process, but a power cut or an OS
                               * crash may lose the latest commits. For benchmarks and stores
                               * that can be rebuilt. 1 together with synchronous_normal = 1
                               * is DURO_EINVAL. */
} duro_sqlite_options;

/* Fill `opt` with the defaults above and set opt->size. */
DURO_EXTERN void duro_sqlite_options_init(duro_sqlite_options *opt);

/* Open ":memory:" (a private in-memory database) or a file path (WAL). A path where no file
 * exists gets a new store, which appears there only once complete (it is initialised as
 * "<path>.duro-new-XXXXXX" beside it and linked into place). An existing file must be a duro
 * store: it is verified before anything is written to it and migrated to the current schema;
 * a file that holds no duro store is never initialised unless opt->initialize_existing asks.
 * With opt->read_only the file must already hold a store of the current schema, and nothing
 * is created, migrated or written.
 * `opt` may be NULL for defaults. On success *out is a provider owned by the caller (free it
 * with duro_provider_destroy()). Errors: DURO_EINVAL (NULL path/out, bad option),
 * DURO_ENOMEM, DURO_EIO (cannot open or create, I/O), DURO_EBUSY (database locked by another
 * process past the busy timeout), DURO_ECORRUPT (not a database, or no duro store in it),
 * DURO_ENOTSUP (schema newer than this library); err->message names the path. An `opt` whose
 * size is 0 (not filled by duro_sqlite_options_init) is DURO_EINVAL. */
DURO_EXTERN int duro_sqlite_open(const char *path, const duro_sqlite_options *opt,
                                 duro_provider **out, duro_error *err);

/* The path `p` was opened with (":memory:" for the in-memory database), borrowed for the
 * provider's lifetime; NULL when `p` is not a SQLite provider. */
DURO_EXTERN const char *duro_sqlite_path(duro_provider *p);

/* Test and integrity hooks (used by the conformance and stress suites). Each returns
 * DURO_EINVAL when `p` is not a SQLite provider. */

/* Overwrite every stored history event of `instance` with a payload that is not text (a BLOB),
 * so that fetch reports history_error and read_history fails with DURO_ECORRUPT. An instance
 * without history gets one such event (id 1) in its current execution. */
DURO_EXTERN int duro_sqlite_corrupt_history(duro_provider *p, const char *instance);
/* Largest stored fetch count among the orchestrator messages of `instance` (0 if none). */
DURO_EXTERN int duro_sqlite_max_attempt_count(duro_provider *p, const char *instance, uint32_t *out);
/* PRAGMA integrity_check. 0 when the database is intact; otherwise DURO_ECORRUPT (or the
 * error of the check itself) with a description in msg (always NUL-terminated if msg_size > 0).
 * The provider's integrity_check callback (duro_provider_integrity_check) runs the same. */
DURO_EXTERN int duro_sqlite_integrity_check(duro_provider *p, char *msg, size_t msg_size);

#ifdef __cplusplus
}
#endif
#endif /* DURO_SQLITE_H */
