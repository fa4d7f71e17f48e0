// TextLLMCLITests: the CLI on a text-only Qwen LLM — the tiny random Qwen2 GGUF (Tests/Fixtures/qwen2-tiny)
// converted by the built `earshot-convert` (f32) — `generate` (greedy ids = the transformers goldens),
// `run --print-ids --dump-logits` (same ids as `generate` on the same prompt ids, the dump's argmax = the first id),
// `chat --turn` (ChatML prompt ids, stop on the model's <|im_end|>/<|endoftext|>), `inspect` (the family),
// and every audio flag or audio command refused with the reason.
import Foundation
import Testing
import EarshotTestSupport

@Suite(.serialized) struct TextLLMCLITests {
    struct Golden { let prompt: [Int]; let logits: [Float]; let greedy: [Int] }

    static let goldens: [Golden] = {
        let data = try! Data(contentsOf: Fixtures.url("qwen2-tiny/tied.goldens.json"))
        let cases = (try! JSONSerialization.jsonObject(with: data) as! [String: Any])["cases"] as! [[String: Any]]
        return cases.map { c in
            Golden(prompt: TaskGoldens.ints(c["prompt"]), logits: (c["logits"] as! [NSNumber]).map(\.floatValue),
                   greedy: TaskGoldens.ints(c["greedy"]))
        }
    }()

    /// The tiny tied Qwen2 as an f32 `.ear`, converted once per test process.
    nonisolated(unsafe) static var converted: (TemporaryDirectory, String)?
    static func model() throws -> String {
        if let (_, path) = converted { return path }
        let dir = try TemporaryDirectory("text-llm-cli")
        let path = dir.path("tied.ear")
        let r = try CLIRunner.run([Fixtures.url("qwen2-tiny/tied.gguf").path, "--quant", "f32", "--no-table", "-o", path],
                                  executable: "earshot-convert", timeout: 300)
        guard r.exitCode == 0 else { throw CLIRunnerError.executableNotFound(name: "earshot-convert failed: \(r)", searched: []) }
        converted = (dir, path)
        return path
    }

    static func earshot(_ args: [String], input: Data? = nil) throws -> CLIResult {
        try CLIRunner.run(args + ["--model", try model()], input: input, timeout: 120)
    }

    static func json(_ ids: [Int]) -> String { "[" + ids.map(String.init).joined(separator: ",") + "]" }

