/*
 * duro-stress.h — run duro's stress scenarios against a provider from C.
 *
 * The command line (duro_stress_main() in duro-providertest.h, the duro-stress program) covers
 * the usual uses: a matrix of scenarios and concurrency configs, repeats, tables, JUnit, JSON
 * and CI gates. This header is the programmatic layer under it, for provider authors who want
 * one run with a config they build in code (the seed spec's StressTestConfig) and the measured
 * numbers back in a struct. Link with -lduro-providertest.
 *
 * What one run does: a fresh store from the factory, one or more runtimes on it, a load driver
 * that keeps `max_concurrent` root instances in flight (closed loop) or starts them on a fixed
 * schedule (`rate`, open loop) for `duration_secs`, then a drain, then integrity checks of the
 * store. Every number is measured, never derived: see docs/stress.md for exact definitions.
 */
#ifndef DURO_STRESS_H
#define DURO_STRESS_H

#include <stddef.h>
#include <stdint.h>

#include "duro-provider.h"
#include "duro-providertest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The seed spec's StressTestConfig, then duro's extensions. */
/* Fill with duro_stress_config_init() first: it sets `size`, which tells the library how much
 * of the struct the caller's header has, so a program built against this header keeps
 * working with a later library whose struct has grown (members are only ever appended). */
typedef struct duro_stress_config {
    size_t size;                 /* sizeof(duro_stress_config), set by the init function */
    int max_concurrent;          /* closed loop: root instances kept in flight (20) */
    double duration_secs;        /* length of the launch window in seconds (10) */
    uint64_t max_roots;          /* > 0: stop launching after this many roots; the window
                                  * then ends at that moment (duration_secs still bounds
                                  * it) (0) */
    int tasks_per_instance;      /* fan-out width, children, timers or executions (5) */
    int activity_delay_ms;       /* every activity sleeps this long; timer unit (10) */
    int orch_concurrency;        /* orchestration turn threads per runtime (2) */
    int worker_concurrency;      /* activity threads per runtime (2) */
    int wait_timeout_secs;       /* an instance not done this long after its start is a
                                  * timeout failure (60) */
    double rate;                 /* > 0: open loop, root instances per second on a fixed
                                  * schedule, latency from the scheduled time (0 = closed) */
    int runtimes;                /* runtimes sharing the one store, like processes sharing a
                                  * database (1) */
    int provider_latency_ms;     /* simulated round trip before every provider call (0) */
    double provider_error_pct;   /* % of provider calls answered DURO_EBUSY, retryable, before
                                  * reaching the store (0) */
    double activity_failure_pct; /* % of activity first attempts that fail; activities are
                                  * then called with a retry policy (0) */
    int prefetch_ms;             /* the runtimes' fetch-ahead window (duro_runtime_options
                                  * prefetch_ms); -1: the runtime's default (-1) */
    int attach;                  /* 1: every runtime runs on its own handle on the store
                                  * (factory locate + attach hooks), as separate processes
                                  * sharing a database do; the driver keeps the first (0) */
    int processes;               /* > 0: the runtimes run in this many child processes, one
                                  * each, on their own handles (same hooks); 0: in this
                                  * process (0) */
    double kill_every_secs;      /* with processes: SIGKILL one child every this many seconds
                                  * of the window and start a fresh one in its place (0) */
    int progress;                /* 1: live status line on stderr (0) */
    double lost_reply_pct;       /* % of the calls that change the store (enqueues, acks,
                                  * abandons, renews) it applies while the caller is told
                                  * they failed, retryable: a connection lost at COMMIT (0) */
    const char *store;           /* non-NULL: only the driver half of the run, on this
                                  * existing store, named as the factory's attach hook takes
                                  * it (postgres: "<schema> <conninfo>"), instead of a fresh
                                  * one. No runtime starts here: other processes, on this
                                  * machine or others, serve the store (duro-stress --role
                                  * runtime), and the end of every root is read from the
                                  * store. The store must hold no stress instances yet; it is
                                  * kept afterwards (NULL) */
    const char *ledger;          /* with store: append a line to this file for every root
                                  * started and every end read (docs/stress.md) (NULL) */
    int trace_spans;             /* 1: the runtimes report trace spans (duro_runtime_options
                                  * on_span) to a consumer that only counts them, so that the
                                  * cost of tracing can be measured (0) */
    uint64_t prefill;            /* > 0: before the window, fill the fresh store with this
                                  * many completed instances ("prefill-<i>", one activity
                                  * each) through the engine, to measure a store that has a
                                  * history; not with store (0) */
} duro_stress_config;

