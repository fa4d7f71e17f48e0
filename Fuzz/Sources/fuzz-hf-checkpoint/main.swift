// fuzz-hf-checkpoint: the Hugging Face text files of a Qwen2-Audio checkpoint directory — config.json
// (Qwen2AudioCheckpoint's config reader: nested audio/text configs, class defaults, every value checked),
// vocab.json + merges.txt + tokenizer_config.json (HFByteLevelTokenizer: byte-level vocabulary → tiktoken
// ranks, added tokens, the chat template) — then what the runtime builds from the result: the QwenTokenizer
// of those ranks and specials, encoding and decoding text with specials. The input is the four files joined
// by "\n#EARSHOT-FILE#\n" (a missing part is an absent file). Any outcome but a typed error is a finding.
import Foundation
import FuzzSupport
@testable import EarshotConvert
import EarshotTokenizer

let directory: URL = {
    let root = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let d = URL(fileURLWithPath: "\(root)/earshot-fuzz-hf-\(getpid())")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: directory) }
    return d
}()
let names = ["config.json", "vocab.json", "merges.txt", "tokenizer_config.json"]
let separator = Array("\n#EARSHOT-FILE#\n".utf8)

/// The input cut at each separator (at most four parts).
func parts(_ input: UnsafeRawBufferPointer) -> [Data] {
    var out: [Data] = [], start = 0, i = 0
    let bytes = Array(input)
    while i + separator.count <= bytes.count && out.count < names.count - 1 {
        if bytes[i..<(i + separator.count)].elementsEqual(separator) {
            out.append(Data(bytes[start..<i])); i += separator.count; start = i
        } else { i += 1 }
    }
    out.append(Data(bytes[start...]))
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let files = parts(FuzzMain.bytes(data, size))
    for (k, name) in names.enumerated() {
        let url = directory.appendingPathComponent(name)
        if k < files.count { try? files[k].write(to: url) } else { try? FileManager.default.removeItem(at: url) }
    }
    let config = try? Qwen2AudioCheckpoint.parseConfig(files[0], path: "config.json")
    let vocabSize = config?.llm.vocabSize ?? 400
    guard let t = try? HFByteLevelTokenizer(directory: directory, vocabSize: min(vocabSize, 1 << 20)) else { return 0 }
    _ = t.metadata
    guard let tok = try? QwenTokenizer(tiktoken: [UInt8](t.tiktoken), textSpecials: t.specials) else { return 0 }
    let ids = tok.encode("<|im_start|>user\nAudio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\nhello, ça va? 123<|im_end|>")
    _ = try? tok.decode(ids)
    _ = try? tok.decode([0, tok.vocabularySize - 1])
    return 0
}

@main struct Main { static func main() { FuzzMain.run(fuzzOneInput) } }
