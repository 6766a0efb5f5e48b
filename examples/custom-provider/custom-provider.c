/*
 * custom-provider.c — the "custom" provider: a complete duro storage back end written from
 * scratch in plain C, with no database underneath.
 *
 * It shows that a third party can implement the contract of lib/duro-provider.h with its own
 * storage: a struct that embeds duro_provider as its FIRST member, a static table of
 * callbacks, the capabilities it claims (management, long polling, notification, activity
 * tags, durable values, activity sessions, version filtering) and the
 * factory the conformance and stress suites use. Everything lives in process memory and is
 * lost when the provider is destroyed: this is an example and a test double, not durable
 * storage.
 *
 * Layout (all of it guarded by ONE mutex, so each callback is one atomic transaction):
 *   keys         hash map: instance id -> okey, everything stored under that id (the
 *                instance row once an ack created it, the exclusive lock, queued messages)
 *   orch_tokens  hash map: lock token -> the okey holding that lock
 *   queue        every orchestrator message in id (enqueue) order; each message is also on
 *                its okey's own list
 *   work         every work item in id order; work_tokens maps a lock token to its item
 * A message fetched under the current lock is `tagged`: ack deletes exactly those. An ack
 * first checks everything that can fail and allocates everything it will link in, then
 * applies the commit with code that cannot fail, so a rejected ack writes nothing.
 *
 * A condition variable (CLOCK_MONOTONIC) is broadcast on every committed change: it wakes
 * long-polling fetches and wait_commit. Lock expiry and visibility are decided with the
 * caller's now_ms only; a long poll advances that now_ms by the real time it waited.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "custom-provider.h"

/* What this provider claims; the suites skip (visibly) every case needing anything else. */
#define CUSTOM_CAPS                                                                            \
    (DURO_CAP_MANAGEMENT | DURO_CAP_LONG_POLL | DURO_CAP_NOTIFY | DURO_CAP_TAGS | DURO_CAP_KV |   \
     DURO_CAP_SESSIONS | DURO_CAP_VERSION_FILTER)

#define NEVER INT64_MAX          /* "no future time known" for the long-poll wake-up */
#define DEFAULT_BULK_LIMIT 1000  /* delete_bulk limit 0 means this */
#define HMAP_MIN_BUCKETS 64

#define CONTAINER_OF(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---- Small helpers ----------------------------------------------------------------------- */

/* Saturating now + delta, so huge lock or delay values cannot overflow. */
static int64_t add_ms(int64_t now, int64_t delta)
{
    if (delta > 0 && now > INT64_MAX - delta)
        return INT64_MAX;
    return now + delta;
}

/* Copy `s` into *out (NULL stays NULL). Returns 0, or -1 when out of memory. */
static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL)
        return 0;
    *out = strdup(s);
    return *out == NULL ? -1 : 0;
}

static int no_memory(duro_error *err, const char *what)
{
    return duro_error_set(err, DURO_ENOMEM, 0, "custom: out of memory (%s)", what);
}

static uint32_t inc_attempt(uint32_t a)
{
    return a < UINT32_MAX ? a + 1 : a;
}

/* ---- Intrusive string-keyed hash map ----------------------------------------------------- */

/* Embedded in the stored object; `key` points into that object. */
typedef struct hnode {
    struct hnode *next;
    const char *key;
} hnode;

typedef struct hmap {
    hnode **b;
    size_t nb; /* bucket count, a power of two */
    size_t n;
} hmap;

static size_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */

    while (*s != '\0') {
        h ^= (unsigned char)*s++;
        h *= UINT64_C(1099511628211);
    }
    return (size_t)h;
}

static int hmap_init(hmap *m)
{
    m->b = calloc(HMAP_MIN_BUCKETS, sizeof(*m->b));
    m->nb = HMAP_MIN_BUCKETS;
    m->n = 0;
    return m->b == NULL ? -1 : 0;
}

static hnode *hmap_get(const hmap *m, const char *key)
{
    for (hnode *h = m->b[hash_str(key) & (m->nb - 1)]; h != NULL; h = h->next) {
        if (strcmp(h->key, key) == 0)
            return h;
    }
    return NULL;
}

