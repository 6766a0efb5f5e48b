/*
 * test-report.c — Check tests of the report library: JUnit documents are checked against
 * both schemas (Ant JUnit.xsd, Jenkins/Surefire junit-10.xsd) and read back with XPath to
 * prove exact escaping, cleaning, counts, order and C-locale numbers; the validator must
 * reject broken documents; console tables are compared byte for byte.
 *
 * The schemas are looked up in $DURO_SRCDIR/../shared/junit, then
 * $DURO_SRCDIR/../../shared/junit; without them the program exits 77 (SKIP). The locale test
 * needs an installed comma-decimal locale (e.g. de_DE.UTF-8); without one that test alone is
 * reported as skipped. Each test runs in its own SRunner so that its time is measured, and
 * the results are written with the library itself to $DURO_JUNIT_DIR/test-report.xml.
 */
#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "duro-report.h"
#include "duro-util.h"

static char ant_xsd[PATH_MAX];
static char jenkins_xsd[PATH_MAX];
static const char *comma_locale; /* NULL when no comma-decimal locale is installed */

/* ---- Helpers ------------------------------------------------------------------------------ */

/* The document serialised; the caller frees it. */
static char *render(const duro_junit *j)
{
    duro_error err = {0, 0, ""};
    char *xml = NULL;
    size_t len = 0;
    int rc = duro_junit_write_memory(j, &xml, &len, &err);

    ck_assert_msg(rc == 0, "write_memory: %d %s", rc, err.message);
    ck_assert_uint_eq(len, strlen(xml));
    return xml;
}

/* Assert that xml validates against both schemas. */
static void assert_valid(const char *xml)
{
    const char *xsd[] = {ant_xsd, jenkins_xsd};
    char msg[512];
    size_t i;

    for (i = 0; i < 2; i++) {
        int rc = duro_junit_validate(xml, strlen(xml), xsd[i], msg, sizeof msg);
        ck_assert_msg(rc == 0, "%s rejects the report: %s\n%s", xsd[i], msg, xml);
    }
}

/* Assert that xsd rejects xml with DURO_EINVAL and a message containing `needle`. */
static void assert_rejected(const char *xml, const char *xsd, const char *needle)
{
    char msg[512];
    int rc = duro_junit_validate(xml, strlen(xml), xsd, msg, sizeof msg);

    ck_assert_int_eq(rc, DURO_EINVAL);
    ck_assert_msg(strstr(msg, needle) != NULL, "message \"%s\" lacks \"%s\"", msg, needle);
}

static xmlDocPtr parse(const char *xml)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "report.xml", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

/* Assert that the XPath expression, converted to a string, equals want. */
static void assert_xpath(xmlDocPtr doc, const char *expr, const char *want)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr obj;
    xmlChar *got;

    ck_assert_ptr_nonnull(ctx);
    obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    ck_assert_msg(obj != NULL, "bad XPath %s", expr);
    got = xmlXPathCastToString(obj);
    ck_assert_msg(strcmp((const char *)got, want) == 0, "%s is \"%s\", want \"%s\"", expr,
                  (const char *)got, want);
    xmlFree(got);
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
}

