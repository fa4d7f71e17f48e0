// StreamingLogMel: the log-mel of a whole recording of any length, computed as its samples stream in,
// exactly as faster-whisper's FeatureExtractor computes it over the whole signal: 160 zero samples appended,
// reflect-padded by 200 on each side, a frame every 160 samples (the last dropped), log10 with the 1e-10
// floor, clamped at (the maximum over the *whole* recording − 8), then (x + 4) / 4.
//
// Frames are kept as log10 values in blocks of 3000 (30 s) until `finish()`, when the global maximum is
// known; `window(start:count:)` then returns one [bins × 3000] encoder input (frames past `count` are 0,
// faster-whisper's pad_or_trim of the features). Memory: bins × 4 bytes × 100 frames per second
// (32 KB/s for 80 bins, 115 MB per hour) — the samples themselves are never kept.

public final class StreamingLogMel {
    public let spectrogram: LogMelSpectrogram
    public var bins: Int { spectrogram.bins }
    let threads: Int
    static let blockFrames = LogMelSpectrogram.chunkFrames
    static let pad = LogMelSpectrogram.nFFT / 2      // 200
    static let hop = LogMelSpectrogram.hop           // 160

    /// Samples received so far.
    public private(set) var sampleCount = 0
    /// Frames computed so far (after `finish()`: all of them, `sampleCount / 160 + 1`).
    public private(set) var frameCount = 0
    /// Whether `finish()` was called.
    public private(set) var finished = false
    /// The maximum log10 value over every frame (valid after `finish()`).
    public private(set) var maximum: Float = -.infinity

    /// The padded signal P from index `bufferStart` on (P[i] = y[i − 200] away from the edges).
    private var buffer: [Float] = []
    private var bufferStart = 0
    /// The first 201 samples, for the start reflection (P[0..<200] = y[200 … 1]).
    private var head: [Float] = []
    private var headDone = false
    private var blocks: [[Float]] = []

    public init(spectrogram: LogMelSpectrogram, threads: Int = 1) {
        self.spectrogram = spectrogram
        self.threads = max(1, threads)
    }

    /// Adds the next samples (16 kHz mono).
    public func append(_ samples: [Float]) {
        precondition(!finished, "StreamingLogMel.append after finish")
        sampleCount += samples.count
        if !headDone {
            head += samples
            guard head.count > Self.pad else { return }
            // P[0..<200] = y[200], y[199], …, y[1]; then y itself.
            buffer = (0..<Self.pad).map { head[Self.pad - $0] } + head
            head = []
            headDone = true
        } else {
            buffer += samples
        }
        computeReadyFrames(final: false)
    }

    /// Ends the signal: appends the 160 zeros and the end reflection and computes the remaining frames.
    public func finish() {
        guard !finished else { return }
        finished = true
        let total = sampleCount / Self.hop + 1                   // frames kept (the STFT's last one dropped)
        if !headDone {
            // Short signal (≤ 200 samples): build the whole padded signal with numpy's reflect rule.
            let y = head + [Float](repeating: 0, count: Self.hop)
            buffer = (0..<(y.count + 2 * Self.pad)).map { y[Self.reflect($0 - Self.pad, count: y.count)] }
            bufferStart = 0
            headDone = true
        } else {
            // y = samples + 160 zeros; P continues with the zeros and then y reflected at its end.
            let m = sampleCount + Self.hop                       // len(y)
            buffer += [Float](repeating: 0, count: Self.hop)
            let yEnd = Self.pad + m                              // P index just past y
            var tail: [Float] = []
            tail.reserveCapacity(Self.pad)
            for i in yEnd..<(yEnd + Self.pad) {
                let j = Self.reflect(i - Self.pad, count: m)     // index into y
                tail.append(j >= sampleCount ? 0 : sampleAt(padIndex: j + Self.pad))
            }
            buffer += tail
        }
        computeFrames(upTo: total)
        frameCount = total
    }

