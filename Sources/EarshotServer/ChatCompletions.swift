// ChatCompletions: POST /v1/chat/completions — OpenAI's chat shape on a Qwen-Audio(-Chat) model. User
// content is a string or parts (`text`, `input_audio` with base64 data); the conversation is replayed
// on a slot whose KV cache (and audio encodings, keyed by content) usually already hold it, so only the
// new turn is prefilled. `stream: true` answers with server-sent events ending in `data: [DONE]`.
// Request text is tokenized with special tokens disallowed: `<audio>/etc/passwd</audio>` is plain text.
import Earshot
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A chat completion request, checked.
public struct ChatRequest: Sendable {
    public var system: String?
    public var history: [ReplayedTurn] = []
    public var text: String = ""
    public var audios: [AudioInput] = []
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var seed: UInt64?
    public var stop: [String] = []
    public var stream = false
    public var includeUsage = false

    /// Content hash of the system prompt and the history (the conversation a slot may already hold).
    public var historyKey: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ s: String) { for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }; h = (h ^ 0xff) &* 0x100_0000_01b3 }
        mix(system ?? "")
        for t in history { mix(t.text); for a in t.audios { mix(a.name) }; mix(t.response) }
        return h
    }

    /// The key of the conversation after this turn's `reply`.
    func keyAfter(reply: String) -> UInt64 {
        var next = self
        next.history.append(ReplayedTurn(text: text, audios: audios, response: reply))
        return next.historyKey
    }

    /// Parses and checks the JSON body.
    public static func parse(_ data: Data, maxAudioSeconds: Double, maxTokensLimit: Int) throws(APIError) -> ChatRequest {
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: data) } catch {
            throw .badRequest("the request body is not valid JSON: \((error as NSError).localizedDescription)", code: "invalid_json")
        }
        guard let o = any as? [String: Any] else { throw .badRequest("the request body must be a JSON object", code: "invalid_json") }
        guard let messages = o["messages"] as? [Any], !messages.isEmpty else {
            throw .badRequest("'messages' must be a non-empty array", param: "messages", code: "missing_required_parameter")
        }
        guard messages.count <= 1000 else { throw .badRequest("'messages' has more than 1000 entries", param: "messages") }
        var r = ChatRequest()
        var pendingUser: (text: [String], audios: [AudioInput])?
        var audioCount = 0
        for (i, m) in messages.enumerated() {
            let param = "messages[\(i)]"
            guard let msg = m as? [String: Any], let role = msg["role"] as? String else {
                throw .badRequest("\(param) must be an object with a string 'role'", param: param)
            }
            let (text, audios) = try content(msg["content"], param: "\(param).content", allowAudio: role == "user",
                                              maxAudioSeconds: maxAudioSeconds, audioCount: &audioCount)
            switch role {
            case "system", "developer":
                guard r.history.isEmpty, pendingUser == nil else {
                    throw .badRequest("\(param): a system message may only come before the conversation", param: param)
                }
                r.system = (r.system.map { $0 + "\n" } ?? "") + text
            case "user":
                if pendingUser == nil { pendingUser = ([], []) }
                if !text.isEmpty { pendingUser!.text.append(text) }
                pendingUser!.audios += audios
            case "assistant":
                guard let u = pendingUser else { throw .badRequest("\(param): an assistant message must follow a user message", param: param) }
                r.history.append(ReplayedTurn(text: u.text.joined(separator: "\n"), audios: u.audios, response: text))
                pendingUser = nil
            default:
                throw .badRequest("\(param).role '\(role.prefix(40))' must be system, user or assistant", param: "\(param).role")
            }
        }
        guard let last = pendingUser else {
            throw .badRequest("the last message must be from the user", param: "messages")
        }
        r.text = last.text.joined(separator: "\n")
        r.audios = last.audios
        guard !r.text.isEmpty || !r.audios.isEmpty else { throw .badRequest("the last user message is empty", param: "messages") }

        func number(_ key: String) throws(APIError) -> Double? {
            guard let v = o[key], !(v is NSNull) else { return nil }
            guard !(v is String), let n = v as? NSNumber, String(cString: n.objCType) != "c", n.doubleValue.isFinite else {
                throw .badRequest("'\(key)' must be a number", param: key)
            }
            return n.doubleValue
        }
        var maxTokens = try number("max_completion_tokens")
        if maxTokens == nil { maxTokens = try number("max_tokens") }
        if let n = maxTokens {
            guard n >= 1, n == n.rounded() else { throw .badRequest("max_tokens must be a whole number ≥ 1", param: "max_tokens") }
            guard n <= Double(maxTokensLimit) else {
                throw .badRequest("max_tokens \(Int(n)) is above this server's limit of \(maxTokensLimit)", param: "max_tokens")
            }
            r.maxTokens = Int(n)
        }
        if let t = try number("temperature") {
            guard (0...2).contains(t) else { throw .badRequest("temperature must be from 0 to 2", param: "temperature") }
            r.temperature = t
        }
        if let p = try number("top_p") {
            guard p > 0, p <= 1 else { throw .badRequest("top_p must be in (0, 1]", param: "top_p") }
            r.topP = p
        }
        if let s = try number("seed") {
            guard s == s.rounded(), abs(s) < 9.0e18 else { throw .badRequest("seed must be an integer", param: "seed") }
            r.seed = UInt64(bitPattern: Int64(s))
        }
        if let n = try number("n"), n != 1 { throw .badRequest("only n = 1 is supported", param: "n") }
        switch o["stop"] {
        case nil, is NSNull: break
        case let s as String: r.stop = [s]
        case let a as [Any]:
            guard a.count <= 4, let strings = a as? [String] else { throw .badRequest("'stop' must be a string or up to 4 strings", param: "stop") }
            r.stop = strings
        default: throw .badRequest("'stop' must be a string or up to 4 strings", param: "stop")
        }
        r.stop = r.stop.filter { !$0.isEmpty }
        if let s = o["stream"], !(s is NSNull) {
            guard let b = s as? Bool else { throw .badRequest("'stream' must be true or false", param: "stream") }
            r.stream = b
        }
        if let so = o["stream_options"] as? [String: Any], let u = so["include_usage"] as? Bool { r.includeUsage = u }
        return r
    }

    /// A message's content: a string, or parts (`text`, and for users `input_audio`).
    static func content(_ value: Any?, param: String, allowAudio: Bool, maxAudioSeconds: Double,
                        audioCount: inout Int) throws(APIError) -> (String, [AudioInput]) {
        switch value {
        case nil, is NSNull: return ("", [])
        case let s as String: return (s, [])
        case let parts as [Any]:
            var texts: [String] = []
            var audios: [AudioInput] = []
            for (j, p) in parts.enumerated() {
                let pp = "\(param)[\(j)]"
                guard let part = p as? [String: Any], let type = part["type"] as? String else {
                    throw .badRequest("\(pp) must be an object with a string 'type'", param: pp)
                }
                switch type {
                case "text":
                    guard let t = part["text"] as? String else { throw .badRequest("\(pp).text must be a string", param: "\(pp).text") }
                    texts.append(t)
                case "input_audio":
                    guard allowAudio else { throw .badRequest("\(pp): only user messages may hold audio", param: pp) }
                    guard let a = part["input_audio"] as? [String: Any], let b64 = a["data"] as? String else {
                        throw .badRequest("\(pp).input_audio must be an object with base64 'data'", param: "\(pp).input_audio")
                    }
                    if let f = a["format"], !(f is NSNull) {
                        guard let f = f as? String, ["wav", "mp3", "flac", "ogg", "opus"].contains(f.lowercased()) else {
                            throw .badRequest("\(pp).input_audio.format must be wav, mp3, flac or ogg", param: "\(pp).input_audio.format")
                        }
                    }
                    guard let bytes = Data(base64Encoded: b64, options: [.ignoreUnknownCharacters]), !bytes.isEmpty,
                          b64.utf8.allSatisfy({ isBase64Byte($0) }) else {
                        throw .badRequest("\(pp).input_audio.data is not valid base64", param: "\(pp).input_audio.data", code: "invalid_base64")
                    }
                    audioCount += 1
                    guard audioCount <= 64 else { throw .badRequest("more than 64 audios in one conversation", param: pp) }
                    audios.append(try UploadedAudio.decode(bytes, param: "\(pp).input_audio.data", maxSeconds: maxAudioSeconds))
                default:
                    throw .badRequest("\(pp).type '\(type.prefix(40))' is not supported (text, input_audio)", param: "\(pp).type",
                                      code: "unsupported_content")
                }
            }
            return (texts.joined(separator: "\n"), audios)
        default:
            throw .badRequest("\(param) must be a string or an array of content parts", param: param)
        }
    }

    static func isBase64Byte(_ b: UInt8) -> Bool {
        (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 43 || b == 47 || b == 61
            || b == 10 || b == 13 || b == 32
    }
}

