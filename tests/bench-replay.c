/*
 * bench-replay.c — what one orchestration turn costs as history grows (a benchmark, not a
 * test: `tests/bench-replay` from the build directory). For histories of N events it builds
 * a chain of N/2 completed activities plus one new completion, runs the engine on it
 * (decode, index, one run of the orchestration, commit building) and prints the mean time
 * per turn. No provider is involved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay.h"
#include "duro-util.h"

static int chain(duro_orch *o, const char *input, void *ud)
{
    long i, n = strtol(input, NULL, 10);
    for (i = 0; i < n; i++) {
        duro_task *t = duro_call_activity(o, "Step", "payload of a typical size, about sixty bytes");
        DURO_AWAIT(o, t);
    }
    return duro_complete(o, "done");
}

/* History: Started, then (ActivityScheduled, ActivityCompleted) x acts, then one more
 * scheduled activity whose completion arrives as the turn's message. */
static duro_orch_item *history(size_t acts)
{
    duro_orch_item *it = calloc(1, sizeof *it);
    size_t n = 2 + 2 * acts, i;
    char input[32];
    it->instance = strdup("bench");
    it->attempt = 1;
    it->execution_id = 1;
    it->state = DURO_STATE_RUNNING;
    it->history = calloc(n, sizeof *it->history);
    it->n_history = n;
    snprintf(input, sizeof input, "%zu", acts + 2);
    it->history[0].event_id = 1;
    it->history[0].kind = DURO_EVENT_ORCH_STARTED;
    it->history[0].payload = duro__asprintf(
        "{\"name\":\"Chain\",\"version\":\"1.0.0\",\"input\":\"%s\"}", input);
    for (i = 1; i < n; i++) {
        it->history[i].event_id = i + 1;
        if (i % 2) {
            it->history[i].kind = DURO_EVENT_ACTIVITY_SCHEDULED;
            it->history[i].payload = strdup("{\"name\":\"Step\",\"input\":\"payload of a typical "
                                            "size, about sixty bytes\"}");
        } else {
            it->history[i].kind = DURO_EVENT_ACTIVITY_COMPLETED;
            it->history[i].payload = duro__asprintf("{\"src\":%zu,\"text\":\"result %zu\"}", i,
                                                    i);
        }
    }
    it->msgs = calloc(1, sizeof *it->msgs);
    it->n_msgs = 1;
    it->msgs[0].id = 1;
    it->msgs[0].kind = DURO_MSG_ACTIVITY_DONE;
    it->msgs[0].execution_id = 1;
    it->msgs[0].payload = duro__asprintf("{\"src\":%zu,\"ok\":1,\"text\":\"last\"}", n);
    return it;
}

int main(void)
{
    static const size_t sizes[] = {10, 100, 1000, 10000};
    duro_registry *reg = duro_registry_new();
    size_t k;
    if (!reg || duro_register_orchestration(reg, "Chain", NULL, chain, NULL) != 0)
        return 1;
    printf("| History events | Turns | Mean per turn |\n|---|---|---|\n");
    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        duro_orch_item *it = history(sizes[k] / 2);
        int turns = sizes[k] >= 10000 ? 20 : 200, i;
        double t0 = duro__monotonic_seconds();
        for (i = 0; i < turns; i++) {
            duro__turn t;
            if (duro__turn_run(reg, it, 1700000000000LL, NULL, NULL, &t) != 0 ||
                t.commit.n_events != 2) {
                fprintf(stderr, "bench-replay: turn failed\n");
                return 1;
            }
            duro__turn_free(&t);
        }
        printf("| %zu | %d | %.3f ms |\n", it->n_history, turns,
               (duro__monotonic_seconds() - t0) * 1e3 / turns);
        duro_orch_item_free(it);
    }
    duro_registry_free(reg);
    return 0;
}
