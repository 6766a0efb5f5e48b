/*
 * notify.c — in-process change notification and the long-polling loop of both providers
 * (see duro-notify.h). Fetchers sleep on their own condition variable on a stack per queue
 * and are woken LIFO, one per commit that made work visible; wait_commit waiters share one
 * condition variable that every commit broadcasts.
 */
#include "duro-notify.h"

#include <errno.h>
#include <stdlib.h>

#include "duro-util.h"

/* Default re-check bound of a long poll. */
#define RECHECK_MS 50

/* The wake-up record of a long-polling fetcher. Records are owned by the provider and reused,
 * never freed before it closes, so a waker may signal one after releasing note_mu even if
 * its fetcher has left meanwhile (the next user of the record then sees a spurious wake-up,
 * which every wait tolerates). */
typedef struct duro__notify_fetcher {
    pthread_cond_t cv;
    struct duro__notify_fetcher *next; /* on a stack: the one that began waiting before this
                                    * one; spare: the next spare record */
    int listed;                    /* on its queue's stack */
} duro__notify_fetcher;

int duro__notifier_init(duro__notifier *n, duro_error *err)
{
    if (pthread_condattr_init(&n->mono_attr) != 0)
        return duro_error_set(err, DURO_ENOMEM, 0, "cannot initialise a condition attribute");
    if (pthread_condattr_setclock(&n->mono_attr, CLOCK_MONOTONIC) != 0 ||
        pthread_mutex_init(&n->mu, NULL) != 0) {
        pthread_condattr_destroy(&n->mono_attr);
        return duro_error_set(err, DURO_ENOMEM, 0, "cannot initialise the notifier lock");
    }
    n->recheck_ms = RECHECK_MS;
    if (pthread_cond_init(&n->commit_cv, &n->mono_attr) != 0) {
        pthread_mutex_destroy(&n->mu);
        pthread_condattr_destroy(&n->mono_attr);
        return duro_error_set(err, DURO_ENOMEM, 0, "cannot initialise the notifier");
    }
    return 0;
}

void duro__notifier_destroy(duro__notifier *n)
{
    while (n->spare_fetchers != NULL) {
        struct duro__notify_fetcher *f = n->spare_fetchers;
        n->spare_fetchers = f->next;
        pthread_cond_destroy(&f->cv);
        free(f);
    }
    pthread_cond_destroy(&n->commit_cv);
    pthread_mutex_destroy(&n->mu);
    pthread_condattr_destroy(&n->mono_attr);
}

static uint64_t *note_counter(duro__notifier *n, unsigned note)
{
    if (note == DURO__NOTE_ORCH)
        return &n->orch_seq;
    if (note == DURO__NOTE_WORK || note == DURO__NOTE_WORK_FILTERED)
        return &n->work_seq;
    return &n->commit_seq;
}



/* The stack of sleeping fetchers of queue `note` (orchestrator or work). */
static duro__notify_fetcher **fetcher_stack(duro__notifier *n, unsigned note)
{
    return &n->fetchers[note == DURO__NOTE_ORCH ? 0 : 1];
}

/* Caller holds note_mu: take the fetcher of `note` that began sleeping LAST off its stack
 * and return its record for the caller to signal once the mutex is released (NULL if none
 * sleeps). The most recently active thread has warm caches and is the most likely to be on
 * a running CPU; the others stay asleep. */
static duro__notify_fetcher *pop_latest(duro__notifier *n, unsigned note)
{
    duro__notify_fetcher **top = fetcher_stack(n, note);
    duro__notify_fetcher *f = *top;

    if (f != NULL) {
        *top = f->next;
        f->listed = 0;
    }
    return f;
}

/* Signal a record returned by pop_latest (no-op for NULL); called without note_mu. */
static void wake(duro__notify_fetcher *f)
{
    if (f != NULL)
        pthread_cond_signal(&f->cv);
}

/* After a commit: every wait_commit waiter wakes (each watches its own instance), but only
 * ONE fetcher per queue that gained work; a fetcher that takes an item and sees another
 * passes the baton on (pass_baton), so several new items still reach several sleeping
 * fetchers without waking all of them for one item. */
void duro__notify(duro__notifier *n, unsigned notes)
{
    duro__notify_fetcher *orch = NULL, *work = NULL;

    pthread_mutex_lock(&n->mu);
    n->commit_seq++;
    if (notes & DURO__NOTE_ORCH) {
        n->orch_seq++;
        orch = pop_latest(n, DURO__NOTE_ORCH);
    }
    if (notes & DURO__NOTE_WORK) {
        n->work_seq++;
        work = pop_latest(n, DURO__NOTE_WORK);
    }
    pthread_mutex_unlock(&n->mu);
    pthread_cond_broadcast(&n->commit_cv);
    wake(orch);
    wake(work);
}

/* A fetch of `note`'s queue took an item and saw another one fetchable: wake one more
 * fetcher. */
static void pass_baton(duro__notifier *n, unsigned note)
{
    duro__notify_fetcher *f;

    if (note == DURO__NOTE_WORK_FILTERED)
        note = DURO__NOTE_WORK;
    pthread_mutex_lock(&n->mu);
    (*note_counter(n, note))++;
    f = pop_latest(n, note);
    pthread_mutex_unlock(&n->mu);
    if (note == DURO__NOTE_WORK) /* and every filtered fetcher */
        pthread_cond_broadcast(&n->commit_cv);
    wake(f);
}

/* Read the counter of `note` and the interrupt generation in one step. */
static uint64_t note_read(duro__notifier *n, unsigned note, uint64_t *gen)
{
    uint64_t v;

    pthread_mutex_lock(&n->mu);
    v = *note_counter(n, note);
    if (gen != NULL)
        *gen = n->interrupt_gen;
    pthread_mutex_unlock(&n->mu);
    return v;
}