/* The table printed to a string; the caller frees it. */
static char *print_table(const duro_table *t)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(duro_table_print(t, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    return s;
}

/* ---- JUnit content ------------------------------------------------------------------------ */

START_TEST(escape_specials)
{
    static const char nasty[] = "a<b>&\"c\" 'd'";
    duro_junit *j = duro_junit_new();
    duro_junit_suite *s;
    duro_junit_case *c;
    xmlDocPtr doc;
    char *xml;

    ck_assert_ptr_nonnull(j);
    s = duro_junit_suite_add(j, "suite <&>", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(duro_junit_suite_property(s, "k<&>", nasty), 0);
    ck_assert_int_eq(duro_junit_suite_system_out(s, "out <&> \"'"), 0);
    c = duro_junit_case_add(s, nasty, "x.y", 0.5);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(duro_junit_case_fail(c, "T<&>", nasty, "at <tag>&amp;\n"), 0);
    xml = render(j);
    assert_valid(xml);
    ck_assert_ptr_nonnull(strstr(xml, "name=\"a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;\""));
    ck_assert_ptr_nonnull(strstr(xml, "at &lt;tag&gt;&amp;amp;\n</failure>"));
    ck_assert_ptr_null(strstr(xml, "<b>"));
    ck_assert_ptr_null(strstr(xml, "<tag>"));
    doc = parse(xml);
    assert_xpath(doc, "/testsuites/testsuite/@name", "suite <&>");
    assert_xpath(doc, "/testsuites/testsuite/@package", "suite <&>");
    assert_xpath(doc, "//property/@name", "k<&>");
    assert_xpath(doc, "//property/@value", nasty);
    assert_xpath(doc, "//testcase/@name", nasty);
    assert_xpath(doc, "//failure/@type", "T<&>");
    assert_xpath(doc, "//failure/@message", nasty);
    assert_xpath(doc, "//failure", "at <tag>&amp;\n");
    assert_xpath(doc, "//system-out", "out <&> \"'");
    xmlFreeDoc(doc);
    free(xml);
    duro_junit_free(j);
}
END_TEST

START_TEST(control_characters)
{
    duro_junit *j = duro_junit_new();
    duro_junit_suite *s = duro_junit_suite_add(j, "ctl\x01", "pkg");
    duro_junit_case *c;
    xmlDocPtr doc;
    char *xml;

    ck_assert_ptr_nonnull(s);
    c = duro_junit_case_add(s, "a\x01" "b\x1b[31m", NULL, 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(duro_junit_case_skip(c, "tab\there\nnext\r\nend\x7f"), 0);
    ck_assert_int_eq(duro_junit_suite_system_out(s, "tab\there\nnext\r\n"), 0);
    ck_assert_int_eq(duro_junit_suite_system_out(s, "bell\x07."), 0);
    ck_assert_int_eq(duro_junit_suite_system_err(s, "\x0c"), 0);
    xml = render(j);
    assert_valid(xml);
    doc = parse(xml);
    assert_xpath(doc, "//testsuite/@name", "ctl\xEF\xBF\xBD");
    assert_xpath(doc, "//testcase/@name", "a\xEF\xBF\xBD" "b\xEF\xBF\xBD[31m");
    assert_xpath(doc, "//testcase/@classname", "ctl\xEF\xBF\xBD");
    /* TAB, LF and CR survive attribute normalisation and line-end handling; DEL is legal. */
    assert_xpath(doc, "//skipped/@message", "tab\there\nnext\r\nend\x7f");
    assert_xpath(doc, "//system-out", "tab\there\nnext\r\nbell\xEF\xBF\xBD.");
    assert_xpath(doc, "//system-err", "\xEF\xBF\xBD");
    xmlFreeDoc(doc);
    free(xml);
    duro_junit_free(j);
}
END_TEST

START_TEST(invalid_utf8)
{
    /* C3 without continuation, FF, a surrogate (ED A0 80), U+FFFE, overlong C0 AF, a code
     * point beyond U+10FFFF (F4 90 80 80), and a truncated sequence at the end (E2 82). */
    static const char bad[] =
        "ok\xC3(\xFF|\xED\xA0\x80|\xEF\xBF\xBE|\xC0\xAF|\xF4\x90\x80\x80|\xE2\x82";
#define R "\xEF\xBF\xBD"
    static const char want[] = "ok" R "(" R "|" R R R "|" R "|" R R "|" R R R R "|" R R;
#undef R
    duro_junit *j = duro_junit_new();
    duro_junit_suite *s = duro_junit_suite_add(j, "utf8", NULL);
    xmlDocPtr doc;
    char *xml;

    ck_assert_ptr_nonnull(duro_junit_case_add(s, bad, NULL, 0));
    ck_assert_int_eq(duro_junit_suite_system_out(s, bad), 0);
    xml = render(j);
    assert_valid(xml);
    doc = parse(xml);
    assert_xpath(doc, "//testcase/@name", want);
    assert_xpath(doc, "//system-out", want);
    xmlFreeDoc(doc);
    free(xml);
    duro_junit_free(j);
}
END_TEST

START_TEST(non_ascii_names)
{
    static const char *const names[] = {"Größe", "日本語 テスト", "emoji \xF0\x9F\x98\x80",
                                        "naïve — café"};
    duro_junit *j = duro_junit_new();
    duro_junit_suite *s = duro_junit_suite_add(j, names[0], names[1]);
    xmlDocPtr doc;
    char *xml;
    size_t i;

    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(duro_junit_case_add(s, names[2], names[3], 0.25));
    ck_assert_int_eq(duro_junit_suite_property(s, names[3], names[2]), 0);
    xml = render(j);
    assert_valid(xml);
    for (i = 0; i < 4; i++)
        ck_assert_msg(strstr(xml, names[i]) != NULL, "%s not passed through", names[i]);
    doc = parse(xml);
    assert_xpath(doc, "//testsuite/@name", names[0]);
    assert_xpath(doc, "//testsuite/@package", names[1]);
    assert_xpath(doc, "//testcase/@name", names[2]);
    assert_xpath(doc, "//testcase/@classname", names[3]);
    assert_xpath(doc, "//property/@name", names[3]);
    assert_xpath(doc, "//property/@value", names[2]);
    xmlFreeDoc(doc);
    free(xml);
    duro_junit_free(j);
}
END_TEST

START_TEST(empty_document_and_suite)
{
    duro_junit *j = duro_junit_new();
    xmlDocPtr doc;
    char *xml;

    ck_assert_ptr_nonnull(j);
    xml = render(j);
    assert_valid(xml);
    ck_assert_str_eq(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites/>\n");
    free(xml);

    ck_assert_ptr_null(duro_junit_suite_add(j, "", NULL));
    ck_assert_ptr_null(duro_junit_suite_add(j, " \t\n", NULL));
    ck_assert_ptr_null(duro_junit_suite_add(j, NULL, NULL));
    ck_assert_ptr_nonnull(duro_junit_suite_add(j, "empty", NULL));
    xml = render(j);
    assert_valid(xml);
    doc = parse(xml);
    assert_xpath(doc, "count(/testsuites/@*)", "0");
    assert_xpath(doc, "count(/testsuites/testsuite)", "1");
    assert_xpath(doc, "//testsuite/@id", "0");
    assert_xpath(doc, "//testsuite/@package", "empty");
    assert_xpath(doc, "//testsuite/@tests", "0");
    assert_xpath(doc, "//testsuite/@failures", "0");
    assert_xpath(doc, "//testsuite/@errors", "0");
    assert_xpath(doc, "//testsuite/@skipped", "0");
    assert_xpath(doc, "//testsuite/@time", "0.000");
    assert_xpath(doc, "count(//testsuite/*)", "3");
    assert_xpath(doc, "name(//testsuite/*[1])", "properties");
    assert_xpath(doc, "name(//testsuite/*[2])", "system-out");
    assert_xpath(doc, "name(//testsuite/*[3])", "system-err");
    assert_xpath(doc, "count(//properties/*)", "0");
    xmlFreeDoc(doc);
    free(xml);
    duro_junit_free(j);
}
END_TEST

START_TEST(outcomes_and_counts)
{
    duro_junit *j = duro_junit_new();
    duro_junit_suite *s0 = duro_junit_suite_add(j, "first", "duro.conformance");
    duro_junit_suite *s1 = duro_junit_suite_add(j, "second", NULL);
    duro_junit_case *c[6];
    xmlDocPtr doc;
    const char *ts;
    char *xml;
    size_t i;

    ck_assert_ptr_nonnull(s0);
    ck_assert_ptr_nonnull(s1);
    ck_assert_ptr_null(duro_junit_case_add(s0, NULL, NULL, 0));
    c[0] = duro_junit_case_add(s0, "passes", NULL, 0.5);
    c[1] = duro_junit_case_add(s0, "skips", NULL, 0.25);
    c[2] = duro_junit_case_add(s0, "fails", "cls", 0.125);
    c[3] = duro_junit_case_add(s0, "errs", NULL, 1);
    c[4] = duro_junit_case_add(s0, "fail_then_skip", NULL, 0);
    c[5] = duro_junit_case_add(s0, "skip_then_error", NULL, 2);
    for (i = 0; i < 6; i++)
        ck_assert_ptr_nonnull(c[i]);
    ck_assert_int_eq(duro_junit_case_skip(c[1], "needs DURO_CAP_SESSIONS"), 0);
    ck_assert_int_eq(duro_junit_case_fail(c[2], "assertion", "expected 1, got 2", "x.c:12"), 0);
    ck_assert_int_eq(duro_junit_case_error(c[3], NULL, "crashed", NULL), 0);
    ck_assert_int_eq(duro_junit_case_fail(c[4], NULL, "first", "d"), 0);
    ck_assert_int_eq(duro_junit_case_skip(c[4], "second"), 0);
    ck_assert_int_eq(duro_junit_case_skip(c[5], "first"), 0);
    ck_assert_int_eq(duro_junit_case_error(c[5], "signal", "SIGSEGV", "backtrace"), 0);
    ck_assert_int_eq(duro_junit_case_skip(NULL, "x"), DURO_EINVAL);
    ck_assert_ptr_nonnull(duro_junit_case_add(s1, "only", NULL, 0.001));
    duro_junit_suite_set_time(s1, 7.25);

    xml = render(j);
    assert_valid(xml);
    doc = parse(xml);
    assert_xpath(doc, "//testsuite[1]/@id", "0");
    assert_xpath(doc, "//testsuite[1]/@package", "duro.conformance");
    assert_xpath(doc, "//testsuite[1]/@tests", "6");
    assert_xpath(doc, "//testsuite[1]/@failures", "1");
    assert_xpath(doc, "//testsuite[1]/@errors", "2");
    assert_xpath(doc, "//testsuite[1]/@skipped", "2");
    assert_xpath(doc, "//testsuite[1]/@time", "3.875");
    assert_xpath(doc, "//testsuite[2]/@id", "1");
    assert_xpath(doc, "//testsuite[2]/@package", "second");
    assert_xpath(doc, "//testsuite[2]/@tests", "1");
    assert_xpath(doc, "//testsuite[2]/@time", "7.250");
    assert_xpath(doc, "//testsuite[2]/testcase/@time", "0.001");
    /* Children in schema order, one outcome element at most. */
    assert_xpath(doc, "name(//testsuite[1]/*[1])", "properties");
    assert_xpath(doc, "count(//testsuite[1]/*[position() > 1 and position() < 8]"
                      "[name() = 'testcase'])", "6");
    assert_xpath(doc, "name(//testsuite[1]/*[8])", "system-out");
    assert_xpath(doc, "name(//testsuite[1]/*[9])", "system-err");
    assert_xpath(doc, "count(//testsuite[1]/testcase[1]/*)", "0");
    assert_xpath(doc, "//testcase[1]/@classname", "first");
    assert_xpath(doc, "//testcase[1]/@time", "0.500");
    assert_xpath(doc, "//testcase[2]/skipped/@message", "needs DURO_CAP_SESSIONS");
    assert_xpath(doc, "//testcase[3]/@classname", "cls");
    assert_xpath(doc, "//testcase[3]/failure/@type", "assertion");
    assert_xpath(doc, "//testcase[3]/failure/@message", "expected 1, got 2");
    assert_xpath(doc, "//testcase[3]/failure", "x.c:12");
    assert_xpath(doc, "//testcase[4]/error/@type", "error");
    assert_xpath(doc, "//testcase[4]/error/@message", "crashed");
    assert_xpath(doc, "//testcase[4]/error", "");
    assert_xpath(doc, "count(//testcase[5]/*)", "1");
    assert_xpath(doc, "//testcase[5]/skipped/@message", "second");
    assert_xpath(doc, "count(//testcase[6]/*)", "1");
    assert_xpath(doc, "//testcase[6]/error/@type", "signal");
    assert_xpath(doc, "//testcase[6]/error", "backtrace");
    xmlFreeDoc(doc);

    /* timestamp YYYY-MM-DDTHH:MM:SS (UTC, no zone) and a hostname. */
    ts = strstr(xml, "timestamp=\"");
    ck_assert_ptr_nonnull(ts);
    ts += strlen("timestamp=\"");
    for (i = 0; i < 19; i++)
        ck_assert_msg(i == 4 || i == 7 ? ts[i] == '-' : i == 10 ? ts[i] == 'T'
                      : i == 13 || i == 16 ? ts[i] == ':' : (ts[i] >= '0' && ts[i] <= '9'),
                      "bad timestamp %.20s", ts);
    ck_assert_int_eq(ts[19], '"');
    ck_assert_ptr_null(strstr(xml, "hostname=\"\""));
    free(xml);
    duro_junit_free(j);
}
END_TEST

START_TEST(suite_properties)
{
    duro_junit *j = duro_junit_new();
    duro_junit_suite *s = duro_junit_suite_add(j, "stress", NULL);
    xmlDocPtr doc;
    char *xml;

    ck_assert_int_eq(duro_junit_suite_property(s, "provider", "sqlite"), 0);
    ck_assert_int_eq(duro_junit_suite_propertyf(s, "orch_per_sec", "%.2f", 1234.5), 0);
    ck_assert_int_eq(duro_junit_suite_propertyf(s, "completed", "%d/%u", 42, 50u), 0);
    ck_assert_int_eq(duro_junit_suite_property(s, "empty", NULL), 0);
    ck_assert_int_eq(duro_junit_suite_property(s, "", "x"), DURO_EINVAL);
    ck_assert_int_eq(duro_junit_suite_property(s, " \n", "x"), DURO_EINVAL);
    ck_assert_int_eq(duro_junit_suite_property(s, NULL, "x"), DURO_EINVAL);
    ck_assert_int_eq(duro_junit_suite_propertyf(NULL, "x", "%d", 1), DURO_EINVAL);
    xml = render(j);
    assert_valid(xml);
    doc = parse(xml);
    assert_xpath(doc, "count(//property)", "4");
    assert_xpath(doc, "//property[1]/@name", "provider");
    assert_xpath(doc, "//property[1]/@value", "sqlite");
    assert_xpath(doc, "//property[2]/@name", "orch_per_sec");
    assert_xpath(doc, "//property[2]/@value", "1234.50");
    assert_xpath(doc, "//property[3]/@value", "42/50");
    assert_xpath(doc, "//property[4]/@name", "empty");
    assert_xpath(doc, "count(//property[4]/@value)", "1");
    assert_xpath(doc, "//property[4]/@value", "");
    xmlFreeDoc(doc);
    free(xml);
    duro_junit_free(j);
}
END_TEST

START_TEST(time_formatting)
{
    static const struct {
        double in;
        const char *want;
    } t[] = {
        {0.125, "0.125"}, {12345.6789, "12345.679"}, {-1, "0.000"}, {NAN, "0.000"},
        {0.0004, "0.000"}, {0.0006, "0.001"}, {1e300, "1000000000000.000"},
        {INFINITY, "1000000000000.000"}, {59.9996, "60.000"},
    };
    duro_junit *j = duro_junit_new();
    duro_junit_suite *s = duro_junit_suite_add(j, "times", NULL);
    char *xml, expr[64];
    xmlDocPtr doc;
    size_t i;

    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_ptr_nonnull(duro_junit_case_add(s, "c", NULL, t[i].in));
    duro_junit_suite_set_time(s, -3);
    xml = render(j);
    assert_valid(xml); /* the Surefire pattern rejects signs and exponents */
    doc = parse(xml);
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        snprintf(expr, sizeof expr, "//testcase[%zu]/@time", i + 1);
        assert_xpath(doc, expr, t[i].want);
    }
    assert_xpath(doc, "//testsuite/@time", "0.000");
    xmlFreeDoc(doc);
    free(xml);
    duro_junit_free(j);
}
END_TEST

/* Runs only when a comma-decimal locale is installed (see main). */
START_TEST(numbers_in_c_locale)
{
    duro_junit *j;
    duro_junit_suite *s;
    duro_table *t;
    const char *h[] = {"Success %", "ms"};
    char probe[16], *xml, *out;
    xmlDocPtr doc;

    ck_assert_ptr_nonnull(setlocale(LC_ALL, comma_locale));
    snprintf(probe, sizeof probe, "%.1f", 0.5);
    ck_assert_str_eq(probe, "0,5"); /* the process really formats with a comma now */

    j = duro_junit_new();
    s = duro_junit_suite_add(j, "locale", NULL);
    ck_assert_ptr_nonnull(duro_junit_case_add(s, "c", NULL, 0.125));
    ck_assert_ptr_nonnull(duro_junit_case_add(s, "d", NULL, 1.5));
    ck_assert_int_eq(duro_junit_suite_propertyf(s, "p99_ms", "%.3f", 2.5), 0);
    xml = render(j);
    assert_valid(xml);
    doc = parse(xml);
    assert_xpath(doc, "//testcase[1]/@time", "0.125");
    assert_xpath(doc, "//testsuite/@time", "1.625");
    assert_xpath(doc, "//property/@value", "2.500");
    xmlFreeDoc(doc);
    free(xml);
    duro_junit_free(j);

    t = duro_table_new(2, h);
    ck_assert_int_eq(duro_table_add_rowf(t, "%.1f%%\t%.2f", 99.5, 0.25), 0);
    out = print_table(t);
    ck_assert_str_eq(out, "| Success % | ms   |\n"
                          "|-----------|------|\n"
                          "| 99.5%     | 0.25 |\n");
    free(out);
    duro_table_free(t);

    snprintf(probe, sizeof probe, "%.1f", 0.5);
    ck_assert_str_eq(probe, "0,5"); /* and the library left the thread's locale alone */
    setlocale(LC_ALL, "C");
}
END_TEST

/* ---- Validation and files ----------------------------------------------------------------- */

/* A minimal document both schemas accept; %s slots: testsuite time, timestamp, outcome. */
static const char doc_template[] =
    "<testsuites><testsuite name=\"s\" package=\"s\" id=\"0\" tests=\"1\" failures=\"0\" "
    "errors=\"0\" skipped=\"0\" time=\"%s\" timestamp=\"%s\" hostname=\"h\"><properties/>"
    "<testcase name=\"c\" classname=\"s\" time=\"0.001\">%s</testcase><system-out/>"
    "<system-err/></testsuite></testsuites>";

START_TEST(validation_rejects_broken_documents)
{
    char xml[1024], msg[512];
    int rc;

    snprintf(xml, sizeof xml, doc_template, "0.001", "2024-01-02T03:04:05", "");
    assert_valid(xml);

    /* Ant requires a type on failure; Surefire does not. */
    snprintf(xml, sizeof xml, doc_template, "0.001", "2024-01-02T03:04:05",
             "<failure message=\"m\"/>");
    assert_rejected(xml, ant_xsd, "'type'");
    ck_assert_int_eq(duro_junit_validate(xml, strlen(xml), jenkins_xsd, msg, sizeof msg), 0);

    /* Ant's timestamp takes no zone; Surefire does not care. */
    snprintf(xml, sizeof xml, doc_template, "0.001", "2024-01-02T03:04:05Z", "");
    assert_rejected(xml, ant_xsd, "'timestamp'");
    ck_assert_int_eq(duro_junit_validate(xml, strlen(xml), jenkins_xsd, msg, sizeof msg), 0);

    /* Surefire's time pattern forbids a sign; Ant's xs:decimal allows it. */
    snprintf(xml, sizeof xml, doc_template, "-1.000", "2024-01-02T03:04:05", "");
    assert_rejected(xml, jenkins_xsd, "'time'");
    ck_assert_int_eq(duro_junit_validate(xml, strlen(xml), ant_xsd, msg, sizeof msg), 0);

    /* Both reject an exponent and a missing element; neither accepts broken XML. */
    snprintf(xml, sizeof xml, doc_template, "1e-3", "2024-01-02T03:04:05", "");
    assert_rejected(xml, ant_xsd, "'time'");
    assert_rejected(xml, jenkins_xsd, "'time'");
    assert_rejected("<testsuites><bogus/></testsuites>", ant_xsd, "bogus");
    assert_rejected("<testsuites><bogus/></testsuites>", jenkins_xsd, "bogus");
    assert_rejected("<testsuites><testsuite>", ant_xsd, "line 1");
    assert_rejected("<testsuites><testsuite>", jenkins_xsd, "line 1");

    rc = duro_junit_validate("<testsuites/>", 13, "/nonexistent/schema.xsd", msg, sizeof msg);
    ck_assert_int_eq(rc, DURO_EIO);
    ck_assert_msg(strstr(msg, "schema") != NULL, "message: %s", msg);
    ck_assert_int_eq(duro_junit_validate(NULL, 0, ant_xsd, msg, sizeof msg), DURO_EINVAL);
    ck_assert_int_eq(duro_junit_validate("<testsuites/>", 13, ant_xsd, NULL, 0), 0);
}
END_TEST

START_TEST(write_file_atomically)
{
    const char *tmpdir = getenv("TMPDIR");
    char dir[PATH_MAX - 32], path[PATH_MAX], bad[PATH_MAX], buf[4096];
    duro_error err = {0, 0, ""};
    duro_junit *j = duro_junit_new();
    duro_junit_suite *s = duro_junit_suite_add(j, "file", NULL);
    struct dirent *e;
    char *xml;
    size_t n, entries = 0;
    FILE *f;
    DIR *d;

    snprintf(dir, sizeof dir, "%s/duro-report-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.xml", dir);
    ck_assert_int_eq(duro_junit_write(j, path, &err), 0);
    ck_assert_ptr_nonnull(duro_junit_case_add(s, "second_version", NULL, 0));
    ck_assert_int_eq(duro_junit_write(j, path, &err), 0); /* replaces the first file */
    xml = render(j);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    ck_assert_str_eq(buf, xml);

    snprintf(bad, sizeof bad, "%s/missing/out.xml", dir);
    ck_assert_int_eq(duro_junit_write(j, bad, &err), DURO_EIO);
    ck_assert_int_eq(err.code, DURO_EIO);
    ck_assert_msg(strstr(err.message, "missing/out.xml") != NULL, "message: %s", err.message);
    ck_assert_int_eq(duro_junit_write(j, "", &err), DURO_EINVAL);
    /* Renaming over a directory fails after the temporary file was written: it must go. */
    snprintf(bad, sizeof bad, "%s/sub", dir);
    ck_assert_int_eq(mkdir(bad, 0700), 0);
    ck_assert_int_eq(duro_junit_write(j, bad, &err), DURO_EIO);
    ck_assert_msg(strstr(err.message, "rename") != NULL, "message: %s", err.message);
    ck_assert_int_eq(rmdir(bad), 0);

    d = opendir(dir); /* nothing but out.xml: no temporary file left behind */
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        ck_assert_str_eq(e->d_name, "out.xml");
        entries++;
    }
    closedir(d);
    ck_assert_uint_eq(entries, 1);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rmdir(dir), 0);
    free(xml);
    duro_junit_free(j);
}
END_TEST

/* ---- Console tables ----------------------------------------------------------------------- */

START_TEST(table_alignment_utf8)
{
    const char *h[] = {"Provider", "Config", "Größe", "Orch/sec", "N"};
    const char *r1[] = {"In-Memory SQLite", "1/1", "klein", "4.43", "7"};
    const char *r2[] = {"File SQLite", "2/2", "sehr groß ✓", "15.24", "1234567"};
    duro_table *t = duro_table_new(5, h);
    char *out;

    ck_assert_ptr_nonnull(t);
    duro_table_align(t, 3, DURO_ALIGN_RIGHT);
    duro_table_align(t, 4, DURO_ALIGN_RIGHT);
    duro_table_align(t, 5, DURO_ALIGN_RIGHT); /* out of range: ignored */
    out = print_table(t);
    ck_assert_str_eq(out, "| Provider | Config | Größe | Orch/sec | N |\n"
                          "|----------|--------|-------|----------|---|\n");
    free(out);
    ck_assert_int_eq(duro_table_add_row(t, r1), 0);
    ck_assert_int_eq(duro_table_add_row(t, r2), 0);
    out = print_table(t);
    ck_assert_str_eq(out, "| Provider         | Config | Größe       | Orch/sec |       N |\n"
                          "|------------------|--------|-------------|----------|---------|\n"
                          "| In-Memory SQLite | 1/1    | klein       |     4.43 |       7 |\n"
                          "| File SQLite      | 2/2    | sehr groß ✓ |    15.24 | 1234567 |\n");
    free(out);
    duro_table_free(t);
}
END_TEST

START_TEST(table_rowf_and_cleaning)
{
    const char *h[] = {"Name", "Value", NULL};
    const char *dirty[] = {"a\tb\nc\x01\xFF", NULL, "x"};
    duro_table *t = duro_table_new(3, h);
    char *out;
    FILE *ro;

    ck_assert_ptr_null(duro_table_new(0, h));
    ck_assert_ptr_null(duro_table_new(1, NULL));
    ck_assert_ptr_nonnull(t);
    duro_table_align(t, 1, DURO_ALIGN_RIGHT);
    ck_assert_int_eq(duro_table_add_rowf(t, "%s\t%d\t%s", "wide value that widens", 3, ""), 0);
    ck_assert_int_eq(duro_table_add_rowf(t, "%s\t%d", "too few", 1), DURO_EINVAL);
    ck_assert_int_eq(duro_table_add_rowf(t, "a\tb\tc\td"), DURO_EINVAL);
    ck_assert_int_eq(duro_table_add_row(t, dirty), 0);
    ck_assert_int_eq(duro_table_add_row(t, NULL), DURO_EINVAL);
    out = print_table(t);
    ck_assert_str_eq(out, "| Name                   | Value |   |\n"
                          "|------------------------|-------|---|\n"
                          "| wide value that widens |     3 |   |\n"
                          "| a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD"
                          "                |       | x |\n");
    free(out);

    ro = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(ro);
    ck_assert_int_eq(duro_table_print(t, ro), DURO_EIO);
    fclose(ro);
    ck_assert_int_eq(duro_table_print(t, NULL), DURO_EINVAL);
    duro_table_free(t);
}
END_TEST

/* ---- Runner ------------------------------------------------------------------------------- */

/* Find the two schemas; 0 when both exist. */
static int find_schemas(void)
{
    const char *src = getenv("DURO_SRCDIR");
    const char *rel[] = {"../shared/junit", "../../shared/junit"};
    size_t i;

    if (!src || !*src)
        src = ".";
    for (i = 0; i < 2; i++) {
        snprintf(ant_xsd, sizeof ant_xsd, "%s/%s/JUnit.xsd", src, rel[i]);
        snprintf(jenkins_xsd, sizeof jenkins_xsd, "%s/%s/junit-10.xsd", src, rel[i]);
        if (access(ant_xsd, R_OK) == 0 && access(jenkins_xsd, R_OK) == 0)
            return 0;
    }
    printf("test-report: SKIP: JUnit.xsd and junit-10.xsd not found in %s/%s or %s/%s\n",
           src, rel[0], src, rel[1]);
    return -1;
}

/* An installed locale whose decimal separator is a comma, or NULL. */
static const char *find_comma_locale(void)
{
    static const char *const candidates[] = {
        "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "nl_NL.UTF-8",
        "es_ES.UTF-8", "it_IT.UTF-8", "pt_BR.UTF-8", "ru_RU.UTF-8", "de_DE", "fr_FR",
    };
    const char *found = NULL;
    size_t i;

    for (i = 0; i < sizeof candidates / sizeof candidates[0] && !found; i++) {
        char probe[16];
        if (!setlocale(LC_NUMERIC, candidates[i]))
            continue;
        snprintf(probe, sizeof probe, "%.1f", 0.5);
        if (strcmp(probe, "0,5") == 0)
            found = candidates[i];
    }
    setlocale(LC_ALL, "C");
    return found;
}

/* Run one test in its own runner and record it in suite. Returns the number of failures. */
static int run_one(const TTest *test, duro_junit_suite *suite)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create(test->name);
    SRunner *sr;
    TestResult **res;
    duro_junit_case *c;
    double t0, t1;
    int failed, i, n, rc = 0;
    char where[PATH_MAX + 32];

    tcase_add_test(tc, test);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    t0 = duro__monotonic_seconds();
    srunner_run_all(sr, CK_VERBOSE);
    t1 = duro__monotonic_seconds();
    failed = srunner_ntests_failed(sr);
    c = duro_junit_case_add(suite, test->name, "report", t1 - t0);
    res = srunner_results(sr);
    n = srunner_ntests_run(sr);
    for (i = 0; c && res && i < n; i++) {
        if (tr_rtype(res[i]) == CK_PASS)
            continue;
        snprintf(where, sizeof where, "%s:%d", tr_lfile(res[i]), tr_lno(res[i]));
        if (tr_rtype(res[i]) == CK_FAILURE)
            rc = duro_junit_case_fail(c, "assertion", tr_msg(res[i]), where);
        else
            rc = duro_junit_case_error(c, "error", tr_msg(res[i]), where);
    }
    free(res);
    srunner_free(sr);
    if (!c || rc != 0) {
        fprintf(stderr, "test-report: out of memory while recording %s\n", test->name);
        return failed + 1;
    }
    return failed;
}

