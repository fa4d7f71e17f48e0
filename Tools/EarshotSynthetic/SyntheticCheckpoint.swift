// SyntheticCheckpoint: writes a Hugging Face–layout checkpoint directory (config, shards + index or one
// model.safetensors, tokenizer and mel files) from a tensor list, with values made on the fly.
//
// Values are bf16 from a fast per-tensor xorshift stream seeded by the tensor name: uniform in [−1, 1)
// × 1/√fan_in for matrices, 1 ± 0.1 for norm weights, ±0.1 for biases, ±1 for embeddings. They are not
// the tiny fixture's values (TinyCheckpoint makes those); they exist to have the right names, shapes and
// sizes — e.g. the full 8.4 B-parameter Qwen-Audio, 16.8 GB in 9 shards like the release.
import Foundation

public enum SyntheticCheckpoint {
    /// Writes `tensors` (state-dict order) into `directory` (created). With `maxShardBytes` set, tensors
    /// go into shards of at most that size in order, `aloneInLastShard` (if given) in a final shard of its
    /// own, plus `model.safetensors.index.json`; otherwise one `model.safetensors`. `files` are copied in
    /// (name → source URL). Returns the shard file names.
    @discardableResult
    public static func write(directory: URL, configJSON: Data, tensors: [(name: String, shape: [Int])],
                             maxShardBytes: Int? = nil, aloneInLastShard: String? = nil,
                             files: [String: URL] = [:], seed: UInt64 = 1,
                             progress: (String) -> Void = { _ in }) throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try configJSON.write(to: directory.appendingPathComponent("config.json"))
        for (name, src) in files.sorted(by: { $0.key < $1.key }) {
            let dst = directory.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: dst)
            try FileManager.default.copyItem(at: src, to: dst)
        }
        // Group into shards.
        var groups: [[(name: String, shape: [Int])]] = []
        if let maxShardBytes {
            var current: [(name: String, shape: [Int])] = [], size = 0
            var last: [(name: String, shape: [Int])] = []
            for t in tensors {
                if t.name == aloneInLastShard { last.append(t); continue }
                let bytes = 2 * t.shape.reduce(1, *)
                if !current.isEmpty && size + bytes > maxShardBytes { groups.append(current); current = []; size = 0 }
                current.append(t)
                size += bytes
            }
            if !current.isEmpty { groups.append(current) }
            if !last.isEmpty { groups.append(last) }
        } else {
            groups = [tensors]
        }
        let names: [String] = maxShardBytes == nil ? ["model.safetensors"] : (1...groups.count).map {
            String(format: "model-%05d-of-%05d.safetensors", $0, groups.count)
        }
        var weightMap: [(String, String)] = []
        var totalBytes = 0
        for (group, file) in zip(groups, names) {
            progress("writing \(file) (\(group.count) tensors)")
            let w = try SafetensorsWriter(url: directory.appendingPathComponent(file),
                                          entries: group.map { SafetensorsEntry(name: $0.name, dtype: "BF16", shape: $0.shape) })
            let chunk = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: 1 << 22)
            defer { chunk.deallocate() }
            for e in w.order {
                let (scale, offset) = scaleOffset(name: e.name, shape: e.shape)
                var state = fnv1a64(e.name) ^ (seed &* 0x9E37_79B9_7F4A_7C15) | 1
                var left = e.shape.reduce(1, *)
                totalBytes += 2 * left
                weightMap.append((e.name, file))
                while left > 0 {
                    let n = min(left, chunk.count)
                    fill(chunk.baseAddress!, n, &state, scale, offset)
                    try w.append(UnsafeRawBufferPointer(start: chunk.baseAddress, count: 2 * n))
                    left -= n
                }
            }
            try w.finish()
        }
        if maxShardBytes != nil {
            let map = weightMap.sorted { $0.0 < $1.0 }.map { "    \(jsonString($0.0)): \(jsonString($0.1))" }.joined(separator: ",\n")
            let index = "{\n  \"metadata\": {\n    \"total_size\": \(totalBytes)\n  },\n  \"weight_map\": {\n\(map)\n  }\n}\n"
            try Data(index.utf8).write(to: directory.appendingPathComponent("model.safetensors.index.json"))
        }
        return names
    }

    static func scaleOffset(name: String, shape: [Int]) -> (Float, Float) {
        if name.hasSuffix(".bias") { return (0.1, 0) }
        if shape.count == 1 { return (0.1, 1) }
        if name.contains("wte") || name.contains("positional_embedding") || name.contains("bos_eos") { return (1, 0) }
        let fanIn = shape.dropFirst().reduce(1, *)
        return (1 / Float(fanIn).squareRoot(), 0)
    }

    /// n bf16 values u·scale + offset, u uniform in [−1, 1) from xorshift64*.
    @inline(__always) static func fill(_ out: UnsafeMutablePointer<UInt16>, _ n: Int, _ state: inout UInt64, _ scale: Float, _ offset: Float) {
        var s = state
        for i in 0..<n {
            s ^= s >> 12; s ^= s << 25; s ^= s >> 27
            let z = s &* 0x2545_F491_4F6C_DD1D
            let u = Float(z >> 40) * (1.0 / 8_388_608.0) - 1
            let v = u * scale + offset
            let b = v.bitPattern
            out[i] = UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
        }
        state = s
    }

    static func fnv1a64(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }
}
