/*
 * management.c — conformance category "management": the read side of DURO_CAP_MANAGEMENT.
 * Listing instances (newest first, by state), executions (ascending) and direct children;
 * execution_info and instance_info with the exact times the caller passed as now_ms; queue
 * depths (visible unlocked orchestrator messages, visible unlocked work items, delayed
 * messages); store-wide metrics; and query_instances (version 3): its order, resume keys,
 * filters and rows. Every count and time is asserted exactly, so the instances of a case are
 * created at distinct virtual times, except where a case is about equal ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY management

/* Give a new instance `inst` executions 1..n_exec, one turn each, advancing ctx->now by
 * DURO_CT_STEP_MS after every turn. Execution k gets events 1..n_events and ends
 * CONTINUED_AS_NEW with output "can-<k>" and a CONTINUE_AS_NEW message; the last one ends
 * in `last_state` (0 = Running) with output "last". */
static void chain(duro_ct_ctx *ctx, const char *inst, uint64_t n_exec, size_t n_events,
                  int last_state)
{
    duro_event_in ev[DURO_CT_MAX_EVENTS];

    ct_fill_events(ev, n_events);
    ct_enqueue_start(ctx, inst);
    for (uint64_t k = 1; k <= n_exec; k++) {
        duro_orch_item *it = ct_fetch(ctx);
        duro_orch_commit c = ct_commit(k, ev, n_events);
        char output[32];
        duro_msg next;

        ck_assert_str_eq(it->instance, inst);
        c.orch_name = "TestOrch";
        c.orch_version = "1.0.0";
        if (k < n_exec) {
            snprintf(output, sizeof output, "can-%llu", (unsigned long long)k);
            next = (duro_msg){inst, DURO_MSG_CONTINUE_AS_NEW, k + 1, ctx->now, "next"};
            c.state = DURO_STATE_CONTINUED_AS_NEW;
            c.output = output;
            c.msgs = &next;
            c.n_msgs = 1;
        } else {
            c.state = last_state;
            c.output = last_state ? "last" : NULL;
        }
        ct_ack(ctx, it, &c);
        ctx->now += DURO_CT_STEP_MS;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list_children(inst) sorted by id, comma-joined. */
static const char *children(duro_ct_ctx *ctx, const char *inst, char *buf, size_t size)
{
    duro_error err;
    char **ids = NULL;
    size_t n = 0;

    ck_assert_int_eq(ctx->p->ops->list_children(ctx->p, inst, &ids, &n, &err), 0);
    if (n > 1)
        qsort(ids, n, sizeof *ids, cmp_str);
    ct_join(ids, n, buf, size);
    duro_strv_free(ids, n);
    return buf;
}

static void list_instances_empty_store(duro_ct_ctx *ctx)
{
    char buf[64];

    ct_require_management(ctx);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "");
}

static void list_instances_newest_first(duro_ct_ctx *ctx)
{
    char buf[64];

    ct_require_management(ctx);
    ct_make_instance(ctx, "b", NULL, 1, 0, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "c", NULL, 1, 0, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "a", NULL, 1, 0, 0, NULL);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "a,c,b");
}

static void list_instances_includes_children(duro_ct_ctx *ctx)
{
    char buf[64];

    ct_require_management(ctx);
    ct_make_instance(ctx, "root", NULL, 1, 0, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "kid", "root", 1, 0, 0, NULL);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "kid,root");
}

static void list_instances_excludes_unstarted(duro_ct_ctx *ctx)
{
    char buf[64];

    ct_require_management(ctx);
    ct_make_instance(ctx, "real", NULL, 1, 0, 0, NULL);
    ct_enqueue_start(ctx, "pending");
    ct_enqueue(ctx, "ghost", DURO_MSG_EVENT, "orphan", 0);
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "real");
    ck_assert_str_eq(ct_list_instances(ctx, DURO_STATE_RUNNING, buf, sizeof buf), "real");
}

static void list_instances_state_filter(duro_ct_ctx *ctx)
{
    char buf[64];

    ct_require_management(ctx);
    ct_make_instance(ctx, "run", NULL, 1, 0, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "done", NULL, 1, 0, DURO_STATE_COMPLETED, "ok");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "bad", NULL, 1, 0, DURO_STATE_FAILED, "boom");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "cont", NULL, 1, 0, DURO_STATE_CONTINUED_AS_NEW, "again");
    ctx->now += DURO_CT_STEP_MS;
    ct_make_instance(ctx, "run2", NULL, 1, 0, 0, NULL);
    ck_assert_str_eq(ct_list_instances(ctx, DURO_STATE_RUNNING, buf, sizeof buf), "run2,run");
    ck_assert_str_eq(ct_list_instances(ctx, DURO_STATE_COMPLETED, buf, sizeof buf), "done");
    ck_assert_str_eq(ct_list_instances(ctx, DURO_STATE_FAILED, buf, sizeof buf), "bad");
    ck_assert_str_eq(ct_list_instances(ctx, DURO_STATE_CONTINUED_AS_NEW, buf, sizeof buf),
                     "cont");
    ck_assert_str_eq(ct_list_instances(ctx, 0, buf, sizeof buf), "run2,cont,bad,done,run");
    /* a state that does not exist is a bad argument, not a passing fault */
    char **ids = NULL;
    size_t n = 0;
    duro_error err = {0};
    ck_assert_int_eq(ctx->p->ops->list_instances(ctx->p, 77, &ids, &n, &err), DURO_EINVAL);
    ck_assert_int_eq(err.code, DURO_EINVAL);
    ck_assert_int_eq(err.retryable, 0);
    duro_strv_free(ids, n);
}

