/*
 * report.c — what duro-stress writes: the seed spec's console table (its columns in its order,
 * then P50, P95, P99 and peak RSS) under the spec's header block, a details table (failure
 * classes, max latency, drain, CPU, RSS slope, integrity), the JUnit document (one testsuite
 * per scenario, one testcase per provider x config, medians as suite properties named
 * "<provider>.<O/W>.<metric>"), and the JSON report (config, machine, every run and median,
 * gate outcomes) that also serves as baseline and history record.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "duro-report.h"
#include "stress.h"

static void config_label(const duro__stress_cell *c, char *buf, size_t size)
{
    snprintf(buf, size, "%d/%d", c->orch, c->worker);
}

static void fmt_ms(char *buf, size_t size, double ms)
{
    snprintf(buf, size, "%.1fms", ms);
}

/* ---- Console ------------------------------------------------------------------------------ */

static void header_block(FILE *out, const duro__stress_opts *o, int scenario)
{
    duro_stress_config effective = o->cfg;
    duro__scenario_config(scenario, &effective);
    const duro_stress_config *c = &effective;
    fprintf(out, "=== duro Stress Test Results ===\n\n");
    fprintf(out, "Test Scenario: %s\n", duro__scenario_title(scenario));
    fprintf(out, "Duration: %gs\n", c->duration_secs);
    if (c->rate > 0)
        fprintf(out, "Load: open loop, %g starts/s\n", c->rate);
    else
        fprintf(out, "Max Concurrent Instances: %d\n", c->max_concurrent);
    if (c->max_roots > 0)
        fprintf(out, "Roots per Run: %" PRIu64 " (at most %g s)\n", c->max_roots,
                c->duration_secs);
    if (c->prefill > 0)
        fprintf(out, "Prefilled Store: %" PRIu64 " completed instances before each run\n",
                c->prefill);
    fprintf(out, "Tasks per Instance: %d\n", c->tasks_per_instance);
    fprintf(out, "Activity Delay: %dms\n", c->activity_delay_ms);
    if (o->repeat > 1)
        fprintf(out, "Runs per Cell: %d (medians shown)\n", o->repeat);
    if (c->runtimes > 1 || c->attach)
        fprintf(out, "Runtimes per Store: %d%s\n", c->runtimes,
                c->attach ? " (each on its own handle)" : "");
    if (c->prefetch_ms >= 0)
        fprintf(out, "Fetch-ahead Window: %dms\n", c->prefetch_ms);
    if (c->processes > 0 && c->kill_every_secs > 0)
        fprintf(out, "Runtime Processes: %d (one killed with SIGKILL and replaced every %g s)\n",
                c->processes, c->kill_every_secs);
    else if (c->processes > 0)
        fprintf(out, "Runtime Processes: %d\n", c->processes);
    if (c->provider_latency_ms > 0 || c->provider_error_pct > 0 || c->lost_reply_pct > 0 ||
        c->activity_failure_pct > 0)
        fprintf(out, "Injected: %d ms provider latency, %g%% provider errors, %g%% lost "
                "replies, %g%% activity failures\n", c->provider_latency_ms,
                c->provider_error_pct, c->lost_reply_pct, c->activity_failure_pct);
    fputc('\n', out);
}

