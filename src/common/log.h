// Logging: Quiver logs through spdlog's default logger; call InitLogging once at startup,
// then use spdlog::info(...) etc. directly.
#pragma once

#include <string>

namespace quiver {

// Sends the default logger to stderr as "[time] [level] [thread id] message" at `level`
// (trace | debug | info | warn | error, as validated by Config). An unknown level logs a
// warning and falls back to info.
void InitLogging(const std::string& level);

}  // namespace quiver
