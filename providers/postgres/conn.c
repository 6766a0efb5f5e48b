/*
 * conn.c — one libpq connection of the PostgreSQL provider (see conn.h): connect and set
 * up the session, prepare statements lazily, bind parameters, read results, map errors.
 */
#include "conn.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 16

static const char SQL_SETUP[] =
    "SELECT set_config('search_path', quote_ident($1::text), false),"
    " set_config('statement_timeout', $2::text, false),"
    " set_config('lock_timeout', $3::text, false),"
    " set_config('synchronous_commit', $4::text, false),"
    " set_config('bytea_output', 'hex', false),"
    " set_config('client_min_messages', 'warning', false),"
    " set_config('application_name', 'duro:' || $1::text, false)";
/* The dead-client timeouts (dead_client_timeout_ms); tcp_user_timeout exists from
 * PostgreSQL 12 and is ignored on unix sockets. */
static const char SQL_DEAD_CLIENT[] =
    "SELECT set_config('idle_in_transaction_session_timeout', $1::text, false)";
static const char SQL_DEAD_CLIENT_TCP[] =
    "SELECT set_config('idle_in_transaction_session_timeout', $1::text, false),"
    " set_config('tcp_user_timeout', $1::text, false)";
/* A read-only session (read_only option): every transaction it begins is READ ONLY. */
static const char SQL_READ_ONLY[] =
    "SELECT set_config('default_transaction_read_only', 'on', false)";

/* A message from the server or libpq, without its trailing newline. */
static void message_of(duro__pg_conn *c, PGresult *res, char *buf, size_t size)
{
    const char *m = res != NULL ? PQresultErrorMessage(res) : NULL;
    size_t n;

    if (m == NULL || *m == '\0')
        m = c->pg != NULL ? PQerrorMessage(c->pg) : "no connection";
    snprintf(buf, size, "%s", m);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
}

int duro__pg_error(duro__pg_conn *c, PGresult *res, const char *what, duro_error *err)
{
    const char *st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char msg[200];
    int code = DURO_EIO, retryable = 0;

    message_of(c, res, msg, sizeof msg);
    c->retry = 0;
    if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK || st == NULL) {
        /* no SQLSTATE: libpq lost the server (or never had it) */
        c->broken = 1;
        code = DURO_EIO;
        retryable = 1;
    } else if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0) {
        c->retry = 1;
        code = DURO_EBUSY;
        retryable = 1;
    } else if (strcmp(st, "57014") == 0 || strcmp(st, "55P03") == 0 ||
               strncmp(st, "53", 2) == 0) {
        code = DURO_EBUSY;
        retryable = 1;
    } else if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0) {
        c->broken = 1;
        code = DURO_EIO;
        retryable = 1;
    } else if (strncmp(st, "23", 2) == 0) {
        code = DURO_ECONSTRAINT;
    } else if (strncmp(st, "22", 2) == 0) {
        code = DURO_EINVAL;
    } else if (strcmp(st, "XX001") == 0 || strcmp(st, "XX002") == 0) {
        code = DURO_ECORRUPT;
    } else if (strcmp(st, "25006") == 0) {
        /* read_only_sql_transaction: a write through a read-only provider (the server's
         * "cannot execute INSERT in a read-only transaction"); it rolled back, and trying
         * again cannot help */
        code = DURO_EIO;
        retryable = 0;
    } else if (strcmp(st, "25P02") == 0) {
        /* statements after a failed one in the same transaction */
        code = DURO_EIO;
    }
    return duro_error_set(err, code, retryable, "%s: %s%s%s", what, msg, st ? " SQLSTATE " : "",
                          st ? st : "");
}

void duro__pg_conn_close(duro__pg_conn *c)
{
    if (c->pg != NULL)
        PQfinish(c->pg);
    c->pg = NULL;
    c->n_keys = 0;
    c->broken = 0;
    c->retry = 0;
    c->in_commit = 0;
    c->pending_begin = NULL;
}

