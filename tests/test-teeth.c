/*
 * test-teeth.c — proof that the conformance suite has teeth.
 *
 * For each rule of tests/broken-provider.c the suite is run (duro_conformance_main with
 * --junit, in a child process: this program re-executed with --run) against a provider
 * that breaks exactly that rule, over the categories the rule touches.
 * The test asserts that (a) the run fails (exit status 1) and (b) every case listed as the
 * rule's catcher is reported failed in the JUnit file. A control run of the unbroken
 * wrapper (rule "none") over the same categories must pass, so each failure is caused by
 * the rule alone.
 *
 * `test-teeth --survey` instead runs every rule over the whole suite except long_polling and
 * prints which cases caught it: the source of the table in docs/conformance.md.
 */
#include <check.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broken-provider.h"
#include "junit-check.h"

/* Every category except long_polling, which measures real time and whose cases no rule
 * here targets. */
#define ALL_CATEGORIES                                                                        \
    "atomicity,instance_creation,instance_locking,lock_expiry,queue_semantics,"               \
    "multi_execution,error_handling,attempt_counts,custom_status,cancellation,management,"   \
    "deletion,bulk_deletion,prune"

/* A broken rule, the categories its run covers and the cases that must catch it. */
typedef struct teeth {
    const char *rule;
    const char *categories;
    const char *const caught[6];
} teeth;

static const teeth table[] = {
    {"ack-not-atomic", "atomicity,error_handling",
     {"duplicate_event_id_writes_nothing", "event_id_zero_writes_nothing",
      "failed_ack_keeps_lock_for_corrected_retry", NULL}},
    {"lock-not-exclusive", "instance_locking,queue_semantics",
     {"fetch_locks_instance_exclusively", "contention_single_instance_one_winner",
      "worker_peek_lock_hides_fetched_item", NULL}},
    {"lock-expiry-unchecked", "lock_expiry,atomicity",
     {"expired_token_cannot_ack", "expired_lock_ack_writes_nothing",
      "work_ack_after_expiry_fails_and_item_returns", NULL}},
    {"attempt-frozen", "attempt_counts",
     {"orch_attempt_counts_abandons", "orch_attempt_counts_lock_expiry",
      "worker_attempt_counts_abandons", "orch_batch_attempt_is_max", NULL}},
    {"fifo-reversed", "instance_locking,queue_semantics",
     {"batch_is_fifo_by_id", "orch_batch_fifo_by_id", NULL}},
    {"delay-ignored", "queue_semantics,lock_expiry",
     {"orch_delayed_message_visible_exactly_at_visible_at",
      "delayed_start_invisible_until_visible_at", "batch_excludes_not_yet_visible_messages",
      "abandon_with_delay_hides_until_exact_time", NULL}},
    {"cancel-not-applied", "cancellation,atomicity",
     {"cancel_deletes_listed_work_items", "cancel_scheduled_in_same_ack_is_deleted",
      "cancel_locked_item_ack_work_fails", "cancel_locked_item_renew_work_fails",
      "ack_inserts_work_before_cancelling", NULL}},
    {"deleted-ack-accepted", "cancellation,deletion,queue_semantics",
     {"cancel_locked_item_ack_work_fails", "delete_in_flight_activity_ack_fails",
      "delete_stale_activity_after_recreate", "racing_ack_work_single_completion", NULL}},
    {"history-overwritten", "atomicity,error_handling,cancellation",
     {"duplicate_event_id_writes_nothing", "failed_ack_keeps_lock_for_corrected_retry",
      "cancel_not_applied_when_ack_fails", NULL}},
    {"orphan-blocks-queue", "queue_semantics",
     {"orphans_at_head_do_not_block_queue", NULL}},
    {"delete-ignores-running", "deletion",
     {"delete_running_without_force_rejected", "delete_tree_with_running_descendant", NULL}},
    {"list-oldest-first", "management",
     {"list_instances_newest_first", "list_instances_state_filter", NULL}},
    {"bulk-ignores-limit", "bulk_deletion",
     {"bulk_delete_limit_batches", "bulk_delete_limit_counts_roots", NULL}},
};

