/*
 * manage.c — the management calls of the client (duro.h, "Client: management"): filtered
 * listings paged by opaque cursors, instance details and trees, deletion of one tree or in
 * bulk, pruning, queue depths and store counts, all over the provider's management
 * capability.
 *
 * A cursor is the key of the last row of its page, (created_at, instance id), which never
 * changes for a stored instance, with a fingerprint of the filters that made it. The
 * provider's query_instances resumes strictly after that key in its fixed order, so a walk
 * keeps no state on either side and visits every instance that exists throughout it exactly
 * once. Bulk deletion selects its roots with the same query and hands their ids to the
 * provider's delete_bulk, which checks again, inside its one transaction, that each is still
 * a terminal root.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Rows asked for per query while bulk deletion looks for roots. */
#define BULK_SCAN_PAGE DURO_LIST_MAX_LIMIT

/* ---- Capability and argument checks ------------------------------------------------------ */

/* 0 when `c` is a client whose provider claims DURO_CAP_MANAGEMENT. */
static int need_management(const duro_client *c, const char *call, duro_error *err)
{
    if (!c)
        return duro_error_set(err, DURO_EINVAL, 0, "%s: client is NULL", call);
    if (!(c->p->caps & DURO_CAP_MANAGEMENT))
        return duro_error_set(err, DURO_ENOTSUP, 0,
                              "%s: provider '%s' lacks the management capability "
                              "(DURO_CAP_MANAGEMENT)", call, c->p->name);
    return 0;
}

/* 0 when the provider of `c` also has query_instances (provider ops version 3). */
static int need_query(const duro_client *c, const char *call, duro_error *err)
{
    int rc = need_management(c, call, err);
    if (rc)
        return rc;
    if (!duro_provider_has_version(c->p, DURO_PROVIDER_OPS_V3) || !c->p->ops->query_instances)
        return duro_error_set(err, DURO_ENOTSUP, 0,
                              "%s: provider '%s' lacks query_instances (management of provider "
                              "ops version 3; its ops are version %d)",
                              call, c->p->name, c->p->ops->version);
    return 0;
}

/* duro__check_id with `what` prefixed by the call's name. */
static int check_id(const char *id, const char *call, const char *what, duro_error *err)
{
    char label[96];
    snprintf(label, sizeof label, "%s: %s", call, what);
    return duro__check_id(id, label, err);
}

/* A from bound below its before bound when both are set. */
static int check_range(int64_t from, int64_t before, const char *call, const char *what,
                       duro_error *err)
{
    if (from != 0 && before != 0 && from >= before)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "%s: %s_from_ms %lld is not before %s_before_ms %lld (an empty "
                              "range)", call, what, (long long)from, what, (long long)before);
    return 0;
}

void duro_list_options_init(duro_list_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->size = sizeof *opt;
    opt->limit = DURO_LIST_DEFAULT_LIMIT;
}

/* The caller's options (NULL: defaults) copied over the defaults as far as their size says,
 * into *o, and checked. */
static int read_options(const duro_list_options *in, const char *call, duro_list_options *o,
                        duro_error *err)
{
    int rc;
    duro_list_options_init(o);
    if (in) {
        if (in->size == 0)
            return duro_error_set(err, DURO_EINVAL, 0,
                                  "%s: options not initialised: call duro_list_options_init",
                                  call);
        memcpy(o, in, in->size < sizeof *o ? in->size : sizeof *o);
        o->size = sizeof *o;
    }
    if (o->limit == 0 || o->limit > DURO_LIST_MAX_LIMIT)
        return duro_error_set(err, DURO_EINVAL, 0, "%s: limit %zu is out of range (1..%d)",
                              call, o->limit, DURO_LIST_MAX_LIMIT);
    if ((int)o->state < 0 || (int)o->state > DURO_STATE_SCHEDULED)
        return duro_error_set(err, DURO_EINVAL, 0, "%s: state %d is not a duro_state", call,
                              (int)o->state);
    if (o->orch_name && (rc = check_id(o->orch_name, call, "orch_name", err)))
        return rc;
    if (o->id_prefix && o->id_prefix[0] && (rc = check_id(o->id_prefix, call, "id_prefix", err)))
        return rc;
    if ((rc = check_range(o->created_from_ms, o->created_before_ms, call, "created", err)))
        return rc;
    return check_range(o->completed_from_ms, o->completed_before_ms, call, "completed", err);
}

