/*
 * util.c — the small helpers every duro library needs (duro-util.h): malloc'ed strings,
 * monotonic clocks and sleeps, saturating time arithmetic, a growable array and the folders
 * of output files. Built once as the non-installed convenience library libduro-util, linked
 * into each library that uses it; its names are duro__ and hidden.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "duro-util.h"

char *duro__strdup(const char *s)
{
    size_t n;
    char *d;
    if (!s)
        s = "";
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *duro__vasprintf(const char *fmt, va_list ap)
{
    va_list cp;
    int n;
    char *s;
    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return NULL;
    s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *duro__asprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    s = duro__vasprintf(fmt, ap);
    va_end(ap);
    return s;
}

int64_t duro__monotonic_ms(void)
{
    return duro__monotonic_us() / 1000;
}

int64_t duro__monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t duro__monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double duro__monotonic_seconds(void)
{
    return (double)duro__monotonic_ns() / 1e9;
}

void duro__sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

struct timespec duro__monotonic_after_us(int64_t us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (us > 0) {
        ts.tv_sec += (time_t)(us / 1000000);
        ts.tv_nsec += (long)(us % 1000000) * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
    }
    return ts;
}

int64_t duro__add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

int64_t duro__ms_to_us_sat(int64_t ms)
{
    if (ms > INT64_MAX / 1000)
        return INT64_MAX;
    if (ms < INT64_MIN / 1000)
        return INT64_MIN;
    return ms * 1000;
}

void duro__vec_init(duro__vec *v, size_t elem)
{
    v->data = NULL;
    v->len = v->cap = 0;
    v->elem = elem;
}

void *duro__vec_push(duro__vec *v)
{
    char *slot;
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void *d = realloc(v->data, cap * v->elem);
        if (!d)
            return NULL;
        v->data = d;
        v->cap = cap;
    }
    slot = (char *)v->data + v->len * v->elem;
    memset(slot, 0, v->elem);
    v->len++;
    return slot;
}

void duro__vec_free(duro__vec *v)
{
    free(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}

void *duro__grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    size_t ncap;
    void *d;
    if (n < *cap)
        return arr;
    ncap = *cap ? *cap * 2 : 8;
    d = realloc(arr, ncap * elem);
    if (d)
        *cap = ncap;
    return d;
}

/* mkdir `dir` unless it is a folder already. 0, or -1 with errno set. */
static int make_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0777) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int duro__make_parent_dirs(const char *path, char *msg, size_t msg_size)
{
    char *dir = duro__strdup(path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    int rc = 0;

    if (!dir) {
        if (msg_size > 0)
            snprintf(msg, msg_size, "out of memory");
        return -1;
    }
    if (slash)
        *slash = '\0';
    /* each prefix that ends before a '/', then the whole folder ("/x" needs no "/") */
    for (char *p = dir + 1; slash && p <= slash; p++) {
        if ((*p != '/' && *p != '\0') || p[-1] == '/')
            continue;
        char saved = *p;
        *p = '\0';
        rc = make_dir(dir);
        if (rc != 0 && msg_size > 0)
            snprintf(msg, msg_size, "cannot create folder '%s': %s", dir, strerror(errno));
        *p = saved;
        if (rc != 0)
            break;
    }
    free(dir);
    return rc;
}