    /// One encoder input: frames start ..< start + count (count ≤ 3000) as [bins × 3000], clamped and scaled
    /// with the recording's maximum, zeros after `count`. Call after `finish()`.
    public func window(start: Int, count: Int) -> [Float] {
        precondition(finished, "StreamingLogMel.window before finish")
        let width = Self.blockFrames
        let n = max(0, min(count, width, frameCount - start))
        var out = [Float](repeating: 0, count: bins * width)
        guard n > 0 else { return out }
        out.withUnsafeMutableBufferPointer { o in
            for b in 0..<bins {
                var f = start
                while f < start + n {
                    let block = f / width, col = f % width
                    let run = min(width - col, start + n - f)
                    blocks[block].withUnsafeBufferPointer { src in
                        (o.baseAddress! + b * width + (f - start)).update(from: src.baseAddress! + b * width + col, count: run)
                    }
                    f += run
                }
                LogMelSpectrogram.clampAndScale(o.baseAddress! + b * width, count: n, maximum: maximum)
            }
        }
        return out
    }

    // MARK: - Internals

    /// numpy's "reflect" padding index for position i of a signal of `count` samples (any distance).
    static func reflect(_ i: Int, count: Int) -> Int {
        if count <= 1 { return 0 }
        let period = 2 * (count - 1)
        var j = i % period
        if j < 0 { j += period }
        return j < count ? j : period - j
    }

    /// P[i] for an index still in the buffer.
    private func sampleAt(padIndex i: Int) -> Float { buffer[i - bufferStart] }

    private func computeReadyFrames(final: Bool) {
        // Frame f needs P[160 f ..< 160 f + 400]; P is known up to 200 + sampleCount (before the end padding).
        let known = Self.pad + sampleCount
        guard known >= LogMelSpectrogram.nFFT else { return }
        let ready = (known - LogMelSpectrogram.nFFT) / Self.hop + 1
        // Keep the end reflection's source (the last 200 samples) in the buffer: stop 2 frames early.
        let upTo = ((max(0, ready - 2)) / 8) * 8
        if upTo > frameCount { computeFrames(upTo: upTo) }
    }

    /// Computes frames frameCount ..< upTo (rounded up to whole batches of 8 internally).
    private func computeFrames(upTo: Int) {
        guard upTo > frameCount else { return }
        let first = frameCount
        let batchEnd = (upTo + 7) / 8 * 8
        let needEnd = (batchEnd - 1) * Self.hop + LogMelSpectrogram.nFFT     // P index past the last read sample
        let localStart = first * Self.hop - bufferStart
        precondition(localStart >= 0, "StreamingLogMel: frame data already dropped")
        if bufferStart + buffer.count < needEnd { buffer += [Float](repeating: 0, count: needEnd - bufferStart - buffer.count) }
        let width = Self.blockFrames
        while blocks.count * width < batchEnd { blocks.append([Float](repeating: 0, count: bins * width)) }
        // Batches never cross a block (3000 is a multiple of 8): compute block by block.
        var f = first
        buffer.withUnsafeBufferPointer { xb in
            while f < batchEnd {
                let block = f / width, col = f % width
                let run = min(width - col, batchEnd - f)
                blocks[block].withUnsafeMutableBufferPointer { ob in
                    spectrogram.linearMel(padded: xb.baseAddress! + (f * Self.hop - bufferStart), frames: run,
                                          nonZero: 0..<Int.max, out: ob.baseAddress! + col, stride: width, threads: threads)
                }
                f += run
            }
        }
        // log10 the new frames (only those really kept) and track the maximum.
        let keep = upTo
        f = first
        while f < keep {
            let block = f / width, col = f % width
            let run = min(width - col, keep - f)
            blocks[block].withUnsafeMutableBufferPointer { ob in
                for b in 0..<bins {
                    let m = LogMelSpectrogram.log10InPlace(ob.baseAddress! + b * width + col, count: run)
                    maximum = max(maximum, m)
                }
            }
            f += run
        }
        frameCount = upTo
        // Forget samples no later frame reads (keep what the end reflection needs: the last 200 samples).
        let keepFrom = min(frameCount * Self.hop, Self.pad + sampleCount - Self.pad - 1)
        if keepFrom > bufferStart {
            let drop = min(keepFrom - bufferStart, buffer.count)
            buffer.removeFirst(drop)
            bufferStart += drop
        }
    }
}
