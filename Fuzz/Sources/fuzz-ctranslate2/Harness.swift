// fuzz-ctranslate2: the CTranslate2 model.bin reader and the Whisper mapping behind it: parse the
// variable table (CTranslate2Model), then map it to canonical Whisper tensors (shapes, scalars, int8
// scales, fused attention slices). Any outcome but a typed CTranslate2Error is a finding.
import Foundation
import FuzzSupport
import EarshotConvert

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Data(FuzzMain.bytes(data, size))
    guard let model = try? CTranslate2Model(data: input) else { return 0 }
    for v in model.variables where v.elementCount <= 1 << 16 { _ = try? model.floats(v.name) }
    _ = try? CTranslate2Whisper.convert(model)
    return 0
}

@main struct Main { static func main() { FuzzMain.run(fuzzOneInput) } }
