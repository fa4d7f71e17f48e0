// ServerMetrics: what `/metrics` serves, kept in a swift-prometheus registry and emitted in the Prometheus
// text format: requests by endpoint and status, request duration histograms by endpoint, tokens generated
// and the seconds spent generating them, audio seconds processed, prompt tokens prefilled vs reused,
// cancelled requests; queue depth, busy sessions and whether the model is loaded are set at scrape time.
import Foundation
import Prometheus
import Synchronization

public final class ServerMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let tokens, decodeSeconds, audioSeconds, promptTokens, reusedPromptTokens, cancelled: Counter
    private let tokensPerSecond, queueDepth, sessionsBusy, sessions, modelLoaded: Gauge
    /// What the tests and tokens/s read back (the registry's counters are write-only).
    private let tally = Mutex<(requests: [String: Int], cancelled: Int, tokens: Int, decodeSeconds: Double)>(([:], 0, 0, 0))

    /// Request-duration buckets, seconds: a health check to a long transcription.
    static let buckets: [Duration] = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300].map { .milliseconds(Int64($0 * 1000)) }

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func counter(_ name: String, _ unit: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: .init(namespace: "earshot", metricName: name, unitName: unit, helpText: help))
        }
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: .init(namespace: "earshot", metricName: name, unitName: "", helpText: help))
        }
        tokens = counter("tokens_generated", "total", "Tokens generated (chat completions, Qwen-Audio tasks, transcriptions).")
        decodeSeconds = counter("decode_seconds", "total", "Seconds spent generating those tokens.")
        audioSeconds = counter("audio_seconds", "total", "Seconds of audio received and processed.")
        promptTokens = counter("prompt_tokens", "total", "Prompt tokens of chat completions and tasks.")
        reusedPromptTokens = counter("prompt_tokens_reused", "total", "Prompt tokens found in a session's KV cache (not prefilled again).")
        cancelled = counter("cancelled", "total", "Requests cancelled (client gone or timeout).")
        tokensPerSecond = gauge("tokens_per_second", "Generated tokens per decode second since start.")
        queueDepth = gauge("queue_depth", "Requests waiting for a session.")
        sessionsBusy = gauge("sessions_busy", "Sessions running a request.")
        sessions = gauge("sessions", "Sessions (--parallel).")
        modelLoaded = gauge("model_loaded", "1 once the model is mapped and serving, 0 while it loads.")
    }

    func request(endpoint: String, status: Int, seconds: Double) {
        registry.makeCounter(descriptor: .init(namespace: "earshot", metricName: "requests", unitName: "total",
                                               helpText: "HTTP requests answered, by endpoint and status."),
                             labels: [("endpoint", endpoint), ("status", "\(status)")]).increment()
        registry.makeDurationHistogram(descriptor: .init(namespace: "earshot", metricName: "request_duration", unitName: "seconds",
                                                         helpText: "Time to answer a request (a stream: until its response began), by endpoint."),
                                       labels: [("endpoint", endpoint)], buckets: Self.buckets)
            .recordNanoseconds(Int64(seconds * 1e9))
        tally.withLock { $0.requests["\(endpoint) \(status)", default: 0] += 1 }
    }

    func generation(tokens: Int, decodeSeconds: Double, promptTokens: Int, reused: Int) {
        self.tokens.increment(by: Int64(tokens))
        self.decodeSeconds.increment(by: decodeSeconds)
        self.promptTokens.increment(by: Int64(promptTokens))
        reusedPromptTokens.increment(by: Int64(reused))
        tally.withLock { $0.tokens += tokens; $0.decodeSeconds += decodeSeconds }
    }

    func audio(seconds: Double) { audioSeconds.increment(by: seconds) }

    func cancellation() {
        cancelled.increment()
        tally.withLock { $0.cancelled += 1 }
    }

    /// Requests answered with `status` on `endpoint` so far.
    public func count(endpoint: String, status: Int) -> Int { tally.withLock { $0.requests["\(endpoint) \(status)"] ?? 0 } }

    public var cancelledRequests: Int { tally.withLock { $0.cancelled } }
    /// Tokens generated since start.
    public var generatedTokens: Int { tally.withLock { $0.tokens } }

    /// The exposition text, with the scrape-time gauges set first.
    public func render(queueDepth: Int, busy: Int, slots: Int, loaded: Bool) -> String {
        let (n, seconds) = tally.withLock { ($0.tokens, $0.decodeSeconds) }
        tokensPerSecond.set(to: seconds > 0 ? Double(n) / seconds : 0)
        self.queueDepth.set(Int64(queueDepth))
        sessionsBusy.set(Int64(busy))
        sessions.set(Int64(slots))
        modelLoaded.set(to: loaded ? 1 : 0)
        return registry.emitToString()
    }
}
