// `earshot-bench write-checkpoint`: writes a Hugging Face–layout Qwen-Audio checkpoint with random bf16 values and
// the exact tensor names and shapes of a config (default layout: the real 8.4 B-parameter model is 16.8 GB in 9
// shards of ≤ 2 GB with lm_head alone in the last, + model.safetensors.index.json). For converter speed and
// memory measurements; the values mean nothing.
import ArgumentParser
import EarshotConvert
import EarshotSynthetic
import Foundation

struct WriteCheckpointBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-checkpoint",
        abstract: "Write a random-weight Hugging Face Qwen-Audio checkpoint directory (converter measurements).",
        discussion: """
        Needs ~17 GB free for the real config. --assets DIR copies qwen.tiktoken, mel_filters.npz and
        generation_config.json (or base_generation_config.json) from DIR. Example:
          earshot-bench write-checkpoint Tools/bench/qwen-audio-config.json /work/scratch/ckpt --assets ../shared/qwen-audio
        """)

    @Argument(help: "A Hugging Face Qwen-Audio config.json.") var config: String
    @Argument(help: "The directory to write.") var output: String
    @Option(help: "Copy the tokenizer, mel filters and generation config from this directory.") var assets: String?
    @Flag(help: "One model.safetensors instead of shards.") var singleFile = false

    func run() throws {
        var files: [String: URL] = [:]
        if let assets {
            let dir = URL(fileURLWithPath: assets)
            for (dst, candidates) in [("qwen.tiktoken", ["qwen.tiktoken"]), ("mel_filters.npz", ["mel_filters.npz"]),
                                      ("generation_config.json", ["generation_config.json", "base_generation_config.json"])] {
                if let src = candidates.map({ dir.appendingPathComponent($0) }).first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
                    files[dst] = src
                }
            }
        }
        let configURL = URL(fileURLWithPath: config), outDir = URL(fileURLWithPath: output)
        let configData = try Data(contentsOf: configURL)
        let parsed = try CheckpointConfig.parse(configData, path: configURL.path)
        let tensors = CheckpointLayout.expectedTensors(parsed).map { ($0.name, $0.shape) }
        let values = tensors.reduce(0) { $0 + $1.1.reduce(1, *) }
        print("writing \(tensors.count) tensors, \(values) values (\(String(format: "%.2f", Double(2 * values) / 1e9)) GB bf16) to \(outDir.path)")
        let start = Date()
        let shards = try SyntheticCheckpoint.write(
            directory: outDir, configJSON: configData, tensors: tensors,
            maxShardBytes: singleFile ? nil : 2_000_000_000, aloneInLastShard: singleFile ? nil : "lm_head.weight",
            files: files, progress: { print($0) })
        print("done: \(shards.count) file(s) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    }
}
