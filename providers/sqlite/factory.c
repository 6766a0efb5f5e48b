/*
 * factory.c — the SQLite provider's test and integrity hooks and its two ready-made
 * factories for the conformance and stress suites: "sqlite" (a fresh private in-memory
 * database per store) and "sqlite-file" (a fresh WAL file under $TMPDIR or /tmp per store,
 * removed with its -wal and -shm files when the store is destroyed; more handles on the same
 * file through the locate and attach hooks).
 */
#include "sqlite-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "duro-providertest.h"

#define PATH_BUF 4096

/* ---- Hooks ------------------------------------------------------------------------------- */

static const char SQL_CORRUPT[] =
    "UPDATE history SET payload = X'FF00FE' WHERE instance_id = ?1";
static const char SQL_CORRUPT_INSERT[] =
    "INSERT INTO history (instance_id, execution_id, event_id, kind, payload) VALUES (?1,"
    " COALESCE((SELECT current_execution FROM instances WHERE instance_id = ?1), 1), 1, 0,"
    " X'FF00FE')";
static const char SQL_MAX_ATTEMPTS[] =
    "SELECT MAX(attempt_count) FROM orch_queue WHERE instance_id = ?1";
static const char SQL_INTEGRITY[] = "PRAGMA integrity_check";

int duro_sqlite_corrupt_history(duro_provider *p, const char *instance)
{
    duro_sqlite *s = duro__sq_from(p);
    duro__sq_conn *c;
    int rc;

    if (s == NULL || instance == NULL || *instance == '\0')
        return DURO_EINVAL;
    rc = duro__sq_begin_write(s, &c, NULL);
    if (rc != 0)
        return rc;
    rc = duro__sq_exec(c, SQL_CORRUPT, NULL, "t", instance);
    if (rc == 0)
        rc = duro__sq_exec(c, SQL_CORRUPT_INSERT, NULL, "t", instance);
    return duro__sq_end_write(s, c, rc < 0 ? rc : 0, 0, NULL);
}

int duro_sqlite_max_attempt_count(duro_provider *p, const char *instance, uint32_t *out)
{
    duro_sqlite *s = duro__sq_from(p);
    duro__sq_conn *c;
    int64_t v = 0;
    int rc;

    if (s == NULL || instance == NULL || out == NULL)
        return DURO_EINVAL;
    *out = 0;
    rc = duro__sq_begin_read(s, &c, NULL);
    if (rc != 0)
        return rc;
    rc = duro__sq_int(c, SQL_MAX_ATTEMPTS, 0, &v, NULL, "t", instance);
    duro__sq_end_read(s, c);
    if (rc < 0)
        return rc;
    *out = v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return 0;
}

int duro_sqlite_integrity_check(duro_provider *p, char *msg, size_t msg_size)
{
    duro_sqlite *s = duro__sq_from(p);
    duro__sq_conn *c;
    sqlite3_stmt *st;
    duro_error err = { 0, 0, "" };
    int rc;

    if (msg != NULL && msg_size > 0)
        msg[0] = '\0';
    if (s == NULL)
        return DURO_EINVAL;
    rc = duro__sq_begin_read(s, &c, &err);
    if (rc == 0) {
        rc = duro__sq_query(c, SQL_INTEGRITY, &st, &err, "");
        if (rc == 0) {
            rc = duro__sq_step(c, st, &err);
            if (rc == 1) {
                const char *res = (const char *)sqlite3_column_text(st, 0);
                rc = res != NULL && strcmp(res, "ok") == 0 ? 0 : DURO_ECORRUPT;
                if (rc != 0)
                    snprintf(err.message, sizeof(err.message), "integrity_check: %s",
                             res != NULL ? res : "(no result)");
            } else if (rc == 0) {
                rc = duro_error_set(&err, DURO_ECORRUPT, 0, "integrity_check returned nothing");
            }
            duro__sq_reset(st);
        }
        duro__sq_end_read(s, c);
    }
    if (rc != 0 && msg != NULL && msg_size > 0)
        snprintf(msg, msg_size, "%s", err.message);
    return rc;
}

