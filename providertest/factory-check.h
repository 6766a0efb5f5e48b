/*
 * factory-check.h — the one check of a duro_provider_factory that both suites run before
 * they use it (not installed).
 */
#ifndef DURO_FACTORY_CHECK_H
#define DURO_FACTORY_CHECK_H

#include "duro-providertest.h"

/* 0 when `f` can be used: non-NULL, a version >= 1 (a newer one is read as far as this
 * library knows), a name, create and destroy, and locate whenever attach is set. Otherwise
 * DURO_EINVAL with err naming what is wrong. */
int duro__factory_check(const duro_provider_factory *f, duro_error *err);

#endif /* DURO_FACTORY_CHECK_H */
