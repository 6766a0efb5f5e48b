/*
 * duro.c — the `duro` command: inspect, steer and clean up the instances of a duro store from
 * the shell, over the client management API of duro.h (list, show, history, tree, raise,
 * cancel, terminate, suspend, resume, delete, prune, stats, values), on a SQLite file (--sqlite) or a
 * PostgreSQL schema (--postgres, --pg-schema). Reads open the store read-only; writes open it
 * read-write. Every command is one row of `commands` below, with its option table; --help
 * text is made from those tables, so it lists exactly what the parser accepts. Exit status:
 * 0 success, 1 the operation failed (message on stderr), 2 usage error.
 */
#define _GNU_SOURCE /* asprintf, timegm */

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_CONFIG_H
#include "config.h" /* DURO_HAVE_POSTGRES */
#endif
#ifdef DURO_HAVE_POSTGRES
#include "duro-postgres.h"
#endif
#include "duro-sqlite.h"
#include "duro.h"

#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* The global options before COMMAND, as the usage lines show them. */
#define STORE_SYNOPSIS "[--sqlite FILE | --postgres CONNINFO [--pg-schema NAME]]"

/* ---- Options --------------------------------------------------------------------------- */

enum opt_id {
    O_JSON, O_STATE, O_NAME, O_PREFIX, O_CREATED_AFTER, O_CREATED_BEFORE, O_COMPLETED_AFTER,
    O_COMPLETED_BEFORE, O_LIMIT, O_CURSOR, O_ALL, O_EXECUTION, O_FORCE, O_BULK, O_KEEP,
    O_HELP, N_OPTS
};

typedef struct opt_def {
    const char *name;
    enum opt_id id;
    const char *arg;  /* NULL: a flag */
    const char *help;
} opt_def;

static const opt_def opt_defs[] = {
    {"--json", O_JSON, NULL, "print JSON instead of a table"},
    {"--state", O_STATE, "STATE",
     "only instances in STATE: running, completed, failed, continued-as-new"},
    {"--name", O_NAME, "NAME", "only instances of orchestration NAME"},
    {"--prefix", O_PREFIX, "TEXT", "only instance ids that start with TEXT"},
    {"--created-after", O_CREATED_AFTER, "TIME", "created at or after TIME"},
    {"--created-before", O_CREATED_BEFORE, "TIME", "created strictly before TIME"},
    {"--completed-after", O_COMPLETED_AFTER, "TIME",
     "current execution ended at or after TIME (leaves out running ones)"},
    {"--completed-before", O_COMPLETED_BEFORE, "TIME",
     "current execution ended strictly before TIME"},
    {"--limit", O_LIMIT, "N", "page size, 1-1000 (100)"},
    {"--cursor", O_CURSOR, "CURSOR", "continue after the page that printed CURSOR"},
    {"--all", O_ALL, NULL, "page through the whole listing"},
    {"--execution", O_EXECUTION, "N", "execution number (default: the current one)"},
    {"--force", O_FORCE, NULL, "delete even when an instance of the tree is running"},
    {"--bulk", O_BULK, NULL,
     "delete every completed or failed root the filters select, instead of one ID"},
    {"--keep", O_KEEP, "N", "executions to keep, the current one included (required)"},
    {"--help", O_HELP, NULL, "print this help and exit"},
};

#define FILTERS ((1u << O_STATE) | (1u << O_NAME) | (1u << O_PREFIX) | (1u << O_CREATED_AFTER) | \
                 (1u << O_CREATED_BEFORE) | (1u << O_COMPLETED_AFTER) | \
                 (1u << O_COMPLETED_BEFORE))

/* What one command's parser found. */
typedef struct cmd_args {
    const char *value[N_OPTS]; /* option values; "" for a flag that is set; NULL: absent */
    const char *pos[3];        /* positional arguments */
    int n_pos;
    duro_list_options list;    /* filters (and paging) from the options */
    uint64_t execution;
    uint64_t keep;
} cmd_args;

typedef struct cmd_def cmd_def;
typedef int (*cmd_fn)(duro_client *c, const cmd_args *a);

/* One command: its name, what it does, positional arguments (minimum and maximum count and
 * their synopsis), options (bit set of opt_id), whether it writes, and its function. */
struct cmd_def {
    const char *name;
    const char *synopsis;
    const char *summary;
    int min_pos, max_pos;
    unsigned opts;
    int writes;
    cmd_fn fn;
};

/* ---- Output helpers -------------------------------------------------------------------- */

static int fail(const duro_error *err, int rc, const char *what)
{
    fprintf(stderr, "duro: %s: %s\n", what,
            err->message[0] != '\0' ? err->message : duro_strerror(rc));
    return EXIT_FAILED;
}

/* ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" in `buf` (at least 32 bytes); "-" for
 * 0. */
