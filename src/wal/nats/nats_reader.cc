#include "wal/nats/nats_reader.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "wal/nats/nats_names.h"

namespace quiver::wal::nats {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// A pull lasts at most this long (and kPullGrace) before the reader looks at the WAL
// (closed?) again.
constexpr milliseconds kMaxPullWait{1000};
// A pull given less than this could expire before the server's answer is back.
constexpr milliseconds kMinPullWait{20};
// After a pull expires on the server, how long its end-of-pull status may take to arrive
// (measured: up to 60 ms late on an idle machine). Only a dead consumer makes a Read wait
// that much longer than its timeout.
constexpr milliseconds kPullGrace{1000};
// Pulls delivering nothing for this long make the reader compare with the stream's end.
constexpr std::chrono::seconds kStallCheckInterval{5};
// How often a reader looks for a stream that does not exist yet, or retries after an error.
constexpr milliseconds kRetryDelay{100};
// A consumer nobody pulls from for this long (a crashed reader's) is deleted by the server.
constexpr std::chrono::seconds kConsumerIdleLifetime{60};
constexpr size_t kMaxBatch = 4096;
constexpr char kStatusHeader[] = "Status";

Status ClosedError() { return Status(Code::kServiceNotReady, "WAL is closed"); }

milliseconds Remaining(Clock::time_point deadline) {
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

struct MsgDeleter {
  void operator()(natsMsg* message) const { natsMsg_Destroy(message); }
};

// The status code of a JetStream status message ("404", "408", ...); nullptr for a record.
const char* StatusOf(natsMsg* message) {
  const char* status = nullptr;
  if (natsMsg_GetDataLength(message) > 0 || natsMsgHeader_Get(message, kStatusHeader, &status) != NATS_OK) {
    return nullptr;
  }
  return status;
}

}  // namespace

NatsReader::NatsReader(std::shared_ptr<JsClient> client, std::string prefix, std::string channel, Position after)
    : client_(std::move(client)),
      channel_(std::move(channel)),
      stream_(StreamName(prefix, channel_)),
      next_(after + 1) {}

NatsReader::~NatsReader() { DropConsumer(/*delete_on_server=*/true); }

StatusOr<std::vector<Record>> NatsReader::Read(size_t max_records, milliseconds timeout) {
  if (max_records == 0) return std::vector<Record>{};
  const auto deadline = Clock::now() + timeout;
  for (bool first = true;; first = false) {
    if (client_->closed()) return ClosedError();
    // Records pulled before a failure are handed out; the next call meets the failure.
    if (!pulled_.empty()) return TakePulled(max_records);
    if (!failure_.ok()) return failure_;
    if (!first && Clock::now() >= deadline) return std::vector<Record>{};
    if (subscription_ == nullptr && !OpenConsumer(deadline)) {
      if (failure_.ok() && Clock::now() < deadline) {
        client_->SleepUnlessClosed(std::min(Remaining(deadline), kRetryDelay));
      }
      continue;
    }
    Pull(std::min(max_records, kMaxBatch), deadline);
  }
}

std::vector<Record> NatsReader::TakePulled(size_t max_records) {
  const size_t count = std::min(max_records, pulled_.size());
  std::vector<Record> records(std::make_move_iterator(pulled_.begin()),
                              std::make_move_iterator(pulled_.begin() + static_cast<std::ptrdiff_t>(count)));
  pulled_.erase(pulled_.begin(), pulled_.begin() + static_cast<std::ptrdiff_t>(count));
  next_ += count;
  return records;
}

bool NatsReader::OpenConsumer(Clock::time_point deadline) {
  if (!CreateConsumer(deadline)) return false;
  if (!Subscribe()) {
    DropConsumer(/*delete_on_server=*/true);
    return false;
  }
  if (warned_) spdlog::info("NATS WAL reader of {}: reading again from position {}", channel_, NextToPull());
  warned_ = false;
  last_progress_ = Clock::now();
  return true;
}

bool NatsReader::CreateConsumer(Clock::time_point deadline) {
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.DeliverPolicy = js_DeliverByStartSequence;
  config.OptStartSeq = NextToPull();
  config.AckPolicy = js_AckNone;
  config.InactiveThreshold = nanoseconds(kConsumerIdleLifetime).count();
  // Nothing in it is worth replicating: a lost consumer is re-created at next_.
  config.MemoryStorage = true;
  config.Replicas = 1;
  jsOptions request = client_->RequestOptions();
  const milliseconds request_timeout = client_->options().request_timeout;
  request.Wait = std::clamp(Remaining(deadline), std::min(kMaxPullWait, request_timeout), request_timeout).count();
  jsConsumerInfo* info = nullptr;
  jsErrCode error{};
  natsStatus status = js_AddConsumer(&info, client_->js(), stream_.c_str(), &config, &request, &error);
  NatsOutcome created = Outcome(status, error);
  if (!created.ok()) {
    jsConsumerInfo_Destroy(info);
    if (!created.not_found()) Warn("cannot create a consumer", created.ToString());  // not found: nothing appended
    return false;
  }
  consumer_ = info->Name;
  jsConsumerInfo_Destroy(info);
  // The consumer may run on a replica that has not applied a finished purge yet, and so
  // start too early: the leader's first sequence decides.
  auto state = client_->GetStreamState(stream_, /*retry=*/false, milliseconds(request.Wait));
  if (!state.ok() || !state->has_value()) {
    if (!state.ok()) Warn("cannot read the stream's state", state.status().reason());
    DropConsumer(/*delete_on_server=*/true);
    return false;
  }
  if ((*state)->first > NextToPull()) {
    failure_ = TruncatedError((*state)->first);
    DropConsumer(/*delete_on_server=*/true);
    return false;
  }
  return true;
}

bool NatsReader::Subscribe() {
  natsInbox* inbox = nullptr;
  natsStatus status = natsInbox_Create(&inbox);
  if (status == NATS_OK) inbox_ = inbox;
  natsInbox_Destroy(inbox);
  const std::string deliveries = inbox_ + ".*";
  if (status == NATS_OK)
    status = natsConnection_SubscribeSync(&subscription_, client_->connection(), deliveries.c_str());
  if (status != NATS_OK) {
    subscription_ = nullptr;
    Warn("cannot subscribe", Outcome(status).ToString());
    return false;
  }
  // Everything pulled waits here for the next Read; nothing may be dropped as too slow.
  natsSubscription_SetPendingLimits(subscription_, -1, -1);
  return true;
}

// What one pull got so far.
struct NatsReader::PullProgress {
  std::string reply;      // this pull's reply subject, where its statuses come
  size_t records = 0;     // records received, of this pull or an earlier one
  bool answered = false;  // a record or this pull's status came
  bool over = false;      // this pull's status came, or the consumer was dropped
};

void NatsReader::Pull(size_t max_records, Clock::time_point deadline) {
  const milliseconds wait = std::clamp(Remaining(deadline), kMinPullWait, kMaxPullWait);
  PullProgress pull{fmt::format("{}.{}", inbox_, ++request_)};
  if (!SendPullRequest(pull.reply, max_records, wait)) return;
  const Position start = NextToPull();
  const auto until = Clock::now() + wait + kPullGrace;
  while (!pull.over && pull.records < max_records && Clock::now() < until) {
    natsMsg* raw = nullptr;
    natsStatus status = natsSubscription_NextMsg(&raw, subscription_, std::max<int64_t>(1, Remaining(until).count()));
    if (status == NATS_TIMEOUT) break;
    if (status != NATS_OK) {
      if (!client_->closed()) Warn("cannot pull records", Outcome(status).ToString());
      DropConsumer(/*delete_on_server=*/false);
      return;
    }
    std::unique_ptr<natsMsg, MsgDeleter> message(raw);
    Take(message.get(), &pull);
  }
  if (subscription_ == nullptr) return;  // dropped
  if (!pull.answered) {
    // A live consumer answers every no-wait pull, at the latest with 408 when it expires.
    // Measured: pulls to a consumer whose server is dead get silence, not "no responders".
    Warn("its consumer does not answer", "no reply to a pull request");
    DropConsumer(/*delete_on_server=*/false);
    return;
  }
  if (NextToPull() > start) {
    last_progress_ = Clock::now();
  } else if (Clock::now() - last_progress_ >= kStallCheckInterval) {
    CheckNotBehind();
  }
}

bool NatsReader::SendPullRequest(const std::string& reply, size_t max_records, milliseconds wait) {
  const std::string subject = fmt::format("$JS.API.CONSUMER.MSG.NEXT.{}.{}", stream_, consumer_);
  // Measured on 2.9.10: a no-wait pull with an expiry answers as soon as any record is
  // there (with what is there, then 408) and otherwise waits for the first one until it
  // expires (408).
  const std::string request =
      fmt::format(R"({{"batch":{},"expires":{},"no_wait":true}})", max_records, nanoseconds(wait).count());
  natsStatus status =
      natsConnection_PublishRequestString(client_->connection(), subject.c_str(), reply.c_str(), request.c_str());
  if (status == NATS_OK) return true;
  Warn("cannot send a pull request", Outcome(status).ToString());
  DropConsumer(/*delete_on_server=*/false);
  return false;
}

void NatsReader::Take(natsMsg* message, PullProgress* pull) {
  const char* status = StatusOf(message);
  if (status == nullptr) {
    // Records keep their stream subject; any of them counts, as deliveries stay in order
    // whichever pull they answer.
    pull->answered = true;
    ++pull->records;
    if (!Accept(message)) pull->over = true;
    return;
  }
  // A status of an earlier pull is stale; 100 is a heartbeat.
  if (pull->reply != natsMsg_GetSubject(message) || std::strcmp(status, "100") == 0) return;
  pull->answered = true;
  pull->over = true;
  if (std::strcmp(status, "404") == 0 || std::strcmp(status, "408") == 0) return;  // nothing more for now
  // 409 and the like: the consumer was deleted, or the request refused.
  const char* description = nullptr;
  natsMsgHeader_Get(message, "Description", &description);
  Warn("pull refused", fmt::format("{} {}", status, description != nullptr ? description : ""));
  DropConsumer(/*delete_on_server=*/true);
}

// A consumer may answer but fall behind for good (its replica stuck): re-created once the
// stream's leader holds records it has not delivered for a while.
void NatsReader::CheckNotBehind() {
  last_progress_ = Clock::now();
  auto state = client_->GetStreamState(stream_, /*retry=*/false, kMaxPullWait);
  if (!state.ok() || !state->has_value() || (*state)->last < NextToPull()) return;
  Warn("its consumer delivers nothing", fmt::format("the stream holds positions up to {}", (*state)->last));
  DropConsumer(/*delete_on_server=*/true);
}

bool NatsReader::Accept(natsMsg* message) {
  jsMsgMetaData* meta = nullptr;
  NatsOutcome parsed = Outcome(natsMsg_GetMetaData(&meta, message));
  if (!parsed.ok()) {
    Warn("got a record without JetStream metadata", parsed.ToString());
    DropConsumer(/*delete_on_server=*/true);
    return false;
  }
  const Position sequence = meta->Sequence.Stream;
  jsMsgMetaData_Destroy(meta);
  const Position expected = NextToPull();
  if (sequence < expected) return true;  // delivered again by a re-created consumer
  if (sequence > expected) {
    // Truncated, or lost with a dropped connection: the new consumer's check tells which.
    DropConsumer(/*delete_on_server=*/true);
    return false;
  }
  pulled_.push_back({sequence, std::string(natsMsg_GetData(message), natsMsg_GetDataLength(message))});
  return true;
}

void NatsReader::DropConsumer(bool delete_on_server) {
  natsSubscription_Destroy(subscription_);
  subscription_ = nullptr;
  if (delete_on_server && !consumer_.empty() && !client_->closed()) {
    jsOptions request = client_->RequestOptions();
    request.Wait = kMaxPullWait.count();
    js_DeleteConsumer(client_->js(), stream_.c_str(), consumer_.c_str(), &request, nullptr);
  }
  consumer_.clear();
}

void NatsReader::Warn(const std::string& what, const std::string& detail) {
  if (warned_ || client_->closed()) return;
  warned_ = true;
  spdlog::warn("NATS WAL reader of {} at position {}: {} ({}); retrying", channel_, NextToPull(), what, detail);
}

Status NatsReader::TruncatedError(Position first_kept) const {
  return Status(Code::kIoFailed, fmt::format("WAL channel {}: position {} was truncated (records before {} are gone)",
                                             channel_, NextToPull(), first_kept));
}

}  // namespace quiver::wal::nats
