#include "coord/datacoord/data_coord_impl.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace quiver::datacoord {
namespace {

// Zero-padded IDs keep a collection's segments in id order under a prefix scan.
std::string Padded(int64_t id) {
  std::string digits = std::to_string(id);
  return std::string(20 - std::min<size_t>(20, digits.size()), '0') + digits;
}

const std::string kSegmentPrefix = "data/segment/";
const std::string kCheckpointPrefix = "data/checkpoint/";

std::string CollectionPrefix(int64_t collection_id) { return kSegmentPrefix + Padded(collection_id) + "/"; }
std::string SegmentKey(int64_t collection_id, int64_t segment_id) {
  return CollectionPrefix(collection_id) + Padded(segment_id);
}
std::string CheckpointKey(const std::string& vchannel) { return kCheckpointPrefix + vchannel; }

// Follows segment records in MetaKV. If the store loses history the watch still had to
// deliver (etcd compacted it while unreachable), every record is read again and handed to
// the callback — listeners treat a record they already know as a no-op — and the watch
// starts over from the revision before that read.
class MetaWatch final : public SegmentWatch {
 public:
  MetaWatch(meta::MetaKV* kv, std::function<void(const SegmentRecord&)> on_change)
      : kv_(kv), on_change_(std::move(on_change)) {}

  ~MetaWatch() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (resync_.joinable()) resync_.join();
    handle_.reset();
  }

  Status Start() {
    auto revision = kv_->CurrentRevision();
    if (!revision.ok()) return revision.status();
    QUIVER_RETURN_IF_ERROR(WatchFrom(*revision));
    resync_ = std::thread([this] { ResyncLoop(); });
    return Status::OK();
  }

 private:
  Status WatchFrom(int64_t revision) {
    auto handle = kv_->Watch(
        kSegmentPrefix, revision, [this](const meta::WatchEvent& event) { OnEvent(event); },
        [this](const Status& why) {
          spdlog::warn("segment watch broken ({}); reading every segment record again", why.ToString());
          std::lock_guard lock(mu_);
          broken_ = true;
          cv_.notify_all();
        });
    if (!handle.ok()) return handle.status();
    handle_ = std::move(*handle);
    return Status::OK();
  }

  void OnEvent(const meta::WatchEvent& event) {
    if (event.type != meta::WatchEvent::Type::kPut) return;  // removals come with dropped collections
    Deliver(event.kv);
  }

  void Deliver(const meta::KeyValue& kv) {
    SegmentRecord record;
    if (!record.ParseFromString(kv.value)) {
      spdlog::error("corrupt segment record at {}", kv.key);
      return;
    }
    on_change_(record);
  }

  void ResyncLoop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || broken_; });
      if (stopping_) return;
      broken_ = false;
      lock.unlock();
      handle_.reset();  // the old watch has ended; only this thread replaces it
      while (!Resync().ok() && !Stopping()) std::this_thread::sleep_for(std::chrono::seconds(1));
      lock.lock();
    }
  }

  Status Resync() {
    auto revision = kv_->CurrentRevision();
    if (!revision.ok()) return revision.status();
    auto records = kv_->Scan(kSegmentPrefix);
    if (!records.ok()) return records.status();
    for (const auto& kv : *records) Deliver(kv);
    return WatchFrom(*revision);
  }

  bool Stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  meta::MetaKV* kv_;
  std::function<void(const SegmentRecord&)> on_change_;
  std::unique_ptr<meta::WatchHandle> handle_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool broken_ = false;
  bool stopping_ = false;
  std::thread resync_;
};

}  // namespace

Status DataCoordImpl::AddSegment(const SegmentRecord& record) { return UpdateSegment(record); }

Status DataCoordImpl::UpdateSegment(const SegmentRecord& record) {
  return kv_->Put(SegmentKey(record.collection_id(), record.id()), record.SerializeAsString());
}

