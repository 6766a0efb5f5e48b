/*
 * registry.c — the list of conformance categories, in report order.
 *
 * Each category file in conformance/cases/ exports one NULL-terminated duro_case array. The
 * arrays are declared weak here so that the library links while a category file is still
 * being written: a missing category is a NULL entry, which the runner skips (it simply has
 * no cases yet). Adding a category means adding its file to conformance/local.mk and one
 * line to each list below.
 */
#include "suite.h"

#define DURO_CT_CATEGORY(name) \
    extern const duro_case duro_cases_##name[] __attribute__((weak))

DURO_CT_CATEGORY(atomicity);
DURO_CT_CATEGORY(instance_creation);
DURO_CT_CATEGORY(instance_locking);
DURO_CT_CATEGORY(lock_expiry);
DURO_CT_CATEGORY(queue_semantics);
DURO_CT_CATEGORY(multi_execution);
DURO_CT_CATEGORY(error_handling);
DURO_CT_CATEGORY(attempt_counts);
DURO_CT_CATEGORY(custom_status);
DURO_CT_CATEGORY(long_polling);
DURO_CT_CATEGORY(cancellation);
DURO_CT_CATEGORY(management);
DURO_CT_CATEGORY(deletion);
DURO_CT_CATEGORY(bulk_deletion);
DURO_CT_CATEGORY(prune);

const duro_case *const duro_case_categories[] = {
    duro_cases_atomicity,
    duro_cases_instance_creation,
    duro_cases_instance_locking,
    duro_cases_lock_expiry,
    duro_cases_queue_semantics,
    duro_cases_multi_execution,
    duro_cases_error_handling,
    duro_cases_attempt_counts,
    duro_cases_custom_status,
    duro_cases_long_polling,
    duro_cases_cancellation,
    duro_cases_management,
    duro_cases_deletion,
    duro_cases_bulk_deletion,
    duro_cases_prune,
};

const size_t duro_case_category_count =
    sizeof duro_case_categories / sizeof duro_case_categories[0];
