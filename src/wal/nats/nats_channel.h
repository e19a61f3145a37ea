// ChannelWriter: appends to one channel's stream so that every record's position is its
// stream sequence.
//
// Positions are handed out at once from the stream's last sequence (read when the writer
// starts or restarts), and each record is published asynchronously with two headers:
//   Nats-Msg-Id                  "<writer>-<epoch>-<position>" (nats_names.h)
//   Nats-Expected-Last-Sequence  position - 1
// JetStream stores a record only right after its predecessor, so a record can never land at
// another sequence than its position, nor before a record that failed; and a record sent
// again with the same id is not stored twice. Measured on nats-server 2.9.10 (clustered): the
// dedup check comes before the expected-sequence check, so resending a record that is already
// stored answers "duplicate" with its original sequence even though the stream has moved on;
// a record rejected for a wrong expected sequence leaves no trace in the dedup window. The
// epoch changes whenever positions are re-read from the stream, so a late copy of a record
// of a failed epoch can never be mistaken for a new record at the same position.
//
// A record is durable when its PubAck arrives (JetStream acknowledges once a majority of the
// replicas hold it; 2.9 does not fsync each write, so durability is the quorum). Appends
// complete in position order as the acknowledged prefix grows.
//
// Recovery: when a record is not acknowledged (timeout, no responders during an election,
// a reconnect, "wrong last sequence" because its predecessor was lost), the channel holds
// back later records and probes with its first unacknowledged record, with the same id,
// until the stream takes it; then it sends every unacknowledged record again, in order. If
// that does not succeed within retry_for, every pending append fails with kIoFailed and the
// next append starts a new epoch from the stream's last sequence.
#pragma once

#include <nats/nats.h>

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "wal/nats/nats_client.h"
#include "wal/nats/nats_names.h"
#include "wal/wal.h"

namespace quiver::wal::nats {

class ChannelWriter {
 public:
  // `kick` asks the WAL's recovery thread to call Recover() soon.
  ChannelWriter(std::shared_ptr<JsClient> client, std::string writer_id, std::string prefix, std::string channel,
                std::function<void()> kick);

  StatusOr<AppendResult> Append(const std::vector<std::string>& payloads);
  // The answer to one publish of the record `id` names; `sent` is the message published.
  void OnPubAck(const natsMsg* sent, MessageId id, const jsPubAck* ack, const jsPubAckErr* error);

  bool NeedsRecovery() const;
  // One step of recovery; the recovery thread calls it often while NeedsRecovery().
  void Recover();
  // No record waits for its acknowledgment.
  bool Idle() const;
  // Fails every append still waiting.
  void FailPending(const Status& status);

 private:
  enum class State { kHealthy, kRecovering };
  struct Pending {
    Position position = 0;
    std::string payload;
    const natsMsg* sent = nullptr;  // its latest publish still unanswered, if any
    bool acked = false;
  };
  struct Waiter {
    Position last = 0;
    std::promise<Status> durable;
  };
  using Completions = std::vector<std::pair<std::promise<Status>, Status>>;

  Status Sync();
  void Send(Position position, std::chrono::milliseconds ack_wait);
  void Verify(Position position);
  NatsOutcome BuildMessageLocked(const Pending& pending, natsMsg** message) const;
  Pending* FindLocked(Position position);
  void OnStoredLocked(Pending& pending, const jsPubAck& ack, Completions* done);
  void OnRejectedLocked(Pending& pending, const jsPubAckErr& error, Completions* done);
  void AdvanceLocked(Completions* done);
  void EnterRecoveryLocked(Position position, const NatsOutcome& outcome);
  void LeaveRecoveryLocked();
  void WarnStalledLocked(Clock::time_point now);
  void FailEpochLocked(const Status& status, Completions* done);
  std::vector<Position> UnackedPositionsLocked() const;
  static void Complete(Completions& done);

  const std::shared_ptr<JsClient> client_;
  const std::string writer_id_;
  const std::string channel_;
  const std::string stream_;
  const std::string subject_;
  const std::function<void()> kick_;

  // Held while publishing, so records reach the server in position order.
  std::mutex send_mu_;

  mutable std::mutex mu_;  // guards everything below
  bool synced_ = false;    // next_ and acked_ follow the stream
  uint64_t epoch_ = 0;
  Position next_ = 1;            // the next record's position
  Position acked_ = 0;           // every record up to here is acknowledged
  std::deque<Pending> unacked_;  // the records after acked_, in position order
  std::deque<Waiter> waiters_;   // appends not yet durable, in position order
  State state_ = State::kHealthy;
  Clock::time_point stalled_since_;
  Clock::time_point next_probe_;
  Clock::time_point last_warning_;
  std::string last_error_;
  bool resume_ = false;  // a record was stored while recovering: send the rest again
  bool verify_ = false;  // the probe met "wrong last sequence": look at what the stream holds
};

}  // namespace quiver::wal::nats
