/*
 * alloc-fault.h — allocation failures on demand for duro-conformance (alloc-fault.c): the
 * fail_allocation hook of the built-in factories.
 */
#ifndef DURO_ALLOC_FAULT_H
#define DURO_ALLOC_FAULT_H

#include <limits.h> /* defines __GLIBC__ on glibc */

/* Available on glibc (whose allocator can be replaced by the program), not under
 * AddressSanitizer (which replaces it first). */
#if defined(__SANITIZE_ADDRESS__)
#define DURO_ALLOC_FAULT_AVAILABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DURO_ALLOC_FAULT_AVAILABLE 0
#endif
#endif
#ifndef DURO_ALLOC_FAULT_AVAILABLE
#ifdef __GLIBC__
#define DURO_ALLOC_FAULT_AVAILABLE 1
#else
#define DURO_ALLOC_FAULT_AVAILABLE 0
#endif
#endif

#if DURO_ALLOC_FAULT_AVAILABLE
/* duro_provider_factory.fail_allocation: from now, the `nth` allocation (n >= 1) of the
 * calling thread fails (and only that one); nth 0 disarms. Returns the number of
 * allocations the thread made since the previous call, the failed one included, so a
 * result below the armed nth means no allocation failed. */
long duro__alloc_fault(void *ud, long nth);
#endif

#endif /* DURO_ALLOC_FAULT_H */
