/*
 * test-group-commit.c — Check tests of the SQLite file provider's group commit
 * (providers/sqlite/pool.c, duro__sq_commit): commits of several real threads that arrive
 * together share one transaction, and each caller still gets its own outcome. A turn ack
 * that fails after writing, and one whose lock expired, are batched with good turn acks,
 * activity acks and enqueues; the test proves that all went into one batch, that the
 * failures were rejected alone with nothing of them stored, and that every good commit is
 * stored. A commit alone runs as a batch of one. The commits are made to arrive together by
 * holding the writer mutex while the threads queue (duro__sq_wait_queued tells when all
 * have), then releasing it: no sleeps. Commits that grow the WAL wake the background
 * checkpointer, and under steady commits from two threads the WAL still starts over. The test links the provider's convenience library to
 * reach the pool.
 */
#include <check.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "duro-provider.h"
#include "duro-sqlite.h"
#include "junit-check.h"
#include "sqlite-internal.h"

#define T0 INT64_C(1700000000000)
#define LOCK_MS INT64_C(30000)
#define N_COMMITS 6

static char db_path[512];

static void setup_path(void)
{
    const char *dir = getenv("TMPDIR");
    int fd;

    snprintf(db_path, sizeof(db_path), "%s/duro-test-gc-XXXXXX",
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

static duro_provider *open_file(void)
{
    duro_provider *p = NULL;
    duro_error err = { 0, 0, "" };

    ck_assert_msg(duro_sqlite_open(db_path, NULL, &p, &err) == 0, "open: %s", err.message);
    return p;
}

static void enqueue(duro_provider *p, const char *instance)
{
    duro_msg m = { instance, DURO_MSG_START, 1, T0, "start" };
    duro_error err = { 0, 0, "" };

    ck_assert_msg(p->ops->enqueue_orch(p, &m, &err) == 0, "enqueue: %s", err.message);
}

/* Fetch the next orchestration item at T0; it must be for `instance`. */
static duro_orch_item *fetch(duro_provider *p, const char *instance)
{
    duro_orch_item *item = NULL;
    duro_error err = { 0, 0, "" };

    ck_assert_msg(p->ops->fetch_orch(p, T0, LOCK_MS, 0, &item, &err) == 0, "fetch: %s",
                  err.message);
    ck_assert_str_eq(item->instance, instance);
    return item;
}

/* Run one SQL statement on a connection of the test's own. */
static void raw_exec(const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;

    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
                  msg != NULL ? msg : "");
    sqlite3_close(db);
}

/* Number of rows `sql` (a SELECT COUNT(*)) counts, read on a connection of the test's own. */
static int raw_count(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n;

    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* ---- Threads that commit together -------------------------------------------------------- */

typedef enum { ACK_ORCH, ACK_WORK, ENQUEUE_ORCH } commit_kind;

typedef struct committer {
    duro_provider *p;
    pthread_barrier_t *start;
    commit_kind kind;
    int64_t now;
    const char *token;
    const duro_orch_commit *commit;   /* ACK_ORCH */
    const duro_msg *msg;              /* ACK_WORK completion, ENQUEUE_ORCH message */
    int rc;
    duro_error err;
} committer;

static void *commit_thread(void *arg)
{
    committer *c = arg;

    pthread_barrier_wait(c->start);
    if (c->kind == ACK_ORCH)
        c->rc = c->p->ops->ack_orch(c->p, c->now, c->token, c->commit, &c->err);
    else if (c->kind == ACK_WORK)
        c->rc = c->p->ops->ack_work(c->p, c->now, c->token, c->msg, &c->err);
    else
        c->rc = c->p->ops->enqueue_orch(c->p, c->msg, &c->err);
    return NULL;
}

/* Run the committers on their own threads with the writer held until all have queued, so
 * that one leader takes them in one batch. */
static void commit_together(duro_provider *p, committer *cs, size_t n)
{
    duro_sqlite *s = duro__sq_from(p);
    pthread_t th[N_COMMITS];
    pthread_barrier_t start;

    ck_assert_uint_le(n, N_COMMITS);
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, (unsigned)n), 0);
    pthread_mutex_lock(&s->pool.write_mu);
    for (size_t i = 0; i < n; i++) {
        cs[i].p = p;
        cs[i].start = &start;
        ck_assert_int_eq(pthread_create(&th[i], NULL, commit_thread, &cs[i]), 0);
    }
    duro__sq_wait_queued(&s->pool, n);
    pthread_mutex_unlock(&s->pool.write_mu);
    for (size_t i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
}

/* ---- Tests ------------------------------------------------------------------------------- */

START_TEST(failures_rejected_alone_in_a_shared_batch)
{
    duro_provider *p = open_file();
    duro_sqlite *s = duro__sq_from(p);
    duro_orch_item *good, *bad, *lost;
    duro_work_item *work = NULL;
    duro_error err = { 0, 0, "" };
    duro_event_in ev[1] = { { 1, 1, "started" } };
    duro_work_in act = { "good", 1, 1, "activity" };
    duro_orch_commit cm_good = { 0 }, cm_bad = { 0 }, cm_lost = { 0 };
    duro_msg done_msg = { "good", DURO_MSG_ACTIVITY_DONE, 1, 0, "result" };
    duro_msg new_msg = { "fresh", DURO_MSG_START, 1, T0, "start" };
    committer cs[5];
    duro_instance_info info;
    uint64_t batches;

    enqueue(p, "good");
    enqueue(p, "bad");
    enqueue(p, "lost");
    good = fetch(p, "good");
    bad = fetch(p, "bad");
    lost = fetch(p, "lost");
    /* an activity of "good" to ack in the batch: enqueued and fetched beforehand */
    ck_assert_int_eq(p->ops->enqueue_work(p, &act, &err), 0);
    ck_assert_int_eq(p->ops->fetch_work(p, T0, LOCK_MS, 0, &work, &err), 0);
    /* "bad" fails after its first writes: its instance row is created, then its first event
     * id is found not above one already stored (planted on a connection of our own) */
    raw_exec("INSERT INTO history (instance_id, execution_id, event_id, kind, payload)"
             " VALUES ('bad', 1, 7, 1, 'planted')");

    cm_good.execution_id = cm_bad.execution_id = cm_lost.execution_id = 1;
    cm_good.orch_name = cm_bad.orch_name = cm_lost.orch_name = "Orch";
    cm_good.orch_version = cm_bad.orch_version = cm_lost.orch_version = "1.0.0";
    cm_good.events = cm_bad.events = cm_lost.events = ev;
    cm_good.n_events = cm_bad.n_events = cm_lost.n_events = 1;
    memset(cs, 0, sizeof(cs));
    cs[0] = (committer){ .kind = ACK_ORCH, .now = T0, .token = good->lock_token,
                         .commit = &cm_good };
    cs[1] = (committer){ .kind = ACK_ORCH, .now = T0, .token = bad->lock_token,
                         .commit = &cm_bad };
    /* the lock of "lost" has expired at this commit's clock */
    cs[2] = (committer){ .kind = ACK_ORCH, .now = T0 + LOCK_MS, .token = lost->lock_token,
                         .commit = &cm_lost };
    cs[3] = (committer){ .kind = ACK_WORK, .now = T0, .token = work->lock_token,
                         .msg = &done_msg };
    cs[4] = (committer){ .kind = ENQUEUE_ORCH, .msg = &new_msg };
    batches = s->pool.gc_batches;

    commit_together(p, cs, 5);

    /* one batch, one transaction committed, three commits in it */
    ck_assert_uint_eq(s->pool.gc_last_batch, 5);
    ck_assert_uint_eq(s->pool.gc_batches, batches + 1);
    ck_assert_msg(cs[0].rc == 0, "good ack: %s", cs[0].err.message);
    ck_assert_int_eq(cs[1].rc, DURO_ECONSTRAINT);
    ck_assert_ptr_nonnull(strstr(cs[1].err.message, "not above the last stored id 7"));
    ck_assert_int_eq(cs[2].rc, DURO_ELOCK);
    ck_assert_str_eq(cs[2].err.message, "instance lock expired");
    ck_assert_msg(cs[3].rc == 0, "work ack: %s", cs[3].err.message);
    ck_assert_msg(cs[4].rc == 0, "enqueue: %s", cs[4].err.message);

    /* the good commits are stored */
    ck_assert_int_eq(p->ops->instance_info(p, "good", &info, &err), 0);
    ck_assert_int_eq(info.state, DURO_STATE_RUNNING);
    duro_instance_info_clear(&info);
    ck_assert_int_eq(raw_count("SELECT COUNT(*) FROM history WHERE instance_id = 'good'"), 1);
    ck_assert_int_eq(raw_count("SELECT COUNT(*) FROM work_queue"), 0);
    ck_assert_int_eq(raw_count("SELECT COUNT(*) FROM orch_queue WHERE instance_id = 'good'"
                               " AND kind = 3 AND payload = 'result'"), 1);
    ck_assert_int_eq(raw_count("SELECT COUNT(*) FROM orch_queue WHERE instance_id = 'fresh'"),
                     1);
    /* nothing of the failed ones: no instance rows, their batches and locks untouched */
    ck_assert_int_eq(p->ops->instance_info(p, "bad", &info, &err), DURO_ENOTFOUND);
    ck_assert_int_eq(p->ops->instance_info(p, "lost", &info, &err), DURO_ENOTFOUND);
    ck_assert_int_eq(raw_count("SELECT COUNT(*) FROM history WHERE instance_id = 'bad'"), 1);
    ck_assert_int_eq(raw_count("SELECT COUNT(*) FROM executions WHERE instance_id"
                               " IN ('bad', 'lost')"), 0);
    ck_assert_int_eq(raw_count("SELECT COUNT(*) FROM orch_queue WHERE instance_id"
                               " IN ('bad', 'lost') AND lock_token IS NOT NULL"), 2);
    ck_assert_int_eq(raw_count("SELECT COUNT(*) FROM instance_locks WHERE instance_id"
                               " IN ('bad', 'lost')"), 2);
    /* the same failure alone (a batch of one, no savepoint) leaves nothing either */
    ck_assert_int_eq(p->ops->ack_orch(p, T0, bad->lock_token, &cm_bad, &err), DURO_ECONSTRAINT);
    ck_assert_uint_eq(s->pool.gc_last_batch, 1);
    ck_assert_int_eq(p->ops->instance_info(p, "bad", &info, &err), DURO_ENOTFOUND);
    /* "bad" still holds its lock: its turn can be retried with a commit that fits */
    ev[0].event_id = 8;
    ck_assert_msg(p->ops->ack_orch(p, T0, bad->lock_token, &cm_bad, &err) == 0, "retry: %s",
                  err.message);
    ck_assert_uint_eq(s->pool.gc_last_batch, 1);

    duro_orch_item_free(good);
    duro_orch_item_free(bad);
    duro_orch_item_free(lost);
    duro_work_item_free(work);
    duro_provider_destroy(p);
}
END_TEST

START_TEST(good_commits_batched_together_all_stored)
{
    duro_provider *p = open_file();
    duro_sqlite *s = duro__sq_from(p);
    static const char *const names[N_COMMITS] = { "i0", "i1", "i2", "i3", "i4", "i5" };
    duro_msg msgs[N_COMMITS];
    committer cs[N_COMMITS];
    uint64_t batches = s->pool.gc_batches;

    memset(cs, 0, sizeof(cs));
    for (size_t i = 0; i < N_COMMITS; i++) {
        msgs[i] = (duro_msg){ names[i], DURO_MSG_START, 1, T0, "start" };
        cs[i] = (committer){ .kind = ENQUEUE_ORCH, .msg = &msgs[i] };
    }
    commit_together(p, cs, N_COMMITS);
    ck_assert_uint_eq(s->pool.gc_last_batch, N_COMMITS);
    ck_assert_uint_eq(s->pool.gc_batches, batches + 1);
    for (size_t i = 0; i < N_COMMITS; i++)
        ck_assert_msg(cs[i].rc == 0, "enqueue %zu: %s", i, cs[i].err.message);
    duro_provider_destroy(p);
    /* durable: a fresh open of the file sees all of them */
    p = open_file();
    for (size_t i = 0; i < N_COMMITS; i++) {
        duro_orch_item *item = NULL;
        duro_error err = { 0, 0, "" };
        ck_assert_int_eq(p->ops->fetch_orch(p, T0, LOCK_MS, 0, &item, &err), 0);
        duro_orch_item_free(item);
    }
    duro_provider_destroy(p);
}
END_TEST

START_TEST(lone_commit_is_a_batch_of_one)
{
    duro_provider *p = open_file();
    duro_sqlite *s = duro__sq_from(p);
    uint64_t batches = s->pool.gc_batches, jobs = s->pool.gc_jobs;

    enqueue(p, "alone");
    ck_assert_uint_eq(s->pool.gc_last_batch, 1);
    ck_assert_uint_eq(s->pool.gc_batches, batches + 1);
    ck_assert_uint_eq(s->pool.gc_jobs, jobs + 1);
    duro_provider_destroy(p);
}
END_TEST

/* Commits that grow the WAL past DURO__SQ_CHECKPOINT_FRAMES wake the checkpointer, which
 * copies the WAL into the database without any commit running a checkpoint. */
START_TEST(checkpointer_runs_when_the_wal_grows)
{
    duro_provider *p = NULL;
    duro_sqlite_options opt;
    duro_error err = { 0, 0, "" };
    duro_sqlite *s;
    sqlite3 *db = NULL;
    int log = -1, done = -1;
    char payload[2048];

    duro_sqlite_options_init(&opt);
    opt.synchronous_normal = 1; /* the test is about frames, not fsyncs */
    ck_assert_msg(duro_sqlite_open(db_path, &opt, &p, &err) == 0, "open: %s", err.message);
    s = duro__sq_from(p);
    ck_assert_uint_eq(s->pool.checkpoints, 0);
    memset(payload, 'x', sizeof(payload) - 1);
    payload[sizeof(payload) - 1] = '\0';
    /* each message of ~2 KB fills at least one 4 KB page frame of its own */
    for (int i = 0; i < DURO__SQ_CHECKPOINT_FRAMES; i++) {
        char id[32];
        duro_msg m = { id, DURO_MSG_START, 1, T0, payload };
        snprintf(id, sizeof(id), "wal-%d", i);
        ck_assert_msg(p->ops->enqueue_orch(p, &m, &err) == 0, "enqueue: %s", err.message);
    }
    ck_assert_int_eq(duro__sq_wait_checkpoints(&s->pool, 1, 60000), 0);
    /* everything committed is in the database file: a checkpoint finds nothing left */
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done),
                     SQLITE_OK);
    ck_assert_int_eq(log, done);
    sqlite3_close(db);
    duro_provider_destroy(p);
}
END_TEST

