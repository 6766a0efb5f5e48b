/*
 * duro-stress.c — the stress suite runner for duro's built-in providers.
 *
 * Takes --provider (sqlite, sqlite-file, postgres when built with libpq, all, or a comma list;
 * default all) and --pg CONNINFO (or $DURO_PG_CONNINFO) for postgres (not needed with
 * --store, whose locator carries its own) and --sync full|normal|off (the synchronous level
 * of sqlite-file, default full or $DURO_SQLITE_SYNC; its rows are named sqlite-file/full,
 * sqlite-file/normal or sqlite-file/off), removes them from the command line and hands the
 * rest to duro_stress_main_factories(), which runs the matrix,
 * prints the tables and writes the reports. A custom provider has its own main() that calls
 * duro_stress_main() (or duro_stress_main_factories()) with its factory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "duro-sqlite.h"
#include "sqlite-factory.h"
#include "duro-stress.h"
#ifdef DURO_WITH_POSTGRES
#include "postgres-factory.h"
#endif

static const char *pg_arg; /* --pg CONNINFO */
static int has_store;      /* --store given: the factory only attaches, by the locator */

/* The sqlite-file factory under a name that tells its synchronous level, which the factory
 * takes from $DURO_SQLITE_SYNC (set from --sync). */
static const duro_provider_factory *sqlite_file_factory(void)
{
    static duro_provider_factory named;
    const char *sync = getenv("DURO_SQLITE_SYNC");

    named = *duro__sqlite_factory_file();
    named.name = sync != NULL && strcasecmp(sync, "normal") == 0 ? "sqlite-file/normal"
                 : sync != NULL && strcasecmp(sync, "off") == 0  ? "sqlite-file/off"
                                                                 : "sqlite-file/full";
    return &named;
}

/* Apply --sync VALUE: 0, or -1 with a message. */
static int set_sync(const char *prog, const char *v)
{
    if (strcmp(v, "full") != 0 && strcmp(v, "normal") != 0 && strcmp(v, "off") != 0) {
        fprintf(stderr, "%s: --sync: '%s' is not full, normal or off\n", prog, v);
        return -1;
    }
    if (setenv("DURO_SQLITE_SYNC", v, 1) != 0) {
        fprintf(stderr, "%s: --sync: cannot set DURO_SQLITE_SYNC\n", prog);
        return -1;
    }
    return 0;
}

#ifdef DURO_WITH_POSTGRES
static const duro_provider_factory *postgres_factory(void)
{
    const char *conninfo = duro__postgres_conninfo(pg_arg);

    if (conninfo == NULL && has_store)
        conninfo = ""; /* never used: attach takes the conninfo from the locator */
    return conninfo != NULL ? duro__postgres_factory(conninfo) : NULL;
}
#endif

static const struct {
    const char *name;
    const duro_provider_factory *(*factory)(void);
    const char *description;
} providers[] = {
    {"sqlite", duro__sqlite_factory_memory, "SQLite, a fresh in-memory database per run"},
    {"sqlite-file", sqlite_file_factory,
     "SQLite, a fresh WAL database file under $TMPDIR per run, removed afterwards"},
#ifdef DURO_WITH_POSTGRES
    {"postgres", postgres_factory,
     "PostgreSQL, a fresh schema per run (--pg CONNINFO or DURO_PG_CONNINFO), dropped afterwards"},
#endif
};

#define N_PROVIDERS (sizeof providers / sizeof providers[0])

static void list_providers(FILE *out)
{
    for (size_t i = 0; i < N_PROVIDERS; i++)
        fprintf(out, "    %-12s %s\n", providers[i].name, providers[i].description);
    fprintf(out, "    %-12s all of the above (default; postgres only with a conninfo)\n", "all");
}

/* Parse the --provider list into sel[]. 0, or -1 with a message. */
static int select_providers(const char *prog, const char *list, int sel[N_PROVIDERS])
{
    char buf[128];
    if (strlen(list) >= sizeof buf || *list == '\0') {
        fprintf(stderr, "%s: --provider: bad list '%s'\n", prog, list);
        return -1;
    }
    strcpy(buf, list);
    memset(sel, 0, N_PROVIDERS * sizeof sel[0]);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        if (strcmp(t, "all") == 0) {
            for (i = 0; i < N_PROVIDERS; i++)
                sel[i] = strcmp(providers[i].name, "postgres") != 0 ||
                                 getenv("DURO_PG_CONNINFO") != NULL || pg_arg != NULL
                             ? 1
                             : sel[i];
            continue;
        }
        while (i < N_PROVIDERS && strcmp(t, providers[i].name) != 0)
            i++;
        if (i == N_PROVIDERS) {
            fprintf(stderr, "%s: --provider: unknown provider '%s'; valid providers:\n", prog, t);
            list_providers(stderr);
            return -1;
        }
        sel[i] = 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *prog = "duro-stress";
    const char *list = "all";
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0, help = 0;
    if (rest == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 2;
    }
    rest[n_rest++] = (char *)prog;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--provider") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: --provider needs a value (see --help)\n", prog);
                free(rest);
                return 2;
            }
            list = argv[++i];
        } else if (strncmp(argv[i], "--provider=", 11) == 0) {
            list = argv[i] + 11;
        } else if (strcmp(argv[i], "--sync") == 0 || strncmp(argv[i], "--sync=", 7) == 0) {
            const char *v = argv[i][6] == '=' ? argv[i] + 7 : i + 1 < argc ? argv[++i] : "";
            if (set_sync(prog, v) != 0) {
                free(rest);
                return 2;
            }
        } else if (strcmp(argv[i], "--pg") == 0 && i + 1 < argc) {
            pg_arg = argv[++i];
        } else if (strncmp(argv[i], "--pg=", 5) == 0) {
            pg_arg = argv[i] + 5;
        } else {
            help |= strcmp(argv[i], "--help") == 0;
            has_store |= strcmp(argv[i], "--store") == 0 || strncmp(argv[i], "--store=", 8) == 0;
            rest[n_rest++] = argv[i];
        }
    }
    int sel[N_PROVIDERS];
    if (select_providers(prog, list, sel) != 0) {
        free(rest);
        return 2;
    }
    const duro_provider_factory *f[N_PROVIDERS];
    size_t n = 0;
    for (size_t i = 0; i < N_PROVIDERS; i++)
        if (sel[i]) {
            f[n] = providers[i].factory();
            if (f[n] == NULL) {
                fprintf(stderr, "%s: --provider %s needs a server: pass --pg CONNINFO or set "
                                "DURO_PG_CONNINFO (ci/pg-server.sh start DIR prints one)\n",
                        prog, providers[i].name);
                free(rest);
                return 2;
            }
            n++;
        }
    int status = duro_stress_main_factories(f, n, n_rest, rest);
    if (help && status == 0) {
        printf("\nProvider selection (duro-stress only):\n"
               "  --provider LIST                the built-in providers to test, "
               "comma-separated:\n");
        list_providers(stdout);
        printf("  --pg CONNINFO                  the PostgreSQL server of the postgres provider "
               "(default:\n"
               "                                 $DURO_PG_CONNINFO)\n");
        printf("  --sync full|normal|off         synchronous level of sqlite-file (full, or\n"
               "                                 $DURO_SQLITE_SYNC); its rows are named\n"
               "                                 sqlite-file/full, /normal or /off and the\n"
               "                                 JSON rows carry \"sync\"\n");
    }
    free(rest);
    return status;
}
