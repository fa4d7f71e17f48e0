/* smoke.c: a real C program over earshot.h, compiled with the system cc and linked to the built library by
 * Tests/CABITests/CProgramTests.swift (also under AddressSanitizer). It exercises every function of the API:
 * transcribes a WAV file with a Whisper model (from the file and from its samples in memory, which must give
 * the same text), runs a two-turn greedy chat on a Qwen-Audio model, cancels a run from a second thread, and
 * checks the error paths (NULLs, bad sizes, bad path, wrong family, freed handles). It prints `key=value`
 * lines the Swift test compares with the library's own results, and exits nonzero on the first failed check.
 *
 *     smoke WHISPER.ear QWEN.ear AUDIO.wav
 */
#include "earshot.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures = 0;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "smoke.c:%d: check failed: %s: ", __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fprintf(stderr, " (last error: %s)\n", earshot_last_error());                 \
            failures++;                                                                   \
        }                                                                                 \
    } while (0)

#define EXPECT_STATUS(call, expected)                                                     \
    do {                                                                                  \
        earshot_status s_ = (call);                                                       \
        CHECK(s_ == (expected), "%s returned %s, expected %s", #call,                     \
              earshot_status_string(s_), earshot_status_string(expected));               \
    } while (0)

/* Prints a value on one line, escaping backslash and newline, so the test can read it back. */
static void print_value(const char *key, const char *value) {
    printf("%s=", key);
    for (const char *p = value; *p; p++) {
        if (*p == '\\') printf("\\\\");
        else if (*p == '\n') printf("\\n");
        else putchar(*p);
    }
    putchar('\n');
}

/* Reads a 16-bit PCM WAV file into float samples (enough for the test fixture; not a general reader). */
static float *read_wav(const char *path, size_t *count, int *rate, int *channels) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char header[12];
    if (fread(header, 1, 12, f) != 12 || memcmp(header, "RIFF", 4) || memcmp(header + 8, "WAVE", 4)) { fclose(f); return NULL; }
    float *samples = NULL;
    int bits = 0;
    for (;;) {
        unsigned char chunk[8];
        if (fread(chunk, 1, 8, f) != 8) break;
        uint32_t size = chunk[4] | chunk[5] << 8 | chunk[6] << 16 | (uint32_t)chunk[7] << 24;
        if (!memcmp(chunk, "fmt ", 4)) {
            unsigned char fmt[16];
            if (size < 16 || fread(fmt, 1, 16, f) != 16) break;
            *channels = fmt[2] | fmt[3] << 8;
            *rate = (int)(fmt[4] | fmt[5] << 8 | fmt[6] << 16 | (uint32_t)fmt[7] << 24);
            bits = fmt[14] | fmt[15] << 8;
            fseek(f, (long)size - 16, SEEK_CUR);
        } else if (!memcmp(chunk, "data", 4)) {
            if (bits != 16) break;
            size_t n = size / 2;
            int16_t *pcm = malloc(n * sizeof *pcm);
            samples = malloc(n * sizeof *samples);
            if (!pcm || !samples || fread(pcm, 2, n, f) != n) { free(pcm); free(samples); samples = NULL; break; }
            for (size_t i = 0; i < n; i++) samples[i] = pcm[i] / 32768.0f;
            free(pcm);
            *count = n;
            break;
        } else {
            fseek(f, (long)(size + (size & 1)), SEEK_CUR);
        }
    }
    fclose(f);
    return samples;
}

/* Collects streamed text; stops after `stop_after` calls when that is > 0. */
typedef struct stream_state {
    char text[65536];
    size_t length;
    int calls;
    int stop_after;
    atomic_int started;
    int sleep_ms;
} stream_state;

static int on_token(const char *text, int32_t token_id, void *user_data) {
    (void)token_id;
    stream_state *s = user_data;
    size_t n = strlen(text);
    if (s->length + n < sizeof s->text) { memcpy(s->text + s->length, text, n); s->length += n; s->text[s->length] = 0; }
    s->calls++;
    atomic_store(&s->started, 1);
    if (s->sleep_ms > 0) {
        struct timespec t = {0, s->sleep_ms * 1000000L};
        nanosleep(&t, NULL);
    }
    return s->stop_after > 0 && s->calls >= s->stop_after;
}

