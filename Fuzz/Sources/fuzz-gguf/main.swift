// fuzz-gguf: the GGUF reader (header, every metadata value type and nesting, tensor infos, alignment,
// offsets against the file), then what the converter builds on it: the Qwen/Qwen2 source (config from
// metadata, the tokenizer from tokenizer.ggml.*, the conversion plan), and the first and last row of every
// tensor decoded to f32 (every ggml block type). Any outcome but a typed ConvertError is a finding.
import FuzzSupport
import EarshotConvert

let scratch = ScratchFile(suffix: ".gguf")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    scratch.write(FuzzMain.bytes(data, size))
    guard let file = try? GGUFFile(path: scratch.path) else { return 0 }
    var row = [Float]()
    for t in file.tensors.prefix(64) where t.rows > 0 && t.cols > 0 && t.cols <= 1 << 16 {
        let src = GGUFRows(file: file, tensor: t)
        row = [Float](repeating: 0, count: t.cols)
        for r in Set([0, t.rows - 1]) { row.withUnsafeMutableBufferPointer { src.decode(rows: r, count: 1, into: $0.baseAddress!) } }
    }
    guard let source = try? GGUFQwenSource(file: file) else { return 0 }
    _ = try? source.blobs()
    _ = try? source.plan(recipe: .default, overrides: [])
    _ = source.summary
    return 0
}

@main struct Main { static func main() { FuzzMain.run(fuzzOneInput) } }
