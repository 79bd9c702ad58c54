/* The C API entry points of the bad-input table (tests/bad_inputs/cases.txt), one call per run:
 *   c_api_probe ACTION MODEL [ARG...]
 * Prints "STATUS: message" (phirun_status_name, phirun_last_error) for the first call that
 * fails and exits 1, or prints "ok" and exits 0. Plain C, through the shared library. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phirun/phirun.h"

static int report(phirun_status status) {
  if (status == PHIRUN_OK) return 0;
  fprintf(stderr, "%s: %s\n", phirun_status_name(status), phirun_last_error());
  return 1;
}

#define CHECK(call)              \
  do {                           \
    if (report(call)) goto done; \
  } while (0)

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: c_api_probe load|max-memory|option|kv-cache-type|append|template|rewind MODEL [ARG...]\n");
    return 2;
  }
  const char* action = argv[1];
  const char* arg = argc > 3 ? argv[3] : "";
  int failed = 1;
  phirun_model* model = NULL;
  phirun_generator_params* params = NULL;
  phirun_generator* generator = NULL;
  phirun_tokenizer* tokenizer = NULL;
  if (strcmp(action, "max-memory") == 0) {
    phirun_model_options options;
    memset(&options, 0, sizeof options);
    options.n_threads = 1;
    options.max_memory_bytes = strtoull(arg, NULL, 10);
    CHECK(phirun_model_load_with_options(argv[2], &options, &model));
  } else {
    CHECK(phirun_model_load(argv[2], 1, &model));
  }
  CHECK(phirun_generator_params_create(model, &params));
  CHECK(phirun_tokenizer_create(model, &tokenizer));
  if (strcmp(action, "option") == 0 && argc > 4) {
    CHECK(phirun_generator_params_set_search_number(params, arg, atof(argv[4])));
  } else if (strcmp(action, "kv-cache-type") == 0) {
    CHECK(phirun_generator_params_set_kv_cache_type(params, arg));
  } else if (strcmp(action, "template") == 0) {
    const char* role = arg;
    const char* content = "hello";
    char* text = NULL;
    CHECK(phirun_tokenizer_apply_chat_template(tokenizer, &role, &content, 1, true, &text));
    phirun_string_free(text);
  }
  CHECK(phirun_generator_create(model, params, &generator));
  if (strcmp(action, "append") == 0) {
    const int32_t id = (int32_t)strtol(arg, NULL, 10);
    CHECK(phirun_generator_append_tokens(generator, &id, 1));
  } else if (strcmp(action, "rewind") == 0) {
    const int32_t id = 5;
    CHECK(phirun_generator_append_tokens(generator, &id, 1));
    CHECK(phirun_generator_rewind_to(generator, (size_t)strtoull(arg, NULL, 10)));
  } else if (strcmp(action, "next-without-prompt") == 0) {
    CHECK(phirun_generator_generate_next_token(generator));
  }
  printf("ok\n");
  failed = 0;
done:
  phirun_generator_free(generator);
  phirun_tokenizer_free(tokenizer);
  phirun_generator_params_free(params);
  phirun_model_free(model);
  return failed;
}
