#include "meta/rocksdb/rocksdb_meta_kv.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <string_view>

#include "meta/rocksdb/watch_hub.h"

namespace quiver::meta {
namespace {

constexpr char kInternalFamily[] = "quiver_internal";
constexpr char kRevisionKey[] = "revision";
constexpr size_t kWatchHistoryLimit = 10'000;
// A stored value is mod_revision and lease (8 bytes each, little-endian), then the value.
constexpr size_t kRecordHeaderSize = 16;

void AppendFixed64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t ReadFixed64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return v;
}

std::string EncodeFixed64(int64_t v) {
  std::string out;
  AppendFixed64(&out, static_cast<uint64_t>(v));
  return out;
}

std::string EncodeRecord(const std::string& value, int64_t mod_revision, LeaseId lease) {
  std::string out;
  out.reserve(kRecordHeaderSize + value.size());
  AppendFixed64(&out, static_cast<uint64_t>(mod_revision));
  AppendFixed64(&out, static_cast<uint64_t>(lease));
  out += value;
  return out;
}

Status IoError(const std::string& what, const rocksdb::Status& s) {
  return {Code::kIoFailed, "meta store: " + what + " failed: " + s.ToString()};
}

Status LeaseNotFound(LeaseId lease) {
  return {Code::kIoKeyNotFound, "lease " + std::to_string(lease) + " not found: it expired or was revoked"};
}

Status OpenError(const std::string& dir, const rocksdb::Status& s) {
  // RocksDB reports a held lock only as an IOError naming the LOCK file.
  if (s.ToString().find("/LOCK:") != std::string::npos) {
    return {Code::kIoFailed, "meta store " + dir + " is already in use: another process (or another store in this " +
                                 "process) has it open (" + s.ToString() + ")"};
  }
  return IoError("opening " + dir, s);
}

}  // namespace

StatusOr<std::unique_ptr<RocksDbMetaKV>> RocksDbMetaKV::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Code::kIoFailed, "meta store: cannot create directory " + dir + ": " + ec.message());

  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.keep_log_file_num = 2;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {kInternalFamily, rocksdb::ColumnFamilyOptions()},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, families, &handles, &raw_db);
  if (!s.ok()) return OpenError(dir, s);

  std::unique_ptr<RocksDbMetaKV> store(new RocksDbMetaKV(std::unique_ptr<rocksdb::DB>(raw_db), handles[0], handles[1]));
  QUIVER_RETURN_IF_ERROR(store->Start());
  return store;
}

RocksDbMetaKV::RocksDbMetaKV(std::unique_ptr<rocksdb::DB> db, rocksdb::ColumnFamilyHandle* user_cf,
                             rocksdb::ColumnFamilyHandle* internal_cf)
    : db_(std::move(db)), user_cf_(user_cf), internal_cf_(internal_cf) {}

Status RocksDbMetaKV::Start() {
  std::string stored_revision;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), internal_cf_, kRevisionKey, &stored_revision);
  if (s.ok()) {
    revision_ = static_cast<int64_t>(ReadFixed64(stored_revision));
  } else if (!s.IsNotFound()) {
    return IoError("reading the revision", s);
  }
  watch_hub_ = WatchHub::Start(revision_, kWatchHistoryLimit);
  QUIVER_RETURN_IF_ERROR(DeleteKeysLeftByPreviousProcess());
  lease_timer_ = std::thread([this] { ExpireLeasesLoop(); });
  return Status::OK();
}

RocksDbMetaKV::~RocksDbMetaKV() {
  if (lease_timer_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    lease_timer_wake_.notify_all();
    lease_timer_.join();
  }
  if (watch_hub_) watch_hub_->Stop();
  for (auto* family : {user_cf_, internal_cf_}) {
    rocksdb::Status s = db_->DestroyColumnFamilyHandle(family);
    if (!s.ok()) spdlog::warn("meta store: releasing a column family failed: {}", s.ToString());
  }
  rocksdb::Status s = db_->Close();
  if (!s.ok()) spdlog::warn("meta store: close failed: {}", s.ToString());
}

// Leases live only as long as the process that granted them, so their keys go at startup.
Status RocksDbMetaKV::DeleteKeysLeftByPreviousProcess() {
  auto all = Scan("");
  if (!all.ok()) return all.status();
  std::vector<Op> deletes;
  for (const auto& kv : *all) {
    if (kv.lease != kNoLease) deletes.push_back(Op::Delete(kv.key));
  }
  std::lock_guard lock(mu_);
  return ApplyLocked(deletes);
}

