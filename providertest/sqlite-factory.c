/*
 * sqlite-factory.c — the SQLite provider's two factories for the conformance and stress
 * suites, built on the provider's public API only.
 *
 * "sqlite": a fresh private in-memory database per store. It has no attach, no
 * hold_write_lock and no fail_storage: a private in-memory database has one connection, no
 * other connection can open it, and it never writes to a device.
 *
 * "sqlite-file": a fresh WAL file per store, created by the provider itself in a new
 * directory under $TMPDIR or /tmp, and removed with its -wal and -shm files and the
 * directory when the store is destroyed. More handles on the same file through the locate
 * and attach hooks; real contention through hold_write_lock (a raw SQLite connection on the
 * file holding BEGIN IMMEDIATE); real storage faults through fail_storage
 * (sqlite-fault-vfs.c, a pass-through VFS that fails the file's writes, made the process's
 * default VFS before the first file store opens).
 *
 * Both count the statements their stores run (count_statements): the first call registers
 * an SQLite auto-extension that puts a SQLITE_TRACE_STMT callback on every connection the
 * process opens from then on; the callback adds 1 per statement started (a trigger's
 * sub-statements not counted). Until that call nothing is traced.
 *
 * Linked into duro-conformance, duro-stress and the tests; not part of libduro-sqlite,
 * which stays free of the suites.
 */
#include "sqlite-factory.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "duro-sqlite.h"
#include "sqlite-fault-vfs.h"

#define PATH_BUF 4096
#define STORE_NAME "store.db"

/* Statements started on the traced connections of this process (count_statements). */
static atomic_uint_fast64_t statements_started;
static pthread_once_t counting_once = PTHREAD_ONCE_INIT;
static int counting_rc; /* SQLite's answer to the auto-extension registration */

/* SQLITE_TRACE_STMT callback: one statement started; `sql` is its text, or "-- ..." for
 * a trigger's sub-program, which is part of the statement that fired it. */
static int trace_statement(unsigned type, void *ctx, void *stmt, void *sql)
{
    const char *text = sql;

    (void)ctx;
    (void)stmt;
    if (type == SQLITE_TRACE_STMT && (text == NULL || strncmp(text, "--", 2) != 0))
        atomic_fetch_add_explicit(&statements_started, 1, memory_order_relaxed);
    return 0;
}

/* Auto-extension entry point, run by every sqlite3_open_v2 of the process. */
static int trace_connection(sqlite3 *db, char **errmsg, const struct sqlite3_api_routines *api)
{
    (void)errmsg;
    (void)api;
    return sqlite3_trace_v2(db, SQLITE_TRACE_STMT, trace_statement, NULL);
}

static void start_counting(void)
{
    counting_rc = sqlite3_auto_extension((void (*)(void))trace_connection);
}

static int hook_count_statements(void *ud, uint64_t *out)
{
    (void)ud;
    pthread_once(&counting_once, start_counting);
    if (counting_rc != SQLITE_OK)
        return DURO_EIO;
    *out = atomic_load_explicit(&statements_started, memory_order_relaxed);
    return 0;
}

static int hook_corrupt(void *ud, duro_provider *p, const char *instance)
{
    return duro_sqlite_corrupt_history(p, instance);
}

static int hook_attempts(void *ud, duro_provider *p, const char *instance, uint32_t *out)
{
    return duro_sqlite_max_attempt_count(p, instance, out);
}

static int memory_create(void *ud, duro_provider **out, duro_error *err)
{
    return duro_sqlite_open(":memory:", NULL, out, err);
}

static void memory_destroy(void *ud, duro_provider *p)
{
    duro_provider_destroy(p);
}

/* Remove a store made by file_create: the database file, its WAL companions and the
 * directory that holds them (`path` is "<dir>/" STORE_NAME). */
