#include "wal/nats/nats_wal.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <unordered_map>

#include "wal/channel_name.h"
#include "wal/nats/nats_names.h"
#include "wal/nats/nats_reader.h"

namespace quiver::wal::nats {
namespace {

using std::chrono::milliseconds;

constexpr char kMessageIdHeader[] = "Nats-Msg-Id";
// Room left in a message for the headers next to the record.
constexpr int64_t kHeaderAllowance = 1024;
// How often the recovery thread looks at recovering channels.
constexpr milliseconds kRecoveryTick{50};
// Beyond retry_for, what a closing WAL gives pending appends to settle.
constexpr milliseconds kCloseGrace{5000};

Status ClosedError() { return Status(Code::kServiceNotReady, "WAL is closed"); }

// Publish acknowledgments arrive on a NATS library thread that neither stops nor tells when
// it is done with the callback's closure, so the closure is an id in this registry, never a
// pointer: a WAL leaves the registry (waiting for callbacks in progress) before it is freed.
class CallbackRegistry {
 public:
  static CallbackRegistry& Get() {
    static CallbackRegistry* registry = new CallbackRegistry;  // used until exit by NATS threads
    return *registry;
  }

  uint64_t Add(NatsWal* wal) {
    std::lock_guard lock(mu_);
    const uint64_t id = next_id_++;
    entries_[id] = {wal, 0};
    return id;
  }

  // Returns once no callback for `id` runs any more; later ones find nothing.
  void Remove(uint64_t id) {
    std::unique_lock lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    it->second.wal = nullptr;
    idle_.wait(lock, [&] { return entries_.at(id).running == 0; });
    entries_.erase(id);
  }

  // Calls `fn` with the WAL registered under `id`, if it still is.
  template <typename F>
  void With(uint64_t id, F fn) {
    NatsWal* wal = nullptr;
    {
      std::lock_guard lock(mu_);
      auto it = entries_.find(id);
      if (it == entries_.end() || it->second.wal == nullptr) return;
      wal = it->second.wal;
      ++it->second.running;
    }
    fn(wal);
    std::lock_guard lock(mu_);
    if (--entries_.at(id).running == 0) idle_.notify_all();
  }

 private:
  struct Entry {
    NatsWal* wal = nullptr;
    int running = 0;
  };
  std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_map<uint64_t, Entry> entries_;
  uint64_t next_id_ = 1;
};

Status ValidateOptions(const NatsWalOptions& options) {
  if (options.servers.empty()) return InvalidParameter("the NATS WAL needs at least one server URL");
  if (options.replicas < 1 || options.replicas > 5) {
    return InvalidParameter(fmt::format("NATS WAL replicas must be 1 to 5, not {}", options.replicas));
  }
  QUIVER_RETURN_IF_ERROR(ValidateStreamPrefix(options.stream_prefix));
  for (milliseconds timeout : {options.connect_timeout, options.request_timeout, options.ack_timeout}) {
    if (timeout.count() <= 0) return InvalidParameter("NATS WAL timeouts must be positive");
  }
  if (options.retry_for.count() < 0) return InvalidParameter("NATS WAL retry_for must not be negative");
  return Status::OK();
}

}  // namespace

NatsWal::NatsWal(NatsWalOptions options) : options_(std::move(options)), writer_id_(NewWriterId()) {}

StatusOr<std::unique_ptr<NatsWal>> NatsWal::Open(const NatsWalOptions& options) {
  QUIVER_RETURN_IF_ERROR(ValidateOptions(options));
  std::unique_ptr<NatsWal> wal(new NatsWal(options));
  wal->registration_ = CallbackRegistry::Get().Add(wal.get());
  auto client = JsClient::Connect(options, &NatsWal::OnPubAck,
                                  reinterpret_cast<void*>(static_cast<uintptr_t>(wal->registration_)));
  if (!client.ok()) return client.status();
  wal->client_ = std::move(*client);
  wal->recovery_thread_ = std::thread([raw = wal.get()] { raw->RecoveryLoop(); });
  spdlog::info("NATS WAL: connected to {} (stream prefix {}, {} replicas)", fmt::join(options.servers, ", "),
               options.stream_prefix, options.replicas);
  return wal;
}

NatsWal::~NatsWal() {
  {
    std::lock_guard lock(writers_mu_);
    closing_ = true;
  }
  if (client_) WaitForPendingAppends();
  {
    std::lock_guard lock(recovery_mu_);
    stopping_ = true;
  }
  recovery_cv_.notify_all();
  if (recovery_thread_.joinable()) recovery_thread_.join();
  CallbackRegistry::Get().Remove(registration_);
  for (const auto& writer : Writers()) writer->FailPending(ClosedError());
  if (client_) client_->Close();
}

// Pending appends settle within retry_for (the recovery thread fails them then).
void NatsWal::WaitForPendingAppends() {
  const auto deadline = Clock::now() + options_.retry_for + options_.ack_timeout + kCloseGrace;
  for (const auto& writer : Writers()) {
    while (!writer->Idle() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(2));
  }
}

void NatsWal::OnPubAck(jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* closure) {
  const auto registration = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(closure));
  CallbackRegistry::Get().With(registration, [&](NatsWal* wal) { wal->DispatchPubAck(message, ack, error); });
  natsMsg_Destroy(message);  // the callback owns it
}

