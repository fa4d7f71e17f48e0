/*
 * earshot.h: the C API of libearshot, Earshot's on-device Qwen-Audio / Whisper runtime, for embedding it
 * in-process from C, C++, Python (ctypes), or anything with a C FFI. C99. One header, one library.
 *
 *     swift build -c release --product EarshotC       # .build/release/libEarshotC.so (SwiftPM's name)
 *     Tools/install.sh --prefix /usr/local             # installs it as lib/libearshot.so, this header, earshot.pc
 *     cc app.c $(pkg-config --cflags --libs earshot)
 *
 * Usage, tasks and the Python binding: Docs/c-api.md.
 *
 * ------------------------------------------------------------------------------------------------------
 * OBJECTS AND OWNERSHIP
 *   earshot_model    a loaded .ear file (any family: Whisper, Qwen-Audio, Qwen-Audio-Chat). Open with
 *                    earshot_model_open, free with earshot_model_close.
 *   earshot_session  one conversation's state on a model (KV cache, audio cache, chat history). Create with
 *                    earshot_session_create, free with earshot_session_free. A session keeps its model's
 *                    weights alive: closing the model handle while sessions exist is allowed (the sessions
 *                    keep working; the model handle itself becomes invalid at once).
 *   earshot_result   what a task or chat turn produced (text, segments). Free with earshot_result_free.
 *   char *           strings the library returns as `char *` (not `const char *`) are the caller's, freed
 *                    with earshot_string_free. Strings returned as `const char *` belong to the object they
 *                    came from and stay valid until that object is freed.
 *   Every free/close function accepts NULL and does nothing. Handles are opaque tokens, not pointers into
 *   memory: a handle that was freed (or never existed) is refused with EARSHOT_ERR_INVALID_HANDLE, never
 *   dereferenced; freeing twice returns that error too.
 *   Memory the caller passes in (paths, sample buffers, option structs) is only read during the call.
 *
 * ERRORS
 *   Every function that can fail returns an earshot_status. EARSHOT_OK (0) is success; everything else
 *   comes with a one-line English message from earshot_last_error(), which belongs to the calling thread
 *   (thread-local) and holds the message of that thread's last failed call until its next failed call.
 *   Output parameters are set to NULL / left untouched on failure. Bad input (NULL pointers, bad sizes,
 *   unknown enum values, invalid handles, unreadable files, a task the model's family cannot do) is always
 *   an error code, never an abort.
 *
 * THREADS
 *   - Every function may be called from any thread.
 *   - A model may be shared by any number of sessions and threads. Sessions of one model take turns on it,
 *     one compute step (an encoder pass, a prefill, one decode step) at a time; each model owns its kernel
 *     threads (earshot_model_options.threads): a model opened with threads = N > 0 starts N - 1 worker
 *     threads, which end when the model is closed (threads = 0 uses one process-wide pool).
 *   - A session runs one job at a time: a second call on the same session from another thread waits for
 *     the first to finish. For parallel work use one session per thread.
 *   - earshot_session_cancel may be called from any thread while a job runs on the session; the job stops
 *     after the current token (or window) and returns EARSHOT_CANCELLED.
 *   - Token callbacks run on the thread that called the run function, synchronously.
 *   - earshot_last_error() is per thread.
 * ------------------------------------------------------------------------------------------------------
 */
#ifndef EARSHOT_H
#define EARSHOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this API. A change of MAJOR breaks source or binary compatibility; MINOR adds. */
#define EARSHOT_API_VERSION_MAJOR 1
#define EARSHOT_API_VERSION_MINOR 0
#define EARSHOT_API_VERSION (EARSHOT_API_VERSION_MAJOR * 1000 + EARSHOT_API_VERSION_MINOR)

/* Status codes. */
typedef enum earshot_status {
    EARSHOT_OK = 0,
    /* A NULL pointer, a size or count out of range, an unknown enum value, an option the model cannot
       honour (e.g. a language it does not know). */
    EARSHOT_ERR_INVALID_ARGUMENT = 1,
    /* A handle that is not a live object of the expected kind (freed, closed, or never created). */
    EARSHOT_ERR_INVALID_HANDLE = 2,
    /* The model file cannot be opened, fails validation, or holds a model this version cannot run. */
    EARSHOT_ERR_MODEL = 3,
    /* An audio file cannot be read or decoded, or a sample buffer is not usable (NaN, wrong rate). */
    EARSHOT_ERR_AUDIO = 4,
    /* The model's family cannot do what was asked (a caption or a chat turn with a Whisper model, a
       translation with an English-only Whisper model). */
    EARSHOT_ERR_UNSUPPORTED = 5,
    /* Generation failed: the prompt does not fit the context, or the model refused its input. */
    EARSHOT_ERR_GENERATION = 6,
    /* The job was stopped by earshot_session_cancel or by a token callback returning nonzero. The run
       functions still return the partial result through their `out` parameter (free it). */
    EARSHOT_CANCELLED = 7,
    /* Anything else (a bug: please report the message). */
    EARSHOT_ERR_INTERNAL = 99
} earshot_status;