static const char *fmt_time(int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    size_t n;

    if (ms <= 0 || gmtime_r(&secs, &tm) == NULL ||
        (n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    snprintf(buf + n, size - n, ".%03dZ", (int)(ms % 1000));
    return buf;
}

static json_t *json_time(int64_t ms)
{
    char buf[40];

    return ms > 0 ? json_string(fmt_time(ms, buf, sizeof buf)) : json_null();
}

static json_t *json_text(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/* Print `v` (stolen) and a newline. Returns the exit status. */
static int print_json(json_t *v)
{
    char *s = v != NULL ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

    json_decref(v);
    if (s == NULL) {
        fprintf(stderr, "duro: out of memory writing JSON\n");
        return EXIT_FAILED;
    }
    printf("%s\n", s);
    free(s);
    return EXIT_OK;
}

/* A table of text cells, printed with every column as wide as its widest cell. */
typedef struct table {
    size_t cols, rows, cap;
    char **cells;
} table;

static int table_add(table *t, const char *const *row)
{
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **cells = realloc(t->cells, cap * t->cols * sizeof(*cells));
        if (cells == NULL)
            return DURO_ENOMEM;
        t->cells = cells;
        t->cap = cap;
    }
    for (size_t i = 0; i < t->cols; i++) {
        char *s = strdup(row[i] != NULL ? row[i] : "-");
        if (s == NULL) {
            while (i-- > 0)
                free(t->cells[t->rows * t->cols + i]);
            return DURO_ENOMEM;
        }
        t->cells[t->rows * t->cols + i] = s;
    }
    t->rows++;
    return 0;
}

static void table_print(const table *t)
{
    size_t width[16] = { 0 };

    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->cols; c++) {
            size_t w = strlen(t->cells[r * t->cols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t c = 0; c < t->cols; c++) {
            const char *s = t->cells[r * t->cols + c];
            if (c + 1 == t->cols)
                printf("%s\n", s);
            else
                printf("%-*s  ", (int)width[c], s);
        }
    }
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->rows * t->cols; i++)
        free(t->cells[i]);
    free(t->cells);
}

static int out_of_memory(void)
{
    fprintf(stderr, "duro: out of memory\n");
    return EXIT_FAILED;
}

/* ---- list ------------------------------------------------------------------------------- */

static json_t *summary_json(const duro_instance_summary *s)
{
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "instance", json_text(s->instance));
    json_object_set_new(o, "name", json_text(s->orch_name));
    json_object_set_new(o, "version", json_text(s->orch_version));
    json_object_set_new(o, "state", json_string(duro_state_name(s->state)));
    json_object_set_new(o, "execution", json_integer((json_int_t)s->execution_id));
    json_object_set_new(o, "created_at", json_time(s->created_at_ms));
    json_object_set_new(o, "completed_at", json_time(s->completed_at_ms));
    json_object_set_new(o, "parent", json_text(s->parent_instance));
    return o;
}

static int summary_row(table *t, const duro_instance_summary *s, const char *indent)
{
    char exec[24], created[40], completed[40], *id;
    const char *row[7];
    int rc;

    if (asprintf(&id, "%s%s", indent, s->instance) < 0)
        return DURO_ENOMEM;
    snprintf(exec, sizeof exec, "%" PRIu64, s->execution_id);
    row[0] = id;
    row[1] = s->orch_name;
    row[2] = s->orch_version;
    row[3] = duro_state_name(s->state);
    row[4] = exec;
    row[5] = fmt_time(s->created_at_ms, created, sizeof created);
    row[6] = fmt_time(s->completed_at_ms, completed, sizeof completed);
    rc = table_add(t, row);
    free(id);
    return rc;
}

static const char *const summary_header[] = { "INSTANCE", "NAME", "VERSION", "STATE", "EXEC",
                                              "CREATED", "COMPLETED" };

static int cmd_list(duro_client *c, const cmd_args *a)
{
    duro_list_options opt = a->list;
    int all = a->value[O_ALL] != NULL, json = a->value[O_JSON] != NULL, rc = 0;
    table t = { 7, 0, 0, NULL };
    json_t *items = json ? json_array() : NULL;
    char *cursor = NULL;
    duro_error err = { 0 };

    if (all && a->value[O_LIMIT] == NULL)
        opt.limit = DURO_LIST_MAX_LIMIT;
    if (opt.cursor != NULL && (cursor = strdup(opt.cursor)) == NULL)
        return out_of_memory();
    if ((json && items == NULL) || (!json && table_add(&t, summary_header) != 0)) {
        json_decref(items);
        free(cursor);
        return out_of_memory();
    }
    for (;;) {
        duro_instance_page page = { 0 };

        opt.cursor = cursor;
        rc = duro_client_list(c, &opt, &page, &err);
        if (rc != 0)
            break;
        for (size_t i = 0; i < page.n && rc == 0; i++) {
            if (json) {
                json_t *o = summary_json(&page.items[i]);
                rc = o != NULL && json_array_append_new(items, o) == 0 ? 0 : DURO_ENOMEM;
            } else {
                rc = summary_row(&t, &page.items[i], "");
            }
        }
        free(cursor);
        cursor = page.next_cursor;
        page.next_cursor = NULL;
        duro_instance_page_clear(&page);
        if (rc != 0 || !all || cursor == NULL)
            break;
    }
    if (rc == DURO_ENOMEM && err.message[0] == '\0') {
        rc = out_of_memory();
    } else if (rc != 0) {
        rc = fail(&err, rc, "list");
    } else if (json) {
        json_t *o = json_object();
        if (o != NULL) {
            json_object_set(o, "instances", items);
            json_object_set_new(o, "next_cursor", json_text(cursor));
        }
        rc = print_json(o);
    } else {
        table_print(&t);
        if (cursor != NULL)
            fprintf(stderr, "duro: more instances: --cursor %s\n", cursor);
    }
    json_decref(items);
    table_free(&t);
    free(cursor);
    return rc;
}

/* ---- show ------------------------------------------------------------------------------- */

