/*
 * fixtures.c — helpers shared by the conformance case files (declared in suite.h).
 *
 * Every helper drives the provider under test through its vtable with the case's virtual
 * clock and asserts (with Check) that the call succeeded, so a case body stays a short list
 * of steps and exact assertions; only the ct_*_rc calls return the provider's code for the
 * case to assert on. A helper goes here when more than one category file needs it; one
 * used by a single category stays in that file. Helpers run only in the case's own thread:
 * they call ck_assert, which must never run on a thread the case started.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

/* Longest payload a fixture builds ("start:" + instance id). */
#define CT_FIXTURE_PAYLOAD_MAX 512
/* Most work items ct_make_instance schedules. */
#define CT_FIXTURE_WORK_MAX 4

const char ct_bogus_token[] = "0123456789abcdef0123456789abcdef";

static const char *const ct_event_payloads[DURO_CT_MAX_EVENTS] = {"e1", "e2", "e3", "e4",
                                                                  "e5", "e6", "e7", "e8"};

void ct_enqueue_start(duro_ct_ctx *ctx, const char *instance)
{
    char payload[CT_FIXTURE_PAYLOAD_MAX];
    duro_error err = {0};
    duro_msg msg = {0};
    int n = snprintf(payload, sizeof payload, "start:%s", instance);

    ck_assert_msg(n > 0 && (size_t)n < sizeof payload, "instance id too long for a fixture");
    msg.instance = instance;
    msg.kind = DURO_MSG_START;
    msg.execution_id = 1;
    msg.visible_at_ms = ctx->now;
    msg.payload = payload;
    int rc = ctx->p->ops->enqueue_orch(ctx->p, &msg, &err);
    ck_assert_msg(rc == 0, "enqueue START for '%s' failed: %s (%s)", instance,
                  duro_strerror(rc), err.message);
}

void ct_enqueue(duro_ct_ctx *ctx, const char *instance, int kind, const char *payload,
                int64_t delay_ms)
{
    duro_error err = {0};
    duro_msg msg = {0};

    msg.instance = instance;
    msg.kind = kind;
    msg.execution_id = 0;
    msg.visible_at_ms = ctx->now + delay_ms;
    msg.payload = payload;
    int rc = ctx->p->ops->enqueue_orch(ctx->p, &msg, &err);
    ck_assert_msg(rc == 0, "enqueue kind %d for '%s' failed: %s (%s)", kind, instance,
                  duro_strerror(rc), err.message);
}

duro_orch_item *ct_try_fetch(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_orch_item *item = NULL;
    int rc = ctx->p->ops->fetch_orch(ctx->p, ctx->now, DURO_CT_LOCK_MS, 0, &item, &err);

    if (rc == DURO_ENOTFOUND) {
        ck_assert_msg(item == NULL, "fetch_orch returned ENOTFOUND with an item");
        return NULL;
    }
    ck_assert_msg(rc == 0, "fetch_orch failed: %s (%s)", duro_strerror(rc), err.message);
    ck_assert_msg(item != NULL, "fetch_orch returned 0 without an item");
    return item;
}

duro_orch_item *ct_fetch(duro_ct_ctx *ctx)
{
    duro_orch_item *item = ct_try_fetch(ctx);

    ck_assert_msg(item != NULL, "fetch_orch found nothing to fetch");
    return item;
}

duro_orch_item *ct_poke(duro_ct_ctx *ctx, const char *instance)
{
    ct_enqueue(ctx, instance, DURO_MSG_EVENT, "poke", 0);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, instance);
    return item;
}

void ct_turn(duro_ct_ctx *ctx, const char *instance, const duro_orch_commit *commit)
{
    ct_ack(ctx, ct_poke(ctx, instance), commit);
}

/* Fetch until the item of `instance` comes up. Items of other instances fetched on the way
 * are released again with ignore_attempt, so their messages and attempt counts end as they
 * were. Fails the case when `instance` is not fetchable. */
