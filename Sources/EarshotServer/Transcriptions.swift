// Transcriptions: POST /v1/audio/transcriptions and /v1/audio/translations — OpenAI's multipart form
// (file, model, language, prompt, response_format, temperature, timestamp_granularities[]) on the library's
// long-form `transcribe` (Whisper's faster-whisper algorithm, Qwen-Audio's ASR/translation task windows),
// answered in OpenAI's shapes: json, text, srt, vtt, verbose_json (segments, and words when asked).
import Earshot
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The parsed form of a transcription request.
public struct TranscriptionRequest: Sendable {
    public enum Format: String, Sendable, CaseIterable { case json, text, srt, vtt, verbose_json }
    public var file: Data
    public var model: String?
    public var language: String?
    public var prompt: String?
    public var format: Format = .json
    public var temperature: Double?
    public var words = false
    public var segments = false
    /// Extensions (whisper.cpp's server has the like): the fallback step (0: no fallback) and tokens per window.
    public var temperatureIncrement: Double?
    public var maxTokens: Int?

    /// Reads the form's fields; unknown fields are ignored, as OpenAI does, but known ones are checked.
    public static func parse(_ parts: [MultipartPart]) throws(APIError) -> TranscriptionRequest {
        func text(_ p: MultipartPart) throws(APIError) -> String {
            guard let s = p.text else { throw .badRequest("form field '\(p.name)' is not UTF-8 text", param: p.name) }
            return s.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let file = parts.first(where: { $0.name == "file" }) else {
            throw .badRequest("the form has no 'file' field (the audio to transcribe)", param: "file", code: "missing_required_parameter")
        }
        var r = TranscriptionRequest(file: file.data)
        for p in parts {
            switch p.name {
            case "model": r.model = try text(p)
            case "language":
                let l = try text(p).lowercased()
                if !l.isEmpty {
                    guard l.count <= 16, l.allSatisfy({ $0.isLetter || $0 == "-" || $0 == "_" }) else {
                        throw .badRequest("language '\(l.prefix(40))' is not a language code (e.g. en, de, zh)", param: "language")
                    }
                    r.language = l
                }
            case "prompt":
                let s = try text(p)
                guard s.count <= 4096 else { throw .badRequest("prompt is longer than 4096 characters", param: "prompt") }
                if !s.isEmpty { r.prompt = s }
            case "response_format":
                let s = try text(p)
                guard let f = Format(rawValue: s) else {
                    throw .badRequest("response_format '\(s.prefix(40))' is not one of \(Format.allCases.map(\.rawValue).joined(separator: ", "))",
                                      param: "response_format")
                }
                r.format = f
            case "temperature":
                let s = try text(p)
                guard let t = Double(s), t.isFinite, (0...1).contains(t) else {
                    throw .badRequest("temperature '\(s.prefix(40))' must be a number from 0 to 1", param: "temperature")
                }
                r.temperature = t
            case "temperature_inc":
                let s = try text(p)
                guard let t = Double(s), t.isFinite, (0...1).contains(t) else {
                    throw .badRequest("temperature_inc '\(s.prefix(40))' must be a number from 0 to 1", param: "temperature_inc")
                }
                r.temperatureIncrement = t
            case "max_tokens":
                let s = try text(p)
                guard let n = Int(s), (1...448).contains(n) else {
                    throw .badRequest("max_tokens '\(s.prefix(40))' must be a whole number from 1 to 448 (tokens per window)", param: "max_tokens")
                }
                r.maxTokens = n
            case "timestamp_granularities[]", "timestamp_granularities":
                switch try text(p) {
                case "word": r.words = true
                case "segment": r.segments = true
                case let s: throw .badRequest("timestamp_granularities '\(s.prefix(40))' must be word or segment", param: "timestamp_granularities[]")
                }
            default: break
            }
        }
        if r.words && r.format != .verbose_json {
            throw .badRequest("timestamp_granularities needs response_format verbose_json", param: "timestamp_granularities[]")
        }
        return r
    }
}

extension EarshotServer {
    func transcriptions(_ request: Request, translate: Bool) async throws -> Response {
        let endpoint = translate ? "/v1/audio/translations" : "/v1/audio/transcriptions"
        guard endpoints.contains(endpoint) else {
            throw APIError.badRequest("this \(model.info.family.displayName) model cannot translate; it serves \(endpoints.joined(separator: ", "))",
                                      param: "model", code: "unsupported")
        }
        let parts = try await multipartParts(request)
        let form = try TranscriptionRequest.parse(parts)
        let audio = try UploadedAudio.decode(form.file, param: "file", maxSeconds: configuration.maxAudioSeconds)
        metrics.audio(seconds: UploadedAudio.seconds(audio))
        let options = try transcriptionOptions(form, translate: translate)
        let transcript: Transcript = try await withSlot { slot in
            do { return try await slot.session.transcribe(audio, options: options) } catch let e as EarshotError { throw APIError.from(e) }
        }
        metrics.generation(tokens: transcript.stats.generatedTokens, decodeSeconds: transcript.stats.decodeSeconds,
                           promptTokens: 0, reused: 0)
        var response = render(transcript, form: form, task: translate ? "translate" : "transcribe")
        response.headers[HTTPField.Name("x-earshot-tokens")!] = "\(transcript.stats.generatedTokens)"
        return response
    }

