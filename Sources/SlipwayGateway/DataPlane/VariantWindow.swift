/// What one variant of an endpoint did during a recent window: the numbers the rollout controller
/// judges a canary, an A/B test or a shadow by. Read with ``LiveMetrics/window(endpoint:seconds:)``.
///
/// The window is made of whole 10-second buckets, the newest of which is still filling: a 60-second
/// window covers between 50 and 60 seconds of traffic.
public struct VariantWindow: Sendable, Codable, Equatable {
    /// The length of the window in seconds (a multiple of 10, between 10 and 600).
    public var seconds: Int
    /// Answers users got from this variant (answers to mirrored copies are under ``mirror``).
    public var requests: Int
    /// Of those, answers with a 5xx status or none at all.
    public var errors: Int
    public var errorRate: Double
    public var latencyP50Ms: Double
    public var latencyP95Ms: Double
    public var latencyP99Ms: Double
    /// How many answers predicted each class or value, keyed by the prediction's text. A variant keeps
    /// at most 50 distinct labels; later ones are counted under `other`.
    public var predictions: [String: Int]
    /// Outcomes and ground truth posted as feedback during the window for this variant's answers.
    public var outcomes: OutcomeStatistics
    /// This variant's answers to mirrored copies of other variants' requests; nil when it got none.
    public var mirror: MirrorStatistics?
    /// Latencies in milliseconds rebuilt from the window's histogram (at its two-significant-digit
    /// precision, at most ``LiveMetrics/maximumLatencySamples`` values, thinned evenly): the per-request
    /// samples the Mann–Whitney judge compares. Only filled when asked for.
    public var latencySamplesMs: [Double]?

    public init(
        seconds: Int, requests: Int = 0, errors: Int = 0, latencyP50Ms: Double = 0, latencyP95Ms: Double = 0, latencyP99Ms: Double = 0,
        predictions: [String: Int] = [:], outcomes: OutcomeStatistics = OutcomeStatistics(), mirror: MirrorStatistics? = nil,
        latencySamplesMs: [Double]? = nil
    ) {
        self.seconds = seconds
        self.requests = requests
        self.errors = errors
        self.errorRate = requests == 0 ? 0 : Double(errors) / Double(requests)
        self.latencyP50Ms = latencyP50Ms
        self.latencyP95Ms = latencyP95Ms
        self.latencyP99Ms = latencyP99Ms
        self.predictions = predictions
        self.outcomes = outcomes
        self.mirror = mirror
        self.latencySamplesMs = latencySamplesMs
    }
}

/// Sufficient statistics of the feedback posted for a variant's answers: enough to compare means and
/// accuracies between variants without keeping every outcome.
public struct OutcomeStatistics: Sendable, Codable, Equatable {
    /// Feedback with a numeric outcome.
    public var count: Int
    /// The sum of the outcomes.
    public var sum: Double
    /// The sum of the outcomes' squares (variance = sumOfSquares / count - mean²).
    public var sumOfSquares: Double
    /// The mean outcome; absent when there is none.
    public var mean: Double?
    /// Feedback whose ground truth equals the logged prediction.
    public var correct: Int
    /// Feedback whose ground truth differs from the logged prediction.
    public var incorrect: Int
    /// correct / (correct + incorrect); absent when there is no such feedback.
    public var accuracy: Double?

    public init(count: Int = 0, sum: Double = 0, sumOfSquares: Double = 0, correct: Int = 0, incorrect: Int = 0) {
        self.count = count
        self.sum = sum
        self.sumOfSquares = sumOfSquares
        self.mean = count == 0 ? nil : sum / Double(count)
        self.correct = correct
        self.incorrect = incorrect
        self.accuracy = correct + incorrect == 0 ? nil : Double(correct) / Double(correct + incorrect)
    }
}

/// A variant's answers to mirrored copies, and how often they agreed with the answer users got.
public struct MirrorStatistics: Sendable, Codable, Equatable {
    /// Copies sent to this variant (dropped copies are not counted).
    public var sent: Int
    /// Copies it answered, successfully or not.
    public var answers: Int
    /// Of those, answers with a 5xx status or none at all.
    public var errors: Int
    public var errorRate: Double
    public var latencyP50Ms: Double
    public var latencyP95Ms: Double
    public var latencyP99Ms: Double
    /// How many mirrored answers predicted each class or value.
    public var predictions: [String: Int]
    /// Mirrored answers whose prediction could be compared with the primary answer's (both had one).
    public var compared: Int
    /// Of those, the ones with the same prediction.
    public var agreed: Int
    /// agreed / compared; absent when nothing was compared.
    public var agreementRate: Double?

    public init(
        sent: Int = 0, answers: Int = 0, errors: Int = 0, latencyP50Ms: Double = 0, latencyP95Ms: Double = 0, latencyP99Ms: Double = 0,
        predictions: [String: Int] = [:], compared: Int = 0, agreed: Int = 0
    ) {
        self.sent = sent
        self.answers = answers
        self.errors = errors
        self.errorRate = answers == 0 ? 0 : Double(errors) / Double(answers)
        self.latencyP50Ms = latencyP50Ms
        self.latencyP95Ms = latencyP95Ms
        self.latencyP99Ms = latencyP99Ms
        self.predictions = predictions
        self.compared = compared
        self.agreed = agreed
        self.agreementRate = compared == 0 ? nil : Double(agreed) / Double(compared)
    }
}
