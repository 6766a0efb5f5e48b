/*
 * broken-provider.c — providers that break exactly one rule of the contract, to prove that
 * the conformance suite catches each violation (see broken-provider.h, test-teeth.c).
 *
 * Each provider wraps a fresh in-memory SQLite store and forwards every call to it. The
 * selected rule then changes what goes in or comes out: it rewrites an argument (a dropped
 * cancel list, a zeroed delay, an earlier clock), rewrites a result (reversed batch, attempt
 * stuck at 1) or replaces a correct failure with a plausible wrong outcome (a deleted item's
 * ack "succeeds", a duplicate event "replaces" the stored one). To do that the wrapper keeps
 * a little state, guarded by one mutex: the tokens it handed out (instance, fetch time,
 * lock length, and for "lock-not-exclusive" a copy of the item), the replaced events, and
 * the instances that only have orphan messages.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "broken-provider.h"
#include "duro-sqlite.h"
#include "sqlite-factory.h"

enum {
    R_NONE,
    R_ACK_NOT_ATOMIC,
    R_LOCK_NOT_EXCLUSIVE,
    R_LOCK_EXPIRY_UNCHECKED,
    R_ATTEMPT_FROZEN,
    R_FIFO_REVERSED,
    R_DELAY_IGNORED,
    R_CANCEL_IGNORED,
    R_DELETED_ACK_ACCEPTED,
    R_HISTORY_OVERWRITTEN,
    R_ORPHAN_BLOCKS,
    R_DELETE_IGNORES_RUNNING,
    R_LIST_OLDEST_FIRST,
    R_BULK_IGNORES_LIMIT,
    R_COUNT
};

static const broken_rule rules[R_COUNT] = {
    {"none", "Breaks nothing: forwards every call unchanged."},
    {"ack-not-atomic",
     "An ack_orch that fails on a bad event id still applies its valid events and work "
     "items (and releases the lock), then reports the failure."},
    {"lock-not-exclusive",
     "A fetch that finds nothing hands out an item that is still locked by someone else."},
    {"lock-expiry-unchecked",
     "ack_orch and ack_work accept an expired lock token, as if the lock were still held."},
    {"attempt-frozen", "Fetches always report attempt 1: fetch counts are never incremented."},
    {"fifo-reversed", "The messages of a fetched batch come newest first."},
    {"delay-ignored",
     "visible_at and abandon delays are ignored: every message is visible at once."},
    {"cancel-not-applied", "ack_orch ignores its cancel list: cancelled work stays queued."},
    {"deleted-ack-accepted",
     "ack_work of an item whose row is gone (cancelled or deleted) succeeds and enqueues its "
     "completion."},
    {"history-overwritten",
     "A duplicate event id is accepted and replaces the stored event instead of failing."},
    {"orphan-blocks-queue",
     "A message for a never-started instance blocks fetch_orch for every instance."},
    {"delete-ignores-running", "delete_instance always forces: running trees are deleted."},
    {"list-oldest-first", "list_instances returns the oldest instance first."},
    {"bulk-ignores-limit", "delete_bulk ignores its limit and deletes every match at once."},
};

static const char *const factory_names[R_COUNT] = {
    "broken:none",
    "broken:ack-not-atomic",
    "broken:lock-not-exclusive",
    "broken:lock-expiry-unchecked",
    "broken:attempt-frozen",
    "broken:fifo-reversed",
    "broken:delay-ignored",
    "broken:cancel-not-applied",
    "broken:deleted-ack-accepted",
    "broken:history-overwritten",
    "broken:orphan-blocks-queue",
    "broken:delete-ignores-running",
    "broken:list-oldest-first",
    "broken:bulk-ignores-limit",
};

/* A token the wrapper handed out and that was not yet acked or abandoned. */
typedef struct token_rec {
    char token[33];
    int work;              /* 1: worker token, 0: orchestration token */
    char *instance;
    int64_t locked_at;     /* now_ms of the fetch or of the last renew */
    int64_t lock_ms;
    duro_orch_item *orch;  /* copy of the fetched item ("lock-not-exclusive" only) */
    duro_work_item *item;
} token_rec;

/* An event that replaced the stored one ("history-overwritten"). */
typedef struct overlay_rec {
    char *instance;
    uint64_t execution_id;
    uint64_t event_id;
    int kind;
    char *payload;
} overlay_rec;

typedef struct bp {
    duro_provider base;
    duro_provider *inner;
    int rule;
    pthread_mutex_t mu;
    token_rec *tokens;
    size_t n_tokens;
    overlay_rec *overlay;
    size_t n_overlay;
    char **orphans;        /* instances with a queued message and no start */
    size_t n_orphans;
    char **started;        /* instances that had a START message */
    size_t n_started;
} bp;

