/*
 * validate.c — checks an XML document against an XML Schema with libxml2, reporting the first
 * problem as "line N: message". The suites' tests use it to prove that every report they
 * write is accepted by both the Ant and the Jenkins/Surefire JUnit schemas.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "duro-report.h"
#include "text.h"

/* libxml2 2.12 made the structured error handler take a const error. */
#if LIBXML_VERSION >= 21200
typedef const xmlError xml_error;
#else
typedef xmlError xml_error;
#endif

/* Where the first error goes. */
typedef struct first_error {
    char *msg;
    size_t size;
    int seen;
} first_error;

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

void duro__report_xml_init(void)
{
    pthread_once(&xml_once, xml_init);
}

/* Record e as "line N: message" (without libxml2's trailing newline) if it is the first. */
static void note(first_error *fe, const char *prefix, xml_error *e)
{
    const char *text;
    size_t n;

    if (fe->seen || !fe->msg || fe->size == 0)
        return;
    fe->seen = 1;
    text = e && e->message ? e->message : "unknown error";
    n = strcspn(text, "\n");
    if (e && e->line > 0)
        snprintf(fe->msg, fe->size, "%sline %d: %.*s", prefix, e->line, (int)n, text);
    else
        snprintf(fe->msg, fe->size, "%s%.*s", prefix, (int)n, text);
}

static void on_schema_error(void *ud, xml_error *e)
{
    note(ud, "schema: ", e);
}

static void on_document_error(void *ud, xml_error *e)
{
    note(ud, "", e);
}

/* Parse and compile the schema at path; NULL with fe filled on failure. libxml2 reports a
 * file it cannot open through this thread's global handler, not the context's, so that
 * handler is borrowed for the call (and restored) to keep the message out of stderr. */
static xmlSchemaPtr load_schema(const char *path, first_error *fe)
{
    xmlStructuredErrorFunc saved_fn = xmlStructuredError;
    void *saved_ctx = xmlStructuredErrorContext;
    xmlSchemaParserCtxtPtr pc;
    xmlSchemaPtr schema = NULL;

    xmlSetStructuredErrorFunc(fe, on_schema_error);
    pc = xmlSchemaNewParserCtxt(path);
    if (pc) {
        xmlSchemaSetParserStructuredErrors(pc, on_schema_error, fe);
        schema = xmlSchemaParse(pc);
        xmlSchemaFreeParserCtxt(pc);
    }
    xmlSetStructuredErrorFunc(saved_ctx, saved_fn);
    return schema;
}

/* Parse xml[0..len) without network access and without printing; NULL with fe filled when it
 * is not well-formed. */
static xmlDocPtr parse_document(const char *xml, size_t len, first_error *fe, int *nomem)
{
    xmlParserCtxtPtr pc = xmlNewParserCtxt();
    xmlDocPtr doc;

    *nomem = 0;
    if (!pc) {
        *nomem = 1;
        return NULL;
    }
    doc = xmlCtxtReadMemory(pc, xml, (int)len, "report.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        note(fe, "", xmlCtxtGetLastError(pc));
    xmlFreeParserCtxt(pc);
    return doc;
}

int duro_junit_validate(const char *xml, size_t len, const char *xsd_path, char *msg,
                        size_t msg_size)
{
    first_error fe = {msg, msg_size, 0};
    xmlSchemaPtr schema;
    xmlSchemaValidCtxtPtr vc;
    xmlDocPtr doc;
    int rc, nomem;

    if (msg && msg_size > 0)
        msg[0] = '\0';
    if (!xml || !xsd_path || len > INT_MAX) {
        if (msg && msg_size > 0)
            snprintf(msg, msg_size, "invalid argument");
        return DURO_EINVAL;
    }
    duro__report_xml_init();
    schema = load_schema(xsd_path, &fe);
    if (!schema) {
        if (!fe.seen && msg && msg_size > 0)
            snprintf(msg, msg_size, "schema: cannot load %s", xsd_path);
        return DURO_EIO;
    }
    fe.seen = 0; /* forget warnings about a schema that loaded */
    if (msg && msg_size > 0)
        msg[0] = '\0';
    doc = parse_document(xml, len, &fe, &nomem);
    if (!doc) {
        xmlSchemaFree(schema);
        if (nomem && msg && msg_size > 0)
            snprintf(msg, msg_size, "out of memory");
        return nomem ? DURO_ENOMEM : DURO_EINVAL;
    }
    vc = xmlSchemaNewValidCtxt(schema);
    if (!vc) {
        rc = DURO_ENOMEM;
        if (msg && msg_size > 0)
            snprintf(msg, msg_size, "out of memory");
    } else {
        xmlSchemaSetValidStructuredErrors(vc, on_document_error, &fe);
        rc = xmlSchemaValidateDoc(vc, doc) == 0 ? 0 : DURO_EINVAL;
        xmlSchemaFreeValidCtxt(vc);
        if (rc != 0 && !fe.seen && msg && msg_size > 0)
            snprintf(msg, msg_size, "document does not validate against %s", xsd_path);
    }
    xmlFreeDoc(doc);
    xmlSchemaFree(schema);
    return rc;
}
