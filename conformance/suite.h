/*
 * suite.h — internal interface between the conformance runner and the case files.
 *
 * A category is one file conformance/cases/<category>.c: it says `#define DURO_CATEGORY
 * <category>`, writes each case as a static function `void name(duro_ct_ctx *ctx)`, and
 * ends with the table of its cases, in report order:
 *
 *     DURO_CASES = {
 *         DURO_CASE(prune_is_idempotent, DURO_CAP_MANAGEMENT, 0,
 *                   "A second identical prune deletes nothing and counts 0."),
 *         DURO_CASES_END,
 *     };
 *
 * DURO_CASE(fn, caps, hooks, guarantee) registers function `fn` under its own name with the
 * DURO_CAP_* and DURO_HOOK_* bits it needs (the runner skips it on a provider without them)
 * and the one sentence it proves. Adding a case is writing its function and its DURO_CASE
 * line. Adding a category is writing its file, listing it in conformance/local.mk and adding
 * X(<category>) to DURO_CATEGORIES below. A category listed there whose file is not built is
 * a link error (undefined duro__cases_<category>); a file whose category is not listed fails
 * to compile (duro__category_<category> undeclared).
 *
 * The runner builds one Check suite per category and one TCase per case; before a case runs
 * it creates a fresh provider through the factory and sets the virtual clock, so a case body
 * only uses `ctx`, the fixtures declared here and Check's ck_assert_* macros. Times are
 * virtual: advance ctx->now to expire locks and make delayed messages visible; never sleep.
 */
#ifndef DURO_CONFORMANCE_SUITE_H
#define DURO_CONFORMANCE_SUITE_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "duro-provider.h"
#include "duro-providertest.h"

/* Optional factory hooks a case may need (besides capability bits). */
#define DURO_HOOK_CORRUPT (1u << 0)   /* factory->corrupt_history */
#define DURO_HOOK_ATTEMPTS (1u << 1)  /* factory->max_attempt_count */
#define DURO_HOOK_ATTACH (1u << 2)    /* factory->locate and factory->attach */
#define DURO_HOOK_WRITE_LOCK (1u << 3) /* factory->hold_write_lock (version 2) */
#define DURO_HOOK_STORAGE_FAULT (1u << 4) /* factory->fail_storage (version 3) */
#define DURO_HOOK_ALLOC_FAULT (1u << 5) /* factory->fail_allocation (version 3) */

/* Start of the virtual clock for every case (2023-11-14T22:13:20Z). */
#define DURO_CT_EPOCH_MS INT64_C(1700000000000)
/* Lock duration most cases use; expiry is simulated by advancing ctx->now past it. */
#define DURO_CT_LOCK_MS INT64_C(30000)
/* Virtual time between two turns that must be told apart. */
#define DURO_CT_STEP_MS INT64_C(1000)
/* Most events ct_fill_events (and so ct_make_instance) writes. */
#define DURO_CT_MAX_EVENTS 8

typedef struct duro_ct_ctx {
    const duro_provider_factory *factory;
    duro_provider *p;   /* fresh, empty store for this case */
    int64_t now;        /* virtual clock in ms, starts at DURO_CT_EPOCH_MS */
    unsigned round;     /* repetition index when --repeat is used */
} duro_ct_ctx;

typedef void (*duro_case_fn)(duro_ct_ctx *ctx);

typedef struct duro_case {
    const char *category;   /* e.g. "atomicity" */
    const char *name;       /* unique, e.g. "ack_rolls_back_on_duplicate_event_id" */
    unsigned caps;          /* DURO_CAP_* bits the case needs */
    unsigned hooks;         /* DURO_HOOK_* bits the case needs */
    const char *guarantee;  /* one sentence: the contract rule this case proves */
    duro_case_fn fn;
} duro_case;

/* ---- Categories and their case tables ---------------------------------------------------- */

/* Every category, in report order: X(name) for each conformance/cases/<name>.c. */
#define DURO_CATEGORIES(X) \
    X(atomicity)           \
    X(instance_creation)   \
    X(instance_locking)    \
    X(lock_expiry)         \
    X(queue_semantics)     \
    X(multi_execution)     \
    X(error_handling)      \
    X(attempt_counts)      \
    X(custom_status)       \
    X(long_polling)        \
    X(time_edges)          \
    X(ordering)            \
    X(wakeups)             \
    X(cancellation)        \
    X(management)          \
    X(deletion)            \
    X(bulk_deletion)       \
    X(prune)               \
    X(referential)         \
    X(invalid_commits)     \
    X(handles)             \
    X(contention)          \
    X(allocation_failures) \
    X(tags)                \
    X(kv)                  \
    X(sessions)            \
    X(capability_filtering)

/* Each category's NULL-terminated table duro__cases_<name>, defined by its file. */
#define DURO__CT_DECLARE_CASES(name) extern const duro_case duro__cases_##name[];
DURO_CATEGORIES(DURO__CT_DECLARE_CASES)

