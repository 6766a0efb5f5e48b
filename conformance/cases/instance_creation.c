/*
 * instance_creation.c — conformance cases for how an instance comes into existence.
 *
 * Enqueueing never creates an instance; a START message makes a not-yet-existing instance
 * fetchable (no name, execution 1, state NOT_FOUND, empty history); the first ack creates the
 * instance row (name, version, parent, created_at = the ack's now) and the execution row.
 * Later acks update the version, keep the stored name when they pass NULL, and a second
 * START for a running instance is an ordinary message that never resets its history.
 */
#include <string.h>

#include "suite.h"

#define DURO_CATEGORY instance_creation

/* ---- Helpers ------------------------------------------------------------------------------ */

static int info_rc(duro_ct_ctx *ctx, const char *instance)
{
    duro_error err = {0};
    duro_instance_info out;

    memset(&out, 0, sizeof out);
    int rc = ctx->p->ops->instance_info(ctx->p, instance, &out, &err);
    duro_instance_info_clear(&out);
    return rc;
}

/* Fetch the first turn of a started, never acked instance and check what it reports. */
static duro_orch_item *fetch_first_turn(duro_ct_ctx *ctx, const char *instance)
{
    duro_orch_item *item = ct_fetch(ctx);

    ck_assert_str_eq(item->instance, instance);
    ck_assert_ptr_null(item->orch_name);
    ck_assert_uint_eq(item->execution_id, 1);
    ck_assert_int_eq(item->state, DURO_STATE_NOT_FOUND);
    ck_assert_uint_eq(item->n_history, 0);
    ck_assert_ptr_null(item->history_error);
    return item;
}

/* Ack `item` as a first turn: event 1 "started" with the given metadata. */
static void ack_first_turn(duro_ct_ctx *ctx, duro_orch_item *item, const char *name,
                           const char *version, const char *parent)
{
    const duro_event_in events[] = {{1, 1, "started"}};
    duro_orch_commit c = ct_commit(1, events, 1);

    c.orch_name = name;
    c.orch_version = version;
    c.parent_instance = parent;
    ct_ack(ctx, item, &c);
}

/* One more turn for an existing instance with the given metadata and event `event_id`. */
static void later_turn(duro_ct_ctx *ctx, const char *instance, uint64_t event_id,
                       const char *name, const char *version)
{
    const duro_event_in events[] = {{event_id, 2, "later"}};
    duro_orch_commit c = ct_commit(1, events, 1);

    duro_orch_item *item = ct_poke(ctx, instance);
    c.orch_name = name;
    c.orch_version = version;
    ct_ack(ctx, item, &c);
}

/* ---- Cases -------------------------------------------------------------------------------- */

static void enqueue_does_not_create_instance(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "ic-new");
    ct_enqueue(ctx, "ic-new", DURO_MSG_EVENT, "early", 0);

    ck_assert_int_eq(info_rc(ctx, "ic-new"), DURO_ENOTFOUND);
    ck_assert_uint_eq(ct_history_len(ctx, "ic-new", 0), 0);
    ck_assert_uint_eq(ct_history_len(ctx, "ic-new", 1), 0);
}

static void start_fetchable_for_unknown_instance(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "ic-new");
    duro_orch_item *item = fetch_first_turn(ctx, "ic-new");

    ck_assert_ptr_null(item->orch_version);
    ck_assert_ptr_null(item->custom_status);
    ck_assert_uint_eq(item->attempt, 1);
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_START);
    ck_assert_uint_eq(item->msgs[0].execution_id, 1);
    ck_assert_str_eq(item->msgs[0].payload, "start:ic-new");
    duro_orch_item_free(item);
    ck_assert_int_eq(info_rc(ctx, "ic-new"), DURO_ENOTFOUND);
}

