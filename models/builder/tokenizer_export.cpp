// Tokenizer files -> tokenizer.ggml.* metadata, following llama.cpp's converter (get_vocab_base,
// _create_vocab_sentencepiece, gguf.SpecialVocab) so that files interoperate.
#include "models/builder/tokenizer_export.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "models/builder/sentencepiece_model.h"

namespace phirun::builder {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// llama.cpp's token types.
enum TokenKind : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// llama.cpp gives SentencePiece added tokens this score, and "[PADn]" filler tokens -10000.
constexpr float kAddedTokenScore = -1000.0f;
constexpr float kPaddingScore = -10000.0f;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw std::runtime_error(path + ": " + problem);
}

std::optional<Json> read_json_file(const fs::path& path) {
  if (!fs::exists(path)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), "cannot open");
  try {
    return Json::parse(in);
  } catch (const Json::exception& error) {
    fail(path.string(), std::string("not valid JSON: ") + error.what());
  }
}

struct AddedToken {
  int64_t id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false, rstrip = false;  // the tokenizer drops white space on that side of the token
};

AddedToken added_token(int64_t id, const Json& entry) {
  auto flag = [&](const char* key) { return entry.contains(key) && entry[key].is_boolean() && entry[key].get<bool>(); };
  return {id, entry["content"].get<std::string>(), flag("special"), flag("lstrip"), flag("rstrip")};
}

std::vector<AddedToken> added_tokens_of(const Json& tokenizer_json, const std::string& path) {
  std::vector<AddedToken> added;
  const auto list = tokenizer_json.find("added_tokens");
  if (list == tokenizer_json.end() || list->is_null()) return added;
  if (!list->is_array()) fail(path, "added_tokens is not a list");
  for (const Json& entry : *list) {
    if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_number_integer() || !entry.contains("content") ||
        !entry["content"].is_string())
      fail(path, "an added_tokens entry lacks an integer id or a content string");
    const int64_t id = entry["id"].get<int64_t>();
    if (id < 0) fail(path, "added token '" + entry["content"].get<std::string>() + "' has a negative id");
    added.push_back(added_token(id, entry));
  }
  return added;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

struct Vocabulary {
  std::vector<std::string> tokens;
  std::vector<float> scores;  // SentencePiece only
  std::vector<int32_t> types;
  std::vector<std::string> merges;  // byte-level BPE only
};

void check_fits(const std::string& path, int64_t id, int64_t rows, const std::string& what) {
  if (id >= rows)
    fail(path, what + " has id " + std::to_string(id) + ", past the " + std::to_string(rows) +
                   " rows of the embedding (config.json vocab_size)");
}

// --- byte-level BPE ------------------------------------------------------------------------------

const char* const kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
const char* const kQwen2Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
const char* const kO200kPattern =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|"
    "'d)?"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'"
    "ll|'d)?"
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

bool is_byte_level(const Json& step, bool with_regex) {
  return step.is_object() && step.value("type", "") == "ByteLevel" && step.value("use_regex", true) == with_regex;
}

std::string split_pattern(const Json& step) {
  if (!step.is_object() || step.value("type", "") != "Split") return "";
  const auto pattern = step.find("pattern");
  if (pattern == step.end() || !pattern->is_object() || !pattern->contains("Regex")) return "";
  return (*pattern)["Regex"].is_string() ? (*pattern)["Regex"].get<std::string>() : "";
}

std::string detect_pre(const Json& pre) {
  if (is_byte_level(pre, true)) return "gpt2";
  if (!pre.is_object() || pre.value("type", "") != "Sequence" || !pre.contains("pretokenizers")) return "";
  const Json& steps = pre["pretokenizers"];
  if (!steps.is_array() || steps.size() != 2) return "";
  if (steps[0].value("type", "") == "Digits" && steps[0].value("individual_digits", false) &&
      is_byte_level(steps[1], true))
    return "smollm";
  if (!is_byte_level(steps[1], false)) return "";
  const std::string pattern = split_pattern(steps[0]);
  if (pattern == kLlama3Pattern) return "llama-bpe";
  if (pattern == kQwen2Pattern) return "qwen2";
  if (pattern == kO200kPattern) return "gpt-4o";
  return "";
}

