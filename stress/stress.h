/*
 * stress.h — internal interface between the files of the stress suite.
 *
 * scenario.c   orchestrations, activities, deterministic payloads, expected outputs
 * runner.c     one measured run (duro_stress_run): load driver, observer, drain, metrics
 * integrity.c  post-run checks of the store (integrity hook, histories, queues)
 * metrics.c    percentiles, medians, slopes, RSS/CPU probes, the metric table
 * options.c    the command line
 * report.c     console tables, JUnit, JSON, baseline and history files
 * gate.c       CI gates over the medians of repeated runs
 * main.c       duro_stress_main(_factories): the matrix scenario x provider x config
 * processes.c  --processes and --kill-every: runtimes in child processes
 * role.c       --role runtime: serve an existing store
 * ledger.c     the ledgers of --role driver and --role runtime
 * prefill.c    --prefill: completed instances in the store before the run
 */
#ifndef DURO_STRESS_INTERNAL_H
#define DURO_STRESS_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "duro.h"
#include "duro-fault.h"
#include "duro-providertest.h"
#include "duro-stress.h"
#include "duro-util.h"
#include "factory-check.h"

/* ---- Scenarios (scenario.c) ------------------------------------------------------------- */

enum {
    DURO__SC_PARALLEL = 0,
    DURO__SC_LARGE_PAYLOAD,
    DURO__SC_TIMERS,
    DURO__SC_LONG_RUNNING,
    DURO__SC_SUB_ORCHESTRATIONS,
    DURO__SC_MIXED,
    DURO__SC_FAULTS,
    DURO__SC_ROUTING, /* not in --scenario all: two runtimes of its own (docs/stress.md) */
    DURO__SC_COUNT
};

/* Sizes of the large-payload scenario. */
#define DURO__LP_CHILDREN 5
#define DURO__LP_CHILD_BYTES 51200u
#define DURO__LP_RESULT_BYTES 102400u

/* Largest tasks_per_instance the scenarios accept (sums and outputs stay in range). */
#define DURO__MAX_TASKS 1000

struct duro__stress_ctx;
/* The ud of the routing activity in the registry of runtime `name` ("A" or "B"). */
typedef struct duro__route_ud {
    struct duro__stress_ctx *ctx;
    const char *name;
} duro__route_ud;

/* Runtimes of the routing scenario: A takes untagged and "gpu" work, B untagged and "io";
 * both take session work. */
#define DURO__ROUTING_RUNTIMES 2
/* Sessions of the routing scenario: root idx runs its session steps in session
 * "route-<idx mod DURO__ROUTING_SESSIONS>", so the roots share a few sessions. */
#define DURO__ROUTING_SESSIONS 4
/* The durable value the routing orchestration updates after every step. */
#define DURO__ROUTING_KEY "progress"

/* State shared by the orchestrations and activities of one run (their `ud`). */
typedef struct duro__stress_ctx {
    const duro_stress_config *cfg;
    atomic_uint_fast64_t activities; /* activity executions, counted as they run */
    atomic_uint_fast64_t injected;   /* activity attempts failed on purpose */
    const char *runner;              /* runtime role: this runtime's name, NULL otherwise */
    int ledger_fd;                   /* runtime role with --ledger: where activities are
                                      * recorded (duro__ledger), else -1 */
    duro__route_ud route[DURO__ROUTING_RUNTIMES]; /* set by duro__scenario_register_runtime */
} duro__stress_ctx;

/* Scenario index for `name`, or -1. */
int duro__scenario_lookup(const char *name);
/* Human title, e.g. "Parallel Orchestrations". */
const char *duro__scenario_title(int scenario);
/* One-line description for --help. */
const char *duro__scenario_summary(int scenario);
/* The fault mix of the faults scenario where the config sets none: % of data-path calls
 * failed before the store, % of calls that change it applied and reported lost. */
#define DURO__FAULTS_ERROR_PCT 5.0
#define DURO__FAULTS_LOST_REPLY_PCT 2.0
/* `cfg` as `scenario` runs it: for faults, the mix above where cfg has no injected errors
 * and no lost replies; for routing, DURO__ROUTING_RUNTIMES runtimes; other scenarios leave
 * it as it is. */
