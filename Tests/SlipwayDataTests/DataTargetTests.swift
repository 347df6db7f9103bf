import Testing

@testable import SlipwayData

@Suite struct DataTargetTests {
    @Test func targetLinks() {
        _ = DataWorkspace()
        _ = DataValidator()
    }
}
