/*
 * fuzz-sqlite-open.c — libFuzzer target: the SQLite provider's open path on a mutated
 * database file, and a few operations on whatever opens.
 *
 * The input is the database file itself (the seeds are small valid duro databases, so the
 * mutations are mostly damaged duro stores: changed schema rows, versions, pages, records).
 * It is written to a fresh file in a private temporary directory and opened with
 * duro_sqlite_open (one connection, a short busy timeout). Properties: nothing crashes,
 * leaks or trips UBSan; a failed open returns a documented error code with a message and
 * leaves no provider; an open provider passes duro_provider_check and survives integrity
 * checks, reads of every listed instance (info, executions, history), queue depths, metrics,
 * and one orchestration turn (fetch, duro__turn_run against the registry of fuzz/common.c
 * or the poison verdict, then ack or abandon) and one activity (fetch, ack), each of which
 * returns 0 or an error with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duro-sqlite.h"
#include "fuzz.h"
#include "replay.h"

static char dir[4096], path[4200];
static duro_registry *reg;

static void remove_files(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char buf[4300];
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s", path, suffix[i]);
        unlink(buf);
    }
}

static void cleanup(void)
{
    remove_files();
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "%s/duro-fuzz-sqlite-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/store.db", dir);
    reg = fz_registry();
    if (!reg)
        abort();
    atexit(cleanup);
    return 0;
}

/* A failed call returns a negative code and says why. */
static void check_error(int rc, const duro_error *err, const char *what)
{
    if (rc == 0 || rc == DURO_ENOTFOUND)
        return;
    FZ_CHECK(rc < 0, "%s returned %d", what, rc);
    FZ_CHECK(memchr(err->message, '\0', sizeof err->message) != NULL,
             "%s: unterminated message", what);
}

static void read_instance(duro_provider *p, const char *id)
{
    duro_error err = {0};
    duro_instance_info info;
    duro_execution_info ex;
    duro_event *ev = NULL;
    uint64_t *execs = NULL;
    size_t n = 0, i;
    char **kids = NULL;
    int rc;

    memset(&info, 0, sizeof info);
    rc = p->ops->instance_info(p, id, &info, &err);
    check_error(rc, &err, "instance_info");
    if (rc == 0)
        duro_instance_info_clear(&info);
    rc = p->ops->read_history(p, id, 0, &ev, &n, &err);
    check_error(rc, &err, "read_history");
    if (rc == 0) {
        for (i = 0; i < n; i++) {
            duro__rec r;
            if (duro__rec_decode(ev[i].payload, ev[i].kind, ev[i].event_id, &r, NULL) == 0)
                duro__rec_clear(&r);
        }
        duro_events_free(ev, n);
    }
    rc = p->ops->list_executions(p, id, &execs, &n, &err);
    check_error(rc, &err, "list_executions");
    if (rc == 0) {
        for (i = 0; i < n && i < 4; i++) {
            memset(&ex, 0, sizeof ex);
            rc = p->ops->execution_info(p, id, execs[i], &ex, &err);
            check_error(rc, &err, "execution_info");
            if (rc == 0)
                duro_execution_info_clear(&ex);
        }
        free(execs);
    }
    rc = p->ops->list_children(p, id, &kids, &n, &err);
    check_error(rc, &err, "list_children");
    if (rc == 0)
        duro_strv_free(kids, n);
}