/* Double the buckets; when that allocation fails the map keeps working with longer chains. */
static void hmap_grow(hmap *m)
{
    size_t nb = m->nb * 2;
    hnode **b = calloc(nb, sizeof(*b));

    if (b == NULL)
        return;
    for (size_t i = 0; i < m->nb; i++) {
        while (m->b[i] != NULL) {
            hnode *h = m->b[i];
            size_t j = hash_str(h->key) & (nb - 1);
            m->b[i] = h->next;
            h->next = b[j];
            b[j] = h;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

/* Insert a node whose key is not in the map yet. Never fails. */
static void hmap_put(hmap *m, hnode *h)
{
    size_t i;

    if (m->n >= m->nb)
        hmap_grow(m);
    i = hash_str(h->key) & (m->nb - 1);
    h->next = m->b[i];
    m->b[i] = h;
    m->n++;
}

static void hmap_del(hmap *m, hnode *h)
{
    hnode **pp = &m->b[hash_str(h->key) & (m->nb - 1)];

    while (*pp != NULL && *pp != h)
        pp = &(*pp)->next;
    if (*pp != NULL) {
        *pp = h->next;
        m->n--;
    }
}

/* ---- Stored data ------------------------------------------------------------------------- */

/* One execution of an instance with its append-only history (sorted by event_id). */
typedef struct execution {
    uint64_t id;
    int state;
    char *output;
    int64_t started_at;
    int64_t completed_at;        /* 0 while running */
    duro_event *events;
    size_t n_events, cap_events;
    int corrupt;                 /* set by the corrupt_history test hook */
    struct execution *next;      /* ascending by id */
} execution;

/* The instance row, created by the first ack that carries an orchestration name. */
typedef struct irow {
    char *name, *version, *parent;
    uint64_t current;
    char *custom_status;
    uint64_t custom_version;
    int64_t created_at, updated_at;
    uint64_t created_seq;        /* tie-break for equal created_at */
    execution *execs;
    duro_kv_entry *kv;           /* durable values, keys ascending (strcmp) */
    size_t n_kv;
    uint64_t kv_version;         /* value changes made so far (duro_kv_entry.version) */
} irow;

struct okey;

/* One orchestrator message. */
typedef struct omsg {
    int64_t id;
    int kind;
    uint64_t execution_id;
    char *payload;
    int64_t visible_at;
    uint32_t attempts;           /* fetch count */
    char *target_name;           /* START / CONTINUE_AS_NEW target (version 7), NULL: none */
    char *target_version;
    int tagged;                  /* part of the batch of the current lock */
    struct okey *key;
    struct omsg *prev, *next;    /* the whole queue */
    struct omsg *kprev, *knext;  /* the messages of this key */
} omsg;

/* Everything stored under one instance id. */
typedef struct okey {
    hnode by_id;
    hnode by_token;
    char *id;
    irow *row;                   /* NULL until an ack creates the instance */
    char token[33];              /* "" when not locked */
    int64_t locked_until;
    int64_t held_until;          /* an abandon delay holds the whole instance until then */
    omsg *first, *last;
} okey;

/* One activity work item with its own lock. */
typedef struct witem {
    hnode by_token;
    int64_t id;
    char *instance;
    uint64_t execution_id, activity_id;
    char *payload;
    char *tag;                   /* routing tag (ops version 4); NULL: untagged */
    char *session;               /* session (ops version 6); NULL: none */
    int64_t visible_at;
    char token[33];
    int64_t locked_until;
    uint32_t attempts;
    struct witem *prev, *next;
} witem;

/* One session that has had an owner (ops version 6): see duro-provider.h "Sessions". */
typedef struct lease {
    char *session, *owner;
    int64_t lease_until;
    int64_t active_at;           /* last fetch of one of its items, or renew that saw one */
} lease;

/* The provider object: duro_provider first, then the store. */
typedef struct custom {
    duro_provider base;
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* CLOCK_MONOTONIC; broadcast on every change and interrupt */
    hmap keys, orch_tokens, work_tokens;
    omsg *q_first, *q_last;
    witem *w_first, *w_last;
    int64_t last_msg_id, last_work_id;
    uint64_t created_seq;
    uint64_t commit_seq;
    uint64_t interrupt_gen;      /* bumped by interrupt(): ends the waits begun before */
    lease *leases;               /* unordered; a linear search (an example) */
    size_t n_leases, cap_leases;
} custom;

/* A growable array of keys. */
typedef struct keyv {
    okey **v;
    size_t n, cap;
} keyv;

static int keyv_has(const keyv *kv, const okey *k)
{
    for (size_t i = 0; i < kv->n; i++) {
        if (kv->v[i] == k)
            return 1;
    }
    return 0;
}

static int keyv_push(keyv *kv, okey *k)
{
    if (kv->n == kv->cap) {
        size_t ncap = kv->cap ? kv->cap * 2 : 16;
        okey **nv = realloc(kv->v, ncap * sizeof(*nv));
        if (nv == NULL)
            return -1;
        kv->v = nv;
        kv->cap = ncap;
    }
    kv->v[kv->n++] = k;
    return 0;
}

/* Every change bumps the sequence and wakes all waiters (caller holds c->mu). */
static void changed(custom *c)
{
    c->commit_seq++;
    pthread_cond_broadcast(&c->cv);
}

/* ---- Executions and instance rows -------------------------------------------------------- */

static execution *exec_find(const irow *r, uint64_t id)
{
    for (execution *e = r != NULL ? r->execs : NULL; e != NULL; e = e->next) {
        if (e->id == id)
            return e;
    }
    return NULL;
}

static execution *exec_current(const irow *r)
{
    return exec_find(r, r->current);
}

/* State of the instance: its current execution's state. */
static int row_state(const irow *r)
{
    const execution *e = exec_current(r);

    return e != NULL ? e->state : DURO_STATE_NOT_FOUND;
}

static void exec_free(execution *e)
{
    duro_events_free(e->events, e->n_events);
    free(e->output);
    free(e);
}

static void row_free(irow *r)
{
    while (r->execs != NULL) {
        execution *e = r->execs;
        r->execs = e->next;
        exec_free(e);
    }
    free(r->name);
    free(r->version);
    free(r->parent);
    free(r->custom_status);
    duro_kv_entries_free(r->kv, r->n_kv);
    free(r);
}

/* Make room for `extra` more events. Returns 0 or -1. */
static int exec_reserve(execution *e, size_t extra)
{
    size_t need = e->n_events + extra, ncap;
    duro_event *nv;

    if (need <= e->cap_events)
        return 0;
    ncap = e->cap_events * 2 > need ? e->cap_events * 2 : need;
    nv = realloc(e->events, ncap * sizeof(*nv));
    if (nv == NULL)
        return -1;
    e->events = nv;
    e->cap_events = ncap;
    return 0;
}

/* Move *ev into the (reserved) sorted history; ev->payload is consumed. */
static void exec_add_event(execution *e, duro_event *ev)
{
    size_t i = e->n_events;

    while (i > 0 && e->events[i - 1].event_id > ev->event_id) {
        e->events[i] = e->events[i - 1];
        i--;
    }
    e->events[i] = *ev;
    e->n_events++;
    ev->payload = NULL;
}

static void exec_link(irow *r, execution *e)
{
    execution **pp = &r->execs;

    while (*pp != NULL && (*pp)->id < e->id)
        pp = &(*pp)->next;
    e->next = *pp;
    *pp = e;
}

/* Copy an execution's history for the caller. Returns 0 or -1. */
static int copy_events(const execution *e, duro_event **out, size_t *n)
{
    duro_event *v;

    *out = NULL;
    *n = 0;
    if (e == NULL || e->n_events == 0)
        return 0;
    v = calloc(e->n_events, sizeof(*v));
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < e->n_events; i++) {
        v[i].event_id = e->events[i].event_id;
        v[i].kind = e->events[i].kind;
        if (dup_opt(e->events[i].payload, &v[i].payload) != 0) {
            duro_events_free(v, i);
            return -1;
        }
    }
    *out = v;
    *n = e->n_events;
    return 0;
}

/* ---- Keys, messages and work items ------------------------------------------------------- */

static okey *key_find(const custom *c, const char *id)
{
    hnode *h = hmap_get(&c->keys, id);

    return h != NULL ? CONTAINER_OF(h, okey, by_id) : NULL;
}

/* A new key for `id`, not yet in the map. */
static okey *key_new(const char *id)
{
    okey *k = calloc(1, sizeof(*k));

    if (k == NULL || (k->id = strdup(id)) == NULL) {
        free(k);
        return NULL;
    }
    k->by_id.key = k->id;
    k->by_token.key = k->token;
    k->held_until = INT64_MIN; /* not held, whatever the clock reads */
    return k;
}

static void key_free(okey *k)
{
    free(k->id);
    free(k);
}

/* Locked by a live token, or held by an abandon delay (a lock no token can use). */
static int key_locked(const okey *k, int64_t now)
{
    return (k->token[0] != '\0' && k->locked_until > now) || k->held_until > now;
}

/* Forget the key's lock; its token is dead from now on. */
static void key_unlock(custom *c, okey *k)
{
    if (k->token[0] == '\0')
        return;
    hmap_del(&c->orch_tokens, &k->by_token);
    k->token[0] = '\0';
    k->locked_until = 0;
}

/* Remove a key that holds nothing any more (no row, message or lock). */
static void key_drop_if_empty(custom *c, okey *k)
{
    if (k->row != NULL || k->first != NULL || k->token[0] != '\0')
        return;
    hmap_del(&c->keys, &k->by_id);
    key_free(k);
}

static void msg_free(omsg *m)
{
    free(m->payload);
    free(m->target_name);
    free(m->target_version);
    free(m);
}

/* Give `m` the next id and append it to the queue and to its key's list. */
static void msg_link(custom *c, okey *k, omsg *m)
{
    m->id = ++c->last_msg_id;
    m->key = k;
    m->next = NULL;
    m->prev = c->q_last;
    if (c->q_last != NULL)
        c->q_last->next = m;
    else
        c->q_first = m;
    c->q_last = m;
    m->knext = NULL;
    m->kprev = k->last;
    if (k->last != NULL)
        k->last->knext = m;
    else
        k->first = m;
    k->last = m;
}

/* Unlink a message from the queue and its key, and free it (the key stays). */
static void msg_remove(custom *c, omsg *m)
{
    okey *k = m->key;

    if (m->prev != NULL)
        m->prev->next = m->next;
    else
        c->q_first = m->next;
    if (m->next != NULL)
        m->next->prev = m->prev;
    else
        c->q_last = m->prev;
    if (m->kprev != NULL)
        m->kprev->knext = m->knext;
    else
        k->first = m->knext;
    if (m->knext != NULL)
        m->knext->kprev = m->kprev;
    else
        k->last = m->kprev;
    msg_free(m);
}

/* A message ready to be queued without any further allocation: the message and, when its
 * instance has no key yet, a spare key for it. */
typedef struct pending_msg {
    const char *instance;
    omsg *m;
    okey *spare;
} pending_msg;

static int pending_msg_prepare(custom *c, const duro_msg *msg, const duro_orch_ref *target,
                               pending_msg *pm)
{
    int has_target = target != NULL && target->orch_name != NULL;

    pm->instance = msg->instance;
    pm->spare = NULL;
    pm->m = calloc(1, sizeof(*pm->m));
    if (pm->m == NULL)
        return -1;
    pm->m->kind = msg->kind;
    pm->m->execution_id = msg->execution_id;
    pm->m->visible_at = msg->visible_at_ms;
    if (dup_opt(msg->payload, &pm->m->payload) != 0 ||
        (has_target && (dup_opt(target->orch_name, &pm->m->target_name) != 0 ||
                        dup_opt(target->orch_version, &pm->m->target_version) != 0)) ||
        (key_find(c, msg->instance) == NULL && (pm->spare = key_new(msg->instance)) == NULL)) {
        msg_free(pm->m);
        pm->m = NULL;
        return -1;
    }
    return 0;
}

/* Queue a prepared message. Cannot fail. */
static void pending_msg_commit(custom *c, pending_msg *pm)
{
    okey *k = key_find(c, pm->instance);

    if (k == NULL) {
        k = pm->spare;
        pm->spare = NULL;
        hmap_put(&c->keys, &k->by_id);
    }
    msg_link(c, k, pm->m);
    pm->m = NULL;
}

/* Free what a prepared message did not use. */
static void pending_msg_discard(pending_msg *pm)
{
    if (pm->m != NULL)
        msg_free(pm->m);
    if (pm->spare != NULL)
        key_free(pm->spare);
    pm->m = NULL;
    pm->spare = NULL;
}

/* A new, unqueued work item copied from `w`, with `tag` (NULL: untagged) and `session`
 * (NULL: none); NULL when out of memory. */
static witem *work_new(const duro_work_in *w, const char *tag, const char *session)
{
    witem *it = calloc(1, sizeof(*it));

    if (it == NULL)
        return NULL;
    if (dup_opt(w->instance, &it->instance) != 0 || dup_opt(w->payload, &it->payload) != 0 ||
        dup_opt(tag, &it->tag) != 0 || dup_opt(session, &it->session) != 0) {
        free(it->instance);
        free(it->payload);
        free(it->tag);
        free(it);
        return NULL;
    }
    it->execution_id = w->execution_id;
    it->activity_id = w->activity_id;
    it->by_token.key = it->token;
    it->visible_at = INT64_MIN; /* visible at once, whatever the clock reads */
    return it;
}

static void work_link(custom *c, witem *w)
{
    w->id = ++c->last_work_id;
    w->next = NULL;
    w->prev = c->w_last;
    if (c->w_last != NULL)
        c->w_last->next = w;
    else
        c->w_first = w;
    c->w_last = w;
}

static int work_locked(const witem *w, int64_t now)
{
    return w->token[0] != '\0' && w->locked_until > now;
}

static void work_unlock(custom *c, witem *w)
{
    if (w->token[0] == '\0')
        return;
    hmap_del(&c->work_tokens, &w->by_token);
    w->token[0] = '\0';
    w->locked_until = 0;
}

/* Unlink a work item (its token dies with it) and free it. */
static void work_remove(custom *c, witem *w)
{
    work_unlock(c, w);
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        c->w_first = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        c->w_last = w->prev;
    free(w->instance);
    free(w->payload);
    free(w->tag);
    free(w->session);
    free(w);
}

/* Remove the work items of `instance` matching `ref` (every item of it when ref is NULL).
 * Returns how many were removed. */
static uint64_t work_remove_matching(custom *c, const char *instance,
                                     const duro_activity_ref *ref)
{
    uint64_t removed = 0;
    witem *w = c->w_first;

    while (w != NULL) {
        witem *next = w->next;
        if (strcmp(w->instance, instance) == 0 &&
            (ref == NULL ||
             (w->execution_id == ref->execution_id && w->activity_id == ref->activity_id))) {
            work_remove(c, w);
            removed++;
        }
        w = next;
    }
    return removed;
}

/* Delete a key and everything stored under it (row, executions, history, messages, work
 * items, lock); adds what was removed to *res. */
static void key_delete(custom *c, okey *k, duro_delete_result *res)
{
    res->messages += work_remove_matching(c, k->id, NULL);
    while (k->first != NULL) {
        msg_remove(c, k->first);
        res->messages++;
    }
    if (k->row != NULL) {
        for (const execution *e = k->row->execs; e != NULL; e = e->next) {
            res->executions++;
            res->events += e->n_events;
        }
        res->instances++;
        row_free(k->row);
        k->row = NULL;
    }
    key_unlock(c, k);
    hmap_del(&c->keys, &k->by_id);
    key_free(k);
}

/* ---- Waiting ----------------------------------------------------------------------------- */

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* With c->mu held: wait until commit_seq passes `seen`, interrupt_gen passes `gen`, or
 * timeout_ms passes (< 0: no limit). */
static void wait_change(custom *c, uint64_t seen, uint64_t gen, int64_t timeout_ms)
{
    struct timespec dl;

    clock_gettime(CLOCK_MONOTONIC, &dl);
    if (timeout_ms > 0) {
        dl.tv_sec += (time_t)(timeout_ms / 1000);
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
    }
    while (c->commit_seq <= seen && c->interrupt_gen == gen) {
        if (timeout_ms < 0)
            pthread_cond_wait(&c->cv, &c->mu);
        else if (pthread_cond_timedwait(&c->cv, &c->mu, &dl) != 0)
            break;
    }
}

/* One attempt of a fetch at `now` (c->mu held): 0 with the item in *out, or DURO_ENOTFOUND
 * with *next = the earliest later time something may become fetchable (or NEVER). */
typedef int (*try_fn)(custom *c, int64_t now, int64_t lock_ms, void *out, int64_t *next,
                      duro_error *err);

/* With c->mu held: run `try` at now_ms and, while it finds nothing and poll_ms has not
 * passed, wait for a change, for the next visibility or lock-expiry time, or for the end
 * of the poll, then try again with now_ms advanced by the whole milliseconds waited.
 * interrupt() ends the wait (DURO_ENOTFOUND). */
static int poll_locked(custom *c, int64_t now_ms, int64_t lock_ms, int64_t poll_ms,
                       try_fn try, void *out, duro_error *err)
{
    int64_t start = mono_us();
    uint64_t gen = c->interrupt_gen;

    for (;;) {
        int64_t elapsed = (mono_us() - start) / 1000;
        int64_t now = add_ms(now_ms, elapsed);
        int64_t next = NEVER, wait;
        uint64_t seen = c->commit_seq;
        int rc = try(c, now, lock_ms, out, &next, err);

        if (rc != DURO_ENOTFOUND)
            return rc;
        if (poll_ms <= 0 || elapsed >= poll_ms || c->interrupt_gen != gen)
            break;
        wait = poll_ms - elapsed;
        if (next != NEVER && next < add_ms(now, wait)) /* next - now cannot overflow */
            wait = next - now;
        wait_change(c, seen, gen, wait);
    }
    return duro_error_set(err, DURO_ENOTFOUND, 1, "no work available");
}

/* ---- Orchestrator queue ------------------------------------------------------------------ */

/* Store one message with its target (NULL: none); it is fetchable from visible_at_ms on. */
static int custom_enqueue_orch_start(duro_provider *p, const duro_msg *msg,
                                     const duro_orch_ref *target, duro_error *err)
{
    custom *c = (custom *)p;
    pending_msg pm;
    int rc = duro_provider_check_msg(msg, err);

    if (rc == 0)
        rc = duro_provider_check_target(target, err);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    if (pending_msg_prepare(c, msg, target, &pm) != 0) {
        rc = no_memory(err, "message");
    } else {
        pending_msg_commit(c, &pm);
        changed(c);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int custom_enqueue_orch(duro_provider *p, const duro_msg *msg, duro_error *err)
{
    return custom_enqueue_orch_start(p, msg, NULL, err);
}

/* Fetchable: unlocked, and started (a row) or about to be (a visible START message). */
static int key_eligible(const okey *k, int64_t now)
{
    if (key_locked(k, now))
        return 0;
    if (k->row != NULL)
        return 1;
    for (const omsg *m = k->first; m != NULL; m = m->knext) {
        if (m->kind == DURO_MSG_START && m->visible_at <= now)
            return 1;
    }
    return 0;
}

static int64_t orch_next_time(const custom *c, int64_t now)
{
    int64_t next = NEVER;

    for (const omsg *m = c->q_first; m != NULL; m = m->next) {
        if (m->visible_at > now && m->visible_at < next)
            next = m->visible_at;
        if (m->key->token[0] != '\0' && m->key->locked_until > now &&
            m->key->locked_until < next)
            next = m->key->locked_until;
        if (m->key->held_until > now && m->key->held_until < next)
            next = m->key->held_until;
    }
    return next;
}

/* Copy the batch (messages visible at now) into the item, with the fetch counts this fetch
 * gives them. Returns 0 or -1. */
static int item_fill_batch(duro_orch_item *it, const okey *k, int64_t now)
{
    size_t n = 0;

    for (const omsg *m = k->first; m != NULL; m = m->knext)
        n += m->visible_at <= now;
    it->msgs = calloc(n, sizeof(*it->msgs));
    if (it->msgs == NULL)
        return -1;
    for (const omsg *m = k->first; m != NULL; m = m->knext) {
        duro_stored_msg *s;
        uint32_t attempt = inc_attempt(m->attempts);

        if (m->visible_at > now)
            continue;
        s = &it->msgs[it->n_msgs];
        s->id = m->id;
        s->kind = m->kind;
        s->execution_id = m->execution_id;
        if (dup_opt(m->payload, &s->payload) != 0)
            return -1;
        it->n_msgs++;
        if (attempt > it->attempt)
            it->attempt = attempt;
    }
    return 0;
}

/* Copy the instance fields and the current execution's history into the item. An
 * instance without a row is execution 1, NOT_FOUND, without name or history. */
static int item_fill_row(duro_orch_item *it, const okey *k)
{
    const irow *r = k->row;
    const execution *e;
    char buf[160];

    it->execution_id = 1;
    it->state = DURO_STATE_NOT_FOUND;
    if (r == NULL)
        return 0;
    e = exec_current(r);
    it->execution_id = r->current;
    it->state = e != NULL ? e->state : DURO_STATE_NOT_FOUND;
    if (dup_opt(r->name, &it->orch_name) != 0 || dup_opt(r->version, &it->orch_version) != 0 ||
        dup_opt(r->custom_status, &it->custom_status) != 0)
        return -1;
    if (e != NULL && e->corrupt) {
        snprintf(buf, sizeof(buf), "history of execution %llu of %s cannot be read (corrupted)",
                 (unsigned long long)e->id, k->id);
        return dup_opt(buf, &it->history_error);
    }
    return copy_events(e, &it->history, &it->n_history);
}

/* Lock `k` at now with a fresh token, tag and count its visible messages, build the item. */
static int take_instance(custom *c, okey *k, int64_t now, int64_t lock_ms,
                         duro_orch_item **out, duro_error *err)
{
    duro_orch_item *it = calloc(1, sizeof(*it));

    if (it == NULL || (it->instance = strdup(k->id)) == NULL) {
        free(it);
        return no_memory(err, "orchestration item");
    }
    if (duro_random_token(it->lock_token) != 0) {
        duro_orch_item_free(it);
        return duro_error_set(err, DURO_EIO, 1, "cannot generate a lock token");
    }
    if (item_fill_batch(it, k, now) != 0 || item_fill_row(it, k) != 0) {
        duro_orch_item_free(it);
        return no_memory(err, "orchestration item");
    }
    key_unlock(c, k); /* an expired lock's token dies here */
    k->held_until = INT64_MIN; /* and an abandon's hold ends, as SQLite's lock row is replaced */
    memcpy(k->token, it->lock_token, sizeof(k->token));
    k->locked_until = add_ms(now, lock_ms);
    hmap_put(&c->orch_tokens, &k->by_token);
    for (omsg *m = k->first; m != NULL; m = m->knext) {
        m->tagged = m->visible_at <= now;
        if (m->tagged)
            m->attempts = inc_attempt(m->attempts);
    }
    changed(c);
    *out = it;
    return 0;
}

/* The target of the visible message of `kind` with the highest id that has one, or NULL. */
static const omsg *last_target(const okey *k, int kind, int64_t now)
{
    const omsg *found = NULL;

    for (const omsg *m = k->first; m != NULL; m = m->knext)
        if (m->kind == kind && m->visible_at <= now && m->target_name != NULL)
            found = m;
    return found;
}

/* Does `f` accept the route of `k` at now ("Version filtering" in duro-provider.h)? */
static int filter_accepts(const duro_version_filter *f, const okey *k, int64_t now)
{
    const omsg *can = last_target(k, DURO_MSG_CONTINUE_AS_NEW, now);
    const omsg *start = last_target(k, DURO_MSG_START, now);
    const char *name = NULL, *version = NULL;

    if (f == NULL)
        return 1;
    if (can != NULL) {
        name = can->target_name;
        version = can->target_version;
    } else if (k->row != NULL) {
        name = k->row->name;
        version = k->row->version;
    } else if (start != NULL) {
        name = start->target_name;
        version = start->target_version;
    }
    if (name == NULL)
        return f->n > 0;
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->refs[i].orch_name, name) == 0 &&
            (version == NULL || strcmp(f->refs[i].orch_version, version) == 0))
            return 1;
    return 0;
}

/* Where a fetch puts its item, and the filter it applies (NULL: any). */
typedef struct orch_fetch {
    duro_orch_item **out;
    const duro_version_filter *filter;
} orch_fetch;

/* The first message in id order whose instance is fetchable (and accepted by the filter)
 * decides the instance, so an orphan, a locked or a filtered-out instance at the head of the
 * queue never blocks the others. */
static int try_orch(custom *c, int64_t now, int64_t lock_ms, void *out, int64_t *next,
                    duro_error *err)
{
    const orch_fetch *of = out;

    for (omsg *m = c->q_first; m != NULL; m = m->next) {
        if (m->visible_at <= now && key_eligible(m->key, now) &&
            filter_accepts(of->filter, m->key, now))
            return take_instance(c, m->key, now, lock_ms, of->out, err);
    }
    *next = orch_next_time(c, now);
    return DURO_ENOTFOUND;
}

/* Lock one fetchable instance and return its batch and history (see duro-provider.h);
 * DURO_ENOTFOUND (retryable) when none appears within poll_ms. */
static int custom_fetch_orch_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                      int64_t poll_ms, const duro_version_filter *filter,
                                      duro_orch_item **out, duro_error *err)
{
    custom *c = (custom *)p;
    orch_fetch of = { out, filter };
    int rc;

    if (out == NULL || lock_ms <= 0)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_orch: out and lock_ms > 0 required");
    *out = NULL;
    rc = duro_provider_check_version_filter(filter, err);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = poll_locked(c, now_ms, lock_ms, poll_ms, try_orch, &of, err);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int custom_fetch_orch(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                             int64_t poll_ms, duro_orch_item **out, duro_error *err)
{
    return custom_fetch_orch_filtered(p, now_ms, lock_ms, poll_ms, NULL, out, err);
}

/* The key locked by `token`, live at now; else DURO_ELOCK (permanent). */
static int orch_lock_of(custom *c, const char *token, int64_t now, okey **out,
                        duro_error *err)
{
    hnode *h = hmap_get(&c->orch_tokens, token);

    if (h == NULL)
        return duro_error_set(err, DURO_ELOCK, 0,
                              "invalid lock token: unknown, released or taken over");
    *out = CONTAINER_OF(h, okey, by_token);
    if ((*out)->locked_until <= now)
        return duro_error_set(err, DURO_ELOCK, 0, "instance lock expired");
    return 0;
}

/* Checks against the stored data: the execution is stored, the current or the next one (1
 * for an instance without a row), the instance-creation rule, and the event ids (above the last
 * stored id; duro_provider_check_commit made them increase within the commit). */
static int check_ack(const okey *k, const duro_orch_commit *cm, duro_error *err)
{
    const execution *e = exec_find(k->row, cm->execution_id);
    uint64_t x = cm->execution_id;
    int known = e != NULL || (k->row != NULL ? x == k->row->current || x == k->row->current + 1
                                             : x == 1);

    if (!known)
        return duro_error_set(err, DURO_ENOTFOUND, 0,
                              "ack_orch: execution %llu of %s is not stored, current or next",
                              (unsigned long long)x, k->id);
    if (k->row == NULL && cm->orch_name == NULL) {
        if (cm->n_events || cm->state || cm->set_custom_status || cm->n_kv)
            return duro_error_set(err, DURO_EINVAL, 0,
                                  "ack_orch: orch_name is required to create instance %s",
                                  k->id);
        return 0;
    }
    if (cm->n_events > 0 && e != NULL && e->n_events > 0 &&
        cm->events[0].event_id <= e->events[e->n_events - 1].event_id)
        return duro_error_set(err, DURO_ECONSTRAINT, 0,
                              "event id %llu rejected in execution %llu of %s: not above the"
                              " last stored id (duplicate or out of order)",
                              (unsigned long long)cm->events[0].event_id,
                              (unsigned long long)cm->execution_id, k->id);
    return 0;
}

/* Everything an ack links into the store, allocated before anything is changed. */
typedef struct ack_plan {
    irow *row;              /* new instance row, when this ack creates it */
    char *name, *version;   /* new name and version of an existing row */
    execution *exec;        /* new execution row, when this ack creates it */
    duro_event *events;     /* copies of the commit's events */
    char *output;
    char *custom_status;
    witem **work;
    pending_msg *msgs;
    duro_kv_entry *kv;      /* the instance's values after the commit's kv changes */
    size_t n_kv;
    uint64_t kv_version;
} ack_plan;

static void plan_free(ack_plan *pl, const duro_orch_commit *cm)
{
    if (pl->row != NULL)
        row_free(pl->row);
    if (pl->exec != NULL)
        exec_free(pl->exec);
    free(pl->name);
    free(pl->version);
    duro_events_free(pl->events, cm->n_events);
    free(pl->output);
    free(pl->custom_status);
    for (size_t i = 0; pl->work != NULL && i < cm->n_work; i++) {
        if (pl->work[i] != NULL) {
            free(pl->work[i]->instance);
            free(pl->work[i]->payload);
            free(pl->work[i]->tag);
            free(pl->work[i]);
        }
    }
    free(pl->work);
    for (size_t i = 0; pl->msgs != NULL && i < cm->n_msgs; i++)
        pending_msg_discard(&pl->msgs[i]);
    free(pl->msgs);
    duro_kv_entries_free(pl->kv, pl->n_kv);
}

static irow *row_new(const duro_orch_commit *cm, int64_t now)
{
    irow *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    if (dup_opt(cm->orch_name, &r->name) != 0 || dup_opt(cm->orch_version, &r->version) != 0 ||
        dup_opt(cm->parent_instance, &r->parent) != 0) {
        row_free(r);
        return NULL;
    }
    r->current = cm->execution_id;
    r->created_at = now;
    r->updated_at = now;
    return r;
}

static execution *exec_new(uint64_t id, int64_t now)
{
    execution *e = calloc(1, sizeof(*e));

    if (e != NULL) {
        e->id = id;
        e->state = DURO_STATE_RUNNING;
        e->started_at = now;
    }
    return e;
}

/* Step 2 and 3 allocations: rows, execution, history room and event copies. */
static int plan_history(ack_plan *pl, const okey *k, const duro_orch_commit *cm, int64_t now)
{
    execution *e = exec_find(k->row, cm->execution_id);

    if (k->row == NULL && cm->orch_name == NULL)
        return 0; /* only consumes messages */
    if (k->row == NULL && (pl->row = row_new(cm, now)) == NULL)
        return -1;
    if (k->row != NULL && cm->orch_name != NULL &&
        (dup_opt(cm->orch_name, &pl->name) != 0 || dup_opt(cm->orch_version, &pl->version) != 0))
        return -1;
    if (e == NULL && (e = pl->exec = exec_new(cm->execution_id, now)) == NULL)
        return -1;
    if (cm->n_events == 0)
        return 0;
    if (exec_reserve(e, cm->n_events) != 0 ||
        (pl->events = calloc(cm->n_events, sizeof(*pl->events))) == NULL)
        return -1;
    for (size_t i = 0; i < cm->n_events; i++) {
        pl->events[i].event_id = cm->events[i].event_id;
        pl->events[i].kind = cm->events[i].kind;
        if (dup_opt(cm->events[i].payload, &pl->events[i].payload) != 0)
            return -1;
    }
    return 0;
}

/* Steps 4 to 7 allocations: output, custom status, work items and messages. */
static int plan_writes(custom *c, ack_plan *pl, const duro_orch_commit *cm)
{
    if (cm->state != 0 && dup_opt(cm->output, &pl->output) != 0)
        return -1;
    if (cm->set_custom_status && dup_opt(cm->custom_status, &pl->custom_status) != 0)
        return -1;
    if (cm->n_work != 0) {
        if ((pl->work = calloc(cm->n_work, sizeof(*pl->work))) == NULL)
            return -1;
        for (size_t i = 0; i < cm->n_work; i++) {
            if ((pl->work[i] = work_new(&cm->work[i], cm->work_tags ? cm->work_tags[i] : NULL,
                                        cm->work_sessions ? cm->work_sessions[i] : NULL)) ==
                NULL)
                return -1;
        }
    }
    if (cm->n_msgs != 0) {
        if ((pl->msgs = calloc(cm->n_msgs, sizeof(*pl->msgs))) == NULL)
            return -1;
        for (size_t i = 0; i < cm->n_msgs; i++) {
            if (pending_msg_prepare(c, &cm->msgs[i],
                                    cm->msg_targets ? &cm->msg_targets[i] : NULL,
                                    &pl->msgs[i]) != 0)
                return -1;
        }
    }
    return 0;
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const duro_kv_entry *)a)->key, ((const duro_kv_entry *)b)->key);
}

