// AudioTasks: POST /v1/audio/tasks — the pre-trained Qwen-Audio model's task prompts (caption, classify,
// ask, timestamps, notes; transcribe and translate are the OpenAI endpoints), which OpenAI's API has no
// place for. Multipart like the transcription endpoints: `file`, `task`, `question` (ask), `max_tokens`,
// `temperature`; answers {"task", "text", "windows": [{"start", "end", "text"}], "usage"}. Long audio runs
// in ≤ 30 s windows. The question is tokenized with specials disallowed.
import Earshot
import Foundation
import HTTPTypes
import Hummingbird

extension EarshotServer {
    /// The task names the endpoint takes.
    static let audioTaskNames = ["caption", "caption_clotho", "caption_audiocaps", "caption_plain", "emotion", "scene", "vocal", "notes", "ask", "timestamps"]

    func audioTasks(_ request: Request) async throws -> Response {
        guard model.info.family != .whisper else {
            throw APIError.badRequest("this Whisper model has no audio tasks; it serves \(endpoints.joined(separator: ", "))",
                                      param: "model", code: "unsupported")
        }
        let parts = try await multipartParts(request)
        func field(_ name: String) throws(APIError) -> String? {
            guard let p = parts.first(where: { $0.name == name }) else { return nil }
            guard let s = p.text else { throw .badRequest("form field '\(name)' is not UTF-8 text", param: name) }
            return s.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let file = parts.first(where: { $0.name == "file" }) else {
            throw APIError.badRequest("the form has no 'file' field (the audio)", param: "file", code: "missing_required_parameter")
        }
        guard let name = try field("task") else {
            throw APIError.badRequest("the form has no 'task' field (\(Self.audioTaskNames.joined(separator: ", ")))", param: "task",
                                      code: "missing_required_parameter")
        }
        let language = try field("language").map { code throws(APIError) -> AudioLanguage in
            guard let l = AudioLanguage(rawValue: code) else {
                throw .badRequest("language '\(code.prefix(40))' is not one of \(AudioLanguage.allCases.map(\.rawValue).joined(separator: ", "))",
                                  param: "language", code: "unsupported_language")
            }
            return l
        } ?? .en
        let task: AudioTask
        switch name {
        case "caption": task = .caption(style: model.info.family == .qwen2Audio ? .plain : .clotho)   // each model's own default
        case "caption_clotho": task = .caption(style: .clotho)
        case "caption_audiocaps": task = .caption(style: .audiocaps)
        case "caption_plain": task = .caption(style: .plain)
        case "emotion": task = .classify(.emotion)
        case "scene": task = .classify(.scene)
        case "vocal": task = .classify(.vocal)
        case "notes": task = .notes
        case "timestamps": task = .timestamps(language: language)
        case "ask":
            guard let q = try field("question"), !q.isEmpty else {
                throw APIError.badRequest("task ask needs a 'question' field", param: "question", code: "missing_required_parameter")
            }
            guard q.count <= 4096 else { throw APIError.badRequest("question is longer than 4096 characters", param: "question") }
            task = .ask(question: q)
        default:
            throw APIError.badRequest("task '\(name.prefix(40))' is not one of \(Self.audioTaskNames.joined(separator: ", "))", param: "task")
        }
        var options: GenerationOptions?
        if let m = try field("max_tokens") {
            guard let n = Int(m), n >= 1, n <= configuration.maxTokens else {
                throw APIError.badRequest("max_tokens '\(m.prefix(40))' must be a whole number from 1 to \(configuration.maxTokens)", param: "max_tokens")
            }
            options = GenerationOptions(sampling: .greedy, maxTokens: n, stopIds: [])
        }
        if let t = try field("temperature") {
            guard let v = Double(t), v.isFinite, (0...2).contains(v) else {
                throw APIError.badRequest("temperature '\(t.prefix(40))' must be a number from 0 to 2", param: "temperature")
            }
            if options == nil { options = GenerationOptions(sampling: .greedy, maxTokens: task.defaultMaxTokens, stopIds: []) }
            if v > 0 { options!.sampling = SamplingParameters(temperature: Float(v)) }
        }
        let audio = try UploadedAudio.decode(file.data, param: "file", maxSeconds: configuration.maxAudioSeconds)
        metrics.audio(seconds: UploadedAudio.seconds(audio))
        let chosen = options
        let result: TaskResult = try await withSlot { slot in
            var opts = chosen
            if opts != nil {   // the task's own stop ids, whatever was overridden
                let d = slot.session.defaultOptions(for: task)
                opts!.stopIds = d.stopIds
                opts!.stopStrings = d.stopStrings
            }
            do { return try await slot.session.run(task, audio: audio, options: opts) } catch let e as EarshotError { throw APIError.from(e) }
        }
        let s = result.stats
        metrics.generation(tokens: s.generatedTokens, decodeSeconds: s.decodeSeconds, promptTokens: s.promptTokens, reused: s.reusedPromptTokens)
        func r3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
        var response = json([
            "task": name, "text": result.text.trimmingCharacters(in: .whitespacesAndNewlines), "duration": r3(result.duration),
            "windows": result.windows.map { w in
                ["start": r3(w.startSeconds), "end": r3(w.startSeconds + w.durationSeconds),
                 "text": w.result.text.trimmingCharacters(in: .whitespacesAndNewlines)] as [String: Any]
            },
            "usage": usage(s),
        ])
        response.headers[HTTPField.Name("x-earshot-tokens")!] = "\(s.generatedTokens)"
        return response
    }
}