/* Fill `cfg` with the defaults shown above and set cfg->size. NULL is a no-op. */
DURO_EXTERN void duro_stress_config_init(duro_stress_config *cfg);

/* Measured outcome of one run. Counts are root instances launched by the driver; children
 * and continue-as-new executions are counted separately. */
typedef struct duro_stress_result {
    uint64_t launched;               /* roots whose start was attempted in the window */
    uint64_t completed;              /* completed, output verified, within wait_timeout */
    uint64_t failed;                 /* sum of the five classes below */
    uint64_t failed_infrastructure;  /* runtime/provider failure, poison, start error */
    uint64_t failed_configuration;   /* nondeterminism, rule violation, unregistered name */
    uint64_t failed_application;     /* the orchestration or an activity failed */
    uint64_t failed_timeout;         /* not done within wait_timeout_secs */
    uint64_t wrong_output;           /* completed with an output other than the expected one */
    uint64_t completed_in_window;    /* completions inside the launch window */
    uint64_t activities_in_window;   /* activity executions inside the launch window */
    uint64_t activities_total;       /* activity executions, whole run */
    uint64_t children;               /* sub-orchestrations that reached a terminal state */
    uint64_t continued_as_new;       /* executions that ended in continue-as-new */
    uint64_t duplicate_terminal;     /* roots reported terminal twice (an integrity failure) */
    uint64_t runtime_warnings;       /* warnings and errors the runtime logged */
    uint64_t injected_provider_errors;   /* DURO_EBUSY answers of provider_error_pct */
    uint64_t injected_activity_failures; /* first attempts failed by activity_failure_pct */
    uint64_t killed_processes;       /* child processes killed by kill_every_secs */
    uint64_t swept_terminals;        /* roots whose end the driver read from the store because
                                      * the report of a killed child never came (their
                                      * latency ends when it was read) */
    double window_secs;              /* launch window length */
    double drain_secs;               /* window end to the last root done (or the timeout) */
    double success_pct;              /* completed / launched * 100 (100 when none launched) */
    double orch_per_sec;             /* completed_in_window / window_secs */
    double activity_per_sec;         /* activities_in_window / window_secs */
    double lat_avg_ms;               /* start -> terminal, over completed roots */
    double lat_p50_ms;
    double lat_p95_ms;
    double lat_p99_ms;
    double lat_max_ms;
    double peak_rss_kb;              /* peak RSS of this run (KB): VmHWM, reset at the run's
                                      * start through /proc/self/clear_refs (without it,
                                      * ru_maxrss of the process so far); with child
                                      * processes, the largest child's if higher */
    double run_peak_rss_kb;          /* highest sampled RSS during this run */
    double rss_slope_kb_per_min;     /* least-squares slope of RSS (250 ms samples) over the
                                      * second half of the window; NAN when that half is
                                      * shorter than 2 s */
    double cpu_ms_per_orch;          /* process user+system CPU of the run / completed */
    double integrity_secs;           /* time spent on the post-run checks */
    uint64_t histories_checked;      /* executions whose history was decoded and checked */
    uint64_t events_checked;
    int integrity_ok;                /* 1 when every post-run check passed */
    char integrity_message[512];     /* the first integrity problems, "" when ok */
    char first_failure[512];         /* instance and message of the first failures, or "" */
    uint64_t injected_lost_replies;  /* calls applied and reported failed (lost_reply_pct) */
    uint64_t start_retries;          /* client starts tried again after a retryable error */
    uint64_t open_fds_start;         /* open descriptors of this process at the window's start */
    uint64_t open_fds_end;           /* ... and once the drain ended (a leak shows as growth) */
    /* The runtimes' own metrics (duro_runtime_metrics_get), summed over the runtimes of this
     * process and taken after the drain, before they shut down; with child processes, the
     * snapshots the children send at their graceful shutdown (a killed child's are lost:
     * rt_partial); all 0 in the driver role. */
    uint64_t rt_turns;               /* turns */
    uint64_t rt_completed;           /* executions committed completed (roots and children) */
    uint64_t rt_failed;              /* executions committed failed, every category */
    uint64_t rt_continued_as_new;    /* executions committed continued-as-new */
    uint64_t rt_activity_attempts;   /* activity functions run */
    uint64_t rt_provider_calls;      /* provider calls, every operation */
    uint64_t rt_provider_errors;     /* of those, errors, every operation */
    /* errors of the queue calls only (fetch, ack and abandon of orchestrations and work
     * items: the calls only runtimes make), and the DURO_EBUSY faults injected on them */
    uint64_t rt_queue_errors;
    uint64_t injected_queue_errors;
    uint64_t rt_spans;               /* trace spans reported (trace_spans) */
    /* Statements the store ran from just before it was opened to the end of the drain (the
     * driver's starts and reads included, the integrity checks not), counted by the
     * factory's count_statements hook; 0 and NAN when the factory has none or the runtimes
     * run in child processes. */
    uint64_t store_statements;
    double statements_per_orch;      /* store_statements / completed (NAN: not counted) */
    double prefill_secs;             /* time the prefill took (0 without one) */
    /* The routing scenario's durable values: those the driver read with
     * duro_client_get_value while roots ran and after each completed, and of those the ones
     * that were not a value the root may have then (an integrity failure). 0 otherwise. */
    uint64_t kv_reads;
    uint64_t kv_mismatches;
    /* 1 when the scenario cannot run with this provider or config (e.g. routing on a
     * provider without DURO_CAP_TAGS, DURO_CAP_KV or DURO_CAP_SESSIONS, or with processes):
     * nothing ran, first_failure says why, every other member is 0. */
    uint64_t skipped;
    /* 1 when the rt_* members miss the counts of killed child processes (kill_every_secs
     * killed at least one), else 0. */
    uint64_t rt_partial;
    /* The routing scenario's sessions: the session steps of the completed roots (activities
     * in the root's session, one of a few the roots share); the completed roots with a
     * session step that ran on another runtime than an earlier step of its session (an
     * integrity failure: while both runtimes live, a session runs on one); and the sessions
     * whose steps ran on runtime A and on runtime B. 0 otherwise. */
    uint64_t session_steps;
    uint64_t session_mismatches;
    uint64_t sessions_on_a;
    uint64_t sessions_on_b;
    /* Room for members a later library adds (each taken from here, so the struct keeps its
     * size and a program built against an older header stays safe when a newer
     * duro_stress_run fills it). Zero. */
    uint64_t reserved[7];
} duro_stress_result;

/* Scenario names, in report order: "parallel", "large-payload", "timers", "long-running",
 * "sub-orchestrations", "mixed", "faults", "routing". Returns NULL past the end. */
DURO_EXTERN const char *duro_stress_scenario_name(size_t i);

/* Run `scenario` once on a fresh store from `factory` with `cfg` and fill `out`. The store is
 * destroyed afterwards. Returns 0 when the run took place (whatever its failures: look at
 * `out`), or a DURO_E* code with `err` filled when it could not run (bad scenario or config,
 * store creation failed, out of memory, threads could not start). */
DURO_EXTERN int duro_stress_run(const duro_provider_factory *factory, const char *scenario,
                                const duro_stress_config *cfg, duro_stress_result *out, duro_error *err);

/* duro_stress_main (duro-providertest.h) over several factories: each scenario's table gets
 * one row per factory and config, e.g. to compare variants of one provider. Same command
 * line and exit status. */
DURO_EXTERN int duro_stress_main_factories(const duro_provider_factory *const *factories,
                                           size_t n_factories, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif /* DURO_STRESS_H */