static duro_orch_item *ct_fetch_instance(duro_ct_ctx *ctx, const char *instance)
{
    duro_orch_item **others = NULL;
    size_t n_others = 0;
    duro_orch_item *mine = NULL;
    int oom = 0;

    for (;;) {
        duro_orch_item *item = ct_try_fetch(ctx);
        if (item == NULL || strcmp(item->instance, instance) == 0) {
            mine = item;
            break;
        }
        duro_orch_item **grown = realloc(others, (n_others + 1) * sizeof *others);
        if (grown == NULL) {
            duro_orch_item_free(item);
            oom = 1;
            break;
        }
        others = grown;
        others[n_others++] = item;
    }
    for (size_t i = 0; i < n_others; i++) {
        duro_error err = {0};
        int rc = ctx->p->ops->abandon_orch(ctx->p, ctx->now, others[i]->lock_token, 0, 1,
                                           &err);
        ck_assert_msg(rc == 0, "abandon of '%s' failed: %s (%s)", others[i]->instance,
                      duro_strerror(rc), err.message);
        duro_orch_item_free(others[i]);
    }
    free(others);
    ck_assert_msg(!oom, "out of memory while looking for instance '%s'", instance);
    ck_assert_msg(mine != NULL, "instance '%s' could not be fetched", instance);
    return mine;
}

/* Start `instance` and ack its first turn: event 1 "started", plus `state`/`output` when
 * `state` is non-zero (then a second event 2 "terminal" records the end). */
static void ct_start_instance(duro_ct_ctx *ctx, const char *instance, const char *parent,
                              int state, const char *output)
{
    const duro_event_in events[] = {
        {.event_id = 1, .kind = 1, .payload = "started"},
        {.event_id = 2, .kind = 2, .payload = "terminal"},
    };
    duro_orch_commit commit = ct_commit(1, events, state != 0 ? 2 : 1);

    ct_enqueue_start(ctx, instance);
    duro_orch_item *item = ct_fetch_instance(ctx, instance);
    commit.orch_name = "TestOrch";
    commit.orch_version = "1.0.0";
    commit.parent_instance = parent;
    commit.state = state;
    commit.output = output;
    ct_ack(ctx, item, &commit);
}

void ct_create_instance(duro_ct_ctx *ctx, const char *instance)
{
    ct_start_instance(ctx, instance, NULL, 0, NULL);
}

void ct_create_child(duro_ct_ctx *ctx, const char *instance, const char *parent)
{
    ct_start_instance(ctx, instance, parent, 0, NULL);
}

void ct_create_terminal(duro_ct_ctx *ctx, const char *instance, int state, const char *output)
{
    ck_assert_msg(state == DURO_STATE_COMPLETED || state == DURO_STATE_FAILED ||
                      state == DURO_STATE_CONTINUED_AS_NEW,
                  "ct_create_terminal: %d is not a terminal state", state);
    ct_start_instance(ctx, instance, NULL, state, output);
}

void ct_fill_events(duro_event_in *events, size_t n)
{
    ck_assert_uint_le(n, DURO_CT_MAX_EVENTS);
    for (size_t i = 0; i < n; i++)
        events[i] = (duro_event_in){i + 1, 1, ct_event_payloads[i]};
}

void ct_make_instance(duro_ct_ctx *ctx, const char *instance, const char *parent,
                      size_t n_events, size_t n_work, int state, const char *output)
{
    duro_event_in events[DURO_CT_MAX_EVENTS];
    duro_work_in work[CT_FIXTURE_WORK_MAX];
    duro_orch_commit commit;

    ct_fill_events(events, n_events);
    ck_assert_uint_le(n_work, CT_FIXTURE_WORK_MAX);
    for (size_t i = 0; i < n_work; i++)
        work[i] = (duro_work_in){instance, 1, i + 1, "work"};
    ct_enqueue_start(ctx, instance);
    duro_orch_item *item = ct_fetch(ctx);
    ck_assert_str_eq(item->instance, instance);
    commit = ct_commit(1, events, n_events);
    commit.orch_name = "TestOrch";
    commit.orch_version = "1.0.0";
    commit.parent_instance = parent;
    commit.work = n_work > 0 ? work : NULL;
    commit.n_work = n_work;
    commit.state = state;
    commit.output = output;
    ct_ack(ctx, item, &commit);
}

duro_orch_commit ct_commit(uint64_t execution_id, const duro_event_in *events, size_t n)
{
    duro_orch_commit commit;

    memset(&commit, 0, sizeof commit);
    commit.execution_id = execution_id;
    commit.events = events;
    commit.n_events = n;
    return commit;
}

