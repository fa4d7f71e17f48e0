// fuzz-session: saved chat sessions (`chat --save`, Chat.load). The first input byte picks the mode:
// even → the rest is a whole session file as found on disk (magic, version, sizes, checksum, zstd frame);
// odd → the rest is a payload (header size, header JSON, KV rows), wrapped here into a valid file — its
// size and XXH64 filled in and stored as a raw-block zstd frame — so mutations reach the JSON header and
// the KV checks behind the checksum; there `"modelChecksum":"*"` is replaced by the loaded model's checksum
// (so seeds stay valid when the fuzz model is rebuilt and mutations get past the identity check). A session that loads is continued for one token when bits 1–3 of the mode byte are set. Any outcome but a
// typed EarshotError is a finding. Needs FUZZ_SESSION_MODEL: a tiny Qwen-Audio-Chat .ear (Tools/fuzz.sh
// converts one from Tests/Fixtures/qwen-audio-tiny).
import Earshot
import EarshotFormat
import Foundation
import FuzzSupport

let scratch = ScratchFile(suffix: ".sess")
let model: EarshotModel = {
    guard let path = ProcessInfo.processInfo.environment["FUZZ_SESSION_MODEL"] else {
        fatalError("fuzz-session: set FUZZ_SESSION_MODEL to a tiny Qwen-Audio-Chat .ear (Tools/fuzz.sh does)")
    }
    do { return try EarshotModel(path: path, options: ModelOptions(threads: 1)) } catch {
        fatalError("fuzz-session: cannot open \(path): \(error)")
    }
}()
let chat: Chat = try! model.makeChat()
let placeholder = Array(#""modelChecksum":"*""#.utf8)
let identity = Array(#""modelChecksum":""#.utf8) + Array(String(model.fileChecksum, radix: 16).utf8) + [UInt8(ascii: "\"")]

/// `payload` with the first checksum placeholder replaced by the model's.
func withModelChecksum(_ payload: UnsafeRawBufferPointer) -> [UInt8] {
    var bytes = [UInt8](payload)
    guard bytes.count >= placeholder.count else { return bytes }
    for i in 0...(bytes.count - placeholder.count) where bytes[i] == placeholder[0] && Array(bytes[i..<(i + placeholder.count)]) == placeholder {
        bytes.replaceSubrange(i..<(i + placeholder.count), with: identity)
        // The header size (first 4 bytes) grows with the replacement.
        if bytes.count >= 4 {
            let old = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
            let new = old &+ UInt32(identity.count - placeholder.count)
            bytes.replaceSubrange(0..<4, with: [UInt8(new & 0xFF), UInt8(new >> 8 & 0xFF), UInt8(new >> 16 & 0xFF), UInt8(new >> 24)])
        }
        break
    }
    return bytes
}

/// A zstd frame holding `payload` uncompressed (raw blocks of at most 128 KiB; RFC 8878 §3.1.1).
func rawZstdFrame(_ payload: UnsafeRawBufferPointer) -> [UInt8] {
    var out: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xE0]          // magic; single segment, 8-byte content size
    withUnsafeBytes(of: UInt64(payload.count).littleEndian) { out += $0 }
    var at = 0
    repeat {
        let n = min(128 << 10, payload.count - at)
        let last = at + n == payload.count ? 1 : 0
        let h = UInt32(n << 3 | last)                             // block type 0 = raw
        out += [UInt8(h & 0xFF), UInt8(h >> 8 & 0xFF), UInt8(h >> 16 & 0xFF)]
        out += payload[at..<(at + n)]
        at += n
    } while at < payload.count
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzMain.bytes(data, size)
    guard let mode = input.first else { return 0 }
    let rest = UnsafeRawBufferPointer(rebasing: input.dropFirst())
    if mode & 1 == 0 {
        scratch.write(rest)
    } else {
        let payload = withModelChecksum(rest)
        var file = Array("EARSESS\0".utf8)
        withUnsafeBytes(of: UInt32(2).littleEndian) { file += $0 }
        withUnsafeBytes(of: UInt64(payload.count).littleEndian) { file += $0 }
        withUnsafeBytes(of: XXH64.hash(payload).littleEndian) { file += $0 }
        file += payload.withUnsafeBytes { rawZstdFrame($0) }
        file.withUnsafeBytes { scratch.write($0) }
    }
    do {
        try chat.load(from: scratch.path)
        _ = chat.history
        // Continue a loaded session now and then (a 1-token turn costs ~100 loads' time).
        if mode & 0x0E == 0x0E { _ = try chat.send("Hi", audios: [AudioInput](), options: GenerationOptions(maxTokens: 1)) }
    } catch {}
    chat.reset()
    return 0
}

@main struct Main { static func main() { FuzzMain.run(fuzzOneInput) } }