    func transcriptionOptions(_ form: TranscriptionRequest, translate: Bool) throws(APIError) -> TranscriptionOptions {
        var o = TranscriptionOptions()
        o.language = form.language
        if let l = form.language, !model.info.languages.contains(l) {
            throw .badRequest("language '\(l)' is not one this \(model.info.family.displayName) model knows (\(model.info.languages.prefix(20).joined(separator: ", "))…)",
                              param: "language", code: "unsupported_language")
        }
        if translate { o.task = .translate(target: "en") }
        o.initialPrompt = form.prompt
        o.wordTimestamps = form.words
        o.maxNewTokens = form.maxTokens
        let t = form.temperature ?? 0
        if model.info.family == .whisper {
            // OpenAI's rule: start at `temperature`, fall back upwards (in steps of 0.2, or `temperature_inc`; 0: never).
            let step = form.temperatureIncrement ?? 0.2
            o.temperatures = step == 0 ? [t] : Array(stride(from: t, through: 1.0 + 1e-9, by: step))
        } else if t > 0 {
            o.sampling = SamplingParameters(temperature: Float(t), seed: 1234)
        }
        return o
    }

    func render(_ t: Transcript, form: TranscriptionRequest, task: String) -> Response {
        switch form.format {
        case .json: return json(["text": t.text])
        case .text: return Self.text(t.text + "\n", contentType: "text/plain; charset=utf-8")
        case .srt: return Self.text(TranscriptFormat.srt.render(t), contentType: "application/x-subrip; charset=utf-8")
        case .vtt: return Self.text(TranscriptFormat.vtt.render(t), contentType: "text/vtt; charset=utf-8")
        case .verbose_json:
            func r3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
            var seek = 0
            let segments: [[String: Any]] = t.segments.enumerated().map { i, s in
                if let w = t.windows.lastIndex(where: { $0.start <= s.start }) { seek = Int((t.windows[w].start * 100).rounded()) }
                return ["id": i, "seek": seek, "start": r3(s.start), "end": r3(s.end), "text": s.text, "tokens": s.tokens,
                        "temperature": s.temperature ?? 0, "avg_logprob": s.averageLogProbability ?? 0,
                        "compression_ratio": s.compressionRatio ?? 0, "no_speech_prob": s.noSpeechProbability ?? 0]
            }
            var object: [String: Any] = ["task": task, "language": Languages.name(t.language), "duration": r3(t.duration),
                                         "text": t.text]
            if form.segments || !form.words { object["segments"] = segments }
            if form.words {
                object["words"] = t.segments.flatMap { $0.words ?? [] }.map { w in
                    ["word": w.word.trimmingCharacters(in: .whitespaces), "start": r3(w.start), "end": r3(w.end)] as [String: Any]
                }
            }
            return json(object)
        }
    }
}

/// OpenAI's verbose_json names the language ("english"), not its code.
enum Languages {
    static let names: [String: String] = [
        "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian", "ko": "korean", "fr": "french",
        "ja": "japanese", "pt": "portuguese", "tr": "turkish", "pl": "polish", "ca": "catalan", "nl": "dutch", "ar": "arabic",
        "sv": "swedish", "it": "italian", "id": "indonesian", "hi": "hindi", "fi": "finnish", "vi": "vietnamese", "he": "hebrew",
        "uk": "ukrainian", "el": "greek", "ms": "malay", "cs": "czech", "ro": "romanian", "da": "danish", "hu": "hungarian",
        "ta": "tamil", "no": "norwegian", "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian",
    ]
    static func name(_ code: String?) -> String {
        guard let code else { return "unknown" }
        return names[code] ?? code
    }
}
