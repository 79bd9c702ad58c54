// /save and /load: the conversation as JSON through nlohmann-json, checked field by field.
#include "tools/chat_file.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace phirun::cli {

namespace {

constexpr uintmax_t kMaxConversationBytes = uintmax_t(64) << 20;  // far past any context

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw std::runtime_error(path + ": " + problem);
}

}  // namespace

void save_conversation(const std::string& path, const std::vector<ChatMessage>& messages) {
  nlohmann::json list = nlohmann::json::array();
  for (const ChatMessage& message : messages)
    list.push_back({{"role", message.role}, {"content", message.content.value_or("")}});
  const nlohmann::json document = {{"format", "phirun-chat"}, {"version", 1}, {"messages", list}};
  const std::string text = document.dump(2) + "\n";
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot write the file");
    out << text;
    out.close();
    if (!out) {
      std::filesystem::remove(temporary);
      fail(path, "cannot write the file (disk full?)");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary);
    fail(path, "cannot write the file: " + error.message());
  }
}

std::vector<ChatMessage> load_conversation(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) fail(path, "no such file");
  if (std::filesystem::file_size(path, error) > kMaxConversationBytes)
    fail(path, "too large for a conversation (over 64 MiB)");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_conversation(text.str(), path);
}

std::vector<ChatMessage> parse_conversation(const std::string& text, const std::string& path) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& json_error) {  // a syntax error, or a number past double's range
    fail(path, std::string("not valid JSON: ") + json_error.what());
  }
  const nlohmann::json* list = &document;
  if (document.is_object()) {
    if (!document.contains("messages")) fail(path, "no \"messages\" array in the object");
    list = &document["messages"];
  }
  if (!list->is_array()) fail(path, "expected an array of messages, or an object with a \"messages\" array");
  std::vector<ChatMessage> messages;
  for (size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& item = (*list)[i];
    const std::string where = "message " + std::to_string(i + 1);
    if (!item.is_object()) fail(path, where + " is not an object");
    if (!item.contains("role") || !item["role"].is_string() || item["role"].get<std::string>().empty())
      fail(path, where + " has no \"role\" string");
    if (!item.contains("content") || !item["content"].is_string()) fail(path, where + " has no \"content\" string");
    messages.push_back({item["role"].get<std::string>(), item["content"].get<std::string>()});
  }
  return messages;
}

}  // namespace phirun::cli