    /// 16 greedy ids and the last-position logits (within 1e-4: f32 weights and KV cache, see
    /// QwenTextLibraryTests) equal the transformers goldens.
    @Test func generateGreedyEqualsTheGoldens() throws {
        let dir = try TemporaryDirectory("text-llm-cli")
        for g in Self.goldens {
            let file = dir.path("logits.f32")
            let r = try Self.earshot(["generate", "--greedy", "--print-ids", "--kv-cache", "f32", "--max-tokens", "16",
                                      "--dump-logits", file, "--prompt-ids", Self.json(g.prompt)])
            #expect(r.exitCode == 0, "\(r)")
            #expect(TaskGoldens.idLines(r.stdout) == [g.greedy], "\(r)")
            #expect(r.stderr.contains("earshot: decode  ="), "\(r.stderr)")    // the timing summary
            let logits = try Data(contentsOf: URL(fileURLWithPath: file)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(logits.count == g.logits.count)
            let d = zip(logits, g.logits).map { abs($0 - $1) }.max() ?? .infinity
            #expect(d < 1e-4, "max |d| \(d)")
        }
    }

    @Test func generateStreamsTextAndRunAgrees() throws {
        let dir = try TemporaryDirectory("text-llm-cli")
        let logits = dir.path("logits.f32")
        let text = try Self.earshot(["generate", "--greedy", "--max-tokens", "12", "--quiet", "def fib(n)"])
        let ids = try Self.earshot(["generate", "--greedy", "--max-tokens", "12", "--quiet", "--print-ids", "def fib(n)"])
        let run = try Self.earshot(["run", "--greedy", "--max-tokens", "12", "--print-ids", "--kv-cache", "f32",
                                    "--dump-logits", logits, "--prompt", "def fib(n)"])
        #expect(text.exitCode == 0 && ids.exitCode == 0 && run.exitCode == 0, "\(text)\n\(ids)\n\(run)")
        #expect(TaskGoldens.idLines(ids.stdout).count == 1 && TaskGoldens.idLines(run.stdout) == TaskGoldens.idLines(ids.stdout))
        #expect(!text.stdout.isEmpty && text.stderr.isEmpty, "\(text)")
        let values = try Data(contentsOf: URL(fileURLWithPath: logits))
        #expect(values.count == 320 * 4)
    }

    /// `run` on text: the ids `generate` gives for the same prompt ids, and a logits dump whose argmax is the
    /// first greedy id. (The goldens' prompts hold bytes that are not UTF-8 text, so the logits themselves are
    /// checked against the goldens in the library tests and through `generate --prompt-ids` above.)
    @Test func runPrintsIdsAndDumpsLogits() throws {
        let dir = try TemporaryDirectory("text-llm-cli")
        let file = dir.path("l.f32")
        let prompt = "return the fib(n) if in er"
        let ids = try Self.earshot(["generate", "--print-prompt-ids", "--max-tokens", "1", "--greedy", "--print-ids", prompt])
        let promptIds = ids.stderr.split(separator: "\n").first.map(String.init).flatMap { TaskGoldens.idLines($0).first } ?? []
        #expect(!promptIds.isEmpty && promptIds.count < prompt.utf8.count, "\(ids)")   // the merges applied
        let r = try Self.earshot(["run", "--greedy", "--print-ids", "--max-tokens", "16", "--kv-cache", "f32",
                                  "--dump-logits", file, "--prompt", prompt])
        let g = try Self.earshot(["generate", "--greedy", "--print-ids", "--max-tokens", "16", "--kv-cache", "f32",
                                  "--quiet", "--prompt-ids", Self.json(promptIds)])
        #expect(r.exitCode == 0 && g.exitCode == 0, "\(r)\n\(g)")
        #expect(TaskGoldens.idLines(r.stdout) == TaskGoldens.idLines(g.stdout))
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let logits = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(logits.count == 320 && logits.allSatisfy(\.isFinite))
        #expect(TaskGoldens.idLines(r.stdout).first?.first == logits.indices.max { logits[$0] < logits[$1] })
    }

    @Test func chatTurnIsChatMLAndStops() throws {
        let r = try Self.earshot(["chat", "--greedy", "--print-prompt-ids", "--print-ids", "--max-tokens", "40",
                                  "--turn", "def fib(n)", "--turn", "return the"])
        #expect(r.exitCode == 0, "\(r)")
        let lines = TaskGoldens.idLines(r.stdout)
        #expect(lines.count == 4, "\(r)")
        guard lines.count == 4 else { return }
        // <|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\ndef fib(n)<|im_end|>\n<|im_start|>assistant\n
        let p = lines[0]
        #expect(p.first == 275 && p.filter { $0 == 275 }.count == 3 && p.filter { $0 == 276 }.count == 2)
        #expect(Array(p.filter { $0 >= 274 }.suffix(2)) == [276, 275])
        for reply in [lines[1], lines[3]] {
            #expect(reply.count == 40 || [274, 275, 276].contains(reply.last!), "\(reply)")
            #expect(reply.dropLast().allSatisfy { ![274, 275, 276].contains($0) })
        }
        // Turn 2's prompt starts with turn 1's and reuses its KV cache.
        #expect(Array(lines[2].prefix(p.count)) == p)
        let line = r.stderr.split(separator: "\n").first { $0.hasPrefix("earshot[turn 1]: prefill =") } ?? ""
        let reused = line.components(separatedBy: "tok/s, ").last.flatMap { Int($0.split(separator: " ").first ?? "") } ?? -1
        #expect(reused >= p.count, "\(r.stderr)")
        #expect(!r.stderr.contains("audio   ="), "\(r.stderr)")
        let text = try Self.earshot(["chat", "--greedy", "--max-tokens", "8", "--quiet", "--system", "Be brief.", "--turn", "hi"])
        #expect(text.exitCode == 0 && text.stderr.isEmpty, "\(text)")
    }

    @Test func inspectShowsTheFamily() throws {
        let r = try CLIRunner.run(["inspect", try Self.model()])
        #expect(r.exitCode == 0 && r.stdout.contains("model:    Qwen text LLM (family qwen-text)"), "\(r)")
        let j = try CLIRunner.run(["inspect", "--json", try Self.model()])
        let o = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        #expect(o?["family"] as? String == "qwen-text")
    }

    /// `tokenize --model` on a text LLM uses the file's own specials: <|im_start|> is 275, <audio> plain text.
    @Test func tokenizeUsesTheModelsSpecials() throws {
        let r = try CLIRunner.run(["tokenize", "--model", try Self.model()], input: Data("<|im_start|>hi<audio>".utf8))
        #expect(r.exitCode == 0 && TaskGoldens.idLines(r.stdout) == [[275, 104, 105, 60, 97, 117, 100, 105, 111, 62]], "\(r)")
    }

    @Test func audioIsRefused() throws {
        let wav = Fixtures.url("audio/jfk.wav").path
        let cases: [([String], String)] = [
            (["chat", "--audio", wav, "--turn", "hi"], "--audio: a Qwen text LLM model takes no audio"),
            (["chat", "--turn", "/audio \(wav)", "--turn", "hi"], "/audio: a Qwen text LLM model takes no audio"),
            (["run", "--audio", wav, "--prompt", "hi"], "--audio: a Qwen text LLM model takes no audio"),
            (["transcribe", wav], "takes no audio (it is a text-only LLM: use generate or chat)"),
            (["caption", wav], "takes no audio (it is a text-only LLM: use generate or chat)"),
            (["ask", "what?", wav], "takes no audio"),
        ]
        for (args, message) in cases {
            let r = try Self.earshot(args)
            #expect(r.exitCode == 1, "\(args): \(r)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(args): \(r.stdout)")
        }
        let bad = try Self.earshot(["generate", "--prompt-ids", "[1, 999]"])
        #expect(bad.exitCode == 1 && bad.stderr.contains("outside the vocabulary (320)"), "\(bad)")
        let both = try Self.earshot(["generate", "--prompt-ids", "[1]", "text"])
        #expect(both.exitCode != 0 && both.stderr.contains("one of them"), "\(both)")
    }
}
