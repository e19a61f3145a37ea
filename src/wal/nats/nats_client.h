// JsClient: the WAL's connection to a NATS JetStream cluster, and the few JetStream calls
// it makes, each retried through leader elections.
//
// The connection fails over between the configured servers and reconnects forever (a
// warning when it drops, a line when it is back). Calls that get no answer, or an answer
// meaning "no leader right now", are retried for up to NatsWalOptions::retry_for: in
// nats-server 2.9 electing a stream leader takes 5 to 10 s, API requests time out meanwhile
// and succeed later, and a stream info request may time out rather than say "not found".
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "wal/wal.h"
#include "wal/wal_factory.h"

namespace quiver::wal::nats {

using Clock = std::chrono::steady_clock;

// What a NATS call returned: the client's status, JetStream's error code and the detail.
struct NatsOutcome {
  natsStatus status = NATS_OK;
  int js_error = 0;
  std::string detail;

  bool ok() const { return status == NATS_OK; }
  // No answer (timeout, no responders, reconnecting) or the cluster is between leaders:
  // the same call may succeed later.
  bool transient() const;
  // "not found" for a stream or a message.
  bool not_found() const;
  std::string ToString() const;
  Status ToStatus(const std::string& what) const;  // kIoFailed
};

// The outcome of a call that just returned `status` (with the thread's last NATS error).
NatsOutcome Outcome(natsStatus status, int js_error = 0);

struct StreamState {
  Position first = 0;  // 0 for a stream never written; last + 1 once purged empty
  Position last = 0;
};

class JsClient {
 public:
  // `on_pub_ack` gets `closure` and the outcome of every asynchronous publish.
  static StatusOr<std::shared_ptr<JsClient>> Connect(const NatsWalOptions& options, jsPubAckHandler on_pub_ack,
                                                     void* closure);
  ~JsClient();
  JsClient(const JsClient&) = delete;
  JsClient& operator=(const JsClient&) = delete;

  natsConnection* connection() const { return connection_; }
  jsCtx* js() const { return js_; }
  const NatsWalOptions& options() const { return options_; }
  // The largest message (headers included) the connected server takes.
  int64_t max_payload() const;
  // JetStream call options that wait up to request_timeout.
  jsOptions RequestOptions() const;

  // Closes the connection: calls blocked in it return and later ones fail. Idempotent.
  void Close();
  bool closed() const;
  // Sleeps for `duration`, returning early once closed.
  void SleepUnlessClosed(Clock::duration duration) const;

  // Calls `call` again while it fails transiently, for up to retry_for, with a warning for
  // each retry naming `what`.
  NatsOutcome Retry(const std::string& what, const std::function<NatsOutcome()>& call) const;

  // nullopt when there is no such stream. Asked of the stream's leader, so it reflects every
  // acknowledged append and finished purge. With `retry` false, one attempt waiting `wait`.
  StatusOr<std::optional<StreamState>> GetStreamState(const std::string& stream, bool retry = true,
                                                      std::chrono::milliseconds wait = {}) const;
  // The stream's state, after creating it (file storage, `replicas` copies, no limits) if
  // it does not exist yet.
  StatusOr<StreamState> EnsureStream(const std::string& stream, const std::string& subject) const;
  // Drops the stream's messages below `before` (nothing if there is no such stream).
  Status Purge(const std::string& stream, Position before) const;
  StatusOr<std::vector<std::string>> StreamNames(const std::string& subject_filter) const;
  // The Nats-Msg-Id of the message stored at `sequence`; nullopt when none is stored there.
  // One attempt: the caller has its own way to try again.
  StatusOr<std::optional<std::string>> MessageIdAt(const std::string& stream, Position sequence) const;

 private:
  JsClient(NatsWalOptions options, natsConnection* connection, jsCtx* js);

  NatsOutcome CreateStream(const std::string& stream, const std::string& subject) const;

  const NatsWalOptions options_;
  natsConnection* const connection_;
  jsCtx* const js_;

  mutable std::mutex mu_;
  mutable std::condition_variable closed_cv_;
  bool closed_ = false;
};

}  // namespace quiver::wal::nats
