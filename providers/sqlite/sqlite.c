/*
 * sqlite.c — the SQLite provider object: opening, pragmas, the connection pool, the
 * prepared-statement cache, transactions, error mapping and change notification.
 *
 * An in-memory database is one private connection (a pool of one), so every call is
 * serialised by the pool. A file database runs in WAL mode with a small pool; readers run in
 * parallel, and writers of this process take a writer mutex before BEGIN IMMEDIATE, so they
 * queue on a mutex instead of sleeping in SQLite's busy handler (the busy timeout is left
 * for other processes). Every committed write bumps commit_seq; one that adds fetchable work
 * also bumps its queue's counter and wakes one long-polling fetcher of that queue (which
 * passes the baton on when it takes an item and sees another), which is how a fetch learns
 * about new work within microseconds. A completion for an instance whose turn is running is
 * not fetchable yet: that turn's commit wakes a fetcher if messages are still due.
 * Lock bookkeeping (fetch, renew, abandon) commits without an fsync on files. Writes from
 * other processes are picked up by a re-check at most every 50 ms.
 */
#include "sqlite-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_BUSY_TIMEOUT_MS 10000
#define DEFAULT_POOL_SIZE 4
#define MAX_POOL_SIZE 64
#define RECHECK_MS 50
#define CACHE_INITIAL 64

static const duro_provider_ops sqlite_ops;

/* ---- Errors ------------------------------------------------------------------------------ */

int duro__sq_error(sqlite3 *db, int rc, const char *what, duro_error *err)
{
    int code = DURO_EIO;
    int retryable = 0;

    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = DURO_EBUSY;
        retryable = 1;
        break;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
        code = DURO_EIO;
        retryable = 1;
        break;
    case SQLITE_CONSTRAINT:
        code = DURO_ECONSTRAINT;
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        code = DURO_ECORRUPT;
        break;
    case SQLITE_NOMEM:
        code = DURO_ENOMEM;
        break;
    default:
        break;
    }
    return duro_error_set(err, code, retryable, "%s: %s", what,
                          db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* ---- Statement cache --------------------------------------------------------------------- */

static size_t cache_slot(const duro__sq_cached *cache, size_t cap, const char *key)
{
    size_t i = (size_t)(((uintptr_t)key >> 3) * UINT64_C(0x9E3779B97F4A7C15)) & (cap - 1);

    while (cache[i].key != NULL && cache[i].key != key)
        i = (i + 1) & (cap - 1);
    return i;
}

static int cache_grow(duro__sq_conn *c, duro_error *err)
{
    size_t cap = c->cache_cap ? c->cache_cap * 2 : CACHE_INITIAL;
    duro__sq_cached *nc = calloc(cap, sizeof(*nc));

    if (nc == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (statement cache)");
    for (size_t i = 0; i < c->cache_cap; i++) {
        if (c->cache[i].key != NULL)
            nc[cache_slot(nc, cap, c->cache[i].key)] = c->cache[i];
    }
    free(c->cache);
    c->cache = nc;
    c->cache_cap = cap;
    return 0;
}

static int stmt_get(duro__sq_conn *c, const char *sql, sqlite3_stmt **out, duro_error *err)
{
    size_t i;
    int rc;

    if (c->cache_cap != 0) {
        i = cache_slot(c->cache, c->cache_cap, sql);
        if (c->cache[i].key != NULL) {
            *out = c->cache[i].stmt;
            return 0;
        }
    }
    if ((c->cache_len + 1) * 2 > c->cache_cap && (rc = cache_grow(c, err)) != 0)
        return rc;
    rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if (rc != SQLITE_OK)
        return duro__sq_error(c->db, rc, "prepare", err);
    i = cache_slot(c->cache, c->cache_cap, sql);
    c->cache[i].key = sql;
    c->cache[i].stmt = *out;
    c->cache_len++;
    return 0;
}

static int bind_args(duro__sq_conn *c, sqlite3_stmt *st, duro_error *err, const char *fmt,
                     va_list ap)
{
    for (int i = 1; fmt[i - 1] != '\0'; i++) {
        int rc;
        const char *s;

        switch (fmt[i - 1]) {
        case 't':
            s = va_arg(ap, const char *);
            rc = s != NULL ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)
                           : sqlite3_bind_null(st, i);
            break;
        case 'i':
            rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
            break;
        case 'u':
            rc = sqlite3_bind_int64(st, i, (sqlite3_int64)va_arg(ap, uint64_t));
            break;
        case 'd':
            rc = sqlite3_bind_int(st, i, va_arg(ap, int));
            break;
        default:
            return duro_error_set(err, DURO_EINTERNAL, 0, "bad bind format '%c'", fmt[i - 1]);
        }
        if (rc != SQLITE_OK)
            return duro__sq_error(c->db, rc, "bind", err);
    }
    return 0;
}

static int query_v(duro__sq_conn *c, const char *sql, sqlite3_stmt **out, duro_error *err,
                   const char *fmt, va_list ap)
{
    sqlite3_stmt *st;
    int rc = stmt_get(c, sql, &st, err);

    if (rc != 0)
        return rc;
    rc = bind_args(c, st, err, fmt, ap);
    if (rc != 0) {
        duro__sq_reset(st);
        return rc;
    }
    *out = st;
    return 0;
}

int duro__sq_query(duro__sq_conn *c, const char *sql, sqlite3_stmt **out, duro_error *err,
                   const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = query_v(c, sql, out, err, fmt, ap);
    va_end(ap);
    return rc;
}

int duro__sq_step(duro__sq_conn *c, sqlite3_stmt *st, duro_error *err)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return duro__sq_error(c->db, rc, "step", err);
}

