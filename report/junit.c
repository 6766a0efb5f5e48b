/*
 * junit.c — builds JUnit XML documents in memory and writes them with libxml2's xmlwriter.
 *
 * The shape satisfies both the Ant JUnit.xsd and the Jenkins/Surefire junit-10.xsd:
 * <testsuites> without attributes; each <testsuite> with name, package, id, tests, failures,
 * errors, skipped, time, timestamp and hostname, and children in the order properties (always
 * present), testcase*, system-out, system-err (always present); each <testcase> with name,
 * classname and time, and at most one of skipped / failure / error. Text is cleaned and
 * escaped by text.c and handed to the writer raw, so the escaping rules live in one place;
 * times are formatted from integers, which no locale can change.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlwriter.h>

#include "duro-report.h"
#include "text.h"

typedef enum { OUTCOME_PASS, OUTCOME_SKIP, OUTCOME_FAIL, OUTCOME_ERROR } outcome;

struct duro_junit_case {
    char *name;
    char *classname;
    double seconds;
    outcome outcome;
    char *type;    /* failure / error only */
    char *message; /* skip / failure / error */
    char *details; /* failure / error text content */
};

typedef struct property {
    char *name;
    char *value;
} property;

struct duro_junit_suite {
    char *name;
    char *package;
    int id;
    char timestamp[20]; /* YYYY-MM-DDTHH:MM:SS */
    char hostname[256];
    property *props;
    size_t n_props, cap_props;
    duro_junit_case **cases;
    size_t n_cases, cap_cases;
    duro__report_buf out, err;
    double time;
    int time_set;
};

struct duro_junit {
    duro_junit_suite **suites;
    size_t n_suites, cap_suites;
};