/* One enumerator duro__category_<name> per category, for the check in DURO_CASES. */
#define DURO__CT_CATEGORY_ID(name) duro__category_##name,
enum duro__category { DURO_CATEGORIES(DURO__CT_CATEGORY_ID) };

/* The registry (registry.c): the tables in DURO_CATEGORIES order. */
extern const duro_case *const duro_case_categories[];
extern const size_t duro_case_category_count;

#define DURO__CT_STRING(x) DURO__CT_STRING_(x)
#define DURO__CT_STRING_(x) #x
#define DURO__CT_PASTE(a, b) DURO__CT_PASTE_(a, b)
#define DURO__CT_PASTE_(a, b) a##b

/* The definition of the case table of DURO_CATEGORY, which must be in DURO_CATEGORIES. */
#define DURO_CASES                                                                             \
    _Static_assert(DURO__CT_PASTE(duro__category_, DURO_CATEGORY) >= 0,                        \
                   "DURO_CATEGORY must be listed in DURO_CATEGORIES");                         \
    const duro_case DURO__CT_PASTE(duro__cases_, DURO_CATEGORY)[]

/* One entry of the table: case function `fn` of DURO_CATEGORY, named after it. */
#define DURO_CASE(fn, caps, hooks, guarantee) \
    {DURO__CT_STRING(DURO_CATEGORY), #fn, (caps), (hooks), (guarantee), (fn)}

/* The entry that ends the table. */
#define DURO_CASES_END {NULL, NULL, 0, 0, NULL, NULL}

/* ---- Fixtures shared by the case files (conformance/fixtures.c) ------------------------- */

/* Enqueue a DURO_MSG_START for `instance` visible at ctx->now. Payload "start:<instance>". */
void ct_enqueue_start(duro_ct_ctx *ctx, const char *instance);
/* Enqueue a message of `kind` with `payload` for `instance`, visible at ctx->now + delay. */
void ct_enqueue(duro_ct_ctx *ctx, const char *instance, int kind, const char *payload,
                int64_t delay_ms);
/* Fetch with poll 0 and DURO_CT_LOCK_MS; asserts success and returns the item. */
duro_orch_item *ct_fetch(duro_ct_ctx *ctx);
/* Fetch with poll 0; returns NULL when nothing is available (asserts no other error). */
duro_orch_item *ct_try_fetch(duro_ct_ctx *ctx);
/* Lock `instance` for a new turn: enqueue an EVENT "poke" visible at ctx->now and fetch,
 * asserting that the fetched item is `instance`'s. The caller acks or frees the item. */
duro_orch_item *ct_poke(duro_ct_ctx *ctx, const char *instance);
/* One turn of the existing `instance`: ct_poke, then ct_ack with `commit`. */
void ct_turn(duro_ct_ctx *ctx, const char *instance, const duro_orch_commit *commit);
/* Make `instance` exist and be Running with one history event (id 1, kind 1, payload
 * "started"): enqueue start, fetch, ack with name "TestOrch" version "1.0.0". */
void ct_create_instance(duro_ct_ctx *ctx, const char *instance);
/* Same with a parent link. */
void ct_create_child(duro_ct_ctx *ctx, const char *instance, const char *parent);
/* Make `instance` exist and end in `state` (COMPLETED/FAILED/CONTINUED_AS_NEW) with
 * output `output`. */
void ct_create_terminal(duro_ct_ctx *ctx, const char *instance, int state, const char *output);
/* Events 1..n (kind 1, payload "e<id>"), n <= DURO_CT_MAX_EVENTS. */
void ct_fill_events(duro_event_in *events, size_t n);
/* Make `instance` exist in one turn at ctx->now (name "TestOrch", version "1.0.0"): events
 * 1..n_events of ct_fill_events, parent link `parent` (NULL for a root), work items for
 * activities 1..n_work of execution 1 with payload "work" (n_work <= 4), and final `state`
 * (0 leaves it Running) with `output`. */
void ct_make_instance(duro_ct_ctx *ctx, const char *instance, const char *parent,
                      size_t n_events, size_t n_work, int state, const char *output);
/* A commit with only execution id and events (other fields zero). */
duro_orch_commit ct_commit(uint64_t execution_id, const duro_event_in *events, size_t n);
/* Ack `item` with `commit`, asserting success, then free the item. */
void ct_ack(duro_ct_ctx *ctx, duro_orch_item *item, const duro_orch_commit *commit);
/* Abandon `item` with `delay_ms` and `ignore_attempt`, asserting success, then free it. */
void ct_abandon(duro_ct_ctx *ctx, duro_orch_item *item, int64_t delay_ms, int ignore_attempt);
/* ack_orch, renew_orch and abandon_orch (not ignoring the attempt) of `token` at ctx->now,
 * with *err cleared first; they return the provider's code and assert nothing. */
int ct_ack_rc(duro_ct_ctx *ctx, const char *token, const duro_orch_commit *commit,
              duro_error *err);
int ct_renew_rc(duro_ct_ctx *ctx, const char *token, int64_t extend_ms, duro_error *err);
int ct_abandon_rc(duro_ct_ctx *ctx, const char *token, int64_t delay_ms, duro_error *err);
/* A well-formed lock token no provider hands out (32 hex digits). */
extern const char ct_bogus_token[];
/* Enqueue an activity work item for (instance, execution 1, activity_id). */
void ct_enqueue_work(duro_ct_ctx *ctx, const char *instance, uint64_t activity_id,
                     const char *payload);
/* Worker fetch with poll 0 and DURO_CT_LOCK_MS; NULL when none. */
duro_work_item *ct_try_fetch_work(duro_ct_ctx *ctx);
/* Abandon work `item` with `delay_ms` and `ignore_attempt`, asserting success; frees it. */
void ct_abandon_work(duro_ct_ctx *ctx, duro_work_item *item, int64_t delay_ms,
                     int ignore_attempt);
/* instance_info of `instance` into *out, asserting success. Clear with
 * duro_instance_info_clear(). */
void ct_instance_info(duro_ct_ctx *ctx, const char *instance, duro_instance_info *out);
/* Number of history events of execution `execution_id` of `instance` (0 = current). */
size_t ct_history_len(duro_ct_ctx *ctx, const char *instance, uint64_t execution_id);
/* Another handle on the store of ctx->p, through the factory's locate and attach hooks (as
 * another process would open it), asserted valid (duro_provider_check). The caller
 * destroys it. */
duro_provider *ct_attach(duro_ct_ctx *ctx);
/* Management handle check: asserts the provider declares DURO_CAP_MANAGEMENT. */
void ct_require_management(duro_ct_ctx *ctx);
/* ids[0..n) joined with commas into buf ("" when n is 0); returns buf. */
const char *ct_join(char **ids, size_t n, char *buf, size_t size);
/* list_instances(state_filter) joined with commas, in the provider's order; returns buf. */
const char *ct_list_instances(duro_ct_ctx *ctx, int state_filter, char *buf, size_t size);
/* list_executions(instance) as "1,2,3"; returns buf. */
const char *ct_list_executions(duro_ct_ctx *ctx, const char *instance, char *buf, size_t size);

/* A full dump of the store of `p` through its read and management calls (DURO_CAP_MANAGEMENT):
 * every listed instance and each of `ids` (listed or not) with its metadata, executions
 * (each, and the current one through id 0), histories and children, the queue depths at
 * ctx->now and at ctx->now + DURO_CT_LOCK_MS, and the metrics. Two dumps are equal exactly
 * when nothing these calls can see has changed. Returns a malloc'd string. */
char *ct_dump_store(duro_ct_ctx *ctx, duro_provider *p, const char *const *ids, size_t n_ids);

/* Assert the counts of a duro_delete_result (a macro, so failures show the case's line). */
#define DURO_CT_ASSERT_RESULT(r, n_inst, n_exec, n_events, n_msgs)                             \
    do {                                                                                       \
        ck_assert_uint_eq((r).instances, (n_inst));                                            \
        ck_assert_uint_eq((r).executions, (n_exec));                                           \
        ck_assert_uint_eq((r).events, (n_events));                                             \
        ck_assert_uint_eq((r).messages, (n_msgs));                                             \
    } while (0)

/* Assert queue_depths at ctx->now (a macro, so failures show the case's line). */
#define DURO_CT_ASSERT_DEPTHS(ctx, n_orch, n_work, n_delayed)                                  \
    do {                                                                                       \
        duro_queue_depths d_;                                                                  \
        duro_error e_;                                                                         \
        ck_assert_int_eq((ctx)->p->ops->queue_depths((ctx)->p, (ctx)->now, &d_, &e_), 0);      \
        ck_assert_uint_eq(d_.orchestrator, (n_orch));                                          \
        ck_assert_uint_eq(d_.worker, (n_work));                                                \
        ck_assert_uint_eq(d_.delayed, (n_delayed));                                            \
    } while (0)

/* A reusable barrier for contention cases: N threads start together. */
typedef struct ct_barrier ct_barrier;
ct_barrier *ct_barrier_new(unsigned n);
void ct_barrier_wait(ct_barrier *b);
void ct_barrier_free(ct_barrier *b);

/* ---- The runner's command line (runner.c) ----------------------------------------------- */

/* Parse and check a command line as duro_conformance_main() does (options, then the
 * --category / --case names against the registry), without a provider and without running,
 * listing or printing help: 0 when main would go on, 2 after the usage message main would
 * print on stderr. For the option-parser fuzz target (fuzz/fuzz-conformance-options.c). */
int duro__conformance_check_args(int argc, char **argv);

#endif /* DURO_CONFORMANCE_SUITE_H */
