/*
 * test-durable-alloc.c — every allocation failure of the turns that make the issue 13 calls
 * (duro_read_value, duro_continue_as_new_version, duro_call_sub_version), driven through the
 * turn engine (lib/replay.h) on the test's own thread, where conformance/alloc-fault.c fails
 * the k-th allocation, for k = 1, 2, ... until a run in which none failed.
 *
 * Each run with a failed allocation must end in one of the handled ways: the turn returns
 * DURO_ENOMEM (the runtime abandons it), the turn is discarded for a retry (a store read that
 * failed, ABANDON_RETRY), the commit fails the instance as infrastructure "out of memory",
 * or the failure was absorbed and the commit is exactly the expected one (the codec parses a
 * text that failed once again, as jansson reports a failed allocation as a syntax error);
 * the first run without a failure must build exactly the expected commit. The read
 * goes to a real in-memory SQLite store holding instance "other" with key "k" = "v", whose
 * own allocations (SQLite's included) are swept too. Run under valgrind it also proves that
 * no failure path leaks.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-fault.h"
#include "duro-sqlite.h"
#include "junit-check.h"
#include "replay.h"

static int setter(duro_orch *o, const char *input, void *ud)
{
    duro_task *t;

    (void)input;
    (void)ud;
    if (duro_set_value(o, "k", "v"))
        return DURO_DONE;
    t = duro_wait_event(o, "never");
    DURO_AWAIT(o, t);
    return duro_complete(o, "");
}

static int reader(duro_orch *o, const char *input, void *ud)
{
    const char *v;

    (void)input;
    (void)ud;
    if (duro_read_value(o, "other", "k", &v))
        return DURO_DONE;
    return duro_completef(o, "got=%s", v ? v : "(unset)");
}

static int mover(duro_orch *o, const char *input, void *ud)
{
    (void)input;
    (void)ud;
    return duro_continue_as_new_version(o, "next", "2.0.0");
}

static int parent(duro_orch *o, const char *input, void *ud)
{
    duro_task *t;

    (void)input;
    (void)ud;
    t = duro_call_sub_version(o, "Child", "2.0.0", "kid", "x");
    DURO_AWAIT(o, t);
    return duro_complete(o, duro_task_value(t));
}

static duro_registry *registry(void)
{
    duro_registry *r = duro_registry_new();

    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(duro_register_orchestration(r, "Setter", NULL, setter, NULL), 0);
    ck_assert_int_eq(duro_register_orchestration(r, "Reader", NULL, reader, NULL), 0);
    ck_assert_int_eq(duro_register_orchestration(r, "Mover", NULL, mover, NULL), 0);
    ck_assert_int_eq(duro_register_orchestration(r, "Parent", NULL, parent, NULL), 0);
    return r;
}

/* Start `instance` of `name` through a client and fetch its first item (locked). */
static duro_orch_item *fetch_start(duro_provider *p, const char *instance, const char *name)
{
    duro_client *c;
    duro_orch_item *item = NULL;
    duro_error err = {0};

    ck_assert_int_eq(duro_client_new(p, &c, &err), 0);
    ck_assert_int_eq(duro_client_start(c, instance, name, "", &err), 0);
    duro_client_free(c);
    ck_assert_int_eq(p->ops->fetch_orch(p, duro_clock_now_ms(), 60000, 0, &item, &err), 0);
    ck_assert_str_eq(item->instance, instance);
    return item;
}

/* An in-memory store in which instance "other" has committed k = "v". */
static duro_provider *store_with_other(const duro_registry *reg)
{
    duro_provider *p;
    duro_orch_item *item;
    duro__turn t;
    duro_error err = {0};

    ck_assert_int_eq(duro_sqlite_open(":memory:", NULL, &p, &err), 0);
    item = fetch_start(p, "other", "Setter");
    ck_assert_int_eq(duro__turn_run(reg, item, duro_clock_now_ms(), NULL, NULL, &t), 0);
    ck_assert_int_eq(p->ops->ack_orch(p, duro_clock_now_ms(), item->lock_token, &t.commit, &err),
                     0);
    duro__turn_free(&t);
    duro_orch_item_free(item);
    return p;
}

/* The event payload of the first new event of kind `kind` in `t`'s commit, or NULL. */
static const char *new_event(const duro__turn *t, int kind)
{
    size_t i;

    for (i = 0; i < t->commit.n_events; i++)
        if (t->commit.events[i].kind == kind)
            return t->commit.events[i].payload;
    return NULL;
}

