/*
 * invalid_commits.c — conformance category "invalid_commits": every malformed ack_orch
 * commit is rejected with its exact error code, not retryable, and applies nothing. One
 * table of malformed commits, each a well-formed commit that writes every part (events,
 * state, custom status, work, a cancel, messages) with one thing wrong, runs against one
 * store with two locked instances (an existing one and one without a row); after every
 * rejection a full dump of the store through the read and management calls must equal the
 * dump taken before the first, and at the end both locks are still held, the batches come
 * back after expiry with the same payloads, and the corrected commits succeed.
 */
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY invalid_commits

/* An id one byte over DURO_MAX_ID_BYTES, and one exactly at it. */
static char ct_long_id[DURO_MAX_ID_BYTES + 2];
static char ct_max_id[DURO_MAX_ID_BYTES + 1];
static char ct_max_parent[DURO_MAX_ID_BYTES + 1];

static void make_ids(void)
{
    memset(ct_long_id, 'L', DURO_MAX_ID_BYTES + 1);
    ct_long_id[DURO_MAX_ID_BYTES + 1] = '\0';
    memset(ct_max_id, 'M', DURO_MAX_ID_BYTES);
    ct_max_id[DURO_MAX_ID_BYTES] = '\0';
    memset(ct_max_parent, 'P', DURO_MAX_ID_BYTES);
    ct_max_parent[DURO_MAX_ID_BYTES] = '\0';
}

/* ---- The store the table runs against ------------------------------------------------------ */

/* "a": execution 1 (continued as new, then pruned) and execution 2, Running, events 1, 2
 * and 4 (a gap), custom status "cs-a", work items (2, 1) "wa1" and (2, 2) "wa2". "b":
 * Running, 2 events, one work item, an EVENT "b-later" delayed by the lock time + 10 s. Then "a" is locked
 * with EVENTs "a-ev1", "a-ev2" and "new" (no row) with its START and an EVENT "n-ev". */
typedef struct fixture {
    duro_orch_item *a, *fresh;
} fixture;

static void build(duro_ct_ctx *ctx, fixture *fx)
{
    const duro_event_in e1[] = {{1, 1, "a1-1"}, {2, 1, "a1-2"}};
    const duro_event_in e2[] = {{1, 1, "a2-1"}, {2, 1, "a2-2"}, {4, 1, "a2-4"}};
    const duro_work_in w2[] = {{"a", 2, 1, "wa1"}, {"a", 2, 2, "wa2"}};
    const duro_msg next = {"a", DURO_MSG_CONTINUE_AS_NEW, 2, ctx->now, "next"};
    const duro_prune_options keep = {0, 0};
    duro_orch_commit c = ct_commit(1, e1, 2);
    duro_delete_result r;
    duro_error err = {0};

    ct_require_management(ctx);
    ct_make_instance(ctx, "b", NULL, 2, 1, 0, NULL);
    ctx->now += DURO_CT_STEP_MS;
    ct_enqueue_start(ctx, "a");
    duro_orch_item *it = ct_fetch(ctx);
    c.orch_name = "TestOrch";
    c.orch_version = "1.0.0";
    c.state = DURO_STATE_CONTINUED_AS_NEW;
    c.output = "continued";
    c.msgs = &next;
    c.n_msgs = 1;
    ct_ack(ctx, it, &c);
    ctx->now += DURO_CT_STEP_MS;
    c = ct_commit(2, e2, 3);
    c.work = w2;
    c.n_work = 2;
    c.set_custom_status = 1;
    c.custom_status = "cs-a";
    ct_ack(ctx, ct_fetch(ctx), &c);
    ck_assert_int_eq(ctx->p->ops->prune(ctx->p, ctx->now, "a", &keep, &r, &err), 0);
    DURO_CT_ASSERT_RESULT(r, 0, 1, 2, 0);
    ct_enqueue(ctx, "b", DURO_MSG_EVENT, "b-later", DURO_CT_LOCK_MS + 10000);
    ctx->now += DURO_CT_STEP_MS;
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "a-ev1", 0);
    ct_enqueue(ctx, "a", DURO_MSG_EVENT, "a-ev2", 0);
    fx->a = ct_fetch(ctx);
    ck_assert_str_eq(fx->a->instance, "a");
    ct_enqueue_start(ctx, "new");
    ct_enqueue(ctx, "new", DURO_MSG_EVENT, "n-ev", 0);
    fx->fresh = ct_fetch(ctx);
    ck_assert_str_eq(fx->fresh->instance, "new");
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static const char *const dump_ids[] = {"a", "b", "new", "P"};

