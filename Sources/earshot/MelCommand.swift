// earshot mel: the audio front-end on its own (decode → 16 kHz → log-mel), for debugging and for
// comparing against other implementations.
import ArgumentParser
import Earshot
import EarshotAudio
import Foundation

struct MelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mel",
        abstract: "Compute the log-mel spectrogram the audio encoder sees.",
        discussion: """
        Decodes FILE (WAV, FLAC, Ogg Vorbis/Opus, MP3; any sample rate, any channel count averaged to \
        mono) to 16 kHz the way the Qwen-Audio reference does (ffmpeg-compatible resampling, 16-bit \
        rounding), then computes the log-mel of its first 30 s: [bins × 3000] float32, padded with \
        silence when shorter. Longer files are cut at 30 s like the reference; --window picks a later \
        30 s window instead.

        The JSON fields are the spec's: samples (the whole file's length at 16 kHz), mel_len (valid mel \
        frames of the window: floor(L/160) with L = its samples, at most 480 000; ceil for --bins 128 as \
        in Qwen2-Audio), L1 (encoder frames), N (audio tokens), span (N + 2 positions in the prompt).

        Examples:
          # the 80 × 3000 log-mel as float32 little-endian, row-major [bin][frame]
          earshot mel speech.wav --out speech.mel.f32
          # the counts as JSON: {"samples": 176000, "mel_len": 1100, "L1": 550, "N": 275, "span": 277, ...}
          earshot mel speech.mp3 --json
          # the Qwen2-Audio front-end (128 bins, mel_len rounded up)
          earshot mel talk.flac --bins 128 --out talk.mel128.f32
          # the third 30 s window of a long recording (60–90 s)
          earshot mel lecture.mp3 --window 2 --json
        """)

    enum ResamplerChoice: String, ExpressibleByArgument, CaseIterable {
        case ffmpeg, standard
    }

    @Argument(help: "The audio file.")
    var file: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the log-mel to this file (float32 little-endian, [bin][frame]).", valueName: "FILE.f32"))
    var out: String?

    @Flag(help: "Print one JSON object with samples, mel_len, L1, N, span (and a few more fields).")
    var json = false

    @Option(help: "Mel bins: 80 (Qwen-Audio, Whisper ≤ v2) or 128 (Qwen2-Audio, Whisper v3).")
    var bins: Int = 80

    @Option(help: "Resampler for files not at 16 kHz: ffmpeg (the reference's filter, default) or standard (7.2 kHz passband, ≥ 80 dB stopband, no aliasing).")
    var resampler: ResamplerChoice = .ffmpeg

    @Flag(name: .customLong("no-int16"), help: "Keep float samples after resampling (the reference rounds them to 16 bits).")
    var noInt16 = false

    @Option(help: "Which 30 s window of the file (0 = the first, as the reference).")
    var window: Int = 0

    @Option(help: "Threads for the log-mel (the result is identical for any count).")
    var threads: Int = 1

    @Option(help: ArgumentHelp("Compute the log-mel N extra times and print timings as JSON (for Tools/bench/mel_bench.sh).", visibility: .hidden))
    var time: Int = 0

    func validate() throws {
        guard bins == 80 || bins == 128 else { throw ValidationError("--bins must be 80 or 128, not \(bins)") }
        guard window >= 0 else { throw ValidationError("--window must be 0 or more") }
        guard threads >= 1 else { throw ValidationError("--threads must be 1 or more") }
    }

    func run() throws {
        let options = AudioLoader.Options(quantizeToInt16: !noInt16,
                                          resampling: resampler == .ffmpeg ? .ffmpeg : .standard)
        let reader = try AudioWindowReader(path: file, options: options)
        var clip: AudioWindow?
        for _ in 0...window {
            clip = try reader.next()
            if clip == nil { break }
        }
        guard let clip else {
            throw MelCommandError(description: "\(file) has no window \(window): it is \(String(format: "%.1f", reader.file.duration)) s long")
        }
        // The whole file's 16 kHz length (the reference's `samples`): decode on to the end.
        var fileSamples = clip.startSample + clip.samples.count
        while let later = try reader.next() { fileSamples = later.startSample + later.samples.count }
        let front = try LogMelSpectrogram(bins: bins)
        let mel = front.compute(clip.samples, threads: threads)
        let counts = bins == 128 ? AudioTokenCounts.qwen2Audio(samples: clip.samples.count)
                                 : AudioTokenCounts.qwenAudio(samples: clip.samples.count)

        if let out {
            var bytes = [UInt8]()
            bytes.reserveCapacity(mel.values.count * 4)
            for v in mel.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            do { try OutputFile.writeAtomically(bytes, to: out) } catch {
                throw MelCommandError(description: "--out: \(error.description)")
            }
        }
        if time > 0 { printTimings(front, clip.samples) }

        if json {
            var fields: [(String, String)] = [
                ("samples", "\(fileSamples)"), ("mel_len", "\(counts.melLength)"), ("L1", "\(counts.encoderFrames)"),
                ("N", "\(counts.audioTokens)"), ("span", "\(counts.span)"),
                ("bins", "\(mel.bins)"), ("frames", "\(mel.frames)"), ("window", "\(clip.index)"),
                ("start_seconds", "\(clip.startSeconds)"), ("window_samples", "\(clip.samples.count)"),
                ("source_sample_rate", "\(reader.file.sampleRate)"), ("source_channels", "\(reader.file.channels)"),
            ]
            if let out { fields.append(("out", JSONText.string(out))) }
            print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        } else {
            let source = "\(reader.file.formatName), \(reader.file.sampleRate) Hz, \(reader.file.channels) ch"
            print("\(file) (\(source)): \(fileSamples) samples at 16 kHz; window \(clip.index) at \(clip.startSeconds) s has \(clip.samples.count)")
            print("log-mel \(mel.bins) × \(mel.frames): mel_len \(counts.melLength), L1 \(counts.encoderFrames), N \(counts.audioTokens), span \(counts.span)")
            if let out { print("wrote \(out) (\(mel.values.count * 4) bytes, float32 LE, [bin][frame])") }
        }
    }

    /// Times `time` runs of the log-mel alone (decode excluded) and prints {"mel_ms_min", "mel_ms_median", ...}.
    private func printTimings(_ front: LogMelSpectrogram, _ samples: [Float]) {
        var ms: [Double] = []
        var sink: Float = 0
        for _ in 0..<time {
            let t0 = DispatchTime.now().uptimeNanoseconds
            sink += front.compute(samples, threads: threads).values[12345]
            ms.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        ms.sort()
        FileHandle.standardError.write(Data("{\"mel_ms_min\": \(ms[0]), \"mel_ms_median\": \(ms[ms.count / 2]), \"runs\": \(time), \"threads\": \(threads), \"check\": \(sink)}\n".utf8))
    }
}

/// A failure of the command itself (not of its arguments), printed without the usage text.
struct MelCommandError: Error, CustomStringConvertible {
    let description: String
}
