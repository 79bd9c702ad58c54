/* phirun's C API: load a GGUF model, tokenize, and generate with onnxruntime-genai's search
 * options, through opaque handles. Every call returns a phirun_status; when it is not PHIRUN_OK,
 * phirun_last_error() holds a readable message (per thread). No call throws or aborts, and a NULL
 * handle or pointer is an error, never a crash. Handles keep what they need alive: a model may
 * be freed while its tokenizers, parameters and generators are still in use.
 *
 * Threads: one model may be shared by generators running on several threads; a single handle
 * of any other kind is used by one thread at a time. */
#ifndef PHIRUN_PHIRUN_H
#define PHIRUN_PHIRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#ifdef PHIRUN_BUILDING_LIBRARY
#define PHIRUN_API __declspec(dllexport)
#else
#define PHIRUN_API __declspec(dllimport)
#endif
#else
#define PHIRUN_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum phirun_status {
  PHIRUN_OK = 0,
  PHIRUN_ERROR_INVALID_ARGUMENT = 1, /* NULL handle, value out of range, contradictory options */
  PHIRUN_ERROR_MODEL_FILE = 2,       /* a model file that is missing, malformed or unsupported */
  PHIRUN_ERROR_STATE = 3,            /* a call the object's state does not allow (a finished generator) */
  PHIRUN_ERROR_OUT_OF_MEMORY = 4,
  PHIRUN_ERROR_INTERNAL = 5
} phirun_status;

/* The message of the last call on this thread that failed ("" if none has). */
PHIRUN_API const char* phirun_last_error(void);
PHIRUN_API const char* phirun_status_name(phirun_status status);
/* "0.1.0 (commit abc1234)". */
PHIRUN_API const char* phirun_version(void);

typedef struct phirun_model phirun_model;
typedef struct phirun_tokenizer phirun_tokenizer;
typedef struct phirun_sequences phirun_sequences;
typedef struct phirun_stream_decoder phirun_stream_decoder;
typedef struct phirun_generator_params phirun_generator_params;
typedef struct phirun_generator phirun_generator;

/* ---- Model ---------------------------------------------------------------------------------- */

/* Loads a GGUF file. n_threads 0: one per physical core. */
PHIRUN_API phirun_status phirun_model_load(const char* path, int n_threads, phirun_model** out_model);
/* Loading options; zero-initialize, then set what you need. */
typedef struct phirun_model_options {
  int n_threads;             /* 0: one per physical core */
  uint64_t max_memory_bytes; /* 0: no limit but the machine's memory. Otherwise the weights plus a
                                KV cache of context_length tokens must fit in it, checked before
                                anything is allocated (PHIRUN_ERROR_OUT_OF_MEMORY, saying how much
                                is needed and available); every generator's KV cache is checked
                                against it too. */
  int64_t context_length;    /* the context the load check assumes; 0: min(model's, 4096) */
} phirun_model_options;
PHIRUN_API phirun_status phirun_model_load_with_options(const char* path, const phirun_model_options* options,
                                                        phirun_model** out_model);
PHIRUN_API void phirun_model_free(phirun_model* model);
PHIRUN_API phirun_status phirun_model_vocab_size(const phirun_model* model, int32_t* out_size);
PHIRUN_API phirun_status phirun_model_context_length(const phirun_model* model, int64_t* out_length);

/* ---- Tokenizer ------------------------------------------------------------------------------ */

PHIRUN_API phirun_status phirun_tokenizer_create(const phirun_model* model, phirun_tokenizer** out_tokenizer);
PHIRUN_API void phirun_tokenizer_free(phirun_tokenizer* tokenizer);
/* Encodes UTF-8 text (special-token texts become their ids) and appends it to `sequences` as
 * one more sequence. A BOS is added when the vocabulary asks for one, as Hugging Face's tokenizer
 * does by default; a prompt from phirun_tokenizer_apply_chat_template already holds whatever BOS
 * its template writes, so drop a doubled one there. */