StatusOr<RocksDbMetaKV::Record> RocksDbMetaKV::DecodeRecord(const std::string& key, std::string_view raw) {
  if (raw.size() < kRecordHeaderSize) {
    return Status(Code::kIoFailed, "meta store: corrupt record for key " + key);
  }
  return Record{std::string(raw.substr(kRecordHeaderSize)), static_cast<int64_t>(ReadFixed64(raw)),
                static_cast<LeaseId>(ReadFixed64(raw.substr(8)))};
}

StatusOr<std::optional<RocksDbMetaKV::Record>> RocksDbMetaKV::ReadRecord(const std::string& key) {
  std::string raw;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), user_cf_, key, &raw);
  if (s.IsNotFound()) return std::optional<Record>();
  if (!s.ok()) return IoError("reading " + key, s);
  auto record = DecodeRecord(key, raw);
  if (!record.ok()) return record.status();
  return std::optional<Record>(std::move(*record));
}

StatusOr<std::optional<std::string>> RocksDbMetaKV::Get(const std::string& key) {
  auto record = ReadRecord(key);
  if (!record.ok()) return record.status();
  if (!record->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::move((*record)->value));
}

StatusOr<std::vector<KeyValue>> RocksDbMetaKV::Scan(const std::string& prefix, size_t limit) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), user_cf_));
  std::vector<KeyValue> result;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string key = it->key().ToString();
    auto record = DecodeRecord(key, it->value().ToStringView());
    if (!record.ok()) return record.status();
    result.push_back({std::move(key), std::move(record->value), record->mod_revision, record->lease});
    if (limit > 0 && result.size() == limit) break;
  }
  if (!it->status().ok()) return IoError("scanning " + prefix, it->status());
  return result;
}

StatusOr<std::vector<std::string>> RocksDbMetaKV::KeysWithPrefix(const std::string& prefix) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), user_cf_));
  std::vector<std::string> keys;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) keys.push_back(it->key().ToString());
  if (!it->status().ok()) return IoError("scanning " + prefix, it->status());
  return keys;
}

Status RocksDbMetaKV::Put(const std::string& key, const std::string& value, LeaseId lease) {
  std::lock_guard lock(mu_);
  return ApplyLocked({Op::Put(key, value, lease)});
}

Status RocksDbMetaKV::Delete(const std::string& key) {
  std::lock_guard lock(mu_);
  return ApplyLocked({Op::Delete(key)});
}

Status RocksDbMetaKV::DeletePrefix(const std::string& prefix) {
  std::lock_guard lock(mu_);
  return ApplyLocked({Op::DeletePrefix(prefix)});
}

StatusOr<bool> RocksDbMetaKV::Txn(const std::vector<Compare>& compares, const std::vector<Op>& ops) {
  std::lock_guard lock(mu_);
  for (const auto& compare : compares) {
    auto current = ReadRecord(compare.key);
    if (!current.ok()) return current.status();
    bool holds = compare.expected ? current->has_value() && (*current)->value == *compare.expected
                                  : !current->has_value();
    if (!holds) return false;
  }
  QUIVER_RETURN_IF_ERROR(ApplyLocked(ops));
  return true;
}

StatusOr<int64_t> RocksDbMetaKV::CurrentRevision() { return revision_.load(); }

StatusOr<std::unique_ptr<WatchHandle>> RocksDbMetaKV::Watch(const std::string& prefix, int64_t after_revision,
                                                            std::function<void(const WatchEvent&)> on_event,
                                                            std::function<void(const Status&)> /*on_broken*/) {
  return watch_hub_->Watch(prefix, after_revision, std::move(on_event));
}

// Resolves the ops, in order, into the final state of every key they touch; Commit then
// writes that state as one batch.
Status RocksDbMetaKV::ApplyLocked(const std::vector<Op>& ops) {
  PendingWrite pending;
  for (const Op& op : ops) {
    switch (op.kind) {
      case Op::Kind::kPut:
        if (op.lease != kNoLease && !LeaseAliveLocked(op.lease)) return LeaseNotFound(op.lease);
        pending[op.key] = Record{op.value, 0, op.lease};
        break;
      case Op::Kind::kDelete:
        pending[op.key] = std::nullopt;
        break;
      case Op::Kind::kDeletePrefix: {
        auto stored = KeysWithPrefix(op.key);
        if (!stored.ok()) return stored.status();
        for (const auto& key : *stored) pending[key] = std::nullopt;
        for (auto it = pending.lower_bound(op.key); it != pending.end() && it->first.starts_with(op.key); ++it) {
          it->second = std::nullopt;
        }
        break;
      }
    }
  }
  return CommitLocked(pending);
}