void ct_ack(duro_ct_ctx *ctx, duro_orch_item *item, const duro_orch_commit *commit)
{
    duro_error err = {0};
    int rc = ctx->p->ops->ack_orch(ctx->p, ctx->now, item->lock_token, commit, &err);

    ck_assert_msg(rc == 0, "ack_orch of '%s' failed: %s (%s)", item->instance,
                  duro_strerror(rc), err.message);
    duro_orch_item_free(item);
}

void ct_abandon(duro_ct_ctx *ctx, duro_orch_item *item, int64_t delay_ms, int ignore_attempt)
{
    duro_error err = {0};
    int rc = ctx->p->ops->abandon_orch(ctx->p, ctx->now, item->lock_token, delay_ms,
                                       ignore_attempt, &err);

    ck_assert_msg(rc == 0, "abandon_orch failed: %s (%s)", duro_strerror(rc), err.message);
    duro_orch_item_free(item);
}

int ct_ack_rc(duro_ct_ctx *ctx, const char *token, const duro_orch_commit *commit,
              duro_error *err)
{
    memset(err, 0, sizeof *err);
    return ctx->p->ops->ack_orch(ctx->p, ctx->now, token, commit, err);
}

int ct_renew_rc(duro_ct_ctx *ctx, const char *token, int64_t extend_ms, duro_error *err)
{
    memset(err, 0, sizeof *err);
    return ctx->p->ops->renew_orch(ctx->p, ctx->now, token, extend_ms, err);
}

int ct_abandon_rc(duro_ct_ctx *ctx, const char *token, int64_t delay_ms, duro_error *err)
{
    memset(err, 0, sizeof *err);
    return ctx->p->ops->abandon_orch(ctx->p, ctx->now, token, delay_ms, 0, err);
}

void ct_enqueue_work(duro_ct_ctx *ctx, const char *instance, uint64_t activity_id,
                     const char *payload)
{
    duro_error err = {0};
    duro_work_in work = {
        .instance = instance, .execution_id = 1, .activity_id = activity_id,
        .payload = payload,
    };
    int rc = ctx->p->ops->enqueue_work(ctx->p, &work, &err);

    ck_assert_msg(rc == 0, "enqueue_work for '%s' failed: %s (%s)", instance,
                  duro_strerror(rc), err.message);
}

duro_work_item *ct_try_fetch_work(duro_ct_ctx *ctx)
{
    duro_error err = {0};
    duro_work_item *item = NULL;
    int rc = ctx->p->ops->fetch_work(ctx->p, ctx->now, DURO_CT_LOCK_MS, 0, &item, &err);

    if (rc == DURO_ENOTFOUND) {
        ck_assert_msg(item == NULL, "fetch_work returned ENOTFOUND with an item");
        return NULL;
    }
    ck_assert_msg(rc == 0, "fetch_work failed: %s (%s)", duro_strerror(rc), err.message);
    ck_assert_msg(item != NULL, "fetch_work returned 0 without an item");
    return item;
}

void ct_abandon_work(duro_ct_ctx *ctx, duro_work_item *item, int64_t delay_ms,
                     int ignore_attempt)
{
    duro_error err = {0};
    int rc = ctx->p->ops->abandon_work(ctx->p, ctx->now, item->lock_token, delay_ms,
                                       ignore_attempt, &err);

    ck_assert_msg(rc == 0, "abandon_work failed: %s (%s)", duro_strerror(rc), err.message);
    duro_work_item_free(item);
}

duro_provider *ct_attach(duro_ct_ctx *ctx)
{
    const duro_provider_factory *f = ctx->factory;
    char locator[4096];
    duro_error err = {0};
    duro_provider *b = NULL;
    int rc = f->locate(f->ud, ctx->p, locator, sizeof locator);

    ck_assert_msg(rc == 0, "locate failed: %s", duro_strerror(rc));
    rc = f->attach(f->ud, locator, &b, &err);
    ck_assert_msg(rc == 0 && b != NULL, "attach failed: %s (%s)", duro_strerror(rc),
                  err.message);
    ck_assert_int_eq(duro_provider_check(b, &err), 0);
    return b;
}

void ct_instance_info(duro_ct_ctx *ctx, const char *instance, duro_instance_info *out)
{
    duro_error err = {0};

    memset(out, 0, sizeof *out);
    int rc = ctx->p->ops->instance_info(ctx->p, instance, out, &err);
    ck_assert_msg(rc == 0, "instance_info('%s') failed: %s (%s)", instance, duro_strerror(rc),
                  err.message);
}

