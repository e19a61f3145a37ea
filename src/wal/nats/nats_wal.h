// NatsWal: the WAL on a NATS JetStream cluster (nats-server 2.9+), for Quiver clusters.
//
// Each channel is one JetStream stream (file storage, NatsWalOptions::replicas copies, no
// limits; names in nats_names.h), created by the first append. A record is one message and
// its position is its stream sequence: 1, 2, 3, ... because a channel has one writer.
// - Append (nats_channel.h) returns positions at once; its future completes when JetStream
//   has acknowledged every record (a majority of the replicas holds it). Through leader
//   elections and reconnects records are retried in order with the same message ids, never
//   stored twice nor out of order, for up to retry_for; then the append fails (kIoFailed).
// - Readers (nats_reader.h) see only acknowledged records, in order, each once, and survive
//   the loss of a server; reading a truncated position fails with kIoFailed.
// - Truncate purges the stream below a position; LastPosition is the stream's last sequence.
// - Destroying the WAL waits for the answers to every pending append (at most retry_for),
//   fails what is left, and makes its readers fail with kServiceNotReady.
// A channel must have one writing process at a time (Quiver's streaming node); a second one
// makes appends fail rather than interleave.
#pragma once

#include <nats/nats.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wal/nats/nats_channel.h"
#include "wal/nats/nats_client.h"
#include "wal/wal.h"
#include "wal/wal_factory.h"

namespace quiver::wal::nats {

class NatsWal final : public Wal {
 public:
  static StatusOr<std::unique_ptr<NatsWal>> Open(const NatsWalOptions& options);
  ~NatsWal() override;

  StatusOr<AppendResult> Append(const std::string& channel, const std::vector<std::string>& payloads) override;
  StatusOr<std::unique_ptr<WalReader>> OpenReader(const std::string& channel, Position after) override;
  StatusOr<Position> LastPosition(const std::string& channel) override;
  // Purges the records below `before` (at most up to the last stored one).
  Status Truncate(const std::string& channel, Position before) override;
  StatusOr<std::vector<std::string>> Channels() override;

 private:
  explicit NatsWal(NatsWalOptions options);

  // The publish-acknowledgment callback of the JetStream context; `closure` identifies the WAL.
  static void OnPubAck(jsCtx* js, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* closure);
  void DispatchPubAck(natsMsg* message, const jsPubAck* ack, const jsPubAckErr* error);

  std::shared_ptr<ChannelWriter> FindWriter(const std::string& channel);
  std::shared_ptr<ChannelWriter> FindOrAddWriter(const std::string& channel);
  std::vector<std::shared_ptr<ChannelWriter>> Writers();
  Status ValidatePayloads(const std::vector<std::string>& payloads) const;

  void RecoveryLoop();
  void Kick();
  void WaitForPendingAppends();

  const NatsWalOptions options_;
  const std::string writer_id_;
  uint64_t registration_ = 0;  // in the callback registry (nats_wal.cc)
  std::shared_ptr<JsClient> client_;

  std::mutex writers_mu_;
  std::map<std::string, std::shared_ptr<ChannelWriter>> writers_;
  bool closing_ = false;

  std::mutex recovery_mu_;
  std::condition_variable recovery_cv_;
  bool kicked_ = false;
  bool stopping_ = false;
  std::thread recovery_thread_;
};

}  // namespace quiver::wal::nats
