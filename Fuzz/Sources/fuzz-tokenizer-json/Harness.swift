// fuzz-tokenizer-json: the Whisper tokenizer.json loader (JSONScanner: objects, arrays, strings with
// escapes and surrogates, integers, skipped values at any depth) with the vocabulary size a model's
// metadata would give (two bytes of the input pick it, up to 2^40: it must be bounded by the file).
// When a file loads, text is encoded and decoded, with timestamps. Any outcome but a typed error is a
// finding.
import Foundation
import FuzzSupport
@testable import EarshotTokenizer

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzMain.bytes(data, size)
    guard input.count >= 2 else { return 0 }
    let sizes = [51_864, 51_865, 0, 1, 100, 1 << 40, -1]
    let vocabularySize = sizes[Int(input[0]) % sizes.count] + Int(input[1] & 0x0F)
    let json = [UInt8](input[2...])
    var scanner = JSONScanner(json)
    _ = try? scanner.skipValue()
    guard let t = try? WhisperTokenizer(tokenizerJSON: Data(json), vocabularySize: vocabularySize) else { return 0 }
    let ids = t.encode(" hello world, ça va? 123")
    _ = t.decode(ids + [t.specials.timestampBegin, -1, t.vocabularySize, Int.max])
    _ = t.decodeWithTimestamps([t.specials.timestampBegin] + ids + [t.specials.timestampBegin + 50])
    return 0
}

@main struct Main { static func main() { FuzzMain.run(fuzzOneInput) } }
