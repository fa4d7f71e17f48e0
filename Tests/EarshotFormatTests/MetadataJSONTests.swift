// MetadataJSONTests: the strict metadata parser accepts exactly the allowed JSON shape and rejects the
// rest with a typed error (no crash on deep nesting or huge numbers).
import Testing
@testable import EarshotFormat

private func parse(_ s: String) throws(EarError) -> EarMetadata { try MetadataJSON.parse(Array(s.utf8)) }

@Test func parsesTypedValues() throws {
    let md = try parse(#" { "a.s" : "x\u00e9\ud83d\udd0a\n" , "a.i": -12, "a.d": 1.5e3, "a.b": false, "a.a": [1, [2.0], "z"] } "#)
    #expect(md["a.s"] == .string("xé\u{1F50A}\n"))
    #expect(md["a.i"] == .int(-12))
    #expect(md["a.d"] == .double(1500))
    #expect(md["a.b"] == .bool(false))
    #expect(md["a.a"] == .array([.int(1), .array([.double(2)]), .string("z")]))
}

@Test(arguments: [
    ("[]", nil as String?),                         // not an object
    (#"{"a": null}"#, "a"),
    (#"{"a": {"b": 1}}"#, "a"),                    // nested object
    (#"{"a": 01}"#, "a"),                          // leading zero
    (#"{"a": 99999999999999999999}"#, "a"),        // int overflow
    (#"{"a": 1e999}"#, "a"),                       // not finite
    (#"{"a": "\ud800"}"#, nil),                    // lone surrogate
    ("{\"a\": \"tab\traw\"}", nil),             // raw control character (a real tab byte)
    (#"{"a": 1,}"#, nil),                          // trailing comma
    (#"{"a": 1} x"#, nil),                         // trailing bytes
    (#"{"bad key": 1}"#, "bad key"),
    (#"{"a": tru}"#, "a"),
    (#"{"a": "unterminated}"#, nil),
])
func rejectsInvalidMetadata(text: String, key: String?) {
    #expect { _ = try parse(text) } throws: { error in
        guard case .invalidMetadata(let k, _) = error as? EarError else { return false }
        return k == key
    }
}

@Test func rejectsDuplicateKeys() {
    #expect(throws: EarError.duplicateName(kind: "metadata key", name: "a")) { _ = try parse(#"{"a": 1, "a": 2}"#) }
}

@Test func deepNestingIsRejectedNotACrash() {
    let deep = #"{"a": "# + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "}"
    #expect { _ = try parse(deep) } throws: { error in
        if case .invalidMetadata("a", let reason) = error as? EarError { return reason.contains("nested deeper") }
        return false
    }
}

@Test func serializationIsCanonical() {
    let md: EarMetadata = ["b.x": 1, "a.y": [true, "q\""], "c.z": 1e-6]
    #expect(md.json == #"{"a.y":[true,"q\""],"b.x":1,"c.z":1e-06}"#)
}
