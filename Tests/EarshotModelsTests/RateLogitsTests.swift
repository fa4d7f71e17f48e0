// End to end from sources at other rates (Tests/Fixtures/audio/rates): the tiny Qwen-Audio checkpoint's
// last-position logits on the ASR prompt, with the audio decoded by Earshot (`AudioLoader`) vs decoded by
// the reference's ffmpeg command (the stored 16 kHz PCM). The ffmpeg-PCM path is the reference's own input,
// and GoldenModelTests show that mel → model path equals the official code within 5e-6; so Earshot's
// decode must land within 3e-3 of it (issue #16). With ffmpeg's samples reproduced exactly it is 0.
import EarshotAudio
import EarshotModels
import EarshotTestSupport
import Foundation
import Testing

@Suite(.serialized) struct RateLogitsTests {
    static let names = ["jfk-8000", "jfk-22050", "jfk-24000", "jfk-44100", "jfk-48000",
                        "jfk-22050-s24", "jfk-8000-stereo", "jfk-44100-stereo"]
    static let front = try! LogMelSpectrogram(bins: 80)

    static func path(_ file: String) -> String { Fixtures.url("audio/rates/\(file)").path }

    /// The asr golden's prompt with its audio span resized: <audio> + N pads + </audio>, then the task tags.
    static func asrPrompt(span: Int) throws -> [Int] {
        let ids = try GoldenFile("qwen-audio-tiny/goldens/asr.safetensors").ints("input_ids")
        let end = try #require(ids.firstIndex(of: 155164), "asr prompt has an </audio>")
        return [ids[0]] + [Int](repeating: ids[1], count: span - 2) + ids[end...]
    }

    static func logits(_ samples: [Float]) throws -> [Float] {
        let mel = front.compute(samples)
        let melLength = AudioTokenCounts.qwenAudio(samples: samples.count).melLength
        let ids = try asrPrompt(span: Golden.config.audio.spanTokens(melLength: melLength))
        let model = Golden.f32Model
        let cache = model.makeCache(capacity: ids.count, precision: .f32)
        return try model.prefill(ids: ids, mels: [AudioEncoder.Mel(values: mel.values, frames: mel.frames, melLength: melLength)],
                                 cache: cache)
    }

    @Test(arguments: names)
    func logitsFromOwnDecodeMatchFfmpegPCM(_ name: String) throws {
        let mine = try AudioLoader.load(Self.path("\(name).flac")).samples
        let ref = try AudioFile(path: Self.path("\(name).ref.flac")).readMono()
        #expect(mine.count == ref.count, "\(name): \(mine.count) samples, ffmpeg \(ref.count)")
        guard mine.count == ref.count else { return }
        let d = maxAbsDiff(try Self.logits(mine), try Self.logits(ref))
        print("[rates] \(name) logits (tiny Qwen-Audio, asr prompt): max |Δ| \(d)")
        #expect(d <= 3e-3, "\(name): logits max |Δ| \(d)")
    }
}
