#include "wal/nats/nats_channel.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

namespace quiver::wal::nats {
namespace {

using std::chrono::milliseconds;

constexpr char kMessageIdHeader[] = "Nats-Msg-Id";
constexpr char kExpectedLastSequenceHeader[] = "Nats-Expected-Last-Sequence";
// Between a failed attempt and the next probe.
constexpr milliseconds kProbeDelay{250};
// A probe is one small record: waiting long for it only delays noticing a new leader.
constexpr milliseconds kMaxProbeWait{1000};
constexpr std::chrono::seconds kStallWarningInterval{2};

// Errors no retry can cure.
constexpr std::array kPermanentJsErrors = {JSStreamMessageExceedsMaximumErr, JSStreamNotFoundErr, JSStreamNotMatchErr,
                                           JSNotEnabledForAccountErr, JSNotEnabledErr};

bool IsPermanent(const NatsOutcome& outcome) {
  if (outcome.status == NATS_MAX_PAYLOAD || outcome.status == NATS_CONNECTION_CLOSED) return true;
  return std::find(kPermanentJsErrors.begin(), kPermanentJsErrors.end(), outcome.js_error) != kPermanentJsErrors.end();
}

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

}  // namespace

ChannelWriter::ChannelWriter(std::shared_ptr<JsClient> client, std::string writer_id, std::string prefix,
                             std::string channel, std::function<void()> kick)
    : client_(std::move(client)),
      writer_id_(std::move(writer_id)),
      channel_(std::move(channel)),
      stream_(StreamName(prefix, channel_)),
      subject_(SubjectName(prefix, channel_)),
      kick_(std::move(kick)) {}

StatusOr<AppendResult> ChannelWriter::Append(const std::vector<std::string>& payloads) {
  std::lock_guard send_lock(send_mu_);
  bool synced = false;
  {
    std::lock_guard lock(mu_);
    synced = synced_;
  }
  if (!synced) QUIVER_RETURN_IF_ERROR(Sync());
  AppendResult result;
  bool healthy = false;
  {
    std::lock_guard lock(mu_);
    if (!synced_) {  // an answer failed the epoch since Sync
      return Status(Code::kIoFailed, fmt::format("NATS WAL channel {} failed just now: {}", channel_, last_error_));
    }
    result.first = next_;
    for (const std::string& payload : payloads) unacked_.push_back({next_++, payload, nullptr, false});
    result.last = next_ - 1;
    Waiter waiter{result.last, {}};
    result.durable = waiter.durable.get_future().share();
    waiters_.push_back(std::move(waiter));
    healthy = state_ == State::kHealthy;
  }
  if (healthy) {
    for (Position position = result.first; position <= result.last; ++position) {
      Send(position, client_->options().ack_timeout);
    }
  }
  return result;
}

// Learns where the stream ends (creating it on first use) and starts a new epoch there.
Status ChannelWriter::Sync() {
  auto state = client_->EnsureStream(stream_, subject_);
  if (!state.ok()) return state.status();
  std::lock_guard lock(mu_);
  ++epoch_;
  next_ = state->last + 1;
  acked_ = state->last;
  synced_ = true;
  return Status::OK();
}

void ChannelWriter::Send(Position position, milliseconds ack_wait) {
  natsMsg* message = nullptr;
  {
    std::lock_guard lock(mu_);
    Pending* pending = FindLocked(position);
    if (pending == nullptr || pending->acked) return;
    NatsOutcome built = BuildMessageLocked(*pending, &message);
    if (!built.ok()) {
      EnterRecoveryLocked(position, built);
      return;
    }
    // Recorded before publishing: the answer may arrive before js_PublishMsgAsync returns.
    pending->sent = message;
  }
  jsPubOptions publish;
  jsPubOptions_Init(&publish);
  publish.MaxWait = ack_wait.count();
  natsStatus status = js_PublishMsgAsync(client_->js(), &message, &publish);
  if (status == NATS_OK) return;  // the library owns the message now
  NatsOutcome failed = Outcome(status);
  {
    std::lock_guard lock(mu_);
    Pending* pending = FindLocked(position);
    if (pending != nullptr && pending->sent == message) {
      pending->sent = nullptr;
      EnterRecoveryLocked(position, failed);
    }
  }
  natsMsg_Destroy(message);
}

NatsOutcome ChannelWriter::BuildMessageLocked(const Pending& pending, natsMsg** message) const {
  natsMsg* built = nullptr;
  natsStatus status = natsMsg_Create(&built, subject_.c_str(), nullptr, pending.payload.data(),
                                     static_cast<int>(pending.payload.size()));
  const std::string id = FormatMessageId(writer_id_, epoch_, pending.position);
  const std::string expected_last = std::to_string(pending.position - 1);
  if (status == NATS_OK) status = natsMsgHeader_Set(built, kMessageIdHeader, id.c_str());
  if (status == NATS_OK) status = natsMsgHeader_Set(built, kExpectedLastSequenceHeader, expected_last.c_str());
  if (status != NATS_OK) {
    NatsOutcome outcome = Outcome(status);
    natsMsg_Destroy(built);
    return outcome;
  }
  *message = built;
  return {};
}

ChannelWriter::Pending* ChannelWriter::FindLocked(Position position) {
  if (unacked_.empty() || position < unacked_.front().position) return nullptr;
  const Position index = position - unacked_.front().position;
  return index < unacked_.size() ? &unacked_[index] : nullptr;
}

void ChannelWriter::OnPubAck(const natsMsg* sent, MessageId id, const jsPubAck* ack, const jsPubAckErr* error) {
  Completions done;
  {
    std::lock_guard lock(mu_);
    Pending* pending = id.epoch == epoch_ ? FindLocked(id.position) : nullptr;
    if (pending == nullptr || pending->acked) return;  // answered already, or of a failed epoch
    if (ack != nullptr) {
      OnStoredLocked(*pending, *ack, &done);  // any attempt's success counts
    } else if (error != nullptr && pending->sent == sent) {
      OnRejectedLocked(*pending, *error, &done);
    }
    // Otherwise an earlier attempt failed; the latest one is still on its way.
  }
  Complete(done);
}

void ChannelWriter::OnStoredLocked(Pending& pending, const jsPubAck& ack, Completions* done) {
  if (ack.Sequence != pending.position) {
    FailEpochLocked(Status(Code::kIoFailed, fmt::format("NATS WAL channel {}: record {} was stored at sequence {} of "
                                                        "stream {}",
                                                        channel_, pending.position, ack.Sequence, stream_)),
                    done);
    return;
  }
  pending.acked = true;
  pending.sent = nullptr;
  AdvanceLocked(done);
  if (state_ == State::kRecovering) {
    resume_ = true;
    kick_();
  }
}

void ChannelWriter::OnRejectedLocked(Pending& pending, const jsPubAckErr& error, Completions* done) {
  pending.sent = nullptr;
  NatsOutcome outcome{error.Err, static_cast<int>(error.ErrCode), error.ErrText != nullptr ? error.ErrText : ""};
  if (IsPermanent(outcome)) {
    FailEpochLocked(outcome.ToStatus(fmt::format("appending record {} to channel {}", pending.position, channel_)),
                    done);
    return;
  }
  // For any record but the first unacknowledged one, "wrong last sequence" only says that a
  // predecessor is missing for now; for the first one, see Verify.
  if (outcome.js_error == JSStreamWrongLastSequenceErr && &pending == &unacked_.front()) verify_ = true;
  EnterRecoveryLocked(pending.position, outcome);
}

void ChannelWriter::AdvanceLocked(Completions* done) {
  while (!unacked_.empty() && unacked_.front().acked) {
    acked_ = unacked_.front().position;
    unacked_.pop_front();
  }
  while (!waiters_.empty() && waiters_.front().last <= acked_) {
    done->emplace_back(std::move(waiters_.front().durable), Status::OK());
    waiters_.pop_front();
  }
}

void ChannelWriter::EnterRecoveryLocked(Position position, const NatsOutcome& outcome) {
  const auto now = Clock::now();
  last_error_ = outcome.ToString();
  next_probe_ = now + kProbeDelay;
  if (state_ == State::kRecovering) return;
  state_ = State::kRecovering;
  stalled_since_ = now;
  last_warning_ = now;
  spdlog::warn(
      "NATS WAL channel {}: record {} was not stored ({}); holding later records back and retrying for up "
      "to {:.0f} s",
      channel_, position, last_error_, Seconds(client_->options().retry_for));
  kick_();
}

void ChannelWriter::LeaveRecoveryLocked() {
  state_ = State::kHealthy;
  resume_ = false;
  verify_ = false;
  spdlog::info("NATS WAL channel {}: records are stored again after {:.1f} s", channel_,
               Seconds(Clock::now() - stalled_since_));
}

void ChannelWriter::WarnStalledLocked(Clock::time_point now) {
  if (now - last_warning_ < kStallWarningInterval) return;
  last_warning_ = now;
  spdlog::warn("NATS WAL channel {}: record {} still not stored after {:.1f} s ({}); retrying", channel_,
               unacked_.front().position, Seconds(now - stalled_since_), last_error_);
}

void ChannelWriter::FailEpochLocked(const Status& status, Completions* done) {
  if (!unacked_.empty()) {
    spdlog::error("NATS WAL channel {}: failing the appends of records {} to {}: {}", channel_,
                  unacked_.front().position, unacked_.back().position, status.reason());
  }
  for (Waiter& waiter : waiters_) done->emplace_back(std::move(waiter.durable), status);
  waiters_.clear();
  unacked_.clear();
  last_error_ = status.reason();
  synced_ = false;
  state_ = State::kHealthy;
  resume_ = false;
  verify_ = false;
  ++epoch_;  // answers still on their way are for the failed records
}

std::vector<Position> ChannelWriter::UnackedPositionsLocked() const {
  std::vector<Position> positions;
  for (const Pending& pending : unacked_) {
    if (!pending.acked) positions.push_back(pending.position);
  }
  return positions;
}

bool ChannelWriter::NeedsRecovery() const {
  std::lock_guard lock(mu_);
  return state_ == State::kRecovering;
}

void ChannelWriter::Recover() {
  std::lock_guard send_lock(send_mu_);
  Completions done;
  std::vector<Position> resend;
  std::optional<Position> verify;
  std::optional<Position> probe;
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kRecovering) return;
    const auto now = Clock::now();
    if (unacked_.empty() || resume_) {
      resend = UnackedPositionsLocked();
      LeaveRecoveryLocked();
    } else if (now - stalled_since_ >= client_->options().retry_for) {
      FailEpochLocked(Status(Code::kIoFailed, fmt::format("NATS WAL channel {}: record {} not stored within {:.0f} s: "
                                                          "{}",
                                                          channel_, unacked_.front().position,
                                                          Seconds(client_->options().retry_for), last_error_)),
                      &done);
    } else if (verify_) {
      verify_ = false;
      verify = unacked_.front().position;
    } else if (unacked_.front().sent == nullptr && now >= next_probe_) {
      WarnStalledLocked(now);
      probe = unacked_.front().position;
    }
  }
  Complete(done);
  if (verify) Verify(*verify);
  if (probe) Send(*probe, std::min(client_->options().ack_timeout, kMaxProbeWait));
  for (Position position : resend) Send(position, client_->options().ack_timeout);
}

