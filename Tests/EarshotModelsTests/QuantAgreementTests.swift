// QuantAgreementTests: q8 / q4 weights vs f32 weights, teacher-forced over golden sequences (prompt + golden
// greedy ids): top-1 agreement at every position and mean KL(p_f32 ‖ p_quant). Random tiny weights are
// harsher on quantization than trained ones (flat logit distributions, no outlier structure), so these are
// measurements with floor thresholds, to be tightened on real weights.
// The fast test covers text_only + caption (198 positions); EARSHOT_QUANT_REPORT=1 runs every golden run (7761).
import Foundation
import Testing
import EarshotKernels
import EarshotModels
import EarshotTestSupport

struct AgreementStats: CustomStringConvertible {
    var positions = 0, agree = 0
    /// Positions whose f32 top-1/top-2 margin is ≥ 0.1 (not near-ties), and agreement there.
    var clearPositions = 0, clearAgree = 0
    var klSum = 0.0
    var agreement: Double { Double(agree) / Double(max(positions, 1)) }
    var meanKL: Double { klSum / Double(max(positions, 1)) }
    var description: String {
        "top-1 agreement \(agree)/\(positions) = \(String(format: "%.2f", 100 * agreement))%"
            + " (margin ≥ 0.1: \(clearAgree)/\(clearPositions)), mean KL \(String(format: "%.5f", meanKL))"
    }
}

enum QuantAgreement {
    static let q8Model: QwenAudioModel = try! QwenAudioModel(config: Golden.config, weights: TinyModelFiles.weights(matrixType: .q8))
    static let q4Model: QwenAudioModel = try! QwenAudioModel(config: Golden.config, weights: TinyModelFiles.weights(matrixType: .q4))

    /// (ids, mels) of a golden run with its greedy ids appended (teacher forcing).
    static func sequence(run: String, prefix: String = "") throws -> ([Int], [AudioEncoder.Mel]) {
        let r = Golden.run(run)
        let golden = try GoldenFile("qwen-audio-tiny/goldens/\(r["file"] as! String)")
        let ids = golden.ints(prefix + "input_ids") + golden.ints(prefix + "greedy_ids").dropLast()
        let urls: [String]
        if prefix.isEmpty { urls = r["audio_urls"] as! [String] }
        else { urls = (r["turns"] as! [[String: Any]])[Int(prefix.dropFirst(4).dropLast())!]["audio_urls"] as! [String] }
        return (ids, Golden.mels(for: urls))
    }

    /// Accumulates agreement and KL of `quant` vs `reference` over every position of the sequence.
    static func compare(_ quant: QwenAudioModel, _ reference: QwenAudioModel, ids: [Int], mels: [AudioEncoder.Mel],
                        into stats: inout AgreementStats) throws {
        let H = reference.config.llm.hiddenSize, V = reference.config.llm.vocabSize
        let hRef = try reference.prefillHidden(ids: ids, mels: mels, cache: reference.makeCache(capacity: ids.count, precision: .f32))
        let hQ = try quant.prefillHidden(ids: ids, mels: mels, cache: quant.makeCache(capacity: ids.count, precision: .f32))
        let chunk = 32
        var start = 0
        while start < ids.count {
            let rows = min(chunk, ids.count - start)
            var lr = hRef.withUnsafeBufferPointer { reference.lm.logits($0.baseAddress! + start * H, rows: rows) }
            var lq = hQ.withUnsafeBufferPointer { quant.lm.logits($0.baseAddress! + start * H, rows: rows) }
            for r in 0..<rows {
                lr.withUnsafeMutableBufferPointer { pb in lq.withUnsafeMutableBufferPointer { qb in
                    let p = pb.baseAddress! + r * V, q = qb.baseAddress! + r * V
                    var ap = 0, aq = 0
                    for i in 1..<V { if p[i] > p[ap] { ap = i }; if q[i] > q[aq] { aq = i } }
                    var second = -Float.infinity
                    for i in 0..<V where i != ap { second = max(second, p[i]) }
                    stats.positions += 1
                    if ap == aq { stats.agree += 1 }
                    if p[ap] - second >= 0.1 { stats.clearPositions += 1; if ap == aq { stats.clearAgree += 1 } }
                    stats.klSum += kl(p, q, V)
                } }
            }
            start += rows
        }
    }

    /// KL(softmax(p) ‖ softmax(q)) in nats over n logits.
    static func kl(_ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ n: Int) -> Double {
        var mp = -Float.infinity, mq = -Float.infinity
        for i in 0..<n { mp = max(mp, p[i]); mq = max(mq, q[i]) }
        var sp = 0.0, sq = 0.0
        for i in 0..<n { sp += Double(Kernels.expf(p[i] - mp)); sq += Double(Kernels.expf(q[i] - mq)) }
        let lp = log(sp), lq = log(sq)
        var k = 0.0
        for i in 0..<n {
            let a = Double(p[i] - mp) - lp, b = Double(q[i] - mq) - lq
            k += exp(a) * (a - b)
        }
        return k
    }
}

@Suite(.serialized) struct QuantAgreementTests {
    static let fastRuns = [("text_only", ""), ("caption", "")]
    static let allRuns = fastRuns + [("asr", ""), ("chat", "turn0."), ("chat", "turn1."), ("long_alpha3", ""), ("long_alpha7", "")]

    @Test(arguments: [WeightType.q8, .q4])
    func teacherForcedAgreement(_ type: WeightType) throws {
        let full = ProcessInfo.processInfo.environment["EARSHOT_QUANT_REPORT"] == "1"
        let model = type == .q8 ? QuantAgreement.q8Model : QuantAgreement.q4Model
        var stats = AgreementStats()
        for (run, prefix) in full ? Self.allRuns : Self.fastRuns {
            let (ids, mels) = try QuantAgreement.sequence(run: run, prefix: prefix)
            var one = AgreementStats()
            try QuantAgreement.compare(model, Golden.f32Model, ids: ids, mels: mels, into: &one)
            print("\(type) vs f32, \(run)\(prefix.isEmpty ? "" : "." + prefix.dropLast()): \(one)")
            stats.positions += one.positions; stats.agree += one.agree; stats.klSum += one.klSum
            stats.clearPositions += one.clearPositions; stats.clearAgree += one.clearAgree
        }
        print("\(type) vs f32, all\(full ? "" : " (fast subset)"): \(stats)")
        // Floors under what the tiny random checkpoint gives (text_only + caption: q8 ≈ 95.5%, KL 3e-4;
        // q4 ≈ 80%, KL 0.024; all 7761 positions: q8 97.7%, q4 76.5%). The issue's targets (99% / 95%) are for
        // real weights. Every q8 miss is a near-tie (f32 top-1/top-2 margin < 0.1).
        #expect(stats.agreement >= (type == .q8 ? 0.93 : 0.70), "\(type): \(stats)")
        #expect(stats.meanKL <= (type == .q8 ? 1e-3 : 0.05), "\(type): \(stats)")
    }
}
