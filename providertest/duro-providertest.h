/*
 * duro-providertest.h — plug a provider into duro's conformance and stress suites.
 *
 * A provider author fills one duro_provider_factory and calls duro_conformance_main() (the
 * named conformance cases, Check-based, JUnit output) or duro_stress_main() (the stress
 * scenarios, tables, JUnit/JSON, CI gates) from main(). Link with -lduro-providertest.
 *
 * Time: every provider call takes now_ms from its caller, so the suites drive lock expiry and
 * delayed visibility with a virtual clock and a factory needs no clock of its own.
 *
 * Versions: a factory sets `version` to the DURO_PROVIDER_FACTORY_VERSION of the header it was
 * built with; the suites read a hook only when the factory's version has it, so a factory
 * written today keeps working with a later library whose struct has grown.
 *
 * Thread safety: the suites call a factory's create, destroy and hooks from several threads at
 * once (stress runs, contention cases); each call concerns only the store it is given.
 */
#ifndef DURO_PROVIDERTEST_H
#define DURO_PROVIDERTEST_H

#include <stddef.h>
#include <stdint.h>

#include "duro-provider.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Versions of duro_provider_factory. Members are only ever appended.
 *   1: name .. attach, ud (duro 0.2).
 *   2: hold_write_lock, release_write_lock (duro 0.2).
 *   3: fail_storage, fail_allocation (duro 0.2).
 *   4: count_statements (duro 0.2). */
#define DURO_PROVIDER_FACTORY_V1 1
#define DURO_PROVIDER_FACTORY_V2 2
#define DURO_PROVIDER_FACTORY_V3 3
#define DURO_PROVIDER_FACTORY_V4 4
#define DURO_PROVIDER_FACTORY_VERSION DURO_PROVIDER_FACTORY_V4

/* Kinds of storage fault for duro_provider_factory.fail_storage. */
#define DURO_STORAGE_FAULT_NONE 0 /* writes reach the storage again */
#define DURO_STORAGE_FAULT_IO 1   /* every write fails as on an I/O error */
#define DURO_STORAGE_FAULT_FULL 2 /* every write fails as on a full disk */
#define DURO_STORAGE_FAULT_READONLY 3 /* every write fails: the storage became read-only */

