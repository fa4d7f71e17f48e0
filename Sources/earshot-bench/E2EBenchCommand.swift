// `earshot-bench e2e`: a 30 s clip end to end through the library, as a user runs it — `EarshotModel` on the
// file, a fresh `Session`, `run(.transcribe(en))` on 30 s of audio (read, log-mel, encoder, prefill of the
// ~760-position prompt, then `--tokens` greedy steps with no stop id, so every run decodes the same count) —
// with the phase split the library's own stats give (audio, encode, prefill, decode) and the peak RSS.
// Needs a `.ear` the library opens (a real conversion, or `write-model --tokenizer qwen.tiktoken`).
import ArgumentParser
import Earshot
import EarshotAudio
import EarshotKernels
import Foundation

struct E2EBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "A 30 s clip end to end through the library (read, log-mel, encoder, prefill, decode), with the phase split.",
        discussion: """
        Each run opens a new session (no cached audio or KV prefix) and transcribes 30 s of audio: --audio
        repeated to fill 30 s (default Tests/Fixtures/audio/jfk.wav, 11 s), first 30 s only. Decoding is greedy
        for --tokens steps with no stop id. Examples (the q4m recipe's types, random weights):
          swift run -c release earshot-bench write-model --type q4 --head-type q8 --audio-type q8 \\
            --tokenizer Tests/Fixtures/tokenizer/qwen.tiktoken --output /work/scratch/bench/qwen7b.q4m.ear
          swift run -c release earshot-bench e2e --model /work/scratch/bench/qwen7b.q4m.ear --threads 1,2 --runs 2
        """)
    @Option(help: "The .ear model (one the library opens).") var model: String
    @Option(help: "Thread counts, comma-separated.") var threads: String = "2"
    @Option(help: "Timed runs per thread count.") var runs: Int = 2
    @Option(help: "Decoded tokens per run.") var tokens: Int = 30
    @Option(help: "Audio repeated to 30 s.") var audio: String = "Tests/Fixtures/audio/jfk.wav"

    func run() throws {
        BenchReport.header()
        let clip: [Float]
        do { clip = try AudioLoader.load(audio).samples } catch { throw ValidationError("cannot read \(audio): \(error)") }
        guard !clip.isEmpty else { throw ValidationError("\(audio) has no samples") }
        let n = LogMelSpectrogram.chunkSamples
        let samples = (0..<n).map { clip[$0 % clip.count] }
        print("e2e: \(model), 30 s of \(audio) (looped), \(tokens) greedy tokens per run")
        for t in parseThreadList(threads) {
            let m: EarshotModel
            do { m = try EarshotModel(path: model, options: ModelOptions(threads: t)) } catch { throw ValidationError("cannot load \(model): \(error)") }
            let options = GenerationOptions(sampling: .greedy, maxTokens: tokens, stopIds: [])
            func once() throws -> (wall: Double, stats: GenerationStats) {
                var stats = GenerationStats()
                let wall = try BenchClock.time {
                    let r = try m.makeSession().run(.transcribe(language: .en), audio: .samples(samples, name: "e2e"),
                                                    options: options, truncate: true)
                    stats = r.stats
                }
                guard stats.generatedTokens == tokens else { throw ValidationError("decoded \(stats.generatedTokens) tokens, not \(tokens)") }
                return (wall, stats)
            }
            _ = try once()   // warm the page cache
            var walls: [Double] = [], phases: [GenerationStats] = []
            for _ in 0..<runs {
                let (w, s) = try once()
                walls.append(w); phases.append(s)
            }
            let median = { (f: (GenerationStats) -> Double) in BenchStats(values: phases.map(f)).median }
            let prompt = phases.last?.promptTokens ?? 0
            BenchReport.row(workload: "e2e", type: m.info.quantization ?? "-", threads: m.threads, stats: BenchStats(values: walls), unit: "s",
                            extra: [("audio_s", BenchReport.fmt(median(\.audioSeconds))), ("encode_s", BenchReport.fmt(median(\.encodeSeconds))),
                                    ("prefill_s", BenchReport.fmt(median(\.prefillSeconds))), ("decode_s", BenchReport.fmt(median(\.decodeSeconds))),
                                    ("prompt_tokens", "\(prompt)"), ("decode_tok_s", BenchReport.fmt(median(\.decodeTokensPerSecond)))])
        }
        BenchReport.peakRSSLine()
    }
}
