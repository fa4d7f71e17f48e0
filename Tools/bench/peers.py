#!/usr/bin/env python3
"""Earshot vs its peers at Qwen-Audio's shapes, measured alternately (A B A B …) in the same run.

  decode : llama-bench -p 0 -n N -t T [-d C]          vs  earshot-bench decode  --tokens N --context C
  prefill: llama-bench -p P -n 0 -t T                  vs  earshot-bench prefill --tokens P
  encoder: CTranslate2 int8 Whisper-large-v2 encode    vs  earshot-bench encoder (30 s window)
  load   : llama-bench -p 0 -n 1 --no-warmup (process wall time)  vs  earshot-bench load (map → first token)
  peak RSS of every child from wait4()

Prints one row per (workload, type, threads): peer median, Earshot median, ratio (Earshot ÷ peer for rates,
peer ÷ Earshot for seconds, so > 1 always means Earshot is faster), and each side's spread. Earshot's CPU-time
rate (robust when the machine is shared) is printed next to it. Called by peers.sh; see Benchmarks.md.

Sub-mode `ct2-encode DIR THREADS RUNS` times CTranslate2's encoder on a random [1, 80, 3000] mel (used as a
child process so each measurement has its own threads and RSS).
"""
import argparse, json, os, statistics, subprocess, sys, time


