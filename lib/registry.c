/*
 * registry.c — orchestrations by name and version, activities by name. New instances start
 * on the highest registered version of a name; replay asks for the exact recorded version.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "replay.h"

typedef struct orch_entry {
    char *name;
    char *version;
    char *canon;   /* canonical text of version (duro__version_canon) */
    int64_t key;
    duro_orch_fn fn;
    void *ud;
} orch_entry;

typedef struct act_entry {
    char *name;
    duro_activity_fn fn;
    void *ud;
} act_entry;

struct duro_registry {
    duro__vec orchs; /* orch_entry */
    duro__vec acts;  /* act_entry */
};

duro_registry *duro_registry_new(void)
{
    duro_registry *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    duro__vec_init(&r->orchs, sizeof(orch_entry));
    duro__vec_init(&r->acts, sizeof(act_entry));
    return r;
}

void duro_registry_free(duro_registry *r)
{
    size_t i;
    if (!r)
        return;
    for (i = 0; i < r->orchs.len; i++) {
        orch_entry *e = (orch_entry *)r->orchs.data + i;
        free(e->name);
        free(e->version);
        free(e->canon);
    }
    for (i = 0; i < r->acts.len; i++)
        free(((act_entry *)r->acts.data + i)->name);
    duro__vec_free(&r->orchs);
    duro__vec_free(&r->acts);
    free(r);
}

static int check_name(const char *name, const char *what)
{
    int rc = duro__check_id(name, what, NULL);
    if (rc)
        return rc;
    if (strncmp(name, "duro:", 5) == 0)
        return DURO_EINVAL;
    return 0;
}

int duro_register_orchestration(duro_registry *r, const char *name, const char *version,
                                duro_orch_fn fn, void *ud)
{
    size_t i;
    int64_t key;
    orch_entry *e;
    int rc;
    if (!r || !fn)
        return DURO_EINVAL;
    if ((rc = check_name(name, "orchestration name")))
        return rc;
    if (!version)
        version = "1.0.0";
    key = duro__version_key(version);
    if (key < 0)
        return DURO_EINVAL;
    for (i = 0; i < r->orchs.len; i++) {
        e = (orch_entry *)r->orchs.data + i;
        if (strcmp(e->name, name) == 0 && e->key == key)
            return DURO_EEXIST;
    }
    e = duro__vec_push(&r->orchs);
    if (!e)
        return DURO_ENOMEM;
    e->name = duro__strdup(name);
    e->version = duro__strdup(version);
    {
        char canon[DURO__VERSION_CANON_BYTES];
        e->canon = duro__strdup(duro__version_canon(version, canon));
    }
    if (!e->name || !e->version || !e->canon) {
        free(e->name);
        free(e->version);
        free(e->canon);
        r->orchs.len--;
        return DURO_ENOMEM;
    }
    e->key = key;
    e->fn = fn;
    e->ud = ud;
    return 0;
}

int duro_register_activity(duro_registry *r, const char *name, duro_activity_fn fn, void *ud)
{
    size_t i;
    act_entry *e;
    int rc;
    if (!r || !fn)
        return DURO_EINVAL;
    if ((rc = check_name(name, "activity name")))
        return rc;
    for (i = 0; i < r->acts.len; i++)
        if (strcmp(((act_entry *)r->acts.data + i)->name, name) == 0)
            return DURO_EEXIST;
    e = duro__vec_push(&r->acts);
    if (!e)
        return DURO_ENOMEM;
    e->name = duro__strdup(name);
    if (!e->name) {
        r->acts.len--;
        return DURO_ENOMEM;
    }
    e->fn = fn;
    e->ud = ud;
    return 0;
}

int duro__registry_orch(const duro_registry *r, const char *name, const char *version,
                        duro_orch_fn *fn, void **ud, const char **resolved)
{
    size_t i;
    const orch_entry *best = NULL;
    int64_t want = version ? duro__version_key(version) : -1;
    for (i = 0; i < r->orchs.len; i++) {
        const orch_entry *e = (const orch_entry *)r->orchs.data + i;
        if (strcmp(e->name, name) != 0)
            continue;
        if (version ? e->key == want : (!best || e->key > best->key))
            best = e;
    }
    if (!best)
        return DURO_EUNREGISTERED;
    *fn = best->fn;
    *ud = best->ud;
    *resolved = best->version;
    return 0;
}

int duro__registry_activity(const duro_registry *r, const char *name, duro_activity_fn *fn,
                            void **ud)
{
    size_t i;
    for (i = 0; i < r->acts.len; i++) {
        const act_entry *e = (const act_entry *)r->acts.data + i;
        if (strcmp(e->name, name) == 0) {
            *fn = e->fn;
            *ud = e->ud;
            return 0;
        }
    }
    return DURO_EUNREGISTERED;
}

int duro__registry_filter(const duro_registry *r, duro_version_filter *out)
{
    size_t i, n = 0;
    duro_orch_ref *refs = calloc(r->orchs.len * 2 + 1, sizeof *refs);
    if (!refs)
        return DURO_ENOMEM;
    for (i = 0; i < r->orchs.len; i++) {
        const orch_entry *e = (const orch_entry *)r->orchs.data + i;
        refs[n].orch_name = e->name;
        refs[n++].orch_version = e->version;
        if (strcmp(e->canon, e->version) != 0) {
            refs[n].orch_name = e->name;
            refs[n++].orch_version = e->canon;
        }
    }
    out->refs = refs;
    out->n = n;
    return 0;
}
