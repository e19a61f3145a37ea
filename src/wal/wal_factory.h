// Opening the WAL a Quiver process logs its writes to.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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

// The WAL on a NATS JetStream cluster (nats-server 2.9+): one stream per channel, see
// nats/nats_wal.h for how it maps the contract onto JetStream.
struct NatsWalOptions {
  // URLs of the cluster's servers, e.g. "nats://127.0.0.1:4222"; the client connects to one
  // and fails over to the others, reconnecting forever.
  std::vector<std::string> servers;
  // Copies of each channel's stream; a record is durable once a majority holds it.
  int replicas = 3;
  // Names this WAL's streams: "<prefix>_wal_<channel>". WALs with different prefixes share
  // a cluster without seeing each other's channels.
  std::string stream_prefix = "quiver";
  // Per server tried when connecting.
  std::chrono::milliseconds connect_timeout{5000};
  // One JetStream API call (stream info, purge, consumer creation, ...).
  std::chrono::milliseconds request_timeout{5000};
  // How long a published record waits for its acknowledgment before it is retried.
  std::chrono::milliseconds ack_timeout{3000};
  // How long records and API calls are retried (leader elections take 5 to 10 s) before an
  // append fails with kIoFailed. Streams get a dedup window of at least twice this (and at
  // least JetStream's default 2 minutes), so a retried record is never stored twice.
  std::chrono::milliseconds retry_for{30000};
};

// Connects to the cluster (failing with kIoFailed when no server answers). Channels' streams
// are created on first append.
StatusOr<std::unique_ptr<Wal>> OpenNatsWal(const NatsWalOptions& options);

}  // namespace quiver::wal
