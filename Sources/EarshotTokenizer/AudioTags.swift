// AudioTags: `<audio>PATH</audio>` in prompts. Finding the paths, expanding each span to
// `<audio>` + N placeholders + `</audio>` (N = the audio's token count − 2, from the audio front-end),
// and the reference's decoding of audio spans back to `<audio>URL</audio>`.

/// One piece of an id sequence split at audio spans (see `QwenTokenizer.audioSpanItems`).
enum AudioSpanItem {
    case tokens(ArraySlice<Int>)
    case audio(url: String)
}

extension QwenTokenizer {
    /// The audio paths of `text` in order of appearance (what the reference's `process_audio` loads):
    /// the text between each `<audio>` and the next `</audio>`. Throws `unclosedAudioTag` for an
    /// `<audio>` without `</audio>`, `nestedAudioTag` for `<audio>` inside a path and `unmatchedAudioEnd`
    /// for a `</audio>` that closes nothing. With `special == .none` the tags are plain text: no paths.
    public func audioPaths(in text: String, special: SpecialMode = .all) throws(TokenizerError) -> [String] {
        guard special != .none else { return [] }
        let bytes = Array(text.utf8)
        let open = Array("<audio>".utf8), close = Array("</audio>".utf8)
        var paths: [String] = []
        var position = 0
        while true {
            let start = find(open, in: bytes, from: position)
            let stray = find(close, in: bytes, from: position)
            if let stray, start == nil || stray < start! { throw TokenizerError.unmatchedAudioEnd(index: stray) }
            guard let start else { return paths }
            let pathStart = start + open.count
            guard let end = find(close, in: bytes, from: pathStart) else {
                throw TokenizerError.unclosedAudioTag(index: paths.count)
            }
            if let inner = find(open, in: bytes, from: pathStart), inner < end {
                throw TokenizerError.nestedAudioTag(index: paths.count)
            }
            paths.append(String(decoding: bytes[pathStart ..< end], as: UTF8.self))
            position = end + close.count
        }
    }

    /// Token ids of `text` with every `<audio>PATH</audio>` expanded to
    /// `[155163] + [151851] × (audioSpanTokens[i] − 2) + [155164]` (the path's tokens disappear), as the
    /// reference's `tokenizer(text, audio_info=process_audio(text))`. `audioSpanTokens[i]` is the i-th
    /// audio's span length including its two tags (encoder tokens + 2). Throws `audioCountMismatch` when
    /// the number of spans differs, and `unclosedAudioTag` / `nestedAudioTag` / `unmatchedAudioEnd` /
    /// `invalidAudioSpan` for malformed input.
    public func encode(_ text: String, special: SpecialMode = .all, audioSpanTokens: [Int]) throws(TokenizerError) -> [Int] {
        try expandAudioSpans(encode(text, special: special), audioSpanTokens: audioSpanTokens)
    }

    /// Expands the audio spans of already encoded ids (see `encode(_:special:audioSpanTokens:)`).
    public func expandAudioSpans(_ ids: [Int], audioSpanTokens: [Int]) throws(TokenizerError) -> [Int] {
        let startID = specials.audioStartID, endID = specials.audioEndID
        var out: [Int] = []
        out.reserveCapacity(ids.count + audioSpanTokens.reduce(0) { $0 + max($1, 0) })
        var audioIndex = 0
        var i = 0
        while i < ids.count {
            let id = ids[i]
            if id == endID { throw TokenizerError.unmatchedAudioEnd(index: i) }
            guard id == startID else { out.append(id); i += 1; continue }
            var close = i + 1
            while close < ids.count && ids[close] != endID {
                if ids[close] == startID { throw TokenizerError.nestedAudioTag(index: audioIndex) }
                close += 1
            }
            guard close < ids.count else { throw TokenizerError.unclosedAudioTag(index: audioIndex) }
            guard audioIndex < audioSpanTokens.count else {
                throw TokenizerError.audioCountMismatch(expected: audioSpanTokens.count, found: countSpans(ids))
            }
            let span = audioSpanTokens[audioIndex]
            guard span >= 2 else { throw TokenizerError.invalidAudioSpan(index: audioIndex, tokens: span) }
            out.append(startID)
            out.append(contentsOf: repeatElement(specials.audioPlaceholderID, count: span - 2))
            out.append(endID)
            audioIndex += 1
            i = close + 1
        }
        guard audioIndex == audioSpanTokens.count else {
            throw TokenizerError.audioCountMismatch(expected: audioSpanTokens.count, found: audioIndex)
        }
        return out
    }

    /// The reference's `_replace_closed_tag` for decoding: from each 155163 to the next 155164 (whatever
    /// lies between) is one audio, rendered with the next URL; ids outside spans pass through unchanged.
    func audioSpanItems(in ids: [Int], urls: [String]?) throws(TokenizerError) -> [AudioSpanItem] {
        var items: [AudioSpanItem] = []
        var end = 0
        var audioIndex = 0
        while let start = ids[end...].firstIndex(of: specials.audioStartID) {
            items.append(.tokens(ids[end ..< start]))
            guard let close = ids[start...].firstIndex(of: specials.audioEndID) else {
                throw TokenizerError.unclosedAudioTag(index: audioIndex)
            }
            guard let urls, audioIndex < urls.count else { throw TokenizerError.missingAudioURL(index: audioIndex) }
            let url = urls[audioIndex]
            // The reference re-encodes the URL with tiktoken's default disallowed_special="all".
            let urlBytes = Array(url.utf8)
            let hasSpecial = urlBytes.withUnsafeBufferPointer { nextSpecial(in: $0, from: 0, mode: .all) != nil }
            if hasSpecial { throw TokenizerError.specialTokenInAudioURL(url) }
            items.append(.audio(url: url))
            end = close + 1
            audioIndex += 1
        }
        items.append(.tokens(ids[end...]))
        return items
    }

    private func countSpans(_ ids: [Int]) -> Int { ids.lazy.filter { $0 == self.specials.audioStartID }.count }
}

/// First index of `needle` in `haystack` at or after `from`.
private func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
    guard needle.count <= haystack.count else { return nil }
    var i = from
    while i + needle.count <= haystack.count {
        if haystack[i] == needle[0] && haystack[i ..< i + needle.count].elementsEqual(needle) { return i }
        i += 1
    }
    return nil
}