/* Caller holds note_mu: take `f` off its stack if a waker has not already done so. */
static void unlist(duro__notify_fetcher **top, duro__notify_fetcher *f)
{
    if (!f->listed)
        return;
    while (*top != f)
        top = &(*top)->next;
    *top = f->next;
    f->listed = 0;
}

/* Caller holds note_mu: a spare fetcher record, or a new one; NULL when out of memory. */
static duro__notify_fetcher *fetcher_take(duro__notifier *n)
{
    duro__notify_fetcher *f = n->spare_fetchers;

    if (f != NULL) {
        n->spare_fetchers = f->next;
        return f;
    }
    f = calloc(1, sizeof(*f));
    if (f != NULL && pthread_cond_init(&f->cv, &n->mono_attr) != 0) {
        free(f);
        f = NULL;
    }
    return f;
}

/* Wait until the counter of `note` passes `seen`, the interrupt generation passes `gen`, or
 * `timeout_ms` elapses (< 0: no limit). A fetcher (orchestrator or work note) sleeps on its
 * own record on its queue's stack; a wait_commit waiter (note 0), a filtered work fetcher,
 * or a fetcher when no record can be allocated, on commit_cv, which every commit
 * broadcasts. Returns 0 when the counter moved, DURO_ESHUTDOWN when interrupted,
 * DURO_ETIMEDOUT otherwise. */
static int note_wait(duro__notifier *n, unsigned note, uint64_t seen, uint64_t gen,
                     int64_t timeout_ms)
{
    struct timespec dl = duro__monotonic_after_us(duro__ms_to_us_sat(timeout_ms));
    uint64_t *ctr = note_counter(n, note);
    duro__notify_fetcher **top = NULL, *self = NULL;
    pthread_cond_t *cv = &n->commit_cv;
    int rc = 0;

    pthread_mutex_lock(&n->mu);
    if (note != 0 && note != DURO__NOTE_WORK_FILTERED && (self = fetcher_take(n)) != NULL) {
        top = fetcher_stack(n, note);
        cv = &self->cv;
    }
    while (*ctr <= seen && n->interrupt_gen == gen && rc != ETIMEDOUT) {
        if (self != NULL && !self->listed) {
            self->next = *top;
            *top = self;
            self->listed = 1;
        }
        if (timeout_ms < 0)
            pthread_cond_wait(cv, &n->mu);
        else
            rc = pthread_cond_timedwait(cv, &n->mu, &dl);
    }
    if (self != NULL) {
        unlist(top, self);
        self->next = n->spare_fetchers;
        n->spare_fetchers = self;
    }
    rc = *ctr > seen ? 0 : n->interrupt_gen != gen ? DURO_ESHUTDOWN : DURO_ETIMEDOUT;
    pthread_mutex_unlock(&n->mu);
    return rc;
}

int duro__notify_poll(duro__notifier *n, unsigned note, int64_t now_ms, int64_t poll_ms,
                      duro__notify_try_fn try, void *arg, duro_error *err)
{
    int64_t start = duro__monotonic_us();
    uint64_t gen;

    note_read(n, note, &gen);
    for (int first = 1;; first = 0) {
        uint64_t seen = note_read(n, note, NULL);
        /* the first try runs at now_ms; later ones at now_ms plus the whole milliseconds
         * waited, never rounded up (a delayed message must not become visible early) */
        int64_t elapsed = first ? 0 : (duro__monotonic_us() - start) / 1000;
        int64_t now = duro__add_sat(now_ms, elapsed);
        int64_t next = DURO__NEVER;
        int64_t wait;
        int rc = try(arg, now, &next, err);

        if (rc == 0 && next <= now)
            pass_baton(n, note);
        if (rc != DURO_ENOTFOUND)
            return rc;
        if (poll_ms <= 0 || elapsed >= poll_ms)
            return duro_error_set(err, DURO_ENOTFOUND, 1, "no work available");
        wait = poll_ms - elapsed;
        pthread_mutex_lock(&n->mu);
        if (wait > n->recheck_ms)
            wait = n->recheck_ms;
        pthread_mutex_unlock(&n->mu);
        if (next != DURO__NEVER && next < duro__add_sat(now, wait)) /* no overflow */
            wait = next - now > 0 ? next - now : 0;
        if (note_wait(n, note, seen, gen, wait) == DURO_ESHUTDOWN)
            return duro_error_set(err, DURO_ENOTFOUND, 1, "no work available (interrupted)");
    }
}

uint64_t duro__notify_commit_seq(duro__notifier *n)
{
    return note_read(n, 0, NULL);
}

int duro__notify_wait_commit(duro__notifier *n, uint64_t seq, int64_t timeout_ms)
{
    uint64_t gen;
    int rc;

    note_read(n, 0, &gen);
    rc = note_wait(n, 0, seq, gen, timeout_ms);
    return rc == DURO_ESHUTDOWN ? DURO_ETIMEDOUT : rc;
}

void duro__notify_set_recheck(duro__notifier *n, int64_t ms)
{
    pthread_mutex_lock(&n->mu);
    n->recheck_ms = ms > 0 ? ms : RECHECK_MS;
    pthread_mutex_unlock(&n->mu);
}

void duro__notify_interrupt(duro__notifier *n)
{
    pthread_mutex_lock(&n->mu);
    n->interrupt_gen++;
    for (int i = 0; i < 2; i++)
        for (duro__notify_fetcher *f = n->fetchers[i]; f != NULL; f = f->next)
            pthread_cond_signal(&f->cv); /* under the mutex: they stay listed until they leave */
    pthread_cond_broadcast(&n->commit_cv);
    pthread_mutex_unlock(&n->mu);
}