static int rule_ids[R_COUNT];
static duro_provider_factory factories[R_COUNT];

static bp *as_bp(duro_provider *p)
{
    return (bp *)p;
}

static const duro_provider_factory *inner_factory(void)
{
    return duro__sqlite_factory_memory();
}

/* ---- Small containers ------------------------------------------------------------------ */

static char *dup_str(const char *s, int *oom)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = strdup(s);
    if (d == NULL)
        *oom = 1;
    return d;
}

static int strv_has(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

/* Append a copy of s to *v; returns 0 or DURO_ENOMEM. */
static int strv_add(char ***v, size_t *n, const char *s)
{
    char **grown = realloc(*v, (*n + 1) * sizeof **v);
    char *copy;

    if (grown == NULL)
        return DURO_ENOMEM;
    *v = grown;
    copy = strdup(s);
    if (copy == NULL)
        return DURO_ENOMEM;
    (*v)[(*n)++] = copy;
    return 0;
}

static void strv_remove(char **v, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(v[i], s) == 0) {
            free(v[i]);
            v[i] = v[--*n];
            return;
        }
    }
}

static duro_orch_item *copy_orch_item(const duro_orch_item *s)
{
    duro_orch_item *d = calloc(1, sizeof *d);
    int oom = 0;

    if (d == NULL)
        return NULL;
    memcpy(d->lock_token, s->lock_token, sizeof d->lock_token);
    d->attempt = s->attempt;
    d->execution_id = s->execution_id;
    d->state = s->state;
    d->instance = dup_str(s->instance, &oom);
    d->orch_name = dup_str(s->orch_name, &oom);
    d->orch_version = dup_str(s->orch_version, &oom);
    d->custom_status = dup_str(s->custom_status, &oom);
    d->history_error = dup_str(s->history_error, &oom);
    if (s->n_msgs) {
        d->msgs = calloc(s->n_msgs, sizeof *d->msgs);
        oom |= d->msgs == NULL;
        for (size_t i = 0; d->msgs && i < s->n_msgs; i++) {
            d->msgs[i] = s->msgs[i];
            d->msgs[i].payload = dup_str(s->msgs[i].payload, &oom);
            d->n_msgs = i + 1;
        }
    }
    if (s->n_history) {
        d->history = calloc(s->n_history, sizeof *d->history);
        oom |= d->history == NULL;
        for (size_t i = 0; d->history && i < s->n_history; i++) {
            d->history[i] = s->history[i];
            d->history[i].payload = dup_str(s->history[i].payload, &oom);
            d->n_history = i + 1;
        }
    }
    if (oom) {
        duro_orch_item_free(d);
        return NULL;
    }
    return d;
}

static duro_work_item *copy_work_item(const duro_work_item *s)
{
    duro_work_item *d = calloc(1, sizeof *d);
    int oom = 0;

    if (d == NULL)
        return NULL;
    *d = *s;
    d->instance = dup_str(s->instance, &oom);
    d->payload = dup_str(s->payload, &oom);
    if (oom) {
        duro_work_item_free(d);
        return NULL;
    }
    return d;
}

/* ---- Token records (callers hold b->mu) ------------------------------------------------- */

static token_rec *token_find(bp *b, const char *token)
{
    for (size_t i = 0; i < b->n_tokens; i++)
        if (strcmp(b->tokens[i].token, token) == 0)
            return &b->tokens[i];
    return NULL;
}

static void token_rec_free(token_rec *r)
{
    free(r->instance);
    duro_orch_item_free(r->orch);
    duro_work_item_free(r->item);
}

static void token_forget(bp *b, const char *token)
{
    token_rec *r = token_find(b, token);

    if (r == NULL)
        return;
    token_rec_free(r);
    *r = b->tokens[--b->n_tokens];
}

/* Record a token handed out by a fetch; `orch`/`item` are copied when the rule needs them.
 * Returns 0 or DURO_ENOMEM. */
