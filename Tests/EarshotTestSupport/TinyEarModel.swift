// TinyEarModel: the tiny fixture checkpoint (TinyCheckpoint, seed 9 — the goldens' weights) written as a
// Hugging Face directory and converted to `.ear` by the built `earshot-convert` (f32: bit-exact weights),
// once per test process, in a temporary directory removed when the process exits.
import Foundation

public enum TinyEarModel {
    /// The path of the converted tiny model (f32 matrices), made on first use.
    public static func path() throws -> String { try shared.get() }

    private static let shared = MadeOnce("earshot-tiny-ear", make: make)

    private static func make(_ dir: URL) throws -> String {
        let fm = FileManager.default
        let ckpt = dir.appendingPathComponent("checkpoint")
        try fm.createDirectory(at: ckpt, withIntermediateDirectories: true)

        let assets: [String: String] = [
            "config.json": "qwen-audio-tiny/config.json",
            "generation_config.json": "qwen-audio-tiny/generation_config.json",
            "qwen.tiktoken": "tokenizer/qwen.tiktoken",
            "mel_filters.npz": "convert/mel_filters.npz",
        ]
        for (name, src) in assets { try Data(contentsOf: Fixtures.url(src)).write(to: ckpt.appendingPathComponent(name)) }
        let tensors = TinyCheckpoint.fixture.tensors.map { t in
            (entry: SafetensorsEntry(name: t.spec.name, dtype: "BF16", shape: t.spec.shape),
             data: t.bits.withUnsafeBytes { Data($0) })
        }
        try SafetensorsWriter.write(url: ckpt.appendingPathComponent("model.safetensors"), tensors: tensors)
        let out = dir.appendingPathComponent("tiny.f32.ear").path
        let r = try CLIRunner.run([ckpt.path, "-o", out, "--quant", "f32"], executable: "earshot-convert", timeout: 300)
        guard r.exitCode == 0, fm.fileExists(atPath: out) else {
            throw TinyEarModelError.conversionFailed(r.description)
        }
        try? fm.removeItem(at: ckpt)
        return out
    }
}

public enum TinyEarModelError: Error, CustomStringConvertible {
    /// earshot-convert did not produce the file (its output attached).
    case conversionFailed(String)
    public var description: String {
        switch self { case .conversionFailed(let s): return "earshot-convert failed on the tiny checkpoint:\n\(s)" }
    }
}

/// The tiny random Qwen2-Audio checkpoint `a` (Tests/Fixtures/qwen2-audio-tiny, made by the official
/// transformers code) converted by the real `earshot-convert` (f32), once per test process.
public enum TinyQwen2AudioEar {
    public static func path() throws -> String { try shared.get() }

    private static let shared = MadeOnce("earshot-tiny-q2a") { dir in
        let out = dir.appendingPathComponent("tiny-qwen2-audio.f32.ear").path
        let r = try CLIRunner.run([Fixtures.url("qwen2-audio-tiny/a").path, "-o", out, "--quant", "f32"], executable: "earshot-convert", timeout: 300)
        guard r.exitCode == 0, FileManager.default.fileExists(atPath: out) else { throw TinyEarModelError.conversionFailed(r.description) }
        return out
    }
}
