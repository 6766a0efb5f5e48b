/*
 * conformance.c — custom-conformance: duro's conformance suite run against the "custom"
 * provider. It accepts every option of duro-conformance except --provider (see --help):
 *     ./custom-conformance --junit custom-conformance.xml
 */
#include "custom-provider.h"

int main(int argc, char **argv)
{
    return duro_conformance_main(&custom_factory, argc, argv);
}
