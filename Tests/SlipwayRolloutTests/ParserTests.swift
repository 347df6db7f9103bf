import Foundation
import SlipwayCore
import SlipwayRollout
import SlipwayStats
import Testing

@Suite struct ParserTests {
    static let minimal = """
        kind: Rollout
        metadata:
          name: demo
        spec:
          endpoint: fraud
          candidate:
            model: fraud
            version: 2
          strategy:
            canary:
              steps:
                - setWeight: 20
                - pause: {}
                - setWeight: 100

        """

    @Test func minimalCanary() throws {
        let (rollout, templates) = try RolloutParser().parseRollout(Self.minimal)
        #expect(templates.isEmpty)
        #expect(rollout.name == "demo")
        #expect(rollout.stableVariant == nil)
        #expect(rollout.candidate == CandidateSpec(model: "fraud", reference: .version(2)))
        #expect(rollout.strategy == .canary(CanaryStrategy(steps: [.setWeight(20), .pause(PauseStep()), .setWeight(100)])))
        #expect(rollout.defaultAnalysis == DefaultAnalysisConfiguration())
    }

    @Test func shortFormWithoutEnvelope() throws {
        let yaml = """
            name: short
            endpoint: fraud
            candidate: {model: fraud, alias: challenger, backend: {url: "http://127.0.0.1:9000", modelName: m}}
            strategy:
              canary:
                steps:
                  - setWeight: 10
                  - pause: 90
                  - analysis: default
            """
        let (rollout, _) = try RolloutParser().parseRollout(yaml)
        #expect(rollout.name == "short")
        #expect(rollout.candidate.reference == .alias("challenger"))
        #expect(rollout.candidate.backend == .url("http://127.0.0.1:9000", modelName: "m"))
        #expect(
            rollout.strategy
                == .canary(CanaryStrategy(steps: [.setWeight(10), .pause(PauseStep(duration: RolloutDuration(seconds: 90))), .analysis(.default)])))
    }

    @Test func templatesInTheSameFileAndArguments() throws {
        let yaml = """
            kind: Rollout
            spec:
              endpoint: fraud
              candidate: {model: fraud, version: 3}
              strategy:
                canary:
                  steps:
                    - setWeight: 5
                    - analysis:
                        templates:
                          - templateName: success-rate
                        args:
                          - name: endpoint
                            value: fraud
            ---
            kind: AnalysisTemplate
            metadata: {name: success-rate}
            spec:
              args:
                - name: endpoint
                - name: prometheus
                  value: http://127.0.0.1:9090
              metrics:
                - name: success
                  interval: 1m
                  count: 3
                  successCondition: result[0] >= 0.99
                  provider:
                    prometheus:
                      address: "{{args.prometheus}}"
                      query: sum(rate(slipway_requests_total{endpoint="{{args.endpoint}}"}[5m]))
            """
        let document = try RolloutParser().parse(yaml)
        #expect(document.rollout?.name == "fraud")
        let template = try #require(document.template(named: "success-rate"))
        #expect(template.metrics[0].policy == MeasurementPolicy(interval: .minutes(1), count: 3))
        let resolved = try template.resolved(with: [AnalysisArgument(name: "endpoint", value: "fraud")])
        guard case .prometheus(let p) = resolved.metrics[0].provider else {
            Issue.record("expected prometheus")
            return
        }
        #expect(p.address == "http://127.0.0.1:9090")
        #expect(p.query == #"sum(rate(slipway_requests_total{endpoint="fraud"}[5m]))"#)
        #expect(throws: RolloutError.self) { try template.resolved(with: []) }
    }

    @Test func templatesFromALibrary() throws {
        let library = [AnalysisTemplate(name: "shared", metrics: [MetricSpec(name: "errors", provider: .builtin(BuiltinMetric(kind: .errorRate)))])]
        let yaml = """
            endpoint: fraud
            candidate: {model: fraud, version: 3}
            strategy:
              blueGreen:
                prePromotionAnalysis:
                  templates: [{templateName: shared}]
            """
        #expect(diagnostics(yaml, library: library).isEmpty)
        #expect(positions(diagnostics(yaml)) == ["6:34"])
    }

    // MARK: Errors, each with its position

    @Test func unknownKeyWithSuggestion() throws {
        let problems = diagnostics(
            """
            kind: Rollout
            spec:
              endpoint: fraud
              candidate: {model: fraud, version: 2}
              strategy:
                canary:
                  stepz:
                    - setWieght: 5
            """)
        #expect(problems.count == 1)
        #expect(problems.first?.line == 7)
        #expect(problems.first?.column == 7)
        #expect(problems.first?.message == "unknown key 'stepz' in spec.strategy.canary; did you mean 'steps'?")
    }

    @Test func unknownStepKind() {
        let problems = diagnostics(
            """
            endpoint: fraud
            candidate: {model: fraud, version: 2}
            strategy:
              canary:
                steps:
                  - setWieght: 5
            """)
        #expect(positions(problems) == ["6:9"])
        #expect(problems.first?.message.contains("did you mean 'setWeight'?") == true)
    }

    @Test func everyErrorAtOnce() {
        let yaml = """
            kind: Rollout
            metadata:
              name: demo
            spec:
              candidate:
                model: fraud
                version: 2
              strategy:
                canary:
                  maxWeight: 50
                  steps:
                    - setWeight: 120
                    - setWeight: 60
                    - pause: {duration: 10x}
                    - analysis:
                        templates:
                          - templateName: error-rat
                    - pauze: {}
                shadow:
                  percentage: 10
            ---
            kind: AnalysisTemplate
            metadata:
              name: error-rate
            spec:
              metrics:
                - name: errors
                  successCondition: result < 0.05 &&
                  provider:
                    builtin:
                      metric: error-rate
            """
        let problems = diagnostics(yaml, file: "rollout.yml")
        #expect(positions(problems) == ["4:1", "12:22", "13:22", "14:29", "17:31", "18:11", "19:5", "28:41"])
        let messages = problems.map(\.message)
        #expect(messages[0] == "spec needs 'endpoint'; the endpoint whose traffic moves")
        #expect(messages[1] == "spec.strategy.canary.steps[0].setWeight must be between 0 and 100 (percent), got 120")
        #expect(messages[2] == "spec.strategy.canary.steps[1].setWeight is 60, above maxWeight 50")
        #expect(messages[3].hasPrefix("spec.strategy.canary.steps[2].pause.duration: '10x' is not a duration"))
        #expect(messages[4] == "analysis template 'error-rat' does not exist; did you mean 'error-rate'?")
        #expect(messages[5].hasPrefix("unknown key 'pauze'") && messages[5].hasSuffix("did you mean 'pause'?"))
        #expect(messages[6] == "a rollout has exactly one strategy, but 'shadow' comes besides 'canary'; remove one")
        #expect(messages[7] == "spec.metrics[0].successCondition does not parse: the condition ends where a value was expected")
        // The error's message lists every problem as file:line:column.
        do {
            _ = try RolloutParser().parse(yaml, file: "rollout.yml")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidSpec)
            #expect(error.kind == .invalidArgument)
            #expect(error.message.hasPrefix("the rollout spec has 8 problems:\nrollout.yml:4:1: spec needs 'endpoint'"))
        }
    }

    @Test func conditionErrorsPointIntoQuotedAndBlockScalars() {
        let yaml = """
            kind: AnalysisTemplate
            metadata: {name: t}
            spec:
              metrics:
                - name: a
                  successCondition: "result <> 5"
                  provider: {builtin: {metric: error-rate}}
                - name: b
                  failureCondition: |
                    result[0] > 0.5 and
                    reslt[1] > 2
                  provider: {prometheus: {query: up}}
            """
        let problems = diagnostics(yaml)
        #expect(positions(problems) == ["6:34", "11:9"])
        #expect(problems[0].message == "spec.metrics[0].successCondition does not parse: expected a value, found '>'")
        #expect(problems[1].message.contains("unknown name 'reslt'") && problems[1].message.hasSuffix("did you mean 'result'?"))
    }

    @Test func missingRequiredFieldsAndWrongTypes() {
        let yaml = """
            kind: Rollout
            spec:
              endpoint: fraud
              candidate:
                version: two
              strategy:
                canary:
                  maxWeight: 150
                  steps: {setWeight: 5}
            """
        let problems = diagnostics(yaml)
        #expect(positions(problems) == ["4:3", "5:14", "8:18", "9:14"])
        #expect(problems[0].message == "spec.candidate needs 'model'")
        #expect(problems[1].message == "spec.candidate.version must be a whole number ≥ 1, got 'two'")
        #expect(problems[2].message == "spec.strategy.canary.maxWeight must be between 0 and 100 (percent), got 150")
        #expect(problems[3].message == "spec.strategy.canary.steps must be a list, got a mapping")
    }

    @Test func noStrategyAndVersionWithAlias() {
        let yaml = """
            endpoint: fraud
            candidate: {model: fraud, version: 2, alias: champion}
            strategy: {}
            """
        let problems = diagnostics(yaml)
        #expect(positions(problems) == ["2:39", "3:1"])
        #expect(problems[0].message == "give the candidate either 'version' or 'alias', not both")
        #expect(problems[1].message.hasPrefix("strategy needs 'canary'; a rollout needs one strategy"))
    }

    @Test func yamlSyntaxErrorHasAPosition() {
        let problems = diagnostics("endpoint: fraud\ncandidate: [model\n")
        #expect(problems.count == 1)
        #expect(problems.first?.message.hasPrefix("invalid YAML") == true)
        #expect(problems.first?.line == 3)
    }

    @Test func duplicateKeysAreReported() {
        let problems = diagnostics("endpoint: a\nendpoint: b\n")
        #expect(problems.count == 1)
        #expect(problems.first?.message == "the key 'endpoint' appears twice in the same mapping")
    }

    @Test func strategyChecks() {
        let yaml = """
            endpoint: fraud
            candidate: {model: fraud, version: 2}
            strategy:
              blueGreen:
                autoPromotionEnabled: false
                autoPromotionSeconds: 30
                scaleDownDelaySeconds: -1
            """
        #expect(positions(diagnostics(yaml)) == ["6:5", "7:28"])
        let rolling = """
            endpoint: fraud
            candidate: {model: fraud, version: 2}
            strategy:
              rolling: {maxSurge: 0, maxUnavailable: "0%"}
            """
        #expect(diagnostics(rolling).map(\.message) == ["maxSurge and maxUnavailable cannot both be 0: the update could never replace a replica"])
        let experiment = """
            endpoint: fraud
            candidate: {model: fraud, version: 2}
            strategy:
              experiment:
                primary: {metric: conversion}
                baseline: 1.5
                mde: 0.1
                power: 0.01
                guardrails: [error-rates]
            """
        let problems = diagnostics(experiment)
        #expect(positions(problems) == ["6:15", "8:12", "9:18"])
        #expect(problems[2].message.hasSuffix("did you mean 'error-rate'?"))
    }

    @Test func canaryStepChecks() {
        let yaml = """
            endpoint: fraud
            candidate: {model: fraud, version: 2}
            strategy:
              canary:
                analysis:
                  templates: [{templateName: t}]
                  startingStep: 5
                steps:
                  - setWeight: 10
                    pause: {}
                  - setHeaderRoute:
                      name: beta
                      match:
                        - headerName: X-Beta
                          headerValue: {prefix: "1"}
                  - setMirrorRoute: {name: m, percentage: 0}
                  - analysis: sometimes
            ---
            kind: AnalysisTemplate
            metadata: {name: t}
            spec:
              metrics:
                - name: m
                  provider: {job: {command: "true"}}
            """
        let problems = diagnostics(yaml)
        #expect(positions(problems) == ["7:21", "9:9", "15:29", "16:47", "17:19"])
        #expect(problems[0].message == "strategy.canary.analysis.startingStep is 5, but the canary has 4 step(s) (indexes 0 to 3)")
        #expect(problems[1].message.contains("each step does one thing"))
        #expect(problems[2].message.contains("exact header values only"))
    }

    @Test func templateChecks() {
        let yaml = """
            kind: AnalysisTemplate
            metadata: {name: t}
            spec:
              args: [{name: endpoint}]
              metrics:
                - name: job
                  successCondition: result == 0
                  provider: {job: {command: [./check.sh]}}
                - name: web
                  count: 3
                  provider:
                    web: {url: "http://x/{{args.service}}"}
                - name: web
                  provider: {builtin: {metric: latency, method: ks}}
                - name: both
                  provider:
                    builtin: {metric: error-rate}
                    job: {command: "true"}
            """
        let problems = diagnostics(yaml)
        #expect(positions(problems) == ["7:7", "10:7", "12:9", "13:7", "14:45", "18:9"])
        #expect(problems[0].message.hasPrefix("a job metric succeeds when its command exits with status 0"))
        #expect(problems[1].message == "spec.metrics[1].count is 3, which needs an 'interval' between the measurements")
        #expect(problems[2].message.contains("{{args.service}}"))
        #expect(problems[3].message == "metric name 'web' is used twice in template 't'")
        #expect(problems[4].message == "spec.metrics[2].provider.builtin.method applies to the prediction-drift metric only")
        #expect(problems[5].message == "a metric has exactly one provider, but 'job' comes besides 'builtin'")
    }

    @Test func judgedTemplateChecks() throws {
        let yaml = """
            kind: AnalysisTemplate
            metadata: {name: judged}
            spec:
              judge: {algorithm: mannwhitney, passThreshold: 80, marginalThreshold: 90, interval: 5m, count: 4}
              metrics:
                - name: latency
                  successCondition: result < 1
                  provider: {builtin: {metric: latency}}
                  judge: {direction: increase, critical: true}
                - name: drift
                  provider: {builtin: {metric: prediction-drift}}
            """
        let problems = diagnostics(yaml)
        #expect(positions(problems) == ["4:73", "7:7", "11:17"])
        let good = """
            kind: AnalysisTemplate
            metadata: {name: judged}
            spec:
              judge: mannwhitney
              metrics:
                - name: latency
                  provider: {builtin: {metric: latency}}
                  judge: {direction: increase, critical: true, allowedIncrease: 0.1}
            """
        let template = try #require(try RolloutParser().parse(good).templates.first)
        #expect(template.judge == JudgeSpec())
        #expect(template.metrics[0].judge == JudgeMetricOptions(direction: .increase, critical: true, allowedIncrease: 0.1))
    }

    @Test func templateArgumentsAreChecked() {
        let yaml = """
            endpoint: fraud
            candidate: {model: fraud, version: 2}
            strategy:
              canary:
                steps:
                  - analysis:
                      templates: [{templateName: t}]
                      args: [{name: endpont, value: fraud}]
            ---
            kind: AnalysisTemplate
            metadata: {name: t}
            spec:
              args: [{name: endpoint}]
              metrics:
                - name: m
                  provider: {prometheus: {query: "up{endpoint='{{args.endpoint}}'}"}}
            """
        let problems = diagnostics(yaml)
        #expect(positions(problems) == ["7:38", "8:25"])
        #expect(problems[0].message == "template 't' needs a value for argument 'endpoint'; add it under args")
        #expect(problems[1].message == "argument 'endpont' is not declared by 't'; did you mean 'endpoint'?")
    }

    @Test func twoRolloutsInOneFile() {
        let problems = diagnostics(Self.minimal + "---\n" + Self.minimal)
        #expect(problems.map(\.message) == ["a file holds one Rollout, and one already starts at line 1"])
        #expect(problems.first?.line == 16)
    }

    @Test func defaultAnalysisSettings() throws {
        let yaml = """
            endpoint: fraud
            candidate: {model: fraud, version: 2}
            strategy: {canary: {steps: [{analysis: default}]}}
            defaultAnalysis:
              interval: 30s
              minSamples: 500
              errorRate: {margin: 0.01, alpha: 0.02}
              latency: {margin: 0.2, marginMs: 10}
              predictionDrift: {enabled: false}
            """
        let (rollout, _) = try RolloutParser().parseRollout(yaml)
        var expected = DefaultAnalysisConfiguration(interval: RolloutDuration(seconds: 30), minSamples: 500)
        expected.errorRate.margin = 0.01
        expected.errorRate.alpha = 0.02
        expected.latency.margin = 0.2
        expected.latency.marginMs = 10
        expected.predictionDrift.enabled = false
        #expect(rollout.defaultAnalysis == expected)
        #expect(positions(diagnostics(yaml.replacingOccurrences(of: "alpha: 0.02", with: "alpha: 0.9"))) == ["7:36"])
    }

    @Test func fileWithoutRollout() {
        let yaml = """
            kind: AnalysisTemplate
            metadata: {name: t}
            spec:
              metrics: [{name: m, provider: {builtin: {metric: request-count}}}]
            """
        #expect(diagnostics(yaml).isEmpty)
        #expect(throws: RolloutError.self) { try RolloutParser().parseRollout(yaml) }
        #expect(diagnostics("").map(\.message) == ["the file is empty; write a Rollout (and its AnalysisTemplates) as YAML documents"])
    }
}