/* One of the steady writers of wal_starts_over_under_steady_commits: WAL_ENQUEUES
 * enqueues of a ~2 KB message each (at least one WAL frame each), back to back. */
#define WAL_ENQUEUES 4000
typedef struct wal_writer {
    duro_provider *p;
    int index;
    pthread_barrier_t *start;
    int failures;
} wal_writer;

static void *wal_writer_thread(void *arg)
{
    wal_writer *w = arg;
    char payload[2048];

    memset(payload, 'w', sizeof(payload) - 1);
    payload[sizeof(payload) - 1] = '\0';
    pthread_barrier_wait(w->start);
    for (int i = 0; i < WAL_ENQUEUES; i++) {
        char id[48];
        duro_msg m = { id, DURO_MSG_START, 1, T0, payload };
        duro_error err = { 0, 0, "" };
        snprintf(id, sizeof(id), "steady-%d-%d", w->index, i);
        if (w->p->ops->enqueue_orch(w->p, &m, &err) != 0)
            w->failures++;
    }
    return NULL;
}

/* Under commits that never pause, a PASSIVE checkpoint never reaches the end of the WAL and
 * SQLite never starts the WAL over: before the RESTART round, 8,000 enqueues of ~2 KB from
 * two threads (about 5 frames each) left a WAL of all of them, ~170 MB. Now the
 * checkpointer starts it over (restarts counted) and the file stays within the 64 MiB
 * journal_size_limit. */
