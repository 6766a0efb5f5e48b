/*
 * error.c — error codes, their messages and macro names, and the duro_error filler used by
 * libduro and by every provider.
 */
#include <stdarg.h>
#include <stdio.h>

#include "duro-common.h"

int duro_error_set(duro_error *err, int code, int retryable, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        err->retryable = retryable;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *duro_strerror(int code)
{
    switch (code) {
    case DURO_OK: return "success";
    case DURO_ENOMEM: return "out of memory";
    case DURO_EINVAL: return "invalid argument";
    case DURO_ENOTFOUND: return "not found";
    case DURO_EEXIST: return "already exists";
    case DURO_ELOCK: return "lock token unknown, expired or stolen";
    case DURO_EBUSY: return "storage busy";
    case DURO_ECORRUPT: return "stored data is corrupt";
    case DURO_ECONSTRAINT: return "constraint violated";
    case DURO_EIO: return "I/O or connection failure";
    case DURO_ETIMEDOUT: return "timed out";
    case DURO_ERUNNING: return "instance is still running";
    case DURO_ECHILD: return "instance is a sub-orchestration";
    case DURO_ENOTSUP: return "not supported by this provider";
    case DURO_ENONDET: return "nondeterminism detected";
    case DURO_EUNREGISTERED: return "not registered";
    case DURO_ESHUTDOWN: return "runtime is shutting down";
    case DURO_ETOOBIG: return "too big";
    case DURO_ESTATE: return "not allowed in the current state";
    case DURO_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}

const char *duro_err_name(int code)
{
    switch (code) {
    case DURO_OK: return "DURO_OK";
    case DURO_ENOMEM: return "DURO_ENOMEM";
    case DURO_EINVAL: return "DURO_EINVAL";
    case DURO_ENOTFOUND: return "DURO_ENOTFOUND";
    case DURO_EEXIST: return "DURO_EEXIST";
    case DURO_ELOCK: return "DURO_ELOCK";
    case DURO_EBUSY: return "DURO_EBUSY";
    case DURO_ECORRUPT: return "DURO_ECORRUPT";
    case DURO_ECONSTRAINT: return "DURO_ECONSTRAINT";
    case DURO_EIO: return "DURO_EIO";
    case DURO_ETIMEDOUT: return "DURO_ETIMEDOUT";
    case DURO_ERUNNING: return "DURO_ERUNNING";
    case DURO_ECHILD: return "DURO_ECHILD";
    case DURO_ENOTSUP: return "DURO_ENOTSUP";
    case DURO_ENONDET: return "DURO_ENONDET";
    case DURO_EUNREGISTERED: return "DURO_EUNREGISTERED";
    case DURO_ESHUTDOWN: return "DURO_ESHUTDOWN";
    case DURO_ETOOBIG: return "DURO_ETOOBIG";
    case DURO_ESTATE: return "DURO_ESTATE";
    case DURO_EINTERNAL: return "DURO_EINTERNAL";
    default: return "DURO_E?";
    }
}