static char *dump(duro_ct_ctx *ctx)
{
    return ct_dump_store(ctx, ctx->p, dump_ids, sizeof dump_ids / sizeof dump_ids[0]);
}

/* ---- The commits --------------------------------------------------------------------------- */

static const duro_event_in a_events[] = {{5, 1, "a2-5"}, {6, 1, "a2-6"}};
static const duro_work_in a_work[] = {{"a", 2, 3, "wa3"}};
static const duro_activity_ref a_cancel[] = {{2, 1}, {9, 9}};
static const duro_event_in n_events[] = {{1, 1, "n-1"}};
static const duro_work_in n_work[] = {{"new", 1, 1, "wn1"}};

/* The valid turn of "a": events 5, 6, Completed "out", custom status "cs-new", a work item
 * (2, 3), cancel of (2, 1) and of an unknown ref, a message to "b". Each table row breaks
 * one thing of it (or of the turn of "new" below). */
static duro_orch_commit a_commit(duro_msg *msg)
{
    duro_orch_commit c = ct_commit(2, a_events, 2);

    *msg = (duro_msg){"b", DURO_MSG_EVENT, 0, 0, "to-b"};
    c.state = DURO_STATE_COMPLETED;
    c.output = "out";
    c.set_custom_status = 1;
    c.custom_status = "cs-new";
    c.work = a_work;
    c.n_work = 1;
    c.cancel = a_cancel;
    c.n_cancel = 2;
    c.msgs = msg;
    c.n_msgs = 1;
    return c;
}

/* The valid first turn of "new": name, version, event 1, a work item, a message to "b". */
static duro_orch_commit new_commit(duro_msg *msg)
{
    duro_orch_commit c = ct_commit(1, n_events, 1);

    *msg = (duro_msg){"b", DURO_MSG_EVENT, 0, 0, "from-new"};
    c.orch_name = "NewOrch";
    c.orch_version = "2.0.0";
    c.work = n_work;
    c.n_work = 1;
    c.msgs = msg;
    c.n_msgs = 1;
    return c;
}

typedef struct bad_commit {
    const char *name;
    int fresh;                        /* 1: the turn of "new", 0: the turn of "a" */
    void (*breaks)(duro_orch_commit *c, duro_msg *msg);
    int code;
} bad_commit;

static const duro_event_in ev_decreasing[] = {{6, 1, "x"}, {5, 1, "y"}};
static const duro_event_in ev_gap[] = {{3, 1, "x"}};
static const duro_event_in ev_stored[] = {{4, 1, "x"}, {5, 1, "y"}};
static const duro_event_in ev_twice[] = {{5, 1, "x"}, {5, 1, "y"}};
static const duro_event_in ev_zero[] = {{0, 1, "x"}};
static const duro_event_in ev_null[] = {{5, 1, NULL}};
static const duro_work_in work_no_instance[] = {{NULL, 2, 3, "w"}};
static const duro_work_in work_long[] = {{ct_long_id, 2, 3, "w"}};

