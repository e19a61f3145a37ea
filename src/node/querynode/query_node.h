// QueryNode: serves reads of loaded collections.
//
// For each loaded collection it holds the FLUSHED segments (read from object storage)
// and follows the collection's WAL channels from their checkpoints, building growing
// segments and applying deletes as they arrive. When DataCoord reports a segment
// FLUSHED, the node swaps its growing copy for the stored one (handoff).
//
// A read waits until every channel of the collection has been consumed past the read's
// guarantee timestamp, then evaluates at its MVCC timestamp, so it sees exactly the
// writes acknowledged before that time.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "coord/datacoord/data_coord.h"
#include "expr/filter.h"
#include "quiver/data.pb.h"
#include "schema.pb.h"
#include "segment/segment.h"
#include "segment/segment_io.h"
#include "storage/object_store.h"
#include "wal/wal.h"

namespace quiver::querynode {

namespace spb = milvus::proto::schema;

struct LoadSpec {
  int64_t collection_id = 0;
  spb::CollectionSchema schema;
  std::vector<std::string> vchannels;
};

struct ReadSpec {
  int64_t collection_id = 0;
  std::vector<int64_t> partition_ids;  // empty: every partition
  const expr::Filter* filter = nullptr;
  uint64_t guarantee_ts = 0;           // wait until consumed past this
  uint64_t mvcc_ts = 0;                // evaluate as of this
  std::chrono::milliseconds timeout{10000};
};

// Rows that matched a read, in primary-key order.
struct QueryResult {
  std::vector<spb::FieldData> columns;  // in the order of the requested field ids
  int64_t num_rows = 0;
};

class QueryNode {
 public:
  QueryNode(wal::Wal* wal, storage::ObjectStore* store, datacoord::DataCoord* data_coord, std::string storage_root);
  ~QueryNode();

  // Starts following DataCoord's segment changes (for handoff).
  Status Start();

  // Loads stored segments, replays the channels up to their current end, then keeps
  // following them. Loading a loaded collection is a no-op.
  Status LoadCollection(const LoadSpec& spec);
  void ReleaseCollection(int64_t collection_id);
  bool IsLoaded(int64_t collection_id) const;

  // Rows passing the filter; `offset`/`limit` (-1: none) over primary-key order.
  StatusOr<QueryResult> Query(const ReadSpec& read, const std::vector<int64_t>& output_field_ids, int64_t offset,
                              int64_t limit);
  StatusOr<int64_t> Count(const ReadSpec& read);

  // The lowest position of `pchannel` a loaded collection still has to read past (the
  // WAL must keep everything above it); nullopt when no loaded collection reads it.
  std::optional<wal::Position> ConsumedFloor(const std::string& pchannel) const;

 private:
  class LoadedCollection;

  std::shared_ptr<LoadedCollection> Find(int64_t collection_id) const;
  void OnSegmentChange(const quiver::data::SegmentRecord& record);

  wal::Wal* wal_;
  segment::SegmentStorage storage_;
  datacoord::DataCoord* data_coord_;
  std::mutex load_mu_;
  mutable std::mutex mu_;
  std::map<int64_t, std::shared_ptr<LoadedCollection>> collections_;
  std::map<int64_t, std::shared_ptr<LoadedCollection>> loading_;
  std::unique_ptr<datacoord::SegmentWatch> watch_;
};

}  // namespace quiver::querynode
