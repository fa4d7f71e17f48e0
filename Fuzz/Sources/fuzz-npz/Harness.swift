// fuzz-npz: the converter's .npz reader (zip directory, zip64 fields, local headers, the .npy header) and
// its raw-DEFLATE decoder. The whole input is tried as an archive holding `mel_80`, and as a deflate
// stream (output capped at 1 MiB). Any outcome but a typed error is a finding.
import Foundation
import FuzzSupport
@testable import EarshotConvert

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzMain.bytes(data, size)
    _ = try? NpzReader.float32Array(Data(input), key: "mel_80", path: "f.npz")
    _ = try? Inflate.decompress([UInt8](input), maxOutput: 1 << 20)
    return 0
}

@main struct Main { static func main() { FuzzMain.run(fuzzOneInput) } }
