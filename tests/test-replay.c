/*
 * test-replay.c — table-driven tests of the replay engine (lib/replay.c, lib/context.c).
 *
 * Each row gives a stored history and incoming messages, the orchestration to run, and the
 * exact turn it must produce: action, new event kinds in order, work items, messages,
 * cancellations, resulting state and error category/message. No provider is involved: the
 * engine is a pure function from (history, messages) to a commit.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "junit-check.h"
#include "replay.h"

#define NOW INT64_C(1700000000000)

/* ---- orchestrations used by the table ------------------------------------------------------ */

static int two_acts(duro_orch *o, const char *in, void *ud)
{
    duro_task *t[2];
    t[0] = duro_call_activity(o, "A", "x");
    t[1] = duro_call_activity(o, "B", "y");
    DURO_AWAIT_ALL(o, t, 2);
    return duro_completef(o, "%s+%s", duro_task_value(t[0]), duro_task_value(t[1]));
}

static int changed(duro_orch *o, const char *in, void *ud)
{
    duro_task *t = duro_call_activity(o, "B", "y");
    DURO_AWAIT(o, t);
    return duro_complete(o, "changed");
}

static int timer_first(duro_orch *o, const char *in, void *ud)
{
    duro_task *t = duro_timer(o, 100);
    DURO_AWAIT(o, t);
    return duro_complete(o, "timer");
}

static int quits_early(duro_orch *o, const char *in, void *ud)
{
    return duro_complete(o, "early");
}

static int race(duro_orch *o, const char *in, void *ud)
{
    duro_task *t[2], *w;
    t[0] = duro_call_activity(o, "Slow", "s");
    t[1] = duro_timer(o, 100);
    w = duro_when_any(o, t, 2);
    if (!w)
        return DURO_SUSPEND;
    if (w == t[1]) {
        duro_task_cancel(t[0]);
        return duro_complete(o, "timeout");
    }
    return duro_complete(o, duro_task_value(w));
}

static int violate(duro_orch *o, const char *in, void *ud)
{
    duro_task *t[2];
    t[0] = duro_call_activity(o, "Slow", "s");
    t[1] = duro_timer(o, 100);
    if (!duro_when_any(o, t, 2)) {
        duro_call_activity(o, "Other", "o");
        return DURO_SUSPEND;
    }
    return duro_complete(o, "done");
}

static int wait_go(duro_orch *o, const char *in, void *ud)
{
    duro_task *e = duro_wait_event(o, "go");
    DURO_AWAIT(o, e);
    return duro_completef(o, "got %s", duro_task_value(e));
}

static int can_now(duro_orch *o, const char *in, void *ud)
{
    return duro_continue_as_new(o, "next");
}

static int sub(duro_orch *o, const char *in, void *ud)
{
    duro_task *s = duro_call_sub(o, "Child", NULL, "cin");
    DURO_AWAIT(o, s);
    return duro_completef(o, "child said %s", duro_task_value(s));
}

static int retry3(duro_orch *o, const char *in, void *ud)
{
    duro_retry_policy p = {3, DURO_BACKOFF_FIXED, 100, 0, 0};
    duro_task *t = duro_call_activity_retry(o, "Flaky", "in", &p);
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_failf(o, "gave up: %s", duro_task_error(t));
    return duro_complete(o, duro_task_value(t));
}

static int timeout2(duro_orch *o, const char *in, void *ud)
{
    duro_retry_policy p = {2, DURO_BACKOFF_NONE, 0, 0, 50};
    duro_task *t = duro_call_activity_retry(o, "Hang", "in", &p);
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_fail(o, duro_task_error(t));
    return duro_complete(o, duro_task_value(t));
}

static int stamp(duro_orch *o, const char *in, void *ud)
{
    int64_t now = duro_now_ms(o);
    duro_task *t = duro_call_activity(o, "A", "x");
    DURO_AWAIT(o, t);
    return duro_completef(o, "%lld", (long long)now);
}

static int no_result(duro_orch *o, const char *in, void *ud)
{
    return 0;
}

/* Reads key "k" of instance "other" (duro_read_value) and completes with what it got. */
static int read_k(duro_orch *o, const char *in, void *ud)
{
    const char *v;
    int rc = duro_read_value(o, "other", "k", &v);
    if (rc < 0 && rc != DURO_ENOTFOUND)
        return DURO_DONE;
    return duro_completef(o, "rc=%d v=%s", rc, v ? v : "(null)");
}

/* ---- table ----------------------------------------------------------------------------------- */

typedef struct hev {
    int kind;
    const char *json;
} hev;

typedef struct hmsg {
    int kind;
    uint64_t exec;
    const char *json;
} hmsg;

#define MAXN 12

typedef struct row {
    const char *name;
    const char *orch;          /* registered name used in STARTED / start messages */
    duro_orch_fn fn;
    uint64_t exec;
    int stored_state;
    hev history[MAXN];         /* kind 0 terminates */
    hmsg msgs[MAXN];
    int action;
    int new_kinds[MAXN];       /* expected appended event kinds, 0 terminates */
    size_t n_work;
    int msg_kinds[MAXN];       /* expected outgoing message kinds in order */
    size_t n_cancel;
    int state;                 /* commit.state */
    int category;              /* expected failure category (FAILED only) */
    const char *output_part;   /* substring of the stored output / error */
    uint64_t commit_exec;      /* expected commit execution (0: same as exec) */
} row;

#define STARTED(n) {DURO_EVENT_ORCH_STARTED, "{\"name\":\"" n "\",\"version\":\"1.0.0\",\"input\":\"in\"}"}
#define START_MSG(n) {DURO_MSG_START, 0, "{\"name\":\"" n "\",\"input\":\"in\"}"}
#define ACT(name, in) {DURO_EVENT_ACTIVITY_SCHEDULED, "{\"name\":\"" name "\",\"input\":\"" in "\"}"}

