#include "wal/nats/nats_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

namespace quiver::wal::nats {
namespace {

using std::chrono::milliseconds;

constexpr char kMessageIdHeader[] = "Nats-Msg-Id";
// Buffered while reconnecting: room for a few of the largest records.
constexpr int kReconnectBufferBytes = 256 << 20;
constexpr int kReconnectWaitMs = 250;
// A dead server whose socket stays open (a partition, not a kill) is given up after
// kMaxPingsOut unanswered pings.
constexpr int64_t kPingIntervalMs = 5000;
constexpr int kMaxPingsOut = 3;
constexpr milliseconds kFirstRetryDelay{200};
constexpr milliseconds kMaxRetryDelay{1000};

// JetStream error codes that mean "the cluster is electing or moving a leader".
// 10077 (JSStreamStoreFailedErr) is what 2.9 answers a publish that reaches a leader whose
// sequence bookkeeping is behind, e.g. right after a purge: measured, and it passes.
constexpr std::array kTransientJsErrors = {
    JSClusterIncompleteErr,  JSClusterNoPeersErr,         JSClusterNotActiveErr,
    JSClusterNotAssignedErr, JSClusterNotAvailErr,        JSClusterNotLeaderErr,
    JSRaftGeneralErr,        JSStreamSequenceNotMatchErr, JSStreamStoreFailedErr,
};

struct OptionsDeleter {
  void operator()(natsOptions* options) const { natsOptions_Destroy(options); }
};
struct StreamInfoDeleter {
  void operator()(jsStreamInfo* info) const { jsStreamInfo_Destroy(info); }
};
struct MsgDeleter {
  void operator()(natsMsg* msg) const { natsMsg_Destroy(msg); }
};
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, StreamInfoDeleter>;

void OnDisconnected(natsConnection* connection, void*) {
  if (natsConnection_IsClosed(connection)) return;
  spdlog::warn("NATS WAL: lost the connection to the NATS cluster; reconnecting");
}

void OnReconnected(natsConnection* connection, void*) {
  char url[256] = "";
  natsConnection_GetConnectedUrl(connection, url, sizeof url);
  spdlog::info("NATS WAL: reconnected to {}", url);
}

void OnAsyncError(natsConnection*, natsSubscription*, natsStatus error, void*) {
  spdlog::warn("NATS WAL: asynchronous NATS error: {}", natsStatus_GetText(error));
}

StatusOr<std::unique_ptr<natsOptions, OptionsDeleter>> ConnectionOptions(const NatsWalOptions& options) {
  natsOptions* raw = nullptr;
  if (natsOptions_Create(&raw) != NATS_OK) return Outcome(NATS_NO_MEMORY).ToStatus("NATS options");
  std::unique_ptr<natsOptions, OptionsDeleter> owned(raw);
  std::vector<const char*> urls;
  for (const std::string& server : options.servers) urls.push_back(server.c_str());
  natsStatus status = natsOptions_SetServers(raw, urls.data(), static_cast<int>(urls.size()));
  if (status == NATS_OK) status = natsOptions_SetName(raw, "quiver-wal");
  if (status == NATS_OK) status = natsOptions_SetTimeout(raw, options.connect_timeout.count());
  if (status == NATS_OK) status = natsOptions_SetMaxReconnect(raw, -1);
  if (status == NATS_OK) status = natsOptions_SetReconnectWait(raw, kReconnectWaitMs);
  if (status == NATS_OK) status = natsOptions_SetReconnectBufSize(raw, kReconnectBufferBytes);
  // Each publish goes out at once instead of after the library's 1 ms batching pause: an
  // append waits for its acknowledgment, so that pause would be paid by every append.
  if (status == NATS_OK) status = natsOptions_SetSendAsap(raw, true);
  if (status == NATS_OK) status = natsOptions_SetPingInterval(raw, kPingIntervalMs);
  if (status == NATS_OK) status = natsOptions_SetMaxPingsOut(raw, kMaxPingsOut);
  if (status == NATS_OK) status = natsOptions_SetDisconnectedCB(raw, OnDisconnected, nullptr);
  if (status == NATS_OK) status = natsOptions_SetReconnectedCB(raw, OnReconnected, nullptr);
  if (status == NATS_OK) status = natsOptions_SetErrorHandler(raw, OnAsyncError, nullptr);
  if (status != NATS_OK) return Outcome(status).ToStatus("NATS connection options");
  return owned;
}

}  // namespace

bool NatsOutcome::transient() const {
  switch (status) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
      return true;
    case NATS_ERR:
      return std::find(kTransientJsErrors.begin(), kTransientJsErrors.end(), js_error) != kTransientJsErrors.end();
    default:
      return false;
  }
}