int duro__pg_conn_open(duro__pg_conn *c, const duro__pg_conn_settings *set, duro_error *err)
{
    char st[24], lt[24];
    const char *vals[4];
    PGresult *res;
    int rc;

    duro__pg_conn_close(c);
    c->set = set;
    c->pg = PQconnectdb(set->conninfo);
    if (c->pg == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (connection)");
    if (PQstatus(c->pg) != CONNECTION_OK) {
        char msg[200];
        message_of(c, NULL, msg, sizeof msg);
        duro__pg_conn_close(c);
        return duro_error_set(err, DURO_EIO, 1, "cannot connect to PostgreSQL: %s", msg);
    }
    snprintf(st, sizeof st, "%d", set->statement_timeout_ms);
    snprintf(lt, sizeof lt, "%d", set->lock_timeout_ms);
    vals[0] = set->schema;
    vals[1] = st;
    vals[2] = lt;
    vals[3] = set->synchronous_commit ? "on" : "off";
    res = PQexecParams(c->pg, SQL_SETUP, 4, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && set->dead_client_timeout_ms > 0) {
        PQclear(res);
        snprintf(st, sizeof st, "%d", set->dead_client_timeout_ms);
        vals[0] = st;
        res = PQexecParams(c->pg,
                           PQserverVersion(c->pg) >= 120000 ? SQL_DEAD_CLIENT_TCP : SQL_DEAD_CLIENT,
                           1, NULL, vals, NULL, NULL, 0);
    }
    if (PQresultStatus(res) == PGRES_TUPLES_OK && set->read_only) {
        PQclear(res);
        res = PQexec(c->pg, SQL_READ_ONLY);
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = duro__pg_error(c, res, "session setup", err);
        PQclear(res);
        duro__pg_conn_close(c);
        return rc;
    }
    PQclear(res);
    return 0;
}

static PGresult *pipelined_begin(duro__pg_conn *c, const char *name, const char *sql, int n,
                                 const char *const *vals, const int *lens, const int *fmts);

int duro__pg_begin(duro__pg_conn *c, const char *begin_sql)
{
    c->pending_begin = begin_sql;
    return 0;
}

int duro__pg_simple(duro__pg_conn *c, const char *sql, duro_error *err)
{
    PGresult *res;
    int rc = 0;

    if (c->pending_begin != NULL && (strcmp(sql, "COMMIT") == 0 || strcmp(sql, "ROLLBACK") == 0)) {
        c->pending_begin = NULL; /* the transaction was never sent */
        return 0;
    }
    res = c->pending_begin != NULL ? pipelined_begin(c, NULL, sql, 0, NULL, NULL, NULL)
                                   : PQexec(c->pg, sql);

    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = duro__pg_error(c, res, sql, err);
    PQclear(res);
    return rc;
}

/* The statement name of `sql` on `c`, preparing it first when needed. */
static int prepared_name(duro__pg_conn *c, const char *sql, char name[16], duro_error *err)
{
    size_t i;

    for (i = 0; i < c->n_keys; i++)
        if (c->keys[i] == sql)
            break;
    snprintf(name, 16, "d%zu", i);
    if (i < c->n_keys)
        return 0;
    if (i >= DURO__PG_MAX_STMTS)
        return duro_error_set(err, DURO_EINTERNAL, 0, "too many prepared statements");
    PGresult *res = PQprepare(c->pg, name, sql, 0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        int rc = duro__pg_error(c, res, "prepare", err);
        PQclear(res);
        return rc;
    }
    PQclear(res);
    c->keys[c->n_keys++] = sql;
    return 0;
}

/* Read the result of one pipelined query and the NULL that ends it: the result, or NULL when
 * the connection failed (libpq reports no result then). */
static PGresult *pipeline_result(duro__pg_conn *c)
{
    PGresult *res = PQgetResult(c->pg);
    PGresult *extra;

    if (res == NULL)
        return NULL;
    while ((extra = PQgetResult(c->pg)) != NULL) { /* only after a lost connection */
        PQclear(extra);
        if (PQstatus(c->pg) != CONNECTION_OK)
            break;
    }
    return res;
}

/* Send c->pending_begin and then the statement (prepared `name`, or `sql` unprepared) in one
 * pipeline, and return the statement's result; a failed BEGIN's result instead when BEGIN
 * failed. NULL when the connection failed. */
static PGresult *pipelined_begin(duro__pg_conn *c, const char *name, const char *sql, int n,
                                 const char *const *vals, const int *lens, const int *fmts)
{
    const char *begin = c->pending_begin;
    PGresult *begin_res = NULL, *res = NULL, *sync;
    int sent;

    c->pending_begin = NULL;
    if (PQenterPipelineMode(c->pg) != 1)
        return NULL;
    sent = PQsendQueryParams(c->pg, begin, 0, NULL, NULL, NULL, NULL, 0) == 1 &&
           (name != NULL ? PQsendQueryPrepared(c->pg, name, n, vals, lens, fmts, 0)
                         : PQsendQueryParams(c->pg, sql, n, NULL, vals, lens, fmts, 0)) == 1 &&
           PQpipelineSync(c->pg) == 1;
    if (sent && (begin_res = pipeline_result(c)) != NULL)
        res = pipeline_result(c);
    sync = res != NULL ? PQgetResult(c->pg) : NULL;
    if (sync == NULL || PQresultStatus(sync) != PGRES_PIPELINE_SYNC ||
        PQexitPipelineMode(c->pg) != 1) {
        PQclear(sync);
        PQclear(begin_res);
        PQclear(res);
        c->broken = 1; /* the connection is out of step: reconnect before the next use */
        return NULL;
    }
    PQclear(sync);
    if (PQresultStatus(begin_res) != PGRES_COMMAND_OK) {
        PQclear(res);
        return begin_res;
    }
    PQclear(begin_res);
    return res;
}

/* Run `sql` with the parameters of `fmt`: as a prepared statement when `prepare`, else sent
 * with its parameters and planned for them on the spot. */
static int vquery(duro__pg_conn *c, const char *sql, int prepare, PGresult **out,
                  duro_error *err, const char *fmt, va_list ap)
{
    char num[MAX_PARAMS][24];
    const char *vals[MAX_PARAMS];
    int lens[MAX_PARAMS], fmts[MAX_PARAMS];
    char name[16];
    int n = 0, rc;
    PGresult *res;
    ExecStatusType est;

    *out = NULL;
    for (const char *f = fmt; *f != '\0'; f++, n++) {
        if (n >= MAX_PARAMS)
            return duro_error_set(err, DURO_EINTERNAL, 0, "too many parameters");
        lens[n] = 0;
        fmts[n] = 0;
        switch (*f) {
        case 't':
            vals[n] = va_arg(ap, const char *);
            break;
        case 'b':
            vals[n] = va_arg(ap, const char *);
            fmts[n] = 1;
            lens[n] = vals[n] != NULL ? (int)strlen(vals[n]) : 0;
            break;
        case 'i':
            snprintf(num[n], sizeof num[n], "%" PRId64, va_arg(ap, int64_t));
            vals[n] = num[n];
            break;
        case 'u': {
            uint64_t u = va_arg(ap, uint64_t);
            /* stored as BIGINT: values beyond INT64_MAX keep their bits */
            snprintf(num[n], sizeof num[n], "%" PRId64, (int64_t)u);
            vals[n] = num[n];
            break;
        }
        case 'd':
            snprintf(num[n], sizeof num[n], "%d", va_arg(ap, int));
            vals[n] = num[n];
            break;
        default:
            return duro_error_set(err, DURO_EINTERNAL, 0, "bad parameter format '%c'", *f);
        }
    }
    if (c->pg == NULL || c->broken)
        return duro_error_set(err, DURO_EIO, 1, "connection lost");
    if (prepare) {
        rc = prepared_name(c, sql, name, err);
        if (rc != 0)
            return rc;
        res = c->pending_begin != NULL
                  ? pipelined_begin(c, name, NULL, n, vals, lens, fmts)
                  : PQexecPrepared(c->pg, name, n, vals, lens, fmts, 0);
    } else {
        res = c->pending_begin != NULL
                  ? pipelined_begin(c, NULL, sql, n, vals, lens, fmts)
                  : PQexecParams(c->pg, sql, n, NULL, vals, lens, fmts, 0);
    }
    est = PQresultStatus(res);
    if (est != PGRES_TUPLES_OK && est != PGRES_COMMAND_OK) {
        rc = duro__pg_error(c, res, "query", err);
        PQclear(res);
        return rc;
    }
    *out = res;
    return 0;
}

int duro__pg_query(duro__pg_conn *c, const char *sql, PGresult **out, duro_error *err,
                   const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vquery(c, sql, 1, out, err, fmt, ap);
    va_end(ap);
    return rc;
}

int duro__pg_query_unprepared(duro__pg_conn *c, const char *sql, PGresult **out,
                              duro_error *err, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vquery(c, sql, 0, out, err, fmt, ap);
    va_end(ap);
    return rc;
}

int duro__pg_exec(duro__pg_conn *c, const char *sql, duro_error *err, const char *fmt, ...)
{
    PGresult *res;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vquery(c, sql, 1, &res, err, fmt, ap);
    va_end(ap);
    if (rc != 0)
        return rc;
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        rc = PQntuples(res);
    else
        rc = atoi(PQcmdTuples(res));
    PQclear(res);
    return rc;
}

int duro__pg_int(duro__pg_conn *c, const char *sql, int64_t dflt, int64_t *out,
                 duro_error *err, const char *fmt, ...)
{
    PGresult *res;
    va_list ap;
    int rc;

    *out = dflt;
    va_start(ap, fmt);
    rc = vquery(c, sql, 1, &res, err, fmt, ap);
    va_end(ap);
    if (rc != 0)
        return rc;
    rc = PQntuples(res) > 0;
    if (rc && !PQgetisnull(res, 0, 0))
        *out = duro__pg_get_i64(res, 0, 0);
    PQclear(res);
    return rc;
}

int64_t duro__pg_get_i64(const PGresult *r, int row, int col)
{
    const char *v = PQgetvalue(r, row, col);

    if (v == NULL || *v == '\0')
        return 0;
    if (*v == 't')
        return 1;
    if (*v == 'f')
        return 0;
    return strtoll(v, NULL, 10);
}

int duro__pg_is_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col);
}

