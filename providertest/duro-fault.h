/*
 * duro-fault.h — a provider wrapper that injects faults around ANY provider, to prove that a
 * runtime (or an application) survives them.
 *
 * The wrapper forwards every call to the provider it wraps, after three kinds of fault:
 *
 *   latency      every call first sleeps a fixed time (a simulated network round trip);
 *   before       the call fails with DURO_EBUSY, retryable, WITHOUT reaching the store: it
 *                has no side effect (a busy server, a connection refused);
 *   after        the call reaches the store, which applies it, and then the caller is told
 *                it failed with DURO_EIO, retryable (a connection lost at COMMIT). The
 *                dangerous one: the caller must not lose or duplicate what was applied.
 *
 * Faults come at a rate per operation (pseudo-random but deterministic for a seed) or on a
 * schedule ("fail the next 2 calls of abandon_work"), which tests use to hit one path
 * exactly. Every injected error's message contains DURO_FAULT_SIGNATURE. For crash tests the
 * wrapper can also kill the process right after the N-th call reached the store.
 *
 * Thread safety: the wrapper may be used from any number of threads, like the store it wraps;
 * duro_fault_fail_next and the counters may be called while it is in use.
 */
#ifndef DURO_FAULT_H
#define DURO_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "duro-provider.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Text in the message of every error the wrapper injects. */
#define DURO_FAULT_SIGNATURE "injected by duro-fault"

/* The operations faults are chosen for. DURO_FAULT_MANAGEMENT stands for every management
 * and observability call (list_*, execution_info, delete_*, prune, queue_depths, metrics).
 * interrupt, commit_seq, wait_commit and integrity_check are never faulted. */
typedef enum duro_fault_op {
    DURO_FAULT_ENQUEUE_ORCH = 0,
    DURO_FAULT_FETCH_ORCH,
    DURO_FAULT_ACK_ORCH,
    DURO_FAULT_ABANDON_ORCH,
    DURO_FAULT_RENEW_ORCH,
    DURO_FAULT_ENQUEUE_WORK,
    DURO_FAULT_FETCH_WORK,
    DURO_FAULT_ACK_WORK,
    DURO_FAULT_ABANDON_WORK,
    DURO_FAULT_RENEW_WORK,
    DURO_FAULT_READ_HISTORY,
    DURO_FAULT_INSTANCE_INFO,
    DURO_FAULT_MANAGEMENT,
    DURO_FAULT_N_OPS
} duro_fault_op;

/* Where a fault strikes. AFTER is possible only on the calls that change the store and
 * return nothing to free: enqueue_orch, ack_orch, abandon_orch, renew_orch, enqueue_work,
 * ack_work, abandon_work, renew_work. */
typedef enum duro_fault_kind {
    DURO_FAULT_BEFORE = 1, /* DURO_EBUSY, retryable, the store untouched */
    DURO_FAULT_AFTER = 2   /* the store applied the call; DURO_EIO, retryable, reported */
} duro_fault_kind;

/* Options of duro_fault_wrap. Initialise with duro_fault_options_init; `size` first. */
typedef struct duro_fault_options {
    size_t size;                        /* sizeof(duro_fault_options) */
    int latency_ms;                     /* every call sleeps this long first (0) */
    double before_pct[DURO_FAULT_N_OPS]; /* % of each op's calls failed BEFORE the store (0) */
    double after_pct[DURO_FAULT_N_OPS];  /* % failed AFTER it; only ops AFTER allows (0) */
    uint64_t seed;                      /* chooses which calls the rates hit (0) */
    uint64_t crash_after_call;          /* > 0: SIGKILL this process right after the store
                                         * answered the N-th call through the wrapper
                                         * (counting every faultable call, 1-based), before
                                         * the caller sees the answer: crash testing (0) */
} duro_fault_options;

/* Defaults: no latency, no faults, seed 0. `opt` must not be NULL. */
DURO_EXTERN void duro_fault_options_init(duro_fault_options *opt);

/* Set before_pct of every data-path op (all but DURO_FAULT_MANAGEMENT) to `pct`. */
DURO_EXTERN void duro_fault_options_set_data_path(duro_fault_options *opt, double pct);

/* Wrap `inner`, which stays owned by the caller and must outlive the wrapper. The wrapper has
 * the name, capabilities and callbacks (by ops version) of `inner`. Free it with
 * duro_provider_destroy, which does not destroy `inner`.
 * Errors: DURO_EINVAL (NULL argument, size 0, a rate outside 0..100, a negative latency, an
 * AFTER rate on an op that does not allow it), DURO_ENOMEM. */
DURO_EXTERN int duro_fault_wrap(duro_provider *inner, const duro_fault_options *opt,
                                duro_provider **out, duro_error *err);

/* Make the next `count` calls of `op` on `fault` (a wrapper from duro_fault_wrap) fail with
 * `kind`, before the rates are consulted; a later call adds to what is left, and every call
 * still scheduled on `op` then has the later call's kind. An AFTER fault waits for a call the
 * store applies: a call the store itself fails does not use it up. 0, or
 * DURO_EINVAL when `fault` is not a wrapper, `op` or `kind` is out of range, or AFTER is not
 * allowed on `op`. */
DURO_EXTERN int duro_fault_fail_next(duro_provider *fault, duro_fault_op op, unsigned count,
                                     duro_fault_kind kind);

/* Faults of `kind` (0: both kinds) injected so far on `op`, or on every op for
 * DURO_FAULT_N_OPS; 0 when `fault` is not a wrapper or an argument is out of range. */
DURO_EXTERN uint64_t duro_fault_injected(const duro_provider *fault, duro_fault_op op,
                                         duro_fault_kind kind);

/* Calls that went through `fault` so far (every faultable call, faulted or not; the count
 * crash_after_call refers to); 0 when `fault` is not a wrapper. */
DURO_EXTERN uint64_t duro_fault_calls(const duro_provider *fault);

/* Static name of `op` ("abandon_work", "management"); "?" when out of range. */
DURO_EXTERN const char *duro_fault_op_name(duro_fault_op op);

#ifdef __cplusplus
}
#endif

#endif /* DURO_FAULT_H */
