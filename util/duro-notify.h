/*
 * duro-notify.h — in-process change notification and the long-polling loop both providers
 * share (not installed; in the convenience library util/libduro-notify.la). A committed
 * write bumps the commit counter and the counters of the queues it made work visible on, and
 * wakes ONE sleeping fetcher per such queue (the one that began sleeping last); a fetcher
 * that takes an item and sees another passes the baton on. wait_commit waiters sleep on one
 * condition variable every commit broadcasts. A long poll re-checks the store at least every
 * re-check bound, because writers in other processes do not notify this one: 50 ms by
 * default (SQLite), set by the PostgreSQL listener (long while LISTEN/NOTIFY is connected,
 * short while it is not). Knows nothing of SQL: a provider calls duro__notify after a commit
 * and duro__notify_poll with its own try function.
 */
#ifndef DURO_NOTIFY_H
#define DURO_NOTIFY_H

#include <pthread.h>
#include <stdint.h>

#include "duro-common.h"

/* Notification channels a committed write can signal (bit set). */
#define DURO__NOTE_ORCH 1u /* orchestrator messages may have become fetchable */
#define DURO__NOTE_WORK 2u /* work items may have become fetchable */
/* A long poll of fetch_work_filtered: it counts DURO__NOTE_WORK but sleeps on the condition
 * every commit broadcasts, so that work any filter may accept wakes every filtered fetcher,
 * not one that may not accept it. */
#define DURO__NOTE_WORK_FILTERED 8u /* a poll argument only, never a commit's bit */

/* "No future visibility time known" for the long-poll wake-up computation. */
#define DURO__NEVER INT64_MAX

struct duro__notify_fetcher;

/* The notification state of one provider object. */
typedef struct duro__notifier {
    pthread_mutex_t mu;
    pthread_condattr_t mono_attr;  /* CLOCK_MONOTONIC, for every condition variable below */
    pthread_cond_t commit_cv;      /* wait_commit waiters; broadcast on every commit */
    struct duro__notify_fetcher *fetchers[2]; /* long-polling fetchers of the orchestrator and
                                    * the work queue, most recent first (woken LIFO) */
    struct duro__notify_fetcher *spare_fetchers; /* records not in use (freed on destroy) */
    uint64_t commit_seq;
    uint64_t orch_seq;
    uint64_t work_seq;
    uint64_t interrupt_gen;        /* bumped by interrupt(): ends the waits begun before */
    int64_t recheck_ms;            /* longest sleep between two re-checks of a long poll */
} duro__notifier;

/* Initialise `n` (zeroed). Returns 0 or DURO_ENOMEM (err filled, nothing to destroy). */
int duro__notifier_init(duro__notifier *n, duro_error *err);
/* Release everything of an initialised notifier; no waiter may remain. */
void duro__notifier_destroy(duro__notifier *n);

/* After a commit: bump commit_seq and the counters of the channels in `notes`, wake every
 * wait_commit waiter and one fetcher per channel. */
void duro__notify(duro__notifier *n, unsigned notes);

/* One attempt of a fetch at time `now`: 0 when an item was taken (with *next set to `now`
 * when another item is fetchable right away, so one more sleeping fetcher is woken; left
 * alone otherwise), DURO_ENOTFOUND when none (with *next set to the earliest future time at
 * which something may become fetchable, or DURO__NEVER), or another DURO_E* code. */
typedef int (*duro__notify_try_fn)(void *arg, int64_t now, int64_t *next, duro_error *err);

/* Run `try` at now_ms and, while it finds nothing and poll_ms has not passed, wait for a
 * commit on channel `note`, the earliest next time it reports, or the re-check bound,
 * re-trying with now_ms advanced by the whole milliseconds really waited. Returns what the last try did; DURO_ENOTFOUND (err filled, retryable) once
 * the poll time is over or when duro__notify_interrupt is called during the poll. */
int duro__notify_poll(duro__notifier *n, unsigned note, int64_t now_ms, int64_t poll_ms,
                      duro__notify_try_fn try, void *arg, duro_error *err);

/* The commit counter (provider callback commit_seq). */
uint64_t duro__notify_commit_seq(duro__notifier *n);
/* Wait until the commit counter passes `seq` (0) or timeout_ms elapses (DURO_ETIMEDOUT;
 * < 0: no limit); an interrupt also ends the wait with DURO_ETIMEDOUT. */
int duro__notify_wait_commit(duro__notifier *n, uint64_t seq, int64_t timeout_ms);
/* Set the re-check bound of long polls (ms > 0; else back to the default 50 ms). */
void duro__notify_set_recheck(duro__notifier *n, int64_t ms);
/* Wake every fetch and wait_commit blocked on `n` (runtime shutdown); waits that begin
 * after the call are not affected. */
void duro__notify_interrupt(duro__notifier *n);

#endif /* DURO_NOTIFY_H */