/* One orchestration turn as the runtime runs it: turn or poison, then ack or abandon. */
static void one_turn(duro_provider *p)
{
    duro_error err = {0};
    duro_orch_item *it = NULL;
    duro__turn t;
    int rc = p->ops->fetch_orch(p, FZ_NOW, 30000, 0, &it, &err), made;

    check_error(rc, &err, "fetch_orch");
    if (rc != 0)
        return;
    FZ_CHECK(it && it->instance && (it->n_history == 0 || it->history) &&
                 (it->n_msgs == 0 || it->msgs),
             "fetch_orch returned an incomplete item");
    if (it->attempt > FZ_MAX_ATTEMPTS || it->history_error)
        made = duro__turn_poison(reg, it, FZ_NOW, FZ_MAX_ATTEMPTS, it->history_error, &t);
    else
        made = duro__turn_run(reg, it, FZ_NOW, NULL, NULL, &t);
    FZ_CHECK(made == 0, "the turn could not be built: %d", made);
    if (t.action == DURO__TURN_COMMIT) {
        rc = p->ops->ack_orch(p, FZ_NOW, it->lock_token, &t.commit, &err);
        check_error(rc, &err, "ack_orch");
        if (rc != 0) {
            duro__turn_free(&t);
            FZ_CHECK(duro__turn_poison_bare(it, "poison: fuzz", &t) == 0, "no bare verdict");
            rc = p->ops->ack_orch(p, FZ_NOW, it->lock_token, &t.commit, &err);
            check_error(rc, &err, "ack_orch (bare verdict)");
        }
    }
    if (t.action != DURO__TURN_COMMIT || rc != 0) {
        rc = p->ops->abandon_orch(p, FZ_NOW, it->lock_token, 1000, 0, &err);
        check_error(rc, &err, "abandon_orch");
    }
    duro__turn_free(&t);
    duro_orch_item_free(it);
}

static void one_activity(duro_provider *p)
{
    duro_error err = {0};
    duro_work_item *w = NULL;
    int rc = p->ops->fetch_work(p, FZ_NOW, 30000, 0, &w, &err);
    check_error(rc, &err, "fetch_work");
    if (rc != 0)
        return;
    FZ_CHECK(w && w->instance, "fetch_work returned an incomplete item");
    rc = p->ops->ack_work(p, FZ_NOW, w->lock_token, NULL, &err);
    check_error(rc, &err, "ack_work");
    duro_work_item_free(w);
}

static void exercise(duro_provider *p)
{
    duro_error err = {0};
    char msg[512], **ids = NULL;
    size_t n = 0, i;
    duro_queue_depths d;
    duro_metrics m;
    int rc;

    FZ_CHECK(duro_provider_check(p, &err) == 0, "the opened provider fails its check: %s",
             err.message);
    rc = duro_provider_integrity_check(p, msg, sizeof msg);
    FZ_CHECK(memchr(msg, '\0', sizeof msg) != NULL, "integrity message unterminated");
    FZ_CHECK(rc <= 0, "integrity_check returned %d", rc);
    rc = p->ops->list_instances(p, 0, &ids, &n, &err);
    check_error(rc, &err, "list_instances");
    if (rc == 0) {
        for (i = 0; i < n && i < 4; i++)
            read_instance(p, ids[i]);
        duro_strv_free(ids, n);
    }
    rc = p->ops->queue_depths(p, FZ_NOW, &d, &err);
    check_error(rc, &err, "queue_depths");
    rc = p->ops->metrics(p, &m, &err);
    check_error(rc, &err, "metrics");
    one_turn(p);
    one_activity(p);
    read_instance(p, FZ_INSTANCE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    duro_sqlite_options opt;
    duro_provider *p = NULL;
    duro_error err = {0};
    FILE *f;
    int rc;

    remove_files();
    f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
    duro_sqlite_options_init(&opt);
    opt.pool_size = 1;
    opt.busy_timeout_ms = 50;
    opt.synchronous_normal = 1;
    rc = duro_sqlite_open(path, &opt, &p, &err);
    if (rc != 0) {
        FZ_CHECK(p == NULL, "a failed open left a provider");
        FZ_CHECK(rc == DURO_EIO || rc == DURO_EBUSY || rc == DURO_ECORRUPT ||
                     rc == DURO_ENOTSUP || rc == DURO_ENOMEM,
                 "open returned %d (%s): %s", rc, duro_err_name(rc), err.message);
        FZ_CHECK(err.message[0] && memchr(err.message, '\0', sizeof err.message),
                 "a failed open says nothing");
    } else {
        FZ_CHECK(p != NULL, "open succeeded without a provider");
        exercise(p);
        duro_provider_destroy(p);
    }
    remove_files();
    return 0;
}