/* Step 10 planned: the instance's values with the commit's changes applied, in a new array
 * (pl->kv). Returns 0, -1 when out of memory, or DURO_ETOOBIG past DURO_MAX_VALUES keys. */
static int plan_values(ack_plan *pl, const okey *k, const duro_orch_commit *cm, duro_error *err)
{
    const irow *r = k->row;
    size_t n = 0, cap = (r != NULL ? r->n_kv : 0) + cm->n_kv;
    duro_kv_entry *v;

    if (cm->n_kv == 0)
        return 0;
    if ((v = pl->kv = calloc(cap, sizeof(*v))) == NULL)
        return -1;
    pl->kv_version = r != NULL ? r->kv_version : 0;
    for (size_t i = 0; r != NULL && i < r->n_kv; i++) {
        pl->n_kv = ++n;
        v[i].version = r->kv[i].version;
        if (dup_opt(r->kv[i].key, &v[i].key) != 0 || dup_opt(r->kv[i].value, &v[i].value) != 0)
            return -1;
    }
    for (size_t i = 0; i < cm->n_kv; i++) {
        const duro_kv_change *ch = &cm->kv[i];
        size_t at = 0;

        pl->kv_version++;
        while (ch->op != DURO_KV_CLEAR_ALL && at < n && strcmp(v[at].key, ch->key) != 0)
            at++;
        if (ch->op == DURO_KV_CLEAR_ALL || (ch->op == DURO_KV_CLEAR && at < n)) {
            int all = ch->op == DURO_KV_CLEAR_ALL;
            size_t from = all ? 0 : at, to = all ? n : at + 1;
            for (size_t j = from; j < to; j++) {
                free(v[j].key);
                free(v[j].value);
            }
            memmove(v + from, v + to, (n - to) * sizeof(*v));
            n -= to - from;
            memset(v + n, 0, (to - from) * sizeof(*v)); /* the vacated tail owns nothing */
            pl->n_kv = n;
            continue;
        }
        if (ch->op == DURO_KV_CLEAR)
            continue;
        if (at == n) {
            pl->n_kv = ++n;
            if (dup_opt(ch->key, &v[at].key) != 0)
                return -1;
        }
        free(v[at].value);
        v[at].value = NULL;
        if (dup_opt(ch->value, &v[at].value) != 0)
            return -1;
        v[at].version = pl->kv_version;
    }
    if (n > DURO_MAX_VALUES)
        return duro_error_set(err, DURO_ETOOBIG, 0,
                              "ack_orch: %s would hold %zu durable values (limit %d)", k->id, n,
                              DURO_MAX_VALUES);
    qsort(v, n, sizeof(*v), cmp_kv);
    return 0;
}