static int token_add(bp *b, const char *token, int work, const char *instance, int64_t now,
                     int64_t lock_ms, const duro_orch_item *orch, const duro_work_item *item)
{
    token_rec *grown = realloc(b->tokens, (b->n_tokens + 1) * sizeof *b->tokens);
    token_rec r;
    int oom = 0;

    if (grown == NULL)
        return DURO_ENOMEM;
    b->tokens = grown;
    memset(&r, 0, sizeof r);
    memcpy(r.token, token, sizeof r.token);
    r.work = work;
    r.locked_at = now;
    r.lock_ms = lock_ms;
    r.instance = dup_str(instance, &oom);
    if (b->rule == R_LOCK_NOT_EXCLUSIVE) {
        if (orch != NULL && (r.orch = copy_orch_item(orch)) == NULL)
            oom = 1;
        if (item != NULL && (r.item = copy_work_item(item)) == NULL)
            oom = 1;
    }
    if (oom) {
        token_rec_free(&r);
        return DURO_ENOMEM;
    }
    b->tokens[b->n_tokens++] = r;
    return 0;
}

/* ---- Rule helpers ---------------------------------------------------------------------- */

/* "orphan-blocks-queue": remember which instances hold only orphan messages. */
static int note_message(bp *b, const char *instance, int kind)
{
    duro_instance_info info;
    int rc = 0;

    if (b->rule != R_ORPHAN_BLOCKS)
        return 0;
    pthread_mutex_lock(&b->mu);
    if (kind == DURO_MSG_START) {
        strv_remove(b->orphans, &b->n_orphans, instance);
        if (!strv_has(b->started, b->n_started, instance))
            rc = strv_add(&b->started, &b->n_started, instance);
    } else if (!strv_has(b->started, b->n_started, instance) &&
               !strv_has(b->orphans, b->n_orphans, instance)) {
        int found = b->inner->ops->instance_info(b->inner, instance, &info, NULL);

        if (found == 0)
            duro_instance_info_clear(&info);
        else if (found == DURO_ENOTFOUND)
            rc = strv_add(&b->orphans, &b->n_orphans, instance);
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

/* "history-overwritten": replace events by the recorded overlay. Returns 0 or ENOMEM. */
static int apply_overlay(bp *b, const char *instance, uint64_t execution_id,
                         duro_event *events, size_t n)
{
    int rc = 0;

    pthread_mutex_lock(&b->mu);
    for (size_t o = 0; o < b->n_overlay && rc == 0; o++) {
        const overlay_rec *ov = &b->overlay[o];

        if (ov->execution_id != execution_id || strcmp(ov->instance, instance) != 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (events[i].event_id == ov->event_id) {
                char *copy = strdup(ov->payload);

                if (copy == NULL) {
                    rc = DURO_ENOMEM;
                    break;
                }
                free(events[i].payload);
                events[i].payload = copy;
                events[i].kind = ov->kind;
            }
        }
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

static int overlay_add(bp *b, const char *instance, uint64_t execution_id,
                       const duro_event_in *ev)
{
    overlay_rec *grown;
    overlay_rec r;
    int oom = 0;

    r.instance = dup_str(instance, &oom);
    r.execution_id = execution_id;
    r.event_id = ev->event_id;
    r.kind = ev->kind;
    r.payload = dup_str(ev->payload, &oom);
    pthread_mutex_lock(&b->mu);
    grown = oom ? NULL : realloc(b->overlay, (b->n_overlay + 1) * sizeof *b->overlay);
    if (grown != NULL) {
        b->overlay = grown;
        b->overlay[b->n_overlay++] = r;
    }
    pthread_mutex_unlock(&b->mu);
    if (grown == NULL) {
        free(r.instance);
        free(r.payload);
        return DURO_ENOMEM;
    }
    return 0;
}

static int has_event(const duro_event *events, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (events[i].event_id == id)
            return 1;
    return 0;
}

/* After an ack failed with the lock still held: "ack-not-atomic" applies what it can (the
 * valid events and the work items) and "history-overwritten" records duplicates as
 * replacements and applies the rest. Returns the code the wrapper reports. */
static int ack_after_failure(bp *b, int64_t now, const char *token, const char *instance,
                             const duro_orch_commit *c, int failed_rc, duro_error *err)
{
    duro_event *stored = NULL;
    duro_event_in *keep;
    duro_orch_commit partial = *c;
    duro_error ignored;
    size_t n_stored = 0, n_keep = 0, n_dup = 0;
    int rc;

    if (instance == NULL ||
        b->inner->ops->read_history(b->inner, instance, c->execution_id, &stored, &n_stored,
                                    &ignored) != 0)
        return failed_rc;
    keep = calloc(c->n_events + 1, sizeof *keep);
    if (keep == NULL) {
        duro_events_free(stored, n_stored);
        return duro_error_set(err, DURO_ENOMEM, 0, "broken provider: out of memory");
    }
    for (size_t i = 0; i < c->n_events; i++) {
        const duro_event_in *ev = &c->events[i];
        int clash = ev->event_id == 0 || has_event(stored, n_stored, ev->event_id);

        for (size_t j = 0; j < n_keep && !clash; j++)
            clash = keep[j].event_id == ev->event_id;
        if (!clash)
            keep[n_keep++] = *ev;
        else if (ev->event_id != 0 && has_event(stored, n_stored, ev->event_id))
            n_dup++;
    }
    duro_events_free(stored, n_stored);
    partial.events = keep;
    partial.n_events = n_keep;
    if (b->rule == R_ACK_NOT_ATOMIC) {
        partial.n_cancel = 0;
        partial.n_msgs = 0;
        partial.state = 0;
        partial.set_custom_status = 0;
        /* Whatever the partial write does, the broken ack reports the original failure. */
        b->inner->ops->ack_orch(b->inner, now, token, &partial, &ignored);
        free(keep);
        return failed_rc;
    }
    /* history-overwritten: only a commit whose sole problem is ids already stored. */
    if (failed_rc != DURO_ECONSTRAINT || n_dup + n_keep != c->n_events || n_dup == 0) {
        free(keep);
        return failed_rc;
    }
    rc = b->inner->ops->ack_orch(b->inner, now, token, &partial, err);
    for (size_t i = 0; rc == 0 && i < c->n_events; i++) {
        int kept = 0;

        for (size_t j = 0; j < n_keep; j++)
            kept |= keep[j].event_id == c->events[i].event_id;
        if (!kept)
            rc = overlay_add(b, instance, c->execution_id, &c->events[i]);
    }
    free(keep);
    return rc;
}

/* ---- Orchestrator queue ---------------------------------------------------------------- */

static void bp_free(bp *b)
{
    for (size_t i = 0; i < b->n_tokens; i++)
        token_rec_free(&b->tokens[i]);
    free(b->tokens);
    for (size_t i = 0; i < b->n_overlay; i++) {
        free(b->overlay[i].instance);
        free(b->overlay[i].payload);
    }
    free(b->overlay);
    duro_strv_free(b->orphans, b->n_orphans);
    duro_strv_free(b->started, b->n_started);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

static void bp_destroy(duro_provider *p)
{
    bp *b = as_bp(p);

    duro_provider_destroy(b->inner);
    bp_free(b);
}

static int bp_enqueue_orch(duro_provider *p, const duro_msg *msg, duro_error *err)
{
    bp *b = as_bp(p);
    duro_msg m;
    int rc;

    if (msg == NULL)
        return b->inner->ops->enqueue_orch(b->inner, msg, err);
    m = *msg;
    if (b->rule == R_DELAY_IGNORED)
        m.visible_at_ms = 0;
    rc = b->inner->ops->enqueue_orch(b->inner, &m, err);
    if (rc == 0 && msg->instance != NULL && note_message(b, msg->instance, msg->kind) != 0)
        return duro_error_set(err, DURO_ENOMEM, 0, "broken provider: out of memory");
    return rc;
}

static int bp_fetch_orch(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                         duro_orch_item **out, duro_error *err)
{
    bp *b = as_bp(p);
    duro_orch_item *it = NULL;
    int rc;

    if (out == NULL) /* the inner provider's own argument check */
        return b->inner->ops->fetch_orch(b->inner, now_ms, lock_ms, poll_ms, NULL, err);
    if (b->rule == R_ORPHAN_BLOCKS) {
        size_t blocked;

        pthread_mutex_lock(&b->mu);
        blocked = b->n_orphans;
        pthread_mutex_unlock(&b->mu);
        if (blocked) {
            *out = NULL;
            return duro_error_set(err, DURO_ENOTFOUND, 0, "queue head is an orphan message");
        }
    }
    rc = b->inner->ops->fetch_orch(b->inner, now_ms, lock_ms, poll_ms, &it, err);
    if (rc == DURO_ENOTFOUND && b->rule == R_LOCK_NOT_EXCLUSIVE) {
        pthread_mutex_lock(&b->mu);
        for (size_t i = 0; i < b->n_tokens && it == NULL; i++)
            if (b->tokens[i].orch != NULL)
                it = copy_orch_item(b->tokens[i].orch);
        pthread_mutex_unlock(&b->mu);
        *out = it;
        return it != NULL ? 0 : rc;
    }
    if (rc != 0)
        return rc;
    if (b->rule == R_ATTEMPT_FROZEN)
        it->attempt = 1;
    if (b->rule == R_FIFO_REVERSED) {
        for (size_t i = 0; i < it->n_msgs / 2; i++) {
            duro_stored_msg t = it->msgs[i];

            it->msgs[i] = it->msgs[it->n_msgs - 1 - i];
            it->msgs[it->n_msgs - 1 - i] = t;
        }
    }
    if (b->rule == R_HISTORY_OVERWRITTEN)
        rc = apply_overlay(b, it->instance, it->execution_id, it->history, it->n_history);
    if (rc == 0) {
        pthread_mutex_lock(&b->mu);
        rc = token_add(b, it->lock_token, 0, it->instance, now_ms, lock_ms, it, NULL);
        pthread_mutex_unlock(&b->mu);
    }
    if (rc != 0) {
        duro_orch_item_free(it);
        return duro_error_set(err, rc, 0, "broken provider: out of memory");
    }
    *out = it;
    return 0;
}

static int bp_ack_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                       const duro_orch_commit *commit, duro_error *err)
{
    bp *b = as_bp(p);
    duro_orch_commit c;
    duro_msg *msgs = NULL;
    char *instance = NULL;
    int64_t locked_at = now_ms;
    int rc, oom = 0;

    if (commit == NULL || lock_token == NULL)
        return b->inner->ops->ack_orch(b->inner, now_ms, lock_token, commit, err);
    c = *commit;
    pthread_mutex_lock(&b->mu);
    token_rec *r = token_find(b, lock_token);
    if (r != NULL) {
        instance = dup_str(r->instance, &oom);
        locked_at = r->locked_at;
    }
    pthread_mutex_unlock(&b->mu);
    if (b->rule == R_DELAY_IGNORED && c.n_msgs) {
        msgs = calloc(c.n_msgs, sizeof *msgs);
        oom |= msgs == NULL;
        for (size_t i = 0; msgs && i < c.n_msgs; i++) {
            msgs[i] = c.msgs[i];
            msgs[i].visible_at_ms = 0;
        }
        c.msgs = msgs;
    }
    if (oom) {
        free(instance);
        free(msgs);
        return duro_error_set(err, DURO_ENOMEM, 0, "broken provider: out of memory");
    }
    if (b->rule == R_CANCEL_IGNORED)
        c.n_cancel = 0;
    if (b->rule == R_LOCK_EXPIRY_UNCHECKED && locked_at < now_ms)
        now_ms = locked_at;
    rc = b->inner->ops->ack_orch(b->inner, now_ms, lock_token, &c, err);
    if (rc != 0 && rc != DURO_ELOCK &&
        (b->rule == R_ACK_NOT_ATOMIC || b->rule == R_HISTORY_OVERWRITTEN))
        rc = ack_after_failure(b, now_ms, lock_token, instance, &c, rc, err);
    if (rc == 0) {
        pthread_mutex_lock(&b->mu);
        token_forget(b, lock_token);
        pthread_mutex_unlock(&b->mu);
        for (size_t i = 0; i < c.n_msgs && rc == 0; i++)
            if (note_message(b, c.msgs[i].instance, c.msgs[i].kind) != 0)
                rc = duro_error_set(err, DURO_ENOMEM, 0, "broken provider: out of memory");
    }
    free(instance);
    free(msgs);
    return rc;
}

static int bp_abandon_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                           int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    bp *b = as_bp(p);
    int rc;

    if (b->rule == R_DELAY_IGNORED)
        delay_ms = 0;
    rc = b->inner->ops->abandon_orch(b->inner, now_ms, lock_token, delay_ms, ignore_attempt,
                                     err);
    if (rc == 0) {
        pthread_mutex_lock(&b->mu);
        token_forget(b, lock_token);
        pthread_mutex_unlock(&b->mu);
    }
    return rc;
}

/* A successful renew moves the recorded lock start. */
static void note_renew(bp *b, const char *lock_token, int64_t now_ms, int64_t extend_ms)
{
    pthread_mutex_lock(&b->mu);
    token_rec *r = token_find(b, lock_token);
    if (r != NULL) {
        r->locked_at = now_ms;
        r->lock_ms = extend_ms;
    }
    pthread_mutex_unlock(&b->mu);
}

static int bp_renew_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                         int64_t extend_ms, duro_error *err)
{
    bp *b = as_bp(p);
    int rc = b->inner->ops->renew_orch(b->inner, now_ms, lock_token, extend_ms, err);

    if (rc == 0)
        note_renew(b, lock_token, now_ms, extend_ms);
    return rc;
}

/* ---- Worker queue ---------------------------------------------------------------------- */

static int bp_enqueue_work(duro_provider *p, const duro_work_in *work, duro_error *err)
{
    bp *b = as_bp(p);

    return b->inner->ops->enqueue_work(b->inner, work, err);
}

static int bp_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                         duro_work_item **out, duro_error *err)
{
    bp *b = as_bp(p);
    duro_work_item *w = NULL;
    int rc;

    if (out == NULL) /* the inner provider's own argument check */
        return b->inner->ops->fetch_work(b->inner, now_ms, lock_ms, poll_ms, NULL, err);
    rc = b->inner->ops->fetch_work(b->inner, now_ms, lock_ms, poll_ms, &w, err);

    if (rc == DURO_ENOTFOUND && b->rule == R_LOCK_NOT_EXCLUSIVE) {
        pthread_mutex_lock(&b->mu);
        for (size_t i = 0; i < b->n_tokens && w == NULL; i++)
            if (b->tokens[i].item != NULL)
                w = copy_work_item(b->tokens[i].item);
        pthread_mutex_unlock(&b->mu);
        *out = w;
        return w != NULL ? 0 : rc;
    }
    if (rc != 0)
        return rc;
    if (b->rule == R_ATTEMPT_FROZEN)
        w->attempt = 1;
    pthread_mutex_lock(&b->mu);
    rc = token_add(b, w->lock_token, 1, w->instance, now_ms, lock_ms, NULL, w);
    pthread_mutex_unlock(&b->mu);
    if (rc != 0) {
        duro_work_item_free(w);
        return duro_error_set(err, rc, 0, "broken provider: out of memory");
    }
    *out = w;
    return 0;
}

static int bp_ack_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                       const duro_msg *completion, duro_error *err)
{
    bp *b = as_bp(p);
    duro_msg m;
    const duro_msg *done = completion;
    int64_t locked_at = now_ms, lock_ms = 0;
    int known = 0, rc;

    if (lock_token != NULL) {
        pthread_mutex_lock(&b->mu);
        token_rec *r = token_find(b, lock_token);
        if (r != NULL) {
            known = 1;
            locked_at = r->locked_at;
            lock_ms = r->lock_ms;
        }
        pthread_mutex_unlock(&b->mu);
    }
    if (b->rule == R_DELAY_IGNORED && completion != NULL) {
        m = *completion;
        m.visible_at_ms = 0;
        done = &m;
    }
    if (b->rule == R_LOCK_EXPIRY_UNCHECKED && known && locked_at < now_ms)
        now_ms = locked_at;
    rc = b->inner->ops->ack_work(b->inner, now_ms, lock_token, done, err);
    if (rc == DURO_ELOCK && b->rule == R_DELETED_ACK_ACCEPTED && known &&
        now_ms < locked_at + lock_ms)
        rc = done != NULL ? b->inner->ops->enqueue_orch(b->inner, done, err) : 0;
    if (rc == 0) {
        /* "deleted-ack-accepted" keeps the token: an acked row is gone too. */
        pthread_mutex_lock(&b->mu);
        if (b->rule != R_DELETED_ACK_ACCEPTED)
            token_forget(b, lock_token);
        pthread_mutex_unlock(&b->mu);
        if (done != NULL && note_message(b, done->instance, done->kind) != 0)
            rc = duro_error_set(err, DURO_ENOMEM, 0, "broken provider: out of memory");
    }
    return rc;
}

