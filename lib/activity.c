/*
 * activity.c — the activity-side API: results, identity, attempt and cancellation flag.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "internal.h"

static int set_result(duro_activity *a, int ok, char *text)
{
    free(a->result);
    a->result = text;
    a->ok = ok;
    a->has_result = 1;
    return text ? 0 : DURO_ENOMEM;
}

int duro_activity_okf(duro_activity *a, const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    s = duro__vasprintf(fmt, ap);
    va_end(ap);
    return set_result(a, 1, s);
}

int duro_activity_ok(duro_activity *a, const char *output)
{
    return set_result(a, 1, duro__strdup(output));
}

int duro_activity_fail(duro_activity *a, const char *message)
{
    return set_result(a, 0, duro__strdup(message));
}

int duro_activity_failf(duro_activity *a, const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    s = duro__vasprintf(fmt, ap);
    va_end(ap);
    return set_result(a, 0, s);
}

const char *duro_activity_instance(const duro_activity *a)
{
    return a->instance;
}

const char *duro_activity_name(const duro_activity *a)
{
    return a->name;
}

uint32_t duro_activity_attempt(const duro_activity *a)
{
    return a->attempt;
}

int duro_activity_cancelled(const duro_activity *a)
{
    int c = __atomic_load_n(&a->cancelled, __ATOMIC_ACQUIRE);
    if (c)
        ((duro_activity *)a)->saw_cancel = 1;
    return c != 0;
}