static const row rows[] = {
    {"fresh start schedules both activities", "TwoActs", two_acts, 1, 0, {{0}},
     {START_MSG("TwoActs")}, DURO__TURN_COMMIT,
     {DURO_EVENT_ORCH_STARTED, DURO_EVENT_ACTIVITY_SCHEDULED, DURO_EVENT_ACTIVITY_SCHEDULED}, 2, {0}, 0,
     DURO_STATE_RUNNING, 0, NULL, 0},
    {"completions in history complete the instance", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y"),
      {DURO_EVENT_ACTIVITY_COMPLETED, "{\"src\":2,\"text\":\"ra\"}"}},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":3,\"ok\":1,\"text\":\"rb\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_ACTIVITY_COMPLETED, DURO_EVENT_ORCH_COMPLETED}, 0, {0}, 0, DURO_STATE_COMPLETED, 0, "ra+rb", 0},
    {"one completion of two waits", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y")},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":2,\"ok\":1,\"text\":\"ra\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_ACTIVITY_COMPLETED}, 0, {0}, 0, 0, 0, NULL, 0},
    {"duplicate completion is dropped", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y"),
      {DURO_EVENT_ACTIVITY_COMPLETED, "{\"src\":2,\"text\":\"ra\"}"}},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":2,\"ok\":1,\"text\":\"again\"}"}},
     DURO__TURN_COMMIT, {0}, 0, {0}, 0, 0, 0, NULL, 0},
    {"completion of another execution is dropped", "TwoActs", two_acts, 2, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y")},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":2,\"ok\":1,\"text\":\"old\"}"}}, DURO__TURN_COMMIT,
     {0}, 0, {0}, 0, 0, 0, NULL, 0},
    {"nondeterminism: different activity name", "Changed", changed, 1, 1,
     {STARTED("Changed"), ACT("A", "x"), ACT("B", "y")},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"poke\",\"text\":\"\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_EXTERNAL_RAISED, DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ORCH_FAILED}, 0,
     {0}, 2, DURO_STATE_FAILED, DURO_CAT_CONFIGURATION, "now makes activity \\\"B\\\" but history recorded activity \\\"A\\\"", 0},
    {"nondeterminism: timer where an activity was recorded", "TimerFirst", timer_first, 1, 1,
     {STARTED("TimerFirst"), ACT("A", "x")},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"poke\",\"text\":\"\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_EXTERNAL_RAISED, DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ORCH_FAILED}, 0, {0}, 1,
     DURO_STATE_FAILED, DURO_CAT_CONFIGURATION, "now makes timer but history recorded activity", 0},
    {"nondeterminism: fewer decisions than history", "QuitsEarly", quits_early, 1, 1,
     {STARTED("QuitsEarly"), ACT("A", "x")},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"poke\",\"text\":\"\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_EXTERNAL_RAISED, DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ORCH_FAILED}, 0, {0}, 1,
     DURO_STATE_FAILED, DURO_CAT_CONFIGURATION, "holds 1 decisions but the orchestration made only 0", 0},
    {"nondeterminism: completion for a non-activity event", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y")},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":1,\"ok\":1,\"text\":\"?\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ORCH_FAILED}, 0, {0}, 2,
     DURO_STATE_FAILED, DURO_CAT_CONFIGURATION, "not an activity", 0},
    {"rule: durable call after a pending when_any", "Violate", violate, 1, 0, {{0}},
     {START_MSG("Violate")}, DURO__TURN_COMMIT,
     {DURO_EVENT_ORCH_STARTED, DURO_EVENT_ACTIVITY_SCHEDULED, DURO_EVENT_TIMER_CREATED, DURO_EVENT_ACTIVITY_CANCELLED,
      DURO_EVENT_ORCH_FAILED},
     1, {DURO_MSG_TIMER_FIRED}, 1, DURO_STATE_FAILED, DURO_CAT_CONFIGURATION,
     "after the orchestration observed a pending task", 0},
    {"when_any: earlier timer wins, loser activity cancelled", "Race", race, 1, 1,
     {STARTED("Race"), ACT("Slow", "s"), {DURO_EVENT_TIMER_CREATED, "{\"at\":1}"}},
     {{DURO_MSG_TIMER_FIRED, 1, "{\"src\":3,\"what\":\"timer\"}"},
      {DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":2,\"ok\":1,\"text\":\"late\"}"}},
     DURO__TURN_COMMIT, {DURO_EVENT_TIMER_FIRED, DURO_EVENT_ACTIVITY_COMPLETED, DURO_EVENT_ORCH_COMPLETED}, 0, {0},
     0, DURO_STATE_COMPLETED, 0, "timeout", 0},
    {"when_any: timer wins while activity runs: cancel deletes it", "Race", race, 1, 1,
     {STARTED("Race"), ACT("Slow", "s"), {DURO_EVENT_TIMER_CREATED, "{\"at\":1}"}},
     {{DURO_MSG_TIMER_FIRED, 1, "{\"src\":3,\"what\":\"timer\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_TIMER_FIRED, DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ORCH_COMPLETED}, 0, {0}, 1,
     DURO_STATE_COMPLETED, 0, "timeout", 0},
    {"cancel request fails the instance and cancels its work", "Race", race, 1, 1,
     {STARTED("Race"), ACT("Slow", "s"), {DURO_EVENT_TIMER_CREATED, "{\"at\":1}"}},
     {{DURO_MSG_CANCEL, 0, "{\"text\":\"operator\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_CANCEL_REQUESTED, DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ORCH_FAILED}, 0, {0}, 1, DURO_STATE_FAILED,
     DURO_CAT_APPLICATION, "canceled: operator", 0},
    {"terminal instance drains stray messages", "TwoActs", two_acts, 1, 2,
     {STARTED("TwoActs"), {DURO_EVENT_ORCH_COMPLETED, "{\"text\":\"done\"}"}},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"late\",\"text\":\"\"}"}, START_MSG("TwoActs")},
     DURO__TURN_COMMIT, {0}, 0, {0}, 0, 0, 0, NULL, 0},
    {"event raised before the wait is delivered", "Wait", wait_go, 1, 0, {{0}},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"go\",\"text\":\"early\"}"}, START_MSG("Wait")},
     DURO__TURN_COMMIT,
     {DURO_EVENT_ORCH_STARTED, DURO_EVENT_EXTERNAL_RAISED, DURO_EVENT_EXTERNAL_WAIT, DURO_EVENT_ORCH_COMPLETED}, 0, {0}, 0,
     DURO_STATE_COMPLETED, 0, "got early", 0},
    {"failed attempt schedules a backoff timer", "Retry", retry3, 1, 1,
     {STARTED("Retry"),
      {DURO_EVENT_ACTIVITY_SCHEDULED, "{\"name\":\"Flaky\",\"input\":\"in\",\"retry\":{\"max\":3,"
                              "\"backoff\":1,\"base\":100,\"cap\":0,\"timeout\":0}}"}},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":2,\"ok\":0,\"category\":3,\"text\":\"boom\"}"}},
     DURO__TURN_COMMIT, {DURO_EVENT_ACTIVITY_FAILED, DURO_EVENT_ACTIVITY_RETRY}, 0, {DURO_MSG_TIMER_FIRED}, 0, 0,
     0, NULL, 0},
    {"backoff timer dispatches attempt 2", "Retry", retry3, 1, 1,
     {STARTED("Retry"),
      {DURO_EVENT_ACTIVITY_SCHEDULED, "{\"name\":\"Flaky\",\"input\":\"in\",\"retry\":{\"max\":3,"
                              "\"backoff\":1,\"base\":100,\"cap\":0,\"timeout\":0}}"},
      {DURO_EVENT_ACTIVITY_FAILED, "{\"src\":2,\"category\":3,\"text\":\"boom\"}"},
      {DURO_EVENT_ACTIVITY_RETRY, "{\"src\":2,\"attempt\":2,\"at\":5}"}},
     {{DURO_MSG_TIMER_FIRED, 1, "{\"src\":4,\"what\":\"retry\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_ACTIVITY_DISPATCHED}, 1, {0}, 0, 0, 0, NULL, 0},
    {"last attempt failing fails the task", "Retry", retry3, 1, 1,
     {STARTED("Retry"),
      {DURO_EVENT_ACTIVITY_SCHEDULED, "{\"name\":\"Flaky\",\"input\":\"in\",\"retry\":{\"max\":2,"
                              "\"backoff\":0,\"base\":0,\"cap\":0,\"timeout\":0}}"},
      {DURO_EVENT_ACTIVITY_FAILED, "{\"src\":2,\"category\":3,\"text\":\"one\"}"},
      {DURO_EVENT_ACTIVITY_DISPATCHED, "{\"src\":2,\"attempt\":2}"}},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":4,\"ok\":0,\"category\":3,\"text\":\"two\"}"}},
     DURO__TURN_COMMIT, {DURO_EVENT_ACTIVITY_FAILED, DURO_EVENT_ORCH_FAILED}, 0, {0}, 0, DURO_STATE_FAILED,
     DURO_CAT_APPLICATION, "gave up: two", 0},
    {"stale completion of a replaced attempt is dropped", "Retry", retry3, 1, 1,
     {STARTED("Retry"),
      {DURO_EVENT_ACTIVITY_SCHEDULED, "{\"name\":\"Flaky\",\"input\":\"in\",\"retry\":{\"max\":3,"
                              "\"backoff\":0,\"base\":0,\"cap\":0,\"timeout\":0}}"},
      {DURO_EVENT_ACTIVITY_TIMEOUT, "{\"src\":2}"},
      {DURO_EVENT_ACTIVITY_DISPATCHED, "{\"src\":2,\"attempt\":2}"}},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":2,\"ok\":1,\"text\":\"late\"}"}}, DURO__TURN_COMMIT,
     {0}, 0, {0}, 0, 0, 0, NULL, 0},
    {"per-attempt timeout cancels the attempt and retries", "Timeout", timeout2, 1, 1,
     {STARTED("Timeout"),
      {DURO_EVENT_ACTIVITY_SCHEDULED, "{\"name\":\"Hang\",\"input\":\"in\",\"retry\":{\"max\":2,"
                              "\"backoff\":0,\"base\":0,\"cap\":0,\"timeout\":50}}"}},
     {{DURO_MSG_TIMER_FIRED, 1, "{\"src\":2,\"what\":\"timeout\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_ACTIVITY_TIMEOUT, DURO_EVENT_ACTIVITY_DISPATCHED}, 1, {DURO_MSG_TIMER_FIRED}, 1, 0, 0, NULL, 0},
    {"continue-as-new carries unconsumed events", "Can", can_now, 1, 1,
     {STARTED("Can"), {DURO_EVENT_EXTERNAL_RAISED, "{\"name\":\"go\",\"text\":\"kept\"}"}},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"go\",\"text\":\"too\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_EXTERNAL_RAISED, DURO_EVENT_ORCH_CONTINUED}, 0, {DURO_MSG_CONTINUE_AS_NEW}, 0,
     DURO_STATE_CONTINUED_AS_NEW, 0, "next", 0},
    {"continue-as-new message starts execution 2 with carried events", "Wait", wait_go, 1, 4,
     {STARTED("Wait"), {DURO_EVENT_ORCH_CONTINUED, "{\"text\":\"next\"}"}},
     {{DURO_MSG_CONTINUE_AS_NEW, 1,
       "{\"name\":\"Wait\",\"input\":\"next\",\"carried\":[[\"go\",\"carried\"]]}"}},
     DURO__TURN_COMMIT, {DURO_EVENT_ORCH_STARTED, DURO_EVENT_EXTERNAL_WAIT, DURO_EVENT_ORCH_COMPLETED}, 0, {0}, 0,
     DURO_STATE_COMPLETED, 0, "got carried", 2},
    {"continue-as-new onto a version this registry lacks is handed back", "Wait", wait_go, 1, 4,
     {STARTED("Wait"), {DURO_EVENT_ORCH_CONTINUED, "{\"text\":\"next\",\"version\":\"9.0.0\"}"}},
     {{DURO_MSG_CONTINUE_AS_NEW, 1, "{\"name\":\"Wait\",\"version\":\"9.0.0\",\"input\":\"next\"}"}},
     DURO__TURN_ABANDON_UNREGISTERED, {0}, 0, {0}, 0, 0, 0, NULL, 0},
    {"continue-as-new onto a registered version starts it", "Wait", wait_go, 1, 4,
     {STARTED("Wait"), {DURO_EVENT_ORCH_CONTINUED, "{\"text\":\"next\",\"version\":\"1.0.0\"}"}},
     {{DURO_MSG_CONTINUE_AS_NEW, 1, "{\"name\":\"Wait\",\"version\":\"1.0.0\",\"input\":\"next\"}"},
      {DURO_MSG_EVENT, 0, "{\"name\":\"go\",\"text\":\"v\"}"}},
     DURO__TURN_COMMIT, {DURO_EVENT_ORCH_STARTED, DURO_EVENT_EXTERNAL_RAISED, DURO_EVENT_EXTERNAL_WAIT,
                         DURO_EVENT_ORCH_COMPLETED}, 0, {0}, 0, DURO_STATE_COMPLETED, 0, "got v", 2},
    {"sub-orchestration starts its child with the parent link", "Sub", sub, 1, 0, {{0}},
     {START_MSG("Sub")}, DURO__TURN_COMMIT, {DURO_EVENT_ORCH_STARTED, DURO_EVENT_SUB_SCHEDULED}, 0,
     {DURO_MSG_START}, 0, DURO_STATE_RUNNING, 0, NULL, 0},
    {"child result completes the parent", "Sub", sub, 1, 1,
     {STARTED("Sub"),
      {DURO_EVENT_SUB_SCHEDULED, "{\"name\":\"Child\",\"input\":\"cin\",\"instance\":\"i::2\"}"}},
     {{DURO_MSG_CHILD_DONE, 1, "{\"src\":2,\"ok\":1,\"text\":\"hi\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_SUB_COMPLETED, DURO_EVENT_ORCH_COMPLETED}, 0, {0}, 0, DURO_STATE_COMPLETED, 0,
     "child said hi", 0},
    {"poisoned activity fails the orchestration as poison", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y")},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":2,\"ok\":0,\"category\":4,\"text\":\"poison: A\"}"}},
     DURO__TURN_COMMIT, {DURO_EVENT_ACTIVITY_FAILED, DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ORCH_FAILED}, 0, {0}, 1,
     DURO_STATE_FAILED, DURO_CAT_POISON, "poison: A", 0},
    {"recorded now is replayed", "Stamp", stamp, 1, 1,
     {STARTED("Stamp"), {DURO_EVENT_VALUE, "{\"what\":\"now\",\"text\":\"42\"}"}, ACT("A", "x")},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":3,\"ok\":1,\"text\":\"r\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_ACTIVITY_COMPLETED, DURO_EVENT_ORCH_COMPLETED}, 0, {0}, 0, DURO_STATE_COMPLETED, 0, "42", 0},
    {"returning without a result is a configuration failure", "NoResult", no_result, 1, 0,
     {{0}}, {START_MSG("NoResult")}, DURO__TURN_COMMIT, {DURO_EVENT_ORCH_STARTED, DURO_EVENT_ORCH_FAILED}, 0,
     {0}, 0, DURO_STATE_FAILED, DURO_CAT_CONFIGURATION, "without completing", 0},
    {"unregistered orchestration is abandoned for backoff", "Nobody", NULL, 1, 0, {{0}},
     {START_MSG("Nobody")}, DURO__TURN_ABANDON_UNREGISTERED, {0}, 0, {0}, 0, 0, 0, NULL, 0},
    {"undecodable history is abandoned toward poison", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), {DURO_EVENT_ACTIVITY_SCHEDULED, "NOT JSON {{"}},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"x\",\"text\":\"\"}"}}, DURO__TURN_ABANDON_CORRUPT, {0},
     0, {0}, 0, 0, 0, NULL, 0},
    {"completion pointing at a later event is corrupt history", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), {DURO_EVENT_ACTIVITY_COMPLETED, "{\"src\":9,\"text\":\"x\"}"}},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"x\",\"text\":\"\"}"}}, DURO__TURN_ABANDON_CORRUPT, {0},
     0, {0}, 0, 0, 0, NULL, 0},
    /* found by fuzz/fuzz-replay.c: execution 0 (read as 1) continued as new into execution
     * 1 again, over its stored events; a start message, a child without an id and a Started
     * event with an empty parent id made commits every store refuses (the parent's answer,
     * the child's cancellation) */
    {"continue-as-new of an item without an execution id begins execution 2", "Wait", wait_go,
     0, 4, {STARTED("Wait"), {DURO_EVENT_ORCH_CONTINUED, "{\"text\":\"next\"}"}},
     {{DURO_MSG_CONTINUE_AS_NEW, 1, "{\"name\":\"Wait\",\"input\":\"next\",\"carried\":[]}"}},
     DURO__TURN_COMMIT, {DURO_EVENT_ORCH_STARTED, DURO_EVENT_EXTERNAL_WAIT}, 0, {0}, 0,
     DURO_STATE_RUNNING, 0, NULL, 2},
    {"start message with an empty parent id is corrupt", "TwoActs", two_acts, 1, 0, {{0}},
     {{DURO_MSG_START, 0, "{\"name\":\"TwoActs\",\"input\":\"in\",\"parent\":\"\",\"pexec\":1,"
                         "\"pid\":2}"}},
     DURO__TURN_ABANDON_CORRUPT, {0}, 0, {0}, 0, 0, 0, NULL, 0},
    {"sub-orchestration event without a child id is corrupt history", "Sub", sub, 1, 1,
     {STARTED("Sub"), {DURO_EVENT_SUB_SCHEDULED, "{\"name\":\"Child\",\"input\":\"cin\"}"}},
     {{DURO_MSG_CANCEL, 0, "{\"text\":\"operator\"}"}}, DURO__TURN_ABANDON_CORRUPT, {0}, 0, {0},
     0, 0, 0, NULL, 0},
    /* lifecycle controls (duro_client_terminate / _suspend / _resume, scheduled starts) */
    {"terminate cancels the activities and runs no code", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y")},
     {{DURO_MSG_TERMINATE, 0, "{\"text\":\"op\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ORCH_TERMINATED},
     0, {0}, 2, DURO_STATE_FAILED, DURO_CAT_NONE, "{\"what\":\"terminated\",\"text\":\"op\"}", 0},
    {"terminate terminates the child", "Sub", sub, 1, 1,
     {STARTED("Sub"),
      {DURO_EVENT_SUB_SCHEDULED, "{\"name\":\"Child\",\"input\":\"cin\",\"instance\":\"i::2\"}"}},
     {{DURO_MSG_TERMINATE, 0, "{\"text\":\"op\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_SUB_CANCELLED, DURO_EVENT_ORCH_TERMINATED}, 0, {DURO_MSG_TERMINATE}, 0,
     DURO_STATE_FAILED, DURO_CAT_NONE, "terminated", 0},
    {"terminate of a suspended instance records what came first", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y"), {DURO_EVENT_SUSPENDED, "{\"text\":\"s\"}"}},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":2,\"ok\":1,\"text\":\"ra\"}"},
      {DURO_MSG_TERMINATE, 0, "{\"text\":\"op\"}"}},
     DURO__TURN_COMMIT,
     {DURO_EVENT_ACTIVITY_COMPLETED, DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ORCH_TERMINATED}, 0,
     {0}, 1, DURO_STATE_FAILED, DURO_CAT_NONE, "terminated", 0},
    {"suspended: results are recorded, no code runs", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y"), {DURO_EVENT_SUSPENDED, "{\"text\":\"s\"}"}},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":2,\"ok\":1,\"text\":\"ra\"}"},
      {DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":3,\"ok\":1,\"text\":\"rb\"}"}},
     DURO__TURN_COMMIT, {DURO_EVENT_ACTIVITY_COMPLETED, DURO_EVENT_ACTIVITY_COMPLETED}, 0, {0}, 0,
     0, 0, NULL, 0},
    {"suspend in the middle of a batch holds the code", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y")},
     {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":2,\"ok\":1,\"text\":\"ra\"}"},
      {DURO_MSG_SUSPEND, 0, "{\"text\":\"s\"}"},
      {DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":3,\"ok\":1,\"text\":\"rb\"}"}},
     DURO__TURN_COMMIT,
     {DURO_EVENT_ACTIVITY_COMPLETED, DURO_EVENT_SUSPENDED, DURO_EVENT_ACTIVITY_COMPLETED}, 0, {0},
     0, 0, 0, NULL, 0},
    {"resume runs the code over what arrived", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y"), {DURO_EVENT_SUSPENDED, "{\"text\":\"s\"}"},
      {DURO_EVENT_ACTIVITY_COMPLETED, "{\"src\":2,\"text\":\"ra\"}"},
      {DURO_EVENT_ACTIVITY_COMPLETED, "{\"src\":3,\"text\":\"rb\"}"}},
     {{DURO_MSG_RESUME, 0, "{\"text\":\"r\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_RESUMED, DURO_EVENT_ORCH_COMPLETED}, 0, {0}, 0, DURO_STATE_COMPLETED, 0, "ra+rb",
     0},
    {"a second suspend changes nothing", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y"), {DURO_EVENT_SUSPENDED, "{\"text\":\"s\"}"}},
     {{DURO_MSG_SUSPEND, 0, "{\"text\":\"again\"}"}}, DURO__TURN_COMMIT, {0}, 0, {0}, 0, 0, 0,
     NULL, 0},
    {"resume of a running instance changes nothing", "TwoActs", two_acts, 1, 1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y")},
     {{DURO_MSG_RESUME, 0, "{\"text\":\"r\"}"}}, DURO__TURN_COMMIT, {0}, 0, {0}, 0, 0, 0, NULL,
     0},
    {"a resumed system failure that came while suspended aborts the run", "TwoActs", two_acts, 1,
     1,
     {STARTED("TwoActs"), ACT("A", "x"), ACT("B", "y"), {DURO_EVENT_SUSPENDED, "{\"text\":\"s\"}"},
      {DURO_EVENT_ACTIVITY_FAILED, "{\"src\":2,\"category\":4,\"text\":\"poison: A\"}"}},
     {{DURO_MSG_RESUME, 0, "{\"text\":\"r\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_RESUMED, DURO_EVENT_ACTIVITY_CANCELLED, DURO_EVENT_ORCH_FAILED}, 0, {0}, 1,
     DURO_STATE_FAILED, DURO_CAT_POISON, "poison: A", 0},
    /* NOW is the turn's clock: a start at NOW + 1000 is ahead of it */
    {"scheduled start creates the instance, runs no code and sets its timer", "TwoActs",
     two_acts, 1, 0, {{0}},
     {{DURO_MSG_START, 0, "{\"name\":\"TwoActs\",\"input\":\"in\",\"at\":1700000001000}"}},
     DURO__TURN_COMMIT, {DURO_EVENT_ORCH_STARTED}, 0, {DURO_MSG_TIMER_FIRED}, 0,
     DURO_STATE_RUNNING, 0, NULL, 0},
    {"an event before the scheduled start is kept, no code runs", "TwoActs", two_acts, 1, 1,
     {{DURO_EVENT_ORCH_STARTED,
       "{\"name\":\"TwoActs\",\"version\":\"1.0.0\",\"input\":\"in\",\"at\":1700000001000}"}},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"e\",\"text\":\"d\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_EXTERNAL_RAISED}, 0, {0}, 0, 0, 0, NULL, 0},
    {"the start timer runs the code, even on a clock that lags", "TwoActs", two_acts, 1, 1,
     {{DURO_EVENT_ORCH_STARTED,
       "{\"name\":\"TwoActs\",\"version\":\"1.0.0\",\"input\":\"in\",\"at\":1700000001000}"}},
     {{DURO_MSG_TIMER_FIRED, 1, "{\"src\":1,\"what\":\"start\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_ACTIVITY_SCHEDULED, DURO_EVENT_ACTIVITY_SCHEDULED}, 2, {0}, 0, 0, 0, NULL, 0},
    {"a scheduled start in the past runs the code", "TwoActs", two_acts, 1, 1,
     {{DURO_EVENT_ORCH_STARTED,
       "{\"name\":\"TwoActs\",\"version\":\"1.0.0\",\"input\":\"in\",\"at\":1699999999999}"}},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"e\",\"text\":\"d\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_EXTERNAL_RAISED, DURO_EVENT_ACTIVITY_SCHEDULED, DURO_EVENT_ACTIVITY_SCHEDULED}, 2,
     {0}, 0, 0, 0, NULL, 0},
    {"Started event with an empty parent id is corrupt history", "TwoActs", two_acts, 1, 1,
     {{DURO_EVENT_ORCH_STARTED, "{\"name\":\"TwoActs\",\"version\":\"1.0.0\",\"input\":\"in\","
                         "\"parent\":\"\",\"pexec\":1,\"pid\":2}"}},
     {{DURO_MSG_CANCEL, 0, "{\"text\":\"operator\"}"}}, DURO__TURN_ABANDON_CORRUPT, {0}, 0, {0},
     0, 0, 0, NULL, 0},
    /* duro__turn_run has no store to read from: a replayed read never needs one */
    {"a recorded read replays its value without the store", "ReadK", read_k, 1, 1,
     {STARTED("ReadK"), {DURO_EVENT_VALUE_READ, "{\"instance\":\"other\",\"name\":\"k\","
                                                 "\"what\":\"set\",\"text\":\"old\"}"}},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"poke\",\"text\":\"\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_EXTERNAL_RAISED, DURO_EVENT_ORCH_COMPLETED}, 0, {0}, 0, DURO_STATE_COMPLETED, 0,
     "rc=0 v=old", 0},
    {"a recorded no_instance read replays as DURO_ENOTFOUND", "ReadK", read_k, 1, 1,
     {STARTED("ReadK"), {DURO_EVENT_VALUE_READ, "{\"instance\":\"other\",\"name\":\"k\","
                                                 "\"what\":\"no_instance\"}"}},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"poke\",\"text\":\"\"}"}}, DURO__TURN_COMMIT,
     {DURO_EVENT_EXTERNAL_RAISED, DURO_EVENT_ORCH_COMPLETED}, 0, {0}, 0, DURO_STATE_COMPLETED, 0,
     "rc=-3 v=(null)", 0},
    {"a fresh read without a store fails with DURO_ENOTSUP", "ReadK", read_k, 1, 0, {{0}},
     {START_MSG("ReadK")}, DURO__TURN_COMMIT, {DURO_EVENT_ORCH_STARTED, DURO_EVENT_ORCH_FAILED},
     0, {0}, 0, DURO_STATE_FAILED, DURO_CAT_CONFIGURATION, "lacks DURO_CAP_KV", 0},
    {"a ValueRead of an unknown result is corrupt history", "ReadK", read_k, 1, 1,
     {STARTED("ReadK"), {DURO_EVENT_VALUE_READ, "{\"instance\":\"other\",\"name\":\"k\","
                                                 "\"what\":\"maybe\"}"}},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"poke\",\"text\":\"\"}"}}, DURO__TURN_ABANDON_CORRUPT,
     {0}, 0, {0}, 0, 0, 0, NULL, 0},
    {"a ValueRead without its instance is corrupt history", "ReadK", read_k, 1, 1,
     {STARTED("ReadK"), {DURO_EVENT_VALUE_READ, "{\"name\":\"k\",\"what\":\"unset\"}"}},
     {{DURO_MSG_EVENT, 0, "{\"name\":\"poke\",\"text\":\"\"}"}}, DURO__TURN_ABANDON_CORRUPT,
     {0}, 0, {0}, 0, 0, 0, NULL, 0},
};

static duro_registry *registry(void)
{
    duro_registry *r = duro_registry_new();
    size_t i;
    ck_assert_ptr_nonnull(r);
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].fn)
            duro_register_orchestration(r, rows[i].orch, "1.0.0", rows[i].fn, NULL);
    duro_register_orchestration(r, "Wait", "1.0.0", wait_go, NULL);
    return r;
}

