/*
 * junit-check.h — run a Check test runner and write its results as a JUnit XML report.
 *
 * Every Check program of duro's test suite ends its main() with junit_check_run() instead of
 * srunner_run_all(): it runs the suites, then writes $DURO_JUNIT_DIR/<program>.xml through
 * report/duro-report.h (valid against the Ant and the Jenkins JUnit schemas). One Check suite
 * becomes one <testsuite>, one test function run (each loop iteration) one <testcase>, with
 * its duration, its failure (assertion) or error (crash, timeout, failing fixture) and the
 * file:line where it happened.
 */
#ifndef DURO_TESTS_JUNIT_CHECK_H
#define DURO_TESTS_JUNIT_CHECK_H

#include <check.h>

/* Run every suite of `sr` with srunner_run_all(sr, mode), then write the results to
 * $DURO_JUNIT_DIR/<program>.xml (nothing is written when DURO_JUNIT_DIR is unset or empty).
 * Per-test durations and function names come from Check's XML log: when `sr` has none
 * (srunner_set_xml / CK_XML_LOG_FILE_NAME) a temporary one is used and removed afterwards.
 * `sr` stays owned by the caller, who frees it with srunner_free().
 * Returns the number of tests that failed or errored, or -1 when the report could not be
 * written (the reason is printed on stderr): a program exits non-zero unless it gets 0. */
int junit_check_run(SRunner *sr, const char *program, enum print_output mode);

#endif /* DURO_TESTS_JUNIT_CHECK_H */
