#include "meta/etcd/etcd_watch.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace quiver::meta {
namespace {

// Whether a watch from `start_revision` would still find its history: a read at that
// revision fails exactly when etcd compacted past it.
Status CheckHistory(const EtcdConnection& connection, const std::string& full_prefix, int64_t start_revision) {
  etcdserverpb::RangeRequest request;
  request.set_key(full_prefix);
  request.set_range_end(PrefixEnd(full_prefix));
  request.set_count_only(true);
  request.set_revision(start_revision);
  etcdserverpb::RangeResponse response;
  bool compacted = false;
  Status status = connection.Call("Range (watch start)", [&](grpc::ClientContext* context) {
    grpc::Status s = connection.kv().Range(context, request, &response);
    if (s.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
      compacted = s.error_message().find("compacted") != std::string::npos;
      return grpc::Status::OK;  // a future revision: nothing happened yet, nothing is lost
    }
    return s;
  });
  if (compacted) {
    return Status(Code::kIoFailed, fmt::format("etcd: watch from revision {} is not possible: that history has been "
                                               "compacted",
                                               start_revision - 1));
  }
  return status;
}

// Clears the stream context the canceller may signal before the context goes away.
class StreamRegistration {
 public:
  StreamRegistration(std::mutex& mu, grpc::ClientContext** slot) : mu_(mu), slot_(slot) {}
  ~StreamRegistration() {
    std::lock_guard lock(mu_);
    *slot_ = nullptr;
  }

 private:
  std::mutex& mu_;
  grpc::ClientContext** slot_;
};

}  // namespace

class EtcdWatch::Handle : public WatchHandle {
 public:
  explicit Handle(std::shared_ptr<EtcdWatch> watch) : watch_(std::move(watch)) {}
  ~Handle() override { watch_->Cancel(); }

 private:
  std::shared_ptr<EtcdWatch> watch_;
};

StatusOr<std::unique_ptr<WatchHandle>> EtcdWatch::Start(std::shared_ptr<const EtcdConnection> connection,
                                                        const KeySpace& keys, const std::string& prefix,
                                                        int64_t after_revision,
                                                        std::function<void(const WatchEvent&)> on_event,
                                                        std::function<void(const Status&)> on_broken) {
  QUIVER_RETURN_IF_ERROR(CheckHistory(*connection, keys.Full(prefix), after_revision + 1));
  auto watch = std::make_shared<EtcdWatch>(std::move(connection), keys, prefix, after_revision, std::move(on_event),
                                           std::move(on_broken));
  {
    // Run() waits for this lock, so the thread sees thread_ assigned when it cancels itself.
    std::lock_guard lock(watch->mu_);
    // The thread holds the watch too: a callback that destroys its own handle detaches it.
    watch->thread_ = std::thread([watch] { watch->Run(); });
  }
  return std::unique_ptr<WatchHandle>(std::make_unique<Handle>(std::move(watch)));
}

EtcdWatch::EtcdWatch(std::shared_ptr<const EtcdConnection> connection, KeySpace keys, std::string prefix,
                     int64_t after_revision, std::function<void(const WatchEvent&)> on_event,
                     std::function<void(const Status&)> on_broken)
    : connection_(std::move(connection)),
      keys_(std::move(keys)),
      prefix_(std::move(prefix)),
      on_event_(std::move(on_event)),
      on_broken_(std::move(on_broken)),
      next_revision_(after_revision + 1) {}

void EtcdWatch::Run() {
  { std::lock_guard started(mu_); }
  for (int failures = 0; !cancelled_;) {
    std::string why;
    bool created = false;
    if (Follow(&why, &created) != StreamEnd::kBroken || cancelled_) return;
    failures = created ? 1 : failures + 1;
    const auto backoff = RetryBackoff(failures);
    spdlog::warn("etcd watch on '{}' broke ({}); resuming from revision {} in {} ms", prefix_, why, next_revision_,
                 backoff.count());
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, backoff, [this] { return cancelled_.load(); });
  }
}

EtcdWatch::StreamEnd EtcdWatch::Follow(std::string* why, bool* created) {
  grpc::ClientContext context;
  PrepareContext(&context, std::nullopt);
  // A member cut off from the leader then ends the stream instead of going quiet.
  context.AddMetadata("hasleader", "true");
  {
    std::lock_guard lock(mu_);
    if (cancelled_) return StreamEnd::kCancelled;
    stream_context_ = &context;
  }
  StreamRegistration registration(mu_, &stream_context_);
  auto stream = connection_->watch().Watch(&context);
  etcdserverpb::WatchRequest request;
  auto* create = request.mutable_create_request();
  create->set_key(keys_.Full(prefix_));
  create->set_range_end(PrefixEnd(keys_.Full(prefix_)));
  create->set_start_revision(next_revision_);

  StreamEnd end = StreamEnd::kBroken;
  bool open = stream->Write(request);
  etcdserverpb::WatchResponse response;
  while (open && !cancelled_) {
    if (!stream->Read(&response)) {
      open = false;
    } else if (response.compact_revision() > 0) {
      end = StreamEnd::kCompacted;
      Broken(response.compact_revision());
      break;
    } else if (response.canceled()) {
      *why = "cancelled by etcd: " + response.cancel_reason();
      break;
    } else {
      *created = *created || response.created();
      Deliver(response);
    }
  }
  if (cancelled_) end = StreamEnd::kCancelled;
  if (open) context.TryCancel();  // Finish() would wait for the server otherwise
  grpc::Status status = stream->Finish();
  if (why->empty()) why->assign(status.ok() ? "stream ended" : status.error_message());
  return end;
}

void EtcdWatch::Deliver(const etcdserverpb::WatchResponse& response) {
  for (const auto& event : response.events()) {
    if (cancelled_) return;
    const auto& kv = event.kv();
    if (kv.mod_revision() < next_revision_) continue;  // delivered before the stream broke
    WatchEvent out;
    out.type = event.type() == mvccpb::Event::DELETE ? WatchEvent::Type::kDelete : WatchEvent::Type::kPut;
    out.kv = KeyValue{keys_.User(kv.key()), kv.value(), kv.mod_revision(), kv.lease()};
    on_event_(out);
  }
  // A revision's events always come in one response, so the next stream starts after them.
  if (!response.events().empty() && !cancelled_) {
    next_revision_ = response.events(response.events_size() - 1).kv().mod_revision() + 1;
  }
}

void EtcdWatch::Broken(int64_t compact_revision) {
  Status status(Code::kIoFailed, fmt::format("etcd watch on '{}' cannot resume from revision {}: history up to "
                                             "revision {} has been compacted, so changes were missed",
                                             prefix_, next_revision_, compact_revision));
  spdlog::error("{}", status.reason());
  if (on_broken_ && !cancelled_) on_broken_(status);
}

void EtcdWatch::Cancel() {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    if (stream_context_ != nullptr) stream_context_->TryCancel();
  }
  wake_.notify_all();
  if (std::this_thread::get_id() == thread_.get_id()) {
    thread_.detach();  // called by the callback: the thread ends when it returns
  } else if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace quiver::meta