/* The provider query of the filters of `o` (no resume key yet). */
static duro_instance_query to_query(const duro_list_options *o, size_t limit)
{
    duro_instance_query q;
    memset(&q, 0, sizeof q);
    /* providers store a terminated execution as Failed, a suspended or scheduled one as
     * Running */
    q.state = o->state == DURO_STATE_TERMINATED ? DURO_STATE_FAILED
              : o->state == DURO_STATE_SUSPENDED || o->state == DURO_STATE_SCHEDULED
                  ? DURO_STATE_RUNNING
                  : o->state;
    q.orch_name = o->orch_name;
    q.id_prefix = o->id_prefix && o->id_prefix[0] ? o->id_prefix : NULL;
    q.created_from_ms = o->created_from_ms;
    q.created_before_ms = o->created_before_ms;
    q.completed_from_ms = o->completed_from_ms;
    q.completed_before_ms = o->completed_before_ms;
    q.limit = limit;
    return q;
}

static void summary_clear(duro_instance_summary *s)
{
    free(s->instance);
    free(s->orch_name);
    free(s->orch_version);
    free(s->parent_instance);
    memset(s, 0, sizeof *s);
}

/* ---- Cursors ----------------------------------------------------------------------------- */

/* A cursor is "c1.<fingerprint>.<created_at>.<instance id>": the fingerprint and created_at
 * as 16 lowercase hex digits each (created_at as its two's complement), the id as two hex
 * digits per byte. */
#define CURSOR_TAG "c1."
#define CURSOR_HEAD (sizeof CURSOR_TAG - 1 + 16 + 1 + 16 + 1)
#define CURSOR_MAX (CURSOR_HEAD + 2 * DURO_MAX_ID_BYTES)

static uint64_t fnv_bytes(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

/* An optional string, told apart from "" and from its neighbours. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
    unsigned char present = s != NULL;
    h = fnv_bytes(h, &present, 1);
    return s ? fnv_bytes(h, s, strlen(s) + 1) : h;
}

static uint64_t fnv_i64(uint64_t h, int64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)v >> (8 * i));
    return fnv_bytes(h, b, sizeof b);
}

/* A hash of the filters of `q`, so that a cursor is only accepted by the listing it
 * continues. */
static uint64_t fingerprint(const duro_instance_query *q)
{
    uint64_t h = UINT64_C(1469598103934665603);
    h = fnv_i64(h, (int64_t)q->state);
    h = fnv_str(h, q->orch_name);
    h = fnv_str(h, q->id_prefix);
    h = fnv_i64(h, q->created_from_ms);
    h = fnv_i64(h, q->created_before_ms);
    h = fnv_i64(h, q->completed_from_ms);
    return fnv_i64(h, q->completed_before_ms);
}

/* The cursor resuming after `last` (malloc'ed), or NULL when out of memory. */
static char *encode_cursor(uint64_t fp, const duro_instance_summary *last)
{
    size_t n = strlen(last->instance);
    char *s = malloc(CURSOR_HEAD + 2 * n + 1);
    if (!s)
        return NULL;
    snprintf(s, CURSOR_HEAD + 1, CURSOR_TAG "%016llx.%016llx.", (unsigned long long)fp,
             (unsigned long long)(uint64_t)last->created_at_ms);
    for (size_t i = 0; i < n; i++)
        snprintf(s + CURSOR_HEAD + 2 * i, 3, "%02x", (unsigned char)last->instance[i]);
    return s;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Exactly 16 lowercase hex digits at s into *out; 0, or -1 when they are not. */
static int parse_hex64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        int d = hex_digit(s[i]);
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

/* Read a cursor of a listing whose filters hash to `fp` into the resume key of *q; the id
 * goes into `id` (DURO_MAX_ID_BYTES + 1 bytes). */
static int decode_cursor(const char *cursor, uint64_t fp, const char *call,
                         duro_instance_query *q, char *id, duro_error *err)
{
    size_t len = strnlen(cursor, CURSOR_MAX + 1), n;
    uint64_t got_fp, created;
    int ok = len > CURSOR_HEAD && len <= CURSOR_MAX && (len - CURSOR_HEAD) % 2 == 0 &&
             memcmp(cursor, CURSOR_TAG, sizeof CURSOR_TAG - 1) == 0 &&
             parse_hex64(cursor + 3, &got_fp) == 0 && cursor[19] == '.' &&
             parse_hex64(cursor + 20, &created) == 0 && cursor[36] == '.';
    n = ok ? (len - CURSOR_HEAD) / 2 : 0;
    for (size_t i = 0; ok && i < n; i++) {
        int hi = hex_digit(cursor[CURSOR_HEAD + 2 * i]);
        int lo = hex_digit(cursor[CURSOR_HEAD + 2 * i + 1]);
        ok = hi >= 0 && lo >= 0 && (hi | lo) != 0;
        id[i] = (char)(hi << 4 | lo);
    }
    if (!ok)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "%s: cursor is malformed (pass a page's next_cursor unchanged)",
                              call);
    if (got_fp != fp)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "%s: cursor belongs to a listing with other filters (keep the "
                              "filters of the first page)", call);
    id[n] = '\0';
    q->after_instance = id;
    q->after_created_ms = (int64_t)created;
    return 0;
}

