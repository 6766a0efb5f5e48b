/*
 * e2e-common.h — fixtures shared by the end-to-end tests of the duro runtime.
 *
 * An e2e test drives the public API only (duro.h, duro-sqlite.h): it opens a fresh SQLite
 * provider (a private ":memory:" database, or a new file in a per-process temporary
 * directory), registers its orchestrations and activities, starts a runtime with options
 * tuned for fast tests, and talks to it through a client. Every scenario runs once per
 * provider kind: e2e_main() builds one Check suite per kind, one test case per scenario, and
 * writes the JUnit report. A program compiled with DURO_E2E_POSTGRES (and linked with
 * libduro-postgres) also has the kind E2E_POSTGRES: a fresh schema per environment on the
 * server of $DURO_PG_CONNINFO, dropped again by e2e_close(). All waits are event-driven
 * (duro_client_wait, the provider's commit notification, condition variables) and bounded
 * by E2E_WAIT_MS so that a broken runtime fails a test instead of hanging it.
 *
 * The assertion helpers abort the current test with a message naming the instance.
 */
#ifndef DURO_TESTS_E2E_COMMON_H
#define DURO_TESTS_E2E_COMMON_H

#include <check.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "duro-fault.h"
#ifdef DURO_E2E_POSTGRES
#include "duro-postgres.h"
#endif
#include "duro-sqlite.h"
#include "duro-util.h"
#include "duro.h"

/* Upper bound of every wait in a test; a healthy run needs a small fraction of it. */
#define E2E_WAIT_MS INT64_C(20000)

/* Provider kinds every scenario runs on (the loop index of each test). */
#ifdef DURO_E2E_POSTGRES
enum { E2E_MEMORY = 0, E2E_FILE = 1, E2E_POSTGRES = 2, E2E_NKINDS = 3 };
#else
enum { E2E_MEMORY = 0, E2E_FILE = 1, E2E_NKINDS = 2 };
#endif

/* "sqlite-memory", "sqlite-file" or "postgres". */
const char *e2e_kind_name(int kind);


/* ---- Latch: a counter threads bump and a test waits on -------------------------------- */

typedef struct e2e_latch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int count;
} e2e_latch;

void e2e_latch_init(e2e_latch *l);
void e2e_latch_destroy(e2e_latch *l);
/* Add `n` to the count and wake every waiter. */
void e2e_latch_add(e2e_latch *l, int n);
int e2e_latch_get(e2e_latch *l);
/* Wait until the count is at least `n` or `timeout_ms` passes; 1 when reached, else 0. */
int e2e_latch_wait(e2e_latch *l, int n, int64_t timeout_ms);

/* For activities that run until they are cancelled: poll duro_activity_cancelled() every
 * millisecond (the polling IS the activity's work). Returns 1 once cancelled, 0 when
 * `max_ms` passed without a cancellation. */
int e2e_run_until_cancelled(duro_activity *a, int64_t max_ms);

/* ---- Environment: provider + registry + runtime + client -------------------------------- */

/* A terminal state reported by the runtime's observer hook. */
typedef struct e2e_terminal {
    char *instance;
    uint64_t execution_id;
    int state;
    char *output;
    int category;
} e2e_terminal;

typedef struct e2e_env {
    int kind;                   /* E2E_MEMORY, E2E_FILE or E2E_POSTGRES */
    char path[PATH_MAX];        /* database file of E2E_FILE, else "" */
    char schema[64];            /* schema of E2E_POSTGRES, else "" */
    duro_provider *p;
    duro_provider *faults;      /* NULL, or a fault wrapper around p the runtime uses */
    duro_registry *reg;         /* owned; handlers of the next e2e_start() */
    duro_runtime_options opt;   /* options of the next e2e_start(); tests may adjust them */
    duro_runtime *rt;           /* NULL while stopped */
    duro_client *c;
    pthread_mutex_t mu;         /* guards terms */
    pthread_cond_t cv;
    e2e_terminal *terms;        /* every terminal state reported, in report order */
    size_t n_terms, cap_terms;
} e2e_env;