static void first_ack_creates_instance(duro_ct_ctx *ctx)
{
    duro_instance_info in;

    ct_enqueue_start(ctx, "ic-new");
    ack_first_turn(ctx, fetch_first_turn(ctx, "ic-new"), "CreateOrch", "1.2.3", NULL);

    ct_instance_info(ctx, "ic-new", &in);
    ck_assert_str_eq(in.instance, "ic-new");
    ck_assert_str_eq(in.orch_name, "CreateOrch");
    ck_assert_str_eq(in.orch_version, "1.2.3");
    ck_assert_ptr_null(in.parent_instance);
    ck_assert_uint_eq(in.execution_id, 1);
    ck_assert_int_eq(in.state, DURO_STATE_RUNNING);
    ck_assert_ptr_null(in.output);
    ck_assert_ptr_null(in.custom_status);
    ck_assert_uint_eq(in.custom_status_version, 0);
    duro_instance_info_clear(&in);
    ck_assert_uint_eq(ct_history_len(ctx, "ic-new", 1), 1);
    ck_assert_uint_eq(ct_history_len(ctx, "ic-new", 0), 1);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void created_at_is_the_first_ack_time(duro_ct_ctx *ctx)
{
    duro_instance_info in;

    ct_enqueue_start(ctx, "ic-new");
    ctx->now += 1500;
    duro_orch_item *item = fetch_first_turn(ctx, "ic-new");
    ctx->now += 250;
    int64_t acked = ctx->now;
    ack_first_turn(ctx, item, "TestOrch", "1.0.0", NULL);

    ct_instance_info(ctx, "ic-new", &in);
    ck_assert_int_eq(in.created_at_ms, acked);
    ck_assert_int_eq(in.updated_at_ms, acked);
    duro_instance_info_clear(&in);
}

static void later_ack_keeps_created_at_and_moves_updated_at(duro_ct_ctx *ctx)
{
    duro_instance_info in;
    int64_t created = ctx->now;

    ct_create_instance(ctx, "ic-a");
    ctx->now += 60000;
    later_turn(ctx, "ic-a", 2, NULL, NULL);

    ct_instance_info(ctx, "ic-a", &in);
    ck_assert_int_eq(in.created_at_ms, created);
    ck_assert_int_eq(in.updated_at_ms, created + 60000);
    duro_instance_info_clear(&in);
}

static void later_ack_updates_version(duro_ct_ctx *ctx)
{
    duro_instance_info in;

    ct_create_instance(ctx, "ic-a");
    later_turn(ctx, "ic-a", 2, "TestOrch", "2.0.0");

    ct_instance_info(ctx, "ic-a", &in);
    ck_assert_str_eq(in.orch_name, "TestOrch");
    ck_assert_str_eq(in.orch_version, "2.0.0");
    duro_instance_info_clear(&in);
    ct_enqueue(ctx, "ic-a", DURO_MSG_EVENT, "again", 0);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->orch_name, "TestOrch");
    ck_assert_str_eq(item->orch_version, "2.0.0");
    ck_assert_uint_eq(item->n_history, 2);
    duro_orch_item_free(item);
}

static void null_metadata_on_later_ack_keeps_stored_values(duro_ct_ctx *ctx)
{
    duro_instance_info in;

    ct_create_instance(ctx, "ic-a");
    later_turn(ctx, "ic-a", 2, NULL, NULL);

    ct_instance_info(ctx, "ic-a", &in);
    ck_assert_str_eq(in.orch_name, "TestOrch");
    ck_assert_str_eq(in.orch_version, "1.0.0");
    ck_assert_int_eq(in.state, DURO_STATE_RUNNING);
    duro_instance_info_clear(&in);
    ck_assert_uint_eq(ct_history_len(ctx, "ic-a", 1), 2);
}