void duro__scenario_config(int scenario, duro_stress_config *cfg);
/* Register every stress orchestration and activity with `ctx` as their ud (the routing
 * activity as runtime A). 0 or DURO_E*. */
int duro__scenario_register(duro_registry *r, duro__stress_ctx *ctx);
/* The same for the registry of routing runtime `runtime` (0: A, 1: B): its routing activity
 * reports that runtime's name. 0 or DURO_E*; DURO_EINVAL for another index. */
int duro__scenario_register_runtime(duro_registry *r, duro__stress_ctx *ctx, int runtime);
/* Set the worker tag filter and sessions of runtime `runtime` of `scenario` in `opt`, and
 * return the number of runtimes the scenario runs in one process: routing 2 (A: untagged +
 * "gpu", B: untagged + "io", each may own all DURO__ROUTING_SESSIONS sessions), the others 0
 * (as configured, options left as they are). */
int duro__scenario_runtime_options(int scenario, int runtime, duro_runtime_options *opt);
/* Why `scenario` cannot run with `cfg` on a provider with these routing/KV/session abilities
 * (`tags`: duro_provider_has_tags, `kv`: DURO_CAP_KV with ops version 5, `sessions`:
 * duro_provider_has_sessions): 0 when it can, else 1 with the reason in `why` (the run is
 * skipped, not failed). */
int duro__scenario_unsupported(int scenario, const duro_stress_config *cfg, int tags, int kv,
                               int sessions, char *why, size_t why_size);
/* Check the session steps in the verified `output` of routing root `idx` against `owners`,
 * the runtime ('A' or 'B'; 0: none seen yet) that ran each routing session's steps so far,
 * and record the runtime of a session seen for the first time. Returns the number of
 * session steps checked (0 for other scenarios), or -1 with why, owners unchanged, when a
 * step ran on another runtime than an earlier step of its session (of this root or
 * another). */
int duro__scenario_check_sessions(int scenario, uint64_t idx, const duro_stress_config *cfg,
                                  const char *output, char owners[DURO__ROUTING_SESSIONS],
                                  char *why, size_t why_size);
/* Check a durable value of routing root `idx` that the driver read: `final` 1 after the root
 * completed (the value must be the last step's), 0 while it runs (any step's value, or
 * `value` NULL: not set yet). 0 when right; otherwise -1 and why. */
int duro__scenario_verify_value(int scenario, uint64_t idx, const duro_stress_config *cfg,
                                const char *value, int final, char *why, size_t why_size);
/* The orchestration name and input of root instance `idx` of `scenario` (mixed rotates
 * through the others). `input` gets a NUL-terminated string. 0, or DURO_ETOOBIG when it does
 * not fit. */
int duro__scenario_root(int scenario, uint64_t idx, const duro_stress_config *cfg,
                        const char **orch_name, char *input, size_t input_size);
/* Check `output` of completed root `idx` against the only value it may have. 0 when right;
 * otherwise non-zero and a short explanation in `why`. */
int duro__scenario_verify(int scenario, uint64_t idx, const duro_stress_config *cfg,
                          const char *output, char *why, size_t why_size);

/* FNV-1a 64 of n bytes. */
uint64_t duro__fnv1a(const void *data, size_t n);
/* Fill buf[0..len) with the deterministic, poorly compressible payload of `seed` (base64
 * alphabet from a xorshift generator) and NUL-terminate it: buf holds len + 1 bytes. */
void duro__payload_fill(uint64_t seed, char *buf, size_t len);
/* 1 if `s` is exactly the payload of `seed` with length `len`, else 0. */
int duro__payload_match(uint64_t seed, const char *s, size_t len);

/* ---- Prefill (prefill.c) --------------------------------------------------------------- */