/// What a generation thread hands the response: tokens as they come, then the finished reply.
enum ChatEvent: Sendable {
    case token(TokenEvent)
    case done(ChatReply)
}

extension EarshotServer {
    func chatCompletions(_ request: Request) async throws -> Response {
        guard model.info.chats else {
            throw APIError.badRequest("this \(model.info.family.displayName) model cannot chat; it serves \(endpoints.joined(separator: ", "))",
                                      param: "model", code: "unsupported")
        }
        let data = try await body(request)
        let chatRequest = try ChatRequest.parse(data, maxAudioSeconds: configuration.maxAudioSeconds, maxTokensLimit: configuration.maxTokens)
        for a in chatRequest.audios + chatRequest.history.flatMap(\.audios) { metrics.audio(seconds: UploadedAudio.seconds(a)) }
        let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
        let created = Int(Date().timeIntervalSince1970)
        if chatRequest.stream { return try await streamChat(chatRequest, id: id, created: created) }

        let reply: ChatReply = try await withSlot(conversation: chatRequest.historyKey) { slot in
            var result: ChatReply?
            for try await e in try self.generate(chatRequest, slot: slot, timeout: self.configuration.requestTimeoutSeconds) { if case .done(let r) = e { result = r } }
            guard let result else { throw CancellationError() }
            return result
        }
        let s = reply.generation.stats
        var response = json([
            "id": id, "object": "chat.completion", "created": created, "model": modelID,
            "choices": [["index": 0, "message": ["role": "assistant", "content": reply.response],
                         "finish_reason": Self.finishReason(reply.generation.stopReason)] as [String: Any]],
            "usage": usage(s),
        ])
        response.headers[HTTPField.Name("x-earshot-tokens")!] = "\(s.generatedTokens)"
        return response
    }

