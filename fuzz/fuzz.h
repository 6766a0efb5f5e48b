/*
 * fuzz.h — what the libFuzzer targets of fuzz/ share (fuzz/common.c): the text form of a
 * fetched orchestration item, the small orchestration registry the replay targets run, a
 * command line from fuzzer bytes, and a loud check that aborts (so that libFuzzer saves the
 * input) naming what broke. See docs/fuzzing.md for the targets and how to run them.
 *
 * The item text form, one record per line (a line ends at '\n'; blank lines and lines
 * starting with '#' are ignored; an unknown line is ignored too, so every input is valid):
 *
 *   item STATE EXECUTION ATTEMPT   the fetched state (duro_state 0-4), execution id (at
 *                                  most INT64_MAX, as a store's SQL integer) and fetch
 *                                  count (defaults: RUNNING with history, else NOT_FOUND;
 *                                  1; 1)
 *   name NAME                      orch_name of the instance row (default: none)
 *   status TEXT                    the stored custom status
 *   error TEXT                     history_error: the provider could not read the history
 *   h KIND PAYLOAD                 a stored history event; ids count 1, 2, ... in order
 *   h@ID KIND PAYLOAD              the same with an explicit event id
 *   m KIND EXECUTION PAYLOAD       a fetched message (queue ids count 1, 2, ...)
 *
 * KIND is a number (duro_event_kind, duro_msg_kind); PAYLOAD is the rest of the line, and
 * the word (null) stands for a NULL payload. The instance id is always "fz".
 */
#ifndef DURO_FUZZ_H
#define DURO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "duro-provider.h"
#include "duro.h"

/* The turn clock of every target (2023-11-14T22:13:20Z), as in tests/test-replay.c. */
#define FZ_NOW INT64_C(1700000000000)
/* The runtime's default max_attempts, for the poison verdict. */
#define FZ_MAX_ATTEMPTS 10u
/* The instance id of every parsed item. */
#define FZ_INSTANCE "fz"

/* Unless `cond` holds: report "SUMMARY: fuzz check failed at FILE:LINE: COND: <message>"
 * where the sanitizers report (stderr, kept under -close_fd_mask) and abort. */
#define FZ_CHECK(cond, ...)                                                                   \
    do {                                                                                      \
        if (!(cond))                                                                          \
            fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                  \
    } while (0)
void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* Parse the item text form above from `size` bytes (not NUL-terminated). Never fails on
 * content; NULL only when out of memory. Free with duro_orch_item_free(). */
duro_orch_item *fz_item_parse(const uint8_t *data, size_t size);
/* Write `item` in the text form (what fz_item_parse reads back; payloads must not hold
 * '\n'). */
void fz_item_print(FILE *out, const duro_orch_item *item);

/* The item the next fetch would return after `c` was committed for `it`: the history with
 * the committed events appended (only those, for a commit of the next execution), the state,
 * name and custom status the commit sets, and no message. NULL when out of memory; free
 * with duro_orch_item_free(). */
duro_orch_item *fz_item_after(const duro_orch_item *it, const duro_orch_commit *c);

/* The registry of the replay targets: orchestrations "Flow" (1.0.0), "Child" (1.0.0 and
 * 2.0.0) and "Loop" (1.0.0) and activity "Act". Flow's input is a script, one step per
 * letter (see common.c), so that one function produces histories of every shape. NULL when
 * out of memory; free with duro_registry_free(). */
duro_registry *fz_registry(void);

/* Split `size` bytes at '\n' into argv[1..] (argv[0] is `prog`; at most `max` arguments,
 * NUL bytes end an argument early). Returns argc; *argv and *buf are malloc'd (free both),
 * or -1 when out of memory. */
int fz_argv(const uint8_t *data, size_t size, const char *prog, int max, char ***argv,
            char **buf);

#endif /* DURO_FUZZ_H */
