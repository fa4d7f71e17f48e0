// fuzz-audio: the audio decoder path as a model run takes it: the input is written to a file and loaded
// by AudioLoader (AudioFile: file checks, libsndfile open and header validation, truncation detection,
// decode with the non-finite check, down-mix; then the resampler to 16 kHz and int16 rounding). The
// duration limit is 60 s so a header promising hours cannot make a single run allocate gigabytes (the
// 4 h default is the product's limit; the check itself is what is fuzzed). Seeds: WAV, FLAC, MP3, Ogg
// Vorbis and Opus. Any outcome but a typed AudioError is a finding (including inside libsndfile).
import FuzzSupport
import EarshotAudio

let scratch = ScratchFile(suffix: ".audio")
let options = AudioLoader.Options(file: .init(maxDurationSeconds: 60))
let lenient = AudioLoader.Options(file: .init(maxDurationSeconds: 60, allowTruncated: true))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzMain.bytes(data, size)
    scratch.write(input)
    do { _ = try AudioLoader.load(scratch.path, options: options) } catch {
        if case .truncated = error { _ = try? AudioLoader.load(scratch.path, options: lenient) }
        _ = error.description
    }
    return 0
}

@main struct Main { static func main() { FuzzMain.run(fuzzOneInput) } }
