"""earshot: Python binding of libearshot (Earshot's C API, include/earshot.h) over ctypes, no compiled extension.

    import earshot
    with earshot.Model("whisper-tiny.en.q8.ear") as model, model.session() as session:
        result = session.transcribe("speech.wav")
        print(result.text)
        for seg in result.segments:
            print(seg.start, seg.end, seg.text)
        for token in session.stream("speech.wav"):           # streamed text as it comes
            print(token, end="", flush=True)

The library is found, first match wins, at: $EARSHOT_LIBRARY (a file path); libearshot.so or libEarshotC.so
next to this package; the loader's usual paths (libearshot.so, as Tools/install.sh installs it).

Errors raise EarshotError (subclasses per status) carrying the library's message. Threads: as the C API
says: a model may be shared by sessions on any threads; one job at a time per session (use one session per
thread for parallel work); Session.cancel() may be called from any thread.
"""
from __future__ import annotations

import ctypes
import os
import queue
import threading
from array import array
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Union

__all__ = [
    "Model", "Session", "Result", "Segment", "ModelInfo", "EarshotError", "InvalidArgument", "InvalidHandle",
    "ModelError", "AudioError", "Unsupported", "GenerationError", "Cancelled", "library", "version",
]

# ---- Loading the library -------------------------------------------------------------------------------

def _load() -> ctypes.CDLL:
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = []
    env = os.environ.get("EARSHOT_LIBRARY")
    if env:
        candidates.append(env)
    candidates += [os.path.join(here, "libearshot.so"), os.path.join(here, "libEarshotC.so"), "libearshot.so"]
    errors = []
    for c in candidates:
        try:
            return ctypes.CDLL(c)
        except OSError as e:
            errors.append(f"{c}: {e}")
    raise ImportError("cannot load libearshot (set EARSHOT_LIBRARY to its path): " + "; ".join(errors))


_lib = _load()

# ---- The header's types (keep in step with earshot.h) ----------------------------------------------------

OK, INVALID_ARGUMENT, INVALID_HANDLE, MODEL, AUDIO, UNSUPPORTED, GENERATION, CANCELLED, INTERNAL = 0, 1, 2, 3, 4, 5, 6, 7, 99
TASKS = {"transcribe": 0, "translate": 1, "timestamps": 2, "caption": 3, "ask": 4, "classify": 5, "notes": 6, "chat": 7}
FAMILIES = {0: "whisper", 1: "qwen-audio", 2: "qwen-audio-chat", 3: "qwen-text", 4: "qwen2-audio"}


class _ModelOptions(ctypes.Structure):
    _fields_ = [("threads", ctypes.c_int32), ("kv_precision", ctypes.c_int)]


class _ModelInfo(ctypes.Structure):
    _fields_ = [("family", ctypes.c_int), ("family_name", ctypes.c_char_p), ("architecture", ctypes.c_char_p),
                ("quantization", ctypes.c_char_p), ("languages", ctypes.c_char_p),
                ("translation_targets", ctypes.c_char_p), ("tasks", ctypes.c_uint32),
                ("detects_language", ctypes.c_int32), ("sample_rate", ctypes.c_int32),
                ("context_length", ctypes.c_int32), ("window_seconds", ctypes.c_double),
                ("parameter_count", ctypes.c_int64)]


class _Audio(ctypes.Structure):
    _fields_ = [("path", ctypes.c_char_p), ("samples", ctypes.POINTER(ctypes.c_float)),
                ("sample_count", ctypes.c_size_t), ("sample_rate", ctypes.c_int32), ("channels", ctypes.c_int32)]


class _TaskOptions(ctypes.Structure):
    _fields_ = [("task", ctypes.c_int), ("language", ctypes.c_char_p), ("target_language", ctypes.c_char_p),
                ("question", ctypes.c_char_p), ("variant", ctypes.c_char_p), ("max_tokens", ctypes.c_int32),
                ("greedy", ctypes.c_int32), ("itn", ctypes.c_int32), ("truncate", ctypes.c_int32),
                ("beam_size", ctypes.c_int32), ("seed", ctypes.c_uint64)]


class _Segment(ctypes.Structure):
    _fields_ = [("start", ctypes.c_double), ("end", ctypes.c_double), ("text", ctypes.c_char_p)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_int32, ctypes.c_void_p)
_handle = ctypes.c_void_p
_status = ctypes.c_int


