/*
 * cli-fixture.c — builds the file store that tests/cli.sh runs the `duro` command against:
 * through the library and a real runtime on a real SQLite file, one instance of each kind
 * (completed, failed with an application error, running and waiting for an event with
 * durable values set, a parent with two children started one after the other, one that
 * continued as new twice), started one after another so that their creation order (the listing's order) is fixed, then `bulk`
 * more completed instances "b-NNNNN" for the paging checks.
 * Usage: cli-fixture FILE BULK. Exit status 0, or 1 with a message.
 * `cli-fixture --check-json FILE [--count N]` instead checks that FILE holds one JSON value
 * (and, with --count, an object whose "instances" array has N entries).
 * `cli-fixture --while-locked FILE PROGRAM ARGS...` runs PROGRAM while a connection of its own
 * holds FILE's write lock (BEGIN IMMEDIATE), and exits with PROGRAM's status: a program that
 * opens FILE read-write waits on that lock and fails, one that only reads does not.
 * `cli-fixture --until FILE ID STATE` runs a runtime (the same orchestrations) on FILE until
 * instance ID's status is STATE (a duro_state_name, e.g. Suspended), at most 60 s: the turn
 * that carries out a control queued by `duro terminate/suspend/resume` has then committed.
 * `cli-fixture --postgres CONNINFO ARGS...` (when built with the PostgreSQL provider) does the
 * same on the PostgreSQL store at CONNINFO, with FILE naming the schema (created when
 * missing); --while-locked then holds an EXCLUSIVE lock on every table of the schema, which
 * blocks every write and no read.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef HAVE_CONFIG_H
#include "config.h" /* DURO_HAVE_POSTGRES */
#endif
#ifdef DURO_HAVE_POSTGRES
#include <libpq-fe.h>

#include "duro-postgres.h"
#endif
#include "duro-sqlite.h"
#include "duro.h"

/* --postgres CONNINFO: the store is a PostgreSQL schema; NULL: a SQLite file. */
static const char *pg_conninfo;

static int greet(duro_activity *a, const char *input, void *ud)
{
    return duro_activity_okf(a, "Hello, %s!", input);
}

static int hello(duro_orch *o, const char *input, void *ud)
{
    duro_task *t = duro_call_activity(o, "Greet", input);

    DURO_AWAIT(o, t);
    return duro_complete(o, duro_task_value(t));
}

static int failing(duro_orch *o, const char *input, void *ud)
{
    duro_set_custom_status(o, "about to fail");
    return duro_failf(o, "boom: %s", input);
}

/* Also the durable values that `duro values` lists: "color" set twice (version 2), "note",
 * and "gone" set and cleared. */
static int waiting(duro_orch *o, const char *input, void *ud)
{
    duro_task *t = duro_wait_event(o, "go");

    duro_set_custom_status(o, "waiting for go");
    if (duro_set_value(o, "color", "blue") != 0 || duro_set_value(o, "color", "green") != 0 ||
        duro_set_value(o, "note", "two words") != 0 || duro_set_value(o, "gone", "x") != 0 ||
        duro_clear_value(o, "gone") != 0)
        return duro_failf(o, "cannot set the durable values");
    DURO_AWAIT(o, t);
    return duro_complete(o, duro_task_value(t));
}

/* The children one after the other, so that c1 is always created before c2 (the listings'
 * order; started together, two runtime threads would race to create them). */
static int parent(duro_orch *o, const char *input, void *ud)
{
    duro_task *c1 = duro_call_sub(o, "Hello", "a4-parent-c1", "c1"), *c2;

    DURO_AWAIT(o, c1);
    c2 = duro_call_sub(o, "Hello", "a4-parent-c2", "c2");
    DURO_AWAIT(o, c2);
    return duro_completef(o, "%s %s", duro_task_value(c1), duro_task_value(c2));
}

static int loop(duro_orch *o, const char *input, void *ud)
{
    int n = atoi(input);

    if (n < 2) {
        char next[16];
        snprintf(next, sizeof next, "%d", n + 1);
        return duro_continue_as_new(o, next);
    }
    return duro_complete(o, "looped");
}