PHIRUN_API phirun_status phirun_tokenizer_encode(const phirun_tokenizer* tokenizer, const char* text,
                                                 phirun_sequences* sequences);
/* Decodes ids to UTF-8 text (an incomplete character becomes U+FFFD); free it with
 * phirun_string_free. */
PHIRUN_API phirun_status phirun_tokenizer_decode(const phirun_tokenizer* tokenizer, const int32_t* ids, size_t count,
                                                 char** out_text);
/* Renders a conversation with the model's chat template: count messages of roles[i]
 * ("system", "user", "assistant") and contents[i]; add_generation_prompt opens the
 * assistant's turn. Free the text with phirun_string_free. */
PHIRUN_API phirun_status phirun_tokenizer_apply_chat_template(const phirun_tokenizer* tokenizer,
                                                              const char* const* roles, const char* const* contents,
                                                              size_t count, bool add_generation_prompt,
                                                              char** out_text);
PHIRUN_API void phirun_string_free(char* text);

/* ---- Token sequences ------------------------------------------------------------------------ */

PHIRUN_API phirun_status phirun_sequences_create(phirun_sequences** out_sequences);
PHIRUN_API void phirun_sequences_free(phirun_sequences* sequences);
PHIRUN_API phirun_status phirun_sequences_append(phirun_sequences* sequences, const int32_t* ids, size_t count);
PHIRUN_API phirun_status phirun_sequences_count(const phirun_sequences* sequences, size_t* out_count);
/* The ids of sequence `index`; the pointer stays valid until the sequences change or are freed. */
PHIRUN_API phirun_status phirun_sequences_get(const phirun_sequences* sequences, size_t index, const int32_t** out_ids,
                                              size_t* out_count);

/* ---- Streaming detokenizer ------------------------------------------------------------------ */

/* Turns ids, one at a time, into text that never ends in half a UTF-8 character. The stream
 * continues a prompt (a SentencePiece "\u2581the" gives " the"); control tokens give "". */
PHIRUN_API phirun_status phirun_stream_decoder_create(const phirun_tokenizer* tokenizer,
                                                      phirun_stream_decoder** out_decoder);
PHIRUN_API void phirun_stream_decoder_free(phirun_stream_decoder* decoder);
/* The text that token `id` completes (often one word, maybe ""); valid until the next call on
 * this decoder. */
PHIRUN_API phirun_status phirun_stream_decoder_decode(phirun_stream_decoder* decoder, int32_t id,
                                                      const char** out_text);
/* The end of the stream: what is still waiting (an incomplete character as U+FFFD). */
PHIRUN_API phirun_status phirun_stream_decoder_flush(phirun_stream_decoder* decoder, const char** out_text);

/* ---- Generator parameters ------------------------------------------------------------------- */

/* onnxruntime-genai's search options with its defaults, overridden by the model's generation
 * config when its file carries one. Option names: max_length, min_length, do_sample, top_k,
 * top_p, temperature, repetition_penalty, no_repeat_ngram_size, num_beams,
 * num_return_sequences, length_penalty, early_stopping, diversity_penalty, random_seed,
 * batch_size (see the README for meanings and defaults). */
PHIRUN_API phirun_status phirun_generator_params_create(const phirun_model* model,
                                                        phirun_generator_params** out_params);
PHIRUN_API void phirun_generator_params_free(phirun_generator_params* params);
PHIRUN_API phirun_status phirun_generator_params_set_search_number(phirun_generator_params* params, const char* name,
                                                                   double value);
PHIRUN_API phirun_status phirun_generator_params_set_search_bool(phirun_generator_params* params, const char* name,
                                                                 bool value);
PHIRUN_API phirun_status phirun_generator_params_get_search_number(const phirun_generator_params* params,
                                                                   const char* name, double* out_value);
