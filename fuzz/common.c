/*
 * common.c — the helpers of fuzz.h: the item text form (parse and print), the registry of
 * orchestrations the replay targets run, and command lines from fuzzer bytes.
 *
 * Flow's input is a script: each letter is one step, run in order, so that the fuzzer
 * reaches every kind of durable call by mutating one string (the input of a Started event
 * or a start message):
 *   a  activity "Act", awaited        r  activity under a retry policy with a timeout
 *   p  three activities, awaited all  t  a timer of 1 s
 *   w  activity raced against a timer (when_any), the loser cancelled
 *   e  wait for event "go"            s  sub-orchestration "Child" (generated id)
 *   S  sub-orchestration with an explicit id, version 2 of Child waits for event "ok"
 *   d  detached start of "Loop"       n g x  now / guid / random value
 *   u  custom status                  l  a log line
 *   k  activity, cancelled unless already done, then complete
 *   v  break the rule: a durable call after a pending observation
 *   c  continue as new with the rest of the script
 *   f  fail                           F  fail with the error of a failed activity
 * Other bytes are skipped. At the end the orchestration completes with a summary.
 */
#include <sanitizer/common_interface_defs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duro-util.h"
#include "fuzz.h"

void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    char msg[1024];
    int n;
    va_list ap;
    n = snprintf(msg, sizeof msg, "SUMMARY: fuzz check failed at %s:%d: %s: ", file, line, cond);
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof msg)
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    /* through the sanitizers' report descriptor, which libFuzzer keeps open under
     * -close_fd_mask */
    __sanitizer_report_error_summary(msg);
    abort();
}

/* ---- the orchestrations ------------------------------------------------------------------- */

#define MAX_STEPS 24

/* Append "<tag><length of v>," to the summary (lengths only: the summary stays valid UTF-8
 * whatever the values are). */
static void note(char *buf, size_t size, char tag, const char *v)
{
    size_t len = strlen(buf);
    if (len + 24 < size)
        snprintf(buf + len, size - len, "%c%zu,", tag, v ? strlen(v) : (size_t)0);
}

