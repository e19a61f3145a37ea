// DataCoord: the catalog of segments and channel checkpoints.
//
// Writers (the StreamingNode) open growing segments here; DataNodes record flushed
// segments and advance checkpoints; QueryNodes list what to load and follow changes.
// Every change is in MetaKV before the call returns.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "quiver/data.pb.h"

namespace quiver::datacoord {

using quiver::data::ChannelCheckpoint;
using quiver::data::SegmentRecord;
using quiver::data::SegmentState;

// Stops its watch when destroyed.
class SegmentWatch {
 public:
  virtual ~SegmentWatch() = default;
};

class DataCoord {
 public:
  virtual ~DataCoord() = default;

  // Records a new GROWING segment.
  virtual Status AddSegment(const SegmentRecord& record) = 0;
  // Replaces a segment's record (state changes, flush results).
  virtual Status UpdateSegment(const SegmentRecord& record) = 0;
  // Atomically marks `from` DROPPED and records `to` (compaction), so readers never see
  // both or neither.
  virtual Status ReplaceSegments(const std::vector<int64_t>& from, const SegmentRecord& to) = 0;
  virtual StatusOr<std::optional<SegmentRecord>> GetSegment(int64_t collection_id, int64_t segment_id) = 0;
  // Every segment of a collection that is not DROPPED, in id order.
  virtual StatusOr<std::vector<SegmentRecord>> ListSegments(int64_t collection_id) = 0;
  // Every segment of every collection that is not DROPPED.
  virtual StatusOr<std::vector<SegmentRecord>> ListAllSegments() = 0;
  // DROPPED segments whose objects may still need deleting.
  virtual StatusOr<std::vector<SegmentRecord>> ListDroppedSegments() = 0;
  // Forgets a segment record (once its objects are gone).
  virtual Status RemoveSegment(int64_t collection_id, int64_t segment_id) = 0;
  // Forgets a dropped collection's segments and checkpoints.
  virtual Status DropCollection(int64_t collection_id, const std::vector<std::string>& vchannels) = 0;

  virtual Status SaveCheckpoint(const ChannelCheckpoint& checkpoint) = 0;
  // Position 0 when the channel has none yet.
  virtual StatusOr<ChannelCheckpoint> GetCheckpoint(const std::string& vchannel) = 0;

  // Calls `on_change` (from a background thread) for every later change of a segment
  // record of any collection.
  virtual StatusOr<std::unique_ptr<SegmentWatch>> WatchSegments(std::function<void(const SegmentRecord&)> on_change) = 0;
};

}  // namespace quiver::datacoord
