// LogMelSpectrogram: the Whisper / Qwen-Audio log-mel of one 30 s chunk, [bins × 3000] float32.
//
// Steps (spec §1): pad/trim to 480 000 samples; reflect-pad 200 each side; frames of 400 every 160 with
// a periodic Hann window; 3001 frames, the last dropped; |rFFT|² (201 bins); mel = F · P; log10 with a
// 1e-10 floor; clamp at (global max − 8); (x + 4) / 4.
//
// Speed: 8 frames go through the FFT together, one per SIMD lane; the filterbank product skips the
// zeros of F (391 of 16 080 entries are non-zero for 80 bins); frames that only see zero samples (the
// padding of a short clip) skip the FFT; log10 is a vector polynomial. `threads > 1` splits the frames
// over the kernels' shared thread pool.
import EarshotKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A log-mel spectrogram: `values` is [bins × frames] row-major (bin-major, as the goldens).
public struct LogMel: Sendable {
    public let bins: Int
    public let frames: Int
    public var values: [Float]

    /// Value at (bin, frame).
    public subscript(bin: Int, frame: Int) -> Float { values[bin * frames + frame] }
}

/// Computes log-mel spectrograms of 16 kHz mono audio. Build once (filters, twiddles) and reuse; it is
/// immutable and `Sendable`.
public struct LogMelSpectrogram: Sendable {
    public static let sampleRate = 16000
    public static let nFFT = 400
    public static let hop = 160
    /// 30 s at 16 kHz.
    public static let chunkSamples = 480_000
    /// Frames per chunk: 480 000 / 160 (3001 STFT frames, the last dropped).
    public static let chunkFrames = 3000

    public let filterbank: MelFilterbank
    public var bins: Int { filterbank.bins }
    let fft: LaneRealPowerFFT
    /// Periodic Hann window w[n] = 0.5 − 0.5·cos(2πn/400).
    let window: [Float]

    /// Slaney filters computed in code: 80 bins (Qwen-Audio, equals `mel_filters.npz` `mel_80`) or 128
    /// (Qwen2-Audio / Whisper large-v3).
    public init(bins: Int = 80) throws(AudioError) {
        guard bins == 80 || bins == 128 else { throw .unsupportedMelBins(bins) }
        self.init(filterbank: .slaney(bins: bins))
    }