static int cmd_show(duro_client *c, const cmd_args *a)
{
    duro_instance_details d;
    duro_error err = { 0 };
    char buf[4][40];
    int rc = duro_client_info(c, a->pos[0], &d, &err);

    if (rc != 0)
        return fail(&err, rc, a->pos[0]);
    if (a->value[O_JSON] != NULL) {
        json_t *o = json_object(), *kids = json_array();
        if (o == NULL || kids == NULL) {
            json_decref(o);
            json_decref(kids);
            duro_instance_details_clear(&d);
            return out_of_memory();
        }
        json_object_set_new(o, "instance", json_text(d.instance));
        json_object_set_new(o, "name", json_text(d.orch_name));
        json_object_set_new(o, "version", json_text(d.orch_version));
        json_object_set_new(o, "state", json_string(duro_state_name(d.state)));
        json_object_set_new(o, "execution", json_integer((json_int_t)d.execution_id));
        json_object_set_new(o, "output", json_text(d.output));
        json_object_set_new(o, "error", json_text(d.error));
        json_object_set_new(o, "error_category", d.state == DURO_STATE_FAILED
                                                     ? json_string(duro_category_name(
                                                           d.error_category))
                                                     : json_null());
        json_object_set_new(o, "custom_status", json_text(d.custom_status));
        json_object_set_new(o, "custom_status_version",
                            json_integer((json_int_t)d.custom_status_version));
        json_object_set_new(o, "created_at", json_time(d.created_at_ms));
        json_object_set_new(o, "updated_at", json_time(d.updated_at_ms));
        json_object_set_new(o, "started_at", json_time(d.started_at_ms));
        json_object_set_new(o, "completed_at", json_time(d.completed_at_ms));
        json_object_set_new(o, "events", json_integer((json_int_t)d.event_count));
        json_object_set_new(o, "parent", json_text(d.parent_instance));
        for (size_t i = 0; i < d.n_children; i++)
            json_array_append_new(kids, json_string(d.children[i]));
        json_object_set_new(o, "children", kids);
        duro_instance_details_clear(&d);
        return print_json(o);
    }
    printf("instance:       %s\n", d.instance);
    printf("name:           %s\n", d.orch_name);
    printf("version:        %s\n", d.orch_version != NULL ? d.orch_version : "-");
    printf("state:          %s\n", duro_state_name(d.state));
    printf("execution:      %" PRIu64 "\n", d.execution_id);
    if (d.output != NULL)
        printf("output:         %s\n", d.output);
    if (d.state == DURO_STATE_FAILED)
        printf("failure:        %s (%s)\n", d.error != NULL ? d.error : "",
               duro_category_name(d.error_category));
    if (d.state == DURO_STATE_TERMINATED)
        printf("terminated:     %s\n", d.error != NULL ? d.error : "");
    if (d.custom_status != NULL)
        printf("custom status:  %s (version %" PRIu64 ")\n", d.custom_status,
               d.custom_status_version);
    printf("created:        %s\n", fmt_time(d.created_at_ms, buf[0], sizeof buf[0]));
    printf("updated:        %s\n", fmt_time(d.updated_at_ms, buf[1], sizeof buf[1]));
    printf("started:        %s\n", fmt_time(d.started_at_ms, buf[2], sizeof buf[2]));
    printf("completed:      %s\n", fmt_time(d.completed_at_ms, buf[3], sizeof buf[3]));
    printf("events:         %" PRIu64 "\n", d.event_count);
    printf("parent:         %s\n", d.parent_instance != NULL ? d.parent_instance : "-");
    printf("children:       %zu\n", d.n_children);
    for (size_t i = 0; i < d.n_children; i++)
        printf("  %s\n", d.children[i]);
    duro_instance_details_clear(&d);
    return EXIT_OK;
}

/* ---- history ---------------------------------------------------------------------------- */

static int cmd_history(duro_client *c, const cmd_args *a)
{
    duro_event *ev = NULL;
    size_t n = 0;
    duro_error err = { 0 };
    int rc = duro_client_history(c, a->pos[0], a->execution, &ev, &n, &err);

    if (rc != 0)
        return fail(&err, rc, a->pos[0]);
    if (n == 0) { /* every execution starts with event 1: none is no such execution */
        duro_status st = { 0 };
        duro_error serr = { 0 };
        rc = duro_client_status(c, a->pos[0], &st, &serr);
        if (rc != 0)
            return fail(&serr, rc, a->pos[0]);
        if (st.state == DURO_STATE_NOT_FOUND)
            fprintf(stderr, "duro: %s: no such instance\n", a->pos[0]);
        else
            fprintf(stderr, "duro: %s: execution %" PRIu64 " has no history (pruned, or not "
                    "started yet)\n", a->pos[0], a->execution != 0 ? a->execution
                                                                   : st.execution_id);
        duro_status_clear(&st);
        return EXIT_FAILED;
    }
    if (a->value[O_JSON] != NULL) {
        json_t *arr = json_array();
        for (size_t i = 0; arr != NULL && i < n; i++) {
            json_t *o = json_object(), *payload = json_loads(ev[i].payload, 0, NULL);
            if (o == NULL) {
                json_decref(payload);
                json_decref(arr);
                arr = NULL;
                break;
            }
            json_object_set_new(o, "event_id", json_integer((json_int_t)ev[i].event_id));
            json_object_set_new(o, "kind", json_string(duro_event_kind_name(ev[i].kind)));
            json_object_set_new(o, "payload",
                                payload != NULL ? payload : json_text(ev[i].payload));
            json_array_append_new(arr, o);
        }
        duro_events_free(ev, n);
        return arr != NULL ? print_json(arr) : out_of_memory();
    }
    table t = { 3, 0, 0, NULL };
    static const char *const header[] = { "EVENT", "KIND", "PAYLOAD" };
    rc = table_add(&t, header);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char id[24];
        const char *row[3] = { id, duro_event_kind_name(ev[i].kind), ev[i].payload };
        snprintf(id, sizeof id, "%" PRIu64, ev[i].event_id);
        rc = table_add(&t, row);
    }
    duro_events_free(ev, n);
    if (rc == 0)
        table_print(&t);
    table_free(&t);
    return rc == 0 ? EXIT_OK : out_of_memory();
}

