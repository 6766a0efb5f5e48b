/*
 * runner.c — duro_conformance_main(): select, run and report the conformance cases.
 *
 * The runner reads the registry (registry.c), applies the command-line selection, and runs
 * one Check suite per category with one TCase per case. Each case's TCase is run on its own
 * (srunner_run with the case name) so that the runner can time it; a checked fixture gives
 * every repetition a fresh store from the factory and a virtual clock at DURO_CT_EPOCH_MS.
 * Check's fork mode isolates cases (a crash is reported as an error of that case); CK_FORK=no
 * in the environment runs everything in-process (for valgrind). Cases whose capabilities or
 * hooks the factory lacks are never handed to Check: they are reported SKIPPED with the
 * reason. Results go to a console summary (report/duro-report.h tables) and, on request, a
 * JUnit XML file with one testsuite per category.
 *
 * Not reentrant: the fixture reads the factory and the current case from file-scope state.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duro-report.h"
#include "factory-check.h"
#include "suite.h"
#include "duro-util.h"

/* Check's per-repetition timeout; contention cases on a slow store take a few seconds. */
#define CT_TIMEOUT_S 120.0
#define CT_MAX_REPEAT 100000u
/* Wrap width of name lists in error messages. */
#define CT_WRAP 96

enum ct_status { CT_PASS, CT_FAIL, CT_ERROR, CT_SKIP };

static const char *const ct_status_name[] = {"PASS", "FAIL", "ERROR", "SKIP"};

typedef struct ct_outcome {
    const duro_case *c;
    int selected;
    int status;
    double seconds;
    int round;            /* first round that did not pass, from 0 */
    unsigned bad_rounds;  /* rounds that did not pass */
    char message[1024];   /* failure message or skip reason */
    char where[256];      /* file:line of the failure */
} ct_outcome;

typedef struct ct_opts {
    const char *prog;
    const char *junit;
    const char **categories;  /* --category values (each may be a comma list) */
    size_t n_categories;
    const char **cases;       /* --case values (each may be a comma list) */
    size_t n_cases;
    int list;
    int markdown;
    int verbose;
    int help;
    unsigned repeat;
} ct_opts;

/* State read by the Check fixture and test function (set before each srunner_run). */
static const duro_provider_factory *ct_factory;
static const duro_case *ct_current;
static duro_ct_ctx ct_ctx;

/* ---- Check glue --------------------------------------------------------------------------- */

static void ct_setup(void)
{
    duro_error err = {0};

    memset(&ct_ctx, 0, sizeof ct_ctx);
    ct_ctx.factory = ct_factory;
    ct_ctx.now = DURO_CT_EPOCH_MS;
    int rc = ct_factory->create(ct_factory->ud, &ct_ctx.p, &err);
    ck_assert_msg(rc == 0 && ct_ctx.p != NULL, "factory '%s' could not create a store: %s (%s)",
                  ct_factory->name, duro_strerror(rc), err.message);
}

static void ct_teardown(void)
{
    if (ct_ctx.p != NULL)
        ct_factory->destroy(ct_factory->ud, ct_ctx.p);
    ct_ctx.p = NULL;
}

START_TEST(ct_case_test)
{
    ct_ctx.round = (unsigned)_i;
    ct_current->fn(&ct_ctx);
}
END_TEST

/* ---- Helpers ------------------------------------------------------------------------------ */

/* Iterate the comma-separated tokens of `*cursor`; returns 0 at the end. */
static int ct_next_token(const char **cursor, const char **tok, size_t *len)
{
    const char *s = *cursor;

    if (s == NULL)
        return 0;
    const char *comma = strchr(s, ',');
    *tok = s;
    *len = comma != NULL ? (size_t)(comma - s) : strlen(s);
    *cursor = comma != NULL ? comma + 1 : NULL;
    return 1;
}

/* Is `name` one of the tokens of the comma lists in `list`? */
static int ct_list_has(const char *const *list, size_t n, const char *name)
{
    size_t name_len = strlen(name);

    for (size_t i = 0; i < n; i++) {
        const char *cursor = list[i], *tok;
        size_t len;
        while (ct_next_token(&cursor, &tok, &len))
            if (len == name_len && memcmp(tok, name, len) == 0)
                return 1;
    }
    return 0;
}