static void list_instances_filter_uses_current_execution(duro_ct_ctx *ctx)
{
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "multi", 2, 1, 0);
    ck_assert_str_eq(ct_list_instances(ctx, DURO_STATE_CONTINUED_AS_NEW, buf, sizeof buf), "");
    ck_assert_str_eq(ct_list_instances(ctx, DURO_STATE_RUNNING, buf, sizeof buf), "multi");
}

static void list_executions_ascending(duro_ct_ctx *ctx)
{
    char buf[64];

    ct_require_management(ctx);
    chain(ctx, "three", 3, 1, DURO_STATE_COMPLETED);
    ct_make_instance(ctx, "one", NULL, 1, 0, 0, NULL);
    ck_assert_str_eq(ct_list_executions(ctx, "three", buf, sizeof buf), "1,2,3");
    ck_assert_str_eq(ct_list_executions(ctx, "one", buf, sizeof buf), "1");
}

static void execution_info_running(duro_ct_ctx *ctx)
{
    duro_execution_info info;
    duro_error err;
    int64_t created = ctx->now;

    ct_require_management(ctx);
    ct_make_instance(ctx, "r", NULL, 1, 0, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "r", 1, &info, &err), 0);
    ck_assert_uint_eq(info.execution_id, 1);
    ck_assert_int_eq(info.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(info.output);
    ck_assert_int_eq(info.started_at_ms, created);
    ck_assert_int_eq(info.completed_at_ms, 0);
    ck_assert_uint_eq(info.event_count, 1);
    duro_execution_info_clear(&info);
}

static void execution_info_completed(duro_ct_ctx *ctx)
{
    static const duro_event_in ev = {3, 1, "finish"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    duro_execution_info info;
    duro_error err;
    int64_t created = ctx->now;

    ct_require_management(ctx);
    ct_make_instance(ctx, "c", NULL, 2, 0, 0, NULL);
    ctx->now += 5 * DURO_CT_STEP_MS;
    c.state = DURO_STATE_COMPLETED;
    c.output = "result";
    ct_turn(ctx, "c", &c);
    ctx->now += DURO_CT_STEP_MS;
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "c", 1, &info, &err), 0);
    ck_assert_uint_eq(info.execution_id, 1);
    ck_assert_int_eq(info.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(info.output, "result");
    ck_assert_int_eq(info.started_at_ms, created);
    ck_assert_int_eq(info.completed_at_ms, created + 5 * DURO_CT_STEP_MS);
    ck_assert_uint_eq(info.event_count, 3);
    duro_execution_info_clear(&info);
}

static void execution_info_times_per_execution(duro_ct_ctx *ctx)
{
    duro_execution_info info;
    duro_error err;
    int64_t t0 = ctx->now;

    ct_require_management(ctx);
    chain(ctx, "m", 2, 3, DURO_STATE_FAILED);
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "m", 1, &info, &err), 0);
    ck_assert_uint_eq(info.execution_id, 1);
    ck_assert_int_eq(info.state, DURO_STATE_CONTINUED_AS_NEW);
    ck_assert_str_eq(info.output, "can-1");
    ck_assert_int_eq(info.started_at_ms, t0);
    ck_assert_int_eq(info.completed_at_ms, t0);
    ck_assert_uint_eq(info.event_count, 3);
    duro_execution_info_clear(&info);
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "m", 2, &info, &err), 0);
    ck_assert_uint_eq(info.execution_id, 2);
    ck_assert_int_eq(info.state, DURO_STATE_FAILED);
    ck_assert_str_eq(info.output, "last");
    ck_assert_int_eq(info.started_at_ms, t0 + DURO_CT_STEP_MS);
    ck_assert_int_eq(info.completed_at_ms, t0 + DURO_CT_STEP_MS);
    ck_assert_uint_eq(info.event_count, 3);
    duro_execution_info_clear(&info);
}

static void execution_info_unknown(duro_ct_ctx *ctx)
{
    duro_execution_info info;
    duro_error err;

    ct_require_management(ctx);
    ct_make_instance(ctx, "known", NULL, 1, 0, 0, NULL);
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "nobody", 1, &info, &err),
                     DURO_ENOTFOUND);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_int_eq(ctx->p->ops->execution_info(ctx->p, "known", 7, &info, &err),
                     DURO_ENOTFOUND);
    ck_assert_int_eq(err.retryable, 0);
}