static duro_orch_item *make_item(const row *w)
{
    duro_orch_item *it = calloc(1, sizeof *it);
    size_t i, n;
    ck_assert_ptr_nonnull(it);
    it->instance = strdup("i");
    it->attempt = 1;
    it->execution_id = w->exec;
    it->state = w->stored_state;
    for (n = 0; w->history[n].kind; n++)
        ;
    it->history = calloc(n ? n : 1, sizeof *it->history);
    it->n_history = n;
    for (i = 0; i < n; i++) {
        it->history[i].event_id = i + 1;
        it->history[i].kind = w->history[i].kind;
        it->history[i].payload = strdup(w->history[i].json);
    }
    for (n = 0; w->msgs[n].kind; n++)
        ;
    it->msgs = calloc(n ? n : 1, sizeof *it->msgs);
    it->n_msgs = n;
    for (i = 0; i < n; i++) {
        it->msgs[i].id = (int64_t)i + 1;
        it->msgs[i].kind = w->msgs[i].kind;
        it->msgs[i].execution_id = w->msgs[i].exec;
        it->msgs[i].payload = strdup(w->msgs[i].json);
    }
    return it;
}

START_TEST(replay_table)
{
    const row *w = &rows[_i];
    duro_registry *reg = registry();
    duro_orch_item *it = make_item(w);
    duro__turn t;
    size_t k, n_new;
    int rc = duro__turn_run(reg, it, NOW, NULL, NULL, &t);
    ck_assert_msg(rc == 0, "%s: turn_run returned %d", w->name, rc);
    ck_assert_msg(t.action == w->action, "%s: action %d, want %d (%s)", w->name, t.action,
                  w->action, t.reason ? t.reason : "");
    if (w->action == DURO__TURN_COMMIT) {
        for (n_new = 0; w->new_kinds[n_new]; n_new++)
            ;
        for (k = 0; k < t.commit.n_events && k < n_new; k++)
            ck_assert_msg(t.commit.events[k].kind == w->new_kinds[k],
                          "%s: new event %zu is %s, want %s", w->name, k,
                          duro_event_kind_name(t.commit.events[k].kind),
                          duro_event_kind_name(w->new_kinds[k]));
        ck_assert_msg(t.commit.n_events == n_new, "%s: %zu new events, want %zu", w->name,
                      t.commit.n_events, n_new);
        if (n_new)
            ck_assert_uint_eq(t.commit.events[0].event_id,
                              (w->commit_exec ? 0 : it->n_history) + 1);
        ck_assert_msg(t.commit.n_work == w->n_work, "%s: %zu work items, want %zu", w->name,
                      t.commit.n_work, w->n_work);
        ck_assert_msg(t.commit.n_cancel == w->n_cancel, "%s: %zu cancels, want %zu", w->name,
                      t.commit.n_cancel, w->n_cancel);
        for (n_new = 0; w->msg_kinds[n_new]; n_new++)
            ;
        ck_assert_msg(t.commit.n_msgs >= n_new, "%s: %zu messages, want %zu", w->name,
                      t.commit.n_msgs, n_new);
        for (k = 0; k < n_new; k++)
            ck_assert_int_eq(t.commit.msgs[k].kind, w->msg_kinds[k]);
        if (!w->msg_kinds[0])
            ck_assert_msg(t.commit.n_msgs == 0, "%s: unexpected %zu messages", w->name,
                          t.commit.n_msgs);
        ck_assert_msg((int)t.commit.state == w->state, "%s: state %d, want %d", w->name,
                      t.commit.state, w->state);
        ck_assert_uint_eq(t.commit.execution_id, w->commit_exec ? w->commit_exec : w->exec);
        if (w->output_part) {
            ck_assert_ptr_nonnull(t.commit.output);
            ck_assert_msg(strstr(t.commit.output, w->output_part) != NULL,
                          "%s: output \"%s\" lacks \"%s\"", w->name, t.commit.output,
                          w->output_part);
        }
        if (w->state == DURO_STATE_FAILED)
            ck_assert_int_eq(t.category, w->category);
        if (w->state == DURO_STATE_CONTINUED_AS_NEW) /* keeps the instance's route */
            ck_assert_msg(t.commit.msg_targets == NULL, "%s: a target", w->name);
    }
    duro__turn_free(&t);
    duro_orch_item_free(it);
    duro_registry_free(reg);
}
END_TEST

