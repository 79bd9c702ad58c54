// What this build of phirun is: its version and the git commit it was built from. CMake writes
// them into build_info.cpp (from build_info.cpp.in), so a new commit recompiles that one file.
#pragma once

namespace phirun {

const char* build_version();  // "0.1.0"
const char* build_commit();   // short hash, or "unknown" outside a git checkout

}  // namespace phirun
