/*
 * options.c — the duro-stress command line: one flag per StressTestConfig field, the matrix
 * (scenarios, concurrency configs, repeats), outputs and CI gates. Every value is checked in
 * full (no trailing garbage, ranges enforced) and every mistake is a clear message and exit
 * status 2, never a silently ignored argument.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

enum opt_id {
    O_SCENARIO, O_CONFIG, O_MAX_CONCURRENT, O_DURATION, O_COUNT, O_TASKS, O_DELAY, O_ORCH, O_WORKER,
    O_WAIT_TIMEOUT, O_RATE, O_REPEAT, O_WARMUP, O_RUNTIMES, O_LATENCY, O_PROVIDER_ERRORS, O_LOST_REPLIES,
    O_ACTIVITY_FAILURES, O_PREFETCH, O_ATTACH, O_PROCESSES, O_KILL_EVERY, O_ROLE, O_STORE,
    O_LEDGER, O_NAME, O_JUNIT, O_JSON, O_HISTORY, O_MIN_SUCCESS, O_MIN_ORCH, O_MAX_P99,
    O_BASELINE, O_MAX_REGRESSION, O_SAVE_BASELINE, O_PROGRESS, O_NO_PROGRESS, O_TRACE_SPANS, O_PREFILL, O_HELP
};

static const struct {
    const char *name;
    enum opt_id id;
    const char *arg; /* NULL: a flag without value */
    const char *help;
} opts[] = {
    {"--scenario", O_SCENARIO, "LIST",
     "scenarios, comma-separated, or 'all' (every one but routing; default: parallel)"},
    {"--config", O_CONFIG, "LIST",
     "orchestration/activity thread configs, e.g. 1/1,2/2,4/4 (default: 1/1,2/2)"},
    {"--max-concurrent", O_MAX_CONCURRENT, "N", "closed loop: roots kept in flight (20)"},
    {"--duration", O_DURATION, "SECS", "launch window in seconds, decimals allowed (10)"},
    {"--count", O_COUNT, "N",
     "launch exactly N roots, then end the window (still at most --duration) (0: no limit)"},
    {"--tasks-per-instance", O_TASKS, "N",
     "fan-out width / children / timers / executions per root, 1-1000 (5)"},
    {"--activity-delay", O_DELAY, "MS", "each activity sleeps MS; also the timer unit (10)"},
    {"--orch-concurrency", O_ORCH, "N",
     "orchestration threads; with --worker-concurrency, a single config instead of --config"},
    {"--worker-concurrency", O_WORKER, "N", "activity threads (see --orch-concurrency)"},
    {"--wait-timeout", O_WAIT_TIMEOUT, "SECS",
     "a root not done SECS after its start is a timeout failure (60)"},
    {"--rate", O_RATE, "N",
     "open loop: start N roots per second on a fixed schedule (default: closed loop)"},
    {"--repeat", O_REPEAT, "N", "runs per cell; tables and gates use medians (1)"},
    {"--warmup", O_WARMUP, "SECS", "discarded run of SECS before each cell (0)"},
    {"--runtimes", O_RUNTIMES, "N", "runtimes sharing one store, like processes sharing a "
                                    "database (1)"},
    {"--provider-latency", O_LATENCY, "MS", "simulated round trip before every provider call (0)"},
    {"--inject-provider-errors", O_PROVIDER_ERRORS, "PCT",
     "% of provider calls answered 'busy' (retryable) without reaching the store (0)"},
    {"--inject-lost-replies", O_LOST_REPLIES, "PCT",
     "% of the calls that change the store (enqueue, ack, abandon, renew) applied and then "
     "reported failed, retryable, as when a connection drops at COMMIT (0)"},
    {"--inject-activity-failures", O_ACTIVITY_FAILURES, "PCT",
     "% of activity first attempts that fail; activities then run under a retry policy (0)"},
    {"--attach", O_ATTACH, NULL,
     "each runtime opens its own handle on the store (separate connections, no shared "
     "wake-ups), as processes sharing a database do; needs the factory's attach hook "
     "(sqlite-file)"},
    {"--processes", O_PROCESSES, "N",
     "run the runtimes in N child processes, one each, on their own handles on the store "
     "(same hooks as --attach); the driver only starts and observes (0: in this process)"},
    {"--kill-every", O_KILL_EVERY, "SECS",
     "with --processes: SIGKILL one child every SECS of the window and start a fresh one; "
     "every instance must still finish (0: never)"},
    {"--role", O_ROLE, "ROLE",
     "one half of a run split across processes or machines that share the --store: "
     "'driver' starts the roots, reads their ends from the store, verifies and checks "
     "integrity, with no runtime of its own; 'runtime' serves the store (every scenario) "
     "until SIGTERM or SIGINT, or for --duration seconds (default: both halves in this "
     "process)"},
    {"--store", O_STORE, "LOCATOR",
     "with --role: the existing store, as the factory's attach hook names it (postgres: "
     "'<schema> <conninfo>', the schema created when missing); it must hold no stress "
     "instances yet and is kept"},
    {"--ledger", O_LEDGER, "FILE",
     "with --role: append a line per root started and end read (driver), or per activity "
     "executed and end committed (runtime), to FILE"},
    {"--name", O_NAME, "NAME",
     "--role runtime: this runtime's name in the ledgers and in the custom status of the "
     "roots whose turns it runs (default: <hostname>-<pid>)"},
    {"--prefetch-ms", O_PREFETCH, "MS",
     "runtime fetch-ahead window; 0 turns fetching ahead off (the runtime default, 50)"},
    {"--junit", O_JUNIT, "FILE", "write JUnit XML: a testsuite per scenario, a testcase per "
                                 "provider x config"},
    {"--json", O_JSON, "FILE", "write every metric, the config and the machine as JSON"},
    {"--history", O_HISTORY, "FILE", "append the JSON report as one line (performance history)"},
    {"--min-success", O_MIN_SUCCESS, "PCT",
     "gate: every run's success % at least PCT (default 100; 0 disables)"},
    {"--min-orch-per-sec", O_MIN_ORCH, "X", "gate: median orch/s at least X"},
    {"--max-p99-ms", O_MAX_P99, "X", "gate: median P99 latency at most X ms"},
    {"--baseline", O_BASELINE, "FILE", "gate: compare medians with this JSON report"},
    {"--max-regression", O_MAX_REGRESSION, "PCT",
     "allowed orch/s drop and P99 rise against --baseline (10)"},
    {"--save-baseline", O_SAVE_BASELINE, "FILE",
     "write the JSON report here, only when every gate passed"},
    {"--prefill", O_PREFILL, "N",
     "fill each fresh store with N completed instances (one activity each) before the run, "
     "through the engine: how a store's size affects it (0)"},
    {"--trace-spans", O_TRACE_SPANS, NULL,
     "the runtimes report trace spans to a consumer that only counts them (to measure the "
     "cost of tracing)"},
    {"--progress", O_PROGRESS, NULL, "live status line on stderr (default: when a terminal)"},
    {"--no-progress", O_NO_PROGRESS, NULL, "no live status line"},
    {"--help", O_HELP, NULL, "this text"},
};