/* A scheduled start's timer is due exactly at the start time, for this execution, and says
 * "start"; the Started event records the time. */
START_TEST(scheduled_start_timer)
{
    const row *w = NULL;
    size_t i;
    duro_registry *reg = registry();
    duro_orch_item *it;
    duro__turn t;
    duro__rec r;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strncmp(rows[i].name, "scheduled start creates", 23) == 0)
            w = &rows[i];
    ck_assert_ptr_nonnull(w);
    it = make_item(w);
    ck_assert_int_eq(duro__turn_run(reg, it, NOW, NULL, NULL, &t), 0);
    ck_assert_uint_eq(t.commit.n_msgs, 1);
    ck_assert_str_eq(t.commit.msgs[0].instance, "i");
    ck_assert_int_eq(t.commit.msgs[0].visible_at_ms, NOW + 1000);
    ck_assert_uint_eq(t.commit.msgs[0].execution_id, 1);
    ck_assert_int_eq(duro__rec_decode(t.commit.msgs[0].payload, DURO_MSG_TIMER_FIRED, 0, &r, NULL),
                     0);
    ck_assert_str_eq(r.what, "start");
    duro__rec_clear(&r);
    ck_assert_int_eq(duro__rec_decode(t.commit.events[0].payload, DURO_EVENT_ORCH_STARTED, 1, &r,
                                      NULL),
                     0);
    ck_assert_int_eq(r.at, NOW + 1000);
    duro__rec_clear(&r);
    duro__turn_free(&t);
    duro_orch_item_free(it);
    duro_registry_free(reg);
}
END_TEST

