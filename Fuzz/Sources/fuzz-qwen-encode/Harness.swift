// fuzz-qwen-encode: the Qwen tokenizer's encode on arbitrary text with the real 151,643 ranks: NFC, the
// special-token split in each SpecialMode, the pre-tokenizer, byte-pair merging, audio tags (paths,
// expansion with span lengths), chat prompts, streaming decode. Checked property: when the audio tags
// parse, decoding the ids (with the audio paths) gives back the NFC text byte for byte (byte-level BPE
// loses nothing; audio paths come back verbatim); anything else — a trap, a mismatch — is a finding.
import FuzzSupport
@testable import EarshotTokenizer

let tokenizer: QwenTokenizer = {
    let url = FuzzFixtures.url("Tests/Fixtures/tokenizer/qwen.tiktoken")
    return try! QwenTokenizer(contentsOf: url)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzMain.bytes(data, size)
    guard let first = input.first else { return 0 }
    let text = String(decoding: input[1...], as: UTF8.self)
    let mode = SpecialMode.allCases[Int(first) % SpecialMode.allCases.count]
    let ids = tokenizer.encode(text, special: mode)
    // Audio spans decode only with their paths (as in the reference); text whose tags do not parse has none.
    if let paths = try? tokenizer.audioPaths(in: text, special: mode) {
        let back: String
        do { back = try tokenizer.decode(ids, audioURLs: paths) } catch {
            // The reference refuses an audio URL holding a special-token string; nothing else may fail.
            if case .specialTokenInAudioURL = error { return 0 }
            fatalError("decode failed (\(error)) on encoded ids \(ids)")
        }
        // Text outside audio tags comes back in NFC; audio paths come back verbatim (the reference keeps
        // the URL as given), so compare both sides in NFC when there are paths.
        if (paths.isEmpty ? Array(back.utf8) : NFC.utf8(back)) != NFC.utf8(text) {
            fatalError("round trip changed the text: \(Array(text.utf8)) → \(ids) → \(Array(back.utf8))")
        }
        _ = try? tokenizer.encode(text, special: mode, audioSpanTokens: paths.map { 2 + $0.utf8.count % 40 })
    }
    if input.count < 512 { _ = try? tokenizer.chatPrompt(query: text, history: [(query: "hi", response: text)]) { _ in 12 } }
    var stream = tokenizer.streamingDecoder()
    for id in ids.prefix(64) { _ = try? stream.append(id) }
    return 0
}

@main struct Main { static func main() { _ = tokenizer; FuzzMain.run(fuzzOneInput) } }
