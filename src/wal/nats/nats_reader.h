// NatsReader: reads one channel's stream through an ephemeral pull consumer.
//
// The consumer starts at the reader's next position and needs no acknowledgments: position
// bookkeeping is the reader's (WAL consumers checkpoint positions themselves), so when the
// consumer goes away (its server died, the connection dropped, it idled out) the reader
// simply creates another one at its next position. Records delivered twice are skipped by
// position; a jump past the next position re-creates the consumer. Each new consumer is
// checked against the stream leader's first kept sequence, so reading a truncated position
// fails instead of skipping (a consumer runs on any replica, which may not have applied a
// finished purge yet, and JetStream starts a consumer asked for a purged position at the
// first kept one).
//
// The pull protocol is spoken directly on a plain subscription (one reply subject per pull
// request, so a late end-of-pull status of an earlier request is told apart): libnats
// 3.4.1's natsSubscription_Fetch overruns its message array when messages of an earlier
// pull are still queued. A consumer is given up when a pull gets no answer at all (its
// server died: measured, such pulls get silence rather than "no responders"), and when it
// delivers nothing for a while although the stream leader holds more.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "wal/nats/nats_client.h"
#include "wal/wal.h"

namespace quiver::wal::nats {

class NatsReader final : public WalReader {
 public:
  NatsReader(std::shared_ptr<JsClient> client, std::string prefix, std::string channel, Position after);
  ~NatsReader() override;

  StatusOr<std::vector<Record>> Read(size_t max_records, std::chrono::milliseconds timeout) override;

 private:
  // Creates the consumer and subscribes to its deliveries; false when there is none to read
  // from yet (no stream, the cluster is electing, or the records were truncated: then
  // failure_ says so).
  bool OpenConsumer(Clock::time_point deadline);
  bool CreateConsumer(Clock::time_point deadline);
  bool Subscribe();
  struct PullProgress;
  // One pull request for up to `max_records`; what arrives goes to pulled_.
  void Pull(size_t max_records, Clock::time_point deadline);
  bool SendPullRequest(const std::string& reply, size_t max_records, std::chrono::milliseconds wait);
  void Take(natsMsg* message, PullProgress* pull);
  // False when the record does not follow the last one pulled (then the consumer is dropped).
  bool Accept(natsMsg* message);
  void CheckNotBehind();
  std::vector<Record> TakePulled(size_t max_records);
  void DropConsumer(bool delete_on_server);
  // Once until the reader reads again.
  void Warn(const std::string& what, const std::string& detail);
  Status TruncatedError(Position first_kept) const;
  Position NextToPull() const { return next_ + pulled_.size(); }

  const std::shared_ptr<JsClient> client_;
  const std::string channel_;
  const std::string stream_;
  Position next_;                             // the position of the next record to hand out
  std::deque<Record> pulled_;                 // the records from next_ on that were pulled already
  natsSubscription* subscription_ = nullptr;  // deliveries to inbox_.<request>
  std::string inbox_;
  std::string consumer_;
  uint64_t request_ = 0;             // the latest pull request's number
  Clock::time_point last_progress_;  // when a pull last brought a new record
  Status failure_;                   // final: the next record was truncated away
  bool warned_ = false;              // a warning about this reader is out, and no "reads again" yet
};

}  // namespace quiver::wal::nats
