#!/usr/bin/env python3
"""Writes the GGUF reader fixtures under Tests/Fixtures/gguf with the `gguf` Python package (pip install gguf):

  types.gguf            one [3 x 512] tensor per ggml type the converter reads (F32, F16, BF16, Q4_0, Q4_1, Q5_0,
                        Q5_1, Q8_0, Q4_K, Q5_K, Q6_K) plus `q8_0_m128` (a Q8_0 block holding the code -128) and
                        two vectors; metadata of every GGUF value type.
  types.<name>.f32      the values `gguf.quants.dequantize` gives for tensor <name> (little-endian f32, row-major),
                        the reference the Swift dequantizers are compared with (bit for bit).

Types with a reference quantizer in the package (F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) quantize seeded
Gaussian values; the K-quants (the package only dequantizes them) are random block bytes with finite,
positive f16 scales, which exercises every bit of their layouts. Deterministic: re-running gives the same bytes.
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "gguf")
ROWS, COLS = 3, 512


def random_blocks(rng, qtype, rows, cols):
    """Random bytes for `rows` rows of `cols` values of a K-quant, with sane f16 scales."""
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    nb = rows * cols // block
    raw = rng.integers(0, 256, size=(nb, size), dtype=np.uint8)
    d = rng.uniform(1e-3, 2e-2, size=nb).astype(np.float16).view(np.uint8).reshape(nb, 2)
    dmin = rng.uniform(1e-3, 2e-2, size=nb).astype(np.float16).view(np.uint8).reshape(nb, 2)
    if qtype in (T.Q4_K, T.Q5_K):          # f16 d, f16 dmin first
        raw[:, 0:2] = d
        raw[:, 2:4] = dmin
    elif qtype == T.Q6_K:                   # f16 d last
        raw[:, size - 2:size] = d
    return raw.reshape(rows, cols // block * size)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261201)
    w = gguf.GGUFWriter(os.path.join(OUT, "types.gguf"), arch="fixture")
    # One metadata entry of every value type (the reader must parse them all).
    w.add_uint8("fixture.u8", 200)
    w.add_int8("fixture.i8", -100)
    w.add_uint16("fixture.u16", 60000)
    w.add_int16("fixture.i16", -30000)
    w.add_uint32("fixture.u32", 4000000000)
    w.add_int32("fixture.i32", -2000000000)
    w.add_float32("fixture.f32", 0.5)
    w.add_bool("fixture.bool", True)
    w.add_string("fixture.string", "héllo")
    w.add_array("fixture.array", [1, 2, 3])
    w.add_array("fixture.strings", ["a", "bc", ""])
    w.add_uint64("fixture.u64", 1 << 40)
    w.add_int64("fixture.i64", -(1 << 40))
    w.add_float64("fixture.f64", 1e-6)

    expected = {}
    for name, qtype in [("f32", T.F32), ("f16", T.F16), ("bf16", T.BF16), ("q4_0", T.Q4_0), ("q4_1", T.Q4_1),
                        ("q5_0", T.Q5_0), ("q5_1", T.Q5_1), ("q8_0", T.Q8_0), ("q4_k", T.Q4_K), ("q5_k", T.Q5_K),
                        ("q6_k", T.Q6_K)]:
        if qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
            raw = random_blocks(rng, qtype, ROWS, COLS)
        else:
            x = rng.standard_normal((ROWS, COLS)).astype(np.float32)
            raw = x if qtype == T.F32 else quantize(x, qtype)
        values = raw if qtype == T.F32 else dequantize(raw, qtype)
        assert values.shape == (ROWS, COLS)
        if qtype == T.F32:
            w.add_tensor(name, raw)
        else:
            w.add_tensor(name, raw, raw_dtype=qtype)
        expected[name] = values.astype(np.float32)

    # A Q8_0 tensor with a -128 code: not representable in Earshot q8 (|code| <= 127), so it is re-quantized.
    x = rng.standard_normal((1, 64)).astype(np.float32)
    raw = quantize(x, T.Q8_0)
    raw[0, 2 + 5] = 0x80
    w.add_tensor("q8_0_m128", raw, raw_dtype=T.Q8_0)
    expected["q8_0_m128"] = dequantize(raw, T.Q8_0).astype(np.float32)
    # Vectors (1-D).
    v = rng.standard_normal(64).astype(np.float32)
    w.add_tensor("vec_f32", v)
    expected["vec_f32"] = v
    v16 = rng.standard_normal(96).astype(np.float16)
    w.add_tensor("vec_f16", v16)
    expected["vec_f16"] = v16.astype(np.float32)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    for name, values in expected.items():
        values.astype("<f4").tofile(os.path.join(OUT, f"types.{name}.f32"))
    print(f"wrote {OUT}/types.gguf and {len(expected)} .f32 files", file=sys.stderr)


if __name__ == "__main__":
    main()
