/*
 * main.c — duro_stress_main: the duro-stress command line over one or more provider factories.
 *
 * The matrix is scenario x provider x config; each cell runs --repeat times (after an
 * optional discarded warm-up run) on fresh stores, its medians are gated, and each scenario's
 * tables are printed as soon as its cells are done. Then the JUnit, JSON and history files,
 * and the baseline — written only when every gate passed, so a failing run never becomes the
 * reference for the next one. --role runtime serves a store instead (role.c); --role driver
 * is the matrix of one cell on an existing store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stress.h"

static const char *prog_name(int argc, char **argv)
{
    if (argc < 1 || argv[0] == NULL)
        return "duro-stress";
    const char *s = strrchr(argv[0], '/');
    return s != NULL ? s + 1 : argv[0];
}

/* Run one cell: warm-up, repeats, median. Never fails as a whole: problems are recorded in
 * the cell. Returns DURO_ENOMEM only when the cell itself cannot be allocated. */
static int run_cell(const duro__stress_opts *o, const duro_provider_factory *f,
                    duro__stress_cell *cell)
{
    duro_stress_config cfg = o->cfg;
    cfg.orch_concurrency = cell->orch;
    cfg.worker_concurrency = cell->worker;
    cell->runs = calloc((size_t)o->repeat, sizeof *cell->runs);
    if (cell->runs == NULL)
        return DURO_ENOMEM;
    const char *scenario = duro_stress_scenario_name((size_t)cell->scenario);
    int64_t t0 = duro__monotonic_ns();
    duro_error err = {0};
    if (o->warmup_secs > 0) {
        duro_stress_config w = cfg;
        w.duration_secs = o->warmup_secs;
        duro_stress_result discard;
        if (duro_stress_run(f, scenario, &w, &discard, &err) != 0) {
            cell->run_error = 1;
            snprintf(cell->run_error_msg, sizeof cell->run_error_msg, "warm-up: %.200s",
                     err.message);
        }
    }
    for (int i = 0; i < o->repeat && !cell->run_error; i++) {
        if (duro_stress_run(f, scenario, &cfg, &cell->runs[i], &err) != 0) {
            cell->run_error = 1;
            snprintf(cell->run_error_msg, sizeof cell->run_error_msg, "run %d: %.200s", i + 1,
                     err.message);
            break;
        }
        if (cell->runs[i].skipped) {
            cell->skipped = 1;
            snprintf(cell->run_error_msg, sizeof cell->run_error_msg, "%.200s",
                     cell->runs[i].first_failure);
            break;
        }
        cell->n_runs++;
    }
    cell->seconds = (double)(duro__monotonic_ns() - t0) / 1e9;
    if (cell->n_runs > 0 && duro__result_median(cell->runs, cell->n_runs, &cell->median) != 0)
        return DURO_ENOMEM;
    return 0;
}

static void free_cells(duro__stress_cell *cells, size_t n)
{
    for (size_t i = 0; cells != NULL && i < n; i++) {
        free(cells[i].runs);
        free(cells[i].gate_failures);
    }
    free(cells);
}

/* Load the baseline; a missing file only disables the regression gate. 0, or 2 on a file
 * that exists but is not a report. */
static int load_baseline(const duro__stress_opts *o, void **doc)
{
    *doc = NULL;
    if (o->baseline_path == NULL)
        return 0;
    struct stat st;
    if (stat(o->baseline_path, &st) != 0 && errno == ENOENT) {
        fprintf(stderr, "duro-stress: no baseline at %s yet: the regression gate is skipped\n",
                o->baseline_path);
        return 0;
    }
    char msg[512];
    *doc = duro__baseline_load(o->baseline_path, msg, sizeof msg);
    if (*doc == NULL) {
        fprintf(stderr, "duro-stress: --baseline: %s\n", msg);
        return 2;
    }
    return 0;
}

/* Create the missing folders of every file the run will write, before it starts. Returns 0,
 * or 2 (message printed) when one cannot be created. */
static int make_output_dirs(const duro__stress_opts *o, const char *prog)
{
    const struct {
        const char *option, *path;
    } out[] = {{"--junit", o->junit_path},
               {"--json", o->json_path},
               {"--history", o->history_path},
               {"--save-baseline", o->save_baseline_path}};
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
        char msg[1024];
        if (out[i].path != NULL && duro__make_parent_dirs(out[i].path, msg, sizeof msg) != 0) {
            fprintf(stderr, "%s: %s %s: %s\n", prog, out[i].option, out[i].path, msg);
            return 2;
        }
    }
    return 0;
}