bool NatsOutcome::not_found() const {
  return status == NATS_NOT_FOUND || js_error == JSStreamNotFoundErr || js_error == JSNoMessageFoundErr;
}

std::string NatsOutcome::ToString() const {
  std::string text = natsStatus_GetText(status);
  if (js_error != 0) text += fmt::format(" (JetStream error {})", js_error);
  if (!detail.empty()) text += ": " + detail;
  return text;
}

Status NatsOutcome::ToStatus(const std::string& what) const {
  return Status(Code::kIoFailed, fmt::format("NATS WAL: {} failed: {}", what, ToString()));
}

NatsOutcome Outcome(natsStatus status, int js_error) {
  NatsOutcome outcome{status, js_error, {}};
  if (status != NATS_OK) {
    const char* detail = nats_GetLastError(nullptr);
    if (detail != nullptr) outcome.detail = detail;
  }
  return outcome;
}

StatusOr<std::shared_ptr<JsClient>> JsClient::Connect(const NatsWalOptions& options, jsPubAckHandler on_pub_ack,
                                                      void* closure) {
  auto nats_options = ConnectionOptions(options);
  if (!nats_options.ok()) return nats_options.status();
  natsConnection* connection = nullptr;
  natsStatus status = natsConnection_Connect(&connection, nats_options->get());
  if (status != NATS_OK) {
    return Outcome(status).ToStatus(fmt::format("connecting to {}", fmt::join(options.servers, ", ")));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options.request_timeout.count();
  js_options.PublishAsync.AckHandler = on_pub_ack;
  js_options.PublishAsync.AckHandlerClosure = closure;
  jsCtx* js = nullptr;
  status = natsConnection_JetStream(&js, connection, &js_options);
  if (status != NATS_OK) {
    NatsOutcome outcome = Outcome(status);
    natsConnection_Destroy(connection);
    return outcome.ToStatus("opening a JetStream context");
  }
  return std::shared_ptr<JsClient>(new JsClient(options, connection, js));
}

JsClient::JsClient(NatsWalOptions options, natsConnection* connection, jsCtx* js)
    : options_(std::move(options)), connection_(connection), js_(js) {}

JsClient::~JsClient() {
  Close();
  jsCtx_Destroy(js_);
  natsConnection_Destroy(connection_);
}

int64_t JsClient::max_payload() const { return natsConnection_GetMaxPayload(connection_); }

jsOptions JsClient::RequestOptions() const {
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = options_.request_timeout.count();
  return options;
}

void JsClient::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
  }
  closed_cv_.notify_all();
  natsConnection_Close(connection_);
}

bool JsClient::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void JsClient::SleepUnlessClosed(Clock::duration duration) const {
  std::unique_lock lock(mu_);
  closed_cv_.wait_for(lock, duration, [&] { return closed_; });
}

NatsOutcome JsClient::Retry(const std::string& what, const std::function<NatsOutcome()>& call) const {
  const auto deadline = Clock::now() + options_.retry_for;
  milliseconds delay = kFirstRetryDelay;
  for (int attempt = 1;; ++attempt) {
    NatsOutcome outcome = call();
    if (outcome.ok() || !outcome.transient() || closed() || Clock::now() + delay >= deadline) return outcome;
    spdlog::warn("NATS WAL: {} failed ({}); retrying (attempt {})", what, outcome.ToString(), attempt);
    SleepUnlessClosed(delay);
    delay = std::min(delay * 2, kMaxRetryDelay);
  }
}

StatusOr<std::optional<StreamState>> JsClient::GetStreamState(const std::string& stream, bool retry,
                                                              milliseconds wait) const {
  StreamInfoPtr info;
  const std::string what = "reading the state of stream " + stream;
  auto call = [&] {
    jsStreamInfo* raw = nullptr;
    jsOptions request = RequestOptions();
    if (!retry) request.Wait = wait.count();
    jsErrCode error{};
    natsStatus status = js_GetStreamInfo(&raw, js_, stream.c_str(), &request, &error);
    info.reset(raw);
    return Outcome(status, error);
  };
  NatsOutcome outcome = retry ? Retry(what, call) : call();
  if (outcome.not_found()) return std::optional<StreamState>();
  if (!outcome.ok()) return outcome.ToStatus(what);
  return std::optional<StreamState>(StreamState{info->State.FirstSeq, info->State.LastSeq});
}