/* ---- tree ------------------------------------------------------------------------------- */

static int cmd_tree(duro_client *c, const cmd_args *a)
{
    duro_instance_tree tr;
    duro_error err = { 0 };
    int rc = duro_client_tree(c, a->pos[0], &tr, &err);

    if (rc != 0)
        return fail(&err, rc, a->pos[0]);
    if (a->value[O_JSON] != NULL) {
        json_t *arr = json_array();
        for (size_t i = 0; arr != NULL && i < tr.n; i++) {
            json_t *o = summary_json(&tr.nodes[i].info);
            if (o == NULL) {
                json_decref(arr);
                arr = NULL;
                break;
            }
            json_object_set_new(o, "depth", json_integer((json_int_t)tr.nodes[i].depth));
            json_array_append_new(arr, o);
        }
        duro_instance_tree_clear(&tr);
        return arr != NULL ? print_json(arr) : out_of_memory();
    }
    table t = { 7, 0, 0, NULL };
    char indent[2 * 32 + 1];
    rc = table_add(&t, summary_header);
    for (size_t i = 0; rc == 0 && i < tr.n; i++) {
        size_t d = tr.nodes[i].depth < 32 ? tr.nodes[i].depth : 32;
        memset(indent, ' ', 2 * d);
        indent[2 * d] = '\0';
        rc = summary_row(&t, &tr.nodes[i].info, indent);
    }
    duro_instance_tree_clear(&tr);
    if (rc == 0)
        table_print(&t);
    table_free(&t);
    return rc == 0 ? EXIT_OK : out_of_memory();
}

/* ---- writes ----------------------------------------------------------------------------- */

static int cmd_raise(duro_client *c, const cmd_args *a)
{
    duro_error err = { 0 };
    int rc = duro_client_raise_event(c, a->pos[0], a->pos[1],
                                     a->n_pos > 2 ? a->pos[2] : "", &err);

    if (rc != 0)
        return fail(&err, rc, a->pos[0]);
    printf("raised %s on %s\n", a->pos[1], a->pos[0]);
    return EXIT_OK;
}

static int cmd_cancel(duro_client *c, const cmd_args *a)
{
    duro_error err = { 0 };
    int rc = duro_client_cancel(c, a->pos[0], a->n_pos > 1 ? a->pos[1] : "", &err);

    if (rc != 0)
        return fail(&err, rc, a->pos[0]);
    printf("cancellation requested for %s\n", a->pos[0]);
    return EXIT_OK;
}

/* One lifecycle control of duro.h (terminate, suspend, resume). */
typedef int (*control_fn)(duro_client *c, const char *instance, const char *reason,
                          duro_error *err);

/* Queue `control` for ID with REASON (default empty) and say so with `done`. ENOTFOUND and
 * ESTATE are exit 1 with the library's message. */
static int control(duro_client *c, const cmd_args *a, control_fn fn, const char *done)
{
    duro_error err = { 0 };
    int rc = fn(c, a->pos[0], a->n_pos > 1 ? a->pos[1] : "", &err);

    if (rc != 0)
        return fail(&err, rc, a->pos[0]);
    printf("%s requested for %s\n", done, a->pos[0]);
    return EXIT_OK;
}

static int cmd_terminate(duro_client *c, const cmd_args *a)
{
    return control(c, a, duro_client_terminate, "termination");
}

static int cmd_suspend(duro_client *c, const cmd_args *a)
{
    return control(c, a, duro_client_suspend, "suspension");
}

static int cmd_resume(duro_client *c, const cmd_args *a)
{
    return control(c, a, duro_client_resume, "resumption");
}

static void print_deleted(const char *what, const duro_delete_result *r)
{
    printf("%s: %" PRIu64 " instances, %" PRIu64 " executions, %" PRIu64 " events, %" PRIu64
           " messages\n", what, r->instances, r->executions, r->events, r->messages);
}

static int cmd_delete(duro_client *c, const cmd_args *a)
{
    duro_delete_result total = { 0 }, r;
    duro_error err = { 0 };
    int rc;

    if (a->value[O_BULK] == NULL) {
        rc = duro_client_delete(c, a->pos[0], a->value[O_FORCE] != NULL, &total, &err);
        if (rc != 0)
            return fail(&err, rc, a->pos[0]);
        print_deleted("deleted", &total);
        return EXIT_OK;
    }
    do {
        memset(&r, 0, sizeof r);
        rc = duro_client_delete_bulk(c, &a->list, &r, &err);
        if (rc != 0) {
            print_deleted("deleted before the failure", &total);
            return fail(&err, rc, "delete --bulk");
        }
        total.instances += r.instances;
        total.executions += r.executions;
        total.events += r.events;
        total.messages += r.messages;
    } while (r.instances > 0);
    print_deleted("deleted", &total);
    return EXIT_OK;
}

