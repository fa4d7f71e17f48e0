// PauseAlignedWindows: long 16 kHz audio cut into windows of at most 30 s that end in pauses, for models that
// read 30 s at a time (Qwen-Audio). Samples are streamed (a file through `AudioWindowReader`), so memory stays
// at about one window whatever the length of the recording.
//
// Where a window ends, in the last `searchSamples` before the 30 s mark:
//   1. with a VAD (a per-512-sample speech probability provider, e.g. Silero VAD run over the whole file in
//      order): inside the longest run of windows the VAD calls non-speech (p < `vadSilenceThreshold`), at the
//      quietest short-time-energy frame of that run;
//   2. otherwise (no VAD, or speech all through the search range): in the 200 ms stretch of least short-time
//      energy (20 ms frames, 10 ms hop), at its quietest frame. A whole 200 ms stretch is scored so that a stop
//      consonant's brief closure inside a word loses against a real pause between words.
// The last window ends at the end of the file. No window is cut so that less than `minTailSamples` (10 ms)
// would remain: the cut moves earlier, so the tail is merged into the last window instead. Windows cover the
// file in order, without gaps or overlaps.

/// Why a window ends where it does.
public enum WindowCut: Sendable, Equatable {
    /// The file ends here.
    case endOfFile
    /// In a stretch the VAD marks as non-speech.
    case vadPause
    /// At the minimum of short-time energy (no VAD, or the VAD heard speech throughout the search range).
    case energyMinimum
}

/// One window of the plan: samples `startSample ..< startSample + samples.count` of the 16 kHz signal.
public struct PlannedWindow: Sendable {
    public let index: Int
    public let startSample: Int
    /// The window's audio (16 kHz mono, at most `maxWindowSamples`).
    public let samples: [Float]
    public let cut: WindowCut

    public var endSample: Int { startSample + samples.count }
    public var startSeconds: Double { Double(startSample) / 16000 }
    public var endSeconds: Double { Double(endSample) / 16000 }
    public var durationSeconds: Double { Double(samples.count) / 16000 }
}

/// Tuning of the planner (defaults: 30 s windows, cuts in the last 6 s).
public struct PauseAlignedWindowOptions: Sendable, Equatable {
    /// Longest window (30 s at 16 kHz: the encoder's context).
    public var maxWindowSamples = 480_000
    /// How far before the 30 s mark a cut may go (6 s).
    public var searchSamples = 96_000
    /// Short-time energy frame and hop (20 ms, 10 ms).
    public var frameSamples = 320
    public var hopSamples = 160
    /// The stretch of least energy looked for (200 ms).
    public var quietSpanSamples = 3_200
    /// A remainder shorter than this (10 ms) is never left as a window of its own.
    public var minTailSamples = 160
    /// VAD windows with a probability below this are non-speech (faster-whisper's neg_threshold at its default 0.5 threshold).
    public var vadSilenceThreshold: Float = 0.35
    /// Samples read from the source at a time (a multiple of the VAD window).
    public var readSamples = 512 * 64

    public init() {}

    /// Checks that the numbers make sense together (positive, the search range inside a window, …).
    public func validate() throws(AudioError) {
        guard minTailSamples >= 1 else { throw .invalidWindowOptions("minTailSamples \(minTailSamples) must be ≥ 1") }
        guard maxWindowSamples >= 2 * minTailSamples else {
            throw .invalidWindowOptions("maxWindowSamples \(maxWindowSamples) must be ≥ 2 × minTailSamples (\(2 * minTailSamples))")
        }
        guard searchSamples >= 1 && searchSamples < maxWindowSamples else {
            throw .invalidWindowOptions("searchSamples \(searchSamples) must be 1 …< maxWindowSamples (\(maxWindowSamples))")
        }
        guard frameSamples >= 1, hopSamples >= 1, quietSpanSamples >= frameSamples else {
            throw .invalidWindowOptions("frameSamples \(frameSamples), hopSamples \(hopSamples) must be ≥ 1 and quietSpanSamples \(quietSpanSamples) ≥ frameSamples")
        }
        guard readSamples >= 512 else { throw .invalidWindowOptions("readSamples \(readSamples) must be ≥ 512") }
        guard vadSilenceThreshold.isFinite else { throw .invalidWindowOptions("vadSilenceThreshold must be finite") }
    }
}

