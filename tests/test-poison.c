/*
 * test-poison.c — the poison path ends an instance whatever is stored (issue 11, finding 4).
 *
 * Each test damages one stored row of a file database behind the runtime's back (a second
 * SQLite connection, while no runtime runs), restarts the runtime with max_attempts 2 and
 * checks that the instance ends FAILED with the poison category and a message naming the
 * damage, that the runtime logged the escalation, and that nothing is retried afterwards:
 * the instance holds no messages and no lock. Damage covered: a start message that cannot
 * be decoded, an event id at INT64_MAX, and a current execution that does not exist.
 */
#include <check.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e-common.h"

/* Counts the runtime's error-level log lines that mention `needle`. */
typedef struct log_watch {
    const char *needle;
    e2e_latch seen;
} log_watch;

static void watch_log(int level, const char *instance, const char *message, void *ud)
{
    log_watch *w = ud;
    (void)instance;
    if (getenv("DURO_TEST_VERBOSE"))
        fprintf(stderr, "[%d] %s: %s\n", level, instance ? instance : "-", message);
    if (level >= 2 && w->needle && strstr(message, w->needle))
        e2e_latch_add(&w->seen, 1);
}

static int orch_wait_go(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    duro_set_custom_status(o, "waiting");
    duro_task *ev = duro_wait_event(o, "go");
    DURO_AWAIT(o, ev);
    return duro_completef(o, "got:%s", duro_task_value(ev));
}

/* Run `sql` on the database file of `e` through a connection of its own. */
static void tamper(const e2e_env *e, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    ck_assert_int_eq(sqlite3_open(e->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
    ck_assert_int_eq(sqlite3_changes(db) > 0, 1);
    sqlite3_close(db);
}

/* One integer from the database of `e`. */
static int64_t query_int(const e2e_env *e, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open(e->path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Open a file store, start "victim" and wait until it waits for "go"; stop the runtime. */
static void begin(e2e_env *e, log_watch *w, const char *needle)
{
    w->needle = needle;
    e2e_latch_init(&w->seen);
    e2e_open(e, E2E_FILE);
    e->opt.max_attempts = 2;
    e->opt.log = watch_log;
    e->opt.log_ud = w;
    e2e_orch(e, "WaitGo", orch_wait_go, NULL);
    e2e_start(e);
    e2e_start_instance(e, "victim", "WaitGo", "");
    e2e_wait_custom_status(e, "victim", "waiting");
    e2e_stop(e);
}

/* The instance ended as poison, and nothing of it is left to retry. */
static void expect_ended(e2e_env *e, const char *needle)
{
    e2e_expect_failed(e, "victim", DURO_CAT_POISON, needle);
    e2e_stop(e);
    ck_assert_int_eq(query_int(e, "SELECT COUNT(*) FROM orch_queue WHERE instance_id = 'victim'"),
                     0);
    ck_assert_int_eq(
        query_int(e, "SELECT COUNT(*) FROM instance_locks WHERE instance_id = 'victim'"), 0);
}

static void finish(e2e_env *e, log_watch *w)
{
    e2e_close(e);
    e2e_latch_destroy(&w->seen);
}

/* A start message whose payload is not JSON: the instance cannot even be started, and
 * ends as poison after max_attempts instead of being fetched forever. */
START_TEST(test_undecodable_start_message)
{
    e2e_env e;
    log_watch w;
    begin(&e, &w, NULL);
    e2e_start_instance(&e, "garbled", "WaitGo", "");
    tamper(&e, "UPDATE orch_queue SET payload = '{not json' WHERE instance_id = 'garbled'");
    e2e_start(&e);
    e2e_expect_failed(&e, "garbled", DURO_CAT_POISON, "poison: orchestration garbled");
    e2e_stop(&e);
    ck_assert_int_eq(
        query_int(&e, "SELECT COUNT(*) FROM orch_queue WHERE instance_id = 'garbled'"), 0);
    finish(&e, &w);
}
END_TEST

/* The last stored event's id is INT64_MAX: no event can follow it, so the poison verdict
 * cannot be appended; the instance still ends FAILED (a bare verdict), and the runtime says
 * so at error level. */
START_TEST(test_event_id_at_int64_max)
{
    e2e_env e;
    log_watch w;
    begin(&e, &w, "without a history event");
    tamper(&e, "UPDATE history SET event_id = 9223372036854775807 WHERE instance_id = 'victim' "
               "AND event_id = (SELECT MAX(event_id) FROM history WHERE instance_id = 'victim')");
    e2e_raise(&e, "victim", "go", "x");
    e2e_start(&e);
    expect_ended(&e, "poison: orchestration victim");
    ck_assert_int_ge(e2e_latch_get(&w.seen), 1);
    finish(&e, &w);
}
END_TEST

/* The instance row points at an execution that does not exist (77), or at execution 0,
 * which cannot exist; each ends as poison. */
START_TEST(test_garbled_current_execution)
{
    static const char *const garbage[] = {"77", "0"};
    for (size_t k = 0; k < sizeof garbage / sizeof garbage[0]; k++) {
        e2e_env e;
        log_watch w;
        char sql[160];
        begin(&e, &w, NULL);
        snprintf(sql, sizeof sql,
                 "UPDATE instances SET current_execution = %s WHERE instance_id = 'victim'",
                 garbage[k]);
        tamper(&e, sql);
        e2e_raise(&e, "victim", "go", "x");
        e2e_start(&e);
        expect_ended(&e, "poison: orchestration victim");
        finish(&e, &w);
    }
}
END_TEST

int main(void)
{
    const e2e_test tests[] = {
        {"undecodable_start_message", test_undecodable_start_message},
        {"event_id_at_int64_max", test_event_id_at_int64_max},
        {"garbled_current_execution", test_garbled_current_execution},
    };
    return e2e_main("test-poison", 1u << E2E_FILE, tests, sizeof tests / sizeof tests[0]);
}