// The stream's last sequence is not `position` - 1 although every record before `position`
// is acknowledged: either this record is stored already and the answer saying so was lost,
// or the stream holds a record this writer did not append.
void ChannelWriter::Verify(Position position) {
  auto stored = client_->MessageIdAt(stream_, position);
  Completions done;
  {
    std::lock_guard lock(mu_);
    Pending* pending = FindLocked(position);
    if (pending == nullptr || pending->acked) return;  // settled meanwhile
    if (!stored.ok() || !stored->has_value()) {
      // Nothing to learn (or nothing there yet): probe again.
      next_probe_ = Clock::now() + kProbeDelay;
    } else if (**stored == FormatMessageId(writer_id_, epoch_, position)) {
      pending->acked = true;
      AdvanceLocked(&done);
      resume_ = true;
      kick_();
    } else {
      FailEpochLocked(Status(Code::kIoFailed, fmt::format("NATS WAL channel {}: sequence {} of stream {} holds a "
                                                          "record this WAL did not append (message id \"{}\"): "
                                                          "is another process appending to the channel?",
                                                          channel_, position, stream_, **stored)),
                      &done);
    }
  }
  Complete(done);
}

bool ChannelWriter::Idle() const {
  std::lock_guard lock(mu_);
  return unacked_.empty();
}

void ChannelWriter::FailPending(const Status& status) {
  Completions done;
  {
    std::lock_guard lock(mu_);
    if (!unacked_.empty()) FailEpochLocked(status, &done);
  }
  Complete(done);
}

void ChannelWriter::Complete(Completions& done) {
  for (auto& [promise, status] : done) promise.set_value(status);
}

}  // namespace quiver::wal::nats