/* The tokens that end a sequence, replacing the model's end-of-generation tokens (count 0: none). */
PHIRUN_API phirun_status phirun_generator_params_set_stop_token_ids(phirun_generator_params* params, const int32_t* ids,
                                                                    size_t count);
/* A sequence also ends once its generated text holds this UTF-8 string (greedy and sampling). */
PHIRUN_API phirun_status phirun_generator_params_add_stop_string(phirun_generator_params* params, const char* text);
/* "f16" (default) or "f32" (exact comparisons). */
PHIRUN_API phirun_status phirun_generator_params_set_kv_cache_type(phirun_generator_params* params, const char* type);
/* LongRoPE models (Phi-3-128k, Phi-3.5-mini, Phi-4-mini) when the sequence first passes the original
 * context: "reprefill" (default, as transformers: the cached positions, rotated with the short
 * factors, are computed again under the long ones) or "keep-cache" (they are kept as they are). */
PHIRUN_API phirun_status phirun_generator_params_set_longrope_policy(phirun_generator_params* params,
                                                                     const char* policy);

/* ---- Generator ------------------------------------------------------------------------------ */

/* Checks the parameters (contradictory options are PHIRUN_ERROR_INVALID_ARGUMENT) and reserves
 * the KV cache. */
PHIRUN_API phirun_status phirun_generator_create(const phirun_model* model, const phirun_generator_params* params,
                                                 phirun_generator** out_generator);
PHIRUN_API void phirun_generator_free(phirun_generator* generator);
/* Tokens for the prompt of a batch of one; after a finished answer, the next turn (only the new
 * tokens are computed). */
PHIRUN_API phirun_status phirun_generator_append_tokens(phirun_generator* generator, const int32_t* ids, size_t count);
/* One sequence per prompt of the batch (batch_size of them, lengths may differ). */
PHIRUN_API phirun_status phirun_generator_append_token_sequences(phirun_generator* generator,
                                                                 const phirun_sequences* sequences);
PHIRUN_API phirun_status phirun_generator_generate_next_token(phirun_generator* generator);
PHIRUN_API phirun_status phirun_generator_is_done(const phirun_generator* generator, bool* out_done);
/* The next-token scores, [rows][vocab] (one row per sequence, or per beam), computed if needed.
 * They may be changed in place before phirun_generator_generate_next_token (custom logits
 * processing); the pointer is valid until the next call on this generator. */
PHIRUN_API phirun_status phirun_generator_get_logits(phirun_generator* generator, float** out_logits, size_t* out_rows,
                                                     size_t* out_vocab);
PHIRUN_API phirun_status phirun_generator_set_logits(phirun_generator* generator, const float* logits, size_t count);
/* Keeps the first `length` tokens (batch of one, no beam search). */
PHIRUN_API phirun_status phirun_generator_rewind_to(phirun_generator* generator, size_t length);
/* batch_size x num_return_sequences. */
PHIRUN_API phirun_status phirun_generator_sequence_count(const phirun_generator* generator, size_t* out_count);
/* Prompt and generated ids of sequence `index`; valid until the next call on this generator. */
PHIRUN_API phirun_status phirun_generator_get_sequence(const phirun_generator* generator, size_t index,
                                                       const int32_t** out_ids, size_t* out_count);
/* The last id of sequence `index` (the one just generated, for streaming). */
PHIRUN_API phirun_status phirun_generator_get_last_token(const phirun_generator* generator, size_t index,
                                                         int32_t* out_id);
PHIRUN_API phirun_status phirun_generator_sequence_is_done(const phirun_generator* generator, size_t index,
                                                           bool* out_done);
/* Beam search: sum of log-probabilities / generated_length^length_penalty. */
PHIRUN_API phirun_status phirun_generator_get_sequence_score(const phirun_generator* generator, size_t index,
                                                             float* out_score);

#ifdef __cplusplus
}
#endif

#endif /* PHIRUN_PHIRUN_H */
