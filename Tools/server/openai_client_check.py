#!/usr/bin/env python3
"""openai_client_check: the official `openai` Python client, unchanged, against a running earshot-server.

Usage: python3 Tools/server/openai_client_check.py --base-url http://127.0.0.1:8080/v1 [--api-key KEY] [--audio FILE]

It lists the models, then runs what the server's model serves (GET /v1/models says): a transcription
(json and verbose_json), and for Qwen-Audio models a chat completion with an input_audio part, streamed,
then a second turn that sends the whole history again. Exits 0 when every call answered in OpenAI's shapes,
1 otherwise; exit 2 when the openai package is missing (CI skips then).
"""
import argparse
import base64
import pathlib
import sys

try:
    import openai
except ImportError:
    print("openai_client_check: the openai package is not installed (pip install openai); skipped", file=sys.stderr)
    sys.exit(2)


def main() -> int:
    here = pathlib.Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    p.add_argument("--api-key", default="none")
    p.add_argument("--audio", default=str(here / "Tests/Fixtures/audio/jfk.wav"))
    p.add_argument("--max-tokens", type=int, default=24)
    a = p.parse_args()

    client = openai.OpenAI(base_url=a.base_url, api_key=a.api_key, max_retries=0, timeout=600)
    failures = 0

    def check(ok: bool, what: str) -> None:
        nonlocal failures
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures += 1

    models = client.models.list()
    model = models.data[0]
    endpoints = (getattr(model, "earshot", None) or (model.model_extra or {}).get("earshot", {})).get("endpoints", [])
    check(len(models.data) == 1, f"models.list: {model.id} serves {endpoints}")

    with open(a.audio, "rb") as f:
        t = client.audio.transcriptions.create(model=model.id, file=f)
    check(isinstance(t.text, str), f"audio.transcriptions.create: {t.text[:120]!r}")
    with open(a.audio, "rb") as f:
        v = client.audio.transcriptions.create(model=model.id, file=f, response_format="verbose_json")
    check(v.text == t.text and len(v.segments or []) >= 1, f"verbose_json: {len(v.segments or [])} segments, duration {v.duration}")

    if "/v1/chat/completions" in endpoints:
        audio = base64.b64encode(pathlib.Path(a.audio).read_bytes()).decode()
        question = "What does the speaker say?"
        user = {"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": audio, "format": "wav"}},
            {"type": "text", "text": question}]}
        stream = client.chat.completions.create(model=model.id, messages=[user], stream=True, temperature=0,
                                                max_tokens=a.max_tokens, stream_options={"include_usage": True})
        pieces, usage, finish = [], None, None
        for chunk in stream:
            if chunk.usage:
                usage = chunk.usage
            for c in chunk.choices:
                if c.delta.content:
                    pieces.append(c.delta.content)
                if c.finish_reason:
                    finish = c.finish_reason
        reply = "".join(pieces).strip()
        check(finish in ("stop", "length") and usage is not None, f"chat stream: {len(pieces)} chunks, finish {finish}, usage {usage}: {reply[:120]!r}")
        second = client.chat.completions.create(model=model.id, temperature=0, max_tokens=a.max_tokens, messages=[
            user, {"role": "assistant", "content": reply}, {"role": "user", "content": "Summarise it in three words."}])
        cached = second.usage.prompt_tokens_details.cached_tokens if second.usage.prompt_tokens_details else 0
        check(second.choices[0].message.role == "assistant" and cached > 0,
              f"chat turn 2: prompt {second.usage.prompt_tokens} tokens, {cached} cached: {second.choices[0].message.content[:120]!r}")
    try:
        client.chat.completions.create(model=model.id, messages=[])
        check(False, "empty messages refused")
    except openai.BadRequestError as e:
        check(e.status_code == 400, f"empty messages refused: 400 {e.message[:100]}")
    print(f"openai_client_check: {failures} failed (openai {openai.__version__})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
