/*
 * hello.c — the smallest complete duro program: one orchestration that calls one activity,
 * run on a private in-memory SQLite database. It prints the orchestration's output
 * ("Hello, World!", or "Hello, <name>!" for a name given as the first argument) and exits 0
 * when the instance completed.
 *
 *     cc hello.c $(pkg-config --cflags --libs duro-sqlite) -o hello && ./hello
 */
#include <stdio.h>
#include <stdlib.h>

#include "duro-sqlite.h"
#include "duro.h"

/* An activity: real work, run at least once. */
static int greet(duro_activity *a, const char *name, void *ud)
{
    (void)ud;
    return duro_activity_okf(a, "Hello, %s!", name);
}

/* An orchestration: deterministic, re-run from the top against its history on every turn. */
static int hello(duro_orch *o, const char *input, void *ud)
{
    (void)ud;
    duro_task *t = duro_call_activity(o, "Greet", input);
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_fail(o, duro_task_error(t));
    return duro_complete(o, duro_task_value(t));
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "World";
    duro_provider *provider = NULL;
    duro_registry *registry = NULL;
    duro_runtime *runtime = NULL;
    duro_client *client = NULL;
    duro_status st = {0};
    duro_error err = {0};
    int rc, status = EXIT_FAILURE;

    rc = duro_sqlite_open(":memory:", NULL, &provider, &err);
    if (rc != 0) {
        fprintf(stderr, "hello: cannot open the database: %s\n", err.message);
        return EXIT_FAILURE;
    }
    registry = duro_registry_new();
    if (!registry || duro_register_activity(registry, "Greet", greet, NULL) != 0 ||
        duro_register_orchestration(registry, "Hello", NULL, hello, NULL) != 0) {
        fprintf(stderr, "hello: cannot register the handlers\n");
        goto out;
    }
    rc = duro_runtime_start(provider, registry, NULL, &runtime, &err);
    if (rc == 0)
        rc = duro_client_new(provider, &client, &err);
    if (rc != 0) {
        fprintf(stderr, "hello: cannot start: %s\n", err.message);
        goto out;
    }
    rc = duro_client_start(client, "hello-1", "Hello", name, &err);
    if (rc == 0)
        rc = duro_client_wait(client, "hello-1", 10000, &st, &err);
    if (rc != 0) {
        fprintf(stderr, "hello: %s (%s)\n", duro_strerror(rc), err.message);
        goto out;
    }
    if (st.state != DURO_STATE_COMPLETED) {
        fprintf(stderr, "hello: the orchestration ended %s: %s\n", duro_state_name(st.state),
                st.error ? st.error : "");
        goto out;
    }
    printf("%s\n", st.output);
    status = EXIT_SUCCESS;
out:
    duro_status_clear(&st);
    duro_client_free(client);
    duro_runtime_shutdown(runtime);
    duro_registry_free(registry);
    duro_provider_destroy(provider);
    return status;
}