def _sig(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype, f.argtypes = restype, list(argtypes)
    return f


_sig("earshot_api_version", ctypes.c_int32)
_sig("earshot_version", ctypes.c_char_p)
_sig("earshot_last_error", ctypes.c_char_p)
_sig("earshot_status_string", ctypes.c_char_p, _status)
_sig("earshot_string_free", None, ctypes.c_void_p)
_sig("earshot_model_open", _status, ctypes.c_char_p, ctypes.POINTER(_ModelOptions), ctypes.POINTER(_handle))
_sig("earshot_model_close", _status, _handle)
_sig("earshot_model_get_info", _status, _handle, ctypes.POINTER(_ModelInfo))
_sig("earshot_session_create", _status, _handle, ctypes.POINTER(_handle))
_sig("earshot_session_free", _status, _handle)
_sig("earshot_session_reset", _status, _handle)
_sig("earshot_session_cancel", _status, _handle)
_sig("earshot_session_run", _status, _handle, ctypes.POINTER(_Audio), ctypes.POINTER(_TaskOptions), _CALLBACK,
     ctypes.c_void_p, ctypes.POINTER(_handle))
_sig("earshot_session_chat", _status, _handle, ctypes.c_char_p, ctypes.POINTER(_Audio), ctypes.c_size_t,
     ctypes.POINTER(_TaskOptions), _CALLBACK, ctypes.c_void_p, ctypes.POINTER(_handle))
_sig("earshot_result_free", _status, _handle)
_sig("earshot_result_text", ctypes.c_char_p, _handle)
_sig("earshot_result_segment_count", ctypes.c_size_t, _handle)
_sig("earshot_result_segment", _status, _handle, ctypes.c_size_t, ctypes.POINTER(_Segment))
_sig("earshot_result_language", ctypes.c_char_p, _handle)
_sig("earshot_result_duration", ctypes.c_double, _handle)
_sig("earshot_result_render", _status, _handle, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p))

HEADER_API_VERSION = 1000
if _lib.earshot_api_version() // 1000 != HEADER_API_VERSION // 1000:
    raise ImportError(f"libearshot API version {_lib.earshot_api_version()} does not match this binding's {HEADER_API_VERSION}")


def library() -> str:
    """The path of the loaded library."""
    return _lib._name


def version() -> str:
    """The library's version string."""
    return _lib.earshot_version().decode()

# ---- Errors ------------------------------------------------------------------------------------------------