/* Steps 2 to 5, applied: cannot fail. */
static void apply_instance(custom *c, okey *k, const duro_orch_commit *cm, int64_t now,
                           ack_plan *pl)
{
    int created = pl->row != NULL;
    irow *r;
    execution *e;

    if (created) {
        pl->row->created_seq = ++c->created_seq;
        k->row = pl->row;
        pl->row = NULL;
    }
    if ((r = k->row) == NULL)
        return;
    if (!created && cm->orch_name != NULL) {
        free(r->name);
        free(r->version);
        r->name = pl->name;
        r->version = pl->version;
        pl->name = pl->version = NULL;
    }
    r->updated_at = now;
    if (cm->execution_id > r->current)
        r->current = cm->execution_id;
    if ((e = exec_find(r, cm->execution_id)) == NULL) {
        e = pl->exec;
        pl->exec = NULL;
        exec_link(r, e);
    }
    for (size_t i = 0; i < cm->n_events; i++)
        exec_add_event(e, &pl->events[i]);
    if (cm->state != 0) {
        free(e->output);
        e->output = pl->output;
        pl->output = NULL;
        e->state = cm->state;
        e->completed_at = cm->state == DURO_STATE_RUNNING ? 0 : now;
    }
    if (cm->set_custom_status) {
        free(r->custom_status);
        r->custom_status = pl->custom_status;
        pl->custom_status = NULL;
        r->custom_version++;
    }
    if (cm->n_kv > 0) {
        duro_kv_entries_free(r->kv, r->n_kv);
        r->kv = pl->kv;
        r->n_kv = pl->n_kv;
        r->kv_version = pl->kv_version;
        pl->kv = NULL;
        pl->n_kv = 0;
    }
}

/* Steps 6 to 9, applied: cannot fail. */
static void apply_queues(custom *c, okey *k, const duro_orch_commit *cm, ack_plan *pl)
{
    omsg *m = k->first;

    for (size_t i = 0; i < cm->n_work; i++) {
        work_link(c, pl->work[i]);
        pl->work[i] = NULL;
    }
    for (size_t i = 0; i < cm->n_cancel; i++)
        work_remove_matching(c, k->id, &cm->cancel[i]);
    for (size_t i = 0; i < cm->n_msgs; i++)
        pending_msg_commit(c, &pl->msgs[i]);
    while (m != NULL) {
        omsg *next = m->knext;
        if (m->tagged)
            msg_remove(c, m);
        m = next;
    }
    key_unlock(c, k);
    key_drop_if_empty(c, k);
}

/* Apply one turn's commit atomically (the nine steps of duro_orch_commit). On any error
 * nothing is written and the lock stays held. */
static int custom_ack_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                           const duro_orch_commit *commit, duro_error *err)
{
    custom *c = (custom *)p;
    ack_plan plan = {0};
    okey *k = NULL;
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0)
        rc = duro_provider_check_commit(commit, err);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = orch_lock_of(c, lock_token, now_ms, &k, err);
    if (rc == 0)
        rc = check_ack(k, commit, err);
    if (rc == 0 && (plan_history(&plan, k, commit, now_ms) != 0 ||
                    plan_writes(c, &plan, commit) != 0))
        rc = no_memory(err, "ack");
    if (rc == 0 && (rc = plan_values(&plan, k, commit, err)) == -1)
        rc = no_memory(err, "ack");
    if (rc == 0) {
        apply_instance(c, k, commit, now_ms, &plan);
        apply_queues(c, k, commit, &plan);
        changed(c);
    }
    plan_free(&plan, commit);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Release the lock; delay_ms > 0 hides the instance's visible messages until now + delay
 * and holds the instance (arrivals and timers due sooner wait too); ignore_attempt takes back
 * this fetch's count. DURO_ELOCK for a dead token. */
