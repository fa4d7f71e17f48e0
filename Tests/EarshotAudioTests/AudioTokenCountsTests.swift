// Frame and audio-token counts: the spec's worked examples (§1.7, §9).
import EarshotAudio
import Testing

@Suite struct AudioTokenCountsTests {
    /// (samples, mel_len, L1, N, span) from the spec and the Python floor-division edge cases.
    @Test(arguments: [(16000, 100, 50, 25, 27), (93680, 585, 293, 146, 148), (480000, 3000, 1500, 750, 752),
                      (1_546_031, 3000, 1500, 750, 752), (0, 0, 0, 0, 2), (159, 0, 0, 0, 2), (160, 1, 1, 0, 2),
                      (320, 2, 1, 0, 2), (480, 3, 2, 1, 3), (64512, 403, 202, 101, 103)])
    func qwenAudio(_ c: (Int, Int, Int, Int, Int)) {
        let counts = AudioTokenCounts.qwenAudio(samples: c.0)
        #expect(counts.melLength == c.1 && counts.encoderFrames == c.2 && counts.audioTokens == c.3 && counts.span == c.4,
                "\(c.0) samples → \(counts)")
    }

    /// Qwen2-Audio rounds the valid frames up: ceil(L / 160).
    @Test func qwen2AudioRoundsUp() {
        #expect(AudioTokenCounts.qwen2Audio(samples: 16000).melLength == 100)
        #expect(AudioTokenCounts.qwen2Audio(samples: 16001).melLength == 101)
        #expect(AudioTokenCounts.qwen2Audio(samples: 159).melLength == 1)
        #expect(AudioTokenCounts.qwen2Audio(samples: 999_999).melLength == 3000)
        let c = AudioTokenCounts.qwen2Audio(samples: 93680)      // 585.5 → 586 → 293 → 146
        #expect(c.melLength == 586 && c.encoderFrames == 293 && c.audioTokens == 146)
    }
}
