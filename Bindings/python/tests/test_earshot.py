"""Tests of the ctypes binding against the tiny models. Run by Tests/CABITests (swift test --filter CABITests),
which makes the models and sets EARSHOT_LIBRARY, EARSHOT_TEST_WHISPER, EARSHOT_TEST_QWEN, EARSHOT_TEST_AUDIO;
by hand: the same variables, then `python3 -m pytest Bindings/python/tests`."""
import os
import threading
import wave
from array import array

import pytest

import earshot

WHISPER = os.environ["EARSHOT_TEST_WHISPER"]
QWEN = os.environ["EARSHOT_TEST_QWEN"]
AUDIO = os.environ["EARSHOT_TEST_AUDIO"]


def samples_of(path):
    with wave.open(path) as w:
        assert w.getsampwidth() == 2
        pcm = array("h", w.readframes(w.getnframes()))
        return array("f", (v / 32768 for v in pcm)), w.getframerate(), w.getnchannels()


@pytest.fixture(scope="module")
def whisper():
    with earshot.Model(WHISPER, threads=1) as m:
        yield m


@pytest.fixture(scope="module")
def qwen():
    with earshot.Model(QWEN) as m:
        yield m


def test_version_and_library():
    assert earshot.version() == "1.0.0"
    assert os.path.exists(earshot.library())


def test_model_info(whisper, qwen):
    assert whisper.info.family == "whisper" and whisper.info.languages == ["en"]
    assert whisper.info.tasks == ["transcribe"] and whisper.info.sample_rate == 16000
    assert qwen.info.family == "qwen-audio" and "chat" in qwen.info.tasks and "zh" in qwen.info.languages


def test_transcribe_file_and_samples_agree(whisper):
    with whisper.session() as s:
        # greedy: one pass at temperature 0 (the random model's noise would run every fallback temperature)
        from_file = s.transcribe(AUDIO, greedy=True)
        samples, rate, channels = samples_of(AUDIO)
        from_samples = s.transcribe(samples, sample_rate=rate, channels=channels, greedy=True)
    assert from_file.text and from_file.text == from_samples.text
    assert len(from_file.segments) >= 1 and from_file.language == "en"
    assert from_file.segments[0].start >= 0 and from_file.srt.startswith("1\n")
    assert abs(from_file.duration - 11.0) < 0.1


