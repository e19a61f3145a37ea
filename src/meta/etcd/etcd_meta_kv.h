// EtcdMetaKV: the MetaKV on an etcd v3 cluster (gRPC KV, Watch and Lease services).
//
// How the contract maps onto etcd:
// - Keys live under root_path + "/"; revisions are etcd's, so they count the writes of
//   every client of the cluster, not only this namespace's.
// - Calls retry while etcd is unavailable (EtcdConnection). A retried Put or Delete may
//   apply twice, which leaves the same end state. A Txn with compares and ops is guarded by
//   a marker (TxnSlots): at most one attempt applies, and when a reply was lost the marker
//   tells whether it did, so a lost reply is never reported as a failed compare. If etcd
//   stays unavailable past the retry budget after an attempt was sent, the Txn fails with
//   kIoFailed and its outcome is unknown (it may still apply). A Txn without compares (or
//   without ops) is retried like a Put.
// - Leases have etcd's granularity: a TTL is rounded up to whole seconds, and etcd raises
//   it to its minimum (1.5 election timeouts). Destroying the store revokes the leases it
//   granted (best effort), as leases of the embedded store end with its process.
// - Watches: see EtcdWatch. Each Watch call has its own stream and thread.
#pragma once

#include <memory>
#include <mutex>
#include <set>

#include "meta/etcd/etcd_connection.h"
#include "meta/etcd/etcd_keys.h"
#include "meta/etcd/etcd_txn.h"
#include "meta/meta_kv.h"
#include "meta/meta_kv_factory.h"

namespace quiver::meta {

class EtcdMetaKV final : public MetaKV {
 public:
  static StatusOr<std::unique_ptr<EtcdMetaKV>> Open(const EtcdOptions& options);
  ~EtcdMetaKV() override;

  StatusOr<std::optional<std::string>> Get(const std::string& key) override;
  Status Put(const std::string& key, const std::string& value, LeaseId lease = kNoLease) override;
  Status Delete(const std::string& key) override;
  Status DeletePrefix(const std::string& prefix) override;
  StatusOr<std::vector<KeyValue>> Scan(const std::string& prefix, size_t limit = 0) override;
  StatusOr<bool> Txn(const std::vector<Compare>& compares, const std::vector<Op>& ops) override;
  StatusOr<int64_t> CurrentRevision() override;
  using MetaKV::Watch;
  StatusOr<std::unique_ptr<WatchHandle>> Watch(const std::string& prefix, int64_t after_revision,
                                               std::function<void(const WatchEvent&)> on_event,
                                               std::function<void(const Status&)> on_broken) override;
  StatusOr<LeaseId> GrantLease(std::chrono::milliseconds ttl) override;
  Status KeepAlive(LeaseId lease) override;
  Status RevokeLease(LeaseId lease) override;

 private:
  explicit EtcdMetaKV(std::shared_ptr<const EtcdConnection> connection);

  StatusOr<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& request);
  StatusOr<etcdserverpb::TxnResponse> CallTxn(const char* what, const etcdserverpb::TxnRequest& request,
                                              bool* ambiguous);
  StatusOr<bool> GuardedTxn(etcdserverpb::TxnRequest request);
  // Makes sure no attempt of the transaction `txn_id` can apply any more; true if one did.
  StatusOr<bool> Fence(TxnSlots::Slot& slot, const std::string& txn_id);
  grpc::Status KeepAliveOnce(grpc::ClientContext* context, LeaseId lease, int64_t* ttl);
  void ForgetLease(LeaseId lease);
  void ReleaseClientState();

  const std::shared_ptr<const EtcdConnection> connection_;
  const KeySpace keys_;
  TxnSlots txn_slots_;
  std::mutex leases_mu_;
  std::set<LeaseId> granted_leases_;
};

}  // namespace quiver::meta
