/*
 * stress.c — custom-stress: duro's stress suite run against the "custom" provider. It
 * accepts every option of duro-stress except --provider (see --help):
 *     ./custom-stress --scenario all --duration 5 --junit custom-stress.xml
 */
#include "custom-provider.h"

int main(int argc, char **argv)
{
    return duro_stress_main(&custom_factory, argc, argv);
}