void duro__sq_reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int duro__sq_exec(duro__sq_conn *c, const char *sql, duro_error *err, const char *fmt, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = query_v(c, sql, &st, err, fmt, ap);
    va_end(ap);
    if (rc != 0)
        return rc;
    while ((rc = duro__sq_step(c, st, err)) == 1)
        ;
    duro__sq_reset(st);
    return rc < 0 ? rc : sqlite3_changes(c->db);
}

int duro__sq_int(duro__sq_conn *c, const char *sql, int64_t dflt, int64_t *out,
                 duro_error *err, const char *fmt, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    int rc;

    *out = dflt;
    va_start(ap, fmt);
    rc = query_v(c, sql, &st, err, fmt, ap);
    va_end(ap);
    if (rc != 0)
        return rc;
    rc = duro__sq_step(c, st, err);
    if (rc == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(st, 0);
    duro__sq_reset(st);
    return rc;
}

int duro__sq_col_strdup(sqlite3_stmt *st, int col, char **out, duro_error *err)
{
    const unsigned char *t;
    int len;

    *out = NULL;
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return 0;
    t = sqlite3_column_text(st, col);
    len = sqlite3_column_bytes(st, col);
    if (t == NULL || (*out = malloc((size_t)len + 1)) == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (reading a column)");
    memcpy(*out, t, (size_t)len);
    (*out)[len] = '\0';
    return 0;
}

/* ---- Connections and transactions ------------------------------------------------------- */

static duro__sq_conn *pool_take(duro_sqlite *s)
{
    duro__sq_conn *c;

    pthread_mutex_lock(&s->pool_mu);
    while (s->n_idle == 0)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    c = s->idle[--s->n_idle];
    pthread_mutex_unlock(&s->pool_mu);
    return c;
}

static void pool_give(duro_sqlite *s, duro__sq_conn *c)
{
    pthread_mutex_lock(&s->pool_mu);
    s->idle[s->n_idle++] = c;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

static const char SQL_BEGIN_IMMEDIATE[] = "BEGIN IMMEDIATE";
static const char SQL_BEGIN[] = "BEGIN";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_SYNC_NORMAL[] = "PRAGMA synchronous=NORMAL";
/* end_write's internal marker for "committed, notify nobody" (never returned) */
#define DURO__SQ_QUIET 1
static const char SQL_SYNC_FULL[] = "PRAGMA synchronous=FULL";

/* Roll back whatever transaction is open on `c` (no-op outside a transaction). */
static void rollback(duro__sq_conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        duro__sq_exec(c, SQL_ROLLBACK, NULL, "");
}

static uint64_t *note_counter(duro_sqlite *s, unsigned note)
{
    if (note == DURO__SQ_NOTE_ORCH)
        return &s->orch_seq;
    if (note == DURO__SQ_NOTE_WORK)
        return &s->work_seq;
    return &s->commit_seq;
}

/* The wake-up record of a long-polling fetcher. Records are owned by the provider and reused,
 * never freed before it closes, so a waker may signal one after releasing note_mu even if
 * its fetcher has left meanwhile (the next user of the record then sees a spurious wake-up,
 * which every wait tolerates). */
typedef struct duro__sq_fetcher {
    pthread_cond_t cv;
    struct duro__sq_fetcher *next; /* on a stack: the one that began waiting before this
                                    * one; spare: the next spare record */
    int listed;                    /* on its queue's stack */
} duro__sq_fetcher;

/* The stack of sleeping fetchers of queue `note` (orchestrator or work). */
static duro__sq_fetcher **fetcher_stack(duro_sqlite *s, unsigned note)
{
    return &s->fetchers[note == DURO__SQ_NOTE_ORCH ? 0 : 1];
}

/* Caller holds note_mu: take the fetcher of `note` that began sleeping LAST off its stack
 * and return its record for the caller to signal once the mutex is released (NULL if none
 * sleeps). The most recently active thread has warm caches and is the most likely to be on
 * a running CPU; the others stay asleep. */
static duro__sq_fetcher *pop_latest(duro_sqlite *s, unsigned note)
{
    duro__sq_fetcher **top = fetcher_stack(s, note);
    duro__sq_fetcher *f = *top;

    if (f != NULL) {
        *top = f->next;
        f->listed = 0;
    }
    return f;
}

/* Signal a record returned by pop_latest (no-op for NULL); called without note_mu. */
static void wake(duro__sq_fetcher *f)
{
    if (f != NULL)
        pthread_cond_signal(&f->cv);
}

/* After a commit: every wait_commit waiter wakes (each watches its own instance), but only
 * ONE fetcher per queue that gained work; a fetcher that takes an item and sees another
 * passes the baton on (pass_baton), so several new items still reach several sleeping
 * fetchers without waking all of them for one item. */
static void notify(duro_sqlite *s, unsigned notes)
{
    duro__sq_fetcher *orch = NULL, *work = NULL;

    pthread_mutex_lock(&s->note_mu);
    s->commit_seq++;
    if (notes & DURO__SQ_NOTE_ORCH) {
        s->orch_seq++;
        orch = pop_latest(s, DURO__SQ_NOTE_ORCH);
    }
    if (notes & DURO__SQ_NOTE_WORK) {
        s->work_seq++;
        work = pop_latest(s, DURO__SQ_NOTE_WORK);
    }
    pthread_mutex_unlock(&s->note_mu);
    pthread_cond_broadcast(&s->commit_cv);
    wake(orch);
    wake(work);
}

/* A fetch of `note`'s queue took an item and saw another one fetchable: wake one more
 * fetcher. */
static void pass_baton(duro_sqlite *s, unsigned note)
{
    duro__sq_fetcher *f;

    pthread_mutex_lock(&s->note_mu);
    (*note_counter(s, note))++;
    f = pop_latest(s, note);
    pthread_mutex_unlock(&s->note_mu);
    wake(f);
}

int duro__sq_begin_write(duro_sqlite *s, duro__sq_conn **c, duro_error *err)
{
    int rc;

    pthread_mutex_lock(&s->write_mu);
    *c = pool_take(s);
    rc = duro__sq_exec(*c, SQL_BEGIN_IMMEDIATE, err, "");
    if (rc < 0) {
        pool_give(s, *c);
        pthread_mutex_unlock(&s->write_mu);
        *c = NULL;
        return rc;
    }
    return 0;
}

int duro__sq_begin_lock(duro_sqlite *s, duro__sq_conn **c, duro_error *err)
{
    int rc;

    if (s->memory || s->opt.synchronous_normal) {
        rc = duro__sq_begin_write(s, c, err);
        if (rc == 0)
            (*c)->lock_only = 1;
        return rc;
    }
    pthread_mutex_lock(&s->write_mu);
    *c = pool_take(s);
    rc = duro__sq_exec(*c, SQL_SYNC_NORMAL, err, "");
    if (rc >= 0) {
        (*c)->relaxed = 1;
        rc = duro__sq_exec(*c, SQL_BEGIN_IMMEDIATE, err, "");
    }
    if (rc >= 0)
        (*c)->lock_only = 1;
    if (rc < 0) {
        if ((*c)->relaxed)
            duro__sq_exec(*c, SQL_SYNC_FULL, NULL, "");
        (*c)->relaxed = 0;
        pool_give(s, *c);
        pthread_mutex_unlock(&s->write_mu);
        *c = NULL;
        return rc;
    }
    return 0;
}

int duro__sq_end_write(duro_sqlite *s, duro__sq_conn *c, int rc, unsigned notes,
                       duro_error *err)
{
    if (rc == 0) {
        int crc = duro__sq_exec(c, SQL_COMMIT, err, "");
        if (crc < 0)
            rc = crc;
    }
    if (rc != 0)
        rollback(c);
    if (c->relaxed) {
        duro__sq_exec(c, SQL_SYNC_FULL, NULL, "");
        c->relaxed = 0;
    }
    /* lock bookkeeping that makes nothing fetchable (a fetch, a renewal) wakes nobody */
    if (c->lock_only && notes == 0)
        rc = rc == 0 ? DURO__SQ_QUIET : rc;
    c->lock_only = 0;
    pool_give(s, c);
    pthread_mutex_unlock(&s->write_mu);
    if (rc == DURO__SQ_QUIET)
        return 0;
    if (rc == 0)
        notify(s, notes);
    return rc;
}

int duro__sq_begin_read(duro_sqlite *s, duro__sq_conn **c, duro_error *err)
{
    int rc;

    *c = pool_take(s);
    rc = duro__sq_exec(*c, SQL_BEGIN, err, "");
    if (rc < 0) {
        pool_give(s, *c);
        *c = NULL;
        return rc;
    }
    return 0;
}

void duro__sq_end_read(duro_sqlite *s, duro__sq_conn *c)
{
    rollback(c);
    pool_give(s, c);
}

/* ---- Notification and long polling ------------------------------------------------------ */

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct timespec deadline_after(int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}


/* Read the counter of `note` and the interrupt generation in one step. */
static uint64_t note_read(duro_sqlite *s, unsigned note, uint64_t *gen)
{
    uint64_t v;

    pthread_mutex_lock(&s->note_mu);
    v = *note_counter(s, note);
    if (gen != NULL)
        *gen = s->interrupt_gen;
    pthread_mutex_unlock(&s->note_mu);
    return v;
}

/* Caller holds note_mu: take `f` off its stack if a waker has not already done so. */
static void unlist(duro__sq_fetcher **top, duro__sq_fetcher *f)
{
    if (!f->listed)
        return;
    while (*top != f)
        top = &(*top)->next;
    *top = f->next;
    f->listed = 0;
}

/* Caller holds note_mu: a spare fetcher record, or a new one; NULL when out of memory. */
static duro__sq_fetcher *fetcher_take(duro_sqlite *s)
{
    duro__sq_fetcher *f = s->spare_fetchers;

    if (f != NULL) {
        s->spare_fetchers = f->next;
        return f;
    }
    f = calloc(1, sizeof(*f));
    if (f != NULL && pthread_cond_init(&f->cv, &s->mono_attr) != 0) {
        free(f);
        f = NULL;
    }
    return f;
}

/* Wait until the counter of `note` passes `seen`, the interrupt generation passes `gen`, or
 * `timeout_ms` elapses (< 0: no limit). A fetcher (orchestrator or work note) sleeps on its
 * own record on its queue's stack; a wait_commit waiter (note 0), or a fetcher when no
 * record can be allocated, on commit_cv, which every commit broadcasts. Returns 0 when the
 * counter moved, DURO_ESHUTDOWN when interrupted, DURO_ETIMEDOUT otherwise. */
static int note_wait(duro_sqlite *s, unsigned note, uint64_t seen, uint64_t gen,
                     int64_t timeout_ms)
{
    struct timespec dl = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
    uint64_t *ctr = note_counter(s, note);
    duro__sq_fetcher **top = NULL, *self = NULL;
    pthread_cond_t *cv = &s->commit_cv;
    int rc = 0;

    pthread_mutex_lock(&s->note_mu);
    if (note != 0 && (self = fetcher_take(s)) != NULL) {
        top = fetcher_stack(s, note);
        cv = &self->cv;
    }
    while (*ctr <= seen && s->interrupt_gen == gen && rc != ETIMEDOUT) {
        if (self != NULL && !self->listed) {
            self->next = *top;
            *top = self;
            self->listed = 1;
        }
        if (timeout_ms < 0)
            pthread_cond_wait(cv, &s->note_mu);
        else
            rc = pthread_cond_timedwait(cv, &s->note_mu, &dl);
    }
    if (self != NULL) {
        unlist(top, self);
        self->next = s->spare_fetchers;
        s->spare_fetchers = self;
    }
    rc = *ctr > seen ? 0 : s->interrupt_gen != gen ? DURO_ESHUTDOWN : DURO_ETIMEDOUT;
    pthread_mutex_unlock(&s->note_mu);
    return rc;
}

int duro__sq_poll(duro_sqlite *s, unsigned note, int64_t now_ms, int64_t poll_ms,
                  duro__sq_try_fn try, void *arg, duro_error *err)
{
    int64_t start = mono_us();
    uint64_t gen;

    note_read(s, note, &gen);
    for (int first = 1;; first = 0) {
        uint64_t seen = note_read(s, note, NULL);
        /* the first try runs at now_ms; later ones at now_ms plus the whole milliseconds
         * waited, never rounded up (a delayed message must not become visible early) */
        int64_t elapsed = first ? 0 : (mono_us() - start) / 1000;
        int64_t now = duro__sq_add_ms(now_ms, elapsed);
        int64_t next = DURO__SQ_NEVER;
        int64_t wait;
        int rc = try(s, now, arg, &next, err);

        if (rc == 0 && next <= now)
            pass_baton(s, note);
        if (rc != DURO_ENOTFOUND)
            return rc;
        if (poll_ms <= 0 || elapsed >= poll_ms)
            return duro_error_set(err, DURO_ENOTFOUND, 1, "no work available");
        wait = poll_ms - elapsed;
        if (wait > RECHECK_MS)
            wait = RECHECK_MS;
        if (next != DURO__SQ_NEVER && next - now < wait)
            wait = next - now > 0 ? next - now : 0;
        if (note_wait(s, note, seen, gen, wait) == DURO_ESHUTDOWN)
            return duro_error_set(err, DURO_ENOTFOUND, 1, "no work available (interrupted)");
    }
}

static uint64_t sq_commit_seq(duro_provider *p)
{
    return note_read((duro_sqlite *)p, 0, NULL);
}

static int sq_wait_commit(duro_provider *p, uint64_t seq, int64_t timeout_ms)
{
    duro_sqlite *s = (duro_sqlite *)p;
    uint64_t gen;
    int rc;

    note_read(s, 0, &gen);
    rc = note_wait(s, 0, seq, gen, timeout_ms);
    return rc == DURO_ESHUTDOWN ? DURO_ETIMEDOUT : rc;
}

/* Wake every fetch and wait_commit blocked on this provider (runtime shutdown); waits that
 * begin after the call are not affected. */
static void sq_interrupt(duro_provider *p)
{
    duro_sqlite *s = (duro_sqlite *)p;

    pthread_mutex_lock(&s->note_mu);
    s->interrupt_gen++;
    for (int i = 0; i < 2; i++)
        for (duro__sq_fetcher *f = s->fetchers[i]; f != NULL; f = f->next)
            pthread_cond_signal(&f->cv); /* under the mutex: they stay listed until they leave */
    pthread_cond_broadcast(&s->commit_cv);
    pthread_mutex_unlock(&s->note_mu);
}

/* ---- Opening and closing ---------------------------------------------------------------- */

static void conn_close(duro__sq_conn *c)
{
    for (size_t i = 0; i < c->cache_cap; i++) {
        if (c->cache[i].key != NULL)
            sqlite3_finalize(c->cache[i].stmt);
    }
    free(c->cache);
    c->cache = NULL;
    c->cache_cap = c->cache_len = 0;
    if (c->db != NULL)
        sqlite3_close(c->db);
    c->db = NULL;
}

/* Run a pragma that returns one text row and copy it into buf (may be NULL). */
static int pragma(duro__sq_conn *c, const char *sql, char *buf, size_t size, duro_error *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);

    if (rc != SQLITE_OK)
        return duro__sq_error(c->db, rc, sql, err);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (buf != NULL && size > 0) {
            snprintf(buf, size, "%s", t != NULL ? (const char *)t : "");
            buf = NULL;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return duro__sq_error(c->db, rc, sql, err);
    return 0;
}

static int conn_open(duro_sqlite *s, duro__sq_conn *c, duro_error *err)
{
    char mode[32];
    int rc = sqlite3_open_v2(s->path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);

    if (rc != SQLITE_OK) {
        if (c->db == NULL)
            return duro_error_set(err, DURO_ENOMEM, 0, "out of memory opening %s", s->path);
        rc = duro__sq_error(c->db, rc, s->path, err);
        conn_close(c);
        return rc;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, s->opt.busy_timeout_ms);
    if (s->memory)
        return 0;
    rc = pragma(c, "PRAGMA journal_mode=WAL", mode, sizeof(mode), err);
    if (rc == 0 && strcmp(mode, "wal") != 0)
        rc = duro_error_set(err, DURO_EIO, 0, "%s: cannot enable WAL (journal_mode=%s)",
                            s->path, mode);
    if (rc == 0)
        rc = pragma(c, s->opt.synchronous_normal ? "PRAGMA synchronous=NORMAL"
                                                 : "PRAGMA synchronous=FULL",
                    NULL, 0, err);
    if (rc != 0)
        conn_close(c);
    return rc;
}

static void sq_destroy(duro_provider *p)
{
    duro_sqlite *s = (duro_sqlite *)p;

    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_conns; i++)
        conn_close(&s->conns[i]);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    pthread_mutex_destroy(&s->write_mu);
    pthread_mutex_destroy(&s->note_mu);
    pthread_cond_destroy(&s->commit_cv);
    while (s->spare_fetchers != NULL) {
        duro__sq_fetcher *f = s->spare_fetchers;
        s->spare_fetchers = f->next;
        pthread_cond_destroy(&f->cv);
        free(f);
    }
    pthread_condattr_destroy(&s->mono_attr);
    free(s->conns);
    free(s->idle);
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
}

static int sync_init(duro_sqlite *s, duro_error *err)
{
    int ok;

    if (pthread_condattr_init(&s->mono_attr) != 0)
        return duro_error_set(err, DURO_ENOMEM, 0, "cannot initialise a condition attribute");
    ok = pthread_condattr_setclock(&s->mono_attr, CLOCK_MONOTONIC) == 0 &&
         pthread_mutex_init(&s->pool_mu, NULL) == 0;
    if (ok && pthread_cond_init(&s->pool_cv, NULL) != 0) {
        pthread_mutex_destroy(&s->pool_mu);
        ok = 0;
    }
    if (ok && pthread_mutex_init(&s->write_mu, NULL) != 0) {
        pthread_cond_destroy(&s->pool_cv);
        pthread_mutex_destroy(&s->pool_mu);
        ok = 0;
    }
    if (ok && pthread_mutex_init(&s->note_mu, NULL) != 0) {
        pthread_mutex_destroy(&s->write_mu);
        pthread_cond_destroy(&s->pool_cv);
        pthread_mutex_destroy(&s->pool_mu);
        ok = 0;
    }
    if (ok && pthread_cond_init(&s->commit_cv, &s->mono_attr) != 0) {
        pthread_mutex_destroy(&s->note_mu);
        pthread_mutex_destroy(&s->write_mu);
        pthread_cond_destroy(&s->pool_cv);
        pthread_mutex_destroy(&s->pool_mu);
        ok = 0;
    }
    if (!ok) {
        pthread_condattr_destroy(&s->mono_attr);
        return duro_error_set(err, DURO_ENOMEM, 0, "cannot initialise locks");
    }
    return 0;
}

/* Allocate the provider object for `path` with validated options (no connection yet). */
static int provider_new(const char *path, const duro_sqlite_options *opt, duro_sqlite **out,
                        duro_error *err)
{
    duro_sqlite *s = calloc(1, sizeof(*s));
    size_t n;

    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory opening %s", path);
    }
    s->memory = strcmp(path, ":memory:") == 0;
    s->opt = *opt;
    n = s->memory ? 1 : (size_t)opt->pool_size;
    s->conns = calloc(n, sizeof(*s->conns));
    s->idle = calloc(n, sizeof(*s->idle));
    if (s->conns == NULL || s->idle == NULL) {
        free(s->conns);
        free(s->idle);
        free(s->path);
        free(s);
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory opening %s", path);
    }
    if (sync_init(s, err) != 0) {
        free(s->conns);
        free(s->idle);
        free(s->path);
        free(s);
        return DURO_ENOMEM;
    }
    s->n_conns = n;
    s->base.ops = &sqlite_ops;
    s->base.name = s->memory ? "sqlite" : "sqlite-file";
    s->base.caps = DURO_CAP_MANAGEMENT | DURO_CAP_LONG_POLL | DURO_CAP_NOTIFY;
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
    rc = provider_new(path, &o, &s, err);
    if (rc != 0)
        return rc;
    /* The first connection migrates the schema before the others open. */
    for (size_t i = 0; i < s->n_conns; i++) {
        rc = conn_open(s, &s->conns[i], err);
        if (rc == 0 && i == 0)
            rc = duro__sq_migrate(&s->conns[0], err);
        if (rc != 0) {
            sq_destroy(&s->base);
            return rc;
        }
        s->idle[s->n_idle++] = &s->conns[i];
    }
    *out = &s->base;
    return 0;
}

/* ---- Small shared helpers --------------------------------------------------------------- */

duro_sqlite *duro__sq_from(duro_provider *p)
{
    /* by the destroy callback, so that a caller may wrap the ops table (tests do) */
    return p != NULL && p->ops != NULL && p->ops->destroy == sq_destroy ? (duro_sqlite *)p
                                                                         : NULL;
}

const char *duro_sqlite_path(duro_provider *p)
{
    return duro__sq_path(p);
}

const char *duro__sq_path(duro_provider *p)
{
    duro_sqlite *s = duro__sq_from(p);

    return s != NULL ? s->path : NULL;
}

int64_t duro__sq_add_ms(int64_t now, int64_t delta)
{
    if (delta > 0 && now > INT64_MAX - delta)
        return INT64_MAX;
    if (delta < 0 && now < INT64_MIN - delta)
        return INT64_MIN;
    return now + delta;
}

int duro__sq_need_str(const char *s, const char *what, duro_error *err)
{
    if (s == NULL || *s == '\0')
        return duro_error_set(err, DURO_EINVAL, 0, "%s is required", what);
    return 0;
}

static int sq_integrity_check(duro_provider *p, char *msg, size_t msg_size)
{
    return duro_sqlite_integrity_check(p, msg, msg_size);
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
};