#define N_TABLE (sizeof table / sizeof table[0])

/* This program's executable, resolved once in main() (re-executed by run_suite). */
static char self_exe[4096];

/* Names of the failed (or errored) testcases of one JUnit file. */
typedef struct failures {
    char **names;
    size_t n;
    size_t total;      /* testcases in the file */
} failures;

static void failures_free(failures *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->names[i]);
    free(f->names);
    memset(f, 0, sizeof *f);
}

static int failures_has(const failures *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->names[i], name) == 0)
            return 1;
    return 0;
}

static int is_element(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

/* Read the testcases of `path` into *f. Returns 0, or -1 when the file is unreadable or
 * memory runs out. */
static int read_junit(const char *path, failures *f)
{
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                              XML_PARSE_NOWARNING);
    const xmlNode *root;
    int rc = 0;

    memset(f, 0, sizeof *f);
    if (doc == NULL)
        return -1;
    root = xmlDocGetRootElement(doc);
    for (const xmlNode *s = root ? root->children : NULL; s && rc == 0; s = s->next) {
        if (!is_element(s, "testsuite"))
            continue;
        for (const xmlNode *t = s->children; t && rc == 0; t = t->next) {
            int failed = 0;

            if (!is_element(t, "testcase"))
                continue;
            f->total++;
            for (const xmlNode *c = t->children; c; c = c->next)
                failed |= is_element(c, "failure") || is_element(c, "error");
            if (!failed)
                continue;
            xmlChar *name = xmlGetProp(t, BAD_CAST "name");
            char **grown = name ? realloc(f->names, (f->n + 1) * sizeof *f->names) : NULL;
            char *copy = grown ? strdup((const char *)name) : NULL;

            xmlFree(name);
            if (grown)
                f->names = grown;
            if (copy == NULL)
                rc = -1;
            else
                f->names[f->n++] = copy;
        }
    }
    xmlFreeDoc(doc);
    if (rc != 0)
        failures_free(f);
    return rc;
}

/* Run the suite against the provider breaking `rule` over `categories` in a new process:
 * this program re-executed with --run, so that the suite's Check runners never nest inside
 * this program's and a memory checker wrapping this program does not follow it (the broken
 * rules make cases fail on purpose, and a failing case may abandon its allocations). Its
 * console output is discarded; the JUnit file goes to `junit`. Returns the exit status of
 * duro_conformance_main, or -1 when the child could not run. */
