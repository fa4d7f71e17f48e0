// ServerConfiguration: what `earshot-server` is started with — address, slots, queue, API key and the
// limits every request is held to. Validated once (`validate()`), before any socket is opened.

/// The server's settings. Defaults are the safe ones: loopback only, one slot, OpenAI's 25 MB upload limit.
public struct ServerConfiguration: Sendable, Equatable {
    /// Address to bind (127.0.0.1: only this machine can connect).
    public var host = "127.0.0.1"
    /// TCP port (0: any free port, printed when listening).
    public var port = 8080
    /// Sessions that run requests at the same time (each has its own KV cache; the model is mapped once).
    public var parallel = 1
    /// Requests that may wait for a free session; one more gets 429 with Retry-After.
    public var queueLimit = 16
    /// When set, every request except GET /health must send `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// Largest request body, bytes.
    public var maxBodyBytes = 25 * 1024 * 1024
    /// Longest audio (one upload or one `input_audio` part), seconds.
    public var maxAudioSeconds = 3600.0
    /// Most tokens a chat completion may generate (also capped by what the model's context leaves).
    public var maxTokens = 4096
    /// Longest time one request may run, seconds (then it is cancelled; 504).
    public var requestTimeoutSeconds = 600.0
    /// The model id `/v1/models` lists and responses carry (default: the file name).
    public var modelName: String?

    public init() {}

    /// Checks every value; the error names the setting and why it is refused.
    public func validate() throws(ServerConfigurationError) {
        func fail(_ name: String, _ value: String, _ reason: String) -> ServerConfigurationError {
            .invalid(name: name, value: value, reason: reason)
        }
        if host.isEmpty { throw fail("host", host, "must not be empty") }
        if !(0...65_535).contains(port) { throw fail("port", "\(port)", "must be 0…65535") }
        if !(1...64).contains(parallel) { throw fail("parallel", "\(parallel)", "must be 1…64") }
        if !(0...10_000).contains(queueLimit) { throw fail("queue", "\(queueLimit)", "must be 0…10000") }
        if let k = apiKey, k.isEmpty || k.utf8.count > 4096 { throw fail("api-key", "(\(k.utf8.count) bytes)", "must be 1…4096 bytes") }
        if !(1024...(4 << 30)).contains(maxBodyBytes) { throw fail("max-body", "\(maxBodyBytes)", "must be 1 KiB…4 GiB") }
        if !(maxAudioSeconds > 0 && maxAudioSeconds <= 24 * 3600) { throw fail("max-audio-seconds", "\(maxAudioSeconds)", "must be in (0, 86400]") }
        if !(1...1_000_000).contains(maxTokens) { throw fail("max-tokens", "\(maxTokens)", "must be 1…1000000") }
        if !(requestTimeoutSeconds > 0 && requestTimeoutSeconds <= 86_400) {
            throw fail("timeout", "\(requestTimeoutSeconds)", "must be in (0, 86400] seconds")
        }
    }
}

/// A setting the server refuses to start with.
public enum ServerConfigurationError: Error, CustomStringConvertible, Equatable {
    /// `name` = `value` is not allowed, for `reason`.
    case invalid(name: String, value: String, reason: String)

    public var description: String {
        switch self {
        case let .invalid(name, value, reason): return "--\(name) \(value): \(reason)"
        }
    }
}
