// ONNXModel: the subset of the ONNX protobuf schema (onnx/onnx.proto, IR version 3…10) that a converter
// needs to read a small inference graph: ModelProto → GraphProto → NodeProto / AttributeProto /
// TensorProto / ValueInfoProto. Field numbers are the schema's; unknown fields are skipped, as protobuf
// requires. Tensor data stays in the file's bytes (`raw_data`) or is decoded from the typed repeated fields.
//
// Parsing is validated like every other input: each length is checked against the enclosing message
// (ProtobufReader), counts against `ONNXLimits`, graph nesting (If/Loop bodies) against a depth cap, and
// every tensor's element count against the bytes it actually carries. Errors name the path and the message
// being read: `ConvertError.invalidONNX`.
import EarshotFormat
import Foundation

/// Caps on what one ONNX file may hold. Generous for any inference graph of the sizes Earshot converts.
public struct ONNXLimits: Sendable {
    public var maxFileBytes = 256 << 20
    public var maxGraphDepth = 8
    public var maxNodes = 100_000
    public var maxInitializers = 100_000
    public var maxAttributes = 1_000
    public var maxNodeIO = 10_000
    public var maxRank = 16
    public var maxNameBytes = 64 << 10
    public var maxOpsets = 100
    public init() {}
}

/// ONNX TensorProto.DataType values this reader knows.
public enum ONNXDataType: Int32, Sendable, CustomStringConvertible {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8, bool = 9
    case float16 = 10, double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16

    /// Bytes per element in `raw_data` (nil for strings).
    public var byteSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16, .float16, .bfloat16: return 2
        case .float, .int32, .uint32: return 4
        case .int64, .double, .uint64: return 8
        case .string: return nil
        }
    }

    public var description: String {
        switch self {
        case .float: return "float32"
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .string: return "string"
        case .bool: return "bool"
        case .float16: return "float16"
        case .double: return "float64"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .bfloat16: return "bfloat16"
        }
    }
}

/// A TensorProto: shape, type and where its values are.
public struct ONNXTensor: Sendable {
    public var name: String
    public var dims: [Int]
    public var dataType: ONNXDataType
    /// `raw_data` as a range of the model's bytes (nil when the values are in a typed field).
    public var rawRange: Range<Int>?
    /// `float_data` (float tensors without raw_data).
    public var floatData: [Float]
    /// `int64_data` (int64 tensors without raw_data) or `int32_data` (int32 and smaller integer types, bool, float16).
    public var intData: [Int64]

    public var elementCount: Int { dims.reduce(1, *) }
}

/// An AttributeProto. Only the value matching `type` is meaningful.
public struct ONNXAttribute: Sendable {
    public enum Kind: Int32, Sendable {
        case undefined = 0, float = 1, int = 2, string = 3, tensor = 4, graph = 5, floats = 6, ints = 7
        case strings = 8, tensors = 9, graphs = 10, sparseTensor = 11, sparseTensors = 12, typeProto = 13, typeProtos = 14
    }
    public var name: String = ""
    public var kind: Kind = .undefined
    public var f: Float = 0
    public var i: Int64 = 0
    public var s: [UInt8] = []
    public var t: ONNXTensor?
    public var g: ONNXGraph?
    public var floats: [Float] = []
    public var ints: [Int64] = []
    public var strings: [[UInt8]] = []
    /// Set when the attribute refers to a function attribute (`ref_attr_name`); its value is then absent.
    public var refAttrName: String = ""
}

/// A NodeProto.
public struct ONNXNode: Sendable {
    public var name: String = ""
    public var opType: String = ""
    public var domain: String = ""
    public var inputs: [String] = []
    public var outputs: [String] = []
    public var attributes: [ONNXAttribute] = []

    public func attribute(_ name: String) -> ONNXAttribute? { attributes.first { $0.name == name } }
}

/// A graph input/output (ValueInfoProto): name, element type and static dims (nil for a symbolic dim).
public struct ONNXValueInfo: Sendable {
    public var name: String = ""
    public var elementType: Int32 = 0
    public var dims: [Int?]? = nil
}

/// A GraphProto.
public struct ONNXGraph: Sendable {
    public var name: String = ""
    public var nodes: [ONNXNode] = []
    public var initializers: [ONNXTensor] = []
    public var inputs: [ONNXValueInfo] = []
    public var outputs: [ONNXValueInfo] = []
    /// Sparse initializers present (this reader does not decode them; converters refuse such graphs).
    public var sparseInitializerCount = 0