static int bp_abandon_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                           int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    bp *b = as_bp(p);
    int rc;

    if (b->rule == R_DELAY_IGNORED)
        delay_ms = 0;
    rc = b->inner->ops->abandon_work(b->inner, now_ms, lock_token, delay_ms, ignore_attempt,
                                     err);
    if (rc == 0) {
        pthread_mutex_lock(&b->mu);
        token_forget(b, lock_token);
        pthread_mutex_unlock(&b->mu);
    }
    return rc;
}

static int bp_renew_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                         int64_t extend_ms, duro_error *err)
{
    bp *b = as_bp(p);
    int rc = b->inner->ops->renew_work(b->inner, now_ms, lock_token, extend_ms, err);

    if (rc == 0)
        note_renew(b, lock_token, now_ms, extend_ms);
    return rc;
}

/* ---- Reads, notification, management ---------------------------------------------------- */

static int bp_read_history(duro_provider *p, const char *instance, uint64_t execution_id,
                           duro_event **events, size_t *n, duro_error *err)
{
    bp *b = as_bp(p);
    duro_instance_info info;
    int rc = b->inner->ops->read_history(b->inner, instance, execution_id, events, n, err);

    if (rc != 0 || b->rule != R_HISTORY_OVERWRITTEN || *n == 0)
        return rc;
    if (execution_id == 0) {
        rc = b->inner->ops->instance_info(b->inner, instance, &info, err);
        if (rc != 0)
            goto fail;
        execution_id = info.execution_id;
        duro_instance_info_clear(&info);
    }
    rc = apply_overlay(b, instance, execution_id, *events, *n);
    if (rc == 0)
        return 0;
    rc = duro_error_set(err, rc, 0, "broken provider: out of memory");
fail:
    duro_events_free(*events, *n);
    *events = NULL;
    *n = 0;
    return rc;
}

