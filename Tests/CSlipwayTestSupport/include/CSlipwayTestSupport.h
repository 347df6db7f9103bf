#ifndef CSLIPWAY_TEST_SUPPORT_H
#define CSLIPWAY_TEST_SUPPORT_H

/// The number of test cases the test run may run at once, as set when the test process started.
int slipway_test_parallelization_width(void);

#endif
