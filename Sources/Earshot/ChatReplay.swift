// ChatReplay: a chat built from a conversation the caller holds (an HTTP client sends the whole history
// with every request). The history's audios are prepared on the given session — found in its audio cache
// by content, or read again from the samples given — so a replayed conversation prefills only what its
// KV cache does not already hold. Audios given as samples are never re-read from a file of their name.
import Foundation

/// One finished exchange given by the caller: the user's text and audios, and the answer it was given.
public struct ReplayedTurn: Sendable {
    public var text: String
    public var audios: [AudioInput]
    public var response: String

    public init(text: String, audios: [AudioInput] = [], response: String) {
        self.text = text
        self.audios = audios
        self.response = response
    }
}

extension Chat {
    /// A chat on an existing session (e.g. a server slot whose KV cache holds its last conversation).
    /// - Throws: `.unsupported` for a model that does not chat (Whisper).
    public static func on(_ session: Session, system: String = Chat.defaultSystem) throws(EarshotError) -> Chat {
        guard session.model.info.chats else { throw .unsupported(family: session.model.info.family, what: "chat") }
        guard system.count <= Chat.maxSystemCharacters else {
            throw .invalidOption(name: "system", value: "\(system.count) characters", reason: "at most \(Chat.maxSystemCharacters)")
        }
        return Chat(session: session, system: system)
    }

    /// Replaces the history with `turns` (oldest first). Each audio is prepared (its span length measured,
    /// its encoding looked up in the session's cache); the KV cache is not touched.
    public func replaceHistory(_ turns: [ReplayedTurn]) throws(EarshotError) {
        _ = try session.qwenEngine("chat")
        var history: [ChatTurn] = []
        for t in turns {
            guard t.audios.count <= QwenAudioEngine.maxAudiosPerPrompt else {
                throw .prompt(.tooManyAudios(count: t.audios.count, limit: QwenAudioEngine.maxAudiosPerPrompt))
            }
            var audios: [ChatAudio] = []
            for a in t.audios {
                let (p, _) = try session.prepareAudio(a)
                audios.append(ChatAudio(name: a.name, key: p.key, spanTokens: p.spanTokens, source: a))
            }
            history.append(ChatTurn(text: t.text, audios: audios, response: t.response))
        }
        setState(system: system, maxWindowTokens: maxWindowTokens, history: history)
    }
}