static int bp_instance_info(duro_provider *p, const char *instance, duro_instance_info *out,
                            duro_error *err)
{
    bp *b = as_bp(p);

    return b->inner->ops->instance_info(b->inner, instance, out, err);
}

static void bp_interrupt(duro_provider *p)
{
    bp *b = as_bp(p);

    if (b->inner->ops->interrupt != NULL)
        b->inner->ops->interrupt(b->inner);
}

static uint64_t bp_commit_seq(duro_provider *p)
{
    bp *b = as_bp(p);

    return b->inner->ops->commit_seq(b->inner);
}

static int bp_wait_commit(duro_provider *p, uint64_t seq, int64_t timeout_ms)
{
    bp *b = as_bp(p);

    return b->inner->ops->wait_commit(b->inner, seq, timeout_ms);
}

static int bp_list_instances(duro_provider *p, int state_filter, char ***ids, size_t *n,
                             duro_error *err)
{
    bp *b = as_bp(p);
    int rc = b->inner->ops->list_instances(b->inner, state_filter, ids, n, err);

    if (rc == 0 && b->rule == R_LIST_OLDEST_FIRST) {
        for (size_t i = 0; i < *n / 2; i++) {
            char *t = (*ids)[i];

            (*ids)[i] = (*ids)[*n - 1 - i];
            (*ids)[*n - 1 - i] = t;
        }
    }
    return rc;
}