def test_stereo_at_another_rate_runs(whisper):
    samples, rate, _ = samples_of(AUDIO)
    stereo = array("f")
    for v in samples[: rate * 4 : 2]:          # 4 s at half the rate, both channels the same
        stereo.extend((v, v))
    with whisper.session() as s:
        r = s.transcribe(stereo, sample_rate=rate // 2, channels=2, greedy=True)
    assert abs(r.duration - 4.0) < 0.1


def test_errors_carry_the_message(whisper):
    with pytest.raises(earshot.ModelError, match="/nonexistent.ear"):
        earshot.Model("/nonexistent.ear")
    with whisper.session() as s:
        with pytest.raises(earshot.Unsupported, match="Whisper"):
            s.caption(AUDIO)
        with pytest.raises(earshot.Unsupported):
            s.chat("hello")
        with pytest.raises(earshot.AudioError, match="missing.wav"):
            s.transcribe("/nonexistent/missing.wav")
        with pytest.raises(earshot.InvalidArgument, match="whole number"):
            s.transcribe(array("f", [0.0, 0.1, 0.2]), channels=2)
        with pytest.raises(earshot.InvalidArgument, match="sample_count is 0"):
            s.transcribe(array("f"))
        with pytest.raises(earshot.InvalidArgument, match="unknown option"):
            s.transcribe(AUDIO, colour="blue")
    s.close()
    s.close()   # idempotent
    with pytest.raises(earshot.InvalidHandle):
        s.transcribe(AUDIO)


def test_two_turn_chat_and_reset(qwen):
    with qwen.session() as s:
        tokens = []
        t1 = s.chat("What does the speaker say?", audio=AUDIO, greedy=True, max_tokens=16, on_token=tokens.append)
        t2 = s.chat("Summarise it in three words.", greedy=True, max_tokens=16)
        assert t1.text and t2.text and len(tokens) >= 1
        s.reset()
        again = s.chat("What does the speaker say?", audio=AUDIO, greedy=True, max_tokens=16)
        assert again.text == t1.text   # a reset forgets the history


def test_tasks_on_qwen(qwen):
    with qwen.session() as s:
        asr = s.transcribe(AUDIO, max_tokens=8)
        assert asr.text and asr.language == "en"
        assert s.caption(AUDIO, max_tokens=4).text is not None
        assert s.classify(AUDIO, "scene").text is not None
        with pytest.raises(earshot.InvalidArgument, match="scene, emotion or vocal"):
            s.classify(AUDIO, "colour")
        with pytest.raises(earshot.InvalidArgument):
            s.transcribe(AUDIO, language="xx")


def test_streaming_yields_the_result_text_and_stops_when_abandoned(qwen):
    with qwen.session() as s:
        full = s.transcribe(AUDIO, max_tokens=12)
        streamed = "".join(s.stream(AUDIO, max_tokens=12))
        assert streamed.strip() == full.text.strip()
        it = s.stream(AUDIO, max_tokens=200)
        first = next(it)
        it.close()                       # stops the generation
        assert isinstance(first, str)
        assert s.transcribe(AUDIO, max_tokens=12).text == full.text   # the session still works


def test_on_token_returning_true_stops(qwen):
    with qwen.session() as s:
        seen = []
        r = s.caption(AUDIO, max_tokens=12, on_token=lambda t: seen.append(t) or len(seen) >= 2)
        assert r.cancelled and len(seen) == 2


def test_cancel_from_another_thread(qwen):
    with qwen.session() as s:
        started = threading.Event()

        def slow(t):
            started.set()
            threading.Event().wait(0.02)
            return False

        def cancel():
            started.wait(30)
            s.cancel()

        t = threading.Thread(target=cancel)
        t.start()
        r = s.transcribe(AUDIO, max_tokens=200, on_token=slow)
        t.join()
        assert r.cancelled


def test_two_sessions_on_two_threads(qwen):
    with qwen.session() as s:
        expected = s.transcribe(AUDIO, max_tokens=6).text
    results = []

    def work():
        with qwen.session() as mine:
            results.append(mine.transcribe(AUDIO, max_tokens=6).text)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected, expected]


def test_the_docs_python_example_runs(capsys):
    docs = os.path.join(os.path.dirname(__file__), "..", "..", "..", "Docs", "c-api.md")
    text = open(docs, encoding="utf-8").read()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "Docs/c-api.md", "exec"), {"MODEL_PATH": WHISPER, "CHAT_MODEL_PATH": QWEN, "AUDIO_PATH": AUDIO})
    out = capsys.readouterr().out
    assert out.startswith("whisper ['transcribe'] 16000\n") and "cannot run Qwen-Audio task prompts" in out


def test_every_task_runs_on_qwen_and_whisper_refuses_what_it_cannot(qwen, whisper):
    with qwen.session() as s:
        for result in (s.translate(AUDIO, to="zh", max_tokens=4), s.timestamps(AUDIO, max_tokens=4),
                       s.ask(AUDIO, "Is there speech?", max_tokens=3), s.notes(AUDIO, max_tokens=3),
                       s.run("classify", AUDIO, variant="emotion")):
            assert isinstance(result.text, str) and not result.cancelled and result.duration > 0
        with pytest.raises(earshot.InvalidArgument, match="needs options.question"):
            s.ask(AUDIO, "")
        with pytest.raises(earshot.InvalidArgument, match="target language"):
            s.translate(AUDIO, to="xx")
    with whisper.session() as s:
        with pytest.raises(earshot.Unsupported, match="English-only"):
            s.translate(AUDIO)
