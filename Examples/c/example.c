/* example.c: the C API's example program (Docs/c-api.md, README), built against an installed libearshot:
 *
 *     Tools/install.sh --prefix "$HOME/.local"
 *     export PKG_CONFIG_PATH="$HOME/.local/lib/pkgconfig"
 *     cc Examples/c/example.c $(pkg-config --cflags --libs earshot) -o earshot-example
 *     ./earshot-example transcribe whisper-tiny.en.q8.ear jfk.wav        # text, streamed by segment
 *     ./earshot-example chat qwen-audio-chat.ear jfk.wav "What does the speaker say?" "Summarise it."
 *
 * Tests/CABITests compiles and runs it the same way on the tiny models.
 */
#include <earshot.h>

#include <stdio.h>
#include <string.h>

static int print_token(const char *text, int32_t token_id, void *user_data) {
    (void)token_id;
    (void)user_data;
    fputs(text, stderr);   /* streamed: tokens (Qwen-Audio) or whole segments (Whisper) */
    return 0;              /* nonzero would stop the generation */
}

static int fail(const char *what, earshot_status status) {
    fprintf(stderr, "%s: %s: %s\n", what, earshot_status_string(status), earshot_last_error());
    return 1;
}

int main(int argc, char **argv) {
    int chat = argc >= 5 && !strcmp(argv[1], "chat");
    if (!(argc == 4 && !strcmp(argv[1], "transcribe")) && !chat) {
        fprintf(stderr, "usage: %s transcribe MODEL AUDIO | chat MODEL AUDIO QUESTION [FOLLOW-UP…]\n", argv[0]);
        return 2;
    }
    earshot_model *model = NULL;
    earshot_status s = earshot_model_open(argv[2], NULL, &model);
    if (s != EARSHOT_OK) return fail("open", s);
    earshot_session *session = NULL;
    if ((s = earshot_session_create(model, &session)) != EARSHOT_OK) return fail("session", s);

    earshot_audio audio = {0};
    audio.path = argv[3];
    earshot_result *result = NULL;
    int status = 0;
    if (!chat) {
        s = earshot_session_run(session, &audio, NULL, print_token, NULL, &result);
        if (s != EARSHOT_OK) status = fail("transcribe", s);
        else printf("%s\n", earshot_result_text(result));
        earshot_result_free(result);
    } else {
        earshot_task_options options = {0};
        options.greedy = 1;
        options.max_tokens = 16;
        for (int turn = 4; turn < argc && status == 0; turn++) {
            /* The audio goes with the first turn; later turns reuse the session's history. */
            s = earshot_session_chat(session, argv[turn], turn == 4 ? &audio : NULL, turn == 4 ? 1 : 0, &options,
                                     print_token, NULL, &result);
            if (s != EARSHOT_OK) status = fail("chat", s);
            else printf("%s\n", earshot_result_text(result));
            earshot_result_free(result);
            result = NULL;
        }
    }
    earshot_session_free(session);
    earshot_model_close(model);
    return status;
}
