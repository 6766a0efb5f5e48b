/*
 * metrics.c — the arithmetic and probes behind the stress numbers: exact percentiles from
 * sorted samples, lower medians over repeated runs, least-squares slopes, RSS and CPU of the
 * process, and the table of result fields that JSON, JUnit and medians iterate over.
 */
#include <dirent.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

double duro__percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    double rank = ceil(p / 100.0 * (double)n);
    size_t i = rank < 1 ? 0 : (size_t)rank - 1;
    return sorted[i < n ? i : n - 1];
}

/* Ascending, NAN last. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

double duro__median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof v[0], cmp_double);
    return v[(n - 1) / 2];
}

double duro__slope(const double *x, const double *y, size_t n)
{
    if (n < 3)
        return NAN;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    return sxx > 0 ? sxy / sxx : NAN;
}

long duro__rss_now_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return -1;
    long size, resident;
    int n = fscanf(f, "%ld %ld", &size, &resident);
    fclose(f);
    if (n != 2)
        return -1;
    long page = sysconf(_SC_PAGESIZE);
    return resident * (page > 0 ? page / 1024 : 4);
}

long duro__open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

long duro__rss_peak_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
}

int duro__rss_peak_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f == NULL)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

long duro__rss_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

double duro__cpu_secs(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

#define U(f) {#f, offsetof(duro_stress_result, f), 1}
#define D(f) {#f, offsetof(duro_stress_result, f), 0}
const duro__metric duro__metrics[] = {
    U(launched), U(completed), U(failed), U(failed_infrastructure), U(failed_configuration),
    U(failed_application), U(failed_timeout), U(wrong_output), U(completed_in_window),
    U(activities_in_window), U(activities_total), U(children), U(continued_as_new),
    U(duplicate_terminal), U(runtime_warnings), U(injected_provider_errors),
    U(injected_activity_failures), U(killed_processes), U(swept_terminals),
    U(injected_lost_replies), U(start_retries), U(open_fds_start), U(open_fds_end), D(window_secs), D(drain_secs), D(success_pct),
    D(orch_per_sec), D(activity_per_sec), D(lat_avg_ms), D(lat_p50_ms), D(lat_p95_ms),
    D(lat_p99_ms), D(lat_max_ms), D(peak_rss_kb), D(run_peak_rss_kb),
    D(rss_slope_kb_per_min), D(cpu_ms_per_orch), D(integrity_secs), U(histories_checked),
    U(events_checked), U(rt_turns), U(rt_completed), U(rt_failed), U(rt_continued_as_new),
    U(rt_activity_attempts), U(rt_provider_calls), U(rt_provider_errors), U(rt_queue_errors),
    U(injected_queue_errors), U(rt_spans), U(store_statements), D(statements_per_orch),
    D(prefill_secs), U(kv_reads), U(kv_mismatches), U(session_steps), U(session_mismatches),
    U(sessions_on_a), U(sessions_on_b),
    U(rt_partial),
};
#undef U
#undef D
const size_t duro__n_metrics = sizeof duro__metrics / sizeof duro__metrics[0];

double duro__metric_get(const duro_stress_result *r, const duro__metric *m)
{
    const char *p = (const char *)r + m->offset;
    if (m->is_u64) {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    double d;
    memcpy(&d, p, sizeof d);
    return d;
}

void duro__metric_set(duro_stress_result *r, const duro__metric *m, double v)
{
    char *p = (char *)r + m->offset;
    if (m->is_u64) {
        uint64_t u = v > 0 ? (uint64_t)llround(v) : 0;
        memcpy(p, &u, sizeof u);
    } else {
        memcpy(p, &v, sizeof v);
    }
}

int duro__result_median(const duro_stress_result *runs, size_t n, duro_stress_result *out)
{
    double *v = malloc(n * sizeof *v);
    if (v == NULL)
        return DURO_ENOMEM;
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < duro__n_metrics; k++) {
        for (size_t i = 0; i < n; i++)
            v[i] = duro__metric_get(&runs[i], &duro__metrics[k]);
        duro__metric_set(out, &duro__metrics[k], duro__median(v, n));
    }
    free(v);
    out->integrity_ok = 1;
    for (size_t i = 0; i < n; i++) {
        if (!runs[i].integrity_ok && out->integrity_ok) {
            out->integrity_ok = 0;
            memcpy(out->integrity_message, runs[i].integrity_message,
                   sizeof out->integrity_message);
        }
        if (runs[i].first_failure[0] != '\0' && out->first_failure[0] == '\0')
            memcpy(out->first_failure, runs[i].first_failure, sizeof out->first_failure);
    }
    return 0;
}
