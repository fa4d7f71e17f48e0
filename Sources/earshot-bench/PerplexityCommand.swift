// `earshot-bench perplexity`: perplexity, KL divergence and top-1 agreement of a text LLM `.ear` on exactly the
// tokens and chunks of a llama-perplexity base file (LlamaLogitsFile), scored with llama.cpp's formulas, so the
// two engines' quality figures are computed on the same positions against the same reference.
//
//   llama-perplexity -m f32.gguf -f text.txt -c 512 --chunks 40 --kl-divergence-base base.kld   # reference
//   earshot-bench perplexity --model m.q8.ear --base base.kld                                    # Earshot vs it
//   earshot-bench perplexity --model m.f32.ear --base base.kld --write-base ours.kld             # our f32 as a base
//   llama-perplexity -m m.Q4_K_M.gguf --kl-divergence-base ours.kld --kl-divergence              # llama.cpp vs ours
//
// Each chunk: an empty cache, the chunk's n_ctx tokens as one prefill (no BOS substitution: Qwen2's GGUF says
// add_bos false), logits at positions n_ctx/2 … n_ctx−2 scored against the tokens that follow them.
import ArgumentParser
import EarshotKernels
import EarshotModels
import Foundation

struct PerplexityBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity, KL divergence and top-1 agreement on a llama-perplexity base file's tokens.",
        discussion: """
        The base file (`llama-perplexity … --kl-divergence-base F`) holds the tokens, the chunking and the
        reference log-probabilities; this scores the .ear on the same positions with llama.cpp's formulas
        (Mean PPL(Q), PPL(base), Mean KLD, Same top p, RMS Δp). --write-base writes this model's own log-probs
        in the same format (then llama.cpp can be scored against Earshot's run). Example:
          earshot-bench perplexity --model qwen2.5-coder-1.5b.q8.ear --base f32.kld --threads 2
        """)
    @Option(help: "The text LLM .ear (converted from GGUF).") var model: String
    @Option(help: "llama-perplexity base file (--kl-divergence-base): tokens, chunks, reference log-probs.") var base: String
    @Option(help: "Score only the first N chunks.") var chunks: Int?
    @Option(help: "Kernel threads.") var threads: Int = 2
    @Option(help: "Also write this model's log-probs as a base file here.") var writeBase: String?

    func run() throws {
        let baseFile: LlamaLogitsFile
        do { baseFile = try LlamaLogitsFile(path: base) } catch { throw ValidationError("\(error)") }
        let m: BenchModel
        do { m = try BenchModel(path: model) } catch { throw ValidationError("cannot load \(model): \(error)") }
        let V = m.llmConfig.vocabSize, H = m.llmConfig.hiddenSize
        guard baseFile.vocabSize <= V else {
            throw ValidationError("the base file's vocabulary (\(baseFile.vocabSize)) is larger than the model's (\(V))")
        }
        guard baseFile.tokens.allSatisfy({ $0 >= 0 && Int($0) < V }) else {
            throw ValidationError("the base file holds token ids outside the model's vocabulary of \(V)")
        }
        let nChunks = min(chunks ?? baseFile.chunkCount, baseFile.chunkCount)
        guard nChunks > 0 else { throw ValidationError("--chunks must be at least 1") }
        ThreadPool.shared.activeThreads = threads
        let n = baseFile.contextLength, first = baseFile.firstScored, scored = baseFile.scoredPerChunk
        let writer = try writeBase.map {
            try LlamaLogitsWriter(path: $0, contextLength: n, vocabSize: baseFile.vocabSize,
                                  tokens: Array(baseFile.tokens.prefix(nChunks * n)), chunkCount: nChunks)
        }
        print("perplexity: \(m.llmType) weights, \(nChunks) chunks of \(n) tokens, \(nChunks * scored) scored positions, \(threads) threads")
        var stats = DivergenceStats()
        let cache = m.makeCache(capacity: n)
        let t0 = BenchClock.wall()
        for c in 0..<nChunks {
            cache.reset()
            let ids = baseFile.chunkTokens(c).map { Int($0) }
            let hidden = try m.lm.forward(try m.lm.embed(ids), cache: cache)   // [n × H]
            let logits = hidden.withUnsafeBufferPointer { m.lm.logits($0.baseAddress! + first * H, rows: scored) }   // [scored × V]
            try logits.withUnsafeBufferPointer { all in
                for r in 0..<scored {
                    // Only the base's vocabulary takes part (llama.cpp's n_vocab; the model may pad its rows).
                    let row = UnsafeBufferPointer(rebasing: all[(r * V)..<(r * V + baseFile.vocabSize)])
                    baseFile.withRow(chunk: c, row: r) { scale, minLogProb, q in
                        stats.add(logits: row, scale: scale, minLogProb: minLogProb, base: q, token: ids[first + r + 1])
                    }
                    try writer?.append(logits: row)
                }
            }
            let elapsed = BenchClock.wall() - t0
            let ppl = stats.perplexity.0
            FileHandle.standardError.write(Data(String(format: "chunk %d/%d  PPL %.4f  KLD %.6f  top-1 %.3f %%  %.1f tok/s\n",
                                                       c + 1, nChunks, ppl, stats.meanKLD.0, 100 * stats.sameTopFraction,
                                                       Double((c + 1) * n) / elapsed).utf8))
        }
        try writer?.close()
        let (ppl, pplErr) = stats.perplexity, (pplBase, pplBaseErr) = stats.basePerplexity, (kld, kldErr) = stats.meanKLD
        print(String(format: "Mean PPL(Q)     : %.6f ± %.6f", ppl, pplErr))
        // The base file's 16-bit log-probs cap those more than 16 below the top one, so this PPL(base) is lower than
        // the base run's own perplexity (which llama-perplexity prints as "Final estimate"): compare PPL(Q) with that.
        print(String(format: "Mean PPL(base)  : %.6f ± %.6f  (from the base file's capped log-probs)", pplBase, pplBaseErr))
        print(String(format: "Mean KLD        : %.6f ± %.6f  (99%%: %.6f)", kld, kldErr, stats.kld99))
        print(String(format: "RMS Δp          : %.3f %%", 100 * stats.rmsPDiff))
        print(String(format: "Same top p      : %.3f %%  (%d of %d)", 100 * stats.sameTopFraction, stats.sameTop, stats.count))
        print("result workload=perplexity type=\(m.llmType) " + String(format: "positions=%d ppl=%.6f ppl_base=%.6f kld=%.6f kld99=%.6f top1=%.5f rms_dp=%.5f seconds=%.1f",
                     stats.count, ppl, pplBase, kld, stats.kld99, stats.sameTopFraction, stats.rmsPDiff,
                     BenchClock.wall() - t0))
    }
}