/// Plans pause-aligned windows over a stream of samples. Call `next()` until it returns nil.
public final class PauseAlignedWindowPlanner {
    /// Returns up to `maxCount` next samples of the 16 kHz signal; an empty array at the end.
    public typealias SampleSource = (_ maxCount: Int) throws(AudioError) -> [Float]
    /// Speech probabilities of consecutive 512-sample windows (one value each), called over the signal in order
    /// from its first sample, each call continuing where the last one stopped (the provider keeps its own state).
    public typealias SpeechProbabilities = (_ windows: UnsafeBufferPointer<Float>) -> [Float]

    public static let vadWindow = 512
    public let options: PauseAlignedWindowOptions
    private let source: SampleSource
    private let speechProbabilities: SpeechProbabilities?
    /// Samples `bufferStart ..< bufferStart + buffer.count` of the signal.
    private var buffer: [Float] = []
    private var bufferStart = 0
    private var reachedEnd = false
    /// VAD probabilities of windows `probStart ..< probStart + probs.count` (window k = samples 512k ..< 512k + 512).
    private var probs: [Float] = []
    private var probStart = 0
    private var vadFed = 0          // samples given to the VAD so far (a multiple of 512)
    private var nextIndex = 0

    /// Plans over `source`; throws `.invalidWindowOptions` when the options do not fit together.
    public init(source: @escaping SampleSource, options: PauseAlignedWindowOptions = .init(),
                speechProbabilities: SpeechProbabilities? = nil) throws(AudioError) {
        try options.validate()
        self.source = source
        self.options = options
        self.speechProbabilities = speechProbabilities
    }

    /// Plans over a file decoded and resampled to 16 kHz as it is read (`AudioWindowReader`), never whole.
    public convenience init(path: String, audioOptions: AudioLoader.Options = .init(), options: PauseAlignedWindowOptions = .init(),
                            speechProbabilities: SpeechProbabilities? = nil) throws(AudioError) {
        try options.validate()
        let reader = try AudioWindowReader(path: path, length: options.readSamples, hop: options.readSamples, options: audioOptions)
        try self.init(source: { (_: Int) throws(AudioError) -> [Float] in try reader.next()?.samples ?? [] },
                  options: options, speechProbabilities: speechProbabilities)
    }

    /// Plans over samples in memory (tests, short clips).
    public convenience init(samples: [Float], options: PauseAlignedWindowOptions = .init(),
                            speechProbabilities: SpeechProbabilities? = nil) throws(AudioError) {
        var at = 0
        try self.init(source: { (n: Int) throws(AudioError) -> [Float] in
            let end = min(samples.count, at + max(1, n))
            defer { at = end }
            return Array(samples[at..<end])
        }, options: options, speechProbabilities: speechProbabilities)
    }

    /// Samples held right now (at most `maxWindowSamples + minTailSamples + readSamples`).
    public var bufferedSamples: Int { buffer.count }

    /// The next window, or nil after the last one.
    public func next() throws(AudioError) -> PlannedWindow? {
        let o = options
        // Enough samples to know whether this is the last window and to keep a tail of ≥ minTail after a cut.
        while !reachedEnd && buffer.count < o.maxWindowSamples + o.minTailSamples {
            let more = try source(o.readSamples)
            if more.isEmpty { reachedEnd = true } else { buffer += more }
        }
        if buffer.isEmpty { return nil }
        if reachedEnd && buffer.count <= o.maxWindowSamples { return emit(buffer.count, .endOfFile) }

        feedVAD()
        var hi = min(o.maxWindowSamples, buffer.count - o.minTailSamples)
        // With a VAD, never cut past what it has seen (it sees whole 512-sample windows: ≤ 511 samples short).
        if speechProbabilities != nil { hi = min(hi, vadFed - bufferStart) }
        let lo = max(o.minTailSamples, hi - o.searchSamples)
        if let cut = vadCut(lo, hi) { return emit(cut, .vadPause) }
        return emit(energyCut(lo, hi), .energyMinimum)
    }