static void no_name_events(duro_orch_commit *c, duro_msg *m) { c->orch_name = NULL; }
static void no_name_state(duro_orch_commit *c, duro_msg *m)
{
    c->orch_name = NULL;
    c->n_events = 0;
    c->state = DURO_STATE_COMPLETED;
    c->output = "x";
}
static void no_name_status(duro_orch_commit *c, duro_msg *m)
{
    c->orch_name = NULL;
    c->n_events = 0;
    c->set_custom_status = 1;
    c->custom_status = "x";
}
static void new_exec_2(duro_orch_commit *c, duro_msg *m) { c->execution_id = 2; }
static void exec_zero(duro_orch_commit *c, duro_msg *m) { c->execution_id = 0; }
static void exec_pruned(duro_orch_commit *c, duro_msg *m) { c->execution_id = 1; }
static void exec_ahead(duro_orch_commit *c, duro_msg *m) { c->execution_id = 4; }
static void events_decreasing(duro_orch_commit *c, duro_msg *m) { c->events = ev_decreasing; }
static void event_in_gap(duro_orch_commit *c, duro_msg *m)
{
    c->events = ev_gap;
    c->n_events = 1;
}
static void event_stored(duro_orch_commit *c, duro_msg *m) { c->events = ev_stored; }
static void event_twice(duro_orch_commit *c, duro_msg *m) { c->events = ev_twice; }
static void event_zero(duro_orch_commit *c, duro_msg *m)
{
    c->events = ev_zero;
    c->n_events = 1;
}
static void event_null(duro_orch_commit *c, duro_msg *m)
{
    c->events = ev_null;
    c->n_events = 1;
}
static void state_invalid(duro_orch_commit *c, duro_msg *m) { c->state = (duro_state)9; }
static void events_missing(duro_orch_commit *c, duro_msg *m) { c->events = NULL; }
static void work_missing(duro_orch_commit *c, duro_msg *m) { c->work = NULL; }
static void cancel_missing(duro_orch_commit *c, duro_msg *m) { c->cancel = NULL; }
static void msgs_missing(duro_orch_commit *c, duro_msg *m) { c->msgs = NULL; }
static void work_without_instance(duro_orch_commit *c, duro_msg *m) { c->work = work_no_instance; }
static void msg_kind_zero(duro_orch_commit *c, duro_msg *m) { m->kind = (duro_msg_kind)0; }
static void msg_empty_instance(duro_orch_commit *c, duro_msg *m) { m->instance = ""; }
static void name_too_long(duro_orch_commit *c, duro_msg *m) { c->orch_name = ct_long_id; }
static void version_too_long(duro_orch_commit *c, duro_msg *m)
{
    c->orch_name = "TestOrch";
    c->orch_version = ct_long_id;
}
static void parent_too_long(duro_orch_commit *c, duro_msg *m) { c->parent_instance = ct_long_id; }
static void msg_target_too_long(duro_orch_commit *c, duro_msg *m) { m->instance = ct_long_id; }
static void work_target_too_long(duro_orch_commit *c, duro_msg *m) { c->work = work_long; }

static const bad_commit table[] = {
    {"events without orch_name (no row)", 1, no_name_events, DURO_EINVAL},
    {"state without orch_name (no row)", 1, no_name_state, DURO_EINVAL},
    {"custom status without orch_name (no row)", 1, no_name_status, DURO_EINVAL},
    {"execution 2 of an instance without a row", 1, new_exec_2, DURO_ENOTFOUND},
    {"execution 0", 0, exec_zero, DURO_EINVAL},
    {"a pruned execution below the current one", 0, exec_pruned, DURO_ENOTFOUND},
    {"an execution two after the current one", 0, exec_ahead, DURO_ENOTFOUND},
    {"event ids decreasing within the commit", 0, events_decreasing, DURO_ECONSTRAINT},
    {"an event id in a gap below the last stored id", 0, event_in_gap, DURO_ECONSTRAINT},
    {"an event id already stored", 0, event_stored, DURO_ECONSTRAINT},
    {"an event id twice within the commit", 0, event_twice, DURO_ECONSTRAINT},
    {"event id 0", 0, event_zero, DURO_ECONSTRAINT},
    {"an event without a payload", 0, event_null, DURO_EINVAL},
    {"an invalid state", 0, state_invalid, DURO_EINVAL},
    {"n_events without an events array", 0, events_missing, DURO_EINVAL},
    {"n_work without a work array", 0, work_missing, DURO_EINVAL},
    {"n_cancel without a cancel array", 0, cancel_missing, DURO_EINVAL},
    {"n_msgs without a msgs array", 0, msgs_missing, DURO_EINVAL},
    {"a work item without an instance id", 0, work_without_instance, DURO_EINVAL},
    {"a message of kind 0", 0, msg_kind_zero, DURO_EINVAL},
    {"a message to an empty instance id", 1, msg_empty_instance, DURO_EINVAL},
    {"an orch_name over DURO_MAX_ID_BYTES", 1, name_too_long, DURO_ETOOBIG},
    {"an orch_version over DURO_MAX_ID_BYTES", 0, version_too_long, DURO_ETOOBIG},
    {"a parent_instance over DURO_MAX_ID_BYTES", 1, parent_too_long, DURO_ETOOBIG},
    {"a message to an instance id over DURO_MAX_ID_BYTES", 0, msg_target_too_long,
     DURO_ETOOBIG},
    {"a work item for an instance id over DURO_MAX_ID_BYTES", 0, work_target_too_long,
     DURO_ETOOBIG},
};

