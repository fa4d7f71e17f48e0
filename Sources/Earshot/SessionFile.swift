// SessionFile: saves a session (the KV cache rows in use, the ids they hold, the NTK alpha, and a chat's
// system prompt and history) to one zstd-compressed file, and restores it, so a conversation continues
// exactly where it stopped (same next tokens as an uninterrupted session).
//
// Layout (little-endian):
//   0  "EARSESS\0"              magic, 8 bytes
//   8  u32 version (1)
//  12  u64 payload size before compression
//  20  one zstd frame of the payload:
//        u32 header size, header JSON (UTF-8, `SessionFile.Header`),
//        then for each KV slot s in 0..<2·layers (keys of layer l = 2l, values = 2l + 1):
//        rows 0..<length, rowBytes each (f16 or f32 as `precision` says)
import CZstd
import EarshotModels
import Foundation

public enum SessionFile {
    static let magic: [UInt8] = Array("EARSESS\0".utf8)
    static let version: UInt32 = 1
    /// Refuse payloads above this (a corrupt size field must not make us allocate terabytes).
    static let maxPayload: UInt64 = 1 << 36

    /// What the JSON header holds.
    struct Header: Codable {
        var version: Int
        /// The model file's index checksum (hex) and shape: a session only loads into the same model.
        var modelChecksum: String
        var layers: Int
        var rowSize: Int
        var precision: String
        var length: Int
        var ntkAlpha: Double
        var contextIds: [Int]
        /// Per position: the id, or a (negative) hash of the audio and the offset in its span.
        var contextKeys: [Int]
        var chat: ChatState?
    }

    struct ChatState: Codable {
        var system: String
        var maxWindowTokens: Int
        var history: [[String]]
    }

    static func modelChecksum(_ model: EarshotModel) -> String {
        String(model.runtime.weights.file.indexChecksum, radix: 16)
    }