static void instance_info_fields_running(duro_ct_ctx *ctx)
{
    duro_instance_info info;
    duro_error err;
    int64_t created = ctx->now;

    ct_require_management(ctx);
    ct_make_instance(ctx, "r", NULL, 1, 0, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, "r", &info, &err), 0);
    ck_assert_str_eq(info.instance, "r");
    ck_assert_str_eq(info.orch_name, "TestOrch");
    ck_assert_str_eq(info.orch_version, "1.0.0");
    ck_assert_ptr_null(info.parent_instance);
    ck_assert_uint_eq(info.execution_id, 1);
    ck_assert_int_eq(info.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(info.output);
    ck_assert_ptr_null(info.custom_status);
    ck_assert_uint_eq(info.custom_status_version, 0);
    ck_assert_int_eq(info.created_at_ms, created);
    ck_assert_int_eq(info.updated_at_ms, created);
    duro_instance_info_clear(&info);
}

static void instance_info_after_completion(duro_ct_ctx *ctx)
{
    static const duro_event_in ev = {2, 1, "finish"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    duro_instance_info info;
    duro_error err;
    int64_t created = ctx->now;

    ct_require_management(ctx);
    ct_make_instance(ctx, "c", NULL, 1, 0, 0, NULL);
    ctx->now += 3 * DURO_CT_STEP_MS;
    c.state = DURO_STATE_COMPLETED;
    c.output = "out";
    c.set_custom_status = 1;
    c.custom_status = "cs";
    ct_turn(ctx, "c", &c);
    ctx->now += DURO_CT_STEP_MS;
    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, "c", &info, &err), 0);
    ck_assert_str_eq(info.orch_name, "TestOrch");
    ck_assert_uint_eq(info.execution_id, 1);
    ck_assert_int_eq(info.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(info.output, "out");
    ck_assert_str_eq(info.custom_status, "cs");
    ck_assert_uint_eq(info.custom_status_version, 1);
    ck_assert_int_eq(info.created_at_ms, created);
    ck_assert_int_eq(info.updated_at_ms, created + 3 * DURO_CT_STEP_MS);
    duro_instance_info_clear(&info);
}

static void instance_info_child_parent(duro_ct_ctx *ctx)
{
    duro_instance_info info;
    duro_error err;

    ct_require_management(ctx);
    ct_make_instance(ctx, "root", NULL, 1, 0, 0, NULL);
    ct_make_instance(ctx, "kid", "root", 1, 0, 0, NULL);
    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, "kid", &info, &err), 0);
    ck_assert_str_eq(info.parent_instance, "root");
    duro_instance_info_clear(&info);
    ck_assert_int_eq(ctx->p->ops->instance_info(ctx->p, "root", &info, &err), 0);
    ck_assert_ptr_null(info.parent_instance);
    duro_instance_info_clear(&info);
}

static void list_children_direct_only(duro_ct_ctx *ctx)
{
    char buf[64];

    ct_require_management(ctx);
    ct_make_instance(ctx, "root", NULL, 1, 0, 0, NULL);
    ct_make_instance(ctx, "c2", "root", 1, 0, 0, NULL);
    ct_make_instance(ctx, "c1", "root", 1, 0, DURO_STATE_COMPLETED, "done");
    ct_make_instance(ctx, "g", "c1", 1, 0, 0, NULL);
    ct_make_instance(ctx, "other", NULL, 1, 0, 0, NULL);
    ck_assert_str_eq(children(ctx, "root", buf, sizeof buf), "c1,c2");
    ck_assert_str_eq(children(ctx, "c1", buf, sizeof buf), "g");
    ck_assert_str_eq(children(ctx, "g", buf, sizeof buf), "");
    ck_assert_str_eq(children(ctx, "nobody", buf, sizeof buf), "");
}

/* ---- query_instances (version 3) -------------------------------------------------------- */

/* ct_require_management, and query_instances (provider ops version 3). */
static void require_query(duro_ct_ctx *ctx)
{
    ct_require_management(ctx);
    ck_assert_msg(duro_provider_has_version(ctx->p, DURO_PROVIDER_OPS_V3) &&
                      ctx->p->ops->query_instances != NULL,
                  "provider '%s' declares DURO_CAP_MANAGEMENT but has no query_instances "
                  "(management of provider ops version 3; its ops are version %d)",
                  ctx->p->name, ctx->p->ops->version);
}

/* Make `inst` of orchestration `name` (child of `parent` when non-NULL) in one turn at
 * ctx->now with one event, ending in `state` (0: Running) with output "out". */
static void make_named(duro_ct_ctx *ctx, const char *inst, const char *name, const char *parent,
                       int state)
{
    duro_event_in ev;
    duro_orch_commit c;
    duro_orch_item *it;

    ct_fill_events(&ev, 1);
    ct_enqueue_start(ctx, inst);
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, inst);
    c = ct_commit(1, &ev, 1);
    c.orch_name = name;
    c.orch_version = "1.0.0";
    c.parent_instance = parent;
    c.state = state;
    c.output = state ? "out" : NULL;
    ct_ack(ctx, it, &c);
}

