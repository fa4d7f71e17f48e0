// RoundTripTests: what EarWriter writes, EarFile reads back identically (every dtype, metadata type,
// blob kind), with the alignment the spec promises, byte-deterministically.
import Testing
import Foundation
import EarshotFormat
import EarshotTestSupport

/// Deterministic bytes for test tensors.
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var s = seed
    return (0..<count).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: s >> 33)
    }
}

/// Shapes used per dtype (quantized rows must be multiples of 32; q4 also with a partial super-block).
let roundTripShapes: [EarDType: [[Int]]] = [
    .f32: [[3, 5], [7], []], .f16: [[2, 3, 4]], .bf16: [[9, 1]], .i8: [[13]], .u8: [[1, 1, 1, 5]],
    .i32: [[6]], .i64: [[2, 2]], .q8: [[3, 64], [32]], .q4: [[2, 256], [1, 96], [4, 512]],
]

@Test(arguments: EarDType.allCases)
func roundTripEveryDType(dtype: EarDType) throws {
    let dir = try TemporaryDirectory()
    let path = dir.path("rt.ear")
    let w = try EarWriter(path: path)
    var expected: [(String, [Int], [UInt8])] = []
    for (i, shape) in roundTripShapes[dtype]!.enumerated() {
        let name = "t.\(dtype.name).\(i)"
        let bytes = testBytes(dtype.byteCount(shape: shape)!, seed: UInt64(i) + 1)
        try w.addTensor(name: name, dtype: dtype, shape: shape, bytes: bytes)
        expected.append((name, shape, bytes))
    }
    try w.finish()

    let ear = try EarFile(path: path)
    #expect(ear.tensors.count == expected.count)
    for (name, shape, bytes) in expected {
        let t = try ear.tensor(named: name)
        #expect(t.dtype == dtype)
        #expect(t.shape == shape)
        #expect(t.byteCount == bytes.count)
        #expect(t.offset % 64 == 0)
        #expect(Array(ear.bytes(of: t)) == bytes)
        #expect(t.checksum == XXH64.hash(bytes))
    }
    #expect(ear.dataOffset % 16384 == 0)
    try ear.verify()
    #expect(dir.contents() == ["rt.ear"])   // no temporary file left
}

@Test func roundTripMetadataOfEveryType() throws {
    let dir = try TemporaryDirectory()
    let md: EarMetadata = [
        "general.architecture": "qwen-audio",
        "s.unicode": "héllo \u{1F50A} \"quoted\" \\ back\nline\ttab\u{01}",
        "i.max": .int(Int64.max), "i.min": .int(Int64.min), "i.zero": 0,
        "d.small": 1e-6, "d.whole": 10000.0, "d.neg": -2.5,
        "b.t": true, "b.f": false,
        "a.empty": [], "a.ints": [151643, 151645], "a.nested": [[1, 2], ["x"], [true, 0.5]],
    ]
    let w = try EarWriter(path: dir.path("md.ear"), metadata: md)
    try w.finish()
    let ear = try EarFile(path: dir.path("md.ear"))
    #expect(ear.metadata == md)
    #expect(try ear.metadata.string("general.architecture") == "qwen-audio")
    #expect(try ear.metadata.int("i.zero") == 0)
    #expect(try ear.metadata.double("d.whole") == 10000.0)
    #expect(try ear.metadata.double("i.max") == Double(Int64.max))  // ints read as doubles
    #expect(try ear.metadata.bool("b.t"))
    #expect(try ear.metadata.ints("a.ints") == [151643, 151645])
    #expect(throws: EarError.metadataTypeMismatch(key: "b.t", expected: "int", found: "bool")) { try ear.metadata.int("b.t") }
    #expect(throws: EarError.metadataKeyNotFound(key: "nope")) { try ear.metadata.string("nope") }
    if case .int = ear.metadata["d.whole"]! { Issue.record("10000.0 must stay a double") }
}

