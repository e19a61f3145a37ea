// ObjectStore: immutable objects (segment binlogs, index files) by key.
//
// Contract (shared by local files and S3-compatible storage):
// - Put is atomic and durable: a reader sees the whole new object or none of it, and an
//   acknowledged Put survives SIGKILL and power loss. Put replaces an existing object.
// - Keys are '/'-separated paths without a leading '/' (object_key.h checks them; anything else
//   is kParameterInvalid); List returns keys in ascending byte order.
// - Get of a missing key fails with Code::kIoKeyNotFound; Delete of a missing key is OK.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace quiver::storage {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual Status Put(const std::string& key, std::string_view data) = 0;
  virtual StatusOr<std::string> Get(const std::string& key) = 0;
  // Bytes [offset, offset + length) of the object, fewer at its end.
  virtual StatusOr<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) = 0;
  virtual StatusOr<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  virtual Status Delete(const std::string& key) = 0;
};

}  // namespace quiver::storage