#define N_OPTS (sizeof opts / sizeof opts[0])

/* What --name may contain: it is one word of the ledger lines. */
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

static int usage_error(FILE *errf, const char *fmt, const char *a, const char *b)
{
    fputs("duro-stress: ", errf);
    fprintf(errf, fmt, a, b);
    fputs(" (see --help)\n", errf);
    return 2;
}

static int parse_int(const char *s, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_scenarios(const char *s, duro__stress_opts *o, FILE *errf)
{
    char buf[256];
    if (strlen(s) >= sizeof buf || *s == '\0')
        return usage_error(errf, "--scenario: bad list '%s'%s", s, "");
    strcpy(buf, s);
    int seen[DURO__SC_COUNT] = {0};
    o->n_scenarios = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "all") == 0) {
            for (int i = 0; i < DURO__SC_COUNT; i++)
                seen[i] = seen[i] || i != DURO__SC_ROUTING;
            continue;
        }
        int sc = duro__scenario_lookup(t);
        if (sc < 0)
            return usage_error(errf, "--scenario: unknown scenario '%s'; valid: %s", t,
                               "parallel, large-payload, timers, long-running, "
                               "sub-orchestrations, mixed, faults, routing, all");
        seen[sc] = 1;
    }
    for (int i = 0; i < DURO__SC_COUNT; i++)
        if (seen[i])
            o->scenarios[o->n_scenarios++] = i;
    if (o->n_scenarios == 0)
        return usage_error(errf, "--scenario: bad list '%s'%s", s, "");
    return 0;
}