/* Start `id` and wait until it is completed or failed (`wait` 0: until it has started). */
static int run(duro_client *c, const char *id, const char *name, const char *input, int wait)
{
    duro_status st = { 0 };
    duro_error err = { 0 };
    int rc = duro_client_start(c, id, name, input, &err);

    if (rc == 0 && wait)
        rc = duro_client_wait(c, id, 60000, &st, &err);
    while (rc == 0 && !wait && st.custom_status == NULL) {
        duro_status_clear(&st);
        rc = duro_client_wait(c, id, 10, &st, &err);
        if (rc == DURO_ETIMEDOUT)
            rc = 0;
    }
    duro_status_clear(&st);
    if (rc != 0)
        fprintf(stderr, "cli-fixture: %s: %s\n", id, err.message);
    return rc;
}

static int check_json(int argc, char **argv)
{
    json_error_t jerr;
    json_t *v = json_load_file(argv[2], 0, &jerr);
    int rc = 0;

    if (v == NULL) {
        fprintf(stderr, "cli-fixture: %s: invalid JSON at line %d: %s\n", argv[2], jerr.line,
                jerr.text);
        return 1;
    }
    if (argc == 5 && strcmp(argv[3], "--count") == 0) {
        size_t want = (size_t)strtoul(argv[4], NULL, 10);
        size_t got = json_array_size(json_object_get(v, "instances"));
        if (got != want) {
            fprintf(stderr, "cli-fixture: %s: %zu instances, expected %zu\n", argv[2], got, want);
            rc = 1;
        }
    }
    json_decref(v);
    return rc;
}

/* Run argv[3...] and return its exit status (1 when it cannot run or is killed). */
static int run_program(char **argv)
{
    pid_t pid;
    int status = 0;

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        execvp(argv[3], argv + 3);
        perror("cli-fixture: exec");
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        status = 1 << 8;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

#ifdef DURO_HAVE_POSTGRES
/* --while-locked on PostgreSQL: every table of schema argv[2] locked IN EXCLUSIVE MODE (which
 * conflicts with every write and not with the ACCESS SHARE of a read) while argv[3...] runs. */
static int while_locked_postgres(char **argv)
{
    static const char *const tables[] = { "instances", "executions", "history", "orch_queue",
                                          "instance_locks", "work_queue" };
    PGconn *c = PQconnectdb(pg_conninfo);
    char sql[512];
    size_t n = (size_t)snprintf(sql, sizeof sql, "BEGIN; LOCK TABLE ");
    PGresult *r;
    int status;

    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s\"%s\".%s", i > 0 ? ", " : "",
                              argv[2], tables[i]);
    snprintf(sql + n, sizeof sql - n, " IN EXCLUSIVE MODE");
    r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "cli-fixture: cannot lock schema %s: %s\n", argv[2], PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return 1;
    }
    PQclear(r);
    status = run_program(argv);
    PQclear(PQexec(c, "ROLLBACK"));
    PQfinish(c);
    return status;
}
#endif

static int while_locked(char **argv)
{
    sqlite3 *db = NULL;
    int status;

#ifdef DURO_HAVE_POSTGRES
    if (pg_conninfo != NULL)
        return while_locked_postgres(argv);
#endif
    if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "cli-fixture: cannot lock %s: %s\n", argv[2], sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    status = run_program(argv);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    return status;
}

/* Open the store `target`: the SQLite file, or with --postgres the schema of that name. */
static int open_store(const char *target, duro_provider **p, duro_error *err)
{
    duro_sqlite_options so;

#ifdef DURO_HAVE_POSTGRES
    if (pg_conninfo != NULL) {
        duro_postgres_options po;
        duro_postgres_options_init(&po);
        po.schema = target;
        return duro_postgres_open(pg_conninfo, &po, p, err);
    }
#endif
    if (pg_conninfo != NULL)
        return duro_error_set(err, DURO_ENOTSUP, 0, "built without the PostgreSQL provider");
    duro_sqlite_options_init(&so);
    so.synchronous_normal = 1;
    return duro_sqlite_open(target, &so, p, err);
}

static int register_all(duro_registry *r)
{
    int rc = duro_register_orchestration(r, "Hello", "1.0.0", hello, NULL);

    if (rc == 0)
        rc = duro_register_orchestration(r, "Fail", NULL, failing, NULL);
    if (rc == 0)
        rc = duro_register_orchestration(r, "Wait", NULL, waiting, NULL);
    if (rc == 0)
        rc = duro_register_orchestration(r, "Parent", "2.1.0", parent, NULL);
    if (rc == 0)
        rc = duro_register_orchestration(r, "Loop", NULL, loop, NULL);
    if (rc == 0)
        rc = duro_register_activity(r, "Greet", greet, NULL);
    return rc;
}

