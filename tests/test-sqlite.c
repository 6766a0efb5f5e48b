/*
 * test-sqlite.c — Check tests of the SQLite-specific parts of the SQLite provider that the
 * conformance suite cannot see: durability of a file database across close and reopen, the
 * pragmas of every pooled connection (WAL, synchronous FULL or NORMAL), idempotent and
 * version-checked migrations, long polling woken by a commit or by a delayed message, commit
 * notification, two providers on one file seeing each other's commits, SQLITE_BUSY
 * surfacing as a retryable DURO_EBUSY, the checks of open (a file with no duro store, a
 * damaged store, a read-only one) and a table lost while running failing as a storage fault,
 * never as poison. The test links the provider's convenience library, so it may use the
 * internals declared in sqlite-internal.h.
 */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "duro-provider.h"
#include "duro-providertest.h"
#include "duro-sqlite.h"
#include "sqlite-factory.h"
#include "junit-check.h"
#include "sqlite-internal.h"
#include "duro-util.h"
#include "duro.h"

#define T0 INT64_C(1700000000000)
#define LOCK_MS INT64_C(30000)

/* ---- Fixtures ---------------------------------------------------------------------------- */

static char db_path[512];

/* A fresh file name in $TMPDIR (or /tmp) for each test, where no file exists (as on a first
 * start); the files are removed afterwards. */