static int cmd_prune(duro_client *c, const cmd_args *a)
{
    duro_delete_result r = { 0 };
    duro_error err = { 0 };
    int rc = duro_client_prune(c, a->pos[0], a->keep, a->list.completed_before_ms, &r, &err);

    if (rc != 0)
        return fail(&err, rc, a->pos[0]);
    printf("pruned %s: %" PRIu64 " executions, %" PRIu64 " events\n", a->pos[0], r.executions,
           r.events);
    return EXIT_OK;
}

/* ---- stats ------------------------------------------------------------------------------ */

static int cmd_stats(duro_client *c, const cmd_args *a)
{
    duro_metrics m;
    duro_queue_depths q;
    duro_error err = { 0 };
    int rc = duro_client_stats(c, &m, &err);

    if (rc == 0)
        rc = duro_client_queue_depths(c, &q, &err);
    if (rc != 0)
        return fail(&err, rc, "stats");
    if (a->value[O_JSON] != NULL) {
        json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I}}",
                              "instances", (json_int_t)m.instances,
                              "running", (json_int_t)m.running,
                              "completed", (json_int_t)m.completed,
                              "failed", (json_int_t)m.failed,
                              "continued_as_new", (json_int_t)m.continued_as_new,
                              "executions", (json_int_t)m.executions,
                              "events", (json_int_t)m.events,
                              "queues",
                              "orchestrator", (json_int_t)q.orchestrator,
                              "worker", (json_int_t)q.worker,
                              "delayed", (json_int_t)q.delayed);
        return o != NULL ? print_json(o) : out_of_memory();
    }
    printf("instances:          %" PRIu64 "\n", m.instances);
    printf("  running:          %" PRIu64 "\n", m.running);
    printf("  completed:        %" PRIu64 "\n", m.completed);
    printf("  failed:           %" PRIu64 "\n", m.failed);
    printf("  continued-as-new: %" PRIu64 "\n", m.continued_as_new);
    printf("executions:         %" PRIu64 "\n", m.executions);
    printf("events:             %" PRIu64 "\n", m.events);
    printf("queue orchestrator: %" PRIu64 "\n", q.orchestrator);
    printf("queue worker:       %" PRIu64 "\n", q.worker);
    printf("queue delayed:      %" PRIu64 "\n", q.delayed);
    return EXIT_OK;
}

/* ---- values ----------------------------------------------------------------------------- */

static json_t *value_json(const char *key, const char *value, uint64_t version)
{
    return json_pack("{s:s,s:I,s:I,s:s}", "key", key, "version", (json_int_t)version, "size",
                     (json_int_t)strlen(value), "value", value);
}

/* `values ID KEY`: the stored value of KEY alone (text: the value and a newline). */
static int show_value(duro_client *c, const cmd_args *a)
{
    char *value = NULL;
    uint64_t version = 0;
    duro_error err = { 0 };
    int rc = duro_client_get_value(c, a->pos[0], a->pos[1], &value, &version, &err);

    if (rc != 0)
        return fail(&err, rc, a->pos[0]);
    if (a->value[O_JSON] != NULL) {
        json_t *o = value_json(a->pos[1], value, version);
        free(value);
        return o != NULL ? print_json(o) : out_of_memory();
    }
    printf("%s\n", value);
    free(value);
    return EXIT_OK;
}

/* `values ID [KEY]`: every durable value of an instance (key, version, size, value; keys
 * ascending), or the value of KEY. */
static int cmd_values(duro_client *c, const cmd_args *a)
{
    duro_kv_entry *e = NULL;
    size_t n = 0;
    duro_error err = { 0 };
    int rc;

    if (a->n_pos == 2)
        return show_value(c, a);
    rc = duro_client_list_values(c, a->pos[0], &e, &n, &err);
    if (rc != 0)
        return fail(&err, rc, a->pos[0]);
    if (a->value[O_JSON] != NULL) {
        json_t *arr = json_array();
        for (size_t i = 0; arr != NULL && i < n; i++) {
            json_t *o = value_json(e[i].key, e[i].value, e[i].version);
            if (o == NULL || json_array_append_new(arr, o) != 0) {
                json_decref(arr);
                arr = NULL;
            }
        }
        duro_kv_entries_free(e, n);
        return arr != NULL ? print_json(arr) : out_of_memory();
    }
    static const char *const header[] = { "KEY", "VERSION", "SIZE", "VALUE" };
    table t = { .cols = 4 };
    rc = table_add(&t, header);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char version[24], size[24];
        const char *row[4] = { e[i].key, version, size, e[i].value };
        snprintf(version, sizeof version, "%" PRIu64, e[i].version);
        snprintf(size, sizeof size, "%zu", strlen(e[i].value));
        rc = table_add(&t, row);
    }
    duro_kv_entries_free(e, n);
    if (rc == 0)
        table_print(&t);
    table_free(&t);
    return rc == 0 ? EXIT_OK : out_of_memory();
}

/* ---- The command table ------------------------------------------------------------------ */

#define BIT(o) (1u << (o))

