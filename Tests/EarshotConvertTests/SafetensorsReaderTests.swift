// Safetensors reader: valid files parse; every malformed header or size is refused with a typed error.
import Foundation
import Testing
@testable import EarshotConvert
import EarshotTestSupport

@Suite struct SafetensorsReaderTests {
    /// Writes a file with the given header JSON and `dataBytes` zero bytes of data.
    func rawFile(_ dir: URL, header: String, dataBytes: Int, lengthOverride: UInt64? = nil) throws -> String {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var d = Data()
        let len = lengthOverride ?? UInt64(h.count)
        for i in 0..<8 { d.append(UInt8(truncatingIfNeeded: len >> (8 * UInt64(i)))) }
        d.append(contentsOf: h)
        d.append(Data(count: dataBytes))
        let url = dir.appendingPathComponent("t.safetensors")
        try d.write(to: url)
        return url.path
    }

    @Test func readsWhatTheWriterWrites() throws {
        let dir = try scratchDirectory("st-ok")
        defer { cleanup(dir) }
        let url = dir.appendingPathComponent("a.safetensors")
        let b = Data((0..<24).map { UInt8($0) })
        try SafetensorsWriter.write(url: url, tensors: [
            (SafetensorsEntry(name: "x", dtype: "BF16", shape: [2, 3]), b.prefix(12)),
            (SafetensorsEntry(name: "a", dtype: "F32", shape: [3]), b.prefix(12)),
        ])
        let f = try SafetensorsFile(path: url.path)
        #expect(f.metadata == ["format": "pt"])
        #expect(f.tensors["x"]?.shape == [2, 3] && f.tensors["x"]?.dtype == .bf16)
        #expect(f.tensors["a"]?.dtype == .f32 && f.tensors["a"]?.byteCount == 12)
        #expect(Array(f.bytes(of: f.tensors["x"]!)) == Array(b.prefix(12)))
    }

    @Test func refusesTruncatedData() throws {
        let dir = try scratchDirectory("st-trunc")
        defer { cleanup(dir) }
        let p = try rawFile(dir, header: #"{"w":{"dtype":"BF16","shape":[4,4],"data_offsets":[0,32]}}"#, dataBytes: 20)
        #expect(throws: ConvertError.shardSizeMismatch(path: p, expectedDataBytes: 32, actualDataBytes: 20)) {
            try SafetensorsFile(path: p)
        }
    }

    @Test func refusesHeaderLengthPastTheEnd() throws {
        let dir = try scratchDirectory("st-hdr")
        defer { cleanup(dir) }
        let p = try rawFile(dir, header: "{}", dataBytes: 0, lengthOverride: 1 << 20)
        #expect(throws: ConvertError.safetensorsHeaderTruncated(path: p, headerLength: 1 << 20, fileSize: 16)) {
            try SafetensorsFile(path: p)
        }
        let short = dir.appendingPathComponent("s.safetensors")
        try Data([1, 2, 3]).write(to: short)
        #expect(throws: ConvertError.safetensorsHeaderTruncated(path: short.path, headerLength: 0, fileSize: 3)) {
            try SafetensorsFile(path: short.path)
        }
    }

    @Test func refusesUnknownDType() throws {
        let dir = try scratchDirectory("st-dtype")
        defer { cleanup(dir) }
        let p = try rawFile(dir, header: #"{"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}"#, dataBytes: 4)
        #expect(throws: ConvertError.unsupportedDType(path: p, tensor: "w", dtype: "F8_E4M3")) { try SafetensorsFile(path: p) }
    }

    @Test func refusesInconsistentEntries() throws {
        let dir = try scratchDirectory("st-entry")
        defer { cleanup(dir) }
        let cases = [
            #"{"w":{"dtype":"BF16","shape":[4,4],"data_offsets":[0,30]}}"#,          // size ≠ numel × 2
            #"{"w":{"dtype":"BF16","shape":[4,-1],"data_offsets":[0,32]}}"#,         // negative dim
            #"{"w":{"dtype":"BF16","shape":[4,1.5],"data_offsets":[0,32]}}"#,        // fractional dim
            #"{"w":{"dtype":"BF16","shape":[4],"data_offsets":[8,0]}}"#,             // decreasing offsets
            #"{"w":{"dtype":"BF16","shape":[4]}}"#,                                  // no offsets
            #"{"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[4,12]}}"#, // overlap
        ]
        for header in cases {
            let p = try rawFile(dir, header: header, dataBytes: 32)
            #expect(performing: { try SafetensorsFile(path: p) }, throws: { e in
                if case .invalidTensorEntry = e as? ConvertError { return true }
                return false
            })
        }
        let p = try rawFile(dir, header: "[1,2]", dataBytes: 0)
        #expect(throws: ConvertError.safetensorsInvalidHeader(path: p, reason: "header is not a JSON object")) { try SafetensorsFile(path: p) }
        let q = try rawFile(dir, header: "{not json", dataBytes: 0)
        #expect(throws: ConvertError.safetensorsInvalidHeader(path: q, reason: "header is not valid JSON")) { try SafetensorsFile(path: q) }
    }

    @Test func refusesTrailingBytes() throws {
        let dir = try scratchDirectory("st-trail")
        defer { cleanup(dir) }
        let p = try rawFile(dir, header: #"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, dataBytes: 10)
        #expect(throws: ConvertError.shardSizeMismatch(path: p, expectedDataBytes: 4, actualDataBytes: 10)) { try SafetensorsFile(path: p) }
    }
}
