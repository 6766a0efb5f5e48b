/*
 * test-ops-v1.c — the versioned ABI: a provider whose vtable has the frozen version-1 layout
 * (tests/provider-ops-v1.h) loads and runs a workflow under this library, which never reads a
 * member the provider's version lacks; and every caller-allocated options struct is read only
 * as far as its `size` says.
 *
 * The v1 vtable is the SQLite provider's own callbacks in a duro_provider_ops_v1, placed at
 * the very end of a page whose next page is PROT_NONE: reading any later member (such as the
 * version-2 integrity_check) faults at once, with or without a sanitizer.
 */
#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "duro-sqlite.h"
#include "duro.h"
#include "junit-check.h"
#include "provider-ops-v1.h"

_Static_assert(sizeof(duro_provider_ops_v1) == offsetof(duro_provider_ops, integrity_check),
               "version 2 appends to the version-1 layout");

/* A v1 vtable at the end of a readable page followed by an inaccessible one. */
typedef struct guarded_ops {
    void *map;
    size_t len;
    duro_provider_ops_v1 *ops;
} guarded_ops;

static void guarded_ops_new(guarded_ops *g, const duro_provider_ops *from)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    g->len = 2 * page;
    g->map = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(g->map, MAP_FAILED);
    ck_assert_int_eq(mprotect((char *)g->map + page, page, PROT_NONE), 0);
    g->ops = (duro_provider_ops_v1 *)((char *)g->map + page - sizeof(duro_provider_ops_v1));
    memcpy(g->ops, from, sizeof(duro_provider_ops_v1));
    g->ops->version = DURO_PROVIDER_OPS_V1;
}

static void guarded_ops_free(guarded_ops *g)
{
    munmap(g->map, g->len);
}

static int greet(duro_activity *a, const char *name, void *ud)
{
    return duro_activity_okf(a, "Hello, %s!", name);
}

static int hello(duro_orch *o, const char *input, void *ud)
{
    duro_task *t = duro_call_activity(o, "Greet", input);
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_fail(o, duro_task_error(t));
    return duro_complete(o, duro_task_value(t));
}

static duro_registry *hello_registry(void)
{
    duro_registry *reg = duro_registry_new();
    ck_assert_ptr_nonnull(reg);
    ck_assert_int_eq(duro_register_activity(reg, "Greet", greet, NULL), 0);
    ck_assert_int_eq(duro_register_orchestration(reg, "Hello", NULL, hello, NULL), 0);
    return reg;
}

static duro_provider *open_memory(void)
{
    duro_provider *p = NULL;
    duro_error err = {0};
    ck_assert_int_eq(duro_sqlite_open(":memory:", NULL, &p, &err), 0);
    return p;
}

/* Run Hello("v1") on `p` to completion and check its output. */
static void run_hello(duro_provider *p, const duro_runtime_options *opt)
{
    duro_registry *reg = hello_registry();
    duro_runtime *rt = NULL;
    duro_client *c = NULL;
    duro_status st = {0};
    duro_error err = {0};
    ck_assert_msg(duro_runtime_start(p, reg, opt, &rt, &err) == 0, "%s", err.message);
    ck_assert_int_eq(duro_client_new(p, &c, &err), 0);
    ck_assert_int_eq(duro_client_start(c, "v1-hello", "Hello", "v1", &err), 0);
    ck_assert_int_eq(duro_client_wait(c, "v1-hello", 30000, &st, &err), 0);
    ck_assert_int_eq(st.state, DURO_STATE_COMPLETED);
    ck_assert_str_eq(st.output, "Hello, v1!");
    duro_status_clear(&st);
    duro_client_free(c);
    ck_assert_int_eq(duro_runtime_shutdown(rt), 0);
    duro_registry_free(reg);
}

START_TEST(v1_provider_runs_a_workflow)
{
    duro_provider *p = open_memory();
    const duro_provider_ops *own = p->ops;
    guarded_ops g;
    char msg[128] = "";
    guarded_ops_new(&g, own);
    p->ops = (const duro_provider_ops *)g.ops;
    ck_assert_int_eq(duro_provider_check(p, NULL), 0);
    ck_assert_int_eq(duro_provider_has_version(p, DURO_PROVIDER_OPS_V1), 1);
    ck_assert_int_eq(duro_provider_has_version(p, DURO_PROVIDER_OPS_V2), 0);
    ck_assert_int_eq(duro_provider_integrity_check(p, msg, sizeof msg), DURO_ENOTSUP);
    ck_assert_str_eq(msg, "the provider has no integrity check");
    run_hello(p, NULL);
    p->ops = own;
    ck_assert_int_eq(duro_provider_integrity_check(p, msg, sizeof msg), 0);
    duro_provider_destroy(p);
    guarded_ops_free(&g);
}
END_TEST

