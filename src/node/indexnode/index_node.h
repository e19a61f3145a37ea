// IndexNode: builds one segment's vector index and stores its file.
//
// Stateless: a build reads the field's binlog from object storage and writes the index
// under a key that names collection, partition, segment, field and index, so a retried
// or repeated build simply overwrites the same object.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "index/vector_index.h"
#include "quiver/data.pb.h"
#include "storage/object_store.h"

namespace quiver::indexnode {

struct BuildTask {
  quiver::data::SegmentRecord segment;
  int64_t index_id = 0;
  int64_t field_id = 0;
  index::IndexSpec spec;
};

struct BuildOutput {
  std::vector<std::string> keys;
  int64_t memory_bytes = 0;
  int64_t rows = 0;
};

class IndexNode {
 public:
  IndexNode(storage::ObjectStore* store, std::string storage_root) : store_(store), root_(std::move(storage_root)) {}
  StatusOr<BuildOutput> Build(const BuildTask& task);

 private:
  storage::ObjectStore* store_;
  std::string root_;
};

// Where a segment's index file lives.
std::string IndexFileKey(const std::string& root, const quiver::data::SegmentRecord& segment, int64_t field_id,
                         int64_t index_id);

}  // namespace quiver::indexnode
