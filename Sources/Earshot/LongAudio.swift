// LongAudio: runs a task over a whole recording. The reference reads only the first 30 s; here a longer file
// is cut into back-to-back 30 s windows, each run as its own prompt, and every window's timestamps are
// shifted by its start time. `truncate: true` keeps the reference's behaviour (first 30 s only).
import EarshotAudio
import Foundation

/// One window's result: where it starts in the file and what the task produced for it.
public struct WindowResult: Sendable {
    public let index: Int
    public let startSeconds: Double
    public let durationSeconds: Double
    public let result: GenerationResult

    /// Timed pieces of this window's text, in file time: the `<|t|>` timestamps parsed (shifted by the
    /// window start); text without timestamps becomes one piece spanning the window.
    public var segments: [TimedText] {
        // Text before the first timestamp starts at the window start (the SRWT prompt itself ends in <|0.00|>).
        let text = result.text.hasPrefix("<|0.00|>") ? result.text : "<|0.00|>" + result.text
        let words = TimestampParser.parse(text, offset: startSeconds)
        if result.text.contains("<|"), !words.isEmpty { return TimestampParser.segments(words) }
        let plain = result.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return plain.isEmpty ? [] : [TimedText(start: startSeconds, end: startSeconds + durationSeconds, text: plain)]
    }
}

extension Session {
    /// Decodes `path` and runs `task` on it: one prompt when the audio is at most 30 s long (or `truncate`),
    /// else one per 30 s window (the KV cache is reset between windows). `onWindow` is called before each
    /// window starts; `onToken` streams every token.
    public func runWindowed(_ task: AudioTask, path: String, truncate: Bool = false, options: GenerationOptions,
                            cancel: CancellationFlag? = nil, onWindow: (AudioWindow) -> Void = { _ in },
                            onToken: (TokenEvent) -> Bool = { _ in true }) throws(EarshotError) -> [WindowResult] {
        let t0 = now()
        let audio: DecodedAudio
        do { audio = try AudioLoader.load(path) } catch { throw .audio(path: path, reason: error.description) }
        let decodeSeconds = now() - t0
        let chunk = LogMelSpectrogram.chunkSamples
        let windows = truncate || audio.samples.count <= chunk
            ? AudioWindow.windows(of: Array(audio.samples.prefix(chunk)), length: chunk)
            : AudioWindow.windows(of: audio.samples, length: chunk)
        guard !windows.isEmpty else { throw .audio(path: path, reason: "the file holds no samples") }
        var results: [WindowResult] = []
        for w in windows {
            if cancel?.isCancelled == true { break }
            onWindow(w)
            var stats = GenerationStats()
            if w.index == 0 { stats.audioSeconds = decodeSeconds }
            let name = windows.count == 1 ? path : "\(path)@\(String(format: "%.2f", w.startSeconds))"
            let prompt = try prepare(task: task, audio: .samples(w.samples, name: name), stats: &stats)
            let r = try generate(prompt, options: options, stats: &stats, cancel: cancel, onToken: onToken)
            results.append(WindowResult(index: w.index, startSeconds: w.startSeconds,
                                        durationSeconds: w.durationSeconds, result: r))
            if r.stopReason == .cancelled { break }
        }
        return results
    }
}
