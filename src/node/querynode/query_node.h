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
#include <functional>
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
#include "index/vector_index.h"
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
  bool may_wait = true;  // false: Code::kWouldWait instead of waiting to catch up
};

// One vector search over a collection's segments.
struct SearchSpec {
  int64_t field_id = 0;
  int64_t dim = 0;
  index::MetricType metric = index::MetricType::kL2;
  const index::QueryVectors* queries = nullptr;
  int64_t k = 10;                  // hits per query (limit + offset)
  index::SearchParams params;      // nprobe, ef, radius, range_filter (checked by the caller)
  std::optional<int64_t> group_by_field_id;
  int64_t group_size = 1;
  int64_t group_offset = 0;  // with grouping: best groups to skip (k counts them too)
};

// Hits of every query, best first, query after query; with grouping, group after group
// (groups in the order of their best hit).
struct SearchHits {
  std::vector<int64_t> topks;           // hits per query
  std::vector<float> scores;
  std::vector<spb::FieldData> columns;  // requested fields of each hit (pk first)
  spb::FieldData group_values;          // with group_by_field_id
};

// Rows that matched a read, in primary-key order.
struct QueryResult {
  std::vector<spb::FieldData> columns;  // in the order of the requested field ids
  int64_t num_rows = 0;
};

class QueryNode {
 public:
  // Where the finished index builds of a segment are (IndexCoord in standalone).
  using IndexSource = std::function<std::vector<segment::IndexFiles>(int64_t collection_id, int64_t segment_id)>;

  QueryNode(wal::Wal* wal, storage::ObjectStore* store, datacoord::DataCoord* data_coord, std::string storage_root,
            IndexSource index_source);
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
  // `output_field_ids` must start with the primary key.
  StatusOr<SearchHits> Search(const ReadSpec& read, const SearchSpec& search,
                              const std::vector<int64_t>& output_field_ids);

  // A build finished: a loaded segment starts using it.
  void OnIndexBuilt(int64_t collection_id, int64_t segment_id, const segment::IndexFiles& files);

  // The lowest position of `pchannel` a loaded collection still has to read past (the
  // WAL must keep everything above it); nullopt when no loaded collection reads it.
  std::optional<wal::Position> ConsumedFloor(const std::string& pchannel) const;

 private:
  class LoadedCollection;

  std::shared_ptr<LoadedCollection> Find(int64_t collection_id) const;
  // Also a collection still loading: flush and index events must reach it.
  std::shared_ptr<LoadedCollection> FindLoadedOrLoading(int64_t collection_id) const;
  // The loaded collection once it has consumed past the read's guarantee timestamp.
  StatusOr<std::shared_ptr<LoadedCollection>> Serviceable(const ReadSpec& read) const;
  void OnSegmentChange(const quiver::data::SegmentRecord& record);

  wal::Wal* wal_;
  segment::SegmentStorage storage_;
  IndexSource index_source_;
  datacoord::DataCoord* data_coord_;
  std::mutex load_mu_;
  mutable std::mutex mu_;
  std::map<int64_t, std::shared_ptr<LoadedCollection>> collections_;
  std::map<int64_t, std::shared_ptr<LoadedCollection>> loading_;
  std::unique_ptr<datacoord::SegmentWatch> watch_;
};

}  // namespace quiver::querynode