static int parse_configs(const char *s, duro__stress_opts *o, FILE *errf)
{
    char buf[256];
    if (strlen(s) >= sizeof buf || *s == '\0')
        return usage_error(errf, "--config: bad list '%s'%s", s, "");
    strcpy(buf, s);
    o->n_configs = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        char *slash = strchr(t, '/');
        if (slash == NULL)
            return usage_error(errf, "--config: '%s' is not ORCH/WORKER, e.g. 2/2%s", t, "");
        *slash = '\0';
        int oc, wc;
        if (parse_int(t, 1, 1024, &oc) != 0 || parse_int(slash + 1, 1, 1024, &wc) != 0) {
            *slash = '/';
            return usage_error(errf, "--config: '%s' needs two thread counts from 1 to 1024%s",
                               t, "");
        }
        if (o->n_configs == DURO__MAX_CONFIGS)
            return usage_error(errf, "--config: more than %s configs in '%s'", "16", s);
        o->orch[o->n_configs] = oc;
        o->worker[o->n_configs] = wc;
        o->n_configs++;
    }
    if (o->n_configs == 0)
        return usage_error(errf, "--config: bad list '%s'%s", s, "");
    return 0;
}

static void set_defaults(duro__stress_opts *o)
{
    memset(o, 0, sizeof *o);
    duro_stress_config_init(&o->cfg);
    o->cfg.progress = -1;
    o->scenarios[0] = DURO__SC_PARALLEL;
    o->n_scenarios = 1;
    o->orch[0] = 1;
    o->worker[0] = 1;
    o->orch[1] = 2;
    o->worker[1] = 2;
    o->n_configs = 2;
    o->repeat = 1;
    o->min_success = 100;
    o->min_orch_per_sec = NAN;
    o->max_p99_ms = NAN;
    o->max_regression = 10;
}

/* Apply one option with its value (NULL for flags). 0 or 2. */
static int apply(duro__stress_opts *o, enum opt_id id, const char *name, const char *v,
                 int *set_config, int *set_orch, int *set_worker, FILE *errf)
{
    duro_stress_config *c = &o->cfg;
    int bad = 0;
    switch (id) {
    case O_SCENARIO: return parse_scenarios(v, o, errf);
    case O_CONFIG:
        *set_config = 1;
        return parse_configs(v, o, errf);
    case O_MAX_CONCURRENT: bad = parse_int(v, 1, 100000, &c->max_concurrent); break;
    case O_DURATION: bad = parse_double(v, 0.001, 31 * 24 * 3600.0, &c->duration_secs); break;
    case O_COUNT: {
        int n = 0;
        bad = parse_int(v, 0, 1000000000, &n);
        c->max_roots = (uint64_t)n;
        break;
    }
    case O_TASKS: bad = parse_int(v, 1, DURO__MAX_TASKS, &c->tasks_per_instance); break;
    case O_DELAY: bad = parse_int(v, 0, 3600000, &c->activity_delay_ms); break;
    case O_ORCH:
        *set_orch = 1;
        bad = parse_int(v, 1, 1024, &c->orch_concurrency);
        break;
    case O_WORKER:
        *set_worker = 1;
        bad = parse_int(v, 1, 1024, &c->worker_concurrency);
        break;
    case O_WAIT_TIMEOUT: bad = parse_int(v, 1, 86400, &c->wait_timeout_secs); break;
    case O_RATE: bad = parse_double(v, 0.001, 1e6, &c->rate); break;
    case O_REPEAT: bad = parse_int(v, 1, 1000, &o->repeat); break;
    case O_WARMUP: bad = parse_double(v, 0, 3600, &o->warmup_secs); break;
    case O_RUNTIMES: bad = parse_int(v, 1, 64, &c->runtimes); break;
    case O_LATENCY: bad = parse_int(v, 0, 60000, &c->provider_latency_ms); break;
    case O_PROVIDER_ERRORS: bad = parse_double(v, 0, 100, &c->provider_error_pct); break;
    case O_LOST_REPLIES: bad = parse_double(v, 0, 100, &c->lost_reply_pct); break;
    case O_ACTIVITY_FAILURES: bad = parse_double(v, 0, 100, &c->activity_failure_pct); break;
    case O_PREFETCH: bad = parse_int(v, 0, 3600000, &c->prefetch_ms); break;
    case O_ATTACH: c->attach = 1; break;
    case O_PROCESSES: bad = parse_int(v, 0, 64, &c->processes); break;
    case O_KILL_EVERY: bad = parse_double(v, 0, 86400, &c->kill_every_secs); break;
    case O_ROLE:
        o->role = strcmp(v, "driver") == 0    ? DURO__ROLE_DRIVER
                  : strcmp(v, "runtime") == 0 ? DURO__ROLE_RUNTIME
                                              : -1;
        bad = o->role < 0;
        break;
    case O_STORE: c->store = v; break;
    case O_LEDGER: c->ledger = v; break;
    case O_NAME:
        o->runner_name = v;
        bad = *v == '\0' || strlen(v) > 64 || strspn(v, NAME_CHARS) != strlen(v);
        break;
    case O_JUNIT: o->junit_path = v; break;
    case O_JSON: o->json_path = v; break;
    case O_HISTORY: o->history_path = v; break;
    case O_MIN_SUCCESS: bad = parse_double(v, 0, 100, &o->min_success); break;
    case O_MIN_ORCH: bad = parse_double(v, 0, 1e9, &o->min_orch_per_sec); break;
    case O_MAX_P99: bad = parse_double(v, 0, 1e9, &o->max_p99_ms); break;
    case O_BASELINE: o->baseline_path = v; break;
    case O_MAX_REGRESSION: bad = parse_double(v, 0, 1000, &o->max_regression); break;
    case O_SAVE_BASELINE: o->save_baseline_path = v; break;
    case O_PROGRESS: c->progress = 1; break;
    case O_TRACE_SPANS: c->trace_spans = 1; break;
    case O_PREFILL: {
        int n = 0;
        bad = parse_int(v, 0, 100000000, &n);
        c->prefill = (uint64_t)n;
        break;
    }
    case O_NO_PROGRESS: c->progress = 0; break;
    case O_HELP: o->help = 1; break;
    }
    if (bad)
        return usage_error(errf, "%s: invalid value '%s'", name, v);
    if ((id == O_JUNIT || id == O_JSON || id == O_HISTORY || id == O_BASELINE ||
         id == O_SAVE_BASELINE || id == O_STORE || id == O_LEDGER) && *v == '\0')
        return usage_error(errf, "%s: empty file name%s", name, "");
    return 0;
}

