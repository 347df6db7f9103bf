import Foundation
import Logging
import SlipwayGateway
import Testing

@testable import SlipwayServer

/// Settings from the environment: accepted values take effect, and a value the server would not understand
/// stops it with a message naming the variable, instead of being ignored.
@Suite struct ConfigurationEnvironmentTests {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("slipway-config-\(UUID().uuidString.prefix(8))")

    @Test func acceptedValuesTakeEffect() throws {
        let config = try SlipwayConfiguration.load(
            environment: ["SLIPWAY_GATEWAY_PORT": "0", "SLIPWAY_PORT": "9000", "SLIPWAY_GATEWAY_IO": "nio", "SLIPWAY_LOG_LEVEL": "WARNING"],
            directory: folder)
        #expect(config.gatewayPort == 0 && config.port == 9000 && config.logLevel == .warning && config.gatewayIO == .nio)
        #expect(try SlipwayConfiguration.load(environment: ["SLIPWAY_GATEWAY_IO": "automatic"], directory: folder).gatewayIO == .automatic)
        #expect(try SlipwayConfiguration.load(environment: ["SLIPWAY_GATEWAY_IO": ""], directory: folder).gatewayIO == .automatic)
    }

    @Test(arguments: [
        ("SLIPWAY_GATEWAY_IO", "epol"), ("SLIPWAY_GATEWAY_IO", "NIO\u{0}"), ("SLIPWAY_GATEWAY_PORT", "65536"), ("SLIPWAY_PORT", "-1"),
        ("SLIPWAY_PORT", String(repeating: "9", count: 4096)), ("SLIPWAY_LOG_LEVEL", "loud"), ("SLIPWAY_PROMETHEUS_URL", "ftp://x"),
    ])
    func valuesItWouldNotUnderstandAreRefusedByName(name: String, value: String) {
        do {
            _ = try SlipwayConfiguration.load(environment: [name: value], directory: folder)
            Issue.record("\(name)=\(value.prefix(20)) was accepted")
        } catch {
            #expect("\(error)".contains(name), "\(error)")
        }
    }
}
