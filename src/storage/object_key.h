// The key rules every ObjectStore enforces (object_store.h), so that a key valid for one
// backend is valid for all: '/'-separated segments, none empty, "." or "..", no leading '/',
// no NUL byte.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace quiver::storage {

// A backend's own extra rule for each full segment (e.g. names it reserves).
using SegmentCheck = std::function<Status(std::string_view segment, const std::string& key)>;

// kParameterInvalid unless `key` names an object.
Status ValidateObjectKey(const std::string& key, const SegmentCheck& extra = nullptr);

// Like ValidateObjectKey, but "" is allowed and the last segment may be partial or empty
// ("a/b" matches "a/bc", "a/" matches "a/x").
Status ValidateListPrefix(const std::string& prefix, const SegmentCheck& extra = nullptr);

}  // namespace quiver::storage