NatsOutcome JsClient::CreateStream(const std::string& stream, const std::string& subject) const {
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = stream.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = options_.replicas;
  config.Retention = js_LimitsPolicy;
  config.Discard = js_DiscardOld;
  // Retries reuse message ids for up to retry_for; the window must cover them.
  config.Duplicates =
      std::chrono::nanoseconds(std::max<milliseconds>(std::chrono::minutes(2), options_.retry_for * 2)).count();
  return Retry("creating stream " + stream, [&] {
    jsStreamInfo* raw = nullptr;
    jsOptions request = RequestOptions();
    jsErrCode error{};
    // Creating a stream that exists with this configuration succeeds, so a retry after a
    // lost answer is harmless.
    natsStatus status = js_AddStream(&raw, js_, &config, &request, &error);
    jsStreamInfo_Destroy(raw);
    return Outcome(status, error);
  });
}

StatusOr<StreamState> JsClient::EnsureStream(const std::string& stream, const std::string& subject) const {
  auto state = GetStreamState(stream);
  if (!state.ok()) return state.status();
  if (state->has_value()) return **state;
  NatsOutcome created = CreateStream(stream, subject);
  if (!created.ok() && created.js_error != JSStreamNameExistErr) return created.ToStatus("creating stream " + stream);
  if (!created.ok()) {
    // Created meanwhile with another configuration (another replica count, say): use it.
    spdlog::warn("NATS WAL: stream {} exists with another configuration than this WAL's; using it as it is", stream);
  }
  state = GetStreamState(stream);
  if (!state.ok()) return state.status();
  if (!state->has_value()) {
    return Status(Code::kIoFailed, fmt::format("NATS WAL: stream {} vanished right after it was created", stream));
  }
  return **state;
}

Status JsClient::Purge(const std::string& stream, Position before) const {
  const std::string what = fmt::format("purging stream {} below sequence {}", stream, before);
  NatsOutcome outcome = Retry(what, [&] {
    jsOptions request = RequestOptions();
    request.Stream.Purge.Sequence = before;
    jsErrCode error{};
    natsStatus status = js_PurgeStream(js_, stream.c_str(), &request, &error);
    return Outcome(status, error);
  });
  if (outcome.ok() || outcome.not_found()) return Status::OK();
  return outcome.ToStatus(what);
}

StatusOr<std::vector<std::string>> JsClient::StreamNames(const std::string& subject_filter) const {
  jsStreamNamesList* list = nullptr;
  const std::string what = "listing the streams of " + subject_filter;
  NatsOutcome outcome = Retry(what, [&] {
    jsStreamNamesList_Destroy(list);
    list = nullptr;
    jsOptions request = RequestOptions();
    request.Stream.Info.SubjectsFilter = subject_filter.c_str();
    jsErrCode error{};
    natsStatus status = js_StreamNames(&list, js_, &request, &error);
    return Outcome(status, error);
  });
  std::vector<std::string> names;
  if (outcome.ok()) {
    for (int i = 0; i < list->Count; ++i) names.emplace_back(list->List[i]);
  }
  jsStreamNamesList_Destroy(list);
  // 2.9 answers "not found" when no stream matches.
  if (!outcome.ok() && !outcome.not_found()) return outcome.ToStatus(what);
  return names;
}

StatusOr<std::optional<std::string>> JsClient::MessageIdAt(const std::string& stream, Position sequence) const {
  std::unique_ptr<natsMsg, MsgDeleter> message;
  const std::string what = fmt::format("reading message {} of stream {}", sequence, stream);
  natsMsg* raw = nullptr;
  jsOptions request = RequestOptions();
  jsErrCode error{};
  natsStatus status = js_GetMsg(&raw, js_, stream.c_str(), sequence, &request, &error);
  message.reset(raw);
  NatsOutcome outcome = Outcome(status, error);
  if (outcome.not_found()) return std::optional<std::string>();
  if (!outcome.ok()) return outcome.ToStatus(what);
  const char* id = nullptr;
  if (natsMsgHeader_Get(message.get(), kMessageIdHeader, &id) != NATS_OK || id == nullptr) {
    return std::optional<std::string>(std::string());
  }
  return std::optional<std::string>(std::string(id));
}

}  // namespace quiver::wal::nats