    public func initializer(_ name: String) -> ONNXTensor? { initializers.first { $0.name == name } }
}

/// A parsed ModelProto. Tensor `rawRange`s index `bytes`.
public struct ONNXModel: Sendable {
    public let path: String
    public let bytes: [UInt8]
    public var irVersion: Int64 = 0
    public var producerName: String = ""
    public var producerVersion: String = ""
    /// (domain, version) of each opset import; "" is the default ONNX domain.
    public var opsets: [(domain: String, version: Int64)] = []
    public var graph = ONNXGraph()
    public var functionCount = 0

    /// Reads and parses the file at `path`.
    public init(path: String, limits: ONNXLimits = .init()) throws(ConvertError) {
        // A regular file only (a FIFO is refused at once, never waited on), at most maxFileBytes.
        let bytes: [UInt8]
        do { bytes = try InputFile.read(path, limit: limits.maxFileBytes) } catch {
            if case .fileTooLarge(_, let size, _) = error {
                throw .invalidONNX(path: path, reason: "the file is \(size) bytes, more than the \(limits.maxFileBytes >> 20) MB this reader accepts")
            }
            throw ConvertError(reading: path, what: "ONNX model", error)
        }
        try self.init(bytes: bytes, path: path, limits: limits)
    }

    /// Parses ModelProto bytes (`path` is only used in messages).
    public init(bytes: [UInt8], path: String, limits: ONNXLimits = .init()) throws(ConvertError) {
        self.path = path
        self.bytes = bytes
        guard !bytes.isEmpty else { throw .invalidONNX(path: path, reason: "the file is empty") }
        guard bytes.count <= limits.maxFileBytes else {
            throw .invalidONNX(path: path, reason: "the file is \(bytes.count) bytes, more than the \(limits.maxFileBytes >> 20) MB this reader accepts")
        }
        let parsed = bytes.withUnsafeBytes { raw in
            Result { () throws(ProtobufError) in try ONNXParser(limits: limits).model(raw) }
        }
        switch parsed {
        case .failure(let error): throw .invalidONNX(path: path, reason: "\(error.reason) (at byte \(error.offset))")
        case .success(let m):
            irVersion = m.irVersion
            producerName = m.producerName
            producerVersion = m.producerVersion
            opsets = m.opsets
            graph = m.graph
            functionCount = m.functionCount
        }
        guard opsets.contains(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw .invalidONNX(path: path, reason: "no opset_import for the default ONNX domain (truncated file?)")
        }
        guard irVersion >= 3 && irVersion <= 12 else {
            throw .invalidONNX(path: path, reason: "ir_version \(irVersion) is outside the ONNX IR versions 3…12 this reader knows")
        }
    }

    /// The float32 values of `tensor` (from raw_data or float_data).
    public func floats(_ tensor: ONNXTensor) throws(ConvertError) -> [Float] {
        guard tensor.dataType == .float else {
            throw .unsupportedONNX(path: path, reason: "tensor \(tensor.name) is \(tensor.dataType), expected float32")
        }
        guard let r = tensor.rawRange else { return tensor.floatData }
        return bytes.withUnsafeBytes { raw in
            (0..<(r.count / 4)).map { i in Float(bitPattern: raw.loadUnaligned(fromByteOffset: r.lowerBound + 4 * i, as: UInt32.self).littleEndian) }
        }
    }

    /// The integer values of an int64 or int32 `tensor`.
    public func integers(_ tensor: ONNXTensor) throws(ConvertError) -> [Int64] {
        switch tensor.dataType {
        case .int64:
            guard let r = tensor.rawRange else { return tensor.intData }
            return bytes.withUnsafeBytes { raw in
                (0..<(r.count / 8)).map { i in Int64(littleEndian: raw.loadUnaligned(fromByteOffset: r.lowerBound + 8 * i, as: Int64.self)) }
            }
        case .int32:
            guard let r = tensor.rawRange else { return tensor.intData }
            return bytes.withUnsafeBytes { raw in
                (0..<(r.count / 4)).map { i in Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: r.lowerBound + 4 * i, as: Int32.self))) }
            }
        default:
            throw .unsupportedONNX(path: path, reason: "tensor \(tensor.name) is \(tensor.dataType), expected an integer tensor")
        }
    }
}

