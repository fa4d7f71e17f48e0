// RealQwen2Tests (opt-in): the real Qwen2.5-Coder-1.5B-Instruct GGUF (Tools/get-qwen2.sh) — its tokenizer ranks
// equal qwen.tiktoken, and converted `.ear` files (q8, q4) load and continue "def fibonacci(n):" sensibly, and,
// opened by the library as a text LLM (family qwen-text), answer a chat coding question with a greedy reply
// that holds a Python function (Tools/qwen2/README.md).
//
//   Tools/get-qwen2.sh --convert q8,q4
//   EARSHOT_QWEN2_GGUF=~/.cache/earshot/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \
//   EARSHOT_QWEN2_EAR=~/.cache/earshot/qwen2.5-coder-1.5b-instruct.q8.ear,~/.cache/earshot/qwen2.5-coder-1.5b-instruct.q4.ear \
//     swift test --filter RealQwen2
import Foundation
import Testing
import EarshotConvert
import EarshotModels
import EarshotTestSupport
import EarshotTokenizer
@testable import Earshot

@Suite(.serialized) struct RealQwen2Tests {
    static let gguf = ProcessInfo.processInfo.environment["EARSHOT_QWEN2_GGUF"]
    static let ears = (ProcessInfo.processInfo.environment["EARSHOT_QWEN2_EAR"] ?? "").split(separator: ",").map(String.init)

    /// The first 151,643 tokens of the GGUF are exactly qwen.tiktoken's ranks (byte-identical tiktoken file).
    @Test(.enabled(if: gguf != nil)) func tokenizerRanksAreQwenTiktoken() throws {
        let source = try GGUFQwenSource(path: Self.gguf!)
        let qwen = try Data(contentsOf: Fixtures.url("tokenizer/qwen.tiktoken"))
        #expect(source.tokenizer.rankCount == 151_643)
        #expect(source.tokenizer.tiktoken == qwen)
        #expect(source.tokenizer.specials.count == 22 && source.tokenizer.specials.first == "<|endoftext|>")
        print(source.summary)
    }

    @Test(.enabled(if: !ears.isEmpty)) func greedyContinuationIsSensible() throws {
        for path in Self.ears {
            let started = Date()
            let weights = try EarWeights(path: path)
            let model = try QwenTextModel(metadata: weights.configValues, weights: weights)
            let tok = try QwenTokenizer(tiktoken: try weights.file.blob(named: MetadataKeys.tokenizerBlob))
            let prompt = "def fibonacci(n):"
            let ids = tok.encode(prompt)
            let out = try model.greedy(ids: ids, maxTokens: 64, stopIds: [151_643, 151_645], cache: model.makeCache(capacity: 128))
            let text = try tok.decode(out.ids.filter { $0 < tok.ranks.count })
            print("\(URL(fileURLWithPath: path).lastPathComponent): \(prompt)\(text)  [ids \(out.ids.prefix(12))…, \(String(format: "%.1f", Date().timeIntervalSince(started))) s]")
            #expect(text.contains("return"), "\(path): \(text)")
            #expect(text.contains("if n") && text.contains("n == 1"), "\(path): \(text)")   // base cases of the recursion
        }
    }

    /// The library path a user takes: `EarshotModel` → `Chat` (ChatML, the template's system prompt, stop on
    /// <|im_end|>), greedy, 160 tokens at most.
    @Test(.enabled(if: !ears.isEmpty)) func chatAnswersACodingQuestion() throws {
        for path in Self.ears {
            let model = try EarshotModel(path: path)
            #expect(model.info.family == .qwenText && model.info.chats && !model.info.takesAudio)
            #expect(model.defaultSystem == "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
            let chat = try model.makeChat()
            var options = chat.defaultOptions
            options.sampling = SamplingParameters(greedy: true)
            options.maxTokens = 160
            let reply = try chat.send("Write a Python function that reverses a string.", options: options)
            let s = reply.generation.stats
            print("\(URL(fileURLWithPath: path).lastPathComponent): \(reply.response)\n[\(reply.promptIds.count) prompt tokens, "
                  + "\(reply.generation.ids.count) generated, stop: \(reply.generation.stopReason), "
                  + String(format: "prefill %.1f tok/s, decode %.2f tok/s]", s.prefillTokensPerSecond, s.decodeTokensPerSecond))
            #expect(reply.response.contains("def ") && reply.response.contains("return"), "\(path): \(reply.response)")
            #expect(reply.response.contains("[::-1]") || reply.response.contains("reversed("), "\(path): \(reply.response)")
            #expect(!reply.response.contains("<|im_end|>") && !reply.response.contains("<|im_start|>"))
        }
    }
}
