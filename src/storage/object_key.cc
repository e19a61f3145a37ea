#include "storage/object_key.h"

namespace quiver::storage {
namespace {

Status ValidateSegment(std::string_view segment, const std::string& key, const SegmentCheck& extra) {
  if (segment.empty()) return InvalidParameter("object key has an empty path segment: '" + key + "'");
  if (segment == "." || segment == "..") {
    return InvalidParameter("object key has a '" + std::string(segment) + "' segment: '" + key + "'");
  }
  return extra ? extra(segment, key) : Status::OK();
}

Status ValidateKeyOrPrefix(const std::string& key, bool is_prefix, const SegmentCheck& extra) {
  if (key.empty()) {
    return is_prefix ? Status::OK() : InvalidParameter("object key is empty");
  }
  if (key.front() == '/') return InvalidParameter("object key must not start with '/': '" + key + "'");
  if (key.find('\0') != std::string::npos) return InvalidParameter("object key contains a NUL byte");
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    if (slash == std::string::npos) {
      return is_prefix ? Status::OK() : ValidateSegment(std::string_view(key).substr(start), key, extra);
    }
    QUIVER_RETURN_IF_ERROR(ValidateSegment(std::string_view(key).substr(start, slash - start), key, extra));
    start = slash + 1;
  }
}

}  // namespace

Status ValidateObjectKey(const std::string& key, const SegmentCheck& extra) {
  return ValidateKeyOrPrefix(key, /*is_prefix=*/false, extra);
}

Status ValidateListPrefix(const std::string& prefix, const SegmentCheck& extra) {
  return ValidateKeyOrPrefix(prefix, /*is_prefix=*/true, extra);
}

}  // namespace quiver::storage
