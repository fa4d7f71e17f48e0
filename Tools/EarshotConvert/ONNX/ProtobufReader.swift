// ProtobufReader: a bounds-checked cursor over protobuf wire-format bytes (the encoding of ONNX files).
//
// Wire format (https://protobuf.dev/programming-guides/encoding/): a message is a sequence of fields, each a
// varint key `(field_number << 3) | wire_type` followed by its value:
//   0 varint (≤ 10 bytes, 7 bits each, little-endian groups)   1 fixed64 (8 bytes LE)
//   2 length-delimited (varint length, then that many bytes: strings, bytes, sub-messages, packed arrays)
//   5 fixed32 (4 bytes LE)                                     3/4 groups (deprecated; refused here)
// Every length is checked against the bytes left in the enclosing message before it is used, so a
// corrupt file gives a `ProtobufError` naming the offset, never a read past the end or a huge allocation
// (packed arrays are sized from their byte length, which the file bounds).

/// A malformed protobuf: what was being read, where, and why. The ONNX layer adds the file path.
struct ProtobufError: Error, Equatable {
    let offset: Int
    let reason: String
}

/// The wire type of one field.
enum WireType: UInt8 {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
}

/// One field's key: its number, how its value is encoded, and the offset of the value.
struct ProtobufField {
    let number: Int
    let wire: WireType
    let offset: Int
}

/// Reads one message: `bytes[start ..< end]` of the whole buffer (offsets stay absolute for messages).
struct ProtobufReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) {
        self.bytes = bytes
        offset = range.lowerBound
        end = range.upperBound
    }

    var isAtEnd: Bool { offset >= end }

    /// The next field's key, or nil at the end of the message.
    mutating func nextField() throws(ProtobufError) -> ProtobufField? {
        if offset >= end { return nil }
        let at = offset
        let key = try varint()
        guard let wire = WireType(rawValue: UInt8(key & 7)) else {
            throw ProtobufError(offset: at, reason: "unknown wire type \(key & 7)")
        }
        let number = key >> 3
        guard number >= 1 && number <= 536_870_911 else {
            throw ProtobufError(offset: at, reason: "field number \(number) out of range")
        }
        if wire == .startGroup || wire == .endGroup {
            throw ProtobufError(offset: at, reason: "field \(number) uses the deprecated group encoding")
        }
        return ProtobufField(number: Int(number), wire: wire, offset: offset)
    }

    /// A base-128 varint (at most 10 bytes; the 10th may only carry the top bit).
    mutating func varint() throws(ProtobufError) -> UInt64 {
        let at = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw ProtobufError(offset: at, reason: "varint runs past the end of its message") }
            let b = bytes[offset]
            offset += 1
            if shift == 63 && b > 1 { throw ProtobufError(offset: at, reason: "varint longer than 64 bits") }
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { throw ProtobufError(offset: at, reason: "varint longer than 10 bytes") }
        }
    }

    mutating func fixed32() throws(ProtobufError) -> UInt32 {
        guard end - offset >= 4 else { throw ProtobufError(offset: offset, reason: "fixed32 runs past the end of its message") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return v
    }

    mutating func fixed64() throws(ProtobufError) -> UInt64 {
        guard end - offset >= 8 else { throw ProtobufError(offset: offset, reason: "fixed64 runs past the end of its message") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return v
    }

    /// The byte range of a length-delimited value (checked against the message's end).
    mutating func lengthDelimited() throws(ProtobufError) -> Range<Int> {
        let at = offset
        let n = try varint()
        guard n <= UInt64(end - offset) else {
            throw ProtobufError(offset: at, reason: "length \(n) runs past the end of its message (\(end - offset) bytes left)")
        }
        let r = offset..<(offset + Int(n))
        offset += Int(n)
        return r
    }

    /// Skips the value of `field` (unknown fields are ignored, as protobuf requires).
    mutating func skip(_ field: ProtobufField) throws(ProtobufError) {
        switch field.wire {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw ProtobufError(offset: field.offset, reason: "group encoding")
        }
    }

    /// Checks that `field` has wire type `wire`.
    func expect(_ field: ProtobufField, _ wire: WireType, _ what: String) throws(ProtobufError) {
        guard field.wire == wire else {
            throw ProtobufError(offset: field.offset, reason: "\(what) (field \(field.number)) has wire type \(field.wire.rawValue), expected \(wire.rawValue)")
        }
    }

    // MARK: typed values

    /// A varint field as a signed 64-bit integer (protobuf int64/int32: two's complement).
    mutating func int64(_ field: ProtobufField, _ what: String) throws(ProtobufError) -> Int64 {
        try expect(field, .varint, what)
        return Int64(bitPattern: try varint())
    }

    /// A length-delimited field as UTF-8 text of at most `maxBytes` bytes.
    mutating func string(_ field: ProtobufField, _ what: String, maxBytes: Int) throws(ProtobufError) -> String {
        try expect(field, .lengthDelimited, what)
        let r = try lengthDelimited()
        guard r.count <= maxBytes else {
            throw ProtobufError(offset: field.offset, reason: "\(what) is \(r.count) bytes long (limit \(maxBytes))")
        }
        guard let s = String(validating: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self) else {
            throw ProtobufError(offset: field.offset, reason: "\(what) is not valid UTF-8")
        }
        return s
    }

    /// A sub-message: its reader, positioned at its first field.
    mutating func message(_ field: ProtobufField, _ what: String) throws(ProtobufError) -> ProtobufReader {
        try expect(field, .lengthDelimited, what)
        return ProtobufReader(bytes, range: try lengthDelimited())
    }

    /// Appends the values of a repeated int64 field, packed (one length-delimited run) or not (one varint).
    mutating func appendInt64s(_ field: ProtobufField, _ what: String, to out: inout [Int64], limit: Int) throws(ProtobufError) {
        if field.wire == .varint {
            guard out.count < limit else { throw ProtobufError(offset: field.offset, reason: "\(what) has more than \(limit) values") }
            out.append(Int64(bitPattern: try varint()))
            return
        }
        try expect(field, .lengthDelimited, what)
        var packed = ProtobufReader(bytes, range: try lengthDelimited())
        while !packed.isAtEnd {
            guard out.count < limit else { throw ProtobufError(offset: packed.offset, reason: "\(what) has more than \(limit) values") }
            out.append(Int64(bitPattern: try packed.varint()))
        }
    }

    /// Appends the values of a repeated float field, packed or not. Packed runs are sized by their byte
    /// length (a multiple of 4), which the enclosing message bounds.
    mutating func appendFloats(_ field: ProtobufField, _ what: String, to out: inout [Float], limit: Int) throws(ProtobufError) {
        if field.wire == .fixed32 {
            guard out.count < limit else { throw ProtobufError(offset: field.offset, reason: "\(what) has more than \(limit) values") }
            out.append(Float(bitPattern: try fixed32()))
            return
        }
        try expect(field, .lengthDelimited, what)
        let r = try lengthDelimited()
        guard r.count % 4 == 0 else { throw ProtobufError(offset: field.offset, reason: "packed \(what) is \(r.count) bytes, not a multiple of 4") }
        guard out.count + r.count / 4 <= limit else { throw ProtobufError(offset: field.offset, reason: "\(what) has more than \(limit) values") }
        out.reserveCapacity(out.count + r.count / 4)
        var p = r.lowerBound
        while p < r.upperBound {
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(bytes[p + i]) << (8 * UInt32(i)) }
            out.append(Float(bitPattern: v))
            p += 4
        }
    }
}