START_TEST(wal_starts_over_under_steady_commits)
{
    duro_provider *p = NULL;
    duro_sqlite_options opt;
    duro_error err = { 0, 0, "" };
    duro_sqlite *s;
    pthread_barrier_t start;
    pthread_t th[2];
    wal_writer w[2];
    char wal[600];
    struct stat st;

    duro_sqlite_options_init(&opt);
    opt.synchronous_normal = 1; /* the test is about frames, not fsyncs */
    ck_assert_msg(duro_sqlite_open(db_path, &opt, &p, &err) == 0, "open: %s", err.message);
    s = duro__sq_from(p);
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, 2), 0);
    for (int i = 0; i < 2; i++) {
        w[i] = (wal_writer){ p, i, &start, 0 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, wal_writer_thread, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(w[i].failures, 0);
    }
    pthread_barrier_destroy(&start);
    ck_assert_int_eq(duro__sq_wait_checkpoints(&s->pool, 1, 60000), 0);
    snprintf(wal, sizeof(wal), "%s-wal", db_path);
    ck_assert_int_eq(stat(wal, &st), 0);
    /* over 150 MB of frames were written; the WAL started over again and again, and each
     * time it starts over it is cut back to journal_size_limit (64 MiB) */
    ck_assert_uint_ge(s->pool.restarts, 1);
    ck_assert_msg(st.st_size <= 64 * 1024 * 1024, "WAL of %lld bytes after %d enqueues",
                  (long long)st.st_size, 2 * WAL_ENQUEUES);
    duro_provider_destroy(p);
}
END_TEST

static Suite *gc_suite(void)
{
    Suite *s = suite_create("group-commit");
    TCase *tc = tcase_create("batch");

    tcase_add_checked_fixture(tc, setup_path, teardown_path);
    tcase_add_test(tc, failures_rejected_alone_in_a_shared_batch);
    tcase_add_test(tc, good_commits_batched_together_all_stored);
    tcase_add_test(tc, lone_commit_is_a_batch_of_one);
    tcase_add_test(tc, wal_starts_over_under_steady_commits);
    suite_add_tcase(s, tc);

    tc = tcase_create("checkpoint");
    tcase_add_checked_fixture(tc, setup_path, teardown_path);
    tcase_add_test(tc, checkpointer_runs_when_the_wal_grows);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(gc_suite());
    int failed = junit_check_run(sr, "test-group-commit", CK_NORMAL);

    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