/* The generated child id and the parent link travel in the child's start message. */
START_TEST(child_start_message_carries_parent)
{
    const row *w = NULL;
    size_t i;
    duro_registry *reg = registry();
    duro_orch_item *it;
    duro__turn t;
    duro__rec r;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(rows[i].name, "sub-orchestration starts its child with the parent link") == 0)
            w = &rows[i];
    ck_assert_ptr_nonnull(w);
    it = make_item(w);
    ck_assert_int_eq(duro__turn_run(reg, it, NOW, NULL, NULL, &t), 0);
    ck_assert_uint_eq(t.commit.n_msgs, 1);
    ck_assert_str_eq(t.commit.msgs[0].instance, "i::2");
    ck_assert_int_eq(duro__rec_decode(t.commit.msgs[0].payload, DURO_MSG_START, 0, &r, NULL), 0);
    ck_assert_str_eq(r.parent, "i");
    ck_assert_uint_eq(r.pexec, 1);
    ck_assert_uint_eq(r.pid, 2);
    ck_assert_str_eq(r.name, "Child");
    ck_assert_ptr_null(r.version);
    /* routed to runtimes that register the name, on their latest version */
    ck_assert_ptr_nonnull(t.commit.msg_targets);
    ck_assert_str_eq(t.commit.msg_targets[0].orch_name, "Child");
    ck_assert_ptr_null(t.commit.msg_targets[0].orch_version);
    duro__rec_clear(&r);
    duro__turn_free(&t);
    duro_orch_item_free(it);
    duro_registry_free(reg);
}
END_TEST