/* Fill `store` with n completed instances "prefill-0" .. "prefill-<n-1>" (orchestration
 * StressPrefill, one echo activity each) through a runtime of its own with these thread
 * counts, at most 256 in flight; *secs = the time it took. 0 (n = 0: nothing done), or a
 * DURO_E* code with `err` filled: a runtime or client error, an instance that did not
 * complete, or none ending for 60 s. */
int duro__prefill(duro_provider *store, uint64_t n, int orch_threads, int worker_threads,
                  double *secs, duro_error *err);

/* ---- Metrics (metrics.c) --------------------------------------------------------------- */

/* Nearest-rank percentile of n ascending samples: sorted[ceil(p/100 * n) - 1]; 0 if n = 0. */
double duro__percentile(const double *sorted, size_t n, double p);
/* Lower median (the value at index (n-1)/2 after sorting): every reported median is a
 * value some run really produced. Sorts v in place; NAN values sort last; 0 if n = 0. */
double duro__median(double *v, size_t n);
/* Least-squares slope dy/dx of n points; NAN when n < 3 or all x are equal. */
double duro__slope(const double *x, const double *y, size_t n);
/* Resident set size now (KB) from /proc/self/statm; -1 when unavailable. */
long duro__rss_now_kb(void);
/* Open file descriptors of this process (/proc/self/fd), -1 when unknown. */
long duro__open_fds(void);
/* Peak resident set size of the process (KB, getrusage ru_maxrss): the peak since it
 * started. */
long duro__rss_peak_kb(void);
/* Start a new peak: reset the kernel's high-water mark of this process's RSS (Linux: "5"
 * written to /proc/self/clear_refs). 0, or -1 when the kernel offers no reset. */
int duro__rss_peak_reset(void);
/* Peak RSS since the last duro__rss_peak_reset (KB, VmHWM of /proc/self/status); -1 when
 * unavailable. */
long duro__rss_hwm_kb(void);
/* User + system CPU seconds so far of getrusage's `who`: RUSAGE_SELF (this process) or
 * RUSAGE_CHILDREN (its reaped child processes). */
double duro__cpu_secs(int who);

/* A metric of duro_stress_result, for generic loops (JSON, medians, JUnit properties). */
typedef struct duro__metric {
    const char *name;   /* JSON and property name, e.g. "orch_per_sec" */
    size_t offset;      /* offsetof(duro_stress_result, field) */
    int is_u64;         /* 1: uint64_t field, 0: double field */
} duro__metric;
extern const duro__metric duro__metrics[];
extern const size_t duro__n_metrics;
/* The value of metric `m` in `r`, as a double. */
double duro__metric_get(const duro_stress_result *r, const duro__metric *m);
void duro__metric_set(duro_stress_result *r, const duro__metric *m, double v);
/* `out` = per-metric lower median of `runs`; integrity_ok = all runs ok; the messages of the
 * first run with a failure. n >= 1. Returns 0 or DURO_ENOMEM. */
int duro__result_median(const duro_stress_result *runs, size_t n, duro_stress_result *out);

/* ---- Child processes (processes.c) ---------------------------------------------------- */

typedef struct duro__procs duro__procs;
/* Receives every terminal event a child reports (on the reader thread). */
typedef void (*duro__terminal_fn)(const duro_terminal_event *ev, void *ud);
/* Receives the metrics snapshot a child sends at its graceful shutdown (on the reader
 * thread, or in duro__procs_stop once that thread has stopped: never two at once). */
typedef void (*duro__metrics_fn)(const duro_runtime_metrics *m, void *ud);
/* Called on the reader thread every 200 ms (finds roots whose report a kill cut off). */
typedef void (*duro__sweep_fn)(void *ud);

/* Fork `running` + `spares` children, each of which will run one runtime with `opt` and the
 * handlers of `reg` on its own handle (factory locate + attach hooks), behind a fault
 * wrapper with `faults` unless that is NULL, and start the thread that reads their reports:
 * terminal events to on_terminal, each gracefully stopped child's metrics snapshot to
 * on_metrics (may be NULL; a killed child sends none).
 * Call before the store exists and while no other thread runs.
 * 0, DURO_ENOTSUP (no hooks), DURO_ENOMEM or DURO_EIO (err filled). */