static duro_table *main_table(const duro__stress_cell *cells, size_t n, int scenario)
{
    static const char *const h[] = {"Provider", "Config", "Completed", "Failed",
                                    "Success %", "Orch/sec", "Activity/sec", "Avg Latency",
                                    "P50", "P95", "P99", "Peak RSS"};
    duro_table *t = duro_table_new(12, h);
    if (t == NULL)
        return NULL;
    for (size_t k = 2; k < 12; k++)
        duro_table_align(t, k, DURO_ALIGN_RIGHT);
    for (size_t i = 0; i < n; i++) {
        const duro__stress_cell *c = &cells[i];
        if (c->scenario != scenario)
            continue;
        const duro_stress_result *m = &c->median;
        char cfg[32], avg[32], p50[32], p95[32], p99[32];
        config_label(c, cfg, sizeof cfg);
        fmt_ms(avg, sizeof avg, m->lat_avg_ms);
        fmt_ms(p50, sizeof p50, m->lat_p50_ms);
        fmt_ms(p95, sizeof p95, m->lat_p95_ms);
        fmt_ms(p99, sizeof p99, m->lat_p99_ms);
        int rc = c->run_error || c->skipped
                     ? duro_table_add_rowf(t, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-", c->provider,
                                           cfg)
                     : duro_table_add_rowf(t, "%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%.1f%%\t%.2f\t"
                                           "%.2f\t%s\t%s\t%s\t%s\t%.1f MB", c->provider, cfg,
                                           m->completed, m->failed, m->success_pct,
                                           m->orch_per_sec, m->activity_per_sec, avg, p50,
                                           p95, p99, m->peak_rss_kb / 1024.0);
        if (rc != 0) {
            duro_table_free(t);
            return NULL;
        }
    }
    return t;
}

static duro_table *details_table(const duro__stress_cell *cells, size_t n, int scenario)
{
    static const char *const h[] = {"Provider", "Config", "Infra", "Config err", "App",
                                    "Timeout", "Wrong output", "Max Latency", "Drain",
                                    "CPU/orch", "RSS slope", "Integrity"};
    duro_table *t = duro_table_new(12, h);
    if (t == NULL)
        return NULL;
    for (size_t k = 2; k < 11; k++)
        duro_table_align(t, k, DURO_ALIGN_RIGHT);
    for (size_t i = 0; i < n; i++) {
        const duro__stress_cell *c = &cells[i];
        if (c->scenario != scenario || c->run_error || c->skipped)
            continue;
        const duro_stress_result *m = &c->median;
        char cfg[32], max[32], slope[32];
        config_label(c, cfg, sizeof cfg);
        fmt_ms(max, sizeof max, m->lat_max_ms);
        if (isnan(m->rss_slope_kb_per_min))
            snprintf(slope, sizeof slope, "n/a");
        else
            snprintf(slope, sizeof slope, "%+.0f KB/min", m->rss_slope_kb_per_min);
        if (duro_table_add_rowf(t, "%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
                                "\t%" PRIu64 "\t%s\t%.2fs\t%.2fms\t%s\t%s", c->provider, cfg,
                                m->failed_infrastructure, m->failed_configuration,
                                m->failed_application, m->failed_timeout, m->wrong_output, max,
                                m->drain_secs, m->cpu_ms_per_orch, slope,
                                m->integrity_ok ? "ok" : "FAILED") != 0) {
            duro_table_free(t);
            return NULL;
        }
    }
    return t;
}

/* One line of the statements the store ran per completed root, for the rows whose factory
 * counted them (the median run's figure); nothing when none did. */
static void statements_line(FILE *out, const duro__stress_cell *cells, size_t n, int scenario)
{
    const char *sep = "\nStatements per orchestration: ";

    for (size_t i = 0; i < n; i++) {
        const duro__stress_cell *c = &cells[i];
        if (c->scenario != scenario || c->run_error || c->skipped || !isfinite(c->median.statements_per_orch))
            continue;
        char cfg[32];
        config_label(c, cfg, sizeof cfg);
        fprintf(out, "%s%s %s %.1f", sep, c->provider, cfg, c->median.statements_per_orch);
        sep = "; ";
    }
}

/* For the routing scenario, one line of how its sessions fell on runtimes A and B, their
 * steps and the roots with a step on the other runtime (the median run's figures). */