/* A backoff timer is due exactly base_ms after the failing turn. */
START_TEST(backoff_timer_visibility)
{
    const row *w = NULL;
    size_t i;
    duro_registry *reg = registry();
    duro_orch_item *it;
    duro__turn t;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(rows[i].name, "failed attempt schedules a backoff timer") == 0)
            w = &rows[i];
    it = make_item(w);
    ck_assert_int_eq(duro__turn_run(reg, it, NOW, NULL, NULL, &t), 0);
    ck_assert_uint_eq(t.commit.n_msgs, 1);
    ck_assert_int_eq(t.commit.msgs[0].visible_at_ms, NOW + 100);
    duro__turn_free(&t);
    duro_orch_item_free(it);
    duro_registry_free(reg);
}
END_TEST

/* Poison of a never-started instance synthesizes Started then fails with category poison. */
START_TEST(poison_fresh_instance)
{
    static const row w = {"poison", "TwoActs", two_acts, 1, 0, {{0}}, {START_MSG("TwoActs")},
                          0, {0}, 0, {0}, 0, 0, 0, NULL, 0};
    duro_orch_item *it = make_item(&w);
    duro__turn t;
    it->attempt = 11;
    ck_assert_int_eq(duro__turn_poison(NULL, it, NOW, 10, NULL, &t), 0);
    ck_assert_uint_eq(t.commit.n_events, 2);
    ck_assert_int_eq(t.commit.events[0].kind, DURO_EVENT_ORCH_STARTED);
    ck_assert_int_eq(t.commit.events[1].kind, DURO_EVENT_ORCH_FAILED);
    ck_assert_int_eq(t.commit.state, DURO_STATE_FAILED);
    ck_assert_int_eq(t.category, DURO_CAT_POISON);
    ck_assert_ptr_nonnull(strstr(t.commit.output, "exceeded 11 attempts (max 10)"));
    duro__turn_free(&t);
    duro_orch_item_free(it);
}
END_TEST

/* Unreadable history: the verdict is appended at the sentinel id, never over stored rows. */
START_TEST(poison_unreadable_history_uses_sentinel_id)
{
    static const row w = {"poison", "TwoActs", two_acts, 1, 1, {{0}},
                          {{DURO_MSG_EVENT, 0, "{\"name\":\"x\",\"text\":\"\"}"}},
                          0, {0}, 0, {0}, 0, 0, 0, NULL, 0};
    duro_orch_item *it = make_item(&w);
    duro__turn t;
    it->attempt = 11;
    it->history_error = strdup("row 1 is not text");
    ck_assert_int_eq(duro__turn_poison(NULL, it, NOW, 10, it->history_error, &t), 0);
    ck_assert_uint_eq(t.commit.n_events, 1);
    ck_assert_uint_eq(t.commit.events[0].event_id, UINT64_C(1000000000));
    ck_assert_int_eq(t.commit.state, DURO_STATE_FAILED);
    ck_assert_ptr_nonnull(strstr(t.commit.output, "row 1 is not text"));
    duro__turn_free(&t);
    duro_orch_item_free(it);
}
END_TEST

/* Poison of an unregistered orchestration says so. */
START_TEST(poison_names_unregistered_orchestration)
{
    static const row w = {"poison", "Nobody", NULL, 1, 0, {{0}}, {START_MSG("Nobody")},
                          0, {0}, 0, {0}, 0, 0, 0, NULL, 0};
    duro_registry *reg = registry();
    duro_orch_item *it = make_item(&w);
    duro__turn t;
    it->attempt = 11;
    ck_assert_int_eq(duro__turn_poison(reg, it, NOW, 10, NULL, &t), 0);
    ck_assert_ptr_nonnull(strstr(t.commit.output, "\\\"Nobody\\\" version (latest) is not registered"));
    duro__turn_free(&t);
    duro_orch_item_free(it);
    duro_registry_free(reg);
}
END_TEST

/* A stored integer larger than its field is corrupt, never silently wrapped (found by
 * fuzz/fuzz-codec.c: an attempt of 2^32 + 2 read as attempt 2, an "ok" of 2^32 as a failure,
 * a category of 2^32 + 3 as an application error). */
START_TEST(codec_rejects_integers_beyond_their_field)
{
    static const char *const bad[] = {
        "{\"src\":2,\"attempt\":4294967298}", "{\"src\":2,\"ok\":4294967296}",
        "{\"category\":4294967299,\"text\":\"x\"}",
        "{\"name\":\"A\",\"retry\":{\"max\":4294967297,\"backoff\":0}}",
        "{\"name\":\"A\",\"retry\":{\"max\":2,\"backoff\":4294967297}}"};
    duro__rec r;
    duro_error err;
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(duro__rec_decode(bad[i], DURO_EVENT_ACTIVITY_DISPATCHED, 3, &r, &err) ==
                          DURO_ECORRUPT,
                      "%s decodes", bad[i]);
    ck_assert_int_eq(duro__rec_decode("{\"src\":2,\"attempt\":4294967295}",
                                      DURO_EVENT_ACTIVITY_DISPATCHED, 3, &r, &err),
                     0);
    ck_assert_uint_eq(r.attempt, UINT32_MAX);
    duro__rec_clear(&r);
}
END_TEST

/* Failure texts are valid UTF-8 whatever they quote (found by fuzz/fuzz-replay.c): a
 * nondeterminism message cut inside a long multi-byte activity name, and a poison reason
 * from the provider that is not UTF-8, could not be encoded, and the turn and the poison
 * verdicts reported "out of memory" instead of failing the instance. */