static void remove_store(const char *path)
{
    char buf[PATH_BUF + 8];
    char *slash;

    unlink(path);
    snprintf(buf, sizeof(buf), "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof(buf), "%s-shm", path);
    unlink(buf);
    snprintf(buf, sizeof(buf), "%s", path);
    slash = strrchr(buf, '/');
    if (slash != NULL && strcmp(slash + 1, STORE_NAME) == 0) {
        *slash = '\0';
        rmdir(buf);
    }
}

/* Options of every file handle: the defaults, with synchronous NORMAL or OFF when the
 * environment says DURO_SQLITE_SYNC=normal or off. */
static void file_options(duro_sqlite_options *opt)
{
    const char *sync = getenv("DURO_SQLITE_SYNC");

    duro_sqlite_options_init(opt);
    opt->synchronous_normal = sync != NULL && strcasecmp(sync, "normal") == 0;
    opt->synchronous_off = sync != NULL && strcasecmp(sync, "off") == 0;
}

/* A fresh store: a new private directory under $TMPDIR (or /tmp) and, in it, a database
 * path that does not exist yet, so the provider creates the store itself (its new-store
 * path: built beside the path and linked into place), as it does for a user. */
static int file_create(void *ud, duro_provider **out, duro_error *err)
{
    const char *dir = getenv("TMPDIR");
    duro_sqlite_options opt;
    char path[PATH_BUF];
    int n, rc;

    if (duro__fault_vfs_install() != 0)
        return duro_error_set(err, DURO_EIO, 0, "cannot register the fault VFS");
    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    n = snprintf(path, sizeof(path), "%s/duro-sqlite-XXXXXX", dir);
    if (n < 0 || (size_t)n + sizeof "/" STORE_NAME >= sizeof(path))
        return duro_error_set(err, DURO_EINVAL, 0, "temporary directory path too long");
    if (mkdtemp(path) == NULL)
        return duro_error_set(err, DURO_EIO, 1, "cannot create a directory in %s: %s", dir,
                              strerror(errno));
    strcat(path, "/" STORE_NAME);
    file_options(&opt);
    rc = duro_sqlite_open(path, &opt, out, err);
    if (rc != 0)
        remove_store(path);
    return rc;
}

/* The locator of a file store is its path. */
static int file_locate(void *ud, duro_provider *p, char *buf, size_t size)
{
    const char *path = duro_sqlite_path(p);

    if (path == NULL)
        return DURO_EINVAL;
    if (strlen(path) >= size)
        return DURO_ETOOBIG;
    memcpy(buf, path, strlen(path) + 1);
    return 0;
}

/* Another handle on the database file at `locator`, with the same synchronous mode. */
static int file_attach(void *ud, const char *locator, duro_provider **out, duro_error *err)
{
    duro_sqlite_options opt;

    file_options(&opt);
    return duro_sqlite_open(locator, &opt, out, err);
}

/* hold_write_lock of "sqlite-file": a handle with busy_timeout_ms = busy_ms, opened first
 * (its schema check writes), then a raw connection on the same file that holds BEGIN
 * IMMEDIATE, so every writer of the store waits for it and the busy handle gives up. */
static int file_hold_write_lock(void *ud, duro_provider *p, int64_t busy_ms,
                                duro_provider **busy, void **hold, duro_error *err)
{
    const char *path = duro_sqlite_path(p);
    duro_sqlite_options opt;
    sqlite3 *db = NULL;
    int rc;

    *busy = NULL;
    *hold = NULL;
    if (path == NULL || busy_ms <= 0 || busy_ms > 60000)
        return duro_error_set(err, DURO_EINVAL, 0, "hold_write_lock: bad store or busy_ms");
    file_options(&opt);
    opt.busy_timeout_ms = (int)busy_ms;
    rc = duro_sqlite_open(path, &opt, busy, err);
    if (rc != 0)
        return rc;
    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 10000);
        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        duro_error_set(err, DURO_EIO, 1, "hold_write_lock: %s",
                       db != NULL ? sqlite3_errmsg(db) : "cannot open the database");
        sqlite3_close(db);
        duro_provider_destroy(*busy);
        *busy = NULL;
        return DURO_EIO;
    }
    *hold = db;
    return 0;
}

static void file_release_write_lock(void *ud, void *hold)
{
    sqlite3 *db = hold;

    if (db == NULL)
        return;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
}

/* fail_storage of "sqlite-file": the fault VFS fails the writes of the file (and its -wal
 * and -journal) for every connection on it. */
static int file_fail_storage(void *ud, duro_provider *p, int kind, duro_error *err)
{
    const char *path = duro_sqlite_path(p);

    if (path == NULL || duro__fault_vfs_set(path, kind) != 0)
        return duro_error_set(err, DURO_EINVAL, 0, "fail_storage: bad store or fault kind %d",
                              kind);
    return 0;
}

static void file_destroy(void *ud, duro_provider *p)
{
    const char *path = duro_sqlite_path(p);
    char buf[PATH_BUF];

    if (path == NULL) {
        duro_provider_destroy(p);
        return;
    }
    snprintf(buf, sizeof(buf), "%s", path);
    duro__fault_vfs_set(buf, DURO_STORAGE_FAULT_NONE);
    duro_provider_destroy(p);
    remove_store(buf);
}

static const duro_provider_factory memory_factory = {
    .version = DURO_PROVIDER_FACTORY_VERSION,
    .name = "sqlite",
    .caps = DURO_CAP_MANAGEMENT | DURO_CAP_LONG_POLL | DURO_CAP_NOTIFY | DURO_CAP_TAGS |
            DURO_CAP_KV | DURO_CAP_SESSIONS | DURO_CAP_VERSION_FILTER,
    .create = memory_create,
    .destroy = memory_destroy,
    .corrupt_history = hook_corrupt,
    .max_attempt_count = hook_attempts,
    .ud = NULL,
    .count_statements = hook_count_statements,
};

static const duro_provider_factory file_factory = {
    .version = DURO_PROVIDER_FACTORY_VERSION,
    .name = "sqlite-file",
    .caps = DURO_CAP_MANAGEMENT | DURO_CAP_LONG_POLL | DURO_CAP_NOTIFY | DURO_CAP_TAGS |
            DURO_CAP_KV | DURO_CAP_SESSIONS | DURO_CAP_VERSION_FILTER,
    .create = file_create,
    .destroy = file_destroy,
    .corrupt_history = hook_corrupt,
    .max_attempt_count = hook_attempts,
    .locate = file_locate,
    .attach = file_attach,
    .ud = NULL,
    .hold_write_lock = file_hold_write_lock,
    .release_write_lock = file_release_write_lock,
    .fail_storage = file_fail_storage,
    .count_statements = hook_count_statements,
};

const duro_provider_factory *duro__sqlite_factory_memory(void)
{
    return &memory_factory;
}

const duro_provider_factory *duro__sqlite_factory_file(void)
{
    return &file_factory;
}