static const struct {
    unsigned bit;
    const char *name;
} ct_cap_names[] = {
    {DURO_CAP_MANAGEMENT, "management"},
    {DURO_CAP_LONG_POLL, "long-poll"},
    {DURO_CAP_NOTIFY, "notify"},
    {DURO_CAP_TAGS, "tags"},
    {DURO_CAP_KV, "kv (durable values)"},
    {DURO_CAP_SESSIONS, "sessions"},
    {DURO_CAP_VERSION_FILTER, "version-filter (fetch_orch_filtered)"},
}, ct_hook_names[] = {
    {DURO_HOOK_CORRUPT, "corrupt_history hook"},
    {DURO_HOOK_ATTEMPTS, "max_attempt_count hook"},
    {DURO_HOOK_ATTACH, "locate and attach hooks"},
    {DURO_HOOK_WRITE_LOCK, "hold_write_lock hook"},
    {DURO_HOOK_STORAGE_FAULT, "fail_storage hook"},
    {DURO_HOOK_ALLOC_FAULT, "fail_allocation hook"},
};

/* Append ", name" (or "name" first) to buf. */
static void ct_append(char *buf, size_t size, const char *name)
{
    size_t used = strlen(buf);

    if (used < size)
        snprintf(buf + used, size - used, "%s%s", used > 0 ? ", " : "", name);
}

/* Describe the capability and hook bits in `caps`/`hooks` ("" when none). */
static void ct_describe_needs(unsigned caps, unsigned hooks, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof ct_cap_names / sizeof ct_cap_names[0]; i++)
        if (caps & ct_cap_names[i].bit)
            ct_append(buf, size, ct_cap_names[i].name);
    for (size_t i = 0; i < sizeof ct_hook_names / sizeof ct_hook_names[0]; i++)
        if (hooks & ct_hook_names[i].bit)
            ct_append(buf, size, ct_hook_names[i].name);
}

/* Hook bits the factory provides. */
static unsigned ct_factory_hooks(const duro_provider_factory *f)
{
    return (f->corrupt_history != NULL ? DURO_HOOK_CORRUPT : 0) |
           (f->max_attempt_count != NULL ? DURO_HOOK_ATTEMPTS : 0) |
           (f->locate != NULL && f->attach != NULL ? DURO_HOOK_ATTACH : 0) |
           (DURO_PROVIDER_FACTORY_HAS(f, DURO_PROVIDER_FACTORY_V2) &&
                    f->hold_write_lock != NULL
                ? DURO_HOOK_WRITE_LOCK
                : 0) |
           (DURO_PROVIDER_FACTORY_HAS(f, DURO_PROVIDER_FACTORY_V3) && f->fail_storage != NULL
                ? DURO_HOOK_STORAGE_FAULT
                : 0) |
           (DURO_PROVIDER_FACTORY_HAS(f, DURO_PROVIDER_FACTORY_V3) &&
                    f->fail_allocation != NULL
                ? DURO_HOOK_ALLOC_FAULT
                : 0);
}

/* Returns 1 and writes the reason when `c` must be skipped for factory `f`. */
static int ct_skip_reason(const duro_provider_factory *f, const duro_case *c, char *buf,
                          size_t size)
{
    unsigned missing_caps = c->caps & ~f->caps;
    unsigned missing_hooks = c->hooks & ~ct_factory_hooks(f);
    char needs[256];

    if (missing_caps == 0 && missing_hooks == 0)
        return 0;
    ct_describe_needs(missing_caps, missing_hooks, needs, sizeof needs);
    snprintf(buf, size, "provider '%s' does not provide: %s", f->name, needs);
    return 1;
}

/* ---- Command line ------------------------------------------------------------------------- */