int duro__pg_get_str(const PGresult *r, int row, int col, char **out, duro_error *err)
{
    *out = NULL;
    if (PQgetisnull(r, row, col))
        return 0;
    *out = strdup(PQgetvalue(r, row, col));
    return *out != NULL ? 0 : duro_error_set(err, DURO_ENOMEM, 0, "out of memory (column)");
}

static int hexval(char h)
{
    if (h >= '0' && h <= '9')
        return h - '0';
    if (h >= 'a' && h <= 'f')
        return h - 'a' + 10;
    if (h >= 'A' && h <= 'F')
        return h - 'A' + 10;
    return -1;
}

int duro__pg_get_bytes(const PGresult *r, int row, int col, char **out, duro_error *err)
{
    const char *v;
    size_t len, n;
    char *s;

    *out = NULL;
    if (PQgetisnull(r, row, col))
        return 0;
    v = PQgetvalue(r, row, col);
    len = (size_t)PQgetlength(r, row, col);
    if (len < 2 || v[0] != '\\' || v[1] != 'x' || (len & 1) != 0)
        return duro_error_set(err, DURO_ECORRUPT, 0, "bytea column is not in hex format");
    n = (len - 2) / 2;
    s = malloc(n + 1);
    if (s == NULL)
        return duro_error_set(err, DURO_ENOMEM, 0, "out of memory (payload)");
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
        if (hi < 0 || lo < 0 || (hi | lo) == 0) {
            free(s);
            return duro_error_set(err, DURO_ECORRUPT, 0,
                                  hi < 0 || lo < 0 ? "bytea column is not hex"
                                                   : "stored bytes are not text (NUL byte)");
        }
        s[i] = (char)(hi << 4 | lo);
    }
    s[n] = '\0';
    *out = s;
    return 0;
}
