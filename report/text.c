/*
 * text.c — text helpers of the report library: a growable buffer, the UTF-8 cleaner and XML
 * escaper, code-point widths, and printf formatting in the C locale (reports must not depend
 * on the process locale: "0.125", never "0,125").
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duro-provider.h"
#include "text.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD in UTF-8 */

int duro__report_buf_add(duro__report_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *d;
        while (cap < b->len + n + 1)
            cap *= 2;
        d = realloc(b->data, cap);
        if (!d)
            return DURO_ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* Length (1..4) of the well-formed UTF-8 sequence at s, or 0 when s[0] does not start one
 * (stray continuation byte, overlong form, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* The entity for a character that must be escaped in `mode`, or NULL. */
static const char *escape_for(unsigned char c, duro__report_clean_mode mode)
{
    if (mode == DURO__REPORT_CONSOLE)
        return NULL;
    switch (c) {
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '&': return "&amp;";
    case '"': return "&quot;";
    case '\'': return "&apos;";
    case '\r': return "&#13;";
    case '\t': return mode == DURO__REPORT_XML_ATTR ? "&#9;" : NULL;
    case '\n': return mode == DURO__REPORT_XML_ATTR ? "&#10;" : NULL;
    default: return NULL;
    }
}

/* Whether the one-byte character c must be replaced in `mode`. */
static int forbidden_byte(unsigned char c, duro__report_clean_mode mode)
{
    if (c == 0x7F)
        return mode == DURO__REPORT_CONSOLE;
    if (c >= 0x20)
        return 0;
    if (mode == DURO__REPORT_CONSOLE)
        return 1;
    return c != '\t' && c != '\n' && c != '\r';
}

int duro__report_clean(duro__report_buf *b, const char *s, duro__report_clean_mode mode)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *run = p; /* start of bytes to copy unchanged */

    while (*p) {
        size_t n = utf8_seq_len(p);
        const char *subst = NULL;

        if (n == 0 || (n == 1 && forbidden_byte(*p, mode)))
            subst = replacement;
        else if (n == 1)
            subst = escape_for(*p, mode);
        else if (n == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] >= 0xBE)
            subst = replacement; /* U+FFFE, U+FFFF are not XML characters */
        if (!subst) {
            p += n;
            continue;
        }
        if (duro__report_buf_add(b, (const char *)run, (size_t)(p - run)) != 0 ||
            duro__report_buf_add(b, subst, strlen(subst)) != 0)
            return DURO_ENOMEM;
        p += n ? n : 1;
        run = p;
    }
    return duro__report_buf_add(b, (const char *)run, (size_t)(p - run));
}

size_t duro__report_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

int duro__report_vformat(char **out, const char *fmt, va_list ap)
{
    locale_t c_numeric, old;
    va_list cp;
    char *s = NULL;
    int n, rc = DURO_EINVAL;

    *out = NULL;
    c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_numeric == (locale_t)0)
        return DURO_ENOMEM;
    old = uselocale(c_numeric);
    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0) {
        s = malloc((size_t)n + 1);
        if (!s)
            rc = DURO_ENOMEM;
        else if (vsnprintf(s, (size_t)n + 1, fmt, cp) == n)
            rc = 0;
    }
    va_end(cp);
    uselocale(old);
    freelocale(c_numeric);
    if (rc != 0) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}