/* ---- Listing ----------------------------------------------------------------------------- */

void duro_instance_page_clear(duro_instance_page *page)
{
    if (!page)
        return;
    duro_instance_summaries_free(page->items, page->n);
    free(page->next_cursor);
    memset(page, 0, sizeof *page);
}

/* Replace the stored state of each of the `*n` rows by the one a client reports
 * (duro__view_state: one read per Failed or Running row) and, when the listing filters on a
 * state, keep only the rows in it (*n shrinks; order kept). A row deleted meanwhile keeps
 * its stored state. */
static int view_rows(duro_client *c, duro_state want, duro_instance_summary *rows, size_t *n,
                     duro_error *err)
{
    size_t i, kept = 0;
    for (i = 0; i < *n; i++) {
        duro_instance_summary *r = &rows[i];
        duro_instance_info info;
        duro_state view = r->state;
        int rc = 0;
        memset(&info, 0, sizeof info);
        if (r->state == DURO_STATE_FAILED) {
            rc = c->p->ops->instance_info(c->p, r->instance, &info, err);
            if (rc == 0 && info.execution_id == r->execution_id)
                rc = duro__view_state(c->p, r->instance, r->execution_id, info.state,
                                      info.output, &view, err);
            duro_instance_info_clear(&info);
        } else if (r->state == DURO_STATE_RUNNING)
            rc = duro__view_state(c->p, r->instance, r->execution_id, r->state, NULL, &view,
                                  err);
        if (rc == DURO_ENOTFOUND)
            rc = 0;
        if (rc)
            return rc;
        r->state = view;
        if (want != DURO_STATE_NOT_FOUND && view != want) {
            summary_clear(r);
            continue;
        }
        if (kept != i) {
            rows[kept] = *r;
            memset(r, 0, sizeof *r);
        }
        kept++;
    }
    *n = kept;
    return 0;
}