typedef struct cancel_job {
    earshot_session *session;
    stream_state *state;
    earshot_status status;
} cancel_job;

/* The second thread: waits for the first token, then cancels the session's job. */
static void *cancel_when_started(void *arg) {
    cancel_job *job = arg;
    while (!atomic_load(&job->state->started)) {
        struct timespec t = {0, 1000000L};
        nanosleep(&t, NULL);
    }
    job->status = earshot_session_cancel(job->session);
    return NULL;
}

static void whisper_part(const char *model_path, const char *audio_path) {
    earshot_model_options mo = {0};
    mo.threads = 1;
    earshot_model *model = NULL;
    EXPECT_STATUS(earshot_model_open(model_path, &mo, &model), EARSHOT_OK);
    if (!model) return;

    earshot_model_info info;
    EXPECT_STATUS(earshot_model_get_info(model, &info), EARSHOT_OK);
    CHECK(info.family == EARSHOT_FAMILY_WHISPER, "family %d", (int)info.family);
    CHECK(!strcmp(info.family_name, "whisper"), "family name %s", info.family_name);
    CHECK(info.sample_rate == 16000, "sample rate %d", info.sample_rate);
    CHECK(info.tasks & (1u << EARSHOT_TASK_TRANSCRIBE), "tasks %u", info.tasks);
    CHECK(!(info.tasks & (1u << EARSHOT_TASK_CAPTION)), "tasks %u", info.tasks);
    print_value("whisper.family", info.family_name);
    print_value("whisper.languages", info.languages);

    earshot_session *session = NULL;
    EXPECT_STATUS(earshot_session_create(model, &session), EARSHOT_OK);
    /* The model handle may be closed while its sessions live. */
    EXPECT_STATUS(earshot_model_close(model), EARSHOT_OK);
    EXPECT_STATUS(earshot_model_get_info(model, &info), EARSHOT_ERR_INVALID_HANDLE);
    EXPECT_STATUS(earshot_model_close(model), EARSHOT_ERR_INVALID_HANDLE);

    /* From the file, segments streamed through the callback. */
    earshot_audio file = {0};
    file.path = audio_path;
    earshot_task_options to = {0};
    to.task = EARSHOT_TASK_TRANSCRIBE;
    to.greedy = 1;   /* one pass at temperature 0 (the random model's noise would run every fallback) */
    stream_state *streamed = calloc(1, sizeof *streamed);
    earshot_result *result = NULL;
    EXPECT_STATUS(earshot_session_run(session, &file, &to, on_token, streamed, &result), EARSHOT_OK);
    if (result) {
        print_value("whisper.text", earshot_result_text(result));
        print_value("whisper.language", earshot_result_language(result));
        size_t n = earshot_result_segment_count(result);
        printf("whisper.segments=%zu\n", n);
        printf("whisper.callbacks=%d\n", streamed->calls);
        CHECK((size_t)streamed->calls == n, "%d callbacks for %zu segments", streamed->calls, n);
        for (size_t i = 0; i < n; i++) {
            earshot_segment seg;
            EXPECT_STATUS(earshot_result_segment(result, i, &seg), EARSHOT_OK);
            CHECK(seg.start >= 0 && seg.end >= seg.start && seg.text != NULL, "segment %zu", i);
        }
        earshot_segment seg;
        EXPECT_STATUS(earshot_result_segment(result, n, &seg), EARSHOT_ERR_INVALID_ARGUMENT);
        printf("whisper.duration=%.3f\n", earshot_result_duration(result));
        char *srt = NULL;
        EXPECT_STATUS(earshot_result_render(result, "srt", &srt), EARSHOT_OK);
        if (srt) print_value("whisper.srt", srt);
        earshot_string_free(srt);
        char *bad = (char *)1;
        EXPECT_STATUS(earshot_result_render(result, "docx", &bad), EARSHOT_ERR_INVALID_ARGUMENT);
        CHECK(bad == NULL, "out set to NULL on failure");
    }
    EXPECT_STATUS(earshot_result_free(result), EARSHOT_OK);
    EXPECT_STATUS(earshot_result_free(result), EARSHOT_ERR_INVALID_HANDLE);
    CHECK(earshot_result_text(result) == NULL, "text of a freed result");
    free(streamed);

    /* From the same audio's samples in memory: the same text. */
    size_t count = 0;
    int rate = 0, channels = 0;
    float *samples = read_wav(audio_path, &count, &rate, &channels);
    CHECK(samples != NULL, "cannot read %s as 16-bit WAV", audio_path);
    if (samples) {
        earshot_audio pcm = {0};
        pcm.samples = samples;
        pcm.sample_count = count;
        pcm.sample_rate = rate;
        pcm.channels = channels;
        EXPECT_STATUS(earshot_session_run(session, &pcm, &to, NULL, NULL, &result), EARSHOT_OK);
        if (result) print_value("whisper.pcm_text", earshot_result_text(result));
        earshot_result_free(result);

        /* Stereo at 8 kHz: the library down-mixes and resamples (no comparison, it must just run). */
        size_t half = count / 2;
        float *stereo = malloc(half * 2 * sizeof *stereo);
        for (size_t i = 0; i < half; i++) { stereo[2 * i] = samples[2 * i]; stereo[2 * i + 1] = samples[2 * i]; }
        earshot_audio st = {0};
        st.samples = stereo;
        st.sample_count = half * 2;
        st.sample_rate = rate / 2;
        st.channels = 2;
        EXPECT_STATUS(earshot_session_run(session, &st, &to, NULL, NULL, &result), EARSHOT_OK);
        earshot_result_free(result);

        /* Bad buffers. */
        st.sample_count = 3;   /* not whole stereo frames */
        EXPECT_STATUS(earshot_session_run(session, &st, NULL, NULL, NULL, &result), EARSHOT_ERR_INVALID_ARGUMENT);
        CHECK(result == NULL, "result on failure");
        st.sample_count = 0;
        EXPECT_STATUS(earshot_session_run(session, &st, NULL, NULL, NULL, &result), EARSHOT_ERR_INVALID_ARGUMENT);
        st.sample_count = 2; st.channels = 65;
        EXPECT_STATUS(earshot_session_run(session, &st, NULL, NULL, NULL, &result), EARSHOT_ERR_INVALID_ARGUMENT);
        st.channels = 2; st.sample_rate = -5;
        EXPECT_STATUS(earshot_session_run(session, &st, NULL, NULL, NULL, &result), EARSHOT_ERR_INVALID_ARGUMENT);
        stereo[0] = 0.0f / 0.0f;
        st.sample_count = half * 2; st.sample_rate = rate / 2;
        EXPECT_STATUS(earshot_session_run(session, &st, NULL, NULL, NULL, &result), EARSHOT_ERR_AUDIO);
        st.path = audio_path;   /* both path and samples */
        EXPECT_STATUS(earshot_session_run(session, &st, NULL, NULL, NULL, &result), EARSHOT_ERR_INVALID_ARGUMENT);
        free(stereo);
        free(samples);
    }

    /* Wrong family for a task, and for a chat turn. */
    to.task = EARSHOT_TASK_CAPTION;
    EXPECT_STATUS(earshot_session_run(session, &file, &to, NULL, NULL, &result), EARSHOT_ERR_UNSUPPORTED);
    print_value("whisper.caption_error", earshot_last_error());
    EXPECT_STATUS(earshot_session_chat(session, "hello", NULL, 0, NULL, NULL, NULL, &result), EARSHOT_ERR_UNSUPPORTED);
    to.task = (earshot_task)42;
    EXPECT_STATUS(earshot_session_run(session, &file, &to, NULL, NULL, &result), EARSHOT_ERR_INVALID_ARGUMENT);
    to.task = EARSHOT_TASK_TRANSCRIBE;
    to.language = "xx";
    EXPECT_STATUS(earshot_session_run(session, &file, &to, NULL, NULL, &result), EARSHOT_ERR_INVALID_ARGUMENT);
    to.language = NULL;

    /* A missing audio file. */
    earshot_audio missing = {0};
    missing.path = "/nonexistent/audio.wav";
    EXPECT_STATUS(earshot_session_run(session, &missing, NULL, NULL, NULL, &result), EARSHOT_ERR_AUDIO);
    CHECK(strstr(earshot_last_error(), "/nonexistent/audio.wav") != NULL, "message names the file: %s", earshot_last_error());

    EXPECT_STATUS(earshot_session_reset(session), EARSHOT_OK);
    EXPECT_STATUS(earshot_session_free(session), EARSHOT_OK);
    EXPECT_STATUS(earshot_session_free(session), EARSHOT_ERR_INVALID_HANDLE);
    EXPECT_STATUS(earshot_session_run(session, &file, NULL, NULL, NULL, &result), EARSHOT_ERR_INVALID_HANDLE);
    EXPECT_STATUS(earshot_session_reset(session), EARSHOT_ERR_INVALID_HANDLE);
    EXPECT_STATUS(earshot_session_cancel(session), EARSHOT_ERR_INVALID_HANDLE);
}

