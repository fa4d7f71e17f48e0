// LlamaLogitsFile: the base-model log-probability file of llama.cpp's `llama-perplexity --kl-divergence-base F`,
// read and written exactly as tools/perplexity/perplexity.cpp does, so Earshot and llama.cpp score the same
// tokens in the same chunks against the same reference (and either engine's f32 run can be the other's base).
//
// Layout (little-endian):
//   "_logits_" · n_ctx u32 · n_vocab i32 · n_chunk i32 · tokens i32[n_chunk × n_ctx]
//   then per chunk, for each scored position p in [n_ctx/2, n_ctx − 1): nv = 2·⌈n_vocab/2⌉ + 4 u16 values:
//   two f32 (scale, min_log_prob) in the first four, then log p(i) ≈ scale · q[i] + min_log_prob, q[i] = 0 for
//   log-probabilities more than 16 below the top one.
// Every count is checked against the file's length before anything is allocated.
import Foundation

struct LlamaLogitsFile {
    let contextLength: Int
    let vocabSize: Int
    let chunkCount: Int
    /// [chunkCount × contextLength] token ids.
    let tokens: [Int32]
    /// Byte offset of the first chunk's log-probabilities.
    let logProbOffset: Int
    private let data: Data

    static let magic = Array("_logits_".utf8)

    /// u16 values per scored position (llama.cpp's `nv`).
    static func rowValues(vocab: Int) -> Int { 2 * ((vocab + 1) / 2) + 4 }
    /// The first scored position of a chunk (llama.cpp scores the second half of every window).
    var firstScored: Int { contextLength / 2 }
    /// Scored positions per chunk: predictions of tokens firstScored+1 … n_ctx−1.
    var scoredPerChunk: Int { contextLength - 1 - firstScored }

    struct Invalid: Error, CustomStringConvertible { let description: String }

    init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        let values = try url.resourceValues(forKeys: [.isRegularFileKey])
        guard values.isRegularFile == true else { throw Invalid(description: "\(path) is not a regular file") }
        let data = try Data(contentsOf: url, options: .alwaysMapped)
        guard data.count >= 20, Array(data.prefix(8)) == Self.magic else {
            throw Invalid(description: "\(path) is not a llama-perplexity logits file (no _logits_ header)")
        }
        func u32(_ at: Int) -> UInt32 { data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) } }
        let nCtx = Int(u32(8)), nVocab = Int(Int32(bitPattern: u32(12))), nChunk = Int(Int32(bitPattern: u32(16)))
        guard (4...65_536).contains(nCtx), (2...1 << 22).contains(nVocab), (1...1 << 20).contains(nChunk) else {
            throw Invalid(description: "\(path): implausible header n_ctx \(nCtx), n_vocab \(nVocab), n_chunk \(nChunk)")
        }
        let tokenBytes = nChunk * nCtx * 4
        let rowBytes = Self.rowValues(vocab: nVocab) * 2
        let expected = 20 + tokenBytes + nChunk * (nCtx - 1 - nCtx / 2) * rowBytes
        guard data.count == expected else {
            throw Invalid(description: "\(path) is \(data.count) bytes; its header (n_ctx \(nCtx), n_vocab \(nVocab), n_chunk \(nChunk)) needs \(expected)")
        }
        contextLength = nCtx; vocabSize = nVocab; chunkCount = nChunk
        tokens = data.withUnsafeBytes { b in (0..<(nChunk * nCtx)).map { b.loadUnaligned(fromByteOffset: 20 + 4 * $0, as: Int32.self) } }
        logProbOffset = 20 + tokenBytes
        self.data = data
    }

    /// The tokens of chunk `c` [n_ctx].
    func chunkTokens(_ c: Int) -> ArraySlice<Int32> { tokens[(c * contextLength)..<((c + 1) * contextLength)] }

    /// Calls `body` with the compressed row of scored position `row` (0 ..< scoredPerChunk) of chunk `c`.
    func withRow<R>(chunk c: Int, row: Int, _ body: (_ scale: Float, _ minLogProb: Float, _ q: UnsafeBufferPointer<UInt16>) -> R) -> R {
        let nv = Self.rowValues(vocab: vocabSize)
        let at = logProbOffset + ((c * scoredPerChunk) + row) * nv * 2
        return data.withUnsafeBytes { b in
            let scale = b.loadUnaligned(fromByteOffset: at, as: Float.self)
            let minLogProb = b.loadUnaligned(fromByteOffset: at + 4, as: Float.self)
            let q = UnsafeBufferPointer(start: (b.baseAddress! + at + 8).assumingMemoryBound(to: UInt16.self), count: vocabSize)
            return body(scale, minLogProb, q)
        }
    }
}

/// Writes a base file of the same layout from Earshot's own logits (llama.cpp's log_softmax compression).
struct LlamaLogitsWriter {
    private let handle: FileHandle
    let vocabSize: Int