int duro_client_list(duro_client *c, const duro_list_options *opt, duro_instance_page *out,
                     duro_error *err)
{
    static const char call[] = "duro_client_list";
    char after[DURO_MAX_ID_BYTES + 1];
    duro_list_options o;
    duro_instance_query q;
    duro_instance_summary *rows = NULL;
    size_t n = 0;
    uint64_t fp;
    int rc;

    if (!out)
        return duro_error_set(err, DURO_EINVAL, 0, "%s: page is NULL", call);
    memset(out, 0, sizeof *out);
    if ((rc = need_query(c, call, err)) || (rc = read_options(opt, call, &o, err)))
        return rc;
    /* one row more than the page tells whether another page follows */
    q = to_query(&o, o.limit + 1);
    fp = fingerprint(&q);
    if (o.cursor && (rc = decode_cursor(o.cursor, fp, call, &q, after, err)))
        return rc;
    rc = c->p->ops->query_instances(c->p, &q, &rows, &n, err);
    if (rc)
        return rc;
    if (n > o.limit) {
        out->next_cursor = encode_cursor(fp, &rows[o.limit - 1]);
        if (!out->next_cursor) {
            duro_instance_summaries_free(rows, n);
            return duro_error_set(err, DURO_ENOMEM, 0, "%s: out of memory", call);
        }
        while (n > o.limit)
            summary_clear(&rows[--n]);
    }
    if ((rc = view_rows(c, o.state, rows, &n, err))) {
        duro_instance_summaries_free(rows, n);
        free(out->next_cursor);
        out->next_cursor = NULL;
        return rc;
    }
    if (n == 0) {
        free(rows);
        rows = NULL;
    }
    out->items = rows;
    out->n = n;
    return 0;
}

/* ---- Details and trees ------------------------------------------------------------------- */

static int not_found(const char *call, const char *instance, duro_error *err)
{
    return duro_error_set(err, DURO_ENOTFOUND, 0, "%s: instance %s not found", call, instance);
}

void duro_instance_details_clear(duro_instance_details *d)
{
    if (!d)
        return;
    free(d->instance);
    free(d->orch_name);
    free(d->orch_version);
    free(d->parent_instance);
    free(d->output);
    free(d->error);
    free(d->custom_status);
    duro_strv_free(d->children, d->n_children);
    memset(d, 0, sizeof *d);
}

/* instance_info of `instance` and execution_info of its current execution, both in the
 * caller's structs (cleared on failure); a vanished instance or execution is ENOTFOUND. */
static int read_instance(duro_client *c, const char *call, const char *instance,
                         duro_instance_info *info, duro_execution_info *ex, duro_error *err)
{
    int rc;
    memset(info, 0, sizeof *info);
    memset(ex, 0, sizeof *ex);
    rc = c->p->ops->instance_info(c->p, instance, info, err);
    if (rc == 0)
        rc = c->p->ops->execution_info(c->p, instance, info->execution_id, ex, err);
    if (rc) {
        duro_instance_info_clear(info);
        duro_execution_info_clear(ex);
    }
    return rc == DURO_ENOTFOUND ? not_found(call, instance, err) : rc;
}

/* Move the listing fields of `info` (and the end time in `ex`) into *s. */
static void summary_take(duro_instance_summary *s, duro_instance_info *info,
                         const duro_execution_info *ex)
{
    s->instance = info->instance;
    s->orch_name = info->orch_name;
    s->orch_version = info->orch_version;
    s->parent_instance = info->parent_instance;
    info->instance = info->orch_name = info->orch_version = info->parent_instance = NULL;
    s->execution_id = info->execution_id;
    s->state = info->state;
    s->created_at_ms = info->created_at_ms;
    s->completed_at_ms = info->state != DURO_STATE_RUNNING ? ex->completed_at_ms : 0;
}

/* Move the output of `info` into *d, split into message and category when it failed. */
static int take_output(duro_instance_details *d, duro_instance_info *info)
{
    if (info->state == DURO_STATE_FAILED)
        return duro__split_failure(info->output, &d->error, &d->error_category);
    d->output = info->output;
    info->output = NULL;
    return 0;
}