/* JUnit, JSON, history and baseline files. Returns 0, or 1 when one could not be written. */
static int write_outputs(const duro__stress_opts *o, const duro__stress_cell *cells, size_t n,
                         int passed)
{
    int status = 0;
    duro_error err = {0};
    if (o->junit_path != NULL && duro__report_junit(o->junit_path, o, cells, n, &err) != 0) {
        fprintf(stderr, "duro-stress: --junit: %s\n", err.message);
        status = 1;
    }
    char *pretty = NULL, *line = NULL;
    if (o->json_path != NULL || o->save_baseline_path != NULL)
        pretty = duro__report_json(o, cells, n, passed, 2);
    if (o->history_path != NULL)
        line = duro__report_json(o, cells, n, passed, 0);
    if (((o->json_path != NULL || o->save_baseline_path != NULL) && pretty == NULL) ||
        (o->history_path != NULL && line == NULL)) {
        fprintf(stderr, "duro-stress: out of memory building the JSON report\n");
        status = 1;
    }
    if (pretty != NULL && o->json_path != NULL &&
        duro__write_file(o->json_path, pretty, &err) != 0) {
        fprintf(stderr, "duro-stress: --json: %s\n", err.message);
        status = 1;
    }
    if (line != NULL && duro__append_line(o->history_path, line, &err) != 0) {
        fprintf(stderr, "duro-stress: --history: %s\n", err.message);
        status = 1;
    }
    if (pretty != NULL && o->save_baseline_path != NULL) {
        if (!passed) {
            fprintf(stderr, "duro-stress: a gate failed: the baseline %s is NOT updated\n",
                    o->save_baseline_path);
        } else if (duro__write_file(o->save_baseline_path, pretty, &err) != 0) {
            fprintf(stderr, "duro-stress: --save-baseline: %s\n", err.message);
            status = 1;
        } else {
            fprintf(stderr, "duro-stress: baseline saved to %s\n", o->save_baseline_path);
        }
    }
    free(pretty);
    free(line);
    return status;
}

int duro_stress_main_factories(const duro_provider_factory *const *factories,
                               size_t n_factories, int argc, char **argv)
{
    duro__stress_opts o;
    const char *prog = prog_name(argc, argv);
    if (duro__stress_parse(argc, argv, &o, stderr) != 0)
        return 2;
    if (o.help) {
        duro__stress_usage(stdout, prog);
        return 0;
    }
    if (n_factories == 0) {
        fprintf(stderr, "%s: no provider to test\n", prog);
        return 2;
    }
    for (size_t f = 0; f < n_factories; f++) {
        duro_error err = {0};
        if (duro__factory_check(factories[f], &err) != 0) {
            fprintf(stderr, "%s: %s\n", prog, err.message);
            return 2;
        }
    }
    for (size_t f = 0; (o.cfg.attach || o.cfg.processes > 0 || o.role) && f < n_factories; f++)
        if (factories[f]->attach == NULL || factories[f]->locate == NULL) {
            fprintf(stderr, "%s: %s: provider '%s' cannot open a second handle on a store "
                    "(its factory has no locate and attach hooks)\n", prog,
                    o.role ? "--role" : o.cfg.attach ? "--attach" : "--processes",
                    factories[f]->name);
            return 2;
        }
    if (make_output_dirs(&o, prog) != 0)
        return 2;
    if (o.role != DURO__ROLE_ALL && n_factories != 1) {
        fprintf(stderr, "%s: --role runs on one provider's store, not %zu\n", prog,
                n_factories);
        return 2;
    }
    if (o.role == DURO__ROLE_RUNTIME)
        return duro__stress_serve(factories[0], &o, stdout);
    if (o.cfg.progress < 0)
        o.cfg.progress = isatty(STDERR_FILENO);
    void *baseline;
    if (load_baseline(&o, &baseline) != 0)
        return 2;

    size_t per_scenario = n_factories * o.n_configs, n = o.n_scenarios * per_scenario;
    duro__stress_cell *cells = calloc(n, sizeof *cells);
    if (cells == NULL) {
        duro__baseline_free(baseline);
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    int failed_cells = 0, status = 0;
    for (size_t s = 0; s < o.n_scenarios && status == 0; s++) {
        duro__stress_cell *row = cells + s * per_scenario;
        for (size_t f = 0; f < n_factories && status == 0; f++) {
            for (size_t k = 0; k < o.n_configs && status == 0; k++) {
                duro__stress_cell *c = &row[f * o.n_configs + k];
                c->scenario = o.scenarios[s];
                c->provider = factories[f]->name;
                c->orch = o.orch[k];
                c->worker = o.worker[k];
                if (run_cell(&o, factories[f], c) != 0)
                    status = 1;
            }
        }
        int g = status ? DURO_ENOMEM : duro__stress_gates(&o, row, per_scenario, baseline);
        if (g < 0 || duro__report_table(stdout, &o, o.scenarios[s], row, per_scenario) != 0) {
            fprintf(stderr, "%s: out of memory\n", prog);
            status = 1;
            break;
        }
        fflush(stdout);
        failed_cells += g;
    }
    duro__baseline_free(baseline);
    if (status == 0) {
        int passed = failed_cells == 0;
        status = write_outputs(&o, cells, n, passed);
        if (!passed) {
            fprintf(stderr, "%s: %d of %zu result(s) failed a gate\n", prog, failed_cells, n);
            status = 1;
        }
    }
    free_cells(cells, n);
    return status;
}

int duro_stress_main(const duro_provider_factory *factory, int argc, char **argv)
{
    const duro_provider_factory *const f[1] = {factory};
    return duro_stress_main_factories(f, 1, argc, argv);
}
