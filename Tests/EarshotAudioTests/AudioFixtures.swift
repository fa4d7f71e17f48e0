// Test helpers: the audio fixtures (Tests/Fixtures/audio, made by Tools/fixtures/make_audio_fixtures.py
// from the official Qwen-Audio front-end's outputs) and small comparisons.
import EarshotAudio
import EarshotTestSupport
import Foundation

/// One reference log-mel record from `mel/goldens.json`.
struct MelGolden: Decodable {
    let file: String
    let golden: String
    let samples: Int
    let mel_len: Int
    let L1: Int
    let N: Int
    let span: Int
    let kept_frames: Int
    let pad_value: Float
    let pcm: String?

    /// The full [80 × 3000] reference (frames ≥ kept_frames all equal pad_value).
    func mel() throws -> [Float] {
        let kept = try AudioFixtures.floats(AudioFixtures.path("mel/\(golden).mel.f32"))
        precondition(kept.count == 80 * kept_frames)
        var full = [Float](repeating: pad_value, count: 80 * 3000)
        for b in 0..<80 {
            for f in 0..<kept_frames { full[b * 3000 + f] = kept[b * kept_frames + f] }
        }
        return full
    }

    /// ffmpeg's int16 output as floats (int16 / 32768), when stored.
    func pcmSamples() throws -> [Float]? {
        guard let pcm else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: AudioFixtures.path("mel/\(pcm)")))
        return data.withUnsafeBytes { raw in
            raw.bindMemory(to: Int16.self).map { Float(Int16(littleEndian: $0)) / 32768 }
        }
    }
}

enum AudioFixtures {
    static func path(_ relative: String) -> String { Fixtures.url("audio/" + relative).path }

    static let goldens: [MelGolden] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: path("mel/goldens.json")))
        return try! JSONDecoder().decode([MelGolden].self, from: data)
    }()

    static func golden(_ file: String) -> MelGolden { goldens.first { $0.golden == file }! }

    static func floats(_ path: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.withUnsafeBytes { raw in
            raw.bindMemory(to: UInt32.self).map { Float(bitPattern: UInt32(littleEndian: $0)) }
        }
    }
}

/// max |a[i] − b[i]| and where.
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> (value: Float, index: Int) {
    precondition(a.count == b.count)
    var best: Float = 0, at = 0
    for i in a.indices where abs(a[i] - b[i]) > best || a[i].isNaN != b[i].isNaN {
        best = a[i].isNaN || b[i].isNaN ? .infinity : abs(a[i] - b[i]); at = i
    }
    return (best, at)
}