/* ---- Factories --------------------------------------------------------------------------- */

static int hook_corrupt(void *ud, duro_provider *p, const char *instance)
{
    return duro_sqlite_corrupt_history(p, instance);
}

static int hook_attempts(void *ud, duro_provider *p, const char *instance, uint32_t *out)
{
    return duro_sqlite_max_attempt_count(p, instance, out);
}

static int hook_integrity(void *ud, duro_provider *p, char *msg, size_t msg_size)
{
    return duro_sqlite_integrity_check(p, msg, msg_size);
}

static int memory_create(void *ud, duro_provider **out, duro_error *err)
{
    return duro_sqlite_open(":memory:", NULL, out, err);
}

static void memory_destroy(void *ud, duro_provider *p)
{
    duro_provider_destroy(p);
}

/* Remove a database file and its WAL companions. */
static void remove_files(const char *path)
{
    char buf[PATH_BUF + 8];

    unlink(path);
    snprintf(buf, sizeof(buf), "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof(buf), "%s-shm", path);
    unlink(buf);
}

/* Options of every file handle: the defaults, with synchronous NORMAL when the environment
 * says DURO_SQLITE_SYNC=normal. */
static void file_options(duro_sqlite_options *opt)
{
    const char *sync = getenv("DURO_SQLITE_SYNC");

    duro_sqlite_options_init(opt);
    opt->synchronous_normal = sync != NULL && strcasecmp(sync, "normal") == 0;
}

static int file_create(void *ud, duro_provider **out, duro_error *err)
{
    const char *dir = getenv("TMPDIR");
    duro_sqlite_options opt;
    char path[PATH_BUF];
    int fd, n, rc;

    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    n = snprintf(path, sizeof(path), "%s/duro-sqlite-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return duro_error_set(err, DURO_EINVAL, 0, "temporary directory path too long");
    fd = mkstemp(path);
    if (fd < 0)
        return duro_error_set(err, DURO_EIO, 1, "cannot create a database file in %s", dir);
    close(fd);
    file_options(&opt);
    rc = duro_sqlite_open(path, &opt, out, err);
    if (rc != 0)
        remove_files(path);
    return rc;
}

/* The locator of a file store is its path. */
static int file_locate(void *ud, duro_provider *p, char *buf, size_t size)
{
    const char *path = duro__sq_path(p);

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

static void file_destroy(void *ud, duro_provider *p)
{
    const char *path = duro__sq_path(p);
    char buf[PATH_BUF];

    if (path == NULL) {
        duro_provider_destroy(p);
        return;
    }
    snprintf(buf, sizeof(buf), "%s", path);
    duro_provider_destroy(p);
    remove_files(buf);
}

static const duro_provider_factory memory_factory = {
    .name = "sqlite",
    .caps = DURO_CAP_MANAGEMENT | DURO_CAP_LONG_POLL | DURO_CAP_NOTIFY,
    .create = memory_create,
    .destroy = memory_destroy,
    .corrupt_history = hook_corrupt,
    .max_attempt_count = hook_attempts,
    .integrity_check = hook_integrity,
    .ud = NULL,
};

static const duro_provider_factory file_factory = {
    .name = "sqlite-file",
    .caps = DURO_CAP_MANAGEMENT | DURO_CAP_LONG_POLL | DURO_CAP_NOTIFY,
    .create = file_create,
    .destroy = file_destroy,
    .corrupt_history = hook_corrupt,
    .max_attempt_count = hook_attempts,
    .integrity_check = hook_integrity,
    .locate = file_locate,
    .attach = file_attach,
    .ud = NULL,
};

const duro_provider_factory *duro_sqlite_factory_memory(void)
{
    return &memory_factory;
}

const duro_provider_factory *duro_sqlite_factory_file(void)
{
    return &file_factory;
}
