/*
 * kv.c — durable values of the SQLite provider (DURO_CAP_KV, ops version 5): the changes a
 * commit carries, applied inside ack_orch's transaction, and the two reads (get_value,
 * list_values).
 *
 * Values live in table kv (instance_id, key, value, version), one row per key, beside the
 * instance row, never per execution: a new execution and prune leave them alone, deleting
 * the instance deletes them (manage.c). instances.kv_version counts every change an
 * instance's commits made; a SET stamps its key with the new count.
 */
#include "sqlite-internal.h"

#include <stdlib.h>
#include <string.h>

static const char SQL_KV_BUMP[] =
    "UPDATE instances SET kv_version = kv_version + 1 WHERE instance_id = ?1";
static const char SQL_KV_SET[] =
    "INSERT INTO kv (instance_id, key, value, version)"
    " VALUES (?1, ?2, ?3, (SELECT kv_version FROM instances WHERE instance_id = ?1))"
    " ON CONFLICT (instance_id, key) DO UPDATE SET value = excluded.value,"
    " version = excluded.version";
static const char SQL_KV_CLEAR[] = "DELETE FROM kv WHERE instance_id = ?1 AND key = ?2";
static const char SQL_KV_CLEAR_ALL[] = "DELETE FROM kv WHERE instance_id = ?1";
static const char SQL_KV_COUNT[] = "SELECT COUNT(*) FROM kv WHERE instance_id = ?1";
static const char SQL_KV_GET[] =
    "SELECT value, version FROM kv WHERE instance_id = ?1 AND key = ?2";
static const char SQL_KV_LIST[] =
    "SELECT key, value, version FROM kv WHERE instance_id = ?1 ORDER BY key";
static const char SQL_KV_INSTANCE[] = "SELECT 1 FROM instances WHERE instance_id = ?1";

int duro__sq_apply_kv(duro__sq_conn *c, const char *instance, const duro_orch_commit *cm,
                      duro_error *err)
{
    int64_t keys = 0;
    int rc = 0;

    for (size_t i = 0; rc >= 0 && i < cm->n_kv; i++) {
        const duro_kv_change *k = &cm->kv[i];

        rc = duro__sq_exec(c, SQL_KV_BUMP, err, "t", instance);
        if (rc >= 0 && k->op == DURO_KV_SET)
            rc = duro__sq_exec(c, SQL_KV_SET, err, "ttt", instance, k->key, k->value);
        else if (rc >= 0 && k->op == DURO_KV_CLEAR)
            rc = duro__sq_exec(c, SQL_KV_CLEAR, err, "tt", instance, k->key);
        else if (rc >= 0)
            rc = duro__sq_exec(c, SQL_KV_CLEAR_ALL, err, "t", instance);
    }
    if (rc >= 0 && cm->n_kv > 0)
        rc = duro__sq_int(c, SQL_KV_COUNT, 0, &keys, err, "t", instance);
    if (rc >= 0 && keys > DURO_MAX_VALUES)
        return duro_error_set(err, DURO_ETOOBIG, 0,
                              "ack_orch: %s would hold %lld durable values (limit %d)",
                              instance, (long long)keys, DURO_MAX_VALUES);
    return rc < 0 ? rc : 0;
}

/* DURO_ENOTFOUND naming `instance` when it has no row, else 0 (or a read error). */
static int instance_known(duro__sq_conn *c, const char *instance, duro_error *err)
{
    int64_t one;
    int rc = duro__sq_int(c, SQL_KV_INSTANCE, 0, &one, err, "t", instance);

    if (rc == 0)
        return duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s not found", instance);
    return rc < 0 ? rc : 0;
}

int duro__sq_get_value(duro_provider *p, const char *instance, const char *key, char **value,
                       uint64_t *version, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    sqlite3_stmt *st;
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
        rc = duro__sq_begin_read(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = duro__sq_query(c, SQL_KV_GET, &st, err, "tt", instance, key);
    if (rc == 0) {
        rc = duro__sq_step(c, st, err);
        if (rc == 1) {
            if (version != NULL)
                *version = (uint64_t)sqlite3_column_int64(st, 1);
            rc = duro__sq_col_strdup(st, 0, value, err);
        }
        duro__sq_reset(st);
    }
    if (rc == 0 && *value == NULL) {
        rc = instance_known(c, instance, err);
        if (rc == 0)
            rc = duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s has no value \"%s\"",
                                instance, key);
    }
    duro__sq_end_read(&s->pool, c);
    return rc;
}

int duro__sq_list_values(duro_provider *p, const char *instance, duro_kv_entry **entries,
                         size_t *n, duro_error *err)
{
    duro_sqlite *s = (duro_sqlite *)p;
    duro__sq_conn *c;
    sqlite3_stmt *st;
    duro_kv_entry *v = NULL;
    size_t len = 0, cap = 0;
    int rc;

    if (entries == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "list_values: entries and n are required");
    *entries = NULL;
    *n = 0;
    rc = duro_provider_check_id(instance, "instance id", err);
    if (rc == 0)
        rc = duro__sq_begin_read(&s->pool, &c, err);
    if (rc != 0)
        return rc;
    rc = instance_known(c, instance, err);
    if (rc == 0)
        rc = duro__sq_query(c, SQL_KV_LIST, &st, err, "t", instance);
    if (rc == 0) {
        while ((rc = duro__sq_step(c, st, err)) == 1) {
            if (len == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                duro_kv_entry *nv = realloc(v, ncap * sizeof(*nv));

                if (nv == NULL) {
                    rc = duro_error_set(err, DURO_ENOMEM, 0, "out of memory (values)");
                    break;
                }
                v = nv;
                cap = ncap;
            }
            memset(&v[len], 0, sizeof(v[len]));
            v[len].version = (uint64_t)sqlite3_column_int64(st, 2);
            len++;
            rc = duro__sq_col_strdup(st, 0, &v[len - 1].key, err);
            if (rc == 0)
                rc = duro__sq_col_strdup(st, 1, &v[len - 1].value, err);
            if (rc != 0)
                break;
        }
        duro__sq_reset(st);
    }
    duro__sq_end_read(&s->pool, c);
    if (rc < 0) {
        duro_kv_entries_free(v, len);
        return rc;
    }
    *entries = v;
    *n = len;
    return 0;
}
