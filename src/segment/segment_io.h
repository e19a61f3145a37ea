// Writing segments to object storage and reading them back.
//
// A flushed segment is one insert binlog per field, one for the rows' insert timestamps
// and primary-key statistics; a level-zero segment is one delta log of (primary key,
// delete timestamp) pairs. The keys go into the segment's record at DataCoord.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "index/vector_index.h"
#include "quiver/data.pb.h"
#include "segment/segment.h"
#include "storage/object_store.h"

namespace quiver::segment {

using quiver::data::SegmentRecord;

// Deletes of one channel: key i was deleted at timestamps[i].
struct DeleteBatch {
  spb::IDs keys;
  std::vector<uint64_t> timestamps;
  int64_t size() const { return static_cast<int64_t>(timestamps.size()); }
  void Append(const spb::IDs& more_keys, const std::vector<uint64_t>& more_timestamps);
};

// A finished index build of one field of a segment.
struct IndexFiles {
  int64_t field_id = 0;
  index::IndexSpec spec;
  std::vector<std::string> keys;
};

class SegmentStorage {
 public:
  SegmentStorage(storage::ObjectStore* store, std::string root_path) : store_(store), root_(std::move(root_path)) {}

  // Writes the rows' binlogs and fills record->binlogs, timestamps_key, pk_stats_key, num_rows.
  Status WriteInsertLogs(const Segment::Contents& contents, int64_t pk_field_id, SegmentRecord* record);
  // Writes `deletes` as the level-zero segment `record` and fills its delta_keys.
  Status WriteDeltaLog(const DeleteBatch& deletes, SegmentRecord* record);

  StatusOr<std::shared_ptr<Segment>> LoadSegment(const SegmentRecord& record, const spb::CollectionSchema& schema);
  StatusOr<DeleteBatch> LoadDeltaLogs(const SegmentRecord& record);
  StatusOr<std::shared_ptr<const index::VectorIndex>> LoadIndex(const IndexFiles& files);

  // Removes every object of a collection.
  Status DropCollection(int64_t collection_id);

 private:
  // Puts with retries: storage hiccups must delay a flush, never lose it.
  Status PutWithRetry(const std::string& key, const std::string& data);

  storage::ObjectStore* store_;
  std::string root_;
};

}  // namespace quiver::segment