    func usage(_ s: GenerationStats) -> [String: Any] {
        ["prompt_tokens": s.promptTokens, "completion_tokens": s.generatedTokens, "total_tokens": s.promptTokens + s.generatedTokens,
         "prompt_tokens_details": ["cached_tokens": s.reusedPromptTokens]]
    }

    static func finishReason(_ r: StopReason) -> String {
        switch r {
        case .maxTokens: return "length"
        default: return "stop"
        }
    }

    /// Runs the turn on `slot`'s session on a thread of its own; dropping the stream cancels it, and so does
    /// `timeout` seconds passing (a prefill included: the stream then ends with the 504 `timeout` error).
    func generate(_ r: ChatRequest, slot: Slot, timeout: Double) throws -> AsyncThrowingStream<ChatEvent, any Error> {
        let chat: Chat
        do {
            chat = try Chat.on(slot.session, system: r.system ?? Chat.defaultSystem)
        } catch { throw APIError.from(error) }
        var options = chat.defaultOptions
        if let t = r.temperature {
            if t == 0 { options.sampling = .greedy } else { options.sampling.temperature = Float(t) }
        }
        if let p = r.topP { options.sampling.topP = Float(p) }
        if let s = r.seed { options.sampling.seed = s }
        if let m = r.maxTokens { options.maxTokens = m }
        options.stopStrings = r.stop
        let metrics = self.metrics, opts = options
        return AsyncThrowingStream { continuation in
            let flag = CancellationFlag(), timedOut = CancellationFlag()
            continuation.onTermination = { _ in flag.cancel() }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { timedOut.cancel(); flag.cancel() }
            let timeoutError = APIError(.gatewayTimeout, "the request took longer than \(timeout) s and was cancelled",
                                        type: "server_error", code: "timeout")
            Thread.detachNewThread {
                do throws(EarshotError) {
                    try chat.replaceHistory(r.history)
                    let reply = try chat.send(r.text, audios: r.audios, options: opts, cancel: flag) { e in
                        continuation.yield(.token(e))
                        return !flag.isCancelled
                    }
                    let s = reply.generation.stats
                    metrics.generation(tokens: s.generatedTokens, decodeSeconds: s.decodeSeconds, promptTokens: s.promptTokens,
                                       reused: s.reusedPromptTokens)
                    if reply.generation.stopReason == .cancelled {   // counted by whoever cancelled it
                        slot.conversationKey = nil
                        continuation.finish(throwing: timedOut.isCancelled ? timeoutError : CancellationError())
                        return
                    }
                    slot.conversationKey = r.keyAfter(reply: reply.response)
                    continuation.yield(.done(reply))
                    continuation.finish()
                } catch {
                    slot.conversationKey = nil
                    if case .cancelled = error {
                        continuation.finish(throwing: timedOut.isCancelled ? timeoutError : CancellationError())
                    } else {
                        continuation.finish(throwing: APIError.from(error))
                    }
                }
            }
        }
    }

