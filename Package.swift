// swift-tools-version:6.0
// Earshot: Qwen-Audio (Whisper-style audio encoder + Qwen-7B) on the CPU of ARM and x86 Linux boards.
// Module map and import rules: see README.md § Repository layout (and ARCHITECTURE notes in Formats/).
import PackageDescription

// MARK: - Kernel build flags
//
// Swift has no per-function target attribute, so every CPU feature level is its own module and the
// code picks one at run time (CPUID / HWCAP). Without a target-CPU flag the SIMD code falls off a
// 16–50× cliff (`fmaf` calls, SSE2 only), so each level names its CPU features here.
// The manifest's `#if arch` sees the host, which is what a native build wants.
#if arch(x86_64)
let baselineCPU: [String] = ["-Xcc", "-march=x86-64-v3"]                       // AVX2 + FMA + F16C (checked at run time: EarshotCPU)
let avx512CPU: [String] = ["-Xcc", "-march=x86-64-v4", "-Xcc", "-mavx512vnni"] // AVX-512 BW/VL + VNNI
let dotprodCPU: [String] = baselineCPU
#elseif arch(arm64)
let baselineCPU: [String] = ["-Xcc", "-march=armv8-a"]                         // NEON (Raspberry Pi 4)
let avx512CPU: [String] = baselineCPU
let dotprodCPU: [String] = ["-Xcc", "-march=armv8.2-a+dotprod"]                // SDOT (Raspberry Pi 5)
#else
let baselineCPU: [String] = []
let avx512CPU: [String] = []
let dotprodCPU: [String] = []
#endif

/// Kernel modules are optimised even in debug builds (tests would crawl otherwise) and built
/// with `-Ounchecked` in release.
func kernelSettings(_ cpu: [String]) -> [SwiftSetting] {
    [
        .unsafeFlags(cpu),
        .unsafeFlags(["-O"], .when(configuration: .debug)),
        .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
    ]
}