static void setup_path(void)
{
    const char *dir = getenv("TMPDIR");
    int fd;

    snprintf(db_path, sizeof(db_path), "%s/duro-test-sqlite-XXXXXX",
             dir != NULL && *dir != '\0' ? dir : "/tmp");
    fd = mkstemp(db_path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    unlink(db_path);
}

static void teardown_path(void)
{
    char buf[600];

    unlink(db_path);
    snprintf(buf, sizeof(buf), "%s-wal", db_path);
    unlink(buf);
    snprintf(buf, sizeof(buf), "%s-shm", db_path);
    unlink(buf);
}

static duro_provider *open_file(const duro_sqlite_options *opt)
{
    duro_provider *p = NULL;
    duro_error err = { 0, 0, "" };
    int rc = duro_sqlite_open(db_path, opt, &p, &err);

    ck_assert_msg(rc == 0, "open %s: %s", db_path, err.message);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void enqueue(duro_provider *p, const char *instance, int kind, const char *payload,
                    int64_t visible_at)
{
    duro_msg m = { instance, kind, 1, visible_at, payload };
    duro_error err = { 0, 0, "" };

    ck_assert_msg(p->ops->enqueue_orch(p, &m, &err) == 0, "enqueue: %s", err.message);
}

/* Start `instance` and complete it with three events and output "done". */
static void run_instance(duro_provider *p, const char *instance)
{
    duro_event_in ev[3] = { { 1, 1, "started" }, { 2, 5, "middle" }, { 3, 9, "finished" } };
    duro_orch_commit cm = { 0 };
    duro_orch_item *item = NULL;
    duro_error err = { 0, 0, "" };

    enqueue(p, instance, DURO_MSG_START, "start", T0);
    ck_assert_int_eq(p->ops->fetch_orch(p, T0, LOCK_MS, 0, &item, &err), 0);
    ck_assert_str_eq(item->instance, instance);
    cm.execution_id = 1;
    cm.orch_name = "Orch";
    cm.orch_version = "1.0.0";
    cm.events = ev;
    cm.n_events = 3;
    cm.state = DURO_STATE_COMPLETED;
    cm.output = "done";
    ck_assert_msg(p->ops->ack_orch(p, T0, item->lock_token, &cm, &err) == 0, "ack: %s",
                  err.message);
    duro_orch_item_free(item);
}

/* Run a one-row text pragma on a raw connection. */
static void pragma_text(sqlite3 *db, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *st = NULL;

    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* ---- Durability and schema --------------------------------------------------------------- */

START_TEST(file_survives_reopen)
{
    duro_provider *p = open_file(NULL);
    duro_instance_info info;
    duro_event *ev = NULL;
    duro_error err = { 0, 0, "" };
    size_t n = 0;

    run_instance(p, "durable-1");
    duro_provider_destroy(p);

    p = open_file(NULL);
    ck_assert_int_eq(p->ops->read_history(p, "durable-1", 0, &ev, &n, &err), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(ev[0].event_id, 1);
    ck_assert_str_eq(ev[0].payload, "started");
    ck_assert_uint_eq(ev[1].event_id, 2);
    ck_assert_int_eq(ev[1].kind, 5);
    ck_assert_str_eq(ev[1].payload, "middle");
    ck_assert_uint_eq(ev[2].event_id, 3);
    ck_assert_str_eq(ev[2].payload, "finished");
    duro_events_free(ev, n);
    ck_assert_int_eq(p->ops->instance_info(p, "durable-1", &info, &err), 0);
    ck_assert_int_eq(info.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(info.output, "done");
    ck_assert_str_eq(info.orch_name, "Orch");
    ck_assert_str_eq(info.orch_version, "1.0.0");
    ck_assert_int_eq(info.created_at_ms, T0);
    duro_instance_info_clear(&info);
    duro_provider_destroy(p);
}
END_TEST

/* Every connection of the pool of a file database runs WAL and the configured synchronous
 * level; the pool hands out pool_size distinct connections. */
static void check_pool_pragmas(int synchronous_normal, int synchronous_off,
                               const char *want_sync)
{
    duro_sqlite_options opt;
    duro__sq_conn *c[3];
    duro_error err = { 0, 0, "" };
    duro_provider *p;
    duro_sqlite *s;
    char buf[32];

    duro_sqlite_options_init(&opt);
    opt.pool_size = 3;
    opt.synchronous_normal = synchronous_normal;
    opt.synchronous_off = synchronous_off;
    p = open_file(&opt);
    s = duro__sq_from(p);
    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(duro__sq_begin_read(&s->pool, &c[i], &err), 0);
        for (int j = 0; j < i; j++)
            ck_assert_ptr_ne(c[i], c[j]);
        pragma_text(c[i]->db, "PRAGMA journal_mode", buf, sizeof(buf));
        ck_assert_str_eq(buf, "wal");
        pragma_text(c[i]->db, "PRAGMA synchronous", buf, sizeof(buf));
        ck_assert_str_eq(buf, want_sync);
    }
    for (int i = 0; i < 3; i++)
        duro__sq_end_read(&s->pool, c[i]);
    duro_provider_destroy(p);
}

/* Permission bits of `path` (-1 when it does not exist). */
static int file_mode_of(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* A database this process creates is 0600, with its -wal and -shm, whatever the umask
 * (issue 11, finding 8); opt->file_mode chooses another mode; an existing file keeps its
 * own; bits beyond 0777 are refused. */
START_TEST(new_files_are_private)
{
    duro_sqlite_options opt;
    duro_provider *p;
    duro_error err = { 0, 0, "" };
    char wal[600], shm[600];
    mode_t old = umask(022);

    snprintf(wal, sizeof(wal), "%s-wal", db_path);
    snprintf(shm, sizeof(shm), "%s-shm", db_path);
    unlink(db_path);
    p = open_file(NULL);
    run_instance(p, "private-1");
    ck_assert_int_eq(file_mode_of(db_path), 0600);
    ck_assert_int_eq(file_mode_of(wal), 0600);
    ck_assert_int_eq(file_mode_of(shm), 0600);
    duro_provider_destroy(p);
    teardown_path();

    duro_sqlite_options_init(&opt);
    opt.file_mode = 0640;
    p = open_file(&opt);
    run_instance(p, "private-2");
    ck_assert_int_eq(file_mode_of(db_path), 0640);
    ck_assert_int_eq(file_mode_of(wal), 0640);
    duro_provider_destroy(p);

    ck_assert_int_eq(chmod(db_path, 0644), 0);
    p = open_file(NULL);
    ck_assert_int_eq(file_mode_of(db_path), 0644);
    duro_provider_destroy(p);

    opt.file_mode = 01777;
    p = NULL;
    ck_assert_int_eq(duro_sqlite_open(db_path, &opt, &p, &err), DURO_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(err.message, "file_mode"));
    umask(old);
}
END_TEST

/* Write `len` bytes of `data` as the whole file db_path (len 0: an empty file). */
static void write_file(const char *data, size_t len)
{
    FILE *f = fopen(db_path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* Size of db_path in bytes (-1 when it does not exist). */
static long long file_size(void)
{
    struct stat st;

    return stat(db_path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Run one SQL script on db_path through a raw connection. */
static void raw_exec(const char *sql)
{
    sqlite3 *db = NULL;

    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* Files "<db_path>.duro-new-*" (a store being created) in the directory of db_path. */
static int new_store_leftovers(void)
{
    char dir[512], prefix[600];
    const char *slash = strrchr(db_path, '/');
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - db_path), db_path);
    snprintf(prefix, sizeof(prefix), "%s.duro-new-", slash + 1);
    d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL)
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* Open db_path expecting `code` with `want` (and the path) in the message; no provider. */
static void open_fails(const duro_sqlite_options *opt, int code, const char *want)
{
    duro_provider *p = NULL;
    duro_error err = { 0, 0, "" };

    ck_assert_int_eq(duro_sqlite_open(db_path, opt, &p, &err), code);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(err.code, code);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_msg(strstr(err.message, want) != NULL, "\"%s\" not in \"%s\"", want,
                  err.message);
    ck_assert_msg(strstr(err.message, db_path) != NULL, "path not in \"%s\"", err.message);
}

/* An existing file that holds no duro store is refused, never initialised over (issue 11,
 * finding 5): an empty file (left as it was), an empty SQLite database, a file that is not a
 * database, another program's database (even with initialize_existing). initialize_existing
 * initialises the first two. A store open creates leaves no temporary file behind. */
START_TEST(existing_file_without_store_refused)
{
    static const char text[] = "not a database, just text that someone wrote here\n";
    duro_sqlite_options opt;
    duro_provider *p;
    char mode[32];
    sqlite3 *db = NULL;

    duro_sqlite_options_init(&opt);
    ck_assert_int_eq(opt.initialize_existing, 0);
    write_file("", 0);
    open_fails(NULL, DURO_ECORRUPT, "exists but holds no duro store (0 bytes); refusing to "
               "initialise it");
    open_fails(NULL, DURO_ECORRUPT, "duro_sqlite_options.initialize_existing");
    ck_assert_int_eq(file_size(), 0);
    opt.initialize_existing = 1;
    p = open_file(&opt);
    run_instance(p, "adopted");
    duro_provider_destroy(p);
    p = open_file(NULL); /* now a store: no option needed */
    duro_provider_destroy(p);
    teardown_path();

    raw_exec("CREATE TABLE t (x); DROP TABLE t");
    open_fails(NULL, DURO_ECORRUPT,
               "exists but holds no duro store (an empty SQLite database)");
    p = open_file(&opt);
    duro_provider_destroy(p);
    teardown_path();

    write_file(text, sizeof(text) - 1);
    open_fails(NULL, DURO_ECORRUPT, "exists but is not a database (not SQLite)");
    open_fails(&opt, DURO_ECORRUPT, "exists but is not a database (not SQLite)");
    ck_assert_int_eq(file_size(), (long long)sizeof(text) - 1);
    teardown_path();

    raw_exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')");
    open_fails(&opt, DURO_ECORRUPT, "is not a duro store");
    ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    pragma_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
    ck_assert_str_eq(mode, "delete"); /* not switched to WAL */
    sqlite3_close(db);
    teardown_path();

    p = open_file(NULL);
    ck_assert_int_eq(file_mode_of(db_path), 0600);
    ck_assert_int_eq(new_store_leftovers(), 0);
    duro_provider_destroy(p);
}
END_TEST

START_TEST(pragmas_default_full)
{
    check_pool_pragmas(0, 0, "2"); /* FULL */
}
END_TEST

START_TEST(pragmas_normal_when_asked)
{
    check_pool_pragmas(1, 0, "1"); /* NORMAL */
}
END_TEST

START_TEST(pragmas_off_when_asked)
{
    check_pool_pragmas(0, 1, "0"); /* OFF */
}
END_TEST

START_TEST(memory_is_private_and_single)
{
    duro_provider *a = NULL, *b = NULL;
    duro_instance_info info;
    duro_error err = { 0, 0, "" };

    ck_assert_int_eq(duro_sqlite_open(":memory:", NULL, &a, &err), 0);
    ck_assert_int_eq(duro_sqlite_open(":memory:", NULL, &b, &err), 0);
    ck_assert_uint_eq(duro__sq_from(a)->pool.n_conns, 1);
    ck_assert_uint_eq(a->caps, DURO_CAP_MANAGEMENT | DURO_CAP_LONG_POLL | DURO_CAP_NOTIFY |
                                   DURO_CAP_TAGS | DURO_CAP_KV | DURO_CAP_SESSIONS |
                                   DURO_CAP_VERSION_FILTER);
    run_instance(a, "only-in-a");
    ck_assert_int_eq(a->ops->instance_info(a, "only-in-a", &info, &err), 0);
    duro_instance_info_clear(&info);
    ck_assert_int_eq(b->ops->instance_info(b, "only-in-a", &info, &err), DURO_ENOTFOUND);
    duro_provider_destroy(a);
    duro_provider_destroy(b);
}
END_TEST

/* Count the rows of schema_version and return the highest one, through a raw connection. */
static int64_t schema_rows(int64_t *max)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t count;

    ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT COUNT(*), MAX(version) FROM schema_version",
                                        -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    count = sqlite3_column_int64(st, 0);
    *max = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return count;
}

START_TEST(migrations_idempotent_on_reopen)
{
    int64_t max = 0;
    duro_provider *p;
    duro_event *ev = NULL;
    duro_error err = { 0, 0, "" };
    size_t n = 0;

    for (int i = 0; i < 3; i++) {
        p = open_file(NULL);
        if (i == 0)
            run_instance(p, "survivor");
        duro_provider_destroy(p);
        ck_assert_int_eq(schema_rows(&max), duro__sq_schema_version());
        ck_assert_int_eq(max, duro__sq_schema_version());
    }
    p = open_file(NULL);
    ck_assert_int_eq(p->ops->read_history(p, "survivor", 0, &ev, &n, &err), 0);
    ck_assert_uint_eq(n, 3);
    duro_events_free(ev, n);
    duro_provider_destroy(p);
}
END_TEST

/* A store of schema version 1 (before durable values) opens under this library: migration 2
 * adds the kv table and instances.kv_version, the instance stored before keeps its history,
 * and durable values work on it. The version-1 store is made by undoing migration 2 on a
 * current one (DROP COLUMN needs SQLite 3.35). */
START_TEST(upgrade_from_schema_1)
{
    const duro_kv_change kv[] = { { DURO_KV_SET, "k", "v" } };
    duro_orch_commit cm = { 0 };
    duro_orch_item *item = NULL;
    duro_error err = { 0, 0, "" };
    duro_event *ev = NULL;
    char *value = NULL;
    uint64_t version = 0;
    int64_t max = 0;
    size_t n = 0;
    duro_provider *p = open_file(NULL);

    run_instance(p, "old");
    duro_provider_destroy(p);
    /* back to schema 1: without migrations 2 (values), 3 (tags), 4 (targets), 5 (sessions) */
    raw_exec("DROP TABLE sessions; DROP INDEX work_queue_session;"
             " ALTER TABLE work_queue DROP COLUMN session;"
             " DROP TABLE kv; ALTER TABLE instances DROP COLUMN kv_version;"
             " DROP INDEX work_queue_tag; ALTER TABLE work_queue DROP COLUMN tag;"
             " ALTER TABLE orch_queue DROP COLUMN target_name;"
             " ALTER TABLE orch_queue DROP COLUMN target_version;"
             " DELETE FROM schema_version WHERE version > 1");
    ck_assert_int_eq(schema_rows(&max), 1);
    p = open_file(NULL);
    ck_assert_int_eq(schema_rows(&max), duro__sq_schema_version());
    ck_assert_int_eq(max, 5);
    ck_assert_int_eq(p->ops->read_history(p, "old", 0, &ev, &n, &err), 0);
    ck_assert_uint_eq(n, 3);
    duro_events_free(ev, n);
    ck_assert_int_eq(p->ops->get_value(p, "old", "k", &value, &version, &err), DURO_ENOTFOUND);
    enqueue(p, "old", DURO_MSG_EVENT, "poke", T0);
    ck_assert_int_eq(p->ops->fetch_orch(p, T0, LOCK_MS, 0, &item, &err), 0);
    cm.execution_id = 1;
    cm.kv = kv;
    cm.n_kv = 1;
    ck_assert_int_eq(p->ops->ack_orch(p, T0, item->lock_token, &cm, &err), 0);
    duro_orch_item_free(item);
    ck_assert_int_eq(p->ops->get_value(p, "old", "k", &value, &version, &err), 0);
    ck_assert_str_eq(value, "v");
    ck_assert_uint_eq(version, 1);
    free(value);
    duro_provider_destroy(p);
}
END_TEST

/* A store of schema version 3 (before message targets) opens under this library: migration
 * 4 adds orch_queue.target_name and target_version; a START queued before has no target, so
 * every filter accepts it, and a targeted start enqueued after routes by its target. */
START_TEST(upgrade_from_schema_3)
{
    static const duro_orch_ref other[] = { { "Other", "9.0.0" } };
    const duro_version_filter only_other = { other, 1 };
    const duro_msg start = { "new", DURO_MSG_START, 0, T0, "start" };
    const duro_orch_ref target = { "Orch", "2.0.0" };
    duro_orch_item *item = NULL;
    duro_error err = { 0, 0, "" };
    int64_t max = 0;
    duro_provider *p = open_file(NULL);

    duro_provider_destroy(p);
    raw_exec("DROP TABLE sessions; DROP INDEX work_queue_session;"
             " ALTER TABLE work_queue DROP COLUMN session;"
             " ALTER TABLE orch_queue DROP COLUMN target_name;"
             " ALTER TABLE orch_queue DROP COLUMN target_version;"
             " DELETE FROM schema_version WHERE version > 3;"
             " INSERT INTO orch_queue (instance_id, kind, execution_id, payload, visible_at)"
             " VALUES ('queued', 1, 0, 'start', 0)");
    ck_assert_int_eq(schema_rows(&max), 3);
    p = open_file(NULL);
    ck_assert_int_eq(schema_rows(&max), 5);
    ck_assert_int_eq(max, 5);
    ck_assert_int_eq(p->ops->enqueue_orch_start(p, &start, &target, &err), 0);
    ck_assert_int_eq(p->ops->fetch_orch_filtered(p, T0, LOCK_MS, 0, &only_other, &item, &err),
                     0);
    ck_assert_str_eq(item->instance, "queued");
    duro_orch_item_free(item);
    item = NULL;
    ck_assert_int_eq(p->ops->fetch_orch_filtered(p, T0, LOCK_MS, 0, &only_other, &item, &err),
                     DURO_ENOTFOUND);
    ck_assert_ptr_null(item);
    duro_provider_destroy(p);
}
END_TEST

START_TEST(newer_schema_refused)
{
    duro_provider *p = open_file(NULL);
    duro_error err = { 0, 0, "" };
    sqlite3 *db = NULL;
    char sql[96];

    duro_provider_destroy(p);
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version) VALUES (%d)",
             duro__sq_schema_version() + 1);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    p = NULL;
    ck_assert_int_eq(duro_sqlite_open(db_path, NULL, &p, &err), DURO_ENOTSUP);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(err.code, DURO_ENOTSUP);
    ck_assert_int_eq(err.retryable, 0);
    open_fails(NULL, DURO_ENOTSUP, "is newer than this library");
}
END_TEST

/* A store missing a table or an index of its schema version is refused at open, naming
 * what is missing, instead of opening and failing (or poisoning instances) later (issue 11,
 * finding 5). */
START_TEST(damaged_store_refused)
{
    duro_provider *p = open_file(NULL);

    run_instance(p, "before-damage");
    duro_provider_destroy(p);
    raw_exec("DROP TABLE history");
    open_fails(NULL, DURO_ECORRUPT, "damaged duro store: table history is missing (schema "
               "version 5)");
    teardown_path();

    p = open_file(NULL);
    duro_provider_destroy(p);
    raw_exec("DROP INDEX work_queue_token");
    open_fails(NULL, DURO_ECORRUPT, "damaged duro store: index work_queue_token is missing");
    raw_exec("DROP TABLE instance_locks");
    open_fails(NULL, DURO_ECORRUPT, "table instance_locks is missing");
}
END_TEST

/* What duro_sqlite_open returned in a child process. */
typedef struct open_outcome {
    int rc;
    char message[256];
} open_outcome;

/* Open db_path (default options) in a child process that runs as "nobody" (uid 65534) when
 * this one is root, since root writes files whatever their mode; the child reports the
 * outcome through a pipe. */
static open_outcome open_unprivileged(void)
{
    open_outcome out = { 1, "" };
    int fds[2], status;
    pid_t pid;

    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        duro_provider *p = NULL;
        duro_error err = { 0, 0, "" };

        close(fds[0]);
        if (geteuid() == 0 && setuid(65534) != 0)
            _exit(2);
        out.rc = duro_sqlite_open(db_path, NULL, &p, &err);
        snprintf(out.message, sizeof(out.message), "%s", err.message);
        duro_provider_destroy(p);
        _exit(write(fds[1], &out, sizeof(out)) == (ssize_t)sizeof(out) ? 0 : 3);
    }
    close(fds[1]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status %#x (exit 2: setuid(65534) failed)", status);
    ck_assert_int_eq(read(fds[0], &out, sizeof(out)), (ssize_t)sizeof(out));
    close(fds[0]);
    return out;
}

/* A store that cannot be written (a read-only file, or a directory where the -wal and -shm
 * files cannot be created) is refused at open with "read-only", instead of opening and then
 * failing every write (issue 11, finding 5). The first open shows the child can use the
 * store when it is writable. */
START_TEST(read_only_store_refused)
{
    const char *tmp = getenv("TMPDIR");
    char dir[400];
    open_outcome o;
    duro_provider *p;

    snprintf(dir, sizeof(dir), "%.300s/duro-test-ro-XXXXXX",
             tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(db_path, sizeof(db_path), "%s/store.db", dir);
    p = open_file(NULL);
    run_instance(p, "read-only");
    duro_provider_destroy(p);
    ck_assert_int_eq(chmod(dir, 0777), 0);
    ck_assert_int_eq(chmod(db_path, 0666), 0);
    o = open_unprivileged();
    ck_assert_msg(o.rc == 0, "writable store: %d %s", o.rc, o.message);

    ck_assert_int_eq(chmod(db_path, 0444), 0);
    o = open_unprivileged();
    ck_assert_int_eq(o.rc, DURO_EIO);
    ck_assert_msg(strstr(o.message, "is read-only") != NULL, "%s", o.message);
    ck_assert_msg(strstr(o.message, db_path) != NULL, "%s", o.message);

    ck_assert_int_eq(chmod(db_path, 0666), 0);
    ck_assert_int_eq(chmod(dir, 0555), 0);
    o = open_unprivileged();
    ck_assert_int_eq(o.rc, DURO_EIO);
    ck_assert_msg(strstr(o.message, "read-only store") != NULL, "%s", o.message);
    ck_assert_msg(strstr(o.message, db_path) != NULL, "%s", o.message);

    ck_assert_int_eq(chmod(dir, 0700), 0);
    teardown_path();
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(open_rejects_bad_arguments)
{
    duro_sqlite_options opt;
    duro_provider *p = NULL;
    duro_error err = { 0, 0, "" };

    duro_sqlite_options_init(&opt);
    ck_assert_int_eq(opt.synchronous_normal, 0);
    ck_assert_int_eq(opt.synchronous_off, 0);
    ck_assert_int_eq(opt.busy_timeout_ms, 10000);
    ck_assert_int_eq(opt.pool_size, 4);
    opt.pool_size = 0;
    ck_assert_int_eq(duro_sqlite_open(db_path, &opt, &p, &err), DURO_EINVAL);
    ck_assert_ptr_null(p);
    /* a synchronous level that is not 0/1, or NORMAL and OFF at once: refused, no file made */
    duro_sqlite_options_init(&opt);
    opt.synchronous_normal = 2;
    ck_assert_int_eq(duro_sqlite_open(db_path, &opt, &p, &err), DURO_EINVAL);
    ck_assert_ptr_null(p);
    opt.synchronous_normal = 0;
    opt.synchronous_off = -1;
    ck_assert_int_eq(duro_sqlite_open(db_path, &opt, &p, &err), DURO_EINVAL);
    ck_assert_ptr_null(p);
    opt.synchronous_normal = 1;
    opt.synchronous_off = 1;
    ck_assert_int_eq(duro_sqlite_open(db_path, &opt, &p, &err), DURO_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(access(db_path, F_OK), -1);
    ck_assert_int_eq(duro_sqlite_open(NULL, NULL, &p, &err), DURO_EINVAL);
    ck_assert_int_eq(duro_sqlite_open("/nonexistent-dir/x/y.db", NULL, &p, &err), DURO_EIO);
    ck_assert_ptr_null(p);
}
END_TEST

/* ---- Long polling and notification ------------------------------------------------------- */

typedef struct poller {
    duro_provider *p;
    pthread_barrier_t *ready;
    int64_t poll_ms;
    int rc;
    int64_t elapsed_ms;
    duro_orch_item *item;
    duro_error err;
} poller;

static void *poll_thread(void *arg)
{
    poller *pl = arg;
    int64_t start;

    pthread_barrier_wait(pl->ready);
    start = duro__monotonic_ms();
    pl->rc = pl->p->ops->fetch_orch(pl->p, T0, LOCK_MS, pl->poll_ms, &pl->item, &pl->err);
    pl->elapsed_ms = duro__monotonic_ms() - start;
    return NULL;
}

/* Repeated so that most rounds enqueue while the poller is already blocked. */
static void long_poll_woken_by_enqueue(duro_provider *p)
{
    pthread_barrier_t ready;

    pthread_barrier_init(&ready, NULL, 2);
    for (int round = 0; round < 20; round++) {
        poller pl = { p, &ready, 5000, -100, 0, NULL, { 0, 0, "" } };
        char instance[32];
        pthread_t th;

        snprintf(instance, sizeof(instance), "woken-%d", round);
        ck_assert_int_eq(pthread_create(&th, NULL, poll_thread, &pl), 0);
        pthread_barrier_wait(&ready);
        enqueue(p, instance, DURO_MSG_START, "start", T0);
        pthread_join(th, NULL);
        ck_assert_msg(pl.rc == 0, "round %d fetch: %d %s", round, pl.rc, pl.err.message);
        ck_assert_str_eq(pl.item->instance, instance);
        ck_assert_uint_eq(pl.item->n_msgs, 1);
        ck_assert_str_eq(pl.item->msgs[0].payload, "start");
        ck_assert_int_lt(pl.elapsed_ms, 1000);
        duro_orch_item_free(pl.item);
    }
    pthread_barrier_destroy(&ready);
}

START_TEST(long_poll_woken_memory)
{
    duro_provider *p = NULL;
    duro_error err = { 0, 0, "" };

    ck_assert_int_eq(duro_sqlite_open(":memory:", NULL, &p, &err), 0);
    long_poll_woken_by_enqueue(p);
    duro_provider_destroy(p);
}
END_TEST

START_TEST(long_poll_woken_file)
{
    duro_provider *p = open_file(NULL);

    long_poll_woken_by_enqueue(p);
    duro_provider_destroy(p);
}
END_TEST

/* A message delayed by 300 ms wakes a long poll when it becomes visible: not before (the
 * poll's clock advances with real time) and well before the 5 s poll timeout. */
START_TEST(long_poll_wakes_at_visible_time)
{
    duro_provider *p = NULL;
    duro_orch_item *item = NULL;
    duro_error err = { 0, 0, "" };
    int64_t start, elapsed;

    ck_assert_int_eq(duro_sqlite_open(":memory:", NULL, &p, &err), 0);
    enqueue(p, "delayed", DURO_MSG_START, "start", T0 + 300);
    start = duro__monotonic_ms();
    ck_assert_int_eq(p->ops->fetch_orch(p, T0, LOCK_MS, 5000, &item, &err), 0);
    elapsed = duro__monotonic_ms() - start;
    ck_assert_str_eq(item->instance, "delayed");
    ck_assert_int_ge(elapsed, 299);
    ck_assert_int_lt(elapsed, 1000);
    duro_orch_item_free(item);
    duro_provider_destroy(p);
}
END_TEST

/* An empty long poll waits for its timeout (real elapsed time is the behaviour under test). */
START_TEST(long_poll_times_out)
{
    duro_provider *p = NULL;
    duro_orch_item *item = NULL;
    duro_work_item *work = NULL;
    duro_error err = { 0, 0, "" };
    int64_t start, elapsed;

    ck_assert_int_eq(duro_sqlite_open(":memory:", NULL, &p, &err), 0);
    start = duro__monotonic_ms();
    ck_assert_int_eq(p->ops->fetch_orch(p, T0, LOCK_MS, 200, &item, &err), DURO_ENOTFOUND);
    elapsed = duro__monotonic_ms() - start;
    ck_assert_ptr_null(item);
    ck_assert_int_ge(elapsed, 199);
    ck_assert_int_lt(elapsed, 1000);
    start = duro__monotonic_ms();
    ck_assert_int_eq(p->ops->fetch_work(p, T0, LOCK_MS, 200, &work, &err), DURO_ENOTFOUND);
    elapsed = duro__monotonic_ms() - start;
    ck_assert_ptr_null(work);
    ck_assert_int_ge(elapsed, 199);
    ck_assert_int_lt(elapsed, 1000);
    duro_provider_destroy(p);
}
END_TEST

typedef struct committer {
    duro_provider *p;
    pthread_barrier_t *ready;
    uint64_t seq;
    int rc;
    int64_t elapsed_ms;
} committer;

static void *wait_thread(void *arg)
{
    committer *cw = arg;
    int64_t start;

    pthread_barrier_wait(cw->ready);
    start = duro__monotonic_ms();
    cw->rc = cw->p->ops->wait_commit(cw->p, cw->seq, 5000);
    cw->elapsed_ms = duro__monotonic_ms() - start;
    return NULL;
}

START_TEST(wait_commit_woken_by_commit)
{
    duro_provider *p = NULL;
    duro_error err = { 0, 0, "" };
    duro_work_in w = { "notify", 1, 7, "work" };
    pthread_barrier_t ready;
    pthread_t th;
    committer cw;

    ck_assert_int_eq(duro_sqlite_open(":memory:", NULL, &p, &err), 0);
    cw = (committer){ p, &ready, p->ops->commit_seq(p), -100, 0 };
    ck_assert_int_eq(p->ops->wait_commit(p, cw.seq, 0), DURO_ETIMEDOUT);
    pthread_barrier_init(&ready, NULL, 2);
    ck_assert_int_eq(pthread_create(&th, NULL, wait_thread, &cw), 0);
    pthread_barrier_wait(&ready);
    ck_assert_int_eq(p->ops->enqueue_work(p, &w, &err), 0);
    pthread_join(th, NULL);
    pthread_barrier_destroy(&ready);
    ck_assert_int_eq(cw.rc, 0);
    ck_assert_int_lt(cw.elapsed_ms, 1000);
    ck_assert_uint_eq(p->ops->commit_seq(p), cw.seq + 1);
    duro_provider_destroy(p);
}
END_TEST

/* ---- Several connections on one file ----------------------------------------------------- */

START_TEST(two_providers_see_each_other)
{
    duro_provider *a = open_file(NULL);
    duro_provider *b = open_file(NULL);
    duro_orch_item *item = NULL, *none = NULL;
    duro_instance_info info;
    duro_event *ev = NULL;
    duro_error err = { 0, 0, "" };
    size_t n = 0;

    run_instance(a, "shared");
    ck_assert_int_eq(b->ops->instance_info(b, "shared", &info, &err), 0);
    ck_assert_int_eq(info.state, DURO_STATE_COMPLETED);
    duro_instance_info_clear(&info);
    ck_assert_int_eq(b->ops->read_history(b, "shared", 1, &ev, &n, &err), 0);
    ck_assert_uint_eq(n, 3);
    duro_events_free(ev, n);

    enqueue(b, "shared", DURO_MSG_EVENT, "from-b", T0 + 1);
    ck_assert_int_eq(a->ops->fetch_orch(a, T0 + 1, LOCK_MS, 0, &item, &err), 0);
    ck_assert_str_eq(item->instance, "shared");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_str_eq(item->msgs[0].payload, "from-b");
    ck_assert_uint_eq(item->n_history, 3);
    /* b cannot take the instance while a holds its lock. */
    ck_assert_int_eq(b->ops->fetch_orch(b, T0 + 1, LOCK_MS, 0, &none, &err), DURO_ENOTFOUND);
    ck_assert_ptr_null(none);
    ck_assert_int_eq(b->ops->abandon_orch(b, T0 + 1, item->lock_token, 0, 0, &err), 0);
    duro_orch_item_free(item);
    item = NULL;
    ck_assert_int_eq(a->ops->fetch_orch(a, T0 + 1, LOCK_MS, 0, &item, &err), 0);
    ck_assert_uint_eq(item->attempt, 2);
    duro_orch_item_free(item);
    duro_provider_destroy(a);
    duro_provider_destroy(b);
}
END_TEST

/* A write lock held by another connection past the busy timeout is a retryable EBUSY. */
START_TEST(busy_is_retryable)
{
    duro_sqlite_options opt;
    duro_provider *a = open_file(NULL);
    duro_provider *b;
    duro__sq_conn *c;
    duro_error err = { 0, 0, "" };
    duro_msg m = { "busy", DURO_MSG_START, 1, T0, "start" };

    duro_sqlite_options_init(&opt);
    opt.busy_timeout_ms = 20;
    b = open_file(&opt);
    ck_assert_int_eq(duro__sq_begin_write(&duro__sq_from(a)->pool, &c, &err), 0);
    ck_assert_int_eq(b->ops->enqueue_orch(b, &m, &err), DURO_EBUSY);
    ck_assert_int_eq(err.code, DURO_EBUSY);
    ck_assert_int_eq(err.retryable, 1);
    ck_assert_int_eq(duro__sq_end_write(&duro__sq_from(a)->pool, c, DURO_EINTERNAL, 0, &err),
                     DURO_EINTERNAL);
    ck_assert_int_eq(b->ops->enqueue_orch(b, &m, &err), 0);
    duro_provider_destroy(a);
    duro_provider_destroy(b);
}
END_TEST

/* ---- Storage faults while running ------------------------------------------------------- */

/* The provider of storage_fault_is_not_poison: its ack_orch is the SQLite one, counting
 * failures; the FAULTY_ACKS-th failure puts the renamed work_queue table back. */
#define FAULTY_ACKS 4
static const duro_provider_ops *real_ops;
static duro_provider_ops faulty_ops;
static int ack_failures, first_fault_code, first_fault_retryable, repair_rc = -1;
static char first_fault[256];

/* ALTER or other SQL on db_path from a runtime thread: no Check assertions, rc kept. */
static int raw_exec_quiet(const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(db_path, &db);

    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 10000);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    sqlite3_close(db);
    return rc;
}

static int faulty_ack_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                           const duro_orch_commit *commit, duro_error *err)
{
    int rc = real_ops->ack_orch(p, now_ms, lock_token, commit, err);
    int n;

    if (rc == 0)
        return 0;
    n = __atomic_add_fetch(&ack_failures, 1, __ATOMIC_SEQ_CST);
    if (n == 1) {
        first_fault_code = rc;
        first_fault_retryable = err->retryable;
        snprintf(first_fault, sizeof(first_fault), "%s", err->message);
    }
    if (n == FAULTY_ACKS)
        repair_rc = raw_exec_quiet("ALTER TABLE work_queue_away RENAME TO work_queue");
    return rc;
}

static int greet(duro_activity *a, const char *name, void *ud)
{
    (void)ud;
    return duro_activity_okf(a, "Hello, %s!", name);
}

static int hello(duro_orch *o, const char *input, void *ud)
{
    duro_task *t = duro_call_activity(o, "Greet", input);

    (void)ud;
    DURO_AWAIT(o, t);
    return duro_complete(o, duro_task_value(t));
}

static void quiet_log(int level, const char *instance, const char *message, void *ud)
{
    (void)level, (void)instance, (void)message, (void)ud;
}

/* A table lost after open is a storage fault, never poison (issue 11, finding 5): fetch and
 * ack fail with DURO_ECORRUPT "damaged duro store: no such table ..." (not a history error,
 * not a plain I/O error), and the runtime gives back the attempt of a turn whose commit the
 * store could not make. With max_attempts 2, the turn fails FAULTY_ACKS (4) times before the
 * table comes back, and the instance then completes instead of ending as poison. */
START_TEST(storage_fault_is_not_poison)
{
    duro_provider *p = open_file(NULL);
    duro_orch_item *item = NULL;
    duro_orch_commit cm = { 0 };
    duro_runtime_options opt;
    duro_registry *reg = duro_registry_new();
    duro_runtime *rt = NULL;
    duro_client *c = NULL;
    duro_status st = { 0 };
    duro_error err = { 0, 0, "" };

    ck_assert_int_eq(raw_exec_quiet("ALTER TABLE history RENAME TO history_away"), SQLITE_OK);
    enqueue(p, "lost-history", DURO_MSG_START, "start", T0);
    ck_assert_int_eq(p->ops->fetch_orch(p, T0, LOCK_MS, 0, &item, &err), DURO_ECORRUPT);
    ck_assert_ptr_null(item);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_msg(strstr(err.message, "damaged duro store: no such table: history") != NULL,
                  "%s", err.message);
    ck_assert_int_eq(raw_exec_quiet("ALTER TABLE history_away RENAME TO history"), SQLITE_OK);
    ck_assert_int_eq(p->ops->fetch_orch(p, T0, LOCK_MS, 0, &item, &err), 0);
    ck_assert_ptr_null(item->history_error);
    cm.execution_id = 1; /* nothing to write: drops the message */
    ck_assert_msg(p->ops->ack_orch(p, T0, item->lock_token, &cm, &err) == 0, "%s",
                  err.message);
    duro_orch_item_free(item);

    ck_assert_int_eq(raw_exec_quiet("ALTER TABLE work_queue RENAME TO work_queue_away"),
                     SQLITE_OK);
    real_ops = p->ops;
    faulty_ops = *p->ops;
    faulty_ops.ack_orch = faulty_ack_orch;
    p->ops = &faulty_ops;
    ck_assert_int_eq(duro_register_activity(reg, "Greet", greet, NULL), 0);
    ck_assert_int_eq(duro_register_orchestration(reg, "Hello", NULL, hello, NULL), 0);
    duro_runtime_options_init(&opt);
    opt.max_attempts = 2;
    opt.unregistered_backoff_ms = 1;
    opt.unregistered_backoff_max_ms = 1;
    opt.log = quiet_log;
    ck_assert_int_eq(duro_runtime_start(p, reg, &opt, &rt, &err), 0);
    ck_assert_int_eq(duro_client_new(p, &c, &err), 0);
    ck_assert_int_eq(duro_client_start(c, "lost-table", "Hello", "you", &err), 0);
    ck_assert_msg(duro_client_wait(c, "lost-table", 20000, &st, &err) == 0, "%s", err.message);
    ck_assert_msg(st.state == DURO_STATE_COMPLETED, "%s: %s", duro_state_name(st.state),
                  st.error != NULL ? st.error : "");
    ck_assert_str_eq(st.output, "Hello, you!");
    ck_assert_int_ge(ack_failures, FAULTY_ACKS);
    ck_assert_int_eq(repair_rc, SQLITE_OK);
    ck_assert_int_eq(first_fault_code, DURO_ECORRUPT);
    ck_assert_int_eq(first_fault_retryable, 0);
    ck_assert_msg(strstr(first_fault, "damaged duro store: no such table: work_queue") != NULL,
                  "%s", first_fault);
    duro_status_clear(&st);
    duro_client_free(c);
    duro_runtime_shutdown(rt);
    duro_registry_free(reg);
    p->ops = real_ops;
    duro_provider_destroy(p);
}
END_TEST

/* ---- Hooks ------------------------------------------------------------------------------- */

START_TEST(hooks_corrupt_and_integrity)
{
    duro_provider *p = open_file(NULL);
    duro_orch_item *item = NULL;
    duro_event *ev = NULL;
    duro_error err = { 0, 0, "" };
    char msg[128] = "x";
    uint32_t attempts = 99;
    size_t n = 0;

    ck_assert_int_eq(duro_sqlite_integrity_check(p, msg, sizeof(msg)), 0);
    ck_assert_str_eq(msg, "");
    run_instance(p, "broken");
    ck_assert_int_eq(duro_sqlite_corrupt_history(p, "broken"), 0);
    ck_assert_int_eq(p->ops->read_history(p, "broken", 0, &ev, &n, &err), DURO_ECORRUPT);
    ck_assert_ptr_null(ev);
    ck_assert_uint_eq(n, 0);
    enqueue(p, "broken", DURO_MSG_EVENT, "poke", T0);
    ck_assert_int_eq(p->ops->fetch_orch(p, T0, LOCK_MS, 0, &item, &err), 0);
    ck_assert_ptr_nonnull(item->history_error);
    ck_assert_uint_eq(item->n_history, 0);
    ck_assert_int_eq(duro_sqlite_max_attempt_count(p, "broken", &attempts), 0);
    ck_assert_uint_eq(attempts, 1);
    duro_orch_item_free(item);
    ck_assert_int_eq(duro_sqlite_integrity_check(p, msg, sizeof(msg)), 0);
    duro_provider_destroy(p);
}
END_TEST

START_TEST(hooks_reject_other_providers)
{
    duro_provider_ops ops = { 0 };
    duro_provider other = { &ops, "other", 0 };
    uint32_t v;

    ck_assert_int_eq(duro_sqlite_corrupt_history(&other, "x"), DURO_EINVAL);
    ck_assert_int_eq(duro_sqlite_max_attempt_count(&other, "x", &v), DURO_EINVAL);
    ck_assert_int_eq(duro_sqlite_integrity_check(&other, NULL, 0), DURO_EINVAL);
}
END_TEST

START_TEST(file_factory_removes_files)
{
    const duro_provider_factory *f = duro__sqlite_factory_file();
    duro_provider *p = NULL;
    duro_error err = { 0, 0, "" };
    char path[512], wal[520];

    ck_assert_str_eq(f->name, "sqlite-file");
    ck_assert_str_eq(duro__sqlite_factory_memory()->name, "sqlite");
    ck_assert_int_eq(f->create(f->ud, &p, &err), 0);
    snprintf(path, sizeof(path), "%s", duro__sq_path(p));
    snprintf(wal, sizeof(wal), "%s-wal", path);
    run_instance(p, "temp");
    ck_assert_int_eq(access(path, F_OK), 0);
    ck_assert_int_eq(access(wal, F_OK), 0);
    f->destroy(f->ud, p);
    ck_assert_int_ne(access(path, F_OK), 0);
    ck_assert_int_ne(access(wal, F_OK), 0);
}
END_TEST

/* Both factories count statements: from the first count_statements call on, every
 * statement a connection opened afterwards starts adds one, a trigger's sub-statements none
 * (the counter the stress suite divides by completed orchestrations). */
START_TEST(factories_count_statements)
{
    const duro_provider_factory *mem = duro__sqlite_factory_memory();
    const duro_provider_factory *file = duro__sqlite_factory_file();
    uint64_t before, after;
    sqlite3 *db;

    ck_assert_int_ge(mem->version, DURO_PROVIDER_FACTORY_V4);
    ck_assert_ptr_eq(file->count_statements, mem->count_statements);
    ck_assert_int_eq(mem->count_statements(mem->ud, &before), 0);
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "CREATE TABLE t(x); CREATE TABLE log(x); "
                                  "CREATE TRIGGER t_log AFTER INSERT ON t "
                                  "BEGIN INSERT INTO log VALUES (new.x); END; "
                                  "INSERT INTO t VALUES (1); SELECT count(*) FROM log",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(file->count_statements(file->ud, &after), 0);
    ck_assert_uint_eq(after - before, 5);
    sqlite3_close(db);
}
END_TEST

static Suite *sqlite_suite(void)
{
    Suite *s = suite_create("sqlite");
    TCase *tc;

    tc = tcase_create("file");
    tcase_add_checked_fixture(tc, setup_path, teardown_path);
    tcase_add_test(tc, file_survives_reopen);
    tcase_add_test(tc, new_files_are_private);
    tcase_add_test(tc, existing_file_without_store_refused);
    tcase_add_test(tc, pragmas_default_full);
    tcase_add_test(tc, pragmas_normal_when_asked);
    tcase_add_test(tc, pragmas_off_when_asked);
    tcase_add_test(tc, migrations_idempotent_on_reopen);
    tcase_add_test(tc, upgrade_from_schema_1);
    tcase_add_test(tc, upgrade_from_schema_3);
    tcase_add_test(tc, newer_schema_refused);
    tcase_add_test(tc, damaged_store_refused);
    tcase_add_test(tc, read_only_store_refused);
    tcase_add_test(tc, open_rejects_bad_arguments);
    tcase_add_test(tc, memory_is_private_and_single);
    suite_add_tcase(s, tc);

    tc = tcase_create("notify");
    tcase_add_checked_fixture(tc, setup_path, teardown_path);
    tcase_add_test(tc, long_poll_woken_memory);
    tcase_add_test(tc, long_poll_woken_file);
    tcase_add_test(tc, long_poll_wakes_at_visible_time);
    tcase_add_test(tc, long_poll_times_out);
    tcase_add_test(tc, wait_commit_woken_by_commit);
    suite_add_tcase(s, tc);

    tc = tcase_create("shared");
    tcase_add_checked_fixture(tc, setup_path, teardown_path);
    tcase_add_test(tc, two_providers_see_each_other);
    tcase_add_test(tc, busy_is_retryable);
    tcase_add_test(tc, storage_fault_is_not_poison);
    tcase_add_test(tc, hooks_corrupt_and_integrity);
    tcase_add_test(tc, hooks_reject_other_providers);
    tcase_add_test(tc, file_factory_removes_files);
    tcase_add_test(tc, factories_count_statements);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sqlite_suite());
    int failed = junit_check_run(sr, "test-sqlite", CK_NORMAL);

    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