// tokenizers >= 0.20 may write a merge as a pair ["a", "b"]; llama.cpp joins it with a space after
// spelling spaces inside the parts as U+0120, which byte-level vocabularies already do.
std::string merge_text(const Json& merge, const std::string& path) {
  if (merge.is_string()) {
    // Refused here as the runtime's loader would refuse the built file: two pieces, one space.
    const std::string text = merge.get<std::string>();
    const size_t space = text.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == text.size() ||
        text.find(' ', space + 1) != std::string::npos)
      fail(path, "merge '" + text + "' is not of the form \"left right\"");
    return text;
  }
  if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string())
    return replace_all(merge[0].get<std::string>(), " ", "\xc4\xa0") + " " +
           replace_all(merge[1].get<std::string>(), " ", "\xc4\xa0");
  fail(path, "a merge is neither \"a b\" nor [\"a\", \"b\"]");
}

Vocabulary byte_level_vocabulary(const Json& tokenizer, const std::string& path, int64_t rows) {
  const Json& model = tokenizer["model"];
  const auto vocab = model.find("vocab");
  if (vocab == model.end() || !vocab->is_object()) fail(path, "model.vocab is not an object of token ids");
  std::map<int64_t, std::string> by_id;
  for (const auto& [text, id] : vocab->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0) fail(path, "token '" + text + "' has no valid id");
    check_fits(path, id.get<int64_t>(), rows, "token '" + text + "'");
    by_id[id.get<int64_t>()] = text;
  }
  std::map<int64_t, AddedToken> added;
  for (AddedToken& token : added_tokens_of(tokenizer, path)) {
    check_fits(path, token.id, rows, "added token '" + token.content + "'");
    by_id[token.id] = token.content;
    added[token.id] = std::move(token);
  }
  Vocabulary out;
  for (int64_t id = 0; id < rows; ++id) {
    const auto found = by_id.find(id);
    if (found == by_id.end()) {
      out.tokens.push_back("[PAD" + std::to_string(id) + "]");
      out.types.push_back(kUnused);
      continue;
    }
    const auto extra = added.find(id);
    if (extra == added.end()) {
      out.tokens.push_back(found->second);
      out.types.push_back(kNormal);
    } else if (extra->second.special) {
      out.tokens.push_back(found->second);
      out.types.push_back(kControl);
    } else {
      out.tokens.push_back(replace_all(found->second, "\xe2\x96\x81", " "));  // user-defined spaces
      out.types.push_back(kUserDefined);
    }
  }
  const auto merges = model.find("merges");
  if (merges == model.end() || !merges->is_array()) fail(path, "model.merges is missing");
  for (const Json& merge : *merges) out.merges.push_back(merge_text(merge, path));
  return out;
}

// --- SentencePiece ------------------------------------------------------------------------------

Vocabulary padded_sentencepiece(int64_t rows) {
  Vocabulary out;
  for (int64_t id = 0; id < rows; ++id) out.tokens.push_back("[PAD" + std::to_string(id) + "]");
  out.scores.assign(size_t(rows), kPaddingScore);
  out.types.assign(size_t(rows), kUnused);
  return out;
}

Vocabulary vocabulary_from_model(const SentencePieceModel& model, const std::string& path, int64_t rows) {
  if (model.model_type != 2)
    fail(path, "SentencePiece model type " + std::to_string(model.model_type) +
                   " is not BPE: phirun writes only BPE SentencePiece vocabularies (\"llama\")");
  Vocabulary out = padded_sentencepiece(rows);
  for (size_t id = 0; id < model.pieces.size(); ++id) {
    if (int64_t(id) >= rows) break;  // llama.cpp ignores pieces past the embedding rows
    out.tokens[id] = model.pieces[id].piece;
    out.scores[id] = model.pieces[id].score;
    out.types[id] = int32_t(model.pieces[id].type);
  }
  return out;
}