static int custom_abandon_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                               int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    custom *c = (custom *)p;
    okey *k = NULL;
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0 && delay_ms < 0)
        rc = duro_error_set(err, DURO_EINVAL, 0, "abandon_orch: negative delay");
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = orch_lock_of(c, lock_token, now_ms, &k, err);
    if (rc == 0) {
        for (omsg *m = k->first; m != NULL; m = m->knext) {
            if (m->tagged && ignore_attempt && m->attempts > 0)
                m->attempts--;
            if (delay_ms > 0 && m->visible_at <= now_ms)
                m->visible_at = add_ms(now_ms, delay_ms);
            m->tagged = 0;
        }
        key_unlock(c, k);
        if (delay_ms > 0)
            k->held_until = add_ms(now_ms, delay_ms);
        key_drop_if_empty(c, k);
        changed(c);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Extend a live lock to now + extend_ms; DURO_ELOCK for a dead token. */
static int custom_renew_orch(duro_provider *p, int64_t now_ms, const char *lock_token,
                             int64_t extend_ms, duro_error *err)
{
    custom *c = (custom *)p;
    okey *k = NULL;
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0)
        rc = duro_provider_check_lock_ms(extend_ms, "renew_orch: extend_ms", err);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = orch_lock_of(c, lock_token, now_ms, &k, err);
    if (rc == 0) {
        k->locked_until = add_ms(now_ms, extend_ms);
        changed(c);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* ---- Worker queue ------------------------------------------------------------------------ */

/* Store one work item with `tag` (NULL: untagged), visible at once. */
static int custom_enqueue_work_tagged(duro_provider *p, const duro_work_in *work,
                                      const char *tag, duro_error *err)
{
    custom *c = (custom *)p;
    witem *w;
    int rc = duro_provider_check_work(work, err);

    if (rc == 0)
        rc = duro_provider_check_tag(tag, err);
    if (rc != 0)
        return rc;
    if ((w = work_new(work, tag, NULL)) == NULL)
        return no_memory(err, "work item");
    pthread_mutex_lock(&c->mu);
    work_link(c, w);
    changed(c);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static int custom_enqueue_work(duro_provider *p, const duro_work_in *work, duro_error *err)
{
    return custom_enqueue_work_tagged(p, work, NULL, err);
}

static int64_t work_next_time(const custom *c, int64_t now)
{
    int64_t next = NEVER;

    for (size_t i = 0; i < c->n_leases; i++) /* an expiring lease frees its session's items */
        if (c->leases[i].lease_until > now && c->leases[i].lease_until < next)
            next = c->leases[i].lease_until;
    for (const witem *w = c->w_first; w != NULL; w = w->next) {
        if (w->visible_at > now && w->visible_at < next)
            next = w->visible_at;
        if (work_locked(w, now) && w->locked_until < next)
            next = w->locked_until;
    }
    return next;
}

/* Lock `w` at now with a fresh token, count the fetch and build the item. */
static int take_work(custom *c, witem *w, int64_t now, int64_t lock_ms, duro_work_item **out,
                     duro_error *err)
{
    duro_work_item *it = calloc(1, sizeof(*it));

    if (it == NULL || dup_opt(w->instance, &it->instance) != 0 ||
        dup_opt(w->payload, &it->payload) != 0) {
        duro_work_item_free(it);
        return no_memory(err, "work item");
    }
    if (duro_random_token(it->lock_token) != 0) {
        duro_work_item_free(it);
        return duro_error_set(err, DURO_EIO, 1, "cannot generate a lock token");
    }
    work_unlock(c, w); /* an expired lock's token dies here */
    memcpy(w->token, it->lock_token, sizeof(w->token));
    w->locked_until = add_ms(now, lock_ms);
    w->attempts = inc_attempt(w->attempts);
    hmap_put(&c->work_tokens, &w->by_token);
    it->id = w->id;
    it->attempt = w->attempts;
    it->execution_id = w->execution_id;
    it->activity_id = w->activity_id;
    changed(c);
    *out = it;
    return 0;
}

/* 1 when `w` belongs to class `k` of `f` (the order of duro-provider.h "Tags"), or, with
 * f NULL, when it is untagged. */
static int work_in_class(const witem *w, const duro_work_filter *f, size_t k)
{
    if (f == NULL || (f->untagged && k == 0))
        return w->tag == NULL && w->session == NULL;
    if (f->any_tag)
        return w->tag != NULL;
    return w->tag != NULL && strcmp(w->tag, f->tags[k - (f->untagged ? 1 : 0)]) == 0;
}

/* What a work fetch passes through poll_locked: its filter (NULL: untagged only) and out;
 * for fetch_work_session the worker, its lease and its session bound. */
typedef struct work_fetch {
    const duro_work_filter *filter;
    duro_work_item **out;
    const char *worker;          /* NULL: no sessions class */
    int64_t lease_ms;
    size_t max_sessions;
} work_fetch;

static lease *lease_find(custom *c, const char *session)
{
    for (size_t i = 0; i < c->n_leases; i++)
        if (strcmp(c->leases[i].session, session) == 0)
            return &c->leases[i];
    return NULL;
}

static int lease_live_for(const lease *l, const char *worker, int64_t now)
{
    return l->lease_until > now && strcmp(l->owner, worker) == 0;
}

static size_t leases_owned(const custom *c, const char *worker, int64_t now)
{
    size_t n = 0;

    for (size_t i = 0; i < c->n_leases; i++)
        n += (size_t)lease_live_for(&c->leases[i], worker, now);
    return n;
}

static int session_has_items(const custom *c, const char *session)
{
    for (const witem *w = c->w_first; w != NULL; w = w->next)
        if (w->session != NULL && strcmp(w->session, session) == 0)
            return 1;
    return 0;
}

static void lease_drop(custom *c, size_t i)
{
    free(c->leases[i].session);
    free(c->leases[i].owner);
    c->leases[i] = c->leases[--c->n_leases];
}

/* Extend every lease `worker` holds at now to now + lease_ms. */
static void leases_extend(custom *c, const char *worker, int64_t now, int64_t lease_ms)
{
    for (size_t i = 0; i < c->n_leases; i++)
        if (lease_live_for(&c->leases[i], worker, now))
            c->leases[i].lease_until = add_ms(now, lease_ms);
}

/* The oldest fetchable session item `wf->worker` may take at now (see "Sessions"), or NULL. */
static witem *session_candidate(custom *c, const work_fetch *wf, int64_t now)
{
    size_t owned = leases_owned(c, wf->worker, now);

    for (witem *w = c->w_first; w != NULL; w = w->next) {
        lease *l;

        if (w->session == NULL || w->visible_at > now || work_locked(w, now))
            continue;
        l = lease_find(c, w->session);
        if ((l != NULL && lease_live_for(l, wf->worker, now)) ||
            ((l == NULL || l->lease_until <= now) && owned < wf->max_sessions))
            return w;
    }
    return NULL;
}

/* Take session item `w` for wf->worker: its lease (new or taken over) until now + lease_ms,
 * then the item's lock. DURO_ENOMEM leaves the store as it was. */
static int take_session_work(custom *c, const work_fetch *wf, witem *w, int64_t now,
                             int64_t lock_ms, duro_error *err)
{
    lease *l = lease_find(c, w->session);
    char *owner = NULL, *session = NULL;
    int rc;

    if (dup_opt(wf->worker, &owner) != 0 || (l == NULL && dup_opt(w->session, &session) != 0))
        goto oom;
    if (l == NULL && c->n_leases == c->cap_leases) {
        size_t cap = c->cap_leases ? 2 * c->cap_leases : 8;
        lease *v = realloc(c->leases, cap * sizeof(*v));

        if (v == NULL)
            goto oom;
        c->leases = v;
        c->cap_leases = cap;
    }
    if ((rc = take_work(c, w, now, lock_ms, wf->out, err)) != 0) {
        free(owner);
        free(session);
        return rc;
    }
    if (l == NULL) {
        l = &c->leases[c->n_leases++];
        l->session = session;
    } else {
        free(l->owner);
    }
    l->owner = owner;
    l->lease_until = add_ms(now, wf->lease_ms);
    l->active_at = now;
    return 0;
oom:
    free(owner);
    free(session);
    return duro_error_set(err, DURO_ENOMEM, 1, "out of memory (session lease)");
}

/* Take the oldest fetchable item of the first class, from turn % classes on, that has one. */
static int try_work(custom *c, int64_t now, int64_t lock_ms, void *arg, int64_t *next,
                    duro_error *err)
{
    const work_fetch *wf = arg;
    const duro_work_filter *f = wf->filter;
    size_t filter_classes = f == NULL ? 1 : (f->untagged ? 1 : 0) + (f->any_tag ? 1 : f->n_tags);
    size_t classes = filter_classes + (wf->worker != NULL ? 1 : 0);
    size_t start = f == NULL ? 0 : f->turn % classes;

    if (wf->worker != NULL)
        leases_extend(c, wf->worker, now, wf->lease_ms);
    for (size_t i = 0; i < classes; i++) {
        size_t k = (start + i) % classes;

        if (k == filter_classes) {
            witem *w = session_candidate(c, wf, now);

            if (w != NULL)
                return take_session_work(c, wf, w, now, lock_ms, err);
            continue;
        }
        for (witem *w = c->w_first; w != NULL; w = w->next) {
            if (w->visible_at <= now && !work_locked(w, now) && work_in_class(w, f, k))
                return take_work(c, w, now, lock_ms, wf->out, err);
        }
    }
    *next = work_next_time(c, now);
    return DURO_ENOTFOUND;
}

/* Lock the oldest visible, unlocked work item; DURO_ENOTFOUND (retryable) when none appears
 * within poll_ms. */
static int custom_fetch_work(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                             int64_t poll_ms, duro_work_item **out, duro_error *err)
{
    custom *c = (custom *)p;
    int rc;

    work_fetch wf = { NULL, out, NULL, 0, 0 };

    if (out == NULL || lock_ms <= 0)
        return duro_error_set(err, DURO_EINVAL, 0, "fetch_work: out and lock_ms > 0 required");
    *out = NULL;
    pthread_mutex_lock(&c->mu);
    rc = poll_locked(c, now_ms, lock_ms, poll_ms, try_work, &wf, err);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Lock the item `filter` is owed (see duro-provider.h "Tags"). */
static int custom_fetch_work_filtered(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                      int64_t poll_ms, const duro_work_filter *filter,
                                      duro_work_item **out, duro_error *err)
{
    custom *c = (custom *)p;
    work_fetch wf = { filter, out, NULL, 0, 0 };
    int rc;

    if (out == NULL || lock_ms <= 0)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "fetch_work_filtered: out and lock_ms > 0 required");
    *out = NULL;
    if ((rc = duro_provider_check_work_filter(filter, err)) != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = poll_locked(c, now_ms, lock_ms, poll_ms, try_work, &wf, err);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* fetch_work_filtered with the sessions class (see duro-provider.h "Sessions"). */
static int custom_fetch_work_session(duro_provider *p, int64_t now_ms, int64_t lock_ms,
                                     int64_t poll_ms, const duro_work_filter *filter,
                                     const char *worker_id, int64_t lease_ms,
                                     size_t max_sessions, duro_work_item **out, duro_error *err)
{
    custom *c = (custom *)p;
    work_fetch wf = { filter, out, worker_id, lease_ms, max_sessions };
    int rc = duro_provider_check_session_fetch(out, lock_ms, lease_ms, filter, worker_id, err);

    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = poll_locked(c, now_ms, lock_ms, poll_ms, try_work, &wf, err);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Release the idle sessions of `worker_id`, extend the others it owns (see "Sessions"). */
static int custom_renew_sessions(duro_provider *p, int64_t now_ms, const char *worker_id,
                                 int64_t lease_ms, int64_t idle_ms, size_t *owned,
                                 duro_error *err)
{
    custom *c = (custom *)p;
    int rc = duro_provider_check_worker_id(worker_id, "renew_sessions: worker_id", err);

    if (rc == 0 && (lease_ms <= 0 || idle_ms <= 0))
        rc = duro_error_set(err, DURO_EINVAL, 0,
                            "renew_sessions: lease_ms > 0 and idle_ms > 0 required");
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    for (size_t i = c->n_leases; i-- > 0;) {
        lease *l = &c->leases[i];
        int busy = session_has_items(c, l->session);

        if (lease_live_for(l, worker_id, now_ms) && busy)
            l->active_at = now_ms;
        if ((lease_live_for(l, worker_id, now_ms) && !busy &&
             now_ms >= add_ms(l->active_at, idle_ms)) ||
            (l->lease_until <= now_ms && !busy))
            lease_drop(c, i);
    }
    leases_extend(c, worker_id, now_ms, lease_ms);
    if (owned != NULL)
        *owned = leases_owned(c, worker_id, now_ms);
    changed(c);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* The work item locked by `token`, live at now; else DURO_ELOCK (permanent). A cancelled or
 * deleted item's token is gone, which is how a worker learns of the cancellation. */
static int work_lock_of(custom *c, const char *token, int64_t now, witem **out,
                        duro_error *err)
{
    hnode *h = hmap_get(&c->work_tokens, token);

    if (h == NULL)
        return duro_error_set(err, DURO_ELOCK, 0,
                              "work item is gone (cancelled or deleted) or its lock was taken");
    *out = CONTAINER_OF(h, witem, by_token);
    if ((*out)->locked_until <= now)
        return duro_error_set(err, DURO_ELOCK, 0, "work item lock expired");
    return 0;
}

/* Delete the item and queue `completion` (may be NULL) atomically. */
static int custom_ack_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                           const duro_msg *completion, duro_error *err)
{
    custom *c = (custom *)p;
    pending_msg pm = {NULL, NULL, NULL};
    witem *w = NULL;
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0 && completion != NULL)
        rc = duro_provider_check_msg(completion, err);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = work_lock_of(c, lock_token, now_ms, &w, err);
    if (rc == 0 && completion != NULL && pending_msg_prepare(c, completion, NULL, &pm) != 0)
        rc = no_memory(err, "completion message");
    if (rc == 0) {
        work_remove(c, w);
        if (completion != NULL)
            pending_msg_commit(c, &pm);
        changed(c);
    }
    pending_msg_discard(&pm);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Release the item's lock; delay_ms > 0 hides it until now + delay; ignore_attempt takes
 * back this fetch's count. */
static int custom_abandon_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                               int64_t delay_ms, int ignore_attempt, duro_error *err)
{
    custom *c = (custom *)p;
    witem *w = NULL;
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0 && delay_ms < 0)
        rc = duro_error_set(err, DURO_EINVAL, 0, "abandon_work: negative delay");
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = work_lock_of(c, lock_token, now_ms, &w, err);
    if (rc == 0) {
        work_unlock(c, w);
        if (delay_ms > 0)
            w->visible_at = add_ms(now_ms, delay_ms);
        if (ignore_attempt && w->attempts > 0)
            w->attempts--;
        changed(c);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Extend the item's live lock to now + extend_ms. */
static int custom_renew_work(duro_provider *p, int64_t now_ms, const char *lock_token,
                             int64_t extend_ms, duro_error *err)
{
    custom *c = (custom *)p;
    witem *w = NULL;
    int rc = duro_provider_check_id(lock_token, "lock token", err);

    if (rc == 0)
        rc = duro_provider_check_lock_ms(extend_ms, "renew_work: extend_ms", err);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = work_lock_of(c, lock_token, now_ms, &w, err);
    if (rc == 0) {
        w->locked_until = add_ms(now_ms, extend_ms);
        changed(c);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* ---- Reads and waking -------------------------------------------------------------------- */

/* The row of `instance`, or NULL. */
static irow *row_of(const custom *c, const char *instance_id)
{
    okey *k = key_find(c, instance_id);

    return k != NULL ? k->row : NULL;
}

/* History of one execution (0 = current); unknown instance or execution: 0 events.
 * DURO_ECORRUPT when the history cannot be read. */
static int custom_read_history(duro_provider *p, const char *instance_id,
                               uint64_t execution_id, duro_event **events, size_t *n,
                               duro_error *err)
{
    custom *c = (custom *)p;
    const irow *r;
    const execution *e;
    int rc;

    if (events == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "read_history: events and n are required");
    *events = NULL;
    *n = 0;
    if ((rc = duro_provider_check_id(instance_id, "instance id", err)) != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    r = row_of(c, instance_id);
    e = r == NULL ? NULL : exec_find(r, execution_id != 0 ? execution_id : r->current);
    if (e != NULL && e->corrupt)
        rc = duro_error_set(err, DURO_ECORRUPT, 0,
                            "history of execution %llu of %s cannot be read (corrupted)",
                            (unsigned long long)e->id, instance_id);
    else if (copy_events(e, events, n) != 0)
        rc = no_memory(err, "history");
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int fill_info(const irow *r, const char *id, duro_instance_info *out)
{
    const execution *e = exec_current(r);

    out->execution_id = r->current;
    out->state = e != NULL ? e->state : DURO_STATE_NOT_FOUND;
    out->custom_status_version = r->custom_version;
    out->created_at_ms = r->created_at;
    out->updated_at_ms = r->updated_at;
    if (dup_opt(id, &out->instance) != 0 || dup_opt(r->name, &out->orch_name) != 0 ||
        dup_opt(r->version, &out->orch_version) != 0 ||
        dup_opt(r->parent, &out->parent_instance) != 0 ||
        dup_opt(r->custom_status, &out->custom_status) != 0)
        return -1;
    if (e != NULL && e->state != DURO_STATE_RUNNING && dup_opt(e->output, &out->output) != 0)
        return -1;
    return 0;
}

/* Metadata of one instance; DURO_ENOTFOUND when it has no row. */
static int custom_instance_info(duro_provider *p, const char *instance_id,
                                duro_instance_info *out, duro_error *err)
{
    custom *c = (custom *)p;
    const irow *r;
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "instance_info: out is required");
    memset(out, 0, sizeof(*out));
    if ((rc = duro_provider_check_id(instance_id, "instance id", err)) != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    r = row_of(c, instance_id);
    if (r == NULL)
        rc = duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s not found", instance_id);
    else if (fill_info(r, instance_id, out) != 0)
        rc = no_memory(err, "instance info");
    pthread_mutex_unlock(&c->mu);
    if (rc != 0)
        duro_instance_info_clear(out);
    return rc;
}

/* The value of `key` of `instance_id`; DURO_ENOTFOUND for an unknown instance or key. */
static int custom_get_value(duro_provider *p, const char *instance_id, const char *key,
                            char **value, uint64_t *version, duro_error *err)
{
    custom *c = (custom *)p;
    const irow *r;
    int rc;

    if (value == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "get_value: value is required");
    *value = NULL;
    if (version != NULL)
        *version = 0;
    if ((rc = duro_provider_check_id(instance_id, "instance id", err)) != 0 ||
        (rc = duro_provider_check_kv_key(key, err)) != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    r = row_of(c, instance_id);
    rc = r == NULL ? duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s not found", instance_id)
                   : duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s has no value \"%s\"",
                                    instance_id, key);
    for (size_t i = 0; r != NULL && i < r->n_kv; i++) {
        if (strcmp(r->kv[i].key, key) != 0)
            continue;
        rc = dup_opt(r->kv[i].value, value) != 0 ? no_memory(err, "value") : 0;
        if (rc == 0 && version != NULL)
            *version = r->kv[i].version;
        break;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Every value of `instance_id`, keys ascending; DURO_ENOTFOUND for an unknown instance. */
static int custom_list_values(duro_provider *p, const char *instance_id,
                              duro_kv_entry **entries, size_t *n, duro_error *err)
{
    custom *c = (custom *)p;
    const irow *r;
    duro_kv_entry *v = NULL;
    size_t len = 0;
    int rc;

    if (entries == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "list_values: entries and n are required");
    *entries = NULL;
    *n = 0;
    if ((rc = duro_provider_check_id(instance_id, "instance id", err)) != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    r = row_of(c, instance_id);
    if (r == NULL)
        rc = duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s not found", instance_id);
    else if (r->n_kv > 0 && (v = calloc(r->n_kv, sizeof(*v))) == NULL)
        rc = no_memory(err, "values");
    for (size_t i = 0; rc == 0 && r != NULL && i < r->n_kv; i++, len++) {
        v[i].version = r->kv[i].version;
        if (dup_opt(r->kv[i].key, &v[i].key) != 0 || dup_opt(r->kv[i].value, &v[i].value) != 0)
            rc = no_memory(err, "values");
    }
    pthread_mutex_unlock(&c->mu);
    if (rc != 0) {
        duro_kv_entries_free(v, r != NULL ? r->n_kv : 0);
        return rc;
    }
    *entries = v;
    *n = len;
    return 0;
}

/* Wake every fetch and wait_commit blocked now; later waits are not affected. */
static void custom_interrupt(duro_provider *p)
{
    custom *c = (custom *)p;

    pthread_mutex_lock(&c->mu);
    c->interrupt_gen++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* A counter that increases on every change of the store. */
static uint64_t custom_commit_seq(duro_provider *p)
{
    custom *c = (custom *)p;
    uint64_t seq;

    pthread_mutex_lock(&c->mu);
    seq = c->commit_seq;
    pthread_mutex_unlock(&c->mu);
    return seq;
}

/* Block until commit_seq > seq (0) or timeout_ms passes (DURO_ETIMEDOUT; < 0 waits without
 * limit); interrupt() ends the wait with DURO_ETIMEDOUT. */
static int custom_wait_commit(duro_provider *p, uint64_t seq, int64_t timeout_ms)
{
    custom *c = (custom *)p;
    int rc;

    pthread_mutex_lock(&c->mu);
    wait_change(c, seq, c->interrupt_gen, timeout_ms);
    rc = c->commit_seq > seq ? 0 : DURO_ETIMEDOUT;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* ---- Management (DURO_CAP_MANAGEMENT) ---------------------------------------------------- */

typedef int (*row_pred)(const custom *c, const okey *k, const void *arg);

/* Append to *kv every key with a row that `pred` accepts (when `unique`, skip keys already
 * in *kv). Returns 0 or -1. */
static int collect_rows(const custom *c, row_pred pred, const void *arg, keyv *kv, int unique)
{
    for (size_t b = 0; b < c->keys.nb; b++) {
        for (hnode *h = c->keys.b[b]; h != NULL; h = h->next) {
            okey *k = CONTAINER_OF(h, okey, by_id);
            if (k->row == NULL || !pred(c, k, arg) || (unique && keyv_has(kv, k)))
                continue;
            if (keyv_push(kv, k) != 0)
                return -1;
        }
    }
    return 0;
}

/* Oldest first by creation time (then creation order). */
static int cmp_created(const void *a, const void *b)
{
    const irow *x = (*(okey *const *)a)->row, *y = (*(okey *const *)b)->row;

    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return x->created_seq < y->created_seq ? -1 : x->created_seq > y->created_seq;
}

/* Hand the ids of kv to the caller, in order or reversed. Frees kv. */
static int ids_out(keyv *kv, int reverse, char ***ids, size_t *n, duro_error *err)
{
    char **v = kv->n != 0 ? calloc(kv->n, sizeof(*v)) : NULL;
    int rc = 0;

    if (kv->n != 0 && v == NULL)
        rc = no_memory(err, "id list");
    for (size_t i = 0; rc == 0 && i < kv->n; i++) {
        if ((v[i] = strdup(kv->v[reverse ? kv->n - 1 - i : i]->id)) == NULL) {
            duro_strv_free(v, i);
            rc = no_memory(err, "id list");
        }
    }
    if (rc == 0) {
        *ids = v;
        *n = kv->n;
    }
    free(kv->v);
    return rc;
}

static int pred_state(const custom *c, const okey *k, const void *arg)
{
    int filter = *(const int *)arg;

    (void)c;
    return filter == 0 || row_state(k->row) == filter;
}

static int pred_child_of(const custom *c, const okey *k, const void *arg)
{
    (void)c;
    return k->row->parent != NULL && strcmp(k->row->parent, arg) == 0;
}

/* List the instances (state_filter 0 = all, else a duro_state), newest first. */
static int custom_list_instances(duro_provider *p, int state_filter, char ***ids, size_t *n,
                                 duro_error *err)
{
    custom *c = (custom *)p;
    keyv kv = {NULL, 0, 0};
    int rc;

    if (ids == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "list_instances: ids and n are required");
    *ids = NULL;
    *n = 0;
    if (state_filter < 0 || state_filter > DURO_STATE_CONTINUED_AS_NEW)
        return duro_error_set(err, DURO_EINVAL, 0, "list_instances: invalid state %d",
                              state_filter);
    pthread_mutex_lock(&c->mu);
    rc = collect_rows(c, pred_state, &state_filter, &kv, 0);
    if (rc == 0 && kv.n > 1)
        qsort(kv.v, kv.n, sizeof(*kv.v), cmp_created);
    rc = rc != 0 ? no_memory(err, "id list") : 0;
    if (rc == 0)
        rc = ids_out(&kv, 1, ids, n, err);
    else
        free(kv.v);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Direct children of `instance`, oldest first; an unknown id has none. */
static int custom_list_children(duro_provider *p, const char *instance_id, char ***ids,
                                size_t *n, duro_error *err)
{
    custom *c = (custom *)p;
    keyv kv = {NULL, 0, 0};
    int rc;

    if (ids == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "list_children: ids and n are required");
    *ids = NULL;
    *n = 0;
    if ((rc = duro_provider_check_id(instance_id, "instance id", err)) != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = collect_rows(c, pred_child_of, instance_id, &kv, 0);
    if (rc == 0 && kv.n > 1)
        qsort(kv.v, kv.n, sizeof(*kv.v), cmp_created);
    rc = rc != 0 ? no_memory(err, "id list") : 0;
    if (rc == 0)
        rc = ids_out(&kv, 0, ids, n, err);
    else
        free(kv.v);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Execution ids of `instance`, ascending; an unknown id has none. */
static int custom_list_executions(duro_provider *p, const char *instance_id, uint64_t **ids,
                                  size_t *n, duro_error *err)
{
    custom *c = (custom *)p;
    const irow *r;
    size_t len = 0;
    int rc;

    if (ids == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "list_executions: ids and n are required");
    *ids = NULL;
    *n = 0;
    if ((rc = duro_provider_check_id(instance_id, "instance id", err)) != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    r = row_of(c, instance_id);
    for (const execution *e = r != NULL ? r->execs : NULL; e != NULL; e = e->next)
        len++;
    if (len != 0 && (*ids = malloc(len * sizeof(**ids))) == NULL) {
        rc = no_memory(err, "execution ids");
    } else if (len != 0) {
        for (const execution *e = r->execs; e != NULL; e = e->next)
            (*ids)[(*n)++] = e->id;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Details of one execution (0 = current); DURO_ENOTFOUND when unknown. */
static int custom_execution_info(duro_provider *p, const char *instance_id,
                                 uint64_t execution_id, duro_execution_info *out,
                                 duro_error *err)
{
    custom *c = (custom *)p;
    const irow *r;
    const execution *e;
    int rc;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "execution_info: out is required");
    memset(out, 0, sizeof(*out));
    if ((rc = duro_provider_check_id(instance_id, "instance id", err)) != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    r = row_of(c, instance_id);
    e = r == NULL ? NULL : exec_find(r, execution_id != 0 ? execution_id : r->current);
    if (e == NULL) {
        rc = duro_error_set(err, DURO_ENOTFOUND, 0, "execution %llu of %s not found",
                            (unsigned long long)execution_id, instance_id);
    } else {
        out->execution_id = e->id;
        out->state = e->state;
        out->started_at_ms = e->started_at;
        out->completed_at_ms = e->completed_at;
        out->event_count = e->n_events;
        if (dup_opt(e->output, &out->output) != 0)
            rc = no_memory(err, "execution info");
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Newest first: created_at descending, then id descending in byte order (the query order
 * of duro-provider.h). */
static int cmp_newest(const void *a, const void *b)
{
    const okey *x = *(okey *const *)a, *y = *(okey *const *)b;

    if (x->row->created_at != y->row->created_at)
        return x->row->created_at > y->row->created_at ? -1 : 1;
    return -strcmp(x->id, y->id);
}

/* When the current execution ended (Completed, Failed, ContinuedAsNew); 0 while it runs. */
static int64_t ended_at(const irow *r)
{
    const execution *e = exec_current(r);

    return e != NULL && e->state != DURO_STATE_RUNNING ? e->completed_at : 0;
}

/* `t` within the bounds [from, before), each 0 meaning none. */
static int in_range(int64_t t, int64_t from, int64_t before)
{
    return (from == 0 || t >= from) && (before == 0 || t < before);
}

/* The instance matches every filter of the query and comes after its resume key. */
static int pred_query(const custom *c, const okey *k, const void *arg)
{
    const duro_instance_query *q = arg;
    const irow *r = k->row;
    size_t plen = q->id_prefix != NULL ? strlen(q->id_prefix) : 0;

    (void)c;
    if (q->state != 0 && row_state(r) != (int)q->state)
        return 0;
    if (q->orch_name != NULL && strcmp(r->name, q->orch_name) != 0)
        return 0;
    if (plen != 0 && strncmp(k->id, q->id_prefix, plen) != 0)
        return 0;
    if (!in_range(r->created_at, q->created_from_ms, q->created_before_ms))
        return 0;
    if (q->completed_from_ms != 0 || q->completed_before_ms != 0) {
        const execution *e = exec_current(r);
        if (e == NULL || e->state == DURO_STATE_RUNNING ||
            !in_range(e->completed_at, q->completed_from_ms, q->completed_before_ms))
            return 0;
    }
    if (q->after_instance != NULL &&
        (r->created_at > q->after_created_ms ||
         (r->created_at == q->after_created_ms && strcmp(k->id, q->after_instance) >= 0)))
        return 0;
    return 1;
}

/* Copy the listing fields of `k` into *out. Returns 0 or -1 (out of memory). */
static int fill_summary(const okey *k, duro_instance_summary *out)
{
    const irow *r = k->row;

    out->execution_id = r->current;
    out->state = row_state(r);
    out->created_at_ms = r->created_at;
    out->completed_at_ms = ended_at(r);
    if (dup_opt(k->id, &out->instance) != 0 || dup_opt(r->name, &out->orch_name) != 0 ||
        dup_opt(r->version, &out->orch_version) != 0 ||
        dup_opt(r->parent, &out->parent_instance) != 0)
        return -1;
    return 0;
}

/* The instances the query selects, newest first, at most q->limit (version 3). */
static int custom_query_instances(duro_provider *p, const duro_instance_query *q,
                                  duro_instance_summary **rows, size_t *n, duro_error *err)
{
    custom *c = (custom *)p;
    keyv kv = {NULL, 0, 0};
    duro_instance_summary *v = NULL;
    size_t len;
    int rc;

    if (rows == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "query_instances: rows and n are required");
    *rows = NULL;
    *n = 0;
    if ((rc = duro_provider_check_query(q, err)) != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    if (collect_rows(c, pred_query, q, &kv, 0) != 0)
        rc = no_memory(err, "query");
    if (rc == 0 && kv.n > 1)
        qsort(kv.v, kv.n, sizeof(*kv.v), cmp_newest);
    len = kv.n < q->limit ? kv.n : q->limit;
    if (rc == 0 && len != 0 && (v = calloc(len, sizeof(*v))) == NULL)
        rc = no_memory(err, "query");
    for (size_t i = 0; rc == 0 && i < len; i++) {
        if (fill_summary(kv.v[i], &v[i]) != 0)
            rc = no_memory(err, "query");
    }
    pthread_mutex_unlock(&c->mu);
    free(kv.v);
    if (rc != 0) {
        duro_instance_summaries_free(v, len);
        return rc;
    }
    *rows = v;
    *n = len;
    return 0;
}

/* A root: no parent, or a parent whose row is gone. */
static int is_root(const custom *c, const irow *r)
{
    return r->parent == NULL || row_of(c, r->parent) == NULL;
}

/* Append `root` and all its descendants to *kv. Returns 0 or -1. */
static int tree_append(const custom *c, okey *root, keyv *kv)
{
    size_t i = kv->n;

    if (keyv_push(kv, root) != 0)
        return -1;
    for (; i < kv->n; i++) {
        if (collect_rows(c, pred_child_of, kv->v[i]->id, kv, 1) != 0)
            return -1;
    }
    return 0;
}

static void delete_keys(custom *c, const keyv *kv, duro_delete_result *res)
{
    for (size_t i = 0; i < kv->n; i++)
        key_delete(c, kv->v[i], res);
    if (kv->n != 0)
        changed(c);
}

/* Checks and tree collection of delete_instance (c->mu held). An id without a row but with
 * queued messages (a start no runtime took, orphans) is deleted alone, unless a runtime
 * holds its lock at now_ms and !force. */
static int delete_tree_of(custom *c, int64_t now_ms, const char *instance_id, int force,
                          keyv *tree, duro_error *err)
{
    okey *k = key_find(c, instance_id);
    int rc;

    if (k == NULL || k->row == NULL) {
        rc = duro_provider_delete_rowless(instance_id, k != NULL && k->first != NULL,
                                          k != NULL && k->token[0] != '\0' &&
                                              k->locked_until > now_ms,
                                          force, err);
        if (rc == 0 && keyv_push(tree, k) != 0)
            rc = no_memory(err, "instance tree");
        return rc;
    }
    if (!is_root(c, k->row))
        return duro_error_set(err, DURO_ECHILD, 0,
                              "instance %s is a sub-orchestration of %s: delete its root",
                              instance_id, k->row->parent);
    if (tree_append(c, k, tree) != 0)
        return no_memory(err, "instance tree");
    for (size_t i = 0; !force && i < tree->n; i++) {
        if (row_state(tree->v[i]->row) == DURO_STATE_RUNNING)
            return duro_error_set(err, DURO_ERUNNING, 0,
                                  "instance %s is running; delete with force to remove it",
                                  tree->v[i]->id);
    }
    return 0;
}

/* Delete a root instance and its whole tree atomically (see duro-provider.h). Its locks die
 * with it: a turn or a worker holding one gets DURO_ELOCK and cannot write anything back. */
static int custom_delete_instance(duro_provider *p, int64_t now_ms, const char *instance_id,
                                  int force, duro_delete_result *out, duro_error *err)
{
    custom *c = (custom *)p;
    duro_delete_result res = {0, 0, 0, 0};
    keyv tree = {NULL, 0, 0};
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if ((rc = duro_provider_check_id(instance_id, "instance id", err)) != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = delete_tree_of(c, now_ms, instance_id, force, &tree, err);
    if (rc == 0)
        delete_keys(c, &tree, &res);
    pthread_mutex_unlock(&c->mu);
    free(tree.v);
    if (rc == 0 && out != NULL)
        *out = res;
    return rc;
}

/* Bulk-deletable: a root whose current execution completed or failed strictly before
 * `*before` (0 = any time). */
static int pred_bulk(const custom *c, const okey *k, const void *arg)
{
    int64_t before = *(const int64_t *)arg;
    const execution *e = exec_current(k->row);

    return e != NULL && (e->state == DURO_STATE_COMPLETED || e->state == DURO_STATE_FAILED) &&
           (before == 0 || e->completed_at < before) && is_root(c, k->row);
}

/* The roots the filter selects, at most `limit`: in creation order, or in list order. */
static int bulk_roots(const custom *c, const duro_bulk_filter *f, size_t limit, keyv *roots)
{
    int64_t before = f != NULL ? f->completed_before_ms : 0;

    if (f == NULL || f->instances == NULL) {
        if (collect_rows(c, pred_bulk, &before, roots, 0) != 0)
            return -1;
        if (roots->n > 1)
            qsort(roots->v, roots->n, sizeof(*roots->v), cmp_created);
        if (roots->n > limit)
            roots->n = limit;
        return 0;
    }
    for (size_t i = 0; i < f->n_instances && roots->n < limit; i++) {
        okey *k = f->instances[i] != NULL ? key_find(c, f->instances[i]) : NULL;
        if (k == NULL || k->row == NULL || !pred_bulk(c, k, &before) || keyv_has(roots, k))
            continue;
        if (keyv_push(roots, k) != 0)
            return -1;
    }
    return 0;
}

/* Delete up to `limit` terminal roots with their trees, in one step. */
static int custom_delete_bulk(duro_provider *p, int64_t now_ms, const duro_bulk_filter *filter,
                              duro_delete_result *out, duro_error *err)
{
    custom *c = (custom *)p;
    duro_delete_result res = {0, 0, 0, 0};
    size_t limit = filter != NULL && filter->limit != 0 ? filter->limit : DEFAULT_BULK_LIMIT;
    keyv roots = {NULL, 0, 0}, all = {NULL, 0, 0};
    int rc = 0;

    (void)now_ms;
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (filter != NULL && filter->n_instances && filter->instances == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "delete_bulk: instance list missing");
    pthread_mutex_lock(&c->mu);
    if (bulk_roots(c, filter, limit, &roots) != 0)
        rc = no_memory(err, "bulk delete");
    for (size_t i = 0; rc == 0 && i < roots.n; i++) {
        if (tree_append(c, roots.v[i], &all) != 0)
            rc = no_memory(err, "bulk delete");
    }
    if (rc == 0)
        delete_keys(c, &all, &res);
    pthread_mutex_unlock(&c->mu);
    free(roots.v);
    free(all.v);
    if (rc == 0 && out != NULL)
        *out = res;
    return rc;
}

/* Delete the history of old executions: never the newest max(keep_last, 1), the current or
 * a running one; with completed_before_ms only those completed strictly before it. */
static void prune_row(irow *r, const duro_prune_options *opt, duro_delete_result *res)
{
    uint64_t keep = opt != NULL && opt->keep_last > 1 ? opt->keep_last : 1;
    int64_t before = opt != NULL ? opt->completed_before_ms : 0;
    uint64_t total = 0, index = 0;
    execution **pp = &r->execs;

    for (const execution *e = r->execs; e != NULL; e = e->next)
        total++;
    while (*pp != NULL) {
        execution *e = *pp;
        int old = total > keep && index < total - keep;

        index++;
        if (old && e->id != r->current && e->state != DURO_STATE_RUNNING &&
            (before == 0 || (e->completed_at != 0 && e->completed_at < before))) {
            *pp = e->next;
            res->executions++;
            res->events += e->n_events;
            exec_free(e);
        } else {
            pp = &e->next;
        }
    }
}

static int custom_prune(duro_provider *p, int64_t now_ms, const char *instance_id,
                        const duro_prune_options *opt, duro_delete_result *out,
                        duro_error *err)
{
    custom *c = (custom *)p;
    duro_delete_result res = {0, 0, 0, 0};
    irow *r;
    int rc;

    (void)now_ms;
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if ((rc = duro_provider_check_id(instance_id, "instance id", err)) != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    r = row_of(c, instance_id);
    if (r == NULL) {
        rc = duro_error_set(err, DURO_ENOTFOUND, 0, "instance %s not found", instance_id);
    } else {
        prune_row(r, opt, &res);
        if (res.executions != 0)
            changed(c);
    }
    pthread_mutex_unlock(&c->mu);
    if (rc == 0 && out != NULL)
        *out = res;
    return rc;
}

/* Visible unlocked messages and work items, and not-yet-visible messages, at now_ms. */
static int custom_queue_depths(duro_provider *p, int64_t now_ms, duro_queue_depths *out,
                               duro_error *err)
{
    custom *c = (custom *)p;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "queue_depths: out is required");
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&c->mu);
    for (const omsg *m = c->q_first; m != NULL; m = m->next) {
        if (m->visible_at > now_ms)
            out->delayed++;
        else if (!key_locked(m->key, now_ms))
            out->orchestrator++;
    }
    for (const witem *w = c->w_first; w != NULL; w = w->next)
        out->worker += w->visible_at <= now_ms && !work_locked(w, now_ms);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* Order of depth rows: untagged first, then tags in byte order. */
static int depth_order(const void *a, const void *b)
{
    const char *x = ((const duro_tag_depth *)a)->tag, *y = ((const duro_tag_depth *)b)->tag;

    if (x == NULL || y == NULL)
        return (x != NULL) - (y != NULL);
    return strcmp(x, y);
}

/* The work queue counted per tag: one row per tag present (a linear search per item: an
 * example, not a store for thousands of tags). */
static int custom_queue_depths_by_tag(duro_provider *p, int64_t now_ms, duro_tag_depth **rows,
                                      size_t *n, duro_error *err)
{
    custom *c = (custom *)p;
    duro_tag_depth *v = NULL;
    size_t used = 0, cap = 0;
    int oom = 0;

    if (rows == NULL || n == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "queue_depths_by_tag: rows and n required");
    *rows = NULL;
    *n = 0;
    pthread_mutex_lock(&c->mu);
    for (const witem *w = c->w_first; w != NULL && !oom; w = w->next) {
        duro_tag_depth *d = NULL;

        for (size_t i = 0; i < used && d == NULL; i++)
            if ((v[i].tag == NULL && w->tag == NULL) ||
                (v[i].tag != NULL && w->tag != NULL && strcmp(v[i].tag, w->tag) == 0))
                d = &v[i];
        if (d == NULL && used == cap) {
            size_t grown = cap ? cap * 2 : 8;
            duro_tag_depth *bigger = realloc(v, grown * sizeof(*v));

            oom = bigger == NULL;
            if (bigger != NULL) {
                v = bigger;
                cap = grown;
            }
        }
        if (d == NULL && !oom) {
            d = &v[used];
            memset(d, 0, sizeof(*d));
            oom = dup_opt(w->tag, &d->tag) != 0;
            used += !oom;
        }
        if (oom)
            break;
        if (work_locked(w, now_ms))
            d->locked++;
        else if (w->visible_at > now_ms)
            d->delayed++;
        else
            d->queued++;
    }
    pthread_mutex_unlock(&c->mu);
    if (oom) {
        duro_tag_depths_free(v, used);
        return no_memory(err, "tag depths");
    }
    if (used == 0) {
        free(v);
        return 0;
    }
    qsort(v, used, sizeof(*v), depth_order);
    *rows = v;
    *n = used;
    return 0;
}

/* Instances (each once, under its current execution's state), executions and events. */
static int custom_metrics(duro_provider *p, duro_metrics *out, duro_error *err)
{
    custom *c = (custom *)p;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "metrics: out is required");
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&c->mu);
    for (size_t b = 0; b < c->keys.nb; b++) {
        for (hnode *h = c->keys.b[b]; h != NULL; h = h->next) {
            const irow *r = CONTAINER_OF(h, okey, by_id)->row;
            int state;
            if (r == NULL)
                continue;
            state = row_state(r);
            out->instances++;
            out->running += state == DURO_STATE_RUNNING;
            out->completed += state == DURO_STATE_COMPLETED;
            out->failed += state == DURO_STATE_FAILED;
            out->continued_as_new += state == DURO_STATE_CONTINUED_AS_NEW;
            for (const execution *e = r->execs; e != NULL; e = e->next) {
                out->executions++;
                out->events += e->n_events;
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* ---- Life cycle -------------------------------------------------------------------------- */

static void custom_destroy(duro_provider *p)
{
    custom *c = (custom *)p;
    duro_delete_result ignored = {0, 0, 0, 0};

    while (c->w_first != NULL)
        work_remove(c, c->w_first);
    while (c->n_leases > 0)
        lease_drop(c, c->n_leases - 1);
    free(c->leases);
    for (size_t b = 0; b < c->keys.nb; b++) {
        while (c->keys.b[b] != NULL)
            key_delete(c, CONTAINER_OF(c->keys.b[b], okey, by_id), &ignored);
    }
    free(c->keys.b);
    free(c->orch_tokens.b);
    free(c->work_tokens.b);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static int custom_integrity_check(duro_provider *p, char *msg, size_t msg_size);

static const duro_provider_ops custom_ops = {
    .version = DURO_PROVIDER_OPS_VERSION,
    .destroy = custom_destroy,
    .enqueue_orch = custom_enqueue_orch,
    .fetch_orch = custom_fetch_orch,
    .ack_orch = custom_ack_orch,
    .abandon_orch = custom_abandon_orch,
    .renew_orch = custom_renew_orch,
    .enqueue_work = custom_enqueue_work,
    .fetch_work = custom_fetch_work,
    .ack_work = custom_ack_work,
    .abandon_work = custom_abandon_work,
    .renew_work = custom_renew_work,
    .read_history = custom_read_history,
    .instance_info = custom_instance_info,
    .interrupt = custom_interrupt,
    .commit_seq = custom_commit_seq,
    .wait_commit = custom_wait_commit,
    .list_instances = custom_list_instances,
    .list_executions = custom_list_executions,
    .execution_info = custom_execution_info,
    .list_children = custom_list_children,
    .delete_instance = custom_delete_instance,
    .delete_bulk = custom_delete_bulk,
    .prune = custom_prune,
    .queue_depths = custom_queue_depths,
    .metrics = custom_metrics,
    .integrity_check = custom_integrity_check,
    .query_instances = custom_query_instances,
    .enqueue_work_tagged = custom_enqueue_work_tagged,
    .fetch_work_filtered = custom_fetch_work_filtered,
    .queue_depths_by_tag = custom_queue_depths_by_tag,
    .get_value = custom_get_value,
    .list_values = custom_list_values,
    .fetch_work_session = custom_fetch_work_session,
    .renew_sessions = custom_renew_sessions,
    .enqueue_orch_start = custom_enqueue_orch_start,
    .fetch_orch_filtered = custom_fetch_orch_filtered,
};

/* Mutex and condition variable (on CLOCK_MONOTONIC, so long polls ignore clock changes). */
static int init_sync(custom *c)
{
    pthread_condattr_t attr;
    int rc;

    if (pthread_mutex_init(&c->mu, NULL) != 0)
        return -1;
    rc = pthread_condattr_init(&attr);
    if (rc == 0) {
        rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        if (rc == 0)
            rc = pthread_cond_init(&c->cv, &attr);
        pthread_condattr_destroy(&attr);
    }
    if (rc != 0) {
        pthread_mutex_destroy(&c->mu);
        return -1;
    }
    return 0;
}

int custom_provider_open(duro_provider **out, duro_error *err)
{
    custom *c;

    if (out == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "custom: out is required");
    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return no_memory(err, "provider");
    if (hmap_init(&c->keys) != 0 || hmap_init(&c->orch_tokens) != 0 ||
        hmap_init(&c->work_tokens) != 0 || init_sync(c) != 0) {
        free(c->keys.b);
        free(c->orch_tokens.b);
        free(c->work_tokens.b);
        free(c);
        return no_memory(err, "provider");
    }
    c->base.ops = &custom_ops;
    c->base.name = "custom";
    c->base.caps = CUSTOM_CAPS;
    *out = &c->base;
    return 0;
}

/* ---- Factory for the suites -------------------------------------------------------------- */

static int factory_create(void *ud, duro_provider **out, duro_error *err)
{
    (void)ud;
    return custom_provider_open(out, err);
}

static void factory_destroy(void *ud, duro_provider *p)
{
    (void)ud;
    duro_provider_destroy(p);
}

/* Hook: make every stored execution of `instance` unreadable (error-handling cases). Later
 * appends still succeed; the damaged executions keep reporting the corruption. */
static int factory_corrupt_history(void *ud, duro_provider *p, const char *instance_id)
{
    custom *c = (custom *)p;
    irow *r;

    (void)ud;
    if (instance_id == NULL || *instance_id == '\0')
        return DURO_EINVAL;
    pthread_mutex_lock(&c->mu);
    r = row_of(c, instance_id);
    for (execution *e = r != NULL ? r->execs : NULL; e != NULL; e = e->next)
        e->corrupt = 1;
    pthread_mutex_unlock(&c->mu);
    return r != NULL ? 0 : DURO_ENOTFOUND;
}

/* Hook: the largest stored fetch count of the instance's messages (attempt-count cases). */
static int factory_max_attempt_count(void *ud, duro_provider *p, const char *instance_id,
                                     uint32_t *out)
{
    custom *c = (custom *)p;
    const okey *k;

    (void)ud;
    if (instance_id == NULL || out == NULL)
        return DURO_EINVAL;
    *out = 0;
    pthread_mutex_lock(&c->mu);
    k = key_find(c, instance_id);
    for (const omsg *m = k != NULL ? k->first : NULL; m != NULL; m = m->knext) {
        if (m->attempts > *out)
            *out = m->attempts;
    }
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* Structural checks of one key: its messages point back to it, its lock is in the token
 * map, its executions and histories are sorted. Adds its messages to *n_msgs. */
static const char *check_key(const custom *c, const okey *k, size_t *n_msgs)
{
    if (k->token[0] != '\0' && hmap_get(&c->orch_tokens, k->token) != &k->by_token)
        return "an instance lock is missing from the token map";
    for (const omsg *m = k->first; m != NULL; m = m->knext, (*n_msgs)++) {
        if (m->key != k || (m->knext != NULL && m->knext->id <= m->id))
            return "an instance's message list is broken";
    }
    for (const execution *e = k->row != NULL ? k->row->execs : NULL; e != NULL; e = e->next) {
        if (e->next != NULL && e->next->id <= e->id)
            return "executions out of order";
        for (size_t i = 1; i < e->n_events; i++) {
            if (e->events[i].event_id <= e->events[i - 1].event_id)
                return "history out of order or duplicated";
        }
    }
    if (k->row != NULL && exec_current(k->row) == NULL)
        return "an instance has no current execution row";
    return NULL;
}

/* The store's invariants (run by the stress suite after each run). */
static const char *check_store(const custom *c)
{
    size_t in_keys = 0, in_queue = 0, locked = 0, work_locks = 0;
    const char *problem = NULL;

    for (size_t b = 0; problem == NULL && b < c->keys.nb; b++) {
        for (hnode *h = c->keys.b[b]; problem == NULL && h != NULL; h = h->next) {
            const okey *k = CONTAINER_OF(h, okey, by_id);
            locked += k->token[0] != '\0';
            problem = check_key(c, k, &in_keys);
        }
    }
    for (const omsg *m = c->q_first; problem == NULL && m != NULL; m = m->next, in_queue++) {
        if ((m->next != NULL && m->next->id <= m->id) || key_find(c, m->key->id) != m->key)
            problem = "orchestrator queue out of order or pointing at an unknown instance";
    }
    for (const witem *w = c->w_first; problem == NULL && w != NULL; w = w->next) {
        work_locks += w->token[0] != '\0';
        if (w->next != NULL && w->next->id <= w->id)
            problem = "work queue out of order";
    }
    if (problem == NULL && in_keys != in_queue)
        problem = "queue and instance message lists disagree";
    if (problem == NULL && (locked != c->orch_tokens.n || work_locks != c->work_tokens.n))
        problem = "token maps and locks disagree";
    return problem;
}

static int custom_integrity_check(duro_provider *p, char *msg, size_t msg_size)
{
    custom *c = (custom *)p;
    const char *problem;

    pthread_mutex_lock(&c->mu);
    problem = check_store(c);
    pthread_mutex_unlock(&c->mu);
    if (problem != NULL && msg != NULL && msg_size != 0)
        snprintf(msg, msg_size, "custom: %s", problem);
    return problem != NULL ? DURO_ECORRUPT : 0;
}

const duro_provider_factory custom_factory = {
    .version = DURO_PROVIDER_FACTORY_VERSION,
    .name = "custom",
    .caps = CUSTOM_CAPS,
    .create = factory_create,
    .destroy = factory_destroy,
    .corrupt_history = factory_corrupt_history,
    .max_attempt_count = factory_max_attempt_count,
    .ud = NULL,
};