static void ct_usage(const char *prog, FILE *out)
{
    fprintf(out,
            "Usage: %s [OPTION]...\n"
            "Run the duro provider conformance suite: named cases that prove a provider\n"
            "honours the storage contract of duro-provider.h. Each case runs on a fresh store\n"
            "with a virtual clock; cases needing a capability or hook the provider lacks are\n"
            "reported SKIPPED.\n"
            "\n"
            "Options:\n"
            "  --junit FILE       also write a JUnit XML report to FILE (one testsuite per\n"
            "                     category, one testcase per case); missing folders of\n"
            "                     FILE are created\n"
            "  --category NAME    run only this category; repeat the option or give a comma\n"
            "                     list for several\n"
            "  --case NAME        run only this case; repeatable, or a comma list\n"
            "  --list             print the selected case names, one per line, and exit\n"
            "  --markdown         with --list: print a Markdown table (category, case,\n"
            "                     capabilities, guarantee) for the documentation\n"
            "  --repeat N         run every selected case N times (default 1); a case fails\n"
            "                     when any round fails\n"
            "  --verbose          print each case with its result and time as it runs\n"
            "  -h, --help         print this help and exit\n"
            "\n"
            "Environment: CK_FORK=no runs cases in-process (for valgrind; a crash then stops\n"
            "the run); CK_TIMEOUT_MULTIPLIER scales the per-case timeout of %g s.\n"
            "\n"
            "Exit status: 0 when no case failed, 1 when a case failed or the report could not\n"
            "be written, 2 on a usage error (a --junit folder that cannot be created is one).\n"
            "\n"
            "Documentation: %s/conformance.md (the cases and how to run them) and\n"
            "%s/provider-guide.md (writing a provider).\n",
            prog, CT_TIMEOUT_S, DURO_DOCDIR, DURO_DOCDIR);
}

/* Match option `name` at argv[*i] as "--name VALUE" or "--name=VALUE". Returns 1 with
 * *value set, 0 when argv[*i] is another option, -1 when the value is missing. */
static int ct_option_value(int argc, char **argv, int *i, const char *name,
                           const char **value)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);

    if (strncmp(arg, name, len) != 0)
        return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (arg[len] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

static int ct_parse_repeat(const char *s, unsigned *out)
{
    char *end;
    unsigned long v;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    v = strtoul(s, &end, 10);
    if (*end != '\0' || v < 1 || v > CT_MAX_REPEAT)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Parse argv into `o` (whose lists must hold argc entries). Returns 0 or 2 (usage error,
 * message printed). */
static int ct_parse(int argc, char **argv, ct_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL;
        int r;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            o->help = 1;
        } else if (strcmp(arg, "--list") == 0) {
            o->list = 1;
        } else if (strcmp(arg, "--markdown") == 0) {
            o->markdown = 1;
        } else if (strcmp(arg, "--verbose") == 0) {
            o->verbose = 1;
        } else if ((r = ct_option_value(argc, argv, &i, "--junit", &v)) != 0) {
            if (r < 0 || v[0] == '\0')
                goto missing;
            o->junit = v;
        } else if ((r = ct_option_value(argc, argv, &i, "--category", &v)) != 0) {
            if (r < 0)
                goto missing;
            o->categories[o->n_categories++] = v;
        } else if ((r = ct_option_value(argc, argv, &i, "--case", &v)) != 0) {
            if (r < 0)
                goto missing;
            o->cases[o->n_cases++] = v;
        } else if ((r = ct_option_value(argc, argv, &i, "--repeat", &v)) != 0) {
            if (r < 0)
                goto missing;
            if (ct_parse_repeat(v, &o->repeat) != 0) {
                fprintf(stderr, "%s: --repeat needs a whole number from 1 to %u, not '%s'\n",
                        o->prog, CT_MAX_REPEAT, v);
                return 2;
            }
        } else {
            fprintf(stderr, "%s: unknown option '%s'\nTry '%s --help'.\n", o->prog, arg,
                    o->prog);
            return 2;
        }
        continue;
    missing:
        fprintf(stderr, "%s: option '%s' needs a value\nTry '%s --help'.\n", o->prog, arg,
                o->prog);
        return 2;
    }
    if (o->markdown && !o->list) {
        fprintf(stderr, "%s: --markdown only applies to --list\n", o->prog);
        return 2;
    }
    return 0;
}

/* Print `names` (n entries) comma-separated and wrapped, indented by two spaces. */
static void ct_print_names(FILE *out, const char *const *names, size_t n)
{
    size_t col = 0;

    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]) + (i + 1 < n ? 1 : 0);
        if (col > 0 && col + len + 1 > CT_WRAP) {
            fputc('\n', out);
            col = 0;
        }
        col += (size_t)fprintf(out, "%s%s%s", col == 0 ? "  " : " ", names[i],
                               i + 1 < n ? "," : "");
    }
    fputc('\n', out);
}