static int bp_list_executions(duro_provider *p, const char *instance, uint64_t **ids,
                              size_t *n, duro_error *err)
{
    bp *b = as_bp(p);

    return b->inner->ops->list_executions(b->inner, instance, ids, n, err);
}

static int bp_execution_info(duro_provider *p, const char *instance, uint64_t execution_id,
                             duro_execution_info *out, duro_error *err)
{
    bp *b = as_bp(p);

    return b->inner->ops->execution_info(b->inner, instance, execution_id, out, err);
}

static int bp_list_children(duro_provider *p, const char *instance, char ***ids, size_t *n,
                            duro_error *err)
{
    bp *b = as_bp(p);

    return b->inner->ops->list_children(b->inner, instance, ids, n, err);
}

static int bp_delete_instance(duro_provider *p, int64_t now_ms, const char *instance,
                              int force, duro_delete_result *out, duro_error *err)
{
    bp *b = as_bp(p);

    if (b->rule == R_DELETE_IGNORES_RUNNING)
        force = 1;
    return b->inner->ops->delete_instance(b->inner, now_ms, instance, force, out, err);
}

static int bp_delete_bulk(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                          duro_delete_result *out, duro_error *err)
{
    bp *b = as_bp(p);
    duro_bulk_filter f;

    if (filter == NULL || b->rule != R_BULK_IGNORES_LIMIT)
        return b->inner->ops->delete_bulk(b->inner, now_ms, filter, out, err);
    f = *filter;
    f.limit = 0;
    return b->inner->ops->delete_bulk(b->inner, now_ms, &f, out, err);
}