/// The recursive part of the parser (graphs inside attributes), with the limits and nesting depth.
struct ONNXParser {
    let limits: ONNXLimits

    func fail(_ r: ProtobufReader, _ context: String, _ reason: String) -> ProtobufError {
        ProtobufError(offset: r.offset, reason: "\(context): \(reason)")
    }

    /// The fields of a ModelProto this reader keeps.
    struct Header {
        var irVersion: Int64 = 0
        var producerName = "", producerVersion = ""
        var opsets: [(domain: String, version: Int64)] = []
        var graph = ONNXGraph()
        var functionCount = 0
    }

    func model(_ raw: UnsafeRawBufferPointer) throws(ProtobufError) -> Header {
        var m = Header()
        var r = ProtobufReader(raw, range: 0..<raw.count)
        var sawGraph = false
        while let f = try r.nextField() {
            switch f.number {
            case 1: m.irVersion = try r.int64(f, "ModelProto.ir_version")
            case 2: m.producerName = try r.string(f, "ModelProto.producer_name", maxBytes: limits.maxNameBytes)
            case 3: m.producerVersion = try r.string(f, "ModelProto.producer_version", maxBytes: limits.maxNameBytes)
            case 7:
                guard !sawGraph else { throw ProtobufError(offset: f.offset, reason: "ModelProto has two graphs") }
                var g = try r.message(f, "ModelProto.graph")
                m.graph = try graph(&g, depth: 1, context: "graph")
                sawGraph = true
            case 8:
                guard m.opsets.count < limits.maxOpsets else { throw ProtobufError(offset: f.offset, reason: "more than \(limits.maxOpsets) opset imports") }
                var o = try r.message(f, "ModelProto.opset_import")
                var domain = "", version: Int64 = 0
                while let g = try o.nextField() {
                    switch g.number {
                    case 1: domain = try o.string(g, "OperatorSetIdProto.domain", maxBytes: limits.maxNameBytes)
                    case 2: version = try o.int64(g, "OperatorSetIdProto.version")
                    default: try o.skip(g)
                    }
                }
                m.opsets.append((domain, version))
            case 25:
                m.functionCount += 1
                try r.skip(f)
            default: try r.skip(f)
            }
        }
        guard sawGraph else { throw ProtobufError(offset: 0, reason: "ModelProto has no graph (is this an ONNX model file?)") }
        return m
    }

    func graph(_ r: inout ProtobufReader, depth: Int, context: String) throws(ProtobufError) -> ONNXGraph {
        guard depth <= limits.maxGraphDepth else {
            throw fail(r, context, "graphs nested more than \(limits.maxGraphDepth) deep")
        }
        var g = ONNXGraph()
        while let f = try r.nextField() {
            switch f.number {
            case 1:
                guard g.nodes.count < limits.maxNodes else { throw fail(r, context, "more than \(limits.maxNodes) nodes") }
                var m = try r.message(f, "\(context).node")
                g.nodes.append(try node(&m, depth: depth, context: "\(context).node[\(g.nodes.count)]"))
            case 2: g.name = try r.string(f, "\(context).name", maxBytes: limits.maxNameBytes)
            case 5:
                guard g.initializers.count < limits.maxInitializers else { throw fail(r, context, "more than \(limits.maxInitializers) initializers") }
                var m = try r.message(f, "\(context).initializer")
                g.initializers.append(try tensor(&m, context: "\(context).initializer[\(g.initializers.count)]"))
            case 11, 12:
                var m = try r.message(f, "\(context).\(f.number == 11 ? "input" : "output")")
                let v = try valueInfo(&m, context: "\(context).\(f.number == 11 ? "input" : "output")")
                if f.number == 11 {
                    guard g.inputs.count < limits.maxNodeIO else { throw fail(r, context, "more than \(limits.maxNodeIO) inputs") }
                    g.inputs.append(v)
                } else {
                    guard g.outputs.count < limits.maxNodeIO else { throw fail(r, context, "more than \(limits.maxNodeIO) outputs") }
                    g.outputs.append(v)
                }
            case 15:
                g.sparseInitializerCount += 1
                try r.skip(f)
            default: try r.skip(f)
            }
        }
        return g
    }

