// DTypeTests: dtype ids are the contract's (append-only) and byte sizes follow the brief's formulas.
import Testing
import EarshotFormat

@Test func dtypeIDsAreTheContractOnes() {
    let ids = EarDType.allCases.map { "\($0.name)=\($0.rawValue)" }
    #expect(ids == ["f32=0", "f16=1", "bf16=2", "i8=3", "u8=4", "i32=5", "i64=6", "q8=16", "q4=17"])
}

@Test func byteSizesFollowTheFormulas() {
    #expect(EarDType.f32.byteCount(shape: [3, 5]) == 60)
    #expect(EarDType.bf16.byteCount(shape: [7]) == 14)
    #expect(EarDType.i64.byteCount(shape: []) == 8)                 // scalar
    #expect(EarDType.q8.byteCount(shape: [4096, 4096]) == 4096 * (4096 + 256))
    #expect(EarDType.q8.bitsPerWeight(rowLength: 4096) == 8.5)
    #expect(EarDType.q4.byteCount(shape: [2, 4096]) == 2 * (2048 + 16 * 16))
    #expect(EarDType.q4.bitsPerWeight(rowLength: 4096) == 4.5)
    #expect(EarDType.q4.byteCount(shape: [1, 1280]) == 640 + 16 * 5) // 1280 = 5 super-blocks
    #expect(EarDType.q4.byteCount(shape: [1, 96]) == 48 + 16)        // partial super-block
    #expect(EarDType.q8.byteCount(shape: [2, 48]) == nil)            // K % 32 != 0
    #expect(EarDType.q4.byteCount(shape: []) == nil)                 // block types need rank ≥ 1
    #expect(EarDType.f32.byteCount(shape: [1 << 40, 1 << 40]) == nil) // overflow
}
