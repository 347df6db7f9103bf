/// The order of class labels: numerically when every label is a number, otherwise by text.
///
/// With two classes the second is the positive class (as in scikit-learn), so for 0/1 labels the positive class is 1.
public enum ClassLabels {
    public static func ordered(_ labels: some Sequence<String>) -> [String] {
        let distinct = Array(Set(labels))
        let numbers = distinct.map { FeatureEncoding.parseNumber($0) }
        if numbers.allSatisfy({ $0 != nil }) {
            return zip(distinct, numbers).sorted { ($0.1!, $0.0) < ($1.1!, $1.0) }.map(\.0)
        }
        return distinct.sorted()
    }
}
