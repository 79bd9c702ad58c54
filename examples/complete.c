/* Loads a model, streams a completion, prints tokens/s: phirun's C API in brief.
 *   complete MODEL.gguf "Once upon a time" [new_tokens] */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <phirun/phirun.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call) \
  if ((call) != PHIRUN_OK) return fprintf(stderr, "error: %s\n", phirun_last_error()), 1

int main(int argc, char** argv) {
  if (argc < 3) return fprintf(stderr, "usage: %s MODEL.gguf PROMPT [new_tokens]\n", argv[0]), 2;
  phirun_model* model;
  phirun_tokenizer* tokenizer;
  phirun_sequences* prompt;
  phirun_generator_params* params;
  phirun_generator* generator;
  phirun_stream_decoder* stream;
  const int32_t* ids;
  const char* text;
  size_t n_prompt, n_new = 0;
  CHECK(phirun_model_load(argv[1], 0, &model));
  CHECK(phirun_tokenizer_create(model, &tokenizer));
  CHECK(phirun_sequences_create(&prompt));
  CHECK(phirun_tokenizer_encode(tokenizer, argv[2], prompt));
  CHECK(phirun_sequences_get(prompt, 0, &ids, &n_prompt));
  CHECK(phirun_generator_params_create(model, &params));
  CHECK(phirun_generator_params_set_search_number(params, "max_length", n_prompt + (argc > 3 ? atoi(argv[3]) : 64)));
  CHECK(phirun_generator_create(model, params, &generator));
  CHECK(phirun_stream_decoder_create(tokenizer, &stream));
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  CHECK(phirun_generator_append_tokens(generator, ids, n_prompt));
  for (bool done = false;; ++n_new) {
    int32_t id;
    CHECK(phirun_generator_is_done(generator, &done));
    if (done) break;
    CHECK(phirun_generator_generate_next_token(generator));
    CHECK(phirun_generator_get_last_token(generator, 0, &id));
    CHECK(phirun_stream_decoder_decode(stream, id, &text));
    printf("%s", text);
    fflush(stdout);
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  CHECK(phirun_stream_decoder_flush(stream, &text));
  printf("%s\n", text);
  const double seconds = (double)(end.tv_sec - start.tv_sec) + 1e-9 * (double)(end.tv_nsec - start.tv_nsec);
  fprintf(stderr, "%zu tokens in %.2f s: %.1f tokens/s (prompt of %zu tokens included)\n", n_new, seconds,
          (double)n_new / seconds, n_prompt);
  phirun_stream_decoder_free(stream);
  phirun_generator_free(generator);
  phirun_generator_params_free(params);
  phirun_sequences_free(prompt);
  phirun_tokenizer_free(tokenizer);
  phirun_model_free(model);
  return 0;
}
