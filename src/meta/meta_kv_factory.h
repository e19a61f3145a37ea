// Opening the MetaKV a Quiver process keeps its metadata in.
#pragma once

#include <memory>
#include <string>

#include "meta/meta_kv.h"

namespace quiver::meta {

// The embedded store in `dir` (created if missing). Fails with kIoFailed when another
// process already has it open.
StatusOr<std::unique_ptr<MetaKV>> OpenEmbeddedMetaKV(const std::string& dir);

}  // namespace quiver::meta
