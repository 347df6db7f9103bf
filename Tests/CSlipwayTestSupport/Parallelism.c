// Bounds how many tests run at once in the test process.
//
// Swift Testing starts every test case of the run at the same time unless told otherwise. Many of Slipway's
// tests start servers, child processes and gateways of their own; hundreds of them at once on a machine with
// two cores starve each other for minutes, and tests fail on their time limits instead of on what they check.
// Before the test runner reads its configuration, this sets its parallelization width to three tests per
// online core (at least four), unless SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH is already set, which
// then wins.

#include "CSlipwayTestSupport.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *const variable = "SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH";

__attribute__((constructor)) static void slipway_bound_test_parallelism(void) {
    if (getenv(variable) != NULL) return;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long width = cores > 0 ? cores * 3 : 4;
    if (width < 4) width = 4;
    char text[32];
    snprintf(text, sizeof text, "%ld", width);
    setenv(variable, text, 0);
}

int slipway_test_parallelization_width(void) {
    const char *text = getenv(variable);
    return text == NULL ? 0 : atoi(text);
}
