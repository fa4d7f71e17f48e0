// ServerMetrics: the counters `/metrics` serves in the Prometheus text format (version 0.0.4): requests by
// endpoint and status, tokens generated and the seconds spent generating them, audio seconds processed,
// prompt tokens prefilled vs reused, cancelled requests; queue depth and busy sessions are read at scrape time.
import Foundation

public final class ServerMetrics: @unchecked Sendable {   // every field guarded by `lock`
    private let lock = NSLock()
    private var requests: [String: Int] = [:]          // "endpoint\u{0}status" → count
    private var requestSeconds: [String: Double] = [:]  // endpoint → total seconds
    private(set) var tokensGenerated = 0
    private var decodeSeconds = 0.0
    private var audioSeconds = 0.0
    private var promptTokens = 0
    private var reusedPromptTokens = 0
    private(set) var cancelled = 0

    public init() {}

    func request(endpoint: String, status: Int, seconds: Double) {
        lock.lock(); defer { lock.unlock() }
        requests["\(endpoint)\u{0}\(status)", default: 0] += 1
        requestSeconds[endpoint, default: 0] += seconds
    }

    func generation(tokens: Int, decodeSeconds: Double, promptTokens: Int, reused: Int) {
        lock.lock(); defer { lock.unlock() }
        tokensGenerated += tokens
        self.decodeSeconds += decodeSeconds
        self.promptTokens += promptTokens
        reusedPromptTokens += reused
    }

    func audio(seconds: Double) { lock.lock(); audioSeconds += seconds; lock.unlock() }
    func cancellation() { lock.lock(); cancelled += 1; lock.unlock() }

    /// Requests answered with `status` on `endpoint` so far.
    public func count(endpoint: String, status: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        return requests["\(endpoint)\u{0}\(status)"] ?? 0
    }

    public var cancelledRequests: Int { lock.lock(); defer { lock.unlock() }; return cancelled }

    /// The exposition text.
    public func render(queueDepth: Int, busy: Int, slots: Int) -> String {
        lock.lock(); defer { lock.unlock() }
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        var out = "# HELP earshot_requests_total HTTP requests answered, by endpoint and status.\n# TYPE earshot_requests_total counter\n"
        for (k, v) in requests.sorted(by: { $0.key < $1.key }) {
            let p = k.split(separator: "\u{0}", omittingEmptySubsequences: false)
            out += "earshot_requests_total{endpoint=\"\(esc(String(p[0])))\",status=\"\(p[1])\"} \(v)\n"
        }
        out += "# HELP earshot_request_seconds_total Seconds spent answering requests, by endpoint.\n# TYPE earshot_request_seconds_total counter\n"
        for (k, v) in requestSeconds.sorted(by: { $0.key < $1.key }) { out += "earshot_request_seconds_total{endpoint=\"\(esc(k))\"} \(v)\n" }
        let tps = decodeSeconds > 0 ? Double(tokensGenerated) / decodeSeconds : 0
        out += """
        # HELP earshot_tokens_generated_total Tokens generated (chat completions and Qwen-Audio tasks).
        # TYPE earshot_tokens_generated_total counter
        earshot_tokens_generated_total \(tokensGenerated)
        # HELP earshot_decode_seconds_total Seconds spent generating those tokens.
        # TYPE earshot_decode_seconds_total counter
        earshot_decode_seconds_total \(decodeSeconds)
        # HELP earshot_tokens_per_second Generated tokens per decode second since start.
        # TYPE earshot_tokens_per_second gauge
        earshot_tokens_per_second \(tps)
        # HELP earshot_prompt_tokens_total Prompt tokens of chat completions.
        # TYPE earshot_prompt_tokens_total counter
        earshot_prompt_tokens_total \(promptTokens)
        # HELP earshot_prompt_tokens_reused_total Prompt tokens found in a session's KV cache (not prefilled again).
        # TYPE earshot_prompt_tokens_reused_total counter
        earshot_prompt_tokens_reused_total \(reusedPromptTokens)
        # HELP earshot_audio_seconds_total Seconds of audio received and processed.
        # TYPE earshot_audio_seconds_total counter
        earshot_audio_seconds_total \(audioSeconds)
        # HELP earshot_cancelled_total Requests cancelled (client gone or timeout).
        # TYPE earshot_cancelled_total counter
        earshot_cancelled_total \(cancelled)
        # HELP earshot_queue_depth Requests waiting for a session.
        # TYPE earshot_queue_depth gauge
        earshot_queue_depth \(queueDepth)
        # HELP earshot_sessions_busy Sessions running a request.
        # TYPE earshot_sessions_busy gauge
        earshot_sessions_busy \(busy)
        # HELP earshot_sessions Sessions (--parallel).
        # TYPE earshot_sessions gauge
        earshot_sessions \(slots)

        """
        return out
    }
}
