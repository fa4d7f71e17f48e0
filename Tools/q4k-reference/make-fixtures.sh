#!/usr/bin/env bash
# Makes Tests/Fixtures/kernels/q4k-*.f32: f32 test tensors and their ggml Q4_K quantize→dequantize, made by
# llama.cpp's own reference quantizer (quantize_row_q4_K_ref in ggml-quants.c, from the llama-cpp-python
# 0.3.36 source distribution: `pip download llama-cpp-python==0.3.36 --no-deps --no-binary llama-cpp-python`).
# Usage: Tools/q4k-reference/make-fixtures.sh /path/to/llama_cpp_python-0.3.36.tar.gz
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); out="$here/../../Tests/Fixtures/kernels"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
tar xzf "$1" -C "$work"; G=$(echo "$work"/llama_cpp_python-*/vendor/llama.cpp/ggml)
gcc -O2 -DGGML_COMMON_DECL_C -DGGML_COMMON_IMPL_C -I"$G/include" -I"$G/src" -c "$G/src/ggml-quants.c" -o "$work/quants.o"
gcc -O2 -I"$G/include" -I"$G/src" -DGGML_COMMON_DECL_C "$here/q4k.c" "$here/stubs.c" "$work/quants.o" -lm -o "$work/q4k"
python3 - "$out" <<'PY'
import sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(1); x = rng.standard_normal(64 * 256).astype(np.float32); x[13::97] *= 10
x.tofile(f"{out}/q4k-gauss-outliers.f32")            # Gaussian with a 10σ outlier every 97 values
rng = np.random.default_rng(2); (rng.standard_t(4, 64 * 256) * 0.02).astype(np.float32).tofile(f"{out}/q4k-student-t4.f32")
PY
for n in q4k-gauss-outliers q4k-student-t4; do "$work/q4k" "$out/$n.f32" "$out/$n.ggml-q4k.f32"; done