static void qwen_part(const char *model_path, const char *audio_path) {
    earshot_model *model = NULL;
    EXPECT_STATUS(earshot_model_open(model_path, NULL, &model), EARSHOT_OK);
    if (!model) return;
    earshot_model_info info;
    EXPECT_STATUS(earshot_model_get_info(model, &info), EARSHOT_OK);
    print_value("qwen.family", info.family_name);
    CHECK(info.tasks & (1u << EARSHOT_TASK_CHAT), "tasks %u", info.tasks);

    earshot_session *session = NULL;
    EXPECT_STATUS(earshot_session_create(model, &session), EARSHOT_OK);

    /* Two greedy chat turns of 16 tokens (the goldens' settings), tokens streamed. */
    earshot_audio jfk = {0};
    jfk.path = audio_path;
    earshot_task_options co = {0};
    co.greedy = 1;
    co.max_tokens = 16;
    stream_state *streamed = calloc(1, sizeof *streamed);
    earshot_result *turn = NULL;
    EXPECT_STATUS(earshot_session_chat(session, "What does the speaker say?", &jfk, 1, &co, on_token, streamed, &turn), EARSHOT_OK);
    if (turn) print_value("qwen.turn1", earshot_result_text(turn));
    printf("qwen.turn1_tokens=%d\n", streamed->calls);
    CHECK(streamed->calls >= 1, "no tokens streamed");
    earshot_result_free(turn);
    EXPECT_STATUS(earshot_session_chat(session, "Summarise it in three words.", NULL, 0, &co, NULL, NULL, &turn), EARSHOT_OK);
    if (turn) print_value("qwen.turn2", earshot_result_text(turn));
    earshot_result_free(turn);
    EXPECT_STATUS(earshot_session_chat(session, NULL, NULL, 0, &co, NULL, NULL, &turn), EARSHOT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(earshot_session_chat(session, "x", NULL, 2, &co, NULL, NULL, &turn), EARSHOT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(earshot_session_chat(session, "x", &jfk, 11, &co, NULL, NULL, &turn), EARSHOT_ERR_INVALID_ARGUMENT);

    /* A base task: greedy ASR, 20 tokens (the goldens' asr run). */
    earshot_task_options to = {0};
    to.task = EARSHOT_TASK_TRANSCRIBE;
    to.max_tokens = 20;
    EXPECT_STATUS(earshot_session_run(session, &jfk, &to, NULL, NULL, &turn), EARSHOT_OK);
    if (turn) print_value("qwen.asr", earshot_result_text(turn));
    earshot_result_free(turn);
    to.task = EARSHOT_TASK_CLASSIFY;   /* needs a variant */
    EXPECT_STATUS(earshot_session_run(session, &jfk, &to, NULL, NULL, &turn), EARSHOT_ERR_INVALID_ARGUMENT);
    to.variant = "scene";
    EXPECT_STATUS(earshot_session_run(session, &jfk, &to, NULL, NULL, &turn), EARSHOT_OK);
    earshot_result_free(turn);

    /* A callback that stops after 2 tokens. */
    memset(streamed, 0, sizeof *streamed);
    streamed->stop_after = 2;
    to.task = EARSHOT_TASK_CAPTION;
    to.variant = NULL;
    to.max_tokens = 12;
    EXPECT_STATUS(earshot_session_run(session, &jfk, &to, on_token, streamed, &turn), EARSHOT_CANCELLED);
    CHECK(turn != NULL, "partial result on cancel");
    CHECK(streamed->calls == 2, "%d calls after asking to stop at 2", streamed->calls);
    earshot_result_free(turn);

    /* Cancel from a second thread once the first token came (each token then takes 20 ms). */
    memset(streamed, 0, sizeof *streamed);
    streamed->sleep_ms = 20;
    to.task = EARSHOT_TASK_TRANSCRIBE;
    to.max_tokens = 200;
    cancel_job job = {session, streamed, EARSHOT_ERR_INTERNAL};
    pthread_t thread;
    pthread_create(&thread, NULL, cancel_when_started, &job);
    EXPECT_STATUS(earshot_session_run(session, &jfk, &to, on_token, streamed, &turn), EARSHOT_CANCELLED);
    pthread_join(thread, NULL);
    CHECK(job.status == EARSHOT_OK, "cancel returned %s", earshot_status_string(job.status));
    CHECK(streamed->calls < 200, "%d tokens despite the cancel", streamed->calls);
    printf("qwen.cancelled_after=%d\n", streamed->calls);
    earshot_result_free(turn);
    free(streamed);

    /* After a cancel the session works again. */
    to.max_tokens = 20;
    EXPECT_STATUS(earshot_session_run(session, &jfk, &to, NULL, NULL, &turn), EARSHOT_OK);
    if (turn) print_value("qwen.asr_again", earshot_result_text(turn));
    earshot_result_free(turn);

    EXPECT_STATUS(earshot_session_free(session), EARSHOT_OK);
    EXPECT_STATUS(earshot_model_close(model), EARSHOT_OK);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: smoke WHISPER.ear QWEN.ear AUDIO.wav\n");
        return 2;
    }
    CHECK(earshot_api_version() == EARSHOT_API_VERSION, "library %d, header %d", earshot_api_version(), EARSHOT_API_VERSION);
    print_value("version", earshot_version());
    CHECK(!strcmp(earshot_status_string(EARSHOT_OK), "ok"), "status string");
    CHECK(!strcmp(earshot_status_string((earshot_status)1234), "unknown status"), "unknown status string");
    earshot_string_free(NULL);

    /* Errors before any model. */
    earshot_model *model = (earshot_model *)1;
    EXPECT_STATUS(earshot_model_open("/nonexistent/model.ear", NULL, &model), EARSHOT_ERR_MODEL);
    CHECK(model == NULL, "out_model set to NULL on failure");
    CHECK(strstr(earshot_last_error(), "/nonexistent/model.ear") != NULL, "message names the file: %s", earshot_last_error());
    EXPECT_STATUS(earshot_model_open(NULL, NULL, &model), EARSHOT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(earshot_model_open(argv[1], NULL, NULL), EARSHOT_ERR_INVALID_ARGUMENT);
    earshot_model_options bad = {0};
    bad.threads = -1;
    EXPECT_STATUS(earshot_model_open(argv[1], &bad, &model), EARSHOT_ERR_INVALID_ARGUMENT);
    bad.threads = 0;
    bad.kv_precision = (earshot_kv_precision)7;
    EXPECT_STATUS(earshot_model_open(argv[1], &bad, &model), EARSHOT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(earshot_model_open(argv[3], NULL, &model), EARSHOT_ERR_MODEL);   /* a WAV is not a model */
    EXPECT_STATUS(earshot_model_close(NULL), EARSHOT_OK);
    EXPECT_STATUS(earshot_model_close((earshot_model *)0x1234), EARSHOT_ERR_INVALID_HANDLE);
    EXPECT_STATUS(earshot_session_free(NULL), EARSHOT_OK);
    EXPECT_STATUS(earshot_result_free(NULL), EARSHOT_OK);
    earshot_session *session = NULL;
    EXPECT_STATUS(earshot_session_create((earshot_model *)0x1234, &session), EARSHOT_ERR_INVALID_HANDLE);
    EXPECT_STATUS(earshot_model_get_info(NULL, NULL), EARSHOT_ERR_INVALID_ARGUMENT);

    whisper_part(argv[1], argv[3]);
    qwen_part(argv[2], argv[3]);

    printf("failures=%d\n", failures);
    return failures == 0 ? 0 : 1;
}
