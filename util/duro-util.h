/*
 * duro-util.h — the small helpers every duro library shares (not installed): malloc'ed
 * strings, monotonic clocks, saturating time arithmetic, growable arrays and the folders of
 * output files. They live
 * once, in the convenience library util/libduro-util.la, and are hidden in every shared
 * library that links it.
 */
#ifndef DURO_UTIL_H
#define DURO_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* malloc-backed string helpers; all return NULL on allocation failure. duro__strdup(NULL)
 * copies "". */
char *duro__strdup(const char *s);
char *duro__vasprintf(const char *fmt, va_list ap);
char *duro__asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic milliseconds, microseconds and nanoseconds (for measuring waits; not
 * timestamps). */
int64_t duro__monotonic_ms(void);
int64_t duro__monotonic_us(void);
int64_t duro__monotonic_ns(void);
/* Monotonic seconds with nanosecond resolution (for reported durations). */
double duro__monotonic_seconds(void);
/* The CLOCK_MONOTONIC time `us` microseconds from now (now when us <= 0), for a condition
 * variable that waits on that clock. */
struct timespec duro__monotonic_after_us(int64_t us);
/* Sleep `ms` milliseconds (nothing when ms <= 0), resuming after a signal interrupts it. */
void duro__sleep_ms(int64_t ms);

/* a + b, saturated at INT64_MIN and INT64_MAX instead of overflowing (deadlines from huge
 * durations). */
int64_t duro__add_sat(int64_t a, int64_t b);
/* Milliseconds as microseconds, saturated at INT64_MIN and INT64_MAX. */
int64_t duro__ms_to_us_sat(int64_t ms);

/* Create the folder that will hold the file `path`, and every missing folder above it, as
 * `mkdir -p "$(dirname path)"` (mode 0777 less the umask); a path without a folder part, or
 * whose folder exists, needs nothing. Returns 0, or -1 with msg (msg_size > 0) saying which
 * folder could not be made and why ("cannot create folder 'out/a': Permission denied"). */
int duro__make_parent_dirs(const char *path, char *msg, size_t msg_size);

/* A growable array of fixed-size elements. */
typedef struct duro__vec {
    void *data;
    size_t len;
    size_t cap;
    size_t elem;
} duro__vec;
void duro__vec_init(duro__vec *v, size_t elem);
/* Append one zeroed element; returns a pointer to it, or NULL when out of memory. */
void *duro__vec_push(duro__vec *v);
void duro__vec_free(duro__vec *v);

/* `arr` (room for *cap elements of `elem` bytes, `n` used) with room for one more: arr
 * itself, or a larger copy with *cap updated (doubling from 8); NULL when out of memory (arr
 * is then unchanged and still owned by the caller). */
void *duro__grow(void *arr, size_t *cap, size_t n, size_t elem);

#endif /* DURO_UTIL_H */
