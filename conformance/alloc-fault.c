/*
 * alloc-fault.c — allocation failures on demand for duro-conformance: the program's own
 * malloc, calloc, realloc and free, which pass every call to glibc's allocator
 * (__libc_malloc and friends) and can make one chosen allocation of the calling thread fail.
 * Defined in the executable, they replace the allocator for every library it loads (glibc
 * supports replacing malloc this way), so a failure reaches the provider's own allocations
 * and SQLite's alike, exactly where a real out-of-memory would.
 *
 * Only duro-conformance links this file, and only where the allocator may be replaced:
 * not under AddressSanitizer, which brings its own (alloc-fault.h then says so, and the
 * factories keep fail_allocation NULL, so the cases that need it are skipped).
 */
#include "alloc-fault.h"

#if DURO_ALLOC_FAULT_AVAILABLE

#include <errno.h>
#include <stdlib.h>

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void __libc_free(void *p);

/* Armed: allocations left until the one that fails (0: not armed). `counted`: allocations
 * made since arming, the failed one included. Per thread, so a case's helper threads and
 * the provider's background threads never see a failure meant for the case's own call. */
static __thread long countdown;
static __thread long counted;

/* The build hides symbols by default; these must be seen by every loaded library. */
#define REPLACES __attribute__((visibility("default")))

/* 1 when this allocation is the one that must fail. */
static int must_fail(void)
{
    if (countdown <= 0)
        return 0;
    counted++;
    return --countdown == 0;
}

REPLACES void *malloc(size_t size)
{
    if (must_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(size);
}

REPLACES void *calloc(size_t n, size_t size)
{
    if (must_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_calloc(n, size);
}

REPLACES void *realloc(void *p, size_t size)
{
    if (size > 0 && must_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(p, size);
}

REPLACES void free(void *p)
{
    __libc_free(p);
}

long duro__alloc_fault(void *ud, long nth)
{
    long made = counted;

    (void)ud;
    countdown = nth > 0 ? nth : 0;
    counted = 0;
    return made;
}

#endif
