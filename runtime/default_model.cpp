#include "runtime/default_model.h"

#include <cstdlib>
#include <filesystem>

namespace phirun {

std::string cache_directory() {
  namespace fs = std::filesystem;
  if (const char* dir = std::getenv("PHIRUN_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return (fs::path(xdg) / "phirun").string();
  if (const char* home = std::getenv("HOME"); home && *home) return (fs::path(home) / ".cache" / "phirun").string();
  return ".phirun-cache";
}

std::string default_model_path() {
  return (std::filesystem::path(cache_directory()) / "models" / kDefaultModelFile).string();
}

}  // namespace phirun
