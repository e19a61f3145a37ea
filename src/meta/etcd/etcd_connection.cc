#include "meta/etcd/etcd_connection.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace quiver::meta {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kFirstBackoff{100};
constexpr milliseconds kMaxBackoff{1000};
constexpr milliseconds kMinAttemptTimeout{200};

// "host:port" or "http://host:port" → "a.b.c.d:port".
StatusOr<std::string> ResolveEndpoint(std::string endpoint) {
  if (endpoint.starts_with("https://")) {
    return InvalidParameter("etcd endpoint " + endpoint + ": TLS is not supported");
  }
  if (endpoint.starts_with("http://")) endpoint = endpoint.substr(7);
  while (endpoint.ends_with("/")) endpoint.pop_back();
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == endpoint.size()) {
    return InvalidParameter("etcd endpoint '" + endpoint + "' is not host:port");
  }
  const std::string host = endpoint.substr(0, colon);
  const std::string port = endpoint.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_INET;  // the "ipv4:" channel target takes IPv4 addresses only
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status(Code::kIoFailed, "etcd endpoint " + endpoint + ": cannot resolve " + host +
                                       " to an IPv4 address: " + gai_strerror(rc));
  }
  char ip[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr, ip, sizeof ip);
  freeaddrinfo(found);
  return std::string(ip) + ":" + port;
}

std::string Describe(const grpc::Status& status) {
  return fmt::format("{} (gRPC code {})", status.error_message(), static_cast<int>(status.error_code()));
}

std::chrono::system_clock::time_point DeadlineIn(milliseconds timeout) {
  return std::chrono::system_clock::now() + std::max(timeout, kMinAttemptTimeout);
}

}  // namespace

void PrepareContext(grpc::ClientContext* context, std::optional<milliseconds> timeout) {
  if (timeout) context->set_deadline(DeadlineIn(*timeout));
  // A call that fails fast never polls the channel, and gRPC's synchronous client then
  // leaves reconnection attempts to a restarted member unfinished (they time out unpolled):
  // waiting for a connection, up to the deadline, is what lets the channel reconnect.
  context->set_wait_for_ready(true);
}

milliseconds RetryBackoff(int attempt) {
  milliseconds backoff = kFirstBackoff;
  for (int i = 1; i < attempt && backoff < kMaxBackoff; ++i) backoff *= 2;
  return std::min(backoff, kMaxBackoff);
}

StatusOr<std::shared_ptr<EtcdConnection>> EtcdConnection::Connect(const EtcdOptions& options) {
  if (options.endpoints.empty()) return InvalidParameter("etcd: no endpoints given");
  std::string addresses;
  for (const auto& endpoint : options.endpoints) {
    auto address = ResolveEndpoint(endpoint);
    if (!address.ok()) return address.status();
    addresses += (addresses.empty() ? "" : ",") + *address;
  }
  grpc::ChannelArguments args;
  args.SetLoadBalancingPolicyName("round_robin");
  args.SetMaxReceiveMessageSize(-1);  // a large Scan must not fail on gRPC's 4 MB default
  // A restarted member rejoins the rotation within a second.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Finds connections to members that vanished without closing them (etcd allows one ping
  // per 5 s, and only while calls are open).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5'000);
  auto channel = grpc::CreateCustomChannel("ipv4:" + addresses, grpc::InsecureChannelCredentials(), args);
  return std::shared_ptr<EtcdConnection>(new EtcdConnection(options, addresses, std::move(channel)));
}

EtcdConnection::EtcdConnection(EtcdOptions options, std::string endpoints, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      endpoints_(std::move(endpoints)),
      channel_(std::move(channel)),
      kv_(etcdserverpb::KV::NewStub(channel_)),
      watch_(etcdserverpb::Watch::NewStub(channel_)),
      lease_(etcdserverpb::Lease::NewStub(channel_)) {}

Status EtcdConnection::Call(std::string_view what, const Attempt& attempt, bool* ambiguous) const {
  const auto give_up = Clock::now() + options_.retry_timeout;
  for (int attempt_no = 1;; ++attempt_no) {
    const auto left = std::chrono::duration_cast<milliseconds>(give_up - Clock::now());
    grpc::ClientContext context;
    PrepareContext(&context, std::min(options_.request_timeout, left));
    const grpc::Status status = attempt(&context);
    if (status.ok()) return Status::OK();
    if (!IsRetryable(status)) return ToStatus(what, status);
    if (ambiguous != nullptr) *ambiguous = true;
    const milliseconds backoff = RetryBackoff(attempt_no);
    if (Clock::now() + backoff >= give_up) {
      return Status(Code::kIoFailed,
                    fmt::format("etcd at {} unavailable: {} still failing after {} attempts in {} ms: {}", endpoints_,
                                what, attempt_no, options_.retry_timeout.count(), Describe(status)));
    }
    spdlog::warn("etcd unavailable, retrying {} in {} ms (attempt {}): {}", what, backoff.count(), attempt_no,
                 Describe(status));
    std::this_thread::sleep_for(backoff);
  }
}

Status EtcdConnection::CallOnce(std::string_view what, const Attempt& attempt, milliseconds timeout) const {
  grpc::ClientContext context;
  PrepareContext(&context, timeout);
  const grpc::Status status = attempt(&context);
  return status.ok() ? Status::OK() : ToStatus(what, status);
}

bool EtcdConnection::IsRetryable(const grpc::Status& status) {
  const std::string& message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:  // member down, no leader, leader changed, server timeout
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return true;
    case grpc::StatusCode::UNKNOWN:  // a follower without a leader drops proposals
      return message.find("raft proposal dropped") != std::string::npos;
    case grpc::StatusCode::FAILED_PRECONDITION:  // lease calls reaching a deposed leader
      return message == "etcdserver: not leader";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return message == "etcdserver: too many requests";
    default:
      return false;
  }
}

Status EtcdConnection::ToStatus(std::string_view what, const grpc::Status& status) {
  const Code code = status.error_code() == grpc::StatusCode::NOT_FOUND ? Code::kIoKeyNotFound : Code::kIoFailed;
  return Status(code, fmt::format("etcd {} failed: {}", what, Describe(status)));
}

}  // namespace quiver::meta
