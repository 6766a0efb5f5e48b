/*
 * fuzz-replay.c — libFuzzer target: the history decoder and the turn engine (lib/replay.c,
 * lib/context.c) on random fetched items, against the registry of fuzz/common.c.
 *
 * The input is an item in the text form of fuzz.h (stored history, fetched messages, state).
 * Whatever it holds, nothing may crash, leak or trip UBSan, and:
 *  1. duro__turn_run returns 0 and either abandons (with a reason) or commits; a commit is
 *     one the store accepts (duro_provider_check_commit), its events continue the stored
 *     ids (or start execution N+1 at 1) and every payload it writes decodes again;
 *  2. replaying a commit's own result with no new message writes nothing: the turn over
 *     history + committed events is a commit with no events, work, messages, cancellations
 *     or state (the engine reads back what it wrote and decides the same);
 *  3. the poison verdict (duro__turn_poison, as after max_attempts) returns 0 and fails the
 *     instance, or drains one whose history is already terminal; a verdict the store would
 *     accept never rewrites a stored event id (one it refuses, when the stored ids are at
 *     their limit, is replaced by the bare verdict, as the runtime does);
 *  4. the bare poison verdict (duro__turn_poison_bare) returns 0 with a commit the store
 *     accepts, state FAILED and no event.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "replay.h"

static duro_registry *reg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    reg = fz_registry();
    if (!reg)
        abort();
    return 0;
}

static void quiet_log(int level, const char *instance, const char *msg, void *ud)
{
    (void)ud;
    FZ_CHECK(level >= 0 && level <= 2 && instance && msg, "log line without text");
    (void)strlen(msg);
}

static int is_terminal_state(int s)
{
    return s == DURO_STATE_COMPLETED || s == DURO_STATE_FAILED ||
           s == DURO_STATE_CONTINUED_AS_NEW;
}

/* Every payload of `c` decodes; events have known kinds. */
static void check_payloads(const duro_orch_commit *c, const char *what)
{
    size_t i;
    duro__rec r;
    for (i = 0; i < c->n_events; i++) {
        FZ_CHECK(c->events[i].kind >= 1 && c->events[i].kind <= DURO__EVENT_KIND_MAX,
                 "%s: event %zu has kind %d", what, i, c->events[i].kind);
        FZ_CHECK(duro__rec_decode(c->events[i].payload, c->events[i].kind,
                                  c->events[i].event_id, &r, NULL) == 0,
                 "%s: event %zu does not decode: %s", what, i,
                 c->events[i].payload ? c->events[i].payload : "(null)");
        duro__rec_clear(&r);
    }
    for (i = 0; i < c->n_msgs; i++) {
        FZ_CHECK(c->msgs[i].kind >= DURO_MSG_START && c->msgs[i].kind <= DURO_MSG_RESUME,
                 "%s: message %zu has kind %d", what, i, (int)c->msgs[i].kind);
        FZ_CHECK(duro__rec_decode(c->msgs[i].payload, c->msgs[i].kind, 0, &r, NULL) == 0,
                 "%s: message %zu does not decode", what, i);
        duro__rec_clear(&r);
    }
    for (i = 0; i < c->n_work; i++) {
        FZ_CHECK(c->work[i].activity_id >= 1, "%s: work item %zu has activity id 0", what, i);
        FZ_CHECK(duro__rec_decode(c->work[i].payload, 0, 0, &r, NULL) == 0,
                 "%s: work item %zu does not decode", what, i);
        duro__rec_clear(&r);
    }
    if (is_terminal_state(c->state))
        FZ_CHECK(c->output != NULL, "%s: terminal state %d without output", what, c->state);
}

static void check_accepted(const duro_orch_commit *c, const char *what)
{
    duro_error err = {0};
    FZ_CHECK(duro_provider_check_commit(c, &err) == 0, "%s: the store would refuse it: %s",
             what, err.message);
}

static uint64_t item_exec(const duro_orch_item *it)
{
    return it->execution_id ? it->execution_id : 1;
}

