#!/usr/bin/env python3
"""load_test: a bounded load on a running earshot-server on loopback (stdlib only; it stops by itself).

Usage: python3 Tools/server/load_test.py --url http://127.0.0.1:8080 --requests 1000 --concurrency 8 \
           --kind chat|transcribe [--audio FILE] [--pid SERVER_PID]

Sends exactly --requests requests (each thread its own keep-alive connection), counts every status,
and prints p50/p90/p99 latency, throughput, and with --pid the server's RSS before and after.
Exit 1 when any request failed or was lost.
"""
import argparse
import http.client
import json
import pathlib
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    here = pathlib.Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--kind", choices=["chat", "transcribe"], default="chat")
    p.add_argument("--audio", default=str(here / "Tests/Fixtures/audio/jfk.wav"))
    p.add_argument("--max-tokens", type=int, default=4)
    p.add_argument("--pid", type=int)
    a = p.parse_args()
    u = urllib.parse.urlparse(a.url)
    if u.hostname not in ("127.0.0.1", "localhost", "::1"):
        print("load_test: loopback addresses only", file=sys.stderr)
        return 2

    if a.kind == "chat":
        path = "/v1/chat/completions"
        body = json.dumps({"messages": [{"role": "user", "content": "Say something short."}],
                           "max_tokens": a.max_tokens, "temperature": 0}).encode()
        headers = {"Content-Type": "application/json"}
    else:
        path = "/v1/audio/transcriptions"
        boundary = uuid.uuid4().hex
        audio = pathlib.Path(a.audio).read_bytes()
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n".encode() + audio
                + f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--{boundary}--\r\n".encode())
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    local = threading.local()
    statuses, latencies, lock = {}, [], threading.Lock()

    def one(_):
        if not hasattr(local, "c"):
            local.c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=600)
        t0 = time.perf_counter()
        try:
            local.c.request("POST", path, body=body, headers=headers)
            r = local.c.getresponse()
            r.read()
            status = r.status
        except Exception as e:  # a lost request
            status = f"error:{type(e).__name__}"
            local.c.close()
            del local.c
        dt = time.perf_counter() - t0
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(dt)

    before = rss_kb(a.pid) if a.pid else None
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=a.concurrency) as ex:
        list(ex.map(one, range(a.requests)))
    wall = time.perf_counter() - t0
    after = rss_kb(a.pid) if a.pid else None
    lat = sorted(latencies)
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000
    print(f"load_test: {a.kind} {len(lat)}/{a.requests} requests at concurrency {a.concurrency} in {wall:.1f} s: "
          f"{len(lat) / wall:.1f} req/s; latency p50 {q(0.5):.1f} ms, p90 {q(0.9):.1f} ms, p99 {q(0.99):.1f} ms, "
          f"mean {statistics.mean(lat) * 1000:.1f} ms; statuses {statuses}")
    if before is not None:
        print(f"load_test: server RSS before {before / 1024:.1f} MB, after {after / 1024:.1f} MB")
    ok = statuses.get(200, 0) == a.requests
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