// A tokenizer.json converted from SentencePiece carries no scores. SentencePiece merges the pair
// whose result scores highest; Hugging Face merges by rank. Scores that follow the id order give the
// original SentencePiece scores (-(id - first normal id)) for every piece whose first merge comes in
// id order; pieces merged out of order (runs of "▁", scored -1e9 in the original) get -1e9.
Vocabulary vocabulary_from_json(const Json& tokenizer, const std::string& path, int64_t rows) {
  const Json& model = tokenizer["model"];
  const auto vocab = model.find("vocab");
  if (vocab == model.end() || !vocab->is_object()) fail(path, "model.vocab is not an object of token ids");
  Vocabulary out = padded_sentencepiece(rows);
  std::map<std::string, int64_t> id_of;
  const std::string unk = model.value("unk_token", Json()).is_string() ? model["unk_token"].get<std::string>() : "";
  int64_t first_normal = rows;
  for (const auto& [text, id_json] : vocab->items()) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0) fail(path, "token '" + text + "' has no valid id");
    const int64_t id = id_json.get<int64_t>();
    check_fits(path, id, rows, "token '" + text + "'");
    id_of[text] = id;
    out.tokens[size_t(id)] = text;
    const bool is_byte = text.size() == 6 && text.starts_with("<0x") && text.ends_with(">");
    out.types[size_t(id)] = is_byte ? kByte : text == unk ? kUnknown : kNormal;
    out.scores[size_t(id)] = 0.0f;
  }
  for (const AddedToken& token : added_tokens_of(tokenizer, path))
    if (id_of.count(token.content) && id_of[token.content] == token.id)
      out.types[size_t(token.id)] = token.special ? kControl : kUserDefined;
  for (const auto& [text, id] : id_of)
    if (out.types[size_t(id)] == kNormal) first_normal = std::min(first_normal, id);

  std::set<int64_t> out_of_order;
  int64_t last_id = -1;
  std::set<std::string> seen;
  const auto merges = model.find("merges");
  if (merges == model.end() || !merges->is_array()) fail(path, "model.merges is missing");
  for (const Json& merge : *merges) {
    const std::string text = merge_text(merge, path);
    const size_t space = text.find(' ');
    if (space == std::string::npos) fail(path, "merge '" + text + "' has no space");
    const std::string result = text.substr(0, space) + text.substr(space + 1);
    if (!seen.insert(result).second) continue;
    const auto found = id_of.find(result);
    if (found == id_of.end()) continue;
    if (found->second > last_id) {
      last_id = found->second;
    } else {
      out_of_order.insert(found->second);
    }
  }
  for (const auto& [text, id] : id_of)
    if (out.types[size_t(id)] == kNormal)
      out.scores[size_t(id)] = out_of_order.count(id) ? -1e9f : -float(id - first_normal);
  return out;
}

// Added tokens override the SentencePiece pieces: special ones become Control, others
// UserDefined (matched in raw text, decoded verbatim, but not hidden as control tokens are), all
// scored -1000 (from tokenizer_config.json's added_tokens_decoder, then tokenizer.json's
// added_tokens, as llama.cpp's phi3 converter does).
void apply_added_tokens(Vocabulary& vocab, const std::vector<AddedToken>& added) {
  for (const AddedToken& token : added) {
    if (token.id >= int64_t(vocab.tokens.size())) continue;  // llama.cpp ignores these too
    const bool control = token.special;
    vocab.tokens[size_t(token.id)] = control ? token.content : replace_all(token.content, "\xe2\x96\x81", " ");
    vocab.types[size_t(token.id)] = control ? kControl : kUserDefined;
    vocab.scores[size_t(token.id)] = kAddedTokenScore;
  }
}

