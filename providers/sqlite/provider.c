/*
 * provider.c — the SQLite provider object, the top of the provider's layers (see
 * sqlite-internal.h): options, opening (a missing store is created beside its path and linked
 * into place; the first connection checks and migrates the store before the others open, or
 * only checks it when the store is opened read-only),
 * closing, the public entry points of duro-sqlite.h and the ops table.
 *
 * An in-memory database is one private connection (a pool of one), so every call is
 * serialised by the pool. A file database runs in WAL mode with a small pool; readers run in
 * parallel, writers of this process queue on the pool's writer mutex. Every committed write
 * bumps commit_seq; one that adds fetchable work also wakes one long-polling fetcher of its
 * queue, which is how a fetch learns about new work within microseconds. A completion for an
 * instance whose turn is running is not fetchable yet: that turn's commit wakes a fetcher if
 * messages are still due. Lock bookkeeping (fetch, renew, abandon) commits without an fsync
 * on files. Writes from other processes are picked up by a re-check at most every 50 ms.
 */
#include "sqlite-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_BUSY_TIMEOUT_MS 10000
#define DEFAULT_POOL_SIZE 4
#define MAX_POOL_SIZE 64
#define DEFAULT_FILE_MODE 0600u

static const duro_provider_ops sqlite_ops;

static void sq_destroy(duro_provider *p)
{
    duro_sqlite *s = (duro_sqlite *)p;

    if (s == NULL)
        return;
    duro__sq_pool_destroy(&s->pool);
    duro__notifier_destroy(&s->notes);
    free(s->path);
    free(s);
}

void duro_sqlite_options_init(duro_sqlite_options *opt)
{
    if (opt == NULL)
        return;
    memset(opt, 0, sizeof *opt);
    opt->size = sizeof *opt;
    opt->synchronous_normal = 0;
    opt->busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS;
    opt->pool_size = DEFAULT_POOL_SIZE;
    opt->file_mode = DEFAULT_FILE_MODE;
    opt->initialize_existing = 0;
    opt->read_only = 0;
    opt->synchronous_off = 0;
}

#define NEW_SUFFIX ".duro-new-XXXXXX"

/* Initialise the empty private file `tmp` as a store of the current schema. */
static int init_new(const char *tmp, const duro_sqlite_options *opt, duro_error *err)
{
    duro__sq_conn c = { 0 };
    duro__sq_conn_settings set = { tmp, 0, opt->busy_timeout_ms, 0, 0, 0 };
    int rc = duro__sq_conn_open(&c, &set, err);

    if (rc != 0)
        return rc;
    rc = duro__sq_prepare_store(&c, tmp, 1, err);
    duro__sq_conn_close(&c);
    return rc;
}

/* Create the store `path` when nothing is there: initialise a temporary file beside it, with
 * exactly opt->file_mode whatever the umask (SQLite's -wal and -shm follow the file's mode),
 * and link it into place. The path so never holds a half-made store: an open killed midway
 * leaves at most a "<path>.duro-new-XXXXXX" file, and a concurrent open sees either no file
 * or a complete store. A path that exists (or appears meanwhile) is left for
 * duro__sq_prepare_store to verify. */
