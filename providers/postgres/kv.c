/*
 * kv.c — durable values of the PostgreSQL provider (DURO_CAP_KV, ops version 5): the changes
 * a commit carries, applied inside ack_orch's transaction, and the two reads (get_value,
 * list_values).
 *
 * Values live in table kv (instance_id, key, value bytea, version), one row per key beside
 * the instance row, never per execution: a new execution and prune leave them alone,
 * deleting the instance deletes them (manage.c). instances.kv_version counts every change an
 * instance's commits made; a SET stamps its key with the new count. Keys sort in byte order
 * (COLLATE "C"), whatever the database's collation.
 */
#include "pg-internal.h"

#include <stdlib.h>
#include <string.h>

/* One statement per change: bump the instance's counter and apply the change with it. */
static const char SQL_KV_SET[] =
    "WITH v AS (UPDATE instances SET kv_version = kv_version + 1"
    " WHERE instance_id = $1::text RETURNING kv_version)"
    " INSERT INTO kv (instance_id, key, value, version)"
    " SELECT $1::text, $2::text, $3::bytea, kv_version FROM v"
    " ON CONFLICT (instance_id, key) DO UPDATE SET value = excluded.value,"
    " version = excluded.version";
static const char SQL_KV_CLEAR[] =
    "WITH v AS (UPDATE instances SET kv_version = kv_version + 1"
    " WHERE instance_id = $1::text RETURNING kv_version)"
    " DELETE FROM kv WHERE instance_id = $1::text AND key = $2::text"
    " AND EXISTS (SELECT 1 FROM v)";
static const char SQL_KV_CLEAR_ALL[] =
    "WITH v AS (UPDATE instances SET kv_version = kv_version + 1"
    " WHERE instance_id = $1::text RETURNING kv_version)"
    " DELETE FROM kv WHERE instance_id = $1::text AND EXISTS (SELECT 1 FROM v)";
static const char SQL_KV_COUNT[] = "SELECT COUNT(*) FROM kv WHERE instance_id = $1::text";
static const char SQL_KV_GET[] =
    "SELECT value, version FROM kv WHERE instance_id = $1::text AND key = $2::text";
static const char SQL_KV_LIST[] =
    "SELECT key, value, version FROM kv WHERE instance_id = $1::text ORDER BY key";
static const char SQL_KV_INSTANCE[] = "SELECT 1 FROM instances WHERE instance_id = $1::text";

int duro__pg_apply_kv(duro__pg_conn *c, const char *instance, const duro_orch_commit *cm,
                      duro_error *err)
{
    int64_t keys = 0;
    int rc = 0;

    for (size_t i = 0; rc >= 0 && i < cm->n_kv; i++) {
        const duro_kv_change *k = &cm->kv[i];

        if (k->op == DURO_KV_SET)
            rc = duro__pg_exec(c, SQL_KV_SET, err, "ttb", instance, k->key, k->value);
        else if (k->op == DURO_KV_CLEAR)
            rc = duro__pg_exec(c, SQL_KV_CLEAR, err, "tt", instance, k->key);
        else
            rc = duro__pg_exec(c, SQL_KV_CLEAR_ALL, err, "t", instance);
    }
    if (rc >= 0 && cm->n_kv > 0)
        rc = duro__pg_int(c, SQL_KV_COUNT, 0, &keys, err, "t", instance);
    if (rc >= 0 && keys > DURO_MAX_VALUES)
        return duro_error_set(err, DURO_ETOOBIG, 0,
                              "ack_orch: %s would hold %lld durable values (limit %d)",
                              instance, (long long)keys, DURO_MAX_VALUES);
    return rc < 0 ? rc : 0;
}

/* DURO_ENOTFOUND naming `instance` when it has no row, else 0 (or a read error). */
static int instance_known(duro__pg_conn *c, const char *instance, duro_error *err)
{
    int64_t one;
    int rc = duro__pg_int(c, SQL_KV_INSTANCE, 0, &one, err, "t", instance);

    if (rc == 0)
        return duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s not found", instance);
    return rc < 0 ? rc : 0;
}

typedef struct get_arg {
    const char *instance, *key;
    char *value;
    uint64_t version;
} get_arg;

static int get_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    get_arg *a = arg;
    PGresult *r;
    int rc;

    (void)notes;
    free(a->value);
    a->value = NULL;
    rc = duro__pg_query(c, SQL_KV_GET, &r, err, "tt", a->instance, a->key);
    if (rc != 0)
        return rc;
    if (PQntuples(r) > 0) {
        a->version = (uint64_t)duro__pg_get_i64(r, 0, 1);
        rc = duro__pg_get_bytes(r, 0, 0, &a->value, err);
    } else {
        rc = instance_known(c, a->instance, err);
        if (rc == 0)
            rc = duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s has no value \"%s\"",
                                a->instance, a->key);
    }
    PQclear(r);
    return rc;
}

int duro__pg_get_value(duro_provider *p, const char *instance, const char *key, char **value,
                       uint64_t *version, duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    get_arg a = { instance, key, NULL, 0 };
    int rc;

    if (value == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "get_value: value is required");
    *value = NULL;
    if (version != NULL)
        *version = 0;
    rc = duro_provider_check_id(instance, "instance id", err);
    if (rc == 0)
        rc = duro_provider_check_kv_key(key, err);
    if (rc == 0)
        rc = duro__pg_run(&s->pool, DURO__PG_READ, get_txn, &a, err);
    if (rc != 0) {
        free(a.value);
        return rc;
    }
    *value = a.value;
    if (version != NULL)
        *version = a.version;
    return 0;
}

typedef struct list_arg {
    const char *instance;
    duro_kv_entry *entries;
    size_t n;
} list_arg;

static int list_txn(duro__pg_conn *c, void *arg, unsigned *notes, duro_error *err)
{
    list_arg *a = arg;
    PGresult *r;
    int rc, rows;

    (void)notes;
    duro_kv_entries_free(a->entries, a->n);
    a->entries = NULL;
    a->n = 0;
    rc = instance_known(c, a->instance, err);
    if (rc == 0)
        rc = duro__pg_query(c, SQL_KV_LIST, &r, err, "t", a->instance);
    if (rc != 0)
        return rc;
    rows = PQntuples(r);
    if (rows > 0 && (a->entries = calloc((size_t)rows, sizeof(*a->entries))) == NULL)
        rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (values)");
    for (int i = 0; rc == 0 && i < rows; i++) {
        a->n++;
        a->entries[i].version = (uint64_t)duro__pg_get_i64(r, i, 2);
        rc = duro__pg_get_str(r, i, 0, &a->entries[i].key, err);
        if (rc == 0)
            rc = duro__pg_get_bytes(r, i, 1, &a->entries[i].value, err);
    }
    PQclear(r);
    return rc;
}

int duro__pg_list_values(duro_provider *p, const char *instance, duro_kv_entry **entries,
                         size_t *n, duro_error *err)
{
    duro_pg *s = (duro_pg *)p;
    list_arg a = { instance, NULL, 0 };
    int rc;

    if (entries == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "list_values: entries and n are required");
    *entries = NULL;
    *n = 0;
    rc = duro_provider_check_id(instance, "instance id", err);
    if (rc == 0)
        rc = duro__pg_run(&s->pool, DURO__PG_READ, list_txn, &a, err);
    if (rc != 0) {
        duro_kv_entries_free(a.entries, a.n);
        return rc;
    }
    *entries = a.entries;
    *n = a.n;
    return 0;
}