/* Run every row of the table against the fixture; after each, the dump equals `before`. */
static void run_table(duro_ct_ctx *ctx, fixture *fx, const char *before)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const bad_commit *t = &table[i];
        duro_msg msg;
        duro_orch_commit c = t->fresh ? new_commit(&msg) : a_commit(&msg);
        duro_error err;
        int rc;

        msg.visible_at_ms = ctx->now;
        t->breaks(&c, &msg);
        rc = ct_ack_rc(ctx, t->fresh ? fx->fresh->lock_token : fx->a->lock_token, &c, &err);
        ck_assert_msg(rc == t->code, "%s: ack_orch returned %s, expected %s (%s)", t->name,
                      duro_err_name(rc), duro_err_name(t->code), err.message);
        ck_assert_msg(err.code == t->code && err.retryable == 0,
                      "%s: err is {%s, retryable %d}, expected {%s, 0}", t->name,
                      duro_err_name(err.code), err.retryable, duro_err_name(t->code));
        char *after = dump(ctx);
        ck_assert_msg(strcmp(before, after) == 0,
                      "%s changed the store.\nbefore:\n%s\nafter:\n%s", t->name, before, after);
        free(after);
    }
}

/* `it` has the same messages (ids, kinds, payloads) as `orig`, at attempt 2. */
static void same_batch(const duro_orch_item *it, const duro_orch_item *orig)
{
    ck_assert_str_eq(it->instance, orig->instance);
    ck_assert_uint_eq(it->attempt, 2);
    ck_assert_uint_eq(it->execution_id, orig->execution_id);
    ck_assert_uint_eq(it->n_msgs, orig->n_msgs);
    for (size_t i = 0; i < it->n_msgs; i++) {
        ck_assert_int_eq(it->msgs[i].id, orig->msgs[i].id);
        ck_assert_int_eq(it->msgs[i].kind, orig->msgs[i].kind);
        ck_assert_str_eq(it->msgs[i].payload, orig->msgs[i].payload);
    }
    ck_assert_uint_eq(it->n_history, orig->n_history);
    for (size_t i = 0; i < it->n_history; i++) {
        ck_assert_uint_eq(it->history[i].event_id, orig->history[i].event_id);
        ck_assert_str_eq(it->history[i].payload, orig->history[i].payload);
    }
}

