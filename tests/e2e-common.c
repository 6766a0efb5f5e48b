/*
 * e2e-common.c — fixtures shared by the end-to-end tests: provider environments, latches,
 * event-driven waits with assertions, and the main() that runs every scenario on every
 * provider kind asked for and writes the JUnit report.
 */
#include "e2e-common.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "junit-check.h"

/* Temporary directory holding this process's database files (created by e2e_main). */
static char e2e_dir[PATH_MAX];
static unsigned e2e_db_counter;

const char *e2e_kind_name(int kind)
{
#ifdef DURO_E2E_POSTGRES
    if (kind == E2E_POSTGRES)
        return "postgres";
#endif
    return kind == E2E_FILE ? "sqlite-file" : "sqlite-memory";
}

/* ---- Latch ---------------------------------------------------------------------------------- */

void e2e_latch_init(e2e_latch *l)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    ck_assert_int_eq(pthread_mutex_init(&l->mu, NULL), 0);
    ck_assert_int_eq(pthread_cond_init(&l->cv, &ca), 0);
    pthread_condattr_destroy(&ca);
    l->count = 0;
}

void e2e_latch_destroy(e2e_latch *l)
{
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
}

void e2e_latch_add(e2e_latch *l, int n)
{
    pthread_mutex_lock(&l->mu);
    l->count += n;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

int e2e_latch_get(e2e_latch *l)
{
    pthread_mutex_lock(&l->mu);
    int n = l->count;
    pthread_mutex_unlock(&l->mu);
    return n;
}

int e2e_latch_wait(e2e_latch *l, int n, int64_t timeout_ms)
{
    struct timespec until = duro__monotonic_after_us(duro__ms_to_us_sat(timeout_ms));
    int rc = 0;
    pthread_mutex_lock(&l->mu);
    while (l->count < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&l->cv, &l->mu, &until);
    int reached = l->count >= n;
    pthread_mutex_unlock(&l->mu);
    return reached;
}

int e2e_run_until_cancelled(duro_activity *a, int64_t max_ms)
{
    const struct timespec tick = {0, 1000000};
    int64_t until = duro__monotonic_ms() + max_ms;
    while (!duro_activity_cancelled(a)) {
        if (duro__monotonic_ms() >= until)
            return 0;
        nanosleep(&tick, NULL);
    }
    return 1;
}

/* ---- Environment ---------------------------------------------------------------------------- */

static void e2e_on_terminal(const duro_terminal_event *ev, void *ud)
{
    e2e_env *e = ud;
    pthread_mutex_lock(&e->mu);
    if (e->n_terms == e->cap_terms) {
        size_t cap = e->cap_terms ? e->cap_terms * 2 : 16;
        e2e_terminal *t = realloc(e->terms, cap * sizeof *t);
        if (!t)
            goto out;
        e->terms = t;
        e->cap_terms = cap;
    }
    e2e_terminal *t = &e->terms[e->n_terms];
    t->instance = strdup(ev->instance);
    t->output = strdup(ev->output ? ev->output : "");
    if (!t->instance || !t->output) {
        free(t->instance);
        free(t->output);
        goto out;
    }
    t->execution_id = ev->execution_id;
    t->state = ev->state;
    t->category = ev->category;
    e->n_terms++;
out:
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static void e2e_log(int level, const char *instance, const char *message, void *ud)
{
    (void)ud;
    static const char *const names[] = {"info", "warning", "error"};
    fprintf(stderr, "[%s] %s: %s\n", names[level >= 0 && level <= 2 ? level : 2],
            instance ? instance : "-", message);
}

static void e2e_log_quiet(int level, const char *instance, const char *message, void *ud)
{
    (void)level;
    (void)instance;
    (void)message;
    (void)ud;
}

void e2e_new_db_path(char *buf, size_t size)
{
    ck_assert_msg(e2e_dir[0] != '\0', "the temporary directory was not created");
    int len = snprintf(buf, size, "%s/db-%ld-%u.sqlite", e2e_dir, (long)getpid(),
                       e2e_db_counter++);
    ck_assert_msg(len > 0 && (size_t)len < size, "database path too long");
}

#ifdef DURO_E2E_POSTGRES
/* The server of the E2E_POSTGRES kind. */
static const char *e2e_conninfo(void)
{
    const char *conninfo = getenv("DURO_PG_CONNINFO");
    ck_assert_msg(conninfo && *conninfo, "DURO_PG_CONNINFO is not set");
    return conninfo;
}

/* A provider on a new, empty schema of its own in e->schema; or, with `shared` (another
 * environment's schema), on that one, leaving e->schema empty (its owner drops it). */
static void e2e_open_postgres(e2e_env *e, const char *shared)
{
    const char *conninfo = e2e_conninfo();
    duro_postgres_options po;
    duro_error err = {0};
    if (!shared) {
        snprintf(e->schema, sizeof e->schema, "duro_e2e_%ld_%u", (long)getpid(),
                 e2e_db_counter++);
        duro_postgres_drop_schema(conninfo, e->schema, NULL);
    }
    duro_postgres_options_init(&po);
    po.schema = shared ? shared : e->schema;
    po.synchronous_commit = 0; /* a server crash may lose the last commits; only tests lose */
    int rc = duro_postgres_open(conninfo, &po, &e->p, &err);
    ck_assert_msg(rc == 0, "duro_postgres_open(%s): %s (%s)", po.schema, duro_strerror(rc),
                  err.message);
}
#endif

static void e2e_open_provider(e2e_env *e, const char *path, const char *shared_schema)
{
#ifdef DURO_E2E_POSTGRES
    if (e->kind == E2E_POSTGRES) {
        e2e_open_postgres(e, shared_schema);
        return;
    }
#else
    (void)shared_schema;
#endif
    duro_sqlite_options so;
    duro_sqlite_options_init(&so);
    so.synchronous_normal = 1; /* WAL + NORMAL survives a process kill; only fast tests lose */
    duro_error err = {0};
    int rc = duro_sqlite_open(path ? path : ":memory:", &so, &e->p, &err);
    ck_assert_msg(rc == 0, "duro_sqlite_open(%s): %s (%s)", path ? path : ":memory:",
                  duro_strerror(rc), err.message);
}

static void e2e_open_common(e2e_env *e, int kind, const char *path, const char *shared_schema)
{
    memset(e, 0, sizeof *e);
    e->kind = kind;
    if (path)
        snprintf(e->path, sizeof e->path, "%s", path);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    ck_assert_int_eq(pthread_mutex_init(&e->mu, NULL), 0);
    ck_assert_int_eq(pthread_cond_init(&e->cv, &ca), 0);
    pthread_condattr_destroy(&ca);

    e2e_open_provider(e, path, shared_schema);
    ck_assert_msg(e->p->caps & DURO_CAP_NOTIFY, "the %s provider must notify commits",
                  e->p->name);
    duro_error err = {0};
    e->reg = duro_registry_new();
    ck_assert_ptr_nonnull(e->reg);
    ck_assert_int_eq(duro_client_new(e->p, &e->c, &err), 0);

    duro_runtime_options_init(&e->opt);
    e->opt.orch_concurrency = 2;
    e->opt.worker_concurrency = 4;
    e->opt.renew_interval_ms = 50;
    e->opt.unregistered_backoff_ms = 10;
    e->opt.unregistered_backoff_max_ms = 50;
    e->opt.on_terminal = e2e_on_terminal;
    e->opt.on_terminal_ud = e;
    const char *verbose = getenv("DURO_TEST_VERBOSE");
    e->opt.log = verbose && *verbose ? e2e_log : e2e_log_quiet;
}

void e2e_open(e2e_env *e, int kind)
{
    char path[PATH_MAX];
    if (kind == E2E_FILE)
        e2e_new_db_path(path, sizeof path);
    e2e_open_common(e, kind, kind == E2E_FILE ? path : NULL, NULL);
}

void e2e_open_path(e2e_env *e, const char *path)
{
    e2e_open_common(e, E2E_FILE, path, NULL);
}

void e2e_open_shared(e2e_env *e, const e2e_env *other)
{
    ck_assert_msg(other->kind != E2E_MEMORY, "an in-memory store cannot be shared");
    e2e_open_common(e, other->kind, other->path[0] ? other->path : NULL,
                    other->schema[0] ? other->schema : NULL);
}

void e2e_wrap_faults(e2e_env *e, const duro_fault_options *opt)
{
    duro_error err = {0};
    ck_assert_ptr_null(e->faults);
    ck_assert_msg(duro_fault_wrap(e->p, opt, &e->faults, &err) == 0, "duro_fault_wrap: %s",
                  err.message);
}

void e2e_start(e2e_env *e)
{
    ck_assert_ptr_null(e->rt);
    duro_error err = {0};
    int rc = duro_runtime_start(e->faults ? e->faults : e->p, e->reg, &e->opt, &e->rt, &err);
    ck_assert_msg(rc == 0, "duro_runtime_start: %s", err.message);
}

void e2e_stop(e2e_env *e)
{
    ck_assert_int_eq(duro_runtime_shutdown(e->rt), 0);
    e->rt = NULL;
}

void e2e_restart_with(e2e_env *e, duro_registry *reg)
{
    ck_assert_ptr_nonnull(reg);
    if (e->rt)
        e2e_stop(e);
    duro_registry_free(e->reg);
    e->reg = reg;
    e2e_start(e);
}

/* Remove `path` if it exists; assert nothing is left. */
static void e2e_remove(const char *path)
{
    struct stat sb;
    if (unlink(path) != 0)
        ck_assert_msg(errno == ENOENT, "cannot remove %s: %s", path, strerror(errno));
    ck_assert_msg(stat(path, &sb) != 0 && errno == ENOENT, "%s still exists", path);
}

void e2e_remove_store(const char *path)
{
    char side[PATH_MAX + 8];
    e2e_remove(path);
    snprintf(side, sizeof side, "%s-wal", path);
    e2e_remove(side);
    snprintf(side, sizeof side, "%s-shm", path);
    e2e_remove(side);
}

void e2e_close(e2e_env *e)
{
    if (e->rt)
        e2e_stop(e);
    duro_client_free(e->c);
    duro_registry_free(e->reg);
    duro_provider_destroy(e->faults);
    duro_provider_destroy(e->p);
#ifdef DURO_E2E_POSTGRES
    if (e->schema[0]) {
        duro_error err = {0};
        int rc = duro_postgres_drop_schema(e2e_conninfo(), e->schema, &err);
        ck_assert_msg(rc == 0, "drop schema %s: %s", e->schema, err.message);
    }
#endif
    if (e->path[0])
        e2e_remove_store(e->path);
    for (size_t i = 0; i < e->n_terms; i++) {
        free(e->terms[i].instance);
        free(e->terms[i].output);
    }
    free(e->terms);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    memset(e, 0, sizeof *e);
}

void e2e_orch(e2e_env *e, const char *name, duro_orch_fn fn, void *ud)
{
    int rc = duro_register_orchestration(e->reg, name, NULL, fn, ud);
    ck_assert_msg(rc == 0, "register orchestration %s: %s", name, duro_strerror(rc));
}

void e2e_act(e2e_env *e, const char *name, duro_activity_fn fn, void *ud)
{
    int rc = duro_register_activity(e->reg, name, fn, ud);
    ck_assert_msg(rc == 0, "register activity %s: %s", name, duro_strerror(rc));
}

/* ---- Client calls and waits ------------------------------------------------------------------ */

void e2e_start_instance(e2e_env *e, const char *id, const char *name, const char *input)
{
    duro_error err = {0};
    int rc = duro_client_start(e->c, id, name, input, &err);
    ck_assert_msg(rc == 0, "start %s: %s (%s)", id, duro_strerror(rc), err.message);
}

void e2e_raise(e2e_env *e, const char *id, const char *event, const char *data)
{
    duro_error err = {0};
    int rc = duro_client_raise_event(e->c, id, event, data, &err);
    ck_assert_msg(rc == 0, "raise %s on %s: %s (%s)", event, id, duro_strerror(rc),
                  err.message);
}

void e2e_cancel(e2e_env *e, const char *id, const char *reason)
{
    duro_error err = {0};
    int rc = duro_client_cancel(e->c, id, reason, &err);
    ck_assert_msg(rc == 0, "cancel %s: %s (%s)", id, duro_strerror(rc), err.message);
}

void e2e_wait(e2e_env *e, const char *id, duro_status *st)
{
    duro_error err = {0};
    memset(st, 0, sizeof *st);
    int rc = duro_client_wait(e->c, id, E2E_WAIT_MS, st, &err);
    ck_assert_msg(rc == 0, "wait for %s: %s (%s); last state %s, custom status %s", id,
                  duro_strerror(rc), err.message, duro_state_name(st->state),
                  st->custom_status ? st->custom_status : "(none)");
}

void e2e_expect_completed(e2e_env *e, const char *id, const char *output)
{
    duro_status st;
    e2e_wait(e, id, &st);
    ck_assert_msg(st.state == DURO_STATE_COMPLETED, "%s is %s (%s: %s), expected Completed",
                  id, duro_state_name(st.state), duro_category_name(st.error_category),
                  st.error ? st.error : "");
    ck_assert_msg(st.output && strcmp(st.output, output) == 0,
                  "%s completed with \"%s\", expected \"%s\"", id,
                  st.output ? st.output : "(null)", output);
    duro_status_clear(&st);
}

void e2e_expect_failed(e2e_env *e, const char *id, int category, const char *needle)
{
    duro_status st;
    e2e_wait(e, id, &st);
    ck_assert_msg(st.state == DURO_STATE_FAILED, "%s is %s (output \"%s\"), expected Failed",
                  id, duro_state_name(st.state), st.output ? st.output : "");
    ck_assert_msg((int)st.error_category == category, "%s failed as %s (\"%s\"), expected %s",
                  id, duro_category_name(st.error_category), st.error ? st.error : "",
                  duro_category_name(category));
    ck_assert_msg(st.error && strstr(st.error, needle),
                  "%s failed with \"%s\", expected it to contain \"%s\"", id,
                  st.error ? st.error : "(null)", needle);
    duro_status_clear(&st);
}

void e2e_wait_custom_status(e2e_env *e, const char *id, const char *status)
{
    int64_t until = duro__monotonic_ms() + E2E_WAIT_MS;
    for (;;) {
        uint64_t seq = e->p->ops->commit_seq(e->p);
        duro_status st = {0};
        duro_error err = {0};
        int rc = duro_client_status(e->c, id, &st, &err);
        ck_assert_msg(rc == 0, "status of %s: %s (%s)", id, duro_strerror(rc), err.message);
        int match = st.custom_status && strcmp(st.custom_status, status) == 0;
        int ended = st.state == DURO_STATE_COMPLETED || st.state == DURO_STATE_FAILED;
        ck_assert_msg(match || !ended, "%s ended (%s: %s) before its custom status became %s",
                      id, duro_state_name(st.state), st.error ? st.error : "", status);
        duro_status_clear(&st);
        if (match)
            return;
        int64_t left = until - duro__monotonic_ms();
        ck_assert_msg(left > 0, "timed out waiting for custom status \"%s\" of %s", status, id);
        e->p->ops->wait_commit(e->p, seq, left);
    }
}

void e2e_wait_terminals(e2e_env *e, size_t n)
{
    struct timespec until = duro__monotonic_after_us(duro__ms_to_us_sat(E2E_WAIT_MS));
    int rc = 0;
    pthread_mutex_lock(&e->mu);
    while (e->n_terms < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&e->cv, &e->mu, &until);
    size_t got = e->n_terms;
    pthread_mutex_unlock(&e->mu);
    ck_assert_msg(got >= n, "the observer reported %zu terminal states, expected %zu", got, n);
}

void e2e_history(e2e_env *e, const char *id, uint64_t execution, duro_event **events,
                 size_t *n)
{
    duro_error err = {0};
    int rc = duro_client_history(e->c, id, execution, events, n, &err);
    ck_assert_msg(rc == 0, "history of %s: %s (%s)", id, duro_strerror(rc), err.message);
}

size_t e2e_count_kind(e2e_env *e, const char *id, uint64_t execution, const char *kind_name)
{
    duro_event *ev = NULL;
    size_t n = 0, count = 0;
    e2e_history(e, id, execution, &ev, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(duro_event_kind_name(ev[i].kind), kind_name) == 0)
            count++;
    duro_events_free(ev, n);
    return count;
}

/* ---- main ------------------------------------------------------------------------------------ */

static int e2e_dir_create(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(e2e_dir, sizeof e2e_dir, "%s/duro-e2e-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(e2e_dir)) {
        fprintf(stderr, "cannot create a temporary directory %s: %s\n", e2e_dir,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* Remove the temporary directory with whatever a failed or killed test left in it. */
static void e2e_dir_remove(void)
{
    DIR *d = opendir(e2e_dir);
    if (d) {
        struct dirent *de;
        char path[PATH_MAX + 256];
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", e2e_dir, de->d_name);
            unlink(path);
        }
        closedir(d);
    }
    if (rmdir(e2e_dir) != 0)
        fprintf(stderr, "cannot remove %s: %s\n", e2e_dir, strerror(errno));
}

/* Seconds a test case of `kind` may take. PostgreSQL's are longer: every provider call is a
 * round trip to a server sharing the machine (test-manage's allocation failures, thousands
 * of calls, took 46 s inside a loaded make -j2 check, 16 s alone). */
static int e2e_timeout_s(int kind)
{
#ifdef DURO_E2E_POSTGRES
    if (kind == E2E_POSTGRES)
        return 300;
#endif
    (void)kind;
    return 60;
}

int e2e_main(const char *program, unsigned kinds, const e2e_test *tests, size_t n)
{
    if (e2e_dir_create() != 0)
        return EXIT_FAILURE;
    SRunner *sr = srunner_create(NULL);
    for (int kind = 0; kind < E2E_NKINDS; kind++) {
        if (!(kinds & (1u << kind)))
            continue;
        Suite *s = suite_create(e2e_kind_name(kind));
        for (size_t i = 0; i < n; i++) {
            TCase *tc = tcase_create(tests[i].name);
            tcase_set_timeout(tc, e2e_timeout_s(kind));
            tcase_add_loop_test(tc, tests[i].fn, kind, kind + 1);
            suite_add_tcase(s, tc);
        }
        srunner_add_suite(sr, s);
    }
    int failed = junit_check_run(sr, program, CK_NORMAL);
    srunner_free(sr);
    e2e_dir_remove();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