/* The rules of --role, --store, --ledger and --name. 0 or 2. */
static int check_role(const duro__stress_opts *o, int set_config, FILE *errf)
{
    const duro_stress_config *c = &o->cfg;
    if (o->role == DURO__ROLE_ALL) {
        if (c->store != NULL || c->ledger != NULL || o->runner_name != NULL)
            return usage_error(errf, "%s needs --role%s",
                               c->store != NULL    ? "--store"
                               : c->ledger != NULL ? "--ledger"
                                                   : "--name",
                               "");
        return 0;
    }
    if (c->store == NULL)
        return usage_error(errf, "--role needs --store LOCATOR%s%s", "", "");
    if (o->runner_name != NULL && o->role != DURO__ROLE_RUNTIME)
        return usage_error(errf, "--name is for --role runtime%s%s", "", "");
    if (c->prefill > 0)
        return usage_error(errf, "--prefill fills a fresh store: not with --role%s%s", "", "");
    if (c->processes > 0 || c->runtimes > 1 || c->attach || c->kill_every_secs > 0)
        return usage_error(errf, "--role replaces %s%s",
                           "--processes, --runtimes, --attach and --kill-every", "");
    if (o->n_scenarios > 1 || (set_config && o->n_configs > 1) || o->repeat > 1 ||
        o->warmup_secs > 0)
        return usage_error(errf, "--role runs one scenario with one config once (%s)%s",
                           "no lists, --repeat or --warmup", "");
    return 0;
}

int duro__stress_parse(int argc, char **argv, duro__stress_opts *o, FILE *errf)
{
    set_defaults(o);
    int set_config = 0, set_orch = 0, set_worker = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        size_t len = eq != NULL ? (size_t)(eq - a) : strlen(a);
        size_t k = 0;
        while (k < N_OPTS && !(strlen(opts[k].name) == len && strncmp(opts[k].name, a, len) == 0))
            k++;
        if (k == N_OPTS)
            return usage_error(errf, "unknown option '%s'%s", a, "");
        const char *v = NULL;
        if (opts[k].arg != NULL) {
            if (eq != NULL)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return usage_error(errf, "%s needs a value (%s)", opts[k].name, opts[k].arg);
        } else if (eq != NULL) {
            return usage_error(errf, "%s takes no value%s", opts[k].name, "");
        }
        int rc = apply(o, opts[k].id, opts[k].name, v, &set_config, &set_orch, &set_worker,
                       errf);
        if (rc != 0)
            return rc;
    }
    if (set_config && (set_orch || set_worker))
        return usage_error(errf, "use either --config or %s, not both%s",
                           "--orch-concurrency/--worker-concurrency", "");
    const duro_stress_config *c = &o->cfg;
    if (c->kill_every_secs > 0 && c->processes == 0)
        return usage_error(errf, "--kill-every needs --processes%s%s", "", "");
    if (c->processes > 0 && (c->runtimes > 1 || c->attach))
        return usage_error(errf, "--processes replaces %s%s", "--runtimes and --attach", "");
    if (c->provider_error_pct + c->lost_reply_pct > 100)
        return usage_error(errf, "--inject-provider-errors and --inject-lost-replies add up to "
                           "more than 100 %%%s%s", "", "");
    if (check_role(o, set_config, errf) != 0)
        return 2;
    if (set_orch || set_worker || (o->role != DURO__ROLE_ALL && !set_config)) {
        /* with --role and no config given: the one default config, 2/2 */
        o->orch[0] = o->cfg.orch_concurrency;
        o->worker[0] = o->cfg.worker_concurrency;
        o->n_configs = 1;
    }
    if (o->role == DURO__ROLE_RUNTIME) { /* what it serves with */
        o->cfg.orch_concurrency = o->orch[0];
        o->cfg.worker_concurrency = o->worker[0];
    }
    return 0;
}