/* Model families. */
typedef enum earshot_family {
    EARSHOT_FAMILY_WHISPER = 0,
    EARSHOT_FAMILY_QWEN_AUDIO = 1,
    EARSHOT_FAMILY_QWEN_AUDIO_CHAT = 2,
    EARSHOT_FAMILY_QWEN_TEXT = 3, /* a text-only Qwen/Qwen2 LLM (from GGUF): chat turns without audio */
    EARSHOT_FAMILY_QWEN2_AUDIO = 4 /* Qwen2-Audio: natural-language task prompts and the Instruct chat template */
} earshot_family;

/* Tasks. EARSHOT_TASK_CHAT is not a run task (use earshot_session_chat); it appears in the info mask. */
typedef enum earshot_task {
    EARSHOT_TASK_TRANSCRIBE = 0, /* speech to text (every family) */
    EARSHOT_TASK_TRANSLATE = 1,  /* speech translation (Qwen-Audio; multilingual Whisper, into English) */
    EARSHOT_TASK_TIMESTAMPS = 2, /* transcription with word times (Qwen-Audio) */
    EARSHOT_TASK_CAPTION = 3,    /* audio captioning; variant: "clotho" (Qwen-Audio's default), "audiocaps", "plain" (Qwen2-Audio's only one) */
    EARSHOT_TASK_ASK = 4,        /* audio question answering (Qwen-Audio); question required */
    EARSHOT_TASK_CLASSIFY = 5,   /* closed-set classification (Qwen-Audio); variant required: "scene", "emotion", "vocal" */
    EARSHOT_TASK_NOTES = 6,      /* music note analysis (Qwen-Audio) */
    EARSHOT_TASK_CHAT = 7        /* multi-turn chat (Qwen-Audio, Qwen-Audio-Chat) */
} earshot_task;

/* KV cache element type. */
typedef enum earshot_kv_precision {
    EARSHOT_KV_F16 = 0, /* default: half the memory */
    EARSHOT_KV_F32 = 1
} earshot_kv_precision;

/* How to load a model. All-zero (or passing NULL) means the defaults. */
typedef struct earshot_model_options {
    int32_t threads;                   /* kernel threads; 0: all online cores (or $EARSHOT_THREADS); < 0 is an error */
    earshot_kv_precision kv_precision; /* KV cache precision of the model's sessions */
} earshot_model_options;

/* What a model is and can do. The strings belong to the model handle (valid until earshot_model_close). */
typedef struct earshot_model_info {
    earshot_family family;
    const char *family_name;         /* "whisper", "qwen-audio", "qwen-audio-chat", "qwen-text", "qwen2-audio" */
    const char *architecture;        /* general.architecture of the file */
    const char *quantization;        /* converter recipe ("q8", "q4m", "f32", …); "" when unknown */
    const char *languages;           /* spoken languages it recognises, comma-separated ISO codes ("en,zh,…") */
    const char *translation_targets; /* languages it translates into, comma-separated; "" for none */
    uint32_t tasks;                  /* bit (1u << earshot_task) set for every task it runs */
    int32_t detects_language;        /* nonzero: detects the spoken language when none is given */
    int32_t sample_rate;             /* the rate it consumes (other rates are resampled), Hz */
    int32_t context_length;          /* positions of its language model */
    double window_seconds;           /* longest audio one model call sees (longer audio runs in windows) */
    int64_t parameter_count;
} earshot_model_info;

/* One audio input: a file (path set, samples NULL) or samples in memory (path NULL). */
typedef struct earshot_audio {
    const char *path;       /* WAV, FLAC, Ogg Vorbis/Opus, MP3; decoded, down-mixed, resampled as read */
    const float *samples;   /* interleaved float32 frames, nominally in [-1, 1] */
    size_t sample_count;    /* number of floats in `samples` (frames × channels), 1 … 2^31 */
    int32_t sample_rate;    /* Hz, 1 … 1000000; 0 means 16000 (resampled to 16 kHz when different) */
    int32_t channels;       /* interleaved channels, 1 … 64, averaged to mono; 0 means 1 */
} earshot_audio;

/* What a task should do. All-zero (or NULL) means: transcribe, the model's defaults. */
typedef struct earshot_task_options {
    earshot_task task;
    const char *language;        /* spoken language (ISO code); NULL: detected (multilingual Whisper) or "en" */
    const char *target_language; /* translate: the target; NULL: "en" */
    const char *question;        /* ask: the question (plain text: special tokens are never parsed from it) */
    const char *variant;         /* caption style or classification kind (see earshot_task) */
    int32_t max_tokens;          /* most generated tokens per window; 0: the task's default */
    int32_t greedy;              /* nonzero: greedy decoding (transcribe/translate are greedy or beam anyway) */
    int32_t itn;                 /* Qwen-Audio transcribe: inverse text normalisation */
    int32_t truncate;            /* only the first 30 s (the reference's behaviour) */
    int32_t beam_size;           /* Whisper: beam size at temperature 0; 0: 5 */
    uint64_t seed;               /* sampling seed; 0: the default (1234) */
} earshot_task_options;

