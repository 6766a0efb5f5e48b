/*
 * gate.c — the CI gates of duro-stress.
 *
 * Correctness gates look at every run: a run that could not take place, an integrity problem,
 * or any run whose success % is under --min-success (default 100) fails its cell. Performance
 * gates look at the medians over --repeat runs: --min-orch-per-sec, --max-p99-ms, and the
 * regression limits against a baseline report (orch/s may drop, and P99 may rise, by at most
 * --max-regression %). A cell absent from the baseline is reported, not failed.
 */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

/* Append a formatted message to cell->gate_failures ("; "-separated). 0 or DURO_ENOMEM. */
static int add_failure(duro__stress_cell *cell, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_failure(duro__stress_cell *cell, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t old = cell->gate_failures != NULL ? strlen(cell->gate_failures) : 0;
    char *n = realloc(cell->gate_failures, old + strlen(msg) + 3);
    if (n == NULL)
        return DURO_ENOMEM;
    if (old > 0)
        strcpy(n + old, "; ");
    else
        n[0] = '\0';
    strcat(n, msg);
    cell->gate_failures = n;
    return 0;
}

/* The baseline's medians for the cell, if the baseline has that cell. */
static int baseline_find(const json_t *doc, const duro__stress_cell *cell, double *orch,
                         double *p99)
{
    char config[32];
    snprintf(config, sizeof config, "%d/%d", cell->orch, cell->worker);
    const json_t *results = json_object_get(doc, "results");
    size_t i;
    const json_t *r;
    json_array_foreach(results, i, r) {
        const char *sc = json_string_value(json_object_get(r, "scenario"));
        const char *pv = json_string_value(json_object_get(r, "provider"));
        const char *cf = json_string_value(json_object_get(r, "config"));
        if (sc == NULL || pv == NULL || cf == NULL ||
            strcmp(sc, duro_stress_scenario_name((size_t)cell->scenario)) != 0 ||
            strcmp(pv, cell->provider) != 0 || strcmp(cf, config) != 0)
            continue;
        const json_t *m = json_object_get(r, "median");
        const json_t *o = json_object_get(m, "orch_per_sec");
        const json_t *p = json_object_get(m, "lat_p99_ms");
        if (!json_is_number(o) || !json_is_number(p))
            return 0;
        *orch = json_number_value(o);
        *p99 = json_number_value(p);
        return 1;
    }
    return 0;
}

static int gate_cell(const duro__stress_opts *o, duro__stress_cell *cell, const json_t *base)
{
    int rc = 0;
    if (cell->run_error)
        return add_failure(cell, "run could not take place: %s", cell->run_error_msg);
    if (cell->skipped)
        return 0;
    for (size_t i = 0; i < cell->n_runs && rc == 0; i++) {
        const duro_stress_result *r = &cell->runs[i];
        if (!r->integrity_ok)
            rc = add_failure(cell, "integrity (run %zu): %s", i + 1, r->integrity_message);
        if (rc == 0 && o->min_success > 0 && r->success_pct < o->min_success)
            rc = add_failure(cell, "success %.2f%% < %.2f%% (run %zu: %" PRIu64 " of %" PRIu64
                             " failed)", r->success_pct, o->min_success, i + 1, r->failed,
                             r->launched);
    }
    const duro_stress_result *m = &cell->median;
    if (rc == 0 && !isnan(o->min_orch_per_sec) && m->orch_per_sec < o->min_orch_per_sec)
        rc = add_failure(cell, "orch/s %.2f < %.2f", m->orch_per_sec, o->min_orch_per_sec);
    if (rc == 0 && !isnan(o->max_p99_ms) && m->lat_p99_ms > o->max_p99_ms)
        rc = add_failure(cell, "P99 %.2f ms > %.2f ms", m->lat_p99_ms, o->max_p99_ms);
    double bo, bp;
    if (rc == 0 && base != NULL && baseline_find(base, cell, &bo, &bp)) {
        double lim = o->max_regression / 100.0;
        if (m->orch_per_sec < bo * (1.0 - lim))
            rc = add_failure(cell, "orch/s %.2f is %.1f%% below the baseline %.2f (limit %.1f%%)",
                             m->orch_per_sec, bo > 0 ? (1.0 - m->orch_per_sec / bo) * 100.0 : 0,
                             bo, o->max_regression);
        if (rc == 0 && m->lat_p99_ms > bp * (1.0 + lim))
            rc = add_failure(cell, "P99 %.2f ms is %.1f%% above the baseline %.2f ms (limit "
                             "%.1f%%)", m->lat_p99_ms,
                             bp > 0 ? (m->lat_p99_ms / bp - 1.0) * 100.0 : 0, bp,
                             o->max_regression);
    }
    return rc;
}

int duro__stress_gates(const duro__stress_opts *o, duro__stress_cell *cells, size_t n,
                       const void *baseline)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        free(cells[i].gate_failures);
        cells[i].gate_failures = NULL;
        if (gate_cell(o, &cells[i], baseline) != 0)
            return DURO_ENOMEM;
        if (cells[i].gate_failures != NULL)
            failed++;
    }
    return failed;
}

void *duro__baseline_load(const char *path, char *msg, size_t msg_size)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (doc == NULL) {
        snprintf(msg, msg_size, "%s: line %d: %s", path, jerr.line, jerr.text);
        return NULL;
    }
    if (!json_is_array(json_object_get(doc, "results"))) {
        snprintf(msg, msg_size, "%s: not a duro-stress JSON report (no \"results\" array)", path);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

void duro__baseline_free(void *doc)
{
    json_decref(doc);
}
