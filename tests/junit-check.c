/*
 * junit-check.c — turn the results of a Check SRunner into a JUnit XML file.
 *
 * srunner_results() gives each test's outcome, message, file and line and test case name,
 * but neither the suite, the test function's name nor its duration. Check's own XML log has
 * those, one <test> per result in the same order, so the log is read back with libxml2 and
 * zipped with the results. When the log is missing or does not match, the report still
 * lists every result, named after its test case, in one suite named after the program.
 */
#include "junit-check.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duro-report.h"

/* One <test> of Check's XML log. */
typedef struct jc_test {
    char *suite;     /* title of the enclosing <suite> */
    char *id;        /* test function name */
    long iteration;  /* loop index (0 for plain tests) */
    double seconds;  /* 0 when Check did not time it (it reports -1 for failed tests) */
} jc_test;

typedef struct jc_log {
    jc_test *tests;
    size_t n, cap;
} jc_log;

static void jc_log_clear(jc_log *log)
{
    for (size_t i = 0; i < log->n; i++) {
        free(log->tests[i].suite);
        free(log->tests[i].id);
    }
    free(log->tests);
    log->tests = NULL;
    log->n = log->cap = 0;
}

/* A malloc'd printf result, NULL when out of memory. */
static char *jc_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *jc_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Check writes durations as "S.UUUUUU" (or "-1.000000" when untimed); parsed by hand so
 * that the process locale cannot change the decimal point. */
static double jc_seconds(const char *s)
{
    double v = 0.0, scale = 0.1;
    if (*s == '-')
        return 0.0;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10.0 + (*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10.0)
            v += (*s - '0') * scale;
    return v;
}

static int jc_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

/* The text of the first child element called `name`, malloc'd ("" when absent); NULL when
 * out of memory. */
static char *jc_child_text(const xmlNode *parent, const char *name)
{
    for (const xmlNode *c = parent->children; c; c = c->next) {
        if (!jc_is(c, name))
            continue;
        xmlChar *x = xmlNodeGetContent(c);
        char *s = strdup(x ? (const char *)x : "");
        xmlFree(x);
        return s;
    }
    return strdup("");
}

static int jc_add_test(jc_log *log, const char *suite, const xmlNode *test)
{
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 32;
        jc_test *t = realloc(log->tests, cap * sizeof *t);
        if (!t)
            return -1;
        log->tests = t;
        log->cap = cap;
    }
    jc_test *t = &log->tests[log->n];
    char *iteration = jc_child_text(test, "iteration");
    char *duration = jc_child_text(test, "duration");
    t->suite = strdup(suite);
    t->id = jc_child_text(test, "id");
    if (!iteration || !duration || !t->suite || !t->id) {
        free(iteration);
        free(duration);
        free(t->suite);
        free(t->id);
        return -1;
    }
    t->iteration = strtol(iteration, NULL, 10);
    t->seconds = jc_seconds(duration);
    free(iteration);
    free(duration);
    log->n++;
    return 0;
}

/* Read Check's XML log at `path` into `log`. Returns 0, or -1 when it cannot be read or
 * memory runs out (log is then empty). */
static int jc_read_log(const char *path, jc_log *log)
{
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                              XML_PARSE_NOWARNING);
    if (!doc)
        return -1;
    int rc = 0;
    const xmlNode *root = xmlDocGetRootElement(doc);
    for (const xmlNode *s = root ? root->children : NULL; s && rc == 0; s = s->next) {
        if (!jc_is(s, "suite"))
            continue;
        char *title = jc_child_text(s, "title");
        if (!title) {
            rc = -1;
            break;
        }
        for (const xmlNode *t = s->children; t && rc == 0; t = t->next)
            if (jc_is(t, "test"))
                rc = jc_add_test(log, title, t);
        free(title);
    }
    xmlFreeDoc(doc);
    if (rc != 0)
        jc_log_clear(log);
    return rc;
}

/* 1 when another result has the same suite, test case and function as result i, so that
 * the case name needs its iteration to be unique. */
static int jc_repeated(TestResult **res, const jc_log *log, size_t n, size_t i)
{
    for (size_t k = 0; k < n; k++) {
        if (k == i || strcmp(tr_tcname(res[k]), tr_tcname(res[i])) != 0)
            continue;
        if (!log->n)
            return 1;
        if (strcmp(log->tests[k].suite, log->tests[i].suite) == 0 &&
            strcmp(log->tests[k].id, log->tests[i].id) == 0)
            return 1;
    }
    return 0;
}

