// fuzz-safetensors: the checkpoint readers of the converter. The first byte picks the reader, the rest
// is its input:
//   0: a whole .safetensors file (SafetensorsFile: 8-byte length, JSON header, every entry against the file)
//   1: a safetensors JSON header alone (parseHeader, with the data region assumed to start after it)
//   2: model.safetensors.index.json (Checkpoint.parseIndex)
//   3: a Qwen-Audio config.json (CheckpointConfig.parse and its checks)
// Any outcome but a typed ConvertError is a finding.
import Foundation
import FuzzSupport
@testable import EarshotConvert

let scratch = ScratchFile(suffix: ".safetensors")
/// FUZZ_MODE=0…3 pins the reader (to fuzz or profile one alone).
let pinnedMode: UInt8? = ProcessInfo.processInfo.environment["FUZZ_MODE"].flatMap { UInt8($0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzMain.bytes(data, size)
    guard let first = input.first else { return 0 }
    let mode = pinnedMode ?? first
    let rest = UnsafeRawBufferPointer(rebasing: input[1...])
    switch mode % 4 {
    case 0:
        scratch.write(rest)
        if let file = try? SafetensorsFile(path: scratch.path) {
            for t in file.tensors.values { _ = file.bytes(of: t).reduce(0, &+) }   // touch every byte of every tensor
        }
    case 1:
        _ = try? SafetensorsFile.parseHeader(Data(rest), path: "h", dataStart: 8 + rest.count)
    case 2:
        _ = try? Checkpoint.parseIndex(Data(rest), path: "i")
    default:
        if let c = try? CheckpointConfig.parse(Data(rest), path: "c") { _ = CheckpointLayout.expectedTensors(c).count }
    }
    return 0
}

@main struct Main { static func main() { FuzzMain.run(fuzzOneInput) } }