typedef struct duro_provider_factory {
    /* DURO_PROVIDER_FACTORY_VERSION of the header the factory was compiled against (>= 1). */
    int version;
    /* Short name shown in reports, e.g. "sqlite", "sqlite-file", "mystore". */
    const char *name;
    /* Capabilities the provider claims (DURO_CAP_*). Cases needing more are SKIPPED. */
    unsigned caps;
    /* Create a fresh, empty store isolated from every other store this factory created
     * (a new in-memory database, a new file, a new schema). Returns 0 or a DURO_E* code. */
    int (*create)(void *ud, duro_provider **out, duro_error *err);
    /* Destroy a provider from create() and remove its storage. */
    void (*destroy)(void *ud, duro_provider *p);

    /* Optional hooks (NULL = not available; cases that need them are SKIPPED). */
    /* Overwrite the stored history of `instance` with bytes that cannot be decoded. */
    int (*corrupt_history)(void *ud, duro_provider *p, const char *instance);
    /* Largest stored fetch count among the orchestrator messages of `instance`. */
    int (*max_attempt_count)(void *ud, duro_provider *p, const char *instance,
                             uint32_t *out);
    /* Name the store of `p` in a NUL-terminated string that attach() accepts in any process
     * (e.g. the database file's path). 0, or DURO_ETOOBIG when it does not fit in `size`. */
    int (*locate)(void *ud, duro_provider *p, char *buf, size_t size);
    /* Open another handle on the store named `locator`, with its own connections and no
     * in-process state shared with other handles (no wake-ups cross handles), as a second
     * process would. The caller releases it with duro_provider_destroy(); the store stays.
     * Used, with locate, by duro-stress --attach and --processes. */
    int (*attach)(void *ud, const char *locator, duro_provider **out, duro_error *err);

    void *ud;

    /* ---- Version 2 (read only when version >= DURO_PROVIDER_FACTORY_V2) ------------------ */

    /* Real contention (optional; NULL when the store cannot be locked from outside a handle,
     * e.g. a private in-memory database). Open *busy, another handle on the store of `p` (as
     * attach) whose calls wait at most `busy_ms` for a storage lock, then take the store's
     * write lock from outside both handles, as another process would, and return 0 once it
     * is held (*hold names it). While it is held a write through *busy fails with a retryable
     * DURO_EBUSY within about busy_ms and applies nothing; reads may go on. */
    int (*hold_write_lock)(void *ud, duro_provider *p, int64_t busy_ms, duro_provider **busy,
                           void **hold, duro_error *err);
    /* Drop the write lock of hold_write_lock. The caller destroys *busy itself
     * (duro_provider_destroy); both hooks are set or both are NULL. */
    void (*release_write_lock)(void *ud, void *hold);

    /* ---- Version 3 (read only when version >= DURO_PROVIDER_FACTORY_V3) ------------------ */

    /* Real storage faults (optional; NULL when the factory cannot make its storage fail, e.g.
     * an in-memory database). From its return on, every write the store of `p` makes to its
     * storage (data, log and sync, through every handle on the store) fails as a failing
     * device would: DURO_STORAGE_FAULT_IO as an I/O error, DURO_STORAGE_FAULT_FULL as a full
     * disk, DURO_STORAGE_FAULT_READONLY as storage that became read-only (a file system
     * remounted read-only), until DURO_STORAGE_FAULT_NONE; reads keep working. The suites always stop a fault
     * before they destroy the store. 0, or DURO_EINVAL for an unknown kind or store. */
    int (*fail_storage)(void *ud, duro_provider *p, int kind, duro_error *err);
    /* Allocation failures (optional; NULL when the program cannot make an allocation fail
     * on demand). From its return on, the nth allocation (nth >= 1) the calling thread makes
     * through malloc, calloc or realloc (and so strdup and the storage engine's own) fails,
     * and only that one; nth 0 disarms. Returns the number of allocations the calling thread
     * made since the previous call, the failed one included, so a result below the nth armed
     * means none failed. The suites arm it around one provider call at a time. */
    long (*fail_allocation)(void *ud, long nth);

    /* ---- Version 4 (read only when version >= DURO_PROVIDER_FACTORY_V4) ------------------ */

    /* Statement counting (optional; NULL when the factory cannot count). *out = the number of
     * statements (SQL statements, round trips: the store's unit of work) that every store of
     * this factory has run in this process since the first call; the first call starts the
     * count (before it nothing is counted, and counting costs nothing) and gives 0. The
     * stress suite calls it before it opens a store and after the drain. 0, or a DURO_E*
     * code. */
    int (*count_statements)(void *ud, uint64_t *out);
} duro_provider_factory;

/* 1 when `f` has the members of factory version `v` (they may still be NULL). */
#define DURO_PROVIDER_FACTORY_HAS(f, v) ((f)->version >= (v))

/* Run the conformance suite against `factory` with the command line of duro-conformance
 * (--junit FILE, --category C, --case NAME, --list, --repeat N, --verbose, --help).
 * Returns the process exit status: 0 when nothing failed, 1 on failures, 2 on usage error
 * (which includes a factory whose version is 0 or that lacks create/destroy). The store's
 * physical integrity check is the provider's own (duro_provider_integrity_check). */
DURO_EXTERN int duro_conformance_main(const duro_provider_factory *factory, int argc,
                                     char **argv);

/* Run the stress suite against `factory` with the command line of duro-stress. Returns the
 * process exit status: 0 when every gate passed, 1 when a gate tripped, 2 on usage error. */
DURO_EXTERN int duro_stress_main(const duro_provider_factory *factory, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif /* DURO_PROVIDERTEST_H */
