// Compactor: rewrites flushed segments so reads stay fast and deleted rows stop costing.
//
// For each shard and partition it merges small segments into one, and rewrites segments
// that level-zero deletes apply to without the deleted rows; a level-zero segment is
// dropped once every segment it could touch has had it applied. Results replace their
// sources in one DataCoord transaction, so readers see the old segments or the new one,
// never both; the sources' objects are deleted only after a grace period, so a reader
// still loading them does not fail.
//
// Runs in the background every `interval`, and on request (ManualCompaction).
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "coord/datacoord/data_coord.h"
#include "coord/rootcoord/root_coord.h"
#include "segment/segment_io.h"
#include "storage/object_store.h"

namespace quiver::datanode {

namespace spb = milvus::proto::schema;

struct CompactorOptions {
  std::string storage_root = "files";
  std::chrono::milliseconds interval{60000};
  int64_t small_segment_rows = 500'000;  // segments below this are merged
  int64_t min_deletes_to_purge = 1;      // deletes that justify rewriting a segment
  std::chrono::milliseconds gc_delay{60000};
};

class Compactor {
 public:
  Compactor(storage::ObjectStore* store, datacoord::DataCoord* data_coord, rootcoord::RootCoord* root_coord,
            CompactorOptions options);
  ~Compactor();

  void Start();
  void Stop();

  // Schedules a compaction of the collection now; returns its ID for State().
  StatusOr<int64_t> Request(int64_t collection_id);
  // Whether the compaction `id` has finished.
  StatusOr<bool> Finished(int64_t id) const;

 private:
  void Run();
  Status CompactCollection(int64_t collection_id);
  Status CompactShard(int64_t collection_id, const spb::CollectionSchema& schema, int64_t pk_field_id,
                      const std::vector<quiver::data::SegmentRecord>& segments);
  Status Merge(const spb::CollectionSchema& schema, int64_t pk_field_id,
               const std::vector<quiver::data::SegmentRecord>& sources, const segment::DeleteBatch& deletes,
               uint64_t deletes_position);
  Status CollectGarbage();

  segment::SegmentStorage storage_;
  storage::ObjectStore* store_;
  datacoord::DataCoord* data_coord_;
  rootcoord::RootCoord* root_coord_;
  const CompactorOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<int64_t, int64_t> pending_;  // compaction id → collection id, not yet run
  std::map<int64_t, bool> finished_;    // compaction id → done
  int64_t next_id_ = 1;
  std::thread thread_;
};

}  // namespace quiver::datanode
