/*
 * fuzz-codec.c — libFuzzer target: the record codec (lib/codec.c) that reads and writes
 * every stored history event, queue message and work item.
 *
 * The input is "KIND TEXT": a decimal record kind, one space, and the stored text (the rest
 * of the input; without a leading number the whole input is the text, kind 0). Properties:
 *  1. duro__rec_decode either fails with DURO_ECORRUPT and a message, or yields a record of
 *     that kind and id whose every integer field equals the stored number (nothing is
 *     silently truncated or wrapped);
 *  2. duro__rec_encode of a decoded record decodes again to the same fields and encodes to
 *     the same text;
 *  3. the record rebuilt field by field with the builders the engine uses (duro__rec_str,
 *     _int, _retry) decodes to the same fields;
 *  4. duro__rec_str accepts the text as a value exactly when duro__utf8_valid does, and
 *     duro__ev_kind_name names every kind.
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fuzz.h"
#include "internal.h"

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_same(const duro__rec *a, const duro__rec *b, const char *what)
{
    FZ_CHECK(a->kind == b->kind && a->id == b->id, "%s: kind or id differs", what);
    FZ_CHECK(same_str(a->name, b->name) && same_str(a->version, b->version) &&
                 same_str(a->input, b->input) && same_str(a->text, b->text) &&
                 same_str(a->instance, b->instance) && same_str(a->parent, b->parent) &&
                 same_str(a->what, b->what),
             "%s: a string field differs", what);
    FZ_CHECK(a->src == b->src && a->pexec == b->pexec && a->pid == b->pid &&
                 a->attempt == b->attempt && a->at == b->at && a->category == b->category &&
                 a->ok == b->ok,
             "%s: an integer field differs", what);
    FZ_CHECK(a->has_retry == b->has_retry &&
                 (!a->has_retry ||
                  (a->retry.max_attempts == b->retry.max_attempts &&
                   a->retry.backoff == b->retry.backoff && a->retry.base_ms == b->retry.base_ms &&
                   a->retry.max_ms == b->retry.max_ms &&
                   a->retry.timeout_ms == b->retry.timeout_ms)),
             "%s: the retry policy differs", what);
    FZ_CHECK((!a->carried && !b->carried) ||
                 (a->carried && b->carried && json_equal(a->carried, b->carried)),
             "%s: the carried events differ", what);
}

/* The stored number under `key` of `o` (which must be an integer when present) equals
 * `decoded`. */
static void check_int(json_t *o, const char *key, int64_t decoded)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return;
    FZ_CHECK(json_is_integer(v) && json_integer_value(v) == decoded,
             "field %s: stored %lld decodes as %lld", key,
             (long long)(json_is_integer(v) ? json_integer_value(v) : -1), (long long)decoded);
}

static void check_exact(const duro__rec *r)
{
    json_t *j = r->json, *p = json_object_get(j, "retry");
    check_int(j, "src", (int64_t)r->src);
    check_int(j, "pexec", (int64_t)r->pexec);
    check_int(j, "pid", (int64_t)r->pid);
    check_int(j, "attempt", (int64_t)r->attempt);
    check_int(j, "at", r->at);
    check_int(j, "category", r->category);
    check_int(j, "ok", r->ok);
    if (p) {
        check_int(p, "max", (int64_t)r->retry.max_attempts);
        check_int(p, "backoff", (int64_t)r->retry.backoff);
        check_int(p, "base", r->retry.base_ms);
        check_int(p, "cap", r->retry.max_ms);
        check_int(p, "timeout", r->retry.timeout_ms);
    }
}

/* Rebuild `r` with the engine's builders: every string and present integer field. */
static json_t *rebuild(const duro__rec *r)
{
    static const char *const ints[] = {"src", "pexec", "pid", "attempt", "at", "category",
                                       "ok"};
    const int64_t vals[] = {(int64_t)r->src, (int64_t)r->pexec, (int64_t)r->pid,
                            (int64_t)r->attempt, r->at, r->category, r->ok};
    json_t *j = duro__rec_new();
    size_t i;
    FZ_CHECK(j != NULL, "out of memory");
    FZ_CHECK(duro__rec_str(j, "name", r->name) == 0 &&
                 duro__rec_str(j, "version", r->version) == 0 &&
                 duro__rec_str(j, "input", r->input) == 0 &&
                 duro__rec_str(j, "text", r->text) == 0 &&
                 duro__rec_str(j, "instance", r->instance) == 0 &&
                 duro__rec_str(j, "parent", r->parent) == 0 &&
                 duro__rec_str(j, "what", r->what) == 0,
             "a decoded string does not build");
    for (i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (json_object_get(r->json, ints[i]))
            FZ_CHECK(duro__rec_int(j, ints[i], vals[i]) == 0, "integer %s does not build",
                     ints[i]);
    if (r->has_retry)
        FZ_CHECK(duro__rec_retry(j, &r->retry) == 0, "retry policy does not build");
    if (r->carried)
        FZ_CHECK(json_object_set(j, "carried", r->carried) == 0, "out of memory");
    return j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *text, *end;
    long kind;
    duro__rec r, r2, r3;
    duro_error err = {0};
    char *enc, *enc2;
    int rc;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    kind = strtol(buf, &end, 10);
    if (end == buf || *end != ' ' || kind < -1000000 || kind > 1000000) {
        kind = 0;
        text = buf;
    } else
        text = end + 1;

    FZ_CHECK(duro__ev_kind_name((int)kind) != NULL, "kind %ld has no name", kind);
    {
        json_t *o = duro__rec_new();
        rc = duro__rec_str(o, "v", text);
        FZ_CHECK(rc == (duro__utf8_valid(text) ? 0 : DURO_EINVAL),
                 "duro__rec_str returned %d for text that duro__utf8_valid calls %s", rc,
                 duro__utf8_valid(text) ? "valid" : "invalid");
        json_decref(o);
    }

    rc = duro__rec_decode(text, (int)kind, 7, &r, &err);
    if (rc != 0) {
        FZ_CHECK(rc == DURO_ECORRUPT && err.code == DURO_ECORRUPT && err.message[0],
                 "decode failed with %d and no message", rc);
        free(buf);
        return 0;
    }
    FZ_CHECK(r.kind == (int)kind && r.id == 7, "decode changed kind or id");
    check_exact(&r);

    enc = duro__rec_encode(&r);
    FZ_CHECK(enc != NULL, "encode failed");
    FZ_CHECK(duro__rec_decode(enc, (int)kind, 7, &r2, &err) == 0, "re-decode failed: %s",
             err.message);
    check_same(&r, &r2, "encode round trip");
    enc2 = duro__rec_encode(&r2);
    FZ_CHECK(enc2 && strcmp(enc, enc2) == 0, "encoding is not stable: %s vs %s", enc,
             enc2 ? enc2 : "(null)");

    FZ_CHECK(duro__rec_from_json(rebuild(&r), (int)kind, 7, &r3) == 0,
             "the rebuilt record does not decode");
    check_same(&r, &r3, "rebuilt record");

    free(enc);
    free(enc2);
    duro__rec_clear(&r);
    duro__rec_clear(&r2);
    duro__rec_clear(&r3);
    free(buf);
    return 0;
}