def run_rss(cmd):
    """Runs cmd with fork/exec + wait4 so the child's own peak RSS is known: (stdout, GiB)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(r)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status, ru = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed ({os.waitstatus_to_exitcode(status)}): {' '.join(cmd)}")
    return b"".join(chunks).decode(), ru.ru_maxrss * 1024 / 2**30


def earshot_results(out):
    rows = []
    for line in out.splitlines():
        if line.startswith("result "):
            rows.append(dict(kv.split("=", 1) for kv in line.split()[1:]))
    return rows


def llama_bench(bin_, gguf, threads, p, n, d):
    cmd = [bin_, "-m", gguf, "-t", str(threads), "-p", str(p), "-n", str(n), "-r", "1", "-o", "json"]
    if d:
        cmd += ["-d", str(d)]
    out, rss = run_rss(cmd)
    j = json.loads(out)
    return j[0]["avg_ts"], rss


def ct2_encode(model_dir, threads, runs):
    import numpy as np
    import ctranslate2
    m = ctranslate2.models.Whisper(model_dir, device="cpu", compute_type="int8", intra_threads=threads)
    x = ctranslate2.StorageView.from_array(np.random.default_rng(0).standard_normal((1, 80, 3000)).astype(np.float32))
    m.encode(x)  # warm-up
    secs = []
    for _ in range(runs):
        t0 = time.perf_counter(); m.encode(x); secs.append(time.perf_counter() - t0)
    print(json.dumps(secs))


def stats(v):
    return statistics.median(v), min(v), max(v)


def fmt(x):
    return f"{x:.3f}" if x < 100 else f"{x:.1f}"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "ct2-encode":
        ct2_encode(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--earshot", required=True)
    ap.add_argument("--earshot-bench", required=True)
    ap.add_argument("--llama-bench")
    ap.add_argument("--ear", action="append", default=[], help="TYPE=PATH.ear (q4, q8)")
    ap.add_argument("--gguf", action="append", default=[], help="TYPE=PATH.gguf matched to the same TYPE")
    ap.add_argument("--ct2")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=2, help="alternations (A B) per row")
    ap.add_argument("--decode-tokens", type=int, default=128)
    ap.add_argument("--context", type=int, default=0)
    ap.add_argument("--prefill-tokens", type=int, default=780)
    ap.add_argument("--workloads", default="decode,prefill,encoder,load")
    a = ap.parse_args()
    ears = dict(s.split("=", 1) for s in a.ear)
    ggufs = dict(s.split("=", 1) for s in a.gguf)
    threads = [int(t) for t in a.threads.split(",")]
    work = a.workloads.split(",")
    rows = []

    def row(workload, typ, t, peer_name, peer, ours, ours_cpu, unit, higher_better, rss_peer, rss_ours):
        pm, pmin, pmax = stats(peer) if peer else (float("nan"),) * 3
        om, omin, omax = stats(ours)
        ratio = (om / pm if higher_better else pm / om) if peer else float("nan")
        rows.append((workload, typ, t, peer_name, pm, pmin, pmax, om, omin, omax,
                     statistics.median(ours_cpu) if ours_cpu else float("nan"), unit, ratio, rss_peer, rss_ours))
        print(f"  {workload} {typ} t{t}: {peer_name} {fmt(pm)} [{fmt(pmin)}–{fmt(pmax)}]  earshot {fmt(om)} "
              f"[{fmt(omin)}–{fmt(omax)}] {unit}  ratio {ratio:.2f}", flush=True)

    for typ, ear in ears.items():
        gg = ggufs.get(typ)
        for t in threads:
            if "decode" in work:
                peer, ours, cpu, rp, ro = [], [], [], 0, 0
                for _ in range(a.rounds):
                    if gg and a.llama_bench:
                        v, rss = llama_bench(a.llama_bench, gg, t, 0, a.decode_tokens, a.context); peer.append(v); rp = max(rp, rss)
                    out, rss = run_rss([a.earshot_bench, "decode", "--model", ear, "--threads", str(t), "--runs", "1",
                                        "--tokens", str(a.decode_tokens), "--context", str(a.context)])
                    r = earshot_results(out)[0]; ours.append(float(r["median"])); cpu.append(float(r["cpu_rate"])); ro = max(ro, rss)
                row("decode", typ, t, "llama.cpp", peer, ours, cpu, "tok/s", True, rp, ro)
            if "prefill" in work:
                peer, ours, cpu, rp, ro = [], [], [], 0, 0
                for _ in range(a.rounds):
                    if gg and a.llama_bench:
                        v, rss = llama_bench(a.llama_bench, gg, t, a.prefill_tokens, 0, 0); peer.append(v); rp = max(rp, rss)
                    out, rss = run_rss([a.earshot_bench, "prefill", "--model", ear, "--threads", str(t), "--runs", "1",
                                        "--tokens", str(a.prefill_tokens)])
                    r = earshot_results(out)[0]; ours.append(float(r["median"])); cpu.append(float(r["cpu_rate"])); ro = max(ro, rss)
                row("prefill", typ, t, "llama.cpp", peer, ours, cpu, "tok/s", True, rp, ro)
        if "load" in work:
            # Map → first token with a warm page cache. llama.cpp: wall time of a llama-bench process that loads
            # the GGUF and generates one token without warm-up (so it also counts process start and its weight
            # repacking); Earshot: `earshot-bench load` (map, validate, build the model, one decode step).
            for t in threads:
                peer, ours, rp, ro = [], [], 0, 0
                for _ in range(a.rounds):
                    if gg and a.llama_bench:
                        t0 = time.perf_counter()
                        _, rss = run_rss([a.llama_bench, "-m", gg, "-t", str(t), "-p", "0", "-n", "1", "-r", "1",
                                          "--no-warmup", "-o", "json"])
                        peer.append(time.perf_counter() - t0); rp = max(rp, rss)
                    out, rss = run_rss([a.earshot_bench, "load", "--model", ear, "--threads", str(t), "--runs", "1"])
                    ours.append(float(earshot_results(out)[0]["median"])); ro = max(ro, rss)
                row("load", typ, t, "llama.cpp", peer, ours, [], "s", False, rp, ro)

    if "encoder" in work and ears:
        ear = ears.get("q8") or next(iter(ears.values()))
        for t in threads:
            peer, ours, cpu, rp, ro = [], [], [], 0, 0
            for _ in range(a.rounds):
                if a.ct2:
                    out, rss = run_rss([sys.executable, __file__, "ct2-encode", a.ct2, str(t), "1"])
                    peer += json.loads(out.strip().splitlines()[-1]); rp = max(rp, rss)
                out, rss = run_rss([a.earshot_bench, "encoder", "--model", ear, "--threads", str(t), "--runs", "1"])
                r = earshot_results(out)[0]; ours.append(float(r["median"])); cpu.append(float(r["cpu_rate"])); ro = max(ro, rss)
            row("encoder", "int8/" + ("q8" if "q8" in ears else "q4"), t, "ctranslate2", peer, ours, cpu, "s", False, rp, ro)

    print("\n| workload | type | threads | peer | peer median [min–max] | Earshot median [min–max] | Earshot CPU-time | unit "
          "| ratio (>1 = Earshot faster) | peak RSS peer / Earshot GiB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (w, typ, t, pn, pm, pmin, pmax, om, omin, omax, oc, unit, ratio, rp, ro) in rows:
        print(f"| {w} | {typ} | {t} | {pn} | {fmt(pm)} [{fmt(pmin)}–{fmt(pmax)}] | {fmt(om)} [{fmt(omin)}–{fmt(omax)}] | "
              f"{fmt(oc)} | {unit} | {ratio:.2f} | {rp:.2f} / {ro:.2f} |")


if __name__ == "__main__":
    main()