    func node(_ r: inout ProtobufReader, depth: Int, context: String) throws(ProtobufError) -> ONNXNode {
        var n = ONNXNode()
        while let f = try r.nextField() {
            switch f.number {
            case 1, 2:
                guard n.inputs.count + n.outputs.count < limits.maxNodeIO else { throw fail(r, context, "more than \(limits.maxNodeIO) inputs and outputs") }
                let s = try r.string(f, "\(context).\(f.number == 1 ? "input" : "output")", maxBytes: limits.maxNameBytes)
                if f.number == 1 { n.inputs.append(s) } else { n.outputs.append(s) }
            case 3: n.name = try r.string(f, "\(context).name", maxBytes: limits.maxNameBytes)
            case 4: n.opType = try r.string(f, "\(context).op_type", maxBytes: limits.maxNameBytes)
            case 7: n.domain = try r.string(f, "\(context).domain", maxBytes: limits.maxNameBytes)
            case 5:
                guard n.attributes.count < limits.maxAttributes else { throw fail(r, context, "more than \(limits.maxAttributes) attributes") }
                var m = try r.message(f, "\(context).attribute")
                n.attributes.append(try attribute(&m, depth: depth, context: "\(context).attribute[\(n.attributes.count)]"))
            default: try r.skip(f)
            }
        }
        return n
    }

    func attribute(_ r: inout ProtobufReader, depth: Int, context: String) throws(ProtobufError) -> ONNXAttribute {
        var a = ONNXAttribute()
        let cap = limits.maxFileBytes
        while let f = try r.nextField() {
            switch f.number {
            case 1: a.name = try r.string(f, "\(context).name", maxBytes: limits.maxNameBytes)
            case 20:
                let v = try r.int64(f, "\(context).type")
                guard let k = Int32(exactly: v).flatMap(ONNXAttribute.Kind.init(rawValue:)) else {
                    throw fail(r, context, "unknown attribute type \(v)")
                }
                a.kind = k
            case 21: a.refAttrName = try r.string(f, "\(context).ref_attr_name", maxBytes: limits.maxNameBytes)
            case 2:
                try r.expect(f, .fixed32, "\(context).f")
                a.f = Float(bitPattern: try r.fixed32())
            case 3: a.i = try r.int64(f, "\(context).i")
            case 4:
                try r.expect(f, .lengthDelimited, "\(context).s")
                let range = try r.lengthDelimited()
                a.s = Array(r.bytes[range])
            case 5:
                var m = try r.message(f, "\(context).t")
                a.t = try tensor(&m, context: "\(context).t")
            case 6:
                var m = try r.message(f, "\(context).g")
                a.g = try graph(&m, depth: depth + 1, context: "\(context).g")
            case 7: try r.appendFloats(f, "\(context).floats", to: &a.floats, limit: cap)
            case 8: try r.appendInt64s(f, "\(context).ints", to: &a.ints, limit: cap)
            case 9:
                try r.expect(f, .lengthDelimited, "\(context).strings")
                let range = try r.lengthDelimited()
                a.strings.append(Array(r.bytes[range]))
            case 11:
                // `graphs`: parsed for validation (depth) but this reader's converters never use them.
                var m = try r.message(f, "\(context).graphs")
                _ = try graph(&m, depth: depth + 1, context: "\(context).graphs")
            default: try r.skip(f)
            }
        }
        return a
    }

    func valueInfo(_ r: inout ProtobufReader, context: String) throws(ProtobufError) -> ONNXValueInfo {
        var v = ONNXValueInfo()
        while let f = try r.nextField() {
            switch f.number {
            case 1: v.name = try r.string(f, "\(context).name", maxBytes: limits.maxNameBytes)
            case 2:
                var type = try r.message(f, "\(context).type")
                while let t = try type.nextField() {
                    guard t.number == 1 else { try type.skip(t); continue }   // only tensor_type is read
                    var tt = try type.message(t, "\(context).type.tensor_type")
                    while let e = try tt.nextField() {
                        switch e.number {
                        case 1: v.elementType = Int32(truncatingIfNeeded: try tt.int64(e, "\(context).elem_type"))
                        case 2:
                            var shape = try tt.message(e, "\(context).shape")
                            var dims: [Int?] = []
                            while let d = try shape.nextField() {
                                guard d.number == 1 else { try shape.skip(d); continue }
                                guard dims.count < limits.maxRank else { throw fail(shape, context, "more than \(limits.maxRank) dims") }
                                var dim = try shape.message(d, "\(context).shape.dim")
                                var value: Int? = nil
                                while let x = try dim.nextField() {
                                    if x.number == 1 {
                                        let n = try dim.int64(x, "\(context).dim_value")
                                        guard n >= 0 && n <= Int64(Int32.max) else { throw fail(dim, context, "dim_value \(n) out of range") }
                                        value = Int(n)
                                    } else { try dim.skip(x) }
                                }
                                dims.append(value)
                            }
                            v.dims = dims
                        default: try tt.skip(e)
                        }
                    }
                }
            default: try r.skip(f)
            }
        }
        return v
    }