static int create_store(const char *path, const duro_sqlite_options *opt, duro_error *err)
{
    struct stat st;
    char *tmp;
    int fd, rc = 0;

    if (stat(path, &st) == 0)
        return 0;
    if (errno != ENOENT)
        return duro_error_set(err, DURO_EIO, 0, "cannot open %s: %s", path, strerror(errno));
    tmp = malloc(strlen(path) + sizeof(NEW_SUFFIX));
    if (tmp == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory opening %s", path);
    strcpy(tmp, path);
    strcat(tmp, NEW_SUFFIX);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = duro_error_set(err, DURO_EIO, 0, "cannot create %s: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    if (fchmod(fd, (mode_t)opt->file_mode) != 0)
        rc = duro_error_set(err, DURO_EIO, 0, "cannot set the mode of %s: %s", tmp,
                            strerror(errno));
    close(fd);
    if (rc == 0)
        rc = init_new(tmp, opt, err);
    if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST)
        rc = duro_error_set(err, DURO_EIO, 0, "cannot create %s: link: %s", path,
                            strerror(errno));
    unlink(tmp);
    free(tmp);
    return rc;
}

/* The pool's first connection: check (or initialise) and migrate the store. */
static int prepare_first(duro__sq_conn *c, void *arg, duro_error *err)
{
    const duro_sqlite *s = arg;

    if (s->opt.read_only)
        return duro__sq_check_store(c, s->path, err);
    return duro__sq_prepare_store(c, s->path, s->memory || s->opt.initialize_existing, err);
}

/* Open the provider object for `path` with validated options: the notifier, then the pool
 * (whose first connection checks and migrates the store). */
static int provider_open(const char *path, const duro_sqlite_options *opt, duro_sqlite **out,
                         duro_error *err)
{
    duro_sqlite *s = calloc(1, sizeof(*s));
    duro__sq_conn_settings set;
    int rc;

    if (s == NULL || (s->path = duro__strdup(path)) == NULL) {
        free(s);
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory opening %s", path);
    }
    s->memory = strcmp(path, ":memory:") == 0;
    s->opt = *opt;
    rc = duro__notifier_init(&s->notes, err);
    if (rc != 0) {
        free(s->path);
        free(s);
        return rc;
    }
    set.path = s->path;
    set.memory = s->memory;
    set.busy_timeout_ms = opt->busy_timeout_ms;
    set.synchronous_normal = opt->synchronous_normal;
    set.synchronous_off = opt->synchronous_off;
    set.read_only = opt->read_only;
    /* lock bookkeeping is relaxed to NORMAL only below FULL's default */
    rc = duro__sq_pool_init(&s->pool, s->memory ? 1 : (size_t)opt->pool_size, &set,
                            !s->memory && !opt->synchronous_normal && !opt->synchronous_off,
                            &s->notes, prepare_first,
                            s, err);
    if (rc != 0) {
        duro__notifier_destroy(&s->notes);
        free(s->path);
        free(s);
        return rc;
    }
    s->base.ops = &sqlite_ops;
    s->base.name = s->memory ? "sqlite" : "sqlite-file";
    s->base.caps = DURO_CAP_MANAGEMENT | DURO_CAP_LONG_POLL | DURO_CAP_NOTIFY | DURO_CAP_TAGS |
                   DURO_CAP_KV | DURO_CAP_SESSIONS | DURO_CAP_VERSION_FILTER;
    *out = s;
    return 0;
}

int duro_sqlite_open(const char *path, const duro_sqlite_options *opt, duro_provider **out,
                     duro_error *err)
{
    duro_sqlite_options o;
    duro_sqlite *s = NULL;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (path == NULL || *path == '\0' || out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "duro_sqlite_open: path and out are required");
    duro_sqlite_options_init(&o);
    if (opt != NULL && opt->size == 0)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_sqlite_open: options not initialised: call "
                              "duro_sqlite_options_init");
    /* read the caller's options only as far as its struct goes */
    if (opt != NULL)
        memcpy(&o, opt, opt->size < sizeof o ? opt->size : sizeof o);
    o.size = sizeof o;
    if (o.busy_timeout_ms < 0 || o.pool_size < 1 || o.pool_size > MAX_POOL_SIZE)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_sqlite_open: busy_timeout_ms must be >= 0 and pool_size "
                              "within 1..%d", MAX_POOL_SIZE);
    if ((o.synchronous_normal != 0 && o.synchronous_normal != 1) ||
        (o.synchronous_off != 0 && o.synchronous_off != 1) ||
        (o.synchronous_normal && o.synchronous_off))
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_sqlite_open: synchronous_normal (%d) and synchronous_off "
                              "(%d) must each be 0 or 1, and not both 1", o.synchronous_normal,
                              o.synchronous_off);
    if (o.file_mode == 0)
        o.file_mode = DEFAULT_FILE_MODE;
    if (o.file_mode > 0777u)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_sqlite_open: file_mode %#o has bits beyond 0777",
                              o.file_mode);
    if (o.read_only && strcmp(path, ":memory:") == 0)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "duro_sqlite_open: read_only needs a file database, not :memory:");
    if (o.read_only && access(path, F_OK) != 0)
        return duro_error_set(err, DURO_EIO, 0, "cannot open %s: %s", path, strerror(errno));
    if (strcmp(path, ":memory:") != 0 && !o.read_only && (rc = create_store(path, &o, err)) != 0)
        return rc;
    rc = provider_open(path, &o, &s, err);
    if (rc != 0)
        return rc;
    *out = &s->base;
    return 0;
}

