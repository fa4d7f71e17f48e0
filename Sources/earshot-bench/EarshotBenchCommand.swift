// earshot-bench: benchmarks and synthetic model writers, apart from the product (the `earshot` CLI and the
// libraries carry none of this). Each subcommand lives in its own file next to this one.
import ArgumentParser

@main
struct EarshotBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "earshot-bench",
        abstract: "Measure Earshot's kernels and models on this machine; write synthetic models for the measurements.",
        discussion: """
        Build with -c release. Results are printed as tables and `result` lines (Tools/bench/peers.py parses them).
        Examples:
          swift run -c release earshot-bench kernels --threads 1,2 --rounds 3
          swift run -c release earshot-bench write-model --type q4 --output /work/scratch/qwen7b.q4.ear
          swift run -c release earshot-bench decode --model /work/scratch/qwen7b.q4.ear --threads 2
        """,
        subcommands: [KernelsBench.self, AttentionBench.self, DecodeBench.self, PrefillBench.self, EncoderBench.self,
                      LoadBench.self, E2EBench.self, PerplexityBench.self, WriteModelBench.self, WriteCheckpointBench.self, WriteExample.self])
}