/* Check every name given to --category / --case against the registry. Returns 0 or 2. */
static int ct_validate_names(const ct_opts *o, const ct_outcome *all, size_t n_all)
{
    const char *const *lists[2] = {o->categories, o->cases};
    size_t counts[2] = {o->n_categories, o->n_cases};
    const char *what[2] = {"category", "case"};

    for (int kind = 0; kind < 2; kind++) {
        for (size_t i = 0; i < counts[kind]; i++) {
            const char *cursor = lists[kind][i], *tok;
            size_t len;
            while (ct_next_token(&cursor, &tok, &len)) {
                int found = 0;
                for (size_t k = 0; k < n_all && !found; k++) {
                    const char *name = kind == 0 ? all[k].c->category : all[k].c->name;
                    found = strlen(name) == len && memcmp(name, tok, len) == 0;
                }
                if (found)
                    continue;
                fprintf(stderr, "%s: unknown %s '%.*s'. Valid %s names:\n", o->prog,
                        what[kind], (int)len, tok, what[kind]);
                const char **names = malloc((n_all > 0 ? n_all : 1) * sizeof *names);
                if (names == NULL) {
                    fprintf(stderr, "%s: out of memory\n", o->prog);
                    return 2;
                }
                size_t n = 0;
                for (size_t k = 0; k < n_all; k++) {
                    const char *name = kind == 0 ? all[k].c->category : all[k].c->name;
                    if (n == 0 || strcmp(names[n - 1], name) != 0)
                        names[n++] = name;
                }
                ct_print_names(stderr, names, n);
                free(names);
                return 2;
            }
        }
    }
    return 0;
}

/* ---- Listing ------------------------------------------------------------------------------ */

