// Loading tiktoken bytes: the official file's checksum-verified ranks and typed errors for bad files.
import EarshotTokenizer
import Foundation
import Testing

@Suite struct RankFileTests {
    /// Single-byte ranks 0…255 plus a few merges, as a tiktoken file.
    static func smallFile(extra: String = "") -> [UInt8] {
        var lines = (0 ..< 256).map { "\(Data([UInt8($0)]).base64EncodedString()) \($0)" }
        lines.append("\(Data("ab".utf8).base64EncodedString()) 256")
        return Array((lines.joined(separator: "\n") + "\n" + extra).utf8)
    }

    @Test func officialFileLoads() throws {
        let tokenizer = TokenizerFixtures.tokenizer
        #expect(tokenizer.ranks.count == 151_643)
        #expect(tokenizer.ranks.rank(of: Array(" the".utf8)) == 279)
        #expect(Array(tokenizer.ranks.bytes(ofRank: 198)) == [10])
        #expect(try tokenizer.bytes(of: 151859) == Array("<|en|>".utf8))
    }

    @Test func smallFileEncodes() throws {
        let tokenizer = try QwenTokenizer(tiktoken: Self.smallFile())
        #expect(tokenizer.vocabularySize == 257 + 3522)
        #expect(tokenizer.encode("ab") == [256])
        #expect(tokenizer.encode("abc") == [256, 99])
        #expect(tokenizer.specials.audioStartID == 257 + 3520)
    }

    @Test func malformedFilesThrowTypedErrors() {
        #expect(throws: TokenizerError.malformedRankFile(line: 258, reason: "no space between token and rank")) {
            try QwenTokenizer(tiktoken: Self.smallFile(extra: "YWJj\n"))
        }
        #expect(throws: TokenizerError.malformedRankFile(line: 258, reason: "token is not valid base64")) {
            try QwenTokenizer(tiktoken: Self.smallFile(extra: "Y*Jj 257\n"))
        }
        #expect(throws: TokenizerError.malformedRankFile(line: 258, reason: "rank is not a non-negative integer")) {
            try QwenTokenizer(tiktoken: Self.smallFile(extra: "YWJj -1\n"))
        }
        #expect(throws: TokenizerError.ranksNotDense(rank: 300, count: 258)) {
            try QwenTokenizer(tiktoken: Self.smallFile(extra: "YWJj 300\n"))
        }
        #expect(throws: TokenizerError.ranksNotDense(rank: 256, count: 258)) {
            try QwenTokenizer(tiktoken: Self.smallFile(extra: "YWJj 256\n"))
        }
        #expect(throws: TokenizerError.duplicateToken(line: 258)) {
            try QwenTokenizer(tiktoken: Self.smallFile(extra: "YWI= 257\n"))
        }
        #expect(throws: TokenizerError.self) { try QwenTokenizer(tiktoken: Array("IQ== 0\n".utf8)) }
        #expect(throws: TokenizerError.self) {
            try QwenTokenizer(contentsOf: URL(fileURLWithPath: "/nonexistent/qwen.tiktoken"))
        }
    }
}