static int flow(duro_orch *o, const char *in, void *ud)
{
    char sum[256] = "";
    const char *p = in ? in : "";
    int steps = 0;
    (void)ud;
    for (; *p && steps < MAX_STEPS; p++, steps++) {
        char name[32];
        duro_task *t, *ts[3];
        snprintf(name, sizeof name, "step-%d", steps);
        switch (*p) {
        case 'a':
            t = duro_call_activity(o, "Act", name);
            DURO_AWAIT(o, t);
            note(sum, sizeof sum, duro_task_ok(t) ? 'a' : 'A', duro_task_value(t));
            break;
        case 'r': {
            duro_retry_policy rp = {3, DURO_BACKOFF_EXPONENTIAL, 10, 1000, 50};
            t = duro_call_activity_retry(o, "Act", name, &rp);
            DURO_AWAIT(o, t);
            note(sum, sizeof sum, duro_task_ok(t) ? 'r' : 'R', duro_task_error(t));
            break;
        }
        case 'p':
            for (int i = 0; i < 3; i++)
                ts[i] = duro_call_activity(o, "Act", name);
            DURO_AWAIT_ALL(o, ts, 3);
            for (int i = 0; i < 3; i++)
                note(sum, sizeof sum, 'p', duro_task_value(ts[i]));
            break;
        case 't':
            t = duro_timer(o, 1000);
            DURO_AWAIT(o, t);
            note(sum, sizeof sum, 't', "");
            break;
        case 'w': {
            duro_task *w;
            ts[0] = duro_call_activity(o, "Act", "slow");
            ts[1] = duro_timer(o, 500);
            w = duro_when_any(o, ts, 2);
            if (!w)
                return DURO_SUSPEND;
            duro_task_cancel(w == ts[0] ? ts[1] : ts[0]);
            note(sum, sizeof sum, w == ts[0] ? 'w' : 'W', duro_task_value(w));
            break;
        }
        case 'e':
            t = duro_wait_event(o, "go");
            DURO_AWAIT(o, t);
            note(sum, sizeof sum, 'e', duro_task_value(t));
            break;
        case 's':
            t = duro_call_sub(o, "Child", NULL, name);
            DURO_AWAIT(o, t);
            note(sum, sizeof sum, duro_task_ok(t) ? 's' : 'S', duro_task_value(t));
            break;
        case 'S':
            t = duro_call_sub(o, "Child", "fz-child", "2");
            DURO_AWAIT(o, t);
            note(sum, sizeof sum, duro_task_ok(t) ? 'c' : 'C', duro_task_error(t));
            break;
        case 'd':
            if (duro_start_detached(o, "Loop", "fz-loop", "2") != 0)
                note(sum, sizeof sum, 'D', "");
            break;
        case 'n': {
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)duro_now_ms(o));
            note(sum, sizeof sum, 'n', num);
            break;
        }
        case 'g':
            note(sum, sizeof sum, 'g', duro_new_guid(o));
            break;
        case 'x': {
            char num[32];
            snprintf(num, sizeof num, "%llu", (unsigned long long)duro_random(o));
            note(sum, sizeof sum, 'x', num);
            break;
        }
        case 'u':
            duro_set_custom_status(o, name);
            break;
        case 'l':
            duro_logf(o, "%s of %s", name, duro_orch_instance(o));
            break;
        case 'k':
            t = duro_call_activity(o, "Act", name);
            if (!duro_task_done(t)) {
                duro_task_cancel(t);
                return duro_complete(o, "cancelled");
            }
            note(sum, sizeof sum, 'k', duro_task_value(t));
            break;
        case 'v':
            t = duro_call_activity(o, "Act", name);
            if (!duro_task_done(t)) {
                duro_timer(o, 1);
                return DURO_SUSPEND;
            }
            break;
        case 'c':
            return duro_continue_as_new(o, p + 1);
        case 'f':
            return duro_fail(o, "asked to fail");
        case 'F':
            t = duro_call_activity(o, "Act", name);
            DURO_AWAIT(o, t);
            if (!duro_task_ok(t))
                return duro_failf(o, "activity failed: %s", duro_task_error(t));
            break;
        default:
            break;
        }
    }
    return duro_completef(o, "done:%s", sum);
}

/* Child 1.0.0: one activity. */
static int child1(duro_orch *o, const char *in, void *ud)
{
    duro_task *t = duro_call_activity(o, "Act", in ? in : "");
    (void)ud;
    DURO_AWAIT(o, t);
    if (!duro_task_ok(t))
        return duro_fail(o, duro_task_error(t));
    return duro_completef(o, "child:%zu", strlen(duro_task_value(t)));
}

/* Child 2.0.0: event "ok" raced against a timer. */
static int child2(duro_orch *o, const char *in, void *ud)
{
    duro_task *ts[2], *w;
    (void)in;
    (void)ud;
    ts[0] = duro_wait_event(o, "ok");
    ts[1] = duro_timer(o, 100);
    w = duro_when_any(o, ts, 2);
    if (!w)
        return DURO_SUSPEND;
    if (w == ts[1]) {
        duro_task_cancel(ts[0]);
        return duro_fail(o, "no ok in time");
    }
    return duro_complete(o, duro_task_value(w));
}

/* Loop 1.0.0: wait for "tick", then continue as new with the input counted down. */
static int loop(duro_orch *o, const char *in, void *ud)
{
    long n = in ? strtol(in, NULL, 10) : 0;
    char next[24];
    duro_task *t;
    (void)ud;
    if (n <= 0)
        return duro_complete(o, "looped");
    t = duro_wait_event(o, "tick");
    DURO_AWAIT(o, t);
    snprintf(next, sizeof next, "%ld", n > 100 ? 100 : n - 1);
    return duro_continue_as_new(o, next);
}

