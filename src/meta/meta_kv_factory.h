// Opening the MetaKV a Quiver process keeps its metadata in.
#pragma once

#include <memory>
#include <string>

#include "meta/meta_kv.h"

namespace quiver::meta {

// The embedded store in `dir` (created if missing). Fails with kIoFailed when the store is
// already open, in another process or in this one.
StatusOr<std::unique_ptr<MetaKV>> OpenEmbeddedMetaKV(const std::string& dir);

}  // namespace quiver::meta
