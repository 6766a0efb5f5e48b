/*
 * table.c — console tables in the format of the seed stress spec: a "| a | b |" header, a
 * "|---|---|" separator as wide as each padded column, then the rows, every column padded
 * with spaces to its widest cell counted in UTF-8 code points. Cells are cleaned on entry
 * (controls and invalid UTF-8 become U+FFFD), so a cell is one line of known width.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duro-report.h"
#include "text.h"

struct duro_table {
    size_t ncols;
    char **headers;    /* ncols */
    duro_align *align; /* ncols */
    char **cells;      /* nrows * ncols, row after row */
    size_t nrows, cap_rows;
};

/* A cleaned copy of s (NULL is empty), or NULL on ENOMEM. */
static char *clean_copy(const char *s)
{
    duro__report_buf b = {NULL, 0, 0};

    if (duro__report_clean(&b, s ? s : "", DURO__REPORT_CONSOLE) != 0) {
        free(b.data);
        return NULL;
    }
    return b.data ? b.data : duro__strdup("");
}

static void free_strings(char **v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Cleaned copies of src[0..n), or NULL on ENOMEM. */
static char **copy_strings(const char *const *src, size_t n)
{
    char **v = calloc(n, sizeof *v);
    size_t i;

    if (!v)
        return NULL;
    for (i = 0; i < n; i++) {
        v[i] = clean_copy(src[i]);
        if (!v[i]) {
            free_strings(v, i);
            return NULL;
        }
    }
    return v;
}

duro_table *duro_table_new(size_t ncols, const char *const *headers)
{
    duro_table *t;

    if (ncols == 0 || !headers)
        return NULL;
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols;
    t->headers = copy_strings(headers, ncols);
    t->align = calloc(ncols, sizeof *t->align);
    if (!t->headers || !t->align) {
        duro_table_free(t);
        return NULL;
    }
    return t;
}

void duro_table_free(duro_table *t)
{
    if (!t)
        return;
    free_strings(t->headers, t->headers ? t->ncols : 0);
    free_strings(t->cells, t->nrows * t->ncols);
    free(t->align);
    free(t);
}

void duro_table_align(duro_table *t, size_t col, duro_align a)
{
    if (t && col < t->ncols)
        t->align[col] = a;
}

int duro_table_add_row(duro_table *t, const char *const *cells)
{
    char **row;
    size_t i;

    if (!t || !cells)
        return DURO_EINVAL;
    if (t->nrows == t->cap_rows) {
        size_t cap = t->cap_rows ? t->cap_rows * 2 : 8;
        char **d = realloc(t->cells, cap * t->ncols * sizeof *d);
        if (!d)
            return DURO_ENOMEM;
        t->cells = d;
        t->cap_rows = cap;
    }
    row = copy_strings(cells, t->ncols);
    if (!row)
        return DURO_ENOMEM;
    for (i = 0; i < t->ncols; i++)
        t->cells[t->nrows * t->ncols + i] = row[i];
    free(row);
    t->nrows++;
    return 0;
}

int duro_table_add_rowf(duro_table *t, const char *fmt, ...)
{
    va_list ap;
    char *line, *p;
    const char **cells;
    size_t n = 1;
    int rc;

    if (!t || !fmt)
        return DURO_EINVAL;
    va_start(ap, fmt);
    rc = duro__report_vformat(&line, fmt, ap);
    va_end(ap);
    if (rc != 0)
        return rc;
    for (p = line; *p; p++)
        n += *p == '\t';
    if (n != t->ncols) {
        free(line);
        return DURO_EINVAL;
    }
    cells = calloc(n, sizeof *cells);
    if (!cells) {
        free(line);
        return DURO_ENOMEM;
    }
    cells[0] = line;
    for (n = 1, p = line; *p; p++)
        if (*p == '\t') {
            *p = '\0';
            cells[n++] = p + 1;
        }
    rc = duro_table_add_row(t, cells);
    free(cells);
    free(line);
    return rc;
}

/* Append cell s padded to width w with alignment a, as "| s   " (the caller closes with
 * " |"). */
static int add_cell(duro__report_buf *b, const char *s, size_t w, duro_align a)
{
    size_t pad = w - duro__report_width(s), i;
    int rc = duro__report_buf_add(b, "| ", 2);

    for (i = 0; rc == 0 && a == DURO_ALIGN_RIGHT && i < pad; i++)
        rc = duro__report_buf_add(b, " ", 1);
    if (rc == 0)
        rc = duro__report_buf_add(b, s, strlen(s));
    for (i = 0; rc == 0 && a == DURO_ALIGN_LEFT && i < pad; i++)
        rc = duro__report_buf_add(b, " ", 1);
    if (rc == 0)
        rc = duro__report_buf_add(b, " ", 1);
    return rc;
}

/* Append one table line of cells[0..ncols). */
static int add_line(duro__report_buf *b, const duro_table *t, char *const *cells,
                    const size_t *width)
{
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < t->ncols; i++)
        rc = add_cell(b, cells[i], width[i], t->align[i]);
    return rc == 0 ? duro__report_buf_add(b, "|\n", 2) : rc;
}

static int render(const duro_table *t, const size_t *width, duro__report_buf *b)
{
    size_t r, i, k;
    int rc = add_line(b, t, t->headers, width);

    for (i = 0; rc == 0 && i < t->ncols; i++) {
        rc = duro__report_buf_add(b, "|", 1);
        for (k = 0; rc == 0 && k < width[i] + 2; k++)
            rc = duro__report_buf_add(b, "-", 1);
    }
    if (rc == 0)
        rc = duro__report_buf_add(b, "|\n", 2);
    for (r = 0; rc == 0 && r < t->nrows; r++)
        rc = add_line(b, t, t->cells + r * t->ncols, width);
    return rc;
}

int duro_table_print(const duro_table *t, FILE *out)
{
    duro__report_buf b = {NULL, 0, 0};
    size_t *width, r, i;
    int rc;

    if (!t || !out)
        return DURO_EINVAL;
    width = calloc(t->ncols, sizeof *width);
    if (!width)
        return DURO_ENOMEM;
    for (i = 0; i < t->ncols; i++) {
        width[i] = duro__report_width(t->headers[i]);
        for (r = 0; r < t->nrows; r++) {
            size_t w = duro__report_width(t->cells[r * t->ncols + i]);
            if (w > width[i])
                width[i] = w;
        }
    }
    rc = render(t, width, &b);
    if (rc == 0 && (fwrite(b.data, 1, b.len, out) != b.len || fflush(out) != 0))
        rc = DURO_EIO;
    free(b.data);
    free(width);
    return rc;
}
