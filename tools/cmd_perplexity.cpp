// `phirun perplexity`: llama-perplexity's method and output on a text file, with the running value
// per chunk, the final `PPL = x +/- err`, and with --kld-base the KL divergence against a base model.
#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "runtime/perplexity.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace phirun::cli {

int perplexity_command(int argc, char** argv) {
  CLI::App app{
      "Perplexity of a model on a text, as llama-perplexity computes it (chunks of -c tokens, the second half "
      "of each scored).\n"
      "example: phirun perplexity -m model.gguf -f wiki.test.raw -c 512 --kld-base base-logits.bin",
      "phirun perplexity"};
  ModelFlags model_flags;
  std::string text_file;
  PerplexityOptions options;
  add_model_flags(app, model_flags);
  app.add_option("-f,--file", text_file, "the text to score")->required();
  app.add_option("--chunks", options.max_chunks, "score at most N chunks (default: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--kld-base", options.kld_base,
                 "log-probability file of a base model: written when absent, compared with when present "
                 "(llama-perplexity --kl-divergence-base format)");
  if (const int code = parse_subcommand(app, argc, argv); code >= 0) return code;

  std::ifstream in(text_file, std::ios::binary);
  if (!in) throw std::runtime_error(text_file + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  const std::unique_ptr<Model> model = load_model(model_flags);
  options.context = model_flags.context > 0 ? model_flags.context : 512;
  options.kv_type = session_options(model_flags).kv_type;
  options.activations = session_options(model_flags).activations;
  options.on_chunk = [](int64_t chunk, int64_t, double ppl) {
    std::printf("[%lld]%.4f,", static_cast<long long>(chunk), ppl);
    std::fflush(stdout);
  };
  std::fprintf(stderr, "phirun: perplexity of %s on %s, context %lld\n", model->file().path().c_str(),
               text_file.c_str(), static_cast<long long>(options.context));
  const PerplexityResult result = compute_perplexity(*model, text.str(), text_file, options);
  std::printf("\n");
  std::fprintf(stderr, "phirun: %lld tokens (BOS %s), %lld chunks of %lld, %lld tokens scored\n",
               static_cast<long long>(result.text_tokens), result.add_bos ? "added" : "not added",
               static_cast<long long>(result.chunks), static_cast<long long>(options.context),
               static_cast<long long>(result.scored_tokens));
  std::printf("PPL = %.4f +/- %.5f\n", result.ppl, result.ppl_error);
  if (result.wrote_base)
    std::fprintf(stderr, "phirun: wrote the base log-probabilities to %s\n", options.kld_base.c_str());
  if (result.kld) {
    const KlDivergence& kl = *result.kld;
    std::printf("PPL(base)      = %.4f +/- %.5f\n", kl.base_ppl, kl.base_ppl_error);
    std::printf("ln(PPL/base)   = %.5f +/- %.5f\n", kl.ln_ppl_ratio, kl.ln_ppl_ratio_error);
    std::printf("KLD mean       = %.6f +/- %.6f\n", kl.mean, kl.mean_error);
    std::printf("KLD median     = %.6f\n", kl.median);
    std::printf("KLD 90%%        = %.6f\n", kl.p90);
    std::printf("KLD 99%%        = %.6f\n", kl.p99);
    std::printf("KLD max        = %.6f\n", kl.max);
    std::printf("same top-1     = %.3f%% +/- %.3f%%\n", 100.0 * kl.same_top, 100.0 * kl.same_top_error);
    std::printf("mean dp        = %.4f%%\n", 100.0 * kl.delta_p_mean);
    std::printf("RMS dp         = %.4f%%\n", 100.0 * kl.delta_p_rms);
  }
  return 0;
}

}  // namespace phirun::cli