void NatsWal::DispatchPubAck(natsMsg* message, const jsPubAck* ack, const jsPubAckErr* error) {
  auto channel = ChannelOfSubject(options_.stream_prefix, natsMsg_GetSubject(message));
  const char* id_text = nullptr;
  if (!channel || natsMsgHeader_Get(message, kMessageIdHeader, &id_text) != NATS_OK || id_text == nullptr) return;
  auto id = ParseMessageId(writer_id_, id_text);
  auto writer = FindWriter(*channel);
  if (id && writer) writer->OnPubAck(message, *id, ack, error);
}

std::shared_ptr<ChannelWriter> NatsWal::FindWriter(const std::string& channel) {
  std::lock_guard lock(writers_mu_);
  auto it = writers_.find(channel);
  return it == writers_.end() ? nullptr : it->second;
}

std::shared_ptr<ChannelWriter> NatsWal::FindOrAddWriter(const std::string& channel) {
  std::lock_guard lock(writers_mu_);
  if (closing_) return nullptr;
  auto& writer = writers_[channel];
  if (!writer) {
    writer = std::make_shared<ChannelWriter>(client_, writer_id_, options_.stream_prefix, channel, [this] { Kick(); });
  }
  return writer;
}

std::vector<std::shared_ptr<ChannelWriter>> NatsWal::Writers() {
  std::lock_guard lock(writers_mu_);
  std::vector<std::shared_ptr<ChannelWriter>> writers;
  for (const auto& [name, writer] : writers_) writers.push_back(writer);
  return writers;
}

Status NatsWal::ValidatePayloads(const std::vector<std::string>& payloads) const {
  if (payloads.empty()) return InvalidParameter("a WAL append needs at least one record");
  const int64_t limit = client_->max_payload() - kHeaderAllowance;
  for (const std::string& payload : payloads) {
    if (static_cast<int64_t>(payload.size()) > limit) {
      return Status(Code::kParameterTooLarge,
                    fmt::format("WAL record of {} bytes exceeds the limit of {} bytes (the NATS servers' max_payload "
                                "less room for headers)",
                                payload.size(), limit));
    }
  }
  return Status::OK();
}

StatusOr<AppendResult> NatsWal::Append(const std::string& channel, const std::vector<std::string>& payloads) {
  QUIVER_RETURN_IF_ERROR(ValidateChannelName(channel));
  QUIVER_RETURN_IF_ERROR(ValidatePayloads(payloads));
  auto writer = FindOrAddWriter(channel);
  if (!writer) return ClosedError();
  return writer->Append(payloads);
}

StatusOr<std::unique_ptr<WalReader>> NatsWal::OpenReader(const std::string& channel, Position after) {
  QUIVER_RETURN_IF_ERROR(ValidateChannelName(channel));
  if (after == std::numeric_limits<Position>::max()) return InvalidParameter("WAL reader position out of range");
  return std::unique_ptr<WalReader>(new NatsReader(client_, options_.stream_prefix, channel, after));
}

StatusOr<Position> NatsWal::LastPosition(const std::string& channel) {
  QUIVER_RETURN_IF_ERROR(ValidateChannelName(channel));
  auto state = client_->GetStreamState(StreamName(options_.stream_prefix, channel));
  if (!state.ok()) return state.status();
  return state->has_value() ? (*state)->last : Position{0};
}

Status NatsWal::Truncate(const std::string& channel, Position before) {
  QUIVER_RETURN_IF_ERROR(ValidateChannelName(channel));
  const std::string stream = StreamName(options_.stream_prefix, channel);
  auto state = client_->GetStreamState(stream);
  if (!state.ok()) return state.status();
  if (!state->has_value() || (*state)->first == 0) return Status::OK();
  // Measured: purging up to a sequence past the end moves the stream's last sequence there,
  // which would break positions.
  before = std::min(before, (*state)->last + 1);
  if (before <= (*state)->first) return Status::OK();
  return client_->Purge(stream, before);
}

StatusOr<std::vector<std::string>> NatsWal::Channels() {
  auto streams = client_->StreamNames(SubjectFilter(options_.stream_prefix));
  if (!streams.ok()) return streams.status();
  std::vector<std::string> channels;
  for (const std::string& stream : *streams) {
    if (auto channel = ChannelOfStream(options_.stream_prefix, stream)) channels.push_back(*channel);
  }
  std::sort(channels.begin(), channels.end());
  return channels;
}

void NatsWal::Kick() {
  {
    std::lock_guard lock(recovery_mu_);
    kicked_ = true;
  }
  recovery_cv_.notify_one();
}

void NatsWal::RecoveryLoop() {
  for (;;) {
    {
      std::unique_lock lock(recovery_mu_);
      recovery_cv_.wait_for(lock, kRecoveryTick, [&] { return stopping_ || kicked_; });
      if (stopping_) return;
      kicked_ = false;
    }
    for (const auto& writer : Writers()) {
      if (writer->NeedsRecovery()) writer->Recover();
    }
  }
}

}  // namespace quiver::wal::nats
