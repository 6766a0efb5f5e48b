/*
 * factory-check.c — validation of a provider factory, shared by the conformance and stress
 * suites (factory-check.h).
 */
#include "factory-check.h"

int duro__factory_check(const duro_provider_factory *f, duro_error *err)
{
    if (f == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "no provider factory");
    if (f->version < DURO_PROVIDER_FACTORY_V1)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "provider factory version %d is invalid (set .version = "
                              "DURO_PROVIDER_FACTORY_VERSION)",
                              f->version);
    if (f->name == NULL || f->name[0] == '\0')
        return duro_error_set(err, DURO_EINVAL, 0, "provider factory has no name");
    if (f->create == NULL || f->destroy == NULL)
        return duro_error_set(err, DURO_EINVAL, 0, "provider factory '%s' lacks %s", f->name,
                              f->create == NULL ? "create" : "destroy");
    if (f->attach != NULL && f->locate == NULL)
        return duro_error_set(err, DURO_EINVAL, 0,
                              "provider factory '%s' has attach but no locate", f->name);
    if (DURO_PROVIDER_FACTORY_HAS(f, DURO_PROVIDER_FACTORY_V2) &&
        (f->hold_write_lock == NULL) != (f->release_write_lock == NULL))
        return duro_error_set(err, DURO_EINVAL, 0,
                              "provider factory '%s' has only one of hold_write_lock and "
                              "release_write_lock", f->name);
    return 0;
}