    init(path: String, contextLength: Int, vocabSize: Int, tokens: [Int32], chunkCount: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw LlamaLogitsFile.Invalid(description: "cannot create \(path)")
        }
        handle = h
        self.vocabSize = vocabSize
        var header = Data(LlamaLogitsFile.magic)
        withUnsafeBytes(of: UInt32(contextLength).littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: Int32(vocabSize).littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: Int32(chunkCount).littleEndian) { header.append(contentsOf: $0) }
        tokens.withUnsafeBytes { header.append(contentsOf: $0) }
        try h.write(contentsOf: header)
    }

    /// Appends one scored position's logits [V], compressed as llama.cpp's log_softmax(…, uint16_t *) does.
    func append(logits: UnsafeBufferPointer<Float>) throws {
        var maxLogit = logits[0], minLogit = logits[0]
        for v in logits { maxLogit = max(maxLogit, v); minLogit = min(minLogit, v) }
        minLogit = max(minLogit, maxLogit - 16)
        var sumExp = 0.0
        for v in logits { sumExp += Double(expf(v - maxLogit)) }
        let logSumExp = Float(log(sumExp))
        let minLogProb = minLogit - maxLogit - logSumExp
        let scale = (maxLogit - minLogit) / 65535
        var row = [UInt16](repeating: 0, count: LlamaLogitsFile.rowValues(vocab: vocabSize))
        row.withUnsafeMutableBytes { b in
            b.storeBytes(of: scale, toByteOffset: 0, as: Float.self)
            b.storeBytes(of: minLogProb, toByteOffset: 4, as: Float.self)
        }
        if scale != 0 {
            let inv = 1 / scale
            for i in 0..<vocabSize where logits[i] > minLogit {
                row[4 + i] = UInt16(clamping: Int((inv * (logits[i] - minLogit)).rounded()))
            }
        }
        try row.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
    }

    func close() throws { try handle.close() }
}

/// llama.cpp's kl_divergence_result and its per-position update (perplexity.cpp's log_softmax with a base).
struct DivergenceStats {
    var sumNLL = 0.0, sumNLL2 = 0.0, sumNLLBase = 0.0, sumNLLBase2 = 0.0, sumNLLNLLBase = 0.0
    var sumKLD = 0.0, sumKLD2 = 0.0, sumPDiff2 = 0.0, sumPDiff4 = 0.0
    var sameTop = 0, count = 0
    var klds: [Float] = []

    /// Scores one position: `logits` [V] of the model under test, the base row, the true next token.
    mutating func add(logits: UnsafeBufferPointer<Float>, scale: Float, minLogProb: Float,
                      base: UnsafeBufferPointer<UInt16>, token: Int) {
        var maxLogit = logits[0], imax = 0
        for i in 1..<logits.count where logits[i] > maxLogit { maxLogit = logits[i]; imax = i }
        var sumExp = 0.0
        for v in logits { sumExp += Double(expf(v - maxLogit)) }
        let logSumExp = Float(log(sumExp))
        let nll = maxLogit + logSumExp - logits[token]
        let nllBase = -(scale * Float(base[token]) + minLogProb)
        sumNLL += Double(nll); sumNLL2 += Double(nll * nll)
        sumNLLBase += Double(nllBase); sumNLLBase2 += Double(nllBase * nllBase)
        sumNLLNLLBase += Double(nll * nllBase)
        let top = maxLogit + logSumExp
        var kld = 0.0, imaxBase = -1
        var pBaseMax: Float = 0
        for i in 0..<logits.count {
            let pLogBase = scale * Float(base[i]) + minLogProb
            if i == 0 || pLogBase > pBaseMax { pBaseMax = pLogBase; imaxBase = i }
            if pLogBase > -16 { kld += Double(expf(pLogBase) * (pLogBase - logits[i] + top)) }
        }
        sumKLD += kld; sumKLD2 += kld * kld
        klds.append(Float(kld))
        count += 1
        if imax == imaxBase { sameTop += 1 }
        let pDiff = Double(expf(-nll) - expf(-nllBase))
        sumPDiff2 += pDiff * pDiff; sumPDiff4 += pDiff * pDiff * pDiff * pDiff
    }

    /// Mean and its standard error, as llama.cpp's mean_and_uncertainty.
    static func mean(_ sum: Double, _ sum2: Double, _ n: Int) -> (Double, Double) {
        guard n > 0 else { return (0, 0) }
        let f = sum / Double(n), df = sum2 / Double(n) - f * f
        return (f, df > 0 && n > 10 ? (df / Double(n - 1)).squareRoot() : 0)
    }

    var perplexity: (Double, Double) { let m = Self.mean(sumNLL, sumNLL2, count); return (exp(m.0), exp(m.0) * m.1) }
    var basePerplexity: (Double, Double) { let m = Self.mean(sumNLLBase, sumNLLBase2, count); return (exp(m.0), exp(m.0) * m.1) }
    var meanKLD: (Double, Double) { Self.mean(sumKLD, sumKLD2, count) }
    var sameTopFraction: Double { count > 0 ? Double(sameTop) / Double(count) : 0 }
    var rmsPDiff: Double { Self.mean(sumPDiff2, sumPDiff4, count).0.squareRoot() }
    /// The 99th-percentile KL divergence.
    var kld99: Double {
        guard !klds.isEmpty else { return 0 }
        let s = klds.sorted(), p = 0.99 * Double(s.count - 1), i = Int(p), f = Float(p - Double(i))
        return Double((1 - f) * s[i] + f * s[min(i + 1, s.count - 1)])
    }
}
