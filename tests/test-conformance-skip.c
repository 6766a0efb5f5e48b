/*
 * test-conformance-skip.c — the conformance runner reports cases a provider cannot run as
 * SKIPPED with the reason, never silently absent: the in-memory SQLite factory is run with
 * DURO_CAP_LONG_POLL and the corrupt-history hook withdrawn, and the JUnit report must hold
 * every case of the chosen categories, with exactly the cases that need those marked
 * skipped and naming what is missing, while the run still passes.
 */
#include <check.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duro-sqlite.h"
#include "sqlite-factory.h"
#include "junit-check.h"
#include "suite.h"

static const char *const categories[] = {"long_polling", "error_handling"};

/* Cases of `category` in the registry, and how many need LONG_POLL or the corrupt hook. */
static void count_cases(const char *category, size_t *all, size_t *needing)
{
    size_t k;
    *all = *needing = 0;
    for (k = 0; k < duro_case_category_count; k++) {
        const duro_case *c = duro_case_categories[k];
        if (!c || strcmp(c->category, category) != 0)
            continue;
        for (; c->name; c++) {
            (*all)++;
            if ((c->caps & DURO_CAP_LONG_POLL) || (c->hooks & DURO_HOOK_CORRUPT))
                (*needing)++;
        }
    }
}

static double xpath_number(xmlXPathContextPtr ctx, const char *expr)
{
    xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    double v;
    ck_assert_ptr_nonnull(r);
    v = r->floatval;
    xmlXPathFreeObject(r);
    return v;
}

START_TEST(skipped_cases_are_reported_with_reason)
{
    duro_provider_factory f = *duro__sqlite_factory_memory();
    char path[] = "/tmp/duro-skip-XXXXXX";
    int fd = mkstemp(path);
    size_t all = 0, needing = 0, k;
    char expr[256];
    ck_assert_int_ge(fd, 0);
    close(fd);
    f.name = "sqlite-reduced";
    f.caps &= ~DURO_CAP_LONG_POLL;
    f.corrupt_history = NULL;
    {
        char *argv[] = {"duro-conformance", "--category", "long_polling", "--category",
                        "error_handling", "--junit", path, NULL};
        ck_assert_int_eq(duro_conformance_main(&f, 7, argv), 0);
    }
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(doc);
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    for (k = 0; k < 2; k++) {
        size_t a, n;
        count_cases(categories[k], &a, &n);
        ck_assert_uint_gt(n, 0);
        all += a;
        needing += n;
    }
    ck_assert_int_eq((int)xpath_number(ctx, "count(//testcase)"), (int)all);
    ck_assert_int_eq((int)xpath_number(ctx, "count(//testcase/skipped)"), (int)needing);
    ck_assert_int_eq((int)xpath_number(ctx, "count(//testcase/failure|//testcase/error)"), 0);
    snprintf(expr, sizeof expr,
             "count(//testcase/skipped[contains(@message, \"provider 'sqlite-reduced' does not "
             "provide\")])");
    ck_assert_int_eq((int)xpath_number(ctx, expr), (int)needing);
    ck_assert_int_eq((int)xpath_number(ctx, "sum(//testsuite/@skipped)"), (int)needing);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    unlink(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conformance-skip");
    TCase *tc = tcase_create("runner");
    SRunner *sr;
    int failed;
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, skipped_cases_are_reported_with_reason);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    failed = junit_check_run(sr, "test-conformance-skip", CK_NORMAL);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
