// The names a WAL channel may have, the same for every backend.
#pragma once

#include <string>

#include "common/status.h"

namespace quiver::wal {

inline constexpr size_t kMaxChannelNameLength = 200;

// 1 to kMaxChannelNameLength letters, digits, '_', '-' or '.', not starting with '.' and
// without "..": safe as a directory name (local) and as a NATS subject token once the dots
// are mapped (nats/).
Status ValidateChannelName(const std::string& name);

}  // namespace quiver::wal