/* Fill err like duro_error_set(); the report library links nothing of libduro. */
static int fail(duro_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(duro_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        err->retryable = 0;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Whether s is empty or only XML whitespace (the Ant schema rejects such names). */
static int blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

duro_junit *duro_junit_new(void)
{
    duro__report_xml_init();
    return calloc(1, sizeof(duro_junit));
}

static void case_free(duro_junit_case *c)
{
    free(c->name);
    free(c->classname);
    free(c->type);
    free(c->message);
    free(c->details);
    free(c);
}

static void suite_free(duro_junit_suite *s)
{
    size_t i;

    for (i = 0; i < s->n_props; i++) {
        free(s->props[i].name);
        free(s->props[i].value);
    }
    for (i = 0; i < s->n_cases; i++)
        case_free(s->cases[i]);
    free(s->props);
    free(s->cases);
    free(s->out.data);
    free(s->err.data);
    free(s->name);
    free(s->package);
    free(s);
}

void duro_junit_free(duro_junit *j)
{
    size_t i;

    if (!j)
        return;
    for (i = 0; i < j->n_suites; i++)
        suite_free(j->suites[i]);
    free(j->suites);
    free(j);
}

duro_junit_suite *duro_junit_suite_add(duro_junit *j, const char *name, const char *package)
{
    duro_junit_suite **suites, *s;
    struct tm tm;
    time_t now = time(NULL);

    if (!j || !name || blank(name) || j->n_suites >= INT32_MAX)
        return NULL;
    suites = duro__grow(j->suites, &j->cap_suites, j->n_suites, sizeof *j->suites);
    if (!suites)
        return NULL;
    j->suites = suites;
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->name = duro__strdup(name);
    s->package = duro__strdup(package ? package : name);
    if (!s->name || !s->package) {
        suite_free(s);
        return NULL;
    }
    s->id = (int)j->n_suites;
    if (!gmtime_r(&now, &tm) ||
        strftime(s->timestamp, sizeof s->timestamp, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        strcpy(s->timestamp, "1970-01-01T00:00:00");
    if (gethostname(s->hostname, sizeof s->hostname) != 0)
        s->hostname[0] = '\0';
    s->hostname[sizeof s->hostname - 1] = '\0';
    if (blank(s->hostname))
        strcpy(s->hostname, "localhost");
    j->suites[j->n_suites++] = s;
    return s;
}

int duro_junit_suite_property(duro_junit_suite *s, const char *name, const char *value)
{
    property p, *props;

    if (!s || !name || blank(name))
        return DURO_EINVAL;
    props = duro__grow(s->props, &s->cap_props, s->n_props, sizeof *s->props);
    if (!props)
        return DURO_ENOMEM;
    s->props = props;
    p.name = duro__strdup(name);
    p.value = duro__strdup(value);
    if (!p.name || !p.value) {
        free(p.name);
        free(p.value);
        return DURO_ENOMEM;
    }
    s->props[s->n_props++] = p;
    return 0;
}

int duro_junit_suite_propertyf(duro_junit_suite *s, const char *name, const char *fmt, ...)
{
    va_list ap;
    char *value;
    int rc;

    if (!fmt)
        return DURO_EINVAL;
    va_start(ap, fmt);
    rc = duro__report_vformat(&value, fmt, ap);
    va_end(ap);
    if (rc != 0)
        return rc;
    rc = duro_junit_suite_property(s, name, value);
    free(value);
    return rc;
}

int duro_junit_suite_system_out(duro_junit_suite *s, const char *text)
{
    if (!s || !text)
        return DURO_EINVAL;
    return duro__report_buf_add(&s->out, text, strlen(text));
}

int duro_junit_suite_system_err(duro_junit_suite *s, const char *text)
{
    if (!s || !text)
        return DURO_EINVAL;
    return duro__report_buf_add(&s->err, text, strlen(text));
}

void duro_junit_suite_set_time(duro_junit_suite *s, double seconds)
{
    if (!s)
        return;
    s->time = seconds;
    s->time_set = 1;
}

duro_junit_case *duro_junit_case_add(duro_junit_suite *s, const char *name,
                                     const char *classname, double seconds)
{
    duro_junit_case **cases, *c;

    if (!s || !name)
        return NULL;
    cases = duro__grow(s->cases, &s->cap_cases, s->n_cases, sizeof *s->cases);
    if (!cases)
        return NULL;
    s->cases = cases;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->name = duro__strdup(name);
    c->classname = duro__strdup(classname ? classname : s->name);
    if (!c->name || !c->classname) {
        case_free(c);
        return NULL;
    }
    c->seconds = seconds;
    s->cases[s->n_cases++] = c;
    return c;
}

/* Replace the outcome of c; on ENOMEM the previous outcome stays. */
static int set_outcome(duro_junit_case *c, outcome o, const char *type, const char *message,
                       const char *details)
{
    char *t = NULL, *m, *d = NULL;

    if (!c)
        return DURO_EINVAL;
    m = duro__strdup(message);
    if (o != OUTCOME_SKIP) {
        t = duro__strdup(type ? type : o == OUTCOME_FAIL ? "failure" : "error");
        d = duro__strdup(details);
    }
    if (!m || (o != OUTCOME_SKIP && (!t || !d))) {
        free(t);
        free(m);
        free(d);
        return DURO_ENOMEM;
    }
    free(c->type);
    free(c->message);
    free(c->details);
    c->outcome = o;
    c->type = t;
    c->message = m;
    c->details = d;
    return 0;
}

int duro_junit_case_skip(duro_junit_case *c, const char *message)
{
    return set_outcome(c, OUTCOME_SKIP, NULL, message, NULL);
}

int duro_junit_case_fail(duro_junit_case *c, const char *type, const char *message,
                         const char *details)
{
    return set_outcome(c, OUTCOME_FAIL, type, message, details);
}

int duro_junit_case_error(duro_junit_case *c, const char *type, const char *message,
                          const char *details)
{
    return set_outcome(c, OUTCOME_ERROR, type, message, details);
}

/* ---- Serialisation ------------------------------------------------------------------------ */

/* Seconds as a plain decimal with millisecond precision ("0.125"): no exponent (the Surefire
 * pattern forbids it), no sign, no locale. Negative and NaN become 0; huge values are capped
 * at 10^12 s. */
static void format_seconds(double seconds, char out[32])
{
    int64_t ms;

    if (!(seconds > 0))
        seconds = 0;
    if (seconds > 1e12)
        seconds = 1e12;
    ms = (int64_t)(seconds * 1000.0 + 0.5);
    snprintf(out, 32, "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000));
}

/* The writer plus a scratch buffer for cleaning text. Every write returns 0 or DURO_ENOMEM:
 * the writer only fails when its memory buffer cannot grow. */
typedef struct writer {
    xmlTextWriterPtr w;
    duro__report_buf scratch;
} writer;

/* Clean and escape text for mode into the scratch buffer. */
static int prepare(writer *wr, const char *text, duro__report_clean_mode mode)
{
    wr->scratch.len = 0;
    if (wr->scratch.data)
        wr->scratch.data[0] = '\0';
    return duro__report_clean(&wr->scratch, text, mode);
}

static int raw(writer *wr)
{
    if (wr->scratch.len == 0)
        return 0;
    return xmlTextWriterWriteRaw(wr->w, BAD_CAST wr->scratch.data) < 0 ? DURO_ENOMEM : 0;
}

static int attr(writer *wr, const char *name, const char *value)
{
    if (prepare(wr, value, DURO__REPORT_XML_ATTR) != 0 ||
        xmlTextWriterStartAttribute(wr->w, BAD_CAST name) < 0 || raw(wr) != 0 ||
        xmlTextWriterEndAttribute(wr->w) < 0)
        return DURO_ENOMEM;
    return 0;
}

static int attr_int(writer *wr, const char *name, size_t value)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", value);
    return attr(wr, name, buf);
}

static int attr_seconds(writer *wr, const char *name, double seconds)
{
    char buf[32];
    format_seconds(seconds, buf);
    return attr(wr, name, buf);
}

static int start(writer *wr, const char *element)
{
    return xmlTextWriterStartElement(wr->w, BAD_CAST element) < 0 ? DURO_ENOMEM : 0;
}

static int end(writer *wr)
{
    return xmlTextWriterEndElement(wr->w) < 0 ? DURO_ENOMEM : 0;
}

/* <element>text</element>, or <element/> when text is empty. */
static int text_element(writer *wr, const char *element, const char *text)
{
    if (start(wr, element) != 0 || prepare(wr, text, DURO__REPORT_XML_TEXT) != 0 ||
        raw(wr) != 0 || end(wr) != 0)
        return DURO_ENOMEM;
    return 0;
}

static int write_case(writer *wr, const duro_junit_case *c)
{
    static const char *const element[] = {NULL, "skipped", "failure", "error"};

    if (start(wr, "testcase") != 0 || attr(wr, "name", c->name) != 0 ||
        attr(wr, "classname", c->classname) != 0 || attr_seconds(wr, "time", c->seconds) != 0)
        return DURO_ENOMEM;
    if (c->outcome != OUTCOME_PASS) {
        if (start(wr, element[c->outcome]) != 0)
            return DURO_ENOMEM;
        if (c->outcome != OUTCOME_SKIP && attr(wr, "type", c->type) != 0)
            return DURO_ENOMEM;
        if (attr(wr, "message", c->message) != 0)
            return DURO_ENOMEM;
        if (c->outcome != OUTCOME_SKIP &&
            (prepare(wr, c->details, DURO__REPORT_XML_TEXT) != 0 || raw(wr) != 0))
            return DURO_ENOMEM;
        if (end(wr) != 0)
            return DURO_ENOMEM;
    }
    return end(wr);
}

static int write_suite(writer *wr, const duro_junit_suite *s)
{
    size_t i, failures = 0, errors = 0, skipped = 0;
    double time = 0;

    for (i = 0; i < s->n_cases; i++) {
        failures += s->cases[i]->outcome == OUTCOME_FAIL;
        errors += s->cases[i]->outcome == OUTCOME_ERROR;
        skipped += s->cases[i]->outcome == OUTCOME_SKIP;
        if (s->cases[i]->seconds > 0)
            time += s->cases[i]->seconds;
    }
    if (s->time_set)
        time = s->time;
    if (start(wr, "testsuite") != 0 || attr(wr, "name", s->name) != 0 ||
        attr(wr, "package", s->package) != 0 || attr_int(wr, "id", (size_t)s->id) != 0 ||
        attr_int(wr, "tests", s->n_cases) != 0 || attr_int(wr, "failures", failures) != 0 ||
        attr_int(wr, "errors", errors) != 0 || attr_int(wr, "skipped", skipped) != 0 ||
        attr_seconds(wr, "time", time) != 0 || attr(wr, "timestamp", s->timestamp) != 0 ||
        attr(wr, "hostname", s->hostname) != 0)
        return DURO_ENOMEM;
    if (start(wr, "properties") != 0)
        return DURO_ENOMEM;
    for (i = 0; i < s->n_props; i++)
        if (start(wr, "property") != 0 || attr(wr, "name", s->props[i].name) != 0 ||
            attr(wr, "value", s->props[i].value) != 0 || end(wr) != 0)
            return DURO_ENOMEM;
    if (end(wr) != 0)
        return DURO_ENOMEM;
    for (i = 0; i < s->n_cases; i++)
        if (write_case(wr, s->cases[i]) != 0)
            return DURO_ENOMEM;
    if (text_element(wr, "system-out", s->out.data ? s->out.data : "") != 0 ||
        text_element(wr, "system-err", s->err.data ? s->err.data : "") != 0)
        return DURO_ENOMEM;
    return end(wr);
}

static int write_document(writer *wr, const duro_junit *j)
{
    size_t i;

    if (xmlTextWriterSetIndent(wr->w, 1) < 0 ||
        xmlTextWriterSetIndentString(wr->w, BAD_CAST "  ") < 0 ||
        xmlTextWriterStartDocument(wr->w, NULL, "UTF-8", NULL) < 0 ||
        start(wr, "testsuites") != 0)
        return DURO_ENOMEM;
    for (i = 0; i < j->n_suites; i++)
        if (write_suite(wr, j->suites[i]) != 0)
            return DURO_ENOMEM;
    if (end(wr) != 0 || xmlTextWriterEndDocument(wr->w) < 0)
        return DURO_ENOMEM;
    return 0;
}

int duro_junit_write_memory(const duro_junit *j, char **xml, size_t *len, duro_error *err)
{
    writer wr = {NULL, {NULL, 0, 0}};
    xmlBufferPtr buf;
    int rc = DURO_ENOMEM;

    if (!xml)
        return fail(err, DURO_EINVAL, "junit: no output pointer");
    *xml = NULL;
    if (!j)
        return fail(err, DURO_EINVAL, "junit: no document");
    buf = xmlBufferCreate();
    if (buf)
        wr.w = xmlNewTextWriterMemory(buf, 0);
    if (wr.w) {
        rc = write_document(&wr, j);
        xmlFreeTextWriter(wr.w); /* flushes into buf */
    }
    if (rc == 0) {
        size_t n = (size_t)xmlBufferLength(buf);
        *xml = malloc(n + 1);
        if (*xml) {
            memcpy(*xml, xmlBufferContent(buf), n);
            (*xml)[n] = '\0';
            if (len)
                *len = n;
        } else {
            rc = DURO_ENOMEM;
        }
    }
    xmlBufferFree(buf);
    free(wr.scratch.data);
    if (rc != 0)
        return fail(err, rc, "junit: out of memory while writing XML");
    return 0;
}

/* Write all of data to fd, retrying short writes and EINTR. 0 or -1 with errno set. */
static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int duro_junit_write(const duro_junit *j, const char *path, duro_error *err)
{
    static atomic_uint seq;
    char *xml = NULL, *tmp = NULL;
    size_t len = 0, tmp_size;
    int rc, fd, e;

    if (!path || !*path)
        return fail(err, DURO_EINVAL, "junit: no output path");
    rc = duro_junit_write_memory(j, &xml, &len, err);
    if (rc != 0)
        return rc;
    tmp_size = strlen(path) + 64;
    tmp = malloc(tmp_size);
    if (!tmp) {
        free(xml);
        return fail(err, DURO_ENOMEM, "junit: out of memory");
    }
    snprintf(tmp, tmp_size, "%s.tmp.%ld.%u", path, (long)getpid(),
             atomic_fetch_add(&seq, 1u));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        e = errno;
        rc = fail(err, DURO_EIO, "junit: cannot create %s: %s", tmp, strerror(e));
    } else {
        if (write_all(fd, xml, len) != 0 || fsync(fd) != 0) {
            e = errno;
            close(fd);
            rc = fail(err, DURO_EIO, "junit: cannot write %s: %s", tmp, strerror(e));
        } else if (close(fd) != 0) {
            e = errno;
            rc = fail(err, DURO_EIO, "junit: cannot write %s: %s", tmp, strerror(e));
        } else if (rename(tmp, path) != 0) {
            e = errno;
            rc = fail(err, DURO_EIO, "junit: cannot rename %s to %s: %s", tmp, path,
                      strerror(e));
        }
        if (rc != 0)
            unlink(tmp);
    }
    free(tmp);
    free(xml);
    return rc;
}