int duro__procs_fork(const duro_provider_factory *f, const duro_registry *reg,
                     const duro_runtime_options *opt, const duro_fault_options *faults,
                     int running, int spares,
                     duro__terminal_fn on_terminal, duro__metrics_fn on_metrics,
                     duro__sweep_fn sweep, void *ud, duro__procs **out, duro_error *err);
/* Name `store` to the running children; they open it and start their runtimes. */
int duro__procs_go(duro__procs *ps, duro_provider *store, duro_error *err);
/* SIGKILL the next running child (round robin) and start a spare in its place. 0, or -1
 * when no spare is left. Not concurrent with itself or duro__procs_stop. */
int duro__procs_kill_one(duro__procs *ps);
/* Number of children killed so far. */
uint64_t duro__procs_killed(const duro__procs *ps);
/* Stop every child (graceful shutdown of the running ones), reap them, read their last
 * reports, and free. *max_rss_kb (max_rss_kb may be NULL) is the largest peak RSS (KB) of
 * the children of `ps`, killed ones included: the figure of this cell, since each cell starts
 * fresh children; -1 when none was reaped. NULL ps is a no-op. */
void duro__procs_stop(duro__procs *ps, long *max_rss_kb);

/* ---- Integrity (integrity.c) ------------------------------------------------------------ */

/* What the checks need to know about one root instance. */
typedef struct duro__root_view {
    const char *instance;
    uint64_t idx;           /* root index: its expected output */
    int observed;           /* state the observer reported (COMPLETED/FAILED), 0 if none */
    int verified;           /* 1 when the reported output was the expected one */
} duro__root_view;

/* Run the post-run checks on `store` (the unwrapped provider, runtimes already shut down):
 * the factory's integrity hook, every root's history tree (decoded, well-formed, schedules
 * and completions paired), stored state and output versus the observer, and empty queues
 * when every root completed. Fills integrity_ok, integrity_message, histories_checked,
 * events_checked. Returns 0, or DURO_ENOMEM. */
int duro__integrity_check(const duro_provider_factory *factory, duro_provider *store,
                          int scenario, const duro_stress_config *cfg,
                          const duro__root_view *roots, size_t n_roots,
                          duro_stress_result *res);

/* ---- Runs (runner.c) -------------------------------------------------------------------- */

/* Fill `fo` with the fault wrapper options for cfg's latency, error rate (every data-path
 * call) and lost replies (every call that changes the store). 1 when any is configured, else
 * 0 (fo then injects nothing). */
int duro__fault_options(const duro_stress_config *cfg, duro_fault_options *fo);

/* ---- Ledgers (ledger.c) ----------------------------------------------------------------- */

/* Open `path` for appending ledger lines (created when missing). The descriptor, or -1 with
 * err filled (DURO_EIO). */
int duro__ledger_open(const char *path, duro_error *err);
/* Append one line "<unix time in ms, 3 decimals> <text>" to the ledger `fd` with a single
 * write(2) to a file opened with O_APPEND, so that the lines of concurrent threads and
 * processes never interleave and a SIGKILL loses no line already written. fd < 0: no-op. */
