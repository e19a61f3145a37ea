// WAL: named channels of ordered, durable records — the source of truth for every write.
//
// Contract (shared by the embedded log, local/, and NATS JetStream, nats/):
// - Records of one channel have positions 1, 2, 3, … in append order; the order of two
//   Append calls on a channel is the order in which the calls were made.
// - Append returns the positions at once and a future that becomes OK only when every
//   record of the call is durable: synced to disk, surviving SIGKILL and power loss
//   (embedded; concurrent appends share one sync), or held by a majority of the stream's
//   replicas, surviving the loss of a minority of the servers (NATS; JetStream 2.9 does not
//   fsync each write).
// - Readers see only durable records, in position order, and never a record twice.
// - Truncate(before) may drop records below `before`; reading them afterwards fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace quiver::wal {

using Position = uint64_t;  // 0 means "before the first record"

struct Record {
  Position position = 0;
  std::string payload;
};

struct AppendResult {
  Position first = 0;  // position of the call's first record
  Position last = 0;   // position of its last record
  std::shared_future<Status> durable;
};

class WalReader {
 public:
  virtual ~WalReader() = default;
  // Up to `max_records` records after the last one returned, waiting up to `timeout` for
  // the first; an empty vector on timeout. Fails if the next record was truncated away.
  virtual StatusOr<std::vector<Record>> Read(size_t max_records, std::chrono::milliseconds timeout) = 0;
};

class Wal {
 public:
  virtual ~Wal() = default;

  // Creates the channel on first use.
  virtual StatusOr<AppendResult> Append(const std::string& channel, const std::vector<std::string>& payloads) = 0;
  // A reader that starts with the first record after `after`.
  virtual StatusOr<std::unique_ptr<WalReader>> OpenReader(const std::string& channel, Position after) = 0;
  // The last durable position (0 for an empty or unknown channel).
  virtual StatusOr<Position> LastPosition(const std::string& channel) = 0;
  virtual Status Truncate(const std::string& channel, Position before) = 0;
  virtual StatusOr<std::vector<std::string>> Channels() = 0;
};

}  // namespace quiver::wal
