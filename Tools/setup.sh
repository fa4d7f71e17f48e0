#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test Earshot (idempotent; needs root or sudo).
set -euo pipefail
need=()
for pkg in libsndfile1-dev libzstd-dev zlib1g-dev pkg-config gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# The Python binding's tests (Bindings/python/tests, run by CABITests) need python3 with pytest; the server's
# OpenAI-client test needs the openai package (skipped without it). pip first (the python3 on PATH may not be
# Debian's), then Debian's package.
for py in pytest openai; do
    python3 -c "import $py" >/dev/null 2>&1 || python3 -m pip install -q "$py" >/dev/null 2>&1 || true
done
python3 -m pytest --version >/dev/null 2>&1 || need+=(python3 python3-pytest)
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing ${need[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.x from swift.org)" >&2; exit 1; }
