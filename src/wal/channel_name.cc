#include "wal/channel_name.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace quiver::wal {

Status ValidateChannelName(const std::string& name) {
  const bool safe_chars = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
  if (name.empty() || name.size() > kMaxChannelNameLength || !safe_chars || name.front() == '.' ||
      name.find("..") != std::string::npos) {
    return InvalidParameter(
        fmt::format("WAL channel name \"{}\" must be 1 to {} letters, digits, '_', '-' or '.', not start with '.' "
                    "and not contain \"..\"",
                    name, kMaxChannelNameLength));
  }
  return Status::OK();
}

}  // namespace quiver::wal