static int bp_prune(duro_provider *p, int64_t now_ms, const char *instance,
                    const duro_prune_options *opt, duro_delete_result *out, duro_error *err)
{
    bp *b = as_bp(p);

    return b->inner->ops->prune(b->inner, now_ms, instance, opt, out, err);
}

static int bp_queue_depths(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                           duro_error *err)
{
    bp *b = as_bp(p);

    return b->inner->ops->queue_depths(b->inner, now_ms, out, err);
}

static int bp_metrics(duro_provider *p, duro_metrics *out, duro_error *err)
{
    bp *b = as_bp(p);

    return b->inner->ops->metrics(b->inner, out, err);
}

static int bp_query_instances(duro_provider *p, const duro_instance_query *q,
                              duro_instance_summary **rows, size_t *n, duro_error *err)
{
    bp *b = as_bp(p);

    return b->inner->ops->query_instances(b->inner, q, rows, n, err);
}

static int bp_get_value(duro_provider *p, const char *instance, const char *key, char **value,
                        uint64_t *version, duro_error *err)
{
    bp *b = as_bp(p);

    return b->inner->ops->get_value(b->inner, instance, key, value, version, err);
}

static int bp_list_values(duro_provider *p, const char *instance, duro_kv_entry **entries,
                          size_t *n, duro_error *err)
{
    bp *b = as_bp(p);

    return b->inner->ops->list_values(b->inner, instance, entries, n, err);
}

