/*
 * codec.c — JSON encoding of history events, queue messages and work items (see codec.h
 * for the format). Decoded records borrow their strings from the owned JSON object, so a
 * decode costs one parse and no copies.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "internal.h"

json_t *duro__rec_new(void)
{
    return json_object();
}

int duro__rec_str(json_t *o, const char *key, const char *value)
{
    json_t *s;
    if (!value)
        return 0;
    s = json_string(value);
    if (!s)
        return duro__utf8_valid(value) ? DURO_ENOMEM : DURO_EINVAL;
    if (json_object_set_new(o, key, s) != 0)
        return DURO_ENOMEM;
    return 0;
}

int duro__rec_int(json_t *o, const char *key, int64_t value)
{
    json_t *i = json_integer((json_int_t)value);
    if (!i || json_object_set_new(o, key, i) != 0)
        return DURO_ENOMEM;
    return 0;
}

int duro__rec_retry(json_t *o, const duro_retry_policy *p)
{
    json_t *r = json_pack("{sI sI sI sI sI}", "max", (json_int_t)p->max_attempts, "backoff",
                          (json_int_t)p->backoff, "base", (json_int_t)p->base_ms, "cap",
                          (json_int_t)p->max_ms, "timeout", (json_int_t)p->timeout_ms);
    if (!r || json_object_set_new(o, "retry", r) != 0)
        return DURO_ENOMEM;
    return 0;
}

static const char *get_str(json_t *o, const char *key, int *bad)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return NULL;
    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

/* A non-negative integer field of at most `max` (the range of the field it is stored in:
 * a larger number would be silently wrapped). */
static int64_t get_int(json_t *o, const char *key, int64_t max, int *bad)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
        *bad = 1;
        return 0;
    }
    return json_integer_value(v);
}

int duro__rec_from_json(json_t *json, int kind, uint64_t id, duro__rec *r)
{
    int bad = 0;
    json_t *v;
    memset(r, 0, sizeof *r);
    if (!json_is_object(json)) {
        json_decref(json);
        return DURO_ECORRUPT;
    }
    r->json = json;
    r->kind = kind;
    r->id = id;
    r->name = get_str(json, "name", &bad);
    r->version = get_str(json, "version", &bad);
    r->input = get_str(json, "input", &bad);
    r->text = get_str(json, "text", &bad);
    r->instance = get_str(json, "instance", &bad);
    r->parent = get_str(json, "parent", &bad);
    r->what = get_str(json, "what", &bad);
    r->tag = get_str(json, "tag", &bad);
    r->session = get_str(json, "session", &bad);
    r->src = (uint64_t)get_int(json, "src", INT64_MAX, &bad);
    r->pexec = (uint64_t)get_int(json, "pexec", INT64_MAX, &bad);
    r->pid = (uint64_t)get_int(json, "pid", INT64_MAX, &bad);
    r->attempt = (uint32_t)get_int(json, "attempt", UINT32_MAX, &bad);
    r->at = get_int(json, "at", INT64_MAX, &bad);
    r->category = (int)get_int(json, "category", INT_MAX, &bad);
    r->ok = (int)get_int(json, "ok", INT_MAX, &bad);
    v = json_object_get(json, "retry");
    if (v) {
        if (!json_is_object(v))
            bad = 1;
        else {
            r->has_retry = 1;
            r->retry.max_attempts = (uint32_t)get_int(v, "max", UINT32_MAX, &bad);
            r->retry.backoff = (duro_backoff)get_int(v, "backoff", INT_MAX, &bad);
            r->retry.base_ms = get_int(v, "base", INT64_MAX, &bad);
            r->retry.max_ms = get_int(v, "cap", INT64_MAX, &bad);
            r->retry.timeout_ms = get_int(v, "timeout", INT64_MAX, &bad);
            if (r->retry.max_attempts < 1)
                bad = 1;
        }
    }
    v = json_object_get(json, "carried");
    if (v) {
        size_t i;
        json_t *pair;
        if (!json_is_array(v))
            bad = 1;
        else
            json_array_foreach(v, i, pair) {
                if (!json_is_array(pair) || json_array_size(pair) != 2 ||
                    !json_is_string(json_array_get(pair, 0)) ||
                    !json_is_string(json_array_get(pair, 1)))
                    bad = 1;
            }
        r->carried = v;
    }
    v = json_object_get(json, "kv");
    if (v) {
        const char *key;
        json_t *val;
        if (!json_is_object(v))
            bad = 1;
        else
            json_object_foreach(v, key, val) {
                if (!json_is_string(val))
                    bad = 1;
            }
        r->kv = v;
    }
    if (r->category < 0 || r->category > DURO_CAT_POISON)
        bad = 1;
    if (bad) {
        duro__rec_clear(r);
        return DURO_ECORRUPT;
    }
    return 0;
}

