// QueryCoord: which collections and partitions are loaded, and getting them loaded.
//
// Load requests are recorded in MetaKV first and carried out in the background, as in
// Milvus (clients poll GetLoadState / GetLoadingProgress); after a restart every recorded
// load is carried out again, so a loaded collection stays loaded.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/status.h"
#include "coord/rootcoord/root_coord.h"
#include "meta/meta_kv.h"
#include "node/querynode/query_node.h"
#include "quiver/data.pb.h"

namespace quiver::querycoord {

enum class LoadState { kNotLoad, kLoading, kLoaded };

class QueryCoord {
 public:
  QueryCoord(meta::MetaKV* kv, rootcoord::RootCoord* root_coord, querynode::QueryNode* query_node);
  ~QueryCoord();

  // Resumes the loads recorded before a restart.
  Status Start();

  // `partition_ids` empty: the whole collection (and partitions created later).
  Status Load(int64_t collection_id, const std::vector<int64_t>& partition_ids, int32_t replicas);
  // `partition_ids` empty: the whole collection.
  Status Release(int64_t collection_id, const std::vector<int64_t>& partition_ids);
  // Forgets a dropped collection.
  void DropCollection(int64_t collection_id);

  // For the given partitions (empty: the collection as a whole).
  LoadState State(int64_t collection_id, const std::vector<int64_t>& partition_ids) const;
  int64_t Progress(int64_t collection_id, const std::vector<int64_t>& partition_ids) const;
  // The loaded partitions to read when a request names none; empty means all of them.
  std::optional<std::vector<int64_t>> LoadedPartitions(int64_t collection_id) const;
  std::optional<std::string> LoadError(int64_t collection_id) const;

 private:
  struct Entry {
    quiver::data::LoadRecord record;
    bool ready = false;
    std::optional<std::string> error;
  };
  Status Persist(const quiver::data::LoadRecord& record);
  void StartLoad(int64_t collection_id);
  void RunLoad(int64_t collection_id);

  meta::MetaKV* kv_;
  rootcoord::RootCoord* root_coord_;
  querynode::QueryNode* query_node_;
  mutable std::mutex mu_;
  std::map<int64_t, Entry> entries_;
  std::vector<std::thread> loaders_;
};

}  // namespace quiver::querycoord