@Test func roundTripBlobs() throws {
    let dir = try TemporaryDirectory()
    let big = Array(String(repeating: "the quick brown fox 0123456789\n", count: 40_000).utf8)  // ~1.2 MB
    let w = try EarWriter(path: dir.path("b.ear"))
    try w.addBlob(name: "tokenizer.tiktoken", bytes: big)
    try w.addBlob(name: "raw.bin", bytes: [0, 1, 2, 255], compression: .raw)
    try w.addBlob(name: "empty", bytes: [])
    try w.finish()
    let ear = try EarFile(path: dir.path("b.ear"))
    #expect(try ear.blob(named: "tokenizer.tiktoken") == big)
    #expect(try ear.blobInfo(named: "tokenizer.tiktoken").storedSize < big.count / 10)   // really compressed
    #expect(try ear.blob(named: "raw.bin") == [0, 1, 2, 255])
    #expect(try ear.blob(named: "empty") == [])
    #expect(throws: EarError.blobNotFound(name: "missing")) { try ear.blob(named: "missing") }
    try ear.verify()
}

@Test func streamedTensorEqualsOneShot() throws {
    let dir = try TemporaryDirectory()
    let shape = [64, 4096]
    let bytes = testBytes(EarDType.q4.byteCount(shape: shape)!, seed: 9)   // 147 KiB
    let w = try EarWriter(path: dir.path("s.ear"))
    try w.addTensor(name: "one", dtype: .q4, shape: shape, bytes: bytes)
    try w.addTensor(name: "streamed", dtype: .q4, shape: shape) { sink in
        var i = 0
        while i < bytes.count {                       // odd chunk sizes cross the hash's 32-byte stripes
            let end = min(i + 1000, bytes.count)
            try sink.write(Array(bytes[i..<end]))
            i = end
        }
    }
    try w.finish()
    let ear = try EarFile(path: dir.path("s.ear"))
    let a = try ear.tensor(named: "one"), b = try ear.tensor(named: "streamed")
    #expect(a.checksum == b.checksum)
    #expect(Array(ear.bytes(of: b)) == bytes)
    try ear.verify()
}

@Test func typedF32ViewIsInPlace() throws {
    let dir = try TemporaryDirectory()
    let w = try EarWriter(path: dir.path("f.ear"))
    try w.addTensor(name: "norm.weight", shape: [4], f32: [1.5, -2, 0, 3.25])
    try w.addTensor(name: "q", dtype: .q8, shape: [1, 32], bytes: testBytes(34, seed: 1))
    try w.finish()
    let ear = try EarFile(path: dir.path("f.ear"))
    let v = try ear.f32(named: "norm.weight")
    #expect(Array(v) == [1.5, -2, 0, 3.25])
    #expect(UnsafeRawPointer(v.baseAddress!) == ear.mapping.baseAddress! + (try ear.tensor(named: "norm.weight")).offset)
    #expect(throws: EarError.dtypeMismatch(tensor: "q", expected: .f32, found: .q8)) { try ear.f32(named: "q") }
    #expect(throws: EarError.tensorNotFound(name: "nope")) { try ear.tensor(named: "nope") }
}

@Test func emptyFileRoundTrips() throws {
    let dir = try TemporaryDirectory()
    let size = try EarWriter(path: dir.path("e.ear")).finish()
    let ear = try EarFile(path: dir.path("e.ear"))
    #expect(size == ear.fileSize)
    #expect(ear.tensors.isEmpty && ear.blobs.isEmpty && ear.metadata.keys.isEmpty)
    #expect(ear.dataOffset == 16384 && ear.dataSize == 0)
    try ear.verify()
}

@Test func writerIsByteDeterministic() throws {
    let dir = try TemporaryDirectory()
    try EarExample.write(path: dir.path("a.ear"))
    try EarExample.write(path: dir.path("b.ear"))
    let a = try Data(contentsOf: URL(fileURLWithPath: dir.path("a.ear")))
    let b = try Data(contentsOf: URL(fileURLWithPath: dir.path("b.ear")))
    #expect(a == b)
}

@Test func exampleFileIsValid() throws {
    let dir = try TemporaryDirectory()
    try EarExample.write(path: dir.path("x.ear"))
    let ear = try EarFile(path: dir.path("x.ear"))
    #expect(Set(ear.tensors.map(\.dtype)) == Set(EarDType.allCases))   // one tensor of every dtype
    #expect(ear.blobs.map(\.compression) == [.zstd, .raw])
    #expect(try ear.metadata.string("general.architecture") == "example")
    try ear.verify()
}