// Writes the pending state and the next revision in one synced batch. Like etcd, deleting
// a key that does not exist is no change, and a write without changes keeps the revision.
Status RocksDbMetaKV::CommitLocked(const PendingWrite& pending) {
  const int64_t revision = revision_ + 1;
  rocksdb::WriteBatch batch;
  std::vector<WatchEvent> events;
  for (const auto& [key, record] : pending) {
    if (record) {
      batch.Put(user_cf_, key, EncodeRecord(record->value, revision, record->lease));
      events.push_back({WatchEvent::Type::kPut, {key, record->value, revision, record->lease}});
      continue;
    }
    auto existing = ReadRecord(key);
    if (!existing.ok()) return existing.status();
    if (!existing->has_value()) continue;
    batch.Delete(user_cf_, key);
    events.push_back({WatchEvent::Type::kDelete, {key, "", revision, kNoLease}});
  }
  if (events.empty()) return Status::OK();

  batch.Put(internal_cf_, kRevisionKey, EncodeFixed64(revision));
  rocksdb::WriteOptions durable;
  durable.sync = true;
  rocksdb::Status s = db_->Write(durable, &batch);
  if (!s.ok()) return IoError("writing revision " + std::to_string(revision), s);

  revision_ = revision;
  for (const auto& event : events) MoveKeyToLeaseLocked(event.kv.key, event.kv.lease);
  watch_hub_->Publish(std::move(events));
  return Status::OK();
}

bool RocksDbMetaKV::LeaseAliveLocked(LeaseId lease) const {
  auto it = leases_.find(lease);
  return it != leases_.end() && it->second.deadline > Clock::now();
}

// Keeps the lease → keys index in step with a key's latest write (kNoLease: not leased).
void RocksDbMetaKV::MoveKeyToLeaseLocked(const std::string& key, LeaseId lease) {
  if (auto old = lease_of_key_.find(key); old != lease_of_key_.end()) {
    if (auto owner = leases_.find(old->second); owner != leases_.end()) owner->second.keys.erase(key);
    lease_of_key_.erase(old);
  }
  if (lease == kNoLease) return;
  lease_of_key_[key] = lease;
  leases_.at(lease).keys.insert(key);
}

StatusOr<LeaseId> RocksDbMetaKV::GrantLease(std::chrono::milliseconds ttl) {
  if (ttl.count() <= 0) return InvalidParameter("lease ttl must be positive");
  LeaseId id;
  {
    std::lock_guard lock(mu_);
    id = next_lease_id_++;
    leases_.emplace(id, Lease{ttl, Clock::now() + ttl, {}});
  }
  lease_timer_wake_.notify_all();
  return id;
}

Status RocksDbMetaKV::KeepAlive(LeaseId lease) {
  std::lock_guard lock(mu_);
  if (!LeaseAliveLocked(lease)) return LeaseNotFound(lease);
  Lease& alive = leases_.at(lease);
  alive.deadline = Clock::now() + alive.ttl;
  return Status::OK();
}

Status RocksDbMetaKV::RevokeLease(LeaseId lease) {
  std::lock_guard lock(mu_);
  if (!leases_.contains(lease)) return LeaseNotFound(lease);
  return RevokeLocked(lease);
}

Status RocksDbMetaKV::RevokeLocked(LeaseId lease) {
  auto ended = leases_.extract(lease);
  std::vector<Op> deletes;
  for (const auto& key : ended.mapped().keys) deletes.push_back(Op::Delete(key));
  return ApplyLocked(deletes);
}

void RocksDbMetaKV::ExpireLeasesLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = Clock::now();
    std::vector<LeaseId> expired;
    auto next_deadline = Clock::time_point::max();
    for (const auto& [id, lease] : leases_) {
      if (lease.deadline <= now) {
        expired.push_back(id);
      } else {
        next_deadline = std::min(next_deadline, lease.deadline);
      }
    }
    for (LeaseId id : expired) {
      Status s = RevokeLocked(id);
      if (!s.ok()) spdlog::error("meta store: deleting the keys of expired lease {} failed: {}", id, s.ToString());
    }
    if (next_deadline == Clock::time_point::max()) {
      lease_timer_wake_.wait(lock);
    } else {
      lease_timer_wake_.wait_until(lock, next_deadline);
    }
  }
}

}  // namespace quiver::meta