void duro__ledger(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- The runtime role (role.c) ---------------------------------------------------------- */

struct duro__stress_opts;
/* duro-stress --role runtime: open the store o->cfg.store through the factory's attach hook,
 * run one runtime with the stress handlers on it until SIGINT or SIGTERM (graceful shutdown)
 * or o->cfg.duration_secs, then print a summary line to `out`. Every root turn it runs
 * records o->runner_name as the root's custom status; with o->cfg.ledger, every activity it
 * executes and every end it commits is a ledger line. Returns the exit status: 0 served and
 * stopped, 1 the store or the runtime could not be opened or started. */
int duro__stress_serve(const duro_provider_factory *f, const struct duro__stress_opts *o,
                       FILE *out);

/* ---- Command line (options.c) ----------------------------------------------------------- */

#define DURO__MAX_CONFIGS 16

/* --role: what this process does in a run. */
enum { DURO__ROLE_ALL = 0, DURO__ROLE_DRIVER, DURO__ROLE_RUNTIME };

typedef struct duro__stress_opts {
    duro_stress_config cfg;
    int role;                      /* DURO__ROLE_* (ALL) */
    const char *runner_name;       /* --name (runtime role), NULL: <hostname>-<pid> */
    int scenarios[DURO__SC_COUNT];
    size_t n_scenarios;
    int orch[DURO__MAX_CONFIGS];
    int worker[DURO__MAX_CONFIGS];
    size_t n_configs;
    int repeat;                    /* runs per cell (1) */
    double warmup_secs;            /* discarded run before each cell (0) */
    const char *junit_path;
    const char *json_path;
    const char *history_path;
    const char *baseline_path;
    const char *save_baseline_path;
    double min_success;            /* % (100); 0 disables */
    double min_orch_per_sec;       /* NAN = unset */
    double max_p99_ms;             /* NAN = unset */
    double max_regression;         /* % against the baseline (10) */
    int help;                      /* --help was given */
} duro__stress_opts;

/* Parse argv[1..argc) into `o` (defaults first). Returns 0, or 2 after printing a clear
 * message to `errf` (unknown option, missing or bad value, conflicting options). */
int duro__stress_parse(int argc, char **argv, duro__stress_opts *o, FILE *errf);
/* The --help text. */
void duro__stress_usage(FILE *out, const char *prog);

/* ---- Cells, gates and reports (gate.c, report.c) ---------------------------------------- */

/* One scenario x provider x config of the matrix and its repeated runs. */
typedef struct duro__stress_cell {
    int scenario;
    const char *provider;
    int orch, worker;
    duro_stress_result *runs;      /* n_runs results */
    size_t n_runs;
    duro_stress_result median;
    double seconds;                /* wall time of all runs of the cell */
    int run_error;                 /* 1: a run could not take place (run_error_msg) */
    char run_error_msg[256];
    int skipped;                   /* 1: the scenario cannot run here (run_error_msg says
                                    * why; duro_stress_result.skipped); no runs, no gates */
    char *gate_failures;           /* "; "-separated messages, NULL when every gate passed */
} duro__stress_cell;

/* Evaluate every gate of `o` on every cell against `baseline` (a parsed JSON document, may
 * be NULL) and set cell->gate_failures. Returns the number of cells that failed a gate, or
 * DURO_ENOMEM. */
int duro__stress_gates(const duro__stress_opts *o, duro__stress_cell *cells, size_t n,
                       const void *baseline);
/* Load a baseline/JSON report file into a jansson document (returned as void * so that this
 * header needs no jansson). NULL with a message in `msg` on failure. */
void *duro__baseline_load(const char *path, char *msg, size_t msg_size);
void duro__baseline_free(void *doc);

/* Print the header block and the results tables of one scenario to `out`. */
int duro__report_table(FILE *out, const duro__stress_opts *o, int scenario,
                       const duro__stress_cell *cells, size_t n);
/* Write the JUnit file: one testsuite per scenario, one testcase per provider x config. */
int duro__report_junit(const char *path, const duro__stress_opts *o,
                       const duro__stress_cell *cells, size_t n, duro_error *err);
/* The whole JSON report (config, machine, every cell's runs and medians, gates) as a
 * malloc'd string, compact (indent 0) or indented. NULL when out of memory. */
char *duro__report_json(const duro__stress_opts *o, const duro__stress_cell *cells, size_t n,
                        int passed, int indent);
/* Append "; " (unless empty) and a printf-style entry to the NUL-terminated buf of `size`
 * bytes holding *len bytes; once full, later entries are dropped (truncated at the end). */
void duro__appendf(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Write `text` to `path` atomically (temporary file + rename). 0 or DURO_EIO with err. */
int duro__write_file(const char *path, const char *text, duro_error *err);
/* Append one line to `path` (created when missing). 0 or DURO_EIO with err. */
int duro__append_line(const char *path, const char *line, duro_error *err);

#endif /* DURO_STRESS_INTERNAL_H */