int duro_client_info(duro_client *c, const char *instance, duro_instance_details *out,
                     duro_error *err)
{
    static const char call[] = "duro_client_info";
    duro_instance_info info;
    duro_execution_info ex;
    duro_instance_summary s;
    int rc;

    if (!out)
        return duro_error_set(err, DURO_EINVAL, 0, "%s: details is NULL", call);
    memset(out, 0, sizeof *out);
    if ((rc = need_management(c, call, err)) || (rc = check_id(instance, call, "instance id", err)))
        return rc;
    if ((rc = read_instance(c, call, instance, &info, &ex, err)))
        return rc;
    rc = duro__view_state(c->p, instance, info.execution_id, info.state, info.output,
                          &out->state, err);
    if (rc == 0)
        rc = c->p->ops->list_children(c->p, instance, &out->children, &out->n_children, err);
    if (rc == 0 && take_output(out, &info))
        rc = duro_error_set(err, DURO_ENOMEM, 0, "%s: out of memory", call);
    summary_take(&s, &info, &ex);
    out->instance = s.instance;
    out->orch_name = s.orch_name;
    out->orch_version = s.orch_version;
    out->parent_instance = s.parent_instance;
    out->execution_id = s.execution_id;
    out->created_at_ms = s.created_at_ms;
    out->completed_at_ms = s.completed_at_ms;
    out->custom_status = info.custom_status;
    info.custom_status = NULL;
    out->custom_status_version = info.custom_status_version;
    out->updated_at_ms = info.updated_at_ms;
    out->started_at_ms = ex.started_at_ms;
    out->event_count = ex.event_count;
    duro_instance_info_clear(&info);
    duro_execution_info_clear(&ex);
    if (rc)
        duro_instance_details_clear(out);
    return rc;
}

void duro_instance_tree_clear(duro_instance_tree *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        summary_clear(&t->nodes[i].info);
    free(t->nodes);
    memset(t, 0, sizeof *t);
}

/* An instance waiting on the depth-first stack of duro_client_tree. */
typedef struct tree_todo {
    char *instance;  /* malloc'ed */
    size_t parent;
    size_t depth;
} tree_todo;

static int tree_has(const duro_instance_tree *t, const char *instance)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->nodes[i].info.instance, instance) == 0)
            return 1;
    return 0;
}

/* Append the node of `todo` (its summary read now) to *t, then push its children on the
 * stack, last child first so that the first is read next. A descendant that vanished since
 * its parent listed it is skipped (0). */
static int tree_visit(duro_client *c, const tree_todo *todo, duro_instance_tree *t,
                      size_t *cap, duro__vec *stack, duro_error *err)
{
    static const char call[] = "duro_client_tree";
    duro_instance_info info;
    duro_execution_info ex;
    duro_tree_node *nodes, *node;
    char **kids = NULL;
    size_t n_kids = 0;
    int rc = read_instance(c, call, todo->instance, &info, &ex, err);

    duro_state view;

    if (rc)
        return rc == DURO_ENOTFOUND && t->n > 0 ? 0 : rc;
    rc = duro__view_state(c->p, todo->instance, info.execution_id, info.state, info.output,
                          &view, err);
    if (!rc)
        rc = c->p->ops->list_children(c->p, todo->instance, &kids, &n_kids, err);
    nodes = rc ? NULL : duro__grow(t->nodes, cap, t->n, sizeof *t->nodes);
    if (!rc && !nodes)
        rc = duro_error_set(err, DURO_ENOMEM, 0, "%s: out of memory", call);
    if (!rc) {
        t->nodes = nodes;
        node = &t->nodes[t->n++];
        summary_take(&node->info, &info, &ex);
        node->info.state = view;
        node->parent = todo->parent;
        node->depth = todo->depth;
    }
    for (size_t i = n_kids; !rc && i > 0; i--) {
        tree_todo *next = duro__vec_push(stack);
        if (!next) {
            rc = duro_error_set(err, DURO_ENOMEM, 0, "%s: out of memory", call);
            break;
        }
        next->instance = kids[i - 1];
        kids[i - 1] = NULL;
        next->parent = t->n - 1;
        next->depth = todo->depth + 1;
    }
    duro_strv_free(kids, n_kids);
    duro_instance_info_clear(&info);
    duro_execution_info_clear(&ex);
    return rc;
}