size_t ct_history_len(duro_ct_ctx *ctx, const char *instance, uint64_t execution_id)
{
    duro_error err = {0};
    duro_event *events = NULL;
    size_t n = 0;
    int rc = ctx->p->ops->read_history(ctx->p, instance, execution_id, &events, &n, &err);

    ck_assert_msg(rc == 0, "read_history of '%s' failed: %s (%s)", instance,
                  duro_strerror(rc), err.message);
    duro_events_free(events, n);
    return n;
}

void ct_require_management(duro_ct_ctx *ctx)
{
    const duro_provider_ops *ops = ctx->p->ops;

    ck_assert_msg((ctx->p->caps & DURO_CAP_MANAGEMENT) != 0,
                  "provider '%s' does not declare DURO_CAP_MANAGEMENT", ctx->p->name);
    ck_assert_msg(ops->list_instances != NULL && ops->list_executions != NULL &&
                      ops->execution_info != NULL && ops->list_children != NULL &&
                      ops->delete_instance != NULL && ops->delete_bulk != NULL &&
                      ops->prune != NULL && ops->queue_depths != NULL &&
                      ops->metrics != NULL,
                  "provider '%s' declares DURO_CAP_MANAGEMENT but lacks a management call",
                  ctx->p->name);
}

const char *ct_join(char **ids, size_t n, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(buf + used, size - used, "%s%s", i ? "," : "", ids[i]);

        ck_assert_int_ge(len, 0);
        ck_assert_uint_lt((size_t)len, size - used);
        used += (size_t)len;
    }
    return buf;
}

const char *ct_list_instances(duro_ct_ctx *ctx, int state_filter, char *buf, size_t size)
{
    duro_error err;
    char **ids = NULL;
    size_t n = 0;

    ck_assert_int_eq(ctx->p->ops->list_instances(ctx->p, state_filter, &ids, &n, &err), 0);
    ct_join(ids, n, buf, size);
    duro_strv_free(ids, n);
    return buf;
}

const char *ct_list_executions(duro_ct_ctx *ctx, const char *instance, char *buf, size_t size)
{
    duro_error err;
    uint64_t *ids = NULL;
    size_t n = 0, used = 0;

    ck_assert_int_eq(ctx->p->ops->list_executions(ctx->p, instance, &ids, &n, &err), 0);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(buf + used, size - used, "%s%llu", i ? "," : "",
                           (unsigned long long)ids[i]);

        ck_assert_int_ge(len, 0);
        ck_assert_uint_lt((size_t)len, size - used);
        used += (size_t)len;
    }
    free(ids);
    return buf;
}

/* ---- Barrier ------------------------------------------------------------------------------ */

struct ct_barrier {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned n;          /* threads per round */
    unsigned waiting;    /* arrived in the current round */
    unsigned long round; /* completed rounds: lets the barrier be reused at once */
};

ct_barrier *ct_barrier_new(unsigned n)
{
    ct_barrier *b = calloc(1, sizeof *b);

    if (b == NULL)
        return NULL;
    if (pthread_mutex_init(&b->mu, NULL) != 0) {
        free(b);
        return NULL;
    }
    if (pthread_cond_init(&b->cv, NULL) != 0) {
        pthread_mutex_destroy(&b->mu);
        free(b);
        return NULL;
    }
    b->n = n;
    return b;
}

void ct_barrier_wait(ct_barrier *b)
{
    pthread_mutex_lock(&b->mu);
    unsigned long round = b->round;
    if (++b->waiting == b->n) {
        b->waiting = 0;
        b->round++;
        pthread_cond_broadcast(&b->cv);
    } else {
        while (round == b->round)
            pthread_cond_wait(&b->cv, &b->mu);
    }
    pthread_mutex_unlock(&b->mu);
}