static const char *jc_context(enum ck_result_ctx ctx)
{
    switch (ctx) {
    case CK_CTX_SETUP:
        return " (in setup)";
    case CK_CTX_TEARDOWN:
        return " (in teardown)";
    default:
        return "";
    }
}

/* Add result i as a test case of `s`. Returns 0 or -1 when out of memory. */
static int jc_add_case(duro_junit_suite *s, const char *suite_name, TestResult **res,
                       const jc_log *log, size_t n, size_t i)
{
    TestResult *r = res[i];
    const jc_test *t = log->n ? &log->tests[i] : NULL;
    const char *fn = t && t->id[0] ? t->id : tr_tcname(r);
    char *name = jc_repeated(res, log, n, i)
                     ? jc_format("%s[%ld]", fn, t ? t->iteration : (long)i)
                     : jc_format("%s", fn);
    char *classname = jc_format("%s.%s", suite_name, tr_tcname(r));
    char *details = NULL;
    int rc = -1;
    if (!name || !classname)
        goto out;
    duro_junit_case *c = duro_junit_case_add(s, name, classname, t ? t->seconds : 0.0);
    if (!c)
        goto out;
    if (tr_rtype(r) == CK_PASS) {
        rc = 0;
        goto out;
    }
    details = jc_format("%s:%d: %s%s", tr_lfile(r) ? tr_lfile(r) : "?", tr_lno(r),
                        tr_msg(r) ? tr_msg(r) : "", jc_context(tr_ctx(r)));
    if (!details)
        goto out;
    if (tr_rtype(r) == CK_FAILURE)
        rc = duro_junit_case_fail(c, "assertion", tr_msg(r), details);
    else
        rc = duro_junit_case_error(c, "error", tr_msg(r), details);
out:
    free(name);
    free(classname);
    free(details);
    return rc == 0 ? 0 : -1;
}

/* Build the document from the results and write it to dir/program.xml. */
static int jc_write(SRunner *sr, const char *program, const jc_log *log, const char *dir)
{
    size_t n = (size_t)srunner_ntests_run(sr);
    TestResult **res = srunner_results(sr);
    duro_junit *j = duro_junit_new();
    char *path = jc_format("%s/%s.xml", dir, program);
    const jc_log none = {0};
    int rc = -1;
    if (!j || !path || (n && !res)) {
        fprintf(stderr, "%s: out of memory writing the JUnit report\n", program);
        goto out;
    }
    if (log->n != n)
        log = &none; /* the log does not describe these results: use the results alone */
    duro_junit_suite *s = NULL;
    const char *current = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *suite_name = log->n ? log->tests[i].suite : program;
        if (!s || strcmp(current, suite_name) != 0) {
            s = duro_junit_suite_add(j, suite_name[0] ? suite_name : program, program);
            current = suite_name;
        }
        if (!s || jc_add_case(s, suite_name[0] ? suite_name : program, res, log, n, i) != 0) {
            fprintf(stderr, "%s: out of memory writing the JUnit report\n", program);
            goto out;
        }
    }
    if (n == 0 && !duro_junit_suite_add(j, program, program)) {
        fprintf(stderr, "%s: out of memory writing the JUnit report\n", program);
        goto out;
    }
    duro_error err = {0};
    if (duro_junit_write(j, path, &err) != 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", program, path, err.message);
        goto out;
    }
    rc = 0;
out:
    free(res);
    free(path);
    duro_junit_free(j);
    return rc;
}

int junit_check_run(SRunner *sr, const char *program, enum print_output mode)
{
    const char *dir = getenv("DURO_JUNIT_DIR");
    char tmp[PATH_MAX] = "";
    if (dir && *dir && !srunner_has_xml(sr)) {
        const char *tmpdir = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/duro-check-XXXXXX",
                 tmpdir && *tmpdir ? tmpdir : "/tmp");
        int fd = mkstemp(tmp);
        if (fd < 0)
            tmp[0] = '\0'; /* no log: the report falls back to test case names */
        else {
            close(fd);
            srunner_set_xml(sr, tmp);
        }
    }
    srunner_run_all(sr, mode);
    int failed = srunner_ntests_failed(sr);
    if (!dir || !*dir)
        return failed;
    jc_log log = {0};
    if (srunner_has_xml(sr) && jc_read_log(srunner_xml_fname(sr), &log) != 0)
        fprintf(stderr, "%s: cannot read Check's XML log %s: cases are named by test case\n",
                program, srunner_xml_fname(sr));
    if (tmp[0])
        unlink(tmp);
    int rc = jc_write(sr, program, &log, dir);
    jc_log_clear(&log);
    return rc == 0 ? failed : -1;
}
