// Opening the WAL a Quiver process logs its writes to.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "wal/wal.h"

namespace quiver::wal {

struct LocalWalOptions {
  // A channel starts a new segment file once its current one has reached this size.
  uint64_t max_segment_bytes = 64ull << 20;
  // How long the writer lets appends gather after the first one before writing and syncing
  // them. With 0 it syncs as soon as the previous sync is done, so every append queued
  // during a sync shares the next one.
  std::chrono::microseconds group_commit_delay{0};
  // Recent durable records each channel keeps in memory, so tailing readers need no reads.
  size_t tail_cache_bytes = 8 << 20;
};

// The embedded log in `dir` (created if missing): one subdirectory per channel. Recovers
// every channel (cutting off a torn tail left by a crash) before returning. Fails with
// kIoFailed when `dir` is already open, in another process or in this one.
StatusOr<std::unique_ptr<Wal>> OpenLocalWal(const std::string& dir, LocalWalOptions options = {});

}  // namespace quiver::wal