class EarshotError(Exception):
    """A failed call: `status` is the C status code, the message is the library's."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class InvalidArgument(EarshotError, ValueError): pass
class InvalidHandle(EarshotError): pass
class ModelError(EarshotError): pass
class AudioError(EarshotError): pass
class Unsupported(EarshotError): pass
class GenerationError(EarshotError): pass
class Cancelled(EarshotError): pass


_ERRORS = {INVALID_ARGUMENT: InvalidArgument, INVALID_HANDLE: InvalidHandle, MODEL: ModelError, AUDIO: AudioError,
           UNSUPPORTED: Unsupported, GENERATION: GenerationError, CANCELLED: Cancelled}


def _check(status: int) -> None:
    if status != OK:
        message = _lib.earshot_last_error().decode("utf-8", "replace")
        raise _ERRORS.get(status, EarshotError)(status, message)

# ---- Values ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Result:
    """What a task or chat turn produced. `cancelled`: stopped early (the text is what came before)."""
    text: str
    segments: List[Segment]
    language: str
    duration: float
    cancelled: bool = False
    srt: str = ""
    json: str = ""


@dataclass(frozen=True)
class ModelInfo:
    family: str
    architecture: str
    quantization: str
    languages: List[str]
    translation_targets: List[str]
    tasks: List[str]
    detects_language: bool
    sample_rate: int
    context_length: int
    window_seconds: float
    parameter_count: int


def _split(b: bytes) -> List[str]:
    s = b.decode()
    return s.split(",") if s else []

# ---- Audio arguments -------------------------------------------------------------------------------------

AudioLike = Union[str, os.PathLike, Sequence[float], "array", memoryview]


class _AudioArg:
    """Holds an earshot_audio and the buffers it points into for the length of a call."""

    def __init__(self, audio, sample_rate: int = 16000, channels: int = 1):
        self.struct = _Audio()
        self._keep = None
        if isinstance(audio, (str, os.PathLike)):
            self._keep = os.fsencode(audio)
            self.struct.path = self._keep
            return
        if hasattr(audio, "astype") and hasattr(audio, "tobytes"):   # numpy, without importing it
            audio = array("f", audio.astype("float32").ravel().tobytes())
        elif isinstance(audio, memoryview):
            audio = array("f", audio.cast("B").tobytes()) if audio.format != "f" else array("f", audio.tobytes())
        elif not (isinstance(audio, array) and audio.typecode == "f"):
            audio = array("f", audio)
        n = len(audio)
        # An empty buffer still points somewhere, so the library reports the count, not a missing input.
        self._keep = audio if n > 0 else array("f", [0.0])
        address, _ = self._keep.buffer_info()
        self.struct.samples = ctypes.cast(address, ctypes.POINTER(ctypes.c_float))
        self.struct.sample_count = n
        self.struct.sample_rate = sample_rate
        self.struct.channels = channels

# ---- Model and session ---------------------------------------------------------------------------------

class _Owned:
    """A library handle freed by close(), by `with`, or when garbage-collected (Model and Session)."""
    _handle = None

    def _release(self, free) -> None:
        if self._handle is not None:
            h, self._handle = self._handle, None
            _check(free(h))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class Model(_Owned):
    """A loaded .ear model (any family). Share it between sessions and threads."""

    def __init__(self, path: Union[str, os.PathLike], threads: int = 0, kv_precision: str = "f16"):
        if kv_precision not in ("f16", "f32"):
            raise InvalidArgument(INVALID_ARGUMENT, f"kv_precision must be 'f16' or 'f32', not {kv_precision!r}")
        options = _ModelOptions(int(threads), 0 if kv_precision == "f16" else 1)
        handle = _handle()
        _check(_lib.earshot_model_open(os.fsencode(path), ctypes.byref(options), ctypes.byref(handle)))
        self._handle = handle
        info = _ModelInfo()
        _check(_lib.earshot_model_get_info(self._handle, ctypes.byref(info)))
        self.info = ModelInfo(
            family=info.family_name.decode(), architecture=info.architecture.decode(),
            quantization=info.quantization.decode(), languages=_split(info.languages),
            translation_targets=_split(info.translation_targets),
            tasks=[name for name, bit in TASKS.items() if info.tasks & (1 << bit)],
            detects_language=bool(info.detects_language), sample_rate=info.sample_rate,
            context_length=info.context_length, window_seconds=info.window_seconds,
            parameter_count=info.parameter_count)

    def session(self) -> "Session":
        """A new session (its own KV cache, audio cache and chat history)."""
        return Session(self)

    def close(self) -> None:
        """Frees the model handle (sessions made from it keep working). Idempotent."""
        self._release(_lib.earshot_model_close)


class Session(_Owned):
    """One conversation's state on a model. One job at a time; cancel() from any thread."""

    def __init__(self, model: Model):
        if model._handle is None:
            raise InvalidHandle(INVALID_HANDLE, "the model is closed")
        handle = _handle()
        _check(_lib.earshot_session_create(model._handle, ctypes.byref(handle)))
        self._handle = handle
        self.model_info = model.info

    # Tasks -------------------------------------------------------------------------------------------------

    def transcribe(self, audio: AudioLike, **options) -> Result:
        """Speech to text (every family). Options: language, max_tokens, greedy, itn, truncate, beam_size, seed,
        sample_rate and channels (for samples), on_token (a callable; return True to stop)."""
        return self.run("transcribe", audio, **options)

    def translate(self, audio: AudioLike, to: str = "en", **options) -> Result:
        return self.run("translate", audio, target_language=to, **options)

    def timestamps(self, audio: AudioLike, **options) -> Result:
        return self.run("timestamps", audio, **options)

    def caption(self, audio: AudioLike, style: str = "clotho", **options) -> Result:
        return self.run("caption", audio, variant=style, **options)

    def ask(self, audio: AudioLike, question: str, **options) -> Result:
        return self.run("ask", audio, question=question, **options)

    def classify(self, audio: AudioLike, kind: str, **options) -> Result:
        return self.run("classify", audio, variant=kind, **options)

    def notes(self, audio: AudioLike, **options) -> Result:
        return self.run("notes", audio, **options)

    def run(self, task: str, audio: AudioLike, *, sample_rate: int = 16000, channels: int = 1, on_token=None,
            **options) -> Result:
        """Runs `task` ("transcribe", "translate", "timestamps", "caption", "ask", "classify", "notes")."""
        if task not in TASKS or task == "chat":
            raise InvalidArgument(INVALID_ARGUMENT, f"unknown task {task!r}")
        opts, keep = self._options(task, options)
        arg = _AudioArg(audio, sample_rate, channels)
        callback = self._callback(on_token)
        out = _handle()
        status = _lib.earshot_session_run(self._live(), ctypes.byref(arg.struct), ctypes.byref(opts), callback, None,
                                          ctypes.byref(out))
        del keep
        return self._result(status, out)

    def chat(self, text: str, audio: Union[AudioLike, Sequence[AudioLike], None] = None, *, sample_rate: int = 16000,
             channels: int = 1, on_token=None, **options) -> Result:
        """One chat turn (Qwen-Audio models): `audio` is one audio, a list of them, or None. Options: max_tokens,
        greedy, seed."""
        if audio is None:
            audios = []
        elif isinstance(audio, (list, tuple)) and audio and isinstance(audio[0], (str, os.PathLike)):
            audios = list(audio)
        else:
            audios = [audio]
        args = [_AudioArg(a, sample_rate, channels) for a in audios]
        array_type = _Audio * max(len(args), 1)
        structs = array_type(*[a.struct for a in args])
        opts, keep = self._options("chat", options)
        callback = self._callback(on_token)
        out = _handle()
        status = _lib.earshot_session_chat(self._live(), text.encode(), structs if args else None, len(args),
                                           ctypes.byref(opts), callback, None, ctypes.byref(out))
        del keep, args
        return self._result(status, out)

    def stream(self, audio: AudioLike = None, task: str = "transcribe", *, chat: Optional[str] = None,
               **options) -> Iterator[str]:
        """Yields text as it is generated (tokens; Whisper: segments). Stopping the iteration (break, close)
        stops the generation. With chat="text", streams a chat turn about `audio` (which may be None)."""
        tokens: "queue.Queue" = queue.Queue()
        stop = threading.Event()
        done = object()
        failure = []

        def on_token(text: str) -> bool:
            tokens.put(text)
            return stop.is_set()

        def work():
            try:
                if chat is not None:
                    self.chat(chat, audio, on_token=on_token, **options)
                else:
                    self.run(task, audio, on_token=on_token, **options)
            except Cancelled:
                pass
            except BaseException as e:   # re-raised in the consumer
                failure.append(e)
            finally:
                tokens.put(done)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        try:
            while True:
                item = tokens.get()
                if item is done:
                    break
                yield item
        finally:
            stop.set()
            self.cancel()
            worker.join()
        if failure:
            raise failure[0]

    # State ------------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forgets the KV cache and the chat history."""
        _check(_lib.earshot_session_reset(self._live()))

    def cancel(self) -> None:
        """Stops the job running on this session (safe from any thread)."""
        if self._handle is not None:
            _check(_lib.earshot_session_cancel(self._handle))

    def close(self) -> None:
        """Frees the session handle. Idempotent."""
        self._release(_lib.earshot_session_free)

    # Helpers ----------------------------------------------------------------------------------------------

    def _live(self):
        if self._handle is None:
            raise InvalidHandle(INVALID_HANDLE, "the session is closed")
        return self._handle

    @staticmethod
    def _options(task: str, options: dict):
        known = {"language", "target_language", "question", "variant", "max_tokens", "greedy", "itn", "truncate",
                 "beam_size", "seed"}
        unknown = set(options) - known
        if unknown:
            raise InvalidArgument(INVALID_ARGUMENT, f"unknown option(s): {', '.join(sorted(unknown))}")
        o = _TaskOptions()
        o.task = TASKS[task]
        keep = []
        for name in ("language", "target_language", "question", "variant"):
            v = options.get(name)
            if v is not None:
                b = str(v).encode()
                keep.append(b)
                setattr(o, name, b)
        o.max_tokens = int(options.get("max_tokens", 0) or 0)
        o.greedy = int(bool(options.get("greedy", False)))
        o.itn = int(bool(options.get("itn", False)))
        o.truncate = int(bool(options.get("truncate", False)))
        o.beam_size = int(options.get("beam_size", 0) or 0)
        o.seed = int(options.get("seed", 0) or 0)
        return o, keep

    @staticmethod
    def _callback(on_token):
        if on_token is None:
            return _CALLBACK()

        def trampoline(text, token_id, _user):
            try:
                return 1 if on_token(text.decode("utf-8", "replace")) else 0
            except BaseException:
                return 1   # an exception in the callback stops the generation
        return _CALLBACK(trampoline)

    @staticmethod
    def _result(status: int, out) -> Result:
        if status not in (OK, CANCELLED):
            _check(status)
        try:
            n = _lib.earshot_result_segment_count(out)
            segments = []
            for i in range(n):
                s = _Segment()
                _check(_lib.earshot_result_segment(out, i, ctypes.byref(s)))
                segments.append(Segment(s.start, s.end, s.text.decode("utf-8", "replace")))
            rendered = {}
            for fmt in ("srt", "json"):
                p = ctypes.c_void_p()
                if _lib.earshot_result_render(out, fmt.encode(), ctypes.byref(p)) == OK:
                    rendered[fmt] = ctypes.string_at(p).decode("utf-8", "replace")
                    _lib.earshot_string_free(p)
            return Result(text=_lib.earshot_result_text(out).decode("utf-8", "replace"), segments=segments,
                          language=_lib.earshot_result_language(out).decode(),
                          duration=_lib.earshot_result_duration(out), cancelled=status == CANCELLED,
                          srt=rendered.get("srt", ""), json=rendered.get("json", ""))
        finally:
            _lib.earshot_result_free(out)