static void malformed_commits_rejected_with_nothing_applied(duro_ct_ctx *ctx)
{
    fixture fx;
    duro_msg msg;
    duro_orch_commit c;
    duro_error err;
    char buf[256];

    make_ids();
    build(ctx, &fx);
    char *before = dump(ctx);
    run_table(ctx, &fx, before);
    free(before);

    /* both locks are still held; after expiry the batches come back unchanged */
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ctx->now += DURO_CT_LOCK_MS;
    duro_orch_item *a = ct_fetch(ctx);
    duro_orch_item *fresh = ct_fetch(ctx);
    same_batch(a, fx.a);
    same_batch(fresh, fx.fresh);
    ck_assert_uint_eq(a->n_msgs, 2);
    ck_assert_uint_eq(fresh->n_msgs, 2);
    c = a_commit(&msg);
    msg.visible_at_ms = ctx->now;
    ck_assert_int_eq(ct_ack_rc(ctx, fx.a->lock_token, &c, &err), DURO_ELOCK);
    duro_orch_item_free(fx.a);
    duro_orch_item_free(fx.fresh);

    /* the unbroken commits succeed */
    c = a_commit(&msg);
    msg.visible_at_ms = ctx->now;
    ct_ack(ctx, a, &c);
    c = new_commit(&msg);
    msg.visible_at_ms = ctx->now;
    ct_ack(ctx, fresh, &c);
    duro_instance_info info;
    ct_instance_info(ctx, "a", &info);
    ck_assert_int_eq(info.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(info.output, "out");
    ck_assert_str_eq(info.custom_status, "cs-new");
    ck_assert_uint_eq(info.custom_status_version, 2);
    duro_instance_info_clear(&info);
    ck_assert_uint_eq(ct_history_len(ctx, "a", 2), 5);
    ct_instance_info(ctx, "new", &info);
    ck_assert_str_eq(info.orch_name, "NewOrch");
    duro_instance_info_clear(&info);
    /* work: b's item, wa2 (wa1 was cancelled), wa3, wn1 */
    const char *expect[] = {"work", "wa2", "wa3", "wn1"};
    for (size_t i = 0; i < 4; i++) {
        duro_work_item *w = ct_try_fetch_work(ctx);
        ck_assert_ptr_nonnull(w);
        ck_assert_str_eq(w->payload, expect[i]);
        duro_work_item_free(w);
    }
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    /* b received both messages, once each, after its delayed one */
    ctx->now += 10000;
    duro_orch_item *b = ct_fetch(ctx);
    ck_assert_str_eq(b->instance, "b");
    buf[0] = '\0';
    for (size_t i = 0; i < b->n_msgs; i++) {
        strncat(buf, b->msgs[i].payload, sizeof buf - strlen(buf) - 2);
        strcat(buf, ";");
    }
    ck_assert_str_eq(buf, "b-later;to-b;from-new;");
    duro_orch_item_free(b);
}

static void unknown_cancel_refs_are_ignored(duro_ct_ctx *ctx)
{
    const duro_activity_ref refs[] = {{1, 9}, {2, 1}, {0, 1}};
    duro_orch_commit c = ct_commit(1, NULL, 0);

    ct_make_instance(ctx, "a", NULL, 1, 2, 0, NULL);
    ct_enqueue_work(ctx, "other", 9, "other-9");
    c.cancel = refs;
    c.n_cancel = 3;
    ct_turn(ctx, "a", &c);
    for (uint64_t k = 1; k <= 3; k++) {
        duro_work_item *w = ct_try_fetch_work(ctx);
        ck_assert_ptr_nonnull(w);
        ck_assert_uint_eq(w->activity_id, k < 3 ? k : 9);
        ck_assert_str_eq(w->payload, k < 3 ? "work" : "other-9");
        duro_work_item_free(w);
    }
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void ids_at_the_limit_accepted(duro_ct_ctx *ctx)
{
    const duro_event_in ev[] = {{1, 1, "e1"}};
    const duro_work_in w = {ct_max_id, 1, 1, "w"};
    duro_msg m = {ct_max_id, DURO_MSG_START, 1, 0, "start"};
    duro_orch_commit c = ct_commit(1, ev, 1);
    duro_instance_info info;
    duro_error err = {0};

    make_ids();
    m.visible_at_ms = ctx->now;
    ck_assert_int_eq(ctx->p->ops->enqueue_orch(ctx->p, &m, &err), 0);
    duro_orch_item *it = ct_fetch(ctx);
    ck_assert_str_eq(it->instance, ct_max_id);
    c.orch_name = ct_max_id;
    c.orch_version = ct_max_id;
    c.parent_instance = ct_max_parent;
    c.work = &w;
    c.n_work = 1;
    ct_ack(ctx, it, &c);
    ct_instance_info(ctx, ct_max_id, &info);
    ck_assert_str_eq(info.orch_name, ct_max_id);
    ck_assert_str_eq(info.orch_version, ct_max_id);
    ck_assert_str_eq(info.parent_instance, ct_max_parent);
    duro_instance_info_clear(&info);
    duro_work_item *wi = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(wi);
    ck_assert_str_eq(wi->instance, ct_max_id);
    duro_work_item_free(wi);
}

static void enqueue_id_over_limit_rejected(duro_ct_ctx *ctx)
{
    duro_msg m = {ct_long_id, DURO_MSG_START, 1, 0, "start"};
    duro_work_in w = {ct_long_id, 1, 1, "w"};
    duro_error err = {0};

    make_ids();
    m.visible_at_ms = ctx->now;
    ck_assert_int_eq(ctx->p->ops->enqueue_orch(ctx->p, &m, &err), DURO_ETOOBIG);
    ck_assert_int_eq(err.retryable, 0);
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(ctx->p->ops->enqueue_work(ctx->p, &w, &err), DURO_ETOOBIG);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ck_assert_ptr_null(ct_try_fetch_work(ctx));
}

static void ack_work_with_bad_completion_rejected(duro_ct_ctx *ctx)
{
    duro_msg bad = {ct_long_id, DURO_MSG_ACTIVITY_DONE, 1, 0, "done"};
    const duro_msg good = {"a", DURO_MSG_ACTIVITY_DONE, 1, ctx->now, "done"};
    duro_error err = {0};

    make_ids();
    ct_create_instance(ctx, "a");
    ct_enqueue_work(ctx, "a", 1, "w");
    duro_work_item *w = ct_try_fetch_work(ctx);
    ck_assert_ptr_nonnull(w);
    bad.visible_at_ms = ctx->now;
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, &bad, &err),
                     DURO_ETOOBIG);
    ck_assert_int_eq(err.retryable, 0);
    ck_assert_ptr_null(ct_try_fetch(ctx));      /* no completion was queued */
    ck_assert_ptr_null(ct_try_fetch_work(ctx)); /* and the item is still locked */
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(ctx->p->ops->ack_work(ctx->p, ctx->now, w->lock_token, &good, &err), 0);
    duro_orch_item *o = ct_fetch(ctx);
    ck_assert_str_eq(o->instance, "a");
    ck_assert_uint_eq(o->n_msgs, 1);
    duro_orch_item_free(o);
    duro_work_item_free(w);
}

