// RocksDbMetaKV: the embedded MetaKV used by standalone Quiver.
//
// One RocksDB instance per process: user keys live in the default column family, the
// store-wide revision in a separate one that Scan never sees. Every write is a single
// synced WriteBatch carrying the new revision, made under one mutex, so revisions are
// gapless and a crash never exposes half a transaction. Values are stored as
// (mod_revision, lease, value). Leases are in memory only; Open() deletes the keys a
// previous process left attached to leases.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "meta/meta_kv.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace quiver::meta {

class WatchHub;

class RocksDbMetaKV final : public MetaKV {
 public:
  // Creates `dir` if needed. Fails (kIoFailed) if another process, or another store in this
  // process, has it open.
  static StatusOr<std::unique_ptr<RocksDbMetaKV>> Open(const std::string& dir);
  ~RocksDbMetaKV() override;

  StatusOr<std::optional<std::string>> Get(const std::string& key) override;
  Status Put(const std::string& key, const std::string& value, LeaseId lease = kNoLease) override;
  Status Delete(const std::string& key) override;
  Status DeletePrefix(const std::string& prefix) override;
  StatusOr<std::vector<KeyValue>> Scan(const std::string& prefix, size_t limit = 0) override;
  StatusOr<bool> Txn(const std::vector<Compare>& compares, const std::vector<Op>& ops) override;
  StatusOr<int64_t> CurrentRevision() override;
  using MetaKV::Watch;
  // Never calls `on_broken`: the history keeps every event a watcher has yet to receive.
  StatusOr<std::unique_ptr<WatchHandle>> Watch(const std::string& prefix, int64_t after_revision,
                                               std::function<void(const WatchEvent&)> on_event,
                                               std::function<void(const Status&)> on_broken) override;
  StatusOr<LeaseId> GrantLease(std::chrono::milliseconds ttl) override;
  Status KeepAlive(LeaseId lease) override;
  Status RevokeLease(LeaseId lease) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Record {
    std::string value;
    int64_t mod_revision = 0;
    LeaseId lease = kNoLease;
  };
  // The state each touched key will have after a write; nullopt means deleted.
  using PendingWrite = std::map<std::string, std::optional<Record>>;
  struct Lease {
    std::chrono::milliseconds ttl;
    Clock::time_point deadline;
    std::set<std::string> keys;
  };

  RocksDbMetaKV(std::unique_ptr<rocksdb::DB> db, rocksdb::ColumnFamilyHandle* user_cf,
                rocksdb::ColumnFamilyHandle* internal_cf);
  // Loads the revision, starts the watch and lease threads, drops stale leased keys.
  Status Start();

  static StatusOr<Record> DecodeRecord(const std::string& key, std::string_view raw);
  StatusOr<std::optional<Record>> ReadRecord(const std::string& key);
  StatusOr<std::vector<std::string>> KeysWithPrefix(const std::string& prefix);
  Status DeleteKeysLeftByPreviousProcess();

  Status ApplyLocked(const std::vector<Op>& ops);
  Status CommitLocked(const PendingWrite& pending);
  bool LeaseAliveLocked(LeaseId lease) const;
  void MoveKeyToLeaseLocked(const std::string& key, LeaseId lease);
  Status RevokeLocked(LeaseId lease);
  void ExpireLeasesLoop();

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* user_cf_;
  rocksdb::ColumnFamilyHandle* internal_cf_;
  std::shared_ptr<WatchHub> watch_hub_;

  // Serialises writes (so compares and revisions are consistent) and guards the leases.
  std::mutex mu_;
  std::atomic<int64_t> revision_ = 0;
  LeaseId next_lease_id_ = 1;
  std::map<LeaseId, Lease> leases_;
  std::unordered_map<std::string, LeaseId> lease_of_key_;  // leased keys only
  bool stopping_ = false;
  std::condition_variable lease_timer_wake_;
  std::thread lease_timer_;
};

}  // namespace quiver::meta