    func streamChat(_ r: ChatRequest, id: String, created: Int) async throws -> Response {
        let slot = try await pool.acquire(conversation: r.historyKey)
        let stream: AsyncThrowingStream<ChatEvent, any Error>
        do { stream = try generate(r, slot: slot, timeout: configuration.requestTimeoutSeconds) } catch {
            await pool.release(slot)
            throw error
        }
        let modelID = self.modelID
        let lease = SlotLease(pool: pool, slot: slot)
        @Sendable func chunk(content: String?, role: Bool = false, finish: String?) -> ByteBuffer {
            var delta: [String: Any] = [:]
            if role { delta["role"] = "assistant" }
            if let content { delta["content"] = content }
            return self.sse(["id": id, "object": "chat.completion.chunk", "created": created, "model": modelID,
                             "choices": [["index": 0, "delta": delta, "finish_reason": finish.map { $0 as Any } ?? NSNull()] as [String: Any]]])
        }
        let first = chunk(content: "", role: true, finish: nil)
        let metrics = self.metrics
        let body = ResponseBody { writer in
            do {
                defer { lease.release() }
                try await writer.write(first)
                var reply: ChatReply?
                // One token is held back: the reply rule drops the last token of a reply cut by max_tokens,
                // and the streamed text must add up to the same content as the non-streamed reply.
                var held = "", emitted = ""
                do {
                    for try await e in stream {
                        switch e {
                        case .token(let t):
                            if Chat.stopIds.contains(t.id) || t.text.isEmpty { continue }
                            if !held.isEmpty {
                                try await writer.write(chunk(content: held, finish: nil))
                                emitted += held
                            }
                            held = t.text
                        case .done(let d):
                            reply = d
                            let trim = { (s: String) in s.trimmingCharacters(in: .whitespacesAndNewlines) }
                            if !held.isEmpty, trim(emitted + held) == d.response {
                                try await writer.write(chunk(content: held, finish: nil))
                            }
                        }
                    }
                } catch let e as APIError {
                    if e.code == "timeout" { metrics.cancellation() }
                    try await writer.write(self.sse(["error": ["message": e.message, "type": e.type, "code": e.code ?? NSNull(), "param": e.param ?? NSNull()] as [String: Any]]))
                } catch is CancellationError {
                    metrics.cancellation()
                    try await writer.write(self.sse(["error": ["message": "cancelled", "type": "server_error", "code": "cancelled", "param": NSNull()] as [String: Any]]))
                }
                if let reply {
                    try await writer.write(chunk(content: nil, finish: Self.finishReason(reply.generation.stopReason)))
                    if r.includeUsage {
                        try await writer.write(self.sse(["id": id, "object": "chat.completion.chunk", "created": created, "model": modelID,
                                                         "choices": [], "usage": self.usage(reply.generation.stats)]))
                    }
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            } catch {
                metrics.cancellation()   // a write failed: the client hung up; dropping `stream` stops the generation
                throw error
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    func sse(_ object: [String: Any]) -> ByteBuffer {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var b = ByteBuffer(string: "data: ")
        b.writeBytes(data)
        b.writeString("\n\n")
        return b
    }
}