void ct_barrier_free(ct_barrier *b)
{
    if (b == NULL)
        return;
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* ---- Store dump --------------------------------------------------------------------------- */

/* Append one instance's metadata, executions, histories and children to `f`. */
static void ct_dump_instance(duro_provider *p, const char *id, FILE *f)
{
    duro_instance_info info;
    duro_error err = {0};
    uint64_t *execs = NULL;
    char **kids = NULL;
    size_t n_execs = 0, n_kids = 0;
    int rc = p->ops->instance_info(p, id, &info, &err);

    fprintf(f, "instance %s: rc %d", id, rc);
    if (rc == 0)
        fprintf(f, " name=%s version=%s parent=%s exec=%llu state=%d output=%s custom=%s/%llu"
                " created=%lld updated=%lld", info.orch_name ? info.orch_name : "(null)",
                info.orch_version ? info.orch_version : "(null)",
                info.parent_instance ? info.parent_instance : "(null)",
                (unsigned long long)info.execution_id, (int)info.state,
                info.output ? info.output : "(null)",
                info.custom_status ? info.custom_status : "(null)",
                (unsigned long long)info.custom_status_version, (long long)info.created_at_ms,
                (long long)info.updated_at_ms);
    fputc('\n', f);
    if (rc == 0)
        duro_instance_info_clear(&info);
    rc = p->ops->list_executions(p, id, &execs, &n_execs, &err);
    fprintf(f, "  executions: rc %d n %zu\n", rc, n_execs);
    for (size_t i = 0; rc == 0 && i <= n_execs; i++) {
        /* every listed execution, then the current one through execution id 0 */
        uint64_t e = i < n_execs ? execs[i] : 0;
        duro_execution_info x;
        duro_event *ev = NULL;
        size_t n_ev = 0;
        int xrc = p->ops->execution_info(p, id, e, &x, &err);

        fprintf(f, "  execution %llu: rc %d", (unsigned long long)e, xrc);
        if (xrc == 0) {
            fprintf(f, " id=%llu state=%d output=%s started=%lld completed=%lld events=%llu",
                    (unsigned long long)x.execution_id, (int)x.state,
                    x.output ? x.output : "(null)", (long long)x.started_at_ms,
                    (long long)x.completed_at_ms, (unsigned long long)x.event_count);
            duro_execution_info_clear(&x);
        }
        xrc = p->ops->read_history(p, id, e, &ev, &n_ev, &err);
        fprintf(f, "\n    history: rc %d n %zu", xrc, n_ev);
        for (size_t k = 0; k < n_ev; k++)
            fprintf(f, " [%llu %d %s]", (unsigned long long)ev[k].event_id, ev[k].kind,
                    ev[k].payload ? ev[k].payload : "(null)");
        fputc('\n', f);
        duro_events_free(ev, n_ev);
    }
    free(execs);
    rc = p->ops->list_children(p, id, &kids, &n_kids, &err);
    fprintf(f, "  children: rc %d", rc);
    for (size_t i = 0; rc == 0 && i < n_kids; i++)
        fprintf(f, " %s", kids[i]);
    fputc('\n', f);
    duro_strv_free(kids, n_kids);
}

char *ct_dump_store(duro_ct_ctx *ctx, duro_provider *p, const char *const *ids, size_t n_ids)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    duro_error err = {0};
    char **listed = NULL;
    size_t n_listed = 0;
    duro_metrics m;
    int rc;

    ck_assert_msg(f != NULL, "open_memstream failed");
    rc = p->ops->list_instances(p, 0, &listed, &n_listed, &err);
    fprintf(f, "list: rc %d", rc);
    for (size_t i = 0; rc == 0 && i < n_listed; i++)
        fprintf(f, " %s", listed[i]);
    fputc('\n', f);
    for (size_t i = 0; rc == 0 && i < n_listed; i++)
        ct_dump_instance(p, listed[i], f);
    duro_strv_free(listed, n_listed);
    for (size_t i = 0; i < n_ids; i++)
        ct_dump_instance(p, ids[i], f);
    for (int64_t later = 0; later <= DURO_CT_LOCK_MS; later += DURO_CT_LOCK_MS) {
        duro_queue_depths d;

        rc = p->ops->queue_depths(p, ctx->now + later, &d, &err);
        fprintf(f, "depths at +%lld: rc %d orch %llu work %llu delayed %llu\n",
                (long long)later, rc, (unsigned long long)d.orchestrator,
                (unsigned long long)d.worker, (unsigned long long)d.delayed);
    }
    rc = p->ops->metrics(p, &m, &err);
    fprintf(f, "metrics: rc %d instances %llu executions %llu running %llu completed %llu"
            " failed %llu can %llu events %llu\n", rc, (unsigned long long)m.instances,
            (unsigned long long)m.executions, (unsigned long long)m.running,
            (unsigned long long)m.completed, (unsigned long long)m.failed,
            (unsigned long long)m.continued_as_new, (unsigned long long)m.events);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}