static int run_suite(const char *rule, const char *categories, const char *junit)
{
    pid_t pid;
    int status;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *argv[] = {"test-teeth", "--run", (char *)rule, (char *)categories,
                        (char *)junit, NULL};
        int fd = open("/dev/null", O_WRONLY);

        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        execv(self_exe, argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* --run RULE CATEGORIES JUNIT: the child side of run_suite(). */
static int run_rule(const char *rule, const char *categories, const char *junit)
{
    const duro_provider_factory *factory = broken_factory(rule);
    char *argv[] = {"test-teeth", "--junit", (char *)junit, "--category", (char *)categories,
                    NULL};

    if (factory == NULL) {
        fprintf(stderr, "test-teeth: unknown rule '%s'\n", rule);
        return 2;
    }
    /* Cases run in their own processes even when this program runs with CK_FORK=no (valgrind,
     * sanitizer builds): the broken rules make cases fail on purpose, and an in-process case
     * that fails abandons its allocations, which a leak checker would turn into a different
     * exit status. */
    if (setenv("CK_FORK", "yes", 1) != 0) {
        fprintf(stderr, "test-teeth: cannot set CK_FORK\n");
        return 2;
    }
    return duro_conformance_main(factory, 5, argv);
}

/* Run `rule` over `categories` and collect its failures; asserts the run produced a report
 * and returns the exit status. */
static int run_and_read(const char *rule, const char *categories, failures *f)
{
    char junit[] = "/tmp/duro-teeth-XXXXXX";
    int fd = mkstemp(junit);
    int status, read_rc;

    ck_assert_msg(fd >= 0, "mkstemp failed");
    close(fd);
    status = run_suite(rule, categories, junit);
    read_rc = read_junit(junit, f);
    unlink(junit);
    ck_assert_msg(status >= 0, "the suite for rule '%s' did not run to completion", rule);
    ck_assert_msg(read_rc == 0, "no readable JUnit report for rule '%s'", rule);
    ck_assert_msg(f->total > 0, "the run for rule '%s' reported no cases", rule);
    return status;
}

START_TEST(broken_rule_is_caught)
{
    const teeth *t = &table[_i];
    failures f;
    int status = run_and_read(t->rule, t->categories, &f);

    for (size_t i = 0; t->caught[i] != NULL; i++) {
        int caught = failures_has(&f, t->caught[i]);

        if (!caught)
            failures_free(&f);
        ck_assert_msg(caught, "rule '%s' was not caught by case '%s'", t->rule, t->caught[i]);
    }
    failures_free(&f);
    ck_assert_msg(status == 1, "rule '%s': suite exit status %d, expected 1", t->rule, status);
}
END_TEST

START_TEST(unbroken_wrapper_passes)
{
    failures f;
    int status = run_and_read("none", ALL_CATEGORIES, &f);
    char first[256] = "";

    if (f.n > 0)
        snprintf(first, sizeof first, "%s", f.names[0]);
    failures_free(&f);
    ck_assert_msg(first[0] == '\0', "the unbroken wrapper failed case '%s'", first);
    ck_assert_int_eq(status, 0);
}
END_TEST

/* --survey: every rule over the whole suite, printing the cases that failed and, below
 * each rule, what the rule violates. */
static int survey(void)
{
    size_t n_rules;
    const broken_rule *rules = broken_rules(&n_rules);
    int rc = 0;

    for (size_t r = 0; r < n_rules; r++) {
        char junit[] = "/tmp/duro-teeth-XXXXXX";
        int fd = mkstemp(junit);
        failures f;
        int status;

        if (fd < 0)
            return 1;
        close(fd);
        status = run_suite(rules[r].name, ALL_CATEGORIES, junit);
        if (read_junit(junit, &f) != 0) {
            fprintf(stderr, "%s: no report (status %d)\n", rules[r].name, status);
            unlink(junit);
            rc = 1;
            continue;
        }
        unlink(junit);
        printf("%s (status %d, %zu of %zu cases failed):", rules[r].name, status, f.n, f.total);
        for (size_t i = 0; i < f.n; i++)
            printf(" %s", f.names[i]);
        printf("\n  # %s\n", rules[r].violation);
        failures_free(&f);
    }
    return rc;
}

int main(int argc, char **argv)
{
    ssize_t len = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    Suite *s;
    TCase *tc;
    SRunner *sr;
    int failed;

    if (len <= 0) {
        fprintf(stderr, "test-teeth: cannot resolve /proc/self/exe\n");
        return EXIT_FAILURE;
    }
    self_exe[len] = '\0';
    if (argc == 2 && strcmp(argv[1], "--survey") == 0)
        return survey();
    if (argc == 5 && strcmp(argv[1], "--run") == 0)
        return run_rule(argv[2], argv[3], argv[4]);
    s = suite_create("teeth");
    tc = tcase_create("broken_rules");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, broken_rule_is_caught, 0, (int)N_TABLE);
    tcase_add_test(tc, unbroken_wrapper_passes);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    failed = junit_check_run(sr, "test-teeth", CK_NORMAL);
    srunner_free(sr);
    xmlCleanupParser();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
