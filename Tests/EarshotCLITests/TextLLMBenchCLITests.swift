// TextLLMBenchCLITests: `earshot-bench` on a text LLM. `perplexity` against llama.cpp on the same tiny random Qwen2 (tied.gguf, f32):
// the base file and perplexity llama-perplexity wrote (Tools/qwen2/make_perplexity_fixture.sh) are scored on
// Earshot's conversion — same perplexity (f32 weights and an f16 KV cache on both sides), KL divergence ≈ 0 and
// the same top token everywhere; --write-base writes a file of llama.cpp's layout that scores the same; a
// truncated or foreign base file is refused with the reason. `decode` and `prefill` run on the text LLM too;
// `encoder` refuses it (no audio encoder).
import Foundation
import Testing
import EarshotTestSupport

@Suite(.serialized) struct TextLLMBenchCLITests {
    static var base: String { Fixtures.url("qwen2-tiny/tied.ppl-base.kld").path }
    static var llamaPerplexity: Double {
        let data = try! Data(contentsOf: Fixtures.url("qwen2-tiny/tied.ppl.json"))
        return ((try! JSONSerialization.jsonObject(with: data) as! [String: Any])["ppl"] as! NSNumber).doubleValue
    }

    static func bench(_ args: [String]) throws -> CLIResult {
        try CLIRunner.run(["perplexity", "--model", try TextLLMCLITests.model(), "--threads", "1"] + args,
                          executable: "earshot-bench", timeout: 300)
    }

    static func value(_ key: String, _ out: String) -> Double? {
        guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix("result workload=perplexity") }),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix(key + "=") }) else { return nil }
        return Double(field.dropFirst(key.count + 1))
    }

    /// llama-perplexity prints its PPL with 4 decimals; the engines agree far below that (f32 weights, f16 KV).
    @Test func scoresLlamaCppsTokensWithItsPerplexity() throws {
        let r = try Self.bench(["--base", Self.base])
        #expect(r.exitCode == 0, "\(r)")
        let ppl = try #require(Self.value("ppl", r.stdout), "\(r)")
        let pplBase = try #require(Self.value("ppl_base", r.stdout))
        #expect(abs(ppl - Self.llamaPerplexity) < 1e-4 * Self.llamaPerplexity + 5e-5, "Earshot \(ppl), llama.cpp \(Self.llamaPerplexity)")
        #expect(abs(pplBase - Self.llamaPerplexity) < 1e-3 * Self.llamaPerplexity, "base \(pplBase)")   // the base's 16-bit log-probs
        #expect(try #require(Self.value("kld", r.stdout)) < 1e-4)
        #expect(Self.value("top1", r.stdout) == 1)
        #expect(Self.value("positions", r.stdout) == Double(4 * 31))
    }

    @Test func itsOwnBaseFileHasLlamaCppsLayout() throws {
        let dir = try TemporaryDirectory("perplexity-cli")
        let ours = dir.path("ours.kld")
        let r = try Self.bench(["--base", Self.base, "--write-base", ours])
        #expect(r.exitCode == 0, "\(r)")
        let theirs = try Data(contentsOf: URL(fileURLWithPath: Self.base)), mine = try Data(contentsOf: URL(fileURLWithPath: ours))
        #expect(mine.count == theirs.count)
        #expect(mine.prefix(20 + 4 * 64 * 4) == theirs.prefix(20 + 4 * 64 * 4))   // header and tokens
        let again = try Self.bench(["--base", ours])
        #expect(again.exitCode == 0, "\(again)")
        #expect(Self.value("top1", again.stdout) == 1)
        #expect(try #require(Self.value("kld", again.stdout)) < 1e-5)
    }

    @Test func refusesBrokenBaseFiles() throws {
        let dir = try TemporaryDirectory("perplexity-cli")
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.base))
        let cut = dir.path("cut.kld")
        try data.prefix(data.count - 2).write(to: URL(fileURLWithPath: cut))
        let r1 = try Self.bench(["--base", cut])
        #expect(r1.exitCode != 0 && r1.stderr.contains("needs \(data.count)"), "\(r1)")
        let foreign = dir.path("foreign.kld")
        try Data("not a logits file at all".utf8).write(to: URL(fileURLWithPath: foreign))
        let r2 = try Self.bench(["--base", foreign])
        #expect(r2.exitCode != 0 && r2.stderr.contains("no _logits_ header"), "\(r2)")
        var big = data
        big.replaceSubrange(12..<16, with: [0xFF, 0xFF, 0x0F, 0x00])   // n_vocab 1,048,575 > the model's 320
        let wide = dir.path("wide.kld")
        try big.write(to: URL(fileURLWithPath: wide))
        let r3 = try Self.bench(["--base", wide])
        #expect(r3.exitCode != 0 && r3.stderr.contains("needs"), "\(r3)")   // sizes checked before the vocabulary
    }

    @Test func speedBenchmarksRunOnATextLLM() throws {
        let model = try TextLLMCLITests.model()
        for args in [["decode", "--context", "8", "--tokens", "4"], ["prefill", "--tokens", "16"]] {
            let r = try CLIRunner.run(args + ["--model", model, "--threads", "1", "--runs", "1"], executable: "earshot-bench", timeout: 300)
            #expect(r.exitCode == 0, "\(r)")
            #expect(r.stdout.contains("result workload=\(args[0]) engine=earshot type=f32"), "\(r.stdout)")
        }
        let r = try CLIRunner.run(["encoder", "--model", model, "--threads", "1", "--runs", "1"], executable: "earshot-bench", timeout: 300)
        #expect(r.exitCode != 0 && r.stderr.contains("text-only LLM"), "\(r)")
    }
}