/* One timed piece of a result. `text` belongs to the result. */
typedef struct earshot_segment {
    double start; /* seconds from the start of the audio */
    double end;
    const char *text;
} earshot_segment;

/* Opaque handles. */
typedef struct earshot_model earshot_model;
typedef struct earshot_session earshot_session;
typedef struct earshot_result earshot_result;

/* Streams generated text. `text` is the text this token completes (may be empty while a multi-byte
   character is split over tokens), valid only during the call; `token_id` is the model's id, or -1 when
   `text` is a whole segment (Whisper streams final segments, not tokens). Return 0 to continue, nonzero
   to stop (the run then returns EARSHOT_CANCELLED with the partial result). */
typedef int (*earshot_token_callback)(const char *text, int32_t token_id, void *user_data);

/* ---- Library ---- */

/* EARSHOT_API_VERSION of the library as built (compare with the header's to detect a mismatch). */
int32_t earshot_api_version(void);
/* The library's version string, e.g. "1.0.0". Static storage. */
const char *earshot_version(void);
/* The message of this thread's last failed call ("" when none failed yet). Valid until this thread's next
   call into the library; never NULL. */
const char *earshot_last_error(void);
/* A short name for a status ("ok", "invalid argument", …). Static storage; never NULL. */
const char *earshot_status_string(earshot_status status);
/* Frees a string the library returned as `char *`. NULL is ignored. */
void earshot_string_free(char *string);

/* ---- Models ---- */

/* Opens a .ear file. `options` may be NULL (defaults). On success *out_model is the new handle. */
earshot_status earshot_model_open(const char *path, const earshot_model_options *options, earshot_model **out_model);
/* Frees the handle (sessions made from it keep working). NULL: no-op, EARSHOT_OK. */
earshot_status earshot_model_close(earshot_model *model);
/* Fills *out_info (strings owned by the model handle). */
earshot_status earshot_model_get_info(const earshot_model *model, earshot_model_info *out_info);

/* ---- Sessions ---- */

earshot_status earshot_session_create(earshot_model *model, earshot_session **out_session);
/* Frees the session: the handle is invalid at once. A job running on it on another thread still finishes
   (cancel it first to stop it early); the session's memory goes when that call returns. */
earshot_status earshot_session_free(earshot_session *session);
/* Forgets the KV cache and the chat history (cached audio encodings are kept). */
earshot_status earshot_session_reset(earshot_session *session);
/* Stops the job running on the session now (if any) after its current token; safe from any thread. A
   cancel when nothing runs has no effect on later jobs. */
earshot_status earshot_session_cancel(earshot_session *session);

/* Runs a task on one audio: transcription/translation for every family (Whisper: faster-whisper's long-form
   algorithm; Qwen-Audio: its ASR task over ≤ 30 s windows), the other Qwen-Audio tasks over ≤ 30 s windows.
   `options` may be NULL (transcribe). `callback` may be NULL. On EARSHOT_OK or EARSHOT_CANCELLED,
   *out_result is a result to free. */
earshot_status earshot_session_run(earshot_session *session, const earshot_audio *audio,
                                   const earshot_task_options *options, earshot_token_callback callback,
                                   void *user_data, earshot_result **out_result);

/* One chat turn (Qwen-Audio models): `audios` (may be NULL when audio_count is 0, at most 10) become
   "Audio k:" references before `text`; the answer is generated with the model's chat defaults
   (`max_tokens`, `greedy`, `seed` of `options` apply when set; options may be NULL). The turn joins the
   session's history unless cancelled; turn 2 reuses turn 1's KV cache and audio encodings. */
earshot_status earshot_session_chat(earshot_session *session, const char *text, const earshot_audio *audios,
                                    size_t audio_count, const earshot_task_options *options,
                                    earshot_token_callback callback, void *user_data, earshot_result **out_result);

/* ---- Results ---- */

earshot_status earshot_result_free(earshot_result *result);
/* The whole text (a chat turn: the answer). Owned by the result; NULL for an invalid handle. */
const char *earshot_result_text(const earshot_result *result);
/* Number of timed segments (0 for a chat turn); 0 for an invalid handle. */
size_t earshot_result_segment_count(const earshot_result *result);
/* Segment `index` (0-based, < segment_count); its text is owned by the result. */
earshot_status earshot_result_segment(const earshot_result *result, size_t index, earshot_segment *out_segment);
/* The spoken language of a transcription (ISO code; "" when not known). Owned by the result. */
const char *earshot_result_language(const earshot_result *result);
/* Seconds of audio the result covers (0 for a chat turn without audio). */
double earshot_result_duration(const earshot_result *result);
/* The result rendered as "txt", "json", "srt", "vtt" or "tsv" (the CLI's formats); free with
   earshot_string_free. */
earshot_status earshot_result_render(const earshot_result *result, const char *format, char **out_text);

#ifdef __cplusplus
}
#endif

#endif /* EARSHOT_H */
