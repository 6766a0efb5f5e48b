/*
 * registry.c — the table of conformance categories, in report order.
 *
 * It is built from DURO_CATEGORIES in suite.h, the one list of categories: each entry is the
 * NULL-terminated case table duro__cases_<category> that conformance/cases/<category>.c
 * defines with DURO_CASES. A category is added to that list (and its file to
 * conformance/local.mk), never here. The references are plain externs, so a listed category
 * whose file is not in the build fails to link.
 */
#include "suite.h"

#define DURO__CT_CASES_ENTRY(name) duro__cases_##name,

const duro_case *const duro_case_categories[] = {DURO_CATEGORIES(DURO__CT_CASES_ENTRY)};

const size_t duro_case_category_count =
    sizeof duro_case_categories / sizeof duro_case_categories[0];