static void check_turn(const duro_orch_item *it, const duro__turn *t)
{
    const duro_orch_commit *c = &t->commit;
    uint64_t exec = item_exec(it), first;
    size_t i;
    duro_orch_item *again;
    duro__turn t2;

    FZ_CHECK(t->action == DURO__TURN_COMMIT || t->action == DURO__TURN_ABANDON_UNREGISTERED ||
                 t->action == DURO__TURN_ABANDON_CORRUPT,
             "turn action %d is neither a commit nor an abandon", t->action);
    if (t->action != DURO__TURN_COMMIT) {
        FZ_CHECK(t->reason != NULL, "abandon without a reason");
        return;
    }
    check_accepted(c, "turn");
    check_payloads(c, "turn");
    FZ_CHECK(c->execution_id == exec || c->execution_id == exec + 1,
             "commit for execution %llu of a fetched execution %llu",
             (unsigned long long)c->execution_id, (unsigned long long)exec);
    first = c->execution_id == exec ? it->n_history + 1 : 1;
    for (i = 0; i < c->n_events; i++)
        FZ_CHECK(c->events[i].event_id == first + i, "new event %zu has id %llu, want %llu", i,
                 (unsigned long long)c->events[i].event_id, (unsigned long long)(first + i));

    /* 2: the engine's own output, replayed without a new message, changes nothing */
    again = fz_item_after(it, c);
    FZ_CHECK(again != NULL, "out of memory");
    FZ_CHECK(duro__turn_run(reg, again, FZ_NOW, quiet_log, NULL, &t2) == 0, "replay failed");
    FZ_CHECK(t2.action == DURO__TURN_COMMIT,
             "replaying the committed history abandons: %s", t2.reason ? t2.reason : "");
    FZ_CHECK(t2.commit.n_events == 0 && t2.commit.n_work == 0 && t2.commit.n_msgs == 0 &&
                 t2.commit.n_cancel == 0 && t2.commit.state == 0 &&
                 !t2.commit.set_custom_status,
             "replaying the committed history decides again: %zu events (first kind %d), %zu "
             "work, %zu messages, %zu cancels, state %d, output %s",
             t2.commit.n_events, t2.commit.n_events ? t2.commit.events[0].kind : 0,
             t2.commit.n_work, t2.commit.n_msgs, t2.commit.n_cancel, t2.commit.state,
             t2.commit.output ? t2.commit.output : "(none)");
    duro__turn_free(&t2);
    duro_orch_item_free(again);
}

static void check_poison(const duro_orch_item *it, const duro__turn *t)
{
    const duro_orch_commit *c = &t->commit;
    size_t i, k;
    FZ_CHECK(t->action == DURO__TURN_COMMIT, "poison verdict is not a commit");
    FZ_CHECK(c->state == DURO_STATE_FAILED || (c->state == 0 && c->n_events == 0),
             "poison verdict leaves state %d with %zu events", c->state, c->n_events);
    if (c->state == DURO_STATE_FAILED)
        FZ_CHECK(t->category == DURO_CAT_POISON, "poison verdict of category %d", t->category);
    check_payloads(c, "poison");
    /* a verdict the store refuses (stored ids at their limit: the next one wraps to 0) is
     * replaced by the bare verdict, checked next; one it accepts never rewrites an event */
    if (duro_provider_check_commit(c, NULL) != 0 || c->execution_id != item_exec(it))
        return;
    for (i = 0; i < c->n_events; i++)
        for (k = 0; k < it->n_history; k++)
            FZ_CHECK(c->events[i].event_id != it->history[k].event_id,
                     "poison verdict rewrites stored event id %llu",
                     (unsigned long long)it->history[k].event_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    duro_orch_item *it = fz_item_parse(data, size);
    duro__turn t;
    if (!it)
        return 0;

    /* the runtime runs a turn on readable history only (else it abandons toward poison) */
    if (!it->history_error || it->state == DURO_STATE_COMPLETED ||
        it->state == DURO_STATE_FAILED) {
        FZ_CHECK(duro__turn_run(reg, it, FZ_NOW, quiet_log, NULL, &t) == 0, "turn failed");
        check_turn(it, &t);
        duro__turn_free(&t);
    }

    it->attempt = FZ_MAX_ATTEMPTS + 1;
    FZ_CHECK(duro__turn_poison(reg, it, FZ_NOW, FZ_MAX_ATTEMPTS, it->history_error, &t) == 0,
             "poison verdict failed");
    check_poison(it, &t);
    duro__turn_free(&t);

    FZ_CHECK(duro__turn_poison_bare(it, "poison: fuzz", &t) == 0, "bare verdict failed");
    check_accepted(&t.commit, "bare verdict");
    FZ_CHECK(t.commit.state == DURO_STATE_FAILED && t.commit.n_events == 0,
             "bare verdict with state %d and %zu events", t.commit.state, t.commit.n_events);
    duro__turn_free(&t);

    duro_orch_item_free(it);
    return 0;
}