/* Print `s` with '|' escaped for a Markdown table cell. */
static void ct_markdown_cell(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

static void ct_list(const ct_opts *o, const ct_outcome *all, size_t n_all)
{
    if (o->markdown)
        printf("| Category | Case | Capabilities | Guarantee |\n|---|---|---|---|\n");
    for (size_t i = 0; i < n_all; i++) {
        const duro_case *c = all[i].c;
        char needs[256];
        if (!all[i].selected)
            continue;
        if (!o->markdown) {
            printf("%s\n", c->name);
            continue;
        }
        ct_describe_needs(c->caps, c->hooks, needs, sizeof needs);
        printf("| %s | `%s` | %s | ", c->category, c->name, needs[0] ? needs : "none");
        ct_markdown_cell(stdout, c->guarantee != NULL ? c->guarantee : "");
        printf(" |\n");
    }
}

/* ---- Running ------------------------------------------------------------------------------ */

/* Fold the Check results of one case (all its rounds) into `oc`. */
static void ct_collect(ct_outcome *oc, TestResult **results, int from, int to)
{
    if (to <= from) {
        oc->status = CT_ERROR;
        oc->bad_rounds = 1;
        snprintf(oc->message, sizeof oc->message, "Check reported no result for this case");
        return;
    }
    oc->status = CT_PASS;
    for (int k = from; k < to; k++) {
        int rtype = tr_rtype(results[k]);
        int status = rtype == CK_PASS ? CT_PASS : rtype == CK_FAILURE ? CT_FAIL : CT_ERROR;
        if (status == CT_PASS)
            continue;
        oc->bad_rounds++;
        if (oc->status == CT_PASS || (status == CT_ERROR && oc->status == CT_FAIL)) {
            const char *ctxname = tr_ctx(results[k]) == CK_CTX_SETUP      ? " (in setup)"
                                  : tr_ctx(results[k]) == CK_CTX_TEARDOWN ? " (in teardown)"
                                                                          : "";
            oc->status = status;
            oc->round = k - from;
            snprintf(oc->message, sizeof oc->message, "%s%s",
                     tr_msg(results[k]) != NULL ? tr_msg(results[k]) : "", ctxname);
            snprintf(oc->where, sizeof oc->where, "%s:%d",
                     tr_lfile(results[k]) != NULL ? tr_lfile(results[k]) : "?",
                     tr_lno(results[k]));
        }
    }
}

/* Run the selected, runnable cases of one category (outcomes [first, last)). */
static void ct_run_category(const ct_opts *o, ct_outcome *oc, size_t first, size_t last)
{
    const char *category = oc[first].c->category;
    Suite *suite = suite_create(category);

    for (size_t i = first; i < last; i++) {
        if (!oc[i].selected || oc[i].status == CT_SKIP)
            continue;
        TCase *tc = tcase_create(oc[i].c->name);
        tcase_add_checked_fixture(tc, ct_setup, ct_teardown);
        tcase_set_timeout(tc, CT_TIMEOUT_S);
        tcase_add_loop_test(tc, ct_case_test, 0, (int)o->repeat);
        suite_add_tcase(suite, tc);
    }
    SRunner *sr = srunner_create(suite);
    int done = 0;
    for (size_t i = first; i < last; i++) {
        if (!oc[i].selected)
            continue;
        if (oc[i].status == CT_SKIP) {
            if (o->verbose)
                printf("%-18s %-52s SKIP  (%s)\n", category, oc[i].c->name, oc[i].message);
            continue;
        }
        if (o->verbose)
            printf("%-18s %-52s ", category, oc[i].c->name);
        fflush(stdout);
        fflush(stderr);
        ct_current = oc[i].c;
        double t0 = duro__monotonic_seconds();
        srunner_run(sr, category, oc[i].c->name, CK_SILENT);
        oc[i].seconds = duro__monotonic_seconds() - t0;
        int total = srunner_ntests_run(sr);
        TestResult **results = srunner_results(sr);
        ct_collect(&oc[i], results, done, total);
        free(results);
        done = total;
        if (o->verbose)
            printf("%-5s %.3f s\n", ct_status_name[oc[i].status], oc[i].seconds);
    }
    srunner_free(sr);
}

/* ---- Reporting ---------------------------------------------------------------------------- */

typedef struct ct_counts {
    size_t cases, passed, failed, skipped;
    double seconds;
} ct_counts;

static void ct_count(ct_counts *k, const ct_outcome *oc)
{
    k->cases++;
    k->seconds += oc->seconds;
    if (oc->status == CT_PASS)
        k->passed++;
    else if (oc->status == CT_SKIP)
        k->skipped++;
    else
        k->failed++;
}

static int ct_table_row(duro_table *t, const char *name, const ct_counts *k)
{
    return duro_table_add_rowf(t, "%s\t%zu\t%zu\t%zu\t%zu\t%.3f", name, k->cases, k->passed,
                               k->failed, k->skipped, k->seconds);
}

/* Console summary: one table row per category, then failures and skips. Returns 0 or a
 * DURO_E* code when the table could not be built. */
static int ct_print_report(const ct_opts *o, const ct_outcome *oc, size_t n)
{
    static const char *const headers[] = {"Category", "Cases", "Passed", "Failed",
                                          "Skipped", "Seconds"};
    duro_table *t = duro_table_new(6, headers);
    ct_counts total = {0};
    int rc = 0;

    if (t == NULL)
        return DURO_ENOMEM;
    for (size_t col = 1; col < 6; col++)
        duro_table_align(t, col, DURO_ALIGN_RIGHT);
    for (size_t i = 0; i < n && rc == 0;) {
        ct_counts k = {0};
        size_t j = i;
        for (; j < n && strcmp(oc[j].c->category, oc[i].c->category) == 0; j++)
            if (oc[j].selected)
                ct_count(&k, &oc[j]);
        if (k.cases > 0) {
            rc = ct_table_row(t, oc[i].c->category, &k);
            total.cases += k.cases;
            total.passed += k.passed;
            total.failed += k.failed;
            total.skipped += k.skipped;
            total.seconds += k.seconds;
        }
        i = j;
    }
    if (rc == 0)
        rc = ct_table_row(t, "total", &total);
    if (rc == 0) {
        printf("\nduro conformance: provider '%s'\n\n", ct_factory->name);
        rc = duro_table_print(t, stdout);
    }
    duro_table_free(t);
    if (rc != 0)
        return rc;

    if (total.failed > 0) {
        printf("\nFailures:\n");
        for (size_t i = 0; i < n; i++) {
            if (!oc[i].selected || (oc[i].status != CT_FAIL && oc[i].status != CT_ERROR))
                continue;
            printf("  %s %s/%s: %s\n      at %s", ct_status_name[oc[i].status],
                   oc[i].c->category, oc[i].c->name, oc[i].message, oc[i].where);
            if (o->repeat > 1)
                printf(" (first in round %d; %u of %u rounds failed)", oc[i].round + 1,
                       oc[i].bad_rounds, o->repeat);
            printf("\n");
        }
    }
    if (total.skipped > 0) {
        printf("\nSkipped:\n");
        for (size_t i = 0; i < n; i++)
            if (oc[i].selected && oc[i].status == CT_SKIP)
                printf("  SKIP %s/%s: %s\n", oc[i].c->category, oc[i].c->name,
                       oc[i].message);
    }
    printf("\n%zu passed, %zu failed, %zu skipped (%.3f s)\n", total.passed, total.failed,
           total.skipped, total.seconds);
    return 0;
}

/* Add one <testcase> for `oc` to suite `s`. Returns 0 or DURO_ENOMEM. */
static int ct_junit_case(duro_junit_suite *s, const ct_opts *o, const ct_outcome *oc)
{
    char classname[128], details[1400];
    duro_junit_case *jc;

    snprintf(classname, sizeof classname, "conformance.%s", oc->c->category);
    jc = duro_junit_case_add(s, oc->c->name, classname, oc->seconds);
    if (jc == NULL)
        return DURO_ENOMEM;
    if (oc->status == CT_PASS)
        return 0;
    if (oc->status == CT_SKIP)
        return duro_junit_case_skip(jc, oc->message);
    if (o->repeat > 1)
        snprintf(details, sizeof details, "%s: %s (first in round %d; %u of %u rounds failed)",
                 oc->where, oc->message, oc->round + 1, oc->bad_rounds, o->repeat);
    else
        snprintf(details, sizeof details, "%s: %s", oc->where, oc->message);
    if (oc->status == CT_FAIL)
        return duro_junit_case_fail(jc, "assertion", oc->message, details);
    return duro_junit_case_error(jc, "error", oc->message, details);
}

/* Write the JUnit report. Returns 0 or a DURO_E* code (message printed). */
static int ct_write_junit(const ct_opts *o, const ct_outcome *oc, size_t n)
{
    duro_junit *j = duro_junit_new();
    char package[160], caps[256];
    duro_error err = {0};
    int rc = j == NULL ? DURO_ENOMEM : 0;

    snprintf(package, sizeof package, "duro.conformance.%s", ct_factory->name);
    ct_describe_needs(ct_factory->caps, ct_factory_hooks(ct_factory), caps, sizeof caps);
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j_end = i, selected = 0;
        for (; j_end < n && strcmp(oc[j_end].c->category, oc[i].c->category) == 0; j_end++)
            selected += oc[j_end].selected ? 1 : 0;
        if (selected > 0) {
            duro_junit_suite *s = duro_junit_suite_add(j, oc[i].c->category, package);
            rc = s == NULL ? DURO_ENOMEM : 0;
            if (rc == 0)
                rc = duro_junit_suite_property(s, "provider", ct_factory->name);
            if (rc == 0)
                rc = duro_junit_suite_property(s, "capabilities", caps);
            if (rc == 0)
                rc = duro_junit_suite_propertyf(s, "repeat", "%u", o->repeat);
            for (size_t k = i; k < j_end && rc == 0; k++)
                if (oc[k].selected)
                    rc = ct_junit_case(s, o, &oc[k]);
        }
        i = j_end;
    }
    if (rc == 0)
        rc = duro_junit_write(j, o->junit, &err);
    else
        duro_error_set(&err, rc, 0, "out of memory");
    if (rc != 0)
        fprintf(stderr, "%s: cannot write JUnit report '%s': %s\n", o->prog, o->junit,
                err.message[0] ? err.message : duro_strerror(rc));
    duro_junit_free(j);
    return rc;
}

