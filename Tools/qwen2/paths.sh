# Shared paths of the Qwen2 real-weight scripts (quality.sh, speed.sh): sourced, not run. Each can be overridden.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${EARSHOT_CACHE:-$HOME/.cache/earshot}"
GGUF="${GGUF:-$CACHE/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}"   # Tools/get-qwen2.sh's download
DIR="${QUALITY_DIR:-/work/scratch/quality}"                       # converted .ear / GGUF files and logs (GBs)
LLAMA="${LLAMA_BIN:-/work/scratch/bench/llama_cpp_python-0.3.36/vendor/llama.cpp/build/bin}"   # llama.cpp tools