static int act(duro_activity *a, const char *in, void *ud)
{
    (void)ud;
    return duro_activity_ok(a, in);
}

duro_registry *fz_registry(void)
{
    duro_registry *r = duro_registry_new();
    if (!r)
        return NULL;
    if (duro_register_orchestration(r, "Flow", "1.0.0", flow, NULL) ||
        duro_register_orchestration(r, "Child", "1.0.0", child1, NULL) ||
        duro_register_orchestration(r, "Child", "2.0.0", child2, NULL) ||
        duro_register_orchestration(r, "Loop", "1.0.0", loop, NULL) ||
        duro_register_activity(r, "Act", act, NULL)) {
        duro_registry_free(r);
        return NULL;
    }
    return r;
}

/* ---- the item text form --------------------------------------------------------------- */

/* Parse an unsigned decimal at *s (skipping blanks first) and advance past it. */
static uint64_t take_u64(char **s)
{
    char *end;
    unsigned long long v;
    while (**s == ' ')
        (*s)++;
    v = strtoull(*s, &end, 10);
    *s = end;
    if (**s == ' ')
        (*s)++;
    return (uint64_t)v;
}

static char *payload_of(const char *s)
{
    return strcmp(s, "(null)") == 0 ? NULL : duro__strdup(s);
}

/* Append to a growable array of `elem`-byte elements; NULL when out of memory. */
static void *push(void **arr, size_t *n, size_t *cap, size_t elem)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        void *g = realloc(*arr, c * elem);
        if (!g)
            return NULL;
        *arr = g;
        *cap = c;
    }
    memset((char *)*arr + *n * elem, 0, elem);
    return (char *)*arr + (*n)++ * elem;
}

duro_orch_item *fz_item_parse(const uint8_t *data, size_t size)
{
    duro_orch_item *it = calloc(1, sizeof *it);
    char *text = malloc(size + 1), *line, *next;
    size_t cap_h = 0, cap_m = 0;
    int have_state = 0, ok = 1;
    if (!it || !text) {
        free(it);
        free(text);
        return NULL;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    it->instance = duro__strdup(FZ_INSTANCE);
    memcpy(it->lock_token, "00000000000000000000000000000000", 33);
    it->attempt = 1;
    it->execution_id = 1;
    for (line = text; ok && line; line = next) {
        char *s;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "item ", 5) == 0) {
            s = line + 5;
            it->state = (duro_state)(take_u64(&s) % 5);
            it->execution_id = take_u64(&s) & INT64_MAX; /* as an SQL integer */
            it->attempt = (uint32_t)take_u64(&s);
            have_state = 1;
        } else if (strncmp(line, "name ", 5) == 0) {
            free(it->orch_name);
            ok = (it->orch_name = duro__strdup(line + 5)) != NULL;
        } else if (strncmp(line, "status ", 7) == 0) {
            free(it->custom_status);
            ok = (it->custom_status = duro__strdup(line + 7)) != NULL;
        } else if (strncmp(line, "error ", 6) == 0) {
            free(it->history_error);
            ok = (it->history_error = duro__strdup(line + 6)) != NULL;
        } else if (line[0] == 'h' && (line[1] == ' ' || line[1] == '@')) {
            duro_event *e = push((void **)&it->history, &it->n_history, &cap_h, sizeof *e);
            if (!e)
                break;
            s = line + 2;
            e->event_id = line[1] == '@' ? take_u64(&s) : it->n_history;
            e->kind = (int)(take_u64(&s) & 0x7fffffff);
            e->payload = payload_of(s);
        } else if (line[0] == 'm' && line[1] == ' ') {
            duro_stored_msg *m = push((void **)&it->msgs, &it->n_msgs, &cap_m, sizeof *m);
            if (!m)
                break;
            s = line + 2;
            m->id = (int64_t)it->n_msgs;
            m->kind = (duro_msg_kind)(take_u64(&s) & 0x7fffffff);
            m->execution_id = take_u64(&s);
            m->payload = payload_of(s);
        }
    }
    free(text);
    if (!have_state)
        it->state = it->n_history ? DURO_STATE_RUNNING : DURO_STATE_NOT_FOUND;
    return it;
}

