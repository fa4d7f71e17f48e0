#!/usr/bin/env python3
"""Times the reference log-mel (Whisper / Qwen-Audio `log_mel_spectrogram`) on 30 s of audio.

  python3 Tools/bench/mel_ref.py AUDIO.wav RUNS THREADS   → one JSON line per implementation

Implementations: `torch` is the exact code of whisper/audio.py and Qwen-Audio audio.py (torch.stft,
filters @ |X|², log10, max − 8, (x + 4) / 4); `numpy` is the same maths with numpy's pocketfft
(float32). Filters are the Slaney 80-bin matrix (librosa formula, computed here in float64 like
librosa, equal to mel_filters.npz). The WAV is read with the standard library, cut/padded to 30 s.
Only what `earshot mel --time` also times is timed: waveform in → log-mel out.
"""
import json, sys, time, wave
import numpy as np


def slaney_filters(n_mels=80, sr=16000, n_fft=400):
    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        return np.where(f >= 1000, 15 + np.log(np.maximum(f, 1e-12) / 1000) / (np.log(6.4) / 27), f * 3 / 200)

    def mel_to_hz(m):
        return np.where(m >= 15, 1000 * np.exp((np.log(6.4) / 27) * (m - 15)), m * 200 / 3)

    fft_freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = mel_to_hz(np.linspace(0, hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    w = np.maximum(0, np.minimum(-ramps[:-2] / fdiff[:-1, None], ramps[2:] / fdiff[1:, None]))
    w *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return w.astype(np.float32)


def load_30s(path):
    with wave.open(path) as f:
        assert f.getsampwidth() == 2 and f.getnchannels() == 1 and f.getframerate() == 16000
        x = np.frombuffer(f.readframes(480000), "<i2").astype(np.float32) / 32768
    return np.pad(x, (0, max(0, 480000 - len(x))))[:480000]


def log_mel_numpy(audio, filters):
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)).astype(np.float32)
    xp = np.pad(audio, (200, 200), mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(xp, 400)[::160][:3000] * window
    spec = np.fft.rfft(frames, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    mel = filters @ power.T
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def main():
    path, runs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    audio = load_30s(path)
    filters = slaney_filters()
    results = []

    def bench(name, fn):
        fn()  # warm-up
        ms = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            ms.append((time.perf_counter() - t0) * 1000)
        ms.sort()
        results.append({"impl": name, "ms_min": ms[0], "ms_median": ms[len(ms) // 2], "runs": runs, "threads": threads})

    bench("numpy", lambda: log_mel_numpy(audio, filters))
    try:
        import torch
        torch.set_num_threads(threads)
        a, f, w = torch.from_numpy(audio), torch.from_numpy(filters), torch.hann_window(400)

        def log_mel_torch():
            stft = torch.stft(a, 400, 160, window=w, return_complex=True)
            magnitudes = stft[..., :-1].abs() ** 2
            mel_spec = f @ magnitudes
            log_spec = torch.clamp(mel_spec, min=1e-10).log10()
            log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
            return (log_spec + 4.0) / 4.0

        bench("torch " + torch.__version__, log_mel_torch)
        # Same numbers? (sanity: both references agree to float32 rounding)
        d = float(np.abs(log_mel_torch().numpy() - log_mel_numpy(audio, filters)).max())
        results.append({"check": "max |torch - numpy|", "value": d})
    except ImportError:
        results.append({"impl": "torch", "skipped": "torch is not installed (pip install torch)"})
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
