// earshot-convert, run as a user would: help, refusals with readable messages and exit code 1, a real
// conversion with plain progress lines (stderr is not a terminal here), the table and the summary.
import Foundation
import Testing
import EarshotTestSupport

@Suite struct ConvertCLITests {
    func run(_ args: [String], in dir: URL? = nil) throws -> CLIResult {
        try CLIRunner.run(args, executable: "earshot-convert", currentDirectory: dir, timeout: 300)
    }

    @Test func helpTeachesRecipesAndExamples() throws {
        let r = try run(["--help"])
        #expect(r.exitCode == 0)
        for needle in ["--quant", "q4m", "--keep", "PATTERN=TYPE", "Examples:", "byte-identical", "--dry-run"] {
            #expect(r.stdout.contains(needle), "help lacks \(needle)")
        }
    }

    /// A GGUF file converts through the same command (the tiny Qwen2 fixture); a truncated one is refused.
    @Test func convertsAGGUFFile() throws {
        let out = try scratchDirectory("cli-gguf")
        defer { cleanup(out) }
        let gguf = Fixtures.url("qwen2-tiny/untied.gguf").path
        let dry = try run([gguf, "--dry-run", "--quant", "q8"])
        #expect(dry.exitCode == 0 && dry.stdout.contains("GGUF v3 qwen2: 2 layers, hidden 64, FFN 128, 4/2 heads × 16"))
        #expect(dry.stdout.contains("blk.0.attn_qkv.weight") && dry.stdout.contains("[128, 64]"))
        let r = try run([gguf, "--quant", "q8"], in: out)
        #expect(r.exitCode == 0 && r.stdout.contains("wrote untied.q8.ear"), "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("untied.q8.ear").path))

        let bytes = try Data(contentsOf: URL(fileURLWithPath: gguf))
        let cut = out.appendingPathComponent("cut.gguf")
        try bytes.prefix(bytes.count - 1000).write(to: cut)
        let bad = try run([cut.path, "-o", out.appendingPathComponent("cut.ear").path])
        #expect(bad.exitCode == 1 && bad.stderr.hasPrefix("error: GGUF file") && bad.stderr.contains("past the end of the file"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("cut.ear").path))
    }

    @Test func refusalsPrintOneClearErrorLine() throws {
        let dir = try scratchDirectory("cli-refuse")
        defer { cleanup(dir) }
        let missing = try run([dir.appendingPathComponent("nope").path])
        #expect(missing.exitCode == 1)
        #expect(missing.stderr.hasPrefix("error: checkpoint directory not found:"))

        try writeTinyCheckpoint(dir, vocab: 64)
        let badQuant = try run([dir.path, "--quant", "q3"])
        #expect(badQuant.exitCode == 1 && badQuant.stderr.contains("unknown --quant q3; use f32, f16, q8, q4 or a recipe"))
        let badKeep = try run([dir.path, "--keep", "output.weight"])
        #expect(badKeep.exitCode == 1 && badKeep.stderr.contains("invalid --keep output.weight"))

        try tinyConfigJSON(architectures: "\"LlamaForCausalLM\"", modelType: "llama")
            .write(to: dir.appendingPathComponent("config.json"))
        let arch = try run([dir.path, "-o", dir.appendingPathComponent("x.ear").path])
        #expect(arch.exitCode == 1)
        #expect(arch.stderr.contains("not a Qwen-Audio checkpoint: found architectures [\"LlamaForCausalLM\"]"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.ear").path))
        // A Qwen2-Audio config goes to the Qwen2-Audio reader, which names what does not fit (here: Qwen-Audio's
        // keys under Qwen2-Audio's architecture, so the class defaults put <|AUDIO|> outside the 1024-row vocabulary).
        try tinyConfigJSON(architectures: "\"Qwen2AudioForConditionalGeneration\"", modelType: "qwen2_audio")
            .write(to: dir.appendingPathComponent("config.json"))
        let q2a = try run([dir.path, "-o", dir.appendingPathComponent("x.ear").path])
        #expect(q2a.exitCode == 1 && q2a.stderr.hasPrefix("error: unsupported config value audio_token_index"))
        #expect(q2a.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.ear").path))
    }

    @Test func convertsWithProgressTableAndSummary() throws {
        let ckpt = try scratchDirectory("cli-ckpt")
        let out = try scratchDirectory("cli-out")
        defer { cleanup(ckpt); cleanup(out) }
        try writeTinyCheckpoint(ckpt, vocab: 256, sharded: true)
        let dry = try run([ckpt.path, "--dry-run", "--quiet"])
        #expect(dry.exitCode == 0 && dry.stdout.hasPrefix("checkpoint OK: 59 tensors"))
        #expect(listing(out).isEmpty)

        let r = try run([ckpt.path, "--keep", "output.weight=f16"], in: out)
        #expect(r.exitCode == 0, "\(r)")
        let name = "\(ckpt.lastPathComponent).q4m.ear"
        #expect(listing(out) == [name])
        #expect(r.stderr.contains("[1/59] token_embd.weight → q8") && r.stderr.contains("[59/59] output.weight → f16"))
        #expect(!r.stdout.contains("rel.RMSE"))          // the per-tensor table only with --verbose
        #expect(r.stdout.contains("wrote \(name):") && r.stdout.contains("bits/weight (recipe q4m)"))
        #expect(r.stdout.contains("expected RAM:"))

        // The acceptance check: `earshot inspect --verify` passes on the converted file.
        let inspect = try CLIRunner.run(["inspect", "--verify", out.appendingPathComponent(name).path], executable: "earshot")
        #expect(inspect.exitCode == 0, "\(inspect)")
        #expect(inspect.stdout.contains("qwen-audio") && inspect.stdout.contains("blk.1.ffn_down.weight"))

        let again = try run([ckpt.path], in: out)
        #expect(again.exitCode == 1 && again.stderr.contains("file exists (use --force to overwrite)"))
        let forced = try run([ckpt.path, "--keep", "output.weight=f16", "--force", "-q"], in: out)
        #expect(forced.exitCode == 0 && forced.stderr.isEmpty)
        let verbose = try run([ckpt.path, "--keep", "output.weight=f16", "--force", "--verbose"], in: out)
        #expect(verbose.stdout.contains("rel.RMSE") && verbose.stdout.contains("blk.0.ffn_up.weight"))
        #expect(listing(out) == [name])
    }
}
