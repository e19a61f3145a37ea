// MetaKV: the metadata store every role keeps its state in.
//
// Contract (shared by the embedded RocksDB store and etcd):
// - Keys are ordered byte strings; Scan(prefix) returns keys in ascending order.
// - Every successful write (Put, Delete, a committed Txn) advances one store-wide revision
//   and is durable before it returns: a process started after the call returned sees it.
//   As in etcd, a write that changes nothing (deleting a missing key) keeps the revision.
//   On etcd the revision is the cluster's: writes of other namespaces advance it too, so
//   callers compare revisions and never count on their spacing.
// - Txn applies all its ops atomically iff every compare holds (etcd's If/Then).
// - Watch delivers every change under a prefix after a revision, in revision order.
// - Keys put with a lease vanish when the lease expires or is revoked; sessions and leader
//   election are built on that.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace quiver::meta {

using LeaseId = int64_t;
inline constexpr LeaseId kNoLease = 0;

struct KeyValue {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;  // revision of the write that last changed this key
  LeaseId lease = kNoLease;
};

// One condition of a transaction. `expected == nullopt` means "the key must not exist".
struct Compare {
  std::string key;
  std::optional<std::string> expected;
};

struct Op {
  enum class Kind { kPut, kDelete, kDeletePrefix };
  Kind kind = Kind::kPut;
  std::string key;  // the prefix, for kDeletePrefix
  std::string value;
  LeaseId lease = kNoLease;

  static Op Put(std::string key, std::string value, LeaseId lease = kNoLease) {
    return {Kind::kPut, std::move(key), std::move(value), lease};
  }
  static Op Delete(std::string key) { return {Kind::kDelete, std::move(key), {}, kNoLease}; }
  static Op DeletePrefix(std::string prefix) { return {Kind::kDeletePrefix, std::move(prefix), {}, kNoLease}; }
};

struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // for kDelete, value is empty and mod_revision is the deleting revision
};

// Cancels its watch when destroyed; after that the callback is never called again.
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
};

class MetaKV {
 public:
  virtual ~MetaKV() = default;

  virtual StatusOr<std::optional<std::string>> Get(const std::string& key) = 0;
  virtual Status Put(const std::string& key, const std::string& value, LeaseId lease = kNoLease) = 0;
  virtual Status Delete(const std::string& key) = 0;
  virtual Status DeletePrefix(const std::string& prefix) = 0;
  // Keys starting with `prefix`, ascending; at most `limit` of them when limit > 0.
  virtual StatusOr<std::vector<KeyValue>> Scan(const std::string& prefix, size_t limit = 0) = 0;

  // True when every compare held and the ops were applied; false (and nothing applied)
  // when a compare failed. A non-OK status means the store itself failed.
  virtual StatusOr<bool> Txn(const std::vector<Compare>& compares, const std::vector<Op>& ops) = 0;

  // The revision of the latest write.
  virtual StatusOr<int64_t> CurrentRevision() = 0;

  // Calls `on_event` for every change under `prefix` with revision > `after_revision`,
  // from a background thread, in order, each exactly once. Fails if that history is no
  // longer available.
  StatusOr<std::unique_ptr<WatchHandle>> Watch(const std::string& prefix, int64_t after_revision,
                                               std::function<void(const WatchEvent&)> on_event) {
    return Watch(prefix, after_revision, std::move(on_event), nullptr);
  }
  // As above; `on_broken` (may be empty) is called once, from the same thread, if the watch
  // ends before its handle is destroyed because history it still had to deliver is gone
  // (etcd: the store was unreachable for longer than its compaction window). No event
  // follows it: a caller that must not miss changes re-reads and watches again.
  virtual StatusOr<std::unique_ptr<WatchHandle>> Watch(const std::string& prefix, int64_t after_revision,
                                                       std::function<void(const WatchEvent&)> on_event,
                                                       std::function<void(const Status&)> on_broken) = 0;

  virtual StatusOr<LeaseId> GrantLease(std::chrono::milliseconds ttl) = 0;
  // Restarts the lease's TTL; fails with kIoKeyNotFound if it already expired.
  virtual Status KeepAlive(LeaseId lease) = 0;
  // Ends the lease now and deletes its keys.
  virtual Status RevokeLease(LeaseId lease) = 0;
};

}  // namespace quiver::meta
