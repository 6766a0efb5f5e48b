/*
 * duro-conformance.c — the conformance suite runner for duro's built-in providers.
 *
 * Picks a provider factory with --provider (sqlite: a fresh in-memory database per case;
 * sqlite-file: a fresh WAL database file per case; postgres, when built with libpq: a fresh
 * schema per case on the server of --pg CONNINFO or $DURO_PG_CONNINFO, dropped afterwards),
 * removes those options from the command line and hands the rest to duro_conformance_main(), which selects, runs and reports the
 * cases. A custom provider has its own main() that calls duro_conformance_main() directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-fault.h"
#include "duro-providertest.h"
#include "duro-sqlite.h"
#include "sqlite-factory.h"
#ifdef DURO_WITH_POSTGRES
#include "postgres-factory.h"
#endif

static const char *pg_arg; /* --pg CONNINFO */

#ifdef DURO_WITH_POSTGRES
static const duro_provider_factory *postgres_factory(void)
{
    const char *conninfo = duro__postgres_conninfo(pg_arg);

    if (conninfo == NULL) {
        fprintf(stderr, "duro-conformance: --provider postgres needs a server: pass --pg "
                        "CONNINFO or set DURO_PG_CONNINFO (ci/pg-server.sh start DIR prints "
                        "one)\n");
        return NULL;
    }
    return duro__postgres_factory(conninfo);
}
#endif

/* The in-memory SQLite factory, with this program's allocation failures (alloc-fault.c)
 * as its fail_allocation hook where the allocator can be replaced: the same provider code
 * as the file store, without device I/O, so the allocation sweeps stay fast. */
static const duro_provider_factory *memory_factory(void)
{
    static duro_provider_factory f;

    f = *duro__sqlite_factory_memory();
#if DURO_ALLOC_FAULT_AVAILABLE
    f.fail_allocation = duro__alloc_fault;
#endif
    return &f;
}

/* The file SQLite factory with the same hook: its commits go through group commit and the
 * checkpointer (which the in-memory store has not), so their allocation failures are swept
 * too. */
static const duro_provider_factory *file_factory(void)
{
    static duro_provider_factory f;

    f = *duro__sqlite_factory_file();
#if DURO_ALLOC_FAULT_AVAILABLE
    f.fail_allocation = duro__alloc_fault;
#endif
    return &f;
}

static const struct {
    const char *name;
    const duro_provider_factory *(*factory)(void);
    const char *description;
} providers[] = {
    {"sqlite", memory_factory, "SQLite, a fresh in-memory database per case"},
    {"sqlite-file", file_factory, "SQLite, a fresh WAL database file per case"},
#ifdef DURO_WITH_POSTGRES
    {"postgres", postgres_factory,
     "PostgreSQL, a fresh schema per case (--pg CONNINFO or DURO_PG_CONNINFO)"},
#endif
};

#define N_PROVIDERS (sizeof providers / sizeof providers[0])

static void print_providers(FILE *out)
{
    for (size_t i = 0; i < N_PROVIDERS; i++)
        fprintf(out, "                     %-12s %s%s\n", providers[i].name,
                providers[i].description, i == 0 ? " (default)" : "");
}

int main(int argc, char **argv)
{
    const char *prog = argc > 0 && argv[0] != NULL ? argv[0] : "duro-conformance";
    const char *provider = providers[0].name;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0, help = 0, status;

    if (rest == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 2;
    }
    rest[n_rest++] = (char *)prog;
    if (strrchr(prog, '/') != NULL)
        prog = strrchr(prog, '/') + 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--provider") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: option '--provider' needs a value\n", prog);
                free(rest);
                return 2;
            }
            provider = argv[++i];
        } else if (strncmp(argv[i], "--provider=", 11) == 0) {
            provider = argv[i] + 11;
        } else if (strcmp(argv[i], "--pg") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: option '--pg' needs a value (a libpq conninfo)\n", prog);
                free(rest);
                return 2;
            }
            pg_arg = argv[++i];
        } else if (strncmp(argv[i], "--pg=", 5) == 0) {
            pg_arg = argv[i] + 5;
        } else {
            help |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
            rest[n_rest++] = argv[i];
        }
    }

    const duro_provider_factory *factory = NULL;
    int known = 0;
    for (size_t i = 0; i < N_PROVIDERS; i++)
        if (strcmp(provider, providers[i].name) == 0) {
            known = 1;
            factory = providers[i].factory();
        }
    if (known && factory == NULL) {
        free(rest);
        return 2;
    }
    if (factory == NULL) {
        fprintf(stderr, "%s: unknown provider '%s'; valid providers:\n", prog, provider);
        for (size_t i = 0; i < N_PROVIDERS; i++)
            fprintf(stderr, "  %-12s %s\n", providers[i].name, providers[i].description);
        free(rest);
        return 2;
    }
    status = duro_conformance_main(factory, n_rest, rest);
    if (help && status == 0) {
        printf("\nProvider selection (duro-conformance only):\n"
               "  --provider NAME    the built-in provider to test:\n");
        print_providers(stdout);
#ifdef DURO_WITH_POSTGRES
        printf("  --pg CONNINFO      the PostgreSQL server of --provider postgres (default: "
               "$DURO_PG_CONNINFO)\n");
#endif
    }
    free(rest);
    return status;
}