    /// Writes `session` (and `chat`'s history when given) to `path` (atomically: a temporary file, then rename).
    static func save(_ session: Session, chat: Chat?, to path: String) throws(EarshotError) {
        session.lock.lock(); defer { session.lock.unlock() }
        let cache = session.cache
        let length = cache?.length ?? 0
        let header = Header(
            version: Int(version), modelChecksum: modelChecksum(session.model),
            layers: session.model.config.llm.numLayers, rowSize: session.model.config.llm.projectionSize,
            precision: (cache?.precision ?? session.kvPrecision) == .f16 ? "f16" : "f32",
            length: length, ntkAlpha: cache?.ntkAlpha ?? 1, contextIds: Array(session.contextIds.prefix(length)),
            contextKeys: Array(session.contextKeys.prefix(length)),
            chat: chat.map { ChatState(system: $0.system, maxWindowTokens: $0.maxWindowTokens,
                                       history: $0.history.map { [$0.query, $0.response] }) })
        let json: Data
        do { json = try JSONEncoder().encode(header) } catch { throw .sessionFile(path: path, reason: "\(error)") }
        var payload = [UInt8]()
        let kvBytes = cache.map { $0.slotCount * length * $0.rowBytes } ?? 0
        payload.reserveCapacity(4 + json.count + kvBytes)
        appendLE(&payload, UInt32(json.count))
        payload += json
        if let cache {
            for s in 0..<cache.slotCount { payload += cache.rawRows(slot: s, count: length) }
        }
        let bound = ZSTD_compressBound(payload.count)
        var out = [UInt8](repeating: 0, count: 20 + bound)
        let n = out.withUnsafeMutableBytes { dst in
            payload.withUnsafeBytes { src in ZSTD_compress(dst.baseAddress! + 20, bound, src.baseAddress, src.count, 3) }
        }
        if ZSTD_isError(n) != 0 { throw .sessionFile(path: path, reason: "compression failed: \(String(cString: ZSTD_getErrorName(n)))") }
        out.removeSubrange((20 + n)...)
        out.replaceSubrange(0..<8, with: magic)
        var head = [UInt8]()
        appendLE(&head, version)
        appendLE(&head, UInt64(payload.count))
        out.replaceSubrange(8..<20, with: head)
        let tmp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(out)) else {
            throw .sessionFile(path: path, reason: "cannot write the file (\(String(cString: strerror(errno))))")
        }
        if rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw .sessionFile(path: path, reason: "cannot move the file into place (\(reason))")
        }
    }

    /// Reads `path` into `session` (replacing its KV cache) and `chat` (replacing its system prompt and history).
    static func load(_ session: Session, chat: Chat?, from path: String) throws(EarshotError) {
        func bad(_ reason: String) -> EarshotError { .sessionFile(path: path, reason: reason) }
        guard let data = FileManager.default.contents(atPath: path) else { throw bad("cannot read the file") }
        let bytes = [UInt8](data)
        guard bytes.count >= 20, Array(bytes[0..<8]) == magic else { throw bad("not an Earshot session file") }
        let fileVersion = readLE(bytes, 8, UInt32.self)
        guard fileVersion == version else { throw bad("format version \(fileVersion) is not supported (this build reads \(version))") }
        let rawSize = readLE(bytes, 12, UInt64.self)
        guard rawSize >= 4, rawSize <= maxPayload else { throw bad("payload size \(rawSize) is out of range") }
        var payload = [UInt8](repeating: 0, count: Int(rawSize) + 1)
        let n = payload.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in ZSTD_decompress(dst.baseAddress, dst.count, src.baseAddress! + 20, src.count - 20) }
        }
        if ZSTD_isError(n) != 0 { throw bad("damaged compressed data: \(String(cString: ZSTD_getErrorName(n)))") }
        guard n == Int(rawSize) else { throw bad("payload is \(n) bytes, the header says \(rawSize)") }
        let headerSize = Int(readLE(payload, 0, UInt32.self))
        guard headerSize <= n - 4 else { throw bad("header size \(headerSize) exceeds the payload") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(payload[4..<(4 + headerSize)])) } catch {
            throw bad("damaged header: \(error)")
        }
        let cfg = session.model.config.llm
        guard header.modelChecksum == modelChecksum(session.model), header.layers == cfg.numLayers,
              header.rowSize == cfg.projectionSize else {
            throw bad("it was saved with another model (checksum \(header.modelChecksum), this model \(modelChecksum(session.model)))")
        }
        guard header.precision == "f16" || header.precision == "f32" else { throw bad("unknown KV precision '\(header.precision)'") }
        guard header.length >= 0, header.contextIds.count == header.length, header.contextKeys.count == header.length else {
            throw bad("\(header.contextIds.count) ids for \(header.length) cached positions")
        }
        guard header.contextIds.allSatisfy({ $0 >= 0 && $0 < cfg.vocabSize }) else { throw bad("an id is outside the vocabulary") }
        let rowBytes = cfg.projectionSize * (header.precision == "f16" ? 2 : 4)
        let slotBytes = header.length * rowBytes
        guard 4 + headerSize + 2 * cfg.numLayers * slotBytes == n else {
            throw bad("KV data is \(n - 4 - headerSize) bytes, expected \(2 * cfg.numLayers * slotBytes)")
        }

        session.lock.lock(); defer { session.lock.unlock() }
        session.kvPrecision = header.precision == "f16" ? .f16 : .f32
        session.cache = nil
        let cache = session.ensureCache(capacity: header.length + 256, keeping: 0)
        payload.withUnsafeBytes { p in
            for s in 0..<cache.slotCount {
                let start = 4 + headerSize + s * slotBytes
                cache.writeRawRows(slot: s, UnsafeRawBufferPointer(rebasing: p[start..<(start + slotBytes)]))
            }
        }
        cache.restore(length: header.length, ntkAlpha: header.ntkAlpha)
        session.contextIds = header.contextIds
        session.contextKeys = header.contextKeys
        if let chat, let state = header.chat {
            chat.system = state.system
            chat.maxWindowTokens = state.maxWindowTokens
            chat.setHistory(state.history.compactMap { $0.count == 2 ? (query: $0[0], response: $0[1]) : nil })
        }
    }

    static func appendLE<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }

    static func readLE<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, _: T.Type) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}

extension Session {
    /// Saves the KV cache and the ids it holds to a zstd-compressed session file.
    public func save(to path: String) throws(EarshotError) { try SessionFile.save(self, chat: nil, to: path) }
    /// Restores a file written by `save(to:)` (or by `Chat.save(to:)`) with the same model.
    public func load(from path: String) throws(EarshotError) { try SessionFile.load(self, chat: nil, from: path) }
}

extension Chat {
    /// Saves the KV cache, system prompt and history.
    public func save(to path: String) throws(EarshotError) { try SessionFile.save(session, chat: self, to: path) }
    /// Restores a chat saved with `save(to:)` (same model); the next turn continues the conversation.
    public func load(from path: String) throws(EarshotError) { try SessionFile.load(session, chat: self, from: path) }
}
