// vad-bench: speed and memory of the Silero VAD and of the pause-aligned window planner on long files
// (release build; figures in the report / Benchmarks.md). Streams the audio, never holds it whole.
//
//   swift build -c release --product vad-bench
//   .build/release/vad-bench make-long OUT.wav SECONDS        # real speech clips (Tests/Fixtures) + pauses, repeated
//   .build/release/vad-bench vad MODEL.ear AUDIO               # probabilities + faster-whisper speech spans; time, RSS
//   .build/release/vad-bench plan AUDIO [--vad MODEL.ear]      # pause-aligned ≤ 30 s windows; time, RSS
//
// Threads: EARSHOT_THREADS (default: all cores). RSS figures are VmHWM / VmRSS from /proc/self/status.
import Earshot
import EarshotAudio
import EarshotKernels
import EarshotModels
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("vad-bench: \(message)\n".utf8))
    exit(1)
}

/// "VmHWM" / "VmRSS" in MB.
func memoryMB(_ key: String) -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix(key + ":") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return 0
}

func loadVAD(_ path: String) -> SileroVAD {
    do {
        let w = try EarWeights(path: path)
        return try SileroVAD(weights: w, config: try SileroVADConfig(metadata: w.configValues))
    } catch { fail("\(path): \(error)") }
}

let args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else { fail("usage: vad-bench make-long|vad|plan …") }
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Tests/Fixtures").standardized

switch command {
case "make-long":
    guard args.count == 3, let seconds = Double(args[2]) else { fail("usage: vad-bench make-long OUT.wav SECONDS") }
    // Clips with pauses of 0.1–1.5 s between them, repeated until SECONDS; written as 16-bit PCM WAV as it goes.
    let clips = ["audio/jfk.wav", "audio/1272-128104-0000.flac", "vad/clips/es_pangrama.wav", "vad/clips/fr_comptage.wav",
                 "vad/clips/zh_pangrama.wav"].map { name -> [Int16] in
        do { return try AudioLoader.load(fixtures.appendingPathComponent(name).path).samples.map { Int16(($0 * 32767).rounded()) } }
        catch { fail("\(name): \(error)") }
    }
    let total = Int(seconds * 16000)
    guard FileManager.default.createFile(atPath: args[1], contents: nil), let out = FileHandle(forWritingAtPath: args[1]) else { fail("cannot write \(args[1])") }
    var header = Data()
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
    func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
    let dataBytes = UInt32(2 * total)
    header.append(contentsOf: Array("RIFF".utf8)); u32(36 + dataBytes); header.append(contentsOf: Array("WAVE".utf8))
    header.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(1); u32(16000); u32(32000); u16(2); u16(16)
    header.append(contentsOf: Array("data".utf8)); u32(dataBytes)
    out.write(header)
    var written = 0, k = 0
    let gaps = [1600, 8000, 24000, 3200, 16000, 4800]
    while written < total {
        var piece = clips[k % clips.count] + [Int16](repeating: 0, count: gaps[k % gaps.count])
        piece = Array(piece.prefix(total - written))
        piece.withUnsafeBytes { out.write(Data($0)) }
        written += piece.count; k += 1
    }
    out.closeFile()
    print("wrote \(args[1]): \(String(format: "%.1f", seconds)) s, \(k) clips")

case "vad":
    guard args.count == 3 else { fail("usage: vad-bench vad MODEL.ear AUDIO") }
    let model = loadVAD(args[1])
    let rssBefore = memoryMB("VmRSS")
    let started = Date()
    var stream = SileroVADStream(model: model)
    var probabilities: [Float] = []
    var samples = 0
    var vadSeconds = 0.0
    do {
        let reader = try AudioWindowReader(path: args[2], length: 16000 * 10)
        while let w = try reader.next() {
            samples += w.samples.count
            let t = Date()
            probabilities += w.samples.withUnsafeBufferPointer { stream.push($0) }
            vadSeconds += Date().timeIntervalSince(t)
        }
    } catch { fail("\(args[2]): \(error)") }
    let t = Date()
    probabilities += stream.finish()
    vadSeconds += Date().timeIntervalSince(t)
    let total = Date().timeIntervalSince(started)
    let spans = SpeechTimestamps.speechSpans(probabilities: probabilities, audioSamples: samples)
    let audioSeconds = Double(samples) / 16000
    print(String(format: "audio %.1f s, %d windows, %d speech spans (%.1f s of speech)", audioSeconds, probabilities.count, spans.count,
                 Double(spans.reduce(0) { $0 + $1.end - $1.start }) / 16000))
    print(String(format: "VAD %.2f s (%.0f× real time), decode + VAD %.2f s; threads %d; RSS before %.1f MB, peak %.1f MB",
                 vadSeconds, audioSeconds / vadSeconds, total, ThreadPool.shared.activeThreads, rssBefore, memoryMB("VmHWM")))

case "plan":
    guard args.count == 2 || (args.count == 4 && args[2] == "--vad") else { fail("usage: vad-bench plan AUDIO [--vad MODEL.ear]") }
    var provider: PauseAlignedWindowPlanner.SpeechProbabilities? = nil
    if args.count == 4 {
        let model = loadVAD(args[3])
        var stream = SileroVADStream(model: model)
        provider = { stream.push($0) }
    }
    let rssBefore = memoryMB("VmRSS")
    let started = Date()
    var windows = 0, longest = 0, end = 0, reasons: [String: Int] = [:], peakRSS = 0.0
    // Cut quality: RMS of the 10 ms before and after each cut relative to the RMS of the window before it.
    var quiet = 0, cuts = 0, worst = 0.0
    var previousTail: [Float] = [], previousRMS = 0.0
    func rms(_ x: ArraySlice<Float>) -> Double { (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, x.count))).squareRoot() }
    do {
        let planner = try PauseAlignedWindowPlanner(path: args[1], speechProbabilities: provider)
        while let w = try planner.next() {
            guard w.startSample == end else { fail("window \(w.index) starts at \(w.startSample), expected \(end)") }
            end = w.endSample
            if !previousTail.isEmpty {
                let r = rms((previousTail + w.samples.prefix(160))[...]) / max(previousRMS, 1e-9)
                cuts += 1; worst = max(worst, r)
                if r < 0.1 { quiet += 1 }
            }
            previousTail = Array(w.samples.suffix(160)); previousRMS = rms(w.samples[...])
            windows += 1
            longest = max(longest, w.samples.count)
            reasons["\(w.cut)", default: 0] += 1
            if windows % 10 == 0 { peakRSS = max(peakRSS, memoryMB("VmRSS")) }
        }
    } catch { fail("\(args[1]): \(error)") }
    let seconds = Date().timeIntervalSince(started)
    print(String(format: "audio %.1f s → %d windows, longest %.2f s, cuts %@; %.2f s", Double(end) / 16000, windows,
                 Double(longest) / 16000, reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "), seconds))
    print(String(format: "cuts with RMS ±10 ms < 0.1 × the window's RMS: %d of %d (worst %.3f)", quiet, cuts, worst))
    print(String(format: "RSS before %.1f MB, max during %.1f MB, process peak (VmHWM) %.1f MB", rssBefore, peakRSS, memoryMB("VmHWM")))

default:
    fail("unknown command \(command)")
}