int duro_client_tree(duro_client *c, const char *instance, duro_instance_tree *out,
                     duro_error *err)
{
    static const char call[] = "duro_client_tree";
    duro__vec stack;
    size_t cap = 0;
    tree_todo *first;
    int rc;

    if (!out)
        return duro_error_set(err, DURO_EINVAL, 0, "%s: tree is NULL", call);
    memset(out, 0, sizeof *out);
    if ((rc = need_management(c, call, err)) || (rc = check_id(instance, call, "instance id", err)))
        return rc;
    duro__vec_init(&stack, sizeof(tree_todo));
    first = duro__vec_push(&stack);
    if (!first || !(first->instance = duro__strdup(instance))) {
        duro__vec_free(&stack);
        return duro_error_set(err, DURO_ENOMEM, 0, "%s: out of memory", call);
    }
    first->parent = SIZE_MAX;
    while (rc == 0 && stack.len > 0) {
        tree_todo todo = ((tree_todo *)stack.data)[--stack.len];
        if (!tree_has(out, todo.instance))
            rc = tree_visit(c, &todo, out, &cap, &stack, err);
        free(todo.instance);
    }
    for (size_t i = 0; i < stack.len; i++)
        free(((tree_todo *)stack.data)[i].instance);
    duro__vec_free(&stack);
    if (rc)
        duro_instance_tree_clear(out);
    return rc;
}

/* ---- Deletion and pruning ---------------------------------------------------------------- */

int duro_client_delete(duro_client *c, const char *instance, int force, duro_delete_result *out,
                       duro_error *err)
{
    static const char call[] = "duro_client_delete";
    duro_delete_result res = {0, 0, 0, 0};
    int rc;

    if (out)
        memset(out, 0, sizeof *out);
    if ((rc = need_management(c, call, err)) || (rc = check_id(instance, call, "instance id", err)))
        return rc;
    rc = c->p->ops->delete_instance(c->p, duro_clock_now_ms(), instance, force != 0, &res, err);
    if (rc == 0 && out)
        *out = res;
    return rc;
}

/* 1 when `row` may be deleted in bulk: Completed or Failed, and a root (no parent, or a
 * parent that is gone), 0 when not, or a negative DURO_E* code. */
static int bulk_candidate(duro_client *c, const duro_instance_summary *row, duro_error *err)
{
    duro_instance_info parent;
    int rc;
    if (row->state != DURO_STATE_COMPLETED && row->state != DURO_STATE_FAILED)
        return 0;
    if (!row->parent_instance)
        return 1;
    memset(&parent, 0, sizeof parent);
    rc = c->p->ops->instance_info(c->p, row->parent_instance, &parent, err);
    duro_instance_info_clear(&parent);
    return rc == DURO_ENOTFOUND ? 1 : rc == 0 ? 0 : rc;
}

/* Move into *roots the ids of up to `want` candidates of the rows of one query page; *found
 * counts them. Rows whose id was taken are left with instance NULL. */
static int bulk_take(duro_client *c, duro_instance_summary *rows, size_t n, size_t want,
                     char **roots, size_t *found, duro_error *err)
{
    for (size_t i = 0; i < n && *found < want; i++) {
        int rc = bulk_candidate(c, &rows[i], err);
        if (rc < 0)
            return rc;
        if (rc) {
            roots[(*found)++] = rows[i].instance;
            rows[i].instance = NULL;
        }
    }
    return 0;
}

/* The ids of up to o->limit bulk-deletable roots the filters select, newest first, into
 * roots (room for o->limit). */
static int bulk_roots(duro_client *c, const duro_list_options *o, char **roots, size_t *found,
                      duro_error *err)
{
    char after[DURO_MAX_ID_BYTES + 1];
    duro_instance_query q = to_query(o, BULK_SCAN_PAGE);
    int rc = 0;

    *found = 0;
    while (rc == 0 && *found < o->limit) {
        duro_instance_summary *rows = NULL;
        size_t n = 0;
        rc = c->p->ops->query_instances(c->p, &q, &rows, &n, err);
        if (rc)
            break;
        if (n > 0) {
            snprintf(after, sizeof after, "%s", rows[n - 1].instance);
            q.after_instance = after;
            q.after_created_ms = rows[n - 1].created_at_ms;
        }
        rc = bulk_take(c, rows, n, o->limit, roots, found, err);
        duro_instance_summaries_free(rows, n);
        if (n < q.limit)
            break;
    }
    return rc;
}

