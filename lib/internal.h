/*
 * internal.h — private helpers shared by the files of libduro (not installed). Everything
 * here is prefixed duro__ and is not exported from the shared library.
 */
#ifndef DURO_INTERNAL_H
#define DURO_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "duro.h"
#include "duro-provider.h"
#include "duro-util.h"

/* Validate an identifier (instance id, name, version, event name): non-empty, at most
 * DURO_MAX_ID_BYTES, valid UTF-8, no control characters (U+0000-U+001F, U+007F). `what`
 * names it in the error message.
 * Returns 0 or DURO_EINVAL / DURO_ETOOBIG with err filled. */
int duro__check_id(const char *s, const char *what, duro_error *err);
/* Validate a payload: NULL allowed (means ""), at most DURO_MAX_PAYLOAD_BYTES. */
int duro__check_payload(const char *s, const char *what, duro_error *err);

/* 1 if `s` is valid UTF-8 (no overlongs, no surrogates), else 0. */
int duro__utf8_valid(const char *s);
/* Offset of the first byte of `s` that does not start a valid UTF-8 sequence (overlong
 * forms, surrogates and code points above U+10FFFF are invalid), or SIZE_MAX when the whole
 * string is valid. */
size_t duro__utf8_invalid_at(const char *s);

/* Parse "MAJOR.MINOR.PATCH" into a comparable number; -1 when malformed. */
int64_t duro__version_key(const char *v);

/* 64 random bits from the OS source (0 and DURO_EIO on failure). */
int duro__random_u64(uint64_t *out);

/* 1 when provider `p` stores durable values: DURO_CAP_KV and ops version 5 or later. */
int duro__provider_has_kv(const duro_provider *p);
/* 1 when `p` stores message targets and filters fetches by version (DURO_CAP_VERSION_FILTER
 * with ops version 7 and both of its callbacks). */
int duro__provider_has_version_filter(const duro_provider *p);
/* Room for a canonical version text: three numbers of at most 6 digits and two dots. */
#define DURO__VERSION_CANON_BYTES 24
/* The canonical text ("%ld.%ld.%ld", no leading zeros) of a valid MAJOR.MINOR.PATCH version
 * `v`, written to `buf` and returned; `v` itself when it is not a valid version. */
const char *duro__version_canon(const char *v, char buf[DURO__VERSION_CANON_BYTES]);

/* A client (client.c; its management calls are in manage.c). */
struct duro_client {
    duro_provider *p;
};

/* The error message and category of a failed execution's stored output, which is
 * {"category":N,"text":"message"} (anything else is its own message, category none), into
 * a malloc'ed *error. Returns 0 or DURO_ENOMEM (*error NULL). */
int duro__split_failure(const char *output, char **error, duro_error_category *category);

/* The state a client reports for a stored execution of `instance` in state `stored` with
 * stored output `output` (execution 0: the current one): TERMINATED for a Failed one that
 * duro_client_terminate ended (its output is {"what":"terminated","text":reason}),
 * SUSPENDED for a Running one whose history holds a SUSPENDED event without a RESUMED
 * after it, else SCHEDULED for a Running one whose Started event holds a scheduled start
 * later than now (one history read; a history that cannot be read, DURO_ECORRUPT, leaves
 * `stored`), else `stored`. Returns 0 or the provider's error (err
 * filled), DURO_ENOMEM. */
int duro__view_state(duro_provider *p, const char *instance, uint64_t execution,
                     duro_state stored, const char *output, duro_state *view, duro_error *err);

/* Why an activity's cancellation flag was raised. */
#define DURO__CANCEL_LOCK_LOST 1 /* its work item was deleted or its lock expired */
#define DURO__CANCEL_SHUTDOWN 2  /* the runtime is shutting down */

/* The context of one activity execution (activity.c, runtime.c). */
struct duro_activity {
    const char *instance;
    const char *name;
    uint32_t attempt;
    int cancelled;            /* atomic: DURO__CANCEL_LOCK_LOST or DURO__CANCEL_SHUTDOWN */
    int saw_cancel;           /* the activity observed its cancellation flag */
    int has_result;
    int ok;
    char *result;             /* output or error message (malloc) */
};

#endif /* DURO_INTERNAL_H */