/* ---- Entry point -------------------------------------------------------------------------- */

/* Collect every registered case, in registry order. Returns the count, or -1 (ENOMEM). */
static long ct_collect_cases(ct_outcome **out)
{
    size_t n = 0, k = 0;

    for (size_t i = 0; i < duro_case_category_count; i++)
        for (const duro_case *c = duro_case_categories[i]; c->name != NULL; c++)
            n++;
    *out = calloc(n > 0 ? n : 1, sizeof **out);
    if (*out == NULL)
        return -1;
    for (size_t i = 0; i < duro_case_category_count; i++)
        for (const duro_case *c = duro_case_categories[i]; c->name != NULL; c++)
            (*out)[k++].c = c;
    return (long)n;
}

/* Defaults of `o` and room for argc list entries, and every registered case in *oc (n_oc
 * of them). Returns 0, or 2 after "out of memory"; ct_opts_free releases both either way. */
static int ct_opts_init(ct_opts *o, int argc, char **argv, ct_outcome **oc, size_t *n_oc)
{
    memset(o, 0, sizeof *o);
    *oc = NULL;
    o->prog = argc > 0 && argv[0] != NULL ? argv[0] : "duro-conformance";
    if (strrchr(o->prog, '/') != NULL)
        o->prog = strrchr(o->prog, '/') + 1;
    o->repeat = 1;
    o->categories = calloc((size_t)(argc > 0 ? argc : 1), sizeof *o->categories);
    o->cases = calloc((size_t)(argc > 0 ? argc : 1), sizeof *o->cases);
    long got = ct_collect_cases(oc);
    if (o->categories == NULL || o->cases == NULL || got < 0) {
        fprintf(stderr, "%s: out of memory\n", o->prog);
        return 2;
    }
    *n_oc = (size_t)got;
    return 0;
}