/* A query with no filter, no resume key and `limit`. */
static duro_instance_query query(size_t limit)
{
    duro_instance_query q;

    memset(&q, 0, sizeof q);
    q.limit = limit;
    return q;
}

/* The ids query_instances(q) returns, comma-joined, asserting success and that every row
 * is complete. */
static const char *ids_of(duro_ct_ctx *ctx, const duro_instance_query *q, char *buf,
                          size_t size)
{
    duro_instance_summary *rows = NULL;
    duro_error err;
    size_t n = 0, len = 0;
    int rc = ctx->p->ops->query_instances(ctx->p, q, &rows, &n, &err);

    ck_assert_msg(rc == 0, "query_instances: %s (%s)", duro_strerror(rc), err.message);
    ck_assert_uint_le(n, q->limit);
    ck_assert(n == 0 || rows != NULL);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_nonnull(rows[i].instance);
        ck_assert_ptr_nonnull(rows[i].orch_name);
        len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
                                i ? "," : "", rows[i].instance);
    }
    ck_assert_uint_lt(len, size);
    duro_instance_summaries_free(rows, n);
    return buf;
}

static void query_newest_first_ties_by_id(duro_ct_ctx *ctx)
{
    duro_instance_query q = query(10);
    char buf[64];

    require_query(ctx);
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "");
    make_named(ctx, "b", "N", NULL, 0);
    make_named(ctx, "a", "N", NULL, 0);
    make_named(ctx, "m", "N", NULL, 0);
    ctx->now += DURO_CT_STEP_MS;
    make_named(ctx, "c", "N", NULL, 0);
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "c,m,b,a");
    q.limit = 2;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "c,m");
}

static void query_resumes_strictly_after_key(duro_ct_ctx *ctx)
{
    duro_instance_query q = query(2);
    int64_t t = ctx->now;
    char buf[64];

    require_query(ctx);
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "i%d", i);
        make_named(ctx, id, "N", NULL, 0);
        ctx->now += DURO_CT_STEP_MS;
    }
    make_named(ctx, "y", "N", NULL, 0); /* two at the same time as i0 */
    ctx->now = t;
    make_named(ctx, "x", "N", NULL, 0);
    make_named(ctx, "z", "N", NULL, 0);
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "y,i4");
    q.after_created_ms = t + 4 * DURO_CT_STEP_MS;
    q.after_instance = "i4";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "i3,i2");
    /* the key need not exist: after (t+2s, "i2x") comes i2 */
    q.after_created_ms = t + 2 * DURO_CT_STEP_MS;
    q.after_instance = "i2x";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "i2,i1");
    q.after_instance = "i2";
    q.limit = 10;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "i1,z,x,i0");
    q.after_created_ms = t;
    q.after_instance = "x";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "i0");
    q.after_instance = "i0";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "");
}

static void query_state_name_prefix(duro_ct_ctx *ctx)
{
    duro_instance_query q = query(10);
    char buf[64];

    require_query(ctx);
    make_named(ctx, "r1", "A", NULL, 0);
    ctx->now += DURO_CT_STEP_MS;
    make_named(ctx, "d1", "A", NULL, DURO_STATE_COMPLETED);
    ctx->now += DURO_CT_STEP_MS;
    make_named(ctx, "f1", "B", NULL, DURO_STATE_FAILED);
    ctx->now += DURO_CT_STEP_MS;
    make_named(ctx, "c1", "B", NULL, DURO_STATE_CONTINUED_AS_NEW);
    ctx->now += DURO_CT_STEP_MS;
    make_named(ctx, "r1-kid", "A", "r1", DURO_STATE_COMPLETED);
    ct_enqueue_start(ctx, "r-queued");
    ct_enqueue(ctx, "r-orphan", DURO_MSG_EVENT, "orphan", 0);
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "r1-kid,c1,f1,d1,r1");
    q.state = DURO_STATE_RUNNING;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "r1");
    q.state = DURO_STATE_COMPLETED;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "r1-kid,d1");
    q.state = DURO_STATE_FAILED;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "f1");
    q.state = DURO_STATE_CONTINUED_AS_NEW;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "c1");
    q.state = 0;
    q.orch_name = "A";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "r1-kid,d1,r1");
    q.orch_name = "a";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "");
    q.orch_name = NULL;
    q.id_prefix = "r";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "r1-kid,r1");
    q.id_prefix = "";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "r1-kid,c1,f1,d1,r1");
    q.id_prefix = "r1";
    q.orch_name = "A";
    q.state = DURO_STATE_COMPLETED;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "r1-kid");
}

