// EtcdWatch: one MetaKV watch as an etcd watch stream, on a thread of its own.
//
// When the stream breaks (its member died or lost its leader) the thread opens a new one,
// with backoff, from the revision after the last one delivered; events of one revision
// always arrive together, so none is delivered twice or skipped. If etcd compacted that
// revision meanwhile, the watch ends and reports it through `on_broken`.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "meta/etcd/etcd_connection.h"
#include "meta/etcd/etcd_keys.h"
#include "meta/meta_kv.h"

namespace quiver::meta {

class EtcdWatch : public std::enable_shared_from_this<EtcdWatch> {
 public:
  // Fails (kIoFailed) if history after `after_revision` is already compacted.
  static StatusOr<std::unique_ptr<WatchHandle>> Start(std::shared_ptr<const EtcdConnection> connection,
                                                      const KeySpace& keys, const std::string& prefix,
                                                      int64_t after_revision,
                                                      std::function<void(const WatchEvent&)> on_event,
                                                      std::function<void(const Status&)> on_broken);

  EtcdWatch(std::shared_ptr<const EtcdConnection> connection, KeySpace keys, std::string prefix, int64_t after_revision,
            std::function<void(const WatchEvent&)> on_event, std::function<void(const Status&)> on_broken);

 private:
  class Handle;
  enum class StreamEnd { kBroken, kCompacted, kCancelled };

  void Run();
  // One stream, from next_revision_ until it ends; `why` says why it broke.
  StreamEnd Follow(std::string* why, bool* created);
  void Deliver(const etcdserverpb::WatchResponse& response);
  void Broken(int64_t compact_revision);
  // Stops the thread and waits for a running callback, unless called from it.
  void Cancel();

  const std::shared_ptr<const EtcdConnection> connection_;
  const KeySpace keys_;
  const std::string prefix_;  // the caller's, without the root path
  const std::function<void(const WatchEvent&)> on_event_;
  const std::function<void(const Status&)> on_broken_;
  int64_t next_revision_;  // only the watch thread touches it

  std::atomic<bool> cancelled_ = false;
  std::mutex mu_;  // guards stream_context_ and wakes the backoff sleep
  std::condition_variable wake_;
  grpc::ClientContext* stream_context_ = nullptr;
  std::thread thread_;
};

}  // namespace quiver::meta
