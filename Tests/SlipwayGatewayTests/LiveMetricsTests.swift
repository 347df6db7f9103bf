import Synchronization
import Testing

@testable import SlipwayGateway

/// The sliding window of ``LiveMetrics`` with time moved by hand.
@Suite struct LiveMetricsTests {
    final class Clock: Sendable {
        private let nanoseconds = Mutex<UInt64>(1_000_000_000_000)
        var now: UInt64 { nanoseconds.withLock { $0 } }
        func advance(seconds: UInt64) { nanoseconds.withLock { $0 += seconds * 1_000_000_000 } }
    }

    @Test func windowsSlideWhileTotalsStay() {
        let clock = Clock()
        let metrics = LiveMetrics(now: { clock.now }, droppedPredictions: { 0 })
        for i in 0..<10 {
            metrics.record(endpoint: "e", variant: "a", micros: 1_000 * UInt64(i + 1), failed: i == 0, prediction: i < 7 ? "yes" : "no")
        }
        metrics.recordFeedback(endpoint: "e", variant: "a", outcome: 2, correct: nil)
        clock.advance(seconds: 30)
        for _ in 0..<5 { metrics.record(endpoint: "e", variant: "a", micros: 50_000, failed: false, prediction: "no") }
        metrics.recordFeedback(endpoint: "e", variant: "a", outcome: 4, correct: true)

        let minute = try! #require(metrics.window(endpoint: "e", seconds: 60)["a"])
        #expect(minute.requests == 15 && minute.errors == 1 && minute.predictions == ["yes": 7, "no": 8])
        #expect(minute.outcomes == OutcomeStatistics(count: 2, sum: 6, sumOfSquares: 20, correct: 1))
        let last10 = try! #require(metrics.window(endpoint: "e", seconds: 10)["a"])
        #expect(last10.requests == 5 && last10.errors == 0 && last10.predictions == ["no": 5] && last10.outcomes.count == 1)
        #expect(last10.latencyP50Ms >= 49.5 && last10.latencyP50Ms <= 50.5)

        // Ten minutes later the window is empty, the totals are not.
        clock.advance(seconds: 600)
        let later = try! #require(metrics.window(endpoint: "e", seconds: 600)["a"])
        #expect(later.requests == 0 && later.predictions.isEmpty && later.outcomes == OutcomeStatistics() && later.latencyP99Ms == 0)
        let totals = try! #require(metrics.snapshot(endpoint: "e")["a"])
        #expect(totals.requests == 15 && totals.errors == 1 && totals.predictions == ["yes": 7, "no": 8])
        #expect(totals.outcomeCount == 2 && totals.outcomeMean == 3)
        #expect(totals.window?.requests == 0)

        // A bucket reused after the ring wrapped starts empty.
        metrics.record(endpoint: "e", variant: "a", micros: 1_000, failed: false, prediction: "yes")
        #expect(metrics.window(endpoint: "e", seconds: 10)["a"]?.predictions == ["yes": 1])
        // Windows are whole buckets between 10 and 600 seconds.
        #expect(metrics.window(endpoint: "e", seconds: 1)["a"]?.seconds == 10)
        #expect(metrics.window(endpoint: "e", seconds: 45)["a"]?.seconds == 50)
        #expect(metrics.window(endpoint: "e", seconds: 86_400)["a"]?.seconds == 600)
        #expect(metrics.window(endpoint: "nothing", seconds: 60).isEmpty)
    }

    @Test func labelsBeyondTheLimitAreOther() {
        let metrics = LiveMetrics()
        for i in 0..<60 { metrics.record(endpoint: "e", variant: "a", micros: 1, failed: false, prediction: "class-\(i)") }
        metrics.record(endpoint: "e", variant: "a", micros: 1, failed: false, prediction: "class-3")
        metrics.record(endpoint: "e", variant: "a", micros: 1, failed: false, prediction: String(repeating: "x", count: 500))
        let predictions = try! #require(metrics.snapshot(endpoint: "e")["a"]?.predictions)
        #expect(predictions.count == LiveMetrics.labelLimit + 1)
        #expect(predictions[LiveMetrics.otherLabel] == 11 && predictions["class-3"] == 2 && predictions["class-55"] == nil)
        #expect(metrics.window(endpoint: "e", seconds: 60)["a"]?.predictions == predictions)
    }

    @Test func mirrorAnswersAndAgreementAreKeptApartFromPrimaryAnswers() {
        let metrics = LiveMetrics()
        metrics.record(endpoint: "e", variant: "stable", micros: 2_000, failed: false, prediction: "a")
        metrics.recordMirror(endpoint: "e", variant: "shadow")
        metrics.recordMirror(endpoint: "e", variant: "shadow")
        metrics.recordMirrorAnswer(endpoint: "e", variant: "shadow", micros: 9_000, failed: false, prediction: "b")
        metrics.recordMirrorAnswer(endpoint: "e", variant: "shadow", micros: 9_000, failed: true, prediction: nil)
        let comparison = MirrorComparison(endpoint: "e", metrics: metrics)
        comparison.mirrorAnswered(variant: "shadow", prediction: "a")  // before the primary: kept until it answers
        comparison.primaryAnswered("a")
        comparison.mirrorAnswered(variant: "shadow", prediction: "b")
        comparison.mirrorAnswered(variant: "shadow", prediction: nil)  // nothing to compare
        let window = metrics.window(endpoint: "e", seconds: 60)
        #expect(window["stable"]?.requests == 1 && window["stable"]?.mirror == nil)
        let shadow = try! #require(window["shadow"])
        #expect(shadow.requests == 0 && shadow.predictions.isEmpty)
        #expect(
            shadow.mirror
                == MirrorStatistics(
                    sent: 2, answers: 2, errors: 1, latencyP50Ms: shadow.mirror!.latencyP50Ms, latencyP95Ms: shadow.mirror!.latencyP95Ms,
                    latencyP99Ms: shadow.mirror!.latencyP99Ms, predictions: ["b": 1], compared: 2, agreed: 1))
        #expect(metrics.snapshot(endpoint: "e")["shadow"]?.mirrored == 2)
    }
}
