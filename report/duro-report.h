/*
 * duro-report.h — the reports both suites produce: JUnit XML documents (written with
 * libxml2, valid against the Ant JUnit.xsd and the Jenkins/Surefire junit-10.xsd), their
 * schema validation, and aligned console tables in the seed stress spec's format.
 *
 * Text handed to these functions may contain anything: XML special characters are escaped,
 * characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) and bytes that are not valid
 * UTF-8 are each replaced by U+FFFD, valid UTF-8 passes through. Numbers are written in the C
 * locale whatever locale the process runs under. All strings are copied; the caller keeps
 * ownership of its arguments. A document or table is not thread-safe: build it from one
 * thread (or under the caller's lock).
 *
 * Errors: 0 on success or a negative DURO_E* code from duro-provider.h.
 */
#ifndef DURO_REPORT_H
#define DURO_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "duro-provider.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- JUnit XML ---------------------------------------------------------------------------- */

typedef struct duro_junit duro_junit;             /* a <testsuites> document */
typedef struct duro_junit_suite duro_junit_suite; /* one <testsuite> */
typedef struct duro_junit_case duro_junit_case;   /* one <testcase> */

/* A new, empty document (it writes as <testsuites/>). NULL on ENOMEM. Release it with
 * duro_junit_free(). */
duro_junit *duro_junit_new(void);

/* Free the document with all its suites and cases. NULL is allowed. */
void duro_junit_free(duro_junit *j);

/* Append a suite. name must contain a non-whitespace character (the Ant schema requires a
 * non-empty name); package defaults to name when NULL. The suite records timestamp = now
 * (UTC, "YYYY-MM-DDTHH:MM:SS", no zone), hostname = gethostname() ("localhost" when that
 * fails) and id = its index from 0. The suite is owned by the document. Returns NULL on
 * ENOMEM or when j is NULL or name is NULL or blank. */
duro_junit_suite *duro_junit_suite_add(duro_junit *j, const char *name, const char *package);

/* Append a <property name= value=> to the suite (written in call order). name must contain a
 * non-whitespace character; value NULL is written as "". DURO_EINVAL or DURO_ENOMEM. */
int duro_junit_suite_property(duro_junit_suite *s, const char *name, const char *value);

/* Same, with the value formatted by printf rules in the C locale ("%.2f" gives "1.50" even
 * under a comma-decimal locale). DURO_EINVAL (also for a format error) or DURO_ENOMEM. */
int duro_junit_suite_propertyf(duro_junit_suite *s, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append text to the suite's <system-out> / <system-err> (both are always written, empty
 * when nothing was appended). DURO_EINVAL (NULL argument) or DURO_ENOMEM. */
int duro_junit_suite_system_out(duro_junit_suite *s, const char *text);
int duro_junit_suite_system_err(duro_junit_suite *s, const char *text);

/* Set the suite's time attribute in seconds; by default it is the sum of its cases' times. */
void duro_junit_suite_set_time(duro_junit_suite *s, double seconds);

/* Append a passed <testcase> to the suite; classname defaults to the suite's name when NULL.
 * The case is owned by the suite. Times are written with millisecond precision as a plain
 * decimal ("0.125"); negative or NaN times are written as 0. Returns NULL on ENOMEM or when s
 * or name is NULL. */
duro_junit_case *duro_junit_case_add(duro_junit_suite *s, const char *name,
                                     const char *classname, double seconds);

/* Give the case its outcome: <skipped message=>, <failure type= message=>details</failure>
 * or <error type= message=>details</error>. At most one outcome per case: a second call
 * replaces the first. NULL message or details are written as empty; NULL type is written as
 * "failure" / "error". DURO_EINVAL (c NULL) or DURO_ENOMEM (the case keeps its previous
 * outcome). */
int duro_junit_case_skip(duro_junit_case *c, const char *message);
int duro_junit_case_fail(duro_junit_case *c, const char *type, const char *message,
                         const char *details);
int duro_junit_case_error(duro_junit_case *c, const char *type, const char *message,
                          const char *details);

/* Write the document as UTF-8 to path atomically: to a temporary file in the same directory,
 * flushed to disk, then renamed over path, so a reader never sees a partial file. On failure
 * path is untouched and no temporary file is left. DURO_EINVAL, DURO_ENOMEM or DURO_EIO, with
 * a message in err (which may be NULL). */
int duro_junit_write(const duro_junit *j, const char *path, duro_error *err);

/* Serialise the document into *xml (NUL-terminated, malloc'd, the caller frees it with
 * free()) and its length in bytes into *len (len may be NULL). DURO_EINVAL or DURO_ENOMEM,
 * with a message in err (which may be NULL); *xml is NULL on failure. */
int duro_junit_write_memory(const duro_junit *j, char **xml, size_t *len, duro_error *err);

/* Validate the XML document xml[0..len) against the XML Schema in the file xsd_path. Returns
 * 0 when the document is valid. Otherwise returns DURO_EINVAL (not well-formed or not valid),
 * DURO_EIO (the schema cannot be read or parsed) or DURO_ENOMEM, and writes the first problem
 * ("line N: ...") to msg (msg_size bytes, truncated, always NUL-terminated; msg may be NULL
 * when msg_size is 0). Never reads the network. */
int duro_junit_validate(const char *xml, size_t len, const char *xsd_path, char *msg,
                        size_t msg_size);

/* ---- Console tables ------------------------------------------------------------------------ */

/* A table in the seed stress spec's format:
 *
 *     | Provider | Config | Completed |
 *     |----------|--------|-----------|
 *     | sqlite   | 1/1    |       179 |
 *
 * Each column is as wide as its widest cell or header, measured in UTF-8 code points
 * ("Größe" is 5 wide); cells are padded with spaces and separated by " | ". Nothing is
 * truncated: a wide value widens its column. */
typedef struct duro_table duro_table;

typedef enum { DURO_ALIGN_LEFT, DURO_ALIGN_RIGHT } duro_align;

/* A new table with ncols columns, all left-aligned, and headers[0..ncols) (copied; a NULL
 * header is empty). Returns NULL on ENOMEM or when ncols is 0 or headers is NULL. Release it
 * with duro_table_free(). */
duro_table *duro_table_new(size_t ncols, const char *const *headers);

/* Free the table. NULL is allowed. */
void duro_table_free(duro_table *t);

/* Align column col (header and cells) left or right. An out-of-range col is ignored. */
void duro_table_align(duro_table *t, size_t col, duro_align a);

/* Append a row of ncols cells (copied; a NULL cell is empty). Control characters and invalid
 * UTF-8 bytes in a cell are replaced by U+FFFD. DURO_EINVAL (NULL argument) or DURO_ENOMEM. */
int duro_table_add_row(duro_table *t, const char *const *cells);

/* Append a row formatted by printf rules in the C locale; the result is split at '\t' into
 * cells and must hold exactly ncols cells. DURO_EINVAL (wrong cell count, format error) or
 * DURO_ENOMEM. */
int duro_table_add_rowf(duro_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print the header, the separator and every row to out. DURO_EINVAL (NULL argument),
 * DURO_ENOMEM or DURO_EIO (a write failed). */
int duro_table_print(const duro_table *t, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* DURO_REPORT_H */