static void child_instance_records_its_parent(duro_ct_ctx *ctx)
{
    const duro_event_in events[] = {{2, 7, "child-scheduled"}};
    const duro_msg start_child[] = {
        {"ic-child", DURO_MSG_START, 1, ctx->now, "start:ic-child"},
    };
    duro_orch_commit c = ct_commit(1, events, 1);
    duro_instance_info in;

    ct_create_instance(ctx, "ic-parent");
    ct_enqueue(ctx, "ic-parent", DURO_MSG_EVENT, "go", 0);
    c.msgs = start_child;
    c.n_msgs = 1;
    ct_ack(ctx, ct_fetch(ctx), &c);

    duro_orch_item *child = fetch_first_turn(ctx, "ic-child");
    ck_assert_str_eq(child->msgs[0].payload, "start:ic-child");
    ack_first_turn(ctx, child, "ChildOrch", "1.5.0", "ic-parent");

    ct_instance_info(ctx, "ic-child", &in);
    ck_assert_str_eq(in.parent_instance, "ic-parent");
    ck_assert_str_eq(in.orch_name, "ChildOrch");
    ck_assert_str_eq(in.orch_version, "1.5.0");
    duro_instance_info_clear(&in);
    ct_instance_info(ctx, "ic-parent", &in);
    ck_assert_ptr_null(in.parent_instance);
    duro_instance_info_clear(&in);
}

static void duplicate_start_is_delivered_as_message(duro_ct_ctx *ctx)
{
    duro_orch_commit drain = ct_commit(1, NULL, 0);
    duro_instance_info in;
    int64_t created = ctx->now;

    ct_create_instance(ctx, "ic-a");
    ctx->now += 1000;
    ct_enqueue_start(ctx, "ic-a");
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "ic-a");
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_START);
    ck_assert_str_eq(item->orch_name, "TestOrch");
    ck_assert_int_eq(item->state, DURO_STATE_RUNNING);
    ck_assert_uint_eq(item->n_history, 1);
    ck_assert_str_eq(item->history[0].payload, "started");
    ct_ack(ctx, item, &drain);

    ck_assert_uint_eq(ct_history_len(ctx, "ic-a", 1), 1);
    ct_instance_info(ctx, "ic-a", &in);
    ck_assert_int_eq(in.created_at_ms, created);
    ck_assert_uint_eq(in.execution_id, 1);
    ck_assert_int_eq(in.state, DURO_STATE_RUNNING);
    duro_instance_info_clear(&in);
    ck_assert_ptr_null(ct_try_fetch(ctx));
}

static void abandoned_first_turn_creates_nothing(duro_ct_ctx *ctx)
{
    duro_error err = {0};

    ct_enqueue_start(ctx, "ic-new");
    duro_orch_item *item = fetch_first_turn(ctx, "ic-new");
    int rc = ctx->p->ops->abandon_orch(ctx->p, ctx->now, item->lock_token, 0, 0, &err);
    ck_assert_int_eq(rc, 0);
    duro_orch_item_free(item);

    ck_assert_int_eq(info_rc(ctx, "ic-new"), DURO_ENOTFOUND);
    item = fetch_first_turn(ctx, "ic-new");
    ck_assert_uint_eq(item->attempt, 2);
    ck_assert_uint_eq(item->n_msgs, 1);
    duro_orch_item_free(item);
}

static void expired_first_turn_creates_nothing(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "ic-new");
    duro_orch_item_free(fetch_first_turn(ctx, "ic-new"));
    ctx->now += DURO_CT_LOCK_MS;

    ck_assert_int_eq(info_rc(ctx, "ic-new"), DURO_ENOTFOUND);
    duro_orch_item *item = fetch_first_turn(ctx, "ic-new");
    ck_assert_uint_eq(item->attempt, 2);
    ack_first_turn(ctx, item, "TestOrch", "1.0.0", NULL);
    ck_assert_int_eq(info_rc(ctx, "ic-new"), 0);
}