/* ---- Entry points of duro-sqlite.h and the provider object -------------------------------- */

duro_sqlite *duro__sq_from(duro_provider *p)
{
    /* by the destroy callback, so that a caller may wrap the ops table (tests do) */
    return p != NULL && p->ops != NULL && p->ops->destroy == sq_destroy ? (duro_sqlite *)p
                                                                         : NULL;
}

const char *duro__sq_path(duro_provider *p)
{
    duro_sqlite *s = duro__sq_from(p);

    return s != NULL ? s->path : NULL;
}

const char *duro_sqlite_path(duro_provider *p)
{
    return duro__sq_path(p);
}

int duro_sqlite_corrupt_history(duro_provider *p, const char *instance)
{
    duro_sqlite *s = duro__sq_from(p);

    if (s == NULL || instance == NULL || *instance == '\0')
        return DURO_EINVAL;
    return duro__sq_corrupt_history(s, instance);
}

int duro_sqlite_max_attempt_count(duro_provider *p, const char *instance, uint32_t *out)
{
    duro_sqlite *s = duro__sq_from(p);

    if (s == NULL || instance == NULL || out == NULL)
        return DURO_EINVAL;
    return duro__sq_max_attempt_count(s, instance, out);
}

int duro_sqlite_integrity_check(duro_provider *p, char *msg, size_t msg_size)
{
    duro_sqlite *s = duro__sq_from(p);

    if (s == NULL) {
        if (msg != NULL && msg_size > 0)
            msg[0] = '\0';
        return DURO_EINVAL;
    }
    return duro__sq_integrity(s, msg, msg_size);
}

static int sq_integrity_check(duro_provider *p, char *msg, size_t msg_size)
{
    return duro__sq_integrity((duro_sqlite *)p, msg, msg_size);
}

static uint64_t sq_commit_seq(duro_provider *p)
{
    return duro__notify_commit_seq(&((duro_sqlite *)p)->notes);
}

static int sq_wait_commit(duro_provider *p, uint64_t seq, int64_t timeout_ms)
{
    return duro__notify_wait_commit(&((duro_sqlite *)p)->notes, seq, timeout_ms);
}

static void sq_interrupt(duro_provider *p)
{
    duro__notify_interrupt(&((duro_sqlite *)p)->notes);
}

static const duro_provider_ops sqlite_ops = {
    .version = DURO_PROVIDER_OPS_VERSION,
    .destroy = sq_destroy,
    .enqueue_orch = duro__sq_enqueue_orch,
    .fetch_orch = duro__sq_fetch_orch,
    .ack_orch = duro__sq_ack_orch,
    .abandon_orch = duro__sq_abandon_orch,
    .renew_orch = duro__sq_renew_orch,
    .enqueue_work = duro__sq_enqueue_work,
    .fetch_work = duro__sq_fetch_work,
    .ack_work = duro__sq_ack_work,
    .abandon_work = duro__sq_abandon_work,
    .renew_work = duro__sq_renew_work,
    .read_history = duro__sq_read_history,
    .instance_info = duro__sq_instance_info,
    .interrupt = sq_interrupt,
    .commit_seq = sq_commit_seq,
    .wait_commit = sq_wait_commit,
    .list_instances = duro__sq_list_instances,
    .list_executions = duro__sq_list_executions,
    .execution_info = duro__sq_execution_info,
    .list_children = duro__sq_list_children,
    .delete_instance = duro__sq_delete_instance,
    .delete_bulk = duro__sq_delete_bulk,
    .prune = duro__sq_prune,
    .queue_depths = duro__sq_queue_depths,
    .metrics = duro__sq_metrics,
    .integrity_check = sq_integrity_check,
    .query_instances = duro__sq_query_instances,
    .enqueue_work_tagged = duro__sq_enqueue_work_tagged,
    .fetch_work_filtered = duro__sq_fetch_work_filtered,
    .queue_depths_by_tag = duro__sq_queue_depths_by_tag,
    .get_value = duro__sq_get_value,
    .list_values = duro__sq_list_values,
    .fetch_work_session = duro__sq_fetch_work_session,
    .renew_sessions = duro__sq_renew_sessions,
    .enqueue_orch_start = duro__sq_enqueue_orch_start,
    .fetch_orch_filtered = duro__sq_fetch_orch_filtered,
};
