/*
 * fuzz-stress-options.c — libFuzzer target: the duro-stress command line parser
 * (duro__stress_parse, stress/options.c).
 *
 * The input is a command line, one argument per line (fz_argv). Messages go to /dev/null.
 * Properties: the parser returns 0 or 2 (usage error), never reads past its arguments, and
 * a command line it accepts is in range: 1..DURO__SC_COUNT distinct known scenarios,
 * 1..DURO__MAX_CONFIGS configs of 1..1024 threads each, the documented bounds of every
 * number, and no two options that exclude each other.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "stress.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    if (!devnull)
        abort();
    duro__stress_usage(devnull, "duro-stress");
    return 0;
}

static void check_accepted(const duro__stress_opts *o)
{
    const duro_stress_config *c = &o->cfg;
    int seen[DURO__SC_COUNT] = {0};
    size_t i;
    FZ_CHECK(o->n_scenarios >= 1 && o->n_scenarios <= DURO__SC_COUNT, "%zu scenarios",
             o->n_scenarios);
    for (i = 0; i < o->n_scenarios; i++) {
        FZ_CHECK(o->scenarios[i] >= 0 && o->scenarios[i] < DURO__SC_COUNT &&
                     !seen[o->scenarios[i]],
                 "scenario %d listed twice or unknown", o->scenarios[i]);
        seen[o->scenarios[i]] = 1;
        FZ_CHECK(duro_stress_scenario_name((size_t)o->scenarios[i]) != NULL, "unnamed scenario");
    }
    FZ_CHECK(o->n_configs >= 1 && o->n_configs <= DURO__MAX_CONFIGS, "%zu configs",
             o->n_configs);
    for (i = 0; i < o->n_configs; i++)
        FZ_CHECK(o->orch[i] >= 1 && o->orch[i] <= 1024 && o->worker[i] >= 1 &&
                     o->worker[i] <= 1024,
                 "config %zu is %d/%d", i, o->orch[i], o->worker[i]);
    FZ_CHECK(c->max_concurrent >= 1 && c->tasks_per_instance >= 1 &&
                 c->tasks_per_instance <= DURO__MAX_TASKS && c->activity_delay_ms >= 0 &&
                 c->wait_timeout_secs >= 1 && c->runtimes >= 1 && c->runtimes <= 64 &&
                 c->processes >= 0 && c->processes <= 64 && c->provider_latency_ms >= 0,
             "an integer option is out of range");
    FZ_CHECK(isfinite(c->duration_secs) && c->duration_secs > 0 && isfinite(c->rate) &&
                 c->rate >= 0 && c->provider_error_pct >= 0 && c->lost_reply_pct >= 0 &&
                 c->provider_error_pct + c->lost_reply_pct <= 100 &&
                 c->activity_failure_pct >= 0 && c->activity_failure_pct <= 100 &&
                 isfinite(c->kill_every_secs) && c->kill_every_secs >= 0 &&
                 o->warmup_secs >= 0 && o->min_success >= 0 && o->min_success <= 100 &&
                 o->max_regression >= 0 && o->repeat >= 1 && o->repeat <= 1000,
             "a decimal option is out of range");
    FZ_CHECK(!(c->kill_every_secs > 0 && c->processes == 0), "--kill-every without --processes");
    FZ_CHECK(!(c->processes > 0 && (c->runtimes > 1 || c->attach)),
             "--processes with --runtimes or --attach");
    FZ_CHECK(c->progress >= -1 && c->progress <= 1, "progress %d", c->progress);
    FZ_CHECK(!o->junit_path || o->junit_path[0], "empty --junit accepted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char **argv, *buf;
    duro__stress_opts o;
    int argc = fz_argv(data, size, "duro-stress", 64, &argv, &buf), rc;
    if (argc < 0)
        return 0;
    rc = duro__stress_parse(argc, argv, &o, devnull);
    FZ_CHECK(rc == 0 || rc == 2, "parse returned %d", rc);
    if (rc == 0)
        check_accepted(&o);
    free(argv);
    free(buf);
    return 0;
}
