import Foundation
import SlipwayModels
import Testing

@Suite struct LabeledDataTests {
    @Test func numericColumnsAndTextLabels() throws {
        let file = try TemporaryFile(contents: "a,b,kind\n1,2.5,cat\n-3,4e2,dog\n")
        let data = try LabeledData.load(csv: file.url, target: "kind")
        #expect(data.featureNames == ["a", "b"])
        #expect(data.features == [[1, 2.5], [-3, 400]])
        #expect(data.labels == ["cat", "dog"])
        #expect(data.lines == [2, 3])
    }

    @Test func textColumnsAreOneHotEncoded() throws {
        let file = try TemporaryFile(contents: "size,colour,y\n1,red,0\n2,blue,1\n3,red,1\n")
        let data = try LabeledData.load(csv: file.url, target: "y")
        #expect(data.featureNames == ["size", "colour=blue", "colour=red"])
        #expect(data.features == [[1, 0, 1], [2, 1, 0], [3, 0, 1]])
        // An unseen category encodes as all zeros.
        let later = try TemporaryFile(contents: "y,colour,size\n1,green,4\n")
        let test = try LabeledData.load(csv: later.url, target: "y", encoding: data.encoding)
        #expect(test.features == [[4, 0, 0]])
    }

    @Test func aNonNumericValueInANumericColumnNamesColumnAndLine() throws {
        let file = try TemporaryFile(contents: "a,b,y\n1,2,0\n3,oops,1\n5,6,0\n")
        #expect {
            _ = try LabeledData.load(csv: file.url, target: "y")
        } throws: { error in
            guard case .csv(_, let line, let message) = error as? ModelError else { return false }
            return line == 3 && message.contains("'b'") && message.contains("oops")
        }
    }

    @Test func nonFiniteNumbersAreNotNumbers() throws {
        let file = try TemporaryFile(contents: "a,y\n1,0\nnan,1\n")
        #expect(throws: ModelError.self) { _ = try LabeledData.load(csv: file.url, target: "y") }
        #expect(FeatureEncoding.parseNumber("inf") == nil)
        #expect(FeatureEncoding.parseNumber("0x10") == nil)
        #expect(FeatureEncoding.parseNumber("-1.5e3") == -1500)
    }

    @Test func missingValuesAndMissingColumnsAreExplained() throws {
        let empty = try TemporaryFile(contents: "a,y\n1,0\n,1\n")
        #expect {
            _ = try LabeledData.load(csv: empty.url, target: "y")
        } throws: { error in
            guard case .csv(_, let line, let message) = error as? ModelError else { return false }
            return line == 3 && message.contains("'a' has no value")
        }
        let file = try TemporaryFile(contents: "a,y\n1,0\n")
        #expect {
            _ = try LabeledData.load(csv: file.url, target: "label")
        } throws: { error in
            (error as? ModelError)?.message.contains("no column 'label'") == true
        }
        let model = FeatureEncoding(columns: [InputColumn(name: "a"), InputColumn(name: "b")])
        #expect {
            _ = try LabeledData.load(csv: file.url, target: "y", encoding: model)
        } throws: { error in
            (error as? ModelError)?.message.contains("no column 'b'") == true
        }
    }

    @Test func classLabelsSortNumericallyWhenNumeric() {
        #expect(ClassLabels.ordered(["10", "9", "1", "9"]) == ["1", "9", "10"])
        #expect(ClassLabels.ordered(["b", "a", "10"]) == ["10", "a", "b"])
    }
}
