/*
 * broken-provider.h — deliberately broken providers that prove the conformance suite has
 * teeth (tests/test-teeth.c).
 *
 * A broken provider wraps a real one (a fresh in-memory SQLite store per create) and
 * forwards every call, except that it violates ONE rule of the provider contract, chosen by
 * name: e.g. "cancel-not-applied" drops the cancel list of every ack. Rule "none" forwards
 * everything unchanged and must pass the whole suite, so every failure seen with another
 * rule is caused by that rule alone.
 */
#ifndef DURO_TESTS_BROKEN_PROVIDER_H
#define DURO_TESTS_BROKEN_PROVIDER_H

#include <stddef.h>

#include "duro-providertest.h"

/* One breakable rule. */
typedef struct broken_rule {
    const char *name;        /* e.g. "fifo-reversed" */
    const char *violation;   /* what the broken provider does, one sentence */
} broken_rule;

/* The rules, in a fixed order; *n receives their number. Rule 0 is "none". */
const broken_rule *broken_rules(size_t *n);

/* The factory of the provider that breaks rule `name`, or NULL for an unknown name. The
 * factory is static (nothing to free); its name is "broken:<rule>", its capabilities and
 * hooks are those of the in-memory SQLite factory. */
const duro_provider_factory *broken_factory(const char *name);

#endif /* DURO_TESTS_BROKEN_PROVIDER_H */
