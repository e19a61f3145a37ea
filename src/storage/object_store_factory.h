// Opening the ObjectStore that holds segment binlogs and index files.
#pragma once

#include <memory>
#include <string>

#include "storage/object_store.h"

namespace quiver::storage {

// Objects as files under `root_dir` (created if missing). Several stores, in this process
// or others, may share a root.
StatusOr<std::unique_ptr<ObjectStore>> OpenLocalObjectStore(const std::string& root_dir);

}  // namespace quiver::storage