int duro_client_delete_bulk(duro_client *c, const duro_list_options *opt,
                            duro_delete_result *out, duro_error *err)
{
    static const char call[] = "duro_client_delete_bulk";
    duro_delete_result res = {0, 0, 0, 0};
    duro_list_options o;
    duro_bulk_filter f;
    char **roots;
    size_t n = 0;
    int rc;

    if (out)
        memset(out, 0, sizeof *out);
    if ((rc = need_query(c, call, err)) || (rc = read_options(opt, call, &o, err)))
        return rc;
    if (o.cursor)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "%s: a cursor does not apply (each bulk delete starts at the "
                              "newest match)", call);
    if (o.state != DURO_STATE_NOT_FOUND && o.state != DURO_STATE_COMPLETED &&
        o.state != DURO_STATE_FAILED)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "%s: state %s is never deleted in bulk (only Completed or Failed "
                              "roots are)", call, duro_state_name(o.state));
    roots = calloc(o.limit, sizeof *roots);
    if (!roots)
        return duro_error_set(err, DURO_ENOMEM, 0, "%s: out of memory", call);
    rc = bulk_roots(c, &o, roots, &n, err);
    if (rc == 0 && n > 0) {
        f.instances = (const char *const *)roots;
        f.n_instances = n;
        f.completed_before_ms = 0;
        f.limit = n;
        rc = c->p->ops->delete_bulk(c->p, duro_clock_now_ms(), &f, &res, err);
    }
    duro_strv_free(roots, n);
    if (rc == 0 && out)
        *out = res;
    return rc;
}

int duro_client_prune(duro_client *c, const char *instance, uint64_t keep_last,
                      int64_t completed_before_ms, duro_delete_result *out, duro_error *err)
{
    static const char call[] = "duro_client_prune";
    duro_delete_result res = {0, 0, 0, 0};
    duro_prune_options po;
    int rc;

    if (out)
        memset(out, 0, sizeof *out);
    if ((rc = need_management(c, call, err)) || (rc = check_id(instance, call, "instance id", err)))
        return rc;
    po.keep_last = keep_last;
    po.completed_before_ms = completed_before_ms;
    rc = c->p->ops->prune(c->p, duro_clock_now_ms(), instance, &po, &res, err);
    if (rc == 0 && out)
        *out = res;
    return rc;
}

/* ---- Depths and counts ------------------------------------------------------------------- */

int duro_client_queue_depths(duro_client *c, duro_queue_depths *out, duro_error *err)
{
    static const char call[] = "duro_client_queue_depths";
    int rc;
    if (!out)
        return duro_error_set(err, DURO_EINVAL, 0, "%s: out is NULL", call);
    memset(out, 0, sizeof *out);
    if ((rc = need_management(c, call, err)))
        return rc;
    return c->p->ops->queue_depths(c->p, duro_clock_now_ms(), out, err);
}

int duro_client_work_depths_by_tag(duro_client *c, duro_tag_depth **rows, size_t *n,
                                   duro_error *err)
{
    static const char call[] = "duro_client_work_depths_by_tag";
    if (!rows || !n || !c)
        return duro_error_set(err, DURO_EINVAL, 0, "%s: %s is NULL", call,
                              !c ? "client" : !rows ? "rows" : "n");
    *rows = NULL;
    *n = 0;
    if (!duro_provider_has_tags(c->p))
        return duro_error_set(err, DURO_ENOTSUP, 0,
                              "%s: provider \"%s\" does not route tagged work (needs ops "
                              "version 4 and DURO_CAP_TAGS)", call, c->p->name);
    return c->p->ops->queue_depths_by_tag(c->p, duro_clock_now_ms(), rows, n, err);
}

int duro_client_stats(duro_client *c, duro_metrics *out, duro_error *err)
{
    static const char call[] = "duro_client_stats";
    int rc;
    if (!out)
        return duro_error_set(err, DURO_EINVAL, 0, "%s: out is NULL", call);
    memset(out, 0, sizeof *out);
    if ((rc = need_management(c, call, err)))
        return rc;
    return c->p->ops->metrics(c->p, out, err);
}
