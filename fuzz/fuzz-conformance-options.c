/*
 * fuzz-conformance-options.c — libFuzzer target: the conformance runner's command line
 * (duro__conformance_check_args, conformance/runner.c: the option parser and the check of
 * --category / --case names against the registry, as duro_conformance_main runs them
 * before it needs a provider).
 *
 * The input is a command line, one argument per line (fz_argv). Property: the check
 * returns 0 or 2 and never reads or writes out of bounds (the parser stores --category and
 * --case values in lists sized by argc). Its messages go to stderr: `make fuzz` runs the
 * targets with -close_fd_mask=3.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "suite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char **argv, *buf;
    int argc = fz_argv(data, size, "duro-conformance", 64, &argv, &buf), rc;
    if (argc < 0)
        return 0;
    rc = duro__conformance_check_args(argc, argv);
    FZ_CHECK(rc == 0 || rc == 2, "check returned %d", rc);
    free(argv);
    free(buf);
    return 0;
}