static const cmd_def commands[] = {
    {"list", "list [OPTIONS]", "list instances, newest first", 0, 0,
     FILTERS | BIT(O_LIMIT) | BIT(O_CURSOR) | BIT(O_ALL) | BIT(O_JSON), 0, cmd_list},
    {"show", "show ID [--json]",
     "an instance: state, version, output, failure, custom status, times, parent, children",
     1, 1, BIT(O_JSON), 0, cmd_show},
    {"history", "history ID [--execution N] [--json]", "the history events of one execution",
     1, 1, BIT(O_EXECUTION) | BIT(O_JSON), 0, cmd_history},
    {"tree", "tree ID [--json]", "an instance and all its sub-orchestrations, depth first", 1,
     1, BIT(O_JSON), 0, cmd_tree},
    {"raise", "raise ID EVENT [DATA]", "raise external event EVENT with DATA (default empty)",
     2, 3, 0, 1, cmd_raise},
    {"cancel", "cancel ID [REASON]", "request cancellation of an instance and its children", 1,
     2, 0, 1, cmd_cancel},
    {"terminate", "terminate ID [REASON]",
     "end an instance now as Terminated (its running children too) at its next turn", 1, 2, 0,
     1, cmd_terminate},
    {"suspend", "suspend ID [REASON]",
     "hold an instance: no code runs until resume; events keep being recorded", 1, 2, 0, 1,
     cmd_suspend},
    {"resume", "resume ID [REASON]", "let a suspended instance run again", 1, 2, 0, 1,
     cmd_resume},
    {"delete", "delete ID [--force] | delete --bulk [FILTERS]",
     "delete an instance with its tree, or every completed/failed root the filters select", 0,
     1, BIT(O_FORCE) | BIT(O_BULK) | FILTERS, 1, cmd_delete},
    {"prune", "prune ID --keep N [--completed-before TIME]",
     "delete the history of old executions (continue-as-new)", 1, 1,
     BIT(O_KEEP) | BIT(O_COMPLETED_BEFORE), 1, cmd_prune},
    {"stats", "stats [--json]", "store counts and queue depths", 0, 0, BIT(O_JSON), 0,
     cmd_stats},
    {"values", "values ID [KEY] [--json]",
     "an instance's durable values (key, version, size, value), or the value of KEY", 1, 2,
     BIT(O_JSON), 0, cmd_values},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void global_help(FILE *out)
{
    fprintf(out,
            "Usage: duro " STORE_SYNOPSIS " COMMAND [ARGS]\n"
            "Inspect, steer and clean up the instances of a duro store.\n"
            "\n"
            "Global options (before COMMAND):\n"
            "  --sqlite FILE       the SQLite store FILE (must exist; also DURO_SQLITE)\n"
            "  --postgres CONNINFO the PostgreSQL store at libpq CONNINFO (its schema must\n"
            "                      exist; also DURO_PG_CONNINFO)\n"
            "  --pg-schema NAME    the schema of the PostgreSQL store (default duro)\n"
            "  --version           print the version and exit\n"
            "  --help              print this help and exit\n"
            "\n"
            "--sqlite and --postgres exclude each other; either beats the environment; with\n"
            "neither, DURO_SQLITE is used when set, else DURO_PG_CONNINFO.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "'duro COMMAND --help' lists the options of COMMAND. list, show, history, tree,\n"
            "stats and values open the store read-only and never change it; raise, cancel, terminate,\n"
            "suspend, resume, delete and prune open it read-write. terminate, suspend and\n"
            "resume queue a control that the instance's next turn (in a runtime) carries\n"
            "out. TIME is milliseconds since the epoch or UTC YYYY-MM-DDTHH:MM:SS[.mmm]Z.\n"
            "Times are printed in UTC.\n"
            "Exit status: 0 success, 1 the operation failed (message on stderr), 2 usage "
            "error.\n");
}

static void command_help(const cmd_def *cmd, FILE *out)
{
    fprintf(out, "Usage: duro " STORE_SYNOPSIS " %s\n%s.\n\nOptions:\n", cmd->synopsis,
            cmd->summary);
    for (size_t i = 0; i < sizeof(opt_defs) / sizeof(opt_defs[0]); i++) {
        char left[40];
        if (!(cmd->opts & BIT(opt_defs[i].id)) && opt_defs[i].id != O_HELP)
            continue;
        snprintf(left, sizeof left, "%s%s%s", opt_defs[i].name, opt_defs[i].arg ? " " : "",
                 opt_defs[i].arg ? opt_defs[i].arg : "");
        fprintf(out, "  %-26s %s\n", left, opt_defs[i].help);
    }
}

static int usage_error(const char *cmd, const char *fmt, const char *what)
{
    fprintf(stderr, "duro: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\nTry 'duro %s%s--help'.\n", cmd != NULL ? cmd : "", cmd != NULL ? " " : "");
    return EXIT_USAGE;
}

/* ---- Parsing values --------------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* TIME: ms since the epoch, or YYYY-MM-DDTHH:MM:SS[.mmm]Z (UTC). */
static int parse_time(const char *s, int64_t *out)
{
    struct tm tm = { 0 };
    int ms = 0, used = 0, ms_used = 0;
    uint64_t v;
    time_t secs;

    if (parse_u64(s, 1, INT64_MAX, &v) == 0) {
        *out = (int64_t)v;
        return 0;
    }
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || used != 19)
        return -1;
    if (s[used] == '.') {
        if (sscanf(s + used, ".%3d%n", &ms, &ms_used) != 1 || ms_used != 4 || ms < 0)
            return -1;
        used += ms_used;
    }
    if (strcmp(s + used, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    secs = timegm(&tm);
    if (secs <= 0)
        return -1;
    *out = (int64_t)secs * 1000 + ms;
    return 0;
}

static int parse_state(const char *s, duro_state *out)
{
    static const struct { const char *name; duro_state state; } states[] = {
        {"running", DURO_STATE_RUNNING}, {"completed", DURO_STATE_COMPLETED},
        {"failed", DURO_STATE_FAILED}, {"continued-as-new", DURO_STATE_CONTINUED_AS_NEW},
    };

    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(s, states[i].name) == 0) {
            *out = states[i].state;
            return 0;
        }
    return -1;
}

/* Turn the option values of `a` into typed fields. Returns 0 or EXIT_USAGE (reported). */
static int convert(const cmd_def *cmd, cmd_args *a)
{
    static const struct { enum opt_id id; size_t offset; } times[] = {
        {O_CREATED_AFTER, offsetof(duro_list_options, created_from_ms)},
        {O_CREATED_BEFORE, offsetof(duro_list_options, created_before_ms)},
        {O_COMPLETED_AFTER, offsetof(duro_list_options, completed_from_ms)},
        {O_COMPLETED_BEFORE, offsetof(duro_list_options, completed_before_ms)},
    };
    uint64_t v;

    duro_list_options_init(&a->list);
    if (a->value[O_STATE] != NULL && parse_state(a->value[O_STATE], &a->list.state) != 0)
        return usage_error(cmd->name, "--state: unknown state '%s' (running, completed, "
                           "failed, continued-as-new)", a->value[O_STATE]);
    a->list.orch_name = a->value[O_NAME];
    a->list.id_prefix = a->value[O_PREFIX];
    a->list.cursor = a->value[O_CURSOR];
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        const char *s = a->value[times[i].id];
        if (s != NULL && parse_time(s, (int64_t *)((char *)&a->list + times[i].offset)) != 0)
            return usage_error(cmd->name, "bad TIME '%s' (milliseconds since the epoch or "
                               "YYYY-MM-DDTHH:MM:SS[.mmm]Z)", s);
    }
    if (a->value[O_LIMIT] != NULL) {
        if (parse_u64(a->value[O_LIMIT], 1, DURO_LIST_MAX_LIMIT, &v) != 0)
            return usage_error(cmd->name, "--limit: '%s' is not a number within 1-1000",
                               a->value[O_LIMIT]);
        a->list.limit = (size_t)v;
    }
    if (a->value[O_ALL] != NULL && a->value[O_CURSOR] != NULL)
        return usage_error(cmd->name, "%s", "--all and --cursor exclude each other");
    if (a->value[O_EXECUTION] != NULL &&
        parse_u64(a->value[O_EXECUTION], 1, UINT64_MAX, &a->execution) != 0)
        return usage_error(cmd->name, "--execution: '%s' is not a number >= 1",
                           a->value[O_EXECUTION]);
    if (cmd->opts & BIT(O_KEEP)) {
        if (a->value[O_KEEP] == NULL)
            return usage_error(cmd->name, "%s", "--keep N is required");
        if (parse_u64(a->value[O_KEEP], 1, UINT64_MAX, &a->keep) != 0)
            return usage_error(cmd->name, "--keep: '%s' is not a number >= 1",
                               a->value[O_KEEP]);
    }
    if (cmd->opts & BIT(O_BULK)) {
        int bulk = a->value[O_BULK] != NULL;
        unsigned filters = 0;
        for (int i = 0; i < N_OPTS; i++)
            if (a->value[i] != NULL && (FILTERS & BIT(i)))
                filters |= BIT(i);
        if (bulk && a->n_pos > 0)
            return usage_error(cmd->name, "%s", "--bulk takes filters, not an ID");
        if (!bulk && filters != 0)
            return usage_error(cmd->name, "%s", "filters need --bulk");
        if (!bulk && a->n_pos == 0)
            return usage_error(cmd->name, "%s", "an ID (or --bulk with filters) is needed");
        if (bulk && a->value[O_FORCE] != NULL)
            return usage_error(cmd->name, "%s", "--force is for one ID, not --bulk");
    }
    return 0;
}

