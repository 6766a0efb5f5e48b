/*
 * util.c — helpers of libduro alone: the wall clock, identifier and payload checks, UTF-8
 * validation, random numbers and version keys. Helpers every library shares (strings,
 * monotonic clocks, growable arrays) are in util/util.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"

int64_t duro_clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int duro__check_id(const char *s, const char *what, duro_error *err)
{
    size_t i, n;
    if (!s || !*s)
        return duro_error_set(err, DURO_EINVAL, 0, "%s is empty", what);
    n = strlen(s);
    if (n > DURO_MAX_ID_BYTES)
        return duro_error_set(err, DURO_ETOOBIG, 0, "%s is %zu bytes (limit %d)", what, n,
                              DURO_MAX_ID_BYTES);
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return duro_error_set(err, DURO_EINVAL, 0,
                                  "%s contains a control character at byte %zu", what, i);
    i = duro__utf8_invalid_at(s);
    if (i != SIZE_MAX)
        return duro_error_set(err, DURO_EINVAL, 0, "%s is not valid UTF-8 (byte %zu)", what, i);
    return 0;
}

int duro__check_payload(const char *s, const char *what, duro_error *err)
{
    size_t n = s ? strlen(s) : 0;
    if (n > DURO_MAX_PAYLOAD_BYTES)
        return duro_error_set(err, DURO_ETOOBIG, 0, "%s is %zu bytes (limit %u)", what, n,
                              (unsigned)DURO_MAX_PAYLOAD_BYTES);
    return 0;
}

int64_t duro__version_key(const char *v)
{
    long part[3];
    int i;
    const char *p = v;
    if (!v)
        return -1;
    for (i = 0; i < 3; i++) {
        char *end;
        if (*p < '0' || *p > '9')
            return -1;
        errno = 0;
        part[i] = strtol(p, &end, 10);
        if (errno || part[i] > 999999)
            return -1;
        p = end;
        if (i < 2) {
            if (*p != '.')
                return -1;
            p++;
        }
    }
    if (*p)
        return -1;
    return ((int64_t)part[0] * 1000000 + part[1]) * 1000000 + part[2];
}

const char *duro__version_canon(const char *v, char buf[DURO__VERSION_CANON_BYTES])
{
    int64_t key = duro__version_key(v);
    if (key < 0)
        return v;
    snprintf(buf, DURO__VERSION_CANON_BYTES, "%lld.%lld.%lld",
             (long long)(key / 1000000000000LL), (long long)(key / 1000000 % 1000000),
             (long long)(key % 1000000));
    return buf;
}

int duro__random_u64(uint64_t *out)
{
    size_t got = 0;
    while (got < sizeof *out) {
        ssize_t r = getrandom((char *)out + got, sizeof *out - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return DURO_EIO;
        }
        got += (size_t)r;
    }
    return 0;
}

int duro_random_token(char token[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];
    size_t got = 0;
    int i;
    while (got < sizeof raw) {
        ssize_t r = getrandom(raw + got, sizeof raw - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            token[0] = '\0';
            return DURO_EIO;
        }
        got += (size_t)r;
    }
    for (i = 0; i < 16; i++) {
        token[2 * i] = hex[raw[i] >> 4];
        token[2 * i + 1] = hex[raw[i] & 15];
    }
    token[32] = '\0';
    return 0;
}

size_t duro__utf8_invalid_at(const char *s)
{
    const unsigned char *start = (const unsigned char *)s, *p = start;
    while (*p) {
        const unsigned char *seq = p;
        unsigned c = *p, need;
        uint32_t cp;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else
            return (size_t)(seq - start);
        p++;
        while (need--) {
            if ((*p & 0xc0) != 0x80)
                return (size_t)(seq - start);
            cp = (cp << 6) | (*p++ & 0x3f);
        }
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
            (c == 0xe0 && cp < 0x800) || (c == 0xf0 && cp < 0x10000))
            return (size_t)(seq - start);
    }
    return SIZE_MAX;
}

int duro__utf8_valid(const char *s)
{
    return duro__utf8_invalid_at(s) == SIZE_MAX;
}