std::vector<AddedToken> added_tokens_decoder(const Json& tokenizer_config, const std::string& path) {
  std::vector<AddedToken> added;
  const auto decoder = tokenizer_config.find("added_tokens_decoder");
  if (decoder == tokenizer_config.end() || !decoder->is_object()) return added;
  for (const auto& [key, entry] : decoder->items()) {
    int64_t id = -1;
    try {
      id = std::stoll(key);
    } catch (const std::exception&) {
    }
    if (id < 0 || !entry.is_object() || !entry.contains("content") || !entry["content"].is_string())
      fail(path, "added_tokens_decoder entry '" + key + "' is malformed");
    added.push_back(added_token(id, entry));
  }
  return added;
}

// --- special tokens, template, generation config -----------------------------------------------

struct Specials {
  std::map<std::string, int64_t> ids;  // "bos" -> id
  std::map<std::string, bool> add;     // "bos" -> add_bos_token
};

std::string token_content(const Json& entry) {
  if (entry.is_string()) return entry.get<std::string>();
  if (entry.is_object() && entry.contains("content") && entry["content"].is_string())
    return entry["content"].get<std::string>();
  return "";
}

void read_post_processor(const Json& tokenizer, const std::string& bos, const std::string& eos, Specials& specials) {
  const auto post = tokenizer.find("post_processor");
  if (post == tokenizer.end() || !post->is_object()) return;
  std::vector<Json> processors;
  if (post->contains("processors") && (*post)["processors"].is_array()) {
    for (const Json& processor : (*post)["processors"]) processors.push_back(processor);
  } else {
    processors.push_back(*post);
  }
  for (const Json& processor : processors) {
    const std::string type = processor.value("type", "");
    if (type == "ByteLevel") {
      specials.add.emplace("bos", false);
      specials.add.emplace("eos", false);
    } else if (type == "TemplateProcessing" && processor.contains("single") && processor["single"].is_array()) {
      const Json& single = processor["single"];
      if (single.size() <= 1) continue;
      auto special_id = [](const Json& item) -> std::string {
        return item.contains("SpecialToken") ? item["SpecialToken"].value("id", "") : "";
      };
      const std::string first = special_id(single.front()), last = special_id(single.back());
      if (!first.empty()) specials.add["bos"] = first == bos;
      if (!last.empty()) specials.add["eos"] = last == eos;
    }
  }
}

Specials read_specials(const std::optional<Json>& tokenizer, const std::optional<Json>& tokenizer_config,
                       const HfConfig& config, int64_t rows, const std::string& tokenizer_path) {
  Specials specials;
  const Json empty = Json::object();
  const Json& settings = tokenizer_config ? *tokenizer_config : empty;
  if (tokenizer)
    read_post_processor(*tokenizer, token_content(settings.value("bos_token", Json())),
                        token_content(settings.value("eos_token", Json())), specials);
  std::vector<AddedToken> added;
  if (tokenizer) added = added_tokens_of(*tokenizer, tokenizer_path);
  for (const char* kind : {"bos", "eos", "unk", "sep", "pad", "cls", "mask"}) {
    const std::string name = kind;
    if (const auto add = settings.find("add_" + name + "_token"); add != settings.end() && add->is_boolean())
      specials.add.emplace(name, add->get<bool>());
    const std::string content = token_content(settings.value(name + "_token", Json()));
    if (content.empty()) continue;
    for (const AddedToken& token : added) {
      if (token.content != content) continue;
      if (token.id < rows) specials.ids.emplace(name, token.id);
      break;
    }
  }
  // config.json's ids fill what the tokenizer files left open.
  if (config.bos_token_id && *config.bos_token_id < rows) specials.ids.emplace("bos", *config.bos_token_id);
  if (!config.eos_token_ids.empty() && config.eos_token_ids[0] < rows)
    specials.ids.emplace("eos", config.eos_token_ids[0]);
  if (config.pad_token_id && *config.pad_token_id < rows) specials.ids.emplace("pad", *config.pad_token_id);
  return specials;
}

