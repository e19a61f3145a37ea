#include "coord/datacoord/data_coord_impl.h"

#include <spdlog/spdlog.h>

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

class MetaWatch final : public SegmentWatch {
 public:
  explicit MetaWatch(std::unique_ptr<meta::WatchHandle> handle) : handle_(std::move(handle)) {}

 private:
  std::unique_ptr<meta::WatchHandle> handle_;
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
  auto revision = kv_->CurrentRevision();
  if (!revision.ok()) return revision.status();
  auto handle = kv_->Watch(kSegmentPrefix, *revision, [on_change](const meta::WatchEvent& event) {
    if (event.type != meta::WatchEvent::Type::kPut) return;  // removals come with dropped collections
    SegmentRecord record;
    if (!record.ParseFromString(event.kv.value)) {
      spdlog::error("corrupt segment record in watch at {}", event.kv.key);
      return;
    }
    on_change(record);
  });
  if (!handle.ok()) return handle.status();
  return std::unique_ptr<SegmentWatch>(new MetaWatch(std::move(*handle)));
}

}  // namespace quiver::datacoord
