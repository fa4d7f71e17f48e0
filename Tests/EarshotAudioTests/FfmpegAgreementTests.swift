// Opt-in (EARSHOT_FFMPEG=1, needs ffmpeg on PATH; ffmpeg 5.1 as the reference used): random signals at
// many rates, lengths (short ones included), bit depths and channel counts written as WAV, decoded by the
// reference's ffmpeg command and by AudioLoader, compared sample for sample. The committed goldens
// (RateGoldenTests) cover the common cases hermetically; this sweeps the corners they cannot.
//
//   EARSHOT_FFMPEG=1 swift test --skip-build --filter FfmpegAgreementTests
import CSndFile
import EarshotAudio
import EarshotTestSupport
import Foundation
import Testing

@Suite(.enabled(if: ProcessInfo.processInfo.environment["EARSHOT_FFMPEG"] == "1"))
struct FfmpegAgreementTests {
    struct Format: CustomStringConvertible, Sendable {
        let name: String, sndfile: Int32, channels: Int, amplitude: Double
        var description: String { name }
    }

    static let formats = [
        Format(name: "s16 mono", sndfile: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), channels: 1, amplitude: 0.3),
        Format(name: "s16 stereo", sndfile: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), channels: 2, amplitude: 0.3),
        Format(name: "u8 mono", sndfile: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_U8), channels: 1, amplitude: 0.5),
        Format(name: "s24 mono", sndfile: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_24), channels: 1, amplitude: 0.3),
        Format(name: "s24 stereo", sndfile: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_24), channels: 2, amplitude: 0.3),
        Format(name: "f32 mono", sndfile: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), channels: 1, amplitude: 0.3),
        Format(name: "f32 stereo", sndfile: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), channels: 2, amplitude: 0.3),
        // Full scale: clipping in the int16 accumulator and in the float → s16 rounding.
        Format(name: "s16 mono loud", sndfile: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), channels: 1, amplitude: 1.5),
    ]
    static let rates = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 37800, 44056, 44100, 47999, 48000, 88200, 96000]
    static let lengths = [1, 3, 17, 40, 64, 99, 120, 150, 201, 333, 1000, 4097, 30011]

    let dir = try! TemporaryDirectory("earshot-ffmpeg")

    func write(_ path: String, _ f: Format, rate: Int, frames: Int, seed: UInt64) throws {
        var state = seed
        let interleaved: [Float] = (0..<(frames * f.channels)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u = Double(Int64(bitPattern: state) >> 11) / Double(1 << 52)   // [-1, 1)
            return Float(max(-1, min(1 - 1.0 / 32768, f.amplitude * u)))
        }
        var info = SF_INFO()
        info.samplerate = Int32(rate); info.channels = Int32(f.channels); info.format = f.sndfile
        let handle = try #require(sf_open(path, Int32(SFM_WRITE), &info))
        _ = interleaved.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, sf_count_t(frames)) }
        sf_close(handle)
    }

    /// The reference's decode command, output as int16 / 32768.
    func ffmpeg(_ path: String) throws -> [Float] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg", "-nostdin", "-threads", "0", "-loglevel", "error", "-i", path,
                       "-f", "s16le", "-ac", "1", "-acodec", "pcm_s16le", "-ar", "16000", "-"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return data.withUnsafeBytes { raw in raw.bindMemory(to: Int16.self).map { Float(Int16(littleEndian: $0)) / 32768 } }
    }

    @Test(arguments: formats)
    func agreesWithFfmpeg(_ f: Format) throws {
        var checked = 0, worst = 0
        for (i, rate) in Self.rates.enumerated() {
            for (j, n) in Self.lengths.enumerated() {
                let path = dir.path("x-\(rate)-\(n).wav")
                try write(path, f, rate: rate, frames: n, seed: UInt64(1000 * i + j + 1))
                let ref = try ffmpeg(path)
                let mine = try AudioLoader.load(path).samples
                #expect(mine.count == ref.count, "\(f) \(rate) Hz, \(n) frames: \(mine.count) samples, ffmpeg \(ref.count)")
                if mine.count == ref.count {
                    let c = PCMComparison(mine, ref)
                    worst = max(worst, c.maxLSB)
                    #expect(c.maxLSB == 0, "\(f) \(rate) Hz, \(n) frames: \(c)")
                }
                checked += 1
            }
        }
        print("[ffmpeg] \(f): \(checked) files, worst \(worst) LSB")
    }
}