void fz_item_print(FILE *out, const duro_orch_item *it)
{
    size_t i;
    fprintf(out, "item %d %llu %u\n", (int)it->state, (unsigned long long)it->execution_id,
            it->attempt);
    if (it->orch_name)
        fprintf(out, "name %s\n", it->orch_name);
    if (it->custom_status)
        fprintf(out, "status %s\n", it->custom_status);
    if (it->history_error)
        fprintf(out, "error %s\n", it->history_error);
    for (i = 0; i < it->n_history; i++) {
        const duro_event *e = &it->history[i];
        if (e->event_id == i + 1)
            fprintf(out, "h %d %s\n", e->kind, e->payload ? e->payload : "(null)");
        else
            fprintf(out, "h@%llu %d %s\n", (unsigned long long)e->event_id, e->kind,
                    e->payload ? e->payload : "(null)");
    }
    for (i = 0; i < it->n_msgs; i++)
        fprintf(out, "m %d %llu %s\n", (int)it->msgs[i].kind,
                (unsigned long long)it->msgs[i].execution_id,
                it->msgs[i].payload ? it->msgs[i].payload : "(null)");
}

duro_orch_item *fz_item_after(const duro_orch_item *it, const duro_orch_commit *c)
{
    duro_orch_item *n = calloc(1, sizeof *n);
    int same = c->execution_id == (it->execution_id ? it->execution_id : 1);
    size_t i, k = 0, total = (same ? it->n_history : 0) + c->n_events;
    if (!n)
        return NULL;
    n->instance = duro__strdup(it->instance);
    n->attempt = 1;
    n->execution_id = c->execution_id;
    n->state = c->state ? c->state : same ? it->state : DURO_STATE_RUNNING;
    if (c->orch_name || it->orch_name)
        n->orch_name = duro__strdup(c->orch_name ? c->orch_name : it->orch_name);
    n->custom_status = c->set_custom_status ? (c->custom_status ? duro__strdup(c->custom_status)
                                                                : NULL)
                       : it->custom_status ? duro__strdup(it->custom_status)
                                           : NULL;
    n->history = calloc(total ? total : 1, sizeof *n->history);
    if (!n->instance || ((c->orch_name || it->orch_name) && !n->orch_name) || !n->history) {
        duro_orch_item_free(n);
        return NULL;
    }
    for (i = 0; same && i < it->n_history; i++, k++) {
        n->history[k].event_id = it->history[i].event_id;
        n->history[k].kind = it->history[i].kind;
        n->history[k].payload = it->history[i].payload ? duro__strdup(it->history[i].payload)
                                                       : NULL;
    }
    for (i = 0; i < c->n_events; i++, k++) {
        n->history[k].event_id = c->events[i].event_id;
        n->history[k].kind = c->events[i].kind;
        n->history[k].payload = duro__strdup(c->events[i].payload);
    }
    n->n_history = total;
    return n;
}

/* ---- command lines -------------------------------------------------------------------- */

int fz_argv(const uint8_t *data, size_t size, const char *prog, int max, char ***argv,
            char **buf)
{
    char *b = malloc(size + 1), **v = calloc((size_t)max + 2, sizeof *v);
    int argc = 1;
    size_t i, start = 0;
    if (!b || !v) {
        free(b);
        free(v);
        return -1;
    }
    memcpy(b, data, size);
    b[size] = '\0';
    v[0] = (char *)prog;
    for (i = 0; i <= size && argc <= max; i++) {
        if (i == size || b[i] == '\n') {
            b[i] = '\0';
            if (i > start || i < size)
                v[argc++] = b + start;
            start = i + 1;
        }
    }
    v[argc] = NULL;
    *argv = v;
    *buf = b;
    return argc;
}