std::optional<std::string> chat_template(const fs::path& folder, const std::optional<Json>& tokenizer_config) {
  if (tokenizer_config) {
    const auto found = tokenizer_config->find("chat_template");
    if (found != tokenizer_config->end()) {
      if (found->is_string()) return found->get<std::string>();
      if (found->is_array())  // named templates: the default one
        for (const Json& entry : *found)
          if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template"))
            return entry["template"].get<std::string>();
    }
  }
  if (fs::exists(folder / "chat_template.jinja")) {
    std::ifstream in(folder / "chat_template.jinja", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  if (auto json = read_json_file(folder / "chat_template.json"))
    if (json->contains("chat_template") && (*json)["chat_template"].is_string())
      return (*json)["chat_template"].get<std::string>();
  return std::nullopt;
}

void add_generation_config(const fs::path& folder, int64_t rows, Metadata& metadata) {
  const fs::path path = folder / "generation_config.json";
  std::optional<Json> generation;
  try {
    generation = read_json_file(path);
  } catch (const std::runtime_error&) {
    return;  // llama.cpp ignores an unreadable generation_config.json too: it only holds defaults
  }
  if (!generation || !generation->is_object()) return;
  std::vector<int32_t> eos;
  if (const auto found = generation->find("eos_token_id"); found != generation->end()) {
    const Json ids = found->is_array() ? *found : Json::array({*found});
    for (const Json& id : ids)
      if (id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < rows)
        eos.push_back(int32_t(id.get<int64_t>()));
  }
  // Not a llama.cpp key (it finds end-of-generation tokens by their text): phirun's own, so that
  // generation stops on exactly the ids the model's authors list.
  if (!eos.empty()) metadata.emplace_back("phirun.eos_token_ids", GgufValue::of_i32s(eos));
  auto number = [&](const char* key) -> std::optional<double> {
    const auto found = generation->find(key);
    return found != generation->end() && found->is_number() ? std::optional(found->get<double>()) : std::nullopt;
  };
  if (auto top_k = number("top_k"); top_k && *top_k >= 0 && *top_k <= 1e9)
    metadata.emplace_back("general.sampling.top_k", GgufValue::of_i32(int32_t(*top_k)));
  if (auto top_p = number("top_p")) metadata.emplace_back("general.sampling.top_p", GgufValue::of_f32(float(*top_p)));
  if (auto temperature = number("temperature"))
    metadata.emplace_back("general.sampling.temp", GgufValue::of_f32(float(*temperature)));
  if (auto penalty = number("repetition_penalty"))
    metadata.emplace_back("general.sampling.penalty_repeat", GgufValue::of_f32(float(*penalty)));
  // The rest of the search defaults, under phirun's keys (runtime/generator_params.h reads them).
  const std::string prefix = "phirun.generation.";
  for (const char* key : {"max_length", "min_length", "num_beams", "num_return_sequences", "no_repeat_ngram_size"})
    if (const auto found = generation->find(key);
        found != generation->end() && found->is_number_integer() && found->get<int64_t>() >= 0)
      metadata.emplace_back(prefix + key, GgufValue::of_u64(uint64_t(found->get<int64_t>())));
  for (const char* key : {"do_sample", "early_stopping"})
    if (const auto found = generation->find(key); found != generation->end() && found->is_boolean())
      metadata.emplace_back(prefix + key, GgufValue::of_bool(found->get<bool>()));
  if (auto penalty = number("length_penalty"))
    metadata.emplace_back(prefix + "length_penalty", GgufValue::of_f32(float(*penalty)));
}

// Which added tokens swallow the white space beside them (Hugging Face's lstrip / rstrip), as
// phirun's own keys: llama.cpp guesses these from the model's name, and Phi-3 releases differ.
// Written whenever the tokenizer has added tokens (possibly empty lists), so the runtime uses
// exactly these flags and never the guess.
void add_strip_flags(const std::optional<Json>& tokenizer, const std::optional<Json>& tokenizer_config, int64_t rows,
                     const std::string& tokenizer_path, const std::string& folder_name, Metadata& metadata) {
  std::map<int64_t, AddedToken> added;  // tokenizer.json's entries win: they are what HF tokenizers runs
  if (tokenizer_config)
    for (AddedToken& token : added_tokens_decoder(*tokenizer_config, folder_name)) added[token.id] = std::move(token);
  if (tokenizer)
    for (AddedToken& token : added_tokens_of(*tokenizer, tokenizer_path)) added[token.id] = std::move(token);
  if (added.empty()) return;
  std::vector<int32_t> lstrip, rstrip;
  for (const auto& [id, token] : added) {
    if (id >= rows) continue;
    if (token.lstrip) lstrip.push_back(int32_t(id));
    if (token.rstrip) rstrip.push_back(int32_t(id));
  }
  metadata.emplace_back("tokenizer.phirun.lstrip_token_ids", GgufValue::of_i32s(lstrip));
  metadata.emplace_back("tokenizer.phirun.rstrip_token_ids", GgufValue::of_i32s(rstrip));
}

}  // namespace

std::string detect_pre_tokenizer(const std::string& pre_tokenizer_json) {
  return detect_pre(Json::parse(pre_tokenizer_json));
}

ExportedTokenizer export_tokenizer(const std::string& folder_name, const HfConfig& config) {
  const fs::path folder(folder_name);
  const fs::path tokenizer_path = folder / "tokenizer.json";
  const fs::path model_path = folder / "tokenizer.model";
  const std::optional<Json> tokenizer = read_json_file(tokenizer_path);
  const std::optional<Json> tokenizer_config = read_json_file(folder / "tokenizer_config.json");
  const int64_t rows = config.vocab_size;
  if (tokenizer && (!tokenizer->is_object() || !tokenizer->contains("model") || !(*tokenizer)["model"].is_object()))
    fail(tokenizer_path.string(), "has no \"model\" object");
  const std::string type = tokenizer ? (*tokenizer)["model"].value("type", "") : "";
  const bool byte_fallback = tokenizer && (*tokenizer)["model"].value("byte_fallback", false);
  const std::string class_name = tokenizer_config ? tokenizer_config->value("tokenizer_class", "") : "";

  ExportedTokenizer exported;
  Vocabulary vocab;
  std::optional<bool> space_prefix;  // tokenizer.ggml.add_space_prefix, when the files say
  // As llama.cpp: a tokenizer.model wins (unless the config names a GPT-2 tokenizer), then a
  // SentencePiece-style tokenizer.json, then byte-level BPE.
  if (fs::exists(model_path) && class_name != "GPT2Tokenizer" && class_name != "GPT2TokenizerFast") {
    const SentencePieceModel model = read_sentencepiece_model(model_path.string());
    // NormalizerSpec.add_dummy_prefix, as llama.cpp's converter writes it (false for Gemma).
    space_prefix = model.add_dummy_prefix;
    vocab = vocabulary_from_model(model, model_path.string(), rows);
    exported.model = "llama";
    exported.source = model_path.string();
  } else if (tokenizer && type == "BPE" && byte_fallback) {
    vocab = vocabulary_from_json(*tokenizer, tokenizer_path.string(), rows);
    exported.model = "llama";
    exported.source = tokenizer_path.string();
  } else if (tokenizer && type == "BPE") {
    vocab = byte_level_vocabulary(*tokenizer, tokenizer_path.string(), rows);
    exported.model = "gpt2";
    exported.source = tokenizer_path.string();
    const Json pre = tokenizer->value("pre_tokenizer", Json());
    exported.pre = detect_pre(pre);
    if (exported.pre.empty())
      fail(tokenizer_path.string(), "pre-tokenizer " + pre.dump().substr(0, 200) +
                                        " is not one phirun recognises (byte-level BPE with GPT-2's regex, SmolLM's "
                                        "digit split, or Llama 3's, Qwen2's or o200k's split pattern)");
  } else if (tokenizer) {
    fail(tokenizer_path.string(),
         "tokenizer model type '" + type + "' is not supported (BPE, byte-level or SentencePiece-style, is)");
  } else {
    fail(folder_name, "no tokenizer.json or tokenizer.model: the model file must carry its tokenizer");
  }
  if (exported.model == "llama") {
    exported.pre = "default";
    if (tokenizer_config) apply_added_tokens(vocab, added_tokens_decoder(*tokenizer_config, folder_name));
    if (tokenizer) apply_added_tokens(vocab, added_tokens_of(*tokenizer, tokenizer_path.string()));
  }

  Metadata& metadata = exported.metadata;
  metadata.emplace_back("tokenizer.ggml.model", GgufValue::of_string(exported.model));
  metadata.emplace_back("tokenizer.ggml.pre", GgufValue::of_string(exported.pre));
  exported.n_tokens = int64_t(vocab.tokens.size());
  metadata.emplace_back("tokenizer.ggml.tokens", GgufValue::of_strings(std::move(vocab.tokens)));
  if (exported.model == "llama") metadata.emplace_back("tokenizer.ggml.scores", GgufValue::of_f32s(vocab.scores));
  metadata.emplace_back("tokenizer.ggml.token_type", GgufValue::of_i32s(vocab.types));
  if (exported.model == "gpt2") metadata.emplace_back("tokenizer.ggml.merges", GgufValue::of_strings(vocab.merges));

  add_strip_flags(tokenizer, tokenizer_config, rows, tokenizer_path.string(), folder_name, metadata);

  Specials specials = read_specials(tokenizer, tokenizer_config, config, rows, tokenizer_path.string());
  // llama.cpp's converter: SmolLM-sized Llama vocabularies never add BOS.
  if (config.is_llama() && config.vocab_size == 49152) specials.add["bos"] = false;
  static const std::map<std::string, std::string> kIdKeys = {
      {"bos", "tokenizer.ggml.bos_token_id"},     {"eos", "tokenizer.ggml.eos_token_id"},
      {"unk", "tokenizer.ggml.unknown_token_id"}, {"sep", "tokenizer.ggml.seperator_token_id"},
      {"pad", "tokenizer.ggml.padding_token_id"}, {"cls", "tokenizer.ggml.cls_token_id"},
      {"mask", "tokenizer.ggml.mask_token_id"}};
  for (const char* kind : {"bos", "eos", "unk", "sep", "pad", "cls", "mask"})
    if (const auto found = specials.ids.find(kind); found != specials.ids.end())
      metadata.emplace_back(kIdKeys.at(kind), GgufValue::of_u32(uint32_t(found->second)));
  for (const char* kind : {"bos", "eos", "sep"})
    if (const auto found = specials.add.find(kind); found != specials.add.end())
      metadata.emplace_back(std::string("tokenizer.ggml.add_") + kind + "_token", GgufValue::of_bool(found->second));
  if (config.is_llama() && tokenizer_config)
    if (const auto prefix = tokenizer_config->find("add_prefix_space");
        prefix != tokenizer_config->end() && prefix->is_boolean())
      space_prefix = prefix->get<bool>();
  if (space_prefix) metadata.emplace_back("tokenizer.ggml.add_space_prefix", GgufValue::of_bool(*space_prefix));
  if (auto text = chat_template(folder, tokenizer_config))
    metadata.emplace_back("tokenizer.chat_template", GgufValue::of_string(*text));
  add_generation_config(folder, rows, metadata);
  return exported;
}

}  // namespace phirun::builder
