/*
 * metrics.h — private interface of the runtime's metrics and trace spans (metrics.c): the
 * counters a runtime keeps, updated with relaxed atomics from its threads, and the
 * per-thread span context that gives provider calls their parent span. Not installed.
 */
#ifndef DURO_METRICS_H
#define DURO_METRICS_H

#include "duro.h"
#include "duro-provider.h"

/* A runtime's counters and its trace hook. */
typedef struct duro__metrics {
    duro_runtime_metrics c;   /* every member updated with relaxed atomic adds */
    void (*on_span)(const duro_span *span, void *ud);
    void *on_span_ud;
    int64_t wall_offset_us;   /* wall clock minus monotonic clock at start */
} duro__metrics;

/* Zero `m` and take the trace hook of `opt`. */
void duro__metrics_init(duro__metrics *m, const duro_runtime_options *opt);

/* Monotonic clock in microseconds (the clock every sample is taken with). */
int64_t duro__metrics_now_us(void);

/* Count a provider call of `op` about to be made (counted before it is made, so that what
 * the call makes visible is never seen before the count); its start time. */
int64_t duro__metrics_call_begin(duro__metrics *m, int op);

/* Time one provider call of `op` that started at `start_us` and returned `rc`, counting an
 * error;
 * emits a provider span whose parent is the calling thread's current span. `instance` (may
 * be NULL: the current span's) and `execution_id` name what it was for. */
void duro__metrics_call(duro__metrics *m, int op, int64_t start_us, int rc,
                        const char *instance, uint64_t execution_id);

/* Make `span_id` (from duro__metrics_span_id) the calling thread's current span, for
 * `instance` / `execution_id` (the pointer must stay valid until duro__metrics_leave). */
void duro__metrics_enter(uint64_t span_id, const char *instance, uint64_t execution_id);
/* The calling thread has no current span any more. */
void duro__metrics_leave(void);
/* The calling thread's current span id (0: none). */
uint64_t duro__metrics_current(void);

/* A new span id when tracing is on, else 0. */
uint64_t duro__metrics_span_id(const duro__metrics *m);

/* The replay engine ran a turn in `us` microseconds (counted before the turn commits). */
void duro__metrics_turn_ran(duro__metrics *m, int64_t us);

/* The span `span_id` of a turn of `item` (orchestration `name`, NULL: the item's) ran from span_start_us (the fetch returned) to now
 * (commit or abandon done), with `status` 0 when the item was handled, else why not (the
 * commit's error, DURO_EUNREGISTERED, DURO_ECORRUPT ...). */
void duro__metrics_turn(duro__metrics *m, uint64_t span_id, const duro_orch_item *item,
                        const char *name, int64_t span_start_us, int status);
/* A terminal state was committed (called where the on_terminal observer is). */
void duro__metrics_terminal(duro__metrics *m, int state, int category);

/* An activity function `name` of `wi` ran from start_us to end_us: `attempt` under its
 * retry policy, `outcome` 0 (succeeded), DURO_ESTATE (returned a failure), DURO_ELOCK or
 * DURO_ESHUTDOWN (its result was discarded: cancelled, or stopped early for a shutdown). */
void duro__metrics_activity(duro__metrics *m, uint64_t span_id, const duro_work_item *wi,
                            const char *name, uint32_t attempt, int64_t start_us,
                            int64_t end_us, int outcome);
/* The batch of `item` is about to run at `now_ms`: the queue wait of each of its messages. */
void duro__metrics_orch_waits(duro__metrics *m, const duro_orch_item *item, int64_t now_ms);
/* Work item `wi` is about to run at `now_ms`: its queue wait. */
void duro__metrics_work_wait(duro__metrics *m, const duro_work_item *wi, int64_t now_ms);

/* A work item was given up as poison. */
void duro__metrics_poison_activity(duro__metrics *m);

/* Copy the counters of `m` into `out`, as far as out->size goes. */
void duro__metrics_snapshot(const duro__metrics *m, duro_runtime_metrics *out);

#endif /* DURO_METRICS_H */
