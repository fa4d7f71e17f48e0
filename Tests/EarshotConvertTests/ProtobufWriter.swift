// ProtobufWriter: builds protobuf wire-format bytes field by field, for ONNX reader tests (valid models and
// precisely broken ones).

struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func key(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    mutating func int(_ field: Int, _ v: Int64) { key(field, 0); varint(UInt64(bitPattern: v)) }
    mutating func raw(_ field: Int, _ b: [UInt8]) { key(field, 2); varint(UInt64(b.count)); bytes += b }
    mutating func string(_ field: Int, _ s: String) { raw(field, Array(s.utf8)) }
    mutating func float(_ field: Int, _ f: Float) { key(field, 5); withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 } }
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var m = ProtobufWriter()
        build(&m)
        raw(field, m.bytes)
    }
    mutating func packedInts(_ field: Int, _ values: [Int64]) {
        var m = ProtobufWriter()
        for v in values { m.varint(UInt64(bitPattern: v)) }
        raw(field, m.bytes)
    }
    mutating func packedFloats(_ field: Int, _ values: [Float]) {
        var b: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { b += $0 } }
        raw(field, b)
    }

    static func floatBytes(_ values: [Float]) -> [UInt8] {
        var b: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { b += $0 } }
        return b
    }

    /// A ModelProto: ir_version, a graph built by `graph`, one default-domain opset import.
    static func model(ir: Int64 = 8, opset: Int64 = 18, graph: (inout ProtobufWriter) -> Void) -> [UInt8] {
        var m = ProtobufWriter()
        m.int(1, ir)
        m.string(2, "test")
        m.message(7, graph)
        m.message(8) { $0.string(1, ""); $0.int(2, opset) }
        return m.bytes
    }
}
