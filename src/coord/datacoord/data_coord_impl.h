// The in-process DataCoord over MetaKV.
#pragma once

#include "coord/datacoord/data_coord.h"
#include "meta/meta_kv.h"

namespace quiver::datacoord {

class DataCoordImpl final : public DataCoord {
 public:
  explicit DataCoordImpl(meta::MetaKV* kv) : kv_(kv) {}

  Status AddSegment(const SegmentRecord& record) override;
  Status UpdateSegment(const SegmentRecord& record) override;
  Status ReplaceSegments(const std::vector<int64_t>& from, const SegmentRecord& to) override;
  StatusOr<std::optional<SegmentRecord>> GetSegment(int64_t collection_id, int64_t segment_id) override;
  StatusOr<std::vector<SegmentRecord>> ListSegments(int64_t collection_id) override;
  StatusOr<std::vector<SegmentRecord>> ListAllSegments() override;
  StatusOr<std::vector<SegmentRecord>> ListDroppedSegments() override;
  Status RemoveSegment(int64_t collection_id, int64_t segment_id) override;
  Status DropCollection(int64_t collection_id, const std::vector<std::string>& vchannels) override;
  Status SaveCheckpoint(const ChannelCheckpoint& checkpoint) override;
  StatusOr<ChannelCheckpoint> GetCheckpoint(const std::string& vchannel) override;
  StatusOr<std::unique_ptr<SegmentWatch>> WatchSegments(std::function<void(const SegmentRecord&)> on_change) override;

 private:
  StatusOr<std::vector<SegmentRecord>> List(const std::string& prefix, bool dropped);

  meta::MetaKV* kv_;
};

}  // namespace quiver::datacoord