/* Print "  <left padded to lw> <text>" wrapped at 99 columns under the text's column. */
static void wrapped(FILE *out, const char *left, int lw, const char *text)
{
    int col = fprintf(out, "  %-*s ", lw, left);
    int indent = lw + 3;
    if (col > indent) { /* a left column wider than its slot: text starts below */
        fprintf(out, "\n%*s", indent, "");
        col = indent;
    }
    while (*text != '\0') {
        size_t w = strcspn(text, " ");
        if (col > indent && col + 1 + (int)w > 99) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        col += fprintf(out, "%.*s", (int)w, text);
        text += w;
        while (*text == ' ')
            text++;
    }
    fputc('\n', out);
}

void duro__stress_usage(FILE *out, const char *prog)
{
    fprintf(out,
            "Usage: %s [OPTION]...\n"
            "Run duro's stress scenarios against a provider, print the results table and\n"
            "optionally write JUnit XML and JSON and gate a CI job on the numbers.\n\n",
            prog);
    fputs("Options:\n", out);
    for (size_t k = 0; k < N_OPTS; k++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", opts[k].name, opts[k].arg ? " " : "",
                 opts[k].arg ? opts[k].arg : "");
        wrapped(out, left, 30, opts[k].help);
    }
    fputs("\nScenarios:\n", out);
    for (int i = 0; i < DURO__SC_COUNT; i++)
        wrapped(out, duro_stress_scenario_name((size_t)i), 30, duro__scenario_summary(i));
    fputs("\n"
          "Metrics (per provider x config; medians over --repeat runs):\n"
          "  Completed     roots completed with the verified output within --wait-timeout\n"
          "  Failed        infrastructure + configuration + application + timeout + wrong\n"
          "                output (each class is in the details table and the JSON)\n"
          "  Success %     completed / launched x 100\n"
          "  Orch/sec      roots completed inside the launch window / window length\n"
          "  Activity/sec  activity executions (counted as they ran) inside the window /\n"
          "                window length\n"
          "  Latency       per root, from its start (open loop: its scheduled start) to the\n"
          "                runtime's terminal callback: average, P50, P95, P99 (nearest rank\n"
          "                over all samples), max\n"
          "  Drain         window end to the last root's end, reported apart\n"
          "  Peak RSS      peak RSS of this run alone: the kernel's high-water mark (VmHWM),\n"
          "                reset before each run through /proc/self/clear_refs (where that\n"
          "                is unavailable: ru_maxrss, the process's peak so far); with\n"
          "                --processes the largest child's peak if higher (each run has\n"
          "                fresh children); RSS slope: least squares over 250 ms samples\n"
          "                in the second half of the window, KB/min\n"
          "  CPU/orch      process user+system CPU of the run (and of its children) / completed\n"
          "  Integrity     store check hook, every history well formed, stored state equal\n"
          "                to what was reported, empty queues after the drain\n"
          "  Kills         --kill-every: children killed, and roots whose end was read from\n"
          "                the store because a killed child never reported it (JSON:\n"
          "                killed_processes, swept_terminals)\n"
          "\n"
          "Output files (--junit, --json, --history, --save-baseline): missing folders are\n"
          "created before the run; one that cannot be is a usage error.\n"
          "\n"
          "Exit status: 0 every gate passed; 1 a gate tripped, an integrity check failed or a\n"
          "run could not take place; 2 usage error.\n"
          "\n"
          "Documentation: " DURO_DOCDIR "/stress.md (scenarios, metrics, gates, CI).\n",
          out);
}