static void instances_created_in_any_ack_order(duro_ct_ctx *ctx)
{
    duro_instance_info in;

    ct_enqueue_start(ctx, "ic-first");
    ct_enqueue_start(ctx, "ic-second");
    duro_orch_item *first = fetch_first_turn(ctx, "ic-first");
    duro_orch_item *second = fetch_first_turn(ctx, "ic-second");
    ack_first_turn(ctx, second, "SecondOrch", "2.0.0", NULL);
    ck_assert_int_eq(info_rc(ctx, "ic-first"), DURO_ENOTFOUND);
    ack_first_turn(ctx, first, "FirstOrch", "1.0.0", NULL);

    ct_instance_info(ctx, "ic-first", &in);
    ck_assert_str_eq(in.orch_name, "FirstOrch");
    ck_assert_str_eq(in.orch_version, "1.0.0");
    duro_instance_info_clear(&in);
    ct_instance_info(ctx, "ic-second", &in);
    ck_assert_str_eq(in.orch_name, "SecondOrch");
    ck_assert_str_eq(in.orch_version, "2.0.0");
    duro_instance_info_clear(&in);
}

static void second_start_while_first_turn_locked_joins_next_batch(duro_ct_ctx *ctx)
{
    ct_enqueue_start(ctx, "ic-new");
    duro_orch_item *item = fetch_first_turn(ctx, "ic-new");
    ct_enqueue_start(ctx, "ic-new");
    ck_assert_ptr_null(ct_try_fetch(ctx));
    ack_first_turn(ctx, item, "TestOrch", "1.0.0", NULL);

    item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, "ic-new");
    ck_assert_str_eq(item->orch_name, "TestOrch");
    ck_assert_int_eq(item->state, DURO_STATE_RUNNING);
    ck_assert_uint_eq(item->n_msgs, 1);
    ck_assert_int_eq(item->msgs[0].kind, DURO_MSG_START);
    ck_assert_uint_eq(item->n_history, 1);
    ck_assert_uint_eq(item->attempt, 1);
    duro_orch_item_free(item);
}

DURO_CASES = {
    DURO_CASE(enqueue_does_not_create_instance, 0, 0,
              "Enqueueing messages, even a START, creates no instance: instance_info is "
              "DURO_ENOTFOUND and the history is empty."),
    DURO_CASE(start_fetchable_for_unknown_instance, 0, 0,
              "A START for an instance without a row is fetchable: no name, execution 1, state "
              "NOT_FOUND, empty history, the START message."),
    DURO_CASE(first_ack_creates_instance, 0, 0,
              "The first ack creates the instance with its name and version, Running in "
              "execution 1, no parent, output or custom status."),
    DURO_CASE(created_at_is_the_first_ack_time, 0, 0,
              "created_at and updated_at of a new instance are the now_ms of the ack that "
              "created it, not of the enqueue or fetch."),
    DURO_CASE(later_ack_keeps_created_at_and_moves_updated_at, 0, 0,
              "A later ack leaves created_at unchanged and sets updated_at to its own now_ms."),
    DURO_CASE(later_ack_updates_version, 0, 0,
              "A version given by a later ack replaces the stored one, in instance_info and in "
              "the next fetch."),
    DURO_CASE(null_metadata_on_later_ack_keeps_stored_values, 0, 0,
              "A later ack with NULL name and version keeps the stored name and version."),
    DURO_CASE(child_instance_records_its_parent, 0, 0,
              "A sub-orchestration started by its parent's ack records the parent instance; "
              "the root has none."),
    DURO_CASE(duplicate_start_is_delivered_as_message, 0, 0,
              "A second START for a running instance is delivered as an ordinary message and "
              "never resets its history, execution or created_at."),
    DURO_CASE(abandoned_first_turn_creates_nothing, 0, 0,
              "Abandoning the first turn leaves no instance behind; the START comes back with "
              "attempt 2."),
    DURO_CASE(expired_first_turn_creates_nothing, 0, 0,
              "A first turn whose lock expires leaves no instance; the next holder creates "
              "it."),
    DURO_CASE(instances_created_in_any_ack_order, 0, 0,
              "Two new instances locked together are each created by their own ack, in "
              "whatever order the acks come."),
    DURO_CASE(second_start_while_first_turn_locked_joins_next_batch, 0, 0,
              "A START arriving while the first turn holds the lock waits, then comes alone to "
              "the created instance."),
    DURO_CASES_END,
};