/* Wait (the runtime running) until `id` is in state `want`, at most 60 s. */
static int until_state(duro_client *c, const char *id, const char *want)
{
    duro_status st = { 0 };
    duro_error err = { 0 };
    int rc = 0;

    for (int tries = 0; rc == 0; tries++) {
        duro_status_clear(&st);
        rc = duro_client_wait(c, id, 10, &st, &err);
        if (rc == 0 || rc == DURO_ETIMEDOUT)
            rc = strcmp(duro_state_name(st.state), want) == 0 ? 1 : 0;
        if (rc == 0 && tries == 6000) {
            fprintf(stderr, "cli-fixture: %s is still %s after 60 s, not %s\n", id,
                    duro_state_name(st.state), want);
            rc = DURO_ETIMEDOUT;
        } else if (rc < 0 && rc != DURO_ETIMEDOUT) {
            fprintf(stderr, "cli-fixture: %s: %s\n", id, err.message);
        }
    }
    duro_status_clear(&st);
    return rc == 1 ? 0 : rc;
}

/* The instances of the store (see the top of the file), then `bulk` "b-NNNNN" ones. */
static int build(duro_client *c, int bulk)
{
    duro_error err = { 0 };
    int rc = run(c, "a1-done", "Hello", "world", 1);

    if (rc == 0)
        rc = run(c, "a2-failed", "Fail", "bad input", 1);
    if (rc == 0)
        rc = run(c, "a3-running", "Wait", "", 0);
    if (rc == 0)
        rc = run(c, "a4-parent", "Parent", "", 1);
    if (rc == 0)
        rc = run(c, "a5-loop", "Loop", "0", 1);
    for (int i = 0; rc == 0 && i < bulk; i++) {
        char id[32];
        snprintf(id, sizeof id, "b-%05d", i);
        rc = duro_client_start(c, id, "Hello", id, &err);
        if (rc != 0)
            fprintf(stderr, "cli-fixture: %s: %s\n", id, err.message);
    }
    for (int i = 0; rc == 0 && i < bulk; i++) {
        char id[32];
        duro_status st = { 0 };
        snprintf(id, sizeof id, "b-%05d", i);
        rc = duro_client_wait(c, id, 120000, &st, &err);
        if (rc == 0 && st.state != DURO_STATE_COMPLETED)
            rc = DURO_ESTATE;
        duro_status_clear(&st);
        if (rc != 0)
            fprintf(stderr, "cli-fixture: %s did not complete: %s\n", id, err.message);
    }
    return rc;
}

int main(int argc, char **argv)
{
    duro_provider *p = NULL;
    duro_registry *r = duro_registry_new();
    duro_runtime *rt = NULL;
    duro_client *c = NULL;
    duro_runtime_options ro;
    duro_error err = { 0 };
    int until, rc, bulk;

    if (argc >= 3 && strcmp(argv[1], "--postgres") == 0) {
        pg_conninfo = argv[2];
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    until = argc == 5 && strcmp(argv[1], "--until") == 0;
    bulk = argc == 3 ? atoi(argv[2]) : until ? 0 : -1;
    if (argc >= 4 && strcmp(argv[1], "--while-locked") == 0) {
        duro_registry_free(r);
        return while_locked(argv);
    }
    if (argc >= 3 && strcmp(argv[1], "--check-json") == 0) {
        duro_registry_free(r);
        return check_json(argc, argv);
    }

    if (bulk < 0 || r == NULL) {
        fprintf(stderr, "usage: cli-fixture [--postgres CONNINFO] FILE BULK | --until FILE ID "
                "STATE\n");
        return 1;
    }
    duro_runtime_options_init(&ro);
    ro.orch_concurrency = 2;
    ro.worker_concurrency = 2;
    rc = register_all(r);
    if (rc == 0)
        rc = open_store(until ? argv[2] : argv[1], &p, &err);
    if (rc == 0)
        rc = duro_runtime_start(p, r, &ro, &rt, &err);
    if (rc == 0)
        rc = duro_client_new(p, &c, &err);
    if (rc != 0)
        fprintf(stderr, "cli-fixture: %s\n", err.message);
    if (rc == 0)
        rc = until ? until_state(c, argv[3], argv[4]) : build(c, bulk);
    duro_client_free(c);
    duro_runtime_shutdown(rt);
    duro_provider_destroy(p);
    duro_registry_free(r);
    return rc == 0 ? 0 : 1;
}
