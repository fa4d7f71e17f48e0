// fuzz-onnx: the ONNX protobuf reader (varints, lengths and nesting against the buffer and the limits, every
// field of model/graph/node/attribute/tensor/value-info), each float initializer read (raw_data and
// float_data against its dims), then the Silero VAD graph extraction the converter runs on it. Any outcome
// but a typed ConvertError is a finding.
import FuzzSupport
import EarshotConvert

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = [UInt8](FuzzMain.bytes(data, size))
    guard let model = try? ONNXModel(bytes: input, path: "fuzz.onnx") else { return 0 }
    for t in model.graph.initializers.prefix(64) where t.dataType == .float { _ = try? model.floats(t) }
    _ = try? SileroVADGraph.extract(model)
    return 0
}

@main struct Main { static func main() { FuzzMain.run(fuzzOneInput) } }