static void sessions_line(FILE *out, const duro__stress_cell *cells, size_t n, int scenario)
{
    const char *sep = "\nSessions: ";

    for (size_t i = 0; scenario == DURO__SC_ROUTING && i < n; i++) {
        const duro__stress_cell *c = &cells[i];
        if (c->scenario != scenario || c->run_error || c->skipped)
            continue;
        char cfg[32];
        config_label(c, cfg, sizeof cfg);
        const duro_stress_result *m = &c->median;
        fprintf(out, "%s%s %s on A %" PRIu64 ", on B %" PRIu64 ", %" PRIu64 " steps, %" PRIu64
                " roots with a step on the other runtime", sep, c->provider, cfg,
                m->sessions_on_a, m->sessions_on_b, m->session_steps, m->session_mismatches);
        sep = "; ";
    }
}

/* The synchronous level a sqlite-file row ran with, from the name duro-stress gives it
 * (sqlite-file/full, /normal or /off); NULL for every other provider. */
static const char *sync_of(const char *provider)
{
    static const char prefix[] = "sqlite-file/";

    return strncmp(provider, prefix, sizeof prefix - 1) == 0 && provider[sizeof prefix - 1]
               ? provider + sizeof prefix - 1
               : NULL;
}

int duro__report_table(FILE *out, const duro__stress_opts *o, int scenario,
                       const duro__stress_cell *cells, size_t n)
{
    header_block(out, o, scenario);
    duro_table *t = main_table(cells, n, scenario);
    if (t == NULL)
        return DURO_ENOMEM;
    int rc = duro_table_print(t, out);
    duro_table_free(t);
    if (rc != 0)
        return rc;
    fputc('\n', out);
    t = details_table(cells, n, scenario);
    if (t == NULL)
        return DURO_ENOMEM;
    rc = duro_table_print(t, out);
    duro_table_free(t);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const duro__stress_cell *c = &cells[i];
        if (c->scenario != scenario)
            continue;
        char cfg[32];
        config_label(c, cfg, sizeof cfg);
        if (c->run_error)
            fprintf(out, "\n%s %s: run could not take place: %s", c->provider, cfg,
                    c->run_error_msg);
        if (c->skipped)
            fprintf(out, "\n%s %s: skipped: %s", c->provider, cfg, c->run_error_msg);
        if (c->median.first_failure[0] != '\0')
            fprintf(out, "\n%s %s: first failures: %s", c->provider, cfg,
                    c->median.first_failure);
        if (c->gate_failures != NULL)
            fprintf(out, "\n%s %s: GATE FAILED: %s", c->provider, cfg, c->gate_failures);
    }
    statements_line(out, cells, n, scenario);
    sessions_line(out, cells, n, scenario);
    fputs("\n\n", out);
    return 0;
}

/* ---- JSON --------------------------------------------------------------------------------- */

/* json_real() refuses NaN and infinities: they become null. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Set o[key] = v, taking v; a NULL v (out of memory) poisons *ok. */
static void put(json_t *o, const char *key, json_t *v, int *ok)
{
    if (v == NULL || json_object_set_new(o, key, v) != 0)
        *ok = 0;
}

static json_t *metrics_json(const duro_stress_result *r, int *ok)
{
    json_t *o = json_object();
    if (o == NULL) {
        *ok = 0;
        return NULL;
    }
    for (size_t k = 0; k < duro__n_metrics; k++) {
        const duro__metric *m = &duro__metrics[k];
        double v = duro__metric_get(r, m);
        put(o, m->name, m->is_u64 ? json_integer((json_int_t)v) : num(v), ok);
    }
    put(o, "integrity_ok", json_boolean(r->integrity_ok), ok);
    put(o, "integrity_message", json_string(r->integrity_message), ok);
    put(o, "first_failure", json_string(r->first_failure), ok);
    return o;
}

