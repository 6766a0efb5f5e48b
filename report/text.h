/*
 * text.h — text helpers private to the report library: a growable byte buffer, the UTF-8
 * cleaner that makes any C string safe for XML and for the console, code-point widths,
 * printf formatting in the C locale, and the one-time libxml2 initialisation.
 */
#ifndef DURO_REPORT_TEXT_H
#define DURO_REPORT_TEXT_H

#include <stdarg.h>
#include <stddef.h>

#include "duro-util.h"

/* A NUL-terminated growable string. Zero-initialise it; release data with free(). */
typedef struct duro__report_buf {
    char *data;
    size_t len;
    size_t cap;
} duro__report_buf;

/* How duro__report_clean() treats a string. */
typedef enum {
    DURO__REPORT_XML_TEXT, /* escape < > & " ' and CR; keep TAB and LF */
    DURO__REPORT_XML_ATTR, /* also escape TAB and LF, so attribute values survive parsing */
    DURO__REPORT_CONSOLE   /* no escaping; TAB, LF and CR are replaced like other controls */
} duro__report_clean_mode;

/* Append n bytes of s. 0 or DURO_ENOMEM (the buffer is unchanged). */
int duro__report_buf_add(duro__report_buf *b, const char *s, size_t n);

/* Append s cleaned for `mode`: each byte that does not start a valid UTF-8 sequence, each
 * control character XML 1.0 forbids (all of them in console mode) and U+FFFE / U+FFFF
 * become U+FFFD. 0 or DURO_ENOMEM (the buffer may hold part of s). */
int duro__report_clean(duro__report_buf *b, const char *s, duro__report_clean_mode mode);

/* Number of UTF-8 code points in s (every byte that is not a continuation byte counts). */
size_t duro__report_width(const char *s);

/* Format like vsnprintf into a new malloc'd string *out, with LC_NUMERIC = "C" for this
 * thread during the call. 0, DURO_EINVAL (format error) or DURO_ENOMEM. */
int duro__report_vformat(char **out, const char *fmt, va_list ap);

/* Initialise libxml2 once per process, from whichever thread gets here first (validate.c). */
void duro__report_xml_init(void);

#endif /* DURO_REPORT_TEXT_H */