    func tensor(_ r: inout ProtobufReader, context: String) throws(ProtobufError) -> ONNXTensor {
        var dims: [Int64] = []
        var dataType: Int64 = 0
        var raw: Range<Int>? = nil
        var floats: [Float] = []
        var ints: [Int64] = []
        var name = ""
        var external = false
        let start = r.offset
        let cap = limits.maxFileBytes
        while let f = try r.nextField() {
            switch f.number {
            case 1: try r.appendInt64s(f, "\(context).dims", to: &dims, limit: limits.maxRank)
            case 2: dataType = try r.int64(f, "\(context).data_type")
            case 3: throw fail(r, context, "segmented tensors are not supported")
            case 4: try r.appendFloats(f, "\(context).float_data", to: &floats, limit: cap)
            case 5, 7: try r.appendInt64s(f, "\(context).\(f.number == 5 ? "int32_data" : "int64_data")", to: &ints, limit: cap)
            case 8: name = try r.string(f, "\(context).name", maxBytes: limits.maxNameBytes)
            case 9:
                try r.expect(f, .lengthDelimited, "\(context).raw_data")
                raw = try r.lengthDelimited()
            case 13: external = true; try r.skip(f)
            case 14:
                let loc = try r.int64(f, "\(context).data_location")
                if loc == 1 { external = true }
            default: try r.skip(f)
            }
        }
        let label = name.isEmpty ? context : "\(context) '\(name)'"
        guard !external else {
            throw ProtobufError(offset: start, reason: "\(label): data stored in an external file is not supported (convert with the weights inside the .onnx)")
        }
        guard let dt = Int32(exactly: dataType).flatMap(ONNXDataType.init(rawValue:)) else {
            throw ProtobufError(offset: start, reason: "\(label): unknown data_type \(dataType)")
        }
        var shape: [Int] = []
        var count = 1
        for d in dims {
            guard d >= 0 && d <= Int64(Int32.max) else { throw ProtobufError(offset: start, reason: "\(label): dimension \(d) out of range") }
            let (c, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow && c <= cap else { throw ProtobufError(offset: start, reason: "\(label): shape \(dims) has too many elements") }
            count = c
            shape.append(Int(d))
        }
        if let raw {
            guard let size = dt.byteSize else { throw ProtobufError(offset: start, reason: "\(label): string tensors cannot use raw_data") }
            guard raw.count == count * size else {
                throw ProtobufError(offset: start, reason: "\(label): raw_data has \(raw.count) bytes, shape \(shape) of \(dt) needs \(count * size)")
            }
            guard floats.isEmpty && ints.isEmpty else { throw ProtobufError(offset: start, reason: "\(label): both raw_data and typed data") }
        } else {
            switch dt {
            case .float:
                guard floats.count == count && ints.isEmpty else {
                    throw ProtobufError(offset: start, reason: "\(label): \(floats.count) float values for shape \(shape)")
                }
            case .int64, .int32, .int16, .int8, .uint8, .uint16, .bool:
                guard ints.count == count && floats.isEmpty else {
                    throw ProtobufError(offset: start, reason: "\(label): \(ints.count) integer values for shape \(shape)")
                }
            default:
                guard count == 0 else { throw ProtobufError(offset: start, reason: "\(label): \(dt) values in a typed field are not supported") }
            }
        }
        return ONNXTensor(name: name, dims: shape, dataType: dt, rawRange: raw, floatData: floats, intData: ints)
    }
}
