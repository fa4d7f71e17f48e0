// fuzz-tiktoken: the tiktoken rank file reader (line splitting, base64, ranks, the hash table, duplicate
// detection) and the tokenizer built on it (all 256 bytes present). When a file loads, a few strings are
// encoded and decoded with its ranks. Any outcome but a typed TokenizerError is a finding.
import FuzzSupport
import EarshotTokenizer

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzMain.bytes(data, size)
    guard let ranks = try? TiktokenRanks(tiktoken: input) else { return 0 }
    for r in 0..<min(ranks.count, 64) { _ = ranks.rank(of: Array(ranks.bytes(ofRank: r))) }
    guard let tokenizer = try? QwenTokenizer(ranks: ranks) else { return 0 }
    let ids = tokenizer.encode("Hello wörld 123 <|endoftext|>", special: .none)
    _ = try? tokenizer.decode(ids)
    return 0
}

@main struct Main { static func main() { FuzzMain.run(fuzzOneInput) } }