static json_t *config_json(const duro__stress_opts *o, int *ok)
{
    const duro_stress_config *c = &o->cfg;
    json_t *j = json_object();
    if (j == NULL) {
        *ok = 0;
        return NULL;
    }
    put(j, "max_concurrent", json_integer(c->max_concurrent), ok);
    put(j, "duration_secs", json_real(c->duration_secs), ok);
    put(j, "count", json_integer((json_int_t)c->max_roots), ok);
    put(j, "prefill", json_integer((json_int_t)c->prefill), ok);
    put(j, "tasks_per_instance", json_integer(c->tasks_per_instance), ok);
    put(j, "activity_delay_ms", json_integer(c->activity_delay_ms), ok);
    put(j, "wait_timeout_secs", json_integer(c->wait_timeout_secs), ok);
    put(j, "load", json_string(c->rate > 0 ? "open" : "closed"), ok);
    put(j, "rate", json_real(c->rate), ok);
    put(j, "runtimes", json_integer(c->runtimes), ok);
    put(j, "provider_latency_ms", json_integer(c->provider_latency_ms), ok);
    put(j, "provider_error_pct", json_real(c->provider_error_pct), ok);
    put(j, "lost_reply_pct", json_real(c->lost_reply_pct), ok);
    put(j, "activity_failure_pct", json_real(c->activity_failure_pct), ok);
    put(j, "prefetch_ms", c->prefetch_ms >= 0 ? json_integer(c->prefetch_ms) : json_null(), ok);
    put(j, "attach", json_boolean(c->attach), ok);
    put(j, "processes", json_integer(c->processes), ok);
    put(j, "kill_every_secs", json_real(c->kill_every_secs), ok);
    put(j, "repeat", json_integer(o->repeat), ok);
    put(j, "warmup_secs", json_real(o->warmup_secs), ok);
    json_t *gates = json_object();
    put(j, "gates", gates, ok);
    if (gates != NULL) {
        put(gates, "min_success", json_real(o->min_success), ok);
        put(gates, "min_orch_per_sec", num(o->min_orch_per_sec), ok);
        put(gates, "max_p99_ms", num(o->max_p99_ms), ok);
        put(gates, "baseline", o->baseline_path ? json_string(o->baseline_path) : json_null(),
            ok);
        put(gates, "max_regression", json_real(o->max_regression), ok);
    }
    return j;
}

