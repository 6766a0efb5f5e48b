/*
 * stmt.c — one SQLite connection: opening it (WAL and synchronous level for files), its
 * cache of prepared statements, the bind/step/read helpers, and the mapping of SQLite
 * result codes to DURO_E* errors, and the duro_route_ok() SQL function of filtered fetches.
 * The bottom layer of the provider (see stmt.h).
 */
#include "stmt.h"

#include "duro-provider.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_INITIAL 64

/* ---- Errors ------------------------------------------------------------------------------ */

int duro__sq_error(sqlite3 *db, int rc, const char *what, duro_error *err)
{
    int code = DURO_EIO;
    int retryable = 0;

    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = DURO_EBUSY;
        retryable = 1;
        break;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
        code = DURO_EIO;
        retryable = 1;
        break;
    case SQLITE_READONLY:
        return duro_error_set(err, DURO_EIO, 0, "%s: %s (read-only store: duro needs write "
                              "access to the file and to its directory)", what,
                              db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    case SQLITE_CONSTRAINT:
        code = DURO_ECONSTRAINT;
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        code = DURO_ECORRUPT;
        break;
    case SQLITE_NOMEM:
        code = DURO_ENOMEM;
        break;
    default:
        break;
    }
    return duro_error_set(err, code, retryable, "%s: %s", what,
                          db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* ---- Statement cache --------------------------------------------------------------------- */

static size_t cache_slot(const duro__sq_cached *cache, size_t cap, const char *key)
{
    size_t i = (size_t)(((uintptr_t)key >> 3) * UINT64_C(0x9E3779B97F4A7C15)) & (cap - 1);

    while (cache[i].key != NULL && cache[i].key != key)
        i = (i + 1) & (cap - 1);
    return i;
}

static int cache_grow(duro__sq_conn *c, duro_error *err)
{
    size_t cap = c->cache_cap ? c->cache_cap * 2 : CACHE_INITIAL;
    duro__sq_cached *nc = calloc(cap, sizeof(*nc));

    if (nc == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (statement cache)");
    for (size_t i = 0; i < c->cache_cap; i++) {
        if (c->cache[i].key != NULL)
            nc[cache_slot(nc, cap, c->cache[i].key)] = c->cache[i];
    }
    free(c->cache);
    c->cache = nc;
    c->cache_cap = cap;
    return 0;
}

static int stmt_get(duro__sq_conn *c, const char *sql, sqlite3_stmt **out, duro_error *err)
{
    size_t i;
    int rc;

    if (c->cache_cap != 0) {
        i = cache_slot(c->cache, c->cache_cap, sql);
        if (c->cache[i].key != NULL) {
            *out = c->cache[i].stmt;
            return 0;
        }
    }
    if ((c->cache_len + 1) * 2 > c->cache_cap && (rc = cache_grow(c, err)) != 0)
        return rc;
    rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if ((rc & 0xff) == SQLITE_ERROR) /* the provider's own SQL: the schema does not fit it */
        return duro_error_set(err, DURO_ECORRUPT, 0, "damaged duro store: %s",
                              sqlite3_errmsg(c->db));
    if (rc != SQLITE_OK)
        return duro__sq_error(c->db, rc, "prepare", err);
    i = cache_slot(c->cache, c->cache_cap, sql);
    c->cache[i].key = sql;
    c->cache[i].stmt = *out;
    c->cache_len++;
    return 0;
}

/* Bind the arguments of `fmt` to parameters ?first, ?first+1, ... of `st`. */
static int bind_args(duro__sq_conn *c, sqlite3_stmt *st, int first, duro_error *err,
                     const char *fmt, va_list ap)
{
    for (int k = 0; fmt[k] != '\0'; k++) {
        int i = first + k;
        int rc;
        const char *s;

        switch (fmt[k]) {
        case 't':
            s = va_arg(ap, const char *);
            rc = s != NULL ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)
                           : sqlite3_bind_null(st, i);
            break;
        case 'i':
            rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
            break;
        case 'u':
            rc = sqlite3_bind_int64(st, i, (sqlite3_int64)va_arg(ap, uint64_t));
            break;
        case 'd':
            rc = sqlite3_bind_int(st, i, va_arg(ap, int));
            break;
        case 'f': /* a version filter, for duro_route_ok() */
            rc = sqlite3_bind_pointer(st, i, va_arg(ap, void *), DURO__SQ_FILTER_TYPE, NULL);
            break;
        default:
            return duro_error_set(err, DURO_EINTERNAL, 0, "bad bind format '%c'", fmt[k]);
        }
        if (rc != SQLITE_OK)
            return duro__sq_error(c->db, rc, "bind", err);
    }
    return 0;
}

static int query_v(duro__sq_conn *c, const char *sql, sqlite3_stmt **out, duro_error *err,
                   const char *fmt, va_list ap)
{
    sqlite3_stmt *st;
    int rc = stmt_get(c, sql, &st, err);

    if (rc != 0)
        return rc;
    rc = bind_args(c, st, 1, err, fmt, ap);
    if (rc != 0) {
        duro__sq_reset(st);
        return rc;
    }
    *out = st;
    return 0;
}

int duro__sq_query(duro__sq_conn *c, const char *sql, sqlite3_stmt **out, duro_error *err,
                   const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = query_v(c, sql, out, err, fmt, ap);
    va_end(ap);
    return rc;
}

int duro__sq_bind_from(duro__sq_conn *c, sqlite3_stmt *st, int first, duro_error *err,
                       const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = bind_args(c, st, first, err, fmt, ap);
    va_end(ap);
    return rc;
}

int duro__sq_step(duro__sq_conn *c, sqlite3_stmt *st, duro_error *err)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return duro__sq_error(c->db, rc, "step", err);
}

void duro__sq_reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int duro__sq_exec(duro__sq_conn *c, const char *sql, duro_error *err, const char *fmt, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = query_v(c, sql, &st, err, fmt, ap);
    va_end(ap);
    if (rc != 0)
        return rc;
    while ((rc = duro__sq_step(c, st, err)) == 1)
        ;
    duro__sq_reset(st);
    return rc < 0 ? rc : sqlite3_changes(c->db);
}

int duro__sq_int(duro__sq_conn *c, const char *sql, int64_t dflt, int64_t *out,
                 duro_error *err, const char *fmt, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    int rc;

    *out = dflt;
    va_start(ap, fmt);
    rc = query_v(c, sql, &st, err, fmt, ap);
    va_end(ap);
    if (rc != 0)
        return rc;
    rc = duro__sq_step(c, st, err);
    if (rc == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(st, 0);
    duro__sq_reset(st);
    return rc;
}

int duro__sq_col_strdup(sqlite3_stmt *st, int col, char **out, duro_error *err)
{
    const unsigned char *t;
    int len;

    *out = NULL;
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return 0;
    t = sqlite3_column_text(st, col);
    len = sqlite3_column_bytes(st, col);
    if (t == NULL || (*out = malloc((size_t)len + 1)) == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (reading a column)");
    memcpy(*out, t, (size_t)len);
    (*out)[len] = '\0';
    return 0;
}

/* ---- Opening and closing ---------------------------------------------------------------- */

void duro__sq_conn_close(duro__sq_conn *c)
{
    for (size_t i = 0; i < c->cache_cap; i++) {
        if (c->cache[i].key != NULL)
            sqlite3_finalize(c->cache[i].stmt);
    }
    free(c->cache);
    c->cache = NULL;
    c->cache_cap = c->cache_len = 0;
    if (c->db != NULL)
        sqlite3_close(c->db);
    c->db = NULL;
}

/* Run a pragma that returns one text row and copy it into buf (may be NULL). */
static int pragma(duro__sq_conn *c, const char *sql, char *buf, size_t size, duro_error *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);

    if (rc != SQLITE_OK)
        return duro__sq_error(c->db, rc, sql, err);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (buf != NULL && size > 0) {
            snprintf(buf, size, "%s", t != NULL ? (const char *)t : "");
            buf = NULL;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return duro__sq_error(c->db, rc, sql, err);
    return 0;
}

/* ---- duro_route_ok(): the route test of fetch_orch_filtered (orch.c) ---------------------- */

/* Is `name` the text of the SQL value `v`? */
static int text_is(sqlite3_value *v, const char *name)
{
    const unsigned char *t = sqlite3_value_text(v);
    return t != NULL && strcmp((const char *)t, name) == 0;
}

static void route_ok(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const duro_version_filter *f = sqlite3_value_pointer(argv[0], DURO__SQ_FILTER_TYPE);
    int pair;

    for (pair = 1; pair + 1 < argc; pair += 2)
        if (sqlite3_value_type(argv[pair]) != SQLITE_NULL)
            break;
    if (f == NULL || (f->n > 0 && pair + 1 >= argc)) { /* no filter, or no route: any */
        sqlite3_result_int(ctx, 1);
        return;
    }
    for (size_t i = 0; i < f->n; i++)
        if (text_is(argv[pair], f->refs[i].orch_name) &&
            (sqlite3_value_type(argv[pair + 1]) == SQLITE_NULL ||
             text_is(argv[pair + 1], f->refs[i].orch_version))) {
            sqlite3_result_int(ctx, 1);
            return;
        }
    sqlite3_result_int(ctx, 0);
}

int duro__sq_register_route_ok(sqlite3 *db)
{
    return sqlite3_create_function(db, "duro_route_ok", 7, SQLITE_UTF8, NULL, route_ok, NULL,
                                   NULL);
}

int duro__sq_conn_open(duro__sq_conn *c, const duro__sq_conn_settings *set, duro_error *err)
{
    int rc = sqlite3_open_v2(set->path, &c->db,
                             (set->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                                 SQLITE_OPEN_NOMUTEX,
                             NULL);

    if (rc != SQLITE_OK) {
        if (c->db == NULL)
            return duro_error_set(err, DURO_ENOMEM, 0, "out of memory opening %s", set->path);
        rc = duro__sq_error(c->db, rc, set->path, err);
        duro__sq_conn_close(c);
        return rc;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, set->busy_timeout_ms);
    rc = duro__sq_register_route_ok(c->db);
    if (rc != SQLITE_OK) {
        rc = duro__sq_error(c->db, rc, "registering duro_route_ok", err);
        duro__sq_conn_close(c);
        return rc;
    }
    /* SQLite fell back to reading only */
    if (!set->read_only && sqlite3_db_readonly(c->db, "main") == 1) {
        duro__sq_conn_close(c);
        return duro_error_set(err, DURO_EIO, 0, "%s is read-only: duro needs write access to "
                              "the file and to its directory", set->path);
    }
    return 0;
}

int duro__sq_conn_setup(duro__sq_conn *c, const duro__sq_conn_settings *set, duro_error *err)
{
    char mode[32];
    int rc;

    if (set->memory || set->read_only)
        return 0;
    rc = pragma(c, "PRAGMA journal_mode=WAL", mode, sizeof(mode), err);
    if (rc == 0 && strcmp(mode, "wal") != 0)
        rc = duro_error_set(err, DURO_EIO, 0, "%s: cannot enable WAL (journal_mode=%s)",
                            set->path, mode);
    if (rc == 0)
        rc = pragma(c, set->synchronous_off      ? "PRAGMA synchronous=OFF"
                       : set->synchronous_normal ? "PRAGMA synchronous=NORMAL"
                                                 : "PRAGMA synchronous=FULL",
                    NULL, 0, err);
    if (rc == 0)
        rc = pragma(c, "PRAGMA journal_size_limit=" DURO__SQ_WAL_LIMIT_TEXT, NULL, 0, err);
    return rc;
}