static int bp_integrity_check(duro_provider *p, char *msg, size_t msg_size)
{
    return duro_provider_integrity_check(as_bp(p)->inner, msg, msg_size);
}

static const duro_provider_ops bp_ops = {
    .version = DURO_PROVIDER_OPS_VERSION,
    .destroy = bp_destroy,
    .enqueue_orch = bp_enqueue_orch,
    .fetch_orch = bp_fetch_orch,
    .ack_orch = bp_ack_orch,
    .abandon_orch = bp_abandon_orch,
    .renew_orch = bp_renew_orch,
    .enqueue_work = bp_enqueue_work,
    .fetch_work = bp_fetch_work,
    .ack_work = bp_ack_work,
    .abandon_work = bp_abandon_work,
    .renew_work = bp_renew_work,
    .read_history = bp_read_history,
    .instance_info = bp_instance_info,
    .interrupt = bp_interrupt,
    .commit_seq = bp_commit_seq,
    .wait_commit = bp_wait_commit,
    .list_instances = bp_list_instances,
    .list_executions = bp_list_executions,
    .execution_info = bp_execution_info,
    .list_children = bp_list_children,
    .delete_instance = bp_delete_instance,
    .delete_bulk = bp_delete_bulk,
    .prune = bp_prune,
    .queue_depths = bp_queue_depths,
    .metrics = bp_metrics,
    .integrity_check = bp_integrity_check,
    .query_instances = bp_query_instances,
    .get_value = bp_get_value,
    .list_values = bp_list_values,
};

/* ---- Factory ----------------------------------------------------------------------------- */

static int bp_create(void *ud, duro_provider **out, duro_error *err)
{
    const duro_provider_factory *f = inner_factory();
    duro_provider *inner = NULL;
    bp *b;
    int rc;

    *out = NULL;
    rc = f->create(f->ud, &inner, err);
    if (rc != 0)
        return rc;
    b = calloc(1, sizeof *b);
    if (b == NULL || pthread_mutex_init(&b->mu, NULL) != 0) {
        free(b);
        f->destroy(f->ud, inner);
        return duro_error_set(err, DURO_ENOMEM, 0, "broken provider: out of memory");
    }
    b->rule = *(const int *)ud;
    b->inner = inner;
    b->base.ops = &bp_ops;
    b->base.name = factory_names[b->rule];
    /* the routing ops (version 4) are not wrapped; the rules break fetch_orch only */
    b->base.caps = inner->caps & ~(DURO_CAP_TAGS | DURO_CAP_VERSION_FILTER);
    *out = &b->base;
    return 0;
}

static void bp_factory_destroy(void *ud, duro_provider *p)
{
    const duro_provider_factory *f = inner_factory();
    bp *b = as_bp(p);

    (void)ud;
    if (b == NULL)
        return;
    f->destroy(f->ud, b->inner);
    bp_free(b);
}

static int bp_corrupt_history(void *ud, duro_provider *p, const char *instance)
{
    const duro_provider_factory *f = inner_factory();

    (void)ud;
    return f->corrupt_history(f->ud, as_bp(p)->inner, instance);
}

static int bp_max_attempt_count(void *ud, duro_provider *p, const char *instance,
                                uint32_t *out)
{
    const duro_provider_factory *f = inner_factory();

    (void)ud;
    return f->max_attempt_count(f->ud, as_bp(p)->inner, instance, out);
}


const broken_rule *broken_rules(size_t *n)
{
    *n = R_COUNT;
    return rules;
}

const duro_provider_factory *broken_factory(const char *name)
{
    const duro_provider_factory *inner = inner_factory();

    for (int i = 0; i < R_COUNT; i++) {
        duro_provider_factory *f = &factories[i];

        if (strcmp(rules[i].name, name) != 0)
            continue;
        rule_ids[i] = i;
        memset(f, 0, sizeof *f);
        f->version = DURO_PROVIDER_FACTORY_VERSION;
        f->name = factory_names[i];
        f->caps = inner->caps & ~(DURO_CAP_TAGS | DURO_CAP_VERSION_FILTER);
        f->create = bp_create;
        f->destroy = bp_factory_destroy;
        f->corrupt_history = inner->corrupt_history ? bp_corrupt_history : NULL;
        f->max_attempt_count = inner->max_attempt_count ? bp_max_attempt_count : NULL;
        f->ud = &rule_ids[i];
        return f;
    }
    return NULL;
}