    /// Hands the VAD every complete 512-sample window of the buffer it has not seen yet.
    private func feedVAD() {
        guard let speechProbabilities else { return }
        let w = Self.vadWindow
        let end = (bufferStart + buffer.count) / w * w
        guard end > vadFed else { return }
        let from = vadFed - bufferStart   // ≥ 0: every sample is fed before the buffer drops it
        let p = buffer.withUnsafeBufferPointer { b in speechProbabilities(UnsafeBufferPointer(rebasing: b[from..<(end - bufferStart)])) }
        probs += p.prefix((end - vadFed) / w)
        vadFed = end
    }

    /// A cut inside the longest run of non-speech VAD windows lying in buffer offsets [lo, hi], or nil.
    private func vadCut(_ lo: Int, _ hi: Int) -> Int? {
        guard speechProbabilities != nil else { return nil }
        let w = Self.vadWindow
        let first = (bufferStart + lo + w - 1) / w, last = (bufferStart + hi) / w - 1   // windows wholly inside
        guard first <= last else { return nil }
        var best: (start: Int, count: Int)? = nil
        var runStart = -1
        for k in first...(last + 1) {
            let silent = k <= last && k - probStart < probs.count && k >= probStart && probs[k - probStart] < options.vadSilenceThreshold
            if silent { if runStart < 0 { runStart = k } }
            else if runStart >= 0 {
                let count = k - runStart
                if count >= (best?.count ?? 0) { best = (runStart, count) }   // ties: the later run
                runStart = -1
            }
        }
        guard let best else { return nil }
        let a = best.start * w - bufferStart, b = (best.start + best.count) * w - bufferStart
        return quietestFrame(max(lo, a), min(hi, b))
    }

    /// The cut at the quietest frame of the quietest `quietSpanSamples` stretch in buffer offsets [lo, hi].
    private func energyCut(_ lo: Int, _ hi: Int) -> Int {
        let o = options
        let energies = frameEnergies(lo, hi)        // frame j centred at lo + j·hop
        guard !energies.isEmpty else { return hi }
        let span = max(1, min(energies.count, (o.quietSpanSamples - o.frameSamples) / o.hopSamples + 1))
        var sum = 0.0
        for j in 0..<span { sum += energies[j] }
        var best = sum, bestStart = 0
        if energies.count > span {
            for j in span..<energies.count {
                sum += energies[j] - energies[j - span]
                if sum <= best { best = sum; bestStart = j - span + 1 }   // ties: the later stretch
            }
        }
        var q = bestStart
        for j in bestStart..<(bestStart + span) where energies[j] <= energies[q] { q = j }
        return lo + q * o.hopSamples
    }

    /// The centre of the quietest frame in [lo, hi].
    private func quietestFrame(_ lo: Int, _ hi: Int) -> Int {
        let e = frameEnergies(lo, hi)
        guard !e.isEmpty else { return (lo + hi) / 2 }
        var q = 0
        for j in e.indices where e[j] <= e[q] { q = j }
        return lo + q * options.hopSamples
    }

    /// Mean square of the frames centred at lo, lo + hop, … ≤ hi (clipped to the buffer).
    private func frameEnergies(_ lo: Int, _ hi: Int) -> [Double] {
        let o = options
        guard hi >= lo else { return [] }
        let half = o.frameSamples / 2
        return buffer.withUnsafeBufferPointer { b in
            stride(from: lo, through: hi, by: o.hopSamples).map { c in
                let a = max(0, c - half), e = min(b.count, c - half + o.frameSamples)
                var s: Double = 0
                for i in a..<e { s += Double(b[i]) * Double(b[i]) }
                return e > a ? s / Double(e - a) : 0
            }
        }
    }

    /// Emits buffer[0 ..< length] as the next window and forgets it.
    private func emit(_ length: Int, _ cut: WindowCut) -> PlannedWindow {
        let n = max(1, min(length, buffer.count))
        let w = PlannedWindow(index: nextIndex, startSample: bufferStart, samples: Array(buffer[0..<n]), cut: cut)
        buffer.removeFirst(n)
        bufferStart += n
        nextIndex += 1
        // VAD windows wholly before the new start are no longer needed.
        let keepFrom = bufferStart / Self.vadWindow
        if keepFrom > probStart {
            probs.removeFirst(min(probs.count, keepFrom - probStart))
            probStart = keepFrom
        }
        return w
    }
}
