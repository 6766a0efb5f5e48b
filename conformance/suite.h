/*
 * suite.h — internal interface between the conformance runner and the case files.
 *
 * Each category lives in one file conformance/cases/<category>.c and exports one
 * NULL-terminated array `const duro_case duro_cases_<category>[]`. registry.c lists the
 * arrays. The runner builds one Check suite per category and one TCase per case; before a
 * case runs it creates a fresh provider through the factory and sets the virtual clock, so
 * a case body only uses `ctx` and Check's ck_assert_* macros. Times are virtual: advance
 * ctx->now to expire locks and make delayed messages visible; never sleep.
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

/* Start of the virtual clock for every case (2023-11-14T22:13:20Z). */
#define DURO_CT_EPOCH_MS INT64_C(1700000000000)
/* Lock duration most cases use; expiry is simulated by advancing ctx->now past it. */
#define DURO_CT_LOCK_MS INT64_C(30000)

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

/* The registry: every category's NULL-terminated array, in report order. */
extern const duro_case *const duro_case_categories[];
extern const size_t duro_case_category_count;

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
/* Make `instance` exist and be Running with one history event (id 1, kind 1, payload
 * "started"): enqueue start, fetch, ack with name "TestOrch" version "1.0.0". */
void ct_create_instance(duro_ct_ctx *ctx, const char *instance);
/* Same with a parent link. */
void ct_create_child(duro_ct_ctx *ctx, const char *instance, const char *parent);
/* Make `instance` exist and end in `state` (COMPLETED/FAILED/CONTINUED_AS_NEW) with
 * output `output`. */
void ct_create_terminal(duro_ct_ctx *ctx, const char *instance, int state, const char *output);
/* A commit with only execution id and events (other fields zero). */
duro_orch_commit ct_commit(uint64_t execution_id, const duro_event_in *events, size_t n);
/* Ack `item` with `commit`, asserting success, then free the item. */
void ct_ack(duro_ct_ctx *ctx, duro_orch_item *item, const duro_orch_commit *commit);
/* Enqueue an activity work item for (instance, execution 1, activity_id). */
void ct_enqueue_work(duro_ct_ctx *ctx, const char *instance, uint64_t activity_id,
                     const char *payload);
/* Worker fetch with poll 0 and DURO_CT_LOCK_MS; NULL when none. */
duro_work_item *ct_try_fetch_work(duro_ct_ctx *ctx);
/* Number of events in the current execution's history of `instance`. */
size_t ct_history_len(duro_ct_ctx *ctx, const char *instance);
/* Management handle check: asserts the provider declares DURO_CAP_MANAGEMENT. */
void ct_require_management(duro_ct_ctx *ctx);

/* A reusable barrier for contention cases: N threads start together. */
typedef struct ct_barrier ct_barrier;
ct_barrier *ct_barrier_new(unsigned n);
void ct_barrier_wait(ct_barrier *b);
void ct_barrier_free(ct_barrier *b);

#endif /* DURO_CONFORMANCE_SUITE_H */
