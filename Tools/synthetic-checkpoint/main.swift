// synthetic-checkpoint: writes a Hugging Face–layout Qwen-Audio checkpoint with random bf16 values and
// the exact tensor names and shapes of a config (default: the real 8.4 B-parameter model, 16.8 GB in
// 9 shards of ≤ 2 GB with lm_head alone in the last, + model.safetensors.index.json). For converter
// speed and memory measurements; the values mean nothing.
//
//   swift run -c release synthetic-checkpoint CONFIG.json OUT_DIR [--assets DIR] [--single-file]
//
// --assets DIR copies qwen.tiktoken, mel_filters.npz and generation_config.json (or
// base_generation_config.json) from DIR. Needs ~17 GB free for the real config.
import Foundation
import EarshotConvert
import EarshotTestSupport

let args = Array(CommandLine.arguments.dropFirst())
guard args.count >= 2, !args.contains("--help") else {
    FileHandle.standardError.write(Data("usage: synthetic-checkpoint CONFIG.json OUT_DIR [--assets DIR] [--single-file]\n".utf8))
    exit(args.contains("--help") ? 0 : 2)
}
let configURL = URL(fileURLWithPath: args[0]), outDir = URL(fileURLWithPath: args[1])
var files: [String: URL] = [:]
if let i = args.firstIndex(of: "--assets"), i + 1 < args.count {
    let assets = URL(fileURLWithPath: args[i + 1])
    for (dst, candidates) in [("qwen.tiktoken", ["qwen.tiktoken"]), ("mel_filters.npz", ["mel_filters.npz"]),
                              ("generation_config.json", ["generation_config.json", "base_generation_config.json"])] {
        if let src = candidates.map({ assets.appendingPathComponent($0) }).first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
            files[dst] = src
        }
    }
}
do {
    let configData = try Data(contentsOf: configURL)
    let config = try CheckpointConfig.parse(configData, path: configURL.path)
    let tensors = CheckpointLayout.expectedTensors(config).map { ($0.name, $0.shape) }
    let values = tensors.reduce(0) { $0 + $1.1.reduce(1, *) }
    print("writing \(tensors.count) tensors, \(values) values (\(String(format: "%.2f", Double(2 * values) / 1e9)) GB bf16) to \(outDir.path)")
    let start = Date()
    let single = args.contains("--single-file")
    let shards = try SyntheticCheckpoint.write(
        directory: outDir, configJSON: configData, tensors: tensors,
        maxShardBytes: single ? nil : 2_000_000_000, aloneInLastShard: single ? nil : "lm_head.weight",
        files: files, progress: { print($0) })
    print("done: \(shards.count) file(s) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