/* Parse the arguments of `cmd` (argv[0] is the command name). Returns 0, EXIT_USAGE
 * (reported) or -1 for --help (printed). */
static int parse_command(const cmd_def *cmd, int argc, char **argv, cmd_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const opt_def *o = NULL;

        if (strcmp(arg, "--") == 0) {
            while (++i < argc) {
                if (a->n_pos == cmd->max_pos)
                    return usage_error(cmd->name, "unexpected argument '%s'", argv[i]);
                a->pos[a->n_pos++] = argv[i];
            }
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            if (a->n_pos == cmd->max_pos)
                return usage_error(cmd->name, "unexpected argument '%s'", arg);
            a->pos[a->n_pos++] = arg;
            continue;
        }
        for (size_t k = 0; k < sizeof(opt_defs) / sizeof(opt_defs[0]); k++)
            if (strcmp(arg, opt_defs[k].name) == 0 &&
                ((cmd->opts & BIT(opt_defs[k].id)) || opt_defs[k].id == O_HELP))
                o = &opt_defs[k];
        if (o == NULL)
            return usage_error(cmd->name, "unknown option '%s'", arg);
        if (o->id == O_HELP) {
            command_help(cmd, stdout);
            return -1;
        }
        if (o->arg != NULL && i + 1 >= argc)
            return usage_error(cmd->name, "option '%s' needs a value", arg);
        a->value[o->id] = o->arg != NULL ? argv[++i] : "";
    }
    if (a->n_pos < cmd->min_pos)
        return usage_error(cmd->name, "%s: missing arguments", cmd->synopsis);
    return convert(cmd, a);
}