START_TEST(ops_version_0_is_rejected_by_name)
{
    duro_provider *p = open_memory();
    const duro_provider_ops *own = p->ops;
    duro_registry *reg = hello_registry();
    duro_runtime *rt = NULL;
    duro_client *c = NULL;
    duro_error err = {0};
    guarded_ops g;
    guarded_ops_new(&g, own);
    g.ops->version = 0;
    p->ops = (const duro_provider_ops *)g.ops;
    ck_assert_int_eq(duro_runtime_start(p, reg, NULL, &rt, &err), DURO_EINVAL);
    ck_assert_ptr_null(rt);
    ck_assert_str_eq(err.message, "provider ops version 0 is invalid (set .version = "
                                  "DURO_PROVIDER_OPS_VERSION)");
    ck_assert_int_eq(duro_client_new(p, &c, &err), DURO_EINVAL);
    ck_assert_ptr_null(c);
    p->ops = own;
    duro_provider_destroy(p);
    duro_registry_free(reg);
    guarded_ops_free(&g);
}
END_TEST

START_TEST(missing_callback_is_named)
{
    duro_provider *p = open_memory();
    const duro_provider_ops *own = p->ops;
    duro_error err = {0};
    guarded_ops g;
    guarded_ops_new(&g, own);
    g.ops->fetch_work = NULL;
    p->ops = (const duro_provider_ops *)g.ops;
    ck_assert_int_eq(duro_provider_check(p, &err), DURO_EINVAL);
    ck_assert_str_eq(err.message, "provider 'sqlite' lacks the fetch_work callback");
    g.ops->fetch_work = own->fetch_work;
    g.ops->interrupt = NULL; /* required by DURO_CAP_LONG_POLL */
    ck_assert_int_eq(duro_provider_check(p, &err), DURO_EINVAL);
    ck_assert_str_eq(err.message, "provider 'sqlite' lacks the interrupt callback");
    p->ops = own;
    duro_provider_destroy(p);
    guarded_ops_free(&g);
}
END_TEST

START_TEST(runtime_options_read_only_as_far_as_size)
{
    duro_provider *p = open_memory();
    duro_registry *reg = hello_registry();
    duro_runtime *rt = NULL;
    duro_error err = {0};
    duro_runtime_options opt;
    memset(&opt, 0, sizeof opt);
    ck_assert_int_eq(duro_runtime_start(p, reg, &opt, &rt, &err), DURO_EINVAL);
    ck_assert_str_eq(err.message,
                     "runtime options not initialised: call duro_runtime_options_init first");
    duro_runtime_options_init(NULL);
    duro_runtime_options_init(&opt);
    ck_assert_uint_eq(opt.size, sizeof opt);
    opt.prefetch_ms = -5;
    ck_assert_int_eq(duro_runtime_start(p, reg, &opt, &rt, &err), DURO_EINVAL);
    ck_assert_str_eq(err.message, "duro_runtime_start: option prefetch_ms (>= 0) out of range");
    /* a caller built when prefetch_ms was not there yet: the member is not read */
    opt.size = offsetof(duro_runtime_options, prefetch_ms);
    run_hello(p, &opt);
    duro_registry_free(reg);
    duro_provider_destroy(p);
}
END_TEST

START_TEST(sqlite_options_read_only_as_far_as_size)
{
    duro_provider *p = NULL;
    duro_error err = {0};
    duro_sqlite_options so;
    memset(&so, 0, sizeof so);
    ck_assert_int_eq(duro_sqlite_open(":memory:", &so, &p, &err), DURO_EINVAL);
    ck_assert_ptr_null(p);
    duro_sqlite_options_init(&so);
    ck_assert_uint_eq(so.size, sizeof so);
    so.pool_size = -1;
    ck_assert_int_eq(duro_sqlite_open(":memory:", &so, &p, &err), DURO_EINVAL);
    so.size = offsetof(duro_sqlite_options, pool_size);
    ck_assert_msg(duro_sqlite_open(":memory:", &so, &p, &err) == 0, "%s", err.message);
    ck_assert_str_eq(duro_sqlite_path(p), ":memory:");
    duro_provider_destroy(p);
}
END_TEST

START_TEST(error_names)
{
    ck_assert_str_eq(duro_err_name(DURO_OK), "DURO_OK");
    ck_assert_str_eq(duro_err_name(DURO_ELOCK), "DURO_ELOCK");
    ck_assert_str_eq(duro_err_name(DURO_EINTERNAL), "DURO_EINTERNAL");
    ck_assert_str_eq(duro_err_name(-999), "DURO_E?");
    ck_assert_str_eq(duro_event_kind_name(DURO_EVENT_ORCH_STARTED), "OrchestrationStarted");
    ck_assert_str_eq(duro_event_kind_name(DURO_EVENT_VALUE), "ValueRecorded");
    ck_assert_str_eq(duro_event_kind_name(DURO_EVENT_VALUES_CLEARED), "ValuesCleared");
    ck_assert_str_eq(duro_event_kind_name(DURO_EVENT_VALUE_READ), "ValueRead");
    ck_assert_str_eq(duro_event_kind_name(DURO_EVENT_VALUE_READ + 1), "Unknown");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("abi");
    TCase *tc = tcase_create("versions");
    SRunner *sr;
    int failed;
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, v1_provider_runs_a_workflow);
    tcase_add_test(tc, ops_version_0_is_rejected_by_name);
    tcase_add_test(tc, missing_callback_is_named);
    tcase_add_test(tc, runtime_options_read_only_as_far_as_size);
    tcase_add_test(tc, sqlite_options_read_only_as_far_as_size);
    tcase_add_test(tc, error_names);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    failed = junit_check_run(sr, "test-ops-v1", CK_NORMAL);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