START_TEST(failure_texts_are_valid_utf8)
{
    static char act[1024];
    static row w = {"cut name", "Changed", changed, 1, 1, {STARTED("Changed"), {0, NULL}},
                    {{DURO_MSG_EVENT, 0, "{\"name\":\"poke\",\"text\":\"\"}"}},
                    0, {0}, 0, {0}, 0, 0, 0, NULL, 0};
    duro_registry *reg = registry();
    duro_orch_item *it;
    duro__turn t;
    char name[512] = "";
    int i;
    for (i = 0; i < 100; i++)
        strcat(name, "\xc3\xa9"); /* U+00E9, 200 bytes */
    snprintf(act, sizeof act, "{\"name\":\"%s\",\"input\":\"x\"}", name);
    w.history[1].kind = DURO_EVENT_ACTIVITY_SCHEDULED;
    w.history[1].json = act;
    it = make_item(&w);
    ck_assert_int_eq(duro__turn_run(reg, it, NOW, NULL, NULL, &t), 0);
    ck_assert_int_eq(t.commit.state, DURO_STATE_FAILED);
    ck_assert_int_eq(t.category, DURO_CAT_CONFIGURATION);
    ck_assert_ptr_nonnull(strstr(t.commit.output, "nondeterministic"));
    duro__turn_free(&t);
    it->attempt = 11;
    free(it->history_error);
    it->history_error = strdup("row 2: \xf3\x28 is not text");
    ck_assert_int_eq(duro__turn_poison(reg, it, NOW, 10, it->history_error, &t), 0);
    ck_assert_int_eq(t.commit.state, DURO_STATE_FAILED);
    ck_assert_ptr_nonnull(strstr(t.commit.output, "row 2: ?( is not text"));
    duro__turn_free(&t);
    ck_assert_int_eq(duro__turn_poison_bare(it, "poison: \xff store says no", &t), 0);
    ck_assert_int_eq(t.commit.state, DURO_STATE_FAILED);
    ck_assert_ptr_nonnull(strstr(t.commit.output, "poison: ? store says no"));
    duro__turn_free(&t);
    duro_orch_item_free(it);
    duro_registry_free(reg);
}
END_TEST

/* The last resort is always accepted (found by fuzz/fuzz-replay.c): a bare verdict for a
 * history whose Started event names an empty parent tells no parent, instead of sending a
 * message to an empty id that the store refuses. */
START_TEST(bare_verdict_skips_an_invalid_parent)
{
    static const row w = {"bare", "TwoActs", two_acts, 1, 1,
                          {{DURO_EVENT_ORCH_STARTED,
                            "{\"name\":\"TwoActs\",\"version\":\"1.0.0\",\"input\":\"in\","
                            "\"parent\":\"\",\"pexec\":1,\"pid\":2}"}},
                          {{DURO_MSG_EVENT, 0, "{\"name\":\"x\",\"text\":\"\"}"}},
                          0, {0}, 0, {0}, 0, 0, 0, NULL, 0};
    duro_orch_item *it = make_item(&w);
    duro__turn t;
    duro_error err = {0};
    ck_assert_int_eq(duro__turn_poison_bare(it, "poison: stuck", &t), 0);
    ck_assert_int_eq(t.commit.state, DURO_STATE_FAILED);
    ck_assert_uint_eq(t.commit.n_msgs, 0);
    ck_assert_msg(duro_provider_check_commit(&t.commit, &err) == 0, "%s", err.message);
    duro__turn_free(&t);
    duro_orch_item_free(it);
}
END_TEST

/* Slot pointers do not survive an append (found by fuzz/fuzz-replay.c, a heap use after
 * free): the history array holds 16 slots, so the 17th event, appended by the path under
 * test, moves it. Each case then uses what it read before the append. Without the fix
 * these read freed memory: caught by --enable-sanitizers and make check-valgrind. */
static duro_orch_item *grown_item(int task_kind, const char *task_json, int msg_kind,
                                  const char *msg)
{
    duro_orch_item *it = calloc(1, sizeof *it);
    size_t i;
    ck_assert_ptr_nonnull(it);
    it->instance = strdup("i");
    it->attempt = 1;
    it->execution_id = 1;
    it->state = DURO_STATE_RUNNING;
    it->n_history = 16;
    it->history = calloc(16, sizeof *it->history);
    for (i = 0; i < 16; i++) {
        it->history[i].event_id = i + 1;
        it->history[i].kind = i == 0   ? DURO_EVENT_ORCH_STARTED
                              : i == 1 ? task_kind
                                       : DURO_EVENT_EXTERNAL_RAISED;
        it->history[i].payload =
            strdup(i == 0   ? "{\"name\":\"Grown\",\"version\":\"1.0.0\",\"input\":\"in\"}"
                   : i == 1 ? task_json
                            : "{\"name\":\"filler\",\"text\":\"\"}");
    }
    if (msg) {
        it->n_msgs = 1;
        it->msgs = calloc(1, sizeof *it->msgs);
        it->msgs[0].id = 1;
        it->msgs[0].kind = msg_kind;
        it->msgs[0].execution_id = 1;
        it->msgs[0].payload = strdup(msg);
    }
    return it;
}

START_TEST(slot_pointers_survive_a_growing_history)
{
    duro_registry *reg = duro_registry_new();
    duro_orch_item *it;
    duro__turn t;
    /* the code now calls activity B: nondeterminism, the recorded child is cancelled */
    ck_assert_int_eq(duro_register_orchestration(reg, "Grown", "1.0.0", changed, NULL), 0);
    it = grown_item(DURO_EVENT_SUB_SCHEDULED,
                    "{\"name\":\"Child\",\"input\":\"cin\",\"instance\":\"i::2\"}", 0, NULL);
    ck_assert_int_eq(duro__turn_run(reg, it, NOW, NULL, NULL, &t), 0);
    ck_assert_int_eq(t.commit.state, DURO_STATE_FAILED);
    ck_assert_int_eq(t.commit.events[0].kind, DURO_EVENT_SUB_CANCELLED);
    ck_assert_uint_eq(t.commit.n_msgs, 1);
    ck_assert_str_eq(t.commit.msgs[0].instance, "i::2");
    duro__turn_free(&t);
    duro_orch_item_free(it);
    duro_registry_free(reg);

    /* a failed attempt of a task with retries left: the retry is scheduled */
    reg = duro_registry_new();
    ck_assert_int_eq(duro_register_orchestration(reg, "Grown", "1.0.0", retry3, NULL), 0);
    it = grown_item(DURO_EVENT_ACTIVITY_SCHEDULED,
                    "{\"name\":\"Flaky\",\"input\":\"in\",\"retry\":{\"max\":3,"
                    "\"backoff\":0,\"base\":0,\"cap\":0,\"timeout\":0}}",
                    DURO_MSG_ACTIVITY_DONE,
                    "{\"src\":2,\"ok\":0,\"category\":3,\"text\":\"boom\"}");
    ck_assert_int_eq(duro__turn_run(reg, it, NOW, NULL, NULL, &t), 0);
    ck_assert_uint_eq(t.commit.n_events, 2);
    ck_assert_int_eq(t.commit.events[1].kind, DURO_EVENT_ACTIVITY_DISPATCHED);
    ck_assert_uint_eq(t.commit.n_work, 1);
    duro__turn_free(&t);
    duro_orch_item_free(it);

    /* a timed-out attempt with retries left: cancelled and dispatched again */
    it = grown_item(DURO_EVENT_ACTIVITY_SCHEDULED,
                    "{\"name\":\"Flaky\",\"input\":\"in\",\"retry\":{\"max\":3,"
                    "\"backoff\":0,\"base\":0,\"cap\":0,\"timeout\":50}}",
                    DURO_MSG_TIMER_FIRED, "{\"src\":2,\"what\":\"timeout\"}");
    ck_assert_int_eq(duro__turn_run(reg, it, NOW, NULL, NULL, &t), 0);
    ck_assert_uint_eq(t.commit.n_events, 2);
    ck_assert_int_eq(t.commit.events[0].kind, DURO_EVENT_ACTIVITY_TIMEOUT);
    ck_assert_int_eq(t.commit.events[1].kind, DURO_EVENT_ACTIVITY_DISPATCHED);
    ck_assert_uint_eq(t.commit.n_cancel, 1);
    duro__turn_free(&t);
    duro_orch_item_free(it);
    duro_registry_free(reg);
}
END_TEST