/* Write the program's own results to $DURO_JUNIT_DIR/test-report.xml, checked against both
 * schemas. 0 or -1. */
static int write_results(const duro_junit *j)
{
    const char *dir = getenv("DURO_JUNIT_DIR");
    const char *xsd[] = {ant_xsd, jenkins_xsd};
    duro_error err = {0, 0, ""};
    char path[PATH_MAX], msg[512], *xml;
    size_t len, i;

    if (duro_junit_write_memory(j, &xml, &len, &err) != 0) {
        fprintf(stderr, "test-report: %s\n", err.message);
        return -1;
    }
    for (i = 0; i < 2; i++)
        if (duro_junit_validate(xml, len, xsd[i], msg, sizeof msg) != 0) {
            fprintf(stderr, "test-report: own report rejected by %s: %s\n", xsd[i], msg);
            free(xml);
            return -1;
        }
    free(xml);
    if (!dir || !*dir)
        return 0;
    snprintf(path, sizeof path, "%s/test-report.xml", dir);
    if (duro_junit_write(j, path, &err) != 0) {
        fprintf(stderr, "test-report: %s\n", err.message);
        return -1;
    }
    return 0;
}

int main(void)
{
    const struct {
        const TTest *test;
        int needs_comma_locale;
    } tests[] = {
        {escape_specials, 0},      {control_characters, 0},
        {invalid_utf8, 0},         {non_ascii_names, 0},
        {empty_document_and_suite, 0}, {outcomes_and_counts, 0},
        {suite_properties, 0},     {time_formatting, 0},
        {numbers_in_c_locale, 1},  {validation_rejects_broken_documents, 0},
        {write_file_atomically, 0}, {table_alignment_utf8, 0},
        {table_rowf_and_cleaning, 0},
    };
    duro_junit *j;
    duro_junit_suite *suite;
    double t0 = duro__monotonic_seconds();
    int failed = 0;
    size_t i;

    if (find_schemas() != 0)
        return 77;
    comma_locale = find_comma_locale();
    j = duro_junit_new();
    suite = j ? duro_junit_suite_add(j, "report", "duro.tests") : NULL;
    if (!suite) {
        fprintf(stderr, "test-report: out of memory\n");
        return 99;
    }
    if (duro_junit_suite_property(suite, "comma_locale",
                                  comma_locale ? comma_locale : "none") != 0)
        failed++;
    for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (tests[i].needs_comma_locale && !comma_locale) {
            static const char reason[] =
                "no comma-decimal locale installed (e.g. de_DE.UTF-8: apt-get install "
                "locales, then localedef or locale-gen)";
            duro_junit_case *c = duro_junit_case_add(suite, tests[i].test->name, "report", 0);
            printf("SKIP: %s: %s\n", tests[i].test->name, reason);
            if (!c || duro_junit_case_skip(c, reason) != 0)
                failed++;
            continue;
        }
        failed += run_one(tests[i].test, suite);
    }
    duro_junit_suite_set_time(suite, duro__monotonic_seconds() - t0);
    if (write_results(j) != 0)
        failed++;
    duro_junit_free(j);
    xmlCleanupParser();
    return failed == 0 ? 0 : 1;
}