int duro__rec_decode(const char *text, int kind, uint64_t id, duro__rec *r, duro_error *err)
{
    json_error_t je;
    json_t *j;
    if (!text)
        return duro_error_set(err, DURO_ECORRUPT, 0, "record %llu (kind %d) has no payload",
                              (unsigned long long)id, kind);
    j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    /* jansson reports an allocation failure inside the text as a syntax error (and one of
     * its reader's buffer with no text at all): a text that parses at the second try was
     * not corrupt, so a failed parse is repeated once before the record is called corrupt */
    if (!j && (j = json_loads(text, JSON_REJECT_DUPLICATES, &je)) == NULL &&
        (json_error_code(&je) == json_error_out_of_memory || je.text[0] == '\0'))
        return duro_error_set(err, DURO_ENOMEM, 1, "record %llu (kind %d): out of memory",
                              (unsigned long long)id, kind);
    if (!j)
        return duro_error_set(err, DURO_ECORRUPT, 0, "record %llu (kind %d) is not JSON: %s",
                              (unsigned long long)id, kind, je.text);
    if (duro__rec_from_json(j, kind, id, r) != 0)
        return duro_error_set(err, DURO_ECORRUPT, 0,
                              "record %llu (kind %d) has fields of the wrong type",
                              (unsigned long long)id, kind);
    return 0;
}

char *duro__json_text(const json_t *j)
{
    /* not json_dumps: out of memory it may drop an object key and still return text (it
     * ignores a failed append of a key), which would be stored as a corrupt record. Dumping
     * into a buffer of the measured size appends without allocating. */
    size_t need = j ? json_dumpb(j, NULL, 0, JSON_COMPACT) : 0;
    char *text = need ? malloc(need + 1) : NULL;
    if (text && json_dumpb(j, text, need, JSON_COMPACT) != need) {
        free(text);
        return NULL;
    }
    if (text)
        text[need] = '\0';
    return text;
}

char *duro__rec_encode(const duro__rec *r)
{
    return duro__json_text(r->json);
}

void duro__rec_clear(duro__rec *r)
{
    if (r->json)
        json_decref(r->json);
    memset(r, 0, sizeof *r);
}

const char *duro__ev_kind_name(int kind)
{
    static const char *const names[] = {
        "Unknown", "OrchestrationStarted", "OrchestrationCompleted", "OrchestrationFailed",
        "OrchestrationContinuedAsNew", "OrchestrationCancelRequested", "ActivityScheduled",
        "ActivityRetryScheduled", "ActivityDispatched", "ActivityCompleted", "ActivityFailed",
        "ActivityTimedOut", "ActivityCancelled", "TimerCreated", "TimerFired",
        "ExternalEventWait", "ExternalEventRaised", "SubOrchestrationScheduled",
        "SubOrchestrationCompleted", "SubOrchestrationFailed", "SubOrchestrationCancelled",
        "OrchestrationDetached", "ValueRecorded", "OrchestrationTerminated",
        "OrchestrationSuspended", "OrchestrationResumed", "ValueSet", "ValueCleared",
        "ValuesCleared", "ValueRead"};
    if (kind < 1 || kind > DURO__EVENT_KIND_MAX)
        return names[0];
    return names[kind];
}

const char *duro_event_kind_name(int kind)
{
    return duro__ev_kind_name(kind);
}