/* Fire times saturate (found with fuzz/fuzz-replay.c inputs, UBSan signed overflow): a
 * stored retry policy's backoff or per-attempt timeout near INT64_MAX made now + delay (and
 * a linear backoff, base * attempt) overflow; the timer is now due at INT64_MAX, never. */
#define HUGE_RETRY(b, base, timeout)                                                          \
    {DURO_EVENT_ACTIVITY_SCHEDULED, "{\"name\":\"Flaky\",\"input\":\"in\",\"retry\":{\"max\":3,"     \
                                    "\"backoff\":" #b ",\"base\":" #base ",\"cap\":0,"           \
                                    "\"timeout\":" #timeout "}}"}
START_TEST(fire_times_saturate)
{
    static const row fixed = {"fixed", "Retry", retry3, 1, 1,
                              {STARTED("Retry"), HUGE_RETRY(1, 9223372036854775807, 0)},
                              {{DURO_MSG_ACTIVITY_DONE, 1,
                                "{\"src\":2,\"ok\":0,\"category\":3,\"text\":\"boom\"}"}},
                              0, {0}, 0, {0}, 0, 0, 0, NULL, 0};
    static const row timeout = {"timeout", "Retry", retry3, 1, 1,
                                {STARTED("Retry"), HUGE_RETRY(0, 0, 9223372036854775807)},
                                {{DURO_MSG_ACTIVITY_DONE, 1,
                                  "{\"src\":2,\"ok\":0,\"category\":3,\"text\":\"boom\"}"}},
                                0, {0}, 0, {0}, 0, 0, 0, NULL, 0};
    static const row linear = {"linear", "Retry", retry3, 1, 1,
                               {STARTED("Retry"), HUGE_RETRY(2, 4611686018427387904, 0),
                                {DURO_EVENT_ACTIVITY_FAILED, "{\"src\":2,\"category\":3,\"text\":\"one\"}"},
                                {DURO_EVENT_ACTIVITY_RETRY, "{\"src\":2,\"attempt\":2,\"at\":5}"},
                                {DURO_EVENT_ACTIVITY_DISPATCHED, "{\"src\":2,\"attempt\":2}"}},
                               {{DURO_MSG_ACTIVITY_DONE, 1,
                                 "{\"src\":5,\"ok\":0,\"category\":3,\"text\":\"two\"}"}},
                               0, {0}, 0, {0}, 0, 0, 0, NULL, 0};
    const row *const backoffs[] = {&fixed, &linear};
    duro_registry *reg = registry();
    duro_orch_item *it;
    duro__turn t;
    duro__rec r;
    size_t i;
    for (i = 0; i < 2; i++) {
        it = make_item(backoffs[i]);
        ck_assert_int_eq(duro__turn_run(reg, it, NOW, NULL, NULL, &t), 0);
        ck_assert_uint_eq(t.commit.n_events, 2);
        ck_assert_int_eq(t.commit.events[1].kind, DURO_EVENT_ACTIVITY_RETRY);
        ck_assert_int_eq(duro__rec_decode(t.commit.events[1].payload, DURO_EVENT_ACTIVITY_RETRY,
                                          0, &r, NULL),
                         0);
        ck_assert_int_eq(r.at, INT64_MAX);
        duro__rec_clear(&r);
        ck_assert_uint_eq(t.commit.n_msgs, 1);
        ck_assert_int_eq(t.commit.msgs[0].visible_at_ms, INT64_MAX);
        duro__turn_free(&t);
        duro_orch_item_free(it);
    }
    it = make_item(&timeout);
    ck_assert_int_eq(duro__turn_run(reg, it, NOW, NULL, NULL, &t), 0);
    ck_assert_uint_eq(t.commit.n_work, 1); /* attempt 2 at once, its timeout never */
    ck_assert_uint_eq(t.commit.n_msgs, 1);
    ck_assert_int_eq(t.commit.msgs[0].visible_at_ms, INT64_MAX);
    duro__turn_free(&t);
    duro_orch_item_free(it);
    duro_registry_free(reg);
}
END_TEST

/* duro_log is silent while replaying recorded decisions and speaks for new work. */
static int logger(duro_orch *o, const char *in, void *ud)
{
    duro_task *t;
    duro_logf(o, "before A");
    t = duro_call_activity(o, "A", "x");
    DURO_AWAIT(o, t);
    duro_logf(o, "after A: %s", duro_task_value(t));
    return duro_complete(o, "logged");
}

typedef struct log_capture {
    int n;
    char last[64];
} log_capture;

static void capture(int level, const char *instance, const char *msg, void *ud)
{
    log_capture *c = ud;
    c->n++;
    snprintf(c->last, sizeof c->last, "%s", msg);
}

START_TEST(log_is_replay_guarded)
{
    static const row w = {"log", "Logger", logger, 1, 1, {STARTED("Logger"), ACT("A", "x")},
                          {{DURO_MSG_ACTIVITY_DONE, 1, "{\"src\":2,\"ok\":1,\"text\":\"r\"}"}},
                          0, {0}, 0, {0}, 0, 0, 0, NULL, 0};
    static const row fresh = {"log", "Logger", logger, 1, 0, {{0}}, {START_MSG("Logger")},
                              0, {0}, 0, {0}, 0, 0, 0, NULL, 0};
    duro_registry *reg = duro_registry_new();
    duro_orch_item *it;
    duro__turn t;
    log_capture c = {0, ""};
    ck_assert_int_eq(duro_register_orchestration(reg, "Logger", NULL, logger, NULL), 0);
    it = make_item(&w);
    ck_assert_int_eq(duro__turn_run(reg, it, NOW, capture, &c, &t), 0);
    ck_assert_int_eq(c.n, 1); /* "before A" was replayed silently */
    ck_assert_str_eq(c.last, "after A: r");
    ck_assert_int_eq(t.commit.state, DURO_STATE_COMPLETED);
    duro__turn_free(&t);
    duro_orch_item_free(it);
    c.n = 0;
    it = make_item(&fresh);
    ck_assert_int_eq(duro__turn_run(reg, it, NOW, capture, &c, &t), 0);
    ck_assert_int_eq(c.n, 1); /* first execution: "before A" is new */
    ck_assert_str_eq(c.last, "before A");
    duro__turn_free(&t);
    duro_orch_item_free(it);
    duro_registry_free(reg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("engine");
    SRunner *sr;
    int failed;
    tcase_add_loop_test(tc, replay_table, 0, (int)(sizeof rows / sizeof rows[0]));
    tcase_add_test(tc, child_start_message_carries_parent);
    tcase_add_test(tc, scheduled_start_timer);
    tcase_add_test(tc, backoff_timer_visibility);
    tcase_add_test(tc, poison_fresh_instance);
    tcase_add_test(tc, poison_unreadable_history_uses_sentinel_id);
    tcase_add_test(tc, poison_names_unregistered_orchestration);
    tcase_add_test(tc, log_is_replay_guarded);
    tcase_add_test(tc, codec_rejects_integers_beyond_their_field);
    tcase_add_test(tc, failure_texts_are_valid_utf8);
    tcase_add_test(tc, bare_verdict_skips_an_invalid_parent);
    tcase_add_test(tc, slot_pointers_survive_a_growing_history);
    tcase_add_test(tc, fire_times_saturate);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    failed = junit_check_run(sr, "test-replay", CK_NORMAL);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
