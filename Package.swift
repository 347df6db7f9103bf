// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "slipway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "slipway", targets: ["slipway"]),
        .library(name: "SlipwayCore", targets: ["SlipwayCore"]),
        .library(name: "SlipwayStats", targets: ["SlipwayStats"]),
        .library(name: "SlipwayStore", targets: ["SlipwayStore"]),
        .library(name: "SlipwayRegistry", targets: ["SlipwayRegistry"]),
        .library(name: "SlipwayServer", targets: ["SlipwayServer"]),
        .library(name: "SlipwayPipeline", targets: ["SlipwayPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.100.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.1.0"),
    ],
    targets: [
        .target(
            name: "SlipwayCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(name: "SlipwayStats", swiftSettings: swiftSettings),
        .target(name: "SlipwayModels", dependencies: ["SlipwayCore"], swiftSettings: swiftSettings),
        .target(
            name: "SlipwayHTTP",
            dependencies: [
                "SlipwayCore", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayStore",
            dependencies: ["SlipwayCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayStoreSQLite",
            dependencies: [
                "SlipwayCore", "SlipwayStore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayStoreConformance",
            dependencies: ["SlipwayCore", "SlipwayStore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayRegistry",
            dependencies: ["SlipwayCore", "SlipwayStore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(name: "CSlipwayLinux"),
        .target(
            name: "SlipwayGateway",
            dependencies: [
                "SlipwayCore", "SlipwayStats", "SlipwayStore", "CSlipwayLinux",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            // The data plane's hot path checks no exclusive access at run time in release builds (the compiler
            // still checks it statically): the checks showed up in the forwarding profile.
            swiftSettings: swiftSettings + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "SlipwayServer",
            dependencies: [
                "SlipwayCore", "SlipwayStore", "SlipwayStoreSQLite", "SlipwayRegistry", "SlipwayGateway", "SlipwayModels", "SlipwayRollout", "SlipwayData",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayClient",
            dependencies: [
                "SlipwayCore", "SlipwayStore", "SlipwayRegistry", "SlipwayServer", "SlipwayGateway", "SlipwayRollout", "SlipwayHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "slipway",
            dependencies: [
                "SlipwayCore", "SlipwayStore", "SlipwayRegistry", "SlipwayServer", "SlipwayClient", "SlipwayStats", "SlipwayGateway", "SlipwayModels",
                "SlipwayRollout", "SlipwayData", "SlipwayPipeline", "SlipwayHTTP", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "StatsBench",
            dependencies: ["SlipwayStats"],
            path: "Benchmarks/StatsBench",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayYAML",
            dependencies: ["SlipwayCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayYAMLTests",
            dependencies: ["SlipwayYAML", "SlipwayCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayRollout",
            dependencies: [
                "SlipwayCore", "SlipwayYAML", "SlipwayStats", "SlipwayStore", .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayData",
            dependencies: [
                "SlipwayCore", "SlipwayStore", "SlipwayStats", "SlipwayHTTP", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayDataTests",
            dependencies: ["SlipwayData", "SlipwayCore", "SlipwayStore", "SlipwayStats"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayPipeline",
            dependencies: [
                "SlipwayCore", "SlipwayYAML", "SlipwayStore", .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayPipelineTests",
            dependencies: ["SlipwayPipeline", "SlipwayCore", "SlipwayStore"],
            resources: [.copy("Workflows")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "JudgeBench", dependencies: ["SlipwayRollout", "SlipwayStats"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SlipwayRolloutTests",
            dependencies: ["SlipwayRollout", "SlipwayCore", "SlipwayStats", "SlipwayStore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayStatsTests",
            dependencies: ["SlipwayStats"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayGatewayTests",
            dependencies: [
                "SlipwayCore", "SlipwayGateway", "SlipwayStore", "SlipwayStoreSQLite",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SlipwayModelsTests", dependencies: ["SlipwayCore", "SlipwayModels"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SlipwayHTTPTests",
            dependencies: [
                "SlipwayCore", "SlipwayHTTP", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "CSlipwayTestSupport", path: "Tests/CSlipwayTestSupport"),
        .testTarget(name: "SlipwayCoreTests", dependencies: ["SlipwayCore", "CSlipwayTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SlipwayStoreTests",
            dependencies: ["SlipwayCore", "SlipwayStore", "SlipwayStoreSQLite", "SlipwayStoreConformance"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayRegistryTests",
            dependencies: ["SlipwayCore", "SlipwayStore", "SlipwayStoreSQLite", "SlipwayRegistry"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayServerTests",
            dependencies: [
                "SlipwayCore", "SlipwayStore", "SlipwayStoreSQLite", "SlipwayRegistry", "SlipwayServer", "SlipwayClient", "SlipwayModels",
                "SlipwayRollout", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