/* The exact commit of each scenario's first turn. */
static void expect_clean(int scenario, const duro__turn *t)
{
    ck_assert_int_eq(t->action, DURO__TURN_COMMIT);
    switch (scenario) {
    case 0:
        ck_assert_int_eq(t->commit.state, DURO_STATE_COMPLETED);
        ck_assert_str_eq(t->commit.output, "got=v");
        ck_assert_str_eq(new_event(t, DURO_EVENT_VALUE_READ),
                         "{\"instance\":\"other\",\"name\":\"k\",\"what\":\"set\",\"text\":\"v\"}");
        break;
    case 1:
        ck_assert_int_eq(t->commit.state, DURO_STATE_CONTINUED_AS_NEW);
        ck_assert_uint_eq(t->commit.n_msgs, 1);
        ck_assert_int_eq(t->commit.msgs[0].kind, DURO_MSG_CONTINUE_AS_NEW);
        ck_assert_ptr_nonnull(t->commit.msg_targets);
        ck_assert_str_eq(t->commit.msg_targets[0].orch_name, "Mover");
        ck_assert_str_eq(t->commit.msg_targets[0].orch_version, "2.0.0");
        ck_assert_ptr_nonnull(strstr(new_event(t, DURO_EVENT_ORCH_CONTINUED),
                                     "\"version\":\"2.0.0\""));
        break;
    default:
        ck_assert_int_eq(t->commit.state, DURO_STATE_RUNNING);
        ck_assert_uint_eq(t->commit.n_msgs, 1);
        ck_assert_int_eq(t->commit.msgs[0].kind, DURO_MSG_START);
        ck_assert_str_eq(t->commit.msgs[0].instance, "kid");
        ck_assert_ptr_nonnull(t->commit.msg_targets);
        ck_assert_str_eq(t->commit.msg_targets[0].orch_name, "Child");
        ck_assert_str_eq(t->commit.msg_targets[0].orch_version, "2.0.0");
        ck_assert_ptr_nonnull(strstr(new_event(t, DURO_EVENT_SUB_SCHEDULED),
                                     "\"version\":\"2.0.0\""));
        break;
    }
}

/* The first turn of scenario `scenario` (0 read, 1 continue-as-new, 2 sub-orchestration):
 * its registry, its store (holding "other") and the fetched item of instance "subject". */
typedef struct fixture {
    duro_registry *reg;
    duro_provider *p;
    duro_orch_item *item;
    duro__turn_env env;
} fixture;

static void fixture_open(fixture *f, int scenario)
{
    static const char *const names[] = {"Reader", "Mover", "Parent"};

    f->reg = registry();
    f->p = store_with_other(f->reg);
    f->item = fetch_start(f->p, "subject", names[scenario]);
    f->env.kv_supported = 1;
    f->env.no_tags_provider = f->env.no_sessions_provider = NULL;
    f->env.values = f->p;
}

static void fixture_close(fixture *f)
{
    duro_orch_item_free(f->item);
    duro_provider_destroy(f->p);
    duro_registry_free(f->reg);
}

#if DURO_ALLOC_FAULT_AVAILABLE
START_TEST(test_every_allocation_failure_is_handled)
{
    fixture f;
    long k, failed = 0;

    fixture_open(&f, _i);
    for (k = 1;; k++) {
        duro__turn t;
        int rc;
        long made;

        duro__alloc_fault(NULL, k);
        rc = duro__turn_run_for(f.reg, f.item, duro_clock_now_ms(), NULL, NULL, &f.env, &t);
        made = duro__alloc_fault(NULL, 0);
        if (made < k) { /* nothing failed: the exact commit, and the sweep is over */
            ck_assert_int_eq(rc, 0);
            expect_clean(_i, &t);
            duro__turn_free(&t);
            break;
        }
        failed++;
        if (rc == 0 && t.action == DURO__TURN_COMMIT && t.commit.state == DURO_STATE_FAILED) {
            ck_assert_msg(t.category == DURO_CAT_INFRASTRUCTURE &&
                              strstr(t.commit.output, "out of memory"),
                          "allocation %ld: category %d output %s", k, t.category,
                          t.commit.output);
        } else if (rc == 0 && t.action == DURO__TURN_COMMIT) {
            expect_clean(_i, &t); /* the failure was absorbed (a parse retried) */
        } else if (rc == 0) {
            ck_assert_msg(t.action == DURO__TURN_ABANDON_RETRY, "allocation %ld: action %d (%s)",
                          k, t.action, t.reason ? t.reason : "");
            ck_assert_int_eq(_i, 0); /* only the read reaches the store */
        } else {
            ck_assert_msg(rc == DURO_ENOMEM, "allocation %ld: %s", k, duro_err_name(rc));
        }
        duro__turn_free(&t);
    }
    ck_assert_int_gt(failed, 10);
    fixture_close(&f);
}
END_TEST
#endif

/* Without faults: each scenario's commit (the sweep's last run checks the same). */
START_TEST(test_clean_turns)
{
    fixture f;
    duro__turn t;

    fixture_open(&f, _i);
    ck_assert_int_eq(
        duro__turn_run_for(f.reg, f.item, duro_clock_now_ms(), NULL, NULL, &f.env, &t), 0);
    expect_clean(_i, &t);
    duro__turn_free(&t);
    fixture_close(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("durable-alloc");
    TCase *tc = tcase_create("turns");
    SRunner *sr;
    int rc;

    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_clean_turns, 0, 3);
#if DURO_ALLOC_FAULT_AVAILABLE
    tcase_add_loop_test(tc, test_every_allocation_failure_is_handled, 0, 3);
#endif
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    rc = junit_check_run(sr, "test-durable-alloc", CK_NORMAL);
    srunner_free(sr);
    return rc;
}