/* Where the store is: a SQLite file, or a PostgreSQL conninfo and schema. */
typedef struct store_spec {
    const char *sqlite_path;
    const char *pg_conninfo;
    const char *pg_schema;
} store_spec;

static int open_sqlite(const char *path, int writes, duro_provider **p, duro_error *err)
{
    duro_sqlite_options so;

    duro_sqlite_options_init(&so);
    so.read_only = !writes;
    so.pool_size = 1;
    return duro_sqlite_open(path, &so, p, err);
}

static int open_postgres(const store_spec *spec, int writes, duro_provider **p, duro_error *err)
{
#ifdef DURO_HAVE_POSTGRES
    duro_postgres_options po;

    duro_postgres_options_init(&po);
    po.schema = spec->pg_schema;
    po.pool_size = 1;
    po.read_only = !writes;
    return duro_postgres_open(spec->pg_conninfo, &po, p, err);
#else
    (void)spec;
    (void)writes;
    (void)p;
    return duro_error_set(err, DURO_ENOTSUP, 0,
                          "this duro was built without the PostgreSQL provider");
#endif
}

/* Open the store of `spec`: read-only for a read command, read-write for a write. */
static int open_store(const store_spec *spec, int writes, duro_provider **p)
{
    duro_error err = { 0 };
    int rc = spec->sqlite_path != NULL ? open_sqlite(spec->sqlite_path, writes, p, &err)
                                       : open_postgres(spec, writes, p, &err);

    return rc == 0 ? 0 : fail(&err, rc, "cannot open the store");
}

/* Decide the store from the global options and the environment (docs/decisions.md): the
 * options --sqlite and --postgres exclude each other and beat the environment; with
 * neither, DURO_SQLITE when it is set, else DURO_PG_CONNINFO. Returns 0 or EXIT_USAGE
 * (reported). */
static int choose_store(const char *sqlite_opt, const char *pg_opt, const char *schema_opt,
                        store_spec *spec)
{
    const char *env_sqlite = getenv("DURO_SQLITE"), *env_pg = getenv("DURO_PG_CONNINFO");

    memset(spec, 0, sizeof *spec);
    spec->pg_schema = schema_opt != NULL ? schema_opt : "duro";
    if (sqlite_opt != NULL && pg_opt != NULL)
        return usage_error(NULL, "%s", "--sqlite and --postgres exclude each other");
    if (sqlite_opt != NULL)
        spec->sqlite_path = sqlite_opt;
    else if (pg_opt != NULL)
        spec->pg_conninfo = pg_opt;
    else if (env_sqlite != NULL && *env_sqlite != '\0')
        spec->sqlite_path = env_sqlite;
    else if (env_pg != NULL && *env_pg != '\0')
        spec->pg_conninfo = env_pg;
    if ((spec->sqlite_path == NULL || *spec->sqlite_path == '\0') &&
        (spec->pg_conninfo == NULL || *spec->pg_conninfo == '\0'))
        return usage_error(NULL, "%s", "no store: give --sqlite FILE or --postgres CONNINFO "
                           "(or set DURO_SQLITE or DURO_PG_CONNINFO)");
    if (spec->sqlite_path != NULL && schema_opt != NULL)
        return usage_error(NULL, "%s", "--pg-schema is for a PostgreSQL store, not SQLite");
    return 0;
}

int main(int argc, char **argv)
{
    const char *sqlite_opt = NULL, *pg_opt = NULL, *schema_opt = NULL;
    const cmd_def *cmd = NULL;
    store_spec spec;
    duro_provider *p = NULL;
    duro_client *c = NULL;
    duro_error err = { 0 };
    cmd_args a;
    int i, rc;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            global_help(stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("duro %s\n", DURO_VERSION_STRING);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--sqlite") == 0 || strcmp(argv[i], "--postgres") == 0 ||
                   strcmp(argv[i], "--pg-schema") == 0) {
            const char *name = argv[i];
            if (++i >= argc)
                return usage_error(NULL, "option '%s' needs a value", name);
            if (strcmp(name, "--sqlite") == 0)
                sqlite_opt = argv[i];
            else if (strcmp(name, "--postgres") == 0)
                pg_opt = argv[i];
            else
                schema_opt = argv[i];
        } else {
            return usage_error(NULL, "unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc)
        return usage_error(NULL, "%s", "no command given");
    for (size_t k = 0; k < N_COMMANDS; k++)
        if (strcmp(argv[i], commands[k].name) == 0)
            cmd = &commands[k];
    if (cmd == NULL)
        return usage_error(NULL, "unknown command '%s'", argv[i]);
    rc = parse_command(cmd, argc - i, argv + i, &a);
    if (rc != 0)
        return rc < 0 ? EXIT_OK : rc;
    if ((rc = choose_store(sqlite_opt, pg_opt, schema_opt, &spec)) != 0)
        return rc;
    if ((rc = open_store(&spec, cmd->writes, &p)) != 0)
        return rc;
    rc = duro_client_new(p, &c, &err);
    if (rc != 0)
        rc = fail(&err, rc, "cannot create a client");
    else
        rc = cmd->fn(c, &a);
    duro_client_free(c);
    duro_provider_destroy(p);
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        fprintf(stderr, "duro: cannot write the output: %s\n", strerror(errno));
        rc = EXIT_FAILED;
    }
    return rc;
}