static void query_prefix_is_literal_bytes(duro_ct_ctx *ctx)
{
    static const char *const ids[] = {"a_b", "axb", "a%c", "ab", "A_b", "\xc3\xa9t\xc3\xa9",
                                      "\xc3\xa0"};
    duro_instance_query q = query(10);
    char buf[64];

    require_query(ctx);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        make_named(ctx, ids[i], "N", NULL, 0);
        ctx->now += DURO_CT_STEP_MS;
    }
    q.id_prefix = "a_";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "a_b");
    q.id_prefix = "a%";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "a%c");
    q.id_prefix = "A";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "A_b");
    q.id_prefix = "\xc3\xa9";
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "\xc3\xa9t\xc3\xa9");
    q.id_prefix = "\xc3"; /* a prefix may end inside a character */
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "\xc3\xa0,\xc3\xa9t\xc3\xa9");
}

static void query_time_bounds(duro_ct_ctx *ctx)
{
    static const duro_event_in ev = {2, 1, "end"};
    duro_orch_commit c = ct_commit(1, &ev, 1);
    duro_instance_query q = query(10);
    int64_t t = ctx->now;
    char buf[64];

    require_query(ctx);
    /* created at t, t+1s, t+2s, t+3s; "s" ends at t+5s, "f" at t+6s, "n" continues as new
     * at t+7s; "r" keeps running */
    make_named(ctx, "s", "N", NULL, 0);
    ctx->now += DURO_CT_STEP_MS;
    make_named(ctx, "f", "N", NULL, 0);
    ctx->now += DURO_CT_STEP_MS;
    make_named(ctx, "n", "N", NULL, 0);
    ctx->now += DURO_CT_STEP_MS;
    make_named(ctx, "r", "N", NULL, 0);
    ctx->now = t + 5 * DURO_CT_STEP_MS;
    c.state = DURO_STATE_COMPLETED;
    c.output = "ok";
    ct_turn(ctx, "s", &c);
    ctx->now += DURO_CT_STEP_MS;
    c.state = DURO_STATE_FAILED;
    ct_turn(ctx, "f", &c);
    ctx->now += DURO_CT_STEP_MS;
    c.state = DURO_STATE_CONTINUED_AS_NEW;
    ct_turn(ctx, "n", &c);

    q.created_from_ms = t + DURO_CT_STEP_MS;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "r,n,f");
    q.created_before_ms = t + 3 * DURO_CT_STEP_MS;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "n,f");
    q.created_from_ms = 0;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "n,f,s");
    q = query(10);
    q.completed_from_ms = 1;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "n,f,s");
    q.completed_from_ms = t + 6 * DURO_CT_STEP_MS;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "n,f");
    q.completed_before_ms = t + 7 * DURO_CT_STEP_MS;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "f");
    q.completed_from_ms = 0;
    ck_assert_str_eq(ids_of(ctx, &q, buf, sizeof buf), "f,s");
}