DURO_CASES = {
    DURO_CASE(malformed_commits_rejected_with_nothing_applied, DURO_CAP_MANAGEMENT, 0,
              "Each of 26 malformed commits (no orch_name for a new instance, an execution "
              "neither stored, current nor next, event ids decreasing, in a gap, stored, repeated or 0, "
              "a NULL payload, a bad state, a missing array, a bad work item or message, an id "
              "over DURO_MAX_ID_BYTES) fails with its exact code, not retryable, leaves a full "
              "dump of the store unchanged and keeps the lock; the batches return unchanged "
              "after expiry and the unbroken commits then succeed."),
    DURO_CASE(unknown_cancel_refs_are_ignored, 0, 0,
              "A commit whose cancel refs match no work item of the instance succeeds and "
              "deletes nothing, not even another instance's item with the same ids."),
    DURO_CASE(ids_at_the_limit_accepted, 0, 0,
              "Instance ids, names, versions and parent ids of exactly DURO_MAX_ID_BYTES are "
              "accepted by enqueue and ack and read back unchanged."),
    DURO_CASE(ack_work_with_bad_completion_rejected, 0, 0,
              "ack_work whose completion names an instance id over DURO_MAX_ID_BYTES fails with "
              "DURO_ETOOBIG, not retryable, queues nothing and keeps the item locked; the ack "
              "with a valid completion then succeeds."),
    DURO_CASE(enqueue_id_over_limit_rejected, 0, 0,
              "enqueue_orch and enqueue_work of an instance id over DURO_MAX_ID_BYTES fail "
              "with DURO_ETOOBIG, not retryable, and enqueue nothing."),
    DURO_CASES_END,
};