/* First "model name" line of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t size)
{
    snprintf(buf, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *v = strchr(line, ':');
        if (v == NULL)
            break;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        snprintf(buf, size, "%s", v);
        buf[strcspn(buf, "\n")] = '\0';
        break;
    }
    fclose(f);
}

static json_t *machine_json(int *ok)
{
    json_t *j = json_object();
    if (j == NULL) {
        *ok = 0;
        return NULL;
    }
    struct utsname u;
    char host[256] = "unknown", cpu[256];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    cpu_model(cpu, sizeof cpu);
    put(j, "hostname", json_string(host), ok);
    put(j, "nproc", json_integer(sysconf(_SC_NPROCESSORS_ONLN)), ok);
    put(j, "cpu_model", json_string(cpu), ok);
    if (uname(&u) == 0) {
        put(j, "sysname", json_string(u.sysname), ok);
        put(j, "release", json_string(u.release), ok);
        put(j, "machine", json_string(u.machine), ok);
    }
#if defined(__clang__)
    put(j, "compiler", json_string("clang " __clang_version__), ok);
#elif defined(__GNUC__)
    put(j, "compiler", json_string("gcc " __VERSION__), ok);
#else
    put(j, "compiler", json_string("unknown"), ok);
#endif
    return j;
}

static const char *commit_id(void)
{
    static const char *const vars[] = {"DURO_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v != NULL && *v != '\0')
            return v;
    }
    return NULL;
}

static json_t *cell_json(const duro__stress_cell *c, int *ok)
{
    json_t *j = json_object();
    if (j == NULL) {
        *ok = 0;
        return NULL;
    }
    char cfg[32];
    config_label(c, cfg, sizeof cfg);
    put(j, "scenario", json_string(duro_stress_scenario_name((size_t)c->scenario)), ok);
    put(j, "provider", json_string(c->provider), ok);
    put(j, "sync", sync_of(c->provider) ? json_string(sync_of(c->provider)) : json_null(), ok);
    put(j, "config", json_string(cfg), ok);
    put(j, "orch_concurrency", json_integer(c->orch), ok);
    put(j, "worker_concurrency", json_integer(c->worker), ok);
    put(j, "seconds", json_real(c->seconds), ok);
    put(j, "run_error", c->run_error ? json_string(c->run_error_msg) : json_null(), ok);
    put(j, "skipped", c->skipped ? json_string(c->run_error_msg) : json_null(), ok);
    put(j, "passed", json_boolean(c->gate_failures == NULL), ok);
    put(j, "gate_failures", c->gate_failures ? json_string(c->gate_failures) : json_null(), ok);
    if (!c->run_error && !c->skipped)
        put(j, "median", metrics_json(&c->median, ok), ok);
    json_t *runs = json_array();
    put(j, "runs", runs, ok);
    for (size_t i = 0; runs != NULL && i < c->n_runs; i++) {
        json_t *r = metrics_json(&c->runs[i], ok);
        if (r == NULL || json_array_append_new(runs, r) != 0)
            *ok = 0;
    }
    return j;
}

char *duro__report_json(const duro__stress_opts *o, const duro__stress_cell *cells, size_t n,
                        int passed, int indent)
{
    int ok = 1;
    json_t *doc = json_object();
    if (doc == NULL)
        return NULL;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *commit = commit_id();
    put(doc, "format", json_string("duro-stress/1"), &ok);
    put(doc, "duro_version", json_string(DURO_VERSION_STRING), &ok);
    put(doc, "timestamp", json_string(ts), &ok);
    put(doc, "commit", commit ? json_string(commit) : json_null(), &ok);
    put(doc, "passed", json_boolean(passed), &ok);
    put(doc, "machine", machine_json(&ok), &ok);
    put(doc, "config", config_json(o, &ok), &ok);
    json_t *results = json_array();
    put(doc, "results", results, &ok);
    for (size_t i = 0; results != NULL && i < n; i++) {
        json_t *c = cell_json(&cells[i], &ok);
        if (c == NULL || json_array_append_new(results, c) != 0)
            ok = 0;
    }
    char *text = ok ? json_dumps(doc, (indent ? JSON_INDENT(indent) : JSON_COMPACT) |
                                          JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))
                    : NULL;
    json_decref(doc);
    return text;
}

/* ---- JUnit ------------------------------------------------------------------------------- */

