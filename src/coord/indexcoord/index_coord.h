// IndexCoord: index definitions and getting every flushed segment indexed.
//
// An index covers one vector field. For each FLUSHED segment of an indexed field it
// records a build, has an IndexNode run it in the background, retries a failed build a
// few times and then reports it FAILED with the reason (never silently dropped). Query
// nodes learn of finished builds through listeners and load them; segments without a
// finished build are searched by brute force meanwhile.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include "common/status.h"
#include "coord/datacoord/data_coord.h"
#include "coord/rootcoord/root_coord.h"
#include "index/vector_index.h"
#include "meta/meta_kv.h"
#include "node/indexnode/index_node.h"
#include "quiver/index.pb.h"
#include "segment/segment_io.h"

namespace quiver::indexcoord {

using quiver::index::IndexRecord;
using quiver::index::SegmentIndexRecord;

struct IndexProgress {
  int64_t total_rows = 0;
  int64_t indexed_rows = 0;
  milvus::proto::common::IndexState state = milvus::proto::common::Finished;
  std::string fail_reason;
};

using segment::IndexFiles;

class IndexCoord {
 public:
  IndexCoord(meta::MetaKV* kv, datacoord::DataCoord* data_coord, rootcoord::RootCoord* root_coord,
             indexnode::IndexNode* index_node, storage::ObjectStore* store);
  ~IndexCoord();

  Status Start();
  void Stop();

  // `params`: index_type, metric_type and the build params (flattened from "params" JSON).
  // Re-creating an identical index is a no-op; a second, different index on a field is refused.
  Status CreateIndex(int64_t collection_id, const milvus::proto::schema::FieldSchema& field,
                     const std::string& index_name, const std::map<std::string, std::string>& params);
  Status DropIndex(int64_t collection_id, int64_t index_id);
  std::vector<IndexRecord> ListIndexes(int64_t collection_id) const;
  IndexProgress Progress(int64_t collection_id, int64_t index_id) const;
  // The parsed spec of an index (the collection's schema gives the field).
  StatusOr<index::IndexSpec> Spec(const IndexRecord& record) const;

  // The parsed spec of the index on a field, if there is one (cached: specs never change).
  std::optional<index::IndexSpec> SpecOfField(int64_t collection_id, int64_t field_id) const;

  std::vector<IndexFiles> FinishedIndexes(int64_t collection_id, int64_t segment_id) const;
  using Listener = std::function<void(int64_t collection_id, int64_t segment_id, const IndexFiles&)>;
  void AddListener(Listener listener);

  void DropCollection(int64_t collection_id);

 private:
  using SegmentKey = std::tuple<int64_t, int64_t, int64_t>;  // collection, segment, index

  Status Persist(const SegmentIndexRecord& record);
  void Schedule();
  void Run();
  void BuildOne(SegmentIndexRecord record);
  std::optional<milvus::proto::schema::FieldSchema> FieldOf(int64_t collection_id, int64_t field_id) const;

  meta::MetaKV* kv_;
  datacoord::DataCoord* data_coord_;
  rootcoord::RootCoord* root_coord_;
  indexnode::IndexNode* index_node_;
  storage::ObjectStore* store_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, IndexRecord> indexes_;  // by index id
  mutable std::map<int64_t, index::IndexSpec> specs_;  // by index id, parsed on first use
  std::map<SegmentKey, SegmentIndexRecord> builds_;
  std::deque<SegmentKey> queue_;
  std::vector<Listener> listeners_;
  bool stopping_ = false;
  bool rescan_ = true;
  std::unique_ptr<datacoord::SegmentWatch> watch_;
  std::thread thread_;
};

// CreateIndex's extra_params as one flat map: "params" JSON is merged into the top level.
StatusOr<std::map<std::string, std::string>> FlattenIndexParams(
    const google::protobuf::RepeatedPtrField<milvus::proto::common::KeyValuePair>& params);

}  // namespace quiver::indexcoord