/* Open a fresh provider of `kind`, an empty registry, a client, and test options:
 * 2 turn threads, 4 activity threads, 50 ms lock renewal (cancellation is seen fast),
 * 10..50 ms unregistered backoff, the observer recording into e->terms, and runtime logs
 * silenced unless DURO_TEST_VERBOSE is set. No runtime runs yet. */
void e2e_open(e2e_env *e, int kind);
/* Same on the file database at `path` (created if missing; e2e_close removes it). */
void e2e_open_path(e2e_env *e, const char *path);
/* A second environment on the store of `other` (E2E_FILE: its file; E2E_POSTGRES: its
 * schema) with a provider handle, registry, client and options of its own: two runtimes on
 * one store. Close it before `other` (closing either removes the store). */
void e2e_open_shared(e2e_env *e, const e2e_env *other);
/* Make the next e2e_start() run the runtime on a fault wrapper (duro-fault.h) around e->p,
 * created now with `opt` and left in e->faults; the client and the assertion helpers keep
 * talking to e->p directly. */
void e2e_wrap_faults(e2e_env *e, const duro_fault_options *opt);
/* A new, unused database path in the per-process temporary directory. */
void e2e_new_db_path(char *buf, size_t size);
/* Start the runtime with e->reg and e->opt. */
void e2e_start(e2e_env *e);
/* Shut the runtime down (the provider, registry and client stay). */
void e2e_stop(e2e_env *e);
/* Stop, then start again with registry `reg` (taking ownership; the old one is freed). */
void e2e_restart_with(e2e_env *e, duro_registry *reg);
/* Stop and free everything; remove the database file (and -wal, -shm) and assert it is gone. */
void e2e_close(e2e_env *e);
/* Remove the SQLite file `path` with its -wal and -shm files (those that exist) and assert
 * that none is left. */
void e2e_remove_store(const char *path);

/* Register a handler in e->reg, asserting success. */
void e2e_orch(e2e_env *e, const char *name, duro_orch_fn fn, void *ud);
void e2e_act(e2e_env *e, const char *name, duro_activity_fn fn, void *ud);

/* Client calls asserting success. */
void e2e_start_instance(e2e_env *e, const char *id, const char *name, const char *input);
void e2e_raise(e2e_env *e, const char *id, const char *event, const char *data);
void e2e_cancel(e2e_env *e, const char *id, const char *reason);

/* Wait until `id` is completed or failed (asserting it gets there within E2E_WAIT_MS) and
 * fill *st (clear it with duro_status_clear). */
void e2e_wait(e2e_env *e, const char *id, duro_status *st);
/* Wait and assert COMPLETED with exactly `output`. */
void e2e_expect_completed(e2e_env *e, const char *id, const char *output);
/* Wait and assert FAILED with `category` and an error message containing `needle`. */
void e2e_expect_failed(e2e_env *e, const char *id, int category, const char *needle);
/* Wait (on the provider's commit notification) until the custom status of `id` equals
 * `status`; fails the test if the instance ends first. */
void e2e_wait_custom_status(e2e_env *e, const char *id, const char *status);
/* Wait until the observer has reported at least `n` terminal states. */
void e2e_wait_terminals(e2e_env *e, size_t n);

/* History of `id` (execution 0 = current), asserting the read succeeds. */
void e2e_history(e2e_env *e, const char *id, uint64_t execution, duro_event **events,
                 size_t *n);
/* Number of events of the kind named `kind_name` (duro_event_kind_name) in that history. */
size_t e2e_count_kind(e2e_env *e, const char *id, uint64_t execution, const char *kind_name);

/* ---- Running the scenarios ---------------------------------------------------------------- */

typedef struct e2e_test {
    const char *name;     /* test case name in reports */
    const TTest *fn;      /* a START_TEST function; its loop index _i is the provider kind */
} e2e_test;

#define E2E_ALL_KINDS ((1u << E2E_MEMORY) | (1u << E2E_FILE))

/* Run every test on every provider kind in the bit set `kinds` (one suite per kind, named
 * "sqlite-memory" / "sqlite-file"), write $DURO_JUNIT_DIR/<program>.xml, and return the
 * process exit status. Creates and finally removes the temporary directory for databases. */
int e2e_main(const char *program, unsigned kinds, const e2e_test *tests, size_t n);

#endif /* DURO_TESTS_E2E_COMMON_H */