static int junit_suite(duro_junit *j, const duro__stress_opts *o, int scenario,
                       const duro__stress_cell *cells, size_t n)
{
    char name[64];
    snprintf(name, sizeof name, "stress.%s", duro_stress_scenario_name((size_t)scenario));
    duro_junit_suite *s = duro_junit_suite_add(j, name, "duro.stress");
    if (s == NULL)
        return DURO_ENOMEM;
    const duro_stress_config *c = &o->cfg;
    const struct {
        const char *name;
        double value;
    } props[] = {
        {"config.max_concurrent", c->max_concurrent},
        {"config.duration_secs", c->duration_secs},
        {"config.tasks_per_instance", c->tasks_per_instance},
        {"config.activity_delay_ms", c->activity_delay_ms},
        {"config.wait_timeout_secs", c->wait_timeout_secs},
        {"config.rate", c->rate},
        {"config.repeat", o->repeat},
    };
    int rc = 0;
    for (size_t k = 0; k < sizeof props / sizeof props[0] && rc == 0; k++)
        rc = duro_junit_suite_propertyf(s, props[k].name, "%g", props[k].value);
    double total = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const duro__stress_cell *cell = &cells[i];
        if (cell->scenario != scenario || cell->run_error || cell->skipped)
            continue;
        char cfg[32];
        config_label(cell, cfg, sizeof cfg);
        for (size_t k = 0; k < duro__n_metrics && rc == 0; k++) {
            char pname[160];
            double v = duro__metric_get(&cell->median, &duro__metrics[k]);
            snprintf(pname, sizeof pname, "%s.%s.%s", cell->provider, cfg,
                     duro__metrics[k].name);
            if (duro__metrics[k].is_u64)
                rc = duro_junit_suite_propertyf(s, pname, "%.0f", v);
            else if (isfinite(v))
                rc = duro_junit_suite_propertyf(s, pname, "%.3f", v);
            else
                rc = duro_junit_suite_property(s, pname, "n/a");
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const duro__stress_cell *cell = &cells[i];
        if (cell->scenario != scenario)
            continue;
        char cname[160];
        snprintf(cname, sizeof cname, "%s.%d/%d", cell->provider, cell->orch, cell->worker);
        duro_junit_case *tc = duro_junit_case_add(s, cname, name, cell->seconds);
        if (tc == NULL)
            return DURO_ENOMEM;
        total += cell->seconds;
        if (cell->run_error) {
            rc = duro_junit_case_error(tc, "run-error", cell->run_error_msg, NULL);
        } else if (cell->skipped) {
            rc = duro_junit_case_skip(tc, cell->run_error_msg);
        } else if (cell->gate_failures != NULL) {
            char details[1200];
            snprintf(details, sizeof details, "first failures: %s\nintegrity: %s",
                     cell->median.first_failure[0] ? cell->median.first_failure : "none",
                     cell->median.integrity_ok ? "ok" : cell->median.integrity_message);
            rc = duro_junit_case_fail(tc, "gate", cell->gate_failures, details);
        }
    }
    if (rc != 0)
        return rc;
    duro_junit_suite_set_time(s, total);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL)
        return DURO_ENOMEM;
    rc = duro__report_table(mem, o, scenario, cells, n);
    if (fclose(mem) != 0 && rc == 0)
        rc = DURO_ENOMEM;
    if (rc == 0)
        rc = duro_junit_suite_system_out(s, text);
    free(text);
    return rc;
}

int duro__report_junit(const char *path, const duro__stress_opts *o,
                       const duro__stress_cell *cells, size_t n, duro_error *err)
{
    duro_junit *j = duro_junit_new();
    if (j == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
    int rc = 0;
    for (size_t k = 0; k < o->n_scenarios && rc == 0; k++)
        rc = junit_suite(j, o, o->scenarios[k], cells, n);
    if (rc != 0)
        duro_error_set(err, rc, 0, "building the JUnit document: %s", duro_strerror(rc));
    else
        rc = duro_junit_write(j, path, err);
    duro_junit_free(j);
    return rc;
}

/* ---- Text --------------------------------------------------------------------------------- */

void duro__appendf(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    if (*len + 8 >= size) /* full: the first entries are the ones kept */
        return;
    if (*len > 0)
        *len += (size_t)snprintf(buf + *len, size - *len, "; ");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

/* ---- Files ---------------------------------------------------------------------------------- */

int duro__write_file(const char *path, const char *text, duro_error *err)
{
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (tmp == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory");
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int rc = 0;
    if (f == NULL) {
        rc = duro_error_set(err, DURO_EIO, 0, "%s: %s", tmp, strerror(errno));
    } else {
        int bad = fputs(text, f) == EOF || fputc('\n', f) == EOF || fflush(f) != 0 ||
                  fsync(fileno(f)) != 0;
        int e = errno;
        if (fclose(f) != 0 && !bad) {
            bad = 1;
            e = errno;
        }
        if (bad || rename(tmp, path) != 0) {
            rc = duro_error_set(err, DURO_EIO, 0, "%s: %s", path, strerror(bad ? e : errno));
            remove(tmp);
        }
    }
    free(tmp);
    return rc;
}

int duro__append_line(const char *path, const char *line, duro_error *err)
{
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return duro_error_set(err, DURO_EIO, 0, "%s: %s", path, strerror(errno));
    int bad = fputs(line, f) == EOF || fputc('\n', f) == EOF;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    return bad ? duro_error_set(err, DURO_EIO, 0, "%s: %s", path, strerror(e)) : 0;
}
