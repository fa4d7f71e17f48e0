// swift-tools-version:6.0
// EarshotFuzz: libFuzzer harnesses for every parser of Earshot, in their own package so that the main
// package's `swift build` is unaffected. Built and run by Tools/fuzz.sh:
//   swift build -c release --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing
// (`-enable-testing` because some harnesses reach internal parsers with @testable import.)
// Each harness is an executable whose `@main` hands `LLVMFuzzerTestOneInput` to libFuzzer's
// `LLVMFuzzerRunDriver` (SwiftPM links executables with its own entry point, so libFuzzer's `main` is
// not used). Seeds: Fuzz/corpus/<harness>/, dictionaries: Fuzz/dictionaries/<harness>.dict.
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name (main, wt-harden, a CI checkout, …).
let earshot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

func harness(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: earshot) },
                      path: "Sources/\(name)")
}

let package = Package(
    name: "EarshotFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"]),
        harness("fuzz-ear", ["EarshotFormat"]),
        harness("fuzz-safetensors", ["EarshotConvert"]),
        harness("fuzz-ctranslate2", ["EarshotConvert"]),
        harness("fuzz-npz", ["EarshotConvert"]),
        harness("fuzz-tiktoken", ["EarshotTokenizer"]),
        harness("fuzz-tokenizer-json", ["EarshotTokenizer"]),
        harness("fuzz-audio", ["EarshotAudio"]),
        harness("fuzz-qwen-encode", ["EarshotTokenizer"]),
        harness("fuzz-gguf", ["EarshotConvert"]),
        harness("fuzz-onnx", ["EarshotConvert"]),
        harness("fuzz-session", ["Earshot", "EarshotFormat"]),
        harness("fuzz-hf-checkpoint", ["EarshotConvert", "EarshotTokenizer"]),
    ]
)
