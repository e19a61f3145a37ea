#include "meta/etcd/etcd_meta_kv.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "meta/etcd/etcd_watch.h"

namespace quiver::meta {
namespace {

// Cleanup when the store closes must not hang on an unreachable etcd.
constexpr std::chrono::milliseconds kCleanupTimeout{1000};

Status LeaseNotFound(LeaseId lease) {
  return {Code::kIoKeyNotFound, "lease " + std::to_string(lease) + " not found: it expired or was revoked"};
}

// The marker value a guarded transaction's failure branch read (nullopt: no marker yet).
std::optional<std::string> MarkerIn(const etcdserverpb::TxnResponse& response) {
  if (response.responses_size() != 1) return std::nullopt;
  const auto& kvs = response.responses(0).response_range().kvs();
  if (kvs.empty()) return std::nullopt;
  return kvs[0].value();
}

// Adds to `request`: the marker must hold `expected`; success writes `value` to it; failure reads it.
void GuardWithMarker(const TxnSlots::Slot& slot, const std::string& value, etcdserverpb::TxnRequest* request) {
  AddCompare(slot.key(), slot.value(), request);
  auto* put = request->add_success()->mutable_request_put();
  put->set_key(slot.key());
  put->set_value(value);
  request->add_failure()->mutable_request_range()->set_key(slot.key());
}

Status MarkerChanged(const TxnSlots::Slot& slot) {
  return {Code::kIoFailed, "etcd: transaction marker " + slot.key() + " was changed by another client"};
}

}  // namespace

StatusOr<std::unique_ptr<EtcdMetaKV>> EtcdMetaKV::Open(const EtcdOptions& options) {
  auto connection = EtcdConnection::Connect(options);
  if (!connection.ok()) return connection.status();
  std::unique_ptr<EtcdMetaKV> store(new EtcdMetaKV(std::move(*connection)));
  auto revision = store->CurrentRevision();  // fails here, not at first use, if etcd is unreachable
  if (!revision.ok()) return revision.status();
  return store;
}

EtcdMetaKV::EtcdMetaKV(std::shared_ptr<const EtcdConnection> connection)
    : connection_(std::move(connection)),
      keys_(connection_->options().root_path),
      txn_slots_(connection_->options().root_path) {}

EtcdMetaKV::~EtcdMetaKV() { ReleaseClientState(); }

void EtcdMetaKV::ReleaseClientState() {
  std::set<LeaseId> leases;
  {
    std::lock_guard lock(leases_mu_);
    leases.swap(granted_leases_);
  }
  for (LeaseId lease : leases) {
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(lease);
    etcdserverpb::LeaseRevokeResponse response;
    Status s = connection_->CallOnce(
        "LeaseRevoke", [&](grpc::ClientContext* c) { return connection_->lease().LeaseRevoke(c, request, &response); },
        kCleanupTimeout);
    if (!s.ok() && s.code() != Code::kIoKeyNotFound)
      spdlog::warn("etcd: lease {} not revoked at close: {}", lease, s.reason());
  }
  if (!txn_slots_.used()) return;
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(txn_slots_.prefix());
  request.set_range_end(PrefixEnd(txn_slots_.prefix()));
  etcdserverpb::DeleteRangeResponse response;
  Status s = connection_->CallOnce(
      "DeleteRange", [&](grpc::ClientContext* c) { return connection_->kv().DeleteRange(c, request, &response); },
      kCleanupTimeout);
  if (!s.ok())
    spdlog::warn("etcd: transaction markers under {} not deleted at close: {}", txn_slots_.prefix(), s.reason());
}

StatusOr<etcdserverpb::RangeResponse> EtcdMetaKV::Range(const etcdserverpb::RangeRequest& request) {
  etcdserverpb::RangeResponse response;
  QUIVER_RETURN_IF_ERROR(connection_->Call(
      "Range", [&](grpc::ClientContext* c) { return connection_->kv().Range(c, request, &response); }));
  return response;
}

StatusOr<std::optional<std::string>> EtcdMetaKV::Get(const std::string& key) {
  etcdserverpb::RangeRequest request;
  request.set_key(keys_.Full(key));
  auto response = Range(request);
  if (!response.ok()) return response.status();
  if (response->kvs().empty()) return std::optional<std::string>();
  return std::optional<std::string>(response->kvs(0).value());
}

Status EtcdMetaKV::Put(const std::string& key, const std::string& value, LeaseId lease) {
  etcdserverpb::PutRequest request;
  request.set_key(keys_.Full(key));
  request.set_value(value);
  request.set_lease(lease);
  etcdserverpb::PutResponse response;
  Status s =
      connection_->Call("Put", [&](grpc::ClientContext* c) { return connection_->kv().Put(c, request, &response); });
  return s.code() == Code::kIoKeyNotFound ? LeaseNotFound(lease) : s;
}

Status EtcdMetaKV::Delete(const std::string& key) {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(keys_.Full(key));
  etcdserverpb::DeleteRangeResponse response;
  return connection_->Call(
      "DeleteRange", [&](grpc::ClientContext* c) { return connection_->kv().DeleteRange(c, request, &response); });
}

Status EtcdMetaKV::DeletePrefix(const std::string& prefix) {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(keys_.Full(prefix));
  request.set_range_end(PrefixEnd(keys_.Full(prefix)));
  etcdserverpb::DeleteRangeResponse response;
  return connection_->Call(
      "DeleteRange", [&](grpc::ClientContext* c) { return connection_->kv().DeleteRange(c, request, &response); });
}

StatusOr<std::vector<KeyValue>> EtcdMetaKV::Scan(const std::string& prefix, size_t limit) {
  etcdserverpb::RangeRequest request;
  request.set_key(keys_.Full(prefix));
  request.set_range_end(PrefixEnd(keys_.Full(prefix)));
  request.set_limit(static_cast<int64_t>(limit));  // etcd returns keys in ascending order
  auto response = Range(request);
  if (!response.ok()) return response.status();
  std::vector<KeyValue> result;
  result.reserve(response->kvs_size());
  for (const auto& kv : response->kvs()) {
    result.push_back({keys_.User(kv.key()), kv.value(), kv.mod_revision(), kv.lease()});
  }
  return result;
}

StatusOr<etcdserverpb::TxnResponse> EtcdMetaKV::CallTxn(const char* what, const etcdserverpb::TxnRequest& request,
                                                        bool* ambiguous) {
  etcdserverpb::TxnResponse response;
  Status s = connection_->Call(
      what, [&](grpc::ClientContext* c) { return connection_->kv().Txn(c, request, &response); }, ambiguous);
  if (!s.ok()) return s;  // kIoKeyNotFound: the lease of a put is gone
  return response;
}

StatusOr<bool> EtcdMetaKV::Txn(const std::vector<Compare>& compares, const std::vector<Op>& ops) {
  etcdserverpb::TxnRequest request;
  for (const auto& compare : compares) AddCompare(keys_.Full(compare.key), compare.expected, &request);
  ResolveOps(keys_, ops, request.mutable_success());
  // Only a transaction that can both fail a compare and write needs to know its outcome.
  if (compares.empty() || request.success().empty()) {
    auto response = CallTxn("Txn", request, nullptr);
    if (!response.ok()) return response.status();
    return response->succeeded();
  }
  return GuardedTxn(std::move(request));
}

StatusOr<bool> EtcdMetaKV::GuardedTxn(etcdserverpb::TxnRequest request) {
  TxnSlots::Slot slot = txn_slots_.Acquire();
  const std::string txn_id = txn_slots_.NextTxnId();
  GuardWithMarker(slot, txn_id, &request);
  bool ambiguous = false;
  auto response = CallTxn("Txn", request, &ambiguous);
  if (response.ok()) {
    const auto marker = MarkerIn(*response);
    if (response->succeeded() || marker == txn_id) {  // this attempt applied, or an unanswered one did
      slot.Set(txn_id);
      return true;
    }
    if (marker != slot.value()) {
      slot.Abandon();
      return MarkerChanged(slot);
    }
    if (!ambiguous) return false;
  } else if (!ambiguous) {
    return response.status();  // etcd answered the only attempt: nothing was applied
  }
  // An unanswered attempt may still be applied later (a proposal already in the Raft log).
  auto applied = Fence(slot, txn_id);
  if (!applied.ok()) return applied.status();
  if (*applied) return true;
  if (!response.ok()) return response.status();
  return false;
}

StatusOr<bool> EtcdMetaKV::Fence(TxnSlots::Slot& slot, const std::string& txn_id) {
  const std::string fence_id = txn_id + "/fenced";
  etcdserverpb::TxnRequest request;
  GuardWithMarker(slot, fence_id, &request);
  auto response = CallTxn("Txn (fencing an unanswered attempt)", request, nullptr);
  if (!response.ok()) {
    slot.Abandon();
    return Status(Code::kIoFailed, "etcd: the outcome of a transaction is unknown (an attempt went unanswered): " +
                                       response.status().reason());
  }
  const auto marker = response->succeeded() ? std::optional<std::string>(fence_id) : MarkerIn(*response);
  if (marker == txn_id) {
    slot.Set(txn_id);
    return true;
  }
  if (marker == fence_id) {  // written now, or by an unanswered attempt of the fence itself
    slot.Set(fence_id);
    return false;
  }
  slot.Abandon();
  return MarkerChanged(slot);
}

StatusOr<int64_t> EtcdMetaKV::CurrentRevision() {
  etcdserverpb::RangeRequest request;
  request.set_key(keys_.Full(""));
  request.set_count_only(true);
  auto response = Range(request);
  if (!response.ok()) return response.status();
  return response->header().revision();
}

StatusOr<std::unique_ptr<WatchHandle>> EtcdMetaKV::Watch(const std::string& prefix, int64_t after_revision,
                                                         std::function<void(const WatchEvent&)> on_event,
                                                         std::function<void(const Status&)> on_broken) {
  return EtcdWatch::Start(connection_, keys_, prefix, after_revision, std::move(on_event), std::move(on_broken));
}

StatusOr<LeaseId> EtcdMetaKV::GrantLease(std::chrono::milliseconds ttl) {
  if (ttl.count() <= 0) return InvalidParameter("lease ttl must be positive");
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl((ttl.count() + 999) / 1000);  // etcd counts whole seconds
  etcdserverpb::LeaseGrantResponse response;
  QUIVER_RETURN_IF_ERROR(connection_->Call(
      "LeaseGrant", [&](grpc::ClientContext* c) { return connection_->lease().LeaseGrant(c, request, &response); }));
  if (!response.error().empty()) return Status(Code::kIoFailed, "etcd LeaseGrant failed: " + response.error());
  std::lock_guard lock(leases_mu_);
  granted_leases_.insert(response.id());
  return response.id();
}

Status EtcdMetaKV::KeepAlive(LeaseId lease) {
  int64_t ttl = 0;
  QUIVER_RETURN_IF_ERROR(connection_->Call(
      "LeaseKeepAlive", [&](grpc::ClientContext* context) { return KeepAliveOnce(context, lease, &ttl); }));
  if (ttl > 0) return Status::OK();
  ForgetLease(lease);
  return LeaseNotFound(lease);
}

// One request on a keep-alive stream of its own: KeepAlive is called at the caller's pace.
grpc::Status EtcdMetaKV::KeepAliveOnce(grpc::ClientContext* context, LeaseId lease, int64_t* ttl) {
  auto stream = connection_->lease().LeaseKeepAlive(context);
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseKeepAliveResponse response;
  const bool answered = stream->Write(request) && stream->WritesDone() && stream->Read(&response);
  grpc::Status status = stream->Finish();
  if (!answered) {
    return status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "keep-alive stream ended without a reply")
                       : status;
  }
  *ttl = response.ttl();  // 0: the lease expired or was revoked
  return grpc::Status::OK;
}

Status EtcdMetaKV::RevokeLease(LeaseId lease) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseRevokeResponse response;
  bool ambiguous = false;
  Status s = connection_->Call(
      "LeaseRevoke", [&](grpc::ClientContext* c) { return connection_->lease().LeaseRevoke(c, request, &response); },
      &ambiguous);
  if (s.code() == Code::kIoKeyNotFound) {
    ForgetLease(lease);
    // An unanswered attempt may have revoked it: the lease is gone either way.
    return ambiguous ? Status::OK() : LeaseNotFound(lease);
  }
  if (s.ok()) ForgetLease(lease);
  return s;
}

void EtcdMetaKV::ForgetLease(LeaseId lease) {
  std::lock_guard lock(leases_mu_);
  granted_leases_.erase(lease);
}

}  // namespace quiver::meta
