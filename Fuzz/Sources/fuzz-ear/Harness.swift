// fuzz-ear: the .ear reader. Each input is (1) parsed in memory by EarIndex (every header field, section,
// table record, name and metadata byte), its zstd blobs decompressed and its tensors hashed; (2) written
// to a RAM file and opened as a program opens a model (EarFile: regular-file open, mmap, parse, index
// checksum), then `verify()`; (3) when the structure parses but the checksum does not match, opened
// again with the checksum fixed up, so mutations of metadata and tables reach everything behind it.
// Any outcome but a typed EarError is a finding.
import FuzzSupport
@testable import EarshotFormat

let scratch = ScratchFile(suffix: ".ear")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzMain.bytes(data, size)
    var index: EarIndex? = nil
    do {
        let parsed = try EarIndex.parse(input)
        index = parsed
        for b in parsed.blobs where b.compression == .zstd {
            _ = try? Zstd.decompress(UnsafeRawBufferPointer(rebasing: input[b.offset..<(b.offset + b.storedSize)]),
                                     rawSize: b.rawSize, blob: b.name)
        }
        for t in parsed.tensors { _ = XXH64.hash(UnsafeRawBufferPointer(rebasing: input[t.offset..<(t.offset + t.byteCount)])) }
    } catch {}
    openMapped(input)
    if let index {
        var resealed = [UInt8](input)
        let sum = XXH64.hash(UnsafeRawBufferPointer(rebasing: input[index.indexRange]))
        if sum != index.indexChecksum {
            resealed.withUnsafeMutableBytes { $0.storeBytes(of: sum.littleEndian, toByteOffset: Layout.H.indexChecksum, as: UInt64.self) }
            resealed.withUnsafeBytes { openMapped($0) }
        }
    }
    return 0
}

func openMapped(_ bytes: UnsafeRawBufferPointer) {
    scratch.write(bytes)
    guard let ear = try? EarFile(path: scratch.path) else { return }
    for b in ear.blobs { _ = try? ear.blob(b) }
    _ = try? ear.verify()
    _ = ear.metadata.json
}

@main struct Main { static func main() { FuzzMain.run(fuzzOneInput) } }
