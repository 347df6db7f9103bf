/// Compares the prediction users got for one request with the predictions of its mirrored copies,
/// which come back in any order, and counts agreements per mirrored variant in ``LiveMetrics``.
///
/// Lives on the client connection's event loop (every answer of a request completes there), so it
/// needs no lock. Only answers that both carry a prediction are compared.
final class MirrorComparison {
    private let endpoint: String
    private let metrics: LiveMetrics
    private var primary: Outcome = .waiting
    private var early: [(variant: String, prediction: String)] = []

    private enum Outcome {
        case waiting
        case answered(String?)
    }

    init(endpoint: String, metrics: LiveMetrics) {
        self.endpoint = endpoint
        self.metrics = metrics
    }

    func primaryAnswered(_ prediction: String?) {
        primary = .answered(prediction)
        defer { early = [] }
        guard let prediction else { return }
        for mirror in early {
            metrics.recordAgreement(endpoint: endpoint, variant: mirror.variant, agreed: mirror.prediction == prediction)
        }
    }

    func mirrorAnswered(variant: String, prediction: String?) {
        guard let prediction else { return }
        switch primary {
        case .waiting:
            early.append((variant, prediction))
        case .answered(let primary?):
            metrics.recordAgreement(endpoint: endpoint, variant: variant, agreed: primary == prediction)
        case .answered(nil):
            break
        }
    }
}
