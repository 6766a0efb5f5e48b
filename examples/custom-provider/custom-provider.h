/*
 * custom-provider.h — the "custom" provider of the example: how a storage back end plugs into
 * duro's conformance and stress suites.
 */
#ifndef CUSTOM_PROVIDER_H
#define CUSTOM_PROVIDER_H

#include <duro-providertest.h>

/* Open a new, empty "custom" store. On success *out owns it (release it with
 * duro_provider_destroy); on failure returns a DURO_E* code and fills err. */
int custom_provider_open(duro_provider **out, duro_error *err);

/* The factory the suites use: a fresh, isolated store per conformance case or stress run,
 * plus the two optional test hooks. */
extern const duro_provider_factory custom_factory;

#endif /* CUSTOM_PROVIDER_H */
