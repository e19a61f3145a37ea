#include "common/log.h"

#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace quiver {

void InitLogging(const std::string& level) {
  auto logger = std::make_shared<spdlog::logger>("quiver", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] [%t] %v");
  spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  // from_str answers "off" for names it does not know; silencing the log would hide that mistake.
  bool known = parsed != spdlog::level::off || level == "off";
  logger->set_level(known ? parsed : spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
  if (!known) spdlog::warn("unknown log level \"{}\", logging at info", level);
}

}  // namespace quiver