static void ct_opts_free(ct_opts *o, ct_outcome *oc)
{
    free(oc);
    free(o->categories);
    free(o->cases);
}

/* Check the --category / --case names of `o` and mark the selected cases of `oc`. Returns
 * the number selected, or 0 after a message (an unknown name, or nothing matches). */
static size_t ct_select(const ct_opts *o, ct_outcome *oc, size_t n)
{
    size_t n_selected = 0;

    if (ct_validate_names(o, oc, n) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        oc[i].selected =
            (o->n_categories == 0 || ct_list_has(o->categories, o->n_categories,
                                                 oc[i].c->category)) &&
            (o->n_cases == 0 || ct_list_has(o->cases, o->n_cases, oc[i].c->name));
        n_selected += oc[i].selected ? 1 : 0;
    }
    if (n_selected == 0)
        fprintf(stderr, "%s: no conformance case matches the selection\n", o->prog);
    return n_selected;
}

int duro__conformance_check_args(int argc, char **argv)
{
    ct_opts o;
    ct_outcome *oc;
    size_t n = 0;
    int status = ct_opts_init(&o, argc, argv, &oc, &n);

    if (status == 0 && ct_parse(argc, argv, &o) != 0)
        status = 2;
    if (status == 0 && !o.help && ct_select(&o, oc, n) == 0)
        status = 2;
    ct_opts_free(&o, oc);
    return status;
}

int duro_conformance_main(const duro_provider_factory *factory, int argc, char **argv)
{
    ct_opts o;
    ct_outcome *oc;
    size_t n = 0;
    int status = 2;

    if (ct_opts_init(&o, argc, argv, &oc, &n) != 0)
        goto out;
    if (ct_parse(argc, argv, &o) != 0)
        goto out;
    if (o.help) {
        ct_usage(o.prog, stdout);
        status = 0;
        goto out;
    }
    duro_error ferr = {0};
    if (duro__factory_check(factory, &ferr) != 0) {
        fprintf(stderr, "%s: %s\n", o.prog, ferr.message);
        goto out;
    }
    ct_factory = factory;
    if (ct_select(&o, oc, n) == 0)
        goto out;
    if (o.list) {
        ct_list(&o, oc, n);
        status = 0;
        goto out;
    }
    char dir_msg[PATH_MAX + 64];
    if (o.junit != NULL && duro__make_parent_dirs(o.junit, dir_msg, sizeof dir_msg) != 0) {
        fprintf(stderr, "%s: --junit %s: %s\n", o.prog, o.junit, dir_msg);
        goto out;
    }

    for (size_t i = 0; i < n; i++)
        if (oc[i].selected && ct_skip_reason(factory, oc[i].c, oc[i].message,
                                             sizeof oc[i].message))
            oc[i].status = CT_SKIP;
    for (size_t i = 0; i < n;) {
        size_t j = i, selected = 0;
        for (; j < n && strcmp(oc[j].c->category, oc[i].c->category) == 0; j++)
            selected += oc[j].selected ? 1 : 0;
        if (selected > 0)
            ct_run_category(&o, oc, i, j);
        i = j;
    }

    status = 0;
    for (size_t i = 0; i < n; i++)
        if (oc[i].selected && (oc[i].status == CT_FAIL || oc[i].status == CT_ERROR))
            status = 1;
    int rc = ct_print_report(&o, oc, n);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot print the summary: %s\n", o.prog, duro_strerror(rc));
        status = 1;
    }
    if (o.junit != NULL && ct_write_junit(&o, oc, n) != 0)
        status = 1;
out:
    ct_opts_free(&o, oc);
    return status;
}
