// EtcdConnection: one gRPC channel to every etcd member, and the retry policy of all calls.
//
// The channel balances calls round-robin over the members' addresses, so a dead member is
// skipped once its connection fails. A unary call gets `request_timeout` per attempt and is
// retried with backoff while etcd answers "unavailable" (member down, leader election under
// way, deadline passed) for up to `retry_timeout`, logging one warning per retry; then it
// fails with kIoFailed naming etcd. Shared (shared_ptr) by the store and its watches, which
// may outlive it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "meta/meta_kv_factory.h"

namespace quiver::meta {

class EtcdConnection {
 public:
  // Resolves the endpoints ("host:port", optionally "http://host:port") to IPv4 addresses.
  static StatusOr<std::shared_ptr<EtcdConnection>> Connect(const EtcdOptions& options);

  using Attempt = std::function<grpc::Status(grpc::ClientContext*)>;

  // Runs `attempt` until it succeeds, fails for good, or etcd stays unavailable past the
  // retry budget. `ambiguous` (optional) is set when an attempt failed without an answer:
  // a write may then have been applied although the call reports an error, or applied
  // by an earlier attempt when it reports success.
  Status Call(std::string_view what, const Attempt& attempt, bool* ambiguous = nullptr) const;
  // One attempt only, `timeout` at most: best-effort cleanup that must not block long.
  Status CallOnce(std::string_view what, const Attempt& attempt, std::chrono::milliseconds timeout) const;

  etcdserverpb::KV::Stub& kv() const { return *kv_; }
  etcdserverpb::Watch::Stub& watch() const { return *watch_; }
  etcdserverpb::Lease::Stub& lease() const { return *lease_; }
  const EtcdOptions& options() const { return options_; }
  // "127.0.0.1:2379,..." for messages.
  const std::string& endpoints() const { return endpoints_; }

  // Whether a failed call may succeed when repeated (etcd unavailable or electing a leader).
  static bool IsRetryable(const grpc::Status& status);
  // kIoKeyNotFound for NOT_FOUND (etcd's "requested lease not found"), kIoFailed otherwise.
  static Status ToStatus(std::string_view what, const grpc::Status& status);

 private:
  EtcdConnection(EtcdOptions options, std::string endpoints, std::shared_ptr<grpc::Channel> channel);

  const EtcdOptions options_;
  const std::string endpoints_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
};

// Sets up a call's context: its deadline (none for streams that live on), and waiting for a
// connection instead of failing at once when no member is connected.
void PrepareContext(grpc::ClientContext* context, std::optional<std::chrono::milliseconds> timeout);

// The backoff before retry number `attempt` (1-based): 100 ms doubling up to 1 s.
std::chrono::milliseconds RetryBackoff(int attempt);

}  // namespace quiver::meta