static void query_summary_fields(duro_ct_ctx *ctx)
{
    duro_instance_query q = query(10);
    duro_instance_summary *rows = NULL;
    duro_error err;
    size_t n = 0;
    int64_t t = ctx->now;

    require_query(ctx);
    make_named(ctx, "root", "Root", NULL, 0);
    ctx->now += DURO_CT_STEP_MS;
    chain(ctx, "kid", 2, 1, DURO_STATE_COMPLETED); /* executions at t+1s, t+2s */
    ck_assert_int_eq(ctx->p->ops->query_instances(ctx->p, &q, &rows, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(rows[0].instance, "kid");
    ck_assert_str_eq(rows[0].orch_name, "TestOrch");
    ck_assert_str_eq(rows[0].orch_version, "1.0.0");
    ck_assert_ptr_null(rows[0].parent_instance);
    ck_assert_uint_eq(rows[0].execution_id, 2);
    ck_assert_int_eq(rows[0].state, DURO_STATE_COMPLETED);
    ck_assert_int_eq(rows[0].created_at_ms, t + DURO_CT_STEP_MS);
    ck_assert_int_eq(rows[0].completed_at_ms, t + 2 * DURO_CT_STEP_MS);
    ck_assert_str_eq(rows[1].instance, "root");
    ck_assert_str_eq(rows[1].orch_name, "Root");
    ck_assert_uint_eq(rows[1].execution_id, 1);
    ck_assert_int_eq(rows[1].state, DURO_STATE_RUNNING);
    ck_assert_int_eq(rows[1].created_at_ms, t);
    ck_assert_int_eq(rows[1].completed_at_ms, 0);
    duro_instance_summaries_free(rows, n);
    ctx->now += DURO_CT_STEP_MS;
    make_named(ctx, "child", "Kid", "root", 0);
    q.limit = 1;
    ck_assert_int_eq(ctx->p->ops->query_instances(ctx->p, &q, &rows, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(rows[0].parent_instance, "root");
    duro_instance_summaries_free(rows, n);
}

static void query_invalid_is_einval(duro_ct_ctx *ctx)
{
    duro_instance_summary *rows = NULL;
    duro_instance_query q;
    duro_error err;
    size_t n = 7;

    require_query(ctx);
    make_named(ctx, "a", "N", NULL, 0);
    q = query(0);
    ck_assert_int_eq(ctx->p->ops->query_instances(ctx->p, &q, &rows, &n, &err), DURO_EINVAL);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(rows);
    ck_assert_uint_eq(n, 0);
    q = query(1);
    q.state = (duro_state)(DURO_STATE_CONTINUED_AS_NEW + 1);
    ck_assert_int_eq(ctx->p->ops->query_instances(ctx->p, &q, &rows, &n, &err), DURO_EINVAL);
    q = query(1);
    q.created_from_ms = 5;
    q.created_before_ms = 5;
    ck_assert_int_eq(ctx->p->ops->query_instances(ctx->p, &q, &rows, &n, &err), DURO_EINVAL);
    q = query(1);
    q.completed_from_ms = 9;
    q.completed_before_ms = 2;
    ck_assert_int_eq(ctx->p->ops->query_instances(ctx->p, &q, &rows, &n, &err), DURO_EINVAL);
    q = query(1);
    q.after_instance = "";
    ck_assert_int_eq(ctx->p->ops->query_instances(ctx->p, &q, &rows, &n, &err), DURO_EINVAL);
    ck_assert_int_eq(ctx->p->ops->query_instances(ctx->p, NULL, &rows, &n, &err), DURO_EINVAL);
    q = query(1);
    ck_assert_int_eq(ctx->p->ops->query_instances(ctx->p, &q, NULL, &n, &err), DURO_EINVAL);
    ck_assert_int_eq(ctx->p->ops->query_instances(ctx->p, &q, &rows, NULL, &err), DURO_EINVAL);
    ck_assert_int_eq(ctx->p->ops->query_instances(ctx->p, &q, &rows, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    duro_instance_summaries_free(rows, n);
}

static void queue_depths_empty_store(duro_ct_ctx *ctx)
{
    ct_require_management(ctx);
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 0, 0);
}

static void queue_depths_exact(duro_ct_ctx *ctx)
{
    ct_require_management(ctx);
    ct_enqueue_start(ctx, "A");
    ct_enqueue(ctx, "A", DURO_MSG_EVENT, "ev", 0);
    ct_enqueue_start(ctx, "B");
    ct_enqueue(ctx, "B", DURO_MSG_TIMER_FIRED, "timer", 5000);
    ct_enqueue(ctx, "B", DURO_MSG_TIMER_FIRED, "timer-2", 9000);
    ct_enqueue_work(ctx, "A", 1, "w1");
    ct_enqueue_work(ctx, "A", 2, "w2");
    DURO_CT_ASSERT_DEPTHS(ctx, 3, 2, 2);
    ctx->now += 4999;
    DURO_CT_ASSERT_DEPTHS(ctx, 3, 2, 2);
    ctx->now += 1;
    DURO_CT_ASSERT_DEPTHS(ctx, 4, 2, 1);
    ctx->now += 4000;
    DURO_CT_ASSERT_DEPTHS(ctx, 5, 2, 0);
}

static void queue_depths_exclude_locked(duro_ct_ctx *ctx)
{
    duro_orch_item *it;
    duro_work_item *w;

    ct_require_management(ctx);
    ct_enqueue_start(ctx, "A");
    ct_enqueue(ctx, "A", DURO_MSG_EVENT, "ev", 0);
    it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, "A");
    ck_assert_uint_eq(it->n_msgs, 2);
    ct_enqueue_start(ctx, "B");
    ct_enqueue_work(ctx, "A", 1, "w1");
    ct_enqueue_work(ctx, "A", 2, "w2");
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    DURO_CT_ASSERT_DEPTHS(ctx, 1, 1, 0);
    duro_work_item_free(w);
    duro_orch_item_free(it);
}

static void queue_depths_count_expired_locks(duro_ct_ctx *ctx)
{
    duro_orch_item *it;
    duro_work_item *w;

    ct_require_management(ctx);
    ct_enqueue_start(ctx, "A");
    ct_enqueue(ctx, "A", DURO_MSG_EVENT, "ev", 0);
    ct_enqueue_work(ctx, "A", 1, "w1");
    it = ct_fetch(ctx);
    w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 0, 0);
    ctx->now += DURO_CT_LOCK_MS + 1;
    DURO_CT_ASSERT_DEPTHS(ctx, 2, 1, 0);
    duro_work_item_free(w);
    duro_orch_item_free(it);
}

static void metrics_empty_store(duro_ct_ctx *ctx)
{
    duro_metrics m;
    duro_error err;

    ct_require_management(ctx);
    memset(&m, 0xff, sizeof m);
    ck_assert_int_eq(ctx->p->ops->metrics(ctx->p, &m, &err), 0);
    ck_assert_uint_eq(m.instances, 0);
    ck_assert_uint_eq(m.executions, 0);
    ck_assert_uint_eq(m.running, 0);
    ck_assert_uint_eq(m.completed, 0);
    ck_assert_uint_eq(m.failed, 0);
    ck_assert_uint_eq(m.continued_as_new, 0);
    ck_assert_uint_eq(m.events, 0);
}

static void metrics_exact_counts(duro_ct_ctx *ctx)
{
    duro_metrics m;
    duro_error err;

    ct_require_management(ctx);
    ct_make_instance(ctx, "r1", NULL, 1, 0, 0, NULL);
    ct_make_instance(ctx, "r2", NULL, 2, 0, 0, NULL);
    ct_make_instance(ctx, "c", NULL, 3, 0, DURO_STATE_COMPLETED, "ok");
    ct_make_instance(ctx, "f", NULL, 2, 0, DURO_STATE_FAILED, "boom");
    ct_make_instance(ctx, "n", NULL, 4, 0, DURO_STATE_CONTINUED_AS_NEW, "again");
    ct_enqueue_start(ctx, "pending");
    ck_assert_int_eq(ctx->p->ops->metrics(ctx->p, &m, &err), 0);
    ck_assert_uint_eq(m.instances, 5);
    ck_assert_uint_eq(m.executions, 5);
    ck_assert_uint_eq(m.running, 2);
    ck_assert_uint_eq(m.completed, 1);
    ck_assert_uint_eq(m.failed, 1);
    ck_assert_uint_eq(m.continued_as_new, 1);
    ck_assert_uint_eq(m.events, 12);
}

static void metrics_count_every_execution(duro_ct_ctx *ctx)
{
    duro_metrics m;
    duro_error err;

    ct_require_management(ctx);
    chain(ctx, "multi", 3, 2, DURO_STATE_COMPLETED);
    ct_make_instance(ctx, "single", NULL, 5, 0, DURO_STATE_COMPLETED, "ok");
    ck_assert_int_eq(ctx->p->ops->metrics(ctx->p, &m, &err), 0);
    ck_assert_uint_eq(m.instances, 2);
    ck_assert_uint_eq(m.executions, 4);
    ck_assert_uint_eq(m.events, 11);
    ck_assert_uint_eq(m.completed, 2);
    ck_assert_uint_eq(m.continued_as_new, 0);
    ck_assert_uint_eq(m.running, 0);
    ck_assert_uint_eq(m.failed, 0);
}

static void depths_at_exact_lock_expiry(duro_ct_ctx *ctx)
{
    ct_require_management(ctx);
    ct_create_instance(ctx, "o");
    ct_enqueue(ctx, "o", DURO_MSG_EVENT, "ev", 0);
    ct_enqueue_work(ctx, "o", 1, "w");
    int64_t t = ctx->now;
    duro_orch_item *item = ct_fetch(ctx);        /* locked until t + DURO_CT_LOCK_MS */
    duro_work_item *work = ct_try_fetch_work(ctx); /* the same */
    ck_assert_ptr_nonnull(work);
    ctx->now = t + DURO_CT_LOCK_MS - 1;
    DURO_CT_ASSERT_DEPTHS(ctx, 0, 0, 0);
    ctx->now = t + DURO_CT_LOCK_MS; /* both locks end exactly now: both items count again */
    DURO_CT_ASSERT_DEPTHS(ctx, 1, 1, 0);
    duro_orch_item_free(item);
    duro_work_item_free(work);
}

DURO_CASES = {
    DURO_CASE(depths_at_exact_lock_expiry, DURO_CAP_MANAGEMENT, 0,
              "queue_depths counts a locked message or work item as queued again exactly at "
              "its lock's expiry, not one millisecond before."),
    DURO_CASE(list_instances_empty_store, DURO_CAP_MANAGEMENT, 0,
              "list_instances on an empty store succeeds with no ids."),
    DURO_CASE(list_instances_newest_first, DURO_CAP_MANAGEMENT, 0,
              "list_instances returns every instance newest first by the now_ms of the ack "
              "that created it, not by id."),
    DURO_CASE(list_instances_includes_children, DURO_CAP_MANAGEMENT, 0,
              "list_instances lists sub-orchestrations too, ordered with the roots by creation "
              "time."),
    DURO_CASE(list_instances_excludes_unstarted, DURO_CAP_MANAGEMENT, 0,
              "An instance exists only after an ack creates it: queued start messages and "
              "orphan messages do not make it listed."),
    DURO_CASE(list_instances_state_filter, DURO_CAP_MANAGEMENT, 0,
              "list_instances with a state filter returns exactly the instances in that state, "
              "newest first; a state that does not exist is DURO_EINVAL, not retryable."),
    DURO_CASE(list_instances_filter_uses_current_execution, DURO_CAP_MANAGEMENT, 0,
              "The state an instance is listed under is its current execution's state, not an "
              "older execution's."),
    DURO_CASE(list_executions_ascending, DURO_CAP_MANAGEMENT, 0,
              "list_executions returns every execution id of the instance in ascending order."),
    DURO_CASE(execution_info_running, DURO_CAP_MANAGEMENT, 0,
              "execution_info of a running execution reports state Running, no output, "
              "started_at = the creating ack's now_ms, completed_at 0 and the exact event "
              "count."),
    DURO_CASE(execution_info_completed, DURO_CAP_MANAGEMENT, 0,
              "execution_info of a completed execution reports its output, completed_at = the "
              "completing ack's now_ms and the event count over all its turns."),
    DURO_CASE(execution_info_times_per_execution, DURO_CAP_MANAGEMENT, 0,
              "execution_info reports each execution of a continued-as-new instance separately "
              "with its own state, output, times and event count."),
    DURO_CASE(execution_info_unknown, DURO_CAP_MANAGEMENT, 0,
              "execution_info of an unknown instance or unknown execution fails with "
              "DURO_ENOTFOUND (not retryable)."),
    DURO_CASE(instance_info_fields_running, DURO_CAP_MANAGEMENT, 0,
              "instance_info of a new instance reports name, version, no parent, execution 1, "
              "Running, no output, no custom status at version 0 and created_at = updated_at = "
              "the creating ack's now_ms."),
    DURO_CASE(instance_info_after_completion, DURO_CAP_MANAGEMENT, 0,
              "instance_info after a completing ack reports the output, the custom status, "
              "updated_at = that ack's now_ms and an unchanged created_at."),
    DURO_CASE(instance_info_child_parent, DURO_CAP_MANAGEMENT, 0,
              "instance_info reports the parent link of a sub-orchestration and none for a "
              "root."),
    DURO_CASE(list_children_direct_only, DURO_CAP_MANAGEMENT, 0,
              "list_children returns direct children only (no grandchildren, no unrelated "
              "instances); a leaf and an unknown id give zero children without error."),
    DURO_CASE(query_newest_first_ties_by_id, DURO_CAP_MANAGEMENT, 0,
              "query_instances returns instances newest first by created_at, instances created "
              "at the same time by id descending in byte order, at most `limit` of them."),
    DURO_CASE(query_resumes_strictly_after_key, DURO_CAP_MANAGEMENT, 0,
              "query_instances with a resume key returns only the rows strictly after "
              "(after_created_ms, after_instance) in that order, whether or not the key's "
              "instance exists."),
    DURO_CASE(query_state_name_prefix, DURO_CAP_MANAGEMENT, 0,
              "The state, orch_name and id_prefix filters of query_instances match exactly and "
              "combine with AND; children are listed, queued starts and orphans are not; an "
              "empty prefix is no filter."),
    DURO_CASE(query_prefix_is_literal_bytes, DURO_CAP_MANAGEMENT, 0,
              "id_prefix compares bytes: '_' and '%' are literal, case counts, and a prefix may "
              "end inside a multi-byte character."),
    DURO_CASE(query_time_bounds, DURO_CAP_MANAGEMENT, 0,
              "created bounds are [from, before); completed bounds match only instances whose "
              "current execution ended (Completed, Failed, ContinuedAsNew) at a time in "
              "[from, before); 0 is no bound."),
    DURO_CASE(query_summary_fields, DURO_CAP_MANAGEMENT, 0,
              "Each query_instances row carries name, version, parent, current execution, its "
              "state, created_at and the end time of the current execution (0 while it runs)."),
    DURO_CASE(query_invalid_is_einval, DURO_CAP_MANAGEMENT, 0,
              "query_instances with limit 0, an unknown state, an empty time range, an empty "
              "after_instance or a NULL argument fails with DURO_EINVAL (not retryable) and "
              "returns no rows."),
    DURO_CASE(queue_depths_empty_store, DURO_CAP_MANAGEMENT, 0,
              "queue_depths of an empty store is 0, 0, 0."),
    DURO_CASE(queue_depths_exact, DURO_CAP_MANAGEMENT, 0,
              "queue_depths counts visible orchestrator messages, work items and delayed "
              "messages exactly, and a delayed message moves to visible exactly at its "
              "visible_at."),
    DURO_CASE(queue_depths_exclude_locked, DURO_CAP_MANAGEMENT, 0,
              "Messages and work items under a live lock are not counted as queued; other "
              "instances' messages and unlocked work items are."),
    DURO_CASE(queue_depths_count_expired_locks, DURO_CAP_MANAGEMENT, 0,
              "Once a lock has expired its messages and work items are counted as queued "
              "again."),
    DURO_CASE(metrics_empty_store, DURO_CAP_MANAGEMENT, 0,
              "metrics of an empty store are all zero."),
    DURO_CASE(metrics_exact_counts, DURO_CAP_MANAGEMENT, 0,
              "metrics count instances, executions, instances per state and stored events "
              "exactly, and ignore instances that are only queued."),
    DURO_CASE(metrics_count_every_execution, DURO_CAP_MANAGEMENT, 0,
              "metrics count the executions and events of every execution, not only the "
              "current ones, and count each instance once, under its current execution's "
              "state."),
    DURO_CASES_END,
};
