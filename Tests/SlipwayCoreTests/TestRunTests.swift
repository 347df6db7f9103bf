import CSlipwayTestSupport
import Foundation
import Testing

@Suite("The test run itself")
struct TestRunTests {
    @Test("the test process starts with a bound on how many tests run at once, which the runner reads")
    func parallelismIsBounded() {
        let width = slipway_test_parallelization_width()
        #expect(width >= 1, "the width is set before the runner starts")
        #expect(ProcessInfo.processInfo.environment["SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH"] == String(width))
    }
}