    /// Uses the given filters (e.g. the model file's `mel_filters` blob), [bins × 201].
    public init(filterbank: MelFilterbank) {
        self.filterbank = filterbank
        fft = LaneRealPowerFFT(length: LogMelSpectrogram.nFFT)!
        window = (0..<LogMelSpectrogram.nFFT).map {
            Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(LogMelSpectrogram.nFFT)))
        }
    }

    /// Log-mel of the first 30 s of `samples` (16 kHz mono, zero-padded when shorter), [bins × 3000].
    /// `threads` > 1 computes frame blocks in parallel on `ThreadPool.current` (as many threads as the
    /// pool has active, EARSHOT_THREADS); the result is the same bit for bit.
    public func compute(_ samples: [Float], threads: Int = 1) -> LogMel {
        let frames = LogMelSpectrogram.chunkFrames
        var mel = [Float](repeating: 0, count: bins * frames)
        let padded = reflectPadded(samples)
        padded.withUnsafeBufferPointer { xb in
            mel.withUnsafeMutableBufferPointer { mb in
                linearMel(padded: xb.baseAddress!, frames: frames, nonZero: nonZeroSpan(sampleCount: samples.count),
                          out: mb.baseAddress!, stride: frames, threads: threads)
            }
        }
        LogMelSpectrogram.logCompress(&mel)
        return LogMel(bins: bins, frames: frames, values: mel)
    }

    /// Linear mel power of `frames` frames (a multiple of 8) of the padded signal `padded` (frame f reads
    /// padded[160 f ..< 160 f + 400]) into `out` [bins × stride] (frame f at column f). Frames whose span lies
    /// outside `nonZero` are known to be silent and skip the FFT.
    func linearMel(padded x: UnsafePointer<Float>, frames: Int, nonZero: Range<Int>,
                   out: UnsafeMutablePointer<Float>, stride: Int, threads: Int) {
        let batches = frames / 8
        if threads <= 1 {
            melBatches(0..<batches, x: x, nonZero: nonZero, out: out, stride: stride)
        } else {
            // Small chunks so the pool's dynamic hand-out balances uneven (silent) regions.
            let chunks = min(batches, 4 * threads)
            ThreadPool.current.parallelFor(chunks) { c in
                let lo = batches * c / chunks, hi = batches * (c + 1) / chunks
                melBatches(lo..<hi, x: x, nonZero: nonZero, out: out, stride: stride)
            }
        }
    }

    /// The padded signal the frames read: [200 reflected | 480 000 samples (zero-padded) | 200 reflected].
    func reflectPadded(_ samples: [Float]) -> [Float] {
        let n = LogMelSpectrogram.chunkSamples, pad = LogMelSpectrogram.nFFT / 2
        let count = min(samples.count, n)
        return [Float](unsafeUninitializedCapacity: n + 2 * pad) { p, initialized in
            let base = p.baseAddress!
            samples.withUnsafeBufferPointer { s in
                if count > 0 { (base + pad).initialize(from: s.baseAddress!, count: count) }
            }
            (base + pad + count).initialize(repeating: 0, count: n - count + pad)
            for i in 0..<pad {
                base[i] = base[2 * pad - i]                      // x[200 − i]
                base[pad + n + i] = base[pad + n - 2 - i]        // x[n − 2 − i]
            }
            initialized = n + 2 * pad
        }
    }

    /// Where the padded signal can be non-zero: the samples and their reflections (everything after a
    /// clip shorter than 30 s is zero padding, so its frames skip the FFT).
    private func nonZeroSpan(sampleCount: Int) -> Range<Int> {
        let n = LogMelSpectrogram.chunkSamples, pad = LogMelSpectrogram.nFFT / 2
        if sampleCount == 0 { return 0..<0 }
        return sampleCount >= n ? 0..<(n + 2 * pad) : 0..<(pad + sampleCount)
    }

    /// STFT power + filterbank for frame batches (8 frames each) into `out` [bins × stride] (linear mel).
    private func melBatches(_ batches: Range<Int>, x: UnsafePointer<Float>, nonZero: Range<Int>,
                            out: UnsafeMutablePointer<Float>, stride frames: Int) {
        let n = LogMelSpectrogram.nFFT, half = n / 2, hop = LogMelSpectrogram.hop
        let buffer = UnsafeMutablePointer<Lanes>.allocate(capacity: 4 * half + half + 1)
        defer { buffer.deallocate() }
        let re = buffer, im = buffer + half, scratch = buffer + 2 * half, power = buffer + 4 * half
        window.withUnsafeBufferPointer { wb in
            let w = wb.baseAddress!
            for batch in batches {
                let f0 = batch * 8
                let spanStart = f0 * hop, spanEnd = (f0 + 7) * hop + n
                if spanEnd <= nonZero.lowerBound || spanStart >= nonZero.upperBound {
                    for b in 0..<bins { (out + b * frames + f0).initialize(repeating: 0, count: 8) }
                    continue
                }
                // Gather: lane j = frame f0 + j; z[m] = x[2m]·w[2m] + i·x[2m+1]·w[2m+1].
                let p = x + spanStart
                for m in 0..<half {
                    let e = 2 &* m, o = e &+ 1
                    re[m] = Lanes(p[e], p[e &+ 160], p[e &+ 320], p[e &+ 480],
                                  p[e &+ 640], p[e &+ 800], p[e &+ 960], p[e &+ 1120]) * Lanes(repeating: w[e])
                    im[m] = Lanes(p[o], p[o &+ 160], p[o &+ 320], p[o &+ 480],
                                  p[o &+ 640], p[o &+ 800], p[o &+ 960], p[o &+ 1120]) * Lanes(repeating: w[o])
                }
                fft.power(re: re, im: im, scratch: scratch, power: power)
                applyFilterbank(power: power, out: out + f0, stride: frames)
            }
        }
    }

    /// out[b·stride + lane] = Σ_k F[b][k]·P[k][lane] over the non-zero run of each filter.
    @inline(__always)
    private func applyFilterbank(power: UnsafePointer<Lanes>, out: UnsafeMutablePointer<Float>, stride: Int) {
        filterbank.runWeights.withUnsafeBufferPointer { wb in
            let weights = wb.baseAddress!
            for b in 0..<filterbank.bins {
                let start = filterbank.runStart[b], len = filterbank.runLength[b]
                let wt = weights + filterbank.runOffset[b]
                var acc0 = Lanes(), acc1 = Lanes()
                var k = 0
                while k &+ 2 <= len {
                    acc0 = acc0.addingProduct(power[start &+ k], wt[k])
                    acc1 = acc1.addingProduct(power[start &+ k &+ 1], wt[k &+ 1])
                    k &+= 2
                }
                if k < len { acc0 = acc0.addingProduct(power[start &+ k], wt[k]) }
                UnsafeMutableRawPointer(out + b &* stride).storeBytes(of: acc0 + acc1, as: Lanes.self)
            }
        }
    }

    /// In place: v = log10(max(v, 1e-10)); M = max v; v = (max(v, M − 8) + 4) / 4.
    static func logCompress(_ mel: inout [Float]) {
        mel.withUnsafeMutableBufferPointer { b in
            guard let p = b.baseAddress else { return }
            let m = log10InPlace(p, count: b.count)
            clampAndScale(p, count: b.count, maximum: m)
        }
    }

    /// log10 with the 1e-10 floor only (no clamp, no scaling): the first half of `logCompress`; returns the maximum.
    static func log10InPlace(_ p: UnsafeMutablePointer<Float>, count: Int) -> Float {
        let raw = UnsafeMutableRawPointer(p)
        let vectors = count / 8
        let floor = Lanes(repeating: 1e-10)
        var maxV = Lanes(repeating: -.infinity)
        for i in 0..<vectors {
            let v = log10Lanes(pointwiseMax(raw.loadUnaligned(fromByteOffset: i &* 32, as: Lanes.self), floor))
            raw.storeBytes(of: v, toByteOffset: i &* 32, as: Lanes.self)
            maxV = pointwiseMax(maxV, v)
        }
        var m = maxV.max()
        for i in (vectors * 8)..<count {
            p[i] = Float(log10(Double(max(p[i], 1e-10))))
            m = max(m, p[i])
        }
        return m
    }

    /// In place: v = (max(v, maximum − 8) + 4) / 4 for log10 values (the second half of `logCompress`).
    public static func clampAndScale(_ p: UnsafeMutablePointer<Float>, count: Int, maximum m: Float) {
        let raw = UnsafeMutableRawPointer(p)
        let vectors = count / 8
        let lowest = Lanes(repeating: m - 8)
        for i in 0..<vectors {
            let v = raw.loadUnaligned(fromByteOffset: i &* 32, as: Lanes.self)
            raw.storeBytes(of: (pointwiseMax(v, lowest) + 4) * 0.25, toByteOffset: i &* 32, as: Lanes.self)
        }
        for i in (vectors * 8)..<count { p[i] = (max(p[i], m - 8) + 4) * 0.25 }
    }
}