let package = Package(
    name: "Earshot",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Earshot", targets: ["Earshot"]),
        .executable(name: "earshot", targets: ["earshot"]),
        .executable(name: "earshot-convert", targets: ["earshot-convert"]),
        .executable(name: "earshot-bench", targets: ["earshot-bench"]),
        // The parsers as libraries, for the fuzz package (Fuzz/Package.swift depends on this one by path).
        .library(name: "EarshotFormat", targets: ["EarshotFormat"]),
        .library(name: "EarshotTokenizer", targets: ["EarshotTokenizer"]),
        .library(name: "EarshotAudio", targets: ["EarshotAudio"]),
        .library(name: "EarshotConvert", targets: ["EarshotConvert"]),
        // The C ABI, declared by Sources/CEarshot/include/earshot.h (Docs/c-api.md). SwiftPM names it
        // libEarshotC.so (the product name "earshot" is the CLI's); Tools/install.sh installs it as libearshot.so.
        .library(name: "EarshotC", type: .dynamic, targets: ["EarshotC"]),
        // The OpenAI-compatible HTTP server (its dependencies stay out of the library and the CLI).
        .executable(name: "earshot-server", targets: ["earshot-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation --target Earshot` (DocC catalog: Sources/Earshot/Earshot.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // earshot-server only: Hummingbird 2 (SwiftNIO), swift-log, swift-service-lifecycle (signals, graceful
        // shutdown), swift-prometheus (the /metrics exposition).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The server tests' HTTP client (already in the graph through HummingbirdTesting).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // System libraries (module maps + pkg-config).
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile",
                       providers: [.apt(["libsndfile1-dev"]), .brew(["libsndfile"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
        .systemLibrary(name: "CEarshotShims"),
        // Can this CPU run the kernels as built (CPUID, x86-64 baseline code): asked by every entry point.
        .systemLibrary(name: "CEarshotCPU"),
        .target(name: "EarshotCPU", dependencies: ["CEarshotCPU"]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),

        // Kernels: stdlib only (they also compile in Embedded Swift for the ARM tests).
        .target(name: "EarshotKernelsAVX512", swiftSettings: kernelSettings(avx512CPU)),
        .target(name: "EarshotKernelsDotProd", swiftSettings: kernelSettings(dotprodCPU)),
        .target(name: "EarshotKernels",
                dependencies: ["EarshotKernelsAVX512", "EarshotKernelsDotProd"],
                swiftSettings: kernelSettings(baselineCPU),
                linkerSettings: [.linkedLibrary("m")]),

        // The `.ear` file format: reader (mmap + validation) and atomic writer.
        .target(name: "EarshotFormat", dependencies: ["CZstd"]),
        // Audio front-end: decode, resample, log-mel.
        .target(name: "EarshotAudio", dependencies: ["CSndFile", "EarshotKernels"],
                swiftSettings: kernelSettings(baselineCPU)),
        // Qwen tokenizer (tiktoken BPE + specials + audio tags).
        .target(name: "EarshotTokenizer", swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Model definitions: configs, canonical names, encoder, LLM. No file I/O.
        .target(name: "EarshotModels", dependencies: ["EarshotKernels", "EarshotFormat"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // The library product a kiosk app embeds.
        .target(name: "Earshot",
                dependencies: ["EarshotCPU", "EarshotFormat", "EarshotKernels", "EarshotAudio", "EarshotTokenizer", "EarshotModels", "CZstd", "CZlib"],
                // Optimised in debug too: the generation loop runs thousands of steps in the tests.
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),

        // The C ABI (libearshot.so): the header and its model-free half in C, the handle-based half in Swift.
        .target(name: "CEarshot"),
        .target(name: "EarshotC", dependencies: ["Earshot", "CEarshot"]),

        // Executables.
        // The CLI: task commands go through `Earshot` only; inspect, mel and tokenize are tools on the format,
        // audio and tokenizer modules and say so here.
        .executableTarget(name: "earshot",
                          dependencies: ["Earshot", "EarshotCPU", "EarshotFormat", "EarshotAudio", "EarshotTokenizer", "CEarshotShims",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .target(name: "EarshotConvert",
                dependencies: ["EarshotCPU", "EarshotFormat", "EarshotKernels", "EarshotModels", "EarshotTokenizer", "EarshotAudio"],
                path: "Tools/EarshotConvert",
                // Optimised in debug too: tests convert the 40 M-value tiny checkpoint several times.
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .executableTarget(name: "earshot-convert",
                          dependencies: ["EarshotConvert", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Tools/earshot-convert"),
        // Synthetic files for tests and measurements (example .ear, random checkpoints): not in any product.
        .target(name: "EarshotSynthetic", dependencies: ["EarshotFormat"], path: "Tools/EarshotSynthetic"),
        // Benchmarks and synthetic model writers, apart from the product.
        .executableTarget(name: "earshot-bench",
                          dependencies: ["Earshot", "EarshotAudio", "EarshotFormat", "EarshotKernels", "EarshotKernelsAVX512", "EarshotModels",
                                         "EarshotConvert", "EarshotSynthetic",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Speed and memory of the Silero VAD and the pause-aligned window planner on long files.
        .executableTarget(name: "vad-bench", dependencies: ["Earshot", "EarshotAudio", "EarshotModels", "EarshotKernels"], path: "Tools/vad/bench"),

        // The OpenAI-compatible server: request/response types, limits, slots and handlers (a library, so the
        // tests drive it in-process), and the thin executable that parses flags and runs it.
        .target(name: "EarshotServer",
                dependencies: ["Earshot", "EarshotAudio", "EarshotFormat",
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "Prometheus", package: "swift-prometheus")]),
        .executableTarget(name: "earshot-server",
                          dependencies: ["EarshotServer", "Earshot",
                                         .product(name: "Hummingbird", package: "hummingbird"),
                                         .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Tests.
        // A child process for the signal, fault and full-disk tests (Tools/test-probe/main.swift).
        .executableTarget(name: "earshot-test-probe", dependencies: ["EarshotFormat"], path: "Tools/test-probe"),
        .target(name: "EarshotTestSupport",
                dependencies: ["EarshotFormat", "EarshotKernels", "EarshotModels", "EarshotSynthetic"],
                path: "Tests/EarshotTestSupport",
                // Optimised in debug too: it regenerates the 40 M-value tiny checkpoint and hashes it.
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .testTarget(name: "EarshotFormatTests", dependencies: ["EarshotFormat", "EarshotTestSupport"]),
        .testTarget(name: "EarshotKernelsTests", dependencies: ["EarshotKernels", "EarshotTestSupport"]),
        .testTarget(name: "EarshotAudioTests", dependencies: ["EarshotAudio", "EarshotTestSupport"]),
        .testTarget(name: "EarshotTokenizerTests", dependencies: ["EarshotTokenizer", "EarshotTestSupport"]),
        .testTarget(name: "EarshotModelsTests", dependencies: ["Earshot", "EarshotModels", "EarshotConvert", "EarshotTestSupport"]),
        .testTarget(name: "EarshotConvertTests", dependencies: ["EarshotConvert", "EarshotTestSupport"]),
        .testTarget(name: "EarshotTests", dependencies: ["Earshot", "EarshotTestSupport"]),
        .testTarget(name: "EarshotCLITests", dependencies: ["EarshotTestSupport"]),
        .testTarget(name: "CABITests", dependencies: ["EarshotC", "CEarshot", "Earshot", "EarshotTestSupport"]),
        .testTarget(name: "EarshotServerTests",
                    dependencies: ["EarshotServer", "Earshot", "EarshotTestSupport",
                                   .product(name: "HummingbirdTesting", package: "hummingbird"),
                                   .product(name: "AsyncHTTPClient", package: "async-http-client")]),
    ]
)
