// SessionFile: saves a session (the KV cache rows in use, the ids they hold, the NTK alpha, and a chat's
// system prompt and history with each audio's cache key and span) to one zstd-compressed, checksummed
// file, and restores it, so a conversation continues exactly where it stopped — without the original audio
// files, since the KV cache holds their spans.
//
// Layout (little-endian):
//   0  "EARSESS\0"              magic, 8 bytes
//   8  u32 version (2)
//  12  u64 payload size before compression
//  20  u64 XXH64 of the uncompressed payload
//  28  one zstd frame of the payload:
//        u32 header size, header JSON (UTF-8, `SessionFile.Header`),
//        then for each KV slot s in 0..<2·layers (keys of layer l = 2l, values = 2l + 1):
//        rows 0..<length, rowBytes each (f16 or f32 as `precision` says)
// Every field is checked before use: sizes against the model's context (never an allocation a file can
// inflate), the checksum, the model's identity, every id, count and length, and every KV value is finite.
import CZstd
import EarshotFormat
import EarshotModels
import Foundation

public enum SessionFile {
    static let magic: [UInt8] = Array("EARSESS\0".utf8)
    static let version: UInt32 = 2
    static let fixedHeader = 28
    static let maxHeaderBytes = 16 << 20
    static let maxHistoryTurns = 10_000
    static let maxTextCharacters = 1 << 20

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
        var history: [Turn]
    }

    struct Turn: Codable {
        var text: String
        var audios: [Audio]
        var response: String
    }

    struct Audio: Codable {
        var name: String
        var key: String
        var span: Int
    }

    static func modelChecksum(_ model: EarshotModel) -> String { String(model.fileChecksum, radix: 16) }

    /// Writes `session` (and `chat`'s history when given) to `path`, atomically (a temporary file in the same
    /// directory, then rename); an existing path that is not a regular file is refused.
    static func save(_ session: Session, chat: Chat?, to path: String) throws(EarshotError) {
        let engine = try session.llmEngine("save a session")
        let cfg = engine.llmConfig
        let out: [UInt8] = try session.locked { () throws(EarshotError) -> [UInt8] in
            let cache = session.cache
            let length = cache?.length ?? 0
            let history = chat?.history ?? []
            let header = Header(
                version: Int(version), modelChecksum: modelChecksum(session.model),
                layers: cfg.numLayers, rowSize: cfg.kvProjectionSize,
                precision: (cache?.precision ?? session.settings.kvPrecision) == .f16 ? "f16" : "f32",
                length: length, ntkAlpha: cache?.ntkAlpha ?? 1, contextIds: Array(session._contextIds.prefix(length)),
                contextKeys: Array(session.contextKeys.prefix(length)),
                chat: chat.map { c in
                    ChatState(system: c.system, maxWindowTokens: c.maxWindowTokens,
                              history: history.map { t in
                                  Turn(text: t.text, audios: t.audios.map { Audio(name: $0.name, key: $0.key, span: $0.spanTokens) },
                                       response: t.response)
                              })
                })
            let json: Data
            do { json = try JSONEncoder().encode(header) } catch { throw .sessionFile(path: path, reason: "cannot encode the header (\(error))") }
            var payload = [UInt8]()
            let kvBytes = cache.map { $0.slotCount * length * $0.rowBytes } ?? 0
            payload.reserveCapacity(4 + json.count + kvBytes)
            appendLE(&payload, UInt32(json.count))
            payload += json
            if let cache {
                for s in 0..<cache.slotCount { payload += cache.rawRows(slot: s, count: length) }
            }
            let bound = ZSTD_compressBound(payload.count)
            var out = [UInt8](repeating: 0, count: fixedHeader + bound)
            let n = out.withUnsafeMutableBytes { dst in
                payload.withUnsafeBytes { src in ZSTD_compress(dst.baseAddress! + fixedHeader, bound, src.baseAddress, src.count, 3) }
            }
            if ZSTD_isError(n) != 0 { throw .sessionFile(path: path, reason: "compression failed: \(String(cString: ZSTD_getErrorName(n)))") }
            out.removeSubrange((fixedHeader + n)...)
            var head = magic
            appendLE(&head, version)
            appendLE(&head, UInt64(payload.count))
            appendLE(&head, XXH64.hash(payload))
            out.replaceSubrange(0..<fixedHeader, with: head)
            return out
        }
        try OutputFile.writeAtomically(out, to: path)
    }

    /// Reads `path` into `session` (replacing its KV cache) and `chat` (replacing its system prompt and history).
    static func load(_ session: Session, chat: Chat?, from path: String) throws(EarshotError) {
        func bad(_ reason: String) -> EarshotError { .sessionFile(path: path, reason: reason) }
        let engine = try session.llmEngine("load a session")
        let cfg = engine.llmConfig
        let context = engine.contextLength
        // The largest payload a valid file for this model can hold: header + every KV row of a full context.
        let largestKV = 2 * cfg.numLayers * context * cfg.kvProjectionSize * 4
        let bytes = try OutputFile.readRegularFile(path, limit: fixedHeader + ZSTD_compressBound(maxHeaderBytes + largestKV))
        guard bytes.count >= fixedHeader, Array(bytes[0..<8]) == magic else { throw bad("not an Earshot session file") }
        let fileVersion = readLE(bytes, 8, UInt32.self)
        guard fileVersion == version else {
            throw bad(fileVersion < version ? "it was written by an older Earshot (format \(fileVersion)); this build reads format \(version)"
                                            : "format version \(fileVersion) is newer than this build reads (\(version))")
        }
        let rawSize = readLE(bytes, 12, UInt64.self)
        guard rawSize >= 4, rawSize <= UInt64(4 + maxHeaderBytes + largestKV) else {
            throw bad("its payload size (\(rawSize) bytes) is impossible for this model (at most \(4 + maxHeaderBytes + largestKV))")
        }
        let frame = bytes.withUnsafeBytes { b in ZSTD_getFrameContentSize(b.baseAddress! + fixedHeader, b.count - fixedHeader) }
        guard frame == rawSize else { throw bad("the compressed data does not hold the \(rawSize) bytes the header announces") }
        var payload = [UInt8](repeating: 0, count: Int(rawSize))
        let n = payload.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in ZSTD_decompress(dst.baseAddress, dst.count, src.baseAddress! + fixedHeader, src.count - fixedHeader) }
        }
        if ZSTD_isError(n) != 0 { throw bad("damaged compressed data: \(String(cString: ZSTD_getErrorName(n)))") }
        guard n == Int(rawSize) else { throw bad("the payload is \(n) bytes, the header says \(rawSize)") }
        guard XXH64.hash(payload) == readLE(bytes, 20, UInt64.self) else { throw bad("the checksum does not match: the file is damaged") }
        let headerSize = Int(readLE(payload, 0, UInt32.self))
        guard headerSize <= min(n - 4, maxHeaderBytes) else { throw bad("header size \(headerSize) exceeds the payload") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(payload[4..<(4 + headerSize)])) } catch {
            throw bad("its header is damaged (\(describe(error)))")
        }
        guard header.modelChecksum == modelChecksum(session.model) else {
            throw bad("it was saved with another model (model checksum \(header.modelChecksum); this model's is \(modelChecksum(session.model)))")
        }
        guard header.layers == cfg.numLayers, header.rowSize == cfg.kvProjectionSize else {
            throw bad("its KV cache has \(header.layers) layers of \(header.rowSize) values; this model has \(cfg.numLayers) of \(cfg.kvProjectionSize)")
        }
        guard header.precision == "f16" || header.precision == "f32" else { throw bad("unknown KV precision '\(header.precision)'") }
        guard header.length >= 0, header.length < context else {
            throw bad("it holds \(header.length) positions; the model's context is \(context)")
        }
        guard header.contextIds.count == header.length, header.contextKeys.count == header.length else {
            throw bad("\(header.contextIds.count) ids and \(header.contextKeys.count) keys for \(header.length) cached positions")
        }
        guard header.contextIds.allSatisfy({ $0 >= 0 && $0 < cfg.vocabSize }) else { throw bad("a cached id is outside the vocabulary") }
        for (i, (id, key)) in zip(header.contextIds, header.contextKeys).enumerated() where key >= 0 && key != id {
            throw bad("position \(i): key \(key) does not match id \(id)")
        }
        guard header.ntkAlpha.isFinite, header.ntkAlpha >= 1, header.ntkAlpha <= 1_048_576 else { throw bad("NTK alpha \(header.ntkAlpha) is out of range") }
        let rowBytes = cfg.kvProjectionSize * (header.precision == "f16" ? 2 : 4)
        let slotBytes = header.length * rowBytes
        guard 4 + headerSize + 2 * cfg.numLayers * slotBytes == n else {
            throw bad("its KV data is \(n - 4 - headerSize) bytes, expected \(2 * cfg.numLayers * slotBytes)")
        }
        let kvStart = 4 + headerSize
        let finite = payload.withUnsafeBytes { p -> Bool in
            let raw = UnsafeRawBufferPointer(rebasing: p[kvStart..<n])
            if header.precision == "f16" {
                for v in raw.bindMemory(to: UInt16.self) where v & 0x7C00 == 0x7C00 { return false }
            } else {
                for v in raw.bindMemory(to: UInt32.self) where v & 0x7F80_0000 == 0x7F80_0000 { return false }
            }
            return true
        }
        guard finite else { throw bad("its KV cache holds NaN or infinite values") }
        var turns: [ChatTurn] = []
        if let state = header.chat {
            guard state.system.count <= Chat.maxSystemCharacters else {
                throw bad("its system prompt has \(state.system.count) characters (at most \(Chat.maxSystemCharacters))")
            }
            guard state.maxWindowTokens >= 1, state.maxWindowTokens <= context else {
                throw bad("history window \(state.maxWindowTokens) is out of range (1…\(context))")
            }
            guard state.history.count <= maxHistoryTurns else { throw bad("\(state.history.count) history turns (at most \(maxHistoryTurns))") }
            for (i, t) in state.history.enumerated() {
                guard t.text.count <= maxTextCharacters, t.response.count <= maxTextCharacters,
                      t.audios.count <= QwenAudioEngine.maxAudiosPerPrompt else {
                    throw bad("history turn \(i) is too large")
                }
                let maxSpan = engine.audio.map { 4 * $0.config.audio.nCtx } ?? 0   // a text model's turns have no audio
                for a in t.audios where a.span < 2 || a.span > maxSpan || a.name.count > 4096 || a.key.count > 8192 {
                    throw bad("history turn \(i): audio '\(a.name.prefix(80))' has an impossible span of \(a.span) tokens")
                }
                turns.append(ChatTurn(text: t.text, audios: t.audios.map { ChatAudio(name: $0.name, key: $0.key, spanTokens: $0.span) },
                                      response: t.response))
            }
        }

        session.locked {
            session.settings.kvPrecision = header.precision == "f16" ? .f16 : .f32
            session.cache = nil
            let cache = session.ensureCache(engine: engine, capacity: header.length + 256, keeping: 0)
            payload.withUnsafeBytes { p in
                for s in 0..<cache.slotCount {
                    let start = kvStart + s * slotBytes
                    cache.writeRawRows(slot: s, UnsafeRawBufferPointer(rebasing: p[start..<(start + slotBytes)]))
                }
            }
            cache.restore(length: header.length, ntkAlpha: header.ntkAlpha)
            session._contextIds = header.contextIds
            session.contextKeys = header.contextKeys
            if let chat, let state = header.chat {
                chat.setState(system: state.system, maxWindowTokens: state.maxWindowTokens, history: turns)
            }
        }
    }

    /// A decoding error in words ("missing field 'layers'") rather than Swift's dump.
    static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "not valid JSON" }
        func path(_ c: [any CodingKey]) -> String { c.map(\.stringValue).joined(separator: ".") }
        switch e {
        case .keyNotFound(let k, let c): return "missing field '\(path(c.codingPath + [k]))'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "field '\(path(c.codingPath))' has the wrong type"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not valid JSON" : "field '\(path(c.codingPath))' is malformed"
        @unknown default: return "malformed"
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
    /// Restores a chat saved with `save(to:)` (same model); the next turn continues the conversation, even
    /// when the audio files of earlier turns are gone (their spans are in the KV cache).
    public func load(from path: String) throws(EarshotError) { try SessionFile.load(session, chat: self, from: path) }
}
