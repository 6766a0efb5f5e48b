/*
 * codec.h — how libduro encodes history events, queue messages and work items (private).
 *
 * Every record is one compact JSON object (jansson). The provider stores the text opaquely
 * next to the indexed fields (kind, ids); `kind` is stored in the provider's own column and
 * is NOT repeated in the JSON. Keys used (each kind uses a subset):
 *
 *   name, version, input, text (output / result / data / message / reason / value),
 *   category (duro_error_category), src (the event this one refers to), attempt,
 *   at (milliseconds: fire time or recorded time), instance (child / target instance),
 *   parent, pexec, pid (parent instance, execution, scheduling event id),
 *   carried ([[name, data], ...] events carried over by continue-as-new),
 *   kv ({key: value, ...} the durable values an execution starts with),
 *   retry ({max, backoff, base, cap, timeout}), what ("now" | "guid" | "random"),
 *   tag (the routing tag of an activity: every attempt is enqueued with it),
 *   session (the session of an activity: every attempt is enqueued in it).
 *
 * History event kinds (duro_event_kind of duro.h, without the DURO_EVENT_ prefix) and their
 * fields (src always points at an earlier event id):
 *   ORCH_STARTED   name version input [parent pexec pid] [carried] [kv] [at] always event 1;
 *                  at = scheduled start: no code runs before it; kv = the values carried
 *                  over by continue-as-new
 *   ORCH_COMPLETED text=output                                          terminal
 *   ORCH_FAILED    category text=message                                terminal
 *   ORCH_CONTINUED text=next input [version]                            terminal; version:
 *                  the next execution's (duro_continue_as_new_version)
 *   CANCEL_REQUESTED text=reason
 *   ACTIVITY_SCHEDULED name input [retry] [tag|session] decision; dispatches attempt 1 (activity id =
 *                                            this event's id)
 *   ACTIVITY_RETRY src=task attempt at       backoff before attempt `attempt`
 *   ACTIVITY_DISPATCHED src=task attempt          attempt >= 2 (activity id = this event's id)
 *   ACTIVITY_COMPLETED src=dispatch text=result
 *   ACTIVITY_FAILED src=dispatch category text=message
 *   ACTIVITY_TIMEOUT src=dispatch              the attempt exceeded the policy timeout
 *   ACTIVITY_CANCELLED src=task text=reason      breadcrumb: cancellation sent once
 *   TIMER_CREATED  at=fire time              decision
 *   TIMER_FIRED    src=timer
 *   EXTERNAL_WAIT  name                      decision
 *   EXTERNAL_RAISED name text=data            buffered FIFO per name
 *   SUB_SCHEDULED  name instance input [version]  decision; version: the child is pinned to it
 *   SUB_COMPLETED  src=sub text=result
 *   SUB_FAILED     src=sub category text=message
 *   SUB_CANCELLED  src=sub text=reason       breadcrumb
 *   DETACHED       name instance input       decision
 *   VALUE          what text=value           decision (now / guid / random)
 *   ORCH_TERMINATED text=reason              terminal (stored output: what="terminated" text)
 *   SUSPENDED      text=reason               no code runs until the next RESUMED
 *   RESUMED        text=reason
 *   VALUE_SET      name=key text=value       decision (duro_set_value)
 *   VALUE_CLEARED  name=key                  decision (duro_clear_value)
 *   VALUES_CLEARED                           decision (duro_clear_values)
 *   VALUE_READ     instance name=key what [text=value]  decision (duro_read_value): what is
 *                  "set" (text = the value read), "unset" (instance exists, key not set) or
 *                  "no_instance"; replay returns it without reading the store
 *
 * Compatibility: kinds and keys are only ever added, never renumbered or renamed, and every
 * key a newer version adds is optional, so every history an older libduro wrote decodes and
 * replays unchanged (a SUB_SCHEDULED without version is an unpinned child, an ORCH_CONTINUED
 * without one continued onto the latest version). A history holding a kind this libduro
 * does not know (one newer than it) is unreadable for it: the turn goes to the poison path.
 *
 * Message kinds are duro_msg_kind (duro-provider.h):
 *   START          name [version] input [parent pexec pid] [at=scheduled start]
 *   CONTINUE_AS_NEW name [version] input [carried] [kv]   (no version: the latest)
 *   ACTIVITY_DONE  src=dispatch (ok: text=result | category text=message), execution in the
 *                  indexed field
 *   TIMER_FIRED    src what ("timer" | "retry" | "timeout" | "start": a scheduled start)
 *   EVENT          name text=data
 *   CHILD_DONE     src=sub (ok: text=result | category text=message)
 *   CANCEL         text=reason
 *   TERMINATE, SUSPEND, RESUME  text=reason
 * Work item payload: name input attempt.
 * Every message and work item ends with `due` (ms: when it is due, on the sender's clock),
 * its LAST member, which the runtime's queue-wait metric reads from the end of the text
 * (metrics.c); decoding ignores it.
 */
#ifndef DURO_CODEC_H
#define DURO_CODEC_H

#include <jansson.h>
#include <stdint.h>

#include "duro.h"

/* The event kinds are duro_event_kind (duro.h); the highest one: */
#define DURO__EVENT_KIND_MAX DURO_EVENT_VALUE_READ

/* A decoded record (event, message or work item). String fields point into `json`, which
 * the record owns; absent fields are NULL / 0. */
typedef struct duro__rec {
    uint64_t id;         /* event id, or provider queue id of a message */
    int kind;
    uint64_t execution;  /* messages: execution the message belongs to (0 = current) */
    json_t *json;
    const char *name, *version, *input, *text, *instance, *parent, *what, *tag,
        *session;
    uint64_t src, pexec, pid;
    uint32_t attempt;
    int64_t at;
    int category;
    int ok;              /* ACTIVITY_DONE / CHILD_DONE: 1 success, 0 failure */
    int has_retry;
    duro_retry_policy retry;
    json_t *carried;     /* borrowed array of [name, data] pairs, or NULL */
    json_t *kv;          /* borrowed object {key: value} of durable values, or NULL */
} duro__rec;

/* Start building a record of `kind`: returns a new JSON object, NULL when out of memory. */
json_t *duro__rec_new(void);
/* Add a string field; a NULL value adds nothing. Returns 0, DURO_ENOMEM, or DURO_EINVAL
 * when the value is not valid UTF-8. */
int duro__rec_str(json_t *o, const char *key, const char *value);
int duro__rec_int(json_t *o, const char *key, int64_t value);
int duro__rec_retry(json_t *o, const duro_retry_policy *p);
/* Take ownership of `json` and fill `r` from it. Returns 0 or DURO_ECORRUPT (wrong shape);
 * on failure `json` is released. */
int duro__rec_from_json(json_t *json, int kind, uint64_t id, duro__rec *r);
/* Parse stored text. Returns 0, DURO_ECORRUPT (not a record) or DURO_ENOMEM (the parser ran
 * out of memory: the text may be fine) with a message in err. */
int duro__rec_decode(const char *text, int kind, uint64_t id, duro__rec *r, duro_error *err);
/* Compact JSON text of `j` (malloc), NULL when `j` is NULL or out of memory: never a text
 * with a part missing. Every stored or sent record is encoded with it. */
char *duro__json_text(const json_t *j);
/* Compact JSON text of a record (malloc), NULL when out of memory. */
char *duro__rec_encode(const duro__rec *r);
void duro__rec_clear(duro__rec *r);

/* Name of an event kind, "Unknown" otherwise. */
const char *duro__ev_kind_name(int kind);

#endif /* DURO_CODEC_H */