Status DataCoordImpl::ReplaceSegments(const std::vector<int64_t>& from, const SegmentRecord& to) {
  std::vector<meta::Op> ops;
  for (int64_t id : from) {
    auto old = GetSegment(to.collection_id(), id);
    if (!old.ok()) return old.status();
    if (!old->has_value()) return Internal("compaction source segment " + std::to_string(id) + " is gone");
    SegmentRecord dropped = **old;
    dropped.set_state(quiver::data::DROPPED);
    ops.push_back(meta::Op::Put(SegmentKey(dropped.collection_id(), id), dropped.SerializeAsString()));
  }
  ops.push_back(meta::Op::Put(SegmentKey(to.collection_id(), to.id()), to.SerializeAsString()));
  auto applied = kv_->Txn({}, ops);
  if (!applied.ok()) return applied.status();
  return Status::OK();
}

StatusOr<std::optional<SegmentRecord>> DataCoordImpl::GetSegment(int64_t collection_id, int64_t segment_id) {
  auto value = kv_->Get(SegmentKey(collection_id, segment_id));
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<SegmentRecord>();
  SegmentRecord record;
  if (!record.ParseFromString(**value)) return Internal("corrupt segment record " + std::to_string(segment_id));
  return std::optional<SegmentRecord>(std::move(record));
}

StatusOr<std::vector<SegmentRecord>> DataCoordImpl::ListSegments(int64_t collection_id) {
  return List(CollectionPrefix(collection_id), /*dropped=*/false);
}

StatusOr<std::vector<SegmentRecord>> DataCoordImpl::ListAllSegments() { return List(kSegmentPrefix, false); }

StatusOr<std::vector<SegmentRecord>> DataCoordImpl::ListDroppedSegments() { return List(kSegmentPrefix, true); }

Status DataCoordImpl::RemoveSegment(int64_t collection_id, int64_t segment_id) {
  return kv_->Delete(SegmentKey(collection_id, segment_id));
}

StatusOr<std::vector<SegmentRecord>> DataCoordImpl::List(const std::string& prefix, bool dropped) {
  auto kvs = kv_->Scan(prefix);
  if (!kvs.ok()) return kvs.status();
  std::vector<SegmentRecord> out;
  for (const auto& kv : *kvs) {
    SegmentRecord record;
    if (!record.ParseFromString(kv.value)) return Internal("corrupt segment record at " + kv.key);
    if ((record.state() == quiver::data::DROPPED) == dropped) out.push_back(std::move(record));
  }
  return out;
}

Status DataCoordImpl::DropCollection(int64_t collection_id, const std::vector<std::string>& vchannels) {
  std::vector<meta::Op> ops{meta::Op::DeletePrefix(CollectionPrefix(collection_id))};
  for (const auto& vchannel : vchannels) ops.push_back(meta::Op::Delete(CheckpointKey(vchannel)));
  auto applied = kv_->Txn({}, ops);
  return applied.ok() ? Status::OK() : applied.status();
}

Status DataCoordImpl::SaveCheckpoint(const ChannelCheckpoint& checkpoint) {
  return kv_->Put(CheckpointKey(checkpoint.vchannel()), checkpoint.SerializeAsString());
}

StatusOr<ChannelCheckpoint> DataCoordImpl::GetCheckpoint(const std::string& vchannel) {
  auto value = kv_->Get(CheckpointKey(vchannel));
  if (!value.ok()) return value.status();
  ChannelCheckpoint checkpoint;
  checkpoint.set_vchannel(vchannel);
  if (value->has_value() && !checkpoint.ParseFromString(**value)) {
    return Internal("corrupt checkpoint of " + vchannel);
  }
  return checkpoint;
}

StatusOr<std::unique_ptr<SegmentWatch>> DataCoordImpl::WatchSegments(
    std::function<void(const SegmentRecord&)> on_change) {
  auto watch = std::make_unique<MetaWatch>(kv_, std::move(on_change));
  QUIVER_RETURN_IF_ERROR(watch->Start());
  return std::unique_ptr<SegmentWatch>(std::move(watch));
}

}  // namespace quiver::datacoord
